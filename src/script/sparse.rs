//! Parsing only the statements of a large script that can matter.
//!
//! tree-sitter-bash reads about 5 MB/s, so a 10,000-line script costs 70 ms to parse whole —
//! more than the whole scan budget (DESIGN.md §10). Most of its statements cannot produce a
//! finding: they contain no command name, prefix or construct of any pattern. So a large script
//! is checked in three steps:
//!
//! 1. [`cuts`]: a cheap lexer finds line starts that lie *between top-level statements*. It is
//!    conservative: it tracks quotes, substitutions, heredocs, `if`/`case`/loops and groups, and
//!    at the first thing it is not sure of it gives up (`None`), so the caller parses the whole
//!    file. It also gives up when the file does not end with everything closed.
//! 2. The caller (the engine, which knows the patterns) keeps the stretches between cuts that
//!    contain one of its literals.
//! 3. [`parse_ranges`]: those stretches are parsed as one program with tree-sitter's included
//!    ranges, split over the machine's cores. A parse is accepted only if tree-sitter itself
//!    confirms the cuts: no syntax error, and no top-level statement reaching from one stretch
//!    into another. Otherwise `None`, and the caller parses the whole file.
//!
//! A stretch that starts and ends between top-level statements means the same alone as in the
//! whole file, so the commands found are exactly those a whole parse finds in it.

use std::ops::Range;

use super::{Language, Parsed};

/// A line start between two top-level statements: its byte offset and 0-based line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub offset: usize,
    pub row: usize,
}

/// What the lexer learnt of a script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lexed {
    /// The line starts that lie between top-level statements, in order.
    pub cuts: Vec<Cut>,
    /// Comments: never code.
    pub comments: Vec<Range<usize>>,
    /// Single-quoted arguments and heredoc bodies without substitutions: data, unless the
    /// statement names a command that runs code it is given ([`may_run_code`]).
    pub quoted: Vec<Range<usize>>,
}

/// Lexes `src`; `None` when the language has no such lexer or the lexer met something it is not
/// sure of.
pub fn lex(src: &str, lang: Language) -> Option<Lexed> {
    match lang {
        Language::Bash => BashLexer::new(src).run(),
        Language::PowerShell | Language::Batch => None,
    }
}

/// The line starts of `src` between top-level statements (see [`lex`]).
pub fn cuts(src: &str, lang: Language) -> Option<Vec<Cut>> {
    lex(src, lang).map(|l| l.cuts)
}

/// Whether `text` names a command that may run a string or its input as code
/// ([`super::bash::RUNS_CODE`]): in a statement that names none, quoted text is only data.
pub fn may_run_code(text: &str) -> bool {
    static RUNNERS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let Some(ac) = RUNNERS
        .get_or_init(|| aho_corasick::AhoCorasick::new(super::bash::RUNS_CODE).ok())
        .as_ref()
    else {
        return true;
    };
    let b = text.as_bytes();
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    ac.find_overlapping_iter(text).any(|m| {
        (m.start() == 0 || !name_char(b[m.start() - 1]))
            && b.get(m.end()).is_none_or(|&c| !name_char(c))
    })
}

/// What a bash construct opened and the lexer has not yet seen closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// `( … )`, `$( … )`, `<( … )`, `f ( … )`.
    Paren,
    /// `(( … ))`, `$(( … ))`: `<<` is a shift here, not a heredoc.
    Arith,
    /// `${ … }`.
    Brace,
    /// `" … "`.
    Quote,
    /// `` ` … ` ``.
    Tick,
    /// `{ … }` as a command.
    Group,
    If,
    Case,
    /// `for`/`while`/`until`/`select` … `done`.
    Loop,
}

/// A heredoc whose body starts after the current line.
struct Heredoc {
    delimiter: Vec<u8>,
    strip_tabs: bool,
    /// `<<'EOF'`, `<<"EOF"`, `<<\EOF`: the body is not expanded.
    quoted: bool,
}

struct BashLexer<'a> {
    b: &'a [u8],
    i: usize,
    row: usize,
    stack: Vec<Frame>,
    heredocs: Vec<Heredoc>,
    /// The next word is a command name (so `if`, `{`, `done` are keywords there).
    command_position: bool,
    /// The line so far ends with `|`, `&&` or `||`: the statement goes on.
    continues: bool,
    /// After `name()` or `function name`: the body (maybe on the next line) is still to come.
    awaiting_body: bool,
    out: Lexed,
}

/// Ends a word; `#` after one of these starts a comment.
fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

fn is_meta(c: u8) -> bool {
    matches!(c, b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' | b'\n')
}

/// `NAME=…`, `NAME+=…`, `NAME[…]=…`: a word that assigns rather than names a command.
fn is_assignment(word: &[u8]) -> bool {
    let name_end = word
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(word.len());
    if name_end == 0 || word[0].is_ascii_digit() {
        return false;
    }
    match &word[name_end..] {
        [b'=', ..] | [b'+', b'=', ..] => true,
        [b'[', rest @ ..] => rest.contains(&b'='),
        _ => false,
    }
}

/// A byte that continues a plain word (anything the main loop has no special case for).
fn is_plain(c: u8) -> bool {
    !(is_blank(c) || is_meta(c) || matches!(c, b'\'' | b'"' | b'`' | b'$' | b'\\'))
}

impl<'a> BashLexer<'a> {
    fn new(src: &'a str) -> BashLexer<'a> {
        BashLexer {
            b: src.as_bytes(),
            i: 0,
            row: 0,
            stack: Vec::new(),
            heredocs: Vec::new(),
            command_position: true,
            continues: false,
            awaiting_body: false,
            out: Lexed::default(),
        }
    }

    fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn run(mut self) -> Option<Lexed> {
        while self.i < self.b.len() {
            match self.stack.last() {
                Some(Frame::Quote) => self.in_quote()?,
                Some(Frame::Brace) => self.in_brace()?,
                _ => self.in_code()?,
            }
        }
        // A file that does not end with everything closed is either broken or was misread.
        (self.stack.is_empty() && self.heredocs.is_empty()).then_some(self.out)
    }

    fn pop(&mut self, frame: Frame) -> Option<()> {
        (self.stack.pop() == Some(frame)).then_some(())
    }

    /// `\x`: the escaped byte is never special; an escaped newline joins lines.
    fn escape(&mut self) {
        if self.at(1) == b'\n' {
            self.row += 1;
        }
        self.i += 2;
    }

    /// `'…'` (and the body of `$'…'` when `backslash` escapes): no expansion inside.
    fn single_quoted(&mut self, backslash: bool) -> Option<()> {
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\'' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' if backslash => {
                    self.escape();
                    continue;
                }
                b'\n' => self.row += 1,
                _ => {}
            }
            self.i += 1;
        }
        None
    }

    /// `$(`, `$((`, `${`, `` ` `` open code inside strings too; returns whether one did.
    fn expansion(&mut self) -> bool {
        match (self.at(0), self.at(1), self.at(2)) {
            (b'$', b'(', b'(') => {
                self.stack.push(Frame::Arith);
                self.i += 3;
            }
            (b'$', b'(', _) => {
                self.stack.push(Frame::Paren);
                self.command_position = true;
                self.i += 2;
            }
            (b'$', b'{', _) => {
                self.stack.push(Frame::Brace);
                self.i += 2;
            }
            (b'`', _, _) => {
                if self.stack.last() == Some(&Frame::Tick) {
                    self.stack.pop();
                    self.command_position = false;
                } else {
                    self.stack.push(Frame::Tick);
                    self.command_position = true;
                }
                self.i += 1;
            }
            _ => return false,
        }
        true
    }

    fn in_quote(&mut self) -> Option<()> {
        if self.expansion() {
            return Some(());
        }
        match self.at(0) {
            b'\\' => self.escape(),
            b'"' => {
                self.stack.pop();
                self.i += 1;
            }
            b'\n' => {
                // A heredoc pending across a multi-line string: where its body starts is
                // something shells and the grammar may disagree on.
                if !self.heredocs.is_empty() {
                    return None;
                }
                self.row += 1;
                self.i += 1;
            }
            _ => self.i += 1,
        }
        Some(())
    }

    fn in_brace(&mut self) -> Option<()> {
        if self.expansion() {
            return Some(());
        }
        match self.at(0) {
            b'\\' => self.escape(),
            b'}' => {
                self.stack.pop();
                self.i += 1;
            }
            b'"' => {
                self.stack.push(Frame::Quote);
                self.i += 1;
            }
            // Quote rules inside `${…}` depend on what surrounds it; not worth guessing.
            b'\'' | b'\n' => return None,
            _ => self.i += 1,
        }
        Some(())
    }

    fn in_code(&mut self) -> Option<()> {
        let c = self.at(0);
        if self.expansion() {
            self.continues = false;
            return Some(());
        }
        match c {
            b' ' | b'\t' | b'\r' => self.i += 1,
            b'\n' => self.newline()?,
            b'\\' => {
                self.escape();
                self.word_started();
            }
            b'\'' | b'"' => {
                // A quote glued to a word is part of it (`A='x' cmd`: still an assignment).
                let glued = self.i > 0 && {
                    let p = self.b[self.i - 1];
                    !is_blank(p) && !is_meta(p)
                };
                if c == b'"' {
                    self.stack.push(Frame::Quote);
                    self.i += 1;
                } else {
                    let start = self.i;
                    let argument = self.follows_plain_argument();
                    self.single_quoted(false)?;
                    if argument {
                        self.out.quoted.push(start..self.i);
                    }
                }
                if !glued {
                    self.word_started();
                }
            }
            b'$' if self.at(1) == b'\'' => {
                self.i += 1;
                self.single_quoted(true)?;
                self.word_started();
            }
            b'#' if self.i == 0
                || matches!(
                    self.b[self.i - 1],
                    b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'('
                ) =>
            {
                let start = self.i;
                while self.i < self.b.len() && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                self.out.comments.push(start..self.i);
            }
            b'(' => self.open_paren(),
            b')' => self.close_paren()?,
            b'<' if self.at(1) == b'<' && self.at(2) == b'<' => {
                self.i += 3;
            }
            b'<' if self.at(1) == b'<' => {
                if self.stack.last() == Some(&Frame::Arith) {
                    self.i += 2;
                } else {
                    self.heredoc()?;
                }
            }
            b'<' | b'>' if matches!(self.at(1), b'&' | b'|') => self.i += 2,
            b'<' | b'>' => self.i += 1,
            b';' => {
                self.i += 1;
                while matches!(self.at(0), b';' | b'&') {
                    self.i += 1;
                }
                self.separator(false);
            }
            b'&' | b'|' => {
                let two = matches!((c, self.at(1)), (b'&', b'&') | (b'|', b'|') | (b'|', b'&'));
                if c == b'&' && self.at(1) == b'>' {
                    self.i += 2;
                } else {
                    self.i += if two { 2 } else { 1 };
                    self.separator(c == b'|' || two);
                }
            }
            _ => self.word()?,
        }
        Some(())
    }

    /// Something that belongs to a word (not a keyword) began.
    fn word_started(&mut self) {
        self.command_position = false;
        self.continues = false;
        self.awaiting_body = false;
    }

    fn separator(&mut self, continues: bool) {
        self.command_position = true;
        self.continues = continues;
    }

    fn open_paren(&mut self) {
        if self.command_position && self.at(1) == b'(' {
            self.stack.push(Frame::Arith);
            self.i += 2;
            return;
        }
        // `name(` or `name (` may be a function header; `=(` is an array.
        let before = self.b[..self.i]
            .iter()
            .rev()
            .find(|&&c| !is_blank(c))
            .copied();
        let array = before == Some(b'=');
        self.stack.push(Frame::Paren);
        self.i += 1;
        self.command_position = !array;
        self.continues = false;
        self.awaiting_body = false;
        if !array && self.rest_is_blank_then(b')') {
            // `()`: a function header whose body may follow on a later line.
            self.stack.pop();
            while self.b[self.i] != b')' {
                self.i += 1;
            }
            self.i += 1;
            self.awaiting_body = true;
            self.command_position = true;
        }
    }

    /// Whether a word starting here is certainly an argument: not in command position, and
    /// after a plain word or a single-quoted one (after `A=$(…)` or `"$cmd"` it may be the
    /// command, or its first word).
    fn follows_plain_argument(&self) -> bool {
        if self.command_position {
            return false;
        }
        let before = &self.b[..self.i];
        let word_end = before.iter().rposition(|&c| !is_blank(c));
        match word_end {
            Some(e) if e + 1 < self.i => is_plain(before[e]) || before[e] == b'\'',
            _ => false,
        }
    }

    fn rest_is_blank_then(&self, close: u8) -> bool {
        self.b[self.i..]
            .iter()
            .find(|&&c| !is_blank(c))
            .is_some_and(|&c| c == close)
    }

    fn close_paren(&mut self) -> Option<()> {
        match self.stack.last() {
            Some(Frame::Paren) => {
                self.stack.pop();
                self.i += 1;
            }
            Some(Frame::Arith) if self.at(1) == b')' => {
                self.stack.pop();
                self.i += 2;
            }
            // The end of a `case` pattern.
            Some(Frame::Case) => {
                self.i += 1;
                self.command_position = true;
                return Some(());
            }
            _ => return None,
        }
        self.command_position = false;
        self.continues = false;
        Some(())
    }

    /// `<<[-]WORD`: the body starts after this line and ends at a line that is exactly WORD.
    fn heredoc(&mut self) -> Option<()> {
        self.i += 2;
        let strip_tabs = self.at(0) == b'-';
        if strip_tabs {
            self.i += 1;
        }
        while is_blank(self.at(0)) {
            self.i += 1;
        }
        let mut delimiter = Vec::new();
        let mut quoted = false;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            quoted |= matches!(c, b'\'' | b'"' | b'\\');
            match c {
                b'\'' | b'"' => {
                    let end = self.b[self.i + 1..].iter().position(|&x| x == c)?;
                    let quoted = &self.b[self.i + 1..self.i + 1 + end];
                    if quoted.contains(&b'\n') {
                        return None;
                    }
                    delimiter.extend_from_slice(quoted);
                    self.i += end + 2;
                }
                b'\\' => {
                    delimiter.push(self.at(1));
                    self.i += 2;
                }
                _ if is_blank(c) || is_meta(c) => break,
                b'$' | b'`' => return None,
                _ => {
                    delimiter.push(c);
                    self.i += 1;
                }
            }
        }
        if delimiter.is_empty() || delimiter.contains(&b'\n') {
            return None;
        }
        self.heredocs.push(Heredoc {
            delimiter,
            strip_tabs,
            quoted,
        });
        self.word_started();
        Some(())
    }

    /// The end of a line in code: heredoc bodies follow, then maybe a cut.
    fn newline(&mut self) -> Option<()> {
        self.i += 1;
        self.row += 1;
        for doc in std::mem::take(&mut self.heredocs) {
            self.heredoc_body(&doc)?;
        }
        if !self.continues {
            self.command_position = true;
        }
        if self.stack.is_empty() && !self.continues && !self.awaiting_body && self.i < self.b.len()
        {
            self.out.cuts.push(Cut {
                offset: self.i,
                row: self.row,
            });
        }
        Some(())
    }

    fn heredoc_body(&mut self, doc: &Heredoc) -> Option<()> {
        let start = self.i;
        while self.i < self.b.len() {
            let end = self.b[self.i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(self.b.len(), |p| self.i + p);
            let mut line = &self.b[self.i..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if doc.strip_tabs {
                while line.first() == Some(&b'\t') {
                    line = &line[1..];
                }
            }
            let line_start = self.i;
            self.i = (end + 1).min(self.b.len());
            self.row += 1;
            if line == doc.delimiter.as_slice() {
                // Substitutions in an unquoted body run wherever the heredoc goes.
                let body = &self.b[start..line_start];
                if doc.quoted || !(body.contains(&b'`') || body.windows(2).any(|w| w == b"$(")) {
                    self.out.quoted.push(start..line_start);
                }
                return Some(());
            }
            // tree-sitter-bash ends a heredoc at a line that merely starts with the delimiter,
            // shells only at an exact one: where they disagree, don't guess.
            let trimmed: &[u8] = {
                let n = line.iter().take_while(|&&c| is_blank(c)).count();
                &line[n..]
            };
            if trimmed.starts_with(&doc.delimiter) {
                return None;
            }
        }
        None
    }

    /// A plain word: a keyword when it stands alone in command position.
    fn word(&mut self) -> Option<()> {
        let start = self.i;
        while self.i < self.b.len() && is_plain(self.b[self.i]) {
            self.i += 1;
        }
        if self.i == start {
            // A byte no rule covers (a lone `$`): part of a word.
            self.i += 1;
            self.word_started();
            return Some(());
        }
        let word = &self.b[start..self.i];
        if self.command_position && is_assignment(word) {
            // `A=1 cmd`: the command is still to come.
            self.continues = false;
            return Some(());
        }
        let alone = self.i >= self.b.len() || is_blank(self.b[self.i]) || is_meta(self.b[self.i]);
        if alone && (self.command_position || (self.awaiting_body && word == b"{")) {
            return self.keyword(word);
        }
        self.word_started();
        Some(())
    }

    fn keyword(&mut self, word: &[u8]) -> Option<()> {
        self.continues = false;
        let mut next_is_command = true;
        match word {
            b"if" => self.stack.push(Frame::If),
            b"fi" => {
                self.pop(Frame::If)?;
                next_is_command = false;
            }
            b"case" => {
                self.stack.push(Frame::Case);
                next_is_command = false;
            }
            b"esac" => {
                self.pop(Frame::Case)?;
                next_is_command = false;
            }
            b"while" | b"until" => self.stack.push(Frame::Loop),
            b"for" | b"select" => {
                self.stack.push(Frame::Loop);
                next_is_command = false;
            }
            b"done" => {
                self.pop(Frame::Loop)?;
                next_is_command = false;
            }
            b"{" => self.stack.push(Frame::Group),
            b"}" => {
                self.pop(Frame::Group)?;
                next_is_command = false;
            }
            b"function" => {
                // The name is not a command; `()` may follow it, then the body.
                while is_blank(self.at(0)) {
                    self.i += 1;
                }
                while self.i < self.b.len() && is_plain(self.b[self.i]) {
                    self.i += 1;
                }
                self.command_position = false;
                self.awaiting_body = true;
                return Some(());
            }
            b"then" | b"else" | b"elif" | b"do" | b"!" | b"time" | b"in" => {}
            // `coproc` and `[[` hold constructs this lexer does not model.
            b"coproc" => return None,
            _ => {
                self.word_started();
                return Some(());
            }
        }
        self.awaiting_body = false;
        self.command_position = next_is_command;
        Some(())
    }
}

/// Parses the `ranges` of `src` (each starting and ending at a [`Cut`] or the end of the text,
/// in order, not overlapping) as one program, split over the available cores, and hands each
/// part's commands to `each` on the thread that parsed them. `None` when tree-sitter does not
/// confirm that every range starts and ends between top-level statements.
pub fn parse_ranges_with<T: Send>(
    src: &str,
    lang: Language,
    ranges: &[Range<Cut>],
    each: impl Fn(Parsed) -> T + Sync,
) -> Option<Vec<T>> {
    if lang != Language::Bash {
        return None;
    }
    let total: usize = ranges.iter().map(|r| r.end.offset - r.start.offset).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total / MIN_BYTES_PER_THREAD)
        .max(1);
    let end = end_point(src);
    let part = |group: &[Range<Cut>]| -> Option<T> {
        let mut out = Parsed::default();
        for batch in group.chunks(RANGES_PER_PARSE) {
            let ts: Vec<tree_sitter::Range> = batch.iter().map(|r| ts_range(r, src, end)).collect();
            // Ranges that each parse cleanly alone occasionally do not together (the grammar's
            // lookahead across a gap): then each is parsed alone.
            let alone = |out: &mut Parsed| {
                ts.iter()
                    .all(|r| super::bash::parse_ranges_into(src, std::slice::from_ref(r), out))
            };
            if !super::bash::parse_ranges_into(src, &ts, &mut out) && !alone(&mut out) {
                return None;
            }
        }
        out.commands.sort_by_key(|c| c.name_span.start);
        out.code.sort_by_key(|r| r.span.start);
        Some(each(out))
    };
    let groups = split_evenly(ranges, total, threads);
    if groups.len() <= 1 {
        return groups.into_iter().map(part).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = groups.iter().map(|g| s.spawn(|| part(g))).collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    })
}

/// tree-sitter's lexer looks its included ranges up linearly, so one parse over a thousand
/// ranges costs more than many parses over a few dozen each.
const RANGES_PER_PARSE: usize = 16;

/// Below this many bytes per thread, a thread costs more than it saves.
const MIN_BYTES_PER_THREAD: usize = 32 * 1024;

/// Consecutive groups of `ranges` with about `total / n` bytes each.
fn split_evenly(ranges: &[Range<Cut>], total: usize, n: usize) -> Vec<&[Range<Cut>]> {
    let mut groups = Vec::with_capacity(n);
    let share = total.div_ceil(n.max(1)).max(1);
    let (mut from, mut bytes) = (0, 0);
    for (k, r) in ranges.iter().enumerate() {
        bytes += r.end.offset - r.start.offset;
        if bytes >= share && groups.len() + 1 < n {
            groups.push(&ranges[from..=k]);
            from = k + 1;
            bytes = 0;
        }
    }
    if from < ranges.len() || groups.is_empty() {
        groups.push(&ranges[from..]);
    }
    groups
}

/// The position just past the end of `src` (a range may end there rather than at a cut).
fn end_point(src: &str) -> tree_sitter::Point {
    let rows = src.bytes().filter(|&b| b == b'\n').count();
    let line_start = src.rfind('\n').map_or(0, |i| i + 1);
    tree_sitter::Point::new(rows, src.len() - line_start)
}

fn ts_range(r: &Range<Cut>, src: &str, end: tree_sitter::Point) -> tree_sitter::Range {
    let point = |c: &Cut| {
        if c.offset >= src.len() {
            end
        } else {
            tree_sitter::Point::new(c.row, 0)
        }
    };
    tree_sitter::Range {
        start_byte: r.start.offset,
        end_byte: r.end.offset,
        start_point: point(&r.start),
        end_point: point(&r.end),
    }
}

/// Whether a tree parsed from `ranges` confirms them: no syntax error anywhere, and every
/// top-level statement inside a single range.
pub(crate) fn confirms(root: tree_sitter::Node, ranges: &[tree_sitter::Range]) -> bool {
    if root.has_error() {
        return false;
    }
    let mut cursor = root.walk();
    let mut k = 0;
    for child in root.children(&mut cursor) {
        let (start, end) = (child.start_byte(), child.end_byte());
        while k < ranges.len() && ranges[k].end_byte <= start {
            k += 1;
        }
        match ranges.get(k) {
            Some(r) if r.start_byte <= start && end <= r.end_byte => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_lines(src: &str) -> Option<Vec<usize>> {
        cuts(src, Language::Bash).map(|c| c.iter().map(|c| c.row).collect())
    }

    #[test]
    fn cuts_fall_between_top_level_statements_only() {
        let src = "a\nif x; then\n  b\nfi\nc | \\\n  d\ne |\n  f\ng\n";
        assert_eq!(cut_lines(src), Some(vec![1, 4, 6, 8]));
    }

    #[test]
    fn heredoc_bodies_and_strings_hold_no_cuts() {
        let src = "cat <<EOF\nx\n'\nEOF\necho 'a\nb'\necho \"$(\nc)\"\nz\n";
        assert_eq!(cut_lines(src), Some(vec![4, 6, 8]));
        let dashed = "cat <<-'E O'\n\tx\n\tE O\nz\n";
        assert_eq!(cut_lines(dashed), Some(vec![3]));
    }

    #[test]
    fn functions_loops_case_and_groups_are_whole() {
        let src = "f()\n{\n  a\n}\nfunction g {\n b\n}\nfor i in 1 2\ndo\n x\ndone\ncase $a in\n  x) y;;\n  (z) w;;\nesac\n{ a; }\nz\n";
        assert_eq!(cut_lines(src), Some(vec![4, 7, 11, 15, 16]));
    }

    #[test]
    fn comments_and_words_with_hash() {
        let src = "echo a#b 'c\nd'\n# it's a comment (\necho $# ${#x}\n";
        assert_eq!(cut_lines(src), Some(vec![2, 3]));
    }

    #[test]
    fn data_is_comments_quoted_arguments_and_plain_heredoc_bodies() {
        let src = "echo 'a' x'b' # c\n'cmd' 'd'\nA='e' 'f'\nB=$(g) 'h'\ncat <<E\ni\nE\ncat <<E\n$(j)\nE\ncat <<'E'\n$(k)\nE\n";
        let lexed = lex(src, Language::Bash).unwrap();
        let texts = |spans: &[Range<usize>]| -> Vec<&str> {
            spans.iter().map(|r| &src[r.clone()]).collect()
        };
        assert_eq!(texts(&lexed.comments), ["# c"]);
        assert_eq!(texts(&lexed.quoted), ["'a'", "'d'", "i\n", "$(k)\n"]);
        assert!(may_run_code("sudo -u x 'a'") && may_run_code("x | /bin/sh"));
        assert!(!may_run_code("echo x sshd") && !may_run_code("shx 'a' bash-completion"));
    }

    #[test]
    fn doubt_gives_up() {
        for src in [
            "cat <<EOF\nEOFX\nEOF\n", // the grammar and the shell disagree
            "if x; then\n",           // unclosed at the end
            "echo 'unterminated\n",   // unclosed quote
            "fi\n",                   // a closer with no opener
            "echo ${x:-'a'}\n",       // quoting inside ${…}
            "cat <<EOF\nbody never ends\n",
        ] {
            assert_eq!(cut_lines(src), None, "{src:?}");
        }
    }

    #[test]
    fn arithmetic_shift_is_not_a_heredoc() {
        assert_eq!(cut_lines("echo $((1<<2))\nx\n"), Some(vec![1]));
        assert_eq!(cut_lines("((a = 1 << 3))\nx\n"), Some(vec![1]));
    }

    #[test]
    fn any_input_is_handled_without_panicking() {
        let tokens = [
            "a", " ", "\n", "'", "\"", "$(", "(", ")", "<<", "EOF", "{", "}", "if", "fi", "#",
            "\\", "`", "${", "case", "esac", ")", "<<-", "\t", "done", "do", "|", "&&", "$",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let mut src = String::new();
            for _ in 0..(seed % 30) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                src.push_str(tokens[(seed % tokens.len() as u64) as usize]);
            }
            if let Some(cuts) = cuts(&src, Language::Bash) {
                for c in cuts {
                    assert!(c.offset > 0 && c.offset < src.len());
                    assert_eq!(src.as_bytes()[c.offset - 1], b'\n');
                    assert_eq!(src[..c.offset].matches('\n').count(), c.row);
                }
            }
            seed = seed.wrapping_add(1);
        }
    }
}
