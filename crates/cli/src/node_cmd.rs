//! `kubeharden node`: audit a node's control-plane and kubelet configuration from its files, and
//! `kubeharden audit-policy explain`: which rule of an audit Policy decides a request.

use anyhow::{Context as _, Result, bail};
use kubeharden_engine::analysis::control_plane::{AuditRequest, audit_level};
use kubeharden_engine::node;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan;
use kubeharden_engine::source;
use std::path::Path;

/// Gathers the node's evidence under `root` and scans it (plus any `--apiserver-flags`).
pub fn scan_node(
    root: &Path,
    apiserver_flags: Option<&str>,
    rules: &[&'static kubeharden_engine::rules::Rule],
) -> Report {
    let mut ev = node::gather(root);
    if let Some(line) = apiserver_flags {
        ev.inputs.push(command_line(line));
    }
    let mut report = scan::scan_with_node_files(&ev.inputs, rules, ev.files);
    report.diagnostics.splice(0..0, ev.diagnostics);
    // Fail closed: evidence a component names but that could not be read leaves the rules that
    // need it not assessed (the scorecard reads `unreadable`).
    for (evidence, reason) in ev.unreadable {
        report
            .scope
            .unreadable
            .entry(evidence)
            .or_default()
            .insert(reason);
    }
    report
}

/// `--apiserver-flags "--a=b --c=d"` as an input (the binary name is added when missing); its
/// findings point at the flag's column in the argument (line 1 of `--apiserver-flags`).
pub fn command_line(line: &str) -> kubeharden_engine::load::Input {
    node::command_line_argument("--apiserver-flags", line, "kube-apiserver")
}

pub struct ExplainArgs<'a> {
    pub file: &'a Path,
    pub user: &'a str,
    pub groups: &'a [String],
    pub verb: &'a str,
    pub resource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// Prints the level and the deciding rule of every audit Policy in the file.
pub fn explain(a: &ExplainArgs<'_>, out: &mut dyn std::io::Write) -> Result<bool> {
    let loaded = kubeharden_engine::load::load_file(a.file);
    if let Some(d) = loaded
        .diagnostics
        .iter()
        .find(|d| d.level == source::DiagLevel::Error)
    {
        bail!("{}:{}: {}", d.origin, d.line.unwrap_or(0), d.message);
    }
    let policies: Vec<_> = loaded
        .objects
        .iter()
        .filter(|o| o.kind == "Policy" && o.group() == "audit.k8s.io")
        .collect();
    if policies.is_empty() {
        bail!(
            "{}: no audit Policy (apiVersion audit.k8s.io/v1, kind Policy) in the file",
            a.file.display()
        );
    }
    // `group/resource/subresource`, `resource/subresource` or `resource`; core group when no dot.
    let (group, rest) = match a.resource.split_once('/') {
        Some((g, r)) if g.contains('.') => (g, r),
        _ => ("", a.resource),
    };
    let (resource, subresource) = rest.split_once('/').unwrap_or((rest, ""));
    let groups: Vec<&str> = a.groups.iter().map(String::as_str).collect();
    let request = AuditRequest {
        user: a.user,
        groups: &groups,
        verb: a.verb,
        api_group: (!a.resource.starts_with('/')).then_some(group),
        resource,
        subresource,
        namespace: a.namespace,
        name: a.name,
        path: a.resource,
    };
    for p in policies {
        let (level, rule) = audit_level(&p.root, &request);
        match rule {
            Some(i) => {
                let pos = p.locate(&format!("/rules/{i}"));
                writeln!(
                    out,
                    "{}:{}: level {} (rule {i})",
                    p.source.name,
                    pos.line,
                    level.as_str()
                )?;
                for l in pos.line..pos.line + 6 {
                    match p.source.line(l) {
                        Some(text)
                            if l == pos.line
                                || text.starts_with("  ")
                                || text.starts_with("    ") =>
                        {
                            writeln!(out, "  {l:>4} | {text}")?
                        }
                        _ => break,
                    }
                }
            }
            None => writeln!(out, "{}: level None (no rule matches)", p.source.name)?,
        }
    }
    Ok(true)
}

pub fn ensure_dir(root: &Path) -> Result<()> {
    let meta = std::fs::metadata(root).with_context(|| format!("--root {}", root.display()))?;
    if !meta.is_dir() {
        bail!("--root {} is not a directory", root.display());
    }
    Ok(())
}
