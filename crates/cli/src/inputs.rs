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

use crate::render_cache::Cache;
use anyhow::Result;
use kubeharden_engine::load::{Input, MAX_FILE_BYTES};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::yaml::{self, Node, Pos};
use std::collections::{BTreeSet, HashSet};
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
    /// `kustomize build --enable-helm` (`--kustomize-enable-helm`).
    pub enable_helm: bool,
    /// A failed render is a warning, not an incomplete scan (`--allow-render-errors`).
    pub allow_render_errors: bool,
    /// How Helm charts are rendered.
    pub helm: Helm,
    /// Where renders are kept between runs (`--no-cache` disables it).
    pub cache: Cache,
}

/// `helm template` options (`--values`, `--set`, `--helm-release`, `--namespace`).
#[derive(Clone, Debug, Default)]
pub struct Helm {
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    /// The release name (default: the chart directory's name).
    pub release: Option<String>,
    /// The namespace (default: the release name).
    pub namespace: Option<String>,
}

/// 60 s.
pub const DEFAULT_KUSTOMIZE_TIMEOUT: u64 = 60;

impl Default for Kustomize {
    fn default() -> Self {
        Kustomize {
            render: true,
            timeout: Duration::from_secs(DEFAULT_KUSTOMIZE_TIMEOUT),
            allow_remote: false,
            enable_helm: false,
            allow_render_errors: false,
            helm: Helm::default(),
            cache: Cache::new(true),
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
    kubeharden_engine::timings::mark("directory walk");
    diagnostics.extend(diags);
    // Streams named on the command line are read now, once: a pipe cannot be read twice. (A
    // directory's walk gives regular files only: no need to look at those again.)
    let named: std::collections::HashSet<&PathBuf> = plain.iter().collect();
    let mut files = Vec::new();
    for path in found {
        let Some(kind) = named.contains(&path).then(|| stream_kind(&path)).flatten() else {
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
    let mut renderable: Vec<&PathBuf> = Vec::new();
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
        renderable.push(root);
    }
    // Renders run side by side (one per core: each is a process of its own), each served from
    // the cache when its whole input tree was rendered before; results are taken in order.
    let renders = crate::render_cache::parallel_map(&renderable, |root| {
        render_kustomization_cached(root, kustomize)
    });
    for (root, render) in renderable.into_iter().zip(renders) {
        match render {
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
            // A render that failed leaves the scan without what the kustomization builds: an
            // error (exit 2) unless --allow-render-errors; a missing renderer is a warning.
            Err(RenderError {
                message, failed, ..
            }) => diagnostics.push(Diagnostic::new(
                if failed && !kustomize.allow_render_errors {
                    DiagLevel::Error
                } else {
                    DiagLevel::Warning
                },
                &kustomization_file(root)
                    .unwrap_or_else(|| root.clone())
                    .display()
                    .to_string(),
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
                if kustomize.allow_render_errors {
                    DiagLevel::Warning
                } else {
                    level
                },
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

/// `helm template NAME DIR --namespace NS [--values F]… [--set K=V]…`, NAME being
/// `--helm-release` or the directory's name and NS `--namespace` or NAME, offline and within the
/// render timeout. Returns the output and the command shown.
fn render_helm_chart(
    dir: &Path,
    how: &Kustomize,
) -> Result<(Vec<u8>, String), (DiagLevel, String)> {
    let name = how.helm.release.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "release".to_owned())
    });
    let namespace = how.helm.namespace.clone().unwrap_or_else(|| name.clone());
    let mut command = Command::new("helm");
    command
        .args(["template", &name])
        .arg(dir)
        .args(["--namespace", &namespace]);
    let mut shown = format!("helm template {name} --namespace {namespace}");
    for v in &how.helm.values {
        command.arg("--values").arg(v);
        shown.push_str(&format!(" --values {}", v.display()));
    }
    for v in &how.helm.set {
        command.args(["--set", v]);
        // Values given with --set may be secrets: named, not shown.
        let key = v.split_once('=').map_or(v.as_str(), |(k, _)| k);
        shown.push_str(&format!(" --set {key}=…"));
    }
    if !how.allow_remote {
        offline(&mut command);
    }
    match run_bounded(command, how.timeout) {
        Ok(Some(out)) if out.status.success() => Ok((out.stdout, shown)),
        Ok(Some(out)) => Err((
            DiagLevel::Error,
            format!("`{shown}` failed: {}", error_line(&out.stderr)),
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

/// The chart directory of a rendered Helm chart's input name (`DIR (helm template …)`).
fn chart_dir_of(name: &str) -> Option<&Path> {
    name.split_once(" (helm template ")
        .map(|(dir, _)| Path::new(dir))
}

/// Findings in a rendered Helm chart are moved to the template they came from (Helm's
/// `# Source:`, kept as `helm_source`) and its line: the template's one line that reads as the
/// rendered line does (a literal value), or else its one line holding the same key with a
/// template expression (`privileged: {{ .Values.privileged }}`). When neither is unique the
/// finding stays on the rendered output, `helm_source` naming the template.
pub fn locate_in_templates(findings: &mut [kubeharden_engine::finding::Finding]) {
    use std::collections::HashMap;
    let mut templates: HashMap<PathBuf, Option<String>> = HashMap::new();
    for f in findings {
        let Some(source) = f.location.helm_source.as_deref() else {
            continue;
        };
        let Some(chart) = chart_dir_of(&f.location.origin) else {
            continue;
        };
        // `CHARTNAME/templates/x.yaml` (subcharts: `CHARTNAME/charts/SUB/templates/x.yaml`).
        let Some((_, inside)) = source.split_once('/') else {
            continue;
        };
        let path = chart.join(inside);
        let text = templates
            .entry(path.clone())
            .or_insert_with(|| std::fs::read_to_string(&path).ok());
        let Some(text) = text.as_deref() else {
            continue;
        };
        let Some(rendered) = f
            .snippet
            .iter()
            .find(|l| l.line == f.location.line)
            .map(|l| l.text.to_owned())
        else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let want = rendered.trim();
        if want.is_empty() || want.starts_with('#') {
            continue;
        }
        let unique = |matches: Vec<usize>| (matches.len() == 1).then(|| matches[0]);
        let literal = unique(
            lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.trim() == want)
                .map(|(i, _)| i)
                .collect(),
        );
        let key = want
            .trim_start_matches("- ")
            .split_once(':')
            .map(|(k, _)| format!("{}:", k.trim()));
        let templated = || {
            let key = key.as_deref()?;
            unique(
                lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| {
                        let t = l.trim().trim_start_matches("- ");
                        t.starts_with(key) && l.contains("{{")
                    })
                    .map(|(i, _)| i)
                    .collect(),
            )
        };
        let Some(at) = literal.or_else(templated) else {
            continue;
        };
        let indent = |l: &str| l.len() - l.trim_start().len();
        let shift = indent(lines[at]) as i64 - indent(&rendered) as i64;
        f.location.origin = path.display().to_string().into();
        f.location.line = at as u32 + 1;
        f.location.column = (i64::from(f.location.column) + shift).max(1) as u32;
        let first = at.saturating_sub(1);
        let last = (at + 1).min(lines.len() - 1);
        f.snippet = kubeharden_engine::finding::Snippet::new(
            first as u32 + 1,
            lines[first..=last].iter().copied(),
        );
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

/// A reference written in a kustomization file.
struct Reference<'a> {
    /// The kustomization's directory and file.
    dir: &'a Path,
    file: &'a Path,
    /// `resource`, `base`, `component`, `patch`, `file`…
    field: &'static str,
    node: &'a Node,
    /// It may name a directory holding a kustomization of its own (a base).
    may_be_base: bool,
}

/// Walks the kustomization in `root` and, transitively, the local directories `follow` returns
/// for its references (each directory once, at most 10,000): `visit` sees every directory
/// walked, `follow` every reference of every kustomization file met.
fn walk_kustomizations(
    root: &Path,
    mut visit: impl FnMut(&Path),
    mut follow: impl FnMut(&Reference<'_>) -> Option<PathBuf>,
) {
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if !seen.insert(key) || seen.len() > 10_000 {
            continue;
        }
        visit(&dir);
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
                let reference = Reference {
                    dir: &dir,
                    file: &file,
                    field,
                    node,
                    may_be_base,
                };
                if let Some(next) = follow(&reference) {
                    stack.push(next);
                }
            }
        }
    }
}

/// The remote references of the kustomization in `root` and of the local bases it uses,
/// transitively (kustomize would fetch any of them).
fn remote_references(root: &Path) -> Vec<Remote> {
    let mut out = Vec::new();
    walk_kustomizations(
        root,
        |_| {},
        |r| {
            let reference = r.node.scalar()?.text.trim();
            if is_remote(reference, r.dir) {
                out.push(Remote {
                    file: r.file.to_path_buf(),
                    pos: r.node.pos,
                    field: r.field,
                    reference: reference.to_owned(),
                });
                None
            } else if r.may_be_base {
                let local = lexically_joined(r.dir, reference);
                local.is_dir().then_some(local)
            } else {
                None
            }
        },
    );
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

/// The one line of a renderer's error output that says what went wrong. kustomize and helm print
/// `Error: …` (or `error: …`) after usage text and warnings; kubectl logs it through klog
/// (`E1206 08:40:58.407114 9707 run.go:72] "command failed" err=<` and the error on the lines
/// up to `>`, or `err="…"` inline), with a timestamp and a process id that change every run.
/// The error runs to the end of the output, and embeds configurations between backticks over
/// several lines (kustomize's `with config: `…``): those are left out, the rest joined on one
/// line; a long one keeps its start and its end, where kustomize puts the root cause
/// (`must specify --enable-helm`). Without any of these, the first non-empty line.
fn error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let klog = |l: &str| {
        let l = l.trim_start();
        l.len() > 5
            && matches!(l.as_bytes()[0], b'E' | b'F' | b'W' | b'I')
            && l.as_bytes()[1..5].iter().all(u8::is_ascii_digit)
            && l.contains("] ")
    };
    let error = if let Some(at) = lines.iter().position(|l| klog(l) && l.contains(" err=")) {
        let line = lines[at];
        let inline = &line[line.find(" err=").map_or(0, |i| i + " err=".len())..];
        if inline.trim() == "<" {
            lines[at + 1..]
                .iter()
                .take_while(|l| l.trim() != ">")
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            inline.trim().trim_matches('"').replace("\\n", "\n")
        }
    } else if let Some(at) = lines.iter().position(|l| {
        let l = l.trim_start();
        l.starts_with("Error:") || l.starts_with("error:")
    }) {
        let rest = lines[at..].join("\n");
        let rest = rest.trim_start();
        rest[rest.find(':').map_or(0, |i| i + 1)..].to_owned()
    } else {
        lines
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .unwrap_or("no error output")
            .to_owned()
    };
    // Embedded multi-line configurations between backticks.
    let mut one = String::new();
    let mut parts = error.split('`');
    if let Some(first) = parts.next() {
        one.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (i, part) in rest.iter().enumerate() {
        // Odd-numbered parts are quoted; an unmatched last quote is kept as text.
        if i % 2 == 0 && i + 1 < rest.len() {
            if part.contains('\n') {
                one.push('…');
            } else {
                one.push('`');
                one.push_str(part);
                one.push('`');
            }
        } else {
            one.push_str(part);
        }
    }
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 400;
    let chars: Vec<char> = one.chars().collect();
    if chars.len() <= MAX {
        return if one.is_empty() {
            "no error output".to_owned()
        } else {
            one
        };
    }
    let head: String = chars[..150].iter().collect();
    let tail: String = chars[chars.len() - 240..].iter().collect();
    format!("{head} … {tail}")
}

/// Why a kustomization was not rendered.
#[derive(Debug)]
pub struct RenderError {
    /// One line.
    pub message: String,
    /// The render ran and failed (or was killed), as opposed to no renderer being installed.
    pub failed: bool,
    /// It was killed by `--kustomize-timeout`.
    pub timed_out: bool,
}

/// [`render_kustomization`], from the cache when the kustomization's whole input tree, the
/// renderer and the options are those of a render kept there (see [`crate::render_cache`]).
/// Renders that may read the network (remote references allowed, `--enable-helm`) are not kept.
fn render_kustomization_cached(dir: &Path, how: &Kustomize) -> Result<Vec<u8>, RenderError> {
    let network = how.enable_helm || (how.allow_remote && !remote_references(dir).is_empty());
    let renderer = ["kustomize", "kubectl"]
        .iter()
        .find_map(|p| crate::render_cache::which(p));
    let key = match renderer {
        Some(renderer) if !network => {
            let options = format!("offline={}", !how.allow_remote);
            how.cache.key(&renderer, &options, &input_tree(dir))
        }
        _ => None,
    };
    match key.as_ref().and_then(|k| how.cache.get(k)) {
        Some(Ok(bytes)) => return Ok(bytes),
        Some(Err(message)) => {
            return Err(RenderError {
                message,
                failed: true,
                timed_out: false,
            });
        }
        None => {}
    }
    let render = render_kustomization(dir, how);
    if let Some(key) = &key {
        match &render {
            Ok(bytes) => how.cache.put(key, Ok(bytes)),
            // A render killed by --kustomize-timeout may finish next time: not kept.
            Err(e) if e.failed && !e.timed_out => how.cache.put(key, Err(&e.message)),
            Err(_) => {}
        }
    }
    render
}

/// Every file a render of the kustomization in `root` may read: the files under its directory
/// and under every local directory it references (transitively), and the local files it names
/// outside them. A superset is harmless (a change to an unread file only renders anew); a
/// missed file would serve a stale render, so directories are taken whole.
fn input_tree(root: &Path) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    let mut dirs = Vec::new();
    walk_kustomizations(
        root,
        |dir| dirs.push(dir.to_path_buf()),
        |r| {
            let reference = r.node.scalar()?.text.trim();
            let reference = match reference.split_once('=') {
                Some((key, rest)) if !key.contains(['/', ':', '?']) => rest,
                _ => reference,
            };
            if reference.is_empty() || is_remote(reference, r.dir) {
                return None;
            }
            let local = lexically_joined(r.dir, reference);
            if local.is_dir() {
                Some(local)
            } else {
                files.insert(local);
                None
            }
        },
    );
    let mut walked = BTreeSet::new();
    for dir in dirs {
        crate::render_cache::add_tree(&dir, &mut files, &mut walked);
    }
    files
}

fn render_kustomization(dir: &Path, how: &Kustomize) -> Result<Vec<u8>, RenderError> {
    let attempts: [(&str, &[&str]); 2] = [("kustomize", &["build"]), ("kubectl", &["kustomize"])];
    for (program, args) in attempts {
        let mut command = Command::new(program);
        command.args(args).arg(dir).env("GIT_TERMINAL_PROMPT", "0");
        if how.enable_helm {
            command.arg("--enable-helm");
        }
        if !how.allow_remote {
            offline(&mut command);
        }
        let shown = format!(
            "`{program} {}{} {}`",
            args.join(" "),
            if how.enable_helm {
                " --enable-helm"
            } else {
                ""
            },
            dir.display()
        );
        match run_bounded(command, how.timeout) {
            Ok(Some(out)) if out.status.success() => return Ok(out.stdout),
            Ok(Some(out)) => {
                let mut message = format!("{shown} failed: {}", error_line(&out.stderr));
                if !how.enable_helm && message.contains("--enable-helm") {
                    message.push_str(" (--kustomize-enable-helm renders its helmCharts)");
                }
                return Err(RenderError {
                    message,
                    failed: true,
                    timed_out: false,
                });
            }
            Ok(None) => {
                return Err(RenderError {
                    message: format!(
                        "{shown} did not finish within {} s (--kustomize-timeout) and was killed",
                        how.timeout.as_secs_f64()
                    ),
                    failed: true,
                    timed_out: true,
                });
            }
            Err(_) => continue,
        }
    }
    Err(RenderError {
        message: "neither `kustomize` nor `kubectl` is installed to render this kustomization"
            .to_owned(),
        failed: false,
        timed_out: false,
    })
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
    fn the_input_tree_of_a_render_holds_every_file_it_may_read() {
        let tmp = std::env::temp_dir().join(format!("kh-input-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for dir in ["overlay/sub", "base", "common", "unrelated"] {
            std::fs::create_dir_all(tmp.join(dir)).unwrap();
        }
        let write = |p: &str, text: &str| std::fs::write(tmp.join(p), text).unwrap();
        write(
            "overlay/kustomization.yaml",
            "resources: [../base, https://example.com/remote.yaml]\npatches:\n- path: ../common/patch.yaml\nconfigMapGenerator:\n- name: c\n  files: [app.properties=../common/app.properties]\n",
        );
        write("overlay/sub/notes.txt", "");
        write("base/kustomization.yaml", "resources: [pod.yaml]\n");
        write("base/pod.yaml", "kind: Pod\n");
        write("common/patch.yaml", "");
        write("common/app.properties", "");
        write("common/other.yaml", "");
        write("unrelated/x.yaml", "");
        let tree: Vec<String> = input_tree(&tmp.join("overlay"))
            .iter()
            .map(|p| {
                let p = p.strip_prefix(&tmp).unwrap_or(p);
                p.display().to_string().replace("overlay/../", "")
            })
            .collect();
        // The overlay's directory whole, the base it names (whole), the files it names elsewhere;
        // not a sibling of those files, not an unrelated directory, not the remote resource.
        assert_eq!(
            tree,
            [
                "base/kustomization.yaml",
                "base/pod.yaml",
                "common/app.properties",
                "common/patch.yaml",
                "overlay/kustomization.yaml",
                "overlay/sub/notes.txt",
            ]
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn renderer_errors_are_one_line_with_their_root_cause() {
        // kustomize v5.8.1, a kustomization with helmCharts rendered without --enable-helm.
        let kustomize = "Error: trouble configuring builtin HelmChartInflationGenerator with config: `\nname: argo-cd\nrepo: https://argoproj.github.io/argo-helm\nversion: 5.54.0\n`: must specify --enable-helm\n";
        assert_eq!(
            error_line(kustomize.as_bytes()),
            "trouble configuring builtin HelmChartInflationGenerator with config: …: must specify --enable-helm"
        );
        // kubectl v1.33 kustomize: the same error through klog, timestamp and pid left out.
        let kubectl = "E1206 08:41:39.021466   12948 run.go:72] \"command failed\" err=<\n\ttrouble configuring builtin HelmChartInflationGenerator with config: `\n\tname: apisix\n\t`: must specify --enable-helm\n >\n";
        assert_eq!(
            error_line(kubectl.as_bytes()),
            "trouble configuring builtin HelmChartInflationGenerator with config: …: must specify --enable-helm"
        );
        let inline = "E1206 08:41:38.080099   12927 run.go:72] \"command failed\" err=\"must build at directory: not a valid directory\"\n";
        assert_eq!(
            error_line(inline.as_bytes()),
            "must build at directory: not a valid directory"
        );
        // helm: usage text, then the error; a quoted name on one line stays.
        let helm = "walk.go:75: found symbolic link\nError: template: `app/templates/x.yaml`: unexpected EOF\n";
        assert_eq!(
            error_line(helm.as_bytes()),
            "template: `app/templates/x.yaml`: unexpected EOF"
        );
        assert_eq!(error_line(b""), "no error output");
        let long = format!("Error: {}root cause", "a: ".repeat(300));
        let line = error_line(long.as_bytes());
        assert!(line.ends_with("a: a: root cause"), "{line}");
        assert_eq!(line.chars().count(), 150 + 3 + 240);
    }

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
