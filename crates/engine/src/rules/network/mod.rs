//! Seed rules 11-12: default-deny NetworkPolicies and egress allowlists.

use crate::rules::Rule;

pub static RULES: &[&Rule] = &[];
