//! Findings: what a rule reports, where, and a fingerprint stable across line shifts and reordering.

pub mod pack;

use crate::meta::Section;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

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
    /// The lines joined with `\n`; the findings at the same lines of an input share one copy
    /// (see [`pack`]).
    text: Arc<str>,
    len: u32,
}

impl Snippet {
    /// Consecutive lines from `first`, with any secret material they show masked
    /// ([`crate::redact`]): a snippet never carries a secret value, whoever builds it.
    pub fn new<'a>(first: u32, lines: impl IntoIterator<Item = &'a str>) -> Snippet {
        let mut text = String::new();
        let mut len = 0;
        let mut masker = crate::redact::LineMasker::new();
        for l in lines {
            if len > 0 {
                text.push('\n');
            }
            text.push_str(&masker.mask(l.trim_end_matches(['\n', '\r'])));
            len += 1;
        }
        Snippet {
            first,
            text: text.into(),
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
    /// The input: a file path as given, `<stdin>`, `cluster:…`. Shared by the findings of an
    /// input (see [`pack`]).
    pub origin: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// JSON pointer of the offending field inside the object (or where it belongs, when missing).
    /// Shared by the findings of an input at the same pointer (see [`pack`]).
    pub pointer: Arc<str>,
    /// The Helm template the object came from (`# Source:` comment of `helm template` output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm_source: Option<Arc<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
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
    /// The section of the 15 rules (serialized as `seed`, the name of schema version 1).
    #[serde(rename = "seed")]
    pub section: Section,
    pub severity: Severity,
    /// Shared by the findings of one object (see [`pack`]): 100,000s of findings name a few
    /// 10,000s of objects.
    pub subject: Arc<Subject>,
    pub location: Location,
    pub message: Arc<str>,
    pub remedy: &'static str,
    #[serde(skip_serializing_if = "Snippet::is_empty")]
    pub snippet: Snippet,
    pub fingerprint: Fingerprint,
    /// Set when an annotation or a config exemption silences the finding .
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<Box<Suppression>>,
    /// `new` or `unchanged` against `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineStatus>,
    /// Set when a recognised system component (a CNI agent, kube-proxy, a control-plane static
    /// Pod…) legitimately needs what the finding reports: shown, but neither failing nor counted
    /// in the scorecard unless `--strict-system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<&'static Expected>,
}

/// Why a finding is expected for a system component.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The component, e.g. `kube-proxy`, `calico-node`, `kube-apiserver`.
    pub component: &'static str,
    /// Why the component needs it.
    pub reason: &'static str,
}

/// FNV-1a 64 over the parts (separated), as 16 hex digits. Stable across versions and platforms.
pub fn fingerprint(parts: &[&str]) -> Fingerprint {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Fingerprint::of(h)
}

/// A finding's fingerprint: 16 lowercase hex digits, held inline (a scan holds 100,000s).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    fn of(h: u64) -> Fingerprint {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = HEX[((h >> (60 - 4 * i)) & 0xf) as usize];
        }
        Fingerprint(digits)
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII hex digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for Fingerprint {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.as_str().to_owned()
    }
}

/// Where a suppression comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionSource {
    /// `kubeharden.io/ignore…` annotations.
    Annotation,
    KubeLinter,
    Polaris,
    Checkov,
    Kubescape,
    KubeScore,
    /// An exemption of `.kubeharden.yaml`.
    Config,
}

impl SuppressionSource {
    pub const FOREIGN: [SuppressionSource; 5] = [
        SuppressionSource::KubeLinter,
        SuppressionSource::Polaris,
        SuppressionSource::Checkov,
        SuppressionSource::Kubescape,
        SuppressionSource::KubeScore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionSource::Annotation => "annotation",
            SuppressionSource::KubeLinter => "kube-linter",
            SuppressionSource::Polaris => "polaris",
            SuppressionSource::Checkov => "checkov",
            SuppressionSource::Kubescape => "kubescape",
            SuppressionSource::KubeScore => "kube-score",
            SuppressionSource::Config => "config",
        }
    }

    /// Another tool's key, honoured unless `--no-foreign-suppressions`.
    pub fn is_foreign(self) -> bool {
        SuppressionSource::FOREIGN.contains(&self)
    }
}

/// One declared suppression.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suppression {
    /// The kubeharden rule it silences, or `all`.
    pub rule: String,
    /// Only this container (per-container annotation, config exemption with `container`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub source: SuppressionSource,
    /// The annotation key, or `path:line` of the config exemption.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Expiry date (`YYYY-MM-DD`), if the suppression has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding against a baseline (`--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineStatus {
    /// Not in the baseline.
    New,
    /// In the baseline too.
    Unchanged,
    /// In the baseline, gone now.
    Fixed,
}

impl BaselineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineStatus::New => "new",
            BaselineStatus::Unchanged => "unchanged",
            BaselineStatus::Fixed => "fixed",
        }
    }
}
