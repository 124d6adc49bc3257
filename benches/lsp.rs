//! The language server's budgets (DESIGN.md §10), with a synthetic store of 10,000 patterns and
//! a 10,000-line script:
//! - diagnostics after a one-line edit ≤ 5 ms: measured in-process (document edit, incremental
//!   analysis, the publishDiagnostics message as the server writes it), after the quiet period,
//!   i.e. without the debounce;
//!   checked against a whole-file scan so a fast wrong answer cannot pass;
//! - server memory ≤ 50 MB: the real `forewarn lsp` process with that store and that document
//!   open, read from /proc/PID/status (Linux).
//!
//! Run with `cargo bench --bench lsp`; it prints the figures (`-- memory`: the memory figure
//! only).

#[path = "../tests/lsp/client.rs"]
#[allow(dead_code)]
mod client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use forewarn::engine::{self, PatternIndex, Severity};
use forewarn::lsp::analysis::Analyzer;
use forewarn::lsp::diagnostics;
use forewarn::lsp::documents::Document;
use forewarn::script::Language;
use forewarn::synthetic;
use forewarn::text::Encoding;
use serde_json::{json, Value};
use tower_lsp_server::lsp_types::{
    Diagnostic, Position, Range, TextDocumentContentChangeEvent, Uri,
};

const PATTERNS: usize = 10_000;
const LINES: usize = 10_000;
const TARGET: &str = "debian-12";
const EDITS: usize = 200;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, briefly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let patterns = synthetic::patterns(PATTERNS, 1);
    if !quick && std::env::args().any(|a| a == "memory") {
        return memory(&patterns, &synthetic::bash_script(LINES, PATTERNS, 2));
    }
    let index = Arc::new(PatternIndex::build(patterns.clone(), vec![], vec![]));
    let bash = synthetic::bash_script(LINES, PATTERNS, 2);
    let pwsh = synthetic::powershell_script(LINES, PATTERNS, 3);
    let edits = if quick { 10 } else { EDITS };
    edit_timing("bash", Language::Bash, &bash, &index, edits);
    edit_timing("powershell", Language::PowerShell, &pwsh, &index, edits);
    if !quick {
        memory(&patterns, &bash);
    }
}

/// The diagnostics a publishDiagnostics message carries.
fn body_diagnostics(body: &[u8]) -> Vec<Diagnostic> {
    let v: Value = serde_json::from_slice(body).expect("the message is JSON");
    serde_json::from_value(v["params"]["diagnostics"].clone()).expect("diagnostics")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn edit_timing(name: &str, lang: Language, text: &str, index: &Arc<PatternIndex>, edits: usize) {
    let uri = format!(
        "file:///bench/script.{}",
        if lang == Language::Bash { "sh" } else { "ps1" }
    );
    let uri: Uri = uri.parse().unwrap();
    let mut doc = Document::new(uri.clone(), lang.name().into(), 1, text.to_string());
    let mut analyzer = Analyzer::default();

    let t = Instant::now();
    let full = engine::scan(text, lang, Some(TARGET), index);
    let full_scan = t.elapsed();
    let t = Instant::now();
    let first = analyzer.analyze(
        doc.text().to_string(),
        1,
        lang,
        doc.take_pending(),
        Some(TARGET),
        index,
    );
    let open = t.elapsed();
    assert_eq!(
        first.findings(),
        full.findings,
        "{name}: chunked ≠ whole-file scan"
    );
    let chunks = analyzer.last_chunks;

    let lines = doc.line_index().line_count() as u32;
    // Lines that are one whole statement each: retyping one is the everyday edit.
    let simple: Vec<u32> = (lines / 3..2 * lines / 3)
        .filter(|&l| {
            let r = doc.line_index().line_range(doc.text(), l as usize);
            let t = &doc.text()[r];
            t.starts_with("sudo ")
                || t.starts_with("echo '")
                || t.starts_with("Write-Host ")
                || t.starts_with("$r = ")
        })
        .collect();
    let mut times = Vec::with_capacity(edits);
    let mut analysis_times = Vec::with_capacity(edits);
    let mut rescanned = 0;
    let mut diags = 0;
    let mut bytes = 0;
    let mut version = 1;
    let mut edit = |doc: &mut Document,
                    analyzer: &mut Analyzer,
                    line: u32,
                    replace: bool,
                    new_text: String| {
        let r = doc.line_index().line_range(doc.text(), line as usize);
        let end_col = if replace {
            doc.text()[r].encode_utf16().count() as u32
        } else {
            0
        };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(line, 0),
                Position::new(line, end_col),
            )),
            range_length: None,
            text: new_text,
        };
        version += 1;
        let t = Instant::now();
        doc.apply_change(&change, Encoding::Utf16);
        let a = analyzer.analyze_indexed(
            doc.text().to_string(),
            doc.line_index().clone(),
            version,
            lang,
            doc.take_pending(),
            Some(TARGET),
            index,
        );
        let analysed = t.elapsed();
        let body = diagnostics::publish_body(
            &uri,
            Some(&a),
            Some(version),
            Encoding::Utf16,
            Severity::Info,
        );
        (t.elapsed(), analysed, a, body.len())
    };
    for i in 0..edits {
        let line = simple[(i * 37) % simple.len()];
        let new_text = match (lang, i % 2) {
            (Language::Bash, 0) => format!("sudo tool{} --opt{} x", i * 13 % PATTERNS, i % 7),
            (Language::Bash, _) => format!("echo 'edited {i}'"),
            (_, 0) => format!("Write-Host (tool{} -Path x)", i * 13 % PATTERNS),
            _ => format!("Write-Host edited {i}"),
        };
        let (took, analysed, a, n) = edit(&mut doc, &mut analyzer, line, true, new_text);
        times.push(took);
        analysis_times.push(analysed);
        rescanned += analyzer.last_rescanned;
        bytes = n;
        if std::env::var_os("LSP_BENCH_DEBUG").is_some() {
            eprintln!(
                "edit {i} line {line}: {} of {} chunks rescanned",
                analyzer.last_rescanned, analyzer.last_chunks
            );
        }
        if i + 1 == edits {
            // The message carries what converting the findings one by one gives.
            let body = diagnostics::publish_body(
                &uri,
                Some(&a),
                Some(a.version),
                Encoding::Utf16,
                Severity::Info,
            );
            let converted = diagnostics::diagnostics(&a, Encoding::Utf16, Severity::Info);
            diags = converted.len();
            assert_eq!(
                body_diagnostics(&body),
                converted,
                "{name}: published ≠ converted"
            );
            let whole = engine::scan(doc.text(), lang, Some(TARGET), index);
            assert_eq!(
                a.findings(),
                whole.findings,
                "{name}: after {edits} edits, chunked ≠ whole-file scan"
            );
        }
    }
    times.sort();
    analysis_times.sort();
    // The worst everyday case: a line that opens a block whose end is not typed yet, so the
    // grammar sees the rest of the file as one broken statement; then the block is closed.
    let mid = lines / 2;
    let opener = if lang == Language::Bash {
        "if true; then"
    } else {
        "if ($x) {"
    };
    let closer = if lang == Language::Bash { "fi" } else { "}" };
    let (open_block, _, _, _) = edit(&mut doc, &mut analyzer, mid, false, format!("{opener}\n"));
    let (close_block, _, a, _) = edit(
        &mut doc,
        &mut analyzer,
        mid + 1,
        false,
        format!("{closer}\n"),
    );
    let whole = engine::scan(doc.text(), lang, Some(TARGET), index);
    assert_eq!(
        a.findings(),
        whole.findings,
        "{name}: block edits, chunked ≠ whole-file scan"
    );

    println!(
        "lsp/{name}: {} bytes, {} lines, {chunks} chunks, {} findings; whole-file scan {:.2} ms, open (full analysis) {:.2} ms",
        text.len(),
        lines,
        first.findings().len(),
        ms(full_scan),
        ms(open)
    );
    println!(
        "lsp/{name}: one-line edit → diagnostics ({edits} edits, {diags} diagnostics in a {:.1} MB message, {:.1} chunks rescanned per edit): median {:.3} ms, p95 {:.3} ms, max {:.3} ms (budget 5 ms)",
        bytes as f64 / 1e6,
        rescanned as f64 / edits as f64,
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap())
    );
    println!(
        "lsp/{name}:   of which the edit and incremental analysis: median {:.3} ms, p95 {:.3} ms; the rest is writing the publishDiagnostics message",
        ms(percentile(&analysis_times, 0.5)),
        ms(percentile(&analysis_times, 0.95)),
    );
    println!(
        "lsp/{name}: block opened mid-file (rest of the file one broken statement) {:.3} ms, then closed {:.3} ms",
        ms(open_block),
        ms(close_block)
    );
}

/// (VmRSS, VmHWM) of a process, as /proc prints them.
fn rss(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn memory(patterns: &[forewarn::engine::Pattern], script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("patterns.db");
    let json_file = dir.path().join("patterns.json");
    std::fs::write(&json_file, serde_json::to_string(patterns).unwrap()).unwrap();
    for args in [
        vec!["store", "init", "--no-defaults"],
        vec!["store", "import", json_file.to_str().unwrap()],
    ] {
        let out = std::process::Command::new(client::EXE)
            .arg("--store")
            .arg(&store)
            .args(&args)
            .output()
            .unwrap();
        if !out.status.success() {
            println!(
                "lsp/memory: cannot make the store ({args:?}): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
    }
    let mut c = client::Client::start(&store);
    let pid = c.pid();
    c.initialize(
        json!({}),
        json!({"forewarn": {"target": TARGET}}),
        Value::Null,
    );
    std::thread::sleep(Duration::from_millis(300));
    let loaded = rss(pid);
    let uri = "file:///bench/script.sh";
    c.open(uri, "shellscript", 1, script);
    let diags = c.diagnostics(uri, Some(1));
    // Let the store poller and allocator settle.
    std::thread::sleep(Duration::from_millis(1200));
    let (now, peak) = rss(pid);
    println!(
        "lsp/memory: forewarn lsp with {PATTERNS} patterns: VmRSS {} after loading the store; with the {LINES}-line script open ({} diagnostics) VmRSS {now}, VmHWM (peak) {peak} (budget 50 MB)",
        loaded.0,
        diags.len(),
    );
    assert!(c.shutdown().success());
}
