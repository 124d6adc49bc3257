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
        if fix_in_place(doc, language, index, &data.pattern_id, start) {
            tracing::debug!(
                "code action: the fix of {} is in place before {:?} now",
                data.pattern_id,
                d.range
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

/// Whether the document, as it is now, already holds the fix of the diagnostic's pattern before
/// the command at `start` (`fix.applied_if`): typed since the diagnostic was computed, which is
/// about to go. Only a text that matches the regex before `start` is scanned again, whole (the
/// fix must be in code, in the same session), to see whether the finding is still there.
fn fix_in_place(
    doc: &Document,
    language: Language,
    index: &PatternIndex,
    pattern_id: &str,
    start: usize,
) -> bool {
    let Some(re) = index
        .get(pattern_id)
        .and_then(|p| p.fix.as_ref())
        .and_then(|f| f.applied_if.as_deref())
        .and_then(|re| {
            regex::RegexBuilder::new(re)
                .case_insensitive(language.case_insensitive())
                .build()
                .ok()
        })
    else {
        return false;
    };
    let text = doc.text();
    if !text.get(..start).is_some_and(|before| re.is_match(before)) {
        return false;
    }
    // Without a target every pattern applies: the finding is gone only if its fix holds.
    !crate::engine::scan(text, language, None, index)
        .findings
        .iter()
        .any(|f| f.pattern_id == pattern_id && f.span.start == start)
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
        let l = crate::engine::directives::defused(l.trim_end());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Fix, Severity};
    use crate::lsp::analysis::tests::{naive, pattern};
    use crate::lsp::analysis::Analyzer;
    use crate::lsp::diagnostics;
    use crate::lsp::documents::PendingEdits;
    use std::sync::Arc;
    use tower_lsp_server::lsp_types::TextDocumentContentChangeEvent;

    fn setup(
        lang_id: &str,
        uri: &str,
        text: &str,
    ) -> (Document, Vec<Diagnostic>, Arc<PatternIndex>) {
        let mut p = pattern("0f1e2d3c-aaaa", &["python"], Severity::Major);
        p.pattern_signature = "python is python3 here".into();
        p.recommended_solution = "Call python3.\nIt is always there.".into();
        p.alternative_approaches = vec!["Use a venv".into(), "Install python-is-python3".into()];
        p.fix = Some(Fix {
            title: None,
            replace: "^python$".into(),
            with: "python3".into(),
            applied_if: None,
        });
        let mut q = pattern("q", &["wmic"], Severity::Minor);
        q.pattern_signature = "wmic-removed".into();
        let index = Arc::new(PatternIndex::build(vec![p, q], vec![], vec![]));
        let doc = Document::new(uri.parse().unwrap(), lang_id.into(), 1, text.into());
        let lang = doc.language().unwrap();
        let a = Analyzer::new(naive).analyze(
            text.into(),
            1,
            lang,
            PendingEdits::default(),
            None,
            &index,
        );
        let diags = diagnostics::diagnostics(&a, Encoding::Utf16, Severity::Info);
        (doc, diags, index)
    }

    fn apply(doc: &mut Document, edit: &TextEdit) {
        doc.apply_change(
            &TextDocumentContentChangeEvent {
                range: Some(edit.range),
                range_length: None,
                text: edit.new_text.clone(),
            },
            Encoding::Utf16,
        );
    }

    // lsp_types' `Uri` caches its parse lazily, which clippy reads as a mutable map key.
    #[allow(clippy::mutable_key_type)]
    fn edit_of(a: &CodeActionOrCommand) -> (&CodeAction, TextEdit) {
        let CodeActionOrCommand::CodeAction(a) = a else {
            panic!("a command, not an action")
        };
        let changes = a.edit.as_ref().unwrap().changes.as_ref().unwrap();
        let edits = changes.values().next().unwrap();
        assert_eq!(edits.len(), 1);
        (a, edits[0].clone())
    }

    #[test]
    fn every_action_and_what_it_does() {
        let text = "if x; then\n\t  python run.py\nfi\n";
        let (doc, diags, index) = setup("shellscript", "file:///w/a.sh", text);
        assert_eq!(diags.len(), 1, "{diags:?}");
        let actions = code_actions(&doc, Language::Bash, Encoding::Utf16, &index, &diags);
        let titles: Vec<&str> = actions
            .iter()
            .map(|a| match a {
                CodeActionOrCommand::CodeAction(a) => a.title.as_str(),
                CodeActionOrCommand::Command(c) => c.title.as_str(),
            })
            .collect();
        assert_eq!(
            titles,
            [
                "Replace with `python3`",
                "Insert the recommended solution as a comment",
                "Insert alternative as a comment: Use a venv",
                "Insert alternative as a comment: Install python-is-python3",
                "Suppress `python is python3 here` on this line",
            ]
        );
        let expected = [
            "if x; then\n\t  python3 run.py\nfi\n",
            "if x; then\n\t  # Call python3.\n\t  # It is always there.\n\t  python run.py\nfi\n",
            "if x; then\n\t  # Use a venv\n\t  python run.py\nfi\n",
            "if x; then\n\t  # Install python-is-python3\n\t  python run.py\nfi\n",
            // The signature has blanks, so the suppression names the pattern id.
            "if x; then\n\t  # forewarn: ignore=0f1e2d3c-aaaa\n\t  python run.py\nfi\n",
        ];
        for (i, (action, want)) in actions.iter().zip(expected).enumerate() {
            let (a, edit) = edit_of(action);
            assert_eq!(a.kind, Some(CodeActionKind::QUICKFIX));
            assert_eq!(a.diagnostics.as_deref(), Some(&diags[..]));
            assert_eq!(a.is_preferred, (i == 0).then_some(true));
            let mut d = Document::new(doc.uri.clone(), "shellscript".into(), 1, text.into());
            apply(&mut d, &edit);
            assert_eq!(d.text(), want, "action {}", a.title);
        }
        // The suppression really silences it.
        let (_, after, _) = setup("shellscript", "file:///w/a.sh", expected[4]);
        assert!(after.is_empty(), "{after:?}");
    }

    #[test]
    fn batch_comments_and_an_existing_ignore_list() {
        let text = "@echo off\r\nREM forewarn: ignore=other\r\nwmic os get caption\r\n";
        let (doc, diags, index) = setup("bat", "file:///w/a.cmd", text);
        assert_eq!(diags.len(), 1, "{diags:?}");
        let actions = code_actions(&doc, Language::Batch, Encoding::Utf16, &index, &diags);
        let (_, comment) = edit_of(&actions[0]);
        let mut d = Document::new(doc.uri.clone(), "bat".into(), 1, text.into());
        apply(&mut d, &comment);
        assert_eq!(
            d.text(),
            "@echo off\r\nREM forewarn: ignore=other\r\nREM do something else\r\nwmic os get caption\r\n"
        );
        let (a, suppress) = edit_of(actions.last().unwrap());
        assert_eq!(a.title, "Suppress `wmic-removed` on this line");
        let mut d = Document::new(doc.uri.clone(), "bat".into(), 1, text.into());
        apply(&mut d, &suppress);
        assert_eq!(
            d.text(),
            "@echo off\r\nREM forewarn: ignore=other,wmic-removed\r\nwmic os get caption\r\n"
        );
        let (_, after, _) = setup("bat", "file:///w/a.cmd", d.text());
        assert!(after.is_empty(), "{after:?}");
    }

    #[test]
    fn stale_diagnostics_get_no_actions() {
        let (doc, diags, index) = setup("shellscript", "file:///w/a.sh", "python x\n");
        let moved = Document::new(
            doc.uri.clone(),
            "shellscript".into(),
            2,
            "  python x\n".into(),
        );
        assert!(code_actions(&moved, Language::Bash, Encoding::Utf16, &index, &diags).is_empty());
        assert_eq!(
            code_actions(&doc, Language::Bash, Encoding::Utf16, &index, &diags).len(),
            5
        );
    }
}
