//! Managed clusters (EKS, GKE, AKS): the control plane the provider runs, judged from its
//! configuration (eksctl `ClusterConfig`, Terraform, the cloud CLIs' JSON) and the identities EKS
//! maps outside RBAC (`aws-auth`, access entries). See [`crate::analysis::cloud`] and
//! `docs/managed.md`. These rules do not apply to an input without a managed cluster (the
//! scorecard leaves them out), and a value that cannot be resolved offline leaves the question
//! not assessed.

use crate::analysis::cloud::{Cluster, Verdict};
use crate::rules::{Emitter, Rule};

mod eks_human_cluster_admin;
mod eks_workload_identity_missing;
mod managed_audit_logs_not_exported;
mod managed_endpoint_public;
mod managed_secrets_not_envelope_encrypted;
mod managed_static_credentials;

pub static RULES: &[&Rule] = &[
    &managed_endpoint_public::RULE,
    &eks_human_cluster_admin::RULE,
    &managed_audit_logs_not_exported::RULE,
    &managed_static_credentials::RULE,
    &managed_secrets_not_envelope_encrypted::RULE,
    &eks_workload_identity_missing::RULE,
];

/// A finding for each failed verdict, at the field that settles it.
fn emit_verdicts(c: &Cluster, verdicts: impl IntoIterator<Item = Verdict>, emit: &mut Emitter) {
    for v in verdicts {
        if let Verdict::Fail(pointer, message) = v {
            emit.object(c.object, &pointer, message);
        }
    }
}
