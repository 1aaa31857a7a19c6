//! The layout of a YAML document: where every node starts and ends in the file, in bytes, and how
//! it is written (block or flow, scalar style, anchors). [`crate::yaml`] keeps only what the rules
//! need (start positions and values); the fixer needs the extents as well, so it reads the same
//! `saphyr-parser` events again for the few documents it edits.
//!
//! Documents are split exactly as [`crate::yaml::parse_stream`] splits them, and every edited
//! object is matched to its layout by the start position of its root, so a disagreement between
//! the two trees refuses the edit instead of misplacing it.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Deepest nesting accepted (the engine's own limit).
const MAX_DEPTH: usize = crate::yaml::MAX_DEPTH;

/// One node with its extent in the file.
#[derive(Debug)]
pub(crate) struct LNode {
    /// Byte offset of the node's first character (its anchor or tag, if any).
    pub start: usize,
    /// Byte offset just past the node's content: for block collections the end of their last
    /// child, for block scalars the end of their last non-blank line.
    pub end: usize,
    /// 1-based line and column (in characters) of `start`, as [`crate::yaml::Pos`] counts them.
    pub line: u32,
    pub col: u32,
    /// Carries an anchor (`&a`): other nodes may alias it, so it is never edited.
    pub anchored: bool,
    /// Carries an explicit tag.
    pub tagged: bool,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Scalar {
        style: ScalarStyle,
        /// The scalar's value (after unescaping and folding).
        text: String,
    },
    Seq {
        flow: bool,
        items: Vec<LNode>,
        /// Flow only: byte offset of the closing `]`.
        close: usize,
    },
    Map {
        flow: bool,
        entries: Vec<LEntry>,
        /// Flow only: byte offset of the closing `}`.
        close: usize,
    },
    Alias,
}

#[derive(Debug)]
pub(crate) struct LEntry {
    /// The key's value (`<complex key>` for a collection used as key).
    pub key: String,
    pub key_start: usize,
    pub key_end: usize,
    /// 1-based column (in characters) of the key.
    pub key_col: u32,
    pub key_style: ScalarStyle,
    pub value: LNode,
}

impl LNode {
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { style: ScalarStyle::Plain, text }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The entries of a mapping, else none.
    pub fn entries(&self) -> &[LEntry] {
        match &self.kind {
            Kind::Map { entries, .. } => entries,
            _ => &[],
        }
    }

    /// The last entry of `key` in a mapping (the one Kubernetes reads).
    pub fn entry(&self, key: &str) -> Option<&LEntry> {
        self.entries().iter().rev().find(|e| e.key == key)
    }
}

/// The documents of a file, split exactly as the parser splits them (one function for both).
pub(crate) use crate::yaml::{Chunk, split_documents as chunks};

enum Frame {
    Seq {
        start: Span,
        anchored: bool,
        tagged: bool,
        items: Vec<LNode>,
    },
    Map {
        start: Span,
        anchored: bool,
        tagged: bool,
        entries: Vec<LEntry>,
        key: Option<LNode>,
    },
}

/// Converts the parser's character indices into byte offsets of the file.
struct Offsets<'a> {
    chunk: Chunk<'a>,
    /// Byte offset of every character, when the chunk is not ASCII.
    chars: Option<Vec<usize>>,
}

impl Offsets<'_> {
    fn byte(&self, char_index: usize) -> usize {
        let local = match &self.chars {
            None => char_index,
            Some(map) => map
                .get(char_index)
                .copied()
                .unwrap_or(self.chunk.text.len()),
        };
        self.chunk.offset + local.min(self.chunk.text.len())
    }
}

/// Parses one chunk into its layout tree (`None` for an empty document).
pub(crate) fn parse(chunk: Chunk<'_>) -> Result<Option<LNode>, String> {
    let offsets = Offsets {
        chunk,
        chars: (!chunk.text.is_ascii()).then(|| {
            chunk
                .text
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(chunk.text.len()))
                .collect()
        }),
    };
    let file = chunk.text;
    let line_of = |span: &Span| (span.start.line() as u32).saturating_add(chunk.first_line - 1);
    let mut parser = Parser::new_from_str(file).keep_tags(true);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<LNode> = None;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| e.info().to_owned())?;
        let node = match event {
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => continue,
            Event::SequenceStart(anchor, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("nesting too deep".into());
                }
                stack.push(Frame::Seq {
                    start: span,
                    anchored: anchor != 0,
                    tagged: tag.is_some(),
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("nesting too deep".into());
                }
                // `[a: b]`: a mapping without braces inside a flow collection (whose `[` or `{`
                // the start event spans) has neither braces nor lines to insert into.
                let in_flow = matches!(stack.last(),
                    Some(Frame::Seq { start, .. } | Frame::Map { start, .. })
                        if start.end.index() > start.start.index());
                if in_flow && span.end.index() == span.start.index() {
                    return Err("a single-pair mapping in a flow sequence is not edited".into());
                }
                stack.push(Frame::Map {
                    start: span,
                    anchored: anchor != 0,
                    tagged: tag.is_some(),
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => {
                let Some(Frame::Seq {
                    start,
                    anchored,
                    tagged,
                    items,
                }) = stack.pop()
                else {
                    return Err("unbalanced sequence".into());
                };
                let flow = span.end.index() > span.start.index();
                let begin = offsets.byte(start.start.index());
                let close = offsets.byte(span.start.index());
                // The end event's span may run on over a comment: the `]` is where it starts.
                let end = if flow {
                    if !chunk.text[close - chunk.offset..].starts_with(']') {
                        return Err("flow sequence without `]`".into());
                    }
                    close + 1
                } else {
                    items.iter().map(|i| i.end).max().unwrap_or(begin)
                };
                LNode {
                    start: begin,
                    end,
                    line: line_of(&start),
                    col: start.start.col() as u32 + 1,
                    anchored,
                    tagged,
                    kind: Kind::Seq { flow, items, close },
                }
            }
            Event::MappingEnd => {
                let Some(Frame::Map {
                    start,
                    anchored,
                    tagged,
                    entries,
                    ..
                }) = stack.pop()
                else {
                    return Err("unbalanced mapping".into());
                };
                let flow = span.end.index() > span.start.index();
                let begin = offsets.byte(start.start.index());
                let close = offsets.byte(span.start.index());
                let end = if flow {
                    if !chunk.text[close - chunk.offset..].starts_with('}') {
                        return Err("flow mapping without `}`".into());
                    }
                    close + 1
                } else {
                    entries
                        .iter()
                        .map(|e| e.value.end.max(e.key_end))
                        .max()
                        .unwrap_or(begin)
                };
                LNode {
                    start: begin,
                    end,
                    line: line_of(&start),
                    col: start.start.col() as u32 + 1,
                    anchored,
                    tagged,
                    kind: Kind::Map {
                        flow,
                        entries,
                        close,
                    },
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let start = offsets.byte(span.start.index());
                let mut end = offsets.byte(span.end.index()).max(start);
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    // A block scalar's span runs to the next token: keep its last non-blank line.
                    let content = &chunk.text[start - chunk.offset..end - chunk.offset];
                    end = start + content.trim_end().len();
                } else if style == ScalarStyle::Plain && text.is_empty() {
                    // An empty value has no text, though its span may cover the next character
                    // (the `}` closing `{key}`).
                    end = start;
                }
                LNode {
                    start,
                    end,
                    line: line_of(&span),
                    col: span.start.col() as u32 + 1,
                    anchored: anchor != 0,
                    tagged: tag.is_some(),
                    kind: Kind::Scalar {
                        style,
                        text: text.into_owned(),
                    },
                }
            }
            Event::Alias(_) => LNode {
                start: offsets.byte(span.start.index()),
                end: offsets.byte(span.end.index()),
                line: line_of(&span),
                col: span.start.col() as u32 + 1,
                anchored: false,
                tagged: false,
                kind: Kind::Alias,
            },
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let (name, key_style) = match &k.kind {
                        Kind::Scalar { text, style } => (text.clone(), *style),
                        _ => ("<complex key>".to_owned(), ScalarStyle::Plain),
                    };
                    entries.push(LEntry {
                        key: name,
                        key_start: k.start,
                        key_end: k.end,
                        key_col: k.col,
                        key_style,
                        value: node,
                    });
                }
            },
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> LNode {
        let c = chunks(text);
        parse(c[0]).unwrap().unwrap()
    }

    #[test]
    fn extents_of_scalars_and_collections() {
        let text = "a:\n  b: |\n    x\n\n  # c\n  d: {e: 1}\nf: [1, 2] # t\n";
        let root = doc(text);
        let a = &root.entry("a").unwrap().value;
        assert_eq!(&text[a.start..a.end], "b: |\n    x\n\n  # c\n  d: {e: 1}");
        let b = &a.entry("b").unwrap().value;
        assert_eq!(&text[b.start..b.end], "x");
        let f = &root.entry("f").unwrap().value;
        assert_eq!(&text[f.start..f.end], "[1, 2]");
        let Kind::Seq { close, flow, .. } = f.kind else {
            panic!()
        };
        assert!(flow);
        assert_eq!(&text[close..close + 1], "]");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "é: ü\nb: c\n";
        let root = doc(text);
        let b = &root.entry("b").unwrap().value;
        assert_eq!(&text[b.start..b.end], "c");
        assert_eq!(b.col, 4);
    }

    #[test]
    fn chunks_match_the_engine_split() {
        let text = "a: 1\n---\nb: 2\n...\nc: 3\n";
        let c = chunks(text);
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].first_line, 2);
        assert_eq!(c[2].first_line, 5);
        let root = parse(c[2]).unwrap().unwrap();
        assert_eq!(root.line, 5);
        assert_eq!(&text[root.start..root.end], "c: 3");
    }
}
