//! Which files a scan reads: the paths given, and the manifests under the directories given.

use crate::source::{DiagLevel, Diagnostic};
use std::path::{Path, PathBuf};

/// Is this a file the directory walk scans?
pub fn is_manifest_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expands paths: files as given; directories walked recursively, honouring .gitignore / .ignore,
/// keeping `.yaml`, `.yml` and `.json`. Sorted for deterministic output. Directories that hold a
/// `kustomization.yaml` are reported in `kustomize_roots` (the caller decides to render them).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        if p.is_file() {
            files.push(p.clone());
            continue;
        }
        if !p.exists() {
            diags.push(Diagnostic::new(
                DiagLevel::Error,
                &p.display().to_string(),
                None,
                "no such file or directory",
            ));
            continue;
        }
        let walker = ignore::WalkBuilder::new(p)
            .require_git(false)
            .hidden(true)
            .build();
        for entry in walker {
            match entry {
                Ok(e)
                    if e.file_type().is_some_and(|t| t.is_file()) && is_manifest_path(e.path()) =>
                {
                    files.push(e.into_path());
                }
                Ok(_) => {}
                Err(e) => diags.push(Diagnostic::new(
                    DiagLevel::Error,
                    &p.display().to_string(),
                    None,
                    e.to_string(),
                )),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, diags)
}
