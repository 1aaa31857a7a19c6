#![no_main]
//! The webhook's request path end to end: any bytes as the body of `POST /validate`, through the
//! router's handler (`server::validate`). See `crates/webhook/tests/fuzz_checks/mod.rs`
//! (`webhook`) for what is checked.

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/webhook/tests/fuzz_checks/mod.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::webhook(data));
