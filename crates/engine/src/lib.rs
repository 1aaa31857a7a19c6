//! kubeharden engine: analysis → rules → scan → finish, over the model of `kubeharden-model`.
//! No async, no network. See `docs/architecture.md` for the layers and the anatomy of a rule.
//!
//! Front ends gather [`Input`]s, call [`scan`] and end through [`finish`]: the one path that
//! applies suppressions, the config, exemptions, the baseline and evidence gaps, re-derives the
//! counts and the scorecard, and decides the exit code.

pub use kubeharden_model::{
    finding, inventory, load, meta, packed, redact, selector, source, yaml,
};

pub mod analysis;
pub mod baseline;
pub mod config;
pub mod evidence;
pub mod finish;
pub mod fix;
pub mod gaps;
pub mod node;
pub mod report;
pub mod rules;
pub mod scan;
pub mod timings;

pub use load::Input;
pub use report::Report;
pub use rules::suppress;
