//! A managed cluster accepts static credentials or authorization outside RBAC.

use super::emit_verdicts;
use crate::analysis::cloud::cluster;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "managed-cluster-static-credentials",
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "Managed cluster has local accounts, basic auth, client certificates or legacy ABAC",
    rationale: "AKS local accounts and GKE basic auth and client certificates are static \
        credentials that bypass the identity provider: they are not revoked when a person leaves, \
        carry no MFA and are shared by copy. GKE legacy ABAC grants access outside RBAC, where \
        no RBAC review sees it.",
    remedy: "AKS: `local_account_disabled = true` with Microsoft Entra ID RBAC \
        (`azure_active_directory_role_based_access_control`). GKE: remove `master_auth` \
        username/password, set `client_certificate_config.issue_client_certificate = false` and \
        `enable_legacy_abac = false`.",
    references: References {
        checkov: &["CKV_AZURE_141", "CKV_GCP_7", "CKV_GCP_13", "CKV_GCP_19"],
        docs: &[
            "https://learn.microsoft.com/en-us/azure/aks/manage-local-accounts-managed-azure-ad",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/api-server-authentication",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudAuthentication],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if let Some(c) = cluster(o) {
        emit_verdicts(&c, c.authentication(), emit);
    }
}
