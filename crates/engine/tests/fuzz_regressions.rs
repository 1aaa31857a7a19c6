//! Inputs that once crashed a fuzz target (`fuzz/`), minimized, run through the same checks
//! (`fuzz_checks`) as the targets: `tests/fixtures/fuzz-regressions/<target>/*`. Tests below
//! also pin the diagnostic each one must now produce.

mod fuzz_checks;

use std::path::{Path, PathBuf};

fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz-regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Runs `check` on every kept input of `target`, naming the input that fails.
fn run(target: &str, check: impl Fn(&[u8])) {
    for (name, data) in regressions(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(
            outcome.is_ok(),
            "fuzz-regressions/{target}/{name} fails again"
        );
    }
}

#[test]
fn loader_regressions() {
    run("loader", fuzz_checks::loader);
}

#[test]
fn config_reader_regressions() {
    run("config_readers", fuzz_checks::config_readers);
}

#[test]
fn fix_regressions() {
    let dir = tempfile::tempdir().unwrap();
    run("fix", |data| fuzz_checks::fix(data, dir.path()));
}

fn scan_regression(target: &str, name: &str) -> kubeharden_engine::report::Report {
    let (_, data) = regressions(target)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fuzz-regressions/{target}/{name}"));
    kubeharden_engine::scan::scan_all(&[kubeharden_engine::load::Input::Bytes {
        name: name.to_owned(),
        bytes: data.into(),
    }])
}

fn diagnostics(
    report: &kubeharden_engine::report::Report,
) -> Vec<(String, Option<u32>, Option<u32>)> {
    report
        .diagnostics
        .iter()
        .map(|d| (format!("{:?}: {}", d.level, d.message), d.line, d.column))
        .collect()
}

#[test]
fn a_yaml_error_at_the_end_of_the_input_names_the_last_line() {
    // `a: 1\nb` without a final line break: the scanner reported line 3 of a 2-line file.
    let report = scan_regression("loader", "error-at-end-of-input.yaml");
    assert_eq!(
        diagnostics(&report),
        [(
            "Error: invalid YAML: simple key expected".to_owned(),
            Some(2),
            Some(2)
        )]
    );
}

#[test]
fn a_lone_carriage_return_ends_a_line_everywhere() {
    // The YAML parser ends a line at a CR without LF; the loader's line counts did not, so
    // findings pointed past the end of the file and snippets showed the wrong lines.
    let report = scan_regression("loader", "lone-carriage-return-pod.yaml");
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "container-capabilities-not-dropped")
        .expect("the finding");
    assert_eq!((f.location.line, f.location.column), (9, 22));
    let snippet: Vec<(u32, &str)> = f.snippet.iter().map(|l| (l.line, l.text)).collect();
    assert!(
        snippet.contains(&(9, "      capabilities: {drop: [NET_RAW]}")),
        "{snippet:?}"
    );
    let report = scan_regression("loader", "lone-carriage-return-min.yaml");
    assert_eq!(
        diagnostics(&report),
        [(
            "Note: skipped: a string is not a Kubernetes object".to_owned(),
            Some(2),
            Some(1)
        )]
    );
}

/// The fix plan of `data` written to a file named `name`.
fn plan_for(name: &str, data: &[u8]) -> kubeharden_engine::fix::Plan {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    kubeharden_engine::fix::plan(&[path], &Default::default()).unwrap()
}

/// One kept `fix` input.
fn kept(name: &str) -> Vec<u8> {
    regressions("fix")
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fuzz-regressions/fix/{name}"))
        .1
}

/// The fix plan of one kept `fix` input, written to a file of the same name.
fn fix_plan(name: &str) -> kubeharden_engine::fix::FileFix {
    let plan = plan_for(name, &kept(name));
    plan.files.into_iter().next().expect("a file with findings")
}

/// The plan of a kept `fix` input that Kubernetes refuses as YAML (go-yaml and
/// `sigs.k8s.io/yaml` v1.6.0 refuse it; `e2e/tools/yamlcheck`): no file to change, and the
/// reasons at their lines.
fn refused_plan(name: &str) -> Vec<(Option<u32>, String)> {
    let plan = plan_for(name, &kept(name));
    assert_eq!(plan.changed().count(), 0, "{name}: nothing is edited");
    plan.diagnostics
        .iter()
        .map(|d| (d.line, d.message.clone()))
        .collect()
}

fn reasons(f: &kubeharden_engine::fix::FileFix) -> Vec<&str> {
    f.unfixed.iter().map(|u| u.reason.as_str()).collect()
}

#[test]
fn a_flow_mapping_entry_without_a_value_is_filled_or_declined() {
    // `{…, securityContext}`: the value is written after a new colon.
    let f = fix_plan("fix-flow-implicit-null-sc.yaml");
    assert_eq!(f.error, None);
    let after = f.after.as_deref().expect("fixed");
    assert!(
        after.contains("image: busybox, securityContext: {"),
        "{after}"
    );
    // `{…, n}` last: nothing can follow an empty value there; declined, not mis-placed after `}`.
    let f = fix_plan("fix-flow-implicit-null.yaml");
    assert!(f.after.is_none());
    assert_eq!(
        f.error.as_deref(),
        Some("a flow mapping ends with an empty value")
    );
}

#[test]
fn a_single_pair_mapping_in_a_flow_sequence_is_not_edited() {
    // `containers: [name: a]` was taken for a block mapping: lines were inserted inside `[…]`.
    let f = fix_plan("fix-single-pair.yaml");
    assert!(f.after.is_none() && f.error.is_none(), "{f:?}");
    assert!(
        reasons(&f)
            .iter()
            .any(|r| r.contains("a single-pair mapping in a flow sequence is not edited")),
        "{:?}",
        reasons(&f)
    );
    // `[:]`: a single pair whose key is null, which Kubernetes refuses (`unsupported map key`):
    // the file is not read, so not edited.
    assert_eq!(
        refused_plan("fix-single-pair-empty.json"),
        [(
            Some(1),
            "invalid YAML: a null (`~`, `null` or nothing) used as a mapping key: Kubernetes \
             refuses the document (`sigs.k8s.io/yaml`: `unsupported map key`)"
                .to_owned()
        )]
    );
}

#[test]
fn a_file_with_bare_carriage_returns_is_not_edited() {
    // Lines counted differently by the loader and the edit planner put a fix into another
    // document; the final check refused it. Such files are declined up front (`fix-single-pair`
    // above is the planner's own check); this one holds null keys, which Kubernetes refuses, so
    // it is not read at all.
    let refused = refused_plan("fix-lone-carriage-returns.yaml");
    assert_eq!(
        refused.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [Some(27), Some(33)]
    );
    assert!(
        refused
            .iter()
            .all(|(_, m)| m.contains("used as a mapping key: Kubernetes refuses the document")),
        "{refused:?}"
    );
    // A valid manifest with bare carriage returns: declined by the planner, with its reason.
    let plan = plan_for(
        "cr.yaml",
        b"apiVersion: v1\rkind: Pod\rmetadata: {name: p}\rspec:\r  containers:\r  - name: a\r    image: nginx\r",
    );
    let f = plan.files.first().expect("a file with findings");
    assert!(f.after.is_none() && f.error.is_none(), "{f:?}");
    assert!(!f.unfixed.is_empty());
    assert!(
        reasons(f)
            .iter()
            .all(|r| r.contains("bare carriage return")),
        "{:?}",
        reasons(f)
    );
}

#[test]
fn a_value_of_the_wrong_type_is_not_overridden_by_a_safe_fix() {
    // `allowPrivilegeEscalation: "false"`, `runAsNonRoot: "yes"`, `seccompProfile: {type: 1}`:
    // written by the author (wrongly typed, so the API server rejects them). Replacing them is an
    // unsafe fix, not a safe one.
    for name in [
        "fix-written-wrong-type-ape.yaml",
        "fix-written-wrong-type.yaml",
    ] {
        let f = fix_plan(name);
        // Other fixes (an unset field elsewhere) may apply; the written values stay.
        let after = f.after.as_deref().unwrap_or(&f.before);
        for kept in [
            "allowPrivilegeEscalation: \"false\"",
            "runAsNonRoot: \"yes\"",
            "{type: 1}",
        ] {
            assert_eq!(
                f.before.contains(kept),
                after.contains(kept),
                "{name}: {after}"
            );
        }
        let unsafe_ones: Vec<&str> = f
            .unfixed
            .iter()
            .filter(|u| u.needs_unsafe)
            .map(|u| u.rule)
            .collect();
        for rule in match name {
            "fix-written-wrong-type-ape.yaml" => &["container-privilege-escalation-allowed"][..],
            _ => &["container-may-run-as-root", "container-seccomp-unconfined"][..],
        } {
            assert!(
                unsafe_ones.contains(rule),
                "{name}: {rule} {:#?}",
                f.unfixed
            );
        }
    }
}
