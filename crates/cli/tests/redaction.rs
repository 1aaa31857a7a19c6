//! No secret value in any output: `tests/data/redaction/secrets.yaml` holds canary secrets in every
//! form the redaction knows (env values by name, flow and block style, a command-line flag, a
//! Secret's `stringData` and base64 `data` with their `last-applied-configuration` copy, an
//! embedded config file, a URL with a password, a bearer token, a private key, a GitHub token, a
//! docker config's `auth`, a suppressed finding's env value). Every format (text, JSON, SARIF,
//! HTML, Markdown, JUnit, PolicyReport), stdin, `--show-suppressed`, a baseline that quotes a
//! secret (as a report of an older version could), `diff` and `fix --diff` are checked byte for
//! byte for every canary, while the findings about the secrets are still reported.
//! (The webhook's AdmissionReview responses: `crates/webhook/tests/redaction.rs`.)

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every canary value of the input, and the base64 one as written.
const CANARIES: &[&str] = &[
    "zqCANARYlastapplied01",
    "zqCANARYarg0002",
    "AKIAZQCANARY7Q3X2ZPL",
    "zqCANARYwJalrXUtnFEMIK7MDENGbPxRfiCY0003",
    "zqCANARYblock0004",
    "zqCANARYsecret0005",
    "zqCANARYini0006",
    "enFDQU5BUlliNjRkYXRhMDAwNw==",
    "zqCANARYb64data0007",
    "zqCANARYurl0008",
    "zqCANARYprops0009",
    "zqCANARYbearer0010abcdef",
    "ghp_zqCANARY0011q8Xw2Lp9Rt4Vb7Nc1Mz6Ky3Hd",
    "zqCANARYpem0012MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "zqCANARYdocker0013dXNlcjpw",
    "zqCANARYsuppressed0014",
    "zqCANARYbaseline0015",
];

fn input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/redaction/secrets.yaml")
}

fn kubeharden() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

/// Fails naming the output and the canary, with the line that leaks it.
#[track_caller]
fn assert_no_secret(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for canary in CANARIES.iter().copied().chain(["CANARY"]) {
        if let Some(line) = text.lines().find(|l| l.contains(canary)) {
            panic!("{what} copies the secret value {canary}: {line}");
        }
    }
}

/// The findings about the secrets: (rule, kind, name, line, message).
fn secret_findings(report: &Value) -> Vec<(String, String, String, u64, String)> {
    let mut out: Vec<_> = ["findings", "suppressed_findings"]
        .iter()
        .flat_map(|k| report[k].as_array().cloned().unwrap_or_default())
        .filter(|f| {
            matches!(
                f["rule"].as_str().unwrap(),
                "hardcoded-credential-in-env"
                    | "secret-values-in-manifest"
                    | "credential-in-config-data"
            )
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["subject"]["kind"].as_str().unwrap().to_owned(),
                f["subject"]["name"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn expected_findings() -> Vec<(String, String, String, u64, String)> {
    let high = "secret-looking value (sensitive name, high-entropy value)";
    let mut v: Vec<(String, String, String, u64, String)> = [
        ("hardcoded-credential-in-env", "Deployment", "billing", 18, format!("container \"billing\" passes a credential on its command line (args[0]: {high})")),
        ("hardcoded-credential-in-env", "Deployment", "billing", 20, "container \"billing\" sets `AWS_ACCESS_KEY_ID` to a literal AWS access key id".to_owned()),
        ("hardcoded-credential-in-env", "Deployment", "billing", 21, format!("container \"billing\" sets `AWS_SECRET_ACCESS_KEY` to a literal {high}")),
        ("hardcoded-credential-in-env", "Deployment", "billing", 23, format!("container \"billing\" sets `API_TOKEN` to a literal {high}")),
        ("hardcoded-credential-in-env", "Pod", "batch", 81, format!("container \"batch\" sets `SMTP_PASSWORD` to a literal {high}")),
        ("secret-values-in-manifest", "Secret", "db", 35, "Secret \"db\" repeats its values in the last-applied-configuration annotation".to_owned()),
        ("secret-values-in-manifest", "Secret", "db", 38, "Secret \"db\" holds values in `stringData` (password, config.ini)".to_owned()),
        ("secret-values-in-manifest", "Secret", "db", 44, "Secret \"db\" holds values in `data` (api-key)".to_owned()),
        ("secret-values-in-manifest", "Secret", "regcred", 65, "Secret \"regcred\" holds registry credentials in `stringData` (.dockerconfigjson)".to_owned()),
        ("credential-in-config-data", "ConfigMap", "settings", 51, "ConfigMap \"settings\" key `DATABASE_URL` holds a URL with an embedded password".to_owned()),
        ("credential-in-config-data", "ConfigMap", "settings", 52, format!("ConfigMap \"settings\" key `app.properties` sets `spring.datasource.password` (its line 1) to a {high}")),
        ("credential-in-config-data", "ConfigMap", "settings", 55, "ConfigMap \"settings\" key `tls.key` contains a private key".to_owned()),
        ("credential-in-config-data", "ConfigMap", "settings", 59, format!("ConfigMap \"settings\" key `GITHUB_TOKEN` holds a {high}")),
    ]
    .into_iter()
    .map(|(r, k, n, l, m)| (r.to_owned(), k.to_owned(), n.to_owned(), l, m))
    .collect();
    v.sort();
    v
}

#[test]
fn no_format_copies_a_secret_value_and_the_secrets_are_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, PathBuf)> = ["sarif", "html", "markdown", "junit", "policyreport"]
        .iter()
        .map(|f| (*f, dir.path().join(format!("report.{f}"))))
        .collect();
    let mut scan = kubeharden();
    scan.arg("scan").arg("--show-suppressed").arg(input());
    for (format, path) in &files {
        scan.arg("-o").arg(format!("{format}={}", path.display()));
    }
    let text = scan.output().unwrap();
    assert_eq!(text.status.code(), Some(1));
    assert_no_secret("the text report", &text.stdout);
    assert_no_secret("stderr", &text.stderr);
    for (format, path) in &files {
        let bytes = std::fs::read(path).unwrap();
        assert_no_secret(format, &bytes);
        let body = String::from_utf8(bytes).unwrap();
        for rule in [
            "hardcoded-credential-in-env",
            "secret-values-in-manifest",
            "credential-in-config-data",
        ] {
            assert!(body.contains(rule), "{format} lost the findings of {rule}");
        }
    }

    let json = kubeharden()
        .args(["scan", "--show-suppressed", "--format", "json"])
        .arg(input())
        .output()
        .unwrap();
    assert_no_secret("the JSON report", &json.stdout);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(secret_findings(&report), expected_findings());

    // What the snippets show instead: the first characters and the length.
    let snippet_of = |line: u64| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["location"]["line"] == line)
            .unwrap()["snippet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        snippet_of(21),
        [
            "        env:",
            "        - {name: AWS_ACCESS_KEY_ID, value: AKIA…(20 chars)}",
            "        - {name: AWS_SECRET_ACCESS_KEY, value: zqCA…(40 chars)}",
        ]
    );
    assert_eq!(
        snippet_of(51),
        [
            "metadata: {name: settings, namespace: pay}",
            "data:",
            "  DATABASE_URL: postgres://admin:zq…(15 chars)@db.pay.svc:5432/billing",
        ]
    );

    // Stdin is the same door.
    let stdin = kubeharden()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(std::fs::read(input()).unwrap())
        .output()
        .unwrap();
    assert_no_secret("the JSON report of stdin", &stdin.stdout);
    let from_stdin: Value = serde_json::from_slice(&stdin.stdout).unwrap();
    assert_eq!(
        from_stdin["findings"].as_array().unwrap().len(),
        report["findings"].as_array().unwrap().len()
    );
}

#[test]
fn a_baseline_that_quotes_a_secret_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let json = kubeharden()
        .args(["scan", "--format", "json"])
        .arg(input())
        .output()
        .unwrap();
    let mut old: Value = serde_json::from_slice(&json.stdout).unwrap();
    // A finding gone since, whose message (written by an older version, or by a custom policy)
    // quoted a secret value.
    let mut gone = old["findings"][0].clone();
    gone["fingerprint"] = "00000000deadbeef".into();
    gone["message"] = "env DB_PASSWORD=zqCANARYbaseline0015 is set".into();
    old["findings"].as_array_mut().unwrap().push(gone);
    let baseline = dir.path().join("old.json");
    std::fs::write(&baseline, serde_json::to_vec(&old).unwrap()).unwrap();

    let html = dir.path().join("r.html");
    let md = dir.path().join("r.md");
    let text = kubeharden()
        .arg("scan")
        .arg("--baseline")
        .arg(&baseline)
        .arg("-o")
        .arg(format!("html={}", html.display()))
        .arg("-o")
        .arg(format!("markdown={}", md.display()))
        .arg(input())
        .output()
        .unwrap();
    assert_no_secret("the text report with a baseline", &text.stdout);
    assert_no_secret(
        "the HTML report with a baseline",
        &std::fs::read(&html).unwrap(),
    );
    assert_no_secret(
        "the Markdown report with a baseline",
        &std::fs::read(&md).unwrap(),
    );
    let json = kubeharden()
        .args(["scan", "--format", "json", "--baseline"])
        .arg(&baseline)
        .arg(input())
        .output()
        .unwrap();
    assert_no_secret("the JSON report with a baseline", &json.stdout);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        report["baseline"]["fixed"][0]["message"],
        "env DB_PASSWORD=zqCA…(20 chars) is set"
    );

    let new = dir.path().join("new.json");
    std::fs::write(&new, &json.stdout).unwrap();
    for format in ["text", "json"] {
        let diff = kubeharden()
            .args(["diff", "--format", format])
            .arg(&baseline)
            .arg(&new)
            .output()
            .unwrap();
        assert_no_secret(&format!("`diff --format {format}`"), &diff.stdout);
        assert!(String::from_utf8_lossy(&diff.stdout).contains("zqCA…(20 chars)"));
    }
}

#[test]
fn fix_diff_leaves_secret_lines_out_of_its_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(input(), dir.path().join("secrets.yaml")).unwrap();
    let out = kubeharden()
        .current_dir(dir.path())
        .args(["fix", "--diff", "secrets.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_no_secret("`fix --diff`", &out.stdout);
    assert_no_secret("the report of `fix --diff`", &out.stderr);
    let patch = String::from_utf8(out.stdout).unwrap();
    // The privileged container's hunk starts after its `value:` line, which shows a secret; the
    // Pod's hunk, right after its secret env value, has no context at all.
    let hunk = patch
        .split("\n@@ ")
        .find(|h| h.starts_with("-26,"))
        .expect(&patch);
    assert_eq!(
        hunk.lines().nth(1),
        Some("         securityContext:"),
        "{patch}"
    );
    assert!(patch.contains("@@ -81,0 +"), "{patch}");
}
