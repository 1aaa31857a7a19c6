//! `kubeharden fix` and `kubeharden generate`: the front end of the engine's fix module
//! (`kubeharden_engine::fix`), which plans the edits; this module prints and writes them.

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use kubeharden_engine::analysis::netpol::Direction;
use kubeharden_engine::analysis::pss;
use kubeharden_engine::fix::{self, Options, generate};
use kubeharden_engine::source;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The file `--generate-missing DIR` writes.
pub const GENERATED_FILE: &str = "kubeharden-generated.yaml";

#[derive(Args)]
pub struct FixArgs {
    /// Files and directories to fix (directories recursively, as `scan` reads them: dotfiles and
    /// ignored files included, symlinks followed, `.git/` left out).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a unified diff of the fixes instead of writing them (exit 1 when there are fixes).
    #[arg(long)]
    diff: bool,
    /// List the fixes instead of writing them (exit 1 when there are fixes).
    #[arg(long)]
    dry_run: bool,
    /// Fix only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    rules: Option<Vec<String>>,
    /// Also apply the fixes that may change how a workload behaves.
    #[arg(long)]
    unsafe_fixes: bool,
    /// Write the default-deny NetworkPolicies and labelled Namespaces the input lacks to
    /// DIR/kubeharden-generated.yaml.
    #[arg(long, value_name = "DIR")]
    generate_missing: Option<PathBuf>,
    /// The version pinned in `enforce-version` labels (`v1.N`; default: the newest this version
    /// of kubeharden knows).
    #[arg(long, value_name = "v1.N")]
    pss_version: Option<String>,
    /// No progress display on stderr (shown only when stderr is a terminal and the run takes
    /// more than half a second).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Subcommand)]
pub enum GenerateCommand {
    /// Default-deny NetworkPolicies (ingress and egress) for namespaces, with DNS to kube-dns
    /// allowed.
    DefaultDeny {
        /// The namespace (repeatable).
        #[arg(short = 'n', long = "namespace", required = true)]
        namespaces: Vec<String>,
    },
    /// Namespace manifests with Pod Security labels (enforce pinned, audit, warn): for the
    /// namespaces named, and for those the workloads in PATH use without declaring them.
    PsaLabels {
        /// The namespace (repeatable).
        #[arg(short = 'n', long = "namespace")]
        namespaces: Vec<String>,
        /// `restricted` or `baseline`.
        #[arg(long, default_value = "restricted")]
        level: String,
        /// The version pinned in `enforce-version` (`v1.N`).
        #[arg(long, value_name = "v1.N")]
        pss_version: Option<String>,
        /// Manifests whose undeclared namespaces get a Namespace too.
        paths: Vec<PathBuf>,
    },
}

fn parse_minor(v: Option<&str>) -> Result<u32> {
    let Some(v) = v else {
        return Ok(pss::LATEST_MINOR);
    };
    v.strip_prefix("v1.")
        .and_then(|m| m.parse::<u32>().ok())
        .with_context(|| format!("--pss-version `{v}`: expected `v1.N`"))
}

fn files_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("`fix` edits files in place: `-` (stdin) is not supported");
    }
    let (files, diagnostics) = kubeharden_engine::load::expand_paths(paths);
    if let Some(d) = diagnostics.first() {
        bail!("{}: {}", d.origin, d.message);
    }
    // Key and credential files are read by `scan` for what they hold; `fix` edits manifests only.
    use kubeharden_engine::load::{is_credential_path, is_manifest_path};
    Ok(files
        .into_iter()
        .filter(|f| is_manifest_path(f) || !is_credential_path(f))
        .collect())
}

pub fn run(args: FixArgs) -> Result<ExitCode> {
    let files = files_of(&args.paths)?;
    let opts = Options {
        rules: args.rules.clone(),
        unsafe_fixes: args.unsafe_fixes,
        generate_missing: args.generate_missing.is_some(),
        pss_minor: parse_minor(args.pss_version.as_deref())?,
    };
    let progress = crate::progress::Progress::new(!args.no_progress);
    progress.set(format!(
        "planning the fixes of {} file{}",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ));
    let plan = fix::plan(&files, &opts).map_err(anyhow::Error::msg)?;
    progress.finish();
    let writing = !args.diff && !args.dry_run;
    let mut stdout = anstream::stdout().lock();
    let mut stderr = anstream::stderr().lock();
    // With --diff, stdout carries the patch alone; the report goes to stderr.
    let report: &mut dyn Write = if args.diff { &mut stderr } else { &mut stdout };
    let mut failed = false;

    // Input that does not read is not fixed, and said so; the other files are.
    for d in &plan.diagnostics {
        if d.level == source::DiagLevel::Error {
            let at = d.line.map(|l| format!(":{l}")).unwrap_or_default();
            writeln!(report, "skipped: {}{at}: {}", d.origin, d.message)?;
        }
    }
    let verb = if writing { "fixed" } else { "would fix" };
    let mut patch = String::new();
    // Every file is attempted; each one not written is said, with why, and fails the run.
    let (mut changed, mut fixed_findings) = (0, 0);
    let (mut not_written, mut not_written_findings) = (0, 0);
    for f in &plan.files {
        if let Some(e) = &f.error {
            failed = true;
            writeln!(report, "error: {}: not edited: {e}", f.name)?;
        }
        if !f.changed() {
            continue;
        }
        let findings: usize = f.fixed.iter().map(|x| x.findings).sum();
        if args.diff {
            patch.push_str(&f.diff());
        }
        if writing {
            // Only over the very bytes the fix was computed from (checked right before the
            // rename): an edit made meanwhile is never lost.
            if let Err(e) = f.write() {
                failed = true;
                not_written += 1;
                not_written_findings += findings;
                writeln!(
                    report,
                    "error: {}: {e}; {} change{} for {findings} finding{} not applied",
                    f.name,
                    f.fixed.len(),
                    plural(f.fixed.len()),
                    plural(findings)
                )?;
                continue;
            }
        }
        changed += 1;
        fixed_findings += findings;
        writeln!(
            report,
            "{verb} {}: {} change{}, {findings} finding{}",
            f.name,
            f.fixed.len(),
            plural(f.fixed.len()),
            plural(findings)
        )?;
        for x in &f.fixed {
            writeln!(
                report,
                "  {}:{}:{} {} [{}] {}: {}",
                f.name,
                x.line,
                x.column,
                x.rule,
                x.kind.as_str(),
                x.subject,
                x.what
            )?;
        }
    }

    let mut generated_changed = false;
    if let (Some(dir), Some(g)) = (&args.generate_missing, &plan.generated) {
        match generated(dir, g, writing, args.diff, &mut patch, report)? {
            Ok(c) => generated_changed = c,
            Err(e) => {
                failed = true;
                not_written += 1;
                writeln!(report, "error: {e}")?;
            }
        }
    }

    let unfixed: Vec<&fix::Unfixed> = plan.unfixed().collect();
    let (needs_unsafe, other): (Vec<&fix::Unfixed>, Vec<&fix::Unfixed>) =
        unfixed.iter().partition(|u| u.needs_unsafe);
    if !other.is_empty() {
        writeln!(report, "not fixed:")?;
        for u in &other {
            writeln!(
                report,
                "  {}:{}:{} {} {}: {}",
                u.origin, u.line, u.column, u.rule, u.subject, u.reason
            )?;
            if !u.remedy.is_empty() {
                writeln!(report, "    remedy: {}", one_line(u.remedy))?;
            }
        }
    }
    if !needs_unsafe.is_empty() {
        // One line per rule: listing each finding would drown the rest.
        let mut by_rule: Vec<(&str, usize)> = Vec::new();
        for u in &needs_unsafe {
            match by_rule.iter_mut().find(|(r, _)| *r == u.rule) {
                Some((_, n)) => *n += 1,
                None => by_rule.push((u.rule, 1)),
            }
        }
        writeln!(
            report,
            "not fixed without --unsafe-fixes (`kubeharden explain RULE` says what the fix changes; --dry-run --unsafe-fixes lists them):"
        )?;
        for (rule, n) in by_rule {
            writeln!(report, "  {rule}: {n} finding{}", plural(n))?;
        }
    }
    let needs_unsafe = needs_unsafe.len();
    writeln!(
        report,
        "{} file{} {}, {} finding{} fixed, {} not fixed{}{}",
        changed,
        plural(changed),
        if writing { "changed" } else { "to change" },
        fixed_findings,
        plural(fixed_findings),
        unfixed.len() + not_written_findings,
        if needs_unsafe > 0 {
            format!(" ({needs_unsafe} with an unsafe fix: --unsafe-fixes)")
        } else {
            String::new()
        },
        if not_written > 0 {
            format!(
                "; {not_written} file{} not written (see the errors above)",
                plural(not_written)
            )
        } else {
            String::new()
        }
    )?;
    if args.diff {
        stdout.write_all(patch.as_bytes())?;
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if !writing && (changed > 0 || generated_changed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes (or shows) the generated manifests: whether the file is new or would change, or why
/// it was not written (the other files' results stand).
fn generated(
    dir: &Path,
    g: &fix::Generated,
    writing: bool,
    diff: bool,
    patch: &mut String,
    report: &mut dyn Write,
) -> Result<std::result::Result<bool, String>> {
    for skipped in &g.skipped {
        writeln!(report, "not generated: {skipped}")?;
    }
    if g.text.is_empty() {
        writeln!(report, "nothing missing to generate")?;
        return Ok(Ok(false));
    }
    let path = dir.join(GENERATED_FILE);
    let name = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == g.text => {
            writeln!(report, "{name} is up to date")?;
            return Ok(Ok(false));
        }
        Ok(_) => {
            return Ok(Err(format!(
                "{name} exists with other content, not written: remove it or choose another --generate-missing directory"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Ok(Err(format!("{name}: cannot read: {e}; not written"))),
    }
    if diff {
        let lines = g.text.lines().count();
        patch.push_str(&format!(
            "--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,{lines} @@\n"
        ));
        for line in g.text.lines() {
            patch.push_str(&format!("+{line}\n"));
        }
    }
    if writing {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return Ok(Err(format!(
                "{name}: cannot create {}: {e}; not written",
                dir.display()
            )));
        }
        // Never over a file that appeared since it was found missing.
        if let Err(e) = fix::write_new(&path, &g.text) {
            return Ok(Err(format!("{name}: {e}")));
        }
    }
    let verb = if writing {
        "generated"
    } else {
        "would generate"
    };
    for (ns, dirs) in &g.default_deny {
        writeln!(
            report,
            "{verb} {name}: default-deny {} NetworkPolicy for namespace \"{ns}\"",
            dirs.join(" and ").to_lowercase()
        )?;
    }
    for ns in &g.namespaces {
        writeln!(
            report,
            "{verb} {name}: Namespace \"{ns}\" with Pod Security labels (restricted)"
        )?;
    }
    Ok(Ok(true))
}

pub fn generate(command: GenerateCommand) -> Result<ExitCode> {
    let mut out = anstream::stdout().lock();
    match command {
        GenerateCommand::DefaultDeny { namespaces } => {
            for ns in &namespaces {
                check_namespace(ns)?;
                out.write_all(
                    generate::default_deny(ns, &Direction::BOTH, "default-deny", "allow-dns")
                        .as_bytes(),
                )?;
            }
        }
        GenerateCommand::PsaLabels {
            mut namespaces,
            level,
            pss_version,
            paths,
        } => {
            let level = match pss::Level::parse(&level) {
                Ok(l @ (pss::Level::Restricted | pss::Level::Baseline)) => l,
                _ => bail!("--level `{level}`: expected `restricted` or `baseline`"),
            };
            let minor = parse_minor(pss_version.as_deref())?;
            if !paths.is_empty() {
                let files = files_of(&paths)?;
                namespaces.extend(fix::undeclared_namespaces(&files));
                namespaces.extend(unlabelled_namespaces(&files));
            }
            if namespaces.is_empty() && !paths.is_empty() {
                eprintln!(
                    "every namespace of these manifests already has a `pod-security.kubernetes.io/enforce` label (or is a system namespace): nothing to generate"
                );
                return Ok(ExitCode::SUCCESS);
            }
            if namespaces.is_empty() {
                bail!("name namespaces with -n, or give manifests whose namespaces to label");
            }
            namespaces.sort();
            namespaces.dedup();
            for ns in &namespaces {
                check_namespace(ns)?;
                out.write_all(generate::psa_namespace(ns, level.as_str(), minor).as_bytes())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Namespaces declared in `files` without a `pod-security.kubernetes.io/enforce` label (the
/// system namespaces aside): their Namespace is printed again with the labels, to merge.
fn unlabelled_namespaces(files: &[PathBuf]) -> Vec<String> {
    const SYSTEM: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];
    let mut out = Vec::new();
    for f in files {
        for o in kubeharden_engine::load::load_file(f).objects {
            if o.kind != "Namespace" || !o.group().is_empty() || SYSTEM.contains(&o.name.as_str()) {
                continue;
            }
            let labelled = o
                .root
                .get("metadata")
                .and_then(|m| m.get("labels"))
                .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
                .is_some();
            if !labelled && generate::valid_namespace(&o.name) {
                out.push(o.name.clone());
            }
        }
    }
    out
}

fn check_namespace(ns: &str) -> Result<()> {
    if !generate::valid_namespace(ns) {
        bail!(
            "`{ns}` is not a valid namespace name (lowercase letters, digits and `-`, at most 63)"
        );
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
