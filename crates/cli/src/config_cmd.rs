//! `kubeharden config init` (write a commented default `.kubeharden.yaml`) and `kubeharden config
//! check` (validate one).

use anyhow::{Result, bail};
use clap::Subcommand;
use kubeharden_engine::config::{self, Config};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Write a commented default config file.
    Init {
        /// Where to write it.
        #[arg(default_value = config::FILE_NAMES[0])]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Validate a config file (default: the one `scan` would read) and say which file it is.
    Check { path: Option<PathBuf> },
}

pub fn run(command: ConfigCommand) -> Result<ExitCode> {
    match command {
        ConfigCommand::Init { path, force } => {
            if path.exists() && !force {
                bail!("{} exists; pass --force to overwrite it", path.display());
            }
            std::fs::write(&path, config::DEFAULT_CONFIG)?;
            println!("wrote {}", path.display());
        }
        ConfigCommand::Check { path } => {
            match crate::scan_cmd::load_config(path.as_deref(), false)? {
                Some(Config {
                    origin,
                    enable,
                    disable,
                    severity,
                    exclude,
                    exemptions,
                    ..
                }) => println!(
                    "{origin}: valid ({} enabled, {} disabled, {} severity overrides, {} excludes, {} exemptions)",
                    enable.len(),
                    disable.len(),
                    severity.len(),
                    exclude.len(),
                    exemptions.len()
                ),
                None => println!("no .kubeharden.yaml in the working directory or its parents"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
