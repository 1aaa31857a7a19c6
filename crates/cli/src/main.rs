//! The `kubeharden` command line.

mod audit_log_cmd;
mod cluster_cmd;
mod config_cmd;
mod custom_policies;
mod diff_cmd;
mod fix_cmd;
mod inputs;
mod meta_cmd;
mod netpol_cmd;
mod node_cmd;
mod progress;
mod rbac_cmd;
mod render_cache;
mod scan_cmd;
mod serve_cmd;
mod text;

use anyhow::Result;
use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};
use kubeharden_engine::analysis::pss::{self, Level, Version};
use kubeharden_engine::finding::Severity;
use kubeharden_engine::inventory::PodTemplate;
use kubeharden_engine::rules;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: parsing allocates a node per scalar, and glibc's allocator spent a fifth of a scan
/// in malloc/free (musl's, in the static binary, more); see docs/performance.md.
/// `--no-default-features` leaves the system's allocator, for heap profilers.
#[cfg(all(feature = "mimalloc", not(feature = "alloc-count")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With the `alloc-count` feature (for profiling, not for release: every allocation then updates
/// one counter shared by every thread), mimalloc counting the bytes in use, which
/// `KUBEHARDEN_TIMINGS=1` prints beside the resident size at each step.
#[cfg(all(feature = "mimalloc", feature = "alloc-count"))]
#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[cfg(all(feature = "mimalloc", feature = "alloc-count"))]
mod counting {
    use kubeharden_engine::timings::{COUNTING, LIVE_BYTES, PEAK_LIVE_BYTES};
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::Ordering::Relaxed;

    pub struct Counting;

    fn grew(by: isize) {
        // Written once: a store on every allocation would bounce the line between the cores.
        if !COUNTING.load(Relaxed) {
            COUNTING.store(true, Relaxed);
        }
        let now = LIVE_BYTES.fetch_add(by, Relaxed) + by;
        PEAK_LIVE_BYTES.fetch_max(now, Relaxed);
    }

    // SAFETY: every call is passed on to mimalloc unchanged; the counter is only arithmetic.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grew(layout.size() as isize);
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            grew(layout.size() as isize);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            grew(new_size as isize - layout.size() as isize);
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// mimalloc v3 keeps freed memory for a second (`purge_delay`, 1000 ms) and commits its arenas
/// eagerly (`arena_eager_commit`): a scan's peak RSS was 20% above glibc's for 5% less CPU. Eager
/// commit off, and freed memory kept 50 ms: a tenth of a second of scanning reuses it (a purge
/// delay of 0 faulted every file's buffer in again: 20,400 page faults on `real/` against 10,400,
/// 6% more CPU) and the peak stays within 1% of a delay of 0 (docs/performance.md). The option
/// numbers are those of `include/mimalloc.h` of the mimalloc v3 that libmimalloc-sys builds; the
/// test below checks them by their documented defaults.
#[cfg(feature = "mimalloc")]
mod allocator {
    pub const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    pub const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const PURGE_DELAY_MS: std::ffi::c_long = 50;

    /// [`tune`] before `main`, as the loader runs ELF constructors: the Rust runtime allocates
    /// (and mimalloc reserves its first arena) before `main`, and an arena keeps the
    /// `arena_eager_commit` it was made with (set in `main`, the option missed it: peak RSS
    /// 251-257 MB instead of 238 MB at 100,000 objects).
    /// (Not in the unit tests: the test below reads the options' defaults.)
    #[cfg(all(target_os = "linux", not(test)))]
    #[used]
    #[unsafe(link_section = ".init_array")]
    static TUNE_AT_LOAD: extern "C" fn() = {
        extern "C" fn tune_at_load() {
            tune();
        }
        tune_at_load
    };

    pub fn tune() {
        // SAFETY: `mi_option_set` only stores a value in mimalloc's option table; any value is
        // valid for these two options.
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
            libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        }
    }

    /// For the long-running webhook: freed memory returned at once. Its threads (a blocking pool
    /// of evaluators) each keep what they freed for the delay, and with 50 ms its RSS grew 10.4%
    /// over 1,000,000 reviews where a delay of 0 kept it within 8% (`bench/webhook.sh`); a review
    /// reads no files, so the delay saves it no page faults.
    pub fn for_server() {
        // SAFETY: as in `tune`.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
    }

    #[cfg(test)]
    #[test]
    fn the_option_numbers_are_those_of_the_built_mimalloc() {
        // SAFETY: reads mimalloc's option table.
        let (purge_delay, eager_commit) = unsafe {
            (
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
                libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT),
            )
        };
        // The defaults of mimalloc v3 (src/options.c): purge_delay 1000 ms, arena_eager_commit 2.
        assert_eq!((purge_delay, eager_commit), (1000, 2));
        tune();
        // SAFETY: as above.
        let tuned = unsafe {
            (
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
                libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT),
            )
        };
        assert_eq!(tuned, (50, 0));
        for_server();
        // SAFETY: as above.
        let served = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(served, 0);
    }
}

/// Audit and enforce Kubernetes production hardening.
#[derive(Parser)]
#[command(name = "kubeharden", version = meta_cmd::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Subcommand)]
enum Command {
    /// Scan manifests (files, directories, or `-` for stdin) against the hardening rules.
    Scan(scan_cmd::ScanArgs),
    /// Audit a live cluster through its API (kubeconfig context or in-cluster), read-only.
    Cluster(cluster_cmd::ClusterArgs),
    /// Run the admission webhook: the scan rules enforced at admission (HTTPS, AdmissionReview v1).
    Serve(serve_cmd::ServeArgs),
    /// Compare two JSON reports: new, unchanged and fixed findings (exit 1 when there are new ones).
    Diff(diff_cmd::DiffArgs),
    /// The `.kubeharden.yaml` config file.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Fix findings in the manifests themselves: comment-preserving edits, safe fixes by default.
    Fix(fix_cmd::FixArgs),
    /// Generate what is missing: default-deny NetworkPolicies, Namespaces with Pod Security labels.
    #[command(subcommand)]
    Generate(fix_cmd::GenerateCommand),
    /// Evaluate pod templates against a Pod Security Standard, exactly as the admission plugin does.
    Pss {
        #[arg(long, default_value = "restricted")]
        level: String,
        /// `latest` or `v1.N`.
        #[arg(long, default_value = "latest")]
        version: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the rules.
    Rules {
        #[arg(long, value_enum, default_value = "text")]
        format: RulesFormat,
    },
    /// Explain one rule: rationale, remedy, references.
    Explain { id: String },
    /// Audit a node: static Pod manifests, kubelet config and units, files named by the API
    /// server's flags, and the ownership and permissions of the CIS files.
    Node {
        /// Read the node's files under this directory instead of `/`.
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// An API server command line to audit as well (e.g. from `ps` on a managed node).
        #[arg(long, allow_hyphen_values = true)]
        apiserver_flags: Option<String>,
        #[command(flatten)]
        output: scan_cmd::OutputArgs,
    },
    /// Audit Policy tools.
    #[command(subcommand)]
    AuditPolicy(AuditPolicyCommand),
    /// What accounts did, from the API server's audit log.
    #[command(subcommand)]
    AuditLog(AuditLogCommand),
    /// RBAC tools: who can do what, what a subject can do, how it escalates.
    #[command(subcommand)]
    Rbac(RbacCommand),
    /// NetworkPolicy questions: the reach matrix, and why one connection is allowed or denied.
    #[command(subcommand)]
    Netpol(netpol_cmd::NetpolCommand),
    /// The release, the git commit it was built from, and the number of rules.
    Version(meta_cmd::VersionArgs),
    /// A shell completion script: `kubeharden completion bash > /etc/bash_completion.d/kubeharden`.
    Completion(meta_cmd::CompletionArgs),
    /// Write the man pages into DIR (docs/man holds them).
    #[command(hide = true)]
    Man(meta_cmd::ManArgs),
}

#[derive(Subcommand)]
enum AuditLogCommand {
    /// Sensitive operations by user and namespace (JSON lines, gzip, rotated files; `-` = stdin).
    Analyze {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        output: scan_cmd::OutputArgs,
    },
    /// Which sensitive requests seen in the log an audit Policy would log, and which it would miss.
    Coverage {
        #[arg(long)]
        policy: PathBuf,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RbacCommand {
    /// Every subject allowed a request, with the binding, role and rule that grant it, and the
    /// workloads that act as it with a mounted token (exit 0; 2 when the input is incomplete).
    WhoCan(rbac_cmd::WhoCanArgs),
    /// `can SUBJECT VERB RESOURCE`: yes (exit 0) or no (exit 1) with the granting rule, like
    /// `kubectl auth can-i`; `can SUBJECT`: its effective permissions by namespace.
    Can(rbac_cmd::CanArgs),
    /// Escalation chains from SUBJECT to cluster-admin, secrets or nodes, shortest first.
    Paths(rbac_cmd::PathsArgs),
    /// The minimal Role/ClusterRole covering what SUBJECT did in the audit log, and the granted
    /// permissions (from RBAC manifests) it never used.
    Suggest {
        /// A user name or `system:serviceaccount:<ns>:<name>`.
        subject: String,
        #[arg(long = "audit-log", required = true)]
        audit_logs: Vec<PathBuf>,
        /// The subject's groups (for Group bindings).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Write the suggested manifests here instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// RBAC manifests (files or directories) holding what the subject is granted.
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditPolicyCommand {
    /// Which rule of an audit Policy decides a request, and at which level.
    Explain {
        file: PathBuf,
        #[arg(long, default_value = "")]
        user: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long)]
        verb: String,
        /// `secrets`, `pods/exec`, `apps/deployments`, `rbac.authorization.k8s.io/clusterroles`, or a
        /// non-resource path such as `/healthz`.
        #[arg(long)]
        resource: String,
        #[arg(short = 'n', long, default_value = "")]
        namespace: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

fn main() -> ExitCode {
    // Elsewhere than Linux, as early as we can (on Linux it ran when the binary was loaded).
    #[cfg(all(feature = "mimalloc", not(target_os = "linux")))]
    allocator::tune();
    kubeharden_engine::timings::start();
    let cli = Cli::parse();
    // Commands that only print (rules, explanations, generated manifests) owe no verdict.
    let informational = matches!(
        cli.command,
        Command::Rules { .. }
            | Command::Explain { .. }
            | Command::Config(_)
            | Command::Generate(_)
            | Command::AuditPolicy(_)
            | Command::Version(_)
            | Command::Completion(_)
            | Command::Man(_)
    );
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // `kubeharden rules | head`: a closed pipe is not an error worth reporting. A command
            // that owes a verdict and could not reach it (report commands exit with their
            // findings' code on a closed pipe, see `OutputArgs::write`) is never a success.
            if scan_cmd::is_broken_pipe(&e) {
                return if informational {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                };
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan_cmd::run(args),
        Command::Cluster(args) => cluster_cmd::run(args),
        Command::Serve(args) => {
            #[cfg(feature = "mimalloc")]
            allocator::for_server();
            serve_cmd::run(args)
        }
        Command::Diff(args) => diff_cmd::run(args),
        Command::Config(command) => config_cmd::run(command),
        Command::Fix(args) => fix_cmd::run(args),
        Command::Generate(command) => fix_cmd::generate(command),
        Command::Pss {
            level,
            version,
            format,
            paths,
        } => pss_command(&level, &version, format, &paths),
        Command::Rules { format } => {
            let mut out = anstream::stdout().lock();
            match format {
                RulesFormat::Json => serde_json::to_writer_pretty(&mut out, rules::all())?,
                RulesFormat::Markdown => write!(out, "{}", text::rules_markdown())?,
                RulesFormat::Text => text::rules_table(&mut out)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Node {
            root,
            apiserver_flags,
            output,
        } => {
            node_cmd::ensure_dir(&root)?;
            let config = output.config()?;
            let selected = config.clone().unwrap_or_default().select(&[], &[]);
            let report = node_cmd::scan_node(&root, apiserver_flags.as_deref(), &selected);
            let inputs = vec![format!("node {}", root.display())];
            output.write(report, &output.finish(config.as_ref()), &selected, &inputs)
        }
        Command::AuditLog(AuditLogCommand::Analyze { files, output }) => {
            let config = output.config()?;
            let selected = config.clone().unwrap_or_default().select(&[], &[]);
            let report = audit_log_cmd::analyze(&files, &selected)?;
            let inputs: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            let how = output.finish(config.as_ref());
            output.write(report, &how, &audit_log_cmd::rules(), &inputs)
        }
        Command::AuditLog(AuditLogCommand::Coverage { policy, files }) => {
            let complete =
                audit_log_cmd::coverage(&policy, &files, &mut anstream::stdout().lock())?;
            Ok(if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Rbac(RbacCommand::WhoCan(args)) => rbac_cmd::who_can(args),
        Command::Rbac(RbacCommand::Can(args)) => rbac_cmd::can(args),
        Command::Rbac(RbacCommand::Paths(args)) => rbac_cmd::paths(args),
        Command::Netpol(command) => netpol_cmd::run(command),
        Command::Version(args) => meta_cmd::version(args),
        Command::Completion(args) => meta_cmd::completion(Cli::command(), args),
        Command::Man(args) => meta_cmd::man(Cli::command(), args),
        Command::Rbac(RbacCommand::Suggest {
            subject,
            audit_logs,
            groups,
            output,
            format,
            paths,
        }) => {
            let mut stdout = anstream::stdout().lock();
            let mut stderr = anstream::stderr().lock();
            let mut sink = std::io::sink();
            // With --format json, stdout carries the report alone: the manifests go to the
            // --output file (the line saying so to stderr), or are not written, and that is said.
            let manifests_out: &mut dyn Write = if output.is_some() {
                &mut stderr
            } else if format == Format::Json {
                writeln!(
                    stderr,
                    "note: the suggested manifests are not printed with --format json; give --output FILE to write them"
                )?;
                &mut sink
            } else {
                &mut stdout
            };
            let report = audit_log_cmd::suggest(
                &subject,
                &groups,
                &audit_logs,
                &paths,
                output.as_deref(),
                manifests_out,
            )?;
            drop(stdout);
            emit_report(report, format, Severity::Low)
        }
        Command::AuditPolicy(AuditPolicyCommand::Explain {
            file,
            user,
            groups,
            verb,
            resource,
            namespace,
            name,
        }) => {
            let args = node_cmd::ExplainArgs {
                file: &file,
                user: &user,
                groups: &groups,
                verb: &verb,
                resource: &resource,
                namespace: &namespace,
                name: &name,
            };
            node_cmd::explain(&args, &mut anstream::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { id } => {
            let rule = rules::find(&id).ok_or_else(|| scan_cmd::unknown_rule(&id))?;
            let mut out = anstream::stdout().lock();
            text::explain(&mut out, rule)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(serde::Serialize)]
struct PssResult {
    origin: String,
    line: u32,
    kind: String,
    namespace: Option<String>,
    name: String,
    policy: String,
    allowed: bool,
    violations: Vec<PssViolation>,
    message: Option<String>,
}

#[derive(serde::Serialize)]
struct PssViolation {
    check: &'static str,
    reason: String,
    detail: String,
}

fn pss_command(level: &str, version: &str, format: Format, paths: &[PathBuf]) -> Result<ExitCode> {
    let level: Level = level.parse().map_err(|e| anyhow::anyhow!("--level: {e}"))?;
    let version: Version = version
        .parse()
        .map_err(|e| anyhow::anyhow!("--version: {e}"))?;
    let (inputs, mut diagnostics) = inputs::gather(paths, true)?;
    let mut results = Vec::new();
    for input in &inputs {
        let loaded = input.load();
        diagnostics.extend(loaded.diagnostics);
        for object in &loaded.objects {
            let Some(t) = PodTemplate::of(object) else {
                continue;
            };
            // A Pod is judged as the API server stores it (AppArmor annotations and fields
            // synced); a controller's template as its own create request's warning judges it.
            let checks = if object.kind == "Pod" {
                pss::evaluate_created(level, version, t.metadata, t.spec)
            } else {
                pss::evaluate(level, version, t.metadata, t.spec)
            };
            let policy = format!("{}:{}", level.as_str(), version);
            let message = (!checks.is_empty()).then(|| {
                let subject = if object.kind == "Pod" {
                    format!("pods \"{}\" is forbidden: violates", object.name)
                } else {
                    "would violate".to_owned()
                };
                format!(
                    "{subject} PodSecurity \"{policy}\": {}",
                    pss::aggregate(&checks)
                )
            });
            results.push(PssResult {
                origin: object.source.name.clone(),
                line: object.root.pos.line,
                kind: object.kind.clone(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
                policy,
                allowed: checks.is_empty(),
                violations: checks
                    .into_iter()
                    .map(|c| PssViolation {
                        check: c.id,
                        reason: c.reason,
                        detail: c.detail,
                    })
                    .collect(),
                message,
            });
        }
    }
    // A closed pipe stops the writing, not the verdict.
    scan_cmd::ignore_broken_pipe(write_pss(&results, &diagnostics, format))?;
    let errors = diagnostics
        .iter()
        .any(|d| d.level == kubeharden_engine::source::DiagLevel::Error);
    Ok(if errors {
        ExitCode::from(2)
    } else if results.iter().any(|r| !r.allowed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_pss(
    results: &[PssResult],
    diagnostics: &[kubeharden_engine::source::Diagnostic],
    format: Format,
) -> Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "results": results, "diagnostics": diagnostics }),
            )?;
            writeln!(out)?;
        }
        Format::Text => {
            for r in results {
                let id = match &r.namespace {
                    Some(ns) => format!("{}/{}/{}", r.kind, ns, r.name),
                    None => format!("{}/{}", r.kind, r.name),
                };
                match &r.message {
                    None => writeln!(
                        out,
                        "{}:{}: {id}: allowed by PodSecurity \"{}\"",
                        r.origin, r.line, r.policy
                    )?,
                    Some(m) => writeln!(out, "{}:{}: {id}: {m}", r.origin, r.line)?,
                }
            }
            text::diagnostics(&mut out, diagnostics)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints a report as text or JSON and maps it to the exit code convention.
fn emit_report(
    report: kubeharden_engine::report::Report,
    format: Format,
    fail_on: Severity,
) -> Result<ExitCode> {
    let how = kubeharden_engine::finish::Finish {
        fail_on,
        ..Default::default()
    };
    let (report, exit) = kubeharden_engine::finish::finish(report, &how);
    let write = || -> Result<()> {
        let mut out = anstream::stdout().lock();
        match format {
            Format::Json => {
                let no_overrides = std::collections::BTreeMap::new();
                let view = kubeharden_report::View {
                    report: &report,
                    rules: &[],
                    severity: &no_overrides,
                    inputs: &[],
                    fail_on,
                    config: None,
                };
                kubeharden_report::render_to(kubeharden_report::Format::Json, &view, &mut out)?;
            }
            Format::Text => text::render(&mut out, &report, fail_on)?,
        }
        out.flush()?;
        Ok(())
    };
    // A closed pipe stops the writing, not the verdict.
    scan_cmd::ignore_broken_pipe(write())?;
    Ok(ExitCode::from(exit.code()))
}
