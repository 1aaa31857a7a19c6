#![no_main]
//! See `crates/engine/tests/fuzz_checks/mod.rs` for what is checked.

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/fuzz_checks/mod.rs"]
#[allow(dead_code)]
mod checks;

fuzz_target!(|data: &[u8]| checks::loader(data));
