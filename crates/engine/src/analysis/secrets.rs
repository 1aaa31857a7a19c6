//! Credential detectors for literal values in manifests: well-known token formats (a subset of
//! gitleaks' default rules) and sensitive key names backed by an entropy check.

use regex::Regex;
use std::sync::OnceLock;

/// (name, pattern) of well-known token formats: the list the redaction of reports masks too.
use crate::redact::TOKEN_FORMATS as FORMATS;

/// Key names that mark a value as a secret (case-insensitive substrings; kubescape's defaults).
const SENSITIVE_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "credential",
    "private_key",
    "access_key",
    "jwt",
    "bearer",
];

/// Names that contain a sensitive word but hold no secret.
const BENIGN_SUFFIXES: &[&str] = &[
    "_path",
    "_file",
    "_url",
    "_uri",
    "_host",
    "_name",
    "_id",
    "_endpoint",
    "_dir",
    "_ttl",
    "_length",
];

fn basic_auth_url_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@[^\s/]")
            .expect("static pattern")
    })
}

/// Compiles the token formats' patterns now, not on first use (~5 M instructions): see
/// [`crate::scan::warm_up`].
pub fn warm_up() {
    formats();
    basic_auth_url_pattern();
}

fn formats() -> &'static [(&'static str, Regex)] {
    static SET: OnceLock<Vec<(&str, Regex)>> = OnceLock::new();
    SET.get_or_init(|| {
        FORMATS
            .iter()
            // ASCII classes (`(?-u)`): tokens are ASCII, and the Unicode classes (`\w{90,120}`)
            // took 60 ms to compile, serially, in every scan.
            .map(|(n, p)| {
                (
                    *n,
                    Regex::new(&format!("(?-u){p}")).expect("static pattern"),
                )
            })
            .collect()
    })
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A known token format found in the value.
pub fn known_format(value: &str) -> Option<&'static str> {
    formats()
        .iter()
        .find(|(_, re)| re.is_match(value))
        .map(|(n, _)| *n)
}

/// `scheme://user:password@host`: a URL with an embedded password.
pub fn basic_auth_url(value: &str) -> bool {
    basic_auth_url_pattern().captures_iter(value).any(|c| {
        let pw = &c[1];
        !(pw.starts_with('$')
            || pw.starts_with('{')
            || pw.starts_with('<')
            || pw.eq_ignore_ascii_case("password")
            || pw == "pass")
    })
}

/// A credential found in free text (a command-line argument, an annotation): well-known token
/// formats and URLs with a password. Never returns the secret itself.
pub fn credential_in_text(text: &str) -> Option<String> {
    if let Some(format) = known_format(text) {
        return Some(format.to_owned());
    }
    basic_auth_url(text).then(|| "URL with an embedded password".to_owned())
}

/// A `--password=…`-style command-line argument with a secret-looking value.
pub fn credential_in_argument(arg: &str) -> Option<String> {
    if let Some(why) = credential_in_text(arg) {
        return Some(why);
    }
    let (name, value) = arg.trim_start_matches('-').split_once('=')?;
    if !arg.starts_with('-') {
        return None;
    }
    credential_in_env(&name.replace('-', "_"), value)
}

/// Why a `name=value` pair (env var, ConfigMap key) looks like a hard-coded credential, or None.
pub fn credential_in_env(name: &str, value: &str) -> Option<String> {
    if let Some(why) = credential_in_text(value) {
        return Some(why);
    }
    let lower = name.to_ascii_lowercase();
    // A bare `key` names a map key far more often than a secret (`secretKeyRef.key`, config schemas).
    let sensitive = SENSITIVE_NAMES.iter().any(|s| lower.contains(s)) || lower.ends_with("_key");
    if !sensitive || BENIGN_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return None;
    }
    let v = value.trim();
    if is_placeholder(v) || v.len() < 8 {
        return None;
    }
    (entropy(v) >= 3.0)
        .then(|| "secret-looking value (sensitive name, high-entropy value)".to_owned())
}

/// Values that stand for a secret rather than being one: references (`$VAR`, `$(VAR)`, `${VAR}`,
/// Argo CD's `$secret:key`), template markers (`__TOKEN__`, `<token>`), instructions
/// (`INSERT_…`, `changeme`, `your-…`) and file paths.
pub fn is_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.starts_with('$')
        || v.starts_with('/')
        || v.starts_with('<')
        || (v.starts_with("__") && v.ends_with("__"))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || [
            "insert_",
            "replace",
            "changeme",
            "change-me",
            "your-",
            "your_",
            "placeholder",
            "todo",
            "redacted",
            "xxxx",
        ]
        .iter()
        .any(|m| lower.contains(m))
        || matches!(lower.as_str(), "none" | "null" | "true" | "false")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_and_sensitive_names() {
        assert_eq!(
            credential_in_env("X", "AKIAIOSFODNN7EXAMPLE").as_deref(),
            Some("AWS access key id")
        );
        assert!(credential_in_env("DB_PASSWORD", "s3cr3t-Pa55w0rd!").is_some());
        assert!(credential_in_env("DB_PASSWORD", "$(DB_PASSWORD)").is_none());
        assert!(credential_in_env("TOKEN_PATH", "/var/run/secrets/token").is_none());
        assert!(credential_in_env("TOKEN_URL", "https://auth.example/abcdefghijkl").is_none());
        assert!(credential_in_env("LOG_LEVEL", "debug").is_none());
        assert!(credential_in_env("API_KEY", "aaaaaaaaaaaa").is_none()); // low entropy placeholder
    }

    #[test]
    fn urls_and_arguments() {
        assert!(basic_auth_url("postgres://app:Xk29!pq@db:5432/app"));
        assert!(!basic_auth_url("postgres://app:$(DB_PASSWORD)@db:5432/app"));
        assert!(!basic_auth_url("https://example.com/a:b@c")); // no userinfo before the host
        assert!(credential_in_argument("--db-password=Xk29pqLm7Zr4").is_some());
        assert!(credential_in_argument("--password-file=/etc/secret/pw").is_none());
        assert!(credential_in_argument("--token-ttl=3600").is_none());
        assert!(
            credential_in_env(
                "ETCD_INITIAL_CLUSTER_TOKEN",
                "INSERT_ETCD_INITIAL_CLUSTER_TOKEN"
            )
            .is_none()
        );
        assert!(credential_in_env("k8s_auth_token", "__SERVICEACCOUNT_TOKEN__").is_none());
        assert!(credential_in_env("clientSecret", "$oidc.azuread.clientSecret").is_none());
    }
}
