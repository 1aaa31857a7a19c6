//! Every peer id in rule metadata (Trivy, Checkov, kube-linter, Polaris, kubescape, kube-score)
//! names a check of that peer's published catalogue: `data/peer_ids.tsv` holds the ids read
//! from each catalogue, with its source, the date it was read and the peer's own title (status
//! `listed`). Users migrate by these ids (and suppress with them), so a wrong one is a broken
//! promise: an id not read in the catalogue (any status but `listed`, `unchecked` included) fails.

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
        assert_eq!(
            status, "listed",
            "{tool} {id} is not read in the peer's catalogue: record it `listed` with the peer's \
             title and where it was read, or remove it from the rule"
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

/// Trivy ids are keyed on the short form `KSV041`/`KCV0001`: the METADATA `id` and trivy-operator
/// `checkID` until 2025 and an alias (accepted by `.trivyignore`) of the current id `KSV-0041`.
/// Never the AVD form. A check that never had a short form carries its current id; those are
/// listed here.
const NO_SHORT_FORM: &[&str] = &["KSV-0109"];

#[test]
fn trivy_ids_use_the_short_form() {
    for r in rules::all() {
        for id in r.references.trivy {
            let short = (id.starts_with("KSV") || id.starts_with("KCV"))
                && id.len() > 3
                && id[3..].chars().all(|c| c.is_ascii_digit());
            assert!(
                short || NO_SHORT_FORM.contains(id),
                "{}: trivy id {id} is not in the short form (KSV041, KCV0001)",
                r.id
            );
        }
    }
}

/// No id is left `unchecked`, and a `listed` id carries the peer's own title (kube-linter and the
/// Polaris names read from the old `checks/` directory have only their ids).
#[test]
fn every_id_is_listed_with_the_peers_title() {
    let text = include_str!("../data/peer_ids.tsv");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    let unchecked: Vec<String> = rows
        .iter()
        .filter(|c| c.get(2) != Some(&"listed"))
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(
        unchecked,
        Vec::<String>::new(),
        "ids not read in the catalogue"
    );
    let untitled: Vec<String> = rows
        .iter()
        .filter(|c| c[0] != "kube-linter" && c[0] != "polaris")
        .filter(|c| c.get(3).is_none_or(|t| t.is_empty()))
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(
        untitled,
        Vec::<String>::new(),
        "listed without the peer's title"
    );
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
    // ConfigMap with secrets: `AVD-KSV-0109` until 2025, `KSV-0109` since; never `KSV109`.
    assert_eq!(refs("credential-in-config-data").trivy, ["KSV-0109"]);
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
    // KSV038 is "Selector usage in network policies" (a NetworkPolicy without selectors).
    assert!(
        refs("namespace-missing-default-deny-ingress")
            .trivy
            .is_empty()
    );
    // KCV0030 checks that `--encryption-provider-config` is set, not which provider it names.
    assert!(refs("encryption-config-secrets-plaintext").trivy.is_empty());
    assert_eq!(
        refs("apiserver-encryption-at-rest-missing").trivy,
        ["KCV0030"]
    );
    // CKV_GCP_71 is Shielded GKE Nodes.
    assert_eq!(
        refs("managed-cluster-secrets-not-envelope-encrypted").checkov,
        ["CKV_AWS_58"]
    );
    // CKV_GCP_25 asks for private nodes; CKV_GCP_20 for master authorized networks.
    let endpoint = refs("managed-cluster-endpoint-public").checkov;
    assert!(endpoint.contains(&"CKV_GCP_20") && !endpoint.contains(&"CKV_GCP_25"));
}
