//! `forewarn lsp`: the language server on stdio (DESIGN.md §8). (Being written: see issue 3.)

use std::process::ExitCode;

pub fn run(_store: Option<std::path::PathBuf>) -> ExitCode {
    eprintln!("forewarn lsp: not built yet");
    ExitCode::from(2)
}
