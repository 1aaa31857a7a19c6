//! Rules whose evidence is the API server's audit log (`kubeharden audit-log analyze`, `rbac
//! suggest`): what accounts actually did, beyond what manifests say they may do. Their findings
//! checks (`Check::AuditLog`) read the log as analysed by [`crate::analysis::audit_log`], through
//! [`crate::scan::scan_audit_log`], not a scan of objects.

use crate::analysis::audit_log::{Category, Group};
use crate::finding::{Location, Subject};
use crate::rules::{AuditLogInput, Emitter, Rule};

mod anonymous_access;
mod human_cluster_admin_used;
mod impersonation;
mod permission_unused;
mod sensitive_activity;
mod system_masters_used;

pub use anonymous_access::RULE as ANONYMOUS_ACCESS;
pub use human_cluster_admin_used::RULE as HUMAN_CLUSTER_ADMIN_USED;
pub use impersonation::RULE as IMPERSONATION;
pub use permission_unused::RULE as PERMISSION_UNUSED;
pub use sensitive_activity::RULE as SENSITIVE_ACTIVITY;
pub use system_masters_used::RULE as SYSTEM_MASTERS_USED;

pub static RULES: &[&Rule] = &[
    &anonymous_access::RULE,
    &system_masters_used::RULE,
    &human_cluster_admin_used::RULE,
    &impersonation::RULE,
    &sensitive_activity::RULE,
    &permission_unused::RULE,
];

/// One finding per group of requests of `category` (by user and namespace) in the log.
fn groups_of(input: &AuditLogInput, emit: &mut Emitter, keep: impl Fn(&Group) -> bool) {
    for g in input.log.groups.values().filter(|g| keep(g)) {
        let place = if g.namespace.is_empty() {
            "cluster-wide".to_owned()
        } else {
            format!("in namespace \"{}\"", g.namespace)
        };
        let outcome = if g.denied > 0 {
            format!(" ({} allowed, {} denied)", g.allowed, g.denied)
        } else {
            String::new()
        };
        emit.at(
            Subject {
                kind: "User".into(),
                api_version: String::new(),
                name: if g.user.is_empty() {
                    "(no user)".into()
                } else {
                    g.user.clone()
                },
                namespace: (!g.namespace.is_empty()).then(|| g.namespace.clone()),
                container: None,
            },
            Location {
                origin: g.origin.as_str().into(),
                line: g.line as u32,
                column: 1,
                pointer: "".into(),
                helm_source: None,
            },
            format!(
                "{}: {} by \"{}\" {place}, {} time(s){outcome} between {} and {} (e.g. `{}`)",
                g.category.describe(),
                match g.category {
                    Category::SystemMasters
                    | Category::HumanClusterAdmin
                    | Category::Impersonation
                    | Category::AnonymousAllowed => "requests",
                    _ => "done",
                },
                g.user,
                g.count,
                g.first,
                g.last,
                g.example
            ),
        );
    }
}

/// The groups of one category.
fn of(input: &AuditLogInput, emit: &mut Emitter, category: Category) {
    groups_of(input, emit, |g| g.category == category);
}
