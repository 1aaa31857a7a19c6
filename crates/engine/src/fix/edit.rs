//! Semantic edits ([`Op`]: set, append, remove, replace a field by JSON pointer) turned into byte
//! splices of the original text, written in the style of the surrounding YAML: block or flow, the
//! document's indentation step and sequence indentation, the quoting of a replaced scalar, the
//! file's line endings, JSON syntax in JSON files.
//!
//! Every splice is one of: a scalar replaced in place, whole new lines inserted after the last
//! line of a block collection, text inserted inside a flow collection, or whole lines removed.
//! Nothing else in the file is rewritten.

use super::layout::{Kind, LEntry, LNode};
pub use crate::rules::fix::{New, Op};
use crate::yaml::{self, Resolved, Scalar, Style};
use saphyr_parser::ScalarStyle;
use serde_json::Value as Json;
use std::collections::HashMap;

/// One splice of the original text: bytes `start..end` become `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Pointer depth of the edited node: at one position, inner content is inserted first.
    depth: usize,
}

impl Edit {
    #[cfg(test)]
    pub(crate) fn new(start: usize, end: usize, text: &str) -> Edit {
        Edit {
            start,
            end,
            text: text.to_owned(),
            depth: 0,
        }
    }
}

/// How a document is written, for new lines.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DocStyle {
    /// Indentation of a nested block mapping relative to its key.
    pub step: usize,
    /// Indentation of a block sequence's `-` relative to its key (0 when indentless).
    pub seq_indent: usize,
    pub eol: &'static str,
    /// JSON file: new flow content quotes every key and string.
    pub json: bool,
}

impl DocStyle {
    /// Detects the indentation of a document from its first nested block mapping and sequence.
    pub fn detect(text: &str, root: &LNode, json: bool) -> DocStyle {
        let eol = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let mut style = DocStyle {
            step: 0,
            seq_indent: usize::MAX,
            eol,
            json,
        };
        detect(text, root, &mut style);
        if style.step == 0 {
            style.step = 2;
        }
        if style.seq_indent == usize::MAX {
            style.seq_indent = style.step;
        }
        style
    }
}

fn detect(text: &str, node: &LNode, style: &mut DocStyle) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if style.step != 0 && style.seq_indent != usize::MAX {
            return;
        }
        match &node.kind {
            Kind::Map {
                flow: false,
                entries,
                ..
            } => {
                for e in entries {
                    match &e.value.kind {
                        Kind::Map {
                            flow: false,
                            entries: inner,
                            ..
                        } if style.step == 0 => {
                            if let Some(first) = inner.first()
                                && first.key_col > e.key_col
                            {
                                style.step = (first.key_col - e.key_col) as usize;
                            }
                        }
                        Kind::Seq {
                            flow: false, items, ..
                        } if style.seq_indent == usize::MAX => {
                            if let Some((_, dash)) = items.first().and_then(|i| dash_of(text, i))
                                && dash + 1 >= e.key_col as usize
                            {
                                style.seq_indent = dash + 1 - e.key_col as usize;
                            }
                        }
                        _ => {}
                    }
                }
                stack.extend(entries.iter().rev().map(|e| &e.value));
            }
            Kind::Map { entries, .. } => stack.extend(entries.iter().rev().map(|e| &e.value)),
            Kind::Seq { items, .. } => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
}

/// The `-` of a block sequence item: its byte offset and 0-based column, when the item starts on
/// the dash's line (`- x`, `- - x`).
fn dash_of(text: &str, item: &LNode) -> Option<(usize, usize)> {
    let ls = line_start(text, item.start);
    let prefix = &text[ls..item.start];
    let trimmed = prefix.trim_end_matches(' ');
    if !trimmed.ends_with('-') || trimmed.len() == prefix.len() {
        return None;
    }
    if !trimmed.bytes().all(|b| b == b' ' || b == b'-') {
        return None;
    }
    let dash = ls + trimmed.len() - 1;
    Some((dash, dash - ls))
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Where new lines go after the line holding `pos`: just past its line break, or at the end of a
/// file without a final line break (then the new text starts with one).
fn after_line(text: &str, pos: usize) -> (usize, bool) {
    match text[pos..].find('\n') {
        Some(i) => (pos + i + 1, false),
        None => (text.len(), true),
    }
}

/// Is the rest of the line after `pos` blank or a comment?
fn rest_is_blank(text: &str, pos: usize) -> bool {
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let rest = text[pos..end].trim();
    rest.is_empty() || rest.starts_with('#')
}

#[derive(Clone)]
enum Pending {
    MapAdd(Vec<(String, New)>),
    SeqAdd(Vec<New>),
    /// Content replacing a null value (`key:` or `key: null`).
    Fill(New),
}

struct Slot<'a> {
    node: &'a LNode,
    entry: Option<&'a LEntry>,
    parent_flow: bool,
    depth: usize,
    pending: Pending,
}

/// The path walked from an object's root.
struct Walk<'a> {
    node: &'a LNode,
    entry: Option<&'a LEntry>,
    parent: Option<&'a LNode>,
    consumed: usize,
}

impl Walk<'_> {
    fn parent_flow(&self) -> bool {
        matches!(
            self.parent.map(|p| &p.kind),
            Some(Kind::Map { flow: true, .. } | Kind::Seq { flow: true, .. })
        )
    }
}

fn walk<'a>(root: &'a LNode, tokens: &[String]) -> Result<Walk<'a>, String> {
    let mut w = Walk {
        node: root,
        entry: None,
        parent: None,
        consumed: 0,
    };
    for token in tokens {
        let node = w.node;
        if node.anchored {
            return Err(
                "the field is inside an anchored node (`&anchor`) that aliases may share".into(),
            );
        }
        let next = match &node.kind {
            Kind::Map { entries, .. } => {
                if entries.iter().any(|e| e.key == "<<") {
                    return Err("the mapping uses a `<<` merge key".into());
                }
                entries
                    .iter()
                    .rev()
                    .find(|e| e.key == *token)
                    .map(|e| (&e.value, Some(e)))
            }
            Kind::Seq { items, .. } => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n, None)),
            Kind::Alias => return Err("the field is reached through an alias (`*alias`)".into()),
            Kind::Scalar { .. } => None,
        };
        let Some((next, entry)) = next else { break };
        w = Walk {
            node: next,
            entry,
            parent: Some(node),
            consumed: w.consumed + 1,
        };
    }
    if w.node.anchored || matches!(w.node.kind, Kind::Alias) {
        return Err("the field is an anchor or an alias".into());
    }
    Ok(w)
}

/// Sets `rest` (a path below a new or pending mapping) to `value` in `items`.
fn insert_path(
    items: &mut Vec<(String, New)>,
    rest: &[String],
    value: New,
    append: bool,
) -> Result<(), String> {
    let (first, more) = rest.split_first().ok_or("empty path")?;
    let pos = items.iter().position(|(k, _)| k == first);
    if more.is_empty() {
        match (pos, append) {
            (Some(i), true) => match &mut items[i].1 {
                New::Seq(s) => {
                    if !s.contains(&value) {
                        s.push(value);
                    }
                }
                _ => return Err(format!("`{first}` is being set to a non-list")),
            },
            (None, true) => items.push((first.clone(), New::Seq(vec![value]))),
            (Some(i), false) => items[i].1 = value,
            (None, false) => items.push((first.clone(), value)),
        }
        return Ok(());
    }
    let i = match pos {
        Some(i) => i,
        None => {
            items.push((first.clone(), New::Map(Vec::new())));
            items.len() - 1
        }
    };
    match &mut items[i].1 {
        New::Map(inner) => insert_path(inner, more, value, append),
        _ => Err(format!("`{first}` is being set to a non-mapping")),
    }
}

fn is_scalar(v: &New) -> bool {
    matches!(v, New::Bool(_) | New::Int(_) | New::Str(_))
}

/// Plans the byte edits of one file from the ops of its objects.
pub(crate) struct Planner<'a> {
    text: &'a str,
    slots: Vec<Slot<'a>>,
    /// The slot of each node, by the node's address (a file's fixes touch 10,000s of nodes: a
    /// linear search per op made planning quadratic in the number of objects).
    by_node: HashMap<*const LNode, usize>,
    /// The pending edits of existing slots as they were before the change being applied, saved
    /// when first touched, to roll the change back (saving every slot per change was quadratic).
    undo: Vec<(usize, Pending)>,
    /// The number of slots when the change being applied started.
    first_new: usize,
    edits: Vec<Edit>,
}

impl<'a> Planner<'a> {
    pub fn new(text: &'a str) -> Self {
        Planner {
            text,
            slots: Vec::new(),
            by_node: HashMap::new(),
            undo: Vec::new(),
            first_new: 0,
            edits: Vec::new(),
        }
    }

    /// Applies the ops of one change to the object whose layout is `root`, all or nothing.
    /// Returns the ops as they will be carried out (a removal may become a set), for checking.
    pub fn apply(
        &mut self,
        root: &'a LNode,
        base_depth: usize,
        ops: &[Op],
    ) -> Result<Vec<Op>, String> {
        let saved_edits = self.edits.len();
        self.first_new = self.slots.len();
        self.undo.clear();
        let mut effective = Vec::new();
        for op in ops {
            if let Err(e) = self.apply_one(root, base_depth, op, &mut effective) {
                self.edits.truncate(saved_edits);
                for slot in self.slots.drain(self.first_new..) {
                    self.by_node.remove(&std::ptr::from_ref(slot.node));
                }
                for (i, p) in std::mem::take(&mut self.undo) {
                    self.slots[i].pending = p;
                }
                return Err(e);
            }
        }
        self.undo.clear();
        Ok(effective)
    }

    fn slot(&mut self, w: &Walk<'a>, depth: usize, empty: Pending) -> &mut Pending {
        let key = std::ptr::from_ref(w.node);
        let i = match self.by_node.get(&key) {
            Some(&i) => {
                // First touch of an older slot in this change: keep what it held.
                if i < self.first_new && !self.undo.iter().any(|(j, _)| *j == i) {
                    self.undo.push((i, self.slots[i].pending.clone()));
                }
                i
            }
            None => {
                self.slots.push(Slot {
                    node: w.node,
                    entry: w.entry,
                    parent_flow: w.parent_flow(),
                    depth,
                    pending: empty,
                });
                self.by_node.insert(key, self.slots.len() - 1);
                self.slots.len() - 1
            }
        };
        &mut self.slots[i].pending
    }

    fn apply_one(
        &mut self,
        root: &'a LNode,
        base_depth: usize,
        op: &Op,
        effective: &mut Vec<Op>,
    ) -> Result<(), String> {
        let tokens: Vec<String> = yaml::pointer_tokens(op.ptr()).map(String::from).collect();
        let w = walk(root, &tokens)?;
        let depth = base_depth + w.consumed;
        let rest = &tokens[w.consumed..];
        let text = self.text;
        let node = w.node;
        match op {
            Op::Set { value, .. } | Op::Append { value, .. } => {
                let append = matches!(op, Op::Append { .. });
                match &node.kind {
                    Kind::Seq { .. } if rest.is_empty() && append => {
                        match self.slot(&w, depth, Pending::SeqAdd(Vec::new())) {
                            Pending::SeqAdd(items) => {
                                if !items.contains(value) {
                                    items.push(value.clone());
                                }
                            }
                            _ => return Err("conflicting edits".into()),
                        }
                    }
                    Kind::Map { .. } if !rest.is_empty() => {
                        match self.slot(&w, depth, Pending::MapAdd(Vec::new())) {
                            Pending::MapAdd(items) => {
                                insert_path(items, rest, value.clone(), append)?
                            }
                            _ => return Err("conflicting edits".into()),
                        }
                    }
                    Kind::Scalar { style, .. }
                        if rest.is_empty() && !append && is_scalar(value) =>
                    {
                        if node.tagged {
                            return Err("the value carries an explicit tag".into());
                        }
                        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                            return Err("the value is a block scalar".into());
                        }
                        let rendered = render_scalar(value, Some(*style), false);
                        let edit = if node.end > node.start {
                            Edit {
                                start: node.start,
                                end: node.end,
                                text: rendered,
                                depth,
                            }
                        } else {
                            // `key:` with nothing after the colon.
                            let entry = w.entry.ok_or("an empty value outside a mapping")?;
                            let at = entry.key_end + colon_len(text, entry.key_end);
                            Edit {
                                start: at,
                                end: at,
                                text: format!(" {rendered}"),
                                depth,
                            }
                        };
                        self.edits.push(edit);
                    }
                    Kind::Scalar { .. } if node.is_null() && !node.tagged && w.entry.is_some() => {
                        let empty = if rest.is_empty() && !append {
                            value.clone()
                        } else if rest.is_empty() {
                            New::Seq(Vec::new())
                        } else {
                            New::Map(Vec::new())
                        };
                        let pending = self.slot(&w, depth, Pending::Fill(empty));
                        let Pending::Fill(content) = pending else {
                            return Err("conflicting edits".into());
                        };
                        match (content, rest.is_empty()) {
                            (New::Seq(items), true) if append => {
                                if !items.contains(value) {
                                    items.push(value.clone());
                                }
                            }
                            (New::Map(items), false) => {
                                insert_path(items, rest, value.clone(), append)?
                            }
                            (content, true) if !append => *content = value.clone(),
                            _ => return Err("conflicting edits".into()),
                        }
                    }
                    _ => {
                        return Err(format!(
                            "`{}` is not what the fix expects (a {})",
                            tokens[..w.consumed].join("."),
                            if rest.is_empty() {
                                "scalar or list"
                            } else {
                                "mapping"
                            }
                        ));
                    }
                }
                effective.push(op.clone());
            }
            Op::Remove { fallback, ptr } => {
                if !rest.is_empty() {
                    return Ok(()); // Nothing to remove.
                }
                let (Some(parent), Some(_)) = (w.parent, w.entry) else {
                    return Err("not a mapping entry".into());
                };
                let Kind::Map { flow, entries, .. } = &parent.kind else {
                    return Err("not a mapping entry".into());
                };
                let key = tokens.last().cloned().unwrap_or_default();
                let doomed: Vec<&LEntry> = entries.iter().filter(|e| e.key == key).collect();
                let ranges: Option<Vec<(usize, usize)>> = doomed
                    .iter()
                    .map(|e| {
                        let ls = line_start(text, e.key_start);
                        let end = e.value.end.max(e.key_end);
                        let clean = !flow
                            && text[ls..e.key_start].bytes().all(|b| b == b' ')
                            && rest_is_blank(text, end)
                            && !e.value.anchored;
                        clean.then(|| (ls, after_line(text, end).0))
                    })
                    .collect();
                match ranges {
                    Some(ranges) if doomed.len() < entries.len() => {
                        for (start, end) in ranges {
                            self.edits.push(Edit {
                                start,
                                end,
                                text: String::new(),
                                depth,
                            });
                        }
                        effective.push(op.clone());
                    }
                    _ => {
                        let set = Op::Set {
                            ptr: ptr.clone(),
                            value: fallback.clone(),
                        };
                        self.apply_one(root, base_depth, &set, effective)?;
                    }
                }
            }
            Op::Replace { key, value, .. } => {
                let (Some(parent), Some(entry)) = (w.parent, w.entry) else {
                    return Ok(()); // Nothing to replace.
                };
                if !rest.is_empty() {
                    return Ok(());
                }
                let Kind::Map { entries, .. } = &parent.kind else {
                    return Err("not a mapping entry".into());
                };
                let old = tokens.last().map(String::as_str).unwrap_or("");
                if entries.iter().filter(|e| e.key == old).count() > 1 {
                    return Err(format!("`{old}` is duplicated"));
                }
                if entries.iter().any(|e| e.key == *key) {
                    return Err(format!("`{key}` already exists"));
                }
                let json = entry.key_style == ScalarStyle::DoubleQuoted;
                self.edits.push(Edit {
                    start: entry.key_start,
                    end: entry.value.end.max(entry.key_end),
                    text: format!("{}: {}", render_key(key, json), render_flow(value, json)),
                    depth,
                });
                effective.push(op.clone());
            }
        }
        Ok(())
    }

    /// The edits, sorted and checked not to overlap. `style` gives the style of the document
    /// holding a byte offset.
    pub fn finish(mut self, style: &dyn Fn(usize) -> DocStyle) -> Result<Vec<Edit>, String> {
        let text = self.text;
        for slot in std::mem::take(&mut self.slots) {
            let st = style(slot.node.start);
            let node = slot.node;
            match (&slot.pending, &node.kind) {
                (Pending::MapAdd(items), _) if items.is_empty() => {}
                (Pending::SeqAdd(items), _) if items.is_empty() => {}
                (
                    Pending::MapAdd(items),
                    Kind::Map {
                        flow: true,
                        entries,
                        close,
                    },
                ) => {
                    let json = st.json
                        || entries
                            .iter()
                            .any(|e| e.key_style == ScalarStyle::DoubleQuoted);
                    let body = items
                        .iter()
                        .map(|(k, v)| format!("{}: {}", render_key(k, json), render_flow(v, json)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let (at, body) = match entries.last() {
                        None => (*close, body),
                        Some(last) if last.value.end > last.value.start => {
                            (last.value.end, format!(", {body}"))
                        }
                        Some(_) => return Err("a flow mapping ends with an empty value".into()),
                    };
                    self.push(at, body, slot.depth);
                }
                (
                    Pending::MapAdd(items),
                    Kind::Map {
                        flow: false,
                        entries,
                        ..
                    },
                ) => {
                    let indent = entries.first().map_or(0, |e| e.key_col as usize - 1);
                    let body = block_entries(items, indent, &st);
                    self.insert_lines(node.end, body, slot.depth, &st);
                }
                (
                    Pending::SeqAdd(new),
                    Kind::Seq {
                        flow: true,
                        items,
                        close,
                    },
                ) => {
                    let body = new
                        .iter()
                        .map(|v| render_flow(v, st.json))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let (at, body) = match items.last() {
                        None => (*close, body),
                        Some(last) => (last.end, format!(", {body}")),
                    };
                    self.push(at, body, slot.depth);
                }
                (
                    Pending::SeqAdd(new),
                    Kind::Seq {
                        flow: false, items, ..
                    },
                ) => {
                    let first = items.first().ok_or("empty block sequence")?;
                    let (_, dash) = dash_of(text, first)
                        .ok_or("a sequence item does not start on the line of its `-`")?;
                    let offset = (first.col as usize - 1).saturating_sub(dash).max(2);
                    // New items are written like the last one: `- {name: a}` or a block.
                    let flow_items = items.last().is_some_and(|i| {
                        matches!(
                            i.kind,
                            Kind::Map { flow: true, .. } | Kind::Seq { flow: true, .. }
                        )
                    });
                    let body: String = new
                        .iter()
                        .map(|v| {
                            if flow_items {
                                format!(
                                    "{}-{}{}{}",
                                    " ".repeat(dash),
                                    " ".repeat(offset - 1),
                                    render_flow(v, false),
                                    st.eol
                                )
                            } else {
                                block_item(v, dash, offset, &st)
                            }
                        })
                        .collect();
                    self.insert_lines(node.end, body, slot.depth, &st);
                }
                (Pending::Fill(content), Kind::Scalar { .. }) => {
                    let entry = slot.entry.ok_or("a null value outside a mapping")?;
                    let colon = colon_len(text, entry.key_end);
                    let after_colon = entry.key_end + colon;
                    if node.end > node.start {
                        // `key: null` / `key: ~`: the value is replaced in flow style.
                        let json = st.json || entry.key_style == ScalarStyle::DoubleQuoted;
                        self.edits.push(Edit {
                            start: node.start,
                            end: node.end,
                            text: render_flow(content, json),
                            depth: slot.depth,
                        });
                    } else if slot.parent_flow || !rest_is_blank(text, after_colon) {
                        let json = st.json || entry.key_style == ScalarStyle::DoubleQuoted;
                        // `{key}` has no colon: write one.
                        let sep = if colon == 0 { ": " } else { " " };
                        self.push(
                            after_colon,
                            format!("{sep}{}", render_flow(content, json)),
                            slot.depth,
                        );
                    } else {
                        let key_indent = entry.key_col as usize - 1;
                        let body = match content {
                            New::Map(items) if !items.is_empty() => {
                                block_entries(items, key_indent + st.step, &st)
                            }
                            New::Seq(items) if !items.is_empty() => items
                                .iter()
                                .map(|v| block_item(v, key_indent + st.seq_indent, 2, &st))
                                .collect(),
                            _ => {
                                self.push(
                                    after_colon,
                                    format!(" {}", render_flow(content, false)),
                                    slot.depth,
                                );
                                continue;
                            }
                        };
                        self.insert_lines(entry.key_end, body, slot.depth, &st);
                    }
                }
                _ => return Err("conflicting edits".into()),
            }
        }
        let mut edits = self.edits;
        edits.sort_by(|a, b| {
            (a.start, a.end)
                .cmp(&(b.start, b.end))
                .then(b.depth.cmp(&a.depth))
        });
        for pair in edits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.end > b.start || (a.start == b.start && a.end > a.start) {
                return Err("two fixes edit the same text".into());
            }
        }
        Ok(edits)
    }

    fn push(&mut self, at: usize, text: String, depth: usize) {
        self.edits.push(Edit {
            start: at,
            end: at,
            text,
            depth,
        });
    }

    fn insert_lines(&mut self, after: usize, body: String, depth: usize, st: &DocStyle) {
        let (at, lead) = after_line(self.text, after);
        let text = if lead {
            format!("{}{}", st.eol, body.strip_suffix(st.eol).unwrap_or(&body))
        } else {
            body
        };
        self.push(at, text, depth);
    }
}

/// Length of the `:` (and the spaces before it) that follows a key ending at `key_end`.
fn colon_len(text: &str, key_end: usize) -> usize {
    let rest = &text[key_end..];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if rest[spaces..].starts_with(':') {
        spaces + 1
    } else {
        0
    }
}

/// Applies sorted, non-overlapping edits.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Can `s` be written as a plain scalar that Kubernetes reads back as this string?
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphanumeric() || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && matches!(
            yaml::resolve_scalar(&Scalar {
                text: s.into(),
                style: Style::Plain,
                tag: None
            }),
            Resolved::Str(_)
        )
}

fn render_key(k: &str, json: bool) -> String {
    if !json && plain_ok(k) {
        k.to_owned()
    } else {
        Json::String(k.to_owned()).to_string()
    }
}

fn render_scalar(v: &New, hint: Option<ScalarStyle>, json: bool) -> String {
    match v {
        New::Bool(b) => b.to_string(),
        New::Int(i) => i.to_string(),
        New::Str(s) => match hint {
            Some(ScalarStyle::SingleQuoted) if !json => format!("'{}'", s.replace('\'', "''")),
            Some(ScalarStyle::DoubleQuoted) => Json::String(s.clone()).to_string(),
            _ if json || !plain_ok(s) => Json::String(s.clone()).to_string(),
            _ => s.clone(),
        },
        New::Map(_) | New::Seq(_) => render_flow(v, json),
    }
}

fn render_flow(v: &New, json: bool) -> String {
    match v {
        New::Map(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let body: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", render_key(k, json), render_flow(v, json)))
                .collect();
            format!("{{{}}}", body.join(", "))
        }
        New::Seq(s) => {
            let body: Vec<String> = s.iter().map(|v| render_flow(v, json)).collect();
            format!("[{}]", body.join(", "))
        }
        _ => render_scalar(v, None, json),
    }
}

fn block_entries(items: &[(String, New)], indent: usize, st: &DocStyle) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for (k, v) in items {
        let key = render_key(k, false);
        match v {
            New::Map(m) if !m.is_empty() => {
                out.push_str(&format!("{pad}{key}:{}", st.eol));
                out.push_str(&block_entries(m, indent + st.step, st));
            }
            New::Seq(s) if !s.is_empty() => {
                out.push_str(&format!("{pad}{key}:{}", st.eol));
                for item in s {
                    out.push_str(&block_item(item, indent + st.seq_indent, 2, st));
                }
            }
            _ => out.push_str(&format!("{pad}{key}: {}{}", render_flow(v, false), st.eol)),
        }
    }
    out
}

/// A block sequence item with its `-` at column `dash` and its content `offset` columns further.
fn block_item(v: &New, dash: usize, offset: usize, st: &DocStyle) -> String {
    match v {
        New::Map(m) if !m.is_empty() => {
            let inner = block_entries(m, dash + offset, st);
            format!(
                "{}-{}{}",
                " ".repeat(dash),
                " ".repeat(offset - 1),
                &inner[dash + offset..]
            )
        }
        _ => format!(
            "{}-{}{}{}",
            " ".repeat(dash),
            " ".repeat(offset - 1),
            render_flow(v, false),
            st.eol
        ),
    }
}

/// Applies an op to an object's JSON as Kubernetes reads it: what the fixed file must parse to.
pub fn patch_json(json: &mut Json, op: &Op) -> Result<(), String> {
    let tokens: Vec<String> = yaml::pointer_tokens(op.ptr()).map(String::from).collect();
    let (last, path) = tokens.split_last().ok_or("empty pointer")?;
    let mut at = json;
    let create = !matches!(op, Op::Remove { .. } | Op::Replace { .. });
    for t in path {
        if at.is_null() && create {
            *at = Json::Object(Default::default());
        }
        at = match at {
            Json::Object(m) => {
                if create {
                    m.entry(t.clone()).or_insert(Json::Null)
                } else {
                    m.get_mut(t).ok_or("missing")?
                }
            }
            Json::Array(a) => a
                .get_mut(t.parse::<usize>().map_err(|e| e.to_string())?)
                .ok_or("index")?,
            _ => return Err(format!("`{t}` is not a container")),
        };
    }
    if at.is_null() && create {
        *at = Json::Object(Default::default());
    }
    if let (Json::Array(a), Op::Set { value, .. }) = (&mut *at, op) {
        let slot = last
            .parse::<usize>()
            .ok()
            .and_then(|i| a.get_mut(i))
            .ok_or("no such item")?;
        *slot = value.to_json();
        return Ok(());
    }
    let Json::Object(m) = at else {
        return Err("parent is not a mapping".into());
    };
    match op {
        Op::Set { value, .. } => {
            m.insert(last.clone(), value.to_json());
        }
        Op::Append { value, .. } => {
            let slot = m.entry(last.clone()).or_insert(Json::Null);
            if slot.is_null() {
                *slot = Json::Array(Vec::new());
            }
            match slot {
                Json::Array(a) => a.push(value.to_json()),
                _ => return Err("not a list".into()),
            }
        }
        Op::Remove { .. } => {
            m.remove(last);
        }
        Op::Replace { key, value, .. } => {
            m.remove(last);
            m.insert(key.clone(), value.to_json());
        }
    }
    Ok(())
}
