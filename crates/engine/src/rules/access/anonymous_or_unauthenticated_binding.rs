//! A binding grants permissions to anonymous requests, or more than discovery to every
//! authenticated identity.

use super::describe_hit;
use crate::analysis::rbac::{DISCOVERY_URLS, PUBLIC_INFO_URLS, Resolution, SubjectKind, beyond};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "anonymous-or-unauthenticated-binding",
    section: Section::Rule(5),
    severity: Severity::Critical,
    summary: "Binding grants access to anonymous users, or more than discovery to all authenticated users",
    rationale: "`system:anonymous` and the group `system:unauthenticated` are whoever can reach the \
        API server without credentials; the group `system:authenticated` is every identity with any \
        credential: every ServiceAccount token of every pod, every node, every user of a connected \
        identity provider (on some managed clusters, any account of that cloud). A binding to them \
        hands its role to the whole network or the whole cluster. The defaults grant only the \
        version and health endpoints to everyone, and API discovery and self-review to \
        authenticated identities; anything beyond that is a finding.",
    remedy: "Delete the binding, or bind the role to the specific Users, Groups or ServiceAccounts \
        that need it. Keep `--anonymous-auth=false` on the API server (or limit anonymous access to \
        the health endpoints with an AuthenticationConfiguration `anonymous.conditions`).",
    references: References {
        cis: &["5.1.2", "5.1.4"],
        trivy: &["KSV122"],
        kubescape: &["C-0262", "C-0265"],
        docs: &["https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles"],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for b in &rbac.bindings {
        for s in &b.subjects {
            let (who, anonymous) = match (s.kind, s.name.as_str()) {
                (SubjectKind::User, "system:anonymous") => ("every unauthenticated request", true),
                (SubjectKind::Group, "system:unauthenticated") => {
                    ("every unauthenticated request", true)
                }
                (SubjectKind::Group, "system:authenticated") => (
                    "every authenticated identity: all ServiceAccounts, nodes and users",
                    false,
                ),
                _ => continue,
            };
            let scope = b.scope();
            let grants = match rbac.resolve(b) {
                Resolution::Role(role) => {
                    let allowed = if anonymous {
                        PUBLIC_INFO_URLS
                    } else {
                        DISCOVERY_URLS
                    };
                    let Some(first) = beyond(rbac, role, allowed, !anonymous) else {
                        continue;
                    };
                    let mut hits = rbac.risks(role, scope);
                    if let Some(full) = hits.iter().find(|h| h.risk.id == "full-control").copied() {
                        hits = vec![full];
                    }
                    let what = if hits.is_empty() {
                        format!(
                            "`{}` ({})",
                            rbac.rule(first).describe(),
                            rbac.describe_rule(first, role)
                        )
                    } else {
                        hits.iter()
                            .map(|h| describe_hit(rbac, role, h))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    format!("{}, which allows {what}", role.describe())
                }
                Resolution::Platform => format!(
                    "{}, a platform role whose rules are not in the input",
                    b.describe_role_ref()
                ),
                Resolution::Missing => format!(
                    "{}, not in the input: whatever it grants when it is created goes to them",
                    b.describe_role_ref()
                ),
                Resolution::Invalid => continue,
            };
            emit.object(
                b.object,
                &s.pointer(),
                format!("{} binds {s} ({who}) {scope} to {grants}", b.describe()),
            );
        }
    }
}
