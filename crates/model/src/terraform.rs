//! Terraform configuration (`.tf`, HCL) as objects: the resources of managed Kubernetes clusters
//! (EKS, GKE, AKS and their access entries and diagnostic settings) become [`Object`]s whose kind
//! is the resource type (`aws_eks_cluster`), whose name is the resource name, and whose tree is
//! the resource body with the exact line and column of every attribute and block, so that rules
//! read them like any other object and findings point at the setting.
//!
//! Parsed with `hcl-rs` (its `hcl-edit` parser keeps the byte span of every attribute, block and
//! expression). Values are read as written: literals (strings, numbers, booleans, null, lists,
//! objects), and the simple references `var.NAME` (the value in `terraform.tfvars` or
//! `*.auto.tfvars`, else the `default` of a `variable` block) and `local.NAME` (a `locals`
//! entry), from any file of the same module directory ([`load_file`]; on stdin, of the same
//! text). Anything else — another resource's attribute, a module output, a function call, an
//! interpolation, a conditional, a variable without a value in the directory — is kept
//! as a scalar tagged [`UNRESOLVED_TAG`] holding the expression's text: rules report such a value
//! as not assessed, never guess it. Nested blocks are lists (as in Terraform's JSON form), so
//! the first `vpc_config` block of a resource is at `/vpc_config/0`.

use crate::inventory::Object;
use crate::load::Loaded;
use crate::source::{DiagLevel, Diagnostic, Source};
use crate::yaml::{Entry, Node, Pos, Scalar, Style, Text, Value};
use hcl::edit::Span;
use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::structure::{Block, BlockLabel, Body};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The `apiVersion` of objects read from Terraform (their group is `terraform`).
pub const API_VERSION: &str = "terraform/v1";
/// The tag of a scalar whose value is an expression that could not be resolved offline.
pub const UNRESOLVED_TAG: &str = "!terraform-expression";

/// The resource types read: managed clusters and what settles their access and audit logging.
pub const RESOURCE_TYPES: &[&str] = &[
    "aws_eks_cluster",
    "aws_eks_access_entry",
    "aws_eks_access_policy_association",
    "google_container_cluster",
    "azurerm_kubernetes_cluster",
    "azurerm_monitor_diagnostic_setting",
];

/// Is this a Terraform file by its name (`.tf`, or `.tf.json` in Terraform's JSON syntax)?
pub fn is_terraform_path(path: &std::path::Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("tf") || is_terraform_json_path(path)
}

/// Is this a file in Terraform's JSON syntax (`.tf.json`)?
pub fn is_terraform_json_path(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tf.json"))
}

/// The kind of an object read from a `module` block that calls one of [`module_source`]'s
/// registry modules; its name is the module's label, its tree the module's inputs as written.
pub const MODULE_KIND: &str = "module";

/// The managed-cluster registry modules followed, by the `source` users write (a registry
/// address, optionally `registry.terraform.io/`-prefixed, or the module's GitHub repository;
/// `?ref=` and version constraints do not matter): `eks` for `terraform-aws-modules/eks/aws`,
/// `gke` for `terraform-google-modules/kubernetes-engine/google` and its cluster submodules
/// (`//modules/private-cluster`, `beta-private-cluster`, …), `aks` for `Azure/aks/azurerm`.
pub fn module_source(source: &str) -> Option<&'static str> {
    let mut s = source.trim().to_ascii_lowercase();
    for prefix in [
        "git::",
        "https://",
        "http://",
        "registry.terraform.io/",
        "github.com/",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_owned();
        }
    }
    if let Some(at) = s.find('?') {
        s.truncate(at);
    }
    let (repo, sub) = match s.split_once("//") {
        Some((r, sub)) => (
            r.trim_end_matches(".git").to_owned(),
            sub.trim_matches('/').to_owned(),
        ),
        None => (s.trim_end_matches(".git").to_owned(), String::new()),
    };
    match repo.as_str() {
        "terraform-aws-modules/eks/aws" | "terraform-aws-modules/terraform-aws-eks"
            if sub.is_empty() =>
        {
            Some("eks")
        }
        "terraform-google-modules/kubernetes-engine/google"
        | "terraform-google-modules/terraform-google-kubernetes-engine"
            if sub.is_empty()
                || matches!(
                    sub.as_str(),
                    "modules/private-cluster"
                        | "modules/private-cluster-update-variant"
                        | "modules/beta-private-cluster"
                        | "modules/beta-private-cluster-update-variant"
                        | "modules/beta-public-cluster"
                        | "modules/beta-public-cluster-update-variant"
                        | "modules/beta-autopilot-private-cluster"
                        | "modules/beta-autopilot-public-cluster"
                ) =>
        {
            Some("gke")
        }
        "azure/aks/azurerm" | "azure/terraform-azurerm-aks" if sub.is_empty() => Some("aks"),
        _ => None,
    }
}

/// Does this text look like Terraform rather than YAML (for stdin, which has no name): its first
/// line that is not blank or a comment opens a top-level HCL block (`resource "TYPE" "NAME" {`,
/// `variable "x" {`, `locals {`, `terraform {`…). No YAML document starts that way.
pub fn looks_like_hcl(text: &str) -> bool {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
    else {
        return false;
    };
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let keyword = matches!(
        first,
        "resource"
            | "data"
            | "provider"
            | "module"
            | "variable"
            | "locals"
            | "terraform"
            | "output"
    );
    keyword
        && rest.last() == Some(&"{")
        && rest[..rest.len() - 1].iter().all(|w| w.starts_with('"'))
}

/// Reads a Terraform file: the resources of [`RESOURCE_TYPES`] as objects; a syntax error is an
/// error diagnostic at its line. References resolve within this text only (stdin).
pub fn load(source: Arc<Source>) -> Loaded {
    load_in(source, None)
}

/// [`load`] for a file of a module directory: `var.NAME` and `local.NAME` also resolve from the
/// other `.tf` files of its directory (a `variables.tf`, a `locals.tf`), and a variable's value
/// from `terraform.tfvars` and `*.auto.tfvars` there (which Terraform reads without being asked),
/// over its `default`.
pub fn load_file(path: &Path, source: Arc<Source>) -> Loaded {
    if is_terraform_json_path(path) {
        return load_json(source);
    }
    load_in(source, path.parent())
}

/// At most this many other files of a module directory are read for its variables and locals.
const MAX_SIBLINGS: usize = 256;
/// Files larger than this are not read for variables and locals.
const MAX_SIBLING_BYTES: u64 = 4 << 20;

/// Files of a module directory with their parsed bodies.
type Parsed = Vec<(String, Body)>;

/// The other `.tf` files (`variable` and `locals` blocks) and the tfvars files (values) of a
/// module directory, parsed; unreadable or invalid ones are skipped (each is also scanned on its
/// own, where its error is reported).
fn siblings(dir: &Path, own: &str) -> (Parsed, Parsed) {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return Default::default();
    };
    let mut names: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let own = Path::new(own);
    let mut tf = Vec::new();
    let mut tfvars = Vec::new();
    let mut auto = Vec::new();
    for p in names.into_iter().take(MAX_SIBLINGS) {
        if p == own || p.file_name() == own.file_name() && p.parent() == own.parent() {
            continue;
        }
        let file = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let bucket = if is_terraform_path(&p) {
            &mut tf
        } else if file == "terraform.tfvars" {
            &mut tfvars
        } else if file.ends_with(".auto.tfvars") {
            &mut auto
        } else {
            continue;
        };
        if std::fs::metadata(&p).map_or(true, |m| m.len() > MAX_SIBLING_BYTES) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        if let Ok(body) = hcl::edit::parser::parse_body(&text) {
            bucket.push((text, body));
        }
    }
    // terraform.tfvars first, then *.auto.tfvars in lexical order: later values win.
    tfvars.extend(auto);
    (tf, tfvars)
}

fn load_in(source: Arc<Source>, dir: Option<&Path>) -> Loaded {
    let mut out = Loaded {
        bytes: source.text.len() as u64,
        ..Loaded::default()
    };
    let body = match hcl::edit::parser::parse_body(&source.text) {
        Ok(b) => b,
        Err(e) => {
            let loc = e.location();
            out.diagnostics.push(Diagnostic::new(
                DiagLevel::Error,
                &source.name,
                Some(Pos {
                    line: loc.line() as u32,
                    col: loc.column() as u32,
                }),
                format!("invalid Terraform (HCL): {}", e.message()),
            ));
            return out;
        }
    };
    // Other files of the module directory, read only when this file holds a resource of interest.
    let relevant = body.iter().filter_map(|s| s.as_block()).any(|b| {
        (b.ident.value().as_str() == "resource"
            && labels(b)
                .first()
                .is_some_and(|k| RESOURCE_TYPES.contains(k)))
            || hcl_module_source(b).is_some()
    });
    let (tf, tfvars) = match dir {
        Some(d) if relevant => siblings(d, &source.name),
        _ => Default::default(),
    };
    let mut conv = Converter::new(&source.text, &body);
    for (text, b) in &tf {
        conv.definitions(text, b);
    }
    for (text, b) in &tfvars {
        conv.values(text, b);
    }
    let mut doc_index = 0;
    for block in body.iter().filter_map(|s| s.as_block()) {
        let (kind, name) = match (block.ident.value().as_str(), &labels(block)[..]) {
            ("resource", [kind, name]) if RESOURCE_TYPES.contains(kind) => (*kind, *name),
            ("module", [name]) if hcl_module_source(block).is_some() => (MODULE_KIND, *name),
            _ => continue,
        };
        let pos = conv.pos(block.span());
        let mut entries = vec![Entry {
            key: "metadata".into(),
            key_pos: pos,
            value: map(
                pos,
                vec![Entry {
                    key: "name".into(),
                    key_pos: pos,
                    value: string(pos, name),
                }],
            ),
        }];
        entries.extend(conv.body(&block.body, 0));
        out.objects.push(Object::new(
            kind.to_owned(),
            API_VERSION.to_owned(),
            map(pos, entries),
            Arc::clone(&source),
            doc_index,
            String::new(),
            None,
        ));
        doc_index += 1;
    }
    if out.objects.is_empty() {
        out.diagnostics.push(Diagnostic::new(
            DiagLevel::Note,
            &source.name,
            None,
            "Terraform file without a managed-cluster resource (aws_eks_cluster, google_container_cluster, azurerm_kubernetes_cluster…); nothing read",
        ));
    }
    out
}

/// Reads a file in Terraform's JSON syntax (`.tf.json`,
/// https://developer.hashicorp.com/terraform/language/syntax/json) as [`load`] reads HCL: the
/// resources of [`RESOURCE_TYPES`] (`{"resource": {"TYPE": {"NAME": {…}}}}`) and the `module`
/// blocks of the registry modules of [`module_source`], at the exact line of every property.
/// A nested block is an object or an array of objects: both become a list, as in HCL. Strings
/// are templates: `"${var.NAME}"` and `"${local.NAME}"` resolve from the `variable` defaults and
/// `locals` of the same file; any other `${…}` is an expression left unresolved
/// ([`UNRESOLVED_TAG`]). Properties named `//` are comments.
pub fn load_json(source: Arc<Source>) -> Loaded {
    let mut out = Loaded {
        bytes: source.text.len() as u64,
        ..Loaded::default()
    };
    let root = match crate::yaml::parse_stream(&source.text).into_iter().next() {
        Some(Ok(crate::yaml::Doc {
            root: Some(root), ..
        })) if root.is_map() => root,
        Some(Err(e)) => {
            out.diagnostics.push(Diagnostic::new(
                DiagLevel::Error,
                &source.name,
                Some(e.pos),
                format!("invalid Terraform (JSON): {}", e.message),
            ));
            return out;
        }
        _ => {
            out.diagnostics.push(Diagnostic::new(
                DiagLevel::Error,
                &source.name,
                None,
                "invalid Terraform (JSON): the file is not a JSON object",
            ));
            return out;
        }
    };
    let json = Json::new(&root);
    let mut doc_index = 0;
    let mut push = |kind: &str, name: &str, pos: Pos, body: Vec<Entry>| {
        let mut entries = vec![Entry {
            key: "metadata".into(),
            key_pos: pos,
            value: map(
                pos,
                vec![Entry {
                    key: "name".into(),
                    key_pos: pos,
                    value: string(pos, name),
                }],
            ),
        }];
        entries.extend(body);
        out.objects.push(Object::new(
            kind.to_owned(),
            API_VERSION.to_owned(),
            map(pos, entries),
            Arc::clone(&source),
            doc_index,
            String::new(),
            None,
        ));
        doc_index += 1;
    };
    for by_type in json_blocks(root.get("resource")) {
        for t in by_type.entries() {
            if !RESOURCE_TYPES.contains(&t.key.as_str()) {
                continue;
            }
            for r in json_blocks(Some(&t.value)) {
                for e in r.entries() {
                    for body in json_blocks(Some(&e.value)) {
                        push(&t.key, &e.key, e.key_pos, json.body(body, true, 0));
                    }
                }
            }
        }
    }
    for m in json_blocks(root.get("module")) {
        for e in m.entries() {
            for body in json_blocks(Some(&e.value)) {
                let known = body
                    .get("source")
                    .and_then(Node::as_str)
                    .and_then(module_source);
                if known.is_some() {
                    push(MODULE_KIND, &e.key, e.key_pos, json.body(body, false, 0));
                }
            }
        }
    }
    if out.objects.is_empty() {
        out.diagnostics.push(Diagnostic::new(
            DiagLevel::Note,
            &source.name,
            None,
            "Terraform file without a managed-cluster resource (aws_eks_cluster, google_container_cluster, azurerm_kubernetes_cluster…); nothing read",
        ));
    }
    out
}

/// Does this JSON text (stdin has no name) hold Terraform's JSON syntax with something
/// [`load_json`] reads: a top-level `resource` of [`RESOURCE_TYPES`] or a `module` of
/// [`module_source`]?
pub fn looks_like_terraform_json(text: &str) -> bool {
    if !text.trim_start().starts_with('{')
        || !(text.contains("\"resource\"") || text.contains("\"module\""))
    {
        return false;
    }
    let Some(Ok(crate::yaml::Doc {
        root: Some(root), ..
    })) = crate::yaml::parse_stream(text).into_iter().next()
    else {
        return false;
    };
    if root.get("apiVersion").is_some() || root.get("kind").is_some() {
        return false;
    }
    json_blocks(root.get("resource")).iter().any(|r| {
        r.entries()
            .iter()
            .any(|t| RESOURCE_TYPES.contains(&t.key.as_str()))
    }) || json_blocks(root.get("module")).iter().any(|m| {
        m.entries().iter().any(|e| {
            json_blocks(Some(&e.value)).iter().any(|b| {
                b.get("source")
                    .and_then(Node::as_str)
                    .and_then(module_source)
                    .is_some()
            })
        })
    })
}

/// A JSON block value: an object, or an array of objects (each a block).
fn json_blocks(n: Option<&Node>) -> Vec<&Node> {
    match n {
        Some(n) if n.is_map() => vec![n],
        Some(n) if n.is_seq() => n.items().iter().filter(|i| i.is_map()).collect(),
        _ => Vec::new(),
    }
}

/// The `variable` defaults and `locals` of a `.tf.json` file, to resolve `${var.X}`/`${local.X}`.
struct Json<'a> {
    variables: HashMap<&'a str, &'a Node>,
    locals: HashMap<&'a str, &'a Node>,
}

impl<'a> Json<'a> {
    fn new(root: &'a Node) -> Self {
        let mut variables = HashMap::new();
        let mut locals = HashMap::new();
        for v in json_blocks(root.get("variable")) {
            for e in v.entries() {
                for b in json_blocks(Some(&e.value)) {
                    if let Some(d) = b.get("default") {
                        variables.entry(e.key.as_str()).or_insert(d);
                    }
                }
            }
        }
        for l in json_blocks(root.get("locals")) {
            for e in l.entries() {
                locals.entry(e.key.as_str()).or_insert(&e.value);
            }
        }
        Json { variables, locals }
    }

    /// A block body: objects nested in it are blocks (lists) when `blocks` (a resource), kept
    /// as objects otherwise (a module's inputs are attributes).
    fn body(&self, body: &Node, blocks: bool, depth: usize) -> Vec<Entry> {
        body.entries()
            .iter()
            .filter(|e| e.key != "//")
            .map(|e| {
                let value = if blocks && e.value.is_map() {
                    Node {
                        pos: e.value.pos,
                        value: Value::Seq(vec![map(e.value.pos, self.body(&e.value, true, depth))]),
                    }
                } else if blocks
                    && e.value.is_seq()
                    && !e.value.items().is_empty()
                    && e.value.items().iter().all(Node::is_map)
                {
                    Node {
                        pos: e.value.pos,
                        value: Value::Seq(
                            e.value
                                .items()
                                .iter()
                                .map(|i| map(i.pos, self.body(i, true, depth)))
                                .collect(),
                        ),
                    }
                } else {
                    self.value(&e.value, None, depth)
                };
                Entry {
                    key: e.key.clone(),
                    key_pos: e.key_pos,
                    value,
                }
            })
            .collect()
    }

    /// A value; `at` places a resolved reference's value at its use.
    fn value(&self, n: &Node, at: Option<Pos>, depth: usize) -> Node {
        let pos = at.unwrap_or(n.pos);
        match &n.value {
            Value::Map(entries) => map(
                pos,
                entries
                    .iter()
                    .filter(|e| e.key != "//")
                    .map(|e| Entry {
                        key: e.key.clone(),
                        key_pos: at.unwrap_or(e.key_pos),
                        value: self.value(&e.value, at, depth),
                    })
                    .collect(),
            ),
            Value::Seq(items) => Node {
                pos,
                value: Value::Seq(items.iter().map(|i| self.value(i, at, depth)).collect()),
            },
            Value::Scalar(sc) if sc.style == Style::Quoted && sc.text.contains("${") => {
                let inner = sc
                    .text
                    .strip_prefix("${")
                    .and_then(|t| t.strip_suffix('}'))
                    .filter(|t| !t.contains("${") && !t.contains('}'))
                    .map(str::trim);
                let target = inner.and_then(|t| {
                    let (scope, name) = t.split_once('.')?;
                    if name.contains(['.', '[', ' ', '(']) {
                        return None;
                    }
                    match scope {
                        "var" => self.variables.get(name).copied(),
                        "local" => self.locals.get(name).copied(),
                        _ => None,
                    }
                });
                match target {
                    Some(t) if depth < MAX_DEPTH => self.value(t, Some(pos), depth + 1),
                    _ => scalar(
                        pos,
                        inner.map_or_else(|| sc.text.clone(), Text::from),
                        Style::Plain,
                        Some(UNRESOLVED_TAG),
                    ),
                }
            }
            _ => Node {
                pos,
                value: n.value.clone(),
            },
        }
    }
}

/// The registry module a `module` block calls (its `source` is a literal string).
fn hcl_module_source(b: &Block) -> Option<&'static str> {
    if b.ident.value().as_str() != "module" {
        return None;
    }
    b.body
        .iter()
        .filter_map(|s| s.as_attribute())
        .find(|a| a.key.value().as_str() == "source")
        .and_then(|a| match &a.value {
            Expression::String(s) => module_source(s.value()),
            _ => None,
        })
}

fn labels(block: &Block) -> Vec<&str> {
    block
        .labels
        .iter()
        .map(|l| match l {
            BlockLabel::Ident(i) => i.value().as_str(),
            BlockLabel::String(s) => s.value().as_str(),
        })
        .collect()
}

fn map(pos: Pos, entries: Vec<Entry>) -> Node {
    Node {
        pos,
        value: Value::Map(entries),
    }
}

fn scalar(pos: Pos, text: impl Into<Text>, style: Style, tag: Option<&str>) -> Node {
    Node {
        pos,
        value: Value::Scalar(Scalar {
            text: text.into(),
            style,
            tag: tag.map(|t| Box::new(t.to_owned())),
        }),
    }
}

fn string(pos: Pos, text: &str) -> Node {
    scalar(pos, text.to_owned(), Style::Quoted, None)
}

/// References are followed this deep (`local.a = local.b`…), then left unresolved.
const MAX_DEPTH: usize = 8;

/// An expression with the text of the file it is written in (for its source when unresolved).
type Def<'a> = (&'a str, &'a Expression);

struct Converter<'a> {
    text: &'a str,
    /// Byte offset of the start of each line.
    lines: Vec<usize>,
    variables: HashMap<&'a str, Def<'a>>,
    locals: HashMap<&'a str, Def<'a>>,
}

impl<'a> Converter<'a> {
    fn new(text: &'a str, body: &'a Body) -> Self {
        let mut lines = vec![0];
        lines.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let mut conv = Converter {
            text,
            lines,
            variables: HashMap::new(),
            locals: HashMap::new(),
        };
        conv.definitions(text, body);
        conv
    }

    /// The `variable` defaults and `locals` of a body (this file's, or another file's of the
    /// same module directory). A name defined twice keeps its first definition (Terraform
    /// rejects the module).
    fn definitions(&mut self, text: &'a str, body: &'a Body) {
        for block in body.iter().filter_map(|s| s.as_block()) {
            match (block.ident.value().as_str(), &labels(block)[..]) {
                ("variable", [name]) => {
                    if let Some(d) = block
                        .body
                        .iter()
                        .filter_map(|s| s.as_attribute())
                        .find(|a| a.key.value().as_str() == "default")
                    {
                        self.variables.entry(*name).or_insert((text, &d.value));
                    }
                }
                ("locals", []) => {
                    for a in block.body.iter().filter_map(|s| s.as_attribute()) {
                        self.locals
                            .entry(a.key.value().as_str())
                            .or_insert((text, &a.value));
                    }
                }
                _ => {}
            }
        }
    }

    /// Variable values of a tfvars file (`NAME = value`), over the defaults.
    fn values(&mut self, text: &'a str, body: &'a Body) {
        for a in body.iter().filter_map(|s| s.as_attribute()) {
            self.variables
                .insert(a.key.value().as_str(), (text, &a.value));
        }
    }

    /// Line and column (characters, 1-based) of a span's start.
    fn pos(&self, span: Option<std::ops::Range<usize>>) -> Pos {
        let at = span.map_or(0, |s| s.start).min(self.text.len());
        let line = self.lines.partition_point(|&s| s <= at);
        let start = self.lines[line - 1];
        let col = self
            .text
            .get(start..at)
            .map_or(1, |s| s.chars().count() + 1);
        Pos {
            line: line as u32,
            col: col as u32,
        }
    }

    /// A body's attributes and blocks, nested blocks of one type gathered in a list.
    fn body(&self, body: &Body, depth: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for s in body.iter() {
            if let Some(a) = s.as_attribute() {
                let key_pos = self.pos(a.key.span());
                entries.push(Entry {
                    key: a.key.value().as_str().into(),
                    key_pos,
                    value: self.expr(self.text, &a.value, key_pos, depth),
                });
            } else if let Some(b) = s.as_block() {
                let key = b.ident.value().as_str();
                let pos = self.pos(b.span());
                let node = map(pos, self.body(&b.body, depth));
                match entries.iter_mut().find(|e| e.key == key) {
                    Some(Entry {
                        value:
                            Node {
                                value: Value::Seq(items),
                                ..
                            },
                        ..
                    }) => items.push(node),
                    _ => entries.push(Entry {
                        key: key.into(),
                        key_pos: pos,
                        value: Node {
                            pos,
                            value: Value::Seq(vec![node]),
                        },
                    }),
                }
            }
        }
        entries
    }

    /// An expression's value (written in `text`); `at` is where a resolved reference's value is
    /// placed (its use).
    fn expr(&self, text: &str, e: &Expression, at: Pos, depth: usize) -> Node {
        let pos = if depth == 0 { self.pos(e.span()) } else { at };
        match e {
            Expression::Null(_) => scalar(pos, "null", Style::Plain, None),
            Expression::Bool(b) => scalar(pos, b.value().to_string(), Style::Plain, None),
            Expression::Number(n) => scalar(pos, n.value().to_string(), Style::Plain, None),
            Expression::String(s) => string(pos, s.value()),
            Expression::Array(a) => Node {
                pos,
                value: Value::Seq(a.iter().map(|v| self.expr(text, v, pos, depth)).collect()),
            },
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().as_str().to_owned(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(other) => source_of(text, other),
                    };
                    let key_pos = if depth == 0 { self.pos(k.span()) } else { at };
                    entries.push(Entry {
                        key: key.into(),
                        key_pos,
                        value: self.expr(text, v.expr(), key_pos, depth),
                    });
                }
                map(pos, entries)
            }
            Expression::Parenthesis(p) => self.expr(text, p.inner(), pos, depth),
            Expression::Traversal(t) => match self.reference(t) {
                Some((t_text, target)) if depth < MAX_DEPTH => {
                    self.expr(t_text, target, pos, depth + 1)
                }
                _ => unresolved(text, e, pos),
            },
            _ => unresolved(text, e, pos),
        }
    }

    /// `var.NAME` with a default, or `local.NAME`, in this file.
    fn reference(&self, t: &hcl::edit::expr::Traversal) -> Option<Def<'a>> {
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let [op] = &t.operators[..] else {
            return None;
        };
        let TraversalOperator::GetAttr(name) = op.value() else {
            return None;
        };
        match root.value().as_str() {
            "var" => self.variables.get(name.value().as_str()).copied(),
            "local" => self.locals.get(name.value().as_str()).copied(),
            _ => None,
        }
    }
}

fn source_of(text: &str, e: &Expression) -> String {
    e.span()
        .and_then(|s| text.get(s))
        .unwrap_or("(expression)")
        .trim()
        .to_owned()
}

fn unresolved(text: &str, e: &Expression, pos: Pos) -> Node {
    scalar(pos, source_of(text, e), Style::Plain, Some(UNRESOLVED_TAG))
}

/// Is this node a value that could not be resolved offline (see [`UNRESOLVED_TAG`])?
pub fn is_unresolved(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.tag.as_deref().map(String::as_str) == Some(UNRESOLVED_TAG))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EKS: &str = r#"variable "public" {
  default = true
}
locals {
  cidrs = ["0.0.0.0/0"]
}
resource "aws_eks_cluster" "shop" {
  name = "shop-prod"
  vpc_config {
    endpoint_public_access = var.public
    public_access_cidrs    = local.cidrs
    subnet_ids             = module.vpc.private_subnets
  }
  enabled_cluster_log_types = ["api", "audit"]
}
resource "aws_s3_bucket" "other" {}
"#;

    #[test]
    fn resources_become_objects_with_exact_positions() {
        let l = load(Arc::new(Source::new("eks.tf", EKS)));
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(l.objects.len(), 1);
        let o = &l.objects[0];
        assert_eq!(
            (o.kind.as_str(), o.name.as_str(), o.group()),
            ("aws_eks_cluster", "shop", "terraform")
        );
        assert_eq!(o.root.pos, Pos { line: 7, col: 1 });
        let public = o
            .root
            .pointer("/vpc_config/0/endpoint_public_access")
            .unwrap();
        assert_eq!(
            (public.as_bool(), public.pos),
            (Some(true), Pos { line: 10, col: 30 })
        );
        let cidrs = o
            .root
            .pointer("/vpc_config/0/public_access_cidrs/0")
            .unwrap();
        assert_eq!((cidrs.as_str(), cidrs.pos.line), (Some("0.0.0.0/0"), 11));
        let subnets = o.root.pointer("/vpc_config/0/subnet_ids").unwrap();
        assert!(is_unresolved(subnets));
        assert_eq!(subnets.text(), Some("module.vpc.private_subnets"));
        assert_eq!(o.locate("/enabled_cluster_log_types/1").line, 14);
    }

    #[test]
    fn syntax_errors_are_diagnosed_at_their_line() {
        let l = load(Arc::new(Source::new(
            "bad.tf",
            "resource \"aws_eks_cluster\" \"a\" {\n  name = \n}\n",
        )));
        assert_eq!(l.objects.len(), 0);
        assert_eq!(l.diagnostics[0].level, DiagLevel::Error);
        assert!(l.diagnostics[0].message.starts_with("invalid Terraform"));
    }

    #[test]
    fn json_syntax_with_exact_positions_blocks_as_lists_and_references() {
        let text = "{\n  \"locals\": {\"cidrs\": [\"10.0.0.0/8\"]},\n  \"resource\": {\n    \"aws_eks_cluster\": {\n      \"shop\": {\n        \"//\": \"a comment\",\n        \"vpc_config\": {\n          \"endpoint_public_access\": true,\n          \"public_access_cidrs\": \"${local.cidrs}\",\n          \"subnet_ids\": \"${module.vpc.private_subnets}\"\n        }\n      }\n    }\n  }\n}\n";
        assert!(looks_like_terraform_json(text));
        let l = load_json(Arc::new(Source::new("eks.tf.json", text)));
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let o = &l.objects[0];
        assert_eq!(
            (o.kind.as_str(), o.name.as_str()),
            ("aws_eks_cluster", "shop")
        );
        assert!(o.root.get("//").is_none());
        let public = o
            .root
            .pointer("/vpc_config/0/endpoint_public_access")
            .unwrap();
        assert_eq!((public.as_bool(), public.pos.line), (Some(true), 8));
        let cidr = o
            .root
            .pointer("/vpc_config/0/public_access_cidrs/0")
            .unwrap();
        assert_eq!((cidr.as_str(), cidr.pos.line), (Some("10.0.0.0/8"), 9));
        let subnets = o.root.pointer("/vpc_config/0/subnet_ids").unwrap();
        assert!(is_unresolved(subnets));
        assert_eq!(subnets.text(), Some("module.vpc.private_subnets"));
        assert!(!looks_like_terraform_json(
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}"
        ));
    }

    #[test]
    fn registry_module_sources() {
        assert_eq!(module_source("terraform-aws-modules/eks/aws"), Some("eks"));
        assert_eq!(
            module_source(
                "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v20.8.4"
            ),
            Some("eks")
        );
        assert_eq!(
            module_source("terraform-aws-modules/eks/aws//modules/karpenter"),
            None
        );
        assert_eq!(
            module_source(
                "terraform-google-modules/kubernetes-engine/google//modules/beta-private-cluster"
            ),
            Some("gke")
        );
        assert_eq!(
            module_source("registry.terraform.io/Azure/aks/azurerm"),
            Some("aks")
        );
        assert_eq!(module_source("./modules/eks"), None);
    }

    #[test]
    fn hcl_is_told_from_yaml_by_content() {
        assert!(looks_like_hcl(
            "# c\nresource \"aws_eks_cluster\" \"a\" {\n}\n"
        ));
        assert!(looks_like_hcl("locals {\n}\n"));
        assert!(!looks_like_hcl("apiVersion: v1\nkind: Pod\n"));
        assert!(!looks_like_hcl("resource: {a: 1}\n"));
    }
}
