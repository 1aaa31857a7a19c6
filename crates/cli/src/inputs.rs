//! Turns command-line paths into scan inputs: stdin, files, directories, kustomizations.

use anyhow::Result;
use kubeharden_engine::load::Input;
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Reads `-` from stdin; expands directories; renders kustomization directories when `kustomize`
/// is set and a renderer (`kustomize` or `kubectl`) is installed.
pub fn gather(paths: &[PathBuf], kustomize: bool) -> Result<(Vec<Input>, Vec<Diagnostic>)> {
    let mut inputs = Vec::new();
    let mut diagnostics = Vec::new();
    let mut plain = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin().lock().read_to_end(&mut bytes)?;
            inputs.push(Input::Bytes {
                name: "<stdin>".into(),
                bytes: Arc::from(bytes),
            });
        } else {
            plain.push(path.clone());
        }
    }
    let (files, diags) = kubeharden_engine::load::expand_paths(&plain);
    diagnostics.extend(diags);
    let roots: Vec<PathBuf> = if kustomize {
        kustomization_roots(&files, &plain)
    } else {
        Vec::new()
    };
    let mut rendered_roots: Vec<PathBuf> = Vec::new();
    for root in &roots {
        match render_kustomization(root) {
            Ok(bytes) => {
                let sources: Vec<PathBuf> = files
                    .iter()
                    .filter(|f| f.starts_with(root))
                    .cloned()
                    .collect();
                inputs.push(Input::Rendered {
                    name: format!("{} (kustomize build)", root.display()),
                    bytes: Arc::from(bytes),
                    sources,
                });
                rendered_roots.push(root.clone());
            }
            Err(message) => diagnostics.push(Diagnostic::new(
                DiagLevel::Warning,
                &root.display().to_string(),
                None,
                format!("{message}; scanning its files unrendered"),
            )),
        }
    }
    inputs.extend(
        files
            .into_iter()
            .filter(|f| !rendered_roots.iter().any(|r| f.starts_with(r)))
            .map(Input::File),
    );
    Ok((inputs, diagnostics))
}

/// Directories (walked, not named as files) that hold a kustomization file.
fn kustomization_roots(files: &[PathBuf], given: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = files
        .iter()
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
        })
        .filter(|f| !given.contains(f))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    // Directories named `Kustomization` without extension are not in `files`; check given dirs too.
    for dir in given.iter().filter(|d| d.is_dir()) {
        if KUSTOMIZATION_FILES.iter().any(|k| dir.join(k).is_file()) && !roots.contains(dir) {
            roots.push(dir.clone());
        }
    }
    roots.sort();
    roots.dedup();
    roots
}

fn render_kustomization(dir: &Path) -> Result<Vec<u8>, String> {
    let attempts: [(&str, &[&str]); 2] = [("kustomize", &["build"]), ("kubectl", &["kustomize"])];
    let mut last_error =
        String::from("neither `kustomize` nor `kubectl` is installed to render this kustomization");
    for (program, args) in attempts {
        match Command::new(program).args(args).arg(dir).output() {
            Ok(out) if out.status.success() => return Ok(out.stdout),
            Ok(out) => {
                last_error = format!(
                    "`{program} {} {}` failed: {}",
                    args.join(" "),
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                break;
            }
            Err(_) => continue,
        }
    }
    Err(last_error)
}
