//! Positions in text: the one place where byte offsets become lines and columns and back.
//!
//! The CLI reports 1-based lines and columns counted in Unicode scalar values; the language
//! server speaks UTF-8 or UTF-16 code units, whichever the client negotiated. Every conversion
//! goes through [`LineIndex`], so a column is right after emoji, CJK, combining marks, tabs and
//! CRLF line ends everywhere at once.

/// How columns are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes.
    Utf8,
    /// UTF-16 code units (the LSP default).
    Utf16,
    /// Unicode scalar values (what the CLI prints).
    Chars,
}

/// A line and column, both 0-based, the column in some [`Encoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Line starts of one text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        // `match_indices` of one ASCII char searches with memchr: the language server builds
        // this on every edit of a 10,000-line document.
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte range of 0-based `line` without its line end (`\n` or `\r\n`).
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts.get(line).copied().unwrap_or(self.len);
        let mut end = self.starts.get(line + 1).map_or(self.len, |&s| s - 1);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end.max(start)
    }

    /// 0-based line of a byte offset (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset.min(self.len))
            .saturating_sub(1)
    }

    /// The line and column of a byte offset. An offset inside a character counts as its start.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col = measure(&text[start..offset], enc);
        LineCol {
            line: line as u32,
            col: col as u32,
        }
    }

    /// The byte offset of a line and column. Past the end of a line is the line's end (before
    /// `\r\n`); past the last line is the end of the text; inside a character (half a surrogate
    /// pair) is that character's start.
    pub fn offset(&self, text: &str, pos: LineCol, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let range = self.line_range(text, line);
        let line_text = &text[range.clone()];
        let mut units = 0usize;
        for (i, ch) in line_text.char_indices() {
            let w = width(ch, enc);
            if units + w > pos.col as usize {
                return range.start + i;
            }
            units += w;
        }
        range.end
    }
}

fn width(ch: char, enc: Encoding) -> usize {
    match enc {
        Encoding::Utf8 => ch.len_utf8(),
        Encoding::Utf16 => ch.len_utf16(),
        Encoding::Chars => 1,
    }
}

fn measure(s: &str, enc: Encoding) -> usize {
    match enc {
        Encoding::Utf8 => s.len(),
        Encoding::Utf16 => s.chars().map(char::len_utf16).sum(),
        Encoding::Chars => s.chars().count(),
    }
}

/// The largest char boundary ≤ `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_after_emoji_cjk_and_combining_marks() {
        let text = "echo \u{1F600} \u{65E5}\u{672C} e\u{301}\tsed -i x\r\nnext";
        let idx = LineIndex::new(text);
        let sed = text.find("sed").unwrap();
        // 😀 is 4 bytes, 2 UTF-16 units, 1 char; 日本 3 bytes each; é is e + U+0301.
        assert_eq!(
            idx.position(text, sed, Encoding::Utf8),
            LineCol {
                line: 0,
                col: sed as u32
            }
        );
        assert_eq!(
            idx.position(text, sed, Encoding::Chars),
            LineCol { line: 0, col: 13 }
        );
        assert_eq!(
            idx.position(text, sed, Encoding::Utf16),
            LineCol { line: 0, col: 14 }
        );
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Chars] {
            let pos = idx.position(text, sed, enc);
            assert_eq!(idx.offset(text, pos, enc), sed, "{enc:?}");
        }
    }

    #[test]
    fn crlf_and_out_of_range() {
        let text = "a\r\nbc\r\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 3);
        assert_eq!(idx.line_range(text, 0), 0..1);
        assert_eq!(
            idx.offset(text, LineCol { line: 0, col: 99 }, Encoding::Utf16),
            1
        );
        assert_eq!(
            idx.offset(text, LineCol { line: 9, col: 0 }, Encoding::Utf16),
            text.len()
        );
        assert_eq!(
            idx.position(text, 4, Encoding::Chars),
            LineCol { line: 1, col: 1 }
        );
        assert_eq!(
            idx.position(text, 999, Encoding::Chars),
            LineCol { line: 2, col: 0 }
        );
    }

    #[test]
    fn half_a_surrogate_pair_is_the_character_start() {
        let text = "😀x";
        let idx = LineIndex::new(text);
        assert_eq!(
            idx.offset(text, LineCol { line: 0, col: 1 }, Encoding::Utf16),
            0
        );
        assert_eq!(
            idx.offset(text, LineCol { line: 0, col: 2 }, Encoding::Utf16),
            4
        );
        assert_eq!(
            idx.position(text, 2, Encoding::Utf16),
            LineCol { line: 0, col: 0 }
        );
    }
}
