//! The HTML audit report's layout in headless Chromium (issue 23): screenshots at 1400 px and
//! 800 px and a print to PDF, and the DOM after the script ran (executive summary, scope, posture
//! score, "how to complete this audit", code spans, one page of findings shown). Skipped with a
//! message when Chromium is not installed, unless KUBEHARDEN_REQUIRE_BROWSER=1.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless, output to files, bounded in time; its stdout.
fn chrome(browser: &Path, profile: &Path, args: &[String]) -> String {
    let out = profile.with_extension("out");
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default()).into_owned()
}

#[test]
fn html_report_lays_out_at_two_widths_and_in_print() {
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
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(["scan", "--no-config", "-q", "--output"])
        .arg(format!("html={}", report.display()))
        .args(["examples/insecure-app", "examples/hardened-app"])
        .assert()
        .code(1);
    let url = format!("file://{}", report.display());
    // Kept for a look (KUBEHARDEN_SCREENSHOTS=DIR), else in the temporary directory.
    let shots = std::env::var_os("KUBEHARDEN_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&shots).unwrap();
    for width in [1400, 800] {
        let png = shots.join(format!("report-{width}.png"));
        chrome(
            &browser,
            &dir.path().join(format!("profile-{width}")),
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={width},2400"),
                url.clone(),
            ],
        );
        let bytes = std::fs::read(&png).expect("a screenshot");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        // The PNG's width is the window's: nothing forced the page wider.
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(w, width);
        assert!(bytes.len() > 20_000, "a page was drawn");
    }
    let pdf = shots.join("report-print.pdf");
    chrome(
        &browser,
        &dir.path().join("profile-print"),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_owned(),
            url.clone(),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF"));

    let dom = chrome(
        &browser,
        &dir.path().join("profile-dom"),
        &["--dump-dom".to_owned(), url],
    );
    assert!(
        dom.contains(
            "<p class=\"summary-text\" id=\"executive-summary\">On 2026-01-01, kubeharden"
        ),
        "executive summary"
    );
    assert!(dom.contains(
        "Fix first: <code>anonymous-or-unauthenticated-binding</code> (critical, 1 finding)"
    ));
    assert!(dom.contains("<dt>Inputs</dt><dd><code>examples/hardened-app/app.yaml</code>, <code>examples/insecure-app/app.yaml</code></dd>"));
    assert!(dom.contains("<span class=\"posture\" id=\"posture\">4/100</span>"));
    assert!(
        dom.contains("<details id=\"howto\">"),
        "how to complete this audit"
    );
    assert!(
        dom.contains("<summary>container \"web\" sets <code>privileged: true</code></summary>"),
        "backticks are code"
    );
    assert!(dom.contains("Showing 28 of 28 findings"), "the script ran");
    assert!(
        !dom.contains("</span>\n<span"),
        "snippet lines are not separated by an extra newline"
    );
}
