//! The pure core: matching scripts and error output against failure patterns.
//!
//! Nothing in here does I/O, touches the store, or knows about LSP, JSON-RPC or agent dialects.
//! Adapters hand it text, a language, a target name and a [`PatternIndex`], and get back
//! [`Finding`]s ([`scan`]) or [`Explanation`]s ([`explain`]).

pub(crate) mod applied;
pub mod directives;
pub mod explain;
pub mod index;
pub mod operations;
pub mod pattern;
pub mod scan;
pub mod target;

pub use explain::{explain, Explanation};
pub use index::{PatternIndex, Problem};
pub use pattern::{Fix, Pattern, PatternType, Severity};
pub use scan::{prelex, scan, scan_parsed, scan_prepared, Edit, Finding, Prepared, Scan};
pub use target::{Client, Host, Target};
