//! Seed rules 1-5: API server exposure, RBAC, cluster-admin, audit logging, anonymous access.

use crate::rules::Rule;

pub static RULES: &[&Rule] = &[];
