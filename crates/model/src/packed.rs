//! A YAML tree packed into one buffer, for trees kept long and read rarely.
//!
//! A scan keeps the objects the cross-object rules read (RBAC, NetworkPolicies, Namespaces,
//! ServiceAccounts, admission objects) until its end: as [`Node`] trees they take about five
//! times their text (a node is 40 bytes, a mapping entry 64, a list or mapping one allocation),
//! 2.8 KB per object against ~480 bytes of JSON. Packed, a tree is a byte string about the size
//! of its text: positions as varints relative to the previous one, each key and scalar as its
//! length and bytes. [`unpack`] gives back the very tree [`pack`] read (`==`, positions, styles
//! and tags included); decoding one object takes microseconds.
//!
//! Layout of a node: line (zigzag varint, relative to the line of the node or key written before
//! it), column (varint), then a byte: `0`–`2` a scalar of style plain, quoted, block (`+4` when
//! tagged: its tag follows as a string), [`SEQ`] a list (count, then its items), [`MAP`] a mapping
//! (count, then each entry as its key's string, line and column, then its value). A string is its
//! length (varint) and its UTF-8 bytes.

use crate::yaml::{Entry, Node, Pos, Scalar, Style, Text, Value};

const SEQ: u8 = 8;
const MAP: u8 = 9;
const TAGGED: u8 = 4;

/// `node` as one buffer of its exact size (see the module's documentation).
pub fn pack(node: &Node) -> Box<[u8]> {
    let mut w = Writer {
        out: Vec::with_capacity(256),
        line: 0,
    };
    w.node(node);
    w.out.into_boxed_slice()
}

/// The tree [`pack`] packed.
///
/// # Panics
/// If `bytes` were not written by [`pack`] (they never leave this process).
pub fn unpack(bytes: &[u8]) -> Node {
    let mut r = Reader {
        bytes,
        at: 0,
        line: 0,
    };
    let node = r.node();
    debug_assert_eq!(r.at, bytes.len(), "trailing bytes in a packed tree");
    node
}

struct Writer {
    out: Vec<u8>,
    line: u32,
}

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn pos(&mut self, pos: Pos) {
        let delta = i64::from(pos.line) - i64::from(self.line);
        self.varint(((delta << 1) ^ (delta >> 63)) as u64);
        self.line = pos.line;
        self.varint(u64::from(pos.col));
    }

    fn text(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn node(&mut self, node: &Node) {
        self.pos(node.pos);
        match &node.value {
            Value::Scalar(s) => {
                let style = match s.style {
                    Style::Plain => 0,
                    Style::Quoted => 1,
                    Style::Block => 2,
                };
                self.out
                    .push(style | if s.tag.is_some() { TAGGED } else { 0 });
                if let Some(tag) = &s.tag {
                    self.text(tag);
                }
                self.text(&s.text);
            }
            Value::Seq(items) => {
                self.out.push(SEQ);
                self.varint(items.len() as u64);
                items.iter().for_each(|i| self.node(i));
            }
            Value::Map(entries) => {
                self.out.push(MAP);
                self.varint(entries.len() as u64);
                for e in entries {
                    self.text(&e.key);
                    self.pos(e.key_pos);
                    self.node(&e.value);
                }
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u32,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn pos(&mut self) -> Pos {
        let z = self.varint();
        let delta = (z >> 1) as i64 ^ -((z & 1) as i64);
        self.line = (i64::from(self.line) + delta) as u32;
        Pos {
            line: self.line,
            col: self.varint() as u32,
        }
    }

    fn str(&mut self) -> &str {
        let len = self.varint() as usize;
        let s = &self.bytes[self.at..self.at + len];
        self.at += len;
        std::str::from_utf8(s).expect("a packed tree holds the UTF-8 it was given")
    }

    fn node(&mut self) -> Node {
        let pos = self.pos();
        let value = match self.byte() {
            SEQ => {
                let n = self.varint() as usize;
                Value::Seq((0..n).map(|_| self.node()).collect())
            }
            MAP => {
                let n = self.varint() as usize;
                Value::Map(
                    (0..n)
                        .map(|_| {
                            let key = Text::from(self.str());
                            let key_pos = self.pos();
                            Entry {
                                key,
                                key_pos,
                                value: self.node(),
                            }
                        })
                        .collect(),
                )
            }
            b => {
                let tag = (b & TAGGED != 0).then(|| Box::new(self.str().to_owned()));
                Value::Scalar(Scalar {
                    text: Text::from(self.str()),
                    style: match b & !TAGGED {
                        0 => Style::Plain,
                        1 => Style::Quoted,
                        _ => Style::Block,
                    },
                    tag,
                })
            }
        };
        Node { pos, value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    fn round_trip(text: &str) {
        for doc in parse_stream(text) {
            let Some(root) = doc.expect("parses").root else {
                continue;
            };
            let packed = pack(&root);
            assert_eq!(unpack(&packed), root, "{text}");
        }
    }

    #[test]
    fn trees_come_back_as_they_were_packed() {
        round_trip(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: \"x\"\n  labels: {a: 'b', c: !!str 1}\nrules:\n- verbs: [get, list]\n  resources: ['*']\n  note: |\n    a block\n    of text\n- {}\n- []\n- ~\n",
        );
        // Keys after their values' lines (flow mappings over lines), long texts, unicode.
        round_trip(
            "{\"b\": [1,\n 2], \"a\": \"é long text past fifteen bytes\"}\n---\nk: !custom v\n",
        );
    }

    #[test]
    fn a_packed_tree_takes_about_its_text() {
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: controller\n  namespace: ingress-nginx\n  labels:\n    app.kubernetes.io/name: ingress-nginx\n";
        let root = parse_stream(text).remove(0).unwrap().root.unwrap();
        let packed = pack(&root);
        // Four bytes a node (line, column, kind, length) where the text has indentation, `: `
        // and a line ending: 168 bytes for these 144.
        assert_eq!((packed.len(), text.len()), (168, 144));
    }
}
