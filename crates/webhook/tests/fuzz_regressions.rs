//! Inputs that once failed the `admission` and `webhook` fuzz targets (`fuzz/`), minimized, run
//! through the same checks (`fuzz_checks`): `tests/data/fuzz-regressions/<target>/*`.

mod fuzz_checks;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
}

/// `webhook`: the request path of `POST /validate` end to end. `control-chars.json` (an image
/// name with ESC and BEL) once put raw control characters into the warnings.
#[test]
fn webhook_regressions() {
    let paths = inputs("webhook");
    assert!(!paths.is_empty(), "no regression input for `webhook`");
    for p in paths {
        let data = std::fs::read(&p).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzz_checks::webhook(&data));
        assert!(outcome.is_ok(), "{} fails again", p.display());
    }
}

#[test]
fn admission_regressions() {
    let paths = inputs("admission");
    let tmp = tempfile::tempdir().unwrap();
    for p in paths {
        let data = std::fs::read(&p).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fuzz_checks::admission(&data, tmp.path())
        }));
        assert!(outcome.is_ok(), "{} fails again", p.display());
    }
}
