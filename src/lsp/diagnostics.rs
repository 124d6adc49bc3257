//! Findings as LSP diagnostics (DESIGN.md §8).
//!
//! Each diagnostic carries in `data` what a code action needs (the pattern id, the matched byte
//! range and text, the fix), so answering a code action never scans again.
//!
//! A push (`textDocument/publishDiagnostics`) is written from JSON prepared once per chunk
//! ([`Prepared`], [`publish_body`]); [`diagnostics`] makes the objects for a pull.

use serde::{Deserialize, Serialize};
use tower_lsp_server::lsp_types::{Diagnostic, DiagnosticSeverity, NumberOrString, Uri};

use crate::engine::{Finding, Pattern, PatternIndex, Severity};
use crate::text::{Encoding, LineIndex};

use super::analysis::Analysis;
use super::documents::range;

/// The `source` of every forewarn diagnostic.
pub const SOURCE: &str = "forewarn";

/// `Diagnostic.data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticData {
    pub pattern_id: String,
    /// Byte range of the match in the document version the diagnostic was computed for.
    pub span: [usize; 2],
    /// The matched text: a code action checks it is still there before editing.
    pub matched: String,
    pub fix: Option<FixData>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixData {
    pub title: String,
    pub span: [usize; 2],
    pub replacement: String,
}

impl DiagnosticData {
    /// Reads our data back from a diagnostic the client sent; `None` for anyone else's.
    pub fn of(d: &Diagnostic) -> Option<DiagnosticData> {
        if d.source.as_deref() != Some(SOURCE) {
            return None;
        }
        serde_json::from_value(d.data.clone()?).ok()
    }
}

pub fn lsp_severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Blocking => DiagnosticSeverity::ERROR,
        Severity::Major => DiagnosticSeverity::WARNING,
        Severity::Minor => DiagnosticSeverity::INFORMATION,
        Severity::Info => DiagnosticSeverity::HINT,
    }
}

/// The diagnostics of an analysis, leaving out findings below `min` (the pull model's answer;
/// a push goes out as [`publish_body`], built without these objects).
pub fn diagnostics(a: &Analysis, enc: Encoding, min: Severity) -> Vec<Diagnostic> {
    a.findings()
        .iter()
        .filter(|f| f.severity >= min)
        .filter_map(|f| {
            let pattern = a.index.get(&f.pattern_id)?;
            diagnostic(&a.text, &a.line_index, f, pattern, enc)
        })
        .collect()
}

/// The JSON-RPC `textDocument/publishDiagnostics` notification for an analysis (`None`: an
/// empty list), byte for byte what tower-lsp-server would write for
/// [`diagnostics`]`(a, enc, min)`.
///
/// Why not through tower-lsp-server: it turns the parameters into a `serde_json::Value` tree
/// and then into text, which for 20,000 diagnostics costs tens of milliseconds and tens of
/// megabytes on every edit. Here each chunk's diagnostics were serialized once, when it was
/// scanned ([`Prepared`]), and a publish copies those bytes, writing in the lines and byte
/// offsets shifted to where the chunk now stands.
pub fn publish_body(
    uri: &Uri,
    a: Option<&Analysis>,
    version: Option<i32>,
    enc: Encoding,
    min: Severity,
) -> Vec<u8> {
    // Ready-made bytes when every chunk has them in the client's encoding.
    let prepared = a
        .and_then(|a| a.pieces().filter(|_| a.encoding == enc))
        .filter(|p| p.iter().all(|p| p.chunk.diagnostics.is_some()));
    let mut out = Vec::with_capacity(
        256 + prepared.map_or(0, |p| {
            p.iter()
                .filter_map(|p| p.chunk.diagnostics.as_ref())
                // Numbers up to 7 digits (a 4 MB document), and the commas.
                .map(|d| d.json.len() + d.holes.len() * 7 + d.items.len())
                .sum()
        }),
    );
    out.extend_from_slice(
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
    );
    // A `Uri` serializes as its string; writing JSON into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut out, uri);
    out.extend_from_slice(br#","diagnostics":["#);
    match (prepared, a) {
        (Some(pieces), _) => {
            let mut first = true;
            for piece in pieces {
                if let Some(d) = &piece.chunk.diagnostics {
                    d.render(&mut out, piece.line, piece.start, min, &mut first);
                }
            }
        }
        (None, Some(a)) => {
            for (i, d) in diagnostics(a, enc, min).iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut out, d);
            }
        }
        (None, None) => {}
    }
    out.push(b']');
    if let Some(v) = version {
        out.extend_from_slice(br#","version":"#);
        push_number(&mut out, v as i64);
    }
    out.extend_from_slice(b"}}");
    out
}

/// One chunk's diagnostics as JSON, ready to be copied into a publish: each diagnostic's JSON
/// without its line numbers and byte offsets, which are kept apart (relative to the chunk) and
/// written in shifted at publish time. Lines and offsets are the only numbers that change when
/// the text before a chunk changes: columns count from a line start, and chunks start at one.
#[derive(Debug, Default)]
pub struct Prepared {
    json: Vec<u8>,
    items: Vec<Item>,
    holes: Vec<Hole>,
}

#[derive(Debug)]
struct Item {
    severity: Severity,
    /// Where its JSON and its holes end.
    end: u32,
    holes_end: u32,
}

/// A number left out of the JSON at `at`: `value` plus the chunk's first line (`line`) or its
/// byte offset.
#[derive(Debug)]
struct Hole {
    at: u32,
    value: u32,
    line: bool,
}

impl Prepared {
    /// The diagnostics of `findings` (spans relative to `chunk`), as [`diagnostic`] makes them;
    /// `None` when a number does not fit the compact form (a chunk beyond 4 GB).
    pub fn new(
        chunk: &str,
        line_index: &LineIndex,
        findings: &[Finding],
        index: &PatternIndex,
        enc: Encoding,
    ) -> Option<Prepared> {
        let mut p = Prepared::default();
        for f in findings {
            let Some(pattern) = index.get(&f.pattern_id) else {
                continue;
            };
            let Some(data) = data(chunk, f) else {
                continue;
            };
            let r = range(line_index, chunk, f.span.clone(), enc);
            let json = &mut p.json;
            json.extend_from_slice(br#"{"range":{"start":{"line":"#);
            p.holes.push(hole(json, r.start.line, true)?);
            json.extend_from_slice(br#","character":"#);
            push_number(json, r.start.character as i64);
            json.extend_from_slice(br#"},"end":{"line":"#);
            p.holes.push(hole(json, r.end.line, true)?);
            json.extend_from_slice(br#","character":"#);
            push_number(json, r.end.character as i64);
            json.extend_from_slice(br#"}},"severity":"#);
            let _ = serde_json::to_writer(&mut *json, &lsp_severity(f.severity));
            json.extend_from_slice(br#","code":"#);
            let _ = serde_json::to_writer(&mut *json, &pattern.pattern_signature);
            json.extend_from_slice(br#","source":"#);
            let _ = serde_json::to_writer(&mut *json, SOURCE);
            json.extend_from_slice(br#","message":"#);
            let _ = serde_json::to_writer(&mut *json, &f.message(pattern));
            json.extend_from_slice(br#","data":{"pattern_id":"#);
            let _ = serde_json::to_writer(&mut *json, &data.pattern_id);
            json.extend_from_slice(br#","span":["#);
            p.holes
                .push(hole(json, u32::try_from(data.span[0]).ok()?, false)?);
            json.push(b',');
            p.holes
                .push(hole(json, u32::try_from(data.span[1]).ok()?, false)?);
            json.extend_from_slice(br#"],"matched":"#);
            let _ = serde_json::to_writer(&mut *json, &data.matched);
            json.extend_from_slice(br#","fix":"#);
            match &data.fix {
                None => json.extend_from_slice(b"null"),
                Some(fix) => {
                    json.extend_from_slice(br#"{"title":"#);
                    let _ = serde_json::to_writer(&mut *json, &fix.title);
                    json.extend_from_slice(br#","span":["#);
                    p.holes
                        .push(hole(json, u32::try_from(fix.span[0]).ok()?, false)?);
                    json.push(b',');
                    p.holes
                        .push(hole(json, u32::try_from(fix.span[1]).ok()?, false)?);
                    json.extend_from_slice(br#"],"replacement":"#);
                    let _ = serde_json::to_writer(&mut *json, &fix.replacement);
                    json.push(b'}');
                }
            }
            json.extend_from_slice(b"}}");
            p.items.push(Item {
                severity: f.severity,
                end: u32::try_from(json.len()).ok()?,
                holes_end: u32::try_from(p.holes.len()).ok()?,
            });
        }
        p.json.shrink_to_fit();
        p.items.shrink_to_fit();
        p.holes.shrink_to_fit();
        Some(p)
    }

    /// Appends the diagnostics at or above `min` to a JSON array being written, for the chunk
    /// starting at `line` and byte `offset`.
    fn render(&self, out: &mut Vec<u8>, line: u32, offset: usize, min: Severity, first: &mut bool) {
        let mut pos = 0usize;
        let mut h = 0usize;
        for item in &self.items {
            let end = item.end as usize;
            let holes_end = item.holes_end as usize;
            if item.severity < min {
                pos = end;
                h = holes_end;
                continue;
            }
            if !std::mem::take(first) {
                out.push(b',');
            }
            for hole in &self.holes[h..holes_end] {
                let at = hole.at as usize;
                out.extend_from_slice(&self.json[pos..at]);
                let base = if hole.line {
                    line as i64
                } else {
                    offset as i64
                };
                push_number(out, hole.value as i64 + base);
                pos = at;
            }
            out.extend_from_slice(&self.json[pos..end]);
            pos = end;
            h = holes_end;
        }
    }
}

fn hole(json: &[u8], value: u32, line: bool) -> Option<Hole> {
    Some(Hole {
        at: u32::try_from(json.len()).ok()?,
        value,
        line,
    })
}

/// Writes a number as JSON does (serde_json writes integers the same way), without `fmt`:
/// a publish writes hundreds of thousands of them.
fn push_number(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut n = n.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// What a code action needs of a finding in `text`.
fn data(text: &str, f: &Finding) -> Option<DiagnosticData> {
    Some(DiagnosticData {
        pattern_id: f.pattern_id.clone(),
        span: [f.span.start, f.span.end],
        matched: text.get(f.span.clone())?.to_string(),
        fix: f.fix.as_ref().map(|e| FixData {
            title: e.title.clone(),
            span: [e.span.start, e.span.end],
            replacement: e.replacement.clone(),
        }),
    })
}

/// The diagnostic of one finding in `text` (a whole document, or one chunk of it).
pub fn diagnostic(
    text: &str,
    line_index: &LineIndex,
    f: &Finding,
    pattern: &Pattern,
    enc: Encoding,
) -> Option<Diagnostic> {
    let data = data(text, f)?;
    Some(Diagnostic {
        range: range(line_index, text, f.span.clone(), enc),
        severity: Some(lsp_severity(f.severity)),
        code: Some(NumberOrString::String(pattern.pattern_signature.clone())),
        code_description: None,
        source: Some(SOURCE.to_string()),
        message: f.message(pattern),
        related_information: None,
        tags: None,
        data: serde_json::to_value(data).ok(),
    })
}
