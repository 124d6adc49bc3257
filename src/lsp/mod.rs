//! `forewarn lsp`: the language server on stdio (DESIGN.md §8).
//!
//! Map of this adapter (the only part of forewarn that knows LSP):
//! - [`server`]: the `LanguageServer` implementation and the state its handlers share;
//! - [`documents`]: open documents, incremental sync, encodings (through [`crate::text`]);
//! - [`analysis`]: incremental checking, re-scanning only the statements an edit touched;
//! - [`diagnostics`], [`actions`], [`hover`]: findings as LSP diagnostics, quick fixes, hovers;
//! - [`settings`]: the `forewarn.*` editor settings;
//! - [`store_watch`]: the thread that owns the store, reloads it when another process changes
//!   it, and survives it going missing, locked or corrupt;
//! - [`transport`]: lets only well-formed JSON-RPC reach tower-lsp-server (one malformed frame
//!   would otherwise end its input stream).
//!
//! stdout carries JSON-RPC and nothing else; logs go to stderr through `tracing`.

pub mod actions;
pub mod analysis;
pub mod diagnostics;
pub mod documents;
pub mod hover;
pub mod server;
pub mod settings;
pub mod store_watch;
pub mod transport;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::{LspService, Server};

/// Runs the server until the client sends `exit` (or closes stdin). Exit code 0 when a
/// `shutdown` came first, 1 otherwise (as the LSP specification asks).
pub fn run(store: Option<PathBuf>) -> ExitCode {
    // Few threads: each one that allocates gets its own malloc arena, and freed memory stays
    // in it (DESIGN.md §10: ≤ 50 MB). Scans run on the blocking pool; stdin holds one thread.
    // Fewer arenas than threads, too: what one thread freed is reused by the others instead of
    // staying resident in its own arena (about 2 MB of 50 with a 10,000-line script open). And
    // a fixed mmap threshold: glibc otherwise raises it to the size of the largest block freed,
    // so after the first publish the megabyte-sized buffers of later ones are carved from the
    // heap, where they leave holes, instead of being mapped and unmapped whole.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(3)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::cli::error(format_args!("cannot start the async runtime: {e}"));
            return ExitCode::from(crate::cli::EXIT_ERROR);
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    runtime.block_on(async move {
        let (queue, queued) = tokio::sync::mpsc::unbounded_channel();
        let direct = queue.clone();
        let (service, socket) =
            LspService::build(move |client| server::Backend::new(client, store, flag, direct))
                .custom_method(transport::MALFORMED, server::Backend::malformed)
                .finish();
        let (guarded, from_guard) = tokio::io::duplex(64 * 1024);
        tokio::spawn(transport::sanitize(tokio::io::stdin(), guarded));
        let (to_merge, from_server) = tokio::io::duplex(64 * 1024);
        let reader = tokio::spawn(transport::read_server(from_server, queue));
        let writer = tokio::spawn(transport::write_out(queued, tokio::io::stdout()));
        Server::new(from_guard, to_merge, socket)
            .serve(service)
            .await;
        // Everything the server wrote (the answer to `shutdown` among it) reaches stdout
        // before the process ends.
        let _ = reader.await;
        let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    });
    // The stdin reader may still be parked in a blocking read; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    if shutdown.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
