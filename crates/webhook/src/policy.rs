//! The webhook's policy file (`kubeharden serve --config webhook.yaml`): what each finding does at
//! admission (deny, warn, audit) and who is exempt. The rules, severities and per-object
//! exemptions stay in `.kubeharden.yaml` (named by `kubehardenConfig`), the file `scan` reads, so
//! that CI and admission judge alike. Format (every key optional):
//!
//! ```yaml
//! defaultMode: deny            # deny | warn | audit | off, for findings nothing below sets
//! severityModes:               # by the finding's severity (after .kubeharden.yaml overrides)
//!   medium: warn
//!   low: warn
//!   info: audit
//! ruleModes:                   # by rule id; wins over severityModes
//!   secret-not-rotated: audit
//! exemptNamespaces: [kube-system, "sandbox-*"]              # globs over request.namespace
//! exemptUsers: ["system:serviceaccount:kube-system:*"]      # globs over userInfo.username
//! exemptGroups: ["system:nodes"]                            # globs over userInfo.groups
//! ruleExemptions:              # some rules on some objects, with a reason and an expiry
//!   - rules: [container-privileged]
//!     namespaces: [monitoring]                 # globs over request.namespace
//!     names: ["node-exporter-*"]               # globs over metadata.name (or generateName)
//!     kinds: [DaemonSet, Pod]
//!     containers: [node-exporter]              # globs over the finding's container
//!     selector: {matchLabels: {app: node-exporter}}   # a metav1.LabelSelector over the labels
//!     reason: reads the host's /proc and /sys
//!     expires: 2027-06-30                      # YYYY-MM-DD, holds through that day
//! objectAnnotations: false     # honour kubeharden.io/ignore (and the peers') on the object itself
//! ratchetUpdates: true         # UPDATE: a deny finding the old object had too only warns
//! kubehardenConfig: kubeharden.yaml   # relative to this file
//! ```
//!
//! Without a file: critical and high findings deny, medium and low warn, info audits.
//! Unknown keys, unknown rule ids and rules that do not run at admission (cross-object rules,
//! [`NOT_AT_ADMISSION`]) in `ruleModes` and `ruleExemptions` are errors.
//!
//! **Who can exempt what.** At admission the requester writes the object, so nothing in the
//! object exempts it: the suppression annotations on the object (`kubeharden.io/ignore`,
//! kube-linter's `ignore-check.kube-linter.io/…`, the other peers') are ignored unless
//! `objectAnnotations: true`. Exemptions come from what the requester cannot write: this file
//! (`exemptNamespaces`, `exemptUsers`, `exemptGroups`, `ruleExemptions`) and the exemptions of its
//! `.kubeharden.yaml`. `names`, `selector` and `containers` of a rule exemption match what the
//! requester writes: scope them with `namespaces` to the namespaces whose writers you trust.

use anyhow::{Context as _, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use kubeharden_engine::config::Config;
use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::rules::{self, Check, CustomPolicies, Rule};
use kubeharden_engine::selector::{LabelSelector, Labels, Operator, Requirement};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a finding does to the admission request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// The request is denied; the message lists the finding and its remedy.
    Deny,
    /// Allowed with an AdmissionReview warning (shown by kubectl).
    Warn,
    /// Allowed silently; logged, counted and recorded as an audit annotation.
    Audit,
    /// The rule does not run at admission.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Deny => "deny",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}

/// `deny`, `warn`, `audit` or `off`; an unquoted `off` is the YAML 1.1 boolean false, taken as
/// `off`.
impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(false) => Ok(Mode::Off),
            serde_json::Value::String(s) => match s.as_str() {
                "deny" => Ok(Mode::Deny),
                "warn" => Ok(Mode::Warn),
                "audit" => Ok(Mode::Audit),
                "off" => Ok(Mode::Off),
                _ => Err(D::Error::custom(format!(
                    "unknown mode `{s}` (deny, warn, audit, off)"
                ))),
            },
            v => Err(D::Error::custom(format!(
                "a mode is deny, warn, audit or off, not {v}"
            ))),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    default_mode: Option<Mode>,
    #[serde(default)]
    severity_modes: BTreeMap<Severity, Mode>,
    #[serde(default)]
    rule_modes: BTreeMap<String, Mode>,
    #[serde(default)]
    exempt_namespaces: Vec<String>,
    #[serde(default)]
    exempt_users: Vec<String>,
    #[serde(default)]
    exempt_groups: Vec<String>,
    #[serde(default)]
    rule_exemptions: Vec<RuleExemptionFile>,
    object_annotations: Option<bool>,
    ratchet_updates: Option<bool>,
    kubeharden_config: Option<PathBuf>,
}

/// One entry of `ruleExemptions`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleExemptionFile {
    rule: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    containers: Vec<String>,
    selector: Option<SelectorFile>,
    reason: Option<String>,
    expires: Option<serde_json::Value>,
}

/// A `metav1.LabelSelector`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SelectorFile {
    #[serde(default)]
    match_labels: BTreeMap<String, String>,
    #[serde(default)]
    match_expressions: Vec<ExpressionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpressionFile {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

/// An entry of `ruleExemptions`: findings of `rules` on the objects it scopes are silenced (and
/// counted and logged as exempted), until `expires`.
pub struct RuleExemption {
    /// Its place in `ruleExemptions` (`ruleExemptions[N]` in logs and metrics).
    pub index: usize,
    pub rules: Vec<String>,
    namespaces: Option<GlobSet>,
    names: Option<GlobSet>,
    pub kinds: Vec<String>,
    containers: Option<GlobSet>,
    pub selector: Option<LabelSelector>,
    pub reason: String,
    /// `YYYY-MM-DD`; the exemption holds through that day.
    pub expires: Option<String>,
}

impl fmt::Debug for RuleExemption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleExemption")
            .field("index", &self.index)
            .field("rules", &self.rules)
            .field("kinds", &self.kinds)
            .field("selector", &self.selector)
            .field("reason", &self.reason)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl RuleExemption {
    /// `ruleExemptions[N]`.
    pub fn key(&self) -> String {
        format!("ruleExemptions[{}]", self.index)
    }

    pub fn is_expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }

    /// Does it cover `finding`, on an object of the request's `namespace` with `labels`?
    /// (Expiry is not checked here.)
    pub fn matches(&self, finding: &Finding, namespace: &str, labels: &Labels) -> bool {
        let globbed = |set: &Option<GlobSet>, value: Option<&str>| {
            set.as_ref()
                .is_none_or(|s| value.is_some_and(|v| !v.is_empty() && s.is_match(v)))
        };
        self.rules.iter().any(|r| r == finding.rule)
            && globbed(&self.namespaces, Some(namespace))
            && globbed(&self.names, Some(&finding.subject.name))
            && (self.kinds.is_empty() || self.kinds.contains(&finding.subject.kind))
            && globbed(&self.containers, finding.subject.container.as_deref())
            && self.selector.as_ref().is_none_or(|s| s.matches(labels))
    }
}

/// A request the policy exempts as a whole (`exemptNamespaces`, `exemptUsers`, `exemptGroups`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestExemption {
    /// The policy key: `exemptNamespaces`, `exemptUsers` or `exemptGroups`.
    pub source: &'static str,
    /// The namespace, user or group that matched.
    pub matched: String,
}

impl fmt::Display for RequestExemption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.source {
            "exemptNamespaces" => "namespace",
            "exemptUsers" => "user",
            _ => "group",
        };
        write!(f, "{what} {}", self.matched)
    }
}

/// The loaded policy.
pub struct Policy {
    pub default_mode: Mode,
    pub severity_modes: BTreeMap<Severity, Mode>,
    pub rule_modes: BTreeMap<String, Mode>,
    exempt_namespaces: GlobSet,
    exempt_users: GlobSet,
    exempt_groups: GlobSet,
    /// `ruleExemptions`.
    pub rule_exemptions: Vec<RuleExemption>,
    /// `objectAnnotations`: the suppression annotations on the admitted object itself count
    /// (off by default: whoever writes the object would exempt it).
    pub object_annotations: bool,
    pub ratchet_updates: bool,
    /// `.kubeharden.yaml`: rule selection, severity overrides, exemptions, foreign suppressions.
    pub config: Config,
    /// The rules that run at admission: the config's selection, per-object and per-pod-template
    /// rules only, minus the rules whose mode is `off`.
    pub rules: Vec<&'static Rule>,
    /// Where the policy came from, for logs.
    pub origin: String,
    /// The user's policies (Gatekeeper constraints, ValidatingAdmissionPolicies), whose rules are
    /// in `rules`; see [`Policy::with_custom`].
    pub custom: Option<Arc<dyn CustomPolicies>>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("origin", &self.origin)
            .field("default_mode", &self.default_mode)
            .field("severity_modes", &self.severity_modes)
            .field("rule_modes", &self.rule_modes)
            .field("ratchet_updates", &self.ratchet_updates)
            .field("object_annotations", &self.object_annotations)
            .field("rule_exemptions", &self.rule_exemptions)
            .field(
                "rules",
                &self.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::build(File::default(), Config::default(), "<built-in>".into())
            .expect("the built-in policy is valid")
    }
}

/// Per-object rules about manifests at rest rather than objects, which admission does not run,
/// with the reason.
pub const NOT_AT_ADMISSION: &[(&str, &str)] = &[(
    "secret-values-in-manifest",
    "every Secret in the API holds its values; the rule is about Secret manifests committed to git, which `kubeharden scan` checks",
)];

/// Why a rule does not run at admission, if it does not. Cross-object (`Inventory`) rules would
/// report false gaps (a lone Deployment has no NetworkPolicy, no ServiceAccount, no RBAC next to
/// it), `External` ones need the audit log, and [`NOT_AT_ADMISSION`] judge files, not objects.
pub fn not_at_admission(rule: &Rule) -> Option<&'static str> {
    if matches!(rule.check, Check::Document(_)) {
        return Some(
            "it reads files that are not Kubernetes objects (Helm values, Docker config.json), which never reach the API server; `kubeharden scan` checks them",
        );
    }
    if !matches!(
        rule.check,
        Check::Object(_) | Check::PodTemplate(_) | Check::Custom
    ) {
        return Some(
            "it is a cross-object rule; it cannot judge one object at admission (scan the manifests or the cluster instead)",
        );
    }
    NOT_AT_ADMISSION
        .iter()
        .find(|(id, _)| *id == rule.id)
        .map(|(_, why)| *why)
}

/// Can a rule run at admission? See [`not_at_admission`].
pub fn runs_at_admission(rule: &Rule) -> bool {
    not_at_admission(rule).is_none()
}

fn globs(patterns: &[String], what: &str) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).with_context(|| format!("{what}: invalid glob `{p}`"))?);
    }
    Ok(b.build()?)
}

/// `None` (anything) for no pattern.
fn some_globs(patterns: &[String], what: &str) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        Ok(None)
    } else {
        globs(patterns, what).map(Some)
    }
}

fn selector(file: SelectorFile, what: &str) -> Result<LabelSelector> {
    let mut match_expressions = Vec::new();
    for e in file.match_expressions {
        let operator = match e.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            o => bail!("{what}: unknown operator `{o}` (In, NotIn, Exists, DoesNotExist)"),
        };
        let needs_values = matches!(operator, Operator::In | Operator::NotIn);
        if needs_values == e.values.is_empty() {
            bail!(
                "{what}: `{}` {}",
                e.operator,
                if needs_values {
                    "needs values"
                } else {
                    "takes no values"
                }
            );
        }
        match_expressions.push(Requirement {
            key: e.key,
            operator,
            values: e.values,
        });
    }
    Ok(LabelSelector {
        match_labels: file.match_labels.into(),
        match_expressions,
        invalid: false,
    })
}

fn rule_exemption(index: usize, file: RuleExemptionFile, origin: &str) -> Result<RuleExemption> {
    let what = format!("{origin}: ruleExemptions[{index}]");
    let mut ids = file.rules;
    ids.extend(file.rule);
    if ids.is_empty() {
        bail!("{what}: needs `rules` (the rule ids it exempts)");
    }
    for id in &ids {
        if rules::is_custom_id(id) {
            continue;
        }
        let Some(rule) = rules::find(id) else {
            bail!("{what}: no rule `{id}` (`kubeharden rules` lists them)");
        };
        if let Some(why) = not_at_admission(rule) {
            bail!("{what}: `{id}` does not run at admission: {why}");
        }
    }
    let reason = file.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        bail!("{what}: needs a `reason`");
    }
    if file.namespaces.is_empty()
        && file.names.is_empty()
        && file.kinds.is_empty()
        && file.containers.is_empty()
        && file.selector.is_none()
    {
        bail!(
            "{what}: needs a scope (namespaces, names, kinds, containers or selector); to turn a rule off everywhere, set its ruleModes to off"
        );
    }
    let expires = match file.expires {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            let text = match &v {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            Some(
                kubeharden_engine::suppress::parse_date(&text)
                    .filter(|_| text.trim().len() == 10)
                    .with_context(|| {
                        format!("{what}: `expires` must be a date YYYY-MM-DD, not `{text}`")
                    })?,
            )
        }
    };
    Ok(RuleExemption {
        index,
        rules: ids,
        namespaces: some_globs(&file.namespaces, &format!("{what}.namespaces"))?,
        names: some_globs(&file.names, &format!("{what}.names"))?,
        kinds: file.kinds,
        containers: some_globs(&file.containers, &format!("{what}.containers"))?,
        selector: file
            .selector
            .map(|s| selector(s, &format!("{what}.selector")))
            .transpose()?,
        reason,
        expires,
    })
}

impl Policy {
    /// Reads the policy file (YAML or JSON, read as Kubernetes reads YAML).
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Policy::parse(&text, &path.display().to_string(), dir)
    }

    /// Parses a policy; `dir` resolves a relative `kubehardenConfig`.
    pub fn parse(text: &str, origin: &str, dir: &Path) -> Result<Policy> {
        let docs = kubeharden_engine::yaml::parse_stream(text);
        let json = match docs.into_iter().next() {
            None => serde_json::Value::Null,
            Some(Err(e)) => bail!("{origin}:{}: {}", e.pos, e.message),
            Some(Ok(doc)) => doc.root.map_or(serde_json::Value::Null, |r| r.to_json()),
        };
        let file: File = if json.is_null() {
            File::default()
        } else {
            serde_json::from_value(json).with_context(|| origin.to_owned())?
        };
        let config = match &file.kubeharden_config {
            None => Config::default(),
            Some(p) => {
                let p = dir.join(p);
                Config::load(&p, &p.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))?
            }
        };
        Policy::build(file, config, origin.to_owned())
    }

    fn build(file: File, config: Config, origin: String) -> Result<Policy> {
        for id in file.rule_modes.keys() {
            if rules::is_custom_id(id) {
                continue;
            }
            let Some(rule) = rules::find(id) else {
                bail!("{origin}: ruleModes: no rule `{id}` (`kubeharden rules` lists them)");
            };
            if let Some(why) = not_at_admission(rule) {
                bail!("{origin}: ruleModes: `{id}` does not run at admission: {why}");
            }
        }
        let mut severity_modes = BTreeMap::from([
            (Severity::Critical, Mode::Deny),
            (Severity::High, Mode::Deny),
            (Severity::Medium, Mode::Warn),
            (Severity::Low, Mode::Warn),
            (Severity::Info, Mode::Audit),
        ]);
        if file.default_mode.is_some() {
            // An explicit default replaces the built-in severity table.
            severity_modes.clear();
        }
        severity_modes.extend(file.severity_modes);
        let rule_exemptions = file
            .rule_exemptions
            .into_iter()
            .enumerate()
            .map(|(i, e)| rule_exemption(i, e, &origin))
            .collect::<Result<Vec<_>>>()?;
        let mut policy = Policy {
            default_mode: file.default_mode.unwrap_or(Mode::Deny),
            severity_modes,
            rule_modes: file.rule_modes,
            exempt_namespaces: globs(&file.exempt_namespaces, "exemptNamespaces")?,
            exempt_users: globs(&file.exempt_users, "exemptUsers")?,
            exempt_groups: globs(&file.exempt_groups, "exemptGroups")?,
            rule_exemptions,
            object_annotations: file.object_annotations.unwrap_or(false),
            ratchet_updates: file.ratchet_updates.unwrap_or(true),
            config,
            rules: Vec::new(),
            origin,
            custom: None,
        };
        policy.rules = policy
            .config
            .select(&[], &[])
            .into_iter()
            .filter(|r| runs_at_admission(r))
            .filter(|r| policy.mode(r.id, policy.severity(r)) != Mode::Off)
            .collect();
        Ok(policy)
    }

    /// Adds the user's policies: their rules run at admission unless `.kubeharden.yaml` disables
    /// them or their mode is `off`. A finding's mode follows its severity, which follows the
    /// constraint's `enforcementAction` or the binding's `validationActions` (deny or Deny: high,
    /// so denied; warn or Warn: medium, so warned; dryrun or Audit: info, so audited) unless
    /// `ruleModes` names the rule.
    pub fn with_custom(mut self, custom: Arc<dyn CustomPolicies>) -> Policy {
        let disabled = |id: &str| self.config.disable.iter().any(|d| d == id);
        let added: Vec<&'static Rule> = custom
            .rules()
            .iter()
            .copied()
            .filter(|r| !disabled(r.id))
            .filter(|r| self.mode(r.id, self.severity(r)) != Mode::Off)
            .collect();
        self.rules.extend(added);
        self.custom = Some(custom);
        self
    }

    /// A rule's severity after `.kubeharden.yaml` overrides.
    pub fn severity(&self, rule: &Rule) -> Severity {
        self.config
            .severity
            .get(rule.id)
            .copied()
            .unwrap_or(rule.severity)
    }

    fn mode_for_severity(&self, severity: Severity) -> Mode {
        self.severity_modes
            .get(&severity)
            .copied()
            .unwrap_or(self.default_mode)
    }

    /// The mode of a finding of `rule` at `severity`.
    pub fn mode(&self, rule: &str, severity: Severity) -> Mode {
        match self.rule_modes.get(rule) {
            Some(m) => *m,
            None => self.mode_for_severity(severity),
        }
    }

    /// Why a request is exempt as a whole, if it is.
    pub fn exemption(
        &self,
        namespace: &str,
        user: &str,
        groups: &[String],
    ) -> Option<RequestExemption> {
        if !namespace.is_empty() && self.exempt_namespaces.is_match(namespace) {
            return Some(RequestExemption {
                source: "exemptNamespaces",
                matched: namespace.to_owned(),
            });
        }
        if !user.is_empty() && self.exempt_users.is_match(user) {
            return Some(RequestExemption {
                source: "exemptUsers",
                matched: user.to_owned(),
            });
        }
        groups
            .iter()
            .find(|g| self.exempt_groups.is_match(g.as_str()))
            .map(|g| RequestExemption {
                source: "exemptGroups",
                matched: g.clone(),
            })
    }

    /// Do the rule exemptions read the object's labels?
    pub fn exemptions_need_labels(&self) -> bool {
        self.rule_exemptions.iter().any(|e| e.selector.is_some())
    }

    /// The live rule exemption covering a finding, if any (the first that matches).
    pub fn rule_exemption(
        &self,
        finding: &Finding,
        namespace: &str,
        labels: &Labels,
        today: &str,
    ) -> Option<&RuleExemption> {
        self.rule_exemptions
            .iter()
            .find(|e| !e.is_expired(today) && e.matches(finding, namespace, labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_by_severity() {
        let p = Policy::default();
        assert_eq!(
            p.mode("container-privileged", Severity::Critical),
            Mode::Deny
        );
        assert_eq!(p.mode("x", Severity::Medium), Mode::Warn);
        assert_eq!(p.mode("x", Severity::Info), Mode::Audit);
        assert!(p.rules.iter().all(|r| runs_at_admission(r)));
        assert!(p.rules.iter().any(|r| r.id == "container-privileged"));
        for id in [
            "namespace-missing-default-deny-ingress",
            "secret-values-in-manifest",
        ] {
            assert!(!p.rules.iter().any(|r| r.id == id), "{id}");
        }
    }

    #[test]
    fn file_overrides_and_exemptions() {
        let p = Policy::parse(
            "defaultMode: warn\nseverityModes: {critical: deny}\nruleModes:\n  image-not-pinned-by-digest: off\n  container-privileged: audit\nexemptNamespaces: [kube-system, 'sandbox-*']\nexemptUsers: ['system:serviceaccount:kube-system:*']\nexemptGroups: [system:nodes]\nratchetUpdates: no\n",
            "w.yaml",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            p.mode("container-privileged", Severity::Critical),
            Mode::Audit
        );
        assert_eq!(p.mode("pod-host-namespaces", Severity::High), Mode::Warn);
        assert_eq!(p.mode("x", Severity::Critical), Mode::Deny);
        assert!(!p.ratchet_updates);
        assert!(!p.rules.iter().any(|r| r.id == "image-not-pinned-by-digest"));
        assert!(p.exemption("sandbox-1", "", &[]).is_some());
        assert!(p.exemption("default", "", &[]).is_none());
        assert!(
            p.exemption("default", "system:serviceaccount:kube-system:x", &[])
                .is_some()
        );
        assert!(
            p.exemption("default", "alice", &["system:nodes".into()])
                .is_some()
        );
    }

    #[test]
    fn strict() {
        let e = |t: &str| {
            format!(
                "{:#}",
                Policy::parse(t, "w.yaml", Path::new(".")).unwrap_err()
            )
        };
        assert!(e("mode: deny\n").contains("unknown field `mode`"));
        assert!(e("ruleModes: {nope: deny}\n").contains("no rule `nope`"));
        assert!(e("defaultMode: block\n").contains("unknown mode `block`"));
        assert!(
            e("ruleModes: {namespace-missing-default-deny-ingress: deny}\n")
                .contains("cross-object")
        );
    }
}
