//! Where the fields of a kustomize-rendered object were written: the rendered stream is not a
//! file the user can open, so a finding about a rendered object points at the file and line that
//! wrote the field — the patch that set it (a strategic-merge patch file or inline patch, a JSON
//! 6902 operation), or else the resource file of the base — with that line as the snippet.
//!
//! The kustomizations are read from the kustomization files among the rendered directory's files,
//! following local `resources`/`bases`/`components` directories (inside or outside that
//! directory). Patches of a base apply before those of the overlays that use it; the last patch
//! that writes a field is the one named. A resource or patch is matched to a rendered object by
//! kind and name, a name the overlays' `namePrefix`/`nameSuffix` extend matching too (the
//! rendered name contains the written one). Sequence items are matched by their merge key
//! (`name`, `mountPath`, `containerPort`…) as a strategic merge matches them. Not followed:
//! The `images:` transformer is followed (an image it rewrote points at its entry); not followed:
//! remote bases, generators, the other transformers and replacements (their fields keep the
//! position in the rendered stream, or the base's).

use crate::source::Source;
use crate::yaml::{self, Node, Pos, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Merge keys of the sequences of the core API, in the order tried.
const MERGE_KEYS: [&str; 6] = [
    "name",
    "mountPath",
    "containerPort",
    "devicePath",
    "ip",
    "topologyKey",
];

/// Where a field was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The file, as reports name it.
    pub file: String,
    pub pos: Pos,
    /// The text of that line.
    pub text: String,
}

/// A document with its source: a resource, or a strategic-merge patch (positions in `source`).
#[derive(Debug)]
struct Doc {
    source: Arc<Source>,
    root: Node,
}

/// One JSON 6902 operation that writes a value.
#[derive(Debug)]
struct Op {
    path: Vec<String>,
    /// The `value` node (positions in the layer's source), or None (`remove`, `copy`, `move`).
    value: Option<Node>,
    /// The operation's `value:` key, or the operation itself.
    pos: Pos,
}

#[derive(Debug)]
enum Patch {
    Merge(Doc),
    Json { source: Arc<Source>, ops: Vec<Op> },
}

/// Which objects a patch applies to.
#[derive(Debug)]
struct Target {
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Debug)]
struct Layer {
    /// Distance from the rendered kustomization: deeper bases apply first.
    depth: usize,
    target: Target,
    patch: Patch,
}

/// One entry of a kustomization's `images:` transformer (`name`, `newName`, `newTag`,
/// `digest`), where it writes the image it names.
#[derive(Debug)]
struct ImageEdit {
    depth: usize,
    /// The image repository it matches (`name`).
    name: String,
    /// The repository the image has after it (`newName`, else `name`).
    new_name: String,
    source: Arc<Source>,
    /// The `digest`, `newTag` or `newName` value (the most specific written), else the entry.
    pos: Pos,
}

/// The kustomizations of a rendered directory: their resources and patches.
#[derive(Debug, Default)]
pub struct Kustomizations {
    resources: Vec<Arc<Doc>>,
    /// In the order kustomize applies them.
    layers: Vec<Arc<Layer>>,
    /// `images:` entries, deeper bases first (the last matching one wrote the image).
    images: Vec<Arc<ImageEdit>>,
    /// The resource files read (for the unchanged objects, attributed whole).
    pub resource_files: Vec<PathBuf>,
}

/// Where the fields of one rendered object were written: its resource and the patches that apply
/// to it, in order.
#[derive(Debug)]
pub struct Provenance {
    resource: Option<Arc<Doc>>,
    patches: Vec<Arc<Layer>>,
    images: Vec<Arc<ImageEdit>>,
}

impl Kustomizations {
    /// Reads the kustomizations found among `sources` (by their file name) and the local bases
    /// they use, transitively.
    pub fn read(sources: &[PathBuf]) -> Kustomizations {
        let mut k = Kustomizations::default();
        let mut seen: HashSet<PathBuf> = HashSet::new();
        let mut stack: Vec<(PathBuf, usize)> = sources
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
            })
            .filter_map(|p| Some((p.parent()?.to_path_buf(), 0)))
            .collect();
        let mut layers: Vec<Layer> = Vec::new();
        let mut images: Vec<ImageEdit> = Vec::new();
        while let Some((dir, depth)) = stack.pop() {
            let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if !seen.insert(key) || seen.len() > 10_000 {
                continue;
            }
            let Some(file) = KUSTOMIZATION_FILES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
            else {
                continue;
            };
            let Some(source) = read_source(&file) else {
                continue;
            };
            let Some(root) = first_root(&source.text) else {
                continue;
            };
            for key in ["resources", "bases", "components"] {
                for item in root.get(key).map(Node::items).unwrap_or_default() {
                    let Some(reference) = item.text() else {
                        continue;
                    };
                    let path = joined(&dir, reference);
                    if path.is_dir() {
                        stack.push((path, depth + 1));
                    } else if path.is_file()
                        && let Some(s) = read_source(&path)
                    {
                        k.resource_files.push(path);
                        for root in roots(&s.text) {
                            k.resources.push(Arc::new(Doc {
                                source: Arc::clone(&s),
                                root,
                            }));
                        }
                    }
                }
            }
            // images: the image transformer.
            for item in root.get("images").map(Node::items).unwrap_or_default() {
                let Some(name) = item.get("name").and_then(Node::text) else {
                    continue;
                };
                let new_name = item.get("newName").and_then(Node::text).unwrap_or(name);
                let pos = ["digest", "newTag", "newName"]
                    .iter()
                    .find_map(|k| item.get(k))
                    .map_or(item.pos, |n| n.pos);
                images.push(ImageEdit {
                    depth,
                    name: name.to_owned(),
                    new_name: new_name.to_owned(),
                    source: Arc::clone(&source),
                    pos,
                });
            }
            // patchesStrategicMerge: paths (or, in old kustomizations, inline documents).
            for item in root
                .get("patchesStrategicMerge")
                .map(Node::items)
                .unwrap_or_default()
            {
                let no_target = || Target {
                    kind: None,
                    name: None,
                };
                layers.extend(patches_of(&dir, &source, item, None, depth, no_target));
            }
            // patches (path or inline; merge or JSON 6902, with an optional target) and
            // patchesJson6902 (path or inline, with a target).
            for key in ["patches", "patchesJson6902"] {
                for item in root.get(key).map(Node::items).unwrap_or_default() {
                    let target = || Target {
                        kind: item
                            .pointer("/target/kind")
                            .and_then(Node::text)
                            .map(str::to_owned),
                        name: item
                            .pointer("/target/name")
                            .and_then(Node::text)
                            .map(str::to_owned),
                    };
                    let node = item.get("path").or_else(|| item.get("patch"));
                    if let Some(node) = node {
                        let inline = item.get("path").is_none();
                        layers.extend(patches_of(&dir, &source, node, Some(inline), depth, target));
                    }
                }
            }
        }
        // Deeper bases first; within one kustomization, in the order written.
        layers.sort_by_key(|l| std::cmp::Reverse(l.depth));
        k.layers = layers.into_iter().map(Arc::new).collect();
        images.sort_by_key(|i| std::cmp::Reverse(i.depth));
        k.images = images.into_iter().map(Arc::new).collect();
        k
    }

    /// The resource and the patches that wrote `rendered` (kind, name), if any is found.
    pub fn provenance(
        &self,
        kind: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Option<Provenance> {
        let score = |d: &Doc| -> Option<u8> {
            let k = d.root.get("kind").and_then(Node::text)?;
            let n = d.root.pointer("/metadata/name").and_then(Node::text)?;
            if k != kind || !name_matches(n, name) {
                return None;
            }
            let ns = d.root.pointer("/metadata/namespace").and_then(Node::text);
            Some(u8::from(n == name) * 2 + u8::from(ns == namespace))
        };
        let resource = self
            .resources
            .iter()
            .filter_map(|d| Some((score(d)?, d)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, d)| Arc::clone(d));
        let patches: Vec<Arc<Layer>> = self
            .layers
            .iter()
            .filter(|l| l.applies_to(kind, name))
            .cloned()
            .collect();
        (resource.is_some() || !patches.is_empty()).then(|| Provenance {
            resource,
            patches,
            images: self.images.clone(),
        })
    }
}

impl Layer {
    fn applies_to(&self, kind: &str, name: &str) -> bool {
        if self.target.kind.is_some() || self.target.name.is_some() {
            return self.target.kind.as_deref().is_none_or(|k| k == kind)
                && self
                    .target
                    .name
                    .as_deref()
                    .is_none_or(|n| name_matches(n, name));
        }
        match &self.patch {
            Patch::Merge(d) => {
                d.root.get("kind").and_then(Node::text) == Some(kind)
                    && d.root
                        .pointer("/metadata/name")
                        .and_then(Node::text)
                        .is_some_and(|n| name_matches(n, name))
            }
            Patch::Json { .. } => false,
        }
    }
}

impl Provenance {
    /// Where the field at `pointer` of the rendered object `rendered` was written: the last patch
    /// that writes it, else the resource (the field, or where it belongs when it is missing).
    pub fn locate(&self, rendered: &Node, pointer: &str) -> Option<Written> {
        let tokens: Vec<String> = yaml::pointer_tokens(pointer).map(String::from).collect();
        // The object as a whole starts in its resource file.
        let patches = if tokens.is_empty() {
            &[][..]
        } else {
            &self.patches[..]
        };
        for layer in patches.iter().rev() {
            match &layer.patch {
                Patch::Merge(d) => {
                    if let Walk::Full(pos) = walk(rendered, &d.root, &tokens) {
                        return Some(written(&d.source, pos));
                    }
                }
                Patch::Json { source, ops } => {
                    for op in ops.iter().rev() {
                        let Some(rest) = tokens.strip_prefix(op.path.as_slice()) else {
                            continue;
                        };
                        let Some(value) = &op.value else {
                            continue;
                        };
                        let pos = match rendered.pointer(&to_pointer(&op.path)) {
                            Some(sub) if !rest.is_empty() => match walk(sub, value, rest) {
                                Walk::Full(pos) => pos,
                                Walk::Partial(_) => op.pos,
                            },
                            _ => op.pos,
                        };
                        return Some(written(source, pos));
                    }
                }
            }
        }
        // An image the `images:` transformer rewrote: the entry that wrote it (the overlay's
        // over its bases').
        if tokens.last().is_some_and(|t| t == "image")
            && let Some(image) = rendered.pointer(pointer).and_then(Node::text)
            && let Some(edit) = self
                .images
                .iter()
                .rev()
                .find(|e| repository(image) == e.new_name || repository(image) == e.name)
        {
            return Some(written(&edit.source, edit.pos));
        }
        let d = self.resource.as_ref()?;
        let pos = match walk(rendered, &d.root, &tokens) {
            Walk::Full(pos) | Walk::Partial(pos) => pos,
        };
        Some(written(&d.source, pos))
    }
}

/// An image reference without its tag and digest: `ghcr.io/acme/web:1@sha256:…` →
/// `ghcr.io/acme/web` (a registry port is kept: `localhost:5000/web`).
fn repository(image: &str) -> &str {
    let no_digest = image.split_once('@').map_or(image, |(r, _)| r);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

fn written(source: &Source, pos: Pos) -> Written {
    Written {
        file: source.name.clone(),
        pos,
        text: source.line(pos.line).unwrap_or("").to_owned(),
    }
}

fn to_pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", yaml::escape_token(t)))
        .collect()
}

/// Does a name written in a kustomization (`web`) name the rendered object (`prod-web-v2`)?
fn name_matches(written: &str, rendered: &str) -> bool {
    written == rendered || (!written.is_empty() && rendered.contains(written))
}

enum Walk {
    /// The document writes the field: its key's position.
    Full(Pos),
    /// It does not: the position of the deepest field it writes on the way.
    Partial(Pos),
}

/// Follows `tokens` in the rendered object and in a document written for it together, matching
/// sequence items by their merge key.
fn walk(rendered: &Node, doc: &Node, tokens: &[String]) -> Walk {
    let mut r = Some(rendered);
    let mut d = doc;
    let mut pos = doc.pos;
    for token in tokens {
        let next = match &d.value {
            Value::Map(entries) => entries.iter().rev().find(|e| &e.key == token).map(|e| {
                pos = e.key_pos;
                &e.value
            }),
            Value::Seq(items) => {
                let index = token.parse::<usize>().ok();
                let r_items = r.map(Node::items).unwrap_or_default();
                let item = index.and_then(|i| r_items.get(i));
                let by_key = item.and_then(|item| {
                    MERGE_KEYS.iter().find_map(|k| {
                        let v = item.get(k)?.text()?;
                        Some(
                            items
                                .iter()
                                .find(|x| x.get(k).and_then(Node::text) == Some(v)),
                        )
                    })
                });
                let found = match by_key {
                    Some(found) => found,
                    // No merge key: the list is replaced whole, items keep their index.
                    None if items.len() == r_items.len() => index.and_then(|i| items.get(i)),
                    None => None,
                };
                found.inspect(|n| pos = n.pos)
            }
            Value::Scalar(_) => None,
        };
        let Some(next) = next else {
            return Walk::Partial(pos);
        };
        r = r.and_then(|r| match &r.value {
            Value::Map(_) => r.get(token),
            Value::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            Value::Scalar(_) => None,
        });
        d = next;
    }
    Walk::Full(pos)
}

/// The patches an entry names: a file (or, inline, the text itself), read as strategic-merge
/// documents or a list of JSON 6902 operations. `inline`: None when either may be meant (an
/// existing file wins).
fn patches_of(
    dir: &Path,
    kustomization: &Arc<Source>,
    node: &Node,
    inline: Option<bool>,
    depth: usize,
    target: impl Fn() -> Target,
) -> Vec<Layer> {
    let Some(text) = node.text() else {
        return Vec::new();
    };
    let file = joined(dir, text.trim());
    let (source, roots) = if inline != Some(true) && file.is_file() {
        let Some(source) = read_source(&file) else {
            return Vec::new();
        };
        let r = roots(&source.text);
        (source, r)
    } else if inline != Some(false) {
        // Inline: positions in the kustomization file, where the block's lines are.
        let r = roots(text)
            .into_iter()
            .map(|mut n| {
                shift(&mut n, &inline_offset(kustomization, node, text));
                n
            })
            .collect();
        (Arc::clone(kustomization), r)
    } else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for root in roots {
        let patch = match &root.value {
            Value::Seq(items) => Patch::Json {
                source: Arc::clone(&source),
                ops: items.iter().filter_map(op).collect(),
            },
            Value::Map(_) => Patch::Merge(Doc {
                source: Arc::clone(&source),
                root,
            }),
            Value::Scalar(_) => continue,
        };
        out.push(Layer {
            depth,
            target: target(),
            patch,
        });
    }
    out
}

fn op(item: &Node) -> Option<Op> {
    let kind = item.get("op").and_then(Node::text)?;
    let path = item.get("path").and_then(Node::text)?;
    let value = matches!(kind, "add" | "replace")
        .then(|| item.get("value").cloned())
        .flatten();
    let pos = match &item.value {
        Value::Map(entries) => entries
            .iter()
            .rev()
            .find(|e| e.key == "value")
            .map_or(item.pos, |e| e.key_pos),
        _ => item.pos,
    };
    Some(Op {
        path: yaml::pointer_tokens(path).map(String::from).collect(),
        value,
        pos,
    })
}

/// For an inline patch (a block scalar), the line and column of its first line of content in
/// the kustomization file: (lines to add, columns to add) to positions parsed from its text.
fn inline_offset(kustomization: &Source, node: &Node, text: &str) -> (u32, u32) {
    // A block scalar (`|`, `|-`) starts on the line after its indicator; its indentation is
    // that of its first non-empty line. A quoted or plain scalar: its own position.
    let indicator = kustomization.line(node.pos.line).unwrap_or("");
    let at = indicator
        .char_indices()
        .nth(node.pos.col.saturating_sub(1) as usize)
        .map_or("", |(i, _)| &indicator[i..]);
    if at.starts_with('|') || at.starts_with('>') {
        let first_content = text.lines().position(|l| !l.trim().is_empty()).unwrap_or(0) as u32;
        let line = node.pos.line + 1 + first_content;
        let indent = kustomization.line(line).map_or(0, |l| {
            u32::try_from(l.chars().take_while(|c| *c == ' ').count()).unwrap_or(0)
        });
        (node.pos.line, indent)
    } else {
        (node.pos.line - 1, node.pos.col - 1)
    }
}

/// Moves every position of `node` by (lines, columns).
fn shift(node: &mut Node, by: &(u32, u32)) {
    node.pos.line += by.0;
    node.pos.col += by.1;
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries {
                e.key_pos.line += by.0;
                e.key_pos.col += by.1;
                shift(&mut e.value, by);
            }
        }
        Value::Seq(items) => {
            for n in items {
                shift(n, by);
            }
        }
        Value::Scalar(_) => {}
    }
}

fn read_source(path: &Path) -> Option<Arc<Source>> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > crate::load::MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(Arc::new(Source::new(path.display().to_string(), text)))
}

fn roots(text: &str) -> Vec<Node> {
    yaml::parse_stream(text)
        .into_iter()
        .filter_map(|d| d.ok()?.root)
        .collect()
}

fn first_root(text: &str) -> Option<Node> {
    roots(text).into_iter().next()
}

/// `dir/reference` with `.` and `..` resolved lexically, as kustomize joins them.
fn joined(dir: &Path, reference: &str) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use crate::load::load_rendered;
    use std::path::PathBuf;

    /// A base and an overlay with a patch file and an inline JSON 6902 patch, with the output
    /// `kubectl kustomize` gives (containers reordered, name prefixed, namespace set).
    #[test]
    fn fields_point_at_the_file_that_wrote_them() {
        let dir = std::env::temp_dir().join(format!("kh-kustomize-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let write = |rel: &str, text: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        };
        write("base/kustomization.yaml", "resources:\n- deployment.yaml\n");
        write(
            "base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        image: s\n      - name: app\n        image: a\n        securityContext:\n          privileged: false\n",
        );
        let k = write(
            "overlay/kustomization.yaml",
            "namePrefix: prod-\nresources:\n- ../base\npatchesStrategicMerge:\n- privileged.yaml\npatchesJson6902:\n- target: {kind: Deployment, name: web}\n  patch: |-\n    - op: add\n      path: /spec/template/spec/hostPID\n      value: true\n",
        );
        let p = write(
            "overlay/privileged.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        securityContext:\n          privileged: true\n",
        );
        let rendered = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prod-web\nspec:\n  template:\n    spec:\n      containers:\n      - image: a\n        name: app\n        securityContext:\n          privileged: true\n      - image: s\n        name: sidecar\n      hostPID: true\n";
        let sources: Vec<PathBuf> = vec![k.clone(), p.clone()];
        let loaded = load_rendered("overlay (kustomize build)", rendered.into(), &sources);
        let o = &loaded.objects[0];
        let at = |ptr: &str| {
            let w = o.written_at(ptr).unwrap();
            (
                w.file
                    .strip_prefix(&dir.display().to_string())
                    .unwrap()
                    .to_owned(),
                w.pos.line,
                w.pos.col,
                w.text,
            )
        };
        let c = "/spec/template/spec/containers";
        assert_eq!(
            at(&format!("{c}/0/securityContext/privileged")),
            (
                "/overlay/privileged.yaml".into(),
                11,
                11,
                "          privileged: true".into()
            )
        );
        assert_eq!(
            at("/spec/template/spec/hostPID"),
            (
                "/overlay/kustomization.yaml".into(),
                11,
                7,
                "      value: true".into()
            )
        );
        // Not patched: the base's line, the container found by name.
        assert_eq!(
            at(&format!("{c}/0/image")),
            (
                "/base/deployment.yaml".into(),
                12,
                9,
                "        image: a".into()
            )
        );
        assert_eq!(
            at(&format!("{c}/1/securityContext/runAsNonRoot")),
            (
                "/base/deployment.yaml".into(),
                9,
                9,
                "      - name: sidecar".into()
            )
        );
        assert_eq!(at("").1, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An image the overlay's `images:` rewrote points at that entry; another image at the base.
    #[test]
    fn images_point_at_the_transformer_entry_that_wrote_them() {
        let dir = std::env::temp_dir().join(format!("kh-kustomize-img-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let write = |rel: &str, text: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        };
        write(
            "base/kustomization.yaml",
            "resources:\n- pod.yaml\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"2\"\n",
        );
        write(
            "base/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: web\n    image: ghcr.io/acme/web:1\n  - name: side\n    image: ghcr.io/acme/side:1\n",
        );
        let k = write(
            "overlay/kustomization.yaml",
            "resources:\n- ../base\nimages:\n- name: ghcr.io/acme/web\n  newName: registry.acme/web\n  newTag: latest\n",
        );
        let rendered = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: registry.acme/web:latest\n    name: web\n  - image: ghcr.io/acme/side:1\n    name: side\n";
        let loaded = load_rendered("overlay (kustomize build)", rendered.into(), &[k]);
        let o = &loaded.objects[0];
        let at = |ptr: &str| {
            let w = o.written_at(ptr).unwrap();
            let file = w.file.strip_prefix(&dir.display().to_string()).unwrap();
            (file.to_owned(), w.pos.line, w.text)
        };
        assert_eq!(
            at("/spec/containers/0/image"),
            (
                "/overlay/kustomization.yaml".into(),
                6,
                "  newTag: latest".into()
            )
        );
        assert_eq!(
            at("/spec/containers/1/image"),
            (
                "/base/pod.yaml".into(),
                10,
                "    image: ghcr.io/acme/side:1".into()
            )
        );
        assert_eq!(
            super::repository("localhost:5000/web:1@sha256:ab"),
            "localhost:5000/web"
        );
        assert_eq!(super::repository("nginx"), "nginx");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
