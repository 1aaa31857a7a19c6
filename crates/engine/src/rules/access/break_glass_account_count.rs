//! Exactly one break-glass identity may hold cluster-admin; `system:masters` is never granted.

use super::human_cluster_admins;
use crate::analysis::rbac::{BREAK_GLASS_ANNOTATION, SubjectKind};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashSet;

pub static RULE: Rule = Rule {
    id: "break-glass-account-count",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "More than one human identity holds cluster-admin, or `system:masters` is bound",
    rationale: "Cluster-admin for people should exist once: a single break-glass account whose \
        credentials are sealed, whose use is alerted on and rotated afterwards. Each additional \
        admin identity is another credential that can leak without anyone noticing, and a Group \
        makes the count depend on an identity provider. The group `system:masters` is worse still: \
        the API server allows its members everything before RBAC or any webhook is consulted, so \
        deleting bindings does not revoke it; only the expiry of the client certificate or the \
        rotation of the cluster CA does.",
    remedy: "Remove the cluster-admin bindings of everyone but the break-glass User, and annotate \
        that binding `kubeharden.io/break-glass: \"true\"`. Never bind or issue certificates for \
        `system:masters` beyond the default `cluster-admin` binding (kubeadm ≥ 1.29 keeps it for \
        `super-admin.conf` only).",
    references: References {
        cis: &["5.1.1", "5.1.7"],
        kubescape: &["C-0246"],
        docs: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    let mut admins = human_cluster_admins(rbac);
    // Not the input's order: which binding carries the finding, and so its fingerprint, must not
    // change when documents are reordered.
    admins.sort_by(|a, b| {
        (&a.binding.name, &a.binding.namespace, a.subject.index).cmp(&(
            &b.binding.name,
            &b.binding.namespace,
            b.subject.index,
        ))
    });
    let mut identities: HashSet<(SubjectKind, &str)> = HashSet::new();
    let mut listed = Vec::new();
    for a in &admins {
        if identities.insert((a.subject.kind, a.subject.name.as_str())) {
            listed.push(format!("{} ({})", a.subject, a.binding.describe()));
        }
    }
    if let Some(first) = admins.first() {
        if identities.len() > 1 {
            emit.object(
                first.binding.object,
                &first.subject.pointer(),
                format!(
                    "{} human identities hold cluster-admin cluster-wide where exactly one \
                     break-glass account is expected: {}",
                    identities.len(),
                    listed.join(", ")
                ),
            );
        } else if first.subject.kind == SubjectKind::Group {
            emit.object(
                first.binding.object,
                &first.subject.pointer(),
                format!(
                    "the only cluster-admin identity is {} ({}): every member of the group, as \
                     decided by the identity provider, is a cluster-admin; make the break-glass \
                     identity a single User and annotate its binding `{BREAK_GLASS_ANNOTATION}: \
                     \"true\"`",
                    first.subject,
                    first.binding.describe()
                ),
            );
        }
    }
    for b in &rbac.bindings {
        let default_binding =
            b.is_bootstrap() || (b.name == "cluster-admin" && b.role_name == "cluster-admin");
        if default_binding {
            continue;
        }
        for s in &b.subjects {
            if s.kind == SubjectKind::Group && s.name == "system:masters" {
                emit.object(
                    b.object,
                    &s.pointer(),
                    format!(
                        "{} binds Group \"system:masters\": its members already bypass \
                         RBAC and every authorization webhook, and cannot be revoked by deleting \
                         bindings; anyone holding a client certificate with O=system:masters is an \
                         unrevocable cluster-admin",
                        b.describe()
                    ),
                );
            }
        }
    }
}
