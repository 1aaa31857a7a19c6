//! `kubeharden audit-log analyze|coverage` and `kubeharden rbac suggest`: what accounts did,
//! according to the API server's audit log.

use anyhow::{Result, bail};
use kubeharden_engine::analysis::audit_log::{self, Analysis};
use kubeharden_engine::analysis::control_plane::{AuditLevel, AuditRequest, audit_level};
use kubeharden_engine::inventory::Retained;
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::audit_log::PERMISSION_UNUSED;
use kubeharden_engine::rules::{AuditLogInput, Rule};
use kubeharden_engine::scan;
use kubeharden_engine::source::DiagLevel;
use std::io::Write;
use std::path::{Path, PathBuf};

fn read_logs(analysis: &mut Analysis, files: &[PathBuf]) -> Result<()> {
    if files.is_empty() {
        bail!("no audit log files given");
    }
    for f in files {
        if f.as_os_str() == "-" {
            analysis.read("<stdin>", std::io::stdin().lock());
        } else {
            analysis.read_file(f);
        }
    }
    Ok(())
}

/// `audit-log analyze`: findings for sensitive activity, by the audit-log rules among `rules`.
pub fn analyze(files: &[PathBuf], rules: &[&'static Rule]) -> Result<Report> {
    let mut a = Analysis::default();
    read_logs(&mut a, files)?;
    let input = AuditLogInput {
        log: &a,
        subject: None,
        rbac: &[],
    };
    Ok(scan::scan_audit_log(&input, rules))
}

/// `audit-log coverage`: for each sensitive request shape seen in the log, the level the given
/// audit Policy assigns (the log was written under some policy; this answers "what would this
/// policy record?").
pub fn coverage(policy: &Path, files: &[PathBuf], out: &mut dyn Write) -> Result<bool> {
    let loaded = kubeharden_engine::load::load_file(policy);
    if let Some(d) = loaded
        .diagnostics
        .iter()
        .find(|d| d.level == DiagLevel::Error)
    {
        bail!("{}:{}: {}", d.origin, d.line.unwrap_or(0), d.message);
    }
    let Some(p) = loaded
        .objects
        .iter()
        .find(|o| o.kind == "Policy" && o.group() == "audit.k8s.io")
    else {
        bail!(
            "{}: no audit Policy (audit.k8s.io/v1) in the file",
            policy.display()
        );
    };
    let mut a = Analysis::default();
    read_logs(&mut a, files)?;
    let mut missed = 0;
    writeln!(
        out,
        "{:<16} {:<7} {:<48} {:<24} identities",
        "level", "rule", "request", "category"
    )?;
    for (shape, (category, identities)) in &a.sensitive_shapes {
        // The most permissive outcome over the identities seen: a rule may exempt some users.
        let mut worst: Option<(AuditLevel, Option<usize>, String)> = None;
        for (user, groups) in identities {
            let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
            let req = AuditRequest {
                user,
                groups: &groups,
                verb: &shape.verb,
                api_group: shape.path.is_empty().then_some(shape.api_group.as_str()),
                resource: &shape.resource,
                subresource: &shape.subresource,
                namespace: &shape.namespace,
                name: "",
                path: &shape.path,
            };
            let (level, rule) = audit_level(&p.root, &req);
            if worst.as_ref().is_none_or(|(l, _, _)| level < *l) {
                worst = Some((level, rule, user.clone()));
            }
        }
        let Some((level, rule, user)) = worst else {
            continue;
        };
        let request = if shape.path.is_empty() {
            let res = if shape.subresource.is_empty() {
                shape.resource.clone()
            } else {
                format!("{}/{}", shape.resource, shape.subresource)
            };
            let group = if shape.api_group.is_empty() {
                String::new()
            } else {
                format!("{}/", shape.api_group)
            };
            let ns = if shape.namespace.is_empty() {
                String::new()
            } else {
                format!(" -n {}", shape.namespace)
            };
            format!("{} {group}{res}{ns}", shape.verb)
        } else {
            format!("{} {}", shape.verb, shape.path)
        };
        let mark = if level == AuditLevel::None {
            missed += 1;
            "None (MISSED)"
        } else {
            level.as_str()
        };
        let rule = rule.map_or("-".to_owned(), |i| i.to_string());
        let who = if identities.len() > 1 {
            format!("{user} and {} more", identities.len() - 1)
        } else {
            user
        };
        writeln!(
            out,
            "{mark:<16} {rule:<7} {request:<48} {:<24} {who}",
            format!("{category:?}")
        )?;
    }
    writeln!(
        out,
        "\n{} sensitive request shapes in {} events; {missed} would not be logged by {}",
        a.sensitive_shapes.len(),
        a.events,
        policy.display()
    )?;
    Ok(missed == 0)
}

/// `rbac suggest`: the minimal roles for what `subject` did, and granted rules it never used.
pub fn suggest(
    subject: &str,
    groups: &[String],
    logs: &[PathBuf],
    rbac_paths: &[PathBuf],
    write_to: Option<&Path>,
    out: &mut dyn Write,
) -> Result<Report> {
    let mut a = Analysis::tracking(subject);
    read_logs(&mut a, logs)?;
    let rules = audit_log::minimal_rules(&a.tracked);
    let yaml = audit_log::suggested_manifests(subject, &rules);
    match write_to {
        Some(path) => {
            let tmp = path.with_extension("tmp-kubeharden");
            std::fs::write(&tmp, &yaml)?;
            std::fs::rename(&tmp, path)?;
            writeln!(
                out,
                "wrote {} ({} distinct requests by {subject})",
                path.display(),
                a.tracked.len()
            )?;
        }
        None => write!(out, "{yaml}")?,
    }
    // Granted but unused, from the RBAC objects given.
    let (inputs, diagnostics) = crate::inputs::gather(rbac_paths, true)?;
    let mut objects = Vec::new();
    let mut load_diagnostics = Vec::new();
    let mut bytes = 0;
    for input in &inputs {
        let loaded = input.load();
        objects.extend(loaded.objects.into_iter().map(Retained::whole));
        load_diagnostics.extend(loaded.diagnostics);
        bytes += loaded.bytes;
    }
    let group_refs: Vec<&str> = groups.iter().map(String::as_str).collect();
    let input = AuditLogInput {
        log: &a,
        subject: Some((
            subject.to_owned(),
            audit_log::principal(subject, &group_refs),
        )),
        rbac: &objects,
    };
    let mut report = scan::scan_audit_log(&input, &[&PERMISSION_UNUSED]);
    report.diagnostics.extend(diagnostics);
    report.diagnostics.extend(load_diagnostics);
    // The RBAC objects read count as input (the summary line says how many were read), and a
    // question about one subject has no scorecard of the 15 rules.
    report.summary.inputs += inputs.len();
    report.summary.bytes += bytes;
    report.summary.objects += objects.len();
    report.scope.scorecard = false;
    report.scorecard.clear();
    Ok(report)
}

/// The rules whose findings `audit-log analyze` reports (for the rule metadata of reports).
pub fn rules() -> Vec<&'static kubeharden_engine::rules::Rule> {
    kubeharden_engine::rules::audit_log::RULES.to_vec()
}
