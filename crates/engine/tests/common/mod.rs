//! What the integration tests share: the shared corpus, found by `KUBEHARDEN_CORPUS` (default
//! `../shared/corpus` beside the repository).

use std::path::{Path, PathBuf};

/// `sub` of the shared corpus (`""` for the corpus itself), or `None` (the test is skipped) when it
/// is absent, unless `KUBEHARDEN_REQUIRE_CORPUS=1` (CI), which makes its absence a failure.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let root = match std::env::var_os("KUBEHARDEN_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let dir = root.join(sub);
    if dir.exists() {
        Some(dir)
    } else if std::env::var("KUBEHARDEN_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("corpus not found at {}", dir.display());
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}
