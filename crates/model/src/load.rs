//! Sources: bytes from files, directories, stdin or other front ends become Kubernetes objects
//! with their origin and exact positions. Bad input becomes diagnostics; the rest goes on.

use crate::inventory::Object;
pub use crate::source::{DiagLevel, Diagnostic, Source};
use crate::yaml::{self, Node, Pos};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::paths::{expand_paths, is_credential_path, is_manifest_path, special_kind};

/// Largest file read; bigger files get a diagnostic and are skipped.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One input of a scan.
#[derive(Clone, Debug)]
pub enum Input {
    File(PathBuf),
    /// Bytes already in memory: stdin (`<stdin>`), an admission request.
    Bytes {
        name: String,
        bytes: Arc<[u8]>,
    },
    /// The output of a renderer (`kustomize build`) and the files it was rendered from: each
    /// rendered object that appears unchanged in one of the files is attributed to that file.
    Rendered {
        name: String,
        bytes: Arc<[u8]>,
        sources: Vec<PathBuf>,
    },
}

impl Input {
    pub fn load(&self) -> Loaded {
        match self {
            Input::File(p) => crate::load::load_file(p),
            Input::Bytes { name, bytes } => crate::load::load_bytes(name, bytes.to_vec()),
            Input::Rendered {
                name,
                bytes,
                sources,
            } => crate::load::load_rendered(name, bytes.to_vec(), sources),
        }
    }

    /// [`Input::load`], freeing in-memory bytes once copied (when this was their last holder).
    pub fn into_loaded(self) -> Loaded {
        match self {
            Input::Bytes { name, bytes } => {
                let owned = bytes.to_vec();
                drop(bytes);
                crate::load::load_bytes(&name, owned)
            }
            other => other.load(),
        }
    }

    /// The objects of the documents whose text `keep` accepts (a pre-filter such as
    /// [`may_hold_scalar`] or [`may_hold_word`]): phase 0 parses a few documents instead of every
    /// input twice. `keep` must accept any text that holds a text it accepts (a document is part
    /// of its file's text: one test of the whole text settles most files).
    pub fn load_where(&self, keep: &dyn Fn(&str) -> bool) -> Loaded {
        match self {
            // Most files hold none of the words: one search of the whole text settles them
            // without splitting or parsing.
            Input::File(p) => match read_file(p) {
                Ok(Ok(bytes)) if std::str::from_utf8(&bytes).is_ok_and(|t| !keep(t)) => Loaded {
                    bytes: bytes.len() as u64,
                    ..Loaded::default()
                },
                read => load_read(p, read, keep),
            },
            Input::Bytes { name, bytes } => {
                crate::load::load_bytes_where(name, bytes.to_vec(), keep)
            }
            // Attributing rendered objects to their files needs every object.
            Input::Rendered { bytes, .. } => match std::str::from_utf8(bytes) {
                Ok(text) if !keep(text) => Loaded {
                    bytes: bytes.len() as u64,
                    ..Loaded::default()
                },
                _ => self.load(),
            },
        }
    }
}

/// The result of reading one input.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    /// Mappings that are not Kubernetes objects (Helm values, a Docker `config.json`, a
    /// kubeconfig without `apiVersion`): not objects, but read for credentials committed in them.
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
    pub bytes: u64,
}

/// A YAML or JSON mapping that is not a Kubernetes object.
#[derive(Debug)]
pub struct Document {
    pub source: Arc<Source>,
    /// The document's index in its stream.
    pub doc_index: usize,
    pub root: Node,
}

/// Reads one input from bytes: YAML streams, JSON, `List` kinds. Never panics on bad bytes.
pub fn load_bytes(name: &str, bytes: Vec<u8>) -> Loaded {
    load_bytes_where(name, bytes, &|_| true)
}

/// Could a YAML document with this text hold a scalar equal to `word` (an identifier such as
/// `Namespace`)? An exact pre-filter, much cheaper than parsing: a scalar's characters appear
/// literally in the text (aliases and merge keys only repeat scalars of the same document), not
/// preceded by a letter, digit or `_` of the same scalar, and where the scalar ends: after spaces
/// or tabs at most, the end of the text or of a line, a comment, a flow indicator (`,[]{}`), a
/// key's `:` or a closing quote (a plain scalar goes on after a space only with more of itself:
/// `Namespace defines …` in a CRD's description is no `Namespace`). Unless the document has escapes
/// that can spell letters or join lines (`\x`, `\u`, `\U`, an escaped line break).
pub fn may_hold_scalar(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let ends_scalar = |b: &u8| {
        matches!(
            b,
            b'\n' | b'\r' | b'#' | b',' | b'[' | b']' | b'{' | b'}' | b':' | b'"' | b'\''
        ) || !b.is_ascii()
    };
    let bounded = |i: usize| {
        let before = i.checked_sub(1).map(|j| &bytes[j]);
        let mut after = bytes[i + word.len()..]
            .iter()
            .skip_while(|b| matches!(b, b' ' | b'\t'));
        !before.is_some_and(ident) && after.next().is_none_or(ends_scalar)
    };
    memchr::memmem::find_iter(bytes, word.as_bytes()).any(bounded) || has_spelling_escape(bytes)
}

/// Could a YAML document with this text hold a scalar in which `word` stands alone, between
/// characters that are not letters, digits or `_` (`gatekeeper` in
/// `constraints.gatekeeper.sh/v1`)? The looser twin of [`may_hold_scalar`], as exact.
pub fn may_hold_word(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let bounded = |i: usize| {
        let before = i.checked_sub(1).map(|j| &bytes[j]);
        !before.is_some_and(ident) && !bytes.get(i + word.len()).is_some_and(ident)
    };
    memchr::memmem::find_iter(bytes, word.as_bytes()).any(bounded) || has_spelling_escape(bytes)
}

/// Escapes that can spell letters or join lines (`\x`, `\u`, `\U`, an escaped line break).
fn has_spelling_escape(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', bytes)
        .any(|i| matches!(bytes.get(i + 1), Some(b'x' | b'u' | b'U' | b'\n' | b'\r')))
}

/// [`load_bytes`], reading only the documents whose text `keep` accepts (diagnostics of the
/// others are not reported).
pub fn load_bytes_where(name: &str, bytes: Vec<u8>, keep: &dyn Fn(&str) -> bool) -> Loaded {
    let mut out = Loaded {
        bytes: bytes.len() as u64,
        ..Loaded::default()
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let col = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
            let what = if e.as_bytes().contains(&0) {
                "binary file (contains NUL bytes)"
            } else {
                "invalid UTF-8"
            };
            out.diagnostics.push(Diagnostic::new(
                DiagLevel::Error,
                name,
                Some(Pos { line, col }),
                format!("{what}: Kubernetes manifests are UTF-8 text"),
            ));
            return out;
        }
    };
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() as u32 + 1;
        out.diagnostics.push(Diagnostic::new(
            DiagLevel::Error,
            name,
            Some(Pos { line, col: 1 }),
            "binary file (contains NUL bytes): Kubernetes manifests are text",
        ));
        return out;
    }
    let source = Arc::new(Source::new(name, lone_carriage_returns_to_line_feeds(text)));
    if crate::terraform::looks_like_hcl(&source.text) {
        return crate::terraform::load(source);
    }
    if crate::terraform::looks_like_terraform_json(&source.text) {
        return crate::terraform::load_json(source);
    }
    let is_template = source.text.contains("{{");
    let docs = yaml::parse_stream_where(&source.text, keep);
    for (doc_index, doc) in docs.into_iter().enumerate() {
        match doc {
            // A limit (`document has more than 2000000 nodes`, `document exceeds the memory
            // limit…`): the document is well-formed, only too large.
            Err(e) if e.message.starts_with("document ") => {
                out.diagnostics.push(Diagnostic::new(
                    DiagLevel::Error,
                    name,
                    Some(e.pos),
                    e.message,
                ));
            }
            Err(e) => {
                let mut message = format!("invalid YAML: {}", e.message);
                let line_text = source.line(e.pos.line).unwrap_or("");
                if is_template {
                    message.push_str(
                        " (this looks like a Helm or Go template: render it first, e.g. `helm template CHART | kubeharden scan -`)",
                    );
                } else if line_text.trim_start_matches(' ').starts_with('\t') {
                    message.push_str(" (a tab in indentation: YAML indents with spaces only)");
                }
                out.diagnostics.push(Diagnostic::new(
                    DiagLevel::Error,
                    name,
                    Some(e.pos),
                    message,
                ));
            }
            Ok(doc) => {
                for w in &doc.warnings {
                    out.diagnostics.push(Diagnostic::new(
                        DiagLevel::Warning,
                        name,
                        Some(w.pos),
                        w.message.clone(),
                    ));
                }
                let Some(root) = doc.root else { continue };
                if doc.after_end {
                    // Never applied (see `yaml::Doc::after_end`), still committed.
                    if !root.is_null() {
                        out.documents.push(Document {
                            source: Arc::clone(&source),
                            doc_index,
                            root,
                        });
                    }
                    continue;
                }
                let helm: Option<Arc<str>> = doc.helm_source.map(Arc::from);
                add_objects(&source, doc_index, helm, root, String::new(), &mut out);
            }
        }
    }
    out
}

/// A carriage return not followed by a line feed (classic Mac OS) ends a line for the YAML parser,
/// as for editors and go-yaml: it becomes a line feed, so that every line count (documents,
/// snippets, positions) agrees with the parser's. Same length: byte offsets stay valid.
fn lone_carriage_returns_to_line_feeds(text: String) -> String {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !memchr::memchr_iter(b'\r', bytes).any(lone) {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    String::from_utf8(bytes).expect("one ASCII byte replaced by another")
}

/// A Falco file read as an object named after its file (see [`crate::cloud::recognize_falco`]).
fn falco_object(kind: &str, source: &Arc<Source>, doc_index: usize, root: Node) -> Object {
    let mut object = Object::new(
        kind.to_owned(),
        crate::cloud::FALCO_API_VERSION.to_owned(),
        root,
        Arc::clone(source),
        doc_index,
        String::new(),
        None,
    );
    // The file's name without its extensions (`values.yaml` and its JSON form `values.yaml.json`
    // are the same object): the identity of an object does not depend on how it is written.
    let file = std::path::Path::new(&source.name)
        .file_name()
        .map_or_else(|| source.name.clone(), |n| n.to_string_lossy().into_owned());
    object.name = match file.split_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => file,
    };
    object
}

/// Unrolls `List` kinds; validates that a document is a Kubernetes object.
fn add_objects(
    source: &Arc<Source>,
    doc_index: usize,
    helm: Option<Arc<str>>,
    root: Node,
    base: String,
    out: &mut Loaded,
) {
    if !root.is_map() {
        if root.is_null() {
            return;
        }
        if let Some(kind) = crate::cloud::recognize_falco(&root) {
            out.objects
                .push(falco_object(kind, source, doc_index, root));
            return;
        }
        out.diagnostics.push(Diagnostic::new(
            DiagLevel::Note,
            &source.name,
            Some(root.pos),
            format!("skipped: a {} is not a Kubernetes object", root.kind_name()),
        ));
        return;
    }
    let kind = root.get("kind").and_then(Node::as_str).map(str::to_owned);
    let api_version = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .map(str::to_owned);
    let (Some(kind), Some(api_version)) = (kind, api_version) else {
        if let Some((kind, api_version, name)) = crate::cloud::recognize(&root) {
            let mut object = Object::new(
                kind.to_owned(),
                api_version.to_owned(),
                root,
                Arc::clone(source),
                doc_index,
                base,
                helm,
            );
            object.name = name;
            out.objects.push(object);
            return;
        }
        // Falco's Helm values or configuration: an object for the runtime rules, and still a
        // document read for committed credentials.
        if let Some(kind) = crate::cloud::recognize_falco(&root) {
            out.objects
                .push(falco_object(kind, source, doc_index, root.clone()));
        }
        out.diagnostics.push(Diagnostic::new(
            DiagLevel::Note,
            &source.name,
            Some(root.pos),
            "skipped: not a Kubernetes object (no string `apiVersion` and `kind`); read for committed credentials only",
        ));
        out.documents.push(Document {
            source: Arc::clone(source),
            doc_index,
            root,
        });
        return;
    };
    if kind.ends_with("List") && root.get("items").is_some_and(Node::is_seq) {
        let yaml::Value::Map(entries) = root.value else {
            return;
        };
        for entry in entries.into_iter().rev() {
            if entry.key == "items" {
                if let yaml::Value::Seq(items) = entry.value.value {
                    for (i, item) in items.into_iter().enumerate() {
                        add_objects(
                            source,
                            doc_index,
                            helm.clone(),
                            item,
                            format!("{base}/items/{i}"),
                            out,
                        );
                    }
                }
                break;
            }
        }
        return;
    }
    out.objects.push(Object::new(
        kind,
        api_version,
        root,
        Arc::clone(source),
        doc_index,
        base,
        helm,
    ));
}

/// Reads rendered output (e.g. `kustomize build`), attributing each object that appears unchanged
/// in one of the source files (or the resource files of the kustomizations among them and their
/// local bases) to that file and its exact lines; the others keep the rendered text, with the
/// [provenance](crate::kustomize) of their fields: findings point at the patch or resource file
/// that wrote the field.
pub fn load_rendered(name: &str, bytes: Vec<u8>, sources: &[PathBuf]) -> Loaded {
    let mut rendered = load_bytes(name, bytes);
    let kustomizations = crate::kustomize::Kustomizations::read(sources);
    let mut originals: Vec<Object> = Vec::new();
    let mut read: std::collections::HashSet<&Path> = std::collections::HashSet::new();
    for path in sources.iter().chain(&kustomizations.resource_files) {
        if read.insert(path.as_path()) {
            originals.extend(load_file(path).objects);
        }
    }
    let key = |o: &Object| (o.kind.clone(), o.name.clone(), o.namespace.clone());
    let mut by_identity: std::collections::HashMap<_, Vec<Object>> =
        std::collections::HashMap::new();
    for o in originals {
        by_identity.entry(key(&o)).or_default().push(o);
    }
    for object in rendered.objects.iter_mut() {
        let Some(candidates) = by_identity.get_mut(&key(object)) else {
            continue;
        };
        let json = object.root.to_json();
        if let Some(i) = candidates.iter().position(|c| c.root.to_json() == json) {
            *object = candidates.swap_remove(i);
        }
    }
    for object in rendered.objects.iter_mut() {
        if object.source.name == name {
            object.provenance = kustomizations
                .provenance(&object.kind, &object.name, object.namespace.as_deref())
                .map(Arc::new);
        }
    }
    rendered
}

/// Reads a file (size-limited) into objects and diagnostics.
pub fn load_file(path: &Path) -> Loaded {
    load_file_where(path, &|_| true)
}

/// [`load_file`], reading only the documents whose text `keep` accepts.
pub fn load_file_where(path: &Path, keep: &dyn Fn(&str) -> bool) -> Loaded {
    load_read(path, read_file(path), keep)
}

/// A file's bytes, or why there are none: an error, or its size over [`MAX_FILE_BYTES`].
type FileRead = std::io::Result<Result<Vec<u8>, u64>>;

/// Reads a file of at most [`MAX_FILE_BYTES`]: one open, one `fstat` (its size, checked before
/// reading, and the buffer's), then the reads.
fn read_file(path: &Path) -> FileRead {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Ok(Err(len));
    }
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len as usize)?;
    file.read_to_end(&mut bytes)?;
    Ok(Ok(bytes))
}

/// [`load_file_where`] once the file is read.
fn load_read(path: &Path, read: FileRead, keep: &dyn Fn(&str) -> bool) -> Loaded {
    let name = path.display().to_string();
    match read {
        Ok(Err(len)) => error_only(
            &name,
            format!("file is {len} bytes, larger than the {MAX_FILE_BYTES} byte limit; skipped"),
        ),
        Ok(Ok(bytes)) if !is_manifest_path(path) && is_credential_path(path) => {
            load_credential_file(&name, bytes)
        }
        Ok(Ok(bytes)) if crate::terraform::is_terraform_path(path) => {
            match String::from_utf8(bytes) {
                Ok(text) => crate::terraform::load_file(path, Arc::new(Source::new(&name, text))),
                Err(_) => error_only(
                    &name,
                    "invalid UTF-8: Terraform files are UTF-8 text".into(),
                ),
            }
        }
        Ok(Ok(bytes)) => load_bytes_where(&name, bytes, keep),
        Err(e) => error_only(&name, format!("cannot read: {e}")),
    }
}

/// A file named like a credential (`tls.key`, `id_rsa`, `.dockerconfigjson`, `*.kubeconfig`):
/// read as YAML or JSON when it is (a kubeconfig, a Docker config), otherwise kept whole as one
/// text document for the credential rules. Never an input error: it is not a manifest.
fn load_credential_file(name: &str, bytes: Vec<u8>) -> Loaded {
    let len = bytes.len() as u64;
    let Ok(text) = String::from_utf8(bytes) else {
        return Loaded {
            diagnostics: vec![Diagnostic::new(
                DiagLevel::Note,
                name,
                None,
                "not read: a binary file named like a key or credential (only text files are checked for committed credentials)",
            )],
            bytes: len,
            ..Loaded::default()
        };
    };
    if !text.contains("-----BEGIN") {
        return load_bytes(name, text.into_bytes());
    }
    let source = Arc::new(Source::new(name, text.clone()));
    let root = Node {
        pos: Pos { line: 1, col: 1 },
        value: yaml::Value::Scalar(yaml::Scalar {
            text: text.into(),
            style: yaml::Style::Block,
            tag: None,
        }),
    };
    Loaded {
        documents: vec![Document {
            source,
            doc_index: 0,
            root,
        }],
        bytes: len,
        ..Loaded::default()
    }
}

fn error_only(name: &str, message: String) -> Loaded {
    Loaded {
        diagnostics: vec![Diagnostic::new(DiagLevel::Error, name, None, message)],
        ..Loaded::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_unrolled_with_pointers() {
        let l = load_bytes(
            "x.yaml",
            b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n".to_vec(),
        );
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.objects[1].kind, "Service");
        assert_eq!(l.objects[1].base, "/items/1");
        assert_eq!(l.objects[1].root.pos.line, 7);
    }

    #[test]
    fn lines_are_those_of_str_lines() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\n\n",
            "\n",
            "a\r\nb\r\n",
            "a\r",
            "a\rb\n",
            "\r\n\r\n",
            "é\nü",
        ] {
            let source = Source::new("x", text);
            let expected: Vec<&str> = text.lines().collect();
            let got: Vec<&str> = (1..).map_while(|l| source.line(l)).collect();
            assert_eq!(got, expected, "{text:?}");
            assert_eq!(source.line(0), None);
            assert_eq!(source.line(expected.len() as u32 + 1), None);
        }
    }

    #[test]
    fn excerpts_keep_line_numbers() {
        let source = Source::new("x", "a\nb\r\nc\nd\n");
        let e = source.excerpt(2, 3);
        assert_eq!(e.text, "b\nc\n");
        assert_eq!(
            (0..7).map(|l| e.line(l)).collect::<Vec<_>>(),
            [None, None, Some("b"), Some("c"), None, None, None]
        );
        assert_eq!(e.excerpt(1, 9).line(3), Some("c"));
        assert_eq!(source.excerpt(3, 99).text, "c\nd\n");
    }

    #[test]
    fn scalar_prefilter() {
        for yes in [
            "kind: Namespace",
            "kind: 'Namespace'\n",
            "{\"kind\":\"Namespace\"}",
            "kind: !!str Namespace",
            "k: &n Namespace\nkind: *n",
            "kind: >-\n  Namespace\n",
            "kind: \"Name\\\n  space\"",
            "kind: \"\\x4eamespace\"",
            "kind: \"\\u004eamespace\"",
            "Namespace",
            "é Namespace",
            "kind: Namespace  # a comment\n",
            "kind: Namespace\t\r\nx: y",
            "kinds: [Pod, Namespace]",
            "{kind: Namespace }",
            "Namespace: key",
            "kind: |-\n  Namespace\n",
        ] {
            assert!(may_hold_scalar(yes, "Namespace"), "{yes}");
        }
        for no in [
            "kind: Pod\nspec: {targetNamespace: a, NamespaceSelector: b}",
            "kind: Namespaces",
            "kind: \"Name\\tspace\"",
            "kind: Name space",
            "",
            // A CRD's descriptions: the word begins a longer plain or quoted scalar.
            "description: Namespace defines the namespace of the referent.",
            "description: |\n  The target.\n  Namespace sets the namespace\n",
            "description: \"Namespace is the namespace of the referent.\"",
            "kind: Namespace-x",
        ] {
            assert!(!may_hold_scalar(no, "Namespace"), "{no}");
        }
    }

    /// Does the tree hold a key or a scalar equal to `word`?
    fn holds(n: &crate::yaml::Node, word: &str) -> bool {
        use crate::yaml::Value;
        match &n.value {
            Value::Scalar(s) => s.text == word,
            Value::Seq(items) => items.iter().any(|i| holds(i, word)),
            Value::Map(entries) => entries
                .iter()
                .any(|e| e.key == word || holds(&e.value, word)),
        }
    }

    /// [`scalar_prefilter_agrees_with_the_parser`] over a corpus (`KUBEHARDEN_CORPUS`): every
    /// document holding the scalar `Namespace` passes both pre-filters, [`may_hold_scalar`] and
    /// its looser twin [`may_hold_word`]. Slow unoptimised: run with `--ignored`.
    #[test]
    #[ignore]
    fn scalar_prefilters_agree_with_the_parser_over_the_corpus() {
        let (mut docs, mut held, mut refused) = (0, 0, 0);
        let walked = crate::yaml::each_corpus_text(|p, text| {
            for chunk in crate::yaml::split_documents(text) {
                docs += 1;
                let parsed = crate::yaml::parse_stream(chunk.text);
                let mut roots = parsed.iter().flatten().filter_map(|d| d.root.as_ref());
                let ns = roots.any(|r| holds(r, "Namespace"));
                held += usize::from(ns);
                let at = format!("{}:{}", p.display(), chunk.first_line);
                assert!(!ns || may_hold_scalar(chunk.text, "Namespace"), "{at}");
                assert!(!ns || may_hold_word(chunk.text, "Namespace"), "{at}");
                refused += usize::from(!may_hold_scalar(chunk.text, "Namespace"));
            }
        });
        if !walked {
            return;
        }
        eprintln!("{docs} documents, {held} hold Namespace, {refused} refused by the pre-filter");
        assert!(held > 0 && refused > held);
    }

    #[test]
    fn word_prefilter() {
        for yes in [
            "apiVersion: constraints.gatekeeper.sh/v1beta1",
            "kind: ConstraintTemplate # x",
            "x: \"\\x67atekeeper\"",
        ] {
            assert!(
                may_hold_word(yes, "gatekeeper") || may_hold_word(yes, "ConstraintTemplate"),
                "{yes}"
            );
        }
        assert!(may_hold_word("description: Namespace defines", "Namespace"));
        assert!(!may_hold_scalar(
            "description: Namespace defines",
            "Namespace"
        ));
        assert!(!may_hold_word(
            "a: gatekeepers\nb: opengatekeeper",
            "gatekeeper"
        ));
    }

    /// The pre-filter never refuses a document whose parse holds the scalar: every way of writing
    /// `Namespace` as a key or a value, in block and flow style, with what may follow it.
    #[test]
    fn scalar_prefilter_agrees_with_the_parser() {
        let writings = [
            "Namespace",
            "'Namespace'",
            "\"Namespace\"",
            "!!str Namespace",
            "&a Namespace",
        ];
        let after = ["", " ", "\t", "  # note", "\r"];
        let mut docs = Vec::new();
        for w in writings {
            for a in after {
                docs.push(format!("kind: {w}{a}\nx: 1\n"));
                docs.push(format!("kind: {w}{a}"));
                docs.push(format!("{w}{a}: 1\n"));
                docs.push(format!("- {w}{a}\n- b\n"));
                docs.push(format!("k: [{w}{a}, b]\n"));
                docs.push(format!("k: {{a: {w}{a}}}\n"));
                docs.push(format!("k: {{{w}{a}: 1}}\n"));
                docs.push(format!("k:\n  {w}{a}\n"));
            }
        }
        for d in [
            "k: |-\n  Namespace\n",
            "k: >-\n  Namespace\n",
            "k: \"Namespace\n  \"\n",
        ] {
            docs.push(d.to_string());
        }
        let mut held = 0;
        for d in &docs {
            let parsed = crate::yaml::parse_stream(d);
            let mut roots = parsed.iter().flatten().filter_map(|doc| doc.root.as_ref());
            if roots.any(|r| holds(r, "Namespace")) {
                held += 1;
                assert!(may_hold_scalar(d, "Namespace"), "{d:?}");
            }
        }
        assert!(held > docs.len() / 2, "{held} of {}", docs.len());
    }

    #[test]
    fn json_input() {
        let l = load_bytes(
            "x.json",
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}"#.to_vec(),
        );
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.objects[0].name, "a");
    }

    #[test]
    fn json_as_kubectl_reads_it() {
        // Two objects one after the other on one line, and tabs after colons and in indentation.
        let l = load_bytes(
            "two.json",
            b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}{\"apiVersion\":\t\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\"}}\n".to_vec(),
        );
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let names: Vec<(&str, usize, u32)> = l
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.doc_index, o.root.pos.col))
            .collect();
        assert_eq!(names, [("a", 0, 1), ("b", 1, 57)]);
        let l = load_bytes(
            "tabs.json",
            b"{\n\t\"apiVersion\":\t\"v1\",\n\t\"kind\":\t\"Pod\",\n\t\"metadata\":\t{\"name\":\t\"a\"}\n}\n".to_vec(),
        );
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(l.objects[0].name, "a");
        assert_eq!(
            l.objects[0].locate("/metadata/name"),
            Pos { line: 4, col: 15 }
        );
    }

    #[test]
    fn a_document_over_the_memory_limit_is_an_error_naming_its_line() {
        // Three documents of 1.9 million one-character items each (under the node limit of a
        // document): 11.4 MB of text, 76 MB of nodes each, 228 MB for the three: the third
        // goes over what the input may take.
        let mut text = String::new();
        for name in ["a", "b", "c"] {
            text.push_str(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: ["
            ));
            text.push_str(&"1,".repeat(1_900_000));
            text.push_str("]\n---\n");
        }
        text.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n");
        let l = load_bytes("big.yaml", text.into_bytes());
        assert_eq!(l.diagnostics.len(), 1, "{:?}", l.diagnostics);
        let d = &l.diagnostics[0];
        assert_eq!(
            (d.level, d.origin.as_str(), d.line),
            (DiagLevel::Error, "big.yaml", Some(14))
        );
        assert!(
            d.message.starts_with(
                "document exceeds the memory limit: this input's documents would need more than \
                 206 MiB (16 bytes per byte of its 11400243 bytes, plus 32 MiB)"
            ),
            "{d:?}"
        );
        // The other documents are read.
        let names: Vec<&str> = l.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d"]);
    }

    #[test]
    fn bad_input_yields_diagnostics_and_goes_on() {
        let l = load_bytes(
            "x.yaml",
            b"a: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n".to_vec(),
        );
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].level, DiagLevel::Error);
        let bin = load_bytes("b.yaml", vec![0x61, 0xff, 0xfe, 0x00]);
        assert_eq!(bin.diagnostics.len(), 1);
        let tab = load_bytes("t.yaml", b"a:\n\tb: 1\n".to_vec());
        assert!(
            tab.diagnostics[0].message.contains("tab"),
            "{:?}",
            tab.diagnostics
        );
        let helm = load_bytes("h.yaml", b"a: {{ .Values.x }}\nb: [\n".to_vec());
        assert!(
            helm.diagnostics[0].message.contains("Helm"),
            "{:?}",
            helm.diagnostics
        );
    }
}
