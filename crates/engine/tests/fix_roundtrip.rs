//! Round trip of `fix` over copies of the shared corpus (`real/` and `vulnerable/`) in a temporary
//! directory, once with the safe fixes and once with the unsafe ones too:
//!
//! - after the fix, every finding the fix claims is gone, and the re-scan shows no new finding
//!   (of any rule) and reads every file with the same diagnostics;
//! - a second fix changes nothing;
//! - every splice is one the fixes are allowed to make (checked against a whitelist of what the
//!   fixers write), applying the splices to the original gives exactly the written file, so every
//!   other line is byte-identical; and, independently of the splices, the lines of the original
//!   missing from the fixed file are no more than the lines edited in place or removed.
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default `../../../shared/corpus` from this
//! crate); without it the tests are skipped, unless `KUBEHARDEN_REQUIRE_CORPUS=1`.

mod common;

use kubeharden_engine::fix::{self, FileFix, Options};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::DiagLevel;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let target = to.join(entry.file_name());
        if meta.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if meta.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn scan(files: &[PathBuf]) -> Report {
    let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
    scan_all(&inputs)
}

/// (origin, fingerprint) of every active finding, with its rule.
fn keyed(report: &Report) -> BTreeMap<(String, String), &'static str> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                (f.location.origin.to_string(), f.fingerprint.to_string()),
                f.rule,
            )
        })
        .collect()
}

fn count_by_rule<'a>(
    rules: impl Iterator<Item = &'a &'static str>,
) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for r in rules {
        *out.entry(*r).or_default() += 1;
    }
    out
}

/// What the fixers may write and touch.
struct Whitelist {
    /// A whole inserted line.
    inserted: Regex,
    /// The text of an in-line splice (a replaced scalar or content inserted in a flow collection).
    inline: Regex,
    /// A line removed whole.
    removed: Regex,
}

impl Whitelist {
    fn new() -> Self {
        let keys = r"securityContext|runAsNonRoot|runAsUser|allowPrivilegeEscalation|capabilities|drop|seccompProfile|type|automountServiceAccountToken|readOnlyRootFilesystem|privileged|volumes|volumeMounts|name|emptyDir|mountPath|labels|pod-security\.kubernetes\.io/(enforce|enforce-version|audit|warn)";
        Whitelist {
            inserted: Regex::new(&format!(
                r#"^ *(- +)?(("?({keys})"?: ?.*)|ALL|"ALL"|\{{.*\}})\r?$"#
            ))
            .unwrap(),
            inline: Regex::new(&format!(
                r#"^(, )?("?({keys})"?: .*|true|false|10001|"?RuntimeDefault"?|["']?restricted["']?|["']?v1\.\d+["']?|"?ALL"?| ?\{{.*\}}| ?\[.*\])$"#
            ))
            .unwrap(),
            removed: Regex::new(r"^ *(hostNetwork|hostPID|hostIPC): .*\r?\n?$").unwrap(),
        }
    }
}

/// Checks the splices of one fixed file (see the module doc). Returns the number of old lines
/// edited in place or removed.
fn check_file(f: &FileFix, after: &str, wl: &Whitelist) -> usize {
    let before = &f.before;
    // The splices, applied here, give exactly the written file.
    let mut rebuilt = String::new();
    let mut at = 0;
    let mut touched = 0;
    for (range, text) in f.splices() {
        assert!(range.start >= at, "{}: splices overlap", f.name);
        rebuilt.push_str(&before[at..range.start]);
        rebuilt.push_str(text);
        at = range.end;
        let line_start = before[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let old = &before[range.clone()];
        let whole_lines = range.start == line_start
            && (old.is_empty() || old.ends_with('\n'))
            && (text.is_empty() || text.ends_with('\n'));
        if whole_lines && old.is_empty() {
            for line in text.lines() {
                assert!(
                    wl.inserted.is_match(line),
                    "{}: inserted line not expected from a fix: {line:?}",
                    f.name
                );
            }
        } else if whole_lines && text.is_empty() {
            for line in old.split_inclusive('\n') {
                assert!(
                    wl.removed.is_match(line),
                    "{}: removed line not expected from a fix: {line:?}",
                    f.name
                );
                touched += 1;
            }
        } else if old.starts_with("hostPath:") {
            assert_eq!(text, "emptyDir: {}", "{}", f.name);
            touched += old.lines().count();
        } else if range.start == range.end && text.starts_with(['\n', '\r']) {
            // Lines appended at the end of a file without a final line break.
            for line in text.lines().skip(1) {
                assert!(wl.inserted.is_match(line), "{}: {line:?}", f.name);
            }
            touched += 1;
        } else {
            assert!(
                !old.contains('\n') && !text.contains('\n'),
                "{}: an in-line splice spans lines: {old:?} -> {text:?}",
                f.name
            );
            assert!(
                wl.inline.is_match(text),
                "{}: in-line splice not expected from a fix: {old:?} -> {text:?}",
                f.name
            );
            touched += 1;
        }
    }
    rebuilt.push_str(&before[at..]);
    assert!(
        rebuilt == after,
        "{}: the splices do not give the written file",
        f.name
    );

    // Independently: old lines that no longer appear (as a multiset) were edited or removed.
    let mut counts: HashMap<&str, isize> = HashMap::new();
    for line in before.split_inclusive('\n') {
        *counts
            .entry(line.trim_end_matches(['\n', '\r']))
            .or_default() += 1;
    }
    for line in after.split_inclusive('\n') {
        *counts
            .entry(line.trim_end_matches(['\n', '\r']))
            .or_default() -= 1;
    }
    let missing: isize = counts.values().filter(|&&c| c > 0).sum();
    assert!(
        missing as usize <= touched,
        "{}: {missing} original lines changed, but only {touched} were edited in place or removed",
        f.name
    );
    touched
}

fn roundtrip(unsafe_fixes: bool) {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["real", "vulnerable"] {
        copy_tree(&corpus.join(sub), &tmp.path().join(sub));
    }
    let (files, diags) = kubeharden_engine::load::expand_paths(&[
        tmp.path().join("real"),
        tmp.path().join("vulnerable"),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    let opts = Options {
        unsafe_fixes,
        generate_missing: true,
        ..Options::default()
    };
    let mode = if unsafe_fixes { "unsafe" } else { "safe" };

    let before = scan(&files);
    let plan = fix::plan(&files, &opts).unwrap();
    let wl = Whitelist::new();
    let mut touched = 0;
    let mut fixed: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &plan.files {
        assert!(f.error.is_none(), "{}: {:?}", f.name, f.error);
        for x in &f.fixed {
            fixed.extend(x.fingerprints.iter().map(|fp| (f.name.clone(), fp.clone())));
        }
        let Some(after) = &f.after else { continue };
        touched += check_file(f, after, &wl);
        fix::write_atomic(&f.path, after).unwrap();
    }
    let changed = plan.changed().count();
    assert!(changed > 100, "{mode}: only {changed} files changed");
    // The generated manifests join the input: what they add must not be a finding either.
    let generated = plan.generated.as_ref().unwrap();
    assert!(!generated.default_deny.is_empty());
    let generated_file = tmp.path().join("generated/kubeharden-generated.yaml");
    std::fs::create_dir_all(generated_file.parent().unwrap()).unwrap();
    fix::write_atomic(&generated_file, &generated.text).unwrap();
    let mut files = files;
    files.push(generated_file);

    let after = scan(&files);
    let (b, a) = (keyed(&before), keyed(&after));
    let still: Vec<_> = fixed.iter().filter(|k| a.contains_key(*k)).collect();
    assert!(
        still.is_empty(),
        "{mode}: fixed findings still reported: {still:?}"
    );
    let new: Vec<_> = a.iter().filter(|(k, _)| !b.contains_key(*k)).collect();
    assert!(
        new.is_empty(),
        "{mode}: new findings after the fix: {new:?}"
    );
    let diag = |r: &Report| -> BTreeMap<(String, DiagLevel), usize> {
        let mut m = BTreeMap::new();
        for d in &r.diagnostics {
            *m.entry((d.origin.clone(), d.level)).or_default() += 1;
        }
        m
    };
    assert_eq!(diag(&before), diag(&after), "{mode}: diagnostics changed");

    let again = fix::plan(&files, &opts).unwrap();
    let rechanged: Vec<&str> = again.changed().map(|f| f.name.as_str()).collect();
    assert!(
        rechanged.is_empty(),
        "{mode}: a second fix changes {rechanged:?}"
    );
    assert_eq!(again.unfixed().count(), plan.unfixed().count());
    assert!(
        again.generated.as_ref().unwrap().text.is_empty(),
        "{mode}: a second fix generates more"
    );

    let (rb, ra) = (count_by_rule(b.values()), count_by_rule(a.values()));
    println!(
        "{mode}: {} files, {changed} changed, {} findings fixed by {} changes, {} not fixed ({} need --unsafe-fixes), {touched} original lines edited in place or removed",
        files.len(),
        plan.fixed_findings(),
        plan.files.iter().map(|f| f.fixed.len()).sum::<usize>(),
        plan.unfixed().count(),
        plan.unfixed().filter(|u| u.needs_unsafe).count(),
    );
    println!("{mode}: findings before → after: {} → {}", b.len(), a.len());
    for (rule, n) in &rb {
        let m = ra.get(rule).copied().unwrap_or(0);
        if m != *n {
            println!("  {rule}: {n} → {m}");
        }
    }
    println!(
        "{mode}: generated default-deny policies for {} namespaces and {} Namespaces with Pod Security labels ({} not generated)",
        generated.default_deny.len(),
        generated.namespaces.len(),
        generated.skipped.len()
    );
    println!(
        "{mode}: second fix: no change, nothing more generated; {} findings still not fixed",
        again.unfixed().count()
    );
}

#[test]
fn safe_fixes_round_trip() {
    roundtrip(false);
}

#[test]
fn unsafe_fixes_round_trip() {
    roundtrip(true);
}
