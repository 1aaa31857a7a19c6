//! A managed cluster's API endpoint is public and open to the whole Internet.

use super::emit_verdicts;
use crate::analysis::cloud::cluster;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "managed-cluster-endpoint-public",
    section: Section::Rule(1),
    severity: Severity::Critical,
    summary: "Managed cluster's API endpoint is public and open to 0.0.0.0/0",
    rationale: "EKS, GKE and AKS create the API server endpoint on the Internet by default. Open to \
        0.0.0.0/0 it can be reached by anyone who finds it (certificate transparency logs and scans \
        list them within minutes): every leaked token, every unauthenticated endpoint and every \
        API-server vulnerability is then exploitable from anywhere.",
    remedy: "Make the endpoint private (EKS `endpoint_private_access = true`, \
        `endpoint_public_access = false`; GKE `private_cluster_config.enable_private_endpoint`; \
        AKS `private_cluster_enabled`), or restrict it to known networks (EKS \
        `public_access_cidrs`, GKE `master_authorized_networks_config`, AKS \
        `api_server_access_profile.authorized_ip_ranges`).",
    references: References {
        checkov: &[
            "CKV_AWS_38",
            "CKV_AWS_39",
            "CKV_GCP_18",
            "CKV_GCP_20",
            "CKV_AZURE_6",
        ],
        docs: &[
            "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks",
            "https://learn.microsoft.com/en-us/azure/aks/api-server-authorized-ip-ranges",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudEndpoint],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if let Some(c) = cluster(o) {
        emit_verdicts(&c, [c.endpoint()], emit);
    }
}
