//! Embeds the fire/pass fixture of every rule (`tests/fixtures/rules/<rule-id>/{fire,pass}.yaml`)
//! as its examples: writes `$OUT_DIR/rule_examples.rs`, a table sorted by rule id that
//! `src/rules/examples.rs` includes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=tests/fixtures/rules");
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("tests/fixtures/rules");
    let mut entries: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    // No fixtures (a packaged crate without its tests): no examples.
    if let Ok(read) = std::fs::read_dir(&dir) {
        for entry in read {
            let path = entry.expect("read tests/fixtures/rules").path();
            let (fire, pass) = (path.join("fire.yaml"), path.join("pass.yaml"));
            if !(fire.is_file() && pass.is_file()) {
                continue;
            }
            let id = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a rule id is UTF-8")
                .to_owned();
            entries.push((id, fire, pass));
        }
    }
    entries.sort();
    let mut out = String::from("&[\n");
    for (id, fire, pass) in &entries {
        writeln!(
            out,
            "    ({id:?}, Examples {{ fire: include_str!({}), pass: include_str!({}) }}),",
            literal(fire),
            literal(pass)
        )
        .unwrap();
    }
    out.push_str("]\n");
    let dest =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("rule_examples.rs");
    std::fs::write(dest, out).expect("write rule_examples.rs");
}

/// A Rust string literal of the path.
fn literal(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("fixture paths are UTF-8"))
}
