//! `.kubeharden.yaml`: which rules run, severity overrides, path excludes, and exemptions by rule
//! and object (and container) with a reason and an expiry date. Found upward from the working
//! directory, or named with `--config`.
//!
//! Strict: an unknown key, an unknown rule id, a wrong type or an invalid date is an error naming
//! the file, line and column, never ignored. An expired exemption no longer suppresses anything and
//! is itself a finding (`exemption-expired`), so lapsed risk acceptances surface in the audit.

use crate::finding::{Finding, Location, Severity, Snippet, Subject, fingerprint};
use crate::report::Report;
use crate::rules::suppress::{self, Suppression};
use crate::rules::{self, Check, References, Rule, Section};
use crate::source::{DiagLevel, Diagnostic};
use crate::yaml::{self, Node, Pos, Value};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// File names searched for, in each directory from the working directory up to the root.
pub const FILE_NAMES: [&str; 2] = [".kubeharden.yaml", ".kubeharden.yml"];

/// The finding reported for an exemption whose `expires` date has passed.
pub static EXEMPTION_EXPIRED: Rule = Rule {
    id: "exemption-expired",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "An exemption of .kubeharden.yaml has expired",
    rationale: "An exemption records an accepted risk until a date. Once the date has passed the \
        acceptance has lapsed: the exempted finding is reported again, and the stale exemption is \
        reported so that it is either renewed deliberately (with a new reason and date) or removed.",
    remedy: "Fix the exempted finding and delete the exemption, or renew it: update `reason` and \
        set a new `expires` date after review.",
    references: References::NONE,
    evidence: &[],
    fix: None,
    check: Check::Inventory(|_, _, _| {}, &[]),
};

/// Rules that are not checks but can appear in findings (see [`EXEMPTION_EXPIRED`]).
pub fn meta_rules() -> [&'static Rule; 1] {
    [&EXEMPTION_EXPIRED]
}

/// A rule by id: the built-in rules, then [`meta_rules`].
pub fn rule_meta(id: &str) -> Option<&'static Rule> {
    rules::find(id).or_else(|| meta_rules().into_iter().find(|r| r.id == id))
}

/// A config error, at a position of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub origin: String,
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.origin, p.line, p.col, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// An accepted risk: one rule on one object (optionally one container), until a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemption {
    pub rule: String,
    pub name: String,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub container: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; the exemption holds through that day.
    pub expires: Option<String>,
    pub pos: Pos,
    /// Index in the `exemptions` list.
    pub index: usize,
}

impl Exemption {
    pub fn matches(&self, f: &Finding) -> bool {
        f.rule == self.rule
            && f.subject.name == self.name
            && self.kind.as_ref().is_none_or(|k| *k == f.subject.kind)
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| Some(ns) == f.subject.namespace.as_ref())
            && self
                .container
                .as_ref()
                .is_none_or(|c| Some(c) == f.subject.container.as_ref())
    }

    pub fn is_expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }

    fn target(&self) -> String {
        let mut s = match (&self.kind, &self.namespace) {
            (Some(k), Some(ns)) => format!("{k}/{ns}/{}", self.name),
            (Some(k), None) => format!("{k}/{}", self.name),
            (None, Some(ns)) => format!("{ns}/{}", self.name),
            (None, None) => self.name.clone(),
        };
        if let Some(c) = &self.container {
            s.push_str(&format!(" (container \"{c}\")"));
        }
        s
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The file, as it is named in reports.
    pub origin: String,
    /// Its directory: `exclude` patterns are relative to it.
    pub dir: PathBuf,
    /// Only these rules (empty: all).
    pub enable: Vec<String>,
    pub disable: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
    pub exclude: Vec<String>,
    exclude_set: GlobSet,
    /// Honour other tools' suppression annotations (default true).
    pub foreign_suppressions: bool,
    /// Count the findings expected for system components (`strictSystem`, default false).
    pub strict_system: bool,
    /// Enforce the policies (Gatekeeper constraints, ValidatingAdmissionPolicy bindings) found
    /// among the scanned inputs on the other inputs (default false: only `--policy` sources are
    /// enforced; `scan --enforce-input-policies`, `cluster --enforce-input-policies`).
    pub enforce_input_policies: bool,
    pub exemptions: Vec<Exemption>,
    text: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            origin: String::new(),
            dir: PathBuf::from("."),
            enable: Vec::new(),
            disable: Vec::new(),
            severity: BTreeMap::new(),
            exclude: Vec::new(),
            exclude_set: GlobSet::empty(),
            foreign_suppressions: true,
            strict_system: false,
            enforce_input_policies: false,
            exemptions: Vec::new(),
            text: String::new(),
        }
    }
}

/// The nearest `.kubeharden.yaml` (or `.yml`) in `start` or one of its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find_map(|dir| FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}

const KEYS: &[&str] = &[
    "version",
    "enable",
    "disable",
    "severity",
    "exclude",
    "foreignSuppressions",
    "strictSystem",
    "enforceInputPolicies",
    "exemptions",
];
const EXEMPTION_KEYS: &[&str] = &[
    "rule",
    "kind",
    "namespace",
    "name",
    "container",
    "reason",
    "expires",
];

struct Parser<'a> {
    origin: &'a str,
}

impl Parser<'_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: self.origin.to_owned(),
            pos: Some(pos),
            message: message.into(),
        }
    }

    /// Entries of a mapping; duplicate and unknown keys are errors.
    fn entries<'n>(
        &self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Result<Vec<(&'n str, &'n Node)>, ConfigError> {
        let Value::Map(entries) = &node.value else {
            return Err(self.err(node.pos, format!("{what} must be a mapping")));
        };
        let mut out: Vec<(&str, &Node)> = Vec::new();
        for e in entries {
            if out.iter().any(|(k, _)| *k == e.key) {
                return Err(self.err(e.key_pos, format!("duplicate key `{}`", e.key)));
            }
            if !known.is_empty() && !known.contains(&e.key.as_str()) {
                return Err(self.err(
                    e.key_pos,
                    format!(
                        "unknown key `{}` in {what} (known keys: {})",
                        e.key,
                        known.join(", ")
                    ),
                ));
            }
            out.push((e.key.as_str(), &e.value));
        }
        Ok(out)
    }

    fn string(&self, node: &Node, what: &str) -> Result<String, ConfigError> {
        match node.resolve() {
            Some(yaml::Resolved::Str(s)) if !s.trim().is_empty() => Ok(s.to_owned()),
            _ => Err(self.err(node.pos, format!("{what} must be a non-empty string"))),
        }
    }

    fn list(&self, node: &Node, what: &str) -> Result<Vec<(String, Pos)>, ConfigError> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        if !node.is_seq() {
            return Err(self.err(node.pos, format!("{what} must be a list")));
        }
        node.items()
            .iter()
            .map(|n| Ok((self.string(n, &format!("each item of {what}"))?, n.pos)))
            .collect()
    }

    fn rule_id(&self, id: &str, pos: Pos) -> Result<String, ConfigError> {
        match rules::find(id) {
            Some(r) => Ok(r.id.to_owned()),
            None if rules::is_custom_id(id) => Ok(id.to_owned()),
            None => Err(self.err(
                pos,
                format!("no rule `{id}` (`kubeharden rules` lists them)"),
            )),
        }
    }
}

impl Config {
    /// Reads and validates a config file. `origin` is how the file is named in messages and
    /// reports.
    pub fn load(path: &Path, origin: &str) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.to_owned(),
            pos: None,
            message: format!("cannot read: {e}"),
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(origin, &text, &dir)
    }

    pub fn parse(origin: &str, text: &str, dir: &Path) -> Result<Config, ConfigError> {
        let p = Parser { origin };
        let mut config = Config {
            origin: origin.to_owned(),
            dir: dir.to_path_buf(),
            text: text.to_owned(),
            ..Config::default()
        };
        let mut docs = yaml::parse_stream(text).into_iter();
        let doc = match docs.next() {
            None => return Ok(config),
            Some(Err(e)) => return Err(p.err(e.pos, e.message)),
            Some(Ok(doc)) => doc,
        };
        if let Some(next) = docs.next() {
            let pos = match next {
                Ok(d) => Pos {
                    line: d.first_line,
                    col: 1,
                },
                Err(e) => e.pos,
            };
            return Err(p.err(pos, "a config file holds one YAML document"));
        }
        let Some(root) = doc.root else {
            return Ok(config);
        };
        if root.is_null() {
            return Ok(config);
        }
        for (key, value) in p.entries(&root, "the config", KEYS)? {
            match key {
                "version" => {
                    if value.as_i64() != Some(1) {
                        return Err(p.err(value.pos, "`version` must be 1"));
                    }
                }
                "enable" | "disable" => {
                    let ids = p
                        .list(value, &format!("`{key}`"))?
                        .into_iter()
                        .map(|(id, pos)| p.rule_id(&id, pos))
                        .collect::<Result<Vec<_>, _>>()?;
                    if key == "enable" {
                        config.enable = ids;
                    } else {
                        config.disable = ids;
                    }
                }
                "severity" => {
                    if value.is_null() {
                        continue;
                    }
                    for (id, sev) in p.entries(value, "`severity`", &[])? {
                        let key_pos = value.entry(id).map_or(value.pos, |e| e.key_pos);
                        let id = p.rule_id(id, key_pos)?;
                        let text = p.string(sev, "a severity")?;
                        let severity: Severity =
                            text.parse().map_err(|e: String| p.err(sev.pos, e))?;
                        config.severity.insert(id, severity);
                    }
                }
                "exclude" => {
                    let mut builder = GlobSetBuilder::new();
                    for (pattern, pos) in p.list(value, "`exclude`")? {
                        let glob = Glob::new(pattern.trim_end_matches('/'))
                            .map_err(|e| p.err(pos, format!("invalid glob `{pattern}`: {e}")))?;
                        builder.add(glob);
                        config.exclude.push(pattern);
                    }
                    config.exclude_set = builder
                        .build()
                        .map_err(|e| p.err(value.pos, e.to_string()))?;
                }
                "foreignSuppressions" => {
                    config.foreign_suppressions = value.as_bool().ok_or_else(|| {
                        p.err(value.pos, "`foreignSuppressions` must be true or false")
                    })?;
                }
                "enforceInputPolicies" => {
                    config.enforce_input_policies = value.as_bool().ok_or_else(|| {
                        p.err(value.pos, "`enforceInputPolicies` must be true or false")
                    })?;
                }
                "strictSystem" => {
                    config.strict_system = value
                        .as_bool()
                        .ok_or_else(|| p.err(value.pos, "`strictSystem` must be true or false"))?;
                }
                "exemptions" => {
                    if value.is_null() {
                        continue;
                    }
                    if !value.is_seq() {
                        return Err(p.err(value.pos, "`exemptions` must be a list"));
                    }
                    for (index, item) in value.items().iter().enumerate() {
                        config.exemptions.push(parse_exemption(&p, item, index)?);
                    }
                }
                _ => unreachable!("keys are checked against KEYS"),
            }
        }
        Ok(config)
    }

    /// The rules to run: `only` (from `--rules`) or `enable`, minus `disable` and `skip`.
    pub fn select(&self, only: &[String], skip: &[String]) -> Vec<&'static Rule> {
        let only: &[String] = if only.is_empty() { &self.enable } else { only };
        rules::all()
            .iter()
            .copied()
            .filter(|r| only.is_empty() || only.iter().any(|id| id == r.id))
            .filter(|r| !self.disable.iter().any(|id| id == r.id))
            .filter(|r| !skip.iter().any(|id| id == r.id))
            .collect()
    }

    /// Does an `exclude` pattern match this path (or one of its parent directories)? Paths are
    /// matched relative to the config's directory (and as given).
    pub fn is_excluded(&self, path: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let absolute = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(p)
            }
        };
        let dir = absolute(&self.dir);
        let dir = dir.canonicalize().unwrap_or(dir);
        let file = absolute(path);
        let file = file.canonicalize().unwrap_or(file);
        let candidates = [
            file.strip_prefix(&dir).ok().map(Path::to_path_buf),
            Some(path.strip_prefix(".").unwrap_or(path).to_path_buf()),
        ];
        candidates.into_iter().flatten().any(|rel| {
            rel.ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| self.exclude_set.is_match(a))
        })
    }

    /// Applies the config to a finished scan: drops findings from excluded paths, moves findings
    /// covered by a live exemption to the suppressed ones, reports expired exemptions (as findings)
    /// and unused ones (as notes), and applies severity overrides. `today` is `YYYY-MM-DD`.
    pub fn apply(&self, report: &mut Report, today: &str) {
        if !self.exclude.is_empty() {
            let keep = |f: &Finding| !self.is_excluded(Path::new(&*f.location.origin));
            report.findings.retain(keep);
            report.suppressed_findings.retain(keep);
        }
        let mut used = vec![false; self.exemptions.len()];
        if !self.exemptions.is_empty() {
            // In place (a cluster has 100,000s of findings): mark the exempted ones, then move
            // them, keeping the order of the others.
            let mut kept = 0;
            for j in 0..report.findings.len() {
                let f = &mut report.findings[j];
                for (i, ex) in self.exemptions.iter().enumerate() {
                    if ex.matches(f) {
                        used[i] = true;
                        if !ex.is_expired(today) && f.suppressed_by.is_none() {
                            f.suppressed_by = Some(Box::new(Suppression {
                                rule: ex.rule.clone(),
                                container: ex.container.clone(),
                                source: suppress::Source::Config,
                                key: format!("{}:{}", self.origin, ex.pos.line),
                                reason: Some(ex.reason.clone()),
                                expires: ex.expires.clone(),
                            }));
                        }
                    }
                }
                if report.findings[j].suppressed_by.is_none() {
                    report.findings.swap(kept, j);
                    kept += 1;
                }
            }
            let exempted = report.findings.split_off(kept);
            report.suppressed_findings.extend(exempted);
        }
        for f in &report.suppressed_findings {
            for (i, ex) in self.exemptions.iter().enumerate() {
                used[i] |= ex.matches(f);
            }
        }
        for (ex, used) in self.exemptions.iter().zip(used) {
            if ex.is_expired(today) {
                report.findings.push(self.expired_finding(ex));
            } else if !used {
                report.diagnostics.push(Diagnostic::new(
                    DiagLevel::Note,
                    &self.origin,
                    Some(ex.pos),
                    format!(
                        "the exemption of `{}` for {} matches no finding; remove it if the finding is fixed",
                        ex.rule,
                        ex.target()
                    ),
                ));
            }
        }
        for f in report
            .findings
            .iter_mut()
            .chain(report.suppressed_findings.iter_mut())
        {
            if let Some(s) = self.severity.get(f.rule) {
                f.severity = *s;
            }
        }
    }

    fn expired_finding(&self, ex: &Exemption) -> Finding {
        let section = rules::find(&ex.rule).map_or(Section::Runtime, |r| r.section);
        let line = ex.pos.line;
        let first = line.saturating_sub(2).max(1);
        let snippet = Snippet::new(
            first,
            self.text
                .lines()
                .skip(first as usize - 1)
                .take((line - first + 1) as usize),
        );
        let pointer = format!("/exemptions/{}", ex.index);
        Finding {
            rule: EXEMPTION_EXPIRED.id,
            section,
            severity: EXEMPTION_EXPIRED.severity,
            subject: std::sync::Arc::new(Subject {
                kind: ex.kind.clone().unwrap_or_else(|| "*".to_owned()),
                api_version: String::new(),
                name: ex.name.clone(),
                namespace: ex.namespace.clone(),
                container: ex.container.clone(),
            }),
            location: Location {
                origin: self.origin.as_str().into(),
                line,
                column: ex.pos.col,
                pointer: pointer.as_str().into(),
                helm_source: None,
            },
            message: format!(
                "the exemption of `{}` for {} expired on {} (reason given: {}); the finding is reported again",
                ex.rule,
                ex.target(),
                ex.expires.as_deref().unwrap_or(""),
                ex.reason
            )
            .into(),
            remedy: EXEMPTION_EXPIRED.remedy,
            snippet,
            fingerprint: fingerprint(&[
                EXEMPTION_EXPIRED.id,
                &ex.rule,
                ex.kind.as_deref().unwrap_or(""),
                ex.namespace.as_deref().unwrap_or(""),
                &ex.name,
                ex.container.as_deref().unwrap_or(""),
            ]),
            suppressed_by: None,
            baseline: None,
            expected: None,
        }
    }
}

fn parse_exemption(p: &Parser<'_>, item: &Node, index: usize) -> Result<Exemption, ConfigError> {
    let entries = p.entries(item, "an exemption", EXEMPTION_KEYS)?;
    let get = |k: &str| entries.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let required =
        |k: &str| get(k).ok_or_else(|| p.err(item.pos, format!("an exemption needs `{k}`")));
    let optional = |k: &str| -> Result<Option<String>, ConfigError> {
        get(k).map(|n| p.string(n, &format!("`{k}`"))).transpose()
    };
    let rule_node = required("rule")?;
    let rule = p.rule_id(&p.string(rule_node, "`rule`")?, rule_node.pos)?;
    let name = p.string(required("name")?, "`name`")?;
    let reason = p.string(required("reason")?, "`reason`")?;
    let expires = match get("expires") {
        None => None,
        Some(n) => {
            let text = n.text().unwrap_or("");
            Some(
                suppress::parse_date(text)
                    .filter(|_| text.len() == 10)
                    .ok_or_else(|| {
                        p.err(
                            n.pos,
                            format!("`expires` must be a date YYYY-MM-DD, not `{text}`"),
                        )
                    })?,
            )
        }
    };
    Ok(Exemption {
        rule,
        name,
        kind: optional("kind")?,
        namespace: optional("namespace")?,
        container: optional("container")?,
        reason,
        expires,
        pos: item.pos,
        index,
    })
}

/// The file `kubeharden config init` writes: every key, commented.
pub const DEFAULT_CONFIG: &str = r#"# kubeharden configuration. kubeharden reads the nearest .kubeharden.yaml in the working
# directory or one of its parents (or the file named by --config). Unknown keys and unknown
# rule ids are errors. `kubeharden rules` lists the rule ids.
version: 1

# Run only these rules (empty: every rule). `--rules` on the command line takes precedence.
enable: []

# Never run these rules.
disable: []
#  - image-not-pinned-by-digest

# Severity overrides (critical, high, medium, low, info).
severity: {}
#  container-root-filesystem-writable: high

# Files and directories not to scan: globs relative to this file's directory (`**` for any depth).
exclude: []
#  - vendor
#  - "**/testdata/**"

# Honour other tools' suppression annotations where their check maps one to one onto a
# kubeharden rule (kube-linter, Polaris, Checkov, kubescape, kube-score). See docs/suppressions.md.
foreignSuppressions: true

# Count the findings that well-known system components (CNI agents, CSI node plugins,
# kube-proxy, Falco, node-exporter, control-plane static Pods) legitimately have: by default they
# are shown as "expected for <component>" and neither fail nor count in the scorecard.
strictSystem: false

# Enforce the Gatekeeper constraints and ValidatingAdmissionPolicy bindings found among the
# scanned inputs on the other inputs (`--enforce-input-policies`). By default only the policies
# given with `--policy` are enforced; those among the inputs are reported as objects.
enforceInputPolicies: false

# Accepted risks: one rule on one object (kind, namespace and container are optional filters).
# A reason is required; after `expires` (YYYY-MM-DD) the exemption stops applying and is itself
# reported as a finding (exemption-expired), so that it is reviewed.
exemptions: []
#  - rule: container-privileged
#    kind: DaemonSet
#    namespace: kube-system
#    name: cilium
#    container: cilium-agent
#    reason: "CNI agent needs privileges to program the host network (SEC-1234)"
#    expires: 2026-12-31
"#;
