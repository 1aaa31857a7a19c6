//! The properties the fuzz targets check (`fuzz/fuzz_targets/*.rs` include this file), shared with
//! `tests/fuzz_regressions.rs` so that every kept crash input runs through exactly the same path.
//! Each function panics when a property fails; bad input itself must never make it panic.

use kubeharden_engine::analysis::control_plane::{
    self, AuditRequest, SENSITIVE_OPS, audit_level, component_flags, flags_from_command_line,
    secrets_write_provider, split_command_line,
};
use kubeharden_engine::config::Config;
use kubeharden_engine::fix;
use kubeharden_engine::load::Input;
use kubeharden_engine::load::Loaded;
use kubeharden_engine::node::command_line_input;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// The number of the last line of `text`, as editors count them: LF, CRLF and a lone CR end a
/// line, and a final line break opens no new one.
fn line_count(text: &[u8]) -> u32 {
    let crlf = text.windows(2).filter(|w| w == b"\r\n").count();
    let breaks = text.iter().filter(|&&b| b == b'\n' || b == b'\r').count() - crlf;
    let last_open = !matches!(text.last(), None | Some(b'\n' | b'\r'));
    (breaks + usize::from(last_open)).max(1) as u32
}

/// JSON is picked by content, as a file name would: `{` or `[` first.
pub fn name_for(data: &[u8]) -> &'static str {
    match data.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => "fuzz.json",
        _ => "fuzz.yaml",
    }
}

/// A diagnostic names the input and a line inside it.
fn check_diagnostic(d: &Diagnostic, name: &str, lines: u32) {
    assert_eq!(d.origin, name, "{d:?}");
    assert!(!d.message.is_empty(), "{d:?}");
    let line = d
        .line
        .unwrap_or_else(|| panic!("diagnostic without a line: {d:?}"));
    assert!((1..=lines).contains(&line), "line outside the input: {d:?}");
    assert!(d.column.is_none_or(|c| c >= 1), "{d:?}");
}

fn check_report(report: &Report, name: &str, lines: u32) {
    for d in &report.diagnostics {
        check_diagnostic(d, name, lines);
    }
    for f in report.findings.iter().chain(&report.suppressed_findings) {
        assert_eq!(&*f.location.origin, name, "{f:?}");
        assert!(
            (1..=lines).contains(&f.location.line) && f.location.column >= 1,
            "finding outside the input: {f:?}"
        );
        assert!(!f.fingerprint.is_empty() && !f.message.is_empty(), "{f:?}");
    }
    serde_json::to_string(report).expect("the report serializes");
}

/// `loader`: bytes → objects with positions → the full scan. Every diagnostic and finding names
/// the input and a line in it; every object converts to JSON and locates its own pointers.
pub fn loader(data: &[u8]) {
    let name = name_for(data);
    let lines = line_count(data);
    let loaded = kubeharden_engine::load::load_bytes(name, data.to_vec());
    for d in &loaded.diagnostics {
        check_diagnostic(d, name, lines);
    }
    for o in &loaded.objects {
        let _ = o.identity();
        let _ = o.root.to_json();
        for pointer in [
            "",
            "/metadata/name",
            "/spec/containers/0/image",
            "/nothing/here",
        ] {
            let pos = o.locate(pointer);
            assert!((1..=lines).contains(&pos.line), "{pointer}: {pos:?}");
        }
    }
    let report = scan_all(&[Input::Bytes {
        name: name.to_owned(),
        bytes: Arc::from(data),
    }]);
    check_report(&report, name, lines);
}

/// `config_readers`: the text as a component command line (the flags parser, and the
/// `CommandLine` document `kubeharden node` scans), and its objects as audit Policies,
/// EncryptionConfigurations, component flags (static Pods, kubeadm) and `.kubeharden.yaml`.
pub fn config_readers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The flags parser.
    let words = split_command_line(text);
    if let Some(flags) = flags_from_command_line(text) {
        assert!(flags.flags.len() < words.len(), "{words:?}");
        for f in &flags.flags {
            let _ = (
                flags.get(&f.name),
                flags.list(&f.name),
                flags.bool(&f.name),
                flags.pointer(&f.name),
            );
        }
        let _ = flags.admission_plugins();
    }
    // A command line becomes a document of the engine's own making: it must always read.
    let name = "fuzz (ExecStart)";
    let input = command_line_input(name, text);
    let Input::Bytes { bytes, .. } = input.clone() else {
        unreachable!()
    };
    let loaded = kubeharden_engine::load::load_bytes(name, bytes.to_vec());
    assert!(
        loaded.diagnostics.is_empty() && loaded.objects.len() == 1,
        "the CommandLine document of {text:?} does not read: {:#?}\n{}",
        loaded.diagnostics,
        String::from_utf8_lossy(&bytes)
    );
    let command: Vec<String> = loaded.objects[0]
        .root
        .get("command")
        .map(|c| {
            c.items()
                .iter()
                .filter_map(|w| w.text().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(command, words, "the CommandLine document changes the words");
    let report = scan_all(&[input]);
    check_report(&report, name, line_count(&bytes));

    // The YAML readers, on every object whatever its kind.
    let loaded: Loaded = kubeharden_engine::load::load_bytes("fuzz.yaml", data.to_vec());
    for o in &loaded.objects {
        for flags in component_flags(o) {
            for f in &flags.flags {
                let _ = (
                    flags.bool(&f.name),
                    flags.list(&f.name),
                    flags.pointer(&f.name),
                );
            }
            let _ = flags.admission_plugins();
        }
        let groups = ["system:authenticated", "system:masters"];
        for op in SENSITIVE_OPS {
            let _ = audit_level(&o.root, &op.request("jane@example.com", &groups));
        }
        let _ = audit_level(
            &o.root,
            &AuditRequest {
                user: "system:anonymous",
                verb: "get",
                path: "/healthz",
                ..AuditRequest::default()
            },
        );
        let _ = secrets_write_provider(&o.root);
        let _ = control_plane::parse_go_bool(&o.name);
    }
    let _ = Config::parse(".kubeharden.yaml", text, Path::new("."));
}

/// `~` and `/` escaped, as a JSON pointer token.
fn token(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// The leaves a safe fix may write (see docs/fix.md), given the old value there (None: unset).
fn allowed_leaf(ptr: &str, old: Option<&Value>, new: &Value) -> bool {
    let unset = old.is_none_or(Value::is_null);
    let parent_is = |name: &str| {
        ptr.rsplit('/').nth(1).is_some_and(|p| {
            p == name
                && ptr
                    .rsplit('/')
                    .next()
                    .is_some_and(|i| i.parse::<usize>().is_ok())
        })
    };
    if let Some(label) = ptr.strip_prefix("/metadata/labels/pod-security.kubernetes.io~1") {
        // Pinning versions and raising audit/warn (namespace-pss-version-or-audit-missing).
        return matches!(
            label,
            "enforce-version" | "audit" | "audit-version" | "warn" | "warn-version"
        ) && new.is_string();
    }
    if ptr.ends_with("/securityContext/runAsNonRoot") {
        return unset && *new == Value::Bool(true);
    }
    if ptr.ends_with("/securityContext/allowPrivilegeEscalation") {
        return unset && *new == Value::Bool(false);
    }
    if ptr.ends_with("/securityContext/seccompProfile/type") {
        return unset && new == "RuntimeDefault";
    }
    if ptr.ends_with("/automountServiceAccountToken") {
        return unset && *new == Value::Bool(false);
    }
    if parent_is("drop") && ptr.contains("/securityContext/capabilities/drop/") {
        // `ALL` added, or `all` respelled.
        return new == "ALL"
            && (unset
                || old
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("all")));
    }
    false
}

/// Every difference between `old` and `new` is a change a safe fix may make.
fn check_safe_changes(ptr: &str, old: Option<&Value>, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Some(o), n) if o == n => {}
        (Some(Value::Object(om)), Value::Object(nm)) => {
            for (k, ov) in om {
                match nm.get(k) {
                    Some(nv) => {
                        check_safe_changes(&format!("{ptr}/{}", token(k)), Some(ov), nv, out)
                    }
                    None => out.push(format!("{ptr}/{}: removed", token(k))),
                }
            }
            for (k, nv) in nm.iter().filter(|(k, _)| !om.contains_key(*k)) {
                check_safe_changes(&format!("{ptr}/{}", token(k)), None, nv, out);
            }
        }
        (Some(Value::Array(oa)), Value::Array(na)) => {
            if na.len() < oa.len() {
                out.push(format!("{ptr}: items removed"));
            }
            for (i, nv) in na.iter().enumerate() {
                check_safe_changes(&format!("{ptr}/{i}"), oa.get(i), nv, out);
            }
        }
        // A new (or formerly null) collection: each of its leaves must be allowed.
        (None | Some(Value::Null), Value::Object(nm)) if !nm.is_empty() => {
            for (k, nv) in nm {
                check_safe_changes(&format!("{ptr}/{}", token(k)), None, nv, out);
            }
        }
        (None | Some(Value::Null), Value::Array(na)) if !na.is_empty() => {
            for (i, nv) in na.iter().enumerate() {
                check_safe_changes(&format!("{ptr}/{i}"), None, nv, out);
            }
        }
        (old, new) => {
            if !allowed_leaf(ptr, old, new) {
                out.push(format!("{ptr}: {old:?} → {new}"));
            }
        }
    }
}

/// The fixed text reads as the same objects, with no new diagnostic, each object differing from
/// the original only where a safe fix writes.
fn check_fixed(name: &str, before: &str, after: &str) {
    let b = kubeharden_engine::load::load_bytes(name, before.as_bytes().to_vec());
    let a = kubeharden_engine::load::load_bytes(name, after.as_bytes().to_vec());
    let context = || format!("--- before\n{before}\n--- after\n{after}");
    assert_eq!(a.objects.len(), b.objects.len(), "objects\n{}", context());
    for level in [DiagLevel::Error, DiagLevel::Warning, DiagLevel::Note] {
        let count = |l: &Loaded| l.diagnostics.iter().filter(|d| d.level == level).count();
        assert_eq!(
            count(&a),
            count(&b),
            "{level:?} diagnostics: {:#?}\n{}",
            a.diagnostics,
            context()
        );
    }
    for (o, n) in b.objects.iter().zip(&a.objects) {
        assert_eq!(o.identity(), n.identity(), "{}", context());
        let mut bad = Vec::new();
        check_safe_changes("", Some(&o.root.to_json()), &n.root.to_json(), &mut bad);
        assert!(
            bad.is_empty(),
            "{}: changes no safe fix makes: {bad:#?}\n{}",
            o.identity(),
            context()
        );
    }
}

/// What the edit planner says when it declines to edit a layout (`fix/edit.rs`).
const PLANNER_REFUSALS: &[&str] = &[
    "a flow mapping ends with an empty value",
    "empty block sequence",
    "a sequence item does not start on the line of its `-`",
    "a null value outside a mapping",
    "conflicting edits",
    "two fixes edit the same text",
];

/// `fix`: the safe fixes of a scan of the input, planned in memory (the input is written to
/// `dir`, as `fix` reads files). The fix must not be refused by its own final check, the fixed
/// text must read as the same objects changed only where a safe fix writes, and a second run
/// must change nothing.
pub fn fix(data: &[u8], dir: &Path) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = dir.join(name_for(data));
    let opts = fix::Options::default();
    std::fs::write(&path, text).expect("write the input");
    let plan = fix::plan(std::slice::from_ref(&path), &opts).expect("plan");
    let name = path.display().to_string();
    let Some(file) = plan.files.iter().find(|f| f.path == path) else {
        return;
    };
    // The planner may decline a layout it cannot edit; the final check (`fix::verify`) must never
    // have to refuse what the planner produced.
    if let Some(e) = file
        .error
        .as_deref()
        .filter(|e| !PLANNER_REFUSALS.contains(e))
    {
        panic!("the fix engine planned edits that its own check refused: {e}\n--- input\n{text}");
    }
    let Some(after) = &file.after else {
        return;
    };
    check_fixed(&name, text, after);
    std::fs::write(&path, after).expect("write the fixed text");
    let again = fix::plan(std::slice::from_ref(&path), &opts).expect("plan");
    if let Some(f) = again.changed().next() {
        panic!(
            "a second fix changes the fixed text again:\n--- input\n{text}\n--- once\n{after}\n--- twice\n{}",
            f.after.as_deref().unwrap_or_default()
        );
    }
}
