//! forewarn: warns before a script or an AI agent runs a command that is known to fail on the
//! system it targets, says why, and offers the fix.
//!
//! The crate is a pure core with thin adapters around it (see `ARCHITECTURE.md`):
//! - [`script`] turns source text into the commands it would run (no I/O);
//! - [`engine`] matches those commands against a [`engine::PatternIndex`] (no I/O);
//! - [`store`], [`config`], [`cli`], [`lsp`] and [`hook`] are the adapters that own I/O.

/// mimalloc, for every binary built on this crate (the CLI, the tests, the benchmarks, so that
/// they measure what ships): a scan allocates per token and per command on two threads, and
/// mimalloc's thread-local free lists cut the allocator's share of a PowerShell scan from 10% to
/// 4% of its instructions. tree-sitter's C side uses it too (`script::new_parser`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cli;
pub mod config;
pub mod engine;
pub mod hook;
pub mod lsp;
pub mod script;
pub mod store;
pub mod synthetic;
pub mod text;
