//! An EKS cluster's pods cannot get AWS credentials of their own (no IRSA, no Pod Identity).

use crate::analysis::cloud::cluster;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "eks-workload-identity-missing",
    section: Section::Rule(15),
    severity: Severity::Medium,
    summary: "EKS cluster has neither IRSA (OIDC provider) nor EKS Pod Identity",
    rationale: "Without IRSA (`iam.withOIDC`) or EKS Pod Identity, a pod that calls AWS gets the \
        node's instance role, the same credentials for every pod on the node, or an access key \
        stored in a Secret, which lives until someone rotates it. Per-ServiceAccount roles give \
        each workload short-lived credentials scoped to what it needs.",
    remedy: "Set `iam.withOIDC: true` and give workloads roles through `iam.serviceAccounts`, or \
        install the `eks-pod-identity-agent` addon and use `iam.podIdentityAssociations`; then \
        remove AWS access keys from Secrets and narrow the node role.",
    references: References {
        docs: &[
            "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html",
            "https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html",
            "https://eksctl.io/usage/iamserviceaccounts/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudWorkloadIdentity],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if let Some((pointer, message)) = cluster(o).and_then(|c| c.workload_identity()) {
        emit.object(o, &pointer, message);
    }
}
