//! Seed rules 1-5: API server exposure, RBAC, cluster-admin, audit logging, anonymous access.
//! The RBAC semantics live in [`crate::analysis::rbac`]; the rules here only phrase findings.

use crate::analysis::rbac::{Grant, Rbac, RiskHit, Role, ServiceAccounts};
use crate::inventory::Workload;
use crate::rules::Facts;
use crate::rules::Rule;

mod anonymous_or_unauthenticated_binding;
mod break_glass_account_count;
mod human_bound_to_cluster_admin;
mod rbac_wildcard_permissions;
mod role_binding_to_missing_role;
mod service_account_risky_permissions;
mod workload_uses_default_service_account;

pub static RULES: &[&Rule] = &[
    &service_account_risky_permissions::RULE,
    &rbac_wildcard_permissions::RULE,
    &role_binding_to_missing_role::RULE,
    &workload_uses_default_service_account::RULE,
    &human_bound_to_cluster_admin::RULE,
    &break_glass_account_count::RULE,
    &anonymous_or_unauthenticated_binding::RULE,
];

/// The workloads of the input that run as the given service accounts.
fn workloads_running_as<'f>(facts: &'f Facts, who: ServiceAccounts) -> Vec<&'f Workload> {
    facts
        .workloads
        .iter()
        .filter(|w| match who {
            ServiceAccounts::One { namespace, name } => {
                w.namespace == namespace && w.service_account == name
            }
            ServiceAccounts::Namespace(ns) => w.namespace == ns,
            ServiceAccounts::All => true,
        })
        .collect()
}

/// `Deployment "shop/web", CronJob "shop/backup" and 3 more`.
/// The same object in several inputs is listed once.
fn list_workloads(workloads: &[&Workload]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = Vec::new();
    for w in workloads {
        let name = format!("{} \"{}/{}\"", w.kind, w.namespace, w.name);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let more = names.len().saturating_sub(SHOWN);
    names.truncate(SHOWN);
    if more > 0 {
        names.push(format!("{more} more"));
    }
    names.join(", ")
}

/// `read secrets (`list secrets`, rules[0])`, naming the aggregated role a rule came from; rules
/// of built-in roles the input does not hold are not located.
fn describe_hit(rbac: &Rbac, role: &Role, hit: &RiskHit) -> String {
    let what = if hit.resource == "*" {
        rbac.rule(hit.rule).describe()
    } else {
        format!("{} {}", hit.verb, hit.resource)
    };
    if rbac.roles[hit.rule.role].object.is_none() {
        format!("{} (`{what}`)", hit.risk.label)
    } else {
        format!(
            "{} (`{what}`, {})",
            hit.risk.label,
            rbac.describe_rule(hit.rule, role)
        )
    }
}

/// People and teams bound cluster-wide to cluster-admin or an equivalent role.
fn human_cluster_admins<'r, 'a>(rbac: &'r Rbac<'a>) -> Vec<Grant<'r, 'a>> {
    rbac.cluster_admins()
        .into_iter()
        .filter(|g| g.subject.is_human())
        .collect()
}
