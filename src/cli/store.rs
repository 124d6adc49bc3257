//! `forewarn store …` and `forewarn insights`. (Being written: see issue 2.)

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct InsightsArgs {
    /// Where to write the digest (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(_args: StoreArgs, _store: Option<PathBuf>) -> ExitCode {
    ExitCode::from(super::EXIT_ERROR)
}

pub fn run_insights(_args: InsightsArgs, _store: Option<PathBuf>) -> ExitCode {
    ExitCode::from(super::EXIT_ERROR)
}
