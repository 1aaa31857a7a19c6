//! Semantic engines that rules call. Each is the one place its semantics live.

pub mod pss;
pub mod security_context;
