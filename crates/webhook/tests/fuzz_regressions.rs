//! AdmissionReview bodies that once crashed the `admission` fuzz target (`fuzz/`), minimized, run
//! through the same checks (`fuzz_checks`): `tests/data/fuzz-regressions/admission/*`.

mod fuzz_checks;

use std::path::{Path, PathBuf};

#[test]
fn admission_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions/admission");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let tmp = tempfile::tempdir().unwrap();
    for p in paths {
        let data = std::fs::read(&p).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fuzz_checks::admission(&data, tmp.path())
        }));
        assert!(outcome.is_ok(), "{} fails again", p.display());
    }
}
