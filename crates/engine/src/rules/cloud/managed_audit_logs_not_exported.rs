//! A managed cluster does not export the API server's audit log.

use super::emit_verdicts;
use crate::analysis::cloud::{Format, Provider, aks_audit, cluster, diagnostic_setting};
use crate::finding::Severity;
use crate::rules::{Check, Context, Derived, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "managed-cluster-audit-logs-not-exported",
    section: Section::Rule(4),
    severity: Severity::High,
    summary: "Managed cluster does not export the API server's audit log",
    rationale: "On EKS the control plane's logs are exported to CloudWatch only for the log types \
        enabled; on AKS only through a diagnostic setting with the `kube-audit` (or \
        `kube-audit-admin`) category. Without it no record of who read a Secret, created a Pod or changed RBAC \
        exists anywhere the cluster's owner can read, and an intrusion cannot be reconstructed.",
    remedy: "Enable the `audit` log type (eksctl `cloudWatch.clusterLogging.enableTypes`, \
        Terraform `enabled_cluster_log_types`, `aws eks update-cluster-config --logging`), \
        with `authenticator`; on AKS add an `azurerm_monitor_diagnostic_setting` whose \
        `target_resource_id` is the cluster's id with `enabled_log { category = \
        \"kube-audit-admin\" }` (or `kube-audit`); keep the log group's retention long enough for investigations.",
    references: References {
        checkov: &["CKV_AWS_37"],
        docs: &[
            "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
            "https://learn.microsoft.com/en-us/azure/aks/monitor-aks-reference#resource-logs",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudAuditLogs],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// Cross-object: an AKS cluster's audit log is exported by a separate resource (a diagnostic
/// setting) of its Terraform module.
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let settings: Vec<_> = facts
        .cross_object
        .iter()
        .filter_map(diagnostic_setting)
        .collect();
    for c in facts.cross_object.iter().filter_map(cluster) {
        if c.provider == Provider::Aks && matches!(c.format, Format::Terraform | Format::Module) {
            if let Some((o, pointer, message)) = aks_audit(&c, &settings) {
                emit.object(o, &pointer, message);
            }
        } else {
            emit_verdicts(&c, [c.audit_logs()], emit);
        }
    }
}
