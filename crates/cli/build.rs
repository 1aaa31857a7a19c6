//! Records the git commit the binary is built from (`kubeharden version`, `--version`).
//! `KUBEHARDEN_GIT_COMMIT` overrides it (builds from a source tarball); outside a git checkout and
//! without the override it is `unknown`.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=KUBEHARDEN_GIT_COMMIT");
    let commit = std::env::var("KUBEHARDEN_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KUBEHARDEN_GIT_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=KUBEHARDEN_TARGET={target}");
}

fn git_commit() -> Option<String> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(&manifest_dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let git_dir = Path::new(&manifest_dir).join(String::from_utf8(out.stdout).ok()?.trim());
    // Rebuild when the checked-out commit moves (HEAD, the branch it points to, packed refs).
    // (Only files that exist: a missing one would rerun this script on every build.)
    let mut watch = vec![git_dir.join("HEAD"), git_dir.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        watch.push(git_dir.join(r));
    }
    for f in watch.iter().filter(|f| f.exists()) {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&manifest_dir)
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}
