//! Every peer id in rule metadata (Trivy, Checkov, kube-linter, Polaris, kubescape, kube-score)
//! names a check of that peer's published catalogue: `data/peer_ids.tsv` holds the ids read
//! from each catalogue, with its source and the date it was read (status `listed`), and the ids
//! not yet confirmed against a catalogue (status `unchecked`). Users migrate by these ids (and
//! suppress with them), so a wrong one is a broken promise: an id in neither state fails.

use kubeharden_engine::rules;
use std::collections::{BTreeMap, BTreeSet};

/// `tool → ids` of the table, and the tools that have a `# source` line.
fn table() -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let text = include_str!("../data/peer_ids.tsv");
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sourced = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# source\t") {
            let mut cols = rest.split('\t');
            let tool = cols.next().unwrap_or_default();
            let url = cols.next().unwrap_or_default();
            let date = cols.next().unwrap_or_default();
            assert!(
                url.starts_with("https://") && date.len() == 10,
                "source line of {tool} needs a URL and a date: {line}"
            );
            sourced.insert(tool.to_owned());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(tool), Some(id), Some(status)) = (cols.next(), cols.next(), cols.next()) else {
            panic!("malformed line: {line}");
        };
        assert!(
            status == "listed" || status == "unchecked",
            "status of {tool} {id}: {status}"
        );
        assert!(
            ids.entry(tool.to_owned())
                .or_default()
                .insert(id.to_owned()),
            "duplicate {tool} {id}"
        );
    }
    (ids, sourced)
}

#[test]
fn every_peer_id_in_rule_metadata_is_in_the_peers_catalogues() {
    let (table, sourced) = table();
    let mut wrong = Vec::new();
    for r in rules::all() {
        let refs = &r.references;
        for (tool, list) in [
            ("trivy", refs.trivy),
            ("checkov", refs.checkov),
            ("kube-linter", refs.kube_linter),
            ("polaris", refs.polaris),
            ("kubescape", refs.kubescape),
            ("kube-score", refs.kube_score),
        ] {
            for id in list {
                assert!(sourced.contains(tool), "no source line for {tool}");
                if !table.get(tool).is_some_and(|ids| ids.contains(*id)) {
                    wrong.push(format!("{}: {tool} {id}", r.id));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ids not in data/peer_ids.tsv:\n{}",
        wrong.join("\n")
    );
}

/// Trivy reports `checkID: KSV041` (METADATA `custom.id`), not the AVD form `AVD-KSV-0041` nor a
/// hyphenated `KSV-0041`: ids in rule metadata use the form users see in Trivy's reports.
#[test]
fn trivy_ids_use_the_form_trivy_reports() {
    for r in rules::all() {
        for id in r.references.trivy {
            assert!(
                !id.starts_with("AVD-") && !id.starts_with("KSV-") && !id.starts_with("KCV-"),
                "{}: trivy id {id} is not in Trivy's report form (KSV041, KCV0001)",
                r.id
            );
        }
    }
}

/// Ids still `unchecked` (not yet read in the peer's catalogue). The number may only fall: a new
/// peer id in rule metadata must be read in the catalogue and recorded `listed` with the peer's
/// title. Lower the bound when ids are confirmed (or removed).
const UNCHECKED_AT_MOST: usize = 61;

#[test]
fn unchecked_ids_only_decrease() {
    let text = include_str!("../data/peer_ids.tsv");
    let unchecked: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split('\t').nth(2) == Some("unchecked"))
        .collect();
    assert!(
        unchecked.len() <= UNCHECKED_AT_MOST,
        "{} unchecked ids (at most {UNCHECKED_AT_MOST}): read them in the catalogue\n{}",
        unchecked.len(),
        unchecked.join("\n")
    );
    // A `listed` id carries the peer's own title.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = l.split('\t').collect();
        if cols.get(2) == Some(&"listed") && cols[0] != "kube-linter" && cols[0] != "polaris" {
            assert!(
                cols.get(3).is_some_and(|t| !t.is_empty()),
                "listed without the peer's title: {l}"
            );
        }
    }
}

/// Every row of the table is an id some rule uses: ids removed from rule metadata (because the
/// catalogue showed they meant something else) leave the table too.
#[test]
fn every_table_row_is_used_by_a_rule() {
    let (table, _) = table();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for r in rules::all() {
        let refs = &r.references;
        for (tool, list) in [
            ("trivy", refs.trivy),
            ("checkov", refs.checkov),
            ("kube-linter", refs.kube_linter),
            ("polaris", refs.polaris),
            ("kubescape", refs.kubescape),
            ("kube-score", refs.kube_score),
        ] {
            for id in list {
                used.insert((tool.to_owned(), (*id).to_owned()));
            }
        }
    }
    let stale: Vec<String> = table
        .iter()
        .flat_map(|(tool, ids)| ids.iter().map(move |id| (tool.clone(), id.clone())))
        .filter(|k| !used.contains(k))
        .map(|(t, i)| format!("{t} {i}"))
        .collect();
    assert_eq!(stale, Vec::<String>::new());
}

/// The ids corrected after reading the catalogues, as the rules now carry them.
#[test]
fn corrected_ids() {
    let refs = |id: &str| rules::find(id).unwrap().references;
    assert_eq!(
        refs("kubelet-authorization-always-allow").kubescape,
        ["C-0173"]
    );
    assert_eq!(refs("credential-in-config-data").trivy, ["KSV109"]);
    assert!(refs("secret-values-in-manifest").trivy.is_empty());
    assert!(refs("hardcoded-credential-in-env").trivy.is_empty());
    assert!(refs("egress-to-any-destination").trivy.is_empty());
    let imp = refs("audit-log-impersonation");
    assert!(imp.kubescape.is_empty() && imp.checkov.is_empty());
    let pin = refs("image-not-pinned-by-digest");
    assert!(pin.trivy.is_empty() && pin.kubescape.is_empty());
    assert_eq!(refs("pod-hostpath-volume").cis, ["5.2.11"]);
    assert_eq!(refs("container-host-port").cis, ["5.2.12"]);
    assert_eq!(refs("container-seccomp-unconfined").cis, ["5.6.2"]);
}
