//! Seed rules 6-10: Pod Security Standards and the pod/container hardening they require.

use crate::rules::Rule;

mod container_capabilities_not_dropped;
mod container_dangerous_capabilities;
mod container_host_port;
mod container_may_run_as_root;
mod container_privilege_escalation;
mod container_privileged;
mod container_root_filesystem_writable;
mod container_runs_as_root;
mod namespace_pss_label_invalid;
mod namespace_pss_not_enforced;
mod namespace_pss_unpinned;
mod pod_host_namespaces;
mod pod_hostpath_volume;
mod pod_pss_other;
mod pod_seccomp_profile;
mod workload_violates_namespace_pss;

pub static RULES: &[&Rule] = &[
    &namespace_pss_not_enforced::RULE,
    &namespace_pss_label_invalid::RULE,
    &namespace_pss_unpinned::RULE,
    &workload_violates_namespace_pss::RULE,
    &pod_seccomp_profile::RULE,
    &pod_pss_other::RULE,
    &container_runs_as_root::RULE,
    &container_may_run_as_root::RULE,
    &container_capabilities_not_dropped::RULE,
    &container_dangerous_capabilities::RULE,
    &container_privileged::RULE,
    &container_privilege_escalation::RULE,
    &pod_host_namespaces::RULE,
    &pod_hostpath_volume::RULE,
    &container_host_port::RULE,
    &container_root_filesystem_writable::RULE,
];
