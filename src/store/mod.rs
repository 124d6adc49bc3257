//! The pattern store: one SQLite file shared by every forewarn process (DESIGN.md §2).
//!
//! Many processes open the same file at once (editors' servers, agent hooks firing in parallel,
//! a curator's CLI), so the connection runs in WAL mode with a busy timeout, every write is one
//! short transaction, and counting an occurrence is a single `UPDATE … + 1`. Opening is cheap
//! (the agent hook opens the store on every command): a current store costs one `user_version`
//! read; migrations and seeding run only when the schema is older.

mod admin;
pub mod cache;
mod interchange;
mod rows;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::config::Config;
use crate::engine::{Client, Host, Pattern, PatternIndex, Problem};

pub use admin::{HostSpec, Lint, Occurrence, Stats};
pub use interchange::{Export, ImportSummary};

/// The curated default library every new store is seeded with (DESIGN.md §2.3).
pub const DEFAULT_LIBRARY: &str = include_str!("default_library.json");

/// The patterns of [`DEFAULT_LIBRARY`], without a store (for tests and benchmarks that need
/// the real library). Rows that do not parse are left out; the library's own tests forbid any.
pub fn default_patterns() -> Vec<Pattern> {
    interchange::parse(DEFAULT_LIBRARY)
        .map(|doc| doc.into_patterns())
        .unwrap_or_default()
}

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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

/// How [`Store::open_with`] treats a store that does not exist yet.
#[derive(Clone, Copy, Debug)]
pub struct OpenOptions {
    /// Seed a new store with [`DEFAULT_LIBRARY`].
    pub seed_defaults: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            seed_defaults: true,
        }
    }
}

/// An open store.
pub struct Store {
    path: PathBuf,
    /// One connection per `Store`; the mutex makes a `Store` shareable between threads (the
    /// language server), and SQLite's own locking handles other processes.
    conn: Mutex<Connection>,
    read_only: bool,
    created: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// What went wrong while opening, before it is worded for the user.
enum OpenError {
    /// The file exists but cannot be written here: try read-only.
    ReadOnly,
    Sqlite(rusqlite::Error),
    Message(String),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        if is_read_only_error(&e) {
            OpenError::ReadOnly
        } else {
            OpenError::Sqlite(e)
        }
    }
}

fn is_read_only_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
    )
}

/// A SQLite error in words a user can act on.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not a SQLite database (file is not a database)".into(),
        Some(ErrorCode::DatabaseCorrupt) => {
            format!("the database is corrupt ({e}); restore it from an export or remove it")
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the store stayed locked by another process for {}s ({e})",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::ReadOnly) => "the store is read-only here".into(),
        _ => e.to_string(),
    }
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
        Store::open_with(path, OpenOptions::default())
    }

    /// Opens the store at `path`: creates the directory and the database when missing (seeded
    /// as `options` say), migrates an older schema, and falls back to a read-only connection
    /// when the file exists but cannot be written here.
    pub fn open_with(path: &Path, options: OpenOptions) -> Result<Store, StoreError> {
        let unusable = |message: String| StoreError::Unusable {
            path: path.to_path_buf(),
            message,
        };
        let exists = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return Err(unusable("is a directory, not a store file".into())),
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(unusable(e.to_string())),
        };
        if !exists {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    unusable(format!("cannot create directory {}: {e}", parent.display()))
                })?;
            }
        }
        match open_retrying(path, options) {
            Ok((conn, created)) => Ok(Store {
                path: path.to_path_buf(),
                conn: Mutex::new(conn),
                read_only: false,
                created,
            }),
            Err(OpenError::ReadOnly) if exists => {
                let conn = open_read_only(path).map_err(unusable)?;
                tracing::warn!(
                    "{}: the store is read-only here; checking works, recording and editing do not",
                    path.display()
                );
                Ok(Store {
                    path: path.to_path_buf(),
                    conn: Mutex::new(conn),
                    read_only: true,
                    created: false,
                })
            }
            Err(OpenError::ReadOnly) => Err(unusable(
                "cannot create the store here (permission denied)".into(),
            )),
            Err(OpenError::Sqlite(e)) => Err(unusable(describe(&e))),
            Err(OpenError::Message(m)) => Err(unusable(m)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store could only be opened for reading (a read-only file or directory).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether this open created the database (and seeded it, when asked to).
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection itself intact.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A SQLite error, named with the store file.
    pub(crate) fn sql(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Unusable {
            path: self.path.clone(),
            message: describe(&e),
        }
    }

    /// Fails with a clear message when the store cannot be written.
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::Unusable {
                path: self.path.clone(),
                message:
                    "the store is read-only here (check the file's and directory's permissions)"
                        .into(),
            })
        } else {
            Ok(())
        }
    }

    /// Every pattern (active or not), host and client; rows that do not decode are problems.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        let conn = self.conn();
        let mut snap = Snapshot::default();
        let result = (|| -> rusqlite::Result<()> {
            let mut stmt = conn.prepare(&format!(
                "SELECT {} FROM failure_patterns ORDER BY rowid",
                rows::PATTERN_COLUMNS
            ))?;
            let mut q = stmt.query([])?;
            while let Some(row) = q.next()? {
                match rows::decode_pattern(row) {
                    Ok(p) => snap.patterns.push(p),
                    Err(problem) => snap.problems.push(problem),
                }
            }
            let mut stmt = conn.prepare(&format!(
                "SELECT {} FROM infrastructure ORDER BY rowid",
                rows::HOST_COLUMNS
            ))?;
            let mut q = stmt.query([])?;
            while let Some(row) = q.next()? {
                let (host, problem) = rows::decode_host(row)?;
                snap.hosts.push(host);
                snap.problems.extend(problem);
            }
            let mut stmt = conn.prepare("SELECT id, name FROM clients ORDER BY rowid")?;
            snap.clients = stmt
                .query_map([], rows::decode_client)?
                .collect::<Result<_, _>>()?;
            Ok(())
        })();
        result.map_err(|e| self.sql(e))?;
        Ok(snap)
    }

    /// The index of every decodable pattern, and every problem (decode and index) found on the way.
    pub fn load_index(&self) -> Result<(PatternIndex, Vec<Problem>), StoreError> {
        let snap = self.load()?;
        let index = PatternIndex::build(snap.patterns, snap.hosts, snap.clients);
        let mut problems = snap.problems;
        problems.extend_from_slice(index.problems());
        Ok((index, problems))
    }

    /// Moves on every change to what matching uses (patterns, hosts, clients) and never on
    /// occurrence or insights bookkeeping: SQLite triggers keep it (schema version 2), so edits
    /// made outside forewarn count too. Caches of the index are keyed on it.
    pub fn knowledge_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.query_row(
            "SELECT value FROM forewarn_meta WHERE key = 'knowledge_version'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| self.sql(e))
    }

    /// Changes whenever another connection commits to the store.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// The full id of the pattern whose id is `id_or_prefix` or starts with it (case-insensitive).
    pub fn resolve_id(&self, id_or_prefix: &str) -> Result<String, StoreError> {
        let conn = self.conn();
        resolve_id(&conn, id_or_prefix).map_err(|e| self.flatten(e))
    }

    /// One pattern by id or unique prefix, decoded.
    pub fn pattern(&self, id_or_prefix: &str) -> Result<Pattern, StoreError> {
        let conn = self.conn();
        let id = resolve_id(&conn, id_or_prefix).map_err(|e| self.flatten(e))?;
        let decoded = conn
            .query_row(
                &format!(
                    "SELECT {} FROM failure_patterns WHERE id = ?1",
                    rows::PATTERN_COLUMNS
                ),
                [&id],
                |row| Ok(rows::decode_pattern(row)),
            )
            .map_err(|e| self.sql(e))?;
        decoded.map_err(|p| {
            StoreError::Invalid(format!(
                "pattern {} cannot be decoded: {}",
                p.pattern_id, p.message
            ))
        })
    }

    /// Records one occurrence of a pattern (full id or unique prefix): count + 1, last_seen = now,
    /// atomically. Returns the new count. `host` is logged as given: the hook and the language
    /// server pass their target, which may be a bare tag (DESIGN.md §4).
    pub fn record_occurrence(
        &self,
        id_or_prefix: &str,
        host: Option<&str>,
    ) -> Result<i64, StoreError> {
        self.record(
            id_or_prefix,
            host.map(str::trim).filter(|h| !h.is_empty()),
            false,
        )
    }

    /// [`Store::record_occurrence`] for a host of the store, named by its hostname or an alias
    /// (`forewarn store record ID --host NAME`): an unknown name is an error that names it, and
    /// the occurrence is logged under the stored hostname, so `store stats` counts one host once.
    pub fn record_occurrence_on_host(
        &self,
        id_or_prefix: &str,
        host: &str,
    ) -> Result<i64, StoreError> {
        self.record(id_or_prefix, Some(host.trim()), true)
    }

    fn record(
        &self,
        id_or_prefix: &str,
        host: Option<&str>,
        known_host: bool,
    ) -> Result<i64, StoreError> {
        self.writable()?;
        let mut conn = self.conn();
        let result = (|| -> Result<i64, Lookup> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = resolve_id(&tx, id_or_prefix)?;
            let host = match host {
                Some(name) if known_host => Some(
                    admin::hosts(&tx)?
                        .into_iter()
                        .find(|h| h.is_named(name))
                        .map(|h| h.hostname)
                        .ok_or_else(|| {
                            StoreError::NotFound(format!(
                                "--host: no host is named `{name}` (see `forewarn store host \
                                 list`; add it with `forewarn store host add {name}`)"
                            ))
                        })?,
                ),
                other => other.map(str::to_string),
            };
            let count: i64 = tx.query_row(
                "UPDATE failure_patterns
                 SET occurrence_count = COALESCE(occurrence_count, 0) + 1,
                     last_seen = CURRENT_TIMESTAMP
                 WHERE id = ?1
                 RETURNING occurrence_count",
                [&id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO occurrences (pattern_id, host) VALUES (?1, ?2)",
                rusqlite::params![id, host],
            )?;
            tx.commit()?;
            Ok(count)
        })();
        result.map_err(|e| self.flatten(e))
    }

    fn flatten(&self, e: Lookup) -> StoreError {
        match e {
            Lookup::Sql(e) => self.sql(e),
            Lookup::Store(e) => e,
        }
    }
}

/// An id lookup failed: the id is unknown or ambiguous, or SQLite failed.
pub(crate) enum Lookup {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Lookup {
    fn from(e: rusqlite::Error) -> Self {
        Lookup::Sql(e)
    }
}

impl From<StoreError> for Lookup {
    fn from(e: StoreError) -> Self {
        Lookup::Store(e)
    }
}

/// How many candidates an ambiguity message lists.
const AMBIGUOUS_SHOWN: usize = 5;

pub(crate) fn resolve_id(conn: &Connection, id_or_prefix: &str) -> Result<String, Lookup> {
    let wanted = id_or_prefix.trim();
    if wanted.is_empty() {
        return Err(
            StoreError::Invalid("a pattern id (or the start of one) is needed".into()).into(),
        );
    }
    let exact: Option<String> = conn
        .query_row(
            "SELECT CAST(id AS TEXT) FROM failure_patterns WHERE id = ?1",
            [wanted],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = exact {
        return Ok(id);
    }
    let mut stmt = conn.prepare(
        "SELECT CAST(id AS TEXT) FROM failure_patterns
         WHERE lower(substr(id, 1, length(?1))) = lower(?1)
         ORDER BY id LIMIT ?2",
    )?;
    let found: Vec<String> = stmt
        .query_map(rusqlite::params![wanted, AMBIGUOUS_SHOWN as i64 + 1], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    match found.len() {
        0 => Err(
            StoreError::NotFound(format!("no pattern has an id starting with `{wanted}`")).into(),
        ),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        n => {
            let shown = found[..n.min(AMBIGUOUS_SHOWN)].join(", ");
            let more = if n > AMBIGUOUS_SHOWN { ", …" } else { "" };
            Err(StoreError::Invalid(format!(
                "the id prefix `{wanted}` is ambiguous: it matches {shown}{more}; give more characters"
            ))
            .into())
        }
    }
}

/// Sets the per-connection pragmas every store connection needs.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which
    // for occurrence counts is a fair price for not syncing on every recorded failure.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// [`open_read_write`], retried while another process holds the file in a state SQLite reports
/// as busy without waiting on the busy handler (switching a new file to WAL, recovering a WAL):
/// several processes creating the same store at once must all succeed.
fn open_retrying(path: &Path, options: OpenOptions) -> Result<(Connection, bool), OpenError> {
    let started = std::time::Instant::now();
    loop {
        match open_read_write(path, options) {
            Err(OpenError::Sqlite(e)) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(15));
            }
            other => return other,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn open_read_write(path: &Path, options: OpenOptions) -> Result<(Connection, bool), OpenError> {
    // No SQLITE_OPEN_URI: a path is a path, even with `?` or `#` in it.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(OpenError::ReadOnly);
    }
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version == schema::LATEST {
        return Ok((conn, false));
    }
    // WAL is a property of the file: set once, when the schema is written.
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::debug!("{}: journal_mode is {mode}, not wal", path.display());
    }
    let created = migrate(&mut conn, options)?;
    Ok((conn, created))
}

/// Runs the migrations the file lacks, in one IMMEDIATE transaction so that two processes
/// creating the same store at once do not both seed it. Returns whether the store is new.
fn migrate(conn: &mut Connection, options: OpenOptions) -> Result<bool, OpenError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 0 {
        return Err(OpenError::Message(format!(
            "not a forewarn store (its user_version is {version})"
        )));
    }
    if version > schema::LATEST {
        return Err(OpenError::Message(format!(
            "the store has schema version {version}, newer than this forewarn understands ({}); upgrade forewarn",
            schema::LATEST
        )));
    }
    if version == 0 {
        let mut stmt = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?;
        let tables: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        if let Some(other) = tables
            .iter()
            .find(|t| !schema::OWN_TABLES.contains(&t.as_str()))
        {
            return Err(OpenError::Message(format!(
                "not a forewarn store (it has a table `{other}` and no forewarn schema version)"
            )));
        }
    }
    for migration in &schema::MIGRATIONS[version as usize..] {
        tx.execute_batch(migration)?;
    }
    let created = version == 0;
    if created && options.seed_defaults {
        interchange::import_text(&tx, DEFAULT_LIBRARY).map_err(|e| {
            OpenError::Message(format!("the embedded default library does not import: {e}"))
        })?;
        // The library is knowledge, not history: nothing has failed here yet, so its patterns
        // start at zero occurrences (the upstream default of 1 is for a failure just seen).
        tx.execute("UPDATE failure_patterns SET occurrence_count = 0", [])?;
    }
    tx.pragma_update(None, "user_version", schema::LATEST)?;
    tx.commit()?;
    Ok(created)
}

/// A store this process cannot write: read it through a read-only connection, or, when even
/// that needs files it cannot create (a WAL store in a read-only directory), as immutable.
fn open_read_only(path: &Path) -> Result<Connection, String> {
    let attempt = |uri: String| -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(uri, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != schema::LATEST {
            // Reported below with the version in words.
            return Err(rusqlite::Error::IntegralValueOutOfRange(0, version));
        }
        Ok(conn)
    };
    let base = file_uri(path);
    let result = attempt(format!("{base}?mode=ro"))
        .or_else(|_| attempt(format!("{base}?mode=ro&immutable=1")));
    result.map_err(|e| match e {
        rusqlite::Error::IntegralValueOutOfRange(_, 0) => {
            "the store is read-only here and has no forewarn schema yet".to_string()
        }
        rusqlite::Error::IntegralValueOutOfRange(_, v) => format!(
            "the store is read-only here and has schema version {v}, but this forewarn needs {}; open it once with write access",
            schema::LATEST
        ),
        e => describe(&e),
    })
}

/// `path` as a SQLite `file:` URI, every byte that is not plainly safe percent-encoded.
fn file_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = abs.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file:");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A UUID standing for a readable test name (its bytes in hex, zero-padded): store ids must be
/// UUIDs, and a failing test should still show which row it was.
#[cfg(test)]
pub(crate) fn test_uid(name: &str) -> String {
    let hex: String = name.bytes().take(16).map(|b| format!("{b:02x}")).collect();
    let h = format!("{hex:0<32}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_defaults() -> OpenOptions {
        OpenOptions {
            seed_defaults: false,
        }
    }

    fn pattern_row(id: &str) -> serde_json::Value {
        serde_json::json!({"id": test_uid(id), "pattern_type": "command_compatibility",
            "pattern_signature": format!("sig {id}"), "failure_description": "d",
            "severity": "major", "triggering_commands": ["foo"]})
    }

    #[test]
    fn creates_directory_schema_and_seeds_then_reopens_without_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/patterns.db");
        let store = Store::open(&path).unwrap();
        assert!(store.was_created());
        assert_eq!(store.schema_version().unwrap(), schema::LATEST);
        let seeded = store.load().unwrap();
        assert!(
            !seeded.patterns.is_empty(),
            "seeded with the default library"
        );
        assert!(seeded.problems.is_empty(), "{:?}", seeded.problems);
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        let again = Store::open(&path).unwrap();
        assert!(!again.was_created());
        assert_eq!(again.load().unwrap().patterns.len(), seeded.patterns.len());
    }

    #[test]
    fn an_empty_file_is_a_new_store_and_a_foreign_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        let store = Store::open_with(&empty, no_defaults()).unwrap();
        assert!(store.was_created());
        assert!(store.load().unwrap().patterns.is_empty());

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE songs (title TEXT)")
            .unwrap();
        let err = Store::open(&foreign).unwrap_err().to_string();
        assert!(err.contains("not a forewarn store"), "{err}");
        assert!(err.contains("foreign.db"), "{err}");
    }

    #[test]
    fn garbage_is_unusable_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, "this is not a database, just text ".repeat(200)).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Unusable { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("junk.db") && msg.contains("not a SQLite database"),
            "{msg}"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open_with(&path, no_defaults()).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", schema::LATEST + 1)
            .unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer than this forewarn"), "{err}");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", -3)
            .unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("user_version is -3"), "{err}");
    }

    #[test]
    fn undecodable_rows_are_problems_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open_with(&path, no_defaults()).unwrap();
        store
            .import(
                &serde_json::json!([
                    pattern_row("good"),
                    pattern_row("bad-json"),
                    pattern_row("bad-sev")
                ])
                .to_string(),
            )
            .unwrap();
        {
            let conn = store.conn();
            conn.execute(
                "UPDATE failure_patterns SET affected_systems = '[\"x\",' WHERE id = ?1",
                [test_uid("bad-json")],
            )
            .unwrap();
            conn.execute_batch(&format!(
                "PRAGMA ignore_check_constraints = ON;
                 UPDATE failure_patterns SET severity = 'fatal', fix = '{{\"replace\": 1}}' WHERE id = '{}';
                 PRAGMA ignore_check_constraints = OFF;",
                test_uid("bad-sev")
            ))
            .unwrap();
        }
        let snap = store.load().unwrap();
        assert_eq!(snap.patterns.len(), 1);
        assert_eq!(snap.patterns[0].id, test_uid("good"));
        let by_id = |id: &str| {
            snap.problems
                .iter()
                .find(|p| p.pattern_id == test_uid(id))
                .unwrap()
                .message
                .clone()
        };
        assert!(
            by_id("bad-json").contains("affected_systems is not a JSON array"),
            "{:?}",
            snap.problems
        );
        let sev = by_id("bad-sev");
        assert!(
            sev.contains("unknown severity `fatal`") && sev.contains("fix is not a JSON object"),
            "{sev}"
        );
        assert!(matches!(
            store.pattern(&test_uid("bad-sev")),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn ids_resolve_by_unique_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(&dir.path().join("s.db"), no_defaults()).unwrap();
        const A1: &str = "abc11111-0000-4000-8000-000000000001";
        const A2: &str = "abc22222-0000-4000-8000-000000000002";
        const D: &str = "abd00000-0000-4000-8000-000000000003";
        let rows: Vec<_> = [A1, A2, D]
            .iter()
            .map(|id| {
                let mut row = pattern_row("x");
                row["id"] = (*id).into();
                row
            })
            .collect();
        store
            .import(&serde_json::Value::Array(rows).to_string())
            .unwrap();
        assert_eq!(store.resolve_id("abc1").unwrap(), A1);
        assert_eq!(store.resolve_id("ABD").unwrap(), D);
        assert_eq!(store.resolve_id(D).unwrap(), D);
        let amb = store.resolve_id("ab").unwrap_err().to_string();
        assert!(
            amb.contains("ambiguous") && amb.contains(A1) && amb.contains(D),
            "{amb}"
        );
        assert!(matches!(
            store.resolve_id("zzz"),
            Err(StoreError::NotFound(_))
        ));
        assert!(store.record_occurrence("ab", None).is_err());
        assert_eq!(store.record_occurrence("abc2", Some("web1")).unwrap(), 2);
        assert_eq!(store.record_occurrence(A2, None).unwrap(), 3);
        let stats = store.stats().unwrap();
        assert_eq!(stats.recent.len(), 2);
        assert_eq!(stats.recent[1].host.as_deref(), Some("web1"));
    }

    #[test]
    fn data_version_moves_when_another_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let reader = Store::open_with(&path, no_defaults()).unwrap();
        let before = reader.data_version().unwrap();
        let writer = Store::open(&path).unwrap();
        writer
            .import(&serde_json::json!([pattern_row("x")]).to_string())
            .unwrap();
        assert_ne!(reader.data_version().unwrap(), before);
    }

    #[test]
    fn the_knowledge_version_moves_on_knowledge_not_on_bookkeeping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open_with(&path, no_defaults()).unwrap();
        store
            .import(&serde_json::json!([pattern_row("a"), pattern_row("b")]).to_string())
            .unwrap();
        let mut last = store.knowledge_version().unwrap();
        let mut moved = |store: &Store, what: &str, expected: bool| {
            let now = store.knowledge_version().unwrap();
            assert_eq!(now != last, expected, "{what}: {last} → {now}");
            assert!(now >= last, "{what}: went back");
            last = now;
        };
        store
            .record_occurrence(&test_uid("a"), Some("web1"))
            .unwrap();
        store.record_occurrence(&test_uid("b"), None).unwrap();
        moved(&store, "record_occurrence", false);
        assert_eq!(store.mark_in_insights(&[test_uid("a")]).unwrap(), 1);
        moved(&store, "mark_in_insights", false);

        store.add_pattern(pattern_row("c")).unwrap();
        moved(&store, "add_pattern", true);
        let mut edited = pattern_row("a");
        edited["root_cause"] = "another cause".into();
        store
            .import(&serde_json::json!([edited]).to_string())
            .unwrap();
        moved(&store, "import over an existing pattern", true);
        store.add_client("Acme").unwrap();
        moved(&store, "add_client", true);
        let spec = HostSpec {
            hostname: "web1".into(),
            client: Some("Acme".into()),
            ..HostSpec::default()
        };
        store.add_host(&spec).unwrap();
        moved(&store, "add_host", true);

        // Edits from outside forewarn (the sqlite3 shell) count too.
        let other = Connection::open(&path).unwrap();
        other
            .execute(
                "UPDATE failure_patterns SET triggering_commands = '[\"bar\"]' WHERE id = ?1",
                [test_uid("b")],
            )
            .unwrap();
        moved(&store, "SQL edit of a pattern", true);
        other
            .execute("UPDATE infrastructure SET os = 'debian'", [])
            .unwrap();
        moved(&store, "SQL edit of a host", true);
        other
            .execute("UPDATE failure_patterns SET occurrence_count = 9, last_seen = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP", [])
            .unwrap();
        moved(&store, "SQL edit of the bookkeeping", false);
        other
            .execute(
                "DELETE FROM failure_patterns WHERE id = ?1",
                [test_uid("c")],
            )
            .unwrap();
        moved(&store, "SQL delete of a pattern", true);
        store.remove_host("web1").unwrap();
        moved(&store, "remove_host", true);
    }

    #[test]
    fn every_pattern_column_but_the_bookkeeping_moves_the_knowledge_version() {
        const BOOKKEEPING: &[&str] = &[
            "occurrence_count",
            "last_seen",
            "updated_at",
            "added_to_insights",
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(&dir.path().join("s.db"), no_defaults()).unwrap();
        store
            .import(&serde_json::json!([pattern_row("a")]).to_string())
            .unwrap();
        let columns: Vec<String> = {
            let conn = store.conn();
            let mut stmt = conn
                .prepare("SELECT name FROM pragma_table_info('failure_patterns')")
                .unwrap();
            let names = stmt.query_map([], |r| r.get(0)).unwrap();
            names.collect::<Result<_, _>>().unwrap()
        };
        assert!(columns.len() > BOOKKEEPING.len() + 10, "{columns:?}");
        for column in &columns {
            let before = store.knowledge_version().unwrap();
            store
                .conn()
                .execute(
                    &format!("UPDATE failure_patterns SET \"{column}\" = \"{column}\""),
                    [],
                )
                .unwrap();
            let moved = store.knowledge_version().unwrap() != before;
            assert_eq!(moved, !BOOKKEEPING.contains(&column.as_str()), "{column}");
        }
    }

    #[test]
    fn a_version_1_store_migrates_and_new_stores_start_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "INSERT INTO failure_patterns (id, pattern_type, pattern_signature, severity,
                    failure_description, triggering_commands)
                 VALUES ('old', 'command_compatibility', 'sig old', 'major', 'd', '[\"foo\"]');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let store = Store::open_with(&path, no_defaults()).unwrap();
        assert!(!store.was_created());
        assert_eq!(store.schema_version().unwrap(), schema::LATEST);
        assert_eq!(store.load().unwrap().patterns[0].id, "old");
        let v = store.knowledge_version().unwrap();
        store.record_occurrence("old", None).unwrap();
        assert_eq!(store.knowledge_version().unwrap(), v);
        store.add_pattern(pattern_row("new")).unwrap();
        assert_eq!(store.knowledge_version().unwrap(), v + 1);

        // Two stores with the same history do not share a version (a store deleted and created
        // again must not match the old one's cache).
        let a = Store::open_with(&dir.path().join("a.db"), no_defaults()).unwrap();
        let b = Store::open_with(&dir.path().join("b.db"), no_defaults()).unwrap();
        assert_ne!(
            a.knowledge_version().unwrap(),
            b.knowledge_version().unwrap()
        );
    }

    #[test]
    fn file_uris_escape_what_sqlite_would_read_as_query() {
        let uri = file_uri(Path::new("/tmp/a b?c#d%e.db"));
        assert_eq!(uri, "file:/tmp/a%20b%3Fc%23d%25e.db");
    }
}
