//! Semantic engines that rules call. Each is the one place its semantics live.

pub mod audit_log;
pub mod audit_policy;
pub mod cloud;
pub mod cloud_identity;
pub mod control_plane;
pub mod falco;
pub mod image_verification;
pub mod images;
pub mod kubelet;
pub mod mesh;
pub mod netpol;
pub mod netpol_query;
pub mod pss;
pub mod query;
pub mod rbac;
pub mod rbac_query;
pub mod runtime;
pub mod secrets;
pub mod security_context;
pub mod system;
pub mod versions;
pub mod workload;
