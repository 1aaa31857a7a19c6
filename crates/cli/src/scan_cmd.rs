//! `kubeharden scan`: inputs → scan → config, suppressions and baseline → reports on stdout and in
//! files (`--output FORMAT=PATH`, repeatable).

use crate::{custom_policies, inputs, text};
use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use kubeharden_engine::baseline::Baseline;
use kubeharden_engine::config::{self, Config};
use kubeharden_engine::finding::Severity;
use kubeharden_engine::finish::{self, Finish};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::{self, Rule};
use kubeharden_engine::scan;
use kubeharden_engine::timings;
use kubeharden_report::{Format, View};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human diagnostics with snippets, the scorecard and a summary.
    Text,
    /// The versioned JSON report (docs/json.md); also what `--baseline` reads.
    Json,
    /// SARIF 2.1.0 for code scanning (GitHub, GitLab, editors).
    Sarif,
    /// JUnit XML: one test case per rule and object.
    Junit,
    /// Markdown for a pull-request comment.
    Markdown,
    /// PolicyReports (wgpolicyk8s.io/v1alpha2) per namespace and a ClusterPolicyReport, as YAML.
    Policyreport,
    /// A self-contained HTML audit report.
    Html,
}

impl OutputFormat {
    fn report_format(self) -> Option<Format> {
        Some(match self {
            OutputFormat::Text => return None,
            OutputFormat::Json => Format::Json,
            OutputFormat::Sarif => Format::Sarif,
            OutputFormat::Junit => Format::Junit,
            OutputFormat::Markdown => Format::Markdown,
            OutputFormat::Policyreport => Format::PolicyReport,
            OutputFormat::Html => Format::Html,
        })
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_output(s: &str) -> Result<(OutputFormat, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH (e.g. sarif=kubeharden.sarif), got `{s}`"))?;
    if path.is_empty() {
        return Err(format!("no path after `{format}=`"));
    }
    let format = OutputFormat::from_str(format, true).map_err(|_| {
        format!(
            "unknown format `{format}` (text, json, sarif, junit, markdown, policyreport, html)"
        )
    })?;
    Ok((format, PathBuf::from(path)))
}

#[derive(Args)]
pub struct ScanArgs {
    /// Files or directories; `-` reads stdin (e.g. `helm template … | kubeharden scan -`).
    #[arg(required_unless_present = "apiserver_flags")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// A previous JSON report (`--format json`): findings are marked new or unchanged (by
    /// fingerprint), and those that are gone are listed as fixed.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Exit with 1 only for findings that are new against --baseline (at or above --fail-on).
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// Scan the raw files of kustomization directories instead of rendering them.
    #[arg(long)]
    pub no_kustomize: bool,
    /// Kill a kustomization render (and everything it started) that takes longer than this;
    /// its files are then scanned unrendered.
    #[arg(long, value_name = "SECONDS", default_value_t = inputs::DEFAULT_KUSTOMIZE_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub kustomize_timeout: u64,
    /// Let kustomizations fetch remote bases and resources (URLs, `github.com/…`, `git::…`).
    /// Without it renders are offline: a kustomization with a remote reference is not rendered,
    /// an error names the reference (exit 2), and its directory's files are scanned as they are.
    #[arg(long, conflicts_with = "no_kustomize")]
    pub allow_remote_bases: bool,
    /// Render kustomizations with `--enable-helm` (their `helmCharts:`); needs `helm`.
    #[arg(long, conflicts_with = "no_kustomize")]
    pub kustomize_enable_helm: bool,
    /// A kustomization or chart that fails to render is a warning and its files are scanned
    /// unrendered; without it the scan is incomplete (exit 2).
    #[arg(long)]
    pub allow_render_errors: bool,
    /// Render every kustomization anew: neither read nor write the render cache
    /// (`$XDG_CACHE_HOME/kubeharden/render`, keyed by the whole input tree of each render).
    #[arg(long)]
    pub no_cache: bool,
    /// A values file for the Helm charts scanned (`helm template --values`), repeatable.
    #[arg(
        long = "values",
        short = 'f',
        value_name = "FILE",
        help_heading = "Helm charts"
    )]
    pub values: Vec<PathBuf>,
    /// A value for the Helm charts scanned (`helm template --set KEY=VALUE`), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", help_heading = "Helm charts")]
    pub set: Vec<String>,
    /// The release name charts are rendered with (default: the chart directory's name).
    #[arg(long, value_name = "NAME", help_heading = "Helm charts")]
    pub helm_release: Option<String>,
    /// The namespace charts are rendered into (default: the release name).
    #[arg(long, value_name = "NS", help_heading = "Helm charts")]
    pub namespace: Option<String>,
    /// Only run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub rules: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub skip_rules: Vec<String>,
    /// Succeed when no Kubernetes object was found (otherwise an empty scan is exit 2).
    #[arg(long)]
    pub allow_empty: bool,
    /// Files or directories of Gatekeeper ConstraintTemplates and Constraints,
    /// ValidatingAdmissionPolicies and bindings (and their parameter objects) to evaluate
    /// without scanning them, repeatable. Policies among the scanned inputs are objects of the
    /// scan, not enforced, unless --enforce-input-policies.
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Also enforce the Gatekeeper constraints and ValidatingAdmissionPolicy bindings found
    /// among the scanned inputs on the other inputs (config: `enforceInputPolicies: true`).
    #[arg(long)]
    pub enforce_input_policies: bool,
    /// An API server command line to audit as evidence, as `kubeharden node` takes it (e.g. from
    /// `ps` on a managed node or a cloud console): `"--authorization-mode=Node,RBAC …"`.
    #[arg(long, allow_hyphen_values = true, value_name = "FLAGS")]
    pub apiserver_flags: Option<String>,
}

/// How an input is named in reports.
fn input_name(input: &Input) -> String {
    match input {
        Input::File(p) => p.display().to_string(),
        Input::Bytes { name, .. } => name.clone(),
        Input::Rendered { name, sources, .. } => {
            format!("{name} from {} files", sources.len())
        }
    }
}

/// A path as it is shown: relative to the working directory when it is inside it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// `--config`, or the nearest `.kubeharden.yaml`, unless `--no-config`.
pub fn load_config(explicit: Option<&Path>, none: bool) -> Result<Option<Config>> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                bail!("config file {} does not exist", p.display());
            }
            p.to_path_buf()
        }
        None if none => return Ok(None),
        None => match config::discover(&std::env::current_dir()?) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let config = Config::load(&path, &shown(&path)).map_err(|e| anyhow::anyhow!("config: {e}"))?;
    Ok(Some(config))
}

/// Writes one format into a file (text without colour).
fn render_file(
    format: OutputFormat,
    view: &View<'_>,
    opts: &text::Options,
    path: &Path,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    match format.report_format() {
        Some(f) => kubeharden_report::render_to(f, view, &mut w)?,
        None => {
            // Straight into the file: the text of 100,000s of findings is never held whole.
            text::render_plain(&mut w, view.report, view.fail_on, opts)?;
        }
    }
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `no rule `X``, with the nearest rule ids when one is close (a typo: a few letters off, or a
/// prefix of a longer id).
pub fn unknown_rule(id: &str) -> anyhow::Error {
    let limit = (id.chars().count() / 6).max(2);
    let scored: Vec<(usize, &str)> = rules::all()
        .iter()
        .map(|r| (strsim::damerau_levenshtein(id, r.id), r.id))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min();
    let mut near: Vec<&str> = scored
        .iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, r)| *r)
        .collect();
    near.sort_unstable();
    near.truncate(3);
    if near.is_empty() {
        anyhow::anyhow!("no rule `{id}`; `kubeharden rules` lists them")
    } else {
        let names: Vec<String> = near.iter().map(|r| format!("`{r}`")).collect();
        anyhow::anyhow!(
            "no rule `{id}`; did you mean {}? (`kubeharden rules` lists them)",
            names.join(" or ")
        )
    }
}

/// Every named path exists (`-` is stdin): a missing one is an error before anything runs.
fn check_paths(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(())
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    args.output.apply_color();
    for id in args.rules.iter().chain(&args.skip_rules) {
        if rules::find(id).is_none() && !custom_policies::is_custom_id(id) {
            return Err(unknown_rule(id));
        }
    }
    check_paths(&args.paths)?;
    let config = args.output.config()?;
    let cfg = config.clone().unwrap_or_default();
    let mut selected: Vec<&'static Rule> = cfg.select(&args.rules, &args.skip_rules);
    if selected.is_empty()
        && !args
            .rules
            .iter()
            .any(|id| custom_policies::is_custom_id(id))
    {
        bail!("no rule is selected (check --rules, --skip-rules and the config's enable/disable)");
    }
    let baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p).map_err(anyhow::Error::msg)?),
        None => None,
    };

    let kustomize = inputs::Kustomize {
        render: !args.no_kustomize,
        timeout: std::time::Duration::from_secs(args.kustomize_timeout),
        allow_remote: args.allow_remote_bases,
        enable_helm: args.kustomize_enable_helm,
        allow_render_errors: args.allow_render_errors,
        cache: crate::render_cache::Cache::new(!args.no_cache),
        helm: inputs::Helm {
            values: args.values.clone(),
            set: args.set.clone(),
            release: args.helm_release.clone(),
            namespace: args.namespace.clone(),
        },
    };
    let progress = args.output.progress();
    progress.set(if args.no_kustomize {
        "reading inputs"
    } else {
        "reading inputs, rendering kustomizations and charts"
    });
    timings::mark("arguments and config");
    kubeharden_engine::scan::warm_up();
    let (inputs, diagnostics) = inputs::gather_with(&args.paths, &kustomize)?;
    timings::mark("inputs gathered (directory walk, renders)");
    let mut inputs: Vec<Input> = inputs
        .into_iter()
        .filter(|i| !matches!(i, Input::File(p) if cfg.is_excluded(p)))
        .collect();
    if let Some(line) = &args.apiserver_flags {
        inputs.push(crate::node_cmd::command_line(line));
    }
    let names: Vec<String> = inputs.iter().map(input_name).collect();
    let mut custom = custom_policies::load(
        &inputs,
        &args.policies,
        !args.no_kustomize,
        args.enforce_input_policies || cfg.enforce_input_policies,
    )?;
    selected.extend(custom.select(&cfg, &args.rules, &args.skip_rules));
    timings::mark("pre-scan (namespaces, policy objects)");
    let extras = scan::Extras {
        custom: custom.engine(),
        phase0: custom.take_phase0(),
        ..scan::Extras::default()
    };
    progress.set(format!(
        "scanning {} with {}",
        text::plural(inputs.len(), "input"),
        text::plural(selected.len(), "rule")
    ));
    let mut report = scan::scan_owned(inputs, &selected, extras);
    progress.finish();
    inputs::locate_in_templates(&mut report.findings);
    inputs::locate_in_templates(&mut report.suppressed_findings);
    report.diagnostics.splice(0..0, diagnostics);
    report.diagnostics.extend(custom.diagnostics());
    let how = Finish {
        baseline: baseline.as_ref(),
        allow_empty: args.allow_empty,
        fail_on_new: args.fail_on_new,
        ..args.output.finish(config.as_ref())
    };
    args.output.write(report, &how, &selected, &names)
}

/// Writes the report to stdout in `format` and to each `--output FORMAT=PATH` file.
pub fn write_reports(
    view: &View<'_>,
    format: OutputFormat,
    outputs: &[(OutputFormat, PathBuf)],
    opts: &text::Options,
) -> Result<()> {
    for (f, path) in outputs {
        render_file(*f, view, opts, path)?;
    }
    match format.report_format() {
        // Machine formats go out as they are: anstream's escape stripping cost 40 ms on a
        // 10 MB JSON report, and they hold no escapes.
        Some(f) => {
            let mut out = std::io::stdout().lock();
            kubeharden_report::render_to(f, view, &mut out)?;
            out.flush()?;
        }
        // Colours off (not a terminal, NO_COLOR…): the escapes are dropped by the report itself,
        // on every core, not by anstream's stream after it.
        None if anstream::AutoStream::choice(&std::io::stdout())
            == anstream::ColorChoice::Never =>
        {
            let mut out = std::io::stdout().lock();
            text::render_plain(&mut out, view.report, view.fail_on, opts)?;
            out.flush()?;
        }
        None => {
            let mut out = anstream::stdout().lock();
            text::render_with(&mut out, view.report, view.fail_on, opts)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The report options of every command that produces a report (`scan`, `cluster`, `node`,
/// `audit-log analyze`): the format, extra outputs, the failure threshold.
#[derive(Args)]
pub struct OutputArgs {
    /// The format written to stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Also write a report to a file: FORMAT=PATH, repeatable (`--output sarif=out.sarif
    /// --output html=report.html`).
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<(OutputFormat, PathBuf)>,
    /// Exit with 1 when a finding at or above this severity is reported.
    #[arg(long, default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// The config file (default: the nearest .kubeharden.yaml in the working directory or a
    /// parent).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Ignore other tools' suppression annotations (kube-linter, Polaris, Checkov, kubescape,
    /// kube-score).
    #[arg(long)]
    pub no_foreign_suppressions: bool,
    /// List the suppressed findings, with what suppressed them.
    #[arg(long)]
    pub show_suppressed: bool,
    /// How findings are printed in text: `full` (each with its lines and fix), `concise` (one
    /// line each: `path:line:col: severity rule message`) or `grouped` (by rule: why and fix
    /// once, then every location).
    #[arg(long, value_enum, default_value = "full", help_heading = "Text output")]
    pub style: text::Style,
    /// The order of findings in text: `severity` (most severe first, then file, line, column)
    /// or `location`.
    #[arg(
        long,
        value_enum,
        default_value = "severity",
        help_heading = "Text output"
    )]
    pub sort: text::Sort,
    /// Print only findings at or above this severity (text; the exit code is --fail-on's).
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY", help_heading = "Text output")]
    pub min_severity: Option<Severity>,
    /// Print only findings of these severities (comma-separated; text).
    #[arg(long = "severity", value_delimiter = ',', value_parser = parse_severity,
          value_name = "LIST", help_heading = "Text output")]
    pub severities: Vec<Severity>,
    /// Print only the summary (the exit code is unchanged).
    #[arg(short = 'q', long, help_heading = "Text output")]
    pub quiet: bool,
    /// Colour in text: `auto` (when stdout is a terminal and NO_COLOR is unset), `always`,
    /// `never`.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Text output"
    )]
    pub color: Color,
    /// No progress display on stderr (shown only when stderr is a terminal and the run takes
    /// more than half a second).
    #[arg(long, help_heading = "Text output")]
    pub no_progress: bool,
    /// Count the findings expected for well-known system components (CNI agents, CSI node
    /// plugins, kube-proxy, Falco, node-exporter, control-plane static Pods): by default they
    /// are shown as "expected for <component>" but neither fail nor count in the scorecard.
    #[arg(long)]
    pub strict_system: bool,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl OutputArgs {
    /// The text options (`--style`, `--sort`, the severity filters, `-q`).
    pub fn text_options(&self) -> text::Options {
        text::Options {
            style: self.style,
            sort: self.sort,
            min_severity: self.min_severity,
            severities: self.severities.clone(),
            quiet: self.quiet,
        }
    }

    /// Applies `--color` to every stream written afterwards (`auto` keeps anstream's own
    /// decision: a terminal, NO_COLOR, CLICOLOR_FORCE).
    pub fn apply_color(&self) {
        let choice = match self.color {
            Color::Auto => return,
            Color::Always => anstream::ColorChoice::Always,
            Color::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }

    /// A progress display on stderr (nothing unless stderr is a terminal, the run lasts more
    /// than half a second and `--no-progress` is not given).
    pub fn progress(&self) -> crate::progress::Progress {
        crate::progress::Progress::new(!self.no_progress && !self.quiet)
    }

    /// `--config`, or the nearest `.kubeharden.yaml`, unless `--no-config`.
    pub fn config(&self) -> Result<Option<Config>> {
        load_config(self.config.as_deref(), self.no_config)
    }

    /// How the report is finished: the config, the peers' annotations, the threshold (the
    /// caller adds what only it knows: a baseline, evidence gaps, `--allow-empty`).
    pub fn finish<'a>(&self, config: Option<&'a Config>) -> Finish<'a> {
        Finish {
            config,
            foreign_suppressions: !self.no_foreign_suppressions,
            show_suppressed: self.show_suppressed,
            strict_system: self.strict_system,
            fail_on: self.fail_on,
            ..Finish::default()
        }
    }

    /// Finishes the report of `rules` over `inputs` the one way every command does
    /// ([`finish::finish`]) and writes it as asked; the exit code.
    pub fn write(
        &self,
        report: Report,
        how: &Finish<'_>,
        rules: &[&'static Rule],
        inputs: &[String],
    ) -> Result<ExitCode> {
        self.apply_color();
        let (report, exit) = finish::finish(report, how);
        let no_overrides = std::collections::BTreeMap::new();
        let view = View {
            report: &report,
            rules,
            severity: how.config.map_or(&no_overrides, |c| &c.severity),
            inputs,
            fail_on: self.fail_on,
            config: how.config.map(|c| c.origin.as_str()),
        };
        // A reader that closes the pipe (`kubeharden scan DIR | head -1`) stops the writing, not
        // the verdict: the exit code is still the findings'.
        timings::mark("report finished");
        ignore_broken_pipe(write_reports(
            &view,
            self.format,
            &self.outputs,
            &self.text_options(),
        ))?;
        timings::mark("report written");
        Ok(ExitCode::from(exit.code()))
    }
}

/// Is this error (anywhere in its chain, through `io::Error::other` and serde_json's wrapping) a
/// write to a pipe whose reader is gone?
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    fn io_broken(e: &std::io::Error) -> bool {
        e.kind() == std::io::ErrorKind::BrokenPipe || e.get_ref().is_some_and(inner_broken)
    }
    fn inner_broken(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io_broken(io);
        }
        if let Some(json) = e.downcast_ref::<serde_json::Error>() {
            return json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe);
        }
        false
    }
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(io_broken)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// `Ok` for a broken pipe on stdout: the caller goes on to its exit code.
pub fn ignore_broken_pipe(result: Result<()>) -> Result<()> {
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}
