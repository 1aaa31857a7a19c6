//! Where objects come from: the text of an input (for snippets) and diagnostics about the input
//! (file, line, column), which are never findings about the cluster.

use crate::yaml::Pos;
use serde::Serialize;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagLevel {
    /// The input (or part of it) could not be read: the scan is incomplete.
    Error,
    /// Read, but suspicious or read differently from what it seems (duplicate keys, wrong types).
    Warning,
    /// Skipped on purpose (not a Kubernetes object).
    Note,
}

/// A problem with the input, not with the cluster's security: names file, line and column.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub level: DiagLevel,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        level: DiagLevel,
        origin: &str,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level,
            origin: origin.to_owned(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.col),
            // A diagnostic may quote the input: never a secret value ([`crate::redact`]).
            message: crate::redact::mask_text(&message.into()).into_owned(),
        }
    }
}

/// The text of one input (file, stdin…), shared by the objects read from it, for snippets.
#[derive(Debug)]
pub struct Source {
    /// How the input is named in reports: a path as given, `<stdin>`, `cluster:…`, `node:…`.
    pub name: String,
    /// The input's text, or for an [excerpt](Source::excerpt) the lines it keeps.
    pub text: String,
    /// Line number (1-based) of the first line of `text` in the input: 1 unless an excerpt.
    first_line: u32,
    /// Byte offset of the start of every line, built on the first call to [`Source::line`].
    line_starts: OnceLock<Vec<usize>>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
            first_line: 1,
            line_starts: OnceLock::new(),
        }
    }

    /// A copy of lines `from..=to` only, which answers [`Source::line`] for those lines as the
    /// whole source does: for objects kept after the rest of their (possibly large) input is
    /// dropped.
    pub fn excerpt(&self, from: u32, to: u32) -> Source {
        let from = from.max(self.first_line);
        let mut text = String::new();
        for line in from..=to {
            match self.line(line) {
                Some(t) => {
                    text.push_str(t);
                    text.push('\n');
                }
                None => break,
            }
        }
        // Kept until the end of a scan: without the room its growth left.
        text.shrink_to_fit();
        Source {
            name: self.name.clone(),
            text,
            first_line: from,
            line_starts: OnceLock::new(),
        }
    }

    /// The text of a 1-based line, without its line ending (as [`str::lines`] would give it, but
    /// in constant time: findings in a large file ask for many lines).
    pub fn line(&self, line: u32) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let index = line.checked_sub(self.first_line)? as usize;
        let start = *starts.get(index)?;
        if start >= self.text.len() {
            return None;
        }
        let end = starts.get(index + 1).copied().unwrap_or(self.text.len());
        let text = &self.text[start..end];
        Some(match text.strip_suffix('\n') {
            Some(t) => t.strip_suffix('\r').unwrap_or(t),
            None => text,
        })
    }
}
