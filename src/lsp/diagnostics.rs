//! Findings as LSP diagnostics (DESIGN.md §8).
//!
//! Each diagnostic carries in `data` what a code action needs (the pattern id, the matched byte
//! range and text, the fix), so answering a code action never scans again.

use serde::{Deserialize, Serialize};
use tower_lsp_server::lsp_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use serde_json::Value;

use crate::engine::{Finding, Pattern, Severity};
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

/// The diagnostics of an analysis, leaving out findings below `min`.
///
/// An analysis made in the same encoding carries each chunk's diagnostics ready-made (lines
/// counted from the chunk's first line, byte spans from its start), so an edit costs a copy
/// and a shift per diagnostic, not a conversion.
pub fn diagnostics(a: &Analysis, enc: Encoding, min: Severity) -> Vec<Diagnostic> {
    if let Some(pieces) = a.pieces.as_ref().filter(|_| a.encoding == enc) {
        let mut out = Vec::with_capacity(a.findings.len());
        for piece in pieces {
            for (severity, d) in piece.diagnostics.iter() {
                if *severity < min {
                    continue;
                }
                let mut d = d.clone();
                d.range.start.line += piece.line;
                d.range.end.line += piece.line;
                if let Some(Value::Object(data)) = &mut d.data {
                    shift_span(data.get_mut("span"), piece.start);
                    if let Some(Value::Object(fix)) = data.get_mut("fix") {
                        shift_span(fix.get_mut("span"), piece.start);
                    }
                }
                out.push(d);
            }
        }
        return out;
    }
    a.findings
        .iter()
        .filter(|f| f.severity >= min)
        .filter_map(|f| {
            let pattern = a.index.get(&f.pattern_id)?;
            diagnostic(&a.text, &a.line_index, f, pattern, enc)
        })
        .collect()
}

fn shift_span(span: Option<&mut Value>, by: usize) {
    if let Some(Value::Array(v)) = span {
        for x in v.iter_mut() {
            if let Some(n) = x.as_u64() {
                *x = Value::from(n + by as u64);
            }
        }
    }
}

/// The diagnostic of one finding in `text` (a whole document, or one chunk of it).
pub fn diagnostic(
    text: &str,
    line_index: &LineIndex,
    f: &Finding,
    pattern: &Pattern,
    enc: Encoding,
) -> Option<Diagnostic> {
    let data = DiagnosticData {
        pattern_id: f.pattern_id.clone(),
        span: [f.span.start, f.span.end],
        matched: text.get(f.span.clone())?.to_string(),
        fix: f.fix.as_ref().map(|e| FixData {
            title: e.title.clone(),
            span: [e.span.start, e.span.end],
            replacement: e.replacement.clone(),
        }),
    };
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
