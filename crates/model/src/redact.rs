//! Redaction: no secret value is ever copied into a report.
//!
//! A report is shared more widely than the repository it describes (a pull-request comment, a
//! SARIF upload, a CI artifact, a webhook denial printed on a developer's terminal). Every piece
//! of source text a report copies (snippets, messages quoting values, diagnostics, baselines, the
//! webhook's messages and logs) goes through this module, which replaces secret material by
//! [`redact`]: at most its first 4 characters and its length, `wJal…(40 chars)`.
//!
//! Two layers:
//! - **Structural** ([`Secrets::of`]): the values known to be secret from the object's structure —
//!   every value of a Secret's `data` and `stringData` (and their base64-decoded text), a Secret's
//!   `last-applied-configuration`, the `value` of an env var with a credential name, any scalar
//!   under a credential-named key (`password`, `token`, `clientSecret`, `tls.key`…), private keys.
//!   The engine masks them in the object's snippet lines and messages.
//! - **Textual** ([`mask_line`], [`LineMasker`], [`mask_text`]): patterns that are secret wherever
//!   they appear — well-known token formats, the password of a `scheme://user:pass@host` URL,
//!   `Bearer`/`Basic` credentials, private-key blocks, `key: value` / `key=value` /
//!   `"key":"value"` pairs with a credential-named key (including a docker config's `"auth"`),
//!   `name: X` followed by `value: Y` when X is a credential name. Applied to every snippet
//!   ([`crate::finding::Snippet::new`]), every diagnostic ([`crate::source::Diagnostic::new`]) and
//!   again by every renderer, so that text reaching a report from any path is masked.
//!
//! Masking is idempotent: an already redacted value (`…(N chars)`) is left as it is.

use crate::yaml::{Node, Style, Value};
use regex::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

/// The mark of a redacted value: `wJal…(40 chars)`.
const ELLIPSIS: char = '…';

/// A secret value as reports show it: at most its first 4 characters (2 for values shorter than
/// 16 characters, none below 10) and its length in characters.
pub fn redact(value: &str) -> String {
    let n = value.chars().count();
    let keep = match n {
        16.. => 4,
        10.. => 2,
        _ => 0,
    };
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}{ELLIPSIS}({n} chars)")
}

/// Whether a value is already redacted (masking twice changes nothing).
pub fn is_redacted(value: &str) -> bool {
    value.contains("…(") && value.trim_end_matches(['"', '\'']).ends_with(" chars)")
}

/// The length of a redaction at the start of `text` (`wJal…(40 chars)`), if it starts with one.
fn redacted_prefix(text: &str) -> Option<usize> {
    // At most 4 characters (4 bytes each) precede the mark: look no further, or a long line
    // costs its length for every value in it.
    let head_end = text
        .char_indices()
        .nth(4 + 2)
        .map_or(text.len(), |(i, _)| i);
    let mark = text[..head_end].find("…(")?;
    if text[..mark].chars().count() > 4 {
        return None;
    }
    let after = &text[mark + "…(".len()..];
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && after[digits..].starts_with(" chars)"))
        .then(|| mark + "…(".len() + digits + " chars)".len())
}

/// Well-known token formats (a subset of gitleaks' default rules): secret wherever they appear.
/// The engine's credential detectors use the same list.
pub const TOKEN_FORMATS: &[(&str, &str)] = &[
    (
        "AWS access key id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
    ),
    (
        "GitHub token",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36}\b",
    ),
    ("GitHub fine-grained token", r"github_pat_\w{82}"),
    ("GitLab token", r"glpat-[\w-]{20}"),
    ("Slack token", r"xox[baprose]-[0-9A-Za-z-]{10,}"),
    ("private key", r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY"),
    ("Google API key", r"\bAIza[\w-]{35}"),
    (
        "Stripe key",
        r"\b(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}",
    ),
    ("OpenAI key", r"T3BlbkFJ"),
    ("Anthropic key", r"sk-ant-api03-[a-zA-Z0-9_\-]{93}AA"),
    ("npm token", r"\bnpm_[a-zA-Z0-9]{36}"),
    (
        "JSON Web Token",
        r"\bey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/_-]{17,}\.",
    ),
    ("Vault token", r"\bhvs\.[\w-]{90,120}"),
    ("SendGrid key", r"\bSG\.[a-zA-Z0-9=_\-.]{66}"),
    ("DigitalOcean token", r"\bdoo_v1_[a-f0-9]{64}"),
];

/// The shortest text any of [`tokens`] matches (`T3BlbkFJ`, the OpenAI key's marker).
const MIN_TOKEN_LEN: usize = 8;

/// The token formats that mask a whole token (the private-key header is masked with the key's
/// body, by [`LineMasker`]). A JWT is masked to its end, not only to its second dot.
fn tokens() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let alternatives: Vec<String> = TOKEN_FORMATS
            .iter()
            .filter(|(name, _)| *name != "private key")
            .map(|(name, p)| match *name {
                "JSON Web Token" => format!(r"(?:{p}[A-Za-z0-9_-]*)"),
                "OpenAI key" => r"(?:\b[\w-]*T3BlbkFJ[\w-]*)".to_owned(),
                _ => format!("(?:{p})"),
            })
            .collect();
        // ASCII classes (`(?-u)`): the Unicode `\w{90,120}` of the Vault format alone would
        // compile past the size limit.
        Regex::new(&format!("(?-u){}", alternatives.join("|"))).expect("static pattern")
    })
}

/// Compiles the masker's patterns now, not on first use (~5 M instructions; a thread that needs
/// them meanwhile waits): see `kubeharden_engine::scan::warm_up`.
pub fn warm_up() {
    tokens();
    url_password();
    bearer();
    private_key_header();
    key_value();
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static pattern"))
}

/// `scheme://user:password@host`: the password.
fn url_password() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(&RE, r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@")
}

/// What every match of [`bearer`] holds: one of these words, and this many bytes.
const BEARER_WORDS: [&str; 4] = ["earer", "EARER", "asic", "ASIC"];
const MIN_BEARER_LEN: usize = "Basic ".len() + 8;

/// `Bearer <token>`, `Basic <credentials>`.
fn bearer() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r"\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+([A-Za-z0-9._~+/-]{8,}=*)",
    )
}

fn private_key_header() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY( BLOCK)?-----",
    )
}

/// A key followed by `:` or `=` (keys quoted or not).
fn key_value() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(
        &RE,
        r#"(?:^|[^A-Za-z0-9_.\-])["']?([A-Za-z_-][A-Za-z0-9_.\-]*)["']?[ \t]*([:=])"#,
    )
}

/// Words that make a key or variable name a credential's (kubescape's defaults and more).
const SENSITIVE_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "credential",
    "private_key",
    "privatekey",
    "access_key",
    "accesskey",
    "jwt",
    "bearer",
    "key_data",
    "auth_key",
];

/// Suffixes that name something about a secret, not the secret itself.
const BENIGN_SUFFIXES: &[&str] = &[
    "_path",
    "_file",
    "_files",
    "_url",
    "_uri",
    "_host",
    "_name",
    "_names",
    "_dir",
    "_ttl",
    "_length",
    "_ref",
    "_refs",
    "_seconds",
    "_selector",
    "_namespace",
    "_enabled",
    "_mode",
    "_type",
    "_policy",
    "_requests",
    "_expiration",
    "_format",
    "_provider",
];

/// `…_key` names that are not keys to anything.
const BENIGN_NAMES: &[&str] = &[
    "topology_key",
    "sort_key",
    "partition_key",
    "routing_key",
    "label_key",
    "hash_key",
    "cache_key",
    "primary_key",
    "lookup_key",
    "group_key",
    "index_key",
    "shard_key",
];

/// `secretAccessKey` → `secret_access_key`, `tls.key` → `tls_key`, `--db-password` → `db_password`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    out.trim_matches('_').to_owned()
}

/// Whether a key or variable name says its value is a credential (`DB_PASSWORD`, `clientSecret`,
/// `tls.key`, `AWS_ACCESS_KEY_ID`), as opposed to its location (`TOKEN_PATH`, `secretName`).
pub fn is_sensitive_name(name: &str) -> bool {
    has_credential_stem(name) && names_credential(&snake_case(name))
}

/// [`is_sensitive_name`] of a name already in [`snake_case`].
fn names_credential(n: &str) -> bool {
    let sensitive = SENSITIVE_WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("_key")
        || n.ends_with("_pass")
        || n == "pass";
    sensitive && !BENIGN_SUFFIXES.iter().any(|s| n.ends_with(s)) && !BENIGN_NAMES.contains(&n)
}

/// Whether `name` holds, in any case, a stem of every [`SENSITIVE_WORDS`] word and of the `_key`
/// and `_pass` endings: `pass pwd secret token key credential jwt bearer`. Without one,
/// [`snake_case`] cannot make one (it only lowercases, inserts `_` and turns `-. ` into `_`), so
/// [`is_sensitive_name`] answers no without allocating: most keys of most objects.
fn has_credential_stem(name: &str) -> bool {
    let b = name.as_bytes();
    let at = |i: usize, stem: &[u8]| {
        b.len() - i >= stem.len() && b[i..i + stem.len()].eq_ignore_ascii_case(stem)
    };
    (0..b.len()).any(|i| match b[i].to_ascii_lowercase() {
        b'p' => at(i, b"pass") || at(i, b"pwd"),
        b's' => at(i, b"secret"),
        b't' => at(i, b"token"),
        b'k' => at(i, b"key"),
        b'c' => at(i, b"credential"),
        b'j' => at(i, b"jwt"),
        b'b' => at(i, b"bearer"),
        _ => false,
    })
}

/// Whether a value under a credential-named key may hold a secret (not a reference, a template,
/// a path, a boolean or an already redacted value).
fn maskable(v: &str) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    !(v.is_empty()
        || is_redacted(v)
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with('/')
        || v.starts_with("./")
        || matches!(
            lower.as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "none" | "\"\"" | "''"
        )
        || [
            "redacted",
            "changeme",
            "change-me",
            "placeholder",
            "xxxx",
            "****",
            "insert_",
            "your-",
            "your_",
        ]
        .iter()
        .any(|m| lower.contains(m)))
}

/// An identifier, a host or a path in lower case (`postgresql`, `kube-system`, `db.svc:5432`): a
/// Secret's value of this shape is masked where it is written but not searched for elsewhere,
/// where the same word is most likely not the secret (a Secret's `namespace` or `type` key).
fn is_plain_word(v: &str) -> bool {
    v.bytes().all(|b| {
        b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(b, b'-' | b'.' | b'/' | b':' | b'_')
    })
}

/// A value's extent in `line` from byte `start`: a quoted string to its closing quote, else to the
/// end of the plain scalar (`,`, `}` or `]` in flow context, ` #` comment, end of line; for `=`
/// forms, whitespace, `&`, `;` too). Returns the byte range of the value without its quotes.
fn value_extent(line: &str, start: usize, flow: bool, eq: bool) -> Option<(usize, usize)> {
    let rest = &line[start..];
    if let Some(n) = redacted_prefix(rest) {
        return Some((start, start + n));
    }
    let first = rest.chars().next()?;
    if first == '"' || first == '\'' {
        let body = start + 1;
        let mut escaped = false;
        for (i, c) in line[body..].char_indices() {
            if first == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == first && !escaped {
                return Some((body, body + i));
            }
            escaped = false;
        }
        return Some((body, line.len()));
    }
    // Structure, not a value: a block scalar indicator, a flow collection, an anchor, an alias,
    // a tag.
    if !eq && matches!(first, '|' | '>' | '{' | '[' | '&' | '*' | '!' | '#') {
        return None;
    }
    let mut end = line.len();
    for (i, c) in rest.char_indices() {
        let stop = (flow && matches!(c, ',' | '}' | ']'))
            || (c == '#' && i > 0 && rest[..i].ends_with([' ', '\t']))
            || (eq && (c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\'' | ')')));
        if stop {
            end = start + i;
            break;
        }
    }
    let trimmed = line[start..end].trim_end();
    Some((start, start + trimmed.len()))
}

/// Masks secret material in consecutive lines of text, carrying what one line says about the next
/// (an env var's `name:` before its `value:`, a private key's body after its header).
#[derive(Debug, Default)]
pub struct LineMasker {
    /// The previous line named a credential (`name: DB_PASSWORD`): its `value:` is secret.
    pending_name: bool,
    /// Inside a private key's body (after `-----BEGIN … PRIVATE KEY-----`).
    in_private_key: bool,
}

impl LineMasker {
    pub fn new() -> Self {
        LineMasker::default()
    }

    /// One line, masked.
    pub fn mask<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let trimmed = line.trim();
        // A private key's body: every line to its END marker.
        if self.in_private_key {
            if trimmed.starts_with("-----END") {
                self.in_private_key = false;
            } else if !trimmed.is_empty() && !is_redacted(trimmed) {
                let start = line.len() - line.trim_start().len();
                ranges.push((start, start + trimmed.len()));
            }
        }
        // Each pattern below is tried only when the line holds what every match of it must
        // (the same answer, without a regex search on most lines).
        let header = if line.contains("-----BEGIN") {
            private_key_header().find(line)
        } else {
            None
        };
        if let Some(m) = header {
            let rest = &line[m.end()..];
            let body = rest.trim_end_matches(['"', '\'', ',', '}', ']', ' ', '\t']);
            if body.trim().is_empty() {
                self.in_private_key = !line.contains("-----END");
            } else if !is_redacted(body) {
                ranges.push((m.end(), m.end() + body.len()));
            }
        }
        // A line of base64 alone (a key's or a certificate's body in a block scalar).
        if ranges.is_empty() && is_base64_line(trimmed) {
            let start = line.len() - line.trim_start().len();
            ranges.push((start, start + trimmed.len()));
        }
        if line.len() >= MIN_TOKEN_LEN {
            for m in tokens().find_iter(line) {
                ranges.push((m.start(), m.end()));
            }
        }
        let urls = if line.contains("://") {
            Some(url_password().captures_iter(line))
        } else {
            None
        };
        for c in urls.into_iter().flatten() {
            let pw = c.get(1).expect("group");
            if !(pw.as_str().starts_with('$')
                || pw.as_str().starts_with('{')
                || pw.as_str().starts_with('<'))
            {
                ranges.push((pw.start(), pw.end()));
            }
        }
        let scheme_words =
            line.len() >= MIN_BEARER_LEN && BEARER_WORDS.iter().any(|w| line.contains(w));
        for c in scheme_words
            .then(|| bearer().captures_iter(line))
            .into_iter()
            .flatten()
        {
            let t = c.get(1).expect("group");
            if !t.as_str().starts_with('$') {
                ranges.push((t.start(), t.end()));
            }
        }
        if line.contains([':', '=']) {
            self.key_values(line, &mut ranges);
        } else {
            // What `key_values` concludes of a line without a key: no credential's name.
            self.pending_name = false;
        }
        apply(line, ranges)
    }

    fn key_values(&mut self, line: &str, ranges: &mut Vec<(usize, usize)>) {
        let mut named = false;
        let mut saw_name = false;
        for m in key_value().find_iter(line) {
            let (key, sep) = key_and_separator(line, m.range());
            let eq = &line[sep..=sep] == "=";
            let after = &line[sep + 1..];
            // `key: value` needs a space after the colon in YAML, unless quoted JSON (`"k":"v"`).
            let quoted_key = line[..key.start].ends_with(['"', '\'']);
            if !(eq || quoted_key || after.is_empty() || after.starts_with([' ', '\t'])) {
                continue;
            }
            let start = sep + 1 + (after.len() - after.trim_start().len());
            let flow = line[..key.start].contains(['{', '[']);
            let Some((vs, ve)) = value_extent(line, start, flow, eq) else {
                continue;
            };
            let value = &line[vs..ve];
            // An unquoted value with spaces is prose (`holds a credential: AWS access key id`),
            // not a secret: the structural layer masks the values it knows to be secret however
            // they are written.
            let quoted = vs > 0 && line[..vs].ends_with(['"', '\'']);
            if !quoted && value.contains([' ', '\t']) && !is_redacted(value) {
                if &line[key.clone()] == "name" {
                    named = false;
                }
                continue;
            }
            let k = &line[key];
            let secret = if k == "name" {
                saw_name = true;
                named = is_sensitive_name(value);
                false
            } else if k == "value" {
                named || (self.pending_name && !saw_name)
            } else if k == "auth" || k == "identitytoken" || k == "registrytoken" {
                value.len() >= 16
            } else {
                is_sensitive_name(k)
            };
            if secret && maskable(value) {
                ranges.push((vs, ve));
            }
        }
        self.pending_name = named;
    }
}

/// The key (group 1 of [`key_value`]) and the place of the separator (group 2) in a match of
/// it, found without the capture engine (a search for captures was ~2% of a scan's
/// instructions): the separator ends the match; before it, blanks and a quote; the key is the
/// run of key characters before them (a key character never starts or quotes a key, so the run
/// stops where the group starts).
fn key_and_separator(line: &str, m: std::ops::Range<usize>) -> (std::ops::Range<usize>, usize) {
    let bytes = line.as_bytes();
    let sep = m.end - 1;
    let mut end = sep;
    while end > m.start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end > m.start && matches!(bytes[end - 1], b'"' | b'\'') {
        end -= 1;
    }
    let mut start = end;
    while start > m.start
        && (bytes[start - 1].is_ascii_alphanumeric()
            || matches!(bytes[start - 1], b'_' | b'.' | b'-'))
    {
        start -= 1;
    }
    (start..end, sep)
}

/// A trimmed line that is base64 alone, long enough to be key material (not a path or a JSON
/// pointer: those start with `/` or are mostly slashes).
fn is_base64_line(t: &str) -> bool {
    t.len() >= 40
        && !t.starts_with('/')
        && t.bytes().filter(|b| *b == b'/').count() * 8 <= t.len()
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes().any(|b| b.is_ascii_uppercase())
        && t.bytes().any(|b| b.is_ascii_lowercase())
}

/// Replaces byte ranges of `line` (possibly overlapping, in any order) by their redaction.
fn apply(line: &str, mut ranges: Vec<(usize, usize)>) -> Cow<'_, str> {
    ranges.retain(|(s, e)| s < e && !is_redacted(&line[*s..*e]));
    if ranges.is_empty() {
        return Cow::Borrowed(line);
    }
    ranges.sort_unstable();
    // Merge overlapping ranges.
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some((_, last)) if s < *last => *last = (*last).max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (s, e) in merged {
        out.push_str(&line[at..s]);
        out.push_str(&redact(&line[s..e]));
        at = e;
    }
    out.push_str(&line[at..]);
    Cow::Owned(out)
}

/// One line of text, masked without context.
pub fn mask_line(line: &str) -> Cow<'_, str> {
    LineMasker::new().mask(line)
}

/// Text of any number of lines (a message, a diagnostic), masked line by line with context.
pub fn mask_text(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return mask_line(text);
    }
    let mut masker = LineMasker::new();
    let mut changed = false;
    let lines: Vec<Cow<'_, str>> = text
        .split('\n')
        .map(|l| {
            let m = masker.mask(l);
            changed |= matches!(m, Cow::Owned(_));
            m
        })
        .collect();
    if changed {
        Cow::Owned(lines.join("\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A secret scalar of an object: where it starts and its text.
#[derive(Clone, Debug)]
struct SecretValue {
    line: u32,
    /// 1-based column (in characters) where the scalar starts, its quote included; 0 for a value
    /// known only by its text (a decoded copy).
    col: u32,
    /// Searched for on every line (copies), not only masked where it is written.
    searched: bool,
    /// Lines of a block scalar (`|`, `>`) from `line` (its first line of content, where the
    /// parser places it), all secret.
    block_lines: u32,
    text: String,
}

/// Values shorter than this are masked only where they are written, not searched for elsewhere.
const MIN_SEARCHED: usize = 8;

/// The secret values of one object (or document), known from its structure.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    values: Vec<SecretValue>,
}

/// Deepest nesting walked (the parser allows 255; secrets sit far shallower).
const MAX_DEPTH: usize = 128;

impl Secrets {
    /// The secret values of an object of `kind` and `api_version` with root `root`.
    pub fn of(root: &Node, kind: &str, api_version: &str) -> Secrets {
        let mut s = Secrets::default();
        let core = !api_version.contains('/');
        if kind == "Secret" && core {
            for field in ["data", "stringData"] {
                for e in root.get(field).map(Node::entries).unwrap_or(&[]) {
                    let named = is_sensitive_name(&e.key);
                    let text = e.value.text().unwrap_or("");
                    s.push(&e.value, named || !is_plain_word(text));
                    if field == "data"
                        && let Some(decoded) = decode_base64(text)
                        && (named || !is_plain_word(&decoded))
                    {
                        s.push_text(&decoded);
                    }
                }
            }
            if let Some(a) = root
                .pointer("/metadata/annotations")
                .and_then(|a| a.get("kubectl.kubernetes.io/last-applied-configuration"))
            {
                s.push(a, true);
            }
        }
        s.walk(root, None, 0);
        s
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn push(&mut self, node: &Node, searched: bool) {
        let Value::Scalar(sc) = &node.value else {
            return;
        };
        if sc.text.trim().is_empty() || is_redacted(&sc.text) {
            return;
        }
        let block_lines = match sc.style {
            Style::Block => sc.text.trim_matches('\n').split('\n').count() as u32,
            _ => 0,
        };
        if self
            .values
            .iter()
            .any(|v| v.line == node.pos.line && v.col == node.pos.col)
        {
            return;
        }
        self.values.push(SecretValue {
            line: node.pos.line,
            col: node.pos.col,
            searched,
            block_lines,
            text: sc.text.to_string(),
        });
    }

    fn push_text(&mut self, text: &str) {
        for t in std::iter::once(text).chain(text.lines()) {
            let t = t.trim();
            if t.len() >= MIN_SEARCHED && !self.values.iter().any(|v| v.text == t) {
                self.values.push(SecretValue {
                    line: 0,
                    col: 0,
                    searched: true,
                    block_lines: 0,
                    text: t.to_owned(),
                });
            }
        }
    }

    fn walk(&mut self, node: &Node, key: Option<&str>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match &node.value {
            Value::Scalar(sc) => {
                let secret = match key {
                    Some(k) => is_sensitive_name(k) && maskable(&sc.text),
                    None => false,
                } || sc.text.contains("PRIVATE KEY-----");
                if secret {
                    self.push(node, true);
                }
            }
            Value::Seq(items) => items.iter().for_each(|i| self.walk(i, key, depth + 1)),
            Value::Map(entries) => {
                // An env var (or any `name`/`value` pair) with a credential name.
                if let (Some(name), Some(value)) =
                    (node.get("name").and_then(Node::text), node.get("value"))
                    && is_sensitive_name(name)
                    && value.text().is_some_and(maskable)
                {
                    self.push(value, true);
                }
                for e in entries {
                    self.walk(&e.value, Some(&e.key), depth + 1);
                }
            }
        }
    }

    /// Line `line_no` of the object's source with its secret values masked: the values written
    /// on it (at their column, or every line of a block scalar), then copies of any secret value
    /// (a `last-applied-configuration` repeats them).
    pub fn mask_line<'a>(&self, line_no: u32, line: &'a str) -> Cow<'a, str> {
        if self.values.is_empty() {
            return Cow::Borrowed(line);
        }
        let mut ranges = Vec::new();
        for v in &self.values {
            if v.col > 0 && v.line == line_no {
                let start = line
                    .char_indices()
                    .nth(v.col.saturating_sub(1) as usize)
                    .map(|(i, _)| i);
                if let Some(start) = start
                    && v.block_lines == 0
                {
                    let flow = line[..start].contains(['{', '[']);
                    let extent = if line[start..].starts_with(v.text.as_str()) {
                        Some((start, start + v.text.len()))
                    } else {
                        value_extent(line, start, flow, false)
                    };
                    if let Some(r) = extent {
                        ranges.push(r);
                    }
                }
            }
            if v.block_lines > 0 && line_no >= v.line && line_no < v.line + v.block_lines {
                let t = line.trim();
                // A PEM block's BEGIN and END markers say what it is, and are no secret.
                let marker = t.starts_with("-----BEGIN") || t.starts_with("-----END");
                if !t.is_empty() && !marker {
                    let start = line.len() - line.trim_start().len();
                    ranges.push((start, start + t.len()));
                }
            }
            search(line, v, &mut ranges);
        }
        apply(line, ranges)
    }

    /// A message with every copy of a secret value masked.
    pub fn mask_message<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut ranges = Vec::new();
        // A message names objects, keys, images and flags, never a value: a secret that is a
        // plain lower-case word (`storageos`) found there is that name, not the secret (masking
        // it would make the same finding read differently through a door that reads the
        // Secret's data and one that does not).
        for v in self.values.iter().filter(|v| !is_plain_word(&v.text)) {
            search(text, v, &mut ranges);
        }
        apply(text, ranges)
    }
}

/// Which lines of a YAML or JSON text (0-based) show secret material, by either layer: for
/// output that must copy whole lines unchanged (the context lines of `fix --diff`), which then
/// leaves them out rather than masking them.
pub fn secret_lines(text: &str) -> Vec<bool> {
    let lines: Vec<&str> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .collect();
    let mut masker = LineMasker::new();
    let mut out: Vec<bool> = lines
        .iter()
        .map(|l| matches!(masker.mask(l), Cow::Owned(_)))
        .collect();
    let docs: Vec<crate::yaml::Doc> = crate::yaml::parse_stream(text)
        .into_iter()
        .flatten()
        .collect();
    for (k, doc) in docs.iter().enumerate() {
        let Some(root) = &doc.root else { continue };
        let text_of = |key: &str| root.get(key).and_then(Node::text).unwrap_or("");
        let secrets = Secrets::of(root, text_of("kind"), text_of("apiVersion"));
        if secrets.is_empty() {
            continue;
        }
        let from = doc.first_line.max(1) as usize;
        let to = docs
            .get(k + 1)
            .map_or(lines.len(), |d| d.first_line as usize);
        for n in from..=to.min(lines.len()) {
            if !out[n - 1] && matches!(secrets.mask_line(n as u32, lines[n - 1]), Cow::Owned(_)) {
                out[n - 1] = true;
            }
        }
    }
    out
}

/// Every occurrence in `line` of a searched secret value (or of a line of a multi-line one).
fn search(line: &str, v: &SecretValue, ranges: &mut Vec<(usize, usize)>) {
    if !v.searched {
        return;
    }
    let parts: Box<dyn Iterator<Item = &str>> = if v.text.contains('\n') {
        Box::new(v.text.lines().map(str::trim))
    } else {
        Box::new(std::iter::once(v.text.as_str()))
    };
    for part in parts {
        if part.len() < MIN_SEARCHED {
            continue;
        }
        for (i, _) in line.match_indices(part) {
            ranges.push((i, i + part.len()));
        }
    }
}

/// Standard or URL-safe base64, padded or not, as text; None when not base64 or not UTF-8.
pub fn decode_base64(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guards of `LineMasker::mask` skip a pattern only on lines it cannot match: the
    /// shortest match of each, from regex's own parser.
    #[test]
    fn the_masker_guards_hold_what_every_match_holds() {
        let min = |p: &str| {
            regex_syntax::parse(p)
                .unwrap()
                .properties()
                .minimum_len()
                .unwrap()
        };
        assert_eq!(min(tokens().as_str()), MIN_TOKEN_LEN);
        assert!(min(private_key_header().as_str()) >= "-----BEGIN".len());
        assert!(private_key_header().as_str().starts_with("-----BEGIN"));
        assert!(url_password().as_str().contains("://"));
        assert!(key_value().as_str().ends_with("([:=])"));
        assert_eq!(min(bearer().as_str()), MIN_BEARER_LEN);
        for word in ["[Bb]earer", "BEARER", "[Bb]asic", "BASIC"] {
            assert!(bearer().as_str().contains(word), "{word}");
        }
        assert!(mask_line("Basic dXNlcjpwYXNz").ends_with(&redact("dXNlcjpwYXNz")));
        // At the edge: the shortest token, a key alone, a URL's password.
        assert_eq!(
            mask_line("x T3BlbkFJ y"),
            format!("x {} y", redact("T3BlbkFJ"))
        );
        assert_eq!(
            mask_line("see https://u:hunter2hunter@db:5432"),
            format!("see https://u:{}@db:5432", redact("hunter2hunter"))
        );
    }

    #[test]
    fn key_and_separator_are_the_groups_the_captures_give() {
        let lines = [
            "password: hunter2",
            "  - name: DB_PASSWORD",
            r#"{"token":"abc", 'api-key' : x, k.v.w=1}"#,
            "export AWS_SECRET_ACCESS_KEY=abc ; a='b' c = d",
            "9abc: x",
            "x9: y, _k: z, -k: w, .k: v",
            "url: http://u:p@h:5432/db?x=1",
            "\"quoted key\" : v ; 'k'\t\t= v",
            "é: x, ék: y, kë: z, a\u{a0}b: c",
            "::==",
            "",
            "no separator at all",
        ];
        for line in lines {
            let by_captures: Vec<_> = key_value()
                .captures_iter(line)
                .map(|c| (c.get(1).unwrap().range(), c.get(2).unwrap().start()))
                .collect();
            let by_search: Vec<_> = key_value()
                .find_iter(line)
                .map(|m| key_and_separator(line, m.range()))
                .collect();
            assert_eq!(by_search, by_captures, "{line}");
        }
    }

    #[test]
    fn redact_keeps_a_prefix_and_the_length() {
        assert_eq!(
            redact("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "wJal…(40 chars)"
        );
        assert_eq!(redact("S3cr3tPass"), "S3…(10 chars)");
        assert_eq!(redact("S3cr3t"), "…(6 chars)");
        assert!(is_redacted(&redact("anything at all")));
    }

    #[test]
    fn sensitive_names() {
        for n in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "DB_PASSWORD",
            "DB_PASS",
            "clientSecret",
            "tls.key",
            "client-key-data",
            "--db-password",
            "api_token",
            "GITHUB_TOKEN",
        ] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in [
            "secretName",
            "TOKEN_PATH",
            "password_file",
            "tokenExpirationSeconds",
            "LOG_LEVEL",
            "key",
            "secretKeyRef",
            "topologyKey",
            "imagePullSecrets_name",
            "DATABASE_URL",
        ] {
            assert!(!is_sensitive_name(n), "{n}");
        }
    }

    /// The stem gate only answers no where the full test does: every sensitive word and ending,
    /// in camelCase, SCREAMING_SNAKE, kebab and dotted spellings, passes it; names with no stem do
    /// not.
    #[test]
    fn credential_stem_gate_keeps_every_sensitive_name() {
        let words = SENSITIVE_WORDS
            .iter()
            .copied()
            .chain(["db_key", "db_pass", "pass"]);
        for w in words {
            let camel: String = w
                .split('_')
                .enumerate()
                .map(|(i, p)| {
                    if i == 0 {
                        p.to_owned()
                    } else {
                        p[..1].to_uppercase() + &p[1..]
                    }
                })
                .collect();
            for n in [
                w.to_owned(),
                w.to_uppercase(),
                format!("my_{w}"),
                format!("MY-{}", w.to_uppercase().replace('_', "-")),
                format!("app.{}", w.replace('_', ".")),
                format!("client{}", camel[..1].to_uppercase() + &camel[1..]),
                camel.clone(),
            ] {
                assert!(has_credential_stem(&n), "{n}");
                assert_eq!(
                    is_sensitive_name(&n),
                    names_credential(&snake_case(&n)),
                    "{n}"
                );
            }
        }
        for n in [
            "image",
            "LOG_LEVEL",
            "replicas",
            "containerPort",
            "",
            "p",
            "ke",
            "TOKE",
        ] {
            assert!(!has_credential_stem(n), "{n}");
            assert!(!is_sensitive_name(n), "{n}");
        }
    }

    #[track_caller]
    fn masked(line: &str, expect: &str) {
        assert_eq!(mask_line(line), expect);
        // Idempotent.
        assert_eq!(mask_line(expect), expect);
    }

    #[test]
    fn masks_credentials_in_lines() {
        masked(
            "        - {name: AWS_SECRET_ACCESS_KEY, value: wJalrXUtnFEMIK7MDENGbPxRfiCY0042}",
            "        - {name: AWS_SECRET_ACCESS_KEY, value: wJal…(32 chars)}",
        );
        masked(
            "        - {name: AWS_ACCESS_KEY_ID, value: AKIAKHCANARY7Q3X9ZPL}",
            "        - {name: AWS_ACCESS_KEY_ID, value: AKIA…(20 chars)}",
        );
        masked(
            "  DATABASE_URL: postgres://admin:S3cr3tPassw0rd@db.pay.svc:5432/billing",
            "  DATABASE_URL: postgres://admin:S3…(14 chars)@db.pay.svc:5432/billing",
        );
        masked("  password: hunter2hunter2", "  password: hu…(14 chars)");
        masked(
            r#"{"auths":{"r.io":{"auth":"dXNlcjpwYXNzd29yZDEyMw=="}}}"#,
            r#"{"auths":{"r.io":{"auth":"dXNl…(24 chars)"}}}"#,
        );
        masked(
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
            "Authorization: Bearer abcd…(32 chars)",
        );
        masked(
            "- --db-password=Xk29pqLm7Zr4 --port=80",
            "- --db-password=Xk…(12 chars) --port=80",
        );
        masked(
            r#"key: "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA""#,
            r#"key: "-----BEGIN RSA PRIVATE KEY-----\nMI…(18 chars)""#,
        );
        masked(
            "  token: \"eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2ln\"",
            "  token: \"eyJh…(65 chars)\"",
        );
        // Nothing secret: unchanged.
        for line in [
            "  secretName: db-credentials",
            "  automountServiceAccountToken: false",
            "  password: $(DB_PASSWORD)",
            "        image: ghcr.io/example/billing:3.2",
            "  password:",
            "  token: |",
            "  - --token-auth-file=/etc/kubernetes/tokens.csv",
            "  url: https://example.com/a:b@c",
            "/spec/template/spec/containers/0/securityContext/privileged",
            "kubeharden denied Deployment \"billing\": 1 finding of the hardening rules",
            "`postgresql.auth.password` holds a credential: secret-looking value (sensitive name)",
            "ConfigMap \"settings\" key `DATABASE_URL` holds a URL with an embedded password",
        ] {
            assert_eq!(mask_line(line), line, "{line}");
        }
    }

    #[test]
    fn masks_across_lines() {
        let text = "        - name: DB_PASSWORD\n          value: khCanaryS3cr3tPassw0rd91\n        - name: LOG_LEVEL\n          value: debug";
        assert_eq!(
            mask_text(text),
            "        - name: DB_PASSWORD\n          value: khCa…(24 chars)\n        - name: LOG_LEVEL\n          value: debug"
        );
        let pem = "  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n    abc\n    -----END PRIVATE KEY-----\n  other: x";
        assert_eq!(
            mask_text(pem),
            "  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIE…(52 chars)\n    …(3 chars)\n    -----END PRIVATE KEY-----\n  other: x"
        );
    }

    #[test]
    fn structural_secrets_mask_their_lines() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  a: short1\n  cfg: |\n    user=admin\n    x=khCanaryBlockLine42\ndata:\n  k: a2hDYW5hcnlEZWNvZGVkMDA3\n";
        let root = crate::yaml::parse_stream(text)
            .into_iter()
            .next()
            .unwrap()
            .unwrap()
            .root
            .unwrap();
        let s = Secrets::of(&root, "Secret", "v1");
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| s.mask_line(i as u32 + 1, l).into_owned())
            .collect();
        assert_eq!(lines[4], "  a: …(6 chars)");
        assert_eq!(lines[5], "  cfg: |");
        assert_eq!(lines[6], "    us…(10 chars)");
        assert_eq!(lines[7], "    x=kh…(21 chars)");
        assert_eq!(lines[9], "  k: a2hD…(24 chars)");
        // The decoded value is masked wherever it is copied.
        assert_eq!(
            s.mask_message("the value khCanaryDecoded007 again"),
            "the value khCa…(18 chars) again"
        );
    }

    #[test]
    fn env_values_by_name_and_copies() {
        let text = "kind: Pod\nspec:\n  containers:\n  - env:\n    - name: API_TOKEN\n      value: \"tok-0123456789abcdef\"\n    - {name: MODE, value: fast}\n";
        let root = crate::yaml::parse_stream(text)
            .into_iter()
            .next()
            .unwrap()
            .unwrap()
            .root
            .unwrap();
        let s = Secrets::of(&root, "Pod", "v1");
        assert_eq!(
            s.mask_line(6, "      value: \"tok-0123456789abcdef\""),
            "      value: \"tok-…(20 chars)\""
        );
        assert_eq!(
            s.mask_line(7, "    - {name: MODE, value: fast}"),
            "    - {name: MODE, value: fast}"
        );
        assert_eq!(
            s.mask_line(
                1,
                r#"{"env":[{"name":"API_TOKEN","value":"tok-0123456789abcdef"}]}"#
            ),
            r#"{"env":[{"name":"API_TOKEN","value":"tok-…(20 chars)"}]}"#
        );
    }

    #[test]
    fn secret_lines_of_a_file() {
        let text = "kind: Secret\napiVersion: v1\nstringData:\n  a: b1\n---\nkind: Pod\nspec:\n  env:\n  - {name: X, value: y}\n  - name: DB_PASSWORD\n    value: pw123\n";
        let flagged: Vec<usize> = secret_lines(text)
            .iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(flagged, [4, 11]);
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some("hello"));
        assert_eq!(decode_base64("aGVsbG8").as_deref(), Some("hello"));
        assert_eq!(decode_base64("not base64!"), None);
    }
}
