//! What a packaged tool is expected to answer about itself: `version` (with the git commit and the
//! rule count), `completion SHELL` (clap_complete) and the man pages (clap_mangen, `man DIR`,
//! checked in under docs/man and kept in sync by `crates/cli/tests/ship.rs`).

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use kubeharden_engine::rules;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `--version`: the release and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KUBEHARDEN_GIT_COMMIT"),
    ")"
);

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum VersionFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct VersionArgs {
    #[arg(long, value_enum, default_value = "text")]
    format: VersionFormat,
}

#[derive(Args)]
pub struct CompletionArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Directory the pages are written to (created if missing); `docs/man` in this repository.
    dir: PathBuf,
}

/// `kubeharden version`.
pub fn version(args: VersionArgs) -> Result<ExitCode> {
    let mut out = anstream::stdout().lock();
    let rules = rules::all().len();
    match args.format {
        VersionFormat::Text => {
            writeln!(out, "kubeharden {VERSION}")?;
            writeln!(out, "rules: {rules} built in")?;
            writeln!(out, "target: {}", env!("KUBEHARDEN_TARGET"))?;
        }
        VersionFormat::Json => {
            let v = serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "commit": env!("KUBEHARDEN_GIT_COMMIT"),
                "rules": rules,
                "target": env!("KUBEHARDEN_TARGET"),
            });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kubeharden completion SHELL`: the completion script on stdout.
pub fn completion(mut cmd: clap::Command, args: CompletionArgs) -> Result<ExitCode> {
    // Into a buffer first: clap_complete panics on a write error such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kubeharden", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `kubeharden man DIR`: one page per command (`kubeharden.1`, `kubeharden-scan.1`, …). The pages
/// carry the release, not the commit, so that they change only when the interface does.
pub fn man(cmd: clap::Command, args: ManArgs) -> Result<ExitCode> {
    let written = write_man_pages(cmd, &args.dir)?;
    let mut out = anstream::stdout().lock();
    for page in written {
        writeln!(out, "{}", page.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut cmd = cmd.version(env!("CARGO_PKG_VERSION"));
    cmd.build();
    let mut written = Vec::new();
    page(&cmd, "kubeharden", dir, &mut written)?;
    Ok(written)
}

fn page(cmd: &clap::Command, name: &str, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let named = cmd
        .clone()
        .display_name(name)
        .bin_name(name.replace('-', " "))
        .version(env!("CARGO_PKG_VERSION"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(named).render(&mut buf)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        page(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
