//! A ServiceAccount is bound to permissions that let it escalate, read credentials or run code.

use super::{describe_scope, list_workloads, risk_summary, workloads_running_as};
use crate::analysis::rbac::{Resolution, Scope, ServiceAccounts};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashMap;

pub static RULE: Rule = Rule {
    id: "service-account-risky-permissions",
    section: Section::Rule(2),
    severity: Severity::High,
    summary: "ServiceAccount is bound to risky permissions (secrets, pod creation, exec, escalation)",
    rationale: "A service account's token is mounted into every pod that runs as it, so whoever \
        compromises one of those pods (an RCE, a malicious dependency, a debug shell) holds its \
        permissions. Reading secrets yields other credentials; creating pods or workloads lets it \
        run a pod as any service account of the namespace and mount any secret; exec, bind, \
        escalate, impersonate, token requests, nodes/proxy and CSR approval are direct paths to \
        cluster-admin. Checked against the effective rules of the bound role, aggregation and the \
        built-in roles included.",
    remedy: "Grant the service account only the verbs and resources it uses, in its own namespace \
        (a Role and RoleBinding, not a ClusterRoleBinding), with `resourceNames` where it reads \
        specific Secrets. Move controllers that truly need such rights to a dedicated namespace, and \
        set `automountServiceAccountToken: false` on workloads that do not call the API.",
    references: References {
        cis: &[
            "5.1.2", "5.1.4", "5.1.8", "5.1.10", "5.1.11", "5.1.12", "5.1.13",
        ],
        trivy: &[
            "KSV041", "KSV043", "KSV047", "KSV048", "KSV050", "KSV053", "KSV054", "KSV114",
        ],
        checkov: &["CKV2_K8S_1", "CKV2_K8S_2", "CKV2_K8S_3", "CKV2_K8S_5"],
        kube_linter: &["access-to-secrets", "access-to-create-pods"],
        polaris: &[
            "clusterrolebindingPodExecAttach",
            "rolebindingClusterRolePodExecAttach",
            "rolebindingRolePodExecAttach",
        ],
        kubescape: &[
            "C-0015", "C-0186", "C-0188", "C-0191", "C-0002", "C-0063", "C-0267",
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
        // Bootstrap bindings (controllers of kube-system) are reconciled by the API server.
        if b.is_bootstrap() {
            continue;
        }
        let Resolution::Role(role) = rbac.resolve(b) else {
            continue;
        };
        let scope = b.scope();
        // Many bindings share a role: its risks are computed once per scope.
        let what = described
            .entry((role.id, scope))
            .or_insert_with(|| risk_summary(rbac, role, scope));
        if what.is_empty() {
            continue;
        }
        let where_ = describe_scope(scope);
        for s in &b.subjects {
            let Some(who) = s.service_accounts() else {
                continue;
            };
            let holder = match who {
                ServiceAccounts::One { namespace, name } => {
                    format!("ServiceAccount \"{namespace}/{name}\"")
                }
                ServiceAccounts::Namespace(ns) => {
                    format!("every ServiceAccount of namespace \"{ns}\" ({s})")
                }
                ServiceAccounts::All => format!("every ServiceAccount of the cluster ({s})"),
            };
            let workloads = workloads_running_as(facts, who);
            let used = if workloads.is_empty() {
                "no workload in the input runs as it".to_owned()
            } else {
                format!("workloads running as it: {}", list_workloads(&workloads))
            };
            emit.object(
                b.object,
                &s.pointer(),
                format!(
                    "{holder} can {what} {where_} through {} to {}; {used}",
                    b.describe(),
                    role.describe(),
                ),
            );
        }
    }
}
