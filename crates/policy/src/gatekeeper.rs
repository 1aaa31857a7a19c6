//! Gatekeeper: ConstraintTemplates (`templates.gatekeeper.sh`) with their Rego, and Constraints
//! (`constraints.gatekeeper.sh`) with their `match`, `parameters` and `enforcementAction`.
//!
//! The Rego runs in regorus with Gatekeeper's input shape: `input.review` (kind, name, namespace,
//! operation, object, oldObject, userInfo) and `input.parameters`; its `violation[{"msg": …}]`
//! set gives one finding per message. Templates are Rego v0 (Gatekeeper's default) unless their
//! `code` entry says `version: v1`. Referential data (`data.inventory`) is built from every object
//! of the scanned inputs, as if Gatekeeper synced every kind; external data is not available
//! offline: templates that call it are reported when loaded.

use crate::matching::{self, ObjectView};
use crate::opa_compat;
use crate::{Problem, RuleSpec, make_rule, severity_of};
use kubeharden_engine::analysis::netpol::LabelSelector;
use kubeharden_engine::finding::Severity;
use kubeharden_engine::inventory::Object;
use kubeharden_engine::rules::{AdmissionNeed, Rule};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::yaml::Node;
use regorus::utils::limits::ExecutionTimerConfig;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TARGET: &str = "admission.k8s.gatekeeper.sh";
/// One evaluation may not run longer than this: a policy must not hang the scan.
const EVAL_LIMIT: Duration = Duration::from_secs(2);

pub fn is_template(o: &Object) -> bool {
    o.kind == "ConstraintTemplate" && o.group() == "templates.gatekeeper.sh"
}

pub fn is_constraint(o: &Object) -> bool {
    o.group() == "constraints.gatekeeper.sh"
}

/// A compiled template: a regorus engine holding its Rego, cloned per concurrent evaluation.
#[derive(Debug)]
pub struct Template {
    name: String,
    prototype: regorus::Engine,
    pool: Mutex<Vec<regorus::Engine>>,
    /// `data.<package>.violation`.
    query: String,
    description: Option<String>,
}

/// A constraint, ready to judge objects.
#[derive(Debug)]
pub struct Constraint {
    pub rule: &'static Rule,
    pub origin: String,
    pub line: u32,
    template: Arc<Template>,
    matcher: Match,
    parameters: regorus::Value,
}

/// `spec.match` of a constraint.
#[derive(Debug, Default)]
struct Match {
    /// `(apiGroups, kinds)` pairs; empty matches every kind.
    kinds: Vec<(Vec<String>, Vec<String>)>,
    namespaces: Option<Vec<String>>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    /// `*`, `Cluster` or `Namespaced`.
    scope: String,
    /// `match.name`: the object's name, with a `*` glob at either end.
    name: Option<String>,
}

impl Match {
    fn parse(node: Option<&Node>) -> Match {
        let Some(m) = node.filter(|n| n.is_map()) else {
            return Match {
                scope: "*".into(),
                ..Match::default()
            };
        };
        Match {
            kinds: m
                .get("kinds")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .map(|k| {
                    (
                        matching::strings(k.get("apiGroups")),
                        matching::strings(k.get("kinds")),
                    )
                })
                .collect(),
            namespaces: m
                .get("namespaces")
                .filter(|n| !n.is_null())
                .map(|n| matching::strings(Some(n))),
            excluded_namespaces: matching::strings(m.get("excludedNamespaces")),
            label_selector: matching::selector(m.get("labelSelector")),
            namespace_selector: matching::selector(m.get("namespaceSelector")),
            scope: m
                .get("scope")
                .and_then(Node::text)
                .unwrap_or("*")
                .to_owned(),
            name: m.get("name").and_then(Node::text).map(str::to_owned),
        }
    }

    /// Gatekeeper's matching (`pkg/mutation/match`): every condition given must hold. `Err`
    /// when the namespace selector needs labels that are not available.
    fn matches(&self, v: &ObjectView<'_>) -> Result<bool, Problem> {
        Ok(match self.matches_by_name(v) {
            false => false,
            true => match &self.namespace_selector {
                Some(sel) if v.namespace.is_some() || v.is_namespace() => {
                    v.namespace_selected(sel).map_err(|detail| Problem {
                        reason: "namespace_labels",
                        detail: format!("its namespaceSelector cannot be evaluated: {detail}"),
                    })?
                }
                _ => true,
            },
        })
    }

    /// Every condition but the namespace selector.
    fn matches_by_name(&self, v: &ObjectView<'_>) -> bool {
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|(groups, kinds)| {
                (groups.iter().any(|g| g == "*" || g == v.group))
                    && (kinds.iter().any(|k| k == "*" || *k == v.object.kind))
            });
        if !kind_ok {
            return false;
        }
        let cluster_scoped = v.namespace.is_none();
        match self.scope.as_str() {
            "Cluster" if !cluster_scoped => return false,
            "Namespaced" if cluster_scoped => return false,
            _ => {}
        }
        if let Some(name) = &self.name
            && !matching::ns_glob(name, &v.object.name)
        {
            return false;
        }
        // A Namespace is matched by its own name; other cluster-scoped objects are not subject
        // to namespace conditions.
        let ns = if v.is_namespace() {
            Some(v.object.name.as_str())
        } else {
            v.namespace
        };
        if let Some(ns) = ns {
            if let Some(list) = &self.namespaces
                && !list.iter().any(|p| matching::ns_glob(p, ns))
            {
                return false;
            }
            if self
                .excluded_namespaces
                .iter()
                .any(|p| matching::ns_glob(p, ns))
            {
                return false;
            }
        }
        if let Some(sel) = &self.label_selector
            && !sel.matches(&v.object.labels())
        {
            return false;
        }
        true
    }
}

impl Constraint {
    pub fn matches(&self, v: &ObjectView<'_>) -> Result<bool, Problem> {
        self.matcher.matches(v)
    }

    /// What the constraint needs at admission besides the request. Gatekeeper's own webhook
    /// fails open (`failurePolicy: Ignore`), and so does a constraint here.
    pub fn needs(&self) -> AdmissionNeed {
        AdmissionNeed {
            rule: self.rule.id,
            namespace: self
                .matcher
                .namespace_selector
                .as_ref()
                .is_some_and(|s| !s.is_empty() && s.keys().any(|k| k != matching::NAME_LABEL)),
            params: None,
            fail_closed: false,
        }
    }

    /// The messages of the template's `violation` set for this object.
    pub fn evaluate(&self, v: &ObjectView<'_>) -> Result<Vec<String>, Problem> {
        let review = v.rego_review.get_or_init(|| {
            regorus::Value::from(serde_json::json!({
                "kind": {"group": v.group, "version": v.version, "kind": v.object.kind},
                "name": v.object.name,
                "namespace": v.namespace.unwrap_or(""),
                "operation": v.request.operation,
                "uid": "",
                "dryRun": v.request.dry_run,
                "userInfo": {
                    "username": v.request.username,
                    "uid": v.request.uid,
                    "groups": v.request.groups,
                },
                "object": v.json(),
                "oldObject": v.request.old_object,
            }))
        });
        let mut input = regorus::Value::new_object();
        if let Ok(map) = input.as_object_mut() {
            map.insert(regorus::Value::from("review"), review.clone());
            map.insert(regorus::Value::from("parameters"), self.parameters.clone());
        }
        let t = &self.template;
        let mut engine = t
            .pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| t.prototype.clone());
        engine.set_input(input);
        let result = engine.eval_rule(t.query.clone());
        t.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(engine);
        let value = result.map_err(|e| Problem {
            reason: "evaluation",
            detail: format!("template `{}`: {e}", t.name),
        })?;
        let mut messages = Vec::new();
        if let Ok(set) = value.as_set() {
            for item in set.iter() {
                let msg = item
                    .as_object()
                    .ok()
                    .and_then(|o| o.get(&regorus::Value::from("msg")))
                    .and_then(|m| m.as_string().ok().map(|s| s.to_string()))
                    .unwrap_or_else(|| format!("violation: {item}"));
                messages.push(msg);
            }
        }
        Ok(messages)
    }
}

/// Reads the templates, then the constraints that instantiate them.
pub fn load(
    objects: &[Object],
    inventory: Option<&regorus::Value>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Constraint> {
    let mut templates: BTreeMap<String, Arc<Template>> = BTreeMap::new();
    for o in objects.iter().filter(|o| is_template(o)) {
        match compile(o, inventory) {
            Ok((kind, t)) => {
                templates.insert(kind, Arc::new(t));
            }
            Err(e) => diagnostics.push(diag(o, "", DiagLevel::Error, e)),
        }
    }
    let mut constraints = Vec::new();
    for o in objects.iter().filter(|o| is_constraint(o)) {
        let Some(template) = templates.get(&o.kind) else {
            diagnostics.push(diag(
                o,
                "/kind",
                DiagLevel::Warning,
                format!(
                    "constraint {} has no ConstraintTemplate for kind `{}` in the input; it is not evaluated",
                    o.name, o.kind
                ),
            ));
            continue;
        };
        let spec = o.root.get("spec");
        let action = spec
            .and_then(|s| s.get("enforcementAction"))
            .and_then(Node::text)
            .unwrap_or("deny")
            .to_owned();
        let implied = match action.as_str() {
            "deny" => Severity::High,
            "warn" => Severity::Medium,
            "dryrun" => Severity::Info,
            // `scoped`: the actions are per enforcement point; the webhook's strongest applies.
            "scoped" => scoped_severity(spec),
            other => {
                diagnostics.push(diag(
                    o,
                    "/spec/enforcementAction",
                    DiagLevel::Warning,
                    format!("unknown enforcementAction `{other}`; treated as deny"),
                ));
                Severity::High
            }
        };
        let severity = match severity_of(o, implied) {
            Ok(s) => s,
            Err(e) => {
                diagnostics.push(diag(
                    o,
                    "/metadata/annotations",
                    DiagLevel::Error,
                    format!("kubeharden.io/severity: {e}"),
                ));
                implied
            }
        };
        let parameters = spec
            .and_then(|s| s.get("parameters"))
            .filter(|p| !p.is_null())
            .map(|p| regorus::Value::from(p.to_json()))
            .unwrap_or_else(regorus::Value::new_object);
        let rule = make_rule(RuleSpec {
            id: format!("gatekeeper/{}/{}", o.kind.to_ascii_lowercase(), o.name),
            severity,
            summary: template
                .description
                .clone()
                .unwrap_or_else(|| format!("Gatekeeper constraint {} {}", o.kind, o.name)),
            rationale: format!(
                "Your Gatekeeper constraint {} (kind {}, template {}, enforcementAction {action}) from {}:{}, evaluated offline with the template's Rego.",
                o.name,
                o.kind,
                template.name,
                o.source.name,
                o.root.pos.line
            ),
            remedy: "Change the object so that the constraint's violation message no longer applies, or exclude it in the constraint's `match`.".into(),
        });
        constraints.push(Constraint {
            rule,
            origin: o.source.name.clone(),
            line: o.root.pos.line,
            template: template.clone(),
            matcher: Match::parse(spec.and_then(|s| s.get("match"))),
            parameters,
        });
    }
    constraints
}

fn scoped_severity(spec: Option<&Node>) -> Severity {
    let actions = spec
        .and_then(|s| s.get("scopedEnforcementActions"))
        .map(Node::items)
        .unwrap_or(&[]);
    let mut severity = Severity::Info;
    for a in actions {
        let s = match a.get("action").and_then(Node::text) {
            Some("deny") => Severity::High,
            Some("warn") => Severity::Medium,
            _ => Severity::Info,
        };
        severity = severity.max(s);
    }
    severity
}

/// Compiles a template's Rego for Gatekeeper's admission target.
fn compile(o: &Object, inventory: Option<&regorus::Value>) -> Result<(String, Template), String> {
    let spec = o.root.get("spec").ok_or("ConstraintTemplate has no spec")?;
    let kind = spec
        .pointer("/crd/spec/names/kind")
        .and_then(Node::text)
        .ok_or_else(|| {
            format!(
                "ConstraintTemplate {} has no spec.crd.spec.names.kind",
                o.name
            )
        })?
        .to_owned();
    let target = spec
        .get("targets")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .find(|t| t.get("target").and_then(Node::text) == Some(TARGET))
        .ok_or_else(|| format!("ConstraintTemplate {} has no target {TARGET}", o.name))?;
    // `rego` + `libs` (v1beta1/v1), or a `code` entry with engine Rego.
    let mut rego_v1 = false;
    let (rego, libs) = match target.get("rego").and_then(Node::text) {
        Some(r) => (r.to_owned(), matching::strings(target.get("libs"))),
        None => {
            let code = target.get("code").map(Node::items).unwrap_or(&[]);
            let Some(entry) = code
                .iter()
                .find(|c| c.get("engine").and_then(Node::text) == Some("Rego"))
            else {
                let engines: Vec<&str> = code
                    .iter()
                    .filter_map(|c| c.get("engine").and_then(Node::text))
                    .collect();
                return Err(format!(
                    "ConstraintTemplate {}: no Rego in the template (engines: {}); only Rego templates are evaluated, K8sNativeValidation (CEL) templates are not supported",
                    o.name,
                    if engines.is_empty() {
                        "none".to_owned()
                    } else {
                        engines.join(", ")
                    }
                ));
            };
            let source = entry.get("source");
            rego_v1 = source.and_then(|s| s.get("version")).and_then(Node::text) == Some("v1");
            (
                source
                    .and_then(|s| s.get("rego"))
                    .and_then(Node::text)
                    .ok_or_else(|| {
                        format!("ConstraintTemplate {}: code entry has no rego", o.name)
                    })?
                    .to_owned(),
                matching::strings(source.and_then(|s| s.get("libs"))),
            )
        }
    };
    let reads_inventory =
        rego.contains("data.inventory") || libs.iter().any(|l| l.contains("data.inventory"));
    if reads_inventory && inventory.is_none() {
        return Err(format!(
            "ConstraintTemplate {} uses data.inventory: referential data is built only from the scanned inputs (`kubeharden scan`), not at admission; the template is not evaluated",
            o.name
        ));
    }
    for (what, text) in [
        (
            "external_data",
            "external data providers are not called offline",
        ),
        ("http.send", "http.send is not called offline"),
    ] {
        if rego.contains(what) || libs.iter().any(|l| l.contains(what)) {
            return Err(format!(
                "ConstraintTemplate {} uses {what}: {text}; the template is not evaluated",
                o.name
            ));
        }
    }
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(!rego_v1);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: EVAL_LIMIT,
        check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
    });
    // OPA binds the arguments of a negated call before the negation; regorus does not.
    let rego = opa_compat::hoist_negated_arguments(&o.name, &rego, rego_v1);
    let package = engine
        .add_policy(format!("{}.rego", o.name), rego)
        .map_err(|e| format!("ConstraintTemplate {}: Rego does not compile: {e}", o.name))?;
    for (i, lib) in libs.into_iter().enumerate() {
        let lib = opa_compat::hoist_negated_arguments(&o.name, &lib, rego_v1);
        engine
            .add_policy(format!("{}.lib{i}.rego", o.name), lib)
            .map_err(|e| {
                format!(
                    "ConstraintTemplate {}: lib {i} does not compile: {e}",
                    o.name
                )
            })?;
    }
    if reads_inventory && let Some(inv) = inventory {
        engine
            .add_data(inv.clone())
            .map_err(|e| format!("ConstraintTemplate {}: inventory: {e}", o.name))?;
    }
    let query = format!("{package}.violation");
    // Compile and probe once with an empty input, so that a template without `violation` or
    // with an unsupported builtin is reported now rather than on every object.
    let mut probe = engine.clone();
    probe.set_input(serde_json::json!({"review": {}, "parameters": {}}).into());
    if let Err(e) = probe.eval_rule(query.clone()) {
        let e = e.to_string();
        if !e.contains("undefined") {
            return Err(format!("ConstraintTemplate {}: {e}", o.name));
        }
    }
    let description = o
        .annotation("description")
        .or_else(|| o.annotation("metadata.gatekeeper.sh/title"))
        .map(|d| d.trim().to_owned());
    Ok((
        kind,
        Template {
            name: o.name.clone(),
            prototype: engine,
            pool: Mutex::new(Vec::new()),
            query,
            description,
        },
    ))
}

fn diag(o: &Object, pointer: &str, level: DiagLevel, message: String) -> Diagnostic {
    Diagnostic::new(level, &o.source.name, Some(o.locate(pointer)), message)
}
