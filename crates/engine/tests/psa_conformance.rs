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
