//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
//! (`admissionregistration.k8s.io/v1`), evaluated as the API server does: the policy's
//! `matchConstraints` and the binding's `matchResources` (resource rules, exclusions, namespace
//! and object selectors), `matchConditions`, `variables`, `validations` (expression, message,
//! messageExpression, reason), `paramKind` with the binding's `paramRef` (name or selector,
//! namespace, `parameterNotFoundAction`), `failurePolicy`, and `validationActions`.
//!
//! The CEL environment is the `cel` crate with the Kubernetes libraries of kube-cel (strings,
//! lists, sets, regex, URLs, IP/CIDR, semver, quantities, format, math, base64). Variables:
//! `object`, `oldObject`, `request`, `params`, `namespaceObject`, `variables`. Not available
//! offline: `authorizer` (validations using it are reported when loaded and skipped) and
//! `auditAnnotations` (not evaluated).

use crate::matching::{self, ObjectView};
use crate::{Problem, RuleSpec, Verdict, make_rule, severity_of};
use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{self, Program};
use kubeharden_engine::analysis::netpol::{LabelSelector, Labels};
use kubeharden_engine::finding::Severity;
use kubeharden_engine::inventory::Object;
use kubeharden_engine::rules::{AdmissionNeed, Rule};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::yaml::Node;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const GROUP: &str = "admissionregistration.k8s.io";

pub fn is_policy(o: &Object) -> bool {
    o.kind == "ValidatingAdmissionPolicy" && o.group() == GROUP
}

pub fn is_binding(o: &Object) -> bool {
    o.kind == "ValidatingAdmissionPolicyBinding" && o.group() == GROUP
}

/// `(group, kind)` of every policy's `paramKind`: the objects to read as parameters.
pub fn param_kinds(objects: &[Object]) -> Vec<(String, String)> {
    let mut kinds: Vec<(String, String)> = objects
        .iter()
        .filter(|o| is_policy(o))
        .filter_map(|o| {
            let pk = o.root.pointer("/spec/paramKind")?;
            let api = pk.get("apiVersion").and_then(Node::text)?;
            let kind = pk.get("kind").and_then(Node::text)?;
            let group = api.rsplit_once('/').map_or("", |(g, _)| g);
            Some((group.to_owned(), kind.to_owned()))
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// `resourceRules` / `excludeResourceRules` entry.
#[derive(Debug)]
struct ResourceRule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    resource_names: Vec<String>,
    scope: String,
}

impl ResourceRule {
    fn parse(n: &Node) -> ResourceRule {
        ResourceRule {
            api_groups: matching::strings(n.get("apiGroups")),
            api_versions: matching::strings(n.get("apiVersions")),
            resources: matching::strings(n.get("resources")),
            operations: matching::strings(n.get("operations")),
            resource_names: matching::strings(n.get("resourceNames")),
            scope: n
                .get("scope")
                .and_then(Node::text)
                .unwrap_or("*")
                .to_owned(),
        }
    }

    fn matches(&self, v: &ObjectView<'_>, resource: &str) -> bool {
        let any = |list: &[String], x: &str| list.iter().any(|i| i == "*" || i == x);
        let scope_ok = match self.scope.as_str() {
            "Cluster" => v.namespace.is_none(),
            "Namespaced" => v.namespace.is_some(),
            _ => true,
        };
        any(&self.api_groups, v.group)
            && any(&self.api_versions, v.version)
            && self
                .resources
                .iter()
                .any(|r| r == "*" || r == "*/*" || r == resource)
            && any(&self.operations, &v.request.operation)
            && (self.resource_names.is_empty() || self.resource_names.contains(&v.object.name))
            && scope_ok
    }
}

/// `matchConstraints` of a policy, `matchResources` of a binding.
#[derive(Debug, Default)]
struct Resources {
    rules: Vec<ResourceRule>,
    exclude: Vec<ResourceRule>,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
}

impl Resources {
    fn parse(n: &Node) -> Resources {
        let rules = |key: &str| {
            n.get(key)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .map(ResourceRule::parse)
                .collect()
        };
        Resources {
            rules: rules("resourceRules"),
            exclude: rules("excludeResourceRules"),
            namespace_selector: matching::selector(n.get("namespaceSelector")),
            object_selector: matching::selector(n.get("objectSelector")),
        }
    }

    /// `constrain_rules`: a binding without resource rules does not narrow the policy's.
    /// `Err` when the namespace selector needs labels that are not available.
    fn matches(
        &self,
        v: &ObjectView<'_>,
        resource: &str,
        constrain_rules: bool,
    ) -> Result<bool, Problem> {
        if (constrain_rules || !self.rules.is_empty())
            && !self.rules.iter().any(|r| r.matches(v, resource))
        {
            return Ok(false);
        }
        if self.exclude.iter().any(|r| r.matches(v, resource)) {
            return Ok(false);
        }
        if let Some(sel) = &self.object_selector
            && !v.object_selected(sel)
        {
            return Ok(false);
        }
        // Cluster-scoped objects other than Namespaces are never skipped by a namespace
        // selector; a Namespace is judged by its own labels.
        if let Some(sel) = &self.namespace_selector
            && !v.namespace_selected(sel).map_err(|detail| Problem {
                reason: "namespace_labels",
                detail: format!("its namespaceSelector cannot be evaluated: {detail}"),
            })?
        {
            return Ok(false);
        }
        Ok(true)
    }

    /// Does matching need the namespace's labels (a selector on more than its name)?
    fn needs_namespace(&self) -> bool {
        self.namespace_selector
            .as_ref()
            .is_some_and(|s| !s.is_empty() && s.keys().any(|k| k != matching::NAME_LABEL))
    }
}

#[derive(Debug)]
struct Validation {
    expression: String,
    program: Program,
    message: Option<String>,
    message_program: Option<Program>,
    reason: Option<String>,
}

/// A compiled policy.
#[derive(Debug)]
struct Policy {
    name: String,
    fail_closed: bool,
    /// An expression reads `namespaceObject`.
    reads_namespace: bool,
    /// Validations left out because they use `authorizer` (indexes).
    authorizer: Vec<usize>,
    constraints: Resources,
    match_conditions: Vec<(String, Program)>,
    variables: Vec<(String, Program)>,
    validations: Vec<Validation>,
    /// `(group, kind)` of the parameters.
    param_kind: Option<(String, String)>,
}

/// A parameter object: namespace (as written), name, labels, value.
#[derive(Debug)]
struct Param {
    namespace: Option<String>,
    name: String,
    labels: Labels,
    value: serde_json::Value,
}

#[derive(Debug)]
struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<LabelSelector>,
    deny_if_missing: bool,
}

/// A binding of a policy: a rule of the scan.
#[derive(Debug)]
pub struct Binding {
    pub rule: &'static Rule,
    pub origin: String,
    pub line: u32,
    name: String,
    policy: Arc<Policy>,
    resources: Option<Resources>,
    param_ref: Option<ParamRef>,
    params: Arc<Vec<Param>>,
}

impl Binding {
    /// Does the binding (and its policy) match the object? `Err` when it cannot be told.
    pub fn matches(&self, v: &ObjectView<'_>) -> Result<bool, Problem> {
        let resource = v.resource();
        Ok(self.policy.constraints.matches(v, &resource, true)?
            && match &self.resources {
                Some(r) => r.matches(v, &resource, false)?,
                None => true,
            })
    }

    pub fn fail_closed(&self) -> bool {
        self.policy.fail_closed
    }

    /// What the binding needs at admission besides the request.
    pub fn needs(&self) -> AdmissionNeed {
        AdmissionNeed {
            rule: self.rule.id,
            namespace: self.policy.reads_namespace
                || self.policy.constraints.needs_namespace()
                || self
                    .resources
                    .as_ref()
                    .is_some_and(Resources::needs_namespace),
            params: self
                .policy
                .param_kind
                .as_ref()
                .map(|(g, k)| (param_kind_name(g, k), self.params.len())),
            fail_closed: self.policy.fail_closed,
        }
    }

    /// The finding of an object this binding could not judge under `failurePolicy: Fail`.
    pub fn unevaluable_message(&self, detail: &str) -> String {
        format!(
            "ValidatingAdmissionPolicy '{}' with binding '{}' denied request: {detail} (failurePolicy: Fail)",
            self.policy.name, self.name
        )
    }

    /// The messages of the validations that fail for this object (with each parameter object
    /// the binding selects), and what could not be evaluated: under `failurePolicy: Fail` the
    /// messages say it too. `strict` (admission) also reports what is diagnosed once when
    /// loaded offline: parameters of a kind of which none was given, and validations using
    /// `authorizer`.
    pub fn evaluate(&self, v: &ObjectView<'_>, strict: bool) -> Verdict {
        let prefix = format!(
            "ValidatingAdmissionPolicy '{}' with binding '{}' denied request",
            self.policy.name, self.name
        );
        let params: Vec<Option<&serde_json::Value>> = match &self.param_ref {
            None => vec![None],
            Some(r) if strict && self.params.is_empty() => {
                let kind = self
                    .policy
                    .param_kind
                    .as_ref()
                    .map_or_else(String::new, |(g, k)| param_kind_name(g, k));
                return self.unevaluable(Problem {
                    reason: "params",
                    detail: format!(
                        "no {kind} parameter object was given with --policy ({}); the webhook does not read parameters from the cluster",
                        r.describe()
                    ),
                });
            }
            Some(r) => {
                let found: Vec<Option<&serde_json::Value>> = self
                    .params
                    .iter()
                    .filter(|p| r.selects(p, v))
                    .map(|p| Some(&p.value))
                    .collect();
                if found.is_empty() {
                    if r.deny_if_missing {
                        return Verdict::messages(vec![format!(
                            "{prefix}: no params found for policy binding with `Deny` parameterNotFoundAction ({})",
                            r.describe()
                        )]);
                    }
                    return Verdict::default();
                }
                found
            }
        };
        let mut messages = Vec::new();
        let mut problem = None;
        for param in params {
            match self.policy.run(v, param) {
                Ok(failed) => messages.extend(failed.into_iter().map(|m| format!("{prefix}: {m}"))),
                Err(p) if self.policy.fail_closed => {
                    messages.push(format!("{prefix}: {} (failurePolicy: Fail)", p.detail));
                    problem.get_or_insert(p);
                }
                Err(p) => return self.unevaluable(p),
            }
        }
        if strict && messages.is_empty() && problem.is_none() && !self.policy.authorizer.is_empty()
        {
            let p = Problem {
                reason: "authorizer",
                detail: format!(
                    "validation {} uses `authorizer`, which the webhook cannot evaluate",
                    self.policy
                        .authorizer
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return self.unevaluable(p);
        }
        Verdict { messages, problem }
    }

    /// The verdict on an object this binding could not judge: a message under `Fail`.
    pub fn unevaluable(&self, problem: Problem) -> Verdict {
        Verdict {
            messages: if self.policy.fail_closed {
                vec![self.unevaluable_message(&problem.detail)]
            } else {
                Vec::new()
            },
            problem: Some(problem),
        }
    }
}

/// `ConfigMap` for the core group, `Kind.group` otherwise.
fn param_kind_name(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    }
}

impl ParamRef {
    fn selects(&self, p: &Param, v: &ObjectView<'_>) -> bool {
        let ns_ok = match (&self.namespace, &p.namespace) {
            (Some(want), have) => have.as_deref().unwrap_or("default") == want,
            // Without a namespace in the reference, namespaced parameters come from the
            // namespace of the object under review; cluster-scoped ones need none.
            (None, None) => true,
            (None, Some(have)) => v.namespace == Some(have.as_str()),
        };
        let which = match (&self.name, &self.selector) {
            (Some(name), _) => *name == p.name,
            (None, Some(sel)) => sel.matches(&p.labels),
            (None, None) => false,
        };
        ns_ok && which
    }

    fn describe(&self) -> String {
        match (&self.name, &self.namespace) {
            (Some(n), Some(ns)) => format!("paramRef {ns}/{n}"),
            (Some(n), None) => format!("paramRef {n}"),
            (None, _) => "paramRef selector".to_owned(),
        }
    }
}

impl Policy {
    /// The messages of the failing validations, or the first evaluation error.
    fn run(
        &self,
        v: &ObjectView<'_>,
        param: Option<&serde_json::Value>,
    ) -> Result<Vec<String>, Problem> {
        let namespace_object = v.namespace_object();
        if self.reads_namespace
            && let Err(detail) = &namespace_object
        {
            return Err(Problem {
                reason: "namespace_labels",
                detail: format!("it reads namespaceObject: {detail}"),
            });
        }
        let evaluation = |detail: String| Problem {
            reason: "evaluation",
            detail,
        };
        let base = v.cel_base.get_or_init(|| {
            let mut base = root_context().new_inner_scope();
            base.add_variable_from_value("object", to_cel(v.json()));
            base.add_variable_from_value(
                "oldObject",
                v.request
                    .old_object
                    .as_ref()
                    .map_or(cel::Value::Null, to_cel),
            );
            base.add_variable_from_value("request", request(v));
            base.add_variable_from_value(
                "namespaceObject",
                namespace_object
                    .ok()
                    .flatten()
                    .as_ref()
                    .map_or(cel::Value::Null, to_cel),
            );
            base
        });
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("params", param.map_or(cel::Value::Null, to_cel));
        // Variables, in order: each may read the ones before it.
        let mut vars: HashMap<Key, cel::Value> = HashMap::new();
        for (name, program) in &self.variables {
            let mut scope = ctx.new_inner_scope();
            if !vars.is_empty() {
                scope.add_variable_from_value("variables", map(vars.clone()));
            }
            match program.execute(&scope) {
                Ok(value) => {
                    vars.insert(Key::String(Arc::new(name.clone())), value);
                }
                // Kubernetes evaluates variables lazily: an error only matters if used.
                Err(_) => continue,
            }
        }
        ctx.add_variable_from_value("variables", map(vars));
        for (name, program) in &self.match_conditions {
            match program.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => return Ok(Vec::new()),
                Ok(other) => {
                    return Err(Problem {
                        reason: "match_conditions",
                        detail: format!("matchCondition '{name}' returned {other:?}, not a bool"),
                    });
                }
                Err(e) => {
                    return Err(Problem {
                        reason: "match_conditions",
                        detail: format!("matchCondition '{name}' resulted in error: {e}"),
                    });
                }
            }
        }
        let mut failed = Vec::new();
        for val in &self.validations {
            match val.program.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => {}
                Ok(cel::Value::Bool(false)) => {
                    let message = val
                        .message_program
                        .as_ref()
                        .and_then(|p| match p.execute(&ctx) {
                            Ok(cel::Value::String(s)) if !s.trim().is_empty() => {
                                Some(s.to_string())
                            }
                            _ => None,
                        })
                        .or_else(|| val.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", val.expression));
                    failed.push(match &val.reason {
                        Some(r) if r != "Invalid" => format!("{message} (reason: {r})"),
                        _ => message,
                    });
                }
                Ok(other) => {
                    return Err(evaluation(format!(
                        "expression '{}' returned {other:?}, not a bool",
                        val.expression
                    )));
                }
                Err(e) => {
                    return Err(evaluation(format!(
                        "expression '{}' resulted in error: {e}",
                        val.expression
                    )));
                }
            }
        }
        Ok(failed)
    }
}

thread_local! {
    /// The CEL functions, registered once per thread (a context is not shared across threads).
    static ROOT: &'static cel::Context<'static> =
        Box::leak(Box::new(cel::Context::default().with_all()));
}

fn root_context() -> &'static cel::Context<'static> {
    ROOT.with(|r| *r)
}

fn request(v: &ObjectView<'_>) -> cel::Value {
    to_cel(&serde_json::json!({
        "kind": {"group": v.group, "version": v.version, "kind": v.object.kind},
        "resource": {"group": v.group, "version": v.version, "resource": v.resource()},
        "name": v.object.name,
        "namespace": v.namespace.unwrap_or(""),
        "operation": v.request.operation,
        "userInfo": {"username": v.request.username, "uid": v.request.uid, "groups": v.request.groups},
        "dryRun": v.request.dry_run,
    }))
}

fn map(m: HashMap<Key, cel::Value>) -> cel::Value {
    cel::Value::Map(Map { map: Arc::new(m) })
}

/// JSON → CEL. Map keys stay as written (`labels['app.kubernetes.io/name']` works as in
/// Kubernetes, where label maps are not escaped); integers are `int` when they fit.
fn to_cel(v: &serde_json::Value) -> cel::Value {
    match v {
        serde_json::Value::Null => cel::Value::Null,
        serde_json::Value::Bool(b) => cel::Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => cel::Value::List(Arc::new(a.iter().map(to_cel).collect())),
        serde_json::Value::Object(o) => map(o
            .iter()
            .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
            .collect()),
    }
}

/// Reads the policies, then their bindings (with the parameter objects of their kind).
pub fn load(
    objects: &[Object],
    params: Vec<Object>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Binding> {
    let mut policies: BTreeMap<String, (Arc<Policy>, &Object)> = BTreeMap::new();
    for o in objects.iter().filter(|o| is_policy(o)) {
        match compile(o, diagnostics) {
            Ok(p) => {
                policies.insert(o.name.clone(), (Arc::new(p), o));
            }
            Err((ptr, e)) => diagnostics.push(diag(o, &ptr, DiagLevel::Error, e)),
        }
    }
    let mut by_kind: BTreeMap<(String, String), Arc<Vec<Param>>> = BTreeMap::new();
    for (_, (p, _)) in policies.iter() {
        if let Some(pk) = &p.param_kind {
            by_kind.entry(pk.clone()).or_insert_with(|| {
                Arc::new(
                    params
                        .iter()
                        .filter(|o| o.kind == pk.1 && o.group() == pk.0)
                        .map(|o| Param {
                            namespace: o.namespace.clone(),
                            name: o.name.clone(),
                            labels: o.labels(),
                            value: o.root.to_json(),
                        })
                        .collect(),
                )
            });
        }
    }
    let mut bindings = Vec::new();
    for o in objects.iter().filter(|o| is_binding(o)) {
        let spec = o.root.get("spec");
        let Some(policy_name) = spec.and_then(|s| s.get("policyName")).and_then(Node::text) else {
            diagnostics.push(diag(
                o,
                "/spec",
                DiagLevel::Error,
                format!("binding {} has no spec.policyName", o.name),
            ));
            continue;
        };
        let Some((policy, _)) = policies.get(policy_name) else {
            diagnostics.push(diag(
                o,
                "/spec/policyName",
                DiagLevel::Warning,
                format!(
                    "binding {} names ValidatingAdmissionPolicy `{policy_name}`, which is not in the input (or could not be read); it is not evaluated",
                    o.name
                ),
            ));
            continue;
        };
        let actions = matching::strings(spec.and_then(|s| s.get("validationActions")));
        if actions.is_empty() {
            diagnostics.push(diag(
                o,
                "/spec",
                DiagLevel::Error,
                format!(
                    "binding {} has no validationActions (Deny, Warn, Audit); the API server rejects it",
                    o.name
                ),
            ));
            continue;
        }
        let implied = if actions.iter().any(|a| a == "Deny") {
            Severity::High
        } else if actions.iter().any(|a| a == "Warn") {
            Severity::Medium
        } else {
            Severity::Info
        };
        let severity = severity_of(o, implied).unwrap_or_else(|e| {
            diagnostics.push(diag(
                o,
                "/metadata/annotations",
                DiagLevel::Error,
                format!("kubeharden.io/severity: {e}"),
            ));
            implied
        });
        let param_ref = spec.and_then(|s| s.get("paramRef")).filter(|n| n.is_map());
        if policy.param_kind.is_some() && param_ref.is_none() {
            diagnostics.push(diag(
                o,
                "/spec",
                DiagLevel::Error,
                format!(
                    "binding {}: policy {policy_name} has a paramKind but the binding has no paramRef; the API server fails every request it matches",
                    o.name
                ),
            ));
        }
        let param_ref = param_ref.map(|r| ParamRef {
            name: r.get("name").and_then(Node::text).map(str::to_owned),
            namespace: r.get("namespace").and_then(Node::text).map(str::to_owned),
            selector: matching::selector(r.get("selector")),
            deny_if_missing: r.get("parameterNotFoundAction").and_then(Node::text) != Some("Allow"),
        });
        let params = policy
            .param_kind
            .as_ref()
            .and_then(|k| by_kind.get(k).cloned())
            .unwrap_or_default();
        let rule = make_rule(RuleSpec {
            id: format!("vap/{policy_name}/{}", o.name),
            severity,
            summary: format!("ValidatingAdmissionPolicy {policy_name} (binding {})", o.name),
            rationale: format!(
                "Your ValidatingAdmissionPolicy {policy_name}, bound by {} from {}:{} with validationActions [{}], evaluated offline with the Kubernetes CEL libraries.",
                o.name,
                o.source.name,
                o.root.pos.line,
                actions.join(", ")
            ),
            remedy: "Change the object so that the policy's validations hold (see the message), or narrow the binding's matchResources.".into(),
        });
        bindings.push(Binding {
            rule,
            origin: o.source.name.clone(),
            line: o.root.pos.line,
            name: o.name.clone(),
            policy: policy.clone(),
            resources: spec
                .and_then(|s| s.get("matchResources"))
                .filter(|n| n.is_map())
                .map(Resources::parse),
            param_ref,
            params,
        });
    }
    bindings
}

/// Compiles a policy's expressions. `Err` (pointer, message) leaves the policy out.
fn compile(o: &Object, diagnostics: &mut Vec<Diagnostic>) -> Result<Policy, (String, String)> {
    let spec = o
        .root
        .get("spec")
        .ok_or_else(|| ("".to_owned(), format!("policy {} has no spec", o.name)))?;
    let constraints = spec
        .get("matchConstraints")
        .filter(|n| n.is_map())
        .map(Resources::parse)
        .ok_or_else(|| {
            (
                "/spec".to_owned(),
                format!("policy {} has no matchConstraints", o.name),
            )
        })?;
    let program = |ptr: String, src: &str| -> Result<Program, (String, String)> {
        Program::compile(src).map_err(|e| {
            (
                ptr,
                format!("policy {}: CEL does not parse: `{src}`: {e}", o.name),
            )
        })
    };
    let named = |key: &str| -> Result<Vec<(String, Program)>, (String, String)> {
        spec.get(key)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let name = n.get("name").and_then(Node::text).unwrap_or("").to_owned();
                let src = n.get("expression").and_then(Node::text).unwrap_or("");
                Ok((name, program(format!("/spec/{key}/{i}/expression"), src)?))
            })
            .collect()
    };
    let match_conditions = named("matchConditions")?;
    let variables = named("variables")?;
    let mut reads_namespace = match_conditions
        .iter()
        .chain(&variables)
        .any(|(_, p)| p.references().has_variable("namespaceObject"));
    let mut authorizer = Vec::new();
    let mut validations = Vec::new();
    for (i, n) in spec
        .get("validations")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let ptr = format!("/spec/validations/{i}");
        let expression = n.get("expression").and_then(Node::text).unwrap_or("");
        let compiled = program(format!("{ptr}/expression"), expression)?;
        if compiled.references().has_variable("authorizer") {
            authorizer.push(i);
            diagnostics.push(diag(
                o,
                &ptr,
                DiagLevel::Warning,
                format!(
                    "policy {}: validation {i} uses `authorizer`, which needs the API server; it is skipped offline",
                    o.name
                ),
            ));
            continue;
        }
        let message_program = match n.get("messageExpression").and_then(Node::text) {
            Some(src) => Some(program(format!("{ptr}/messageExpression"), src)?),
            None => None,
        };
        reads_namespace |= compiled.references().has_variable("namespaceObject")
            || message_program
                .as_ref()
                .is_some_and(|p| p.references().has_variable("namespaceObject"));
        validations.push(Validation {
            expression: expression.to_owned(),
            program: compiled,
            message: n.get("message").and_then(Node::text).map(str::to_owned),
            message_program,
            reason: n.get("reason").and_then(Node::text).map(str::to_owned),
        });
    }
    if spec
        .get("auditAnnotations")
        .is_some_and(|a| !a.items().is_empty())
    {
        diagnostics.push(diag(
            o,
            "/spec/auditAnnotations",
            DiagLevel::Note,
            format!(
                "policy {}: auditAnnotations are not evaluated offline",
                o.name
            ),
        ));
    }
    let param_kind = spec.get("paramKind").and_then(|pk| {
        let api = pk.get("apiVersion").and_then(Node::text)?;
        let kind = pk.get("kind").and_then(Node::text)?;
        Some((
            api.rsplit_once('/').map_or("", |(g, _)| g).to_owned(),
            kind.to_owned(),
        ))
    });
    Ok(Policy {
        name: o.name.clone(),
        fail_closed: spec.get("failurePolicy").and_then(Node::text) != Some("Ignore"),
        reads_namespace,
        authorizer,
        constraints,
        match_conditions,
        variables,
        validations,
        param_kind,
    })
}

fn diag(o: &Object, pointer: &str, level: DiagLevel, message: String) -> Diagnostic {
    Diagnostic::new(level, &o.source.name, Some(o.locate(pointer)), message)
}
