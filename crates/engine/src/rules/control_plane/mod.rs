//! Control-plane and node configuration (seed rules 1, 4, 5, 14 and the CIS benchmark): rules
//! over component flags (static Pods, kubeadm ClusterConfiguration), the audit Policy, the
//! EncryptionConfiguration and the KubeletConfiguration.

use crate::analysis::control_plane::{Component, ComponentFlags, component_flags};
use crate::inventory::Object;
use crate::rules::Rule;

mod apiserver_anonymous_auth;
mod apiserver_audit_disabled;
mod apiserver_audit_not_shipped;
mod apiserver_audit_retention;
mod apiserver_authorization_mode;
mod apiserver_encryption_missing;
mod apiserver_insecure_port;
mod apiserver_public_address;
mod apiserver_token_auth_file;
mod audit_policy_logs_secrets;
mod audit_policy_misses_operations;
pub mod cis_benchmark;
mod cis_control_plane;
mod component_not_localhost;
mod encryption_key_on_node;
mod encryption_secrets_plaintext;
mod kubelet_anonymous_auth;
mod kubelet_authorization;
mod kubelet_read_only_port;
mod kubernetes_version_unsupported;
mod node_file_permissions;

pub static RULES: &[&Rule] = &[
    &apiserver_public_address::RULE,
    &apiserver_insecure_port::RULE,
    &component_not_localhost::RULE,
    &apiserver_audit_disabled::RULE,
    &apiserver_audit_not_shipped::RULE,
    &apiserver_audit_retention::RULE,
    &audit_policy_misses_operations::RULE,
    &audit_policy_logs_secrets::RULE,
    &apiserver_anonymous_auth::RULE,
    &apiserver_authorization_mode::RULE,
    &apiserver_token_auth_file::RULE,
    &kubelet_anonymous_auth::RULE,
    &kubelet_authorization::RULE,
    &kubelet_read_only_port::RULE,
    &apiserver_encryption_missing::RULE,
    &encryption_secrets_plaintext::RULE,
    &encryption_key_on_node::RULE,
    &cis_control_plane::RULE,
    &node_file_permissions::RULE,
    &kubernetes_version_unsupported::RULE,
];

/// The flags of one component in this object (static Pod or kubeadm ClusterConfiguration).
pub(crate) fn flags_of(o: &Object, component: Component) -> impl Iterator<Item = ComponentFlags> {
    component_flags(o)
        .into_iter()
        .filter(move |f| f.component == component)
}

/// Is `o` a kind of the given group (exactly) and kind?
pub(crate) fn is(o: &Object, group: &str, kind: &str) -> bool {
    o.kind == kind && o.group() == group
}
