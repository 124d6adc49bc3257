//! `forewarn hook AGENT`: agent hook dialects (DESIGN.md §9). (Being written: see issue 4.)

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// claude, codex, cursor, gemini or copilot
    pub agent: String,
}

pub fn run(_args: HookArgs, _store: Option<std::path::PathBuf>) -> ExitCode {
    ExitCode::SUCCESS
}
