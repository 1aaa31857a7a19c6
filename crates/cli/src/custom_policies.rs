//! The user's policies for `scan` and `serve`: Gatekeeper constraints and ValidatingAdmission-
//! Policies read from the scanned inputs and from `--policy` paths (see `kubeharden-policy`).

use crate::inputs;
use anyhow::Result;
use kubeharden_engine::config::Config;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules::{CustomPolicies, Rule};
use kubeharden_engine::source::Diagnostic;
use kubeharden_policy::Policies;
use std::path::PathBuf;
use std::sync::Arc;

pub use kubeharden_engine::rules::is_custom_id;

/// Does a rule id given by the user (exact, or with a trailing `*`) name this rule?
fn names(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// Policies loaded for one run.
pub struct Custom {
    policies: Option<Arc<Policies>>,
    diagnostics: Vec<Diagnostic>,
}

/// Reads the policies among `inputs` and in the `extra` paths (which are not scanned).
pub fn load(inputs: &[Input], extra: &[PathBuf], kustomize: bool) -> Result<Custom> {
    let mut all: Vec<Input> = inputs.to_vec();
    let mut diagnostics = Vec::new();
    if !extra.is_empty() {
        let (more, diags) = inputs::gather(extra, kustomize)?;
        all.extend(more);
        diagnostics.extend(diags);
    }
    let loaded = Policies::from_inputs(&all);
    diagnostics.extend(loaded.diagnostics);
    Ok(Custom {
        policies: (!loaded.policies.is_empty()).then(|| Arc::new(loaded.policies)),
        diagnostics,
    })
}

impl Custom {
    /// The policy rules that run: those named by `only` (or the config's `enable`) when either
    /// is given, minus those skipped or disabled.
    pub fn select(&self, cfg: &Config, only: &[String], skip: &[String]) -> Vec<&'static Rule> {
        let Some(p) = &self.policies else {
            return Vec::new();
        };
        let only: &[String] = if only.is_empty() { &cfg.enable } else { only };
        p.rules()
            .iter()
            .copied()
            .filter(|r| only.is_empty() || only.iter().any(|o| names(o, r.id)))
            .filter(|r| !cfg.disable.iter().chain(skip).any(|o| names(o, r.id)))
            .collect()
    }

    pub fn engine(&self) -> Option<Arc<dyn CustomPolicies>> {
        self.policies.clone().map(|p| p as Arc<dyn CustomPolicies>)
    }

    /// What was wrong with the policies when loaded, and the evaluation errors of the scan
    /// (call after the scan).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut d = self.diagnostics.clone();
        if let Some(p) = &self.policies {
            d.extend(p.take_diagnostics());
        }
        d
    }
}
