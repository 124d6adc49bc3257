//! Open documents: their text, version and language, and the one place where LSP edits and
//! position encodings meet the text.
//!
//! Every conversion between an LSP position and a byte offset goes through
//! [`crate::text::LineIndex`]. An edit is applied at once (under the server's plain mutex, before
//! any `.await`), and the byte-level shape of each edit is kept for the analyzer, which replays
//! them on its syntax tree so that re-parsing after a keystroke costs only what changed.

use std::path::{Path, PathBuf};

use tower_lsp_server::lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use tower_lsp_server::UriExt;

use crate::script::Language;
use crate::text::{Encoding, LineCol, LineIndex};

/// Documents larger than this are tracked (edits still apply) but not checked: no script is
/// this big, and parsing one would cost the editor seconds and hundreds of megabytes.
pub const MAX_CHECKED_BYTES: usize = 4 * 1024 * 1024;

/// More pending edits than this since the last analysis and the analyzer starts over from the
/// text instead of replaying them (a document nobody looks at must not grow a backlog).
const MAX_PENDING_EDITS: usize = 1024;

/// One edit in bytes and (row, byte column) points, the shape tree-sitter wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub start_point: (usize, usize),
    pub old_end_point: (usize, usize),
    pub new_end_point: (usize, usize),
}

/// What the analyzer must do to its syntax tree to catch up with the text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingEdits {
    /// The text was replaced wholesale (or too many edits piled up): parse from scratch.
    pub reset: bool,
    pub edits: Vec<ByteEdit>,
}

/// An open document.
#[derive(Debug)]
pub struct Document {
    pub uri: Uri,
    /// The file path, for `file:` URIs.
    pub path: Option<PathBuf>,
    pub language_id: String,
    pub version: i32,
    text: String,
    index: LineIndex,
    pending: PendingEdits,
}

impl Document {
    pub fn new(uri: Uri, language_id: String, version: i32, text: String) -> Document {
        let path = uri.to_file_path().map(|p| p.into_owned());
        let index = LineIndex::new(&text);
        Document {
            uri,
            path,
            language_id,
            version,
            text,
            index,
            pending: PendingEdits {
                reset: true,
                edits: Vec::new(),
            },
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.index
    }

    /// The language: the client's languageId when forewarn knows it, else the file extension,
    /// else the `#!` line. `None` for documents forewarn does not check.
    pub fn language(&self) -> Option<Language> {
        if let Some(lang) = Language::from_name(&self.language_id) {
            return Some(lang);
        }
        let path_text;
        let path: &Path = match &self.path {
            Some(p) => p,
            None => {
                path_text = self.uri.path().to_string();
                Path::new(&path_text)
            }
        };
        Language::detect(path, &self.text)
    }

    /// Applies one `didChange` content change. A change without a range replaces the text.
    /// Returns a message when the range had to be clamped to the text (the edit still applies).
    pub fn apply_change(
        &mut self,
        change: &TextDocumentContentChangeEvent,
        enc: Encoding,
    ) -> Option<String> {
        let Some(range) = change.range else {
            self.text.clone_from(&change.text);
            self.index = LineIndex::new(&self.text);
            self.pending = PendingEdits {
                reset: true,
                edits: Vec::new(),
            };
            return None;
        };
        let (mut start, start_clamped) = self.offset_checked(range.start, enc);
        let (mut end, end_clamped) = self.offset_checked(range.end, enc);
        let mut warning = (start_clamped || end_clamped).then(|| {
            format!(
                "{}: didChange range {} is outside the document; clamped to it",
                self.uri.as_str(),
                show_range(range)
            )
        });
        if start > end {
            std::mem::swap(&mut start, &mut end);
            warning = Some(format!(
                "{}: didChange range {} ends before it starts; applied as its reverse",
                self.uri.as_str(),
                show_range(range)
            ));
        }
        let start_point = self.point(start);
        let old_end_point = self.point(end);
        self.text.replace_range(start..end, &change.text);
        self.index = LineIndex::new(&self.text);
        let new_end = start + change.text.len();
        let edit = ByteEdit {
            start,
            old_end: end,
            new_end,
            start_point,
            old_end_point,
            new_end_point: self.point(new_end),
        };
        if !self.pending.reset {
            if self.pending.edits.len() >= MAX_PENDING_EDITS {
                self.pending.reset = true;
                self.pending.edits.clear();
            } else {
                self.pending.edits.push(edit);
            }
        }
        warning
    }

    /// The edits since the analyzer last caught up, handing them over.
    pub fn take_pending(&mut self) -> PendingEdits {
        std::mem::take(&mut self.pending)
    }

    /// The byte offset of an LSP position (clamped to the text).
    pub fn offset(&self, pos: Position, enc: Encoding) -> usize {
        self.offset_checked(pos, enc).0
    }

    /// The byte offset of `pos`, and whether it lay outside the text.
    fn offset_checked(&self, pos: Position, enc: Encoding) -> (usize, bool) {
        let lc = LineCol {
            line: pos.line,
            col: pos.character,
        };
        let offset = self.index.offset(&self.text, lc, enc);
        let outside = pos.line as usize >= self.index.line_count()
            || self.index.position(&self.text, offset, enc).col < pos.character;
        (offset, outside)
    }

    /// (row, byte column) of an offset.
    fn point(&self, offset: usize) -> (usize, usize) {
        let line = self.index.line_of(offset);
        let start = self.index.line_range(&self.text, line).start;
        (line, offset - start)
    }
}

/// The LSP position of a byte offset in `text`.
pub fn position(index: &LineIndex, text: &str, offset: usize, enc: Encoding) -> Position {
    let lc = index.position(text, offset, enc);
    Position::new(lc.line, lc.col)
}

/// The LSP range of a byte range in `text`.
pub fn range(index: &LineIndex, text: &str, span: std::ops::Range<usize>, enc: Encoding) -> Range {
    Range::new(
        position(index, text, span.start, enc),
        position(index, text, span.end, enc),
    )
}

fn show_range(r: Range) -> String {
    format!(
        "{}:{}-{}:{}",
        r.start.line, r.start.character, r.end.line, r.end.character
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn doc(text: &str) -> Document {
        Document::new(
            Uri::from_str("file:///w/a.sh").unwrap(),
            "shellscript".into(),
            1,
            text.into(),
        )
    }

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_edits_count_in_the_negotiated_encoding() {
        // 😀 is two UTF-16 units and four bytes.
        let mut d = doc("echo 😀 x\r\nsed -i y\r\n");
        assert_eq!(
            d.apply_change(&change(0, 8, 0, 9, "z"), Encoding::Utf16),
            None
        );
        assert_eq!(d.text(), "echo 😀 z\r\nsed -i y\r\n");
        d.apply_change(&change(0, 10, 0, 11, "w"), Encoding::Utf8);
        assert_eq!(d.text(), "echo 😀 w\r\nsed -i y\r\n");
        d.apply_change(&change(1, 0, 1, 3, "gsed"), Encoding::Utf16);
        assert_eq!(d.text(), "echo 😀 w\r\ngsed -i y\r\n");
        let p = d.take_pending();
        assert!(
            p.reset,
            "a newly opened document has no tree yet, so the analyzer parses it whole"
        );
        d.apply_change(&change(1, 0, 1, 1, ""), Encoding::Utf16);
        let p = d.take_pending();
        assert!(!p.reset);
        assert_eq!(p.edits.len(), 1);
        let e = p.edits[0];
        let line1 = "echo 😀 w\r\n".len();
        assert_eq!((e.start, e.old_end, e.new_end), (line1, line1 + 1, line1));
        assert_eq!(e.start_point, (1, 0));
        assert_eq!(e.old_end_point, (1, 1));
    }

    #[test]
    fn out_of_bounds_ranges_are_clamped_and_reported() {
        let mut d = doc("ab\ncd");
        let w = d.apply_change(&change(0, 1, 9, 99, "X"), Encoding::Utf16);
        assert!(w.is_some_and(|w| w.contains("outside")));
        assert_eq!(d.text(), "aX");
        let w = d.apply_change(&change(0, 2, 0, 0, "Y"), Encoding::Utf16);
        assert!(w.is_some_and(|w| w.contains("reverse")));
        assert_eq!(d.text(), "Y");
        // Half a surrogate pair: the character's start.
        let mut d = doc("😀x");
        d.apply_change(&change(0, 1, 0, 1, "-"), Encoding::Utf16);
        assert_eq!(d.text(), "-😀x");
    }

    #[test]
    fn language_from_id_extension_or_shebang() {
        let mk = |uri: &str, id: &str, text: &str| {
            Document::new(Uri::from_str(uri).unwrap(), id.into(), 1, text.into()).language()
        };
        assert_eq!(
            mk("file:///a/x.txt", "powershell", ""),
            Some(Language::PowerShell)
        );
        assert_eq!(
            mk("file:///a/x.cmd", "plaintext", ""),
            Some(Language::Batch)
        );
        assert_eq!(
            mk("file:///a/deploy", "plaintext", "#!/usr/bin/env bash\n"),
            Some(Language::Bash)
        );
        assert_eq!(
            mk("untitled:Untitled-1", "plaintext", "#!/bin/sh\n"),
            Some(Language::Bash)
        );
        assert_eq!(mk("file:///a/notes.md", "markdown", "# hi"), None);
    }
}
