//! The HTML audit report in a real browser: headless Chromium renders it (with its script), takes a
//! screenshot, and the DOM after the script ran is checked. Skipped (with a message) when Chromium
//! is not installed, unless KUBEHARDEN_REQUIRE_BROWSER=1 (set by .ci/run, which installs it).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join(name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|p| p.is_file())
}

/// Runs Chromium with its output in files (a pipe would fill up and block it), bounded in time.
/// Returns (stdout, stderr).
fn run_chromium(browser: &Path, profile: &Path, args: &[String]) -> (String, String) {
    let out_path = profile.with_extension("out");
    let err_path = profile.with_extension("err");
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    // Bounded: a hung browser fails the test instead of the CI run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s: {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    (read(&out_path), read(&err_path))
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("KUBEHARDEN_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("KUBEHARDEN_REQUIRE_BROWSER=1 but chromium is not installed");
        }
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    Command::cargo_bin("kubeharden")
        .unwrap()
        .current_dir(root())
        .args(["scan", "--no-config", "--format", "json", "--output"])
        .arg(format!("html={}", report.display()))
        .args(["examples/insecure-app", "examples/hardened-app"])
        .assert()
        .code(1);
    let json = Command::cargo_bin("kubeharden")
        .unwrap()
        .current_dir(root())
        .args([
            "scan",
            "--no-config",
            "--format",
            "json",
            "examples/insecure-app",
            "examples/hardened-app",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap().len();
    let rules = Command::cargo_bin("kubeharden")
        .unwrap()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&rules.stdout).unwrap();

    let url = format!("file://{}", report.display());
    let shot = dir.path().join("report.png");
    let (_, stderr) = run_chromium(
        &browser,
        &dir.path().join("profile-shot"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_owned(),
            url.clone(),
        ],
    );
    let png = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said: {stderr}"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() > 20_000, "a page was drawn ({} bytes)", png.len());

    let (dom, _) = run_chromium(
        &browser,
        &dir.path().join("profile-dom"),
        &["--dump-dom".to_owned(), url],
    );
    assert!(
        dom.contains(&format!("<span id=\"rules-run\">{}</span>", rules.len())),
        "the rule count is in the DOM"
    );
    assert!(
        dom.contains("data-rule=\"container-privileged\""),
        "a known finding is in the DOM"
    );
    assert!(dom.contains("privileged: yes"), "with its snippet");
    // Text the report's script writes after load: it ran.
    assert!(
        dom.contains(&format!("Showing {findings} of {findings} findings")),
        "the filter script ran: {}",
        dom.lines()
            .find(|l| l.contains("id=\"shown\""))
            .unwrap_or("")
    );
}
