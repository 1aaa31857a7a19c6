//! The user's policies for `scan` and `serve`: Gatekeeper constraints and ValidatingAdmission-
//! Policies read from `--policy` paths, and from the scanned inputs only when asked
//! (`--enforce-input-policies`, `enforceInputPolicies: true`) (see `kubeharden-policy`).

use crate::inputs;
use anyhow::Result;
use kubeharden_engine::config::Config;
use kubeharden_engine::inventory::Object;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules::{CustomPolicies, Rule};
use kubeharden_engine::scan::Phase0;
use kubeharden_engine::source::{DiagLevel, Diagnostic};
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
    /// Phase 0 of the scan (the inputs' namespaces and sizes), read with their constraints and
    /// bindings (one read of the inputs before the scan instead of two): for
    /// [`kubeharden_engine::scan::Extras`].
    phase0: Option<Phase0>,
}

/// Reads the policies in the `extra` paths (`--policy`, which are not scanned) and, only when
/// `enforce_inputs` (`--enforce-input-policies`), those among the scanned `inputs`. Otherwise the
/// constraints and bindings among the inputs are objects of the scan like any other (they still
/// count as evidence, e.g. of image-signature enforcement), and a note per file says that they
/// are not enforced on the other inputs. Parameter objects are read from both.
pub fn load(
    inputs: &[Input],
    extra: &[PathBuf],
    kustomize: bool,
    enforce_inputs: bool,
) -> Result<Custom> {
    let mut sources: Vec<Input> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut phase0 = None;
    if !extra.is_empty() {
        let (more, diags) = inputs::gather(extra, kustomize)?;
        sources.extend(more);
        diagnostics.extend(diags);
    }
    let loaded = if enforce_inputs {
        sources.extend(inputs.iter().cloned());
        Policies::from_inputs(&sources)
    } else {
        let prescan = kubeharden_policy::prescan(inputs);
        diagnostics.extend(not_enforced(prescan.objects, &sources));
        phase0 = Some(prescan.phase0);
        Policies::from_sources(&sources, inputs)
    };
    diagnostics.extend(loaded.diagnostics);
    Ok(Custom {
        policies: (!loaded.policies.is_empty()).then(|| Arc::new(loaded.policies)),
        diagnostics,
        phase0,
    })
}

/// A note per scanned file holding constraints or policy bindings (`enforcing`) that are not
/// enforced (at the first of them), unless the same file is also given with `--policy`.
fn not_enforced(enforcing: Vec<Object>, sources: &[Input]) -> Vec<Diagnostic> {
    let given: Vec<&std::path::Path> = sources
        .iter()
        .filter_map(|s| match s {
            Input::File(p) => Some(p.as_path()),
            _ => None,
        })
        .collect();
    let mut by_file: std::collections::BTreeMap<String, Vec<Object>> =
        std::collections::BTreeMap::new();
    for o in enforcing {
        by_file.entry(o.source.name.clone()).or_default().push(o);
    }
    let mut notes = Vec::new();
    for (origin, mut objects) in by_file {
        if given
            .iter()
            .any(|p| std::path::Path::new(&origin) == *p || p.display().to_string() == origin)
        {
            continue;
        }
        objects.sort_by_key(|o| o.root.pos.line);
        let first = &objects[0];
        let names: Vec<String> = objects
            .iter()
            .take(3)
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect();
        let more = objects.len().saturating_sub(3);
        notes.push(Diagnostic::new(
            DiagLevel::Note,
            &origin,
            Some(first.root.pos),
            format!(
                "{} polic{} found among the scanned inputs ({}{}) {} reported as objects, not enforced on the other inputs; to enforce {}, give the file with --policy or scan with --enforce-input-policies",
                objects.len(),
                if objects.len() == 1 { "y" } else { "ies" },
                names.join(", "),
                if more > 0 { format!(", and {more} more") } else { String::new() },
                if objects.len() == 1 { "is" } else { "are" },
                if objects.len() == 1 { "it" } else { "them" },
            ),
        ));
    }
    notes
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

    /// Phase 0 of the scan (namespaces, sizes), read with the policies' objects when they were
    /// (see [`load`]).
    pub fn take_phase0(&mut self) -> Option<Phase0> {
        self.phase0.take()
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
