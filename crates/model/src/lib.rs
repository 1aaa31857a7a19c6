//! kubeharden's model: what every layer shares, and nothing that judges.
//!
//! - [`yaml`]: the spanned YAML tree, values read as Kubernetes reads them (YAML 1.1).
//! - [`source`], [`load`]: inputs (files, stdin, rendered output) become [`inventory::Object`]s
//!   with exact positions; bad input becomes [`source::Diagnostic`]s.
//! - [`inventory`]: objects, pod templates, containers, workload summaries.
//! - [`selector`]: label selectors as the API server parses and matches them.
//! - [`redact`]: secret values masked in every text a report copies.
//! - [`finding`], [`meta`]: findings and their locations; rule metadata (sections, severities,
//!   evidence, peer references).
//!
//! The engine (analysis, rules, scan, finish) depends on this crate; this crate depends on no
//! other kubeharden crate, so cargo forbids upward imports.

pub mod baseline;
pub mod cloud;
pub mod date;
pub mod finding;
pub mod inventory;
pub mod kustomize;
pub mod load;
pub mod meta;
pub mod packed;
pub mod paths;
pub mod redact;
pub mod selector;
pub mod source;
pub mod terraform;
pub mod yaml;
