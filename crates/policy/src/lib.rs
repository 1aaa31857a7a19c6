//! The user's own policies, offline: Gatekeeper ConstraintTemplates and Constraints (Rego, with
//! regorus) and ValidatingAdmissionPolicies with their bindings (CEL, with the Kubernetes CEL
//! libraries of kube-cel). Each Constraint and each policy binding becomes a rule of the scan
//! (`gatekeeper/<kind>/<name>`, `vap/<policy>/<binding>`) whose findings flow into every report,
//! the scorecard ("custom policies"), suppressions, baselines and the webhook like any built-in
//! rule's. See `docs/custom-policies.md`.
//!
//! The engine knows these policies only through [`CustomPolicies`]; this crate keeps regorus and
//! CEL out of it.

mod gatekeeper;
mod matching;
mod opa_compat;
mod vap;

use kubeharden_engine::finding::Severity;
use kubeharden_engine::inventory::Object;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules::Context;
use kubeharden_engine::rules::Emitter;
use kubeharden_engine::rules::{
    AdmissionNeed, Check, CustomPolicies, Evidence, References, Rule, Section, Unevaluable,
};
use kubeharden_engine::scan;
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Scalars that mark the documents holding policies (a cheap pre-filter before parsing).
const WORDS: &[&str] = &[
    "ConstraintTemplate",
    "gatekeeper",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// Is this object a policy this crate reads (template, constraint, VAP or binding)?
pub fn is_policy_object(o: &Object) -> bool {
    gatekeeper::is_template(o)
        || gatekeeper::is_constraint(o)
        || vap::is_policy(o)
        || vap::is_binding(o)
}

/// Is this object what puts a policy in force (a Gatekeeper constraint, a policy binding)?
pub fn is_enforcing_object(o: &Object) -> bool {
    gatekeeper::is_constraint(o) || vap::is_binding(o)
}

/// The constraints and policy bindings among `inputs` (a cheap pre-filter, then parsing only the
/// documents that may hold one): what `scan` reports as objects, not enforced, by default; with
/// the namespaces of the inputs, read at the same time for the scan ([`scan::prescan`]).
pub fn prescan(inputs: &[Input]) -> scan::Prescan {
    scan::prescan(inputs, WORDS, &is_enforcing_object)
}

/// The policies of a scan, each with its rule.
#[derive(Debug, Default)]
pub struct Policies {
    rules: Vec<&'static Rule>,
    constraints: Vec<gatekeeper::Constraint>,
    bindings: Vec<vap::Binding>,
    /// Evaluation errors by rule id.
    errors: Mutex<BTreeMap<&'static str, EvalErrors>>,
}

/// The evaluation errors of one policy: how many objects, the first message, and where the
/// policy is (origin, line).
#[derive(Debug)]
struct EvalErrors {
    count: usize,
    first: String,
    origin: String,
    line: u32,
}

/// Policies loaded, and what was wrong with them.
#[derive(Debug, Default)]
pub struct Loaded {
    pub policies: Policies,
    pub diagnostics: Vec<Diagnostic>,
}

impl Policies {
    /// Reads the policies of `inputs` (and the parameter objects their bindings name). Broken
    /// templates and policies are diagnosed (file, line, what is wrong) and left out.
    pub fn from_inputs(inputs: &[Input]) -> Loaded {
        Self::from_sources(inputs, &[])
    }

    /// Reads the policies of `sources` only (`--policy`); the parameter objects their bindings
    /// name and the `data.inventory` of referential templates come from `sources` and from
    /// `scanned`, whose own policies are not read (they are objects of the scan, not enforced).
    pub fn from_sources(sources: &[Input], scanned: &[Input]) -> Loaded {
        let objects = scan::collect_objects(sources, WORDS, &is_policy_object);
        let all: Vec<Input> = sources.iter().chain(scanned).cloned().collect();
        let inputs = all.as_slice();
        let param_kinds = vap::param_kinds(&objects);
        let mut params = Vec::new();
        if !param_kinds.is_empty() {
            let words: Vec<&str> = param_kinds.iter().map(|(_, k)| k.as_str()).collect();
            params = scan::collect_objects(inputs, &words, &|o: &Object| {
                param_kinds
                    .iter()
                    .any(|(g, k)| o.kind == *k && o.group() == g)
            });
        }
        // Referential templates read `data.inventory`: every object of the inputs, read again
        // and held as JSON during the scan, only when a template needs it.
        let referential = objects
            .iter()
            .any(|o| gatekeeper::is_template(o) && o.source.text.contains("data.inventory"));
        let inventory = referential.then(|| {
            let all =
                scan::collect_objects(inputs, &["apiVersion"], &|o: &Object| !is_policy_object(o));
            inventory(&all)
        });
        Self::build(objects, params, inventory.as_ref())
    }

    /// Builds the policies from objects already read: `objects` holds the templates,
    /// constraints, policies and bindings; `params` the objects bindings may name as parameters.
    /// Templates that read `data.inventory` are not evaluated (no inputs, no inventory).
    pub fn from_objects(objects: Vec<Object>, params: Vec<Object>) -> Loaded {
        Self::build(objects, params, None)
    }

    fn build(
        objects: Vec<Object>,
        params: Vec<Object>,
        inventory: Option<&regorus::Value>,
    ) -> Loaded {
        let mut diagnostics = Vec::new();
        let constraints = gatekeeper::load(&objects, inventory, &mut diagnostics);
        let bindings = vap::load(&objects, params, &mut diagnostics);
        let mut rules: Vec<&'static Rule> = constraints
            .iter()
            .map(|c| c.rule)
            .chain(bindings.iter().map(|b| b.rule))
            .collect();
        rules.sort_by_key(|r| r.id);
        rules.dedup_by_key(|r| r.id);
        Loaded {
            policies: Policies {
                rules,
                constraints,
                bindings,
                errors: Mutex::default(),
            },
            diagnostics,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Evaluation errors seen during the scan, one warning per policy (with the number of objects
    /// it could not judge and the first error), at the policy's own location.
    pub fn take_diagnostics(&self) -> Vec<Diagnostic> {
        let errors = std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner()));
        errors
            .into_iter()
            .map(|(id, e)| {
                Diagnostic::new(
                    DiagLevel::Warning,
                    &e.origin,
                    Some(kubeharden_engine::yaml::Pos {
                        line: e.line,
                        col: 1,
                    }),
                    format!(
                        "policy `{id}` could not be evaluated on {} object(s); first error: {}",
                        e.count, e.first
                    ),
                )
            })
            .collect()
    }

    fn record_error(&self, rule: &'static Rule, origin: &str, line: u32, message: String) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        errors
            .entry(rule.id)
            .or_insert_with(|| EvalErrors {
                count: 0,
                first: message,
                origin: origin.to_owned(),
                line,
            })
            .count += 1;
    }
}

/// Why a policy could not be evaluated on an object (see [`Unevaluable`]).
#[derive(Debug)]
pub(crate) struct Problem {
    pub reason: &'static str,
    pub detail: String,
}

/// One policy's verdict on an object: the messages of its findings (under `failurePolicy:
/// Fail` they include what could not be evaluated) and what could not be evaluated.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub messages: Vec<String>,
    pub problem: Option<Problem>,
}

impl Verdict {
    fn messages(messages: Vec<String>) -> Verdict {
        Verdict {
            messages,
            problem: None,
        }
    }
}

/// Where a policy is, and how it fails.
struct Source<'p> {
    rule: &'static Rule,
    origin: &'p str,
    line: u32,
    fail_closed: bool,
}

impl Policies {
    /// One policy's verdict on an object: a finding per message; what could not be evaluated
    /// goes to `unevaluable` when the front end reports it (the webhook), else, when it fails
    /// open, to the warnings of the scan (one per policy, at `origin:line`).
    fn judge(
        &self,
        source: Source<'_>,
        verdict: Verdict,
        object: &Object,
        out: &mut Vec<Emitter<'static>>,
        unevaluable: &mut Option<&mut Vec<Unevaluable>>,
    ) {
        if !verdict.messages.is_empty() {
            let mut emit = Emitter::new(source.rule);
            for m in verdict.messages {
                emit_message(&mut emit, object, m);
            }
            out.push(emit);
        }
        let Some(problem) = verdict.problem else {
            return;
        };
        match unevaluable {
            Some(sink) => sink.push(Unevaluable {
                rule: source.rule.id,
                reason: problem.reason,
                detail: problem.detail,
                fail_closed: source.fail_closed,
            }),
            None if !source.fail_closed => {
                self.record_error(source.rule, source.origin, source.line, problem.detail)
            }
            None => {}
        }
    }

    fn run(
        &self,
        ctx: &Context,
        object: &Object,
        selected: &[&Rule],
        mut unevaluable: Option<&mut Vec<Unevaluable>>,
    ) -> Vec<Emitter<'static>> {
        // Policy objects themselves are configuration, not subjects.
        if is_policy_object(object) {
            return Vec::new();
        }
        let strict = unevaluable.is_some();
        let is_selected = |r: &'static Rule| selected.iter().any(|s| std::ptr::eq(*s, r));
        let view = matching::ObjectView::new(ctx, object);
        let mut out = Vec::new();
        for c in self.constraints.iter().filter(|c| is_selected(c.rule)) {
            let verdict = match c.matches(&view) {
                Ok(false) => continue,
                Ok(true) => match c.evaluate(&view) {
                    Ok(messages) => Verdict::messages(messages),
                    Err(problem) => Verdict {
                        messages: Vec::new(),
                        problem: Some(problem),
                    },
                },
                Err(problem) => Verdict {
                    messages: Vec::new(),
                    problem: Some(problem),
                },
            };
            let source = Source {
                rule: c.rule,
                origin: &c.origin,
                line: c.line,
                fail_closed: false,
            };
            self.judge(source, verdict, object, &mut out, &mut unevaluable);
        }
        for b in self.bindings.iter().filter(|b| is_selected(b.rule)) {
            let verdict = match b.matches(&view) {
                Ok(false) => continue,
                Ok(true) => b.evaluate(&view, strict),
                Err(problem) => b.unevaluable(problem),
            };
            let source = Source {
                rule: b.rule,
                origin: &b.origin,
                line: b.line,
                fail_closed: b.fail_closed(),
            };
            self.judge(source, verdict, object, &mut out, &mut unevaluable);
        }
        out
    }
}

impl CustomPolicies for Policies {
    fn rules(&self) -> &[&'static Rule] {
        &self.rules
    }

    fn check(&self, ctx: &Context, object: &Object, selected: &[&Rule]) -> Vec<Emitter<'static>> {
        self.run(ctx, object, selected, None)
    }

    fn check_reporting(
        &self,
        ctx: &Context,
        object: &Object,
        selected: &[&Rule],
        unevaluable: &mut Vec<Unevaluable>,
    ) -> Vec<Emitter<'static>> {
        self.run(ctx, object, selected, Some(unevaluable))
    }

    fn admission_needs(&self) -> Vec<AdmissionNeed> {
        self.constraints
            .iter()
            .map(|c| c.needs())
            .chain(self.bindings.iter().map(|b| b.needs()))
            .collect()
    }
}

/// A finding at the object, its fingerprint including the message: one policy may report
/// several distinct violations of the same object, and baselines must tell them apart.
fn emit_message(emit: &mut Emitter<'static>, object: &Object, message: String) {
    emit.object(object, "", message);
    if let Some(f) = emit.findings.last_mut() {
        f.fingerprint =
            kubeharden_engine::finding::fingerprint(&[f.rule, &object.identity(), &f.message]);
    }
}

/// Gatekeeper's `data.inventory` over objects: `namespace.<ns>.<apiVersion>.<kind>.<name>` for
/// namespaced objects (`default` when the manifest names none, written into the object),
/// `cluster.<apiVersion>.<kind>.<name>` for the others.
fn inventory(objects: &[Object]) -> regorus::Value {
    use serde_json::{Map, Value};
    fn child<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
        let v = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !v.is_object() {
            *v = Value::Object(Map::new());
        }
        v.as_object_mut().expect("an object")
    }
    let mut namespaced = Map::new();
    let mut cluster = Map::new();
    for o in objects {
        let mut json = o.root.to_json();
        let by_version = match o.effective_namespace() {
            Some(ns) => {
                if let Some(meta) = json.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.entry("namespace").or_insert_with(|| Value::from(ns));
                }
                child(&mut namespaced, ns)
            }
            None => &mut cluster,
        };
        child(child(by_version, &o.api_version), &o.kind).insert(o.name.clone(), json);
    }
    serde_json::json!({"inventory": {"namespace": namespaced, "cluster": cluster}}).into()
}

/// Leaks a string for the `'static` metadata of a rule made at load time (a handful per scan).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// What a policy rule needs to be made.
struct RuleSpec {
    id: String,
    severity: Severity,
    summary: String,
    rationale: String,
    remedy: String,
}

/// A rule for one policy, leaked: it lives as long as the process, like the built-in ones.
fn make_rule(spec: RuleSpec) -> &'static Rule {
    Box::leak(Box::new(Rule {
        id: leak(spec.id),
        section: Section::Custom,
        severity: spec.severity,
        summary: leak(spec.summary),
        rationale: leak(spec.rationale),
        remedy: leak(spec.remedy),
        references: References::NONE,
        evidence: &[Evidence::Manifests],
        fix: None,
        check: Check::Custom,
    }))
}

/// `kubeharden.io/severity` on the constraint or binding, else what its action implies.
fn severity_of(object: &Object, implied: Severity) -> Result<Severity, String> {
    match object.annotation("kubeharden.io/severity") {
        Some(s) => s.parse(),
        None => Ok(implied),
    }
}
