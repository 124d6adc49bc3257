//! Quick fixes for forewarn diagnostics (DESIGN.md §8): apply the pattern's fix, insert the
//! recommended solution or an alternative as a comment above the line, suppress on this line.
//!
//! Everything comes from the diagnostic's `data` and the pattern in the index; nothing is
//! scanned again. An action is only offered while the matched text is still where the
//! diagnostic says, so an edit computed for an older version never lands in the wrong place.

use std::collections::HashMap;

use tower_lsp_server::lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, Position, Range, TextEdit,
    WorkspaceEdit,
};

use crate::engine::{Pattern, PatternIndex};
use crate::script::Language;
use crate::text::Encoding;

use super::diagnostics::DiagnosticData;
use super::documents::{self, Document};

/// Every action for the forewarn diagnostics among `diagnostics`.
pub fn code_actions(
    doc: &Document,
    language: Language,
    enc: Encoding,
    index: &PatternIndex,
    diagnostics: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in diagnostics {
        let Some(data) = DiagnosticData::of(d) else {
            continue;
        };
        let start = doc.offset(d.range.start, enc);
        let end = doc.offset(d.range.end, enc);
        if doc.text().get(start..end) != Some(data.matched.as_str()) {
            tracing::debug!(
                "code action: diagnostic at {:?} is stale for {}",
                d.range,
                doc.uri.as_str()
            );
            continue;
        }
        let mut add = |title: String, edit: TextEdit, preferred: bool| {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(doc.uri.clone(), vec![edit])])),
                    document_changes: None,
                    change_annotations: None,
                }),
                command: None,
                is_preferred: preferred.then_some(true),
                disabled: None,
                data: None,
            }));
        };
        if let Some(fix) = &data.fix {
            // The fix span is given for the version the diagnostic was computed on; it moves
            // with the match.
            let fs = start + fix.span[0].saturating_sub(data.span[0]);
            let fe = (fs + fix.span[1].saturating_sub(fix.span[0])).min(doc.text().len());
            if doc.text().is_char_boundary(fs) && doc.text().is_char_boundary(fe) && fs <= fe {
                let range = documents::range(doc.line_index(), doc.text(), fs..fe, enc);
                add(
                    fix.title.clone(),
                    TextEdit::new(range, fix.replacement.clone()),
                    true,
                );
            }
        }
        let line = doc.line_index().line_of(start);
        let pattern = index.get(&data.pattern_id);
        if let Some(p) = pattern {
            if !p.recommended_solution.trim().is_empty() {
                add(
                    "Insert the recommended solution as a comment".to_string(),
                    comment_above(doc, language, line, &p.recommended_solution),
                    false,
                );
            }
            for alt in p
                .alternative_approaches
                .iter()
                .filter(|a| !a.trim().is_empty())
            {
                add(
                    format!("Insert alternative as a comment: {}", shorten(alt, 60)),
                    comment_above(doc, language, line, alt),
                    false,
                );
            }
        }
        let (token, name) = match pattern {
            Some(p) => (suppression_token(p), p.pattern_signature.clone()),
            None => (data.pattern_id.clone(), data.pattern_id.clone()),
        };
        add(
            format!("Suppress `{}` on this line", shorten(&name, 60)),
            suppress(doc, language, enc, line, &token),
            false,
        );
    }
    out
}

/// The line ending the document uses at `line` (`\n` when the line has none).
fn line_ending(doc: &Document, line: usize) -> &'static str {
    let r = doc.line_index().line_range(doc.text(), line);
    if doc.text()[r.end..].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

fn indentation(doc: &Document, line: usize) -> &str {
    let r = doc.line_index().line_range(doc.text(), line);
    let text = &doc.text()[r];
    &text[..text.len() - text.trim_start().len()]
}

/// A comment holding `body` (one comment line per line of it), inserted above `line` with its
/// indentation.
fn comment_above(doc: &Document, language: Language, line: usize, body: &str) -> TextEdit {
    let indent = indentation(doc, line);
    let eol = line_ending(doc, line);
    let marker = language.line_comment();
    let mut text = String::new();
    for l in body.trim().lines() {
        // Text from the store must never become a directive (`forewarn: ignore` would silence).
        let l = l.trim_end().replace("forewarn:", "forewarn -");
        text.push_str(indent);
        text.push_str(marker);
        if !l.is_empty() {
            text.push(' ');
            text.push_str(&l);
        }
        text.push_str(eol);
    }
    let at = Position::new(line as u32, 0);
    TextEdit::new(Range::new(at, at), text)
}

/// What `ignore=` names: the signature when it is one word, else the pattern id (the directive
/// splits on blanks and commas).
fn suppression_token(p: &Pattern) -> String {
    let sig = p.pattern_signature.trim();
    if !sig.is_empty() && !sig.contains(|c: char| c.is_whitespace() || c == ',' || c == '=') {
        sig.to_string()
    } else {
        p.id.clone()
    }
}

/// `forewarn: ignore=<token>` alone on the line above `line`, or appended to an `ignore=` list
/// already there.
fn suppress(
    doc: &Document,
    language: Language,
    enc: Encoding,
    line: usize,
    token: &str,
) -> TextEdit {
    if line > 0 {
        let r = doc.line_index().line_range(doc.text(), line - 1);
        let above = &doc.text()[r.clone()];
        let t = above.trim_start();
        let lower = t.to_ascii_lowercase();
        let markers: &[&str] = match language {
            Language::Batch => &["rem ", "@rem ", ":: "],
            _ => &["# "],
        };
        let existing = markers.iter().any(|m| {
            lower
                .strip_prefix(m)
                .is_some_and(|rest| rest.trim_start().starts_with("forewarn: ignore="))
        }) && t.split_whitespace().count() == 3;
        if existing {
            let end = r.start + above.trim_end().len();
            let at = documents::position(doc.line_index(), doc.text(), end, enc);
            return TextEdit::new(Range::new(at, at), format!(",{token}"));
        }
    }
    let indent = indentation(doc, line);
    let eol = line_ending(doc, line);
    let text = format!(
        "{indent}{} forewarn: ignore={token}{eol}",
        language.line_comment()
    );
    let at = Position::new(line as u32, 0);
    TextEdit::new(Range::new(at, at), text)
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
