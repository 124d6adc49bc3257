//! The store as the language server sees it: one thread that owns the SQLite connection,
//! loads the pattern index, notices when another process changes the store, and records
//! occurrences (DESIGN.md §2.2, §8).
//!
//! Every `POLL` it compares the file's identity (existence, size, mtime, inode) and
//! `PRAGMA data_version`; a change means a reload. A store that is missing, locked or corrupt is
//! reported once per episode ([`Event::Unusable`]) and the server keeps its last good index;
//! when the store is usable again a reload follows on its own ([`Event::Recovered`]).
//!
//! The connection never leaves this thread, so nothing here needs the store to be `Sync`, and
//! slow disk or a busy lock never blocks a request handler.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc::UnboundedSender, oneshot};

use crate::engine::{PatternIndex, Problem};
use crate::store::Store;

/// How often the store is checked for changes by other processes.
pub const POLL: Duration = Duration::from_millis(500);

/// A freshly loaded index.
pub struct Loaded {
    pub path: PathBuf,
    pub index: Arc<PatternIndex>,
    pub problems: Vec<Problem>,
}

/// What the thread tells the server.
pub enum Event {
    Loaded(Loaded),
    /// The store cannot be used; sent once until it recovers.
    Unusable(String),
    /// The store is usable again after an [`Event::Unusable`].
    Recovered(String),
}

/// What the server asks of the thread.
pub enum Request {
    /// Load now; the reply carries the outcome (and no `Loaded` event is sent for it).
    Reload(oneshot::Sender<Result<Loaded, String>>),
    /// Use another store file from now on (settings changed).
    SetPath(PathBuf),
    /// Count one occurrence of a pattern (id or unique prefix) seen on `host`.
    Record {
        id: String,
        host: Option<String>,
        reply: oneshot::Sender<Result<i64, String>>,
    },
}

/// The handle the server keeps.
#[derive(Clone)]
pub struct StoreWatch {
    tx: Sender<Request>,
}

impl StoreWatch {
    /// Starts the thread for the store at `path`. It loads nothing until asked or polled.
    pub fn spawn(path: PathBuf, events: UnboundedSender<Event>, poll: Duration) -> StoreWatch {
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("forewarn-store".into())
            .spawn(move || Watcher::new(path, events).run(rx, poll));
        if let Err(e) = spawned {
            tracing::error!("cannot start the store thread: {e}");
        }
        StoreWatch { tx }
    }

    pub fn send(&self, request: Request) -> bool {
        self.tx.send(request).is_ok()
    }
}

/// The file's identity: when any of it changes, the file was replaced or rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stat {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stat(path: &Path) -> Option<Stat> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stat {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
    })
}

struct Watcher {
    path: PathBuf,
    events: UnboundedSender<Event>,
    store: Option<Store>,
    stat: Option<Stat>,
    data_version: Option<i64>,
    broken: bool,
    /// Patterns in the last good index, for the messages.
    last_count: usize,
}

impl Watcher {
    fn new(path: PathBuf, events: UnboundedSender<Event>) -> Watcher {
        Watcher {
            path,
            events,
            store: None,
            stat: None,
            data_version: None,
            broken: false,
            last_count: 0,
        }
    }

    fn run(mut self, rx: Receiver<Request>, poll: Duration) {
        loop {
            match rx.recv_timeout(poll) {
                Ok(Request::Reload(reply)) => {
                    // An explicit load may create a store that does not exist yet (DESIGN §2).
                    let r = self.load(true);
                    let _ = reply.send(r);
                }
                Ok(Request::SetPath(path)) => {
                    if path != self.path {
                        tracing::info!("store is now {}", path.display());
                        self.path = path;
                        self.store = None;
                        self.stat = None;
                        self.broken = false;
                        self.reload_and_tell(true);
                    }
                }
                Ok(Request::Record { id, host, reply }) => {
                    let r = self.record(&id, host.as_deref());
                    let ok = r.is_ok();
                    let _ = reply.send(r);
                    if ok {
                        // Our own commit does not move our connection's data_version.
                        self.reload_and_tell(false);
                    }
                }
                Err(RecvTimeoutError::Timeout) => self.poll(),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn record(&mut self, id: &str, host: Option<&str>) -> Result<i64, String> {
        if self.store.is_none() {
            if !self.path.exists() {
                return Err(format!("{}: the store does not exist", self.path.display()));
            }
            self.store = Some(Store::open(&self.path).map_err(|e| e.to_string())?);
        }
        let store = self.store.as_ref().ok_or("no store")?;
        store.record_occurrence(id, host).map_err(|e| e.to_string())
    }

    fn poll(&mut self) {
        let now = stat(&self.path);
        if now.is_none() {
            self.store = None;
            self.stat = None;
            self.fail(format!(
                "{}: the store file is missing",
                self.path.display()
            ));
            return;
        }
        let changed = self.store.is_none()
            || now != self.stat
            || match self.store.as_ref().map(Store::data_version) {
                Some(Ok(v)) => Some(v) != self.data_version,
                _ => true,
            };
        if changed {
            self.reload_and_tell(false);
        }
    }

    fn reload_and_tell(&mut self, create: bool) {
        if let Ok(loaded) = self.load(create) {
            let _ = self.events.send(Event::Loaded(loaded));
        }
    }

    /// Loads the index; reports failure once per episode and recovery once.
    fn load(&mut self, create: bool) -> Result<Loaded, String> {
        match self.try_load(create) {
            Ok(loaded) => {
                self.last_count = loaded.index.len();
                if self.broken {
                    self.broken = false;
                    let _ = self.events.send(Event::Recovered(format!(
                        "forewarn: the pattern store {} is usable again ({} patterns)",
                        self.path.display(),
                        self.last_count
                    )));
                }
                Ok(loaded)
            }
            Err(e) => {
                self.store = None;
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    fn fail(&mut self, why: String) {
        tracing::warn!("{why}");
        if !self.broken {
            self.broken = true;
            let _ = self.events.send(Event::Unusable(format!(
                "forewarn: cannot use the pattern store ({why}); keeping the {} patterns loaded \
                 before, and checking again every {} ms",
                self.last_count,
                POLL.as_millis()
            )));
        }
    }

    fn try_load(&mut self, create: bool) -> Result<Loaded, String> {
        if !create && !self.path.exists() {
            return Err(format!(
                "{}: the store file is missing",
                self.path.display()
            ));
        }
        let before = stat(&self.path);
        let store = match self.store.take() {
            // A replaced file needs a new connection; the old one still reads the old inode.
            Some(s) if before == self.stat => s,
            _ => Store::open(&self.path).map_err(|e| e.to_string())?,
        };
        let (index, problems) = store.load_index().map_err(|e| e.to_string())?;
        self.data_version = store.data_version().ok();
        self.stat = stat(&self.path);
        self.store = Some(store);
        Ok(Loaded {
            path: self.path.clone(),
            index: Arc::new(index),
            problems,
        })
    }
}
