//! Rules: one small file each, grouped by the sections of the 15 hardening rules.
//! `access/` (rules 1-5), `pods/` (6-10), `network/` (11-12), `supply_chain/` (13-15), `runtime/`.

use crate::inventory::{Object, PodTemplate};
use crate::load::Document;
pub use crate::meta::{Evidence, References, Section, Severity};
use serde::Serialize;
use std::fmt;

mod context;
mod emit;
pub mod fix;
pub mod suppress;
pub use context::{
    AuditLogInput, Context, Derived, Facts, Model, NamespaceInfo, NamespaceLookup, RequestInfo,
    retained_kind,
};
pub use emit::{Emitter, IGNORE_ANNOTATION, ObjectCache, ignore_list, without_snippets};

pub mod access;
pub mod audit_log;
pub mod cloud;
pub mod control_plane;
pub mod examples;
pub mod network;
pub mod pods;
pub mod runtime;
pub mod supply_chain;

/// A cross-object check: the context, the facts with their derived models, the emitter.
pub type InventoryCheck = fn(&Context, &Derived<'_>, &mut Emitter);

/// What a rule looks at.
pub enum Check {
    /// Every object of the input.
    Object(fn(&Context, &Object, &mut Emitter)),
    /// Every pod template (Pods and workload kinds).
    PodTemplate(fn(&Context, &PodTemplate, &mut Emitter)),
    /// Every mapping of the input that is not a Kubernetes object (Helm values, a Docker
    /// `config.json`…): read for what is committed in it, never for hardening.
    Document(fn(&Context, &Document, &mut Emitter)),
    /// The inventory as a whole (cross-object rules), after all inputs are read, with the
    /// derived models the check uses (built once, freed after their last user).
    Inventory(InventoryCheck, &'static [Model]),
    /// The API server's audit log, as analysed by [`crate::analysis::audit_log`]: run by
    /// [`crate::scan::scan_audit_log`] (`audit-log analyze`, `rbac suggest`); a scan of objects
    /// never runs it.
    AuditLog(fn(&AuditLogInput<'_>, &mut Emitter)),
    /// A user's policy (Gatekeeper constraint, ValidatingAdmissionPolicy binding), run per object
    /// by the [`CustomPolicies`] of the scan's [`Context`].
    Custom,
}

/// Policies written by users, evaluated per object next to the built-in rules (see the
/// `kubeharden-policy` crate). The engine knows only this interface: each policy is a [`Rule`]
/// with [`Check::Custom`] (leaked once when the policies are loaded, so findings can name it
/// like any built-in rule), and its evaluation pushes findings through an [`Emitter`] of that
/// rule.
pub trait CustomPolicies: Send + Sync + fmt::Debug {
    /// Every rule of the set, one per policy.
    fn rules(&self) -> &[&'static Rule];
    /// Evaluates the policies whose rule is in `selected` against one object. Returns the
    /// emitters that have findings (active or suppressed).
    fn check(&self, ctx: &Context, object: &Object, selected: &[&Rule]) -> Vec<Emitter<'static>>;
    /// [`CustomPolicies::check`] for a front end that must say which policies it could not
    /// evaluate on this object (the webhook: a warning, a log line and a metric per request),
    /// pushed to `unevaluable`. Those failing closed also give a finding saying why.
    fn check_reporting(
        &self,
        ctx: &Context,
        object: &Object,
        selected: &[&Rule],
        unevaluable: &mut Vec<Unevaluable>,
    ) -> Vec<Emitter<'static>> {
        let _ = unevaluable;
        self.check(ctx, object, selected)
    }
    /// What each policy needs at admission that an AdmissionReview does not carry (the
    /// namespace's labels, parameter objects); for the webhook's start-up log and lookups.
    fn admission_needs(&self) -> Vec<AdmissionNeed> {
        Vec::new()
    }
}

/// A user's policy that could not be evaluated on an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unevaluable {
    /// The policy's rule id.
    pub rule: &'static str,
    /// Why, in one word (a metric label): `namespace_labels`, `params`, `match_conditions`,
    /// `authorizer`, `evaluation`.
    pub reason: &'static str,
    /// Why, for people.
    pub detail: String,
    /// The policy's `failurePolicy` is `Fail`: the object gets a finding saying why (denied at
    /// admission); otherwise (`Ignore`) it is admitted without this policy, with a warning.
    pub fail_closed: bool,
}

/// What one policy needs at admission besides the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionNeed {
    pub rule: &'static str,
    /// The labels (or the object) of the request's Namespace: a `namespaceSelector`, or CEL
    /// reading `namespaceObject`.
    pub namespace: bool,
    /// Parameter objects of this kind (`paramKind`), and how many were given.
    pub params: Option<(String, usize)>,
    /// `failurePolicy: Fail`.
    pub fail_closed: bool,
}

/// A rule: metadata a user reads with `kubeharden explain`, and its check.
#[derive(Serialize)]
pub struct Rule {
    pub id: &'static str,
    #[serde(rename = "seed")]
    pub section: Section,
    pub severity: Severity,
    pub summary: &'static str,
    pub rationale: &'static str,
    pub remedy: &'static str,
    pub references: References,
    pub evidence: &'static [Evidence],
    /// The rule's fix (`kubeharden fix`), if it has one.
    #[serde(skip)]
    pub fix: Option<&'static fix::Fix>,
    #[serde(skip)]
    pub check: Check,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("seed", &self.section)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

/// Every built-in rule, in seed order.
pub fn all() -> &'static [&'static Rule] {
    static ALL: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut rules: Vec<&'static Rule> = [
            access::RULES,
            audit_log::RULES,
            cloud::RULES,
            control_plane::RULES,
            pods::RULES,
            network::RULES,
            supply_chain::RULES,
            runtime::RULES,
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect();
        rules.sort_by_key(|r| r.section);
        rules
    })
}

/// Ids of the rules made from the user's policies (`gatekeeper/<kind>/<name>`,
/// `vap/<policy>/<binding>`): known only once the policies are read, so configs and flags accept
/// them (a trailing `*` names several).
pub fn is_custom_id(id: &str) -> bool {
    id.starts_with("gatekeeper/") || id.starts_with("vap/")
}

pub fn find(id: &str) -> Option<&'static Rule> {
    all().iter().copied().find(|r| r.id == id)
}
