//! The command line: argument parsing, and the commands that are not adapters of their own
//! (`check`, `explain`). Errors become messages and exit codes here, at the edge.

pub(crate) mod check;
mod explain;
pub mod report;
pub mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for usage, I/O and store errors (DESIGN.md §7).
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "forewarn", version, about = "Warns before a script or an AI agent runs a command that is known to fail on the system it targets", long_about = None)]
pub struct Cli {
    /// The pattern store (SQLite). Default: FOREWARN_STORE, the config's `store`, or the user data dir.
    #[arg(long, global = true, value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scripts for commands that fail on their target system.
    Check(check::CheckArgs),
    /// Run the language server on stdio.
    Lsp,
    /// Answer an AI coding agent's hook (its JSON on stdin).
    Hook(crate::hook::HookArgs),
    /// Which pattern explains this error output, and what to do about it.
    Explain(explain::ExplainArgs),
    /// Manage the pattern store: patterns, hosts and clients.
    Store(store::StoreArgs),
    /// Write a markdown digest of the patterns not yet in the insights.
    Insights(store::InsightsArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing();
    match cli.command {
        Command::Check(args) => check::run(args, cli.store),
        Command::Lsp => crate::lsp::run(cli.store),
        Command::Hook(args) => crate::hook::run(args, cli.store),
        Command::Explain(args) => explain::run(args, cli.store),
        Command::Store(args) => store::run(args, cli.store),
        Command::Insights(args) => store::run_insights(args, cli.store),
    }
}

/// Logs go to stderr (stdout belongs to reports, JSON-RPC and agents), filtered by
/// `FOREWARN_LOG` or `RUST_LOG`; warnings and errors by default.
fn init_tracing() {
    let filter = std::env::var("FOREWARN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Writes to stdout. A reader that went away (`forewarn store list | head`) ends the process
/// quietly and successfully, as it would end `cat` or `grep`; another write error is reported
/// and exits 2. (Rust ignores SIGPIPE, so `println!` would panic there.)
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        error(format_args!("writing to stdout: {e}"));
        std::process::exit(EXIT_ERROR.into());
    }
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!($($arg)*)) };
}

/// `println!` through [`write_out`].
macro_rules! outln {
    () => { $crate::cli::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use {out, outln};

/// Prints an error for the user: `forewarn: <message>`.
pub fn error(message: impl std::fmt::Display) {
    eprintln!("forewarn: {message}");
}
