//! A person holds cluster-admin through EKS: `system:masters` in `aws-auth`, or an access entry
//! with `AmazonEKSClusterAdminPolicy`.

use crate::analysis::cloud::{aws_auth_ignored, cluster};
use crate::analysis::cloud_identity::admin_grants;
use crate::analysis::cloud_identity::is_aws_auth;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Derived, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "eks-human-cluster-admin",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "IAM user or role of a person holds cluster-admin through aws-auth or an EKS access entry",
    rationale: "On EKS, `system:masters` in the `aws-auth` ConfigMap and access entries with \
        `AmazonEKSClusterAdminPolicy` grant cluster-admin outside RBAC: no ClusterRoleBinding \
        shows it, `kubectl auth can-i` reviews miss it, and `system:masters` cannot be revoked \
        by any RBAC change. A person's standing grant turns every stolen AWS session into full \
        control of the cluster. Node roles and CI/deployment roles are automation and not \
        reported here; one principal named break-glass is allowed. An EKS cluster whose \
        authentication mode is `CONFIG_MAP` gives the IAM principal that created it \
        `system:masters` that no configuration shows and nothing can remove. With the \
        authentication mode `API`, EKS no longer reads `aws-auth`: its grants are then not \
        reported.",
    remedy: "Map people to groups bound to namespaced roles (or access entries with \
        `AmazonEKSEditPolicy`/`AmazonEKSViewPolicy` scoped to namespaces), elevate just in time, \
        and keep a single break-glass principal (its name containing `break-glass`). Use the \
        authentication mode `API_AND_CONFIG_MAP` or `API`, so that the cluster creator's grant is \
        an access entry you can see and delete.",
    references: References {
        cis: &["5.1.1"],
        docs: &[
            "https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html",
            "https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudIdentities],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// Cross-object: aws-auth's grants count only if EKS reads aws-auth (see [`aws_auth_ignored`]).
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let ignored = aws_auth_ignored(&facts.cross_object);
    for o in &facts.cross_object {
        if ignored && is_aws_auth(o) {
            continue;
        }
        object(o, emit);
    }
}

fn object(o: &Object, emit: &mut Emitter) {
    if let Some((pointer, message)) = cluster(o).and_then(|c| c.config_map_only()) {
        emit.object(o, &pointer, message);
    }
    let grants = admin_grants(o);
    // One break-glass principal is allowed, as for RBAC bindings; more are each reported.
    let break_glass = grants.iter().filter(|g| g.human && g.break_glass).count();
    for g in grants.iter().filter(|g| g.human) {
        if g.break_glass && break_glass == 1 {
            continue;
        }
        emit.object(
            o,
            &g.pointer,
            format!(
                "{} holds cluster-admin through {}{}",
                g.describe(),
                g.through,
                if g.break_glass {
                    format!(" (one of {break_glass} break-glass principals: keep one)")
                } else {
                    String::new()
                }
            ),
        );
    }
}
