//! Turns command-line paths into scan inputs: stdin, files, streams (FIFOs, process
//! substitutions), directories, kustomizations, Helm charts.
//!
//! A Helm chart (a directory with `Chart.yaml`, found by walking a directory) is rendered with
//! `helm template NAME DIR --namespace NAME`, NAME being the directory's name, offline and within
//! the same time bound; its `templates/` and `charts/` are not scanned as files (they are not
//! YAML until rendered). Without `helm` a warning names the chart; a failed render is an error.
//!
//! Kustomizations are rendered offline and within a time bound: remote bases and resources
//! (URLs, `github.com/…`, `git::…`) are found in the kustomization files, their own and those of
//! the local bases they use, before anything runs. A kustomization that uses one is not rendered
//! (unless `--allow-remote-bases`): an error names the kustomization file and the reference, and
//! the directory's files are scanned as they are, as with `--no-kustomize`. The renderer runs
//! in a process group of its own, without stdin, and is killed with its whole group when it
//! outlives `--kustomize-timeout`.

use anyhow::Result;
use kubeharden_engine::load::{Input, MAX_FILE_BYTES};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::yaml::{self, Node, Pos};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// How kustomization directories are rendered.
#[derive(Clone, Debug)]
pub struct Kustomize {
    /// Render them at all (`--no-kustomize` turns it off: their files are scanned as they are).
    pub render: bool,
    /// Longest a render may take before it is killed (`--kustomize-timeout`).
    pub timeout: Duration,
    /// Fetch remote bases and resources (`--allow-remote-bases`); otherwise renders are offline.
    pub allow_remote: bool,
}

/// 60 s.
pub const DEFAULT_KUSTOMIZE_TIMEOUT: u64 = 60;

impl Default for Kustomize {
    fn default() -> Self {
        Kustomize {
            render: true,
            timeout: Duration::from_secs(DEFAULT_KUSTOMIZE_TIMEOUT),
            allow_remote: false,
        }
    }
}

/// [`gather_with`] with the default rendering (offline, 60 s) when `kustomize` is set.
pub fn gather(paths: &[PathBuf], kustomize: bool) -> Result<(Vec<Input>, Vec<Diagnostic>)> {
    gather_with(
        paths,
        &Kustomize {
            render: kustomize,
            ..Kustomize::default()
        },
    )
}

/// Reads `-` from stdin and streams named on the command line (FIFOs, `<(…)`, `/dev/stdin`);
/// expands directories; renders kustomization directories as `kustomize` says when a renderer
/// (`kustomize` or `kubectl`) is installed. Every path that is not read is named in a diagnostic.
pub fn gather_with(
    paths: &[PathBuf],
    kustomize: &Kustomize,
) -> Result<(Vec<Input>, Vec<Diagnostic>)> {
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
    let (found, diags) = kubeharden_engine::load::expand_paths(&plain);
    diagnostics.extend(diags);
    // Streams named on the command line are read now, once: a pipe cannot be read twice.
    let mut files = Vec::new();
    for path in found {
        let Some(kind) = stream_kind(&path) else {
            files.push(path);
            continue;
        };
        match read_stream(&path, kind) {
            Ok(bytes) => inputs.push(Input::Bytes {
                name: path.display().to_string(),
                bytes: Arc::from(bytes),
            }),
            Err(message) => diagnostics.push(Diagnostic::new(
                DiagLevel::Error,
                &path.display().to_string(),
                None,
                message,
            )),
        }
    }
    let roots: Vec<PathBuf> = if kustomize.render {
        kustomization_roots(&files, &plain)
    } else {
        Vec::new()
    };
    let mut rendered_roots: Vec<PathBuf> = Vec::new();
    for root in &roots {
        if !kustomize.allow_remote {
            let remote = remote_references(root);
            if !remote.is_empty() {
                for r in remote {
                    diagnostics.push(Diagnostic::new(
                        DiagLevel::Error,
                        &r.file.display().to_string(),
                        Some(r.pos),
                        format!(
                            "remote {} `{}` is not fetched: kustomizations are rendered offline (--allow-remote-bases fetches it); {} is not rendered, its files are scanned as they are, without what the reference adds",
                            r.field,
                            r.reference,
                            root.display()
                        ),
                    ));
                }
                continue;
            }
        }
        match render_kustomization(root, kustomize) {
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
    // Helm charts: rendered like kustomizations; their templates are not YAML until then.
    let charts = if kustomize.render {
        helm_chart_roots(&files)
    } else {
        Vec::new()
    };
    for chart in &charts {
        match render_helm_chart(chart, kustomize) {
            Ok((bytes, name)) => inputs.push(Input::Rendered {
                name: format!("{} ({name})", chart.display()),
                bytes: Arc::from(bytes),
                sources: files
                    .iter()
                    .filter(|f| f.starts_with(chart))
                    .cloned()
                    .collect(),
            }),
            // No helm here is a warning, as no kustomize is; a chart helm cannot render is an
            // error (the scan is incomplete).
            Err((level, message)) => diagnostics.push(Diagnostic::new(
                level,
                &chart.join("Chart.yaml").display().to_string(),
                None,
                format!("{message}; the chart's templates are not scanned"),
            )),
        }
    }
    let in_chart_templates = |f: &Path| {
        charts
            .iter()
            .any(|c| f.starts_with(c.join("templates")) || f.starts_with(c.join("charts")))
    };
    inputs.extend(
        files
            .into_iter()
            .filter(|f| !rendered_roots.iter().any(|r| f.starts_with(r)))
            .filter(|f| !in_chart_templates(f))
            .map(Input::File),
    );
    Ok((inputs, diagnostics))
}

/// Directories holding a `Chart.yaml` (Helm charts), outermost only (subcharts are rendered with
/// their parent).
fn helm_chart_roots(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "Chart.yaml"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    roots.sort();
    roots.dedup();
    let all = roots.clone();
    roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
    roots
}

/// `helm template NAME DIR --namespace NAME`, NAME being the directory's name, offline and within
/// the render timeout. Returns the output and the command shown.
fn render_helm_chart(
    dir: &Path,
    how: &Kustomize,
) -> Result<(Vec<u8>, String), (DiagLevel, String)> {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "release".to_owned());
    let mut command = Command::new("helm");
    command
        .args(["template", &name])
        .arg(dir)
        .args(["--namespace", &name]);
    if !how.allow_remote {
        offline(&mut command);
    }
    let shown = format!("helm template {name} --namespace {name}");
    match run_bounded(command, how.timeout) {
        Ok(Some(out)) if out.status.success() => Ok((out.stdout, shown)),
        Ok(Some(out)) => Err((
            DiagLevel::Error,
            format!(
                "`{shown}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )),
        Ok(None) => Err((
            DiagLevel::Error,
            format!(
                "`{shown}` did not finish within {} s (--kustomize-timeout) and was killed",
                how.timeout.as_secs_f64()
            ),
        )),
        Err(_) => Err((
            DiagLevel::Warning,
            "`helm` is not installed to render this Helm chart".to_owned(),
        )),
    }
}

/// What a path named on the command line is when it is a stream to read whole: a FIFO, a
/// process substitution (`/dev/fd/N`), `/dev/stdin`, a character device. Links are followed.
fn stream_kind(path: &Path) -> Option<&'static str> {
    let t = std::fs::metadata(path).ok()?.file_type();
    (!t.is_file() && !t.is_dir()).then(|| kubeharden_engine::load::special_kind(&t))
}

/// Reads a FIFO, a process substitution or a character device whole, up to the file limit.
fn read_stream(path: &Path, kind: &str) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{kind}; cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{kind}; cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "{kind} gives more than the {MAX_FILE_BYTES} byte limit; skipped"
        ));
    }
    Ok(bytes)
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

/// The kustomization file of a directory.
fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|k| dir.join(k))
        .find(|p| p.is_file())
}

/// A remote reference in a kustomization file.
#[derive(Debug)]
struct Remote {
    file: PathBuf,
    pos: Pos,
    /// `resource`, `base`, `component`, `patch`, `file`…
    field: &'static str,
    reference: String,
}

/// Fields whose items are paths (files or directories) or remote references. The `true` ones
/// may name a directory holding a kustomization of its own (a base), which is followed.
const REFERENCE_LISTS: [(&str, &str, bool); 9] = [
    ("resources", "resource", true),
    ("bases", "base", true),
    ("components", "component", true),
    ("generators", "generator", true),
    ("transformers", "transformer", true),
    ("validators", "validator", true),
    ("crds", "CRD file", false),
    ("configurations", "configuration file", false),
    ("patchesStrategicMerge", "patch", false),
];

/// Fields whose items are mappings with a `path`.
const PATH_LISTS: [&str; 3] = ["patches", "patchesJson6902", "replacements"];

/// The remote references of the kustomization in `root` and of the local bases it uses,
/// transitively (kustomize would fetch any of them).
fn remote_references(root: &Path) -> Vec<Remote> {
    let mut out = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if !seen.insert(key) || seen.len() > 10_000 {
            continue;
        }
        let Some(file) = kustomization_file(&dir) else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for doc in yaml::parse_stream(&text).into_iter().flatten() {
            let Some(doc_root) = doc.root else { continue };
            for (field, node, may_be_base) in references(&doc_root) {
                let Some(reference) = node.scalar().map(|s| s.text.trim()) else {
                    continue;
                };
                if is_remote(reference, &dir) {
                    out.push(Remote {
                        file: file.clone(),
                        pos: node.pos,
                        field,
                        reference: reference.to_owned(),
                    });
                } else if may_be_base {
                    let local = lexically_joined(&dir, reference);
                    if local.is_dir() {
                        stack.push(local);
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.file, a.pos.line).cmp(&(&b.file, b.pos.line)));
    out
}

/// `dir/reference` with `.` and `..` resolved as kustomize resolves them (`filepath.Join`):
/// lexically.
fn lexically_joined(dir: &Path, reference: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in dir.join(reference).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The scalars of a kustomization that name files, directories or remote references: each with
/// what it is and whether it may be a base to follow.
fn references(root: &Node) -> Vec<(&'static str, &Node, bool)> {
    let mut out = Vec::new();
    for (key, what, base) in REFERENCE_LISTS {
        for item in root.get(key).map(Node::items).unwrap_or_default() {
            out.push((what, item, base));
        }
    }
    for key in PATH_LISTS {
        for item in root.get(key).map(Node::items).unwrap_or_default() {
            if let Some(path) = item.get("path") {
                out.push(("patch", path, false));
            }
        }
    }
    if let Some(path) = root.get("openapi").and_then(|o| o.get("path")) {
        out.push(("OpenAPI schema", path, false));
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in root.get(key).map(Node::items).unwrap_or_default() {
            for list in ["files", "envs"] {
                for item in generator.get(list).map(Node::items).unwrap_or_default() {
                    out.push(("generator file", item, false));
                }
            }
            if let Some(env) = generator.get("env") {
                out.push(("generator file", env, false));
            }
        }
    }
    out
}

/// Does kustomize read this reference from the network? URLs (`https://`, `ssh://`…, but not
/// `file://`), `git::…`, `git@host:…`, `gh:…`, well-known git hosts without a scheme, git
/// query parameters (`?ref=`), `.git` repositories, Azure's `_git/`, and a first path segment
/// that looks like a host name when no such local path exists.
fn is_remote(reference: &str, dir: &Path) -> bool {
    // `files: [key=path]` in generators.
    let reference = match reference.split_once('=') {
        Some((key, rest)) if !key.contains(['/', ':', '?']) => rest,
        _ => reference,
    };
    if reference.is_empty() || reference.contains(char::is_whitespace) {
        // Inline documents (patches, generator configs) are not references.
        return false;
    }
    let lower = reference.to_ascii_lowercase();
    if lower.starts_with("file://") {
        return false;
    }
    const HOSTS: [&str; 5] = [
        "github.com/",
        "gitlab.com/",
        "bitbucket.org/",
        "dev.azure.com/",
        "ssh.dev.azure.com/",
    ];
    if lower.contains("://")
        || ["git::", "git@", "gh:", "ssh:"]
            .iter()
            .any(|p| lower.starts_with(p))
        || HOSTS.iter().any(|h| lower.starts_with(h))
        || ["?ref=", "?version=", "?submodules=", "?timeout=", "&ref="]
            .iter()
            .any(|q| lower.contains(q))
        || lower.contains(".git//")
        || lower.ends_with(".git")
        || lower.contains("_git/")
    {
        return true;
    }
    let first = reference.split('/').next().unwrap_or("");
    first.contains('.')
        && !first.starts_with('.')
        && reference.contains('/')
        && !dir.join(reference).exists()
}

fn render_kustomization(dir: &Path, how: &Kustomize) -> Result<Vec<u8>, String> {
    let attempts: [(&str, &[&str]); 2] = [("kustomize", &["build"]), ("kubectl", &["kustomize"])];
    let mut last_error =
        String::from("neither `kustomize` nor `kubectl` is installed to render this kustomization");
    for (program, args) in attempts {
        let mut command = Command::new(program);
        command.args(args).arg(dir).env("GIT_TERMINAL_PROMPT", "0");
        if !how.allow_remote {
            offline(&mut command);
        }
        let shown = format!("`{program} {} {}`", args.join(" "), dir.display());
        match run_bounded(command, how.timeout) {
            Ok(Some(out)) if out.status.success() => return Ok(out.stdout),
            Ok(Some(out)) => {
                last_error = format!(
                    "{shown} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                break;
            }
            Ok(None) => {
                last_error = format!(
                    "{shown} did not finish within {} s (--kustomize-timeout) and was killed",
                    how.timeout.as_secs_f64()
                );
                break;
            }
            Err(_) => continue,
        }
    }
    Err(last_error)
}

/// A second line of defence behind [`remote_references`]: HTTP(S) through a proxy that does
/// not exist, git restricted to local repositories.
fn offline(command: &mut Command) {
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env(var, "http://127.0.0.1:9");
    }
    command
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("GIT_ALLOW_PROTOCOL", "file");
}

/// Runs `command` in a process group of its own, without stdin, collecting its output; `None`
/// when it outlived `timeout`, after killing the whole group (the renderer and whatever it
/// started: git, plugins), so that nothing is left running.
fn run_bounded(mut command: Command, timeout: Duration) -> std::io::Result<Option<Output>> {
    use std::os::unix::process::CommandExt;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn()?;
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = collect(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = collect(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let mut status = None;
    loop {
        if status.is_none() {
            status = child.try_wait()?;
        }
        // Done when the renderer has exited and its output is closed (nothing it started still
        // holds it).
        if let Some(status) = status
            && stdout.is_finished()
            && stderr.is_finished()
        {
            return Ok(Some(Output {
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            }));
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGKILL to the process group `pgid` (the renderer's own: it is its leader).
fn kill_group(pgid: u32) {
    let group = format!("-{pgid}");
    let quiet = |c: &mut Command| {
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !quiet(Command::new("kill").args(["-s", "KILL", "--", &group])) {
        quiet(Command::new("sh").args(["-c", "kill -s KILL -- \"$1\"", "sh", &group]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_references_are_recognised() {
        let here = Path::new("/nonexistent-kh");
        for r in [
            "https://raw.githubusercontent.com/a/b/main/x.yaml",
            "http://127.0.0.1:8080/remote.yaml",
            "github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6",
            "git::https://github.com/a/b.git//deploy?ref=main",
            "git@github.com:owner/repo.git/base",
            "ssh://git@example.com/repo.git",
            "example.com/org/repo//base",
            "gh:owner/repo",
            "https://dev.azure.com/org/project/_git/repo",
            "config=https://example.com/app.properties",
        ] {
            assert!(is_remote(r, here), "{r}");
        }
        for r in [
            "../base",
            "deployment.yaml",
            "./svc.json",
            "file:///srv/repo",
            "app.properties",
            "config=app.properties",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {annotations: {a: \"https://x\"}}",
        ] {
            assert!(!is_remote(r, here), "{r}");
        }
    }
}
