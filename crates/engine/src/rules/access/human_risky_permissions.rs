//! A person or team (User or Group) is bound to permissions that let it escalate, read
//! credentials or run code.

use super::{describe_scope, risk_summary};
use crate::analysis::rbac::{Resolution, Scope};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashMap;

pub static RULE: Rule = Rule {
    id: "human-risky-permissions",
    section: Section::Rule(2),
    severity: Severity::High,
    summary: "User or Group is bound to risky permissions (secrets, pod creation, exec, escalation)",
    rationale: "The risky permissions of the catalogue are as dangerous in the hands of a person or \
        a team as in a service account's: reading Secrets yields other identities' credentials; \
        creating pods or workloads runs code as any service account of the namespace; exec, \
        attach and port-forward reach into running pods; bind, escalate, impersonate, token \
        requests, nodes/proxy, CSR approval and webhook configuration writes are direct paths to \
        cluster-admin; creating PersistentVolumes mounts the node's filesystem. A stolen \
        kubeconfig or OIDC session carries them, and a Group's membership is decided by the \
        identity provider. Reported at `high` cluster-wide and in `kube-system`, at `medium` in \
        other namespaces. Full control (cluster-admin or an equivalent) is reported by \
        human-bound-to-cluster-admin; the reserved `system:` identities by other rules.",
    remedy: "Grant people the verbs and resources their work needs, in the namespaces where they \
        need them (a RoleBinding to `view`, `edit` or a purpose-built role), and give the \
        dangerous rights (Secrets, exec, escalation) through a just-in-time elevation that expires.",
    references: References {
        cis: &[
            "5.1.2", "5.1.4", "5.1.8", "5.1.10", "5.1.11", "5.1.12", "5.1.13",
        ],
        docs: &["https://kubernetes.io/docs/concepts/security/rbac-good-practices/"],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    let mut described: HashMap<(usize, Scope), String> = HashMap::new();
    for b in &rbac.bindings {
        if b.is_bootstrap() || !b.subjects.iter().any(|s| s.is_human()) {
            continue;
        }
        let Resolution::Role(role) = rbac.resolve(b) else {
            continue;
        };
        let scope = b.scope();
        // Full control is human-bound-to-cluster-admin's finding.
        let admin = match scope {
            Scope::Cluster => rbac.is_cluster_admin(role),
            Scope::Namespace(_) => rbac.is_namespace_admin(role),
        };
        if admin {
            continue;
        }
        let what = described
            .entry((role.id, scope))
            .or_insert_with(|| risk_summary(rbac, role, scope));
        if what.is_empty() {
            continue;
        }
        let severity = match scope {
            Scope::Cluster | Scope::Namespace("kube-system") => Severity::High,
            Scope::Namespace(_) => Severity::Medium,
        };
        for s in b.subjects.iter().filter(|s| s.is_human()) {
            emit.object(
                b.object,
                &s.pointer(),
                format!(
                    "{s} can {what} {} through {} to {}",
                    describe_scope(scope),
                    b.describe(),
                    role.describe(),
                ),
            );
            if let Some(f) = emit.findings.last_mut() {
                f.severity = severity;
            }
        }
    }
}
