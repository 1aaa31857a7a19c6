//! kubeharden engine: sources → inventory → analysis → rules → findings. No async, no network.
//! See `docs/architecture.md` for the layers and the anatomy of a rule.

pub mod analysis;
pub mod audit_log;
pub mod baseline;
pub mod config;
pub mod finding;
pub mod fix;
pub mod gaps;
pub mod inventory;
pub mod node;
pub mod post;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod yaml;
