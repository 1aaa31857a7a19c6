//! Report formats, config, suppressions and baselines, end to end through the binary.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary, run from the repository root with no config file and a fixed report date.
fn kh() -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(root()).env("SOURCE_DATE_EPOCH", "0");
    c
}

/// The binary run in `dir` (config discovery starts there).
fn kh_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(dir).env("SOURCE_DATE_EPOCH", "0");
    c
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

fn json(c: &mut Command) -> Value {
    let out = c.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn findings<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn suppressed<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["suppressed_findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["rule"] == rule).collect())
        .unwrap_or_default()
}

const EXAMPLES: [&str; 2] = ["examples/insecure-app", "examples/hardened-app"];

/// The critical finding of the insecure example (its position, from the JSON report).
fn privileged_example() -> (String, String, u64, u64) {
    let v = json(kh().args([
        "scan",
        "--no-config",
        "--format",
        "json",
        "examples/insecure-app",
    ]));
    let f = findings(&v, "container-privileged")[0].clone();
    let s = &f["subject"];
    (
        format!(
            "{}/{}/{}",
            s["kind"].as_str().unwrap(),
            s["namespace"].as_str().unwrap(),
            s["name"].as_str().unwrap()
        ),
        s["container"].as_str().unwrap().to_owned(),
        f["location"]["line"].as_u64().unwrap(),
        f["location"]["column"].as_u64().unwrap(),
    )
}

fn normalise(s: &str) -> String {
    s.replace(
        &format!("kubeharden {}", env!("CARGO_PKG_VERSION")),
        "kubeharden [VERSION]",
    )
    .replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[VERSION]\"",
    )
}

#[test]
fn snapshots_of_every_format_over_the_examples() {
    for format in [
        "text",
        "json",
        "sarif",
        "junit",
        "markdown",
        "policyreport",
        "html",
    ] {
        let out = stdout(
            kh().args(["scan", "--no-config", "--format", format])
                .args(EXAMPLES),
        );
        insta::assert_snapshot!(format!("examples_{format}"), normalise(&out));
    }
}

fn sarif_validator() -> jsonschema::Validator {
    let mut schema: Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    // The schema's `run.language` pattern has a stray `]` that the validator's ECMA-262 check of
    // the schema itself rejects; it only constrains `run.language`, which we do not write.
    // Replace it with the pattern it means (see data/README.md).
    let mut patched = 0;
    for def in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        if language == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
            *language = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid_sarif(v: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_is_valid_against_the_official_schema_and_carries_what_code_scanning_needs() {
    let v = json(
        kh().args(["scan", "--no-config", "--format", "sarif"])
            .args(EXAMPLES),
    );
    assert_valid_sarif(&v);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let privileged = rules
        .iter()
        .find(|r| r["id"] == "container-privileged")
        .unwrap();
    assert_eq!(privileged["properties"]["security-severity"], "9.5");
    assert_eq!(privileged["defaultConfiguration"]["level"], "error");
    assert!(
        privileged["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("**Fix.**")
    );
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "container-privileged")
        .unwrap();
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "examples/insecure-app/app.yaml"
    );
    let (_, _, line, column) = privileged_example();
    assert_eq!(loc["region"]["startLine"], line);
    assert_eq!(loc["region"]["startColumn"], column);
    assert!(
        loc["region"]["snippet"]["text"]
            .as_str()
            .unwrap()
            .contains("privileged: yes")
    );
    assert_eq!(result["level"], "error");
    assert_eq!(
        rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "container-privileged"
    );
    assert!(
        result["partialFingerprints"]["kubeharden/v1"]
            .as_str()
            .is_some_and(|f| f.len() == 16)
    );

    // Suppressions, baseline states, input errors and odd origins stay valid.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    std::fs::write(
        &base,
        stdout(kh().args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "examples/insecure-app",
        ])),
    )
    .unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {kubeharden.io/ignore: container-privileged, kubeharden.io/ignore-reason: \"test\"}\nspec:\n  containers: [{name: a, image: i, securityContext: {privileged: true}}]\n---\na: [\n";
    let v = json(
        kh().args([
            "scan",
            "--no-config",
            "--format",
            "sarif",
            "--show-suppressed",
            "--baseline",
        ])
        .arg(&base)
        .args(["-", "examples/insecure-app"])
        .write_stdin(pod),
    );
    assert_valid_sarif(&v);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["justification"] == "test")
    );
    assert!(results.iter().any(|r| r["baselineState"] == "unchanged"));
    assert!(results.iter().any(|r| r["baselineState"] == "new"));
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let arg = |f: &str, name: &str| format!("{f}={}", d.join(name).display());
    let out = kh()
        .args(["scan", "--no-config", "--format", "markdown"])
        .args(["--output", &arg("sarif", "out.sarif")])
        .args(["-o", &arg("html", "report.html")])
        .args(["--output", &arg("junit", "junit.xml")])
        .args(["--output", &arg("text", "report.txt")])
        .args(["--output", &arg("policyreport", "reports.yaml")])
        .args(["--output", &arg("json", "report.json")])
        .args(EXAMPLES)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("## kubeharden: "));
    let read = |n: &str| std::fs::read_to_string(d.join(n)).unwrap();
    assert!(read("out.sarif").contains("\"version\": \"2.1.0\""));
    assert!(read("report.html").starts_with("<!DOCTYPE html>"));
    assert!(read("junit.xml").starts_with("<?xml"));
    assert!(read("reports.yaml").contains("kind: ClusterPolicyReport"));
    let text = read("report.txt");
    assert!(text.contains("container-privileged"));
    assert!(
        !text.contains('\x1b'),
        "text written to a file has no ANSI codes"
    );
    // Streamed through the escape stripper: the same bytes as the text format without colour.
    let plain = kh()
        .args([
            "scan",
            "--no-config",
            "--format",
            "text",
            "--color",
            "never",
        ])
        .args(EXAMPLES)
        .output()
        .unwrap();
    assert_eq!(text, String::from_utf8(plain.stdout).unwrap());
    let v: Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(v["schema_version"], 1);
    // A bad --output is a usage error.
    kh().args(["scan", "--output", "pdf=x.pdf", "examples"])
        .assert()
        .code(2);
    kh().args(["scan", "--output", "sarif", "examples"])
        .assert()
        .code(2);
}

#[test]
fn junit_has_a_case_per_rule_and_object() {
    let xml = stdout(
        kh().args(["scan", "--no-config", "--format", "junit"])
            .args(EXAMPLES),
    );
    assert!(xml.contains("<testsuite name=\"container-privileged\" tests=\"1\" failures=\"1\""));
    let (object, _, line, _) = privileged_example();
    assert!(xml.contains(&format!("<testcase name=\"{object}\" classname=\"kubeharden.container-privileged\" file=\"examples/insecure-app/app.yaml\" line=\"{line}\">")));
    // A rule without evidence is skipped, not passed.
    assert!(xml.contains("<skipped message="));
    let failures = xml.matches("<failure ").count();
    let head = xml.lines().nth(1).unwrap();
    assert!(head.contains(&format!("failures=\"{failures}\"")), "{head}");
}

/// A test case per rule and object: the findings of one object (two containers) are one case,
/// the same name in another namespace is another.
#[test]
fn junit_groups_findings_by_object() {
    let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: x, image: i, securityContext: {privileged: true}}\n  - {name: y, image: i, securityContext: {privileged: true}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: b}\nspec:\n  containers: [{name: x, image: i, securityContext: {privileged: true}}]\n";
    let xml = stdout(
        kh().args([
            "scan",
            "--no-config",
            "--format",
            "junit",
            "--rules",
            "container-privileged",
            "-",
        ])
        .write_stdin(pods),
    );
    let cases: Vec<&str> = xml
        .lines()
        .filter(|l| l.trim_start().starts_with("<testcase "))
        .map(str::trim)
        .collect();
    assert_eq!(
        cases,
        [
            "<testcase name=\"Pod/a/p\" classname=\"kubeharden.container-privileged\" file=\"&lt;stdin&gt;\" line=\"6\">",
            "<testcase name=\"Pod/b/p\" classname=\"kubeharden.container-privileged\" file=\"&lt;stdin&gt;\" line=\"13\">",
        ]
    );
    assert!(xml.contains("critical &lt;stdin&gt;:6:43: container &quot;x&quot; sets `privileged: true`\ncritical &lt;stdin&gt;:7:43: container &quot;y&quot; sets `privileged: true`\n"), "{xml}");
}

#[test]
fn policy_reports_per_namespace_and_for_the_cluster() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team-a}\nspec:\n  containers: [{name: a, image: i, securityContext: {privileged: true}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n";
    let out = stdout(
        kh().args([
            "scan",
            "--no-config",
            "--format",
            "policyreport",
            "--fail-on",
            "high",
            "-",
        ])
        .write_stdin(pod),
    );
    let docs = kubeharden_engine::yaml::parse_stream(&out);
    let docs: Vec<Value> = docs
        .into_iter()
        .map(|d| d.unwrap().root.unwrap().to_json())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["PolicyReport", "ClusterPolicyReport"], "{out}");
    let ns = &docs[0];
    assert_eq!(ns["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    assert_eq!(ns["metadata"]["namespace"], "team-a");
    let results = ns["results"].as_array().unwrap();
    let privileged = results
        .iter()
        .find(|r| r["policy"] == "container-privileged")
        .unwrap();
    assert_eq!(privileged["result"], "fail");
    assert_eq!(privileged["severity"], "critical");
    assert_eq!(privileged["resources"][0]["name"], "p");
    assert_eq!(privileged["properties"]["container"], "a");
    // Below --fail-on high: warn.
    assert!(results.iter().any(|r| r["result"] == "warn"));
    let fails = results.iter().filter(|r| r["result"] == "fail").count();
    assert_eq!(ns["summary"]["fail"], fails);
    let cluster = &docs[1];
    assert!(cluster["metadata"].get("namespace").is_none());
    assert!(
        cluster["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["resources"][0]["kind"] == "ClusterRole")
    );
}

#[test]
fn markdown_for_pull_requests() {
    let md = stdout(
        kh().args(["scan", "--no-config", "--format", "markdown"])
            .args(EXAMPLES),
    );
    assert!(md.contains("### Scorecard"));
    assert!(md.contains("### Top findings"));
    assert!(md.contains("<details>"));
    let (object, container, line, column) = privileged_example();
    assert!(md.contains(&format!("| **critical** | `container-privileged` | {object} · {container} | `examples/insecure-app/app.yaml:{line}:{column}` |")), "{md}");
}

const XSS: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: xss\n  annotations: {note: \"</script><script>alert(1)</script>\"}\nspec:\n  containers:\n  - name: app\n    image: \"nginx:<script>alert(2)</script>\"\n    securityContext: {privileged: true}\n    env:\n    - {name: PASSWORD, value: \"<img src=x onerror=alert(3)>\"}\n";

#[test]
fn html_report_is_self_contained_and_escapes_manifest_values() {
    let html = stdout(
        kh().args([
            "scan",
            "--no-config",
            "--format",
            "html",
            "--show-suppressed",
            "-",
        ])
        .write_stdin(XSS),
    );
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;&#x2f;script&gt;"),
        "the value is shown, escaped"
    );
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    // Nothing is loaded from the network.
    for needle in ["http://", "https://", "src=\"//", "@import"] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(html.contains("Content-Security-Policy"));
    // Markdown does not pass HTML through either.
    let md = stdout(
        kh().args(["scan", "--no-config", "--format", "markdown", "-"])
            .write_stdin(XSS),
    );
    // Outside fenced code blocks (whose content Markdown never renders as HTML).
    let mut prose = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    assert!(md.contains("```yaml"));
    assert!(!prose.contains("<script>alert"), "{prose}");
    assert!(!prose.contains("<img"), "{prose}");
    // Nor JUnit or SARIF break.
    let xml = stdout(
        kh().args(["scan", "--no-config", "--format", "junit", "-"])
            .write_stdin(XSS),
    );
    assert!(!xml.contains("<script>"));
    let sarif = json(
        kh().args(["scan", "--no-config", "--format", "sarif", "-"])
            .write_stdin(XSS),
    );
    assert_valid_sarif(&sarif);
}

#[test]
fn html_report_has_scorecard_charts_filters_and_inputs() {
    let html = stdout(
        kh().args(["scan", "--no-config", "--format", "html"])
            .args(EXAMPLES),
    );
    let rules = stdout(kh().args(["rules", "--format", "json"]));
    let n: Vec<Value> = serde_json::from_str(&rules).unwrap();
    assert!(html.contains(&format!("<span id=\"rules-run\">{}</span>", n.len())));
    for needle in [
        "Scorecard: the 15 hardening rules",
        "id=\"chart-severity\"",
        "id=\"chart-rule\"",
        "id=\"f-severity\"",
        "id=\"f-rule\"",
        "id=\"f-namespace\"",
        "id=\"f-kind\"",
        "<li><code>examples&#x2f;insecure-app&#x2f;app.yaml</code></li>",
        "data-rule=\"container-privileged\"",
        "<strong>Why.</strong>",
        "<strong>Fix.</strong>",
        "privileged: yes",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

const TWO_CONTAINERS: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: app\nspec:\n  containers:\n  - {name: main, image: i, securityContext: {privileged: true}}\n  - {name: sidecar, image: i, securityContext: {privileged: true}}\n";

#[test]
fn config_file_rules_severity_excludes_and_exemptions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "manifests/pod.yaml", TWO_CONTAINERS);
    write(
        d,
        "vendor/pod.yaml",
        TWO_CONTAINERS
            .replace("name: p\n", "name: vendored\n")
            .as_str(),
    );
    write(
        d,
        ".kubeharden.yaml",
        "version: 1\ndisable: [container-root-filesystem-writable]\nseverity:\n  container-privileged: low\nexclude: [vendor]\nexemptions:\n- rule: container-privileged\n  kind: Pod\n  namespace: app\n  name: p\n  container: sidecar\n  reason: needs it (SEC-1)\n  expires: 2999-12-31\n- rule: container-privileged\n  name: gone\n  reason: stale\n",
    );
    // Found from a subdirectory too.
    let sub = d.join("manifests");
    let v = json(kh_in(&sub).args(["scan", "--format", "json", "--show-suppressed", "."]));
    assert!(findings(&v, "container-root-filesystem-writable").is_empty());
    let privileged = findings(&v, "container-privileged");
    assert_eq!(privileged.len(), 1, "{privileged:?}");
    assert_eq!(privileged[0]["subject"]["container"], "main");
    assert_eq!(privileged[0]["severity"], "low");
    let exempted = suppressed(&v, "container-privileged");
    assert_eq!(exempted.len(), 1);
    assert_eq!(exempted[0]["suppressed_by"]["source"], "config");
    assert_eq!(exempted[0]["suppressed_by"]["reason"], "needs it (SEC-1)");
    assert!(v["diagnostics"].as_array().unwrap().iter().any(|d| {
        d["level"] == "note"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("matches no finding")
    }));
    // Excluded path: the vendored copy is not read.
    let v = json(kh_in(d).args(["scan", "--format", "json", "."]));
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["subject"]["name"] != "vendored")
    );
    // --no-config reads the vendored copy and ignores the overrides.
    let v = json(kh_in(d).args(["scan", "--no-config", "--format", "json", "."]));
    assert!(findings(&v, "container-privileged").len() == 4);
    assert!(
        findings(&v, "container-privileged")
            .iter()
            .all(|f| f["severity"] == "critical")
    );
    // An explicit --config from elsewhere.
    let v = json(
        kh().args(["scan", "--format", "json", "--config"])
            .arg(d.join(".kubeharden.yaml"))
            .arg(d.join("manifests")),
    );
    assert_eq!(findings(&v, "container-privileged").len(), 1);
}

#[test]
fn expired_exemption_is_itself_a_finding_and_no_longer_suppresses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pod.yaml", TWO_CONTAINERS);
    write(
        d,
        ".kubeharden.yaml",
        "exemptions:\n- rule: container-privileged\n  name: p\n  reason: accepted in the 2019 audit\n  expires: 2020-01-31\n",
    );
    let v = json(kh_in(d).args(["scan", "--format", "json", "pod.yaml"]));
    assert_eq!(findings(&v, "container-privileged").len(), 2);
    let expired = findings(&v, "exemption-expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["location"]["origin"], ".kubeharden.yaml");
    assert_eq!(expired[0]["location"]["line"], 2);
    assert!(
        expired[0]["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2020-01-31")
    );
    // It is in every format, with its rule's metadata.
    let sarif = json(kh_in(d).args(["scan", "--format", "sarif", "pod.yaml"]));
    assert_valid_sarif(&sarif);
    assert!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "exemption-expired")
    );
    kh_in(d)
        .args(["scan", "pod.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("exemption-expired"))
        .stdout(predicate::str::contains(".kubeharden.yaml:2:3"));
}

#[test]
fn config_errors_are_exit_2_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pod.yaml", TWO_CONTAINERS);
    for (config, message) in [
        (
            "version: 1\nfoo: bar\n",
            ".kubeharden.yaml:2:1: unknown key `foo`",
        ),
        (
            "disable: [container-privilegd]\n",
            ".kubeharden.yaml:1:11: no rule `container-privilegd`",
        ),
        (
            "severity: {container-privileged: severe}\n",
            "unknown severity `severe`",
        ),
        (
            "exemptions:\n- rule: container-privileged\n  name: p\n",
            "an exemption needs `reason`",
        ),
        (
            "exemptions:\n- {rule: container-privileged, name: p, reason: r, expires: 2024-02-30}\n",
            "`expires` must be a date",
        ),
        (
            "exemptions:\n- {rule: container-privileged, name: p, reason: r, containr: x}\n",
            "unknown key `containr`",
        ),
        ("exclude: ['[']\n", "invalid glob"),
        ("version: 2\n", "`version` must be 1"),
    ] {
        write(d, ".kubeharden.yaml", config);
        kh_in(d)
            .args(["scan", "pod.yaml"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    kh().args(["scan", "--config", "no/such/file.yaml", "examples"])
        .assert()
        .code(2);
    // A typo in --rules or --skip-rules is an error too.
    kh().args(["scan", "--skip-rules", "container-privilegd", "examples"])
        .assert()
        .code(2);
}

#[test]
fn config_init_writes_a_valid_commented_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kh_in(d).args(["config", "init"]).assert().success();
    let text = std::fs::read_to_string(d.join(".kubeharden.yaml")).unwrap();
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 10);
    kh_in(d).args(["config", "init"]).assert().code(2);
    kh_in(d)
        .args(["config", "init", "--force"])
        .assert()
        .success();
    kh_in(d)
        .args(["config", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".kubeharden.yaml: valid"));
    // Uncommenting the examples keeps it valid (the example ids are real rules).
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with("  ") => rest.to_owned(),
            _ => l.to_owned(),
        })
        .map(|l| {
            // `disable: []` and its example item cannot both stand; keep the block forms.
            for key in ["disable", "severity", "exclude", "exemptions"] {
                if l == format!("{key}: []") || l == format!("{key}: {{}}") {
                    return format!("{key}:");
                }
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(d, ".kubeharden.yaml", &uncommented);
    kh_in(d)
        .args(["config", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 exemptions"));
}

#[test]
fn per_container_annotation_and_show_suppressed() {
    let pod = TWO_CONTAINERS.replace(
        "  namespace: app\n",
        "  namespace: app\n  annotations:\n    kubeharden.io/ignore.sidecar: container-privileged\n    kubeharden.io/ignore-reason: sidecar needs it\n",
    );
    let v = json(
        kh().args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "--show-suppressed",
            "-",
        ])
        .write_stdin(pod.clone()),
    );
    let active = findings(&v, "container-privileged");
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["subject"]["container"], "main");
    let s = suppressed(&v, "container-privileged");
    assert_eq!(s[0]["subject"]["container"], "sidecar");
    assert_eq!(s[0]["suppressed_by"]["key"], "kubeharden.io/ignore.sidecar");
    assert_eq!(s[0]["suppressed_by"]["reason"], "sidecar needs it");
    // Without --show-suppressed they are counted, not listed.
    let v = json(
        kh().args(["scan", "--no-config", "--format", "json", "-"])
            .write_stdin(pod.clone()),
    );
    assert!(v.get("suppressed_findings").is_none());
    assert!(v["suppressed"].as_u64().unwrap() >= 1);
    kh().args(["scan", "--no-config", "--show-suppressed", "-"])
        .write_stdin(pod)
        .assert()
        .stdout(predicate::str::contains("Suppressed findings"))
        .stdout(predicate::str::contains(
            "suppressed by kubeharden.io/ignore.sidecar (sidecar needs it)",
        ));
    // A typo in an annotation's rule id is an input error.
    let typo = TWO_CONTAINERS.replace(
        "  namespace: app\n",
        "  namespace: app\n  annotations: {kubeharden.io/ignore: container-privilegd}\n",
    );
    kh().args(["scan", "--no-config", "-"])
        .write_stdin(typo)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "names no rule `container-privilegd`",
        ));
}

#[test]
fn foreign_suppression_keys_map_one_to_one() {
    let cases = [
        (
            "ignore-check.kube-linter.io/privileged-container: \"reviewed\"",
            "kube-linter",
        ),
        (
            "polaris.fairwinds.com/runAsPrivileged-exempt: \"true\"",
            "polaris",
        ),
        ("checkov.io/skip1: CKV_K8S_16=reviewed", "checkov"),
        (
            "kubescape.io/skip-controls: \"C-0057, C-0017\"",
            "kubescape",
        ),
        (
            "kube-score/ignore: container-security-context-privileged",
            "kube-score",
        ),
        ("polaris.fairwinds.com/exempt: \"true\"", "polaris"),
    ];
    for (annotation, source) in cases {
        let pod = TWO_CONTAINERS.replace(
            "  namespace: app\n",
            &format!("  namespace: app\n  annotations:\n    {annotation}\n"),
        );
        let v = json(
            kh().args([
                "scan",
                "--no-config",
                "--format",
                "json",
                "--show-suppressed",
                "-",
            ])
            .write_stdin(pod.clone()),
        );
        assert!(
            findings(&v, "container-privileged").is_empty(),
            "{annotation}"
        );
        let s = suppressed(&v, "container-privileged");
        assert_eq!(s.len(), 2, "{annotation}");
        assert_eq!(s[0]["suppressed_by"]["source"], source);
        let v = json(
            kh().args([
                "scan",
                "--no-config",
                "--format",
                "json",
                "--no-foreign-suppressions",
                "-",
            ])
            .write_stdin(pod),
        );
        assert_eq!(
            findings(&v, "container-privileged").len(),
            2,
            "{annotation}"
        );
    }
    // kube-linter's `host-network` does not silence a finding that also covers hostPID.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {ignore-check.kube-linter.io/host-network: x}\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: i}]\n";
    let v = json(
        kh().args(["scan", "--no-config", "--format", "json", "-"])
            .write_stdin(pod),
    );
    assert_eq!(findings(&v, "pod-host-namespaces").len(), 1);
    // An expired kubescape skip is not honoured.
    let pod = TWO_CONTAINERS.replace(
        "  namespace: app\n",
        "  namespace: app\n  annotations:\n    kubescape.io/skip-controls: C-0057\n    kubescape.io/skip-expiry: \"2020-01-01T00:00:00Z\"\n",
    );
    let v = json(
        kh().args(["scan", "--no-config", "--format", "json", "-"])
            .write_stdin(pod),
    );
    assert_eq!(findings(&v, "container-privileged").len(), 2);
    // The config can turn foreign keys off too.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".kubeharden.yaml",
        "foreignSuppressions: false\n",
    );
    let pod = TWO_CONTAINERS.replace(
        "  namespace: app\n",
        "  namespace: app\n  annotations: {checkov.io/skip1: CKV_K8S_16}\n",
    );
    let v = json(
        kh_in(dir.path())
            .args(["scan", "--format", "json", "-"])
            .write_stdin(pod),
    );
    assert_eq!(findings(&v, "container-privileged").len(), 2);
}

const APP: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nspec:\n  containers:\n  - {name: x, image: i, securityContext: {privileged: true}}\n  - {name: y, image: i}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: n}\nspec:\n  containers: [{name: z, image: i}]\n";

/// The same objects, moved down, documents and containers reordered; `a` fixed (not privileged),
/// `b` now uses hostPID.
const APP_LATER: &str = "# moved\n\n\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: n}\nspec:\n  hostPID: true\n  containers: [{name: z, image: i}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nspec:\n  containers:\n  - {name: y, image: i}\n  - {name: x, image: i}\n";

#[test]
fn baseline_marks_new_unchanged_and_fixed_and_survives_moves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let app = write(d, "app.yaml", APP);
    let old = d.join("old.json");
    std::fs::write(
        &old,
        stdout(
            kh().args(["scan", "--no-config", "--format", "json"])
                .arg(&app),
        ),
    )
    .unwrap();
    // Unchanged input: everything unchanged; --fail-on-new passes although findings remain.
    kh().args(["scan", "--no-config", "--fail-on-new", "--baseline"])
        .arg(&old)
        .arg(&app)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(" 0 new,"));
    // Moved and reordered: the same findings are unchanged, not new.
    let moved = APP_LATER.replace("  hostPID: true\n", "").replace(
        "{name: x, image: i}",
        "{name: x, image: i, securityContext: {privileged: true}}",
    );
    write(d, "app.yaml", &moved);
    let v = json(
        kh().args(["scan", "--no-config", "--format", "json", "--baseline"])
            .arg(&old)
            .arg(&app),
    );
    assert_eq!(v["baseline"]["new"], 0, "{}", v["findings"]);
    assert!(v["baseline"]["fixed"].as_array().unwrap().is_empty());
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["baseline"] == "unchanged")
    );
    // Fixed and new.
    write(d, "app.yaml", APP_LATER);
    let v = json(
        kh().args(["scan", "--no-config", "--format", "json", "--baseline"])
            .arg(&old)
            .arg(&app),
    );
    let host = findings(&v, "pod-host-namespaces");
    assert_eq!(host[0]["baseline"], "new");
    let fixed = v["baseline"]["fixed"].as_array().unwrap();
    assert!(fixed.iter().any(|f| f["rule"] == "container-privileged"));
    assert_eq!(
        v["baseline"]["new"].as_u64().unwrap() as usize,
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["baseline"] == "new")
            .count()
    );
    kh().args(["scan", "--no-config", "--fail-on-new", "--baseline"])
        .arg(&old)
        .arg(&app)
        .assert()
        .code(1);
    // Only new findings at or above --fail-on count.
    kh().args([
        "scan",
        "--no-config",
        "--fail-on-new",
        "--fail-on",
        "critical",
        "--baseline",
    ])
    .arg(&old)
    .arg(&app)
    .assert()
    .code(0);
    // The HTML and Markdown show the comparison.
    let md = stdout(
        kh().args(["scan", "--no-config", "--format", "markdown", "--baseline"])
            .arg(&old)
            .arg(&app),
    );
    assert!(md.contains("Fixed since the baseline"));
    assert!(md.contains("🆕 new"));
    // kubeharden diff.
    let new = d.join("new.json");
    std::fs::write(
        &new,
        stdout(
            kh().args(["scan", "--no-config", "--format", "json"])
                .arg(&app),
        ),
    )
    .unwrap();
    kh().arg("diff")
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "+ new   high     pod-host-namespaces",
        ))
        .stdout(predicate::str::contains(
            "- fixed critical container-privileged",
        ));
    kh().arg("diff").arg(&old).arg(&old).assert().code(0);
    let v = json(kh().args(["diff", "--format", "json"]).arg(&old).arg(&new));
    assert!(!v["new"].as_array().unwrap().is_empty());
    // --fail-on-new needs --baseline; a bad baseline is a usage error.
    kh().args(["scan", "--fail-on-new", "examples"])
        .assert()
        .code(2);
    kh().args(["scan", "--baseline"])
        .arg(&app)
        .arg(&app)
        .assert()
        .code(2);
}

#[test]
fn an_empty_scan_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    kh().args(["scan", "--no-config"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "no Kubernetes objects were scanned",
        ));
    kh().args(["scan", "--no-config", "--allow-empty"])
        .arg(dir.path())
        .assert()
        .code(0);
    kh().args(["scan", "--no-config", "-"])
        .write_stdin("just: some yaml\n")
        .assert()
        .code(2);
}
