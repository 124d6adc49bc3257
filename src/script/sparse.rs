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
    /// Starts of words made of several pieces, one quoted or escaped (`'fre''e'`), or holding a
    /// `$'…'` with escapes (`$'se\x64'`): code run from such a word has its names only after the
    /// pieces are joined.
    pub joins: Vec<usize>,
}

/// Lexes `src`; `None` when the language has no such lexer or the lexer met something it is not
/// sure of.
pub fn lex(src: &str, lang: Language) -> Option<Lexed> {
    match lang {
        Language::Bash => BashLexer::new(src).run(),
        Language::PowerShell => super::sparse_ps::lex(src),
        Language::Batch => None,
    }
}

/// [`may_run_code`] for a statement written in `lang`.
pub fn runs_code(lang: Language, text: &str) -> bool {
    match lang {
        Language::PowerShell => super::sparse_ps::may_run_code(text),
        _ => may_run_code(text),
    }
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
    // `. <(echo '…')`: `.` is no name to search for; a shell may read any substitution.
    if text.contains("<(") {
        return true;
    }
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    ac.find_overlapping_iter(text).any(|m| {
        (m.start() == 0 || !name_char(b[m.start() - 1]))
            && b.get(m.end()).is_none_or(|&c| !name_char(c))
    })
}

/// What a bash construct opened and the lexer has not yet seen closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// `( … )`, `$( … )`, `<( … )`, `f ( … )`, `a=( … )`.
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
    /// `[[ … ]]`: `<` and `>` compare there.
    Test,
}

/// The state of the code around a construct nested inside a word (`$( … )`, `" … "`), put back
/// when it closes.
#[derive(Clone, Copy, Debug)]
struct Around {
    command_position: bool,
    in_word: bool,
    word_is_command: bool,
    continues: bool,
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
    /// Open constructs; those nested inside a word keep what surrounds them.
    stack: Vec<(Frame, Option<Around>)>,
    heredocs: Vec<Heredoc>,
    /// The next word is a command name (so `if`, `{`, `done` are keywords there).
    command_position: bool,
    /// Inside a word: its pieces (plain text, quotes, escapes, expansions) are one word.
    in_word: bool,
    /// The current word names the command (it began in command position and assigns nothing).
    word_is_command: bool,
    word_start: usize,
    word_pieces: u32,
    /// The current word has a quoted or escaped piece.
    word_quoted: bool,
    /// A redirect operator was read: the next word is its target, not a command.
    redirect_pending: bool,
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

/// Whether the word starting at `b[0]` assigns (`NAME=…`, `NAME+=…`, `NAME[…]=…`) rather
/// than names a command.
fn assigns(b: &[u8]) -> bool {
    let name_end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(b.len());
    if name_end == 0 || b[0].is_ascii_digit() {
        return false;
    }
    match &b[name_end..] {
        [b'=', ..] | [b'+', b'=', ..] => true,
        [b'[', rest @ ..] => rest.iter().position(|&c| c == b']').is_some_and(|k| {
            matches!(rest.get(k + 1..), Some([b'=', ..]) | Some([b'+', b'=', ..]))
        }),
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
            in_word: false,
            word_is_command: false,
            word_start: 0,
            word_pieces: 0,
            word_quoted: false,
            redirect_pending: false,
            continues: false,
            awaiting_body: false,
            out: Lexed::default(),
        }
    }

    fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn top(&self) -> Option<Frame> {
        self.stack.last().map(|&(f, _)| f)
    }

    fn run(mut self) -> Option<Lexed> {
        while self.i < self.b.len() {
            match self.top() {
                Some(Frame::Quote) => self.in_quote()?,
                Some(Frame::Brace) => self.in_brace()?,
                _ => self.in_code()?,
            }
        }
        self.end_word();
        // A file that does not end with everything closed is either broken or was misread.
        (self.stack.is_empty() && self.heredocs.is_empty()).then_some(self.out)
    }

    /// Closes a statement-level construct.
    fn pop(&mut self, frame: Frame) -> Option<()> {
        (self.stack.pop().map(|(f, _)| f) == Some(frame)).then_some(())
    }

    /// Opens a construct inside a word: code inside starts afresh, what surrounds it is kept.
    fn enter(&mut self, frame: Frame, command_inside: bool) {
        let around = Around {
            command_position: self.command_position,
            in_word: self.in_word,
            word_is_command: self.word_is_command,
            continues: self.continues,
        };
        self.stack.push((frame, Some(around)));
        self.command_position = command_inside;
        self.in_word = false;
        self.redirect_pending = false;
    }

    /// Closes the innermost construct, which must be `frame`, and puts back what surrounds it.
    fn leave(&mut self, frame: Frame) -> Option<()> {
        let (f, around) = self.stack.pop()?;
        if f != frame {
            return None;
        }
        self.end_word();
        if let Some(a) = around {
            self.command_position = a.command_position;
            self.in_word = a.in_word;
            self.word_is_command = a.word_is_command;
            self.continues = a.continues;
        }
        Some(())
    }

    /// A piece of a word begins here (plain text, a quote, an escape, an expansion). The first
    /// piece decides what the word is: a redirect's target, an assignment, the command name,
    /// or an argument.
    fn piece(&mut self, quoted: bool) {
        if !self.in_word {
            self.in_word = true;
            self.word_start = self.i;
            self.word_pieces = 0;
            self.word_quoted = false;
            self.continues = false;
            if self.redirect_pending {
                self.redirect_pending = false;
                self.word_is_command = false;
            } else if self.command_position && assigns(&self.b[self.i..]) {
                self.word_is_command = false;
            } else {
                self.word_is_command = self.command_position;
                self.command_position = false;
            }
            if self.at(0) != b'{' {
                self.awaiting_body = false;
            }
        }
        self.word_pieces += 1;
        self.word_quoted |= quoted;
    }

    fn end_word(&mut self) {
        if self.in_word && self.word_pieces > 1 && self.word_quoted {
            // `'fre''e'`: shells and the walk join the pieces; no literal shows in the text.
            self.out.joins.push(self.word_start);
        }
        self.in_word = false;
    }

    /// `\x`: the escaped byte is never special; an escaped newline joins lines.
    fn escape(&mut self) {
        match (self.at(1), self.at(2)) {
            (b'\n', _) => self.row += 1,
            // tree-sitter-bash reads `\` CR LF as a line continuation, as it reads `\` LF.
            (b'\r', b'\n') => {
                self.row += 1;
                self.i += 1;
            }
            _ => {}
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
                self.piece(false);
                self.enter(Frame::Arith, false);
                self.i += 3;
            }
            (b'$', b'(', _) => {
                self.piece(false);
                self.enter(Frame::Paren, true);
                self.i += 2;
            }
            (b'$', b'{', _) => {
                self.piece(false);
                self.enter(Frame::Brace, false);
                self.i += 2;
            }
            (b'`', _, _) => {
                if self.top() == Some(Frame::Tick) {
                    self.i += 1;
                    // The top is the backtick: closing it cannot fail.
                    let _ = self.leave(Frame::Tick);
                    return true;
                }
                self.piece(false);
                self.enter(Frame::Tick, true);
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
                self.i += 1;
                self.leave(Frame::Quote)?;
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
                self.i += 1;
                self.leave(Frame::Brace)?;
            }
            b'"' => {
                self.enter(Frame::Quote, false);
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
            return Some(());
        }
        if is_blank(c) || is_meta(c) {
            self.end_word();
        }
        match c {
            b' ' | b'\t' | b'\r' => self.i += 1,
            b'\n' => self.newline()?,
            b'\\' => {
                // `se\` CR LF `d`: the walk joins the pieces, as bash does with `\` LF, and so
                // does the engine's join of the word for the prefilter.
                self.piece(true);
                self.escape();
            }
            b'"' => {
                self.piece(true);
                self.enter(Frame::Quote, false);
                self.i += 1;
            }
            b'\'' => {
                self.piece(true);
                let start = self.i;
                self.single_quoted(false)?;
                // Quoted text that is not the command's name is data (unless the statement
                // runs it: the caller decides that).
                if !self.word_is_command {
                    self.out.quoted.push(start..self.i);
                }
            }
            b'$' if self.at(1) == b'\'' => {
                self.piece(true);
                self.i += 1;
                let start = self.i;
                self.single_quoted(true)?;
                // `$'se\x64'` is `sed` only once its escapes are resolved: a join, alone too.
                if self.b[start..self.i].contains(&b'\\') {
                    self.word_pieces += 1;
                }
            }
            b'#' if !self.in_word
                && (self.i == 0
                    || matches!(
                        self.b[self.i - 1],
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'('
                    )) =>
            {
                let start = self.i;
                while self.i < self.b.len() && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                self.out.comments.push(start..self.i);
            }
            b'<' | b'>' if self.at(1) == b'(' => {
                // Process substitution: code inside a word.
                self.piece(false);
                self.enter(Frame::Paren, true);
                self.i += 2;
            }
            b'(' => self.open_paren(),
            b')' => self.close_paren()?,
            b'<' | b'>' if self.top() == Some(Frame::Test) => self.i += 1,
            b'<' if self.at(1) == b'<' && self.at(2) == b'<' => {
                self.i += 3;
                self.redirect_pending = true;
            }
            b'<' if self.at(1) == b'<' => {
                if self.top() == Some(Frame::Arith) {
                    self.i += 2;
                } else {
                    self.heredoc()?;
                }
            }
            b'<' | b'>' => {
                self.i += 1;
                while matches!(self.at(0), b'>' | b'&' | b'|') {
                    self.i += 1;
                }
                self.redirect_pending = self.top() != Some(Frame::Arith);
            }
            b';' => {
                self.i += 1;
                while matches!(self.at(0), b';' | b'&') {
                    self.i += 1;
                }
                self.separator(false);
            }
            b'&' if self.at(1) == b'>' => {
                self.i += 2;
                if self.at(0) == b'>' {
                    self.i += 1;
                }
                self.redirect_pending = true;
            }
            b'&' | b'|' => {
                let two = matches!((c, self.at(1)), (b'&', b'&') | (b'|', b'|') | (b'|', b'&'));
                self.i += if two { 2 } else { 1 };
                self.separator(c == b'|' || two);
            }
            _ => self.word()?,
        }
        Some(())
    }

    fn separator(&mut self, continues: bool) {
        self.command_position = true;
        self.redirect_pending = false;
        self.continues = continues;
    }

    fn open_paren(&mut self) {
        if self.command_position && self.at(1) == b'(' {
            self.piece(false);
            self.enter(Frame::Arith, false);
            self.i += 2;
            return;
        }
        // `name(` or `name (` may be a function header; `=(` is an array.
        let before = self.b[..self.i]
            .iter()
            .rev()
            .find(|&&c| !is_blank(c))
            .copied();
        if before == Some(b'=') {
            self.piece(false);
            self.enter(Frame::Paren, false);
            self.i += 1;
            return;
        }
        self.i += 1;
        self.continues = false;
        if self.rest_is_blank_then(b')') {
            // `()`: a function header whose body may follow on a later line.
            while self.b[self.i] != b')' {
                self.i += 1;
            }
            self.i += 1;
            self.awaiting_body = true;
            self.command_position = true;
            return;
        }
        // A subshell: a statement of its own.
        self.stack.push((Frame::Paren, None));
        self.command_position = true;
        self.awaiting_body = false;
    }

    fn rest_is_blank_then(&self, close: u8) -> bool {
        self.b[self.i..]
            .iter()
            .find(|&&c| !is_blank(c))
            .is_some_and(|&c| c == close)
    }

    fn close_paren(&mut self) -> Option<()> {
        match self.stack.last() {
            Some((Frame::Paren, around)) => {
                let nested = around.is_some();
                self.i += 1;
                self.leave(Frame::Paren)?;
                if !nested {
                    self.command_position = false;
                    self.continues = false;
                }
            }
            Some((Frame::Arith, _)) if self.at(1) == b')' => {
                self.i += 2;
                self.leave(Frame::Arith)?;
            }
            // The end of a `case` pattern.
            Some((Frame::Case, _)) => {
                self.i += 1;
                self.command_position = true;
            }
            _ => return None,
        }
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
                    let text = &self.b[self.i + 1..self.i + 1 + end];
                    if text.contains(&b'\n') {
                        return None;
                    }
                    delimiter.extend_from_slice(text);
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
        Some(())
    }

    /// The end of a line in code: heredoc bodies follow, then maybe a cut.
    fn newline(&mut self) -> Option<()> {
        self.i += 1;
        self.row += 1;
        for doc in std::mem::take(&mut self.heredocs) {
            self.heredoc_body(&doc)?;
        }
        self.redirect_pending = false;
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

    /// A run of plain bytes: a keyword when it is a whole word in command position.
    fn word(&mut self) -> Option<()> {
        let start = self.i;
        while self.i < self.b.len() && is_plain(self.b[self.i]) {
            self.i += 1;
        }
        if self.i == start {
            // A byte no rule covers (a lone `$`, `$x`): part of a word.
            self.piece(false);
            self.i += 1;
            return Some(());
        }
        let word = &self.b[start..self.i];
        let next = self.b.get(self.i).copied();
        let alone = next.is_none_or(|c| is_blank(c) || is_meta(c));
        // `2>`, `10<&`: a descriptor number belongs to the redirect.
        if !self.in_word && matches!(next, Some(b'<' | b'>')) && word.iter().all(u8::is_ascii_digit)
        {
            return Some(());
        }
        if self.top() == Some(Frame::Test) && word == b"]]" && !self.in_word && alone {
            return self.pop(Frame::Test);
        }
        let fresh = !self.in_word;
        let body = self.awaiting_body && word == b"{";
        self.i = start;
        self.piece(false);
        self.i = start + word.len();
        if fresh && alone && (self.word_is_command || body) {
            return self.keyword(word);
        }
        Some(())
    }

    fn keyword(&mut self, word: &[u8]) -> Option<()> {
        self.continues = false;
        let mut next_is_command = true;
        match word {
            b"if" => self.stack.push((Frame::If, None)),
            b"fi" => {
                self.pop(Frame::If)?;
                next_is_command = false;
            }
            b"case" => {
                self.stack.push((Frame::Case, None));
                next_is_command = false;
            }
            b"esac" => {
                self.pop(Frame::Case)?;
                next_is_command = false;
            }
            b"while" | b"until" => self.stack.push((Frame::Loop, None)),
            b"for" | b"select" => {
                self.stack.push((Frame::Loop, None));
                next_is_command = false;
            }
            b"done" => {
                self.pop(Frame::Loop)?;
                next_is_command = false;
            }
            b"[[" => {
                self.stack.push((Frame::Test, None));
                next_is_command = false;
            }
            b"{" => self.stack.push((Frame::Group, None)),
            b"}" => {
                self.pop(Frame::Group)?;
                next_is_command = false;
            }
            b"function" => {
                // The name is not a command; `()` may follow it, then the body.
                self.end_word();
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
            // `coproc` holds constructs this lexer does not model.
            b"coproc" => return None,
            _ => return Some(()),
        }
        // A keyword is not a command word: what follows it decides.
        self.end_word();
        self.word_is_command = false;
        self.awaiting_body = false;
        self.command_position = next_is_command;
        Some(())
    }
}

/// The stretches between `cuts` (line starts between top-level statements) that may hold a
/// check that ends the script ([`super::os::may_end_script`], [`super::os::may_start_ending`];
/// in bash also a lookup's or a probe's word), for [`parse_ranges_with`]. One search of the
/// text for the words such a check needs; nothing more when it has none.
pub fn ending_stretches(src: &str, lang: Language, cuts: &[Cut]) -> Vec<Range<Cut>> {
    use super::os::{may_end_script, may_start_ending};
    // bash: the stretches around each `exit` (a vectorised search). PowerShell: every stretch,
    // as its check must start it with `if`, a test of a few bytes each (a case-insensitive
    // search for `throw`/`exit`/`return` read the whole text at 16 instructions a byte).
    let hits: Box<dyn Iterator<Item = usize>> = match lang {
        Language::Bash => Box::new(src.match_indices("exit").map(|(i, _)| i)),
        Language::PowerShell => Box::new(0..=cuts.len()),
        Language::Batch => return Vec::new(),
    };
    let bound = |k: usize| match k.checked_sub(1) {
        None => Cut { offset: 0, row: 0 },
        Some(i) => cuts.get(i).copied().unwrap_or(Cut {
            offset: src.len(),
            row: 0,
        }),
    };
    let by_stretch = lang == Language::PowerShell;
    // A bash condition that proves something looks a name up or reads an OS probe, maybe
    // through a variable set to one.
    let probe_vars = std::sync::OnceLock::new();
    let proves = |t: &str| {
        lang != Language::Bash
            || ["command", "type", "hash", "which", "-x", "uname", "OSTYPE"]
                .iter()
                .any(|w| t.contains(w))
            || probe_vars
                .get_or_init(|| super::os::probe_variables(src))
                .iter()
                .any(|(name, _, _)| t.contains(name.as_str()))
    };
    let mut out: Vec<Range<Cut>> = Vec::new();
    let mut last = None;
    for at in hits {
        let k = match by_stretch {
            true => at,
            false => cuts.partition_point(|c| c.offset <= at),
        };
        if last == Some(k) {
            continue;
        }
        last = Some(k);
        let r = bound(k)..bound(k + 1);
        if src
            .get(r.start.offset..r.end.offset)
            .is_some_and(|t| may_start_ending(t, lang) && may_end_script(t, lang) && proves(t))
        {
            out.push(r);
        }
    }
    out
}

/// Parses the `ranges` of `src` (each starting and ending at a [`Cut`] or the end of the text,
/// in order, not overlapping) as one program, split over the available cores, and hands each
/// part's commands to `each` on the thread that parsed them. `None` when tree-sitter does not
/// confirm that every range starts and ends between top-level statements. `ends` are the
/// stretches that may hold a check that ends the script ([`super::os::may_end_script`]), read
/// first: what each check proves holds in every range after it, as in a whole parse.
pub fn parse_ranges_with<T: Send>(
    src: &str,
    lang: Language,
    ranges: &[Range<Cut>],
    ends: &[Range<Cut>],
    each: impl Fn(Parsed) -> T + Sync,
) -> Option<Vec<T>> {
    // tree-sitter reads a same-length rewrite it reads better.
    let patch = match lang {
        Language::Bash => super::bash::patch_heredocs,
        Language::PowerShell => super::powershell::patch_ps7,
        Language::Batch => return None,
    };
    let probe_vars = std::sync::OnceLock::new();
    let end = end_point(src);
    // The checks that end the script hold for every range after them: read first, from the
    // stretches that may hold one, each parsed alone.
    let mut endings = Vec::new();
    if !ends.is_empty() {
        let patched = patch_ranges(src, ends, patch);
        let text = patched.as_deref().unwrap_or(src);
        let read = |ts: &[tree_sitter::Range]| match lang {
            Language::PowerShell => super::powershell::endings_in_ranges(src, text, ts),
            _ => super::bash::endings_in_ranges(src, text, ts, &probe_vars),
        };
        for batch in ends.chunks(RANGES_PER_PARSE) {
            let ts: Vec<tree_sitter::Range> = batch.iter().map(|r| ts_range(r, src, end)).collect();
            match read(&ts) {
                Some(found) => endings.extend(found),
                None => {
                    for r in &ts {
                        endings.extend(read(std::slice::from_ref(r))?);
                    }
                }
            }
        }
    }
    // A PowerShell script's `#Requires` lines hold for all of it, read once from the whole text.
    if lang == Language::PowerShell {
        endings.extend(super::powershell::requires(src).ending());
    }
    let doc = super::bash::Document {
        probe_vars: &probe_vars,
        endings: Some(&endings),
    };
    let parse_into = |text: &str, ts: &[tree_sitter::Range], out: &mut Parsed| match lang {
        Language::PowerShell => super::powershell::parse_ranges_into(src, text, ts, out, &endings),
        _ => super::bash::parse_ranges_into(src, text, ts, out, doc),
    };
    let total: usize = ranges.iter().map(|r| r.end.offset - r.start.offset).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total / MIN_BYTES_PER_THREAD)
        .max(1);
    let part = |group: &[Range<Cut>]| -> Option<T> {
        let mut out = Parsed::default();
        // Ordinary statements are read without tree-sitter; the rest, merged where they
        // touch, are parsed.
        let reader = super::quick::Reader::new(src, lang, &endings);
        let mut left: Vec<Range<Cut>> = Vec::new();
        for r in group {
            if reader.read(r.start.offset..r.end.offset, &mut out) {
                continue;
            }
            match left.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => left.push(r.clone()),
            }
        }
        // The rewrite only where tree-sitter reads (the readers need none).
        let patched = patch_ranges(src, &left, patch);
        let text = patched.as_deref().unwrap_or(src);
        for batch in left.chunks(RANGES_PER_PARSE) {
            let ts: Vec<tree_sitter::Range> = batch.iter().map(|r| ts_range(r, src, end)).collect();
            // Ranges that each parse cleanly alone occasionally do not together (the grammar's
            // lookahead across a gap): then each is parsed alone.
            let alone = |out: &mut Parsed| {
                ts.iter()
                    .all(|r| parse_into(text, std::slice::from_ref(r), out))
            };
            if !parse_into(text, &ts, &mut out) && !alone(&mut out) {
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

/// Parses the stretch `r` of `src` alone with tree-sitter (from `text`, `src` or its
/// same-length rewrite), told the checks that end the script `endings`, into `out` (what
/// [`super::quick`]'s readers are compared with).
#[cfg(test)]
pub(crate) fn tree_sitter_read(
    src: &str,
    text: &str,
    lang: Language,
    r: &Range<Cut>,
    endings: &[super::os::Ending],
    out: &mut Parsed,
) -> bool {
    let ts = [ts_range(r, src, end_point(src))];
    match lang {
        Language::PowerShell => super::powershell::parse_ranges_into(src, text, &ts, out, endings),
        _ => {
            let probe_vars = std::sync::OnceLock::new();
            let doc = super::bash::Document {
                probe_vars: &probe_vars,
                endings: Some(endings),
            };
            super::bash::parse_ranges_into(src, text, &ts, out, doc)
        }
    }
}

/// `src` with `patch` applied to each of `ranges` alone: only they are parsed, and the
/// rewrites read nothing across a statement cut (a cut is a line start), so this is the whole
/// text's rewrite where it matters, at the cost of the kept part. `None` if nothing changed.
fn patch_ranges(
    src: &str,
    ranges: &[Range<Cut>],
    patch: fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out: Option<Vec<u8>> = None;
    for r in ranges {
        let part = &src[r.start.offset..r.end.offset];
        if let Some(patched) = patch(part).filter(|p| p.len() == part.len()) {
            out.get_or_insert_with(|| src.as_bytes().to_vec())[r.start.offset..r.end.offset]
                .copy_from_slice(patched.as_bytes());
        }
    }
    // Rewrites swap ASCII bytes for ASCII bytes, so the text is still UTF-8.
    out.and_then(|v| String::from_utf8(v).ok())
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
        lex(src, Language::Bash).map(|l| l.cuts.iter().map(|c| c.row).collect())
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
        // `'cmd'` and `'f'` name commands; `x'b'` and `A='e'` do not; `'h'` follows `$(…)`.
        assert_eq!(
            texts(&lexed.quoted),
            ["'a'", "'b'", "'d'", "'e'", "i\n", "$(k)\n"]
        );
        assert_eq!(
            lexed
                .joins
                .iter()
                .map(|&j| &src[j..j + 2])
                .collect::<Vec<_>>(),
            ["x'", "A="]
        );
        assert!(may_run_code("sudo -u x 'a'") && may_run_code("x | /bin/sh"));
        assert!(!may_run_code("echo x sshd") && !may_run_code("shx 'a' bash-completion"));
    }

    #[test]
    fn names_split_by_a_continuation_are_found_sparse_as_whole() {
        use crate::engine::{scan_parsed, PatternIndex};
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let src = "echo a\nse\\\nd -i 's/a/b/' f\necho b\nre\\\nadlink -f /\necho c\n";
        let lexed = lex(src, Language::Bash).expect("cut");
        assert!(lexed.joins.len() >= 2, "{:?}", lexed.joins);
        let dirs = crate::engine::directives::Directives::parse(src, Language::Bash);
        let whole = crate::script::parse(src, Language::Bash);
        let whole = scan_parsed(src, &whole, &dirs, None, &library).findings;
        let sparse = crate::engine::scan::parse_sparse(src, Language::Bash, None, &library)
            .expect("the script is cut");
        let sparse = scan_parsed(src, &sparse, &dirs, None, &library).findings;
        assert!(whole.len() >= 2, "{whole:?}");
        assert_eq!(sparse, whole);
        // With CR LF the engine's join skips the CR as the walk does.
        let crlf = src.replace('\n', "\r\n");
        let (whole, sparse) = whole_and_sparse(&crlf);
        assert!(whole.len() >= 2, "{whole:?}");
        assert_eq!(sparse.expect("the CR LF script is cut"), whole);
        assert!(lex("sed \\\r\n  -i f\r\nx\r\n", Language::Bash).is_some());
    }

    /// The findings of a whole parse of `src` and of a sparse one (`None`: not cut).
    fn whole_and_sparse(
        src: &str,
    ) -> (
        Vec<crate::engine::Finding>,
        Option<Vec<crate::engine::Finding>>,
    ) {
        use crate::engine::{scan_parsed, PatternIndex};
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let dirs = crate::engine::directives::Directives::parse(src, Language::Bash);
        let findings =
            |p: &crate::script::Parsed| scan_parsed(src, p, &dirs, None, &library).findings;
        let whole = findings(&crate::script::parse(src, Language::Bash));
        let sparse = crate::engine::scan::parse_sparse(src, Language::Bash, None, &library);
        (whole, sparse.map(|p| findings(&p)))
    }

    #[test]
    fn glued_heredocs_and_quoted_names_are_found_sparse_as_whole() {
        let src = "echo a\ncat<<E>f\nsed -i x f\nE\nfree -m\nsh<<E>f\nreadlink -f /\nE\n\
                   cat<<E>f|sh\nreadlink -f x\nE\ncat<<E;\nsed -i y f\nE\n\
                   cat <<EOF; free -m; sed -i x f\ndate -d data\nEOF\n\
                   sh <<'EOF'; echo a; free -m;\nreadlink -f /\nEOF\nreadlink -f y\n\
                   $'se\\x64' -i a f\necho b\n$'\\163ed' -i b f\ns$'ed' -i c f\nfre$'e' -m\n\
                   echo c\nbash -c $'readlink -f \\x2f'\necho d\n";
        for src in [src.to_string(), src.replace('\n', "\r\n")] {
            let (whole, sparse) = whole_and_sparse(&src);
            let found: Vec<&str> = whole.iter().map(|f| &src[f.span.clone()]).collect();
            assert!(found.len() >= 11, "{found:?}");
            assert!(!found
                .iter()
                .any(|f| f.contains('x') && f.starts_with("readlink")));
            assert_eq!(sparse.expect("the script is cut"), whole, "{src:?}");
        }
    }

    #[test]
    fn escaped_quotes_in_executed_code_are_found_sparse_as_whole() {
        let src = "echo a\nbash -c 'echo '\\''a'\\''; nproc'\necho b\n\
                   bash -c 'bash -c '\\''nproc'\\'''\necho c\n\
                   ssh web1 'grep '\\''x y'\\'' f; free -m'\necho d\n\
                   sh -c 'echo '\\''q'\\''\nnproc'\necho e\n";
        for src in [src.to_string(), src.replace('\n', "\r\n")] {
            let lexed = lex(&src, Language::Bash).expect("cut");
            assert!(lexed.joins.len() >= 4, "{:?}", lexed.joins);
            let (whole, sparse) = whole_and_sparse(&src);
            let found: Vec<&str> = whole.iter().map(|f| &src[f.span.clone()]).collect();
            assert!(
                found.iter().filter(|f| f.starts_with("nproc")).count() >= 3,
                "{found:?}"
            );
            assert!(found.iter().any(|f| f.starts_with("free")), "{found:?}");
            assert_eq!(sparse.expect("the script is cut"), whole, "{src:?}");
        }
        // `coproc` is left to a whole parse, which finds what it runs.
        let src = "echo a\ncoproc nproc\necho b\n";
        let (whole, sparse) = whole_and_sparse(src);
        assert!(sparse.is_none());
        assert!(
            whole.iter().any(|f| &src[f.span.clone()] == "nproc"),
            "{whole:?}"
        );
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
        for src in crate::script::token_soups(&tokens, 3000, 30, 0x2545_f491_4f6c_dd1d) {
            if let Some(lexed) = lex(&src, Language::Bash) {
                for c in lexed.cuts {
                    assert!(c.offset > 0 && c.offset < src.len());
                    assert_eq!(src.as_bytes()[c.offset - 1], b'\n');
                    assert_eq!(src[..c.offset].matches('\n').count(), c.row);
                }
            }
        }
    }
}
