//! A spanned YAML tree that reads values the way Kubernetes does.
//!
//! Kubernetes decodes manifests with `sigs.k8s.io/yaml`, which converts YAML to JSON with a YAML 1.1
//! parser (go-yaml v2): `yes`/`on`/`y` are booleans, `0644` is octal, `1_000` is an integer, and of two
//! identical keys in one mapping the *last* wins. Every Rust YAML parser implements YAML 1.2, so we
//! keep each scalar's raw text and style and resolve it ourselves ([`Node::as_bool`] and friends).
//!
//! A stream that starts with `{` or `[` and is a JSON stream is read as JSON, as `kubectl` reads
//! it: `{…}{…}` is two objects, tabs are whitespace (see [`parse_stream`]).
//!
//! Limits guard against hostile input: nesting depth, nodes per document (alias expansion counts),
//! memory per input (a multiple of its size, [`TREE_BYTES_PER_BYTE`]), so an alias bomb, a
//! 100,000-deep document or millions of one-character items yield an error, never a hang, a stack
//! overflow or gigabytes of memory. Every step is linear in the size of the document (a mapping
//! may have 100,000 keys).

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Maximum nesting depth of collections in one document, aliases included. 255 is also the YAML
/// scanner's own limit for flow collections, so both report the same limit.
pub const MAX_DEPTH: usize = 255;
/// Maximum number of nodes in one document, counting every node an alias expands to.
pub const MAX_NODES: usize = 2_000_000;
/// Memory the trees of one input (a file, stdin, a request) may take: this many bytes per byte of
/// its text, plus [`TREE_BASE_BYTES`]. A tree takes 2 to 11 times its text for real manifests
/// (YAML or minified JSON, over the shared corpus, measured with 56-byte nodes; large files 2 to 4
/// times), but 20 times for a flow list of one-character items (`[1,1,1,…]`: a 40-byte node per
/// item written in 2, its text inside). Charged while the tree is built (aliases and anchor copies
/// included), so the peak stays bounded even when a document is refused; a single document
/// reaches [`MAX_NODES`] first unless aliases copy long text, so the limit is mostly met by the
/// documents of an input together.
pub const TREE_BYTES_PER_BYTE: usize = 16;
/// The part of an input's tree memory that does not depend on its size (see
/// [`TREE_BYTES_PER_BYTE`]), shared by its documents.
pub const TREE_BASE_BYTES: usize = 32 << 20;

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

/// The text of a key or a scalar: 16 bytes, up to 15 bytes of text kept inside the node itself,
/// longer text on the heap. Most keys and values of a manifest are short (`name`, `apiVersion`,
/// `true`, `get`), so a tree holds far fewer allocations, and a node is 40 bytes, an entry 64
/// (with `String`, 56 and 88): a scan keeps nearly a million nodes at 100,000 objects.
pub type Text = ecow::EcoString;

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: Text,
    pub style: Style,
    /// `!!str`, `!!int`, ... as written (`None` when untagged). Behind one thin pointer (8
    /// bytes, tags are rare): 8 bytes less in every node and entry of a tree than a boxed `str`,
    /// 16 less than a `String` (a scan keeps a million nodes at 100,000 objects).
    pub tag: Option<Box<String>>,
}

/// A map entry: the key's text and position, and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Text,
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
    /// An integer past i64, as go-yaml reads `18446744073709551615` (a uint64): sent exact to
    /// the API server, which no int32 or int64 field accepts.
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

impl Resolved<'_> {
    pub fn type_name(&self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "boolean",
            Resolved::Int(_) | Resolved::Uint(_) => "integer",
            Resolved::Float(_) => "number",
            Resolved::Str(_) => "string",
        }
    }
}

impl Node {
    /// Gives back the spare capacity of every list, map and string of the tree (a parse grows
    /// them by doubling): for trees kept until the end of a scan.
    pub fn shrink_to_fit(&mut self) {
        match &mut self.value {
            // Texts are allocated at their size (`Text::from`).
            Value::Scalar(_) => {}
            Value::Seq(items) => {
                items.shrink_to_fit();
                items.iter_mut().for_each(Node::shrink_to_fit);
            }
            Value::Map(entries) => {
                entries.shrink_to_fit();
                for e in entries {
                    e.value.shrink_to_fit();
                }
            }
        }
    }

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

    /// The entries Kubernetes keeps: of duplicate keys only the last, each key where its last
    /// duplicate is written. Linear in the number of entries (a mapping may have 100,000 keys).
    pub fn effective_entries(&self) -> impl Iterator<Item = &Entry> {
        let entries = self.entries();
        // Small mappings: comparing each key with the later ones is cheaper than hashing.
        let superseded: Option<Vec<bool>> = (entries.len() > 16).then(|| {
            let mut superseded = vec![false; entries.len()];
            let mut last: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                if let Some(earlier) = last.insert(&e.key, i) {
                    superseded[earlier] = true;
                }
            }
            superseded
        });
        entries
            .iter()
            .enumerate()
            .filter(move |(i, e)| match &superseded {
                Some(superseded) => !superseded[*i],
                None => !entries[i + 1..].iter().any(|later| later.key == e.key),
            })
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

    /// [`Node::pointer`] for a pointer without its leading `/` (`securityContext/runAsUser`),
    /// without making the whole pointer first.
    pub fn pointer_rel(&self, rel: &str) -> Option<&Node> {
        let mut node = self;
        for token in rel.split('/').map(unescape_token) {
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
                Value::Map(entries) => match entries.iter().rev().find(|e| *e.key == *token) {
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
            Value::Scalar(scalar) => match resolve_scalar(scalar) {
                Resolved::Null => J::Null,
                Resolved::Bool(b) => J::Bool(b),
                Resolved::Int(i) => J::from(i),
                Resolved::Uint(u) => J::from(u),
                Resolved::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
                Resolved::Str(s) => J::String(s.to_owned()),
            },
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(_) => J::Object(
                self.effective_entries()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
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
/// Borrowed unless the token has an escape: finding locations walk a pointer per finding.
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
    pointer.split('/').skip(1).map(unescape_token)
}

/// One token of a JSON pointer, `~1` and `~0` undone.
fn unescape_token(t: &str) -> std::borrow::Cow<'_, str> {
    if t.contains('~') {
        std::borrow::Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// Escapes one token for a JSON pointer (borrowed when there is nothing to escape).
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        std::borrow::Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// go-yaml v2 (YAML 1.1) resolution of a scalar: an untagged plain scalar by its text
/// ([`resolve_plain`]), an untagged quoted or block scalar as a string, a scalar with a core tag
/// by its text whatever its quoting (`!!bool "true"` is `true`).
pub fn resolve_scalar(s: &Scalar) -> Resolved<'_> {
    match s.tag.as_deref().map(|t| core_tag(t)) {
        // Untagged: a quoted or block scalar is a string; a plain one is resolved by its text.
        None if s.style != Style::Plain => Resolved::Str(&s.text),
        None => resolve_plain(&s.text),
        Some(Some(tag)) => match tag {
            "str" | "binary" => Resolved::Str(&s.text),
            // go-yaml resolves the text whatever its quoting (`!!bool "true"` is `true`,
            // `!!int "0"` is 0) and refuses the document when it is not of the tag's type
            // ([`scalar_refusal`]); a string then, so that no rule reads what Kubernetes does not.
            _ => match resolve_plain(&s.text) {
                Resolved::Int(i) if tag == "float" => Resolved::Float(i as f64),
                r if tag_accepts(tag, &r) => r,
                _ => Resolved::Str(&s.text),
            },
        },
        // A tag of the application's (`!foo`): the scalar's text.
        Some(None) => Resolved::Str(&s.text),
    }
}

/// The YAML core tag a scalar's tag names (`!!int`, `tag:yaml.org,2002:int`: `int`), or `None`
/// for an application's tag.
fn core_tag(tag: &str) -> Option<&str> {
    let name = tag
        .strip_prefix("!!")
        .or_else(|| tag.strip_prefix("tag:yaml.org,2002:"))?;
    matches!(
        name,
        "str" | "binary" | "bool" | "int" | "float" | "null" | "timestamp"
    )
    .then_some(name)
}

/// Does go-yaml decode a scalar resolved as `r` under the core tag `tag`?
fn tag_accepts(tag: &str, r: &Resolved) -> bool {
    match tag {
        "bool" => matches!(r, Resolved::Bool(_)),
        // go-yaml makes an `!!int` of a uint64, and cannot make a `!!float` of one.
        "int" => matches!(r, Resolved::Int(_) | Resolved::Uint(_)),
        "float" => matches!(r, Resolved::Float(_) | Resolved::Int(_)),
        "null" => matches!(r, Resolved::Null),
        // Timestamps are read as strings (docs/testing.md, "Known differences").
        "timestamp" => matches!(r, Resolved::Str(_)),
        _ => true,
    }
}

/// Why Kubernetes refuses a document holding this scalar as a value (not as a key), if it
/// does: go-yaml cannot decode it under its tag (`!!int "abc"`), or JSON cannot hold it (`.inf`,
/// `.nan`: `json: unsupported value`).
pub fn scalar_refusal(s: &Scalar) -> Option<Refusal> {
    if let Some(tag) = s.tag.as_deref().and_then(|t| core_tag(t)) {
        if !matches!(tag, "str" | "binary") && !tag_accepts(tag, &resolve_plain(&s.text)) {
            // The text is not repeated: it may be any value, a secret's among them.
            return Some(Refusal::Decode(format!(
                "a scalar tagged `!!{tag}` whose text is not one: go-yaml cannot decode it \
                 (`cannot decode … as a !!{tag}`), and Kubernetes refuses the document"
            )));
        }
    } else if s.style != Style::Plain
        || !matches!(s.text.as_bytes().first(), Some(b'.' | b'+' | b'-'))
    {
        // Only `.inf`, `+.inf`, `-.inf` and `.nan` in their spellings resolve to what JSON
        // cannot hold (a float that overflows is a string): most scalars stop here.
        return None;
    }
    match resolve_scalar(s) {
        Resolved::Float(f) if !f.is_finite() => Some(Refusal::Json(format!(
            "`{}` is not a number JSON can hold: Kubernetes refuses the document (`json: \
             unsupported value: {}`)",
            shown(&s.text),
            if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            }
        ))),
        _ => None,
    }
}

/// Why Kubernetes refuses a document holding a scalar ([`scalar_refusal`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// go-yaml cannot decode it (`!!int "abc"`): wherever it is.
    Decode(String),
    /// JSON cannot hold it (`.inf`): where it remains a value (not overridden by a later
    /// duplicate key).
    Json(String),
}

/// The first value of the tree JSON cannot hold, among the values that remain (the last of
/// duplicate keys, merges applied), with why.
fn first_unencodable(node: &Node) -> Option<(Pos, String)> {
    match &node.value {
        Value::Scalar(s) => match scalar_refusal(s)? {
            Refusal::Json(m) => Some((node.pos, m)),
            Refusal::Decode(_) => None,
        },
        Value::Seq(items) => items.iter().find_map(first_unencodable),
        Value::Map(_) => node
            .effective_entries()
            .find_map(|e| first_unencodable(&e.value)),
    }
}

/// Is this `<<` key a merge key? Plain and untagged, or tagged `!!merge` (go-yaml's `isMerge`).
fn is_merge_key(s: &Scalar) -> bool {
    match s.tag.as_deref() {
        None => s.style == Style::Plain,
        Some(t) => t == "!!merge" || t == "tag:yaml.org,2002:merge",
    }
}

/// The key Kubernetes reads for a mapping key written as this scalar (`sigs.k8s.io/yaml`
/// converts go-yaml's keys to JSON's strings): a string as it is, a boolean as `true`/`false`,
/// an integer in decimal (`0x1F: a` is `"31"`), a float as Go formats it at 32 bits (`1e3` is
/// `"1000"`, `.inf` is `".inf"`); a null or an integer past 64 signed bits is refused
/// (`unsupported map key`).
pub fn key_text(s: &Scalar) -> Result<Text, String> {
    let refused = |what: &str| {
        Err(format!(
            "{what} used as a mapping key: Kubernetes refuses the document (`sigs.k8s.io/yaml`: \
             `unsupported map key`)"
        ))
    };
    if s.tag.is_none() && s.style != Style::Plain {
        return Ok(s.text.clone());
    }
    match resolve_scalar(s) {
        Resolved::Str(_) => Ok(s.text.clone()),
        Resolved::Bool(b) => Ok(if b { "true" } else { "false" }.into()),
        Resolved::Int(i) => Ok(Text::from(i.to_string())),
        Resolved::Null => refused("a null (`~`, `null` or nothing)"),
        Resolved::Uint(_) => refused(&format!(
            "`{}`, an integer past 64 signed bits,",
            shown(&s.text)
        )),
        Resolved::Float(f) => Ok(Text::from(go_format_float32(f))),
    }
}

/// A scalar's text for a message, cut at 40 characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// A plain scalar resolved as go-yaml v2 resolves it (`resolve` in its `resolve.go`): YAML 1.1
/// booleans and nulls, Go's integer syntax with underscores dropped (`0x`, `0o`, `0b` and a
/// leading `0` for octal, in either case), integers past 64 signed bits as unsigned
/// ([`Resolved::Uint`]) and past 64 bits as floats when they are written as floats, floats that
/// overflow as strings, timestamps as strings.
pub fn resolve_plain(t: &str) -> Resolved<'_> {
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
    match t.as_bytes()[0] {
        b'.' => {
            if let Some(f) = go_float(t) {
                return Resolved::Float(f);
            }
        }
        b'0'..=b'9' | b'-' | b'+' => {
            let plain: std::borrow::Cow<str> = if t.contains('_') {
                t.replace('_', "").into()
            } else {
                t.into()
            };
            if let Some(i) = parse_int_yaml11(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_uint(&plain) {
                return Resolved::Uint(u);
            }
            if let Some(f) = go_float(&plain) {
                return Resolved::Float(f);
            }
        }
        _ => {}
    }
    Resolved::Str(t)
}

/// A signed integer in Go's syntax (`strconv.ParseInt(s, 0, 64)`): an optional sign, then
/// `0x`/`0X` hexadecimal, `0o`/`0O` or a leading `0` octal, `0b`/`0B` binary, else decimal;
/// `None` when it is not one or overflows i64. Underscores must already be dropped (go-yaml
/// drops them before parsing).
pub fn parse_int_yaml11(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = go_uint(body)?;
    if neg {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// An unsigned integer in Go's syntax, no sign (`strconv.ParseUint(s, 0, 64)`).
fn go_uint(body: &str) -> Option<u64> {
    let (radix, digits) = match body.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &body[2..]),
        [b'0', b'o' | b'O', ..] => (8, &body[2..]),
        [b'0', b'b' | b'B', ..] => (2, &body[2..]),
        [b'0', _, ..] => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A float as go-yaml accepts one: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, and
/// not overflowing (Go's `ParseFloat` then fails, and the scalar is a string).
fn go_float(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - from
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's names for the infinities and NaN: how
/// `sigs.k8s.io/yaml` writes a float mapping key.
fn go_format_float32(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let f = f as f32;
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // The shortest digits that read back as this f32, and the decimal exponent.
    let e = format!("{:e}", f.abs());
    let (mantissa, exp) = e.split_once('e').expect("`{:e}` writes an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().expect("`{:e}` writes a decimal exponent");
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        // %e: d.ddde±dd
        let (head, tail) = digits.split_at(1);
        let dot = if tail.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{head}{dot}{tail}e{esign}{:02}", exp.abs());
    }
    // %f with exactly the digits needed.
    let point = exp + 1;
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
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
    /// After a `...` line and before any `---` line ([`Chunk::after_end`]): kubectl and kustomize
    /// never apply it, so it is not an object (the loader reads it for committed credentials only).
    pub after_end: bool,
}

/// Splits a stream into documents at `---` / `...` lines in column 0, so that a syntax error in one
/// document does not lose the others, then parses each. A JSON stream (its first non-blank
/// character is `{` or `[`, and it is valid JSON) is read as JSON instead: each value is a document
/// (`{…}{…}`, one per line, …), positioned exactly as the YAML parser would position it.
pub fn parse_stream(text: &str) -> Vec<Result<Doc, YamlError>> {
    parse_stream_where(text, &|_| true)
}

/// [`parse_stream`], parsing only the documents whose text `keep` accepts (a pre-filter for
/// passes that look for few objects among many).
pub fn parse_stream_where(text: &str, keep: &dyn Fn(&str) -> bool) -> Vec<Result<Doc, YamlError>> {
    parse_stream_within(text, keep, TREE_BASE_BYTES)
}

/// [`parse_stream_where`] with another base for the memory limit (tests).
fn parse_stream_within(
    text: &str,
    keep: &dyn Fn(&str) -> bool,
    base: usize,
) -> Vec<Result<Doc, YamlError>> {
    if looks_like_json(text)
        && let Some(docs) = parse_json_stream(text, keep, Budget::for_text(text.len(), base))
    {
        return docs;
    }
    parse_yaml_stream(text, keep, Budget::for_text(text.len(), base))
}

/// [`parse_stream_where`] for YAML.
fn parse_yaml_stream(
    text: &str,
    keep: &dyn Fn(&str) -> bool,
    mut budget: Budget,
) -> Vec<Result<Doc, YamlError>> {
    let mut out = Vec::new();
    for chunk in split_documents(text) {
        if chunk.text.trim().is_empty() || is_only_comments(chunk.text) || !keep(chunk.text) {
            continue;
        }
        let helm_source = helm_source(chunk.text);
        let before = budget.used;
        let doc = parse_document(chunk.text, chunk.first_line, &mut budget);
        if doc.is_err() {
            // A refused document's tree is dropped: its memory goes back to the others.
            budget.used = before;
        }
        if chunk.after_end {
            // Never parsed by kubectl: not an error when it is not YAML either.
            let (root, mut warnings) = doc.unwrap_or_default();
            warnings.insert(0, after_document_end(chunk));
            out.push(Ok(Doc {
                root,
                first_line: chunk.first_line,
                warnings,
                helm_source,
                after_end: true,
            }));
            continue;
        }
        out.push(doc.map(|(root, warnings)| Doc {
            root,
            first_line: chunk.first_line,
            warnings,
            helm_source,
            after_end: false,
        }));
    }
    out
}

/// The warning on a document after a `...` line and before any `---` line ([`Chunk::after_end`]),
/// at its first line of content: kubectl and kustomize never apply it, so it is no object (read
/// as YAML says, a document of its own, an object there would be judged although Kubernetes
/// never gets it, and a default-deny NetworkPolicy there would hide the missing one); it is still
/// committed, so it is read for committed credentials.
fn after_document_end(chunk: Chunk<'_>) -> YamlWarning {
    let content = chunk
        .text
        .lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .unwrap_or(0);
    YamlWarning {
        pos: Pos {
            line: chunk.first_line + u32::try_from(content).unwrap_or(0),
            col: 1,
        },
        message: "not applied: kubectl and kustomize read nothing after a `...` (document end) \
                  line until the next `---` line, so this document is read for committed \
                  credentials only; start it with `---` to have it applied and checked"
            .into(),
    }
}

/// The memory the trees of one input may take ([`TREE_BYTES_PER_BYTE`]) and what they took: an
/// estimate of what the allocator hands out for each node, map entry and string.
struct Budget {
    limit: usize,
    used: usize,
    text_len: usize,
    base: usize,
}

impl Budget {
    fn for_text(text_len: usize, base: usize) -> Budget {
        Budget {
            limit: text_len
                .saturating_mul(TREE_BYTES_PER_BYTE)
                .saturating_add(base),
            used: 0,
            text_len,
            base,
        }
    }

    /// Charges `bytes`; false when the limit is crossed.
    fn charge(&mut self, bytes: usize) -> bool {
        self.used = self.used.saturating_add(bytes);
        self.used <= self.limit
    }

    /// The error of a document that crosses the limit, at `pos`; `how` it did (`" through
    /// aliases"`, …): `document exceeds the memory limit: this input's documents would need more
    /// than 90 MiB (16 bytes per byte of its 3800078 bytes, plus 32 MiB)`. The limit is the
    /// input's: with several documents, the others' count too.
    fn error(&self, pos: Pos, how: &str) -> YamlError {
        YamlError {
            pos,
            message: format!(
                "document exceeds the memory limit{how}: this input's documents would need more \
                 than {} MiB ({TREE_BYTES_PER_BYTE} bytes per byte of its {} bytes, plus {} MiB)",
                self.limit.div_ceil(1 << 20),
                self.text_len,
                self.base >> 20
            ),
        }
    }
}

/// What the allocator takes for a string of `len` bytes (glibc: 8 bytes of header, 16-byte
/// steps, 32 bytes at least; nothing for an empty string).
fn heap_bytes(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).next_multiple_of(16).max(32)
    }
}

/// The heap a [`Text`] of `len` bytes takes: none up to 15 bytes (kept inline), else the text
/// and a 16-byte header (reference count, capacity).
fn text_bytes(len: usize) -> usize {
    if len < std::mem::size_of::<Text>() {
        0
    } else {
        heap_bytes(len + 16)
    }
}

const NODE_BYTES: usize = std::mem::size_of::<Node>();
/// What an entry takes besides its value node (the key and its position).
const ENTRY_EXTRA_BYTES: usize = std::mem::size_of::<Entry>() - std::mem::size_of::<Node>();

/// The memory of a tree, as [`Budget`] charges it (recursion bounded by [`MAX_DEPTH`]).
fn tree_bytes(node: &Node) -> usize {
    NODE_BYTES
        + match &node.value {
            Value::Scalar(s) => {
                text_bytes(s.text.len()) + s.tag.as_ref().map_or(0, |t| heap_bytes(t.len()))
            }
            Value::Seq(items) => items.iter().map(tree_bytes).sum(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| ENTRY_EXTRA_BYTES + text_bytes(e.key.len()) + tree_bytes(&e.value))
                .sum(),
        }
}

/// One document of a stream: its byte offset, its first line, and its text.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a> {
    /// Byte offset of the chunk in the stream.
    pub offset: usize,
    /// 1-based line number of the chunk's first line in the file.
    pub first_line: u32,
    pub text: &'a str,
    /// The chunk follows a `...` (document end) line, with no `---` line since: kubectl's reader
    /// splits a stream at `---` lines only and go-yaml decodes the first document of each part,
    /// so kubectl and kustomize never apply it ([`parse_stream`] marks it [`Doc::after_end`]).
    pub after_end: bool,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// Document boundaries: a line starting with `---` or `...` followed by whitespace or end of line.
/// The `---` line itself belongs to the document it opens (it may carry content: `--- |`). Every
/// chunk is returned, empty ones included (the fixer finds documents by line). Only the line
/// starts are looked at (found with `memchr`): a tenth of the cost of splitting every line.
pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let bytes = text.as_bytes();
    // `Some(true)` for `---`, `Some(false)` for `...`, at the line starting at `at`.
    let marker_at = |at: usize| {
        let rest = &bytes[at..];
        let dashes = rest.starts_with(b"---");
        let marker = (dashes || rest.starts_with(b"..."))
            && matches!(rest.get(3), None | Some(b'\n' | b'\r' | b' ' | b'\t'));
        marker.then_some(dashes)
    };
    let chunk = |start: usize, end: usize, first_line: u32, after_end: bool| Chunk {
        offset: start,
        first_line,
        text: &text[start..end],
        after_end,
    };
    let mut chunks = Vec::new();
    let (mut start, mut start_line, mut after_end) = (0usize, 1u32, false);
    let line_starts = memchr::memchr_iter(b'\n', bytes).map(|i| i + 1);
    for (at, line_no) in std::iter::once(0).chain(line_starts).zip(1u32..) {
        match marker_at(at) {
            Some(true) => {
                if at > start {
                    chunks.push(chunk(start, at, start_line, after_end));
                    (start, start_line) = (at, line_no);
                }
                after_end = false;
            }
            Some(false) => {
                chunks.push(chunk(start, at, start_line, after_end));
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
                (start, start_line, after_end) = (end, line_no + 1, true);
            }
            None => {}
        }
    }
    if start < text.len() {
        chunks.push(chunk(start, text.len(), start_line, after_end));
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

/// An open collection. Its items (entries) so far are the end of the parse's one stack of items
/// (entries) from `start`: when it closes they are moved into a list of their exact size, one
/// allocation per collection instead of one per doubling and a shrink.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        start: usize,
    },
    Map {
        pos: Pos,
        anchor: usize,
        start: usize,
        key: Option<(Text, Pos)>,
    },
}

fn pos_of(span: &Span, line_offset: u32) -> Pos {
    Pos {
        line: (span.start.line() as u32).saturating_add(line_offset.saturating_sub(1)),
        col: span.start.col() as u32 + 1,
    }
}

/// Parses one document chunk into a tree, charging its memory to `budget`. Errors carry file
/// positions.
fn parse_document(
    text: &str,
    first_line: u32,
    budget: &mut Budget,
) -> Result<(Option<Node>, Vec<YamlWarning>), YamlError> {
    let mut parser = Parser::new_from_str(text).keep_tags(true);
    let mut stack: Vec<Frame> = Vec::new();
    let mut open_items: Vec<Node> = Vec::new();
    let mut open_entries: Vec<Entry> = Vec::new();
    // Anchored node, its size in nodes, its height in collections and its memory.
    let mut anchors: HashMap<usize, (Node, usize, usize, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    let mut warnings = Vec::new();
    // Whether any mapping has a `<<` key: only then is the tree walked for merges.
    let mut merge_keys = false;
    // Where `<<` keys that do not merge are (quoted, or tagged other than `!!merge`): a set, as
    // every `<<` entry is looked up in it (a list made 80,000 quoted `"<<"` keys take 6 s).
    let mut literal_merge_keys: HashSet<Pos> = HashSet::new();
    // Whether a value JSON cannot hold (`.inf`) was met: only then is the tree walked for one
    // that remains.
    let mut unencodable = false;
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
                    start: open_items.len(),
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
                    start: open_entries.len(),
                    key: None,
                });
                continue;
            }
            // A collection's own node (its items were charged as they were read).
            Event::SequenceEnd | Event::MappingEnd if !budget.charge(NODE_BYTES) => {
                return Err(budget.error(pos, ""));
            }
            Event::SequenceEnd => match stack.pop() {
                // Exact capacity: most collections of a manifest hold 1 to 3 items, and a
                // growing Vec reserves 4 (trees of retained objects live until the end).
                Some(Frame::Seq { pos, anchor, start }) => (
                    Node {
                        pos,
                        value: Value::Seq(open_items.drain(start..).collect()),
                    },
                    anchor,
                ),
                _ => return Err(err(pos, "unbalanced sequence end".into())),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    pos, anchor, start, ..
                }) => {
                    let entries: Vec<Entry> = open_entries.drain(start..).collect();
                    check_duplicates(&entries, &mut warnings);
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
                let tag: Option<Box<String>> = tag.map(|t| {
                    if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
                        format!("!!{}", t.suffix)
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                    .into()
                });
                // The scanner reserves room to grow (128 bytes for a one-character scalar):
                // keep a copy of the text only (inline up to 15 bytes). A copy, not
                // `shrink_to_fit`: shrinking in place would leave a 112-byte hole after each
                // short scalar, too small for the scanner's next reservation, and the heap
                // would grow by 144 bytes per scalar.
                let text = Text::from(&*text);
                nodes += 1;
                let bytes = NODE_BYTES
                    + text_bytes(text.len())
                    + tag.as_ref().map_or(0, |t| heap_bytes(t.len()));
                if !budget.charge(bytes) {
                    return Err(budget.error(pos, ""));
                }
                (
                    Node {
                        pos,
                        value: Value::Scalar(Scalar { text, style, tag }),
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some((target, size, height, bytes)) = anchors.get(&id) else {
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
                // Charged before the copy is made, so a refused copy takes no memory.
                if !budget.charge(*bytes) {
                    return Err(budget.error(pos, " through aliases (alias bomb?)"));
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
            let bytes = tree_bytes(&node);
            // The anchor keeps a copy: count it, or nested anchors around a long collection
            // (`&a [&b [&c [1, 1, …]]]`) would copy it once per level, unbounded by the limit.
            nodes += size;
            if nodes > MAX_NODES {
                return Err(err(
                    pos,
                    format!("document copies more than {MAX_NODES} nodes into anchors and aliases"),
                ));
            }
            if !budget.charge(bytes) {
                return Err(budget.error(pos, " copying nodes into anchors and aliases"));
            }
            anchors.insert(anchor, (node.clone(), size, height(&node), bytes));
        }
        // A value (not a key) Kubernetes cannot decode (`!!int "abc"`) or JSON cannot hold
        // (`.inf`) refuses the whole document.
        let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
        if let Value::Scalar(s) = &node.value
            && !is_key
            && let Some(message) = scalar_refusal(s)
        {
            // go-yaml refuses a tag it cannot decode wherever it is; JSON, only the values that
            // remain (not a duplicate key's earlier value): checked once the tree is built.
            match message {
                Refusal::Decode(m) => return Err(err(node.pos, m)),
                Refusal::Json(_) => unencodable = true,
            }
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { .. }) => open_items.push(node),
            Some(Frame::Map {
                pos: map_pos, key, ..
            }) => match key.take() {
                None => {
                    let k = match &node.value {
                        Value::Scalar(s) => key_text(s).map_err(|m| err(node.pos, m))?,
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
                        // go-yaml decodes a document into Go maps keyed by strings: kubectl
                        // and the API server refuse the whole document (`invalid map key`).
                        _ => {
                            return Err(err(
                                node.pos,
                                "a mapping or a sequence used as a mapping key: Kubernetes \
                                 refuses the document (go-yaml: `invalid map key`)"
                                    .into(),
                            ));
                        }
                    };
                    // The key node is dropped; the entry keeps its text.
                    budget.used = budget.used.saturating_sub(tree_bytes(&node));
                    if !budget.charge(ENTRY_EXTRA_BYTES + text_bytes(k.len())) {
                        return Err(budget.error(node.pos, ""));
                    }
                    // `<<` merges when it is plain and untagged or tagged `!!merge`; quoted
                    // (`"<<"`) or tagged otherwise it is an ordinary key, as in go-yaml.
                    if k == "<<" {
                        if matches!(&node.value, Value::Scalar(s) if is_merge_key(s)) {
                            merge_keys = true;
                        } else {
                            literal_merge_keys.insert(node.pos);
                        }
                    }
                    *key = Some((k, node.pos));
                }
                Some((k, key_pos)) => open_entries.push(Entry {
                    key: k,
                    key_pos,
                    value: node,
                }),
            },
        }
    }
    // A `<<` merge key is YAML 1.1: go-yaml v2 merges it. Apply merges now.
    if let Some(r) = root.as_mut().filter(|_| merge_keys) {
        apply_merge_keys(r, &literal_merge_keys).map_err(|(pos, m)| err(pos, m))?;
    }
    if let Some((pos, message)) = root
        .as_ref()
        .filter(|_| unencodable)
        .and_then(first_unencodable)
    {
        return Err(err(pos, message));
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
            "duplicate key `{}` (first at line {}): `kubectl apply` (strict field validation, the default since 1.25) and kustomize reject the file; clients that do not validate send it and the API server keeps this last value, which the rules read",
            e.key, first.key_pos.line
        ),
    }
}

/// Applies the `<<` merge keys of the tree as go-yaml v2 does; a `<<` whose value is not a
/// mapping or a sequence of mappings refuses the document, as go-yaml does ("map merge requires
/// map or sequence of maps as the value").
fn apply_merge_keys(node: &mut Node, literal: &HashSet<Pos>) -> Result<(), (Pos, String)> {
    let merges = |e: &Entry| e.key == "<<" && !literal.contains(&e.key_pos);
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items
            .iter_mut()
            .try_for_each(|i| apply_merge_keys(i, literal))?,
        Value::Map(entries) => {
            entries
                .iter_mut()
                .try_for_each(|e| apply_merge_keys(&mut e.value, literal))?;
            if let Some(bad) = entries.iter().find(|e| {
                merges(e)
                    && match &e.value.value {
                        Value::Map(_) => false,
                        Value::Seq(items) => items.iter().any(|i| !i.is_map()),
                        Value::Scalar(_) => true,
                    }
            }) {
                return Err((
                    bad.value.pos,
                    "a `<<` merge key whose value is not a mapping or a list of mappings: \
                     Kubernetes refuses the document (go-yaml: `map merge requires map or \
                     sequence of maps as the value`)"
                        .into(),
                ));
            }
            if entries.iter().any(merges) {
                let mut merged: Vec<Entry> = Vec::new();
                let mut own: Vec<Entry> = Vec::new();
                // Sets, not scans: a merged mapping may have many keys.
                let mut merged_keys: HashSet<Text> = HashSet::new();
                for e in entries.drain(..) {
                    if merges(&e) {
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
    Ok(())
}

/// Is this stream JSON? Its first non-blank character opens an object or an array.
fn looks_like_json(text: &str) -> bool {
    text.bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .is_some_and(|b| b == b'{' || b == b'[')
}

/// A JSON stream, as `kubectl` reads a file that starts with `{`: values one after the other,
/// with or without whitespace between them (`{…}{…}` is two objects), tabs allowed wherever
/// whitespace is (YAML forbids them in indentation). Keys and values are read as Go's
/// `encoding/json` reads them: the last duplicate key wins (and is reported, as in YAML), `<<` is
/// an ordinary key. Positions are those the YAML parser gives the same text: the opening quote,
/// brace or bracket, columns in characters.
///
/// `None` when the text is not such a stream, or crosses a limit: it is then read as YAML, which
/// reports the error (with the same message and position as before JSON was read as JSON).
fn parse_json_stream(
    text: &str,
    keep: &dyn Fn(&str) -> bool,
    mut budget: Budget,
) -> Option<Vec<Result<Doc, YamlError>>> {
    let mut p = Json {
        text,
        b: text.as_bytes(),
        i: 0,
        line: 1,
        line_start: 0,
        col_at: (0, 1),
        depth: 0,
        nodes: 0,
        budget: &mut budget,
        warnings: Vec::new(),
        refused: None,
    };
    let mut out = Vec::new();
    p.skip_ws();
    let mut first = true;
    while p.i < p.b.len() {
        let start = p.i;
        let at = (p.line, p.line_start, p.col_at);
        let first_line = if first { 1 } else { p.line };
        first = false;
        let before = p.budget.used;
        p.nodes = 0;
        let Some(root) = p.value() else {
            // Not JSON, unless a limit refused the value: then it is skipped (checked, not
            // built) and the next ones are read.
            let refused = p.refused.take()?;
            (p.i, p.depth, p.budget.used) = (start, 0, before);
            (p.line, p.line_start, p.col_at) = at;
            p.skip_value()?;
            p.warnings.clear();
            if keep(&text[start..p.i]) {
                out.push(Err(refused));
            }
            p.skip_ws();
            continue;
        };
        let warnings = std::mem::take(&mut p.warnings);
        if keep(&text[start..p.i]) {
            out.push(Ok(Doc {
                root: Some(root),
                first_line,
                warnings,
                helm_source: None,
                after_end: false,
            }));
        } else {
            p.budget.used = before;
        }
        p.skip_ws();
    }
    Some(out)
}

struct Json<'t, 'b> {
    text: &'t str,
    b: &'t [u8],
    /// The next byte to read.
    i: usize,
    line: u32,
    line_start: usize,
    /// A byte offset on the current line and its column: columns count characters from there,
    /// not from the start of the line (a minified file is one long line).
    col_at: (usize, u32),
    depth: usize,
    nodes: usize,
    budget: &'b mut Budget,
    warnings: Vec<YamlWarning>,
    /// Why the value being read was refused (a limit), when it was.
    refused: Option<YamlError>,
}

impl Json<'_, '_> {
    /// The position of the next byte (called with `i` never going back).
    fn pos(&mut self) -> Pos {
        let (mut at, mut col) = self.col_at;
        if at < self.line_start {
            (at, col) = (self.line_start, 1);
        }
        // Every byte but UTF-8 continuation bytes (0x80..=0xBF) starts a character.
        col += self.b[at..self.i]
            .iter()
            .filter(|&&b| (b as i8) >= -0x40)
            .count() as u32;
        self.col_at = (self.i, col);
        Pos {
            line: self.line,
            col,
        }
    }

    /// Skips whitespace: spaces, tabs and line breaks (a lone carriage return is one, as for the
    /// YAML parser).
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b' ' | b'\t' => self.i += 1,
                b'\n' | b'\r' => {
                    self.i += 1;
                    if c == b'\r' && self.b.get(self.i) == Some(&b'\n') {
                        self.i += 1;
                    }
                    self.line += 1;
                    self.line_start = self.i;
                }
                _ => break,
            }
        }
    }

    fn count_node(&mut self, pos: Pos) -> Option<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.refused = Some(YamlError {
                pos,
                message: format!("document has more than {MAX_NODES} nodes"),
            });
            return None;
        }
        Some(())
    }

    fn charge(&mut self, bytes: usize, pos: Pos) -> Option<()> {
        if !self.budget.charge(bytes) {
            self.refused = Some(self.budget.error(pos, ""));
            return None;
        }
        Some(())
    }

    fn value(&mut self) -> Option<Node> {
        let pos = self.pos();
        self.count_node(pos)?;
        let value = match *self.b.get(self.i)? {
            b'{' => {
                self.open()?;
                let mut entries = Vec::new();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        if self.b.get(self.i) != Some(&b'"') {
                            return None;
                        }
                        let key_pos = self.pos();
                        let key = self.string()?;
                        self.count_node(key_pos)?;
                        self.charge(ENTRY_EXTRA_BYTES + text_bytes(key.len()), key_pos)?;
                        self.skip_ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        self.skip_ws();
                        let value = self.value()?;
                        entries.push(Entry {
                            key: key.into(),
                            key_pos,
                            value,
                        });
                        if self.next_item(b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                check_duplicates(&entries, &mut self.warnings);
                entries.shrink_to_fit();
                Value::Map(entries)
            }
            b'[' => {
                self.open()?;
                let mut items = Vec::new();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        if self.next_item(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                items.shrink_to_fit();
                Value::Seq(items)
            }
            b'"' => Value::Scalar(Scalar {
                text: self.string()?.into(),
                style: Style::Quoted,
                tag: None,
            }),
            _ => Value::Scalar(Scalar {
                text: Text::from(self.plain()?),
                style: Style::Plain,
                tag: None,
            }),
        };
        let bytes = NODE_BYTES
            + match &value {
                Value::Scalar(s) => text_bytes(s.text.len()),
                _ => 0,
            };
        self.charge(bytes, pos)?;
        Some(Node { pos, value })
    }

    /// A number, `true`, `false` or `null`.
    fn plain(&mut self) -> Option<&str> {
        let start = self.i;
        match *self.b.get(start)? {
            b't' | b'f' | b'n' => {
                let word = ["true", "false", "null"]
                    .into_iter()
                    .find(|w| self.b[start..].starts_with(w.as_bytes()))?;
                self.i += word.len();
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        // `truex`, `1x`, `01`: not a value followed by another.
        if self
            .b
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+'))
        {
            return None;
        }
        Some(&self.text[start..self.i])
    }

    /// Goes past a value, checking it as [`Json::value`] does but building nothing (a value a
    /// limit refused).
    fn skip_value(&mut self) -> Option<()> {
        // The closing brackets of the open collections.
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value, or the opening of a collection.
            match *self.b.get(self.i)? {
                c @ (b'{' | b'[') => {
                    if open.len() >= MAX_DEPTH {
                        return None;
                    }
                    self.i += 1;
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.b.get(self.i) == Some(&close) {
                        self.i += 1;
                    } else {
                        open.push(close);
                        if close == b'}' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => {
                    self.plain()?;
                }
            }
            // After a value: close collections, or go on to the next item.
            loop {
                let Some(&close) = open.last() else {
                    return Some(());
                };
                self.skip_ws();
                let c = *self.b.get(self.i)?;
                self.i += 1;
                if c == close {
                    open.pop();
                } else if c == b',' {
                    self.skip_ws();
                    if close == b'}' {
                        self.skip_key()?;
                    }
                    break;
                } else {
                    return None;
                }
            }
        }
    }

    /// `"key":` and the whitespace after it.
    fn skip_key(&mut self) -> Option<()> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.string()?;
        self.skip_ws();
        if self.b.get(self.i) != Some(&b':') {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        Some(())
    }

    /// Enters a collection: past its `{` or `[` and the whitespace after it.
    fn open(&mut self) -> Option<()> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        self.i += 1;
        self.skip_ws();
        Some(())
    }

    /// After an item: `,` (false: another item follows) or the closing `close` (true).
    fn next_item(&mut self, close: u8) -> Option<bool> {
        self.skip_ws();
        let c = *self.b.get(self.i)?;
        self.i += 1;
        if c == close {
            return Some(true);
        }
        if c != b',' {
            return None;
        }
        self.skip_ws();
        Some(false)
    }

    /// A string, from its opening quote; `None` for a raw control character or a bad escape.
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let start = self.i;
        let rest = &self.b[start..];
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[end] == b'"' {
            if rest[..end].iter().any(|&c| c < 0x20) {
                return None;
            }
            self.i = start + end + 1;
            return Some(self.text[start..start + end].to_owned());
        }
        let mut out = String::new();
        let mut run = start;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    let escape = *self.b.get(self.i + 1)?;
                    self.i += 2;
                    out.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            if (0xD800..0xDC00).contains(&high) {
                                // A surrogate pair: `\ud83d\ude00`.
                                if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                            } else {
                                char::from_u32(high)?
                            }
                        }
                        _ => return None,
                    });
                    run = self.i;
                }
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        out.shrink_to_fit();
        Some(out)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.i..self.i + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match *self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            self.digits()?;
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
        }
        Some(())
    }

    /// One digit or more.
    fn digits(&mut self) -> Option<()> {
        let n = self.b[self.i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.i += n;
        (n > 0).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`split_documents`] as it was written first, line by line: the reference it must agree with.
    fn split_documents_by_lines(text: &str) -> Vec<Chunk<'_>> {
        let mut chunks = Vec::new();
        let mut start = 0usize;
        let mut start_line = 1u32;
        let mut offset = 0usize;
        // A `...` line ends a document; what follows is not read until a `---` line.
        let mut after_end = false;
        for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
            let bare = line.trim_end_matches(['\n', '\r']);
            if is_marker(bare, "---") {
                if offset > start {
                    chunks.push(Chunk {
                        offset: start,
                        first_line: start_line,
                        text: &text[start..offset],
                        after_end,
                    });
                    start = offset;
                    start_line = line_no;
                }
                after_end = false;
            } else if is_marker(bare, "...") {
                chunks.push(Chunk {
                    offset: start,
                    first_line: start_line,
                    text: &text[start..offset],
                    after_end,
                });
                start = offset + line.len();
                start_line = line_no + 1;
                after_end = true;
            }
            offset += line.len();
        }
        if start < text.len() {
            chunks.push(Chunk {
                offset: start,
                first_line: start_line,
                text: &text[start..],
                after_end,
            });
        }
        chunks
    }

    #[test]
    fn documents_split_as_line_by_line() {
        let lines = [
            "---", "--- |", "---\t#x", "---x", "...", "... ", "....", "..", "--", "a: 1", "",
            "  ---", "-- -", "---\r", "...\r", "\r", "# c", "- a",
        ];
        let key = |c: &Chunk<'_>| (c.offset, c.first_line, c.text.to_owned(), c.after_end);
        let mut texts = vec![String::new()];
        // Every sequence of 4 of these lines, with LF or CRLF endings, with and without a
        // final line break.
        for _ in 0..4 {
            let mut next = Vec::new();
            for t in &texts {
                for l in lines {
                    next.push(format!("{t}{l}\n"));
                }
            }
            texts = next;
        }
        let mut n = 0;
        for t in &texts {
            for text in [
                t.clone(),
                t.replace('\n', "\r\n"),
                t.trim_end_matches('\n').to_owned(),
            ] {
                let got: Vec<_> = split_documents(&text).iter().map(key).collect();
                let want: Vec<_> = split_documents_by_lines(&text).iter().map(key).collect();
                assert_eq!(got, want, "{text:?}");
                n += 1;
            }
        }
        assert!(n > 100_000, "{n}");
    }

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

    /// Each `<<` key is checked against the quoted ones of its document: 80,000 of them, with one
    /// merge, are read in linear time (a list made this take 6 s in a release build).
    #[test]
    fn many_quoted_merge_keys_are_read_in_linear_time() {
        let mut text = String::from("a: {<<: {z: 1}}\n");
        for i in 0..80_000 {
            text.push_str(&format!("k{i}: {{\"<<\": {i}}}\n"));
        }
        let root = one(&text);
        assert_eq!(
            root.get("a").unwrap().to_json(),
            serde_json::json!({"z": 1})
        );
        assert_eq!(
            root.get("k79999").unwrap().to_json(),
            serde_json::json!({"<<": 79_999})
        );
    }

    #[test]
    fn overflowing_integers_are_not_integers() {
        // Past 64 bits: a float, as go-yaml reads it; past 63 bits: go-yaml's uint64.
        let n = one(
            "a: 99999999999999999999999\nb: 18446744073709551615\nc: 0x8000_0000_0000_0000\nd: -9223372036854775809\n",
        );
        let get = |k: &str| n.get(k).unwrap();
        assert_eq!(get("a").as_i64(), None);
        assert!(matches!(get("a").resolve(), Some(Resolved::Float(_))));
        assert_eq!(get("b").resolve(), Some(Resolved::Uint(u64::MAX)));
        assert_eq!(get("b").as_i64(), None);
        assert_eq!(get("b").to_json(), serde_json::json!(u64::MAX));
        assert_eq!(get("c").resolve(), Some(Resolved::Uint(1 << 63)));
        assert!(matches!(get("d").resolve(), Some(Resolved::Float(_))));
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
        let n = one("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n");
        assert_eq!(n.pointer("/d/x").unwrap().as_i64(), Some(1));
        assert_eq!(n.pointer("/d/z").unwrap().as_i64(), Some(3));
    }

    fn pos(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }

    fn roots(docs: &[Result<Doc, YamlError>]) -> Vec<&Node> {
        docs.iter()
            .map(|d| d.as_ref().unwrap().root.as_ref().unwrap())
            .collect()
    }

    #[test]
    fn effective_entries_keep_the_last_duplicate_where_it_is_written() {
        for n in [3, 40] {
            // b, then a's keys 0..n, then a duplicate of b and of key 1.
            let mut text = String::from("{b: first, ");
            for i in 0..n {
                text.push_str(&format!("k{i}: {i}, "));
            }
            text.push_str("b: last, k1: again}");
            let node = one(&text);
            let keys: Vec<&str> = node.effective_entries().map(|e| e.key.as_str()).collect();
            let mut expected: Vec<String> = (0..n)
                .filter(|&i| i != 1)
                .map(|i| format!("k{i}"))
                .collect();
            expected.extend(["b".into(), "k1".into()]);
            assert_eq!(keys, expected, "{n} keys");
            assert_eq!(node.get("b").unwrap().text(), Some("last"));
            assert_eq!(node.to_json()["k1"], "again");
        }
    }

    #[test]
    fn json_values_one_after_the_other_are_documents() {
        for text in [
            "{\"a\":1}{\"b\":2}",
            "{\"a\":1} {\"b\":2}\n",
            "{\"a\":1}\n{\"b\":2}",
            "{\"a\":1}\r\n\r\n\t{\"b\":2}",
        ] {
            let docs = parse_stream(text);
            let roots = roots(&docs);
            assert_eq!(roots.len(), 2, "{text:?}");
            assert_eq!(roots[0].get("a").unwrap().as_i64(), Some(1));
            assert_eq!(roots[1].get("b").unwrap().as_i64(), Some(2));
        }
        let docs = parse_stream("{\"a\":1}{\"b\":2}\n  [3]");
        assert_eq!(docs.len(), 3);
        assert_eq!(roots(&docs)[1].pos, pos(1, 8));
        assert_eq!(roots(&docs)[2].pos, pos(2, 3));
        assert_eq!(docs[0].as_ref().unwrap().first_line, 1);
        assert_eq!(docs[2].as_ref().unwrap().first_line, 2);
        // Only the documents `keep` accepts.
        let kept = parse_stream_where("{\"kind\":\"A\"}{\"kind\":\"B\"}", &|t| t.contains('B'));
        assert_eq!(kept.len(), 1);
        assert_eq!(roots(&kept)[0].get("kind").unwrap().as_str(), Some("B"));
    }

    /// What follows a `...` line until a `---` line is marked [`Doc::after_end`], as kubectl
    /// (`---` split, then go-yaml's first document) and kustomize never apply it; it is reported
    /// at its first line of content, and is not an error when it is not YAML.
    #[test]
    fn documents_after_document_end_are_marked_until_the_next_separator() {
        let text = "a: 1\n...\n# c\nb: 2\n...\n\nc: [\n---\nd: 4\n...\n---\ne: 5\n";
        let docs = parse_stream(text);
        let read: Vec<_> = docs
            .iter()
            .map(|d| {
                let d = d.as_ref().unwrap();
                (d.after_end, d.root.as_ref().map(Node::to_json))
            })
            .collect();
        assert_eq!(
            read,
            [
                (false, Some(serde_json::json!({"a": 1}))),
                (true, Some(serde_json::json!({"b": 2}))),
                (true, None),
                (false, Some(serde_json::json!({"d": 4}))),
                (false, Some(serde_json::json!({"e": 5})))
            ]
        );
        let warned: Vec<(u32, &str)> = docs
            .iter()
            .flat_map(|d| &d.as_ref().unwrap().warnings)
            .map(|w| (w.pos.line, w.message.as_str()))
            .collect();
        let message = "not applied: kubectl and kustomize read nothing after a `...` (document \
                       end) line until the next `---` line, so this document is read for \
                       committed credentials only; start it with `---` to have it applied and \
                       checked";
        assert_eq!(warned, [(4, message), (7, message)]);
        // A `...` with only comments or nothing after it: nothing to say.
        let docs = parse_stream("a: 1\n...\n# end\n");
        assert!(docs.iter().all(|d| d.as_ref().unwrap().warnings.is_empty()));
    }

    /// Values and keys as `sigs.k8s.io/yaml` v1.6.0 (go-yaml v2.4.4) gives them for the same
    /// document (`e2e/tools/yamlcheck -json`, recorded): Go's integer prefixes in either case,
    /// tags resolving quoted text, integers past i64 exact, overflowing floats as strings, `-`
    /// in a flow collection, and keys converted to JSON's strings (booleans, integers in decimal,
    /// floats as Go writes them at 32 bits).
    #[test]
    fn values_and_keys_as_go_yaml_reads_them() {
        let root = one(concat!(
            "a: 0o17\nb: 0O17\nc: 0X1f\nd: 0B101\ne: -0b101\nf: 1e400\ng: !!bool \"true\"\n",
            "h: !!int \"0\"\ni: !!float \"1\"\nj: 18446744073709551615\nk: [-, x]\nl: 08\n",
            "m: 1_000\nn: .5\nkeys: {yes: 1, 0x1F: 2, 1e3: 3, .inf: 4, 18446744073709551616: 5,",
            " 1.5: 6, -0.0001: 7, 0.00001: 8, \"yes\": 9}\n",
        ));
        let go: serde_json::Value = serde_json::from_str(concat!(
            r#"{"a":15,"b":15,"c":31,"d":5,"e":-5,"f":"1e400","false":0.5,"g":true,"h":0,"i":1,"#,
            r#""j":18446744073709551615,"k":["-","x"],"keys":{"-0.0001":7,".inf":4,"1.5":6,"#,
            r#""1.8446744e+19":5,"1000":3,"1e-05":8,"31":2,"true":1,"yes":9},"l":8,"m":1000}"#
        ))
        .unwrap();
        let ours = root.to_json();
        // Numbers compare by value: go-yaml's `1` of `!!float "1"` is the float 1.0.
        let same = |a: &serde_json::Value, b: &serde_json::Value| a == b;
        for (key, want) in go.as_object().unwrap() {
            let got = &ours[key];
            let number = want.as_f64().zip(got.as_f64());
            assert!(
                same(want, got) || number.is_some_and(|(w, g)| w == g),
                "{key}: go-yaml {want}, kubeharden {got}"
            );
        }
        assert_eq!(
            ours.as_object().unwrap().len(),
            go.as_object().unwrap().len()
        );
        // The rules read the same: a tagged boolean is a boolean, `0o0` is the integer 0.
        assert_eq!(root.get("g").unwrap().as_bool(), Some(true));
        assert_eq!(root.get("h").unwrap().as_i64(), Some(0));
        assert_eq!(root.get("a").unwrap().as_i64(), Some(15));
        assert_eq!(root.get("f").unwrap().as_str(), Some("1e400"));
    }

    /// What go-yaml or the JSON it is turned into cannot hold refuses the whole document, at the
    /// scalar, with go-yaml's reason; the file's other documents are still read.
    #[test]
    fn what_go_yaml_refuses_refuses_the_document() {
        for (doc, line, reason) in [
            (
                "x: 1\n~: 1\n",
                2,
                "a null (`~`, `null` or nothing) used as a mapping key",
            ),
            (
                "x: 1\na: !!int \"abc\"\n",
                2,
                "a scalar tagged `!!int` whose text is not one",
            ),
            (
                "x: 1\na: !!null x\n",
                2,
                "a scalar tagged `!!null` whose text is not one",
            ),
            (
                "x: 1\na: !!float 18446744073709551615\n",
                2,
                "a scalar tagged `!!float` whose text is not one",
            ),
            (
                "x: 1\na: {<<: x}\n",
                2,
                "`map merge requires map or sequence of maps",
            ),
            ("x: 1\na: .nan\n", 2, "`json: unsupported value: NaN`"),
            ("x: 1\na: [-.Inf]\n", 2, "`json: unsupported value: -Inf`"),
            (
                "x: 1\n18446744073709551615: 1\n",
                2,
                "an integer past 64 signed bits",
            ),
        ] {
            let docs = parse_stream(&format!("{doc}---\nok: 1\n"));
            let e = docs[0].as_ref().unwrap_err();
            assert_eq!(e.pos.line, line, "{doc}");
            assert!(e.message.contains(reason), "{doc}: {}", e.message);
            assert!(docs[1].is_ok(), "{doc}: the next document is still read");
        }
        // A quoted `"<<"` is an ordinary key (go-yaml merges only a plain or `!!merge` one): a
        // document holding one is read, whatever its value.
        let root = one("a: {\"<<\": {x: 1}, y2: 2}\nb:\n  '<<': 3\nc: {!!merge \"<<\": {x: 1}}\n");
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": {"<<": {"x": 1}, "y2": 2}, "b": {"<<": 3}, "c": {"x": 1}})
        );
        // As keys they are strings, as `sigs.k8s.io/yaml` converts them: no refusal.
        let root = one("a: {.nan: 1, .inf: 2, -.inf: 3}\n");
        let keys: Vec<&str> = root
            .get("a")
            .unwrap()
            .entries()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, [".nan", ".inf", "-.inf"]);
    }

    /// A mapping or a sequence as a key (also through an alias) makes go-yaml refuse the document
    /// (`invalid map key`, `sigs.k8s.io/yaml` v1.6.0); an alias of a scalar is a scalar key.
    #[test]
    fn complex_keys_are_refused_as_go_yaml_refuses_them() {
        for (text, line) in [
            ("{[a, b]: 1}\n", 1),
            ("? [a]\n: 1\n", 1),
            ("a:\n  {x: 1}: 2\n", 2),
            ("a: &x {k: v}\nb:\n  *x : 1\n", 3),
        ] {
            let docs = parse_stream(text);
            let err = docs[0].as_ref().unwrap_err();
            assert_eq!(err.pos.line, line, "{text:?}");
            assert_eq!(
                err.message,
                "a mapping or a sequence used as a mapping key: Kubernetes refuses the document \
                 (go-yaml: `invalid map key`)",
                "{text:?}"
            );
        }
        assert_eq!(
            one("a: &x k\nb:\n  *x : 1\n").to_json(),
            serde_json::json!({"a": "k", "b": {"k": 1}})
        );
        assert_eq!(
            one("a: {? b}\n").to_json(),
            serde_json::json!({"a": {"b": null}})
        );
    }

    /// Kubernetes reads manifests with go-yaml (a libyaml port), which checks no indentation
    /// inside a flow collection nor on a quoted scalar's continuation lines; `kubectl apply`
    /// accepts such files and real projects ship them (kube-bench's `hack/kind-stig.yaml`
    /// closes `command: [` at the key's indentation). The expected JSON is what
    /// `sigs.k8s.io/yaml` v1.6.0 `YAMLToJSON` gives for each text
    /// (see `vendor/saphyr-parser/PATCHED.md`).
    #[test]
    fn go_yaml_indentation_leniency() {
        for (text, go_yaml) in [
            (
                "outer:\n  inner: [\n    a,\n    b,\n ]\n",
                r#"{"outer":{"inner":["a","b"]}}"#,
            ),
            ("a: [b,\nc]\n", r#"{"a":["b","c"]}"#),
            (
                "a:\n  b: {x: 1,\n z: 2\n}\n  c: 3\n",
                r#"{"a":{"b":{"x":1,"z":2},"c":3}}"#,
            ),
            ("a:\n  - [1,\n  2]\n  - 3\n", r#"{"a":[[1,2],3]}"#),
            ("a:\n  b: [1,\n2]\n", r#"{"a":{"b":[1,2]}}"#),
            ("a:\n  b: \"x\n y\"\n", r#"{"a":{"b":"x y"}}"#),
            ("a:\n  b: 'x\ny'\n", r#"{"a":{"b":"x y"}}"#),
            (
                "spec:\n  containers:\n    - command: [\n        \"sh\",\n        \"-c\",\n      ]\n      name: x\n",
                r#"{"spec":{"containers":[{"command":["sh","-c"],"name":"x"}]}}"#,
            ),
        ] {
            let want: serde_json::Value = serde_json::from_str(go_yaml).unwrap();
            assert_eq!(one(text).to_json(), want, "{text:?}");
        }
        // Positions are still exact: the items of a dedented flow sequence.
        let root = one("a:\n  b: [1,\n2]\n");
        let items = root.pointer("/a/b").unwrap().items();
        assert_eq!((items[0].pos, items[1].pos), (pos(2, 7), pos(3, 1)));
        // Block indentation is still checked, as go-yaml checks it ("did not find expected key").
        let docs = parse_stream("a:\n  b: 1\n c: 2\n");
        let err = docs[0].as_ref().unwrap_err();
        assert_eq!(err.pos.line, 3, "{err:?}");
    }

    #[test]
    fn json_allows_tabs_wherever_it_allows_whitespace() {
        let text = "{\n\t\"a\":\t{\"b\":\t1},\n\t\"c\" :\t[\ttrue ,\tnull\t]\n}\n";
        let root = one(text);
        let a = root.entry("a").unwrap();
        assert_eq!((a.key_pos, a.value.pos), (pos(2, 2), pos(2, 7)));
        let b = a.value.entry("b").unwrap();
        assert_eq!((b.key_pos, b.value.pos), (pos(2, 8), pos(2, 13)));
        let c = root.get("c").unwrap();
        assert_eq!(c.items()[0].as_bool(), Some(true));
        assert!(c.items()[1].is_null());
        assert_eq!(c.items()[1].pos, pos(3, 17));
    }

    #[test]
    fn json_strings_numbers_and_positions() {
        let text = "{\"é\":\"ü\",\"x\":1,\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\\\\\",\"n\":[-0.5e+3,0,12]}";
        let root = one(text);
        let x = root.entry("x").unwrap();
        // Columns count characters, not bytes.
        assert_eq!((x.key_pos, x.value.pos), (pos(1, 10), pos(1, 14)));
        assert_eq!(root.get("é").unwrap().as_str(), Some("ü"));
        assert_eq!(root.get("s").unwrap().as_str(), Some("é😀\n\"/\\"));
        let n: Vec<_> = root
            .get("n")
            .unwrap()
            .items()
            .iter()
            .map(Node::to_json)
            .collect();
        assert_eq!(
            n,
            [
                serde_json::json!(-500.0),
                serde_json::json!(0),
                serde_json::json!(12)
            ]
        );
        // Quoted values are strings, as in YAML.
        assert_eq!(one("{\"a\":\"true\"}").get("a").unwrap().as_bool(), None);
    }

    #[test]
    fn json_reads_as_the_yaml_parser_reads_it() {
        // Same nodes, positions and warnings as the YAML parser gives the same (valid JSON) text.
        for text in [
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}",
            "{\n  \"a\": [\n    1,\n    {\"b\": null, \"c\": [[], {}]},\n    \"x\\ty\"\n  ],\n  \"a\": -1.5e3\n}\n",
            "[{\"k\": \"ü\"}, \"é\", 1e5, false]",
            "  {\"a\": \"\\u0041\\n\", \"é\": {\"ü\": 1}}",
        ] {
            super::corpus_json::same_as_yaml(text, text);
        }
    }

    #[test]
    fn duplicate_keys_in_json_warn_and_the_last_wins() {
        let docs = parse_stream("{\"a\":1,\"a\":2}");
        let doc = docs[0].as_ref().unwrap();
        assert_eq!(
            doc.root.as_ref().unwrap().get("a").unwrap().as_i64(),
            Some(2)
        );
        assert_eq!(doc.warnings.len(), 1);
        assert_eq!(doc.warnings[0].pos, pos(1, 8));
        assert!(doc.warnings[0].message.contains("first at line 1"));
    }

    #[test]
    fn json_has_no_merge_keys() {
        // kubectl reads JSON with a JSON decoder: `<<` is an ordinary key.
        let root = one("{\"<<\": {\"a\": 1}}");
        assert!(root.get("<<").unwrap().is_map());
        assert!(root.get("a").is_none());
    }

    #[test]
    fn what_is_not_json_is_read_as_yaml() {
        // Flow YAML, JSON with YAML comments or markers, invalid JSON: read (or refused) as YAML.
        let root = one("{a: 1, b: [x, 'y']}");
        assert_eq!(root.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(one("{\"a\": 1} # c\n").get("a").unwrap().as_i64(), Some(1));
        let docs = parse_stream("{\"a\": 1}\n---\n{\"b\": yes}\n");
        assert_eq!(roots(&docs)[1].get("b").unwrap().as_bool(), Some(true));
        for bad in [
            "{\"a\": 01}",
            "{\"a\": 1",
            "{\"a\" 1}",
            "{\"a\": \"\\x\"}",
            "[tru]",
        ] {
            let json = parse_json_stream(bad, &|_| true, Budget::for_text(bad.len(), 0));
            assert!(json.is_none(), "{bad}");
        }
        // The YAML parser's error, as before JSON was read as JSON.
        let docs = parse_stream("{\"a\": 1");
        assert!(docs[0].is_err());
        // Nesting: 255 levels are read as JSON, 256 are the YAML parser's error.
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_stream(&ok)[0].is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse_stream(&deep).remove(0).unwrap_err();
        assert!(
            e.message.contains("nesting deeper than 255 levels"),
            "{e:?}"
        );
    }

    #[test]
    fn short_scalars_and_keys_live_inside_their_node() {
        let inside = |text: &str, holder: usize, size: usize| {
            let at = text.as_ptr() as usize;
            at >= holder && at + text.len() <= holder + size
        };
        let root = one("apiVersion: [1, xyz, fifteen-bytes-1, sixteen-bytes-12]\n");
        let entry = &root.entries()[0];
        let entry_at = entry as *const Entry as usize;
        assert!(inside(&entry.key, entry_at, std::mem::size_of::<Entry>()));
        let items = entry.value.items();
        for (item, inline) in items.iter().zip([true, true, true, false]) {
            let text = &item.scalar().unwrap().text;
            let node_at = item as *const Node as usize;
            assert_eq!(
                inside(text, node_at, std::mem::size_of::<Node>()),
                inline,
                "{text}"
            );
        }
    }

    #[test]
    fn memory_limit_refuses_a_document_and_reads_the_others() {
        // 300,000 one-character items: 600 KB of text, 12 MB of nodes (20 bytes per byte).
        let list = format!("[{}]", vec!["1"; 300_000].join(","));
        for (name, big) in [
            ("yaml", format!("a: {list}\n")),
            ("json", format!("{{\"a\": {list}}}")),
        ] {
            let small = if name == "json" {
                "{\"b\": 1}"
            } else {
                "---\nb: 1\n"
            };
            let text = format!("{big}\n{small}\n");
            let docs = parse_stream_within(&text, &|_| true, 1 << 20);
            assert_eq!(docs.len(), 2, "{name}");
            let e = docs[0].as_ref().unwrap_err();
            assert_eq!(e.pos.line, 1, "{name}: {e:?}");
            assert!(
                e.message.starts_with(
                    "document exceeds the memory limit: this input's documents would need more \
                     than 11 MiB (16 bytes per byte of its 600"
                ),
                "{name}: {e:?}"
            );
            assert!(e.message.ends_with(" bytes, plus 1 MiB)"), "{e:?}");
            // The refused document's memory goes back: the next one is read.
            assert_eq!(
                roots(&docs[1..])[0].get("b").unwrap().as_i64(),
                Some(1),
                "{name}"
            );
            // Under the usual limit, the same text is read.
            assert!(parse_stream(&text).iter().all(Result::is_ok), "{name}");
        }
    }

    #[test]
    fn memory_limit_counts_aliases_and_anchor_copies() {
        // A long string copied by aliases: 1 node each, but its whole text each time.
        let text = format!(
            "a: &a {}\nb: [{}]\n",
            "x".repeat(100_000),
            vec!["*a"; 200].join(", ")
        );
        let e = parse_stream_within(&text, &|_| true, 1 << 20)
            .remove(0)
            .unwrap_err();
        assert_eq!(e.pos.line, 2, "{e:?}");
        assert!(
            e.message
                .starts_with("document exceeds the memory limit through aliases (alias bomb?)"),
            "{e:?}"
        );
        // Nested anchors around a long list.
        let text = format!(
            "a: &a [&b [&c [&d [{}]]]]\n",
            vec!["xxxxxxxxxx"; 5_000].join(",")
        );
        let e = parse_stream_within(&text, &|_| true, 0)
            .remove(0)
            .unwrap_err();
        assert!(
            e.message.starts_with(
                "document exceeds the memory limit copying nodes into anchors and aliases:"
            ),
            "{e:?}"
        );
        // The estimate matches the tree: 40,000 items of one character, 40 bytes each (their
        // text inside the node); a key of 15 bytes is inline too, one of 16 is not.
        let root = one(&format!("[{}]", vec!["1"; 40_000].join(",")));
        assert_eq!(tree_bytes(&root), NODE_BYTES + 40_000 * NODE_BYTES);
        assert_eq!(
            NODE_BYTES, 40,
            "a node grew: the memory limit's factor depends on it"
        );
        let root = one("fifteen-bytes-1: a\nsixteen-bytes-12: b\n");
        assert_eq!(
            tree_bytes(&root),
            NODE_BYTES + 2 * (ENTRY_EXTRA_BYTES + NODE_BYTES) + heap_bytes(16 + 16)
        );
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

/// Calls `f` with the path and text of every UTF-8 file under the corpus named by
/// `KUBEHARDEN_CORPUS`, for the tests that check a reader against the parser over it; `false`
/// (and a note) when the variable is not set.
#[cfg(test)]
pub(crate) fn each_corpus_text(mut f: impl FnMut(&std::path::Path, &str)) -> bool {
    let Some(root) = std::env::var_os("KUBEHARDEN_CORPUS") else {
        eprintln!("KUBEHARDEN_CORPUS is not set: skipped");
        return false;
    };
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(p) = dirs.pop() {
        if p.is_dir() {
            dirs.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(text) = std::fs::read_to_string(&p) {
            f(&p, &text);
        }
    }
    true
}

/// The JSON reader against the YAML parser over a corpus (`KUBEHARDEN_CORPUS`): every JSON file,
/// and every YAML document written as minified and as pretty JSON, must read as the same nodes,
/// positions and warnings; with tabs for indentation and after colons, and two documents one
/// after the other, as the same values. Slow (25 s unoptimised): run with `--ignored`.
#[cfg(test)]
mod corpus_json {
    use super::*;

    fn budget(text: &str) -> Budget {
        Budget::for_text(text.len(), TREE_BASE_BYTES)
    }

    pub(super) fn same_as_yaml(text: &str, what: &str) {
        let json = parse_json_stream(text, &|_| true, budget(text)).expect(what);
        let yaml = parse_yaml_stream(text, &|_| true, budget(text));
        let json: Vec<_> = json
            .into_iter()
            .map(|d| d.map(|d| (d.root, d.warnings)))
            .collect();
        let yaml: Vec<_> = yaml
            .into_iter()
            .map(|d| d.map(|d| (d.root, d.warnings)))
            .collect();
        assert_eq!(json, yaml, "{what}");
    }

    #[test]
    #[ignore]
    fn json_reads_as_yaml_over_the_corpus() {
        let (mut files, mut variants) = (0, 0);
        let walked = each_corpus_text(|p, text| {
            let what = p.display().to_string();
            let yaml = parse_yaml_stream(text, &|_| true, budget(text));
            if looks_like_json(text) && yaml.iter().all(Result::is_ok) {
                files += 1;
                same_as_yaml(text, &what);
            }
            for root in yaml.into_iter().flatten().filter_map(|d| d.root) {
                let v = root.to_json();
                let pretty = serde_json::to_string_pretty(&v).unwrap();
                for text in [serde_json::to_string(&v).unwrap(), pretty.clone()] {
                    variants += 1;
                    same_as_yaml(&text, &what);
                }
                if !v.is_object() {
                    continue;
                }
                let tabs: String = pretty
                    .lines()
                    .map(|l| {
                        let t = l.trim_start_matches(' ');
                        let t = match t.split_once("\": ") {
                            Some((k, v)) if !k.contains('\\') => format!("{k}\":\t{v}"),
                            _ => t.to_owned(),
                        };
                        format!("{}{t}\n", "\t".repeat((l.len() - l.trim_start().len()) / 2))
                    })
                    .collect();
                let compact = serde_json::to_string(&v).unwrap();
                for (text, n) in [(tabs, 1), (format!("{compact}{compact}"), 2)] {
                    let docs = parse_json_stream(&text, &|_| true, budget(&text)).expect(&what);
                    assert_eq!(docs.len(), n, "{what}");
                    for d in docs {
                        assert_eq!(d.unwrap().root.unwrap().to_json(), v, "{what}");
                    }
                }
            }
        });
        if !walked {
            return;
        }
        println!(
            "{files} JSON files and {variants} JSON variants read as the YAML parser reads them"
        );
        assert!(files > 0 && variants > 0);
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod layout {
    /// A scan keeps about a million nodes at 100,000 objects: each byte here is a megabyte there.
    #[test]
    fn nodes_and_entries_stay_small() {
        assert_eq!(std::mem::size_of::<super::Node>(), 40);
        assert_eq!(std::mem::size_of::<super::Entry>(), 64);
    }
}
