//! Conformance of the Pod Security Standards evaluator against the upstream fixtures of
//! `k8s.io/pod-security-admission` (`test/testdata/<level>/v1.<N>/<pass|fail>/*.yaml`).
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default: `/work/shared/corpus`, i.e.
//! `../../../shared/corpus` from this crate). Without it the test is skipped, unless
//! `KUBEHARDEN_REQUIRE_CORPUS=1`.
//!
//! A `pass/` file must produce no result. A `fail/` file must produce the check named by its file
//! prefix — or, at the restricted level, the restricted check that upstream registers as
//! overriding that baseline check at that version (the fixtures are generated for every baseline
//! check at the restricted level too, but upstream's registry drops an overridden check: e.g. a
//! hostPath volume is reported by `restrictedVolumes`, not `hostPathVolumes`, at restricted).

mod common;

use kubeharden_engine::analysis::pss::{self, CheckResult, Level, Version};
use kubeharden_engine::yaml;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const EXPECTED_FILES: usize = 4537;

/// The check IDs (lower case) that may report a fail fixture of `prefix`: the check itself, and the
/// upstream override of it at the restricted level (`OverrideCheckIDs` in the restricted checks).
fn accepted_ids(prefix: &str, level: Level, minor: u32) -> Vec<String> {
    let mut ids = vec![prefix.to_string()];
    if level == Level::Restricted {
        let overriding = match prefix {
            "hostpathvolumes" => Some("restrictedvolumes"),
            "seccompprofile_baseline" if minor >= 19 => Some("seccompprofile_restricted"),
            "capabilities_baseline" if minor >= 22 => Some("capabilities_restricted"),
            "procmount" if minor >= 35 => Some("procmount_restricted"),
            _ => None,
        };
        ids.extend(overriding.map(String::from));
    }
    ids
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

/// Evaluates one fixture; `Err` describes a mismatch.
fn check_file(path: &Path, level: Level, minor: u32, pass: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut docs = yaml::parse_stream(&text);
    if docs.len() != 1 {
        return Err(format!("expected one document, found {}", docs.len()));
    }
    let doc = docs.remove(0).map_err(|e| format!("YAML error: {e:?}"))?;
    let root = doc.root.ok_or("empty document")?;
    let spec = root.pointer("/spec").ok_or("no spec")?;
    let results: Vec<CheckResult> = pss::evaluate(
        level,
        Version::Minor(minor),
        root.pointer("/metadata"),
        spec,
    );
    let listing = || {
        results
            .iter()
            .map(|r| format!("{}: {} ({})", r.id, r.reason, r.detail))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if pass {
        return if results.is_empty() {
            Ok(())
        } else {
            Err(format!("expected no results, got: {}", listing()))
        };
    }
    let stem = path.file_stem().unwrap().to_string_lossy();
    let prefix = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    if matches!(prefix, "base" | "base_linux" | "base_windows") {
        return Err(format!("{prefix} fixtures are pass-only"));
    }
    let accepted = accepted_ids(prefix, level, minor);
    if results
        .iter()
        .any(|r| accepted.contains(&r.id.to_ascii_lowercase()))
    {
        Ok(())
    } else {
        Err(format!(
            "expected a result for {}, got: [{}]",
            accepted.join(" or "),
            listing()
        ))
    }
}

#[test]
fn psa_fixtures_conform() {
    let Some(testdata) = common::corpus("psa-testdata/test/testdata") else {
        println!("skipped: corpus not found");
        return;
    };
    // level -> (ok, total)
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for (level_name, level) in [
        ("baseline", Level::Baseline),
        ("restricted", Level::Restricted),
    ] {
        let level_dir = testdata.join(level_name);
        for version_dir in sorted_entries(&level_dir) {
            let dir_name = version_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let minor = match Version::parse(&dir_name) {
                Ok(Version::Minor(m)) => m,
                _ => panic!("unexpected version folder {}", version_dir.display()),
            };
            for (outcome, pass) in [("pass", true), ("fail", false)] {
                let outcome_dir = version_dir.join(outcome);
                if !outcome_dir.is_dir() {
                    continue;
                }
                for file in sorted_entries(&outcome_dir) {
                    if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    let entry = counts.entry(level_name).or_default();
                    entry.1 += 1;
                    match check_file(&file, level, minor, pass) {
                        Ok(()) => entry.0 += 1,
                        Err(why) => {
                            let rel = file.strip_prefix(&testdata).unwrap_or(&file);
                            failures.push(format!("{}: {why}", rel.display()));
                        }
                    }
                }
            }
        }
    }
    let (mut ok, mut total) = (0, 0);
    for (level, (level_ok, level_total)) in &counts {
        println!("{level}: {level_ok}/{level_total}");
        ok += level_ok;
        total += level_total;
    }
    println!("total: {ok}/{total}");
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(30).map(String::as_str).collect();
        panic!(
            "{} of {total} fixtures mismatch; first {}:\n{}",
            failures.len(),
            shown.len(),
            shown.join("\n")
        );
    }
    assert_eq!(
        total, EXPECTED_FILES,
        "expected {EXPECTED_FILES} fixture files"
    );
}

/// The text of line `line` (1-based) of `text`.
fn line_of(text: &str, line: u32) -> &str {
    text.lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("")
}

/// Does the line where `pointer` is located (in the document `root` read from `text`) show the
/// field the pointer names? The deepest existing step of the pointer must be on that line: a key
/// (`procMount:`), or a sequence item (`- SYS_ADMIN`, `- name: …`). A field that must be set and
/// is not is located at its nearest existing parent (at most three steps missing:
/// `securityContext/capabilities/drop` of a container without a securityContext).
fn points_at_field(root: &yaml::Node, text: &str, pointer: &str) -> Result<(), String> {
    let tokens: Vec<String> = yaml::pointer_tokens(pointer).map(String::from).collect();
    let mut node = root;
    let mut deepest: Option<(&str, &yaml::Node)> = None;
    let mut missing = 0;
    for t in &tokens {
        match node
            .get(t)
            .or_else(|| t.parse::<usize>().ok().and_then(|i| node.items().get(i)))
        {
            Some(n) if missing == 0 => {
                node = n;
                deepest = Some((t.as_str(), n));
            }
            _ => missing += 1,
        }
    }
    if missing > 3 {
        return Err(format!("{pointer}: {missing} steps do not exist"));
    }
    let line = line_of(text, root.locate(pointer).line);
    let Some((token, n)) = deepest else {
        return Err(format!("{pointer}: nothing of it exists"));
    };
    let shown = if token.parse::<usize>().is_ok() {
        // A sequence item: its value, or the `- ` that opens it.
        n.text()
            .map_or(line.trim_start().starts_with("- "), |v| line.contains(v))
    } else {
        line.contains(&format!("{token}:"))
    };
    if shown {
        Ok(())
    } else {
        Err(format!("{pointer} is located at `{}`", line.trim()))
    }
}

/// Every result of every fail fixture names its offending fields: each pointer is located on the
/// line of the field it names, and a field of a container, volume, sysctl or annotation is the
/// one of the container (volume, sysctl, annotation) the detail names.
#[test]
fn psa_results_point_at_their_fields() {
    let Some(testdata) = common::corpus("psa-testdata/test/testdata") else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (level_name, level) in [
        ("baseline", Level::Baseline),
        ("restricted", Level::Restricted),
    ] {
        for version_dir in sorted_entries(&testdata.join(level_name)) {
            let name = version_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Ok(Version::Minor(minor)) = Version::parse(&name) else {
                panic!("unexpected version folder {}", version_dir.display());
            };
            let fail = version_dir.join("fail");
            if !fail.is_dir() {
                continue;
            }
            for file in sorted_entries(&fail) {
                let text = std::fs::read_to_string(&file).unwrap();
                let root = yaml::parse_stream(&text).remove(0).unwrap().root.unwrap();
                let spec = root.pointer("/spec").unwrap();
                let results = pss::evaluate(
                    level,
                    Version::Minor(minor),
                    root.pointer("/metadata"),
                    spec,
                );
                for r in &results {
                    assert!(
                        !r.pointers.is_empty(),
                        "{}: {} has no pointer",
                        file.display(),
                        r.id
                    );
                    for p in &r.pointers {
                        checked += 1;
                        let mut problem = points_at_field(&root, &text, p).err();
                        // The named container / volume / sysctl / annotation is the one the detail names.
                        let tokens: Vec<String> =
                            yaml::pointer_tokens(p).map(String::from).collect();
                        let owner = match tokens.iter().map(String::as_str).collect::<Vec<_>>()[..]
                        {
                            [
                                "spec",
                                "initContainers" | "containers" | "ephemeralContainers" | "volumes",
                                _,
                                ..,
                            ] => root
                                .pointer(&format!("/spec/{}/{}", tokens[1], tokens[2]))
                                .and_then(|c| c.get("name"))
                                .and_then(yaml::Node::text)
                                .map(str::to_owned),
                            ["spec", "securityContext", "sysctls", _, ..] => root
                                .pointer(&format!(
                                    "/spec/securityContext/sysctls/{}/name",
                                    tokens[3]
                                ))
                                .and_then(yaml::Node::text)
                                .map(str::to_owned),
                            ["metadata", "annotations", ref key] => Some(key.to_string()),
                            _ => None,
                        };
                        if let Some(owner) = owner
                            && !r.detail.contains(&owner)
                        {
                            problem.get_or_insert(format!("{p}: `{owner}` is not named"));
                        }
                        if let Some(why) = problem {
                            let rel = file.strip_prefix(&testdata).unwrap_or(&file);
                            failures.push(format!(
                                "{} {}: {why} ({})",
                                rel.display(),
                                r.id,
                                r.detail
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} pointers are wrong; first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(checked > 4000, "only {checked} pointers checked");
}

/// The findings the rules derive from Pod Security (`pod-pss-restricted-violation`,
/// `workload-violates-namespace-pss`) over every fail fixture of the newest restricted version,
/// in a namespace that enforces `restricted`: each is located on the line of the field it names.
#[test]
fn pss_findings_point_at_their_fields() {
    use kubeharden_engine::load::Input;
    use kubeharden_engine::rules;
    let Some(testdata) = common::corpus("psa-testdata/test/testdata") else {
        return;
    };
    let rule_ids = [
        "pod-pss-restricted-violation",
        "workload-violates-namespace-pss",
    ];
    let selected: Vec<_> = rule_ids.iter().map(|id| rules::find(id).unwrap()).collect();
    let newest = sorted_entries(&testdata.join("restricted"))
        .into_iter()
        .max_by_key(
            |d| match Version::parse(&d.file_name().unwrap().to_string_lossy()) {
                Ok(Version::Minor(m)) => m,
                _ => 0,
            },
        )
        .unwrap();
    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for file in sorted_entries(&newest.join("fail")) {
        let text = std::fs::read_to_string(&file).unwrap();
        // The Namespace after the Pod: the Pod's lines are the fixture's.
        let input = format!(
            "{text}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n"
        );
        let report = kubeharden_engine::scan::scan(
            &[Input::Bytes {
                name: "pod.yaml".into(),
                bytes: input.clone().into_bytes().into(),
            }],
            &selected,
        );
        let root = yaml::parse_stream(&text).remove(0).unwrap().root.unwrap();
        for f in report.findings.iter().filter(|f| f.subject.kind == "Pod") {
            *counts.entry(f.rule).or_default() += 1;
            let located = root.locate(&f.location.pointer);
            let problem = if (located.line, located.col) != (f.location.line, f.location.column) {
                Some(format!(
                    "at {}:{}, its pointer is at {}:{}",
                    f.location.line, f.location.column, located.line, located.col
                ))
            } else {
                points_at_field(&root, &text, &f.location.pointer).err()
            };
            if let Some(why) = problem {
                failures.push(format!(
                    "{} {}: {why} ({})",
                    file.display(),
                    f.rule,
                    f.message
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} findings misplaced; first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every fixture violates `restricted`; the other rule reports what no dedicated rule covers.
    assert_eq!(
        counts.get("workload-violates-namespace-pss").copied(),
        Some(sorted_entries(&newest.join("fail")).len()),
        "{counts:?}"
    );
    assert!(
        counts
            .get("pod-pss-restricted-violation")
            .copied()
            .unwrap_or(0)
            >= 20,
        "{counts:?}"
    );
}
