//! Output people read (issue 23): text styles, filters, the closing summary, plurals, error paths,
//! "did you mean", the Markdown size limit, the JSON schema and counts, Helm charts scanned
//! directly, kustomize render errors.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kh() -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(root()).env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = kh().args(args).output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

const APP: &str = "examples/insecure-app";

#[test]
fn concise_is_one_line_per_finding_most_severe_first() {
    let (out, _, code) = run(&[
        "scan",
        "--no-config",
        "--style",
        "concise",
        "--rules",
        "pod-host-namespaces,container-privileged,container-host-port",
        APP,
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().take(3).collect();
    assert_eq!(
        lines,
        [
            "examples/insecure-app/app.yaml:29:11: critical container-privileged container \"web\" sets `privileged: true`",
            "examples/insecure-app/app.yaml:20:7: high pod-host-namespaces pod sets `hostNetwork: true`",
            "examples/insecure-app/app.yaml:27:11: medium container-host-port container \"web\" binds host port 80",
        ]
    );
    // --sort location: by line.
    let (out, _, _) = run(&[
        "scan",
        "--no-config",
        "--style",
        "concise",
        "--sort",
        "location",
        "--rules",
        "pod-host-namespaces,container-privileged,container-host-port",
        APP,
    ]);
    let lines: Vec<&str> = out
        .lines()
        .take(3)
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "examples/insecure-app/app.yaml:20:7",
            "examples/insecure-app/app.yaml:27:11",
            "examples/insecure-app/app.yaml:29:11"
        ]
    );
}

#[test]
fn grouped_gives_why_and_fix_once_then_every_location() {
    let (out, _, _) = run(&[
        "scan",
        "--no-config",
        "--style",
        "grouped",
        "--rules",
        "container-privilege-escalation-allowed",
        "examples",
    ]);
    let head: Vec<&str> = out.lines().take(6).collect();
    assert_eq!(
        head[0],
        "medium container-privilege-escalation-allowed: 2 findings (rule 9 — No privileged, hostNetwork, hostPID, hostIPC)"
    );
    assert!(head[1].starts_with("  why: "), "{}", head[1]);
    assert!(head[2].starts_with("  fix: "), "{}", head[2]);
    assert_eq!(
        head[3],
        "    examples/insecure-app/app.yaml:28:9: container \"web\" does not set `allowPrivilegeEscalation: false` (the default allows escalation) (Deployment/webshop/web container web)",
    );
    assert!(
        head[4].starts_with("    examples/insecure-app/app.yaml:")
            && head[4].ends_with(": container \"backup\" does not set `allowPrivilegeEscalation: false` (the default allows escalation) (CronJob/webshop/backup container backup)"),
        "{}",
        head[4]
    );
    assert_eq!(out.matches("  why: ").count(), 1);
}

#[test]
fn severity_filters_change_what_is_shown_not_the_exit_code() {
    let (out, _, code) = run(&[
        "scan",
        "--no-config",
        "--style",
        "concise",
        "--min-severity",
        "high",
        APP,
    ]);
    assert_eq!(code, 1);
    let severities: std::collections::BTreeSet<&str> = out
        .lines()
        .filter(|l| l.starts_with("examples/"))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(
        severities.into_iter().collect::<Vec<_>>(),
        ["critical", "high"]
    );
    assert!(out.contains("  shown        12 of 28 findings (--min-severity/--severity)"));
    let (out, _, _) = run(&[
        "scan",
        "--no-config",
        "--style",
        "concise",
        "--severity",
        "low",
        APP,
    ]);
    let shown: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("examples/"))
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(
        shown,
        ["image-not-pinned-by-digest", "image-not-pinned-by-digest"]
    );
}

#[test]
fn quiet_prints_the_summary_only() {
    let (out, _, code) = run(&["scan", "--no-config", "-q", APP]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(
            "Summary\n  by severity  critical 2 · high 10 · medium 14 · low 2 · info 0\n"
        ),
        "{out}"
    );
    assert!(out.contains("  fix first\n    1. critical anonymous-or-unauthenticated-binding: 1 finding (first at examples/insecure-app/app.yaml:109:3)"), "{out}");
    assert!(
        out.ends_with("28 findings (2 critical, 10 high, 14 medium, 2 low) in 10 objects (2 pod templates) from 1 input; 28 at or above --fail-on low\n"),
        "{out}"
    );
    assert!(!out.contains("-->"), "no snippet");
    assert!(out.lines().count() < 20);
}

#[test]
fn plurals_are_right() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  hostPID: true\n  containers: [{name: c, image: nginx}]\n",
    )
    .unwrap();
    let out = kh()
        .args(["scan", "--no-config", "--rules", "pod-host-namespaces"])
        .arg(&pod)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(
            "1 finding (1 high) in 1 object (1 pod template) from 1 input; 1 at or above --fail-on low\n"
        ),
        "{text}"
    );
    assert!(text.contains("(1 finding)"), "scorecard: {text}");
}

#[test]
fn colour_is_chosen_with_color() {
    let (out, _, _) = run(&[
        "scan",
        "--no-config",
        "--style",
        "concise",
        "--color",
        "always",
        "--rules",
        "container-privileged",
        APP,
    ]);
    assert!(
        out.starts_with("examples/insecure-app/app.yaml:29:11: \u{1b}[1;35mcritical\u{1b}[0m"),
        "{out}"
    );
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--rules",
            "container-privileged",
            APP,
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn a_missing_path_is_one_error_line_and_exit_2() {
    let (out, err, code) = run(&["scan", "/nonexistent/app.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "error: /nonexistent/app.yaml: no such file or directory\n"
    );
}

#[test]
fn a_node_root_without_node_files_has_no_scorecard() {
    let dir = tempfile::tempdir().unwrap();
    let out = kh()
        .args(["node", "--no-config", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("Scorecard"), "{text}");
    assert!(text.lines().count() <= 5, "{text}");
}

#[test]
fn mistyped_rule_ids_get_a_suggestion() {
    let (_, err, code) = run(&["explain", "container-privilegd"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: no rule `container-privilegd`; did you mean `container-privileged`? (`kubeharden rules` lists them)\n"
    );
    let (_, err, code) = run(&["scan", "--rules", "pod-host-namespace", APP]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `pod-host-namespaces`?"), "{err}");
    let (_, err, _) = run(&["explain", "zzz"]);
    assert_eq!(err, "error: no rule `zzz`; `kubeharden rules` lists them\n");
}

#[test]
fn rules_prints_column_headers() {
    let (out, _, _) = run(&["rules"]);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>(),
        ["ID", "SECTION", "SEVERITY", "AUTO-FIX", "SUMMARY"]
    );
}

#[test]
fn psa_labels_from_manifests_labels_their_declared_namespaces() {
    let (out, _, code) = run(&["generate", "psa-labels", APP]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: webshop\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: v1.37\n    pod-security.kubernetes.io/audit: restricted\n    pod-security.kubernetes.io/warn: restricted\n"
    );
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the published schema is a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, stdout: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
    v
}

#[test]
fn every_json_report_validates_against_the_published_schema() {
    let validator = schema_validator();
    let dir = tempfile::tempdir().unwrap();
    // scan, with suppressed findings shown and a baseline.
    let baseline = dir.path().join("baseline.json");
    let out = kh()
        .args(["scan", "--no-config", "--format", "json", "--output"])
        .arg(format!("json={}", baseline.display()))
        .arg(APP)
        .output()
        .unwrap();
    let v = assert_valid(&validator, "scan", &out.stdout);
    assert_eq!(
        v["counts"]["by_severity"],
        serde_json::json!({"critical": 2, "high": 10, "medium": 14, "low": 2, "info": 0})
    );
    assert_eq!(v["counts"]["findings"], 28);
    assert_eq!(v["counts"]["by_section"]["9"], 6);
    assert_eq!(v["counts"]["by_rule"]["container-privileged"], 1);
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "--show-suppressed",
            "--baseline",
        ])
        .arg(&baseline)
        .args(["examples"])
        .output()
        .unwrap();
    let v = assert_valid(&validator, "scan --baseline --show-suppressed", &out.stdout);
    assert!(v["baseline"].is_object());
    // Suppressed findings, a stdin input with an error diagnostic.
    let suppressed = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {kubeharden.io/ignore: container-privileged}\nspec:\n  containers: [{name: c, image: nginx, securityContext: {privileged: true}}]\n---\nkind: [\n";
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "--show-suppressed",
            "-",
        ])
        .write_stdin(suppressed)
        .output()
        .unwrap();
    let v = assert_valid(&validator, "scan - --show-suppressed", &out.stdout);
    assert_eq!(v["suppressed_findings"][0]["rule"], "container-privileged");
    assert_eq!(v["counts"]["diagnostics"]["error"], 1);
    // node, audit-log analyze, rbac suggest.
    let node = tempfile::tempdir().unwrap();
    let out = kh()
        .args(["node", "--no-config", "--format", "json", "--root"])
        .arg(node.path())
        .args(["--apiserver-flags", "--authorization-mode=AlwaysAllow"])
        .output()
        .unwrap();
    assert_valid(&validator, "node", &out.stdout);
    let audit = root().join("crates/engine/tests/fixtures/audit");
    let out = kh()
        .args(["audit-log", "analyze", "--no-config", "--format", "json"])
        .arg(audit.join("audit.log"))
        .output()
        .unwrap();
    assert_valid(&validator, "audit-log analyze", &out.stdout);
    let out = kh()
        .args([
            "rbac",
            "suggest",
            "system:serviceaccount:shop:ci-deployer",
            "--format",
            "json",
            "--audit-log",
        ])
        .arg(audit.join("audit.log"))
        .arg(audit.join("rbac.yaml"))
        .output()
        .unwrap();
    assert_valid(&validator, "rbac suggest", &out.stdout);
}

#[test]
fn markdown_of_the_real_corpus_fits_a_github_comment() {
    let Ok(corpus) = std::env::var("KUBEHARDEN_CORPUS") else {
        eprintln!("skipped: KUBEHARDEN_CORPUS is not set");
        return;
    };
    let real = Path::new(&corpus).join("real");
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--no-kustomize",
            "--format",
            "markdown",
        ])
        .arg(&real)
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let chars = md.chars().count();
    assert!(chars <= 65_536, "{chars} characters");
    assert!(
        md.contains(" more findings: see the SARIF or HTML artefact of this run"),
        "the cut is said"
    );
    assert!(md.contains("### Scorecard"));
    assert!(
        md.trim_end().ends_with("rules</sub>"),
        "the footer is there"
    );
}

#[test]
fn a_chart_is_rendered_with_values_and_findings_point_at_the_template() {
    if Command::new("helm").arg("version").output().is_err() {
        eprintln!("skipped: helm is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "privileged: false\n").unwrap();
    std::fs::write(
        chart.join("templates/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      hostPID: true\n      containers:\n      - name: c\n        image: nginx\n        securityContext:\n          privileged: {{ .Values.privileged }}\n",
    )
    .unwrap();
    let values = dir.path().join("prod.yaml");
    std::fs::write(&values, "privileged: true\n").unwrap();
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "--rules",
            "container-privileged,pod-host-namespaces",
            "--helm-release",
            "shop",
            "--namespace",
            "prod",
            "--values",
        ])
        .arg(&values)
        .arg(&chart)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["origin"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                format!(
                    "{}/{}",
                    f["subject"]["namespace"].as_str().unwrap_or(""),
                    f["subject"]["name"].as_str().unwrap()
                ),
            )
        })
        .collect();
    let template = chart.join("templates/deploy.yaml").display().to_string();
    assert_eq!(
        found,
        [
            (
                "pod-host-namespaces".to_owned(),
                template.clone(),
                11,
                "prod/shop".to_owned()
            ),
            (
                "container-privileged".to_owned(),
                template,
                16,
                "prod/shop".to_owned()
            ),
        ]
    );
}

#[test]
fn a_failed_kustomize_render_is_one_line_and_incomplete_unless_allowed() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("skipped: kubectl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("app");
    std::fs::create_dir_all(&k).unwrap();
    std::fs::write(k.join("kustomization.yaml"), "resources:\n- missing.yaml\n").unwrap();
    let out = kh()
        .args(["scan", "--no-config", "--allow-empty", "--format", "json"])
        .arg(&k)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["level"], "error");
    assert_eq!(
        d["origin"],
        k.join("kustomization.yaml").display().to_string()
    );
    let message = d["message"].as_str().unwrap();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(message.contains("failed: "), "{message}");
    assert!(
        message.ends_with("; scanning its files unrendered"),
        "{message}"
    );
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--allow-empty",
            "--allow-render-errors",
            "--format",
            "json",
        ])
        .arg(&k)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["level"], "warning");
}

/// A run long enough to show progress (half a second): many Pods in one file.
fn long_input(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..6000 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: shop}}\nspec:\n  containers: [{{name: app, image: nginx}}]\n"
        ));
    }
    let file = dir.join("many.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The output of `command` run on a pseudo-terminal (util-linux `script`), stdout to /dev/null:
/// what a user sees on stderr. `None` when `script` is not installed.
fn on_a_terminal(command: &str) -> Option<String> {
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn progress_shows_on_a_terminal_for_long_runs_only_and_never_with_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    let file = long_input(dir.path());
    let kh = assert_cmd::cargo::cargo_bin("kubeharden");
    let (kh, file) = (kh.display(), file.display());
    let Some(shown) = on_a_terminal(&format!("{kh} scan --no-config {file} >/dev/null")) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    assert!(
        shown.contains("scanning 1 input with"),
        "no progress on a terminal: {shown:?}"
    );
    let quiet = on_a_terminal(&format!(
        "{kh} scan --no-config --no-progress {file} >/dev/null"
    ))
    .unwrap();
    assert!(!quiet.contains("scanning 1 input"), "{quiet:?}");
    // A short run shows nothing, even on a terminal.
    let app = root().join(APP);
    let short = on_a_terminal(&format!(
        "{kh} scan --no-config {} >/dev/null",
        app.display()
    ))
    .unwrap();
    assert!(!short.contains("scanning"), "{short:?}");
    // Not a terminal: nothing on stderr but the report's own lines.
    let (_, stderr, _) = run(&["scan", "--no-config", &file.to_string()]);
    assert!(!stderr.contains("scanning"), "{stderr:?}");
    // `fix` shows its planning the same way (a dry run writes nothing).
    let fixing = on_a_terminal(&format!("{kh} fix --dry-run {file} >/dev/null")).unwrap();
    assert!(
        fixing.contains("planning the fixes of 1 file"),
        "{fixing:?}"
    );
    let fixing = on_a_terminal(&format!(
        "{kh} fix --dry-run --no-progress {file} >/dev/null"
    ))
    .unwrap();
    assert!(!fixing.contains("planning the fixes"), "{fixing:?}");
}

/// The text report is made on every core, its findings' blocks 512 at a time: piped (escapes
/// dropped on the threads that made the blocks), written to a file, and on a colour terminal
/// (escapes kept) it is the same text, in the same order, across many chunks.
#[test]
fn the_text_report_is_the_same_whichever_way_it_is_written_and_made_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i:03}, namespace: shop}}\nspec:\n  containers: [{{name: app, image: nginx}}]\n"
        ));
    }
    let file = dir.path().join("pods.yaml");
    std::fs::write(&file, text).unwrap();
    let input = file.to_str().unwrap();
    let report = dir.path().join("report.txt");
    let out = format!("text={}", report.display());
    let (piped, _, code) = run(&["scan", "--no-config", "--output", &out, input]);
    assert_eq!(code, 1);
    let (coloured, _, _) = run(&["scan", "--no-config", "--color", "always", input]);
    assert!(coloured.contains('\u{1b}'));
    assert!(!piped.contains('\u{1b}'));
    assert_eq!(anstream::adapter::strip_str(&coloured).to_string(), piped);
    assert_eq!(std::fs::read_to_string(&report).unwrap(), piped);
    // Every finding once, most severe first, then by place: the blocks of each rule in the
    // order of the Pods, across the chunks.
    let heads: Vec<&str> = piped
        .lines()
        .filter(|l| l.trim_start().starts_with("--> "))
        .collect();
    assert!(heads.len() > 1024, "{}", heads.len());
    let first_rule: Vec<&str> = piped
        .lines()
        .filter(|l| l.contains("[container-capabilities-not-dropped]:"))
        .collect();
    assert_eq!(first_rule.len(), 400, "{}", first_rule.len());
    let lines: Vec<u32> = piped
        .lines()
        .zip(piped.lines().skip(1))
        .filter(|(a, _)| a.contains("[container-capabilities-not-dropped]:"))
        .filter_map(|(_, b)| b.rsplit(':').nth(1)?.parse().ok())
        .collect();
    assert_eq!(lines.len(), 400);
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}
