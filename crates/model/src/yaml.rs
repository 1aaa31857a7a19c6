//! A spanned YAML tree that reads values the way Kubernetes does.
//!
//! Kubernetes decodes manifests with `sigs.k8s.io/yaml`, which converts YAML to JSON with a YAML 1.1
//! parser (go-yaml v2): `yes`/`on`/`y` are booleans, `0644` is octal, `1_000` is an integer, and of two
//! identical keys in one mapping the *last* wins. Every Rust YAML parser implements YAML 1.2, so we
//! keep each scalar's raw text and style and resolve it ourselves ([`Node::as_bool`] and friends).
//!
//! Limits guard against hostile input: nesting depth, nodes per document (alias expansion counts),
//! so an alias bomb or a 100,000-deep document yields an error, never a hang or a stack overflow.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Maximum nesting depth of collections in one document, aliases included. 255 is also the YAML
/// scanner's own limit for flow collections, so both report the same limit.
pub const MAX_DEPTH: usize = 255;
/// Maximum number of nodes in one document, counting every node an alias expands to.
pub const MAX_NODES: usize = 2_000_000;

/// A position in a source file: 1-based line and 1-based column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How a scalar was written; only plain scalars are subject to type resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// `!!str`, `!!int`, ... as written (`None` when untagged).
    pub tag: Option<String>,
}

/// A map entry: the key's text and position, and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A scalar resolved with YAML 1.1 rules, as Kubernetes reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Resolved<'_> {
    pub fn type_name(&self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "boolean",
            Resolved::Int(_) => "integer",
            Resolved::Float(_) => "number",
            Resolved::Str(_) => "string",
        }
    }
}

impl Node {
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(_) => self.resolve().map_or("scalar", |r| r.type_name()),
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// The value of `key` in a mapping; with duplicate keys, the last one (as Kubernetes reads it).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// The entry of `key` (for the key's position); last one wins.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Unique keys in order of first appearance, each with its effective (last) value.
    pub fn effective_entries(&self) -> impl Iterator<Item = &Entry> {
        let entries = self.entries();
        entries
            .iter()
            .enumerate()
            .filter(move |(i, e)| !entries[i + 1..].iter().any(|later| later.key == e.key))
            .map(|(_, e)| e)
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }
    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq(_))
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Resolves a scalar with the YAML 1.1 rules of go-yaml v2.
    pub fn resolve(&self) -> Option<Resolved<'_>> {
        self.scalar().map(resolve_scalar)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolve(), Some(Resolved::Null))
    }

    /// A boolean, only if the node resolves to one (`"true"` in quotes is a string, not a boolean).
    pub fn as_bool(&self) -> Option<bool> {
        match self.resolve()? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.resolve()? {
            Resolved::Int(i) => Some(i),
            Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// A string, only if the node resolves to one.
    pub fn as_str(&self) -> Option<&str> {
        match self.resolve()? {
            Resolved::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The raw text of any scalar (for messages and for fields where Kubernetes stringifies).
    pub fn text(&self) -> Option<&str> {
        self.scalar().map(|s| s.text.as_str())
    }

    /// Follows a JSON pointer (`/spec/containers/0/name`). `None` if any step is missing.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for token in pointer_tokens(pointer) {
            node = step(node, &token)?;
        }
        Some(node)
    }

    /// Follows a JSON pointer as far as it exists: the deepest existing node, and for a pointer
    /// whose last existing step is a key, the key's position (so a finding about a field points at
    /// the field). A finding about a missing field thus points to where the field belongs.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for token in pointer_tokens(pointer) {
            match &node.value {
                Value::Map(entries) => match entries.iter().rev().find(|e| e.key == token) {
                    Some(e) => {
                        pos = e.key_pos;
                        node = &e.value;
                    }
                    None => return pos,
                },
                Value::Seq(items) => match token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(n) => {
                        pos = n.pos;
                        node = n;
                    }
                    None => return pos,
                },
                Value::Scalar(_) => return pos,
            }
        }
        pos
    }

    /// Converts to a JSON value with Kubernetes' YAML 1.1 resolution (last duplicate key wins).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar(_) => match self.resolve() {
                Some(Resolved::Null) | None => J::Null,
                Some(Resolved::Bool(b)) => J::Bool(b),
                Some(Resolved::Int(i)) => J::from(i),
                Some(Resolved::Float(f)) => {
                    serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
                }
                Some(Resolved::Str(s)) => J::String(s.to_owned()),
            },
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(_) => J::Object(
                self.effective_entries()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// The last line on which a node (or key) of this subtree starts.
    pub fn last_line(&self) -> u32 {
        let line = self.pos.line;
        match &self.value {
            Value::Scalar(_) => line,
            Value::Seq(items) => items.iter().map(Node::last_line).fold(line, u32::max),
            Value::Map(entries) => entries
                .iter()
                .map(|e| e.value.last_line().max(e.key_pos.line))
                .fold(line, u32::max),
        }
    }

    /// Number of nodes in this subtree.
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Scalar(_) => 0,
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
        }
    }
}

fn step<'a>(node: &'a Node, token: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(_) => node.get(token),
        Value::Seq(items) => items.get(token.parse::<usize>().ok()?),
        Value::Scalar(_) => None,
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// Escapes one token for a JSON pointer.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// go-yaml v2 (YAML 1.1) resolution of an untagged plain scalar; quoted and block scalars are strings.
pub fn resolve_scalar(s: &Scalar) -> Resolved<'_> {
    if let Some(tag) = s.tag.as_deref() {
        match tag {
            "tag:yaml.org,2002:str" | "!!str" => return Resolved::Str(&s.text),
            "tag:yaml.org,2002:null" | "!!null" => return Resolved::Null,
            _ => {}
        }
    }
    if s.style != Style::Plain {
        return Resolved::Str(&s.text);
    }
    let t = s.text.as_str();
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = t.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(i) = parse_int_yaml11(t) {
            return Resolved::Int(i);
        }
        if let Some(f) = parse_float_yaml11(t) {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(t)
}

/// YAML 1.1 integers: `[-+]?0b[01_]+`, `[-+]?0[0-7_]+` (octal), `[-+]?(0|[1-9][0-9_]*)`,
/// `[-+]?0x[0-9a-fA-F_]+`. Underscores are ignored. Values that overflow i64 are not integers
/// (go-yaml then tries a float).
pub fn parse_int_yaml11(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 && digits.starts_with('_') {
        return None;
    }
    let magnitude = i128::from_str_radix(&clean, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn parse_float_yaml11(t: &str) -> Option<f64> {
    // [-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)? and plain decimal overflowing i64.
    let clean: String = t.chars().filter(|&c| c != '_').collect();
    let valid = clean
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && clean.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    clean.parse::<f64>().ok()
}

/// A YAML syntax or limit error inside one document.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// A warning about a well-formed document (duplicate keys and the like).
#[derive(Clone, Debug, PartialEq)]
pub struct YamlWarning {
    pub pos: Pos,
    pub message: String,
}

/// One document of a stream: its root node (None when empty), the line range it spans, warnings,
/// and the leading comments (which carry helm's `# Source:` markers).
#[derive(Debug)]
pub struct Doc {
    pub root: Option<Node>,
    pub first_line: u32,
    pub warnings: Vec<YamlWarning>,
    pub helm_source: Option<String>,
}

/// Splits a stream into documents at `---` / `...` lines in column 0, so that a syntax error in one
/// document does not lose the others, then parses each. `line_offset` is added to every line.
pub fn parse_stream(text: &str) -> Vec<Result<Doc, YamlError>> {
    parse_stream_where(text, &|_| true)
}

/// [`parse_stream`], parsing only the documents whose text `keep` accepts (a pre-filter for
/// passes that look for few objects among many).
pub fn parse_stream_where(text: &str, keep: &dyn Fn(&str) -> bool) -> Vec<Result<Doc, YamlError>> {
    let mut out = Vec::new();
    for chunk in split_documents(text) {
        if chunk.text.trim().is_empty() || is_only_comments(chunk.text) || !keep(chunk.text) {
            continue;
        }
        let helm_source = helm_source(chunk.text);
        out.push(
            parse_document(chunk.text, chunk.first_line).map(|(root, warnings)| Doc {
                root,
                first_line: chunk.first_line,
                warnings,
                helm_source,
            }),
        );
    }
    out
}

struct Chunk<'a> {
    text: &'a str,
    /// 1-based line number of the chunk's first line in the file.
    first_line: u32,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// Document boundaries: a line starting with `---` or `...` followed by whitespace or end of line.
/// The `---` line itself belongs to the document it opens (it may carry content: `--- |`).
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") && offset > start {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset;
            start_line = line_no;
        } else if is_marker(bare, "...") {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks
}

fn is_only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty()
            || t.starts_with('#')
            || t == "---"
            || is_marker(t, "---") && t[3..].trim_start().starts_with('#')
    })
}

/// Helm writes `# Source: chart/templates/file.yaml` before each rendered document.
fn helm_source(text: &str) -> Option<String> {
    for line in text.lines().take(8) {
        let t = line.trim();
        if let Some(src) = t.strip_prefix("# Source: ") {
            return Some(src.trim().to_owned());
        }
        if !(t.is_empty() || t.starts_with('#') || t.starts_with("---")) {
            break;
        }
    }
    None
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Pos)>,
    },
}

fn pos_of(span: &Span, line_offset: u32) -> Pos {
    Pos {
        line: (span.start.line() as u32).saturating_add(line_offset.saturating_sub(1)),
        col: span.start.col() as u32 + 1,
    }
}

/// Parses one document chunk into a tree. Errors carry file positions.
fn parse_document(
    text: &str,
    first_line: u32,
) -> Result<(Option<Node>, Vec<YamlWarning>), YamlError> {
    let mut parser = Parser::new_from_str(text).keep_tags(true);
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored node, its size in nodes and its height in collections.
    let mut anchors: HashMap<usize, (Node, usize, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    let mut warnings = Vec::new();
    let err = |pos: Pos, message: String| YamlError { pos, message };

    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            pos: within(
                text,
                first_line,
                Pos {
                    line: (e.marker().line() as u32).saturating_add(first_line - 1),
                    col: e.marker().col() as u32 + 1,
                },
            ),
            message: match e.info() {
                // The scanner's limit of 255 flow levels.
                "recursion limit exceeded" => format!("nesting deeper than {MAX_DEPTH} levels"),
                info => info.to_owned(),
            },
        })?;
        let pos = pos_of(&span, first_line);
        let (node, anchor) = match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => continue,
            Event::DocumentEnd | Event::StreamEnd => continue,
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(pos, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(pos, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                // Exact capacity: most collections of a manifest hold 1 to 3 items, and a
                // growing Vec reserves 4 (trees of retained objects live until the end).
                Some(Frame::Seq {
                    pos,
                    anchor,
                    mut items,
                }) => (
                    Node {
                        pos,
                        value: Value::Seq({
                            items.shrink_to_fit();
                            items
                        }),
                    },
                    anchor,
                ),
                _ => return Err(err(pos, "unbalanced sequence end".into())),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    pos,
                    anchor,
                    mut entries,
                    ..
                }) => {
                    check_duplicates(&entries, &mut warnings);
                    entries.shrink_to_fit();
                    (
                        Node {
                            pos,
                            value: Value::Map(entries),
                        },
                        anchor,
                    )
                }
                _ => return Err(err(pos, "unbalanced mapping end".into())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                let tag = tag.map(|t| {
                    if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
                        format!("!!{}", t.suffix)
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                nodes += 1;
                (
                    Node {
                        pos,
                        value: Value::Scalar(Scalar {
                            text: text.into_owned(),
                            style,
                            tag,
                        }),
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some((target, size, height)) = anchors.get(&id) else {
                    return Err(err(pos, "alias to an unknown anchor".into()));
                };
                // Aliases must not build a tree deeper than the limit: every recursive walk of
                // the tree (clone, drop, rules) relies on it.
                if stack.len() + height > MAX_DEPTH {
                    return Err(err(
                        pos,
                        format!("nesting deeper than {MAX_DEPTH} levels (through an alias)"),
                    ));
                }
                nodes += size;
                if nodes > MAX_NODES {
                    return Err(err(
                        pos,
                        format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
                    ));
                }
                let mut node = target.clone();
                node.pos = pos;
                (node, 0)
            }
        };
        if !matches!(node.value, Value::Scalar(_)) {
            nodes += 1;
        }
        if nodes > MAX_NODES {
            return Err(err(
                pos,
                format!("document has more than {MAX_NODES} nodes"),
            ));
        }
        if anchor != 0 {
            let size = node.size();
            // The anchor keeps a copy: count it, or nested anchors around a long collection
            // (`&a [&b [&c [1, 1, …]]]`) would copy it once per level, unbounded by the limit.
            nodes += size;
            if nodes > MAX_NODES {
                return Err(err(
                    pos,
                    format!("document copies more than {MAX_NODES} nodes into anchors and aliases"),
                ));
            }
            anchors.insert(anchor, (node.clone(), size, height(&node)));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                pos: map_pos,
                entries,
                key,
                ..
            }) => match key.take() {
                None => {
                    let k = match &node.value {
                        Value::Scalar(s) => s.text.clone(),
                        // `{{ x }}`: a flow mapping whose first key is a flow mapping, opened
                        // by adjacent braces. This is an unrendered template action.
                        Value::Map(_)
                            if node.pos.line == map_pos.line && node.pos.col == map_pos.col + 1 =>
                        {
                            return Err(err(
                                *map_pos,
                                "`{{ … }}` is a template action, not YAML data".into(),
                            ));
                        }
                        _ => {
                            warnings.push(YamlWarning {
                                pos: node.pos,
                                message: "complex mapping key is not valid in Kubernetes objects"
                                    .into(),
                            });
                            String::from("<complex key>")
                        }
                    };
                    *key = Some((k, node.pos));
                }
                Some((k, key_pos)) => entries.push(Entry {
                    key: k,
                    key_pos,
                    value: node,
                }),
            },
        }
    }
    // A `<<` merge key is YAML 1.1: go-yaml v2 merges it. Apply merges now.
    if let Some(r) = root.as_mut() {
        apply_merge_keys(r);
    }
    Ok((root, warnings))
}

/// `pos`, or the end of the chunk's last line when `pos` is past it: the scanner reports errors
/// found at the end of the input on the line after the last one.
fn within(text: &str, first_line: u32, pos: Pos) -> Pos {
    let last = text.split_inclusive('\n').next_back().unwrap_or("");
    let line = first_line + (text.split_inclusive('\n').count().max(1) as u32 - 1);
    if pos.line <= line {
        return pos;
    }
    Pos {
        line,
        col: last.trim_end_matches(['\n', '\r']).chars().count() as u32 + 1,
    }
}

/// Nesting depth in collections (0 for a scalar). Recursion is bounded by [`MAX_DEPTH`].
fn height(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(_) => 0,
        Value::Seq(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        Value::Map(entries) => 1 + entries.iter().map(|e| height(&e.value)).max().unwrap_or(0),
    }
}

fn check_duplicates(entries: &[Entry], warnings: &mut Vec<YamlWarning>) {
    if entries.len() < 2 {
        return;
    }
    if entries.len() <= 24 {
        for (i, e) in entries.iter().enumerate() {
            if let Some(first) = entries[..i].iter().find(|p| p.key == e.key) {
                warnings.push(dup_warning(e, first));
            }
        }
    } else {
        let mut seen: HashMap<&str, &Entry> = HashMap::new();
        for e in entries {
            if let Some(first) = seen.get(e.key.as_str()) {
                warnings.push(dup_warning(e, first));
            } else {
                seen.insert(&e.key, e);
            }
        }
    }
}

fn dup_warning(e: &Entry, first: &Entry) -> YamlWarning {
    YamlWarning {
        pos: e.key_pos,
        message: format!(
            "duplicate key `{}` (first at line {}); Kubernetes keeps this last value",
            e.key, first.key_pos.line
        ),
    }
}

fn apply_merge_keys(node: &mut Node) {
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(apply_merge_keys),
        Value::Map(entries) => {
            entries
                .iter_mut()
                .for_each(|e| apply_merge_keys(&mut e.value));
            if entries
                .iter()
                .any(|e| e.key == "<<" && e.value.scalar().is_none_or(|s| s.style == Style::Plain))
            {
                let mut merged: Vec<Entry> = Vec::new();
                let mut own: Vec<Entry> = Vec::new();
                // Sets, not scans: a merged mapping may have many keys.
                let mut merged_keys: HashSet<String> = HashSet::new();
                for e in entries.drain(..) {
                    if e.key == "<<" {
                        let sources: Vec<Node> = match e.value.value {
                            Value::Map(_) => vec![e.value],
                            Value::Seq(items) => items,
                            Value::Scalar(_) => vec![],
                        };
                        for src in sources {
                            if let Value::Map(src_entries) = src.value {
                                for se in src_entries {
                                    if merged_keys.insert(se.key.clone()) {
                                        merged.push(se);
                                    }
                                }
                            }
                        }
                    } else {
                        own.push(e);
                    }
                }
                // Explicit keys override merged ones: merged first, own last (last wins).
                let own_keys: HashSet<&str> = own.iter().map(|o| o.key.as_str()).collect();
                merged.retain(|m| !own_keys.contains(m.key.as_str()));
                merged.extend(own);
                *entries = merged;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_stream(text);
        docs.remove(0).unwrap().root.unwrap()
    }

    #[test]
    fn yaml11_booleans_and_octals() {
        let n = one("a: on\nb: yes\nc: 'yes'\nd: 0644\ne: 1_000\nf: n\ng: 0x1F\nh: ~\ni: 0b101\n");
        assert_eq!(n.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(n.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(n.get("c").unwrap().as_bool(), None);
        assert_eq!(n.get("c").unwrap().as_str(), Some("yes"));
        assert_eq!(n.get("d").unwrap().as_i64(), Some(420));
        assert_eq!(n.get("e").unwrap().as_i64(), Some(1000));
        assert_eq!(n.get("f").unwrap().as_bool(), Some(false));
        assert_eq!(n.get("g").unwrap().as_i64(), Some(31));
        assert!(n.get("h").unwrap().is_null());
        assert_eq!(n.get("i").unwrap().as_i64(), Some(5));
    }

    #[test]
    fn overflowing_integers_are_not_integers() {
        let n = one("a: 99999999999999999999999\n");
        assert_eq!(n.get("a").unwrap().as_i64(), None);
        assert!(matches!(
            n.get("a").unwrap().resolve(),
            Some(Resolved::Float(_))
        ));
    }

    #[test]
    fn last_duplicate_key_wins_and_is_reported() {
        let mut docs = parse_stream("securityContext:\n  privileged: false\n  privileged: true\n");
        let doc = docs.remove(0).unwrap();
        let root = doc.root.unwrap();
        assert_eq!(
            root.pointer("/securityContext/privileged")
                .unwrap()
                .as_bool(),
            Some(true)
        );
        assert_eq!(doc.warnings.len(), 1);
        assert_eq!(doc.warnings[0].pos, Pos { line: 3, col: 3 });
    }

    #[test]
    fn positions_and_pointers() {
        let text =
            "---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n";
        let n = one(text);
        assert_eq!(
            n.pointer("/spec/containers/0/image").unwrap().pos,
            Pos { line: 7, col: 12 }
        );
        // Missing field: nearest existing parent.
        assert_eq!(
            n.locate("/spec/containers/0/securityContext/privileged"),
            Pos { line: 6, col: 5 }
        );
        assert_eq!(
            n.locate("/spec/containers/0/image"),
            Pos { line: 7, col: 5 }
        );
    }

    #[test]
    fn multi_document_with_a_broken_one() {
        let docs = parse_stream("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        let e = docs[1].as_ref().unwrap_err();
        assert!(e.pos.line >= 3, "{e:?}");
        assert_eq!(docs[2].as_ref().unwrap().first_line, 4);
        assert_eq!(
            docs[2]
                .as_ref()
                .unwrap()
                .root
                .as_ref()
                .unwrap()
                .get("c")
                .unwrap()
                .pos
                .line,
            5
        );
    }

    #[test]
    fn alias_bomb_is_an_error() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            s.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        let docs = parse_stream(&s);
        assert!(docs[0].as_ref().unwrap_err().message.contains("alias"));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let s = "[".repeat(100_000);
        let docs = parse_stream(&s);
        assert!(docs[0].is_err());
    }

    #[test]
    fn merge_keys() {
        let n = one("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n");
        assert_eq!(n.pointer("/d/x").unwrap().as_i64(), Some(1));
        assert_eq!(n.pointer("/d/y").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn helm_source_comment() {
        let docs =
            parse_stream("---\n# Source: app/templates/dep.yaml\napiVersion: v1\nkind: Pod\n");
        assert_eq!(
            docs[0].as_ref().unwrap().helm_source.as_deref(),
            Some("app/templates/dep.yaml")
        );
    }
}
