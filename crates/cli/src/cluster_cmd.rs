//! `kubeharden cluster`: audit a live cluster (or every context of a kubeconfig) with the same
//! rules as `scan`, reading it through kube-rs (see the `kubeharden-cluster` crate). Kinds that
//! could not be read make the rules that need them "not assessed", with the missing permission.

use crate::scan_cmd::{OutputFormat, ignore_broken_pipe, write_reports};
use crate::text;
use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use kubeharden_cluster::{Options, Snapshot};
use kubeharden_engine::config::Config;
use kubeharden_engine::finish::{self, Exit, Finish};
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::{self, Rule};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_report::View;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct ClusterArgs {
    /// The kubeconfig context (default: the current context).
    #[arg(long, conflicts_with = "all_contexts")]
    pub context: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service
    /// account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Audit every context of the kubeconfig, concurrently, into one report with a section per
    /// cluster (text or json).
    #[arg(long)]
    pub all_contexts: bool,
    /// Only these namespaces (repeatable); cluster-scoped objects are still read. Without
    /// kube-system, the runtime section is not assessed.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Send unauthenticated requests to /version, /api and /apis (rule 5: a finding when they
    /// are answered).
    #[arg(long)]
    pub probe_anonymous: bool,
    /// Timeout of each request to the API server, in seconds.
    #[arg(long, default_value = "30", value_name = "SECONDS")]
    pub timeout: u64,
    /// Lists in flight at once.
    #[arg(long, default_value = "6")]
    pub concurrency: usize,
    /// Objects per page.
    #[arg(long, default_value = "500")]
    pub page_size: u32,
    /// Retries of a request answered 429 or 5xx (exponential backoff).
    #[arg(long, default_value = "4")]
    pub retries: u32,
    #[command(flatten)]
    pub output: crate::scan_cmd::OutputArgs,
    /// Only run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub rules: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub skip_rules: Vec<String>,
    /// Write the findings into the cluster as PolicyReports per namespace and a
    /// ClusterPolicyReport (server-side apply, field manager `kubeharden`), for dashboards that
    /// read them; needs the wgpolicyk8s.io CRDs and the RBAC of deploy/cronjob/.
    #[arg(long, conflicts_with = "all_contexts")]
    pub apply_policy_reports: bool,
    /// Accept an audit that could not read every kind (a 403 on a list): the rules that need
    /// them are still reported not assessed, but the exit code is decided by the findings alone.
    /// Without it such an audit is incomplete: exit 2.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Also evaluate the cluster's own Gatekeeper constraints and ValidatingAdmissionPolicy
    /// bindings on the objects read (config: `enforceInputPolicies: true`). Without it they are
    /// objects of the audit like any other: the API server already enforces them at admission,
    /// so this reports what it does not stop (objects stored before a policy existed, bindings
    /// with Warn or Audit, failurePolicy Ignore).
    #[arg(long)]
    pub enforce_input_policies: bool,
    /// Progress on stderr: `auto` (when it is a terminal), `always`, `never`.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: Progress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

/// One audited cluster.
struct Audit {
    target: Option<kubeharden_cluster::Target>,
    context: String,
    server: String,
    /// The finished report, its exit decision and how the cluster is named.
    result: Result<(Report, Exit, Vec<String>), String>,
    /// The rules of the report: those selected and, with `--enforce-input-policies`, the
    /// cluster's own policies.
    rules: Vec<&'static Rule>,
}

fn options(args: &ClusterArgs) -> Options {
    Options {
        namespaces: args.namespaces.clone(),
        concurrency: args.concurrency.max(1),
        page_size: args.page_size.max(1),
        retries: args.retries,
        probe_anonymous: args.probe_anonymous,
        progress: match args.progress {
            Progress::Always => true,
            Progress::Never => false,
            Progress::Auto => {
                std::io::stderr().is_terminal()
                    && !args.all_contexts
                    && !args.output.no_progress
                    && !args.output.quiet
            }
        },
        ..Options::default()
    }
}

/// Reads and scans one context.
async fn audit(
    args: &ClusterArgs,
    context: Option<&str>,
    selected: &[&'static Rule],
    config: Option<&Config>,
) -> Audit {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let target =
        match kubeharden_cluster::connect(args.kubeconfig.as_deref(), context, timeout).await {
            Ok(t) => t,
            Err(e) => {
                return Audit {
                    target: None,
                    context: context.unwrap_or("").to_owned(),
                    server: String::new(),
                    result: Err(e.to_string()),
                    rules: selected.to_vec(),
                };
            }
        };
    let (context, server) = (
        target.context.clone(),
        target.config.cluster_url.to_string(),
    );
    // The cores are idle while the cluster is listed.
    kubeharden_engine::scan::warm_up();
    let snapshot: Snapshot = match kubeharden_cluster::collect(&target, &options(args)).await {
        Ok(s) => s,
        Err(e) => {
            return Audit {
                target: None,
                context,
                server,
                result: Err(e.to_string()),
                rules: selected.to_vec(),
            };
        }
    };
    if snapshot.objects == 0 {
        let reasons: Vec<String> = snapshot
            .unavailable
            .iter()
            .map(|u| u.reason.clone())
            .collect();
        return Audit {
            target: None,
            context,
            server,
            result: Err(format!(
                "the cluster returned no objects, so nothing was checked (wrong context or namespace, or no permission){}",
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", reasons.join("; "))
                }
            )),
            rules: selected.to_vec(),
        };
    }
    let names: Vec<String> = vec![format!(
        "cluster {context} ({server}): {} objects, {} requests",
        snapshot.objects, snapshot.requests
    )];
    let enforce = args.enforce_input_policies || config.is_some_and(|c| c.enforce_input_policies);
    let (report, gaps, rules) = if enforce {
        let cfg = config.cloned().unwrap_or_default();
        let custom = match crate::custom_policies::load(&snapshot.inputs, &[], false, true) {
            Ok(c) => c,
            Err(e) => {
                return Audit {
                    target: None,
                    context,
                    server,
                    result: Err(e.to_string()),
                    rules: selected.to_vec(),
                };
            }
        };
        let mut rules = selected.to_vec();
        rules.extend(custom.select(&cfg, &args.rules, &args.skip_rules));
        let extras = kubeharden_engine::scan::Extras {
            custom: custom.engine(),
            ..Default::default()
        };
        let mut report = kubeharden_engine::scan::scan_owned(snapshot.inputs, &rules, extras);
        report.diagnostics.extend(custom.diagnostics());
        (report, snapshot.unavailable, rules)
    } else {
        let (report, gaps) = kubeharden_cluster::scan_into(snapshot, selected);
        (report, gaps, selected.to_vec())
    };
    let how = Finish {
        gaps: &gaps,
        allow_incomplete: args.allow_incomplete,
        ..args.output.finish(config)
    };
    let (report, exit) = finish::finish(report, &how);
    Audit {
        target: Some(target),
        context,
        server,
        result: Ok((report, exit, names)),
        rules,
    }
}

pub fn run(args: ClusterArgs) -> Result<ExitCode> {
    for id in args.rules.iter().chain(&args.skip_rules) {
        if rules::find(id).is_none() && !crate::custom_policies::is_custom_id(id) {
            return Err(crate::scan_cmd::unknown_rule(id));
        }
    }
    let config = args.output.config()?;
    let cfg = config.clone().unwrap_or_default();
    let selected: Vec<&'static Rule> = cfg.select(&args.rules, &args.skip_rules);
    if selected.is_empty() {
        bail!("no rule is selected (check --rules, --skip-rules and the config's enable/disable)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    if args.all_contexts {
        if !matches!(args.output.format, OutputFormat::Text | OutputFormat::Json)
            || !args.output.outputs.is_empty()
        {
            bail!("--all-contexts writes text or json to stdout only");
        }
        let contexts = kubeharden_cluster::contexts(args.kubeconfig.as_deref())?;
        if contexts.is_empty() {
            bail!("the kubeconfig has no contexts");
        }
        let audits = runtime.block_on(futures::future::join_all(
            contexts
                .iter()
                .map(|c| audit(&args, Some(c.as_str()), &selected, config.as_ref())),
        ));
        return all_contexts(&args, &audits);
    }

    let audit = runtime.block_on(audit(
        &args,
        args.context.as_deref(),
        &selected,
        config.as_ref(),
    ));
    let (report, exit, names) = match audit.result {
        Ok(r) => r,
        Err(e) => bail!("{}{e}", context_prefix(&audit.context, &audit.server)),
    };
    let view = View {
        report: &report,
        rules: &audit.rules,
        severity: &cfg.severity,
        inputs: &names,
        fail_on: args.output.fail_on,
        config: config.as_ref().map(|c| c.origin.as_str()),
    };
    if args.apply_policy_reports {
        let yaml = kubeharden_report::render(kubeharden_report::Format::PolicyReport, &view);
        let documents: Vec<serde_json::Value> =
            kubeharden_engine::load::load_bytes("policyreports", yaml.into_bytes())
                .objects
                .iter()
                .map(|o| o.root.to_json())
                .collect();
        let target = audit
            .target
            .as_ref()
            .expect("a target after a successful audit");
        let applied = runtime
            .block_on(kubeharden_cluster::apply_policy_reports(
                target,
                &options(&args),
                &documents,
            ))
            .map_err(anyhow::Error::msg)?;
        eprintln!(
            "kubeharden: applied {applied} policy reports to {}",
            audit.server
        );
    }
    // A closed pipe stops the writing, not the verdict.
    ignore_broken_pipe(write_reports(
        &view,
        args.output.format,
        &args.output.outputs,
        &args.output.text_options(),
    ))?;
    Ok(ExitCode::from(exit.code()))
}

fn context_prefix(context: &str, server: &str) -> String {
    match (context.is_empty(), server.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("context `{context}`: "),
        (false, false) => format!("context `{context}` ({server}): "),
    }
}

/// One section per cluster; exit 2 if any cluster could not be audited, else 1 if any fails.
fn all_contexts(args: &ClusterArgs, audits: &[Audit]) -> Result<ExitCode> {
    let mut code = 0u8;
    for a in audits {
        code = code.max(match &a.result {
            Ok((_, exit, _)) => exit.code(),
            Err(_) => 2,
        });
        // An unreachable cluster outranks findings elsewhere.
        if a.result.is_err() {
            code = 2;
        }
    }
    ignore_broken_pipe(write_all_contexts(args, audits))?;
    Ok(ExitCode::from(code))
}

fn write_all_contexts(args: &ClusterArgs, audits: &[Audit]) -> Result<()> {
    let mut out = std::io::BufWriter::new(anstream::stdout().lock());
    if args.output.format == OutputFormat::Json {
        let clusters: Vec<serde_json::Value> = audits
            .iter()
            .map(|a| match &a.result {
                Ok((r, _, _)) => {
                    serde_json::json!({"context": a.context, "server": a.server, "report": r})
                }
                Err(e) => {
                    serde_json::json!({"context": a.context, "server": a.server, "error": e})
                }
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"schema_version": kubeharden_engine::report::SCHEMA_VERSION, "clusters": clusters}),
        )?;
        writeln!(out)?;
    } else {
        for a in audits {
            writeln!(out, "══ cluster {} ({}) ══", a.context, a.server)?;
            match &a.result {
                Ok((r, _, _)) => text::render_with(
                    &mut out,
                    r,
                    args.output.fail_on,
                    &args.output.text_options(),
                )?,
                Err(e) => text::diagnostics(
                    &mut out,
                    &[Diagnostic::new(
                        DiagLevel::Error,
                        &format!("cluster:{}", a.context),
                        None,
                        e.clone(),
                    )],
                )?,
            }
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}
