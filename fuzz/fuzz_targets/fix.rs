#![no_main]
//! See `crates/engine/tests/fuzz_checks/mod.rs` for what is checked.

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../../crates/engine/tests/fuzz_checks/mod.rs"]
#[allow(dead_code)]
mod checks;

/// `fix` reads files: one private directory per fuzzing process.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubeharden-fuzz-fix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| checks::fix(data, dir()));
