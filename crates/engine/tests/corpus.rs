//! Robustness over the shared corpus: every file under it (all extensions, recursively: YAML,
//! JSON, markdown, TSV, golden files…) is scanned on its own, and the scan must neither panic nor
//! lose a YAML error silently.
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default: `../../../shared/corpus` from this
//! crate). Without it the tests are skipped, unless `KUBEHARDEN_REQUIRE_CORPUS=1`.
//!
//! To keep `cargo test` fast in debug builds, `real/`, `vulnerable/` and `controlplane/` (and every
//! other directory) are covered fully; only the 4,537 near-identical Pod Security fixtures of
//! `psa-testdata/` are sampled, deterministically (every [`PSA_SAMPLE_EVERY`]th file in sorted
//! order; `KUBEHARDEN_CORPUS_FULL=1` scans them all).

mod common;

use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::DiagLevel;
use saphyr_parser::{Event, Parser};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

const PSA_SAMPLE_EVERY: usize = 10;

/// Every file under `dir`, recursively, in sorted order (hidden files included).
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            all_files(&path, out);
        } else if meta.is_file() {
            out.push(path);
        }
    }
}

/// The files the per-file test scans: all of them, except a deterministic sample of
/// `psa-testdata/`.
fn selected_files(corpus: &Path) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    all_files(corpus, &mut files);
    let total = files.len();
    if std::env::var("KUBEHARDEN_CORPUS_FULL").as_deref() == Ok("1") {
        return (files, total);
    }
    let psa = corpus.join("psa-testdata");
    let (fixtures, mut files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| f.starts_with(&psa));
    files.extend(fixtures.into_iter().step_by(PSA_SAMPLE_EVERY));
    files.sort();
    (files, total)
}

fn is_yaml_or_json(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Why a YAML/JSON file must yield an error, judged from its text alone, not by the scanner: it
/// is not UTF-8 text, or the YAML parser (its event stream, not the engine's tree builder) rejects
/// it, or it holds a template action `{{ … }}` where YAML sees a mapping whose key is a mapping.
/// Template actions inside strings (Prometheus alerts, Argo parameters) are ordinary text.
fn must_fail(bytes: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("not UTF-8".into());
    };
    if text.contains('\0') {
        return Some("NUL byte".into());
    }
    let mut previous_mapping: Option<usize> = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(e) => e,
            Err(e) => {
                return Some(format!(
                    "YAML error at line {}: {}",
                    e.marker().line(),
                    e.info()
                ));
            }
        };
        let start = span.start.index();
        if matches!(event, Event::MappingStart(..)) {
            if previous_mapping == Some(start.wrapping_sub(1)) {
                return Some(format!("template action at line {}", span.start.line()));
            }
            previous_mapping = Some(start);
        } else {
            previous_mapping = None;
        }
    }
    None
}

fn scan_one(path: &Path) -> std::thread::Result<Report> {
    let input = [Input::File(path.to_path_buf())];
    catch_unwind(AssertUnwindSafe(|| scan_all(&input)))
}

#[test]
fn every_corpus_file_scans_without_panic_and_reports_yaml_errors() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    let started = Instant::now();
    let (files, total) = selected_files(&corpus);
    let (mut objects, mut findings, mut errors, mut warnings, mut notes) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut unparsable = 0usize;
    for path in &files {
        let name = path.display().to_string();
        let report = match scan_one(path) {
            Ok(r) => r,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: scan panicked: {what}"));
                continue;
            }
        };
        objects += report.summary.objects;
        findings += report.findings.len();
        for d in &report.diagnostics {
            match d.level {
                DiagLevel::Error => errors += 1,
                DiagLevel::Warning => warnings += 1,
                DiagLevel::Note => notes += 1,
            }
            if d.origin != name {
                failures.push(format!("{name}: diagnostic names another origin: {d:?}"));
            }
        }
        if !is_yaml_or_json(path) {
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        if bytes.len() as u64 > kubeharden_engine::load::MAX_FILE_BYTES {
            continue;
        }
        let Some(why) = must_fail(&bytes) else {
            continue;
        };
        unparsable += 1;
        let error = report
            .diagnostics
            .iter()
            .find(|d| d.level == DiagLevel::Error && d.origin == name && d.line.is_some());
        match error {
            None => failures.push(format!(
                "{name}: {why}, but no error diagnostic with a line: {:?}",
                report.diagnostics
            )),
            Some(d) => {
                if why.starts_with("template") && !d.message.contains("Helm") {
                    failures.push(format!(
                        "{name}: {why}, but the error does not say it is a template: {d:?}"
                    ));
                }
            }
        }
    }
    println!(
        "corpus {}: {} of {total} files scanned in {:.1?}: {objects} objects, {findings} findings, \
         {errors} error / {warnings} warning / {notes} note diagnostics; {unparsable} YAML/JSON \
         files do not parse, each reported",
        corpus.display(),
        files.len(),
        started.elapsed(),
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        objects > 2_000,
        "only {objects} objects read from the corpus"
    );
}

#[test]
fn real_directory_in_one_scan() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    let real = corpus.join("real");
    let started = Instant::now();
    let (files, diags) = kubeharden_engine::load::expand_paths(std::slice::from_ref(&real));
    assert!(diags.is_empty(), "{diags:?}");
    let inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    let report = catch_unwind(AssertUnwindSafe(|| scan_all(&inputs))).expect("scan panicked");
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagLevel::Error)
        .count();
    println!(
        "real/: {} inputs, {} bytes, {} objects, {} pod templates, {} findings, {errors} error \
         diagnostics, in {:.1?}",
        report.summary.inputs,
        report.summary.bytes,
        report.summary.objects,
        report.summary.pod_templates,
        report.findings.len(),
        started.elapsed(),
    );
    assert_eq!(report.summary.inputs, inputs.len());
    assert!(
        report.summary.objects > 2_000,
        "only {} objects in real/",
        report.summary.objects
    );
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.level != DiagLevel::Error || d.line.is_some()),
        "an input error without a line: {:?}",
        report.diagnostics
    );
}

/// Every tree read from the corpus (the Pod Security fixtures sampled as above) comes back from
/// its packed form as it was read: a scan packs the objects it keeps for the cross-object rules
/// (`inventory::Retained`) and those rules read the unpacked tree.
#[test]
fn every_corpus_tree_survives_packing() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    let (files, _) = selected_files(&corpus);
    let mut trees = 0;
    for path in files.iter().filter(|p| is_yaml_or_json(p)) {
        for object in kubeharden_engine::load::load_file(path).objects {
            let packed = kubeharden_engine::inventory::Retained::packed(object.clone());
            let back = packed.into_object();
            assert_eq!(
                back.root,
                object.root,
                "{}: {}",
                path.display(),
                object.identity()
            );
            assert_eq!(back.identity(), object.identity());
            trees += 1;
        }
    }
    assert!(trees > 3_000, "only {trees} trees");
}
