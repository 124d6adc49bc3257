//! The `LanguageServer` implementation: protocol in, documents and analyses out.
//!
//! Concurrency (DESIGN.md §1): tower-lsp-server may interleave handlers at any `.await`, so
//! every document change is applied under a plain `std::sync::Mutex` before the handler awaits
//! anything, and no notification handler waits for a client response. Scans run on blocking
//! threads; a scan's result is published only if the document is still at the version it was
//! computed for (checked under `publish_lock`, which also orders publishes against `didClose`).
//! The pattern index is an `Arc` swapped whole when the store changes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Duration;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::lsp_types::*;
use tower_lsp_server::{Client, LanguageServer, UriExt};

use crate::config::Config;
use crate::engine::{PatternIndex, Problem, Severity};
use crate::store::Store;
use crate::text::Encoding;

use super::analysis::{Analysis, Analyzer};
use super::documents::{Document, MAX_CHECKED_BYTES};
use super::settings::Settings;
use super::store_watch::{self, Event, Loaded, Request, StoreWatch};
use super::transport::Outgoing;
use super::{actions, diagnostics, hover};
use tokio::sync::mpsc::UnboundedSender;

pub const CMD_RELOAD: &str = "forewarn.reloadStore";
pub const CMD_RECORD: &str = "forewarn.recordOccurrence";

/// How long `initialize` waits for the first load before answering without patterns (they
/// arrive with the next poll).
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(5);
/// How long `forewarn.reloadStore` / `recordOccurrence` wait for the store thread.
const COMMAND_WAIT: Duration = Duration::from_secs(15);

/// A poisoned mutex still holds consistent data here (every critical section is a few plain
/// assignments), so a panic elsewhere must not take the server down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Entry {
    doc: Document,
    analyzer: Arc<Mutex<Analyzer>>,
    /// The latest analysis, reused while version, index and target are unchanged.
    last: Option<Arc<Analysis>>,
    config: Config,
    told_too_large: bool,
}

/// Everything the handlers and background tasks share.
pub struct State {
    client: Client,
    out: UnboundedSender<Outgoing>,
    docs: Mutex<HashMap<Uri, Entry>>,
    index: RwLock<Arc<PatternIndex>>,
    settings: Mutex<Settings>,
    encoding: OnceLock<Encoding>,
    /// Push diagnostics (off when the client pulls them).
    push: AtomicBool,
    refresh_support: AtomicBool,
    folders: Mutex<Vec<PathBuf>>,
    store_flag: Option<PathBuf>,
    env_target: Option<String>,
    store: OnceLock<StoreWatch>,
    store_path: Mutex<Option<PathBuf>>,
    publish_lock: tokio::sync::Mutex<()>,
    /// Messages already sent to the client (invalid patterns, config errors): each once.
    told: Mutex<HashSet<String>>,
    first_problems: Mutex<Vec<Problem>>,
    startup_notes: Mutex<Vec<String>>,
    events: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Event>>>,
    shutdown: Arc<AtomicBool>,
}

pub struct Backend {
    state: Arc<State>,
}

impl Backend {
    /// `out` takes the publishDiagnostics the server serializes itself (see
    /// [`diagnostics::publish_body`]) to stdout, between tower-lsp-server's messages.
    pub fn new(
        client: Client,
        store_flag: Option<PathBuf>,
        shutdown: Arc<AtomicBool>,
        out: UnboundedSender<Outgoing>,
    ) -> Backend {
        Backend {
            state: Arc::new(State {
                client,
                out,
                docs: Mutex::new(HashMap::new()),
                index: RwLock::new(Arc::new(PatternIndex::build(vec![], vec![], vec![]))),
                settings: Mutex::new(Settings::default()),
                encoding: OnceLock::new(),
                push: AtomicBool::new(true),
                refresh_support: AtomicBool::new(false),
                folders: Mutex::new(Vec::new()),
                store_flag,
                env_target: std::env::var("FOREWARN_TARGET")
                    .ok()
                    .filter(|t| !t.trim().is_empty()),
                store: OnceLock::new(),
                store_path: Mutex::new(None),
                publish_lock: tokio::sync::Mutex::new(()),
                told: Mutex::new(HashSet::new()),
                first_problems: Mutex::new(Vec::new()),
                startup_notes: Mutex::new(Vec::new()),
                events: Mutex::new(None),
                shutdown,
            }),
        }
    }
}

impl Backend {
    /// A frame [`super::transport`] found malformed: logged for the user.
    pub async fn malformed(&self, params: Value) {
        let problem = params["problem"].as_str().unwrap_or("malformed message");
        self.state
            .log(
                MessageType::WARNING,
                format!("forewarn: ignored a malformed message: {problem}"),
            )
            .await;
    }
}

impl State {
    fn encoding(&self) -> Encoding {
        self.encoding.get().copied().unwrap_or(Encoding::Utf16)
    }

    fn index(&self) -> Arc<PatternIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn version(&self, uri: &Uri) -> Option<i32> {
        lock(&self.docs).get(uri).map(|e| e.doc.version)
    }

    /// Whether `message` is new (and remember it).
    fn first_time(&self, message: &str) -> bool {
        lock(&self.told).insert(message.to_string())
    }

    async fn log(&self, typ: MessageType, message: String) {
        match typ {
            MessageType::ERROR | MessageType::WARNING => tracing::warn!("{message}"),
            _ => tracing::info!("{message}"),
        }
        self.client.log_message(typ, message).await;
    }

    /// The workspace folder holding `path`, for relative globs.
    fn folder_of(&self, path: &Path) -> Option<PathBuf> {
        lock(&self.folders)
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.as_os_str().len())
            .cloned()
    }

    /// The target a document defaults to (DESIGN.md §4 after the in-file directive): the
    /// config file's globs, the editor's `targets` globs and `target`, `FOREWARN_TARGET`, then
    /// the config file's default `target`.
    fn default_target(&self, entry: &Entry, settings: &Settings) -> Option<String> {
        if let Some(path) = &entry.doc.path {
            if let Some(t) = entry.config.mapped_target(path) {
                return Some(t.to_string());
            }
            let root = self.folder_of(path);
            if let Some(t) = settings.target_for(path, root.as_deref()) {
                return Some(t.to_string());
            }
        }
        settings
            .target
            .clone()
            .or_else(|| self.env_target.clone())
            .or_else(|| entry.config.target.clone())
    }

    /// Analyzes the document now (on the calling thread: call from a blocking task). `None`
    /// when it is not open; `Some((version, None))` when it is not checked (unknown language,
    /// excluded, too large).
    fn analyze_blocking(&self, uri: &Uri) -> Option<(i32, Option<Arc<Analysis>>, Option<String>)> {
        let analyzer = lock(&self.docs).get(uri)?.analyzer.clone();
        // Taking the analyzer first keeps the edits it replays in the order they were made.
        let mut analyzer = lock(&analyzer);
        let index = self.index();
        let settings = lock(&self.settings).clone();
        let (text, version, language, pending, target) = {
            let mut docs = lock(&self.docs);
            let entry = docs.get_mut(uri)?;
            let version = entry.doc.version;
            let excluded = entry
                .doc
                .path
                .as_deref()
                .is_some_and(|p| entry.config.excludes(p));
            let Some(language) = entry.doc.language().filter(|_| !excluded) else {
                entry.doc.take_pending();
                return Some((version, None, None));
            };
            if entry.doc.text().len() > MAX_CHECKED_BYTES {
                entry.doc.take_pending();
                let note = (!entry.told_too_large).then(|| {
                    format!(
                        "{}: {} bytes is more than forewarn checks ({} bytes); not checked",
                        uri.as_str(),
                        entry.doc.text().len(),
                        MAX_CHECKED_BYTES
                    )
                });
                entry.told_too_large = true;
                return Some((version, None, note));
            }
            let target = self.default_target(entry, &settings);
            if let Some(last) = &entry.last {
                if last.version == version
                    && Arc::ptr_eq(&last.index, &index)
                    && last.language == language
                {
                    return Some((version, Some(last.clone()), None));
                }
            }
            (
                (entry.doc.text().to_string(), entry.doc.line_index().clone()),
                version,
                language,
                entry.doc.take_pending(),
                target,
            )
        };
        let (text, line_index) = text;
        let analysis = Arc::new(analyzer.analyze_indexed(
            text,
            line_index,
            version,
            language,
            pending,
            target.as_deref(),
            &index,
        ));
        if let Some(entry) = lock(&self.docs).get_mut(uri) {
            if entry.doc.version == version {
                entry.last = Some(analysis.clone());
            }
        }
        Some((version, Some(analysis), None))
    }

    async fn analyze(self: &Arc<Self>, uri: &Uri) -> Option<(i32, Option<Arc<Analysis>>)> {
        let state = self.clone();
        let u = uri.clone();
        let joined = tokio::task::spawn_blocking(move || state.analyze_blocking(&u)).await;
        match joined {
            Ok(Some((version, analysis, note))) => {
                if let Some(note) = note {
                    self.log(MessageType::WARNING, note).await;
                }
                Some((version, analysis))
            }
            Ok(None) => None,
            Err(e) => {
                self.log(
                    MessageType::ERROR,
                    format!("forewarn: checking {} failed: {e}", uri.as_str()),
                )
                .await;
                None
            }
        }
    }

    fn min_severity(&self, uri: &Uri) -> Severity {
        let from_settings = lock(&self.settings).severity;
        from_settings
            .or_else(|| lock(&self.docs).get(uri).and_then(|e| e.config.severity))
            .unwrap_or(Severity::Info)
    }

    async fn diagnostics_of(self: &Arc<Self>, uri: &Uri) -> Option<(i32, Vec<Diagnostic>)> {
        let (version, analysis) = self.analyze(uri).await?;
        let diags = match analysis {
            Some(a) => diagnostics::diagnostics(&a, self.encoding(), self.min_severity(uri)),
            None => Vec::new(),
        };
        Some((version, diags))
    }

    /// The publishDiagnostics message for `uri`, built on a blocking thread: for a large file
    /// it is megabytes.
    async fn publish_body_of(self: &Arc<Self>, uri: &Uri) -> Option<(i32, Vec<u8>)> {
        let (version, analysis) = self.analyze(uri).await?;
        let (enc, min) = (self.encoding(), self.min_severity(uri));
        let u = uri.clone();
        let body = tokio::task::spawn_blocking(move || {
            diagnostics::publish_body(&u, analysis.as_deref(), Some(version), enc, min)
        })
        .await
        .ok()?;
        Some((version, body))
    }

    /// Scans and publishes `uri` after `delay`, unless a newer version arrived meanwhile.
    fn schedule(self: &Arc<Self>, uri: Uri, delay: Duration) {
        if !self.push.load(Ordering::Relaxed) {
            return;
        }
        let Some(version) = self.version(&uri) else {
            return;
        };
        let state = self.clone();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
                if state.version(&uri) != Some(version) {
                    return;
                }
            }
            let Some((analyzed, body)) = state.publish_body_of(&uri).await else {
                return;
            };
            let _order = state.publish_lock.lock().await;
            // Stale (edited again) or closed meanwhile: a newer publish is on its way, or
            // didClose cleared the list.
            if state.version(&uri) != Some(analyzed) {
                return;
            }
            let _ = state.out.send(Some(body));
        });
    }

    /// Re-checks every open document (store or configuration changed).
    fn republish_all(self: &Arc<Self>) {
        let uris: Vec<Uri> = lock(&self.docs).keys().cloned().collect();
        for uri in uris {
            self.schedule(uri, Duration::ZERO);
        }
        if !self.push.load(Ordering::Relaxed) && self.refresh_support.load(Ordering::Relaxed) {
            let state = self.clone();
            tokio::spawn(async move {
                let _ = state.client.workspace_diagnostic_refresh().await;
            });
        }
    }

    /// Swaps in a freshly loaded index and names its unusable patterns (each once).
    async fn apply_loaded(self: &Arc<Self>, loaded: Loaded) {
        tracing::info!(
            "loaded {} patterns from {}",
            loaded.index.len(),
            loaded.path.display()
        );
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = loaded.index;
        self.tell_problems(&loaded.path, &loaded.problems).await;
        self.republish_all();
    }

    async fn tell_problems(&self, path: &Path, problems: &[Problem]) {
        for p in problems {
            let message = format!("forewarn: {}: skipping {p}", path.display());
            if self.first_time(&message) {
                self.log(MessageType::WARNING, message).await;
            }
        }
    }

    async fn handle_events(self: Arc<Self>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>) {
        while let Some(event) = rx.recv().await {
            match event {
                Event::Loaded(loaded) => self.apply_loaded(loaded).await,
                Event::Unusable(message) => {
                    tracing::warn!("{message}");
                    self.client
                        .show_message(MessageType::WARNING, message.clone())
                        .await;
                }
                Event::Recovered(message) => self.log(MessageType::INFO, message).await,
            }
        }
    }

    fn store_path_for(&self, settings: &Settings) -> PathBuf {
        let first_folder = lock(&self.folders).first().cloned();
        let config = first_folder.map(|f| Config::discover(&f).0);
        Store::resolve_path(
            self.store_flag.as_deref().or(settings.store.as_deref()),
            config.as_ref(),
        )
    }

    async fn apply_settings(self: &Arc<Self>, value: &Value) {
        let (settings, problems) = Settings::from_json(value);
        for p in problems {
            self.log(MessageType::WARNING, format!("forewarn: {p}"))
                .await;
        }
        let path = self.store_path_for(&settings);
        *lock(&self.settings) = settings;
        let changed = {
            let mut current = lock(&self.store_path);
            let changed = current.as_ref() != Some(&path);
            *current = Some(path.clone());
            changed
        };
        if changed {
            if let Some(store) = self.store.get() {
                store.send(Request::SetPath(path));
            }
        }
        for entry in lock(&self.docs).values_mut() {
            entry.last = None;
        }
        self.republish_all();
    }

    async fn rediscover_configs(self: &Arc<Self>) {
        let mut errors = Vec::new();
        for entry in lock(&self.docs).values_mut() {
            if let Some(path) = &entry.doc.path {
                let (config, error) = Config::discover(path);
                entry.config = config;
                entry.last = None;
                errors.extend(error.map(|e| e.to_string()));
            }
        }
        for e in errors {
            if self.first_time(&e) {
                self.log(MessageType::ERROR, format!("forewarn: {e}")).await;
            }
        }
        self.republish_all();
    }

    async fn store_request<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<std::result::Result<T, String>>) -> Request,
    ) -> Result<T> {
        let Some(store) = self.store.get() else {
            return Err(internal("the store is not open yet"));
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        if !store.send(make(tx)) {
            return Err(internal("the store thread has stopped"));
        }
        match tokio::time::timeout(COMMAND_WAIT, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(internal(&e)),
            Ok(Err(_)) => Err(internal("the store thread has stopped")),
            Err(_) => Err(internal("the store did not answer in time (locked?)")),
        }
    }
}

fn internal(message: &str) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.to_string().into(),
        data: None,
    }
}

fn not_open(uri: &Uri) -> Error {
    Error::invalid_params(format!("document not open: {}", uri.as_str()))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let state = &self.state;
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref());
        let encoding = if offered.is_some_and(|o| o.contains(&PositionEncodingKind::UTF8)) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        let _ = state.encoding.set(encoding);
        let pulls = params
            .capabilities
            .text_document
            .as_ref()
            .is_some_and(|t| t.diagnostic.is_some());
        state.push.store(!pulls, Ordering::Relaxed);
        let refresh = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.diagnostic.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        state.refresh_support.store(refresh, Ordering::Relaxed);

        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        #[allow(deprecated)]
        if folders.is_empty() {
            if let Some(root) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
                folders.push(root.into_owned());
            }
        }
        *lock(&state.folders) = folders;

        let (settings, problems) = match &params.initialization_options {
            Some(v) => Settings::from_json(v),
            None => (Settings::default(), Vec::new()),
        };
        lock(&state.startup_notes).extend(problems.into_iter().map(|p| format!("forewarn: {p}")));
        let path = state.store_path_for(&settings);
        *lock(&state.settings) = settings;
        *lock(&state.store_path) = Some(path.clone());

        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *lock(&state.events) = Some(rx);
        let store = state
            .store
            .get_or_init(|| StoreWatch::spawn(path, tx, store_watch::POLL));
        let (reply, first) = tokio::sync::oneshot::channel();
        store.send(Request::Reload(reply));
        match tokio::time::timeout(FIRST_LOAD_WAIT, first).await {
            Ok(Ok(Ok(loaded))) => {
                tracing::info!(
                    "loaded {} patterns from {}",
                    loaded.index.len(),
                    loaded.path.display()
                );
                *state.index.write().unwrap_or_else(|e| e.into_inner()) = loaded.index;
                *lock(&state.first_problems) = loaded.problems;
            }
            // The store thread already queued an `Unusable` event; it is shown once the
            // client is initialized.
            Ok(Ok(Err(e))) => tracing::warn!("{e}"),
            _ => tracing::warn!("the store did not load in time; continuing without patterns"),
        }

        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(match encoding {
                    Encoding::Utf8 => PositionEncodingKind::UTF8,
                    _ => PositionEncodingKind::UTF16,
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        will_save: None,
                        will_save_wait_until: None,
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        work_done_progress_options: Default::default(),
                        resolve_provider: None,
                    },
                )),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![CMD_RELOAD.to_string(), CMD_RECORD.to_string()],
                    work_done_progress_options: Default::default(),
                }),
                diagnostic_provider: Some(DiagnosticServerCapabilities::Options(
                    DiagnosticOptions {
                        identifier: Some("forewarn".to_string()),
                        inter_file_dependencies: false,
                        workspace_diagnostics: false,
                        work_done_progress_options: Default::default(),
                    },
                )),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "forewarn".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let state = self.state.clone();
        if let Some(rx) = lock(&state.events).take() {
            tokio::spawn(state.clone().handle_events(rx));
        }
        let notes = std::mem::take(&mut *lock(&state.startup_notes));
        for n in notes {
            state.log(MessageType::WARNING, n).await;
        }
        let problems = std::mem::take(&mut *lock(&state.first_problems));
        let path = lock(&state.store_path).clone().unwrap_or_default();
        state.tell_problems(&path, &problems).await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let state = &self.state;
        let td = params.text_document;
        let uri = td.uri.clone();
        let doc = Document::new(td.uri, td.language_id, td.version, td.text);
        let (config, error) = match &doc.path {
            Some(p) => Config::discover(p),
            None => (Config::default(), None),
        };
        let mut analyzer = Analyzer::default();
        analyzer.set_encoding(state.encoding());
        lock(&state.docs).insert(
            uri.clone(),
            Entry {
                doc,
                analyzer: Arc::new(Mutex::new(analyzer)),
                last: None,
                config,
                told_too_large: false,
            },
        );
        state.schedule(uri, Duration::ZERO);
        if let Some(e) = error.map(|e| e.to_string()) {
            if state.first_time(&e) {
                state
                    .log(MessageType::ERROR, format!("forewarn: {e}"))
                    .await;
            }
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let state = &self.state;
        let uri = params.text_document.uri;
        let enc = state.encoding();
        let warnings = {
            let mut docs = lock(&state.docs);
            match docs.get_mut(&uri) {
                None => Err(format!(
                    "forewarn: didChange for a document that is not open: {}",
                    uri.as_str()
                )),
                Some(entry) => {
                    let warnings: Vec<String> = params
                        .content_changes
                        .iter()
                        .filter_map(|c| entry.doc.apply_change(c, enc))
                        .collect();
                    entry.doc.version = params.text_document.version;
                    entry.last = None;
                    Ok(warnings)
                }
            }
        };
        match warnings {
            Err(e) => state.log(MessageType::WARNING, e).await,
            Ok(warnings) => {
                let debounce = lock(&state.settings).debounce();
                state.schedule(uri, debounce);
                for w in warnings {
                    state
                        .log(MessageType::WARNING, format!("forewarn: {w}"))
                        .await;
                }
            }
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let is_config = params
            .text_document
            .uri
            .path()
            .as_str()
            .ends_with(crate::config::FILE_NAME);
        if is_config {
            self.state.rediscover_configs().await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let state = &self.state;
        let uri = params.text_document.uri;
        if lock(&state.docs).remove(&uri).is_none() {
            tracing::debug!("didClose for a document that is not open: {}", uri.as_str());
            return;
        }
        if state.push.load(Ordering::Relaxed) {
            let body =
                diagnostics::publish_body(&uri, None, None, state.encoding(), Severity::Info);
            let _order = state.publish_lock.lock().await;
            let _ = state.out.send(Some(body));
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // `null` is how pull-model clients say "something changed, ask me"; forewarn keeps what
        // it has rather than awaiting a client request inside a notification handler.
        if params.settings.is_null() {
            return;
        }
        self.state.apply_settings(&params.settings).await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let mut folders = lock(&self.state.folders);
        for removed in &params.event.removed {
            if let Some(p) = removed.uri.to_file_path() {
                folders.retain(|f| f.as_path() != p.as_ref());
            }
        }
        for added in &params.event.added {
            if let Some(p) = added.uri.to_file_path() {
                folders.push(p.into_owned());
            }
        }
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        let uri = params.text_document.uri;
        let (_, items) = self
            .state
            .diagnostics_of(&uri)
            .await
            .ok_or_else(|| not_open(&uri))?;
        Ok(DocumentDiagnosticReportResult::Report(
            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: None,
                    items,
                },
            }),
        ))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let state = &self.state;
        let uri = params.text_document_position_params.text_document.uri;
        let pos = params.text_document_position_params.position;
        let Some((_, analysis)) = state.analyze(&uri).await else {
            return Err(not_open(&uri));
        };
        let Some(a) = analysis else {
            return Ok(None);
        };
        let enc = state.encoding();
        let offset = a.line_index.offset(
            &a.text,
            crate::text::LineCol {
                line: pos.line,
                col: pos.character,
            },
            enc,
        );
        Ok(hover::hover(&a, offset, enc))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let state = &self.state;
        let uri = params.text_document.uri;
        let index = state.index();
        let enc = state.encoding();
        let docs = lock(&state.docs);
        let Some(entry) = docs.get(&uri) else {
            return Err(not_open(&uri));
        };
        let Some(language) = entry.doc.language() else {
            return Ok(None);
        };
        let actions = actions::code_actions(
            &entry.doc,
            language,
            enc,
            &index,
            &params.context.diagnostics,
        );
        Ok(Some(actions))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let state = &self.state;
        match params.command.as_str() {
            CMD_RELOAD => {
                let loaded = state.store_request(Request::Reload).await?;
                let count = loaded.index.len();
                state.apply_loaded(loaded).await;
                Ok(Some(json!({ "patterns": count })))
            }
            CMD_RECORD => {
                let id = params
                    .arguments
                    .first()
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| {
                        Error::invalid_params(
                            "forewarn.recordOccurrence needs a pattern id (a string) as its first argument",
                        )
                    })?
                    .to_string();
                let host = match params.arguments.get(1) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(h)) => Some(h.clone()),
                    Some(_) => return Err(Error::invalid_params(
                        "forewarn.recordOccurrence: the host (second argument) must be a string",
                    )),
                };
                let count = state
                    .store_request(|reply| Request::Record { id, host, reply })
                    .await?;
                Ok(Some(json!({ "occurrence_count": count })))
            }
            other => Err(Error::invalid_params(format!("unknown command `{other}`"))),
        }
    }
}
