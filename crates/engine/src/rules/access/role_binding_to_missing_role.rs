//! A binding references a role that is neither in the input nor provided by the platform.

use crate::analysis::rbac::{BindingKind, Resolution};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "role-binding-to-missing-role",
    section: Section::Rule(2),
    severity: Severity::Medium,
    summary: "Binding references a Role or ClusterRole that does not exist",
    rationale: "A binding to a missing role grants nothing today, but it is a standing grant to its \
        subjects: whoever later creates a role of that name (a chart, an operator, anyone allowed to \
        create Roles in the namespace) silently gives those subjects its permissions, which review \
        of the role alone will not reveal. It is also usually a typo or a leftover of a removed \
        component. Assessed only when the input holds role definitions; the built-in roles and \
        names with the reserved `system:` prefix are known to exist.",
    remedy: "Fix the `roleRef` name (or kind: `Role` vs `ClusterRole`), add the role to the same \
        manifests, or delete the binding. `roleRef` is immutable: delete and recreate the binding.",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for b in &rbac.bindings {
        match rbac.resolve(b) {
            // With no role definitions at all the input is a partial view (bindings only): the
            // roles may well be defined elsewhere.
            Resolution::Missing if !rbac.has_role_objects => {}
            Resolution::Missing => emit.object(
                b.object,
                "/roleRef/name",
                format!(
                    "{} references {}, which is not in the input and is not a built-in role: it \
                     grants nothing until a role of that name is created, then grants it to {} \
                     subject(s)",
                    b.describe(),
                    b.describe_role_ref(),
                    b.subjects.len()
                ),
            ),
            Resolution::Invalid if !b.role_api_group_valid() => emit.object(
                b.object,
                "/roleRef/apiGroup",
                format!(
                    "{} has an invalid roleRef (apiGroup \"{}\": the only supported value is \
                     `rbac.authorization.k8s.io`): the API server rejects it",
                    b.describe(),
                    b.role_api_group
                ),
            ),
            Resolution::Invalid => {
                let why = if b.kind == BindingKind::ClusterRoleBinding {
                    "a ClusterRoleBinding can only reference a ClusterRole"
                } else {
                    "roleRef.kind must be Role or ClusterRole"
                };
                emit.object(
                    b.object,
                    "/roleRef/kind",
                    format!(
                        "{} has an invalid roleRef ({why}): the API server rejects it",
                        b.describe()
                    ),
                );
            }
            Resolution::Role(_) | Resolution::Platform => {}
        }
    }
}
