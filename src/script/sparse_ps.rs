//! The statement lexer of [`super::sparse`] for PowerShell: where a large script may be cut
//! between top-level statements, and which spans can only be data.
//!
//! It follows what tree-sitter-powershell reads, not only what PowerShell does: the parse of
//! the stretches it keeps must mean what the whole parse means. Newlines end a statement only
//! where the statement is complete (the grammar's statement terminator), so a cut needs: nothing
//! open (`( )`, `{ }`, `$( )`, `@( )`, `@{ }`, `[ ]`, strings, here-strings, block comments), a
//! line that does not end in an operator, a comma, a pipe or a parameter of an expression, no
//! keyword statement still waiting for its block (`if (…)` ⏎ `{`, `do { } ⏎ while (…)`), and a
//! next line that does not go on with the statement (`else`, `elseif`, `catch`, `finally`, a
//! leading `|`, `{`). Where the grammar's tokens and PowerShell's differ in a way that could
//! move a statement boundary (a quote or `{` inside a bare word, `#` after a word), and at a
//! here-string the grammar cannot read, it gives up (`None`).
//!
//! The walk also carries a little state from one statement to another: script blocks, splatting
//! tables and sessions kept in variables for a later `Invoke-Command`, and `Enter-PSSession`,
//! after which everything runs remotely. A file where that can happen is not cut at all.

use std::ops::Range;

use super::sparse::{Cut, Lexed};

/// Every command name through which the PowerShell walk may read a quoted string as code (or
/// as the program to run), lowercase; aliases and `[scriptblock]::Create` included. In a
/// statement naming none of them, quoted text is data.
/// `runs_code_names_every_command_the_walk_runs_code_through` keeps this list complete.
pub(crate) const RUNS_CODE: &[&str] = &[
    "bash",
    "cmd",
    "dash",
    "iex",
    "invoke-expression",
    "ksh",
    "powershell",
    "psexec",
    "psexec64",
    "pwsh",
    "saps",
    "scriptblock",
    "sh",
    "ssh",
    "start",
    "start-process",
    "wsl",
    "zsh",
];

/// Whether `text` names a command of [`RUNS_CODE`] (any case, any `.exe`-like suffix).
pub fn may_run_code(text: &str) -> bool {
    static RUNNERS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let Some(ac) = RUNNERS
        .get_or_init(|| {
            aho_corasick::AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(RUNS_CODE)
                .ok()
        })
        .as_ref()
    else {
        return true;
    };
    let b = text.as_bytes();
    ac.find_overlapping_iter(text).any(|m| {
        (m.start() == 0 || !is_name_char(b[m.start() - 1]))
            && b.get(m.end()).is_none_or(|&c| !is_name_char(c))
    })
}

/// A character of a command name as the prefilter reads it (`.exe` and paths stand apart).
fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Lexes a PowerShell script; `None` when unsure.
pub fn lex(src: &str) -> Option<Lexed> {
    let mut lexer = PsLexer::new(src);
    lexer.run()?;
    if !lexer.stack.is_empty() {
        return None;
    }
    let out = lexer.out;
    (!carries_state(src, &out.comments, lexer.assigns_block)).then_some(out)
}

/// Whether the walk may carry something from one statement to another: `Enter-PSSession`
/// anywhere, or `Invoke-Command` in a file that keeps blocks, tables or sessions in variables.
fn carries_state(src: &str, comments: &[Range<usize>], assigns_block: bool) -> bool {
    // Vectorised searches of a lowercased copy (`str::match_indices`, and one case-insensitive
    // automaton for all the words, each cost several times as much on a large file).
    let lower = src.to_ascii_lowercase();
    let b = lower.as_bytes();
    let outside_comments = |at: usize| {
        let k = comments.partition_point(|c| c.end <= at);
        comments.get(k).is_none_or(|c| c.start > at)
    };
    let has_word = |word: &str| {
        memchr::memmem::find_iter(b, word).any(|at| {
            (at == 0 || !is_name_char(b[at - 1]))
                && b.get(at + word.len()).is_none_or(|&c| !is_name_char(c))
                && outside_comments(at)
        })
    };
    if has_word("enter-pssession") || has_word("etsn") {
        return true;
    }
    if !(has_word("invoke-command") || has_word("icm")) {
        return false;
    }
    // `[scriptblock]`: a block kept for later.
    let scriptblock_type = memchr::memmem::find_iter(b, "scriptblock").any(|at| {
        lower[at + "scriptblock".len()..]
            .trim_start_matches([' ', '\t'])
            .starts_with(']')
    });
    assigns_block || scriptblock_type || has_word("new-pssession")
}

/// Whether a tree parsed from `ranges` confirms them: every top-level statement (the program's
/// `statement_list` children) inside a single range, and no syntax error but local repairs.
pub(crate) fn confirms(root: tree_sitter::Node, ranges: &[tree_sitter::Range]) -> bool {
    let mut cursor = root.walk();
    let mut top = Vec::new();
    for child in root.children(&mut cursor) {
        if child.kind() == "statement_list" {
            let mut inner = child.walk();
            top.extend(child.children(&mut inner));
        } else {
            top.push(child);
        }
    }
    let mut k = 0;
    for (t, node) in top.iter().enumerate() {
        let (start, end) = (node.start_byte(), node.end_byte());
        while k < ranges.len() && ranges[k].end_byte <= start {
            k += 1;
        }
        let Some(range) = ranges
            .get(k)
            .filter(|r| r.start_byte <= start && end <= r.end_byte)
        else {
            return false;
        };
        if node.has_error() {
            let last_in_range = top
                .get(t + 1)
                .is_none_or(|n| n.start_byte() >= range.end_byte);
            if !only_local_repairs(*node, last_in_range) {
                return false;
            }
        }
    }
    !root.has_error() || top.iter().any(|n| n.has_error())
}

/// Whether every error in the top-level `statement` is a token the parser supplied in the
/// middle of a line (`tool --opt6` reads as `--opt` and a redirection to `6` that lacks its
/// `>`). How the parser repairs depends on the text after the error, so the repair counts only
/// where that text is the same as in the whole parse: the statement goes on past the line (the
/// `}` of the block it is in), or another statement of the same range follows it. An `ERROR`
/// node, or a token missing where a line ends, is no such repair.
fn only_local_repairs(statement: tree_sitter::Node, last_in_range: bool) -> bool {
    let end_row = statement.end_position().row;
    let mut stack = vec![statement];
    while let Some(n) = stack.pop() {
        if n.is_error() {
            return false;
        }
        if n.is_missing() {
            let row = n.start_position().row;
            let mut at = n;
            let next = loop {
                match at.next_sibling() {
                    Some(s) => break Some(s),
                    None => match at.parent() {
                        Some(p) => at = p,
                        None => break None,
                    },
                }
            };
            if next.is_none_or(|s| s.is_missing() || s.start_position().row != row)
                || (last_in_range && end_row == row)
            {
                return false;
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor).filter(|c| c.has_error()));
    }
    true
}

/// What is open around the lexer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// `( … )`.
    Paren,
    /// `$( … )`, also inside `" … "`.
    Sub,
    /// `@( … )`.
    Array,
    /// `{ … }`: a script block or a statement block; `awaited` when a keyword statement waits
    /// for it at the top level.
    Block { awaited: bool },
    /// `@{ … }`.
    Hash,
    /// `[ … ]`.
    Bracket,
    /// `" … "`: `piece` is where the current data piece started, `mark` whether it is data.
    Quote { piece: usize, mark: bool },
}

/// What a top-level keyword statement still needs before it is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Await {
    Nothing,
    /// `if (…)`, `function f`, `try`, `else` …: a `{ … }`.
    Block,
    /// `param`, the `while`/`until` of a `do`: a `( … )`.
    Paren,
    /// After the block of `do`: `while` or `until`.
    DoCondition,
}

/// Statements that end with a block.
const BLOCK_KEYWORDS: &[&str] = &[
    "begin",
    "catch",
    "class",
    "configuration",
    "data",
    "do",
    "dynamicparam",
    "else",
    "elseif",
    "end",
    "enum",
    "filter",
    "finally",
    "for",
    "foreach",
    "function",
    "if",
    "inlinescript",
    "parallel",
    "process",
    "sequence",
    "switch",
    "trap",
    "try",
    "until",
    "while",
    "workflow",
];

/// Words after which a new pipeline begins (`return Get-Thing -x`).
const FLOW_KEYWORDS: &[&str] = &["break", "continue", "exit", "return", "throw"];

/// Lines that start with these go on with the statement before them.
const CONTINUING_KEYWORDS: &[&str] = &["catch", "else", "elseif", "finally"];

/// The operators PowerShell spells as `-word`: at the end of a line in an expression they
/// want an operand on the next line.
fn is_dash_operator(word: &[u8]) -> bool {
    const OPS: &[&str] = &[
        "and",
        "or",
        "xor",
        "not",
        "band",
        "bor",
        "bxor",
        "bnot",
        "f",
        "as",
        "is",
        "isnot",
        "in",
        "notin",
        "join",
        "split",
        "isplit",
        "csplit",
        "replace",
        "ireplace",
        "creplace",
        "shl",
        "shr",
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "like",
        "notlike",
        "match",
        "notmatch",
        "contains",
        "notcontains",
    ];
    let start = word.iter().position(|&c| c != b'-').unwrap_or(word.len());
    let w = &word[start..];
    let is_op = |w: &[u8]| OPS.iter().any(|op| w.eq_ignore_ascii_case(op.as_bytes()));
    // `-ieq`, `-cmatch`: the case-insensitive and case-sensitive forms.
    is_op(w) || (matches!(w.first(), Some(b'i' | b'c' | b'I' | b'C')) && is_op(&w[1..]))
}

/// The length of the blank that `rest` (whose first byte is `c`) starts with if it is one of
/// the Unicode blanks the grammar takes: U+FEFF, U+2060, U+200B, U+00A0.
fn unicode_blank(c: u8, rest: &[u8]) -> Option<usize> {
    if c < 0x80 {
        return None;
    }
    [
        &b"\xEF\xBB\xBF"[..],
        b"\xE2\x81\xA0",
        b"\xE2\x80\x8B",
        b"\xC2\xA0",
    ]
    .iter()
    .find(|blank| rest.starts_with(blank))
    .map(|blank| blank.len())
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

/// Operator characters: a line ending in a word made only of these goes on.
fn is_op_char(c: u8) -> bool {
    matches!(
        c,
        b'=' | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'!'
            | b'.'
            | b'<'
            | b'>'
            | b'?'
            | b':'
            | b'~'
            | b'^'
    )
}

struct PsLexer<'a> {
    b: &'a [u8],
    i: usize,
    /// Rows are counted lazily, up to `row_at`.
    row: usize,
    row_at: usize,
    stack: Vec<Frame>,
    out: Lexed,
    /// The start of the bare word being read, if any.
    run: Option<usize>,
    /// The word being read has a piece a shell or the walk would unescape or join.
    run_joins: bool,
    /// The next token begins a pipeline element (command or expression).
    seg_start: bool,
    /// The word being read began a pipeline element.
    run_seg_first: bool,
    // Top-level statement state.
    /// The current statement has tokens.
    in_stmt: bool,
    /// The next word is the first of a statement (a keyword there shapes it).
    stmt_start: bool,
    /// The current pipeline element is a command (arguments, not operators, follow).
    seg_command: bool,
    /// The statement so far could end here.
    complete: bool,
    awaiting: Await,
    after_do: bool,
    /// A statement ended at a newline; the next line decides whether a cut goes before it.
    pending: bool,
    /// Some `=` gives a variable a script block or a table (see [`carries_state`]).
    assigns_block: bool,
}

impl<'a> PsLexer<'a> {
    fn new(src: &'a str) -> PsLexer<'a> {
        PsLexer {
            b: src.as_bytes(),
            i: 0,
            row: 0,
            row_at: 0,
            stack: Vec::new(),
            out: Lexed::default(),
            run: None,
            run_joins: false,
            seg_start: true,
            run_seg_first: false,
            in_stmt: false,
            stmt_start: true,
            seg_command: false,
            complete: true,
            awaiting: Await::Nothing,
            after_do: false,
            pending: false,
            assigns_block: false,
        }
    }

    fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn top_level(&self) -> bool {
        self.stack.is_empty()
    }

    fn row_of(&mut self, offset: usize) -> usize {
        self.row += self.b[self.row_at..offset]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        self.row_at = offset;
        self.row
    }

    fn run(&mut self) -> Option<()> {
        while self.i < self.b.len() {
            if let Some(Frame::Quote { .. }) = self.stack.last() {
                self.in_quote()?;
            } else {
                self.in_code()?;
            }
        }
        self.end_run();
        Some(())
    }

    /// A token starts at `self.i` (not a blank, newline or comment).
    fn token(&mut self) {
        if !self.top_level() || self.in_stmt {
            return;
        }
        self.in_stmt = true;
        if !std::mem::take(&mut self.pending) {
            return;
        }
        // Only blanks before it on its line: the statement before may end at that line start.
        let mut s = self.i;
        while s > 0 && matches!(self.b[s - 1], b' ' | b'\t') {
            s -= 1;
        }
        if s == 0 || self.b[s - 1] != b'\n' {
            return;
        }
        let rest = &self.b[self.i..];
        let word_len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let word = std::str::from_utf8(&rest[..word_len])
            .unwrap_or("")
            .to_ascii_lowercase();
        let whole_word = rest.get(word_len).is_none_or(|&c| !is_name_char(c));
        let continues = matches!(rest.first(), Some(b'|' | b'{'))
            || (whole_word && CONTINUING_KEYWORDS.contains(&word.as_str()));
        if !continues {
            let row = self.row_of(s);
            self.out.cuts.push(Cut { offset: s, row });
        }
    }

    /// Starts or continues a bare word.
    fn run_byte(&mut self) {
        if self.run.is_none() {
            self.token();
            self.run = Some(self.i);
            self.run_joins = false;
            self.run_seg_first = std::mem::take(&mut self.seg_start);
        }
        self.i += 1;
    }

    /// Ends the bare word being read, if any, and takes in what it means at the top level.
    fn end_run(&mut self) {
        let Some(start) = self.run.take() else {
            return;
        };
        if self.run_joins {
            self.out.joins.push(start);
        }
        let word = &self.b[start..self.i];
        if word.last() == Some(&b'=') && word.iter().all(|&c| is_op_char(c)) {
            // `=`, `+=`: a new pipeline element is the value.
            self.seg_start = true;
        }
        if !self.top_level() {
            return;
        }
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        if std::mem::take(&mut self.stmt_start) {
            if let Some(&keyword) = BLOCK_KEYWORDS.iter().find(|k| is(k)) {
                self.awaiting = match (self.awaiting, keyword) {
                    (Await::DoCondition, "while" | "until") => Await::Paren,
                    _ => Await::Block,
                };
                self.after_do = keyword == "do";
                self.complete = false;
                self.seg_start = true;
                return;
            }
            if is("param") {
                self.awaiting = Await::Paren;
                self.complete = false;
                return;
            }
            if FLOW_KEYWORDS.iter().any(|k| is(k)) {
                self.seg_start = true;
                self.complete = true;
                return;
            }
        }
        if self.run_seg_first {
            let first = word[0];
            self.seg_command = !(first.is_ascii_digit()
                || matches!(first, b'$' | b'@' | b'-' | b'[' | b'\'' | b'"'));
        }
        let last = *word.last().unwrap_or(&b' ');
        self.complete = if word.len() > 1 && word[0] == b'-' && word[1].is_ascii_alphabetic() {
            self.seg_command && !is_dash_operator(word)
        } else if word.iter().all(|&c| is_op_char(c)) {
            false
        } else if self.seg_command {
            last != b'='
        } else {
            last.is_ascii_alphanumeric() || matches!(last, b'_' | b'$' | b'?') || last >= 0x80
        };
    }

    /// An operator between pipeline elements (`|`, `&&`, `,`, `&`).
    fn operator(&mut self, len: usize, new_element: bool) {
        self.end_run();
        self.token();
        self.i += len;
        if self.top_level() {
            self.complete = false;
            self.stmt_start = false;
        }
        self.seg_start = new_element;
    }

    fn open(&mut self, frame: Frame, len: usize) {
        self.end_run();
        self.token();
        let mut frame = frame;
        if self.top_level() {
            self.stmt_start = false;
            if std::mem::take(&mut self.seg_start) {
                self.seg_command = false;
            }
            if frame == (Frame::Block { awaited: false }) && self.awaiting == Await::Block {
                frame = Frame::Block { awaited: true };
            }
        }
        if matches!(frame, Frame::Block { .. } | Frame::Hash) && self.value_of_assignment() {
            self.assigns_block = true;
        }
        self.stack.push(frame);
        self.i += len;
        self.seg_start = !matches!(frame, Frame::Bracket);
    }

    /// Whether the `{` or `@{` at `self.i` is the value of an `=` (through `(`, blanks and
    /// continuations).
    fn value_of_assignment(&self) -> bool {
        let mut k = self.i;
        while k > 0 {
            match self.b[k - 1] {
                b' ' | b'\t' | b'\r' | b'\n' | b'`' | b'(' | b'$' | b'@' => k -= 1,
                b'=' => return true,
                _ => return false,
            }
        }
        false
    }

    fn close(&mut self) -> Option<()> {
        self.end_run();
        let c = self.at(0);
        let frame = self.stack.pop()?;
        match (c, frame) {
            (b')', Frame::Paren | Frame::Sub | Frame::Array) => {}
            (b'}', Frame::Block { .. } | Frame::Hash) => {}
            (b']', Frame::Bracket) => {}
            _ => return None,
        }
        self.i += 1;
        self.seg_start = false;
        if let Some(Frame::Quote { piece, .. }) = self.stack.last_mut() {
            // Back in the string: its data goes on after the `)`.
            *piece = self.i;
            return Some(());
        }
        if !self.top_level() {
            return Some(());
        }
        self.complete = c != b']';
        match (frame, self.awaiting) {
            (Frame::Block { awaited: true }, Await::Block) => {
                self.awaiting = if std::mem::take(&mut self.after_do) {
                    Await::DoCondition
                } else {
                    Await::Nothing
                };
                // `} else {`, `} catch {`, `} while (…)`.
                self.stmt_start = true;
            }
            (Frame::Paren, Await::Paren) => self.awaiting = Await::Nothing,
            _ => {}
        }
        Some(())
    }

    /// A newline in code.
    fn newline(&mut self) {
        self.end_run();
        self.i += 1;
        if !self.top_level() {
            self.seg_start = true;
            return;
        }
        if self.in_stmt && self.complete && self.awaiting == Await::Nothing {
            self.in_stmt = false;
            self.pending = true;
            self.stmt_start = true;
            self.seg_start = true;
            self.seg_command = false;
        }
    }

    fn in_code(&mut self) -> Option<()> {
        let c = self.at(0);
        let in_run = self.run.is_some();
        if let Some(len) = unicode_blank(c, &self.b[self.i..]) {
            self.end_run();
            self.i += len;
            return Some(());
        }
        match c {
            b' ' | b'\t' | b'\r' => {
                self.end_run();
                self.i += 1;
            }
            b'\n' => self.newline(),
            b'`' => {
                if self.at(1) == b'\n' || (self.at(1) == b'\r' && self.at(2) == b'\n') {
                    // A line continuation: a blank to the grammar.
                    self.end_run();
                    self.i += if self.at(1) == b'\r' { 3 } else { 2 };
                } else {
                    // `Get-Local`User`: the walk reads the name unescaped, and so does the
                    // engine's join of the word for the prefilter.
                    self.run_byte();
                    self.run_joins = true;
                    if self.i < self.b.len() {
                        self.i += 1;
                    }
                }
            }
            b'#' if !in_run => self.line_comment(),
            b'#' => {
                // After a word the grammar may read a comment or more of the word: harmless
                // only when the rest of the line means the same either way.
                let end = self.line_end();
                if self.b[self.i + 1..end].iter().any(|&c| {
                    matches!(
                        c,
                        b'(' | b')'
                            | b'{'
                            | b'}'
                            | b'['
                            | b']'
                            | b'\''
                            | b'"'
                            | b'`'
                            | b'@'
                            | b'$'
                            | b';'
                            | b'|'
                            | b'&'
                            | b'<'
                            | b'#'
                    )
                }) {
                    return None;
                }
                self.run_byte();
            }
            b'<' if !in_run && self.at(1) == b'#' => self.block_comment()?,
            b'\'' | b'"' if in_run => self.quote_in_word()?,
            b'\'' => self.verbatim()?,
            b'"' => {
                self.token();
                let mark = !self.names_command();
                self.begin_string();
                self.stack.push(Frame::Quote {
                    piece: self.i,
                    mark,
                });
                self.i += 1;
            }
            b'@' if !in_run && matches!(self.at(1), b'\'' | b'"') => self.here_string()?,
            b'@' if self.at(1) == b'(' => self.open(Frame::Array, 2),
            b'@' if self.at(1) == b'{' => self.open(Frame::Hash, 2),
            b'$' if self.at(1) == b'(' => self.open(Frame::Sub, 2),
            b'$' if self.at(1) == b'{' => {
                // `${any name}`: one token to the first `}`.
                self.run_byte();
                let end = self.b[self.i..].iter().position(|&c| c == b'}')?;
                if self.b[self.i..self.i + end].contains(&b'\n') {
                    return None;
                }
                self.i += end + 1;
            }
            b'(' => self.open(Frame::Paren, 1),
            b'{' => {
                if in_run {
                    // `Where-Object{`, `else{`, `=@{`-like words: a block; inside an argument
                    // the grammar reads the `{` as part of the word.
                    let start = self.run.unwrap_or(self.i);
                    let word = &self.b[start..self.i];
                    let lower = String::from_utf8_lossy(word).to_ascii_lowercase();
                    let ok = self.run_seg_first
                        || BLOCK_KEYWORDS.contains(&lower.as_str())
                        || word.last().is_some_and(|&l| is_op_char(l))
                        || (self.top_level() && self.awaiting == Await::Block);
                    if !ok {
                        return None;
                    }
                }
                self.open(Frame::Block { awaited: false }, 1)
            }
            b'[' if !in_run
                || self.stack.last() == Some(&Frame::Bracket)
                || self
                    .run
                    .is_some_and(|s| self.b[s] == b'$' || self.b[s] == b'[') =>
            {
                self.open(Frame::Bracket, 1)
            }
            b']' if self.stack.last() == Some(&Frame::Bracket) => self.close()?,
            b')' | b'}' => self.close()?,
            b';' => {
                self.end_run();
                self.token();
                self.i += 1;
                self.seg_start = true;
                if self.top_level() {
                    self.stmt_start = true;
                    self.complete = true;
                }
            }
            b'|' => {
                let len = if self.at(1) == b'|' { 2 } else { 1 };
                self.operator(len, true);
            }
            b',' => self.operator(1, true),
            b'&' if in_run && self.i > 0 && self.b[self.i - 1] == b'>' => self.run_byte(),
            b'&' => {
                let len = if self.at(1) == b'&' { 2 } else { 1 };
                self.operator(len, true);
                if len == 1 && self.top_level() {
                    // The call operator: a command follows.
                    self.seg_start = false;
                    self.seg_command = true;
                }
            }
            b'-' if !in_run && self.at(1) == b'-' && self.at(2) == b'%' => {
                // `--%`: the rest of the line is passed on verbatim.
                self.run_byte();
                self.i = self.line_end();
            }
            _ => self.run_byte(),
        }
        Some(())
    }

    fn line_end(&self) -> usize {
        self.b[self.i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| self.i + p)
    }

    fn line_comment(&mut self) {
        let start = self.i;
        let mut end = self.line_end();
        if end > start && self.b[end - 1] == b'\r' {
            end -= 1;
        }
        self.i = end;
        self.out.comments.push(start..end);
    }

    /// `<# … #>`; a backtick escapes the next character.
    fn block_comment(&mut self) -> Option<()> {
        self.end_run();
        let start = self.i;
        self.i += 2;
        loop {
            match self.b.get(self.i)? {
                b'`' => self.i += 2,
                b'#' => {
                    while self.at(0) == b'#' {
                        self.i += 1;
                    }
                    if self.at(0) == b'>' {
                        self.i += 1;
                        break;
                    }
                }
                _ => self.i += 1,
            }
        }
        self.i = self.i.min(self.b.len());
        self.out.comments.push(start..self.i);
        Some(())
    }

    /// Whether a string here names the command (`& 'C:\x\tool.exe'`, `. "$PSScriptRoot\x"`).
    fn names_command(&self) -> bool {
        let before = self.b[..self.i]
            .iter()
            .rev()
            .find(|&&c| !is_blank(c))
            .copied();
        matches!(before, Some(b'&' | b'.'))
    }

    /// A string token at the top level is an expression.
    fn begin_string(&mut self) {
        self.end_run();
        if self.top_level() {
            self.stmt_start = false;
            if std::mem::take(&mut self.seg_start) {
                self.seg_command = false;
            }
        }
        self.seg_start = false;
    }

    fn end_string(&mut self) {
        if self.top_level() {
            self.complete = true;
        }
    }

    /// `' … '` with `''` inside.
    fn verbatim(&mut self) -> Option<()> {
        self.token();
        let mark = !self.names_command();
        self.begin_string();
        let start = self.i;
        self.i += 1;
        let mut joins = false;
        loop {
            match *self.b.get(self.i)? {
                b'\'' if self.at(1) == b'\'' => {
                    joins = true;
                    self.i += 2;
                }
                b'\'' => {
                    self.i += 1;
                    break;
                }
                c => {
                    joins |= matches!(c, b'`' | b'^' | b'\\' | b'"');
                    self.i += 1;
                }
            }
        }
        if mark {
            self.out.quoted.push(start..self.i);
        }
        if joins {
            self.out.joins.push(start);
        }
        self.end_string();
        Some(())
    }

    /// A quote inside a bare word: the grammar keeps it in the word, PowerShell starts a
    /// string. Both agree only when the string is plain text on one line.
    fn quote_in_word(&mut self) -> Option<()> {
        let q = self.at(0);
        let body_start = self.i + 1;
        let len = self.b[body_start..].iter().position(|&c| c == q)?;
        let body = &self.b[body_start..body_start + len];
        let plain = !body.iter().any(|&c| {
            matches!(
                c,
                b'\n'
                    | b'\r'
                    | b'('
                    | b')'
                    | b'{'
                    | b'}'
                    | b'['
                    | b']'
                    | b'|'
                    | b';'
                    | b'&'
                    | b'#'
                    | b'`'
                    | b'\''
                    | b'"'
            )
        });
        let after = self.b.get(body_start + len + 1).copied();
        if !plain || body.last().is_some_and(|&c| is_blank(c)) || after == Some(q) {
            return None;
        }
        self.run_joins = true;
        self.i = body_start + len + 1;
        Some(())
    }

    /// Inside `" … "`: escapes, `""`, `$( … )`.
    fn in_quote(&mut self) -> Option<()> {
        let Some(&mut Frame::Quote { piece, mark }) = self.stack.last_mut() else {
            return None;
        };
        match self.at(0) {
            b'`' => {
                self.out.joins.push(piece);
                self.i += if self.at(1) == b'\r' && self.at(2) == b'\n' {
                    3
                } else {
                    2
                };
            }
            b'"' if self.at(1) == b'"' => self.i += 2,
            b'"' => {
                self.i += 1;
                self.stack.pop();
                if mark {
                    self.out.quoted.push(piece..self.i);
                }
                self.end_string();
            }
            b'$' if self.at(1) == b'(' => {
                if mark && self.i > piece {
                    self.out.quoted.push(piece..self.i);
                }
                self.stack.push(Frame::Sub);
                self.i += 2;
                self.seg_start = true;
            }
            b'$' if self.at(1) == b'{' => {
                let end = self.b[self.i..].iter().position(|&c| c == b'}')?;
                self.i += end + 1;
            }
            c => {
                if matches!(c, b'^' | b'\\' | b'\'') {
                    self.out.joins.push(piece);
                }
                self.i += 1;
            }
        }
        self.i = self.i.min(self.b.len());
        Some(())
    }

    /// `@' … '@` and `@" … "@`: the opening line holds nothing else, the closing mark starts a
    /// line.
    fn here_string(&mut self) -> Option<()> {
        self.token();
        let mark = !self.names_command();
        self.begin_string();
        let start = self.i;
        let q = self.at(1);
        let open_end = self.line_end();
        let rest = &self.b[self.i + 2..open_end];
        // The grammar allows only spaces after `@"`, any blank after `@'`.
        let blank_ok = |c: &u8| *c == b' ' || *c == b'\r' || (q == b'\'' && *c == b'\t');
        if !rest.iter().all(blank_ok) || open_end >= self.b.len() {
            return None;
        }
        let body_start = open_end + 1;
        let mut line = body_start;
        let close = loop {
            if line >= self.b.len() {
                return None;
            }
            if self.b[line] == q && self.b.get(line + 1) == Some(&b'@') {
                break line;
            }
            line = self.b[line..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(self.b.len(), |p| line + p + 1);
        };
        // The grammar needs a line between the marks.
        if close == body_start {
            return None;
        }
        let body = &self.b[body_start..close];
        let mut code = false;
        if q == b'"' {
            for l in body.split(|&c| c == b'\n') {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                // A backtick escapes the line break, and the closing mark after it.
                if l.last() == Some(&b'`') {
                    return None;
                }
                if l.windows(2).any(|w| w == b"$(") {
                    code = true;
                    let opens = l.iter().filter(|&&c| c == b'(').count();
                    if opens != l.iter().filter(|&&c| c == b')').count() {
                        return None;
                    }
                }
            }
        }
        self.i = close + 2;
        if mark && !code {
            self.out.quoted.push(start..self.i);
        }
        if body
            .iter()
            .any(|&c| matches!(c, b'`' | b'^' | b'\\' | b'\'' | b'"'))
        {
            self.out.joins.push(start);
        }
        self.end_string();
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{parse, Language};

    fn cut_lines(src: &str) -> Option<Vec<usize>> {
        lex(src).map(|l| l.cuts.iter().map(|c| c.row).collect())
    }

    #[test]
    fn cuts_fall_between_top_level_statements_only() {
        let src = "Get-A\n$x = 1 +\n  2\nGet-B -Force\n$y = $a -and\n  $b\nGet-C `\n  -x\nGet-D |\n  Sort-Object\nGet-E\n";
        assert_eq!(cut_lines(src), Some(vec![1, 3, 4, 6, 8, 10]));
    }

    #[test]
    fn keyword_statements_wait_for_their_blocks_and_clauses() {
        let src = "if ($a)\n{\n  A\n}\nelseif ($b) {\n B\n}\nELSE\n{\n C\n}\ntry {\n x\n}\ncatch [System.Exception] {\n y\n}\nFinally { z }\ndo {\n d\n}\nwhile ($w)\nfunction F\n{\n f\n}\nZ\n";
        assert_eq!(cut_lines(src), Some(vec![11, 18, 22, 26]));
        // `while` after a finished statement is a loop of its own.
        assert_eq!(cut_lines("A\nwhile ($x) { b }\nc\n"), Some(vec![1, 2]));
    }

    #[test]
    fn strings_here_strings_and_comments_hold_no_cuts() {
        let src = "$h = @'\n}\n# not a comment\n'@\n$d = @\"\n{ $(Get-Date) }\n\"@\n<# a\n}\n#>\nA\n'it''s\n}'\n\"a `\" }\n$(B)\"\nC # ( { '\n";
        let lexed = lex(src).unwrap();
        let rows: Vec<usize> = lexed.cuts.iter().map(|c| c.row).collect();
        assert_eq!(rows, vec![4, 10, 11, 13, 15]);
        let texts = |spans: &[Range<usize>]| -> Vec<&str> {
            spans.iter().map(|r| &src[r.clone()]).collect()
        };
        assert_eq!(texts(&lexed.comments), ["<# a\n}\n#>", "# ( { '"]);
        assert_eq!(
            texts(&lexed.quoted),
            [
                "@'\n}\n# not a comment\n'@",
                "'it''s\n}'",
                "\"a `\" }\n",
                "\""
            ]
        );
    }

    #[test]
    fn data_is_comments_and_strings_outside_subexpressions() {
        let src = "Write-Host 'a' \"b $(tool1) c\" # tool2\n& 'tool3' x\n. \"$root\\tool4.ps1\"\niex \"g`wmi\"\n";
        let lexed = lex(src).unwrap();
        let texts: Vec<&str> = lexed.quoted.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(texts, ["'a'", "\"b ", " c\"", "\"g`wmi\""]);
        let joins: Vec<&str> = lexed.joins.iter().map(|&j| &src[j..j + 4]).collect();
        assert!(joins.contains(&"\"g`w"), "{joins:?}");
        assert!(may_run_code("IEX $x") && may_run_code("C:\\x\\PowerShell.exe -c 'a'"));
        assert!(may_run_code("$sb = [ScriptBlock]::Create('a')"));
        assert!(!may_run_code("Start-Sleep 1; Write-Host 'sshd'"));
    }

    #[test]
    fn pipelines_splatting_and_long_blocks() {
        let src = "$p = @{\n  Path = 'x'\n  Recurse = $true\n}\nGet-ChildItem @p |\n  Where-Object {\n    $_.Length -gt 1\n  } |\n  ForEach-Object { $_ }\nGet-A\n| Sort-Object\nGet-B\n";
        assert_eq!(cut_lines(src), Some(vec![4, 9, 11]));
    }

    #[test]
    fn a_byte_order_mark_is_a_blank() {
        let src = "\u{feff}<#\n{ (\n#>\nGet-A\u{a0}-x\nGet-B\n";
        let lexed = lex(src).unwrap();
        assert_eq!(lexed.cuts.iter().map(|c| c.row).collect::<Vec<_>>(), [4]);
        assert_eq!(&src[lexed.comments[0].clone()], "<#\n{ (\n#>");
    }

    #[test]
    fn crlf_gives_the_same_cuts() {
        let src = "if ($a) {\n  A `\n   -x\n}\nelse { B }\n$s = @'\nC\n'@\nD\n";
        let crlf = src.replace('\n', "\r\n");
        assert_eq!(cut_lines(src), Some(vec![5, 8]));
        assert_eq!(cut_lines(&crlf), cut_lines(src));
    }

    #[test]
    fn doubt_gives_up() {
        for src in [
            "Get-A (\n",             // unclosed
            "Write-Host a'b (c'\n",  // a quote inside a word, not plain
            "Write-Host a{b\n}\n",   // a brace inside an argument
            "$x = @'\n'@\n",         // a here-string the grammar cannot read
            "$x = @' text\nA\n'@\n", // text after the opening mark
            "Write-Host x#(\n",      // `#` after a word, then a parenthesis
            "'unterminated\n",
            "Enter-PSSession srv\nGet-A\n", // the rest runs remotely
            "$sb = { A }\nInvoke-Command -ComputerName h -ScriptBlock $sb\n",
            "$p = @{ ComputerName = 'h' }\nicm @p { A }\n",
            "$s = New-PSSession h\nInvoke-Command -Session $s { A }\n",
            "$b = [ScriptBlock ]::Create('A')\nInvoke-Command h $b\n",
            "$p += @{ ScriptBlock = { A } }\nInvoke-Command @p -ComputerName h\n",
        ] {
            assert_eq!(cut_lines(src), None, "{src:?}");
        }
        // Without a kept block, `Invoke-Command` is a statement like another.
        assert!(cut_lines("Invoke-Command -ComputerName h { A }\nB\n").is_some());
        assert!(cut_lines("# Enter-PSSession h\n$p = @{ a = 1 }\nicm h { A }\n").is_none());
        assert!(cut_lines("# Enter-PSSession h\n$p = @{ a = 1 }\nA\n").is_some());
    }

    #[test]
    fn cuts_are_statement_boundaries_for_the_grammar() {
        // Every stretch between cuts parses alone without error (a program needs a statement
        // after its `param` block).
        let src = include_str!("../../examples/windows-legacy/user-audit.ps1");
        let lexed = lex(src).expect("the example is cut");
        assert!(lexed.cuts.len() > 5);
        let mut bounds = vec![0];
        bounds.extend(lexed.cuts.iter().map(|c| c.offset));
        bounds.push(src.len());
        for w in bounds.windows(2) {
            let part = &src[w[0]..w[1]];
            let part = format!("{part}\n1\n");
            let text = crate::script::powershell::patch_ps7(&part);
            let tree = crate::script::powershell_tree(text.as_deref().unwrap_or(&part));
            assert!(!tree.root_node().has_error(), "{part:?}");
        }
        assert!(!parse(src, Language::PowerShell).commands.is_empty());
    }

    #[test]
    fn any_input_is_handled_without_panicking() {
        let tokens = [
            "a", " ", "\n", "'", "\"", "$(", "(", ")", "@'", "'@", "@\"", "\"@", "{", "}", "if",
            "else", "#", "<#", "#>", "`", "${", "[", "]", "|", "&", "$", "-x", "=", "\r\n", "do",
        ];
        for src in crate::script::token_soups(&tokens, 3000, 30, 0x2545_f491_4f6c_dd1d) {
            if let Some(lexed) = lex(&src) {
                for c in lexed.cuts {
                    assert!(c.offset > 0 && c.offset < src.len());
                    assert_eq!(src.as_bytes()[c.offset - 1], b'\n');
                    assert_eq!(src[..c.offset].matches('\n').count(), c.row);
                }
            }
        }
    }

    #[test]
    fn a_command_name_with_a_backtick_is_a_join() {
        // The walk reads `Get-LocalUser`; the engine joins the word for the prefilter.
        for (src, word) in [
            ("Get-Date\nGet-Local`User -Name x\n", "Get-Local`User"),
            ("Get-Date | Sort-Obj`ect\n", "Sort-Obj`ect"),
            ("if ($x) { Get-Local`User }\n", "Get-Local`User"),
            ("& G`et-WmiObject x\n", "G`et-WmiObject"),
        ] {
            let lexed = lex(src).expect(src);
            let at = src.find(word).unwrap();
            assert!(lexed.joins.contains(&at), "{src:?}: {:?}", lexed.joins);
        }
        // A backtick in an argument, or continuing a line, names nothing.
        let src = "Write-Host a`$b\nGet-ChildItem `\n  -Recurse\nGet-Date\n";
        assert_eq!(cut_lines(src), Some(vec![1, 3]));
    }

    /// PowerShell written to trip a statement lexer: block comments, here-strings holding `}`
    /// and `#`, clauses on their own lines, `do`/`until`, pipelines and continuations over
    /// lines, splatting, classes, executed strings, and default-library commands in each.
    const TRICKY_PS: &str = r#"#Requires -Version 2.0
<#
.SYNOPSIS
  Get-WmiObject in a block comment } { ( it's
#>
[CmdletBinding()]
param(
    [string]$Server = 'srv01',
    [int]$Days = 30
)
# Get-LocalUser in a comment; it's "only" a comment {
$ErrorActionPreference = 'Stop'
$text = @'
Get-WmiObject Win32_OS } # not code
'@
$doc = @"
Computer: $(Get-CimInstance Win32_ComputerSystem | Select-Object -ExpandProperty Name)
Invoke-WebRequest is text here { (
"@
$users = Get-LocalUser |
    Where-Object { $_.Enabled } |
    ForEach-Object {
        $_.Name
    }
if ($PSVersionTable.PSVersion.Major -ge 5)
{
    Compress-Archive -Path C:\logs -DestinationPath C:\logs.zip
}
elseif ($x) {
    Expand-Archive x.zip
}
else
{
    gwmi Win32_Service
}
try {
    $r = Invoke-WebRequest -Uri 'https://example.invalid' -UseBasicParsing
}
catch [System.Net.WebException] {
    Write-Warning "failed: $($_.Exception.Message)"
}
finally {
    Remove-Item $tmp -ErrorAction SilentlyContinue
}
do {
    $n++
} while ($n -lt 3)
do
{
    Start-Sleep 1
}
until ($done)
function Get-Thing
{
    param($Name)
    Get-EventLog -LogName System -Newest 5
}
function Set-Thing($a) { ConvertFrom-Json $a }
Get-ChildItem C:\logs -File `
    -Recurse |
    Remove-Item
$params = @{
    Path = 'C:\x'
    Recurse = $true
}
Get-ChildItem @params
$h = @{ a = 1; b = @(1, 2,
  3) }
$list = @(
    'Get-LocalUser'
    "gwmi"
)
$s = 'it''s Get-WmiObject'
$d = "a `"quoted`" Get-LocalUser $($env:COMPUTERNAME) x"
$x = $a -and
    $b
$y = 1 +
    2
Write-Host ('{0}' -f (Get-Date))
& 'Get-LocalUser'
& "C:\Windows\System32\wbem\wmic.exe" os get caption
iex 'Get-WmiObject Win32_BIOS'
Invoke-Expression "Get-LocalGroup"
powershell -NoProfile -Command "Get-LocalUser"
cmd /c "wmic os get caption"
Start-Process 'wmic' -ArgumentList 'os get caption'
$sb = [scriptblock]::Create('Get-LocalUser')
'Get-LocalUser -Name x' | iex
Write-Output "Get-WmiObject Win32_OS" | Invoke-Expression
$v = if ($a) { 'x' } else { 'y' }
switch -Regex ($name)
{
    '^a' { Get-LocalUser }
    default { 'none' }
}
foreach ($f in Get-ChildItem) {
    $f | Get-FileHash
}
for ($i = 0; $i -lt 3; $i++) { New-TemporaryFile }
while ($true) { break }
trap { Write-Host 'trapped'; continue }
$obj = [pscustomobject]@{
    Name = 'x'
}
Get-Process | ? { $_.CPU -gt 10 } | % { $_.Name }
Get-Item . | Select-Object Name, Length
$a = $b ?? 'default'
$c = $ok ? 'yes' : 'no'
Get-Service -ComputerName srv01
Test-Path C:\x && Write-Host ok
Get-Content log.txt -Tail 10
$PSScriptRoot
$r = Resolve-DnsName example.com  # a comment with ( { '
Write-Host a#b
1..10 | ForEach-Object -Parallel { Get-LocalUser }
class Foo {
    [string]$Name
    Foo() { $this.Name = (Get-ComputerInfo).CsName }
}
enum Color { Red; Green }
Get-ChildItem -Path "C:\Program Files" -Filter *.log
Write-Output "multi
line Get-LocalUser string"
iex "g`wmi Win32_BIOS"
Get-Wmi`Object Win32_OS
G`et-WmiObject Win32_BIOS
& Get-Wmi`Object Win32_Service
Write-Host x
& Get-CimInstance Win32_OS
$list | Where-Object Name -eq 'x'
Get-Content x.bin -Encoding Byte
wmic os get caption
"#;

    /// Remote blocks with nothing kept in variables: cut like the rest.
    const REMOTE_PS: &str = "Get-Date\nInvoke-Command -ComputerName srv02 -ScriptBlock {\n    Get-LocalUser\n}\nicm srv03 { gwmi Win32_OS }\nWrite-Host done\nGet-LocalGroup\n";

    fn powershell_scripts() -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, text) in crate::script::repository_scripts(&["ps1", "psm1"]) {
            if text.contains("Enter-PSSession") {
                // Everything after it runs remotely: not cut. Without the sessions, it is.
                assert!(lex(&text).is_none(), "{path}");
                let text: String = text
                    .split_inclusive('\n')
                    .filter(|l| !l.contains("PSSession") && !l.contains("$session"))
                    .collect();
                out.push((format!("{path} without sessions"), text));
                continue;
            }
            out.push((path, text));
        }
        assert!(out.len() >= 4, "PowerShell scripts found: {}", out.len());
        out.push(("tricky".into(), TRICKY_PS.to_string()));
        out.push(("tricky, CRLF".into(), TRICKY_PS.replace('\n', "\r\n")));
        out.push(("remote".into(), REMOTE_PS.to_string()));
        out.push((
            "os checks".into(),
            super::super::powershell::OS_CHECKS.to_string(),
        ));
        out.push((
            "ending checks".into(),
            super::super::powershell::ENDING_CHECKS.to_string(),
        ));
        out.push((
            "version checks".into(),
            super::super::powershell::VERSION_CHECKS.to_string(),
        ));
        out.push((
            "requires".into(),
            super::super::powershell::REQUIRES.to_string(),
        ));
        out
    }

    fn whole_and_sparse(
        src: &str,
        target: Option<&str>,
        idx: &crate::engine::PatternIndex,
    ) -> (
        Vec<crate::engine::Finding>,
        Option<Vec<crate::engine::Finding>>,
    ) {
        let ps = Language::PowerShell;
        let dirs = crate::engine::directives::Directives::parse(src, ps);
        let whole = parse(src, ps);
        let findings = |p: &crate::script::Parsed| {
            crate::engine::scan_parsed(src, p, &dirs, target, idx).findings
        };
        let sparse = crate::engine::scan::parse_sparse(src, ps, target, idx).map(|p| findings(&p));
        (findings(&whole), sparse)
    }

    #[test]
    fn sparse_parsing_finds_what_a_whole_parse_finds() {
        let library =
            crate::engine::PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        assert!(library.prefilter(Language::PowerShell).is_some());
        for (name, src) in powershell_scripts() {
            for target in [
                None,
                Some("powershell-2.0"),
                Some("windows-server-2008-r2"),
                Some("windows-server-2012-r2"),
            ] {
                let (whole, sparse) = whole_and_sparse(&src, target, &library);
                let sparse = sparse.unwrap_or_else(|| panic!("{name} was not cut"));
                assert_eq!(sparse, whole, "{name} for {target:?}");
            }
            let ps = Language::PowerShell;
            let all = parse(&src, ps).commands;
            for c in crate::engine::scan::parse_sparse(&src, ps, None, &library)
                .unwrap()
                .commands
            {
                assert!(all.contains(&c), "{name}: {c:?}");
            }
        }
        let (whole, _) = whole_and_sparse(TRICKY_PS, None, &library);
        // Names with backticks, after `&` too, are found (and found sparse, above).
        let found: Vec<&str> = whole.iter().map(|f| &TRICKY_PS[f.span.clone()]).collect();
        for name in ["Get-Wmi`Object", "G`et-WmiObject", "Get-CimInstance"] {
            assert!(
                found.iter().filter(|f| f.starts_with(name)).count() >= 1,
                "{name}: {found:?}"
            );
        }
        assert_eq!(
            found
                .iter()
                .filter(|f| f.starts_with("Get-Wmi`Object"))
                .count(),
            2
        );
        assert!(
            whole.len() >= 30,
            "the tricky script exercises the library: {}",
            whole.len()
        );
        // The tricky script is cut into many stretches, not kept whole.
        assert!(lex(TRICKY_PS).unwrap().cuts.len() >= 50);
    }

    #[test]
    fn sparse_parsing_skips_what_cannot_match_and_keeps_its_findings() {
        let idx =
            crate::engine::PatternIndex::build(crate::synthetic::patterns(2000, 1), vec![], vec![]);
        let src = crate::synthetic::powershell_script(3000, 2000, 3);
        for src in [src.clone(), src.replace('\n', "\r\n")] {
            let (whole, sparse) = whole_and_sparse(&src, None, &idx);
            assert!(whole.len() > 300, "{}", whole.len());
            assert_eq!(sparse.expect("the synthetic script is cut"), whole);
        }
        let parsed =
            crate::engine::scan::parse_sparse(&src, Language::PowerShell, None, &idx).unwrap();
        let all = parse(&src, Language::PowerShell);
        // Not only the findings: every command of the stretches parsed is the whole parse's.
        for c in &parsed.commands {
            assert!(all.commands.contains(c), "{c:?}");
        }
        assert!(
            parsed.commands.len() * 10 < all.commands.len() * 8,
            "{} of {} commands parsed",
            parsed.commands.len(),
            all.commands.len()
        );
        // `scan` itself takes the sparse path on a file this large, over several threads.
        assert!(src.len() > 128 * 1024);
        let dirs = crate::engine::directives::Directives::parse(&src, Language::PowerShell);
        let expected = crate::engine::scan_parsed(&src, &all, &dirs, Some("powershell-5.1"), &idx);
        assert_eq!(
            crate::engine::scan(&src, Language::PowerShell, Some("powershell-5.1"), &idx),
            expected
        );
    }

    #[test]
    fn an_alias_keeps_the_statement_of_its_cmdlet() {
        let mut wmi = crate::engine::Pattern::new(
            "wmi",
            crate::engine::PatternType::CommandCompatibility,
            "gone in 7",
            "Get-WmiObject is gone",
        );
        wmi.triggering_commands = vec!["Get-WmiObject".into()];
        let idx = crate::engine::PatternIndex::build(vec![wmi], vec![], vec![]);
        let src = "Get-Date\nWrite-Host a\nGWMI Win32_OS\nGet-Date\nC:\\x\\Get-WmiObject.EXE\n";
        let (whole, sparse) = whole_and_sparse(src, None, &idx);
        assert_eq!(whole.len(), 2);
        assert_eq!(sparse, Some(whole));
    }

    #[test]
    fn runs_code_names_every_command_the_walk_runs_code_through() {
        // Every name-like string literal of the walk is a name it may special-case.
        let names = crate::script::walk_names(include_str!("powershell.rs"));
        assert!(
            names.len() > 40 && names.iter().any(|n| n == "invoke-expression"),
            "{names:?}"
        );
        let shapes = [
            "N 'tool5 -x'",
            "N \"tool5 -x\"",
            "N -Command 'tool5 -x'",
            "N -c 'tool5 -x'",
            "N /c 'tool5 -x'",
            "N -e 'tool5 -x'",
            "N a 'tool5 -x'",
            "N -ComputerName a 'tool5 -x'",
            "N \\\\a 'tool5 -x'",
            "N -FilePath 'tool5' -ArgumentList 'x'",
            "N @'\ntool5 -x\n'@",
            "'tool5 -x' | N",
            "$x = [N]::Create('tool5 -x')",
            "$x = [N]::New('tool5 -x')",
        ];
        // Covered is what the sparse path's own test says is covered (`Automation.ScriptBlock`
        // is found through `scriptblock`); `tool5` is the probe.
        for name in names.iter().filter(|n| !may_run_code(n) && *n != "tool5") {
            for shape in shapes {
                let src = shape.replace('N', name) + "\n";
                let found = parse(&src, Language::PowerShell);
                assert!(
                    !found
                        .commands
                        .iter()
                        .any(|c| c.name.eq_ignore_ascii_case("tool5")),
                    "the walk runs quoted code through `{name}` ({src:?}): add it to RUNS_CODE"
                );
            }
        }
        // The list is no wider than the walk: each entry runs a quoted `tool5` in some shape.
        for name in RUNS_CODE {
            let runs = shapes.iter().any(|shape| {
                let src = shape.replace('N', name) + "\n";
                parse(&src, Language::PowerShell)
                    .commands
                    .iter()
                    .any(|c| c.name.eq_ignore_ascii_case("tool5"))
            });
            assert!(runs, "`{name}` runs no quoted code in any shape");
        }
    }

    #[test]
    fn only_mid_line_repairs_are_accepted() {
        let tree = crate::script::powershell_tree;
        let whole = |src: &str| {
            let t = tree(src);
            let r = tree_sitter::Range {
                start_byte: 0,
                end_byte: src.len(),
                start_point: tree_sitter::Point::new(0, 0),
                end_point: t.root_node().end_position(),
            };
            confirms(t.root_node(), &[r])
        };
        // `--opt6`: a redirection lacking its `>`, followed by its target on the same line.
        assert!(tree("tool --opt6\n").root_node().has_error());
        assert!(whole("if ($a) {\n    tool1 -Path \"C:\\app\" --opt6\n}\n"));
        // At the end of its range, what follows in the whole file could repair it otherwise
        // (there, `tool --opt6` ⏎ `Get-Date` is an ERROR and an expression `6`).
        assert!(!whole("tool --opt6\n"));
        assert!(!whole("tool --opt6\nGet-Date\n"));
        // A token missing where the line ends, or text the grammar cannot place.
        assert!(!whole("if ($a) {\n"));
        assert!(!whole("Get-Date )\n"));
        assert!(whole("Get-Date\n"));
    }

    /// Statements to shuffle: each whole, some that the library matches, some it does not.
    const SNIPPETS: &[&str] = &[
        "Get-Date\n",
        "Get-LocalUser | Select-Object Name\n",
        "$x = 1 +\n    2\n",
        "if ($a) {\n    gwmi Win32_OS\n}\n",
        "if ($a) { 'x' }\nelse {\n    Get-LocalGroup\n}\n",
        "try {\n    Invoke-WebRequest -Uri $u\n}\ncatch {\n    Write-Warning $_\n}\nfinally { 'done' }\n",
        "do {\n    $n++\n}\nwhile ($n -lt 3)\n",
        "# Get-WmiObject in a comment (\n",
        "<#\nGet-LocalUser }\n#>\n",
        "$t = @'\nGet-LocalUser { (\n'@\n",
        "$t = @\"\n$(Get-CimInstance Win32_OS) }\n\"@\n",
        "Write-Host 'Get-LocalUser' \"$(Get-EventLog -List)\"\n",
        "iex 'Get-WmiObject Win32_BIOS'\n",
        "& 'Get-LocalUser'\n",
        "Get-ChildItem C:\\x -File `\n    -Recurse\n",
        "Get-Process |\n    Where-Object { $_.CPU -gt 1 } |\n    ForEach-Object {\n        $_.Name\n    }\n",
        "$p = @{\n    Path = 'x'\n}\n",
        "function F\n{\n    param($a)\n    ConvertFrom-Json $a\n}\n",
        "switch ($x)\n{\n    'a' { Compress-Archive a b }\n    default { }\n}\n",
        "$v = $a ?? 'b'\n",
        "Test-Path x && Write-Host y\n",
        "$c = $ok ? 'y' : 'n'\n",
        "1..3 | ForEach-Object -Parallel { Get-LocalUser }\n",
        "tool --opt6\n",
        "if ($a) {\n    tool1 -Path \"C:\\app\" --opt6\n}\n",
        "Get-Item . | Select-Object Name, Length\n",
        "$obj = [pscustomobject]@{ Name = 'x' }\n",
        "foreach ($f in $files) {\n    $f | Get-FileHash\n}\n",
        "cmd /c \"wmic os get caption\"\n",
        "powershell -Command \"Get-LocalUser\"\n",
        "$s = 'it''s\nGet-LocalUser'\n",
        "Write-Output \"multi\nline $(gwmi Win32_OS)\"\n",
        "$y = $a -and\n    $b\n",
        "[int]$n = 5\n",
        "Get-Content log -Tail 5 # tail ( {\n",
        "wmic os get caption\n",
        "\n",
        "    \n",
        "Invoke-Command -ComputerName h { Get-LocalUser }\n",
        "class C {\n    [string]$N\n    C() { Get-ComputerInfo }\n}\n",
        "Get-Service -ComputerName srv\n",
        "$r = Resolve-DnsName x; Get-NetAdapter\n",
    ];

    #[test]
    fn shuffled_statements_parse_the_same_sparse_and_whole() {
        let library =
            crate::engine::PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let synthetic =
            crate::engine::PatternIndex::build(crate::synthetic::patterns(500, 1), vec![], vec![]);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut cut = 0;
        let rounds: usize = std::env::var("PS_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(150);
        for round in 0..rounds {
            let mut src = String::new();
            for _ in 0..(10 + next(30)) {
                src.push_str(SNIPPETS[next(SNIPPETS.len())]);
            }
            if round % 3 == 0 {
                src = src.replace('\n', "\r\n");
            }
            // The library keeps most statements here, the synthetic store few (operations).
            let idx = if round % 2 == 0 { &library } else { &synthetic };
            // A target makes hits of patterns for other systems count only in remote code.
            let target =
                [None, Some("powershell-7"), Some("windows-server-2012-r2")][(round / 2) % 3];
            let (whole, sparse) = whole_and_sparse(&src, target, idx);
            let Some(sparse) = sparse else { continue };
            cut += 1;
            assert_eq!(sparse, whole, "{src}");
            let all = parse(&src, Language::PowerShell).commands;
            for c in crate::engine::scan::parse_sparse(&src, Language::PowerShell, target, idx)
                .unwrap()
                .commands
            {
                assert!(all.contains(&c), "{c:?} in\n{src}");
            }
        }
        eprintln!("{cut} of {rounds} cut");
        assert!(cut * 2 >= rounds, "{cut} of {rounds} cut");
    }

    /// Sparse and whole parses agree on every PowerShell script of this machine (not in CI: the
    /// corpus depends on the machine).
    /// `cargo test --release --lib sparse_ps::tests::machine -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn machine_scripts_parse_the_same_sparse_and_whole() {
        let library =
            crate::engine::PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let synthetic =
            crate::engine::PatternIndex::build(crate::synthetic::patterns(3000, 1), vec![], vec![]);
        let (mut files, mut cut, mut differ) = (0, 0, Vec::new());
        for root in ["/usr", "/root", "/opt", "/etc"] {
            for entry in ignore::WalkBuilder::new(root)
                .hidden(false)
                .build()
                .flatten()
            {
                let path = entry.path();
                if !path.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("ps1") || e.eq_ignore_ascii_case("psm1")
                }) {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                files += 1;
                for (idx, target) in [(&library, None), (&synthetic, Some("powershell-5.1"))] {
                    let (whole, sparse) = whole_and_sparse(&text, target, idx);
                    let Some(sparse) = sparse else {
                        eprintln!("not cut: {}", path.display());
                        continue;
                    };
                    cut += 1;
                    if sparse != whole {
                        differ.push(path.display().to_string());
                    }
                }
            }
        }
        eprintln!(
            "{files} scripts, {cut} sparse scans, {} differ: {differ:?}",
            differ.len()
        );
        assert!(differ.is_empty());
    }
}
