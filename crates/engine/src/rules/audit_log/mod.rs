//! Rules whose evidence is the API server's audit log (`kubeharden audit-log analyze`, `rbac
//! suggest`): what accounts actually did, beyond what manifests say they may do. Their findings
//! are produced by [`crate::audit_log`], not by a scan of objects (`Check::External`).

use crate::rules::Rule;

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
