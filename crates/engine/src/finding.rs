//! Findings: what a rule reports, where, and a fingerprint stable across line shifts and reordering.

use crate::inventory::{Container, Object};
use crate::rules::{Rule, Seed};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => {
                return Err(format!(
                    "unknown severity `{s}` (critical, high, medium, low, info)"
                ));
            }
        })
    }
}

/// A source line shown with a finding.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SnippetLine<'a> {
    pub line: u32,
    pub text: &'a str,
}

/// The source lines shown with a finding (up to three, consecutive), in one allocation: a scan
/// can hold 100,000s of findings. Serialized as a list of `{line, text}`.
#[derive(Clone, Debug, Default)]
pub struct Snippet {
    first: u32,
    /// The lines joined with `\n`.
    text: Box<str>,
    len: u32,
}

impl Snippet {
    /// Consecutive lines from `first`.
    pub fn new<'a>(first: u32, lines: impl IntoIterator<Item = &'a str>) -> Snippet {
        let mut text = String::new();
        let mut len = 0;
        for l in lines {
            if len > 0 {
                text.push('\n');
            }
            text.push_str(l.trim_end_matches(['\n', '\r']));
            len += 1;
        }
        Snippet {
            first,
            text: text.into_boxed_str(),
            len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn iter(&self) -> impl Iterator<Item = SnippetLine<'_>> + '_ {
        let lines = if self.len == 0 {
            None
        } else {
            Some(self.text.split('\n'))
        };
        lines
            .into_iter()
            .flatten()
            .zip(self.first..)
            .map(|(text, line)| SnippetLine { line, text })
    }

    pub fn first(&self) -> Option<SnippetLine<'_>> {
        self.iter().next()
    }

    pub fn last(&self) -> Option<SnippetLine<'_>> {
        self.iter().last()
    }
}

impl Serialize for Snippet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Location {
    /// The input: a file path as given, `<stdin>`, `cluster:…`.
    pub origin: String,
    pub line: u32,
    pub column: u32,
    /// JSON pointer of the offending field inside the object (or where it belongs, when missing).
    pub pointer: String,
    /// The Helm template the object came from (`# Source:` comment of `helm template` output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm_source: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub seed: Seed,
    pub severity: Severity,
    pub subject: Subject,
    pub location: Location,
    pub message: String,
    pub remedy: &'static str,
    #[serde(skip_serializing_if = "Snippet::is_empty")]
    pub snippet: Snippet,
    pub fingerprint: String,
    /// Set when an annotation or a config exemption silences the finding (see [`crate::suppress`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<Box<crate::suppress::Suppression>>,
    /// `new` or `unchanged` against `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::Status>,
}

/// Collects the findings of one rule; builds locations, snippets and fingerprints. Suppressed
/// findings are collected too, with `suppressed_by` set (and counted in `suppressed`); the scan
/// separates them from the active ones.
pub struct Emitter<'r> {
    rule: &'r Rule,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
}

impl<'r> Emitter<'r> {
    pub fn new(rule: &'r Rule) -> Self {
        Emitter {
            rule,
            findings: Vec::new(),
            suppressed: 0,
        }
    }

    /// A finding about an object, at `pointer` (relative to the object; missing fields resolve to
    /// their nearest existing parent).
    pub fn object(&mut self, object: &Object, pointer: &str, message: impl Into<String>) {
        self.push(object, None, pointer, message.into());
    }

    /// A finding about one container of a pod template.
    pub fn container(
        &mut self,
        object: &Object,
        container: &Container<'_>,
        pointer: &str,
        message: impl Into<String>,
    ) {
        self.push(object, Some(container), pointer, message.into());
    }

    /// A finding about a workload known only by its summary (cross-object rules), located at the
    /// start of the object.
    pub fn workload(&mut self, w: &crate::scan::Workload, message: impl Into<String>) {
        let suppressed_by = crate::suppress::find(&w.ignore, self.rule.id, None).map(Box::new);
        let subject = Subject {
            kind: w.kind.clone(),
            api_version: w.api_version.clone(),
            name: w.name.clone(),
            namespace: Some(w.namespace.clone()),
            container: None,
        };
        let location = Location {
            origin: w.origin.clone(),
            line: w.line,
            column: w.column,
            pointer: String::new(),
            helm_source: w.helm_source.clone(),
        };
        self.at(subject, location, message.into());
        if suppressed_by.is_some()
            && let Some(f) = self.findings.last_mut()
        {
            f.suppressed_by = suppressed_by;
            self.suppressed += 1;
        }
    }

    /// A finding about something that has no object of its own in the input (a namespace only
    /// referenced by workloads, a missing ServiceAccount…), located where it is referenced.
    pub fn at(&mut self, subject: Subject, location: Location, message: String) {
        let identity = format!(
            "{}/{}/{}",
            subject.kind,
            subject.namespace.as_deref().unwrap_or(""),
            subject.name
        );
        self.findings.push(Finding {
            rule: self.rule.id,
            seed: self.rule.seed,
            severity: self.rule.severity,
            fingerprint: fingerprint(&[self.rule.id, &identity, &location.pointer]),
            subject,
            location,
            message,
            remedy: self.rule.remedy,
            snippet: Snippet::default(),
            suppressed_by: None,
            baseline: None,
        });
    }

    fn push(
        &mut self,
        object: &Object,
        container: Option<&Container<'_>>,
        pointer: &str,
        message: String,
    ) {
        let suppressed_by = crate::suppress::find(
            &ignore_list(object),
            self.rule.id,
            container.map(|c| c.name),
        )
        .map(Box::new);
        if suppressed_by.is_some() {
            self.suppressed += 1;
        }
        // A command line gathered from other files (k3s/RKE2 config) says where each word was
        // written: the finding points there.
        let written = crate::analysis::control_plane::written_at(object, pointer);
        let pos = written
            .as_ref()
            .map_or_else(|| object.locate(pointer), |w| w.pos);
        let full_pointer = format!("{}{}", object.base, pointer);
        // Fingerprint: rule + identity + pointer with container indices replaced by names, so it
        // survives line shifts, document reordering and container reordering.
        let stable_pointer = match container {
            Some(c) => pointer.replacen(&c.ptr, &format!("{}[{}]", c.kind.field(), c.name), 1),
            None => pointer.to_owned(),
        };
        let fingerprint = fingerprint(&[self.rule.id, &object.identity(), &stable_pointer]);
        let snippet = match &written {
            Some(w) => Snippet::new(w.pos.line, [w.text.as_str()]),
            None => snippet(object, pos.line),
        };
        self.findings.push(Finding {
            rule: self.rule.id,
            seed: self.rule.seed,
            severity: self.rule.severity,
            subject: Subject {
                kind: object.kind.clone(),
                api_version: object.api_version.clone(),
                name: object.name.clone(),
                namespace: object.effective_namespace().map(str::to_owned),
                container: container.map(|c| c.name.to_owned()),
            },
            location: Location {
                origin: written
                    .map(|w| w.file)
                    .unwrap_or_else(|| object.source.name.clone()),
                line: pos.line,
                column: pos.col,
                pointer: full_pointer,
                helm_source: object.helm_source.as_deref().map(str::to_owned),
            },
            message,
            remedy: self.rule.remedy,
            snippet,
            fingerprint,
            suppressed_by,
            baseline: None,
        });
    }
}

/// `kubeharden.io/ignore: "rule-a,rule-b"` (or `all`) on the object's or its pod template's
/// annotations. A reason goes in `kubeharden.io/ignore-reason`.
pub const IGNORE_ANNOTATION: &str = crate::suppress::IGNORE;

/// Every suppression declared on the object and its pod template: ours (object-wide and
/// per-container) and the peers' keys that map onto our rules (see [`crate::suppress`]).
pub fn ignore_list(object: &Object) -> Vec<crate::suppress::Suppression> {
    crate::suppress::declared(object)
}

/// Up to two lines of context before the marked line.
fn snippet(object: &Object, line: u32) -> Snippet {
    let first = line.saturating_sub(2).max(1);
    // The object's source may start after `first` (a detached excerpt): skip missing lines.
    let start = (first..=line)
        .find(|l| object.source.line(*l).is_some())
        .unwrap_or(line + 1);
    Snippet::new(start, (start..=line).map_while(|l| object.source.line(l)))
}

/// FNV-1a 64 over the parts (separated), as 16 hex digits. Stable across versions and platforms.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
