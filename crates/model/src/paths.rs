//! Which files a scan reads: the paths given, and the manifests under the directories given.
//!
//! A directory is read as `kubectl apply -R -f DIR` reads it: every `.yaml`, `.yml` and `.json`
//! file at any depth, dotfiles included, files named in `.gitignore` or `.ignore` included (a CI
//! gate must not let the author of the input hide a manifest from it), symbolic links followed.
//! Only the contents of `.git/` are left out. Whatever could not be read is named in a diagnostic.

use crate::source::{DiagLevel, Diagnostic};
use std::fs::FileType;
use std::path::{Path, PathBuf};

/// Is this a file the directory walk scans?
pub fn is_manifest_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "tf")
    )
}

/// What a file that is neither a regular file nor a directory is, for diagnostics.
/// Files whose name says they hold a credential: private keys (`*.pem`, `*.key`, `id_rsa`…),
/// Docker registry configs and kubeconfigs. A directory walk reads them too (never as
/// manifests: only for the credential they may hold), as secret scanners do.
pub fn is_credential_path(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    matches!(
        name,
        "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | ".dockercfg"
            | ".dockerconfigjson"
            | "kubeconfig"
    ) || matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pem" | "key" | "kubeconfig")
    )
}

pub fn special_kind(t: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Expands paths: every path that is not a directory is kept as given (regular files, and streams
/// such as FIFOs, process substitutions (`/dev/fd/N`), `/dev/stdin` and character devices,
/// which the caller reads whole); directories are walked recursively, following symbolic links (a link
/// back to one of its own ancestors is reported as a loop and not followed again), keeping the
/// regular `.yaml`, `.yml` and `.json` files, dotfiles included, `.gitignore` and `.ignore` not
/// honoured, `.git/` left out; and the files named like keys or credentials
/// ([`is_credential_path`]), which the loader reads only for what they hold. A manifest-named entry that cannot be read (a dangling link, a
/// FIFO or a device inside a directory, a directory without permission) is an error diagnostic
/// naming it. Sorted for deterministic output (`Path` order: component by component).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, &mut diags),
            Ok(_) => files.push(p.clone()),
            Err(e) => diags.push(Diagnostic::new(
                DiagLevel::Error,
                &p.display().to_string(),
                None,
                if e.kind() == std::io::ErrorKind::NotFound {
                    if p.is_symlink() {
                        "broken symbolic link (its target does not exist); not read".to_owned()
                    } else {
                        "no such file or directory".to_owned()
                    }
                } else {
                    format!("cannot read: {e}")
                },
            )),
        }
    }
    // One directory's walk comes sorted already: each directory's entries are taken in name
    // order, depth first, which is `Path` order. Sorting 1,440 paths again by `Path::cmp` (it
    // splits both paths into components at every comparison) was most of the directory walk's
    // time, serial at the start of a scan.
    if paths.len() > 1 {
        files.sort();
        files.dedup();
    }
    debug_assert!(files.is_sorted(), "the walk yields paths in Path order");
    (files, diags)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let walker = ignore::WalkBuilder::new(dir)
        // No hidden-file, .gitignore, .ignore or git-exclude filtering: kubectl applies them all.
        .standard_filters(false)
        .follow_links(true)
        .filter_entry(|e| e.file_name() != ".git")
        // Name order within each directory: the walk then yields `Path` order (see above).
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let Some(t) = e.file_type() else { continue };
                if t.is_dir() || !(is_manifest_path(e.path()) || is_credential_path(e.path())) {
                    continue;
                }
                if t.is_file() {
                    files.push(e.into_path());
                } else {
                    diags.push(Diagnostic::new(
                        DiagLevel::Error,
                        &e.path().display().to_string(),
                        None,
                        format!(
                            "{}, not a regular file; not read (only regular files are read from a directory; name it on the command line to read it)",
                            special_kind(&t)
                        ),
                    ));
                }
            }
            Err(err) => diags.extend(walk_error(dir, err)),
        }
    }
}

/// The diagnostic of a walk error, or none for an unreadable entry the walk would not have read
/// anyway (a dangling link without a manifest name).
fn walk_error(dir: &Path, err: ignore::Error) -> Option<Diagnostic> {
    let mut path: Option<PathBuf> = None;
    let mut e = &err;
    loop {
        match e {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| p.clone());
                e = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                e = err;
            }
            _ => break,
        }
    }
    let name = |p: &Path| p.display().to_string();
    match e {
        ignore::Error::Loop { ancestor, child } => Some(Diagnostic::new(
            DiagLevel::Warning,
            &name(child),
            None,
            format!(
                "symbolic link loop: leads back to {}, which is scanned once; not followed again",
                ancestor.display()
            ),
        )),
        ignore::Error::Io(io)
            if io.kind() == std::io::ErrorKind::NotFound
                && path.as_deref().is_some_and(Path::is_symlink) =>
        {
            let p = path.expect("checked above");
            is_manifest_path(&p).then(|| {
                Diagnostic::new(
                    DiagLevel::Error,
                    &name(&p),
                    None,
                    "broken symbolic link (its target does not exist); not read",
                )
            })
        }
        ignore::Error::Io(io) => Some(Diagnostic::new(
            DiagLevel::Error,
            &name(path.as_deref().unwrap_or(dir)),
            None,
            format!("cannot read: {io}"),
        )),
        other => Some(Diagnostic::new(
            DiagLevel::Error,
            &name(path.as_deref().unwrap_or(dir)),
            None,
            other.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kh-paths-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn one_directory_is_walked_in_path_order_and_several_are_merged() {
        // Names where byte order and `Path` order part: `a.yaml` sorts before `a/…` by bytes
        // ('.' < '/') but after it by components (`a` < `a.yaml`); upper case before lower.
        let d = tempdir("order");
        for f in [
            "a.yaml",
            "a/z.yaml",
            "a/b/c.yaml",
            "a-b.yaml",
            "B.yaml",
            "a0/x.json",
            "ab.yml",
        ] {
            let path = d.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "a: 1").unwrap();
        }
        let names = |files: &[PathBuf]| -> Vec<String> {
            files
                .iter()
                .map(|f| f.strip_prefix(&d).unwrap().display().to_string())
                .collect()
        };
        let (files, diags) = expand_paths(std::slice::from_ref(&d));
        assert!(diags.is_empty(), "{diags:?}");
        let expected = [
            "B.yaml",
            "a/b/c.yaml",
            "a/z.yaml",
            "a-b.yaml",
            "a.yaml",
            "a0/x.json",
            "ab.yml",
        ];
        assert_eq!(names(&files), expected);
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
        // Two roots, one inside the other and named first: merged in `Path` order, once each.
        let (files, diags) = expand_paths(&[d.join("a"), d.clone()]);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(names(&files), expected);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_what_kubectl_applies() {
        let d = tempdir("walk");
        std::fs::write(d.join(".hidden.yaml"), "a: 1").unwrap();
        std::fs::write(d.join("ignored.yaml"), "a: 1").unwrap();
        std::fs::write(d.join(".gitignore"), "ignored.yaml\n").unwrap();
        std::fs::write(d.join(".ignore"), "*.json\n").unwrap();
        std::fs::write(d.join("x.json"), "{}").unwrap();
        std::fs::write(d.join("README.md"), "").unwrap();
        std::fs::create_dir_all(d.join(".git/refs")).unwrap();
        std::fs::write(d.join(".git/refs/in-git.yaml"), "a: 1").unwrap();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join(".hidden.yaml"), d.join("sub/link.yaml")).unwrap();
        std::os::unix::fs::symlink(&d, d.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere.yaml"), d.join("dangling.yaml")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling-other")).unwrap();
        let (files, diags) = expand_paths(std::slice::from_ref(&d));
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&d).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [".hidden.yaml", "ignored.yaml", "sub/link.yaml", "x.json"],
            "{diags:?}"
        );
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().any(|x| x.level == DiagLevel::Warning
            && x.origin.ends_with("sub/loop")
            && x.message.contains("loop")));
        assert!(diags.iter().any(|x| x.level == DiagLevel::Error
            && x.origin.ends_with("dangling.yaml")
            && x.message.contains("broken symbolic link")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
