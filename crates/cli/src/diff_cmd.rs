//! `kubeharden diff old.json new.json`: which findings are new, unchanged and fixed between two JSON
//! reports (matched by fingerprint). Exit 1 when there are new findings.

use anyhow::Result;
use clap::{Args, ValueEnum};
use kubeharden_engine::baseline::{self, Baseline, Recorded};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The earlier JSON report (`kubeharden scan --format json`).
    pub old: PathBuf,
    /// The later JSON report.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
}

fn line(out: &mut dyn Write, mark: &str, f: &Recorded) -> std::io::Result<()> {
    writeln!(
        out,
        "{mark} {:<8} {:<40} {}  {}:{}:{}  {}",
        f.severity.as_str(),
        f.rule,
        f.subject.identity(),
        f.location.origin,
        f.location.line,
        f.location.column,
        f.message
    )
}

pub fn run(args: DiffArgs) -> Result<ExitCode> {
    let old = Baseline::load(&args.old).map_err(anyhow::Error::msg)?;
    let new = Baseline::load(&args.new).map_err(anyhow::Error::msg)?;
    let d = baseline::diff(&old, &new);
    let mut out = anstream::stdout().lock();
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &d)?;
            writeln!(out)?;
        }
        DiffFormat::Text => {
            for f in &d.new {
                line(&mut out, "+ new  ", f)?;
            }
            for f in &d.fixed {
                line(&mut out, "- fixed", f)?;
            }
            writeln!(
                out,
                "{} new, {} unchanged, {} fixed ({} → {})",
                d.new.len(),
                d.unchanged.len(),
                d.fixed.len(),
                d.old,
                d.new_report
            )?;
        }
    }
    out.flush()?;
    Ok(if d.new.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
