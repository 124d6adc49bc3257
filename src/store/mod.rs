//! The pattern store: one SQLite file shared by every forewarn process (DESIGN.md §2).
//! (Being written: see issue 2. The signatures below are the contract the adapters use.)

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::engine::{Client, Host, Pattern, PatternIndex, Problem};

/// Why the store could not be used. Every message names the store file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {message}")]
    Unusable { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
}

/// Everything the engine needs from the store, decoded.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub patterns: Vec<Pattern>,
    pub hosts: Vec<Host>,
    pub clients: Vec<Client>,
    /// Rows that could not be decoded (unknown type or severity, malformed JSON column).
    pub problems: Vec<Problem>,
}

/// An open store.
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// `$XDG_DATA_HOME/forewarn/patterns.db` or the platform equivalent.
    pub fn default_path() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("forewarn")
            .join("patterns.db")
    }

    /// `--store` / editor setting, else `FOREWARN_STORE`, else the config's `store`, else the default.
    pub fn resolve_path(explicit: Option<&Path>, config: Option<&Config>) -> PathBuf {
        explicit
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os("FOREWARN_STORE")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| config.and_then(|c| c.store.clone()))
            .unwrap_or_else(Store::default_path)
    }

    /// Opens (creating and seeding when missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot::default())
    }

    /// The index of every decodable pattern, and every problem (decode and index) found on the way.
    pub fn load_index(&self) -> Result<(PatternIndex, Vec<Problem>), StoreError> {
        let snap = self.load()?;
        let index = PatternIndex::build(snap.patterns, snap.hosts, snap.clients);
        let mut problems = snap.problems;
        problems.extend_from_slice(index.problems());
        Ok((index, problems))
    }

    /// Changes whenever another connection commits to the store.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(0)
    }

    /// Records one occurrence of a pattern (full id or unique prefix): count + 1, last_seen = now,
    /// atomically. Returns the new count.
    pub fn record_occurrence(
        &self,
        _id_or_prefix: &str,
        _host: Option<&str>,
    ) -> Result<i64, StoreError> {
        Err(StoreError::Invalid("not implemented yet".into()))
    }
}
