//! Seed rules 1-5: API server exposure, RBAC, cluster-admin, audit logging, anonymous access.
//! The RBAC semantics live in [`crate::analysis::rbac`]; the rules here only phrase findings.

use crate::analysis::rbac::{Grant, Rbac, RiskHit, Role, Scope, ServiceAccounts};
use crate::inventory::Workload;
use crate::rules::Facts;
use crate::rules::Rule;

mod anonymous_or_unauthenticated_binding;
mod break_glass_account_count;
mod builtin_role_redefined;
mod dashboard_cluster_admin;
mod dashboard_skip_login;
mod human_bound_to_cluster_admin;
mod human_risky_permissions;
mod rbac_wildcard_permissions;
mod role_binding_to_missing_role;
mod service_account_risky_permissions;
mod service_exposes_sensitive_port;
mod unbound_role_risky_permissions;
mod workload_uses_default_service_account;

pub static RULES: &[&Rule] = &[
    &service_account_risky_permissions::RULE,
    &rbac_wildcard_permissions::RULE,
    &role_binding_to_missing_role::RULE,
    &workload_uses_default_service_account::RULE,
    &human_bound_to_cluster_admin::RULE,
    &break_glass_account_count::RULE,
    &anonymous_or_unauthenticated_binding::RULE,
    &human_risky_permissions::RULE,
    &unbound_role_risky_permissions::RULE,
    &builtin_role_redefined::RULE,
    &dashboard_skip_login::RULE,
    &dashboard_cluster_admin::RULE,
    &service_exposes_sensitive_port::RULE,
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

/// The risky permissions a role grants at a scope, as a message fragment (`read secrets (…),
/// exec into … (…)`); empty when none. Wildcards are judged on the role itself
/// (rbac-wildcard-permissions): here only what they give access to counts, and full control
/// stands for everything else.
fn risk_summary(rbac: &Rbac, role: &Role, scope: Scope) -> String {
    let mut hits: Vec<_> = rbac
        .risks(role, scope)
        .into_iter()
        .filter(|h| h.risk.id != "wildcard")
        .collect();
    if let Some(full) = hits.iter().find(|h| h.risk.id == "full-control").copied() {
        hits = vec![full];
    }
    hits.iter()
        .map(|h| describe_hit(rbac, role, h))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `in namespace "kube-system" (which holds the control plane's credentials)`, `cluster-wide`.
fn describe_scope(scope: Scope) -> String {
    match scope {
        Scope::Namespace("kube-system") => {
            format!("{scope} (which holds the control plane's credentials)")
        }
        _ => scope.to_string(),
    }
}

/// People and teams bound cluster-wide to cluster-admin or an equivalent role.
fn human_cluster_admins<'r, 'a>(rbac: &'r Rbac<'a>) -> Vec<Grant<'r, 'a>> {
    rbac.cluster_admins()
        .into_iter()
        .filter(|g| g.subject.is_human())
        .collect()
}
