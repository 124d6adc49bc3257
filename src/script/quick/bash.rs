//! The bash reader of [`super`]: ordinary bash statements without tree-sitter.
//!
//! It reads lists of simple commands (`a | b && c; d &`), their leading assignments
//! (`A=1 b`, `out="$(b)"`), redirects to files or descriptors, and words made of plain
//! characters, single-quoted text, double-quoted text with `$NAME`, `${NAME}` and `$(…)`, and
//! command substitutions of the same grammar on one line. For those the walk's answer is only
//! each command's name and text (no wrapper to see through, no guard, no executed string) and
//! the code between comments and quoted text, which is what it gives here.
//!
//! Everything else is declined: keywords and compound commands, a name that runs code or sends
//! it elsewhere (the wrappers, shells, `ssh`, `eval`, …), a name that looks another up or tests
//! (a guard), declarations, escapes and backquotes, heredocs, arithmetic, process
//! substitution, globs or braces in a name, a `\r` or non-ASCII byte, and a comment after an
//! operator.

use std::ops::Range;

use crate::script::bash::{code_spans, RUNS_CODE};
use crate::script::os::Passed;
use crate::script::{command_name, make_command, CodeRegion, Language, OffsetMap, Parsed};

/// Adds what the top-level statements of `span` of `src` hold to `out`, as the tree-sitter
/// walk would, and returns true; false when not sure of all of it (the caller undoes any
/// partial output).
pub(crate) fn read(src: &str, span: Range<usize>, passed: &Passed, out: &mut Parsed) -> bool {
    let mut reader = Reader {
        src,
        b: src.as_bytes(),
        pos: span.start,
        end: span.end.min(src.len()),
        holes: Vec::new(),
        passed,
        base: OffsetMap::starting_at(0),
        out,
        words: Vec::new(),
        depth: 0,
        late_expansion: false,
    };
    if reader.statements().is_none() {
        return false;
    }
    reader.regions(span.start);
    true
}

struct Reader<'a, 'o> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    /// What is no code, as the walk's holes: comments, single-quoted text (quotes included),
    /// the literal text of double-quoted strings.
    holes: Vec<Range<usize>>,
    passed: &'a Passed,
    base: OffsetMap,
    out: &'o mut Parsed,
    words: Vec<Range<usize>>,
    /// How many lists enclose the one being read.
    depth: usize,
    /// The last word read holds an expansion after its first piece, outside double quotes.
    late_expansion: bool,
}

/// The deepest nesting read (scripts nest a handful deep).
const MAX_DEPTH: usize = 32;

/// What stopped a list: the end of the line (or of the stretch), or a `)` closing a
/// substitution.
#[derive(PartialEq, Eq)]
enum Stop {
    Line,
    Paren,
}

impl Reader<'_, '_> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.b[self.pos])
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        let at = self.pos + ahead;
        (at < self.end).then(|| self.b[at])
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Top-level statements, blank lines and comment lines, to the end of the stretch.
    fn statements(&mut self) -> Option<()> {
        self.block(&[])?.0.is_empty().then_some(())
    }

    /// Statements, blank lines and comments up to one of the reserved words `ends` where a
    /// command would start (read, and returned), or with no `ends`, to the end of the stretch
    /// (`""`); with how many statements there were.
    fn block(&mut self, ends: &[&'static str]) -> Option<(&'static str, usize)> {
        let mut statements = 0;
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return ends.is_empty().then_some(("", statements)),
                Some(b'\n') => self.pos += 1,
                Some(b'#') => self.comment()?,
                Some(_) => {
                    if let Some(word) = self.reserved_here() {
                        if let Some(end) = ends.iter().find(|e| **e == word) {
                            self.pos += word.len();
                            return Some((end, statements));
                        }
                    }
                    if self.list(Stop::Line)? == Stop::Paren {
                        return None;
                    }
                    statements += 1;
                }
            }
        }
    }

    /// The reserved word (or `{`, `}`, `!`, `[[`) that starts here as a whole word, if any.
    fn reserved_here(&self) -> Option<&'static str> {
        const RESERVED: &[&str] = &[
            "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until",
            "do", "done", "function", "in", "coproc", "{", "}", "!", "[[", "]]",
        ];
        let rest = &self.b[self.pos..self.end];
        let len = rest
            .iter()
            .position(|c| {
                matches!(
                    c,
                    b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
                )
            })
            .unwrap_or(rest.len());
        let word = std::str::from_utf8(&rest[..len]).ok()?;
        RESERVED.iter().find(|r| **r == word).copied()
    }

    /// A comment from `#` to the end of the line; only after a blank or at a line start, where
    /// bash and the grammar agree it is one.
    fn comment(&mut self) -> Option<()> {
        let prev = self.pos.checked_sub(1).map(|i| self.b[i]);
        if !matches!(prev, None | Some(b' ' | b'\t' | b'\n')) {
            return None;
        }
        let start = self.pos;
        let line_end =
            memchr::memchr(b'\n', &self.b[start..self.end]).map_or(self.end, |i| start + i);
        let text = &self.b[start..line_end];
        if text.iter().any(|&c| c == b'\r' || !c.is_ascii()) {
            return None;
        }
        self.holes.push(start..line_end);
        self.pos = line_end;
        Some(())
    }

    /// Commands joined by `|`, `&&`, `||`, `;` and `&`, up to the end of the line (after a
    /// trailing comment) or, in a substitution, up to its `)`. Every nesting (a substitution,
    /// a compound command's block) passes here: deeper than [`MAX_DEPTH`] is declined, as the
    /// reader recurses and a thread's stack is small (`$(` a thousand deep overflowed 2 MB).
    fn list(&mut self, stop: Stop) -> Option<Stop> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let read = self.list_inner(stop);
        self.depth -= 1;
        read
    }

    fn list_inner(&mut self, stop: Stop) -> Option<Stop> {
        let mut piped = false;
        loop {
            self.command(&stop, piped)?;
            piped = false;
            self.skip_blanks();
            match (self.peek(), self.peek_at(1)) {
                (Some(b'|'), Some(b'|')) | (Some(b'&'), Some(b'&')) => {
                    self.pos += 2;
                    self.continuation(&stop)?;
                }
                (Some(b'|'), next) => {
                    if next == Some(b'&') {
                        return None;
                    }
                    self.pos += 1;
                    self.continuation(&stop)?;
                    piped = true;
                }
                (Some(b';' | b'&'), next) => {
                    if matches!(next, Some(b';' | b'&' | b'>' | b'|')) {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_blanks();
                    if stop == Stop::Line
                        && self
                            .reserved_here()
                            .is_some_and(|w| TERMINATORS.contains(&w))
                    {
                        return Some(Stop::Line);
                    }
                    match self.peek() {
                        None | Some(b'\n') if stop == Stop::Line => return Some(Stop::Line),
                        Some(b')') if stop == Stop::Paren => return Some(Stop::Paren),
                        Some(b'#') if stop == Stop::Line => {
                            self.comment()?;
                            return Some(Stop::Line);
                        }
                        _ => {}
                    }
                }
                (None | Some(b'\n'), _) if stop == Stop::Line => return Some(Stop::Line),
                (Some(b'#'), _) if stop == Stop::Line => {
                    self.comment()?;
                    return Some(Stop::Line);
                }
                (Some(b')'), _) if stop == Stop::Paren => return Some(Stop::Paren),
                _ => return None,
            }
        }
    }

    /// After `|`, `&&` or `||`: blanks, and at the top level line breaks, before the next command.
    fn continuation(&mut self, stop: &Stop) -> Option<()> {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') if *stop == Stop::Line => self.pos += 1,
                Some(b'\n' | b'#' | b')' | b';' | b'&' | b'|') | None => return None,
                Some(_) => return Some(()),
            }
        }
    }

    /// One command: a compound command (at the top level), a function definition, `[ -f x ]`,
    /// a declaration (not `piped` into), or a simple command: assignments, then a name and its
    /// words and redirects (at least one assignment or a name).
    fn command(&mut self, stop: &Stop, piped: bool) -> Option<()> {
        self.skip_blanks();
        if let Some(word) = self.reserved_here() {
            if *stop != Stop::Line {
                return None;
            }
            match word {
                "if" => self.if_clause()?,
                "for" => self.for_clause()?,
                "while" | "until" => {
                    self.pos += word.len();
                    self.nonempty(&["do"])?;
                    self.nonempty(&["done"])?;
                }
                "{" => {
                    self.pos += 1;
                    self.nonempty(&["}"])?;
                }
                "function" => {
                    self.pos += word.len();
                    self.skip_blanks();
                    self.function_name()?;
                    self.skip_blanks();
                    if self.b[self.pos..self.end].starts_with(b"()") {
                        self.pos += 2;
                    }
                    self.function_body()?;
                }
                _ => return None,
            }
            // `done < file`, `fi | sort`, `} > log`: the walk hangs what follows on the
            // compound; not read here.
            self.skip_blanks();
            let pipe = self.peek() == Some(b'|') && self.peek_at(1) != Some(b'|');
            return (!pipe && !self.at_redirect() && !self.at_word_start()).then_some(());
        }
        // `name() { …; }`
        let save = self.pos;
        if *stop == Stop::Line && self.function_name().is_some() {
            self.skip_blanks();
            if self.b[self.pos..self.end].starts_with(b"()") {
                self.pos += 2;
                self.function_body()?;
                self.skip_blanks();
                return (!self.at_redirect() && !self.at_word_start() && self.peek() != Some(b'|'))
                    .then_some(());
            }
        }
        self.pos = save;
        let mut assigned = false;
        loop {
            self.skip_blanks();
            if !self.at_assignment() {
                break;
            }
            // The value: a word, or nothing (`x=`).
            let eq = self.pos + self.b[self.pos..self.end].iter().position(|&c| c == b'=')?;
            self.pos = eq + 1;
            if self.at_word_start() {
                self.word()?;
                // An expansion after the value's first piece, outside double quotes: in a
                // statement of assignments only, the grammar may end the value at its `$` and
                // read what follows as a command (`x=a'b'$1` runs `1`, `x=$a/$b/` runs `b/`).
                if self.late_expansion {
                    return None;
                }
            } else if !matches!(self.peek(), None | Some(b' ' | b'\t' | b'\n')) {
                // The grammar's empty value is one before a blank or a line end only
                // (`$(x=)` is an error).
                return None;
            }
            assigned = true;
        }
        self.skip_blanks();
        if self.peek() == Some(b'[') && !assigned {
            return self.test();
        }
        if self.at_redirect() || !self.at_word_start() {
            // A redirect before the name, or no name: only assignments are read.
            return (assigned && !self.at_redirect()).then_some(());
        }
        let name = self.word()?;
        // One buffer for every command's words (a substitution in a word takes its own).
        let mut words = std::mem::take(&mut self.words);
        words.clear();
        words.push(name.clone());
        let mut end = name.end;
        let mut redirected = false;
        let mut late = false;
        loop {
            self.skip_blanks();
            if self.at_redirect() {
                self.redirect()?;
                end = self.pos;
                redirected = true;
            } else if self.at_word_start() {
                let w = self.word()?;
                end = w.end;
                late |= self.late_expansion;
                // The grammar reads the words after a redirect as more of its destination.
                if !redirected {
                    words.push(w);
                }
            } else {
                break;
            }
        }
        let first = command_name(&self.src[name.clone()], Language::Bash).0;
        if DECLARATIONS.contains(&first) && is_plain_name(&self.src[name.clone()]) {
            // Its own node in the grammar, reported as a command of its first word only.
            // (A redirect is the statement's, outside the declaration's node.)
            self.words = words;
            // Piped into (`{ a | b | local x` + a line with a redirect), the grammar may read
            // the next line as more of the declaration.
            if assigned || redirected || piped || first != &self.src[name.clone()] {
                return None;
            }
            // Each argument starts where an assignment may (`local 1%` is an error), and an
            // empty value is one before a blank or a line end only (`export x=|a` is an error).
            let empty_value = |w: &Range<usize>| {
                self.b[w.clone()].ends_with(b"=")
                    && !matches!(self.b.get(w.end), Some(b' ' | b'\t' | b'\n'))
            };
            if self.words[1..]
                .iter()
                .any(|w| starts_like_variable(&self.b[w.clone()]) || empty_value(w))
            {
                return None;
            }
            self.keyword_command(name.start, name.end, end);
            return Some(());
        }
        let read = self.chain(&words, end, late);
        self.words = words;
        read
    }

    /// Reports the command of `words` (up to `end`) and the commands the wrappers it starts
    /// with run (`sudo -u deploy env A=1 tool`), as the walk's `chain` does for them.
    fn chain(&mut self, words: &[Range<usize>], end: usize, late: bool) -> Option<()> {
        use crate::script::bash::{any_of, is_assignment, options, unquote, SUDO_LONG, SUDO_SHORT};
        let src = self.src;
        let value = |i: usize| words.get(i).and_then(|w| unquote(&src[w.clone()]));
        let skip_assignments = |mut j: usize| {
            while j < words.len() && is_assignment(&src[words[j].clone()]) {
                j += 1;
            }
            j
        };
        let to = words.len();
        let mut from = 0;
        while from < to {
            let w = words[from].clone();
            let word = &src[w.clone()];
            if !is_plain_name(word) {
                return None;
            }
            let name = command_name(word, Language::Bash).0;
            let mut cmd = make_command(src, w.clone(), end, Language::Bash, None, &self.base);
            cmd.guarded = self.passed.proves(&cmd.name, w.start);
            cmd.os = cmd.os & self.passed.at(w.start).0;
            self.out.commands.push(cmd);
            let args = from + 1..to;
            // A word with an expansion after its first piece may be two to the grammar
            // (`sudo x=$a$1` runs `1` to the walk): not for a wrapper, which reads its words.
            if late && WRAPPERS.contains(&name) {
                return None;
            }
            from = match name {
                "sudo" | "doas" => {
                    let (j, seen) = match name {
                        "sudo" => options(value, args, SUDO_SHORT, SUDO_LONG),
                        _ => options(value, args, b"uC", &[]),
                    };
                    if name == "sudo" && any_of(seen, b"elvVK") {
                        return Some(());
                    }
                    let j = skip_assignments(j);
                    // A shell reading its input: not read here.
                    if j >= to && any_of(seen, b"si") {
                        return None;
                    }
                    j
                }
                "env" => skip_assignments(
                    options(value, args, b"uCSP", &["unset", "chdir", "split-string"]).0,
                ),
                "nice" => options(value, args, b"n", &["adjustment"]).0,
                "nohup" | "setsid" => options(value, args, b"", &[]).0,
                "stdbuf" => options(value, args, b"ioe", &["input", "output", "error"]).0,
                "timeout" => options(value, args, b"sk", &["signal", "kill-after"]).0 + 1,
                name if declined(name) => return None,
                _ => return Some(()),
            };
        }
        Some(())
    }

    /// A command the grammar gives its own node (`[ … ]`, `local …`): reported from its first
    /// word to its end, where no guard applies but what the checks that end the script prove.
    fn keyword_command(&mut self, start: usize, name_end: usize, end: usize) {
        let mut cmd = make_command(
            self.src,
            start..name_end,
            end,
            Language::Bash,
            None,
            &self.base,
        );
        cmd.os = self.passed.at(start).0;
        self.out.commands.push(cmd);
    }

    /// `[ -f WORD ]`: a unary test of a file or string, which proves nothing the walk follows
    /// (it follows `-x` and `-n`, and comparisons, which are not read here).
    fn test(&mut self) -> Option<()> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() != Some(b' ') {
            return None;
        }
        self.skip_blanks();
        let op = self.word()?;
        let op = &self.b[op];
        if op.len() != 2
            || op[0] != b'-'
            || !op[1].is_ascii_lowercase()
            || matches!(op[1], b'x' | b'n')
        {
            return None;
        }
        self.skip_blanks();
        // An operand the grammar reads as one (it errs on `[ -f % ]`, `[ -f / ]`, `[ -f ~ ]`,
        // `[ -f ~+ ]`).
        match (self.peek(), self.peek_at(1)) {
            (Some(b'/'), Some(c))
                if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/') => {}
            (Some(b'~'), Some(c)) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/') => {}
            (Some(c), _)
                if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'"' | b'\'' | b'$') => {}
            _ => return None,
        }
        self.word()?;
        self.skip_blanks();
        if self.peek() != Some(b']') {
            return None;
        }
        self.pos += 1;
        self.keyword_command(start, start + 1, self.pos);
        Some(())
    }

    /// `if C; then A; [elif D; then B;] [else E;] fi`, each part holding statements. Reached
    /// only for conditions that prove nothing (every command that proves something is declined).
    fn if_clause(&mut self) -> Option<()> {
        self.pos += 2;
        self.nonempty(&["then"])?;
        loop {
            match self.nonempty(&["elif", "else", "fi"])? {
                "elif" => {
                    self.nonempty(&["then"])?;
                }
                "else" => {
                    self.nonempty(&["fi"])?;
                    return Some(());
                }
                _ => return Some(()),
            }
        }
    }

    /// `for NAME [in WORDS]; do …; done`.
    fn for_clause(&mut self) -> Option<()> {
        self.pos += 3;
        if self.peek() != Some(b' ') {
            return None;
        }
        self.skip_blanks();
        // A variable's name (`for a-b in` is an error).
        let name = self.pos;
        self.function_name()?;
        if self.b[name..self.pos]
            .iter()
            .any(|&c| !c.is_ascii_alphanumeric() && c != b'_')
        {
            return None;
        }
        self.skip_blanks();
        if self.reserved_here() == Some("in") {
            self.pos += 2;
            // At least one word: `for x in; do` is an error to the grammar.
            let mut words = 0;
            loop {
                self.skip_blanks();
                if !self.at_word_start() {
                    break;
                }
                self.word()?;
                words += 1;
            }
            if words == 0 {
                return None;
            }
        }
        match self.peek() {
            Some(b';') if self.peek_at(1) != Some(b';') => self.pos += 1,
            Some(b'\n') => {}
            _ => return None,
        }
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') => self.pos += 1,
                _ => break,
            }
        }
        if self.reserved_here() != Some("do") {
            return None;
        }
        self.pos += 2;
        self.nonempty(&["done"])?;
        Some(())
    }

    /// A block with at least one statement, up to one of `ends`.
    fn nonempty(&mut self, ends: &[&'static str]) -> Option<&'static str> {
        let (end, statements) = self.block(ends)?;
        (statements > 0).then_some(end)
    }

    /// A function's name: letters, digits, `_`, `-`, `.`, `:`.
    fn function_name(&mut self) -> Option<()> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':'))
        {
            self.pos += 1;
        }
        (self.pos > start && (self.b[start].is_ascii_alphabetic() || self.b[start] == b'_'))
            .then_some(())
    }

    /// A function's body: `{ …; }`, possibly on the next line.
    fn function_body(&mut self) -> Option<()> {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') => self.pos += 1,
                _ => break,
            }
        }
        if self.reserved_here() != Some("{") {
            return None;
        }
        self.pos += 1;
        self.nonempty(&["}"]).map(|_| ())
    }

    /// `NAME=` (not `+=`, not an array element).
    fn at_assignment(&self) -> bool {
        let rest = &self.b[self.pos..self.end];
        match rest.first() {
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
            _ => return false,
        }
        let n = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        // `_=1` is a command named `_=1` to the grammar (`_` is a special parameter to it).
        rest.get(n) == Some(&b'=') && &rest[..n] != b"_"
    }

    /// Whether a word starts here (not an operator, a blank, a comment or the end).
    fn at_word_start(&self) -> bool {
        match self.peek() {
            Some(c) => is_plain(c) || matches!(c, b'\'' | b'"' | b'$'),
            None => false,
        }
    }

    /// `[N]>`, `[N]>>`, `[N]<`, `[N]>&N`, `[N]<&N` (a heredoc, a here-string, `<>`, `&>` and
    /// process substitution are declined by [`Self::redirect`] or never reach it).
    fn at_redirect(&self) -> bool {
        let digits = self.b[self.pos..self.end]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        matches!(self.peek_at(digits), Some(b'<' | b'>'))
    }

    fn redirect(&mut self) -> Option<()> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        // One digit at most: the grammar's scanner reads `02>` otherwise in places (`a | b
        // 02>f` is an error to it).
        if self.pos > start + 1 {
            return None;
        }
        let op = self.peek()?;
        self.pos += 1;
        match (op, self.peek()) {
            (b'>', Some(b'>')) => self.pos += 1,
            (b'>' | b'<', Some(b'&')) => {
                // A descriptor (`2>&1`, `2>&1-`) or `-`, right after the operator.
                self.pos += 1;
                if self.peek() == Some(b'-') {
                    // `>&-` is an operator of its own to the grammar, whose destination is one
                    // optional word (`a >&- b c` is an error): only a `>&-` that ends the words.
                    self.pos += 1;
                    let end = self.pos;
                    self.skip_blanks();
                    let destination = self.at_word_start();
                    self.pos = end;
                    return (!destination).then_some(());
                }
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                if self.pos > start && self.peek() == Some(b'-') {
                    self.pos += 1;
                }
                return (self.pos > start && !self.peek().is_some_and(is_plain)).then_some(());
            }
            (b'>' | b'<', Some(b'<' | b'>' | b'(' | b'|')) => return None,
            _ => {}
        }
        self.skip_blanks();
        if self.at_redirect() || !self.at_word_start() {
            return None;
        }
        self.word().map(|_| ())
    }

    /// One word: plain characters, quoted text and expansions with nothing between them.
    fn word(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        let mut late = false;
        // An argument `==` or `=~` is an operator to the grammar, and what follows it a
        // pattern or a regex (for `[ a == b ]`), not a word.
        let rest = &self.b[self.pos..self.end];
        if rest.starts_with(b"==") || rest.starts_with(b"=~") {
            return None;
        }
        while let Some(c) = self.peek() {
            match c {
                b'\'' => {
                    let close = self.b[self.pos + 1..self.end]
                        .iter()
                        .position(|&c| c == b'\'')?;
                    let close = self.pos + 1 + close;
                    if self.b[self.pos..close]
                        .iter()
                        .any(|&c| c == b'\n' || c == b'\r' || !c.is_ascii())
                    {
                        return None;
                    }
                    self.holes.push(self.pos..close + 1);
                    self.pos = close + 1;
                }
                b'"' => self.double_quoted()?,
                b'$' => {
                    late |= self.pos > start;
                    self.expansion()?
                }
                c if is_plain(c) => self.pos += 1,
                // `a#b`, `a{b}`, `a(b)`, … are words whose pieces the grammar may read
                // otherwise; blanks and operators end the word.
                b' ' | b'\t' | b'\n' | b'|' | b'&' | b';' | b')' | b'<' | b'>' => break,
                _ => return None,
            }
        }
        // A word ending in a digit right before `<` or `>`: the grammar's scanner may take the
        // digits for a descriptor (`?2>f`, `-2>f` are errors to it).
        if self.pos > start
            && self.b[self.pos - 1].is_ascii_digit()
            && matches!(self.peek(), Some(b'<' | b'>'))
        {
            return None;
        }
        // Set last, after the words of any substitution inside.
        self.late_expansion = late;
        (self.pos > start).then_some(start..self.pos)
    }

    /// `"…"` with `$NAME`, `${NAME}`, `$(…)` and special parameters: the text between them
    /// is a hole each (the grammar's `string_content`).
    fn double_quoted(&mut self) -> Option<()> {
        self.pos += 1;
        let mut literal = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    self.literal(literal);
                    self.pos += 1;
                    return Some(());
                }
                b'$' => {
                    self.literal(literal);
                    self.expansion()?;
                    literal = self.pos;
                }
                b'\\' | b'`' | b'\n' | b'\r' => return None,
                c if !c.is_ascii() => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// The literal text of a double-quoted string from `from` to here: a hole, unless it is
    /// only blanks (the grammar makes no `string_content` of those).
    fn literal(&mut self, from: usize) {
        if self.b[from..self.pos]
            .iter()
            .any(|&c| c != b' ' && c != b'\t')
        {
            self.holes.push(from..self.pos);
        }
    }

    /// `$NAME`, `${NAME}`, `$(…)` (not `$((`), `$1`, `$@`, `$*`, `$#`, `$?`, `$$`, `$!`.
    fn expansion(&mut self) -> Option<()> {
        self.pos += 1;
        match self.peek()? {
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
            }
            b'{' => {
                self.pos += 1;
                let start = self.pos;
                match self.peek()? {
                    c if c.is_ascii_alphabetic() || c == b'_' => {}
                    _ => return None,
                }
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
                if self.pos == start || self.peek()? != b'}' {
                    return None;
                }
                self.pos += 1;
            }
            b'(' => {
                if self.peek_at(1) == Some(b'(') {
                    return None;
                }
                self.pos += 1;
                self.skip_blanks();
                if self.list(Stop::Paren)? != Stop::Paren {
                    return None;
                }
                self.pos += 1;
            }
            c if c.is_ascii_digit() || matches!(c, b'@' | b'*' | b'#' | b'?' | b'$' | b'!') => {
                self.pos += 1;
                // Followed by a word character the grammar may read one name (`x="$1a"` has no
                // literal `a` to it, `$?x=` reads `$?x`); `$1>f` is `$`, descriptor 1 and `>f`
                // to its scanner (an error); `$$'q'` may be `$` and `$'q'`.
                match self.peek() {
                    Some(n) if n.is_ascii_alphanumeric() || n == b'_' => return None,
                    Some(b'<' | b'>') if c.is_ascii_digit() => return None,
                    Some(b'\'') if c == b'$' => return None,
                    _ => {}
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// The code regions: the stretch but for the holes, through the walk's own
    /// [`code_spans`].
    fn regions(&mut self, start: usize) {
        let code = &mut self.out.code;
        code_spans(self.src, start..self.end, &mut self.holes, |span| {
            code.push(CodeRegion {
                span,
                language: Language::Bash,
                host: None,
                min_powershell: None,
            })
        });
    }
}

/// The wrappers [`Reader::chain`] follows to the command they run.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nice", "nohup", "setsid", "stdbuf", "timeout",
];

/// The reserved words that end a block, after which a list stops.
const TERMINATORS: &[&str] = &["then", "else", "elif", "fi", "do", "done", "}", "esac"];

/// Commands the grammar gives their own node, reported by their first word.
const DECLARATIONS: &[&str] = &["local", "export", "declare", "typeset", "readonly"];

/// A character of a word that is only itself to bash and to the grammar.
fn is_plain(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'_' | b'-'
                | b'.'
                | b'/'
                | b':'
                | b','
                | b'+'
                | b'='
                | b'%'
                | b'@'
                | b'~'
                | b'^'
                | b'*'
                | b'?'
        )
}

/// A command name made of plain characters only, and not an assignment (nor `-`, which the
/// grammar reads otherwise before an assignment or a redirect: `- a=b c` runs `c` to it).
fn is_plain_name(word: &str) -> bool {
    !word.is_empty()
        && word != "-"
        && !word.contains('=')
        && word.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'_' | b'-' | b'.' | b'/' | b':' | b'+' | b'@' | b'%')
        })
        && !starts_like_variable(word.as_bytes())
}

/// Whether tree-sitter-bash's scanner, where an assignment may start (a command's name, a
/// declaration's argument), may take the start of `word` for a variable name: a run of word
/// characters (after one of `*@?-`, which it steps over) followed by `:`, `%`, `@`, `#`, `?`,
/// `[` or `+`. It then errs (`a%b`, `x=1 1:`, `local 1@`) or reads another tree. (Followed
/// by `=` it is one, which a name never is and a declaration reads as the grammar does.)
fn starts_like_variable(word: &[u8]) -> bool {
    let run_then_mark = |from: usize| {
        let rest = word.get(from..).unwrap_or_default();
        let n = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        n > 0
            && matches!(
                rest.get(n),
                Some(b':' | b'%' | b'@' | b'#' | b'?' | b'[' | b'+')
            )
    };
    run_then_mark(0)
        || (matches!(word.first(), Some(b'*' | b'@' | b'?' | b'-')) && run_then_mark(1))
}

/// Names the walk does more with than report: keywords, names that run code or send it to
/// another system, lookups and tests (guards), declarations, and every wrapper it sees through.
fn declined(name: &str) -> bool {
    const MORE: &[&str] = &[
        // keywords
        "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
        "done", "function", "in", "coproc", // lookups and tests
        "type", "hash", "which", "test", "[",
        // declarations (their own nodes in the grammar)
        "declare", "typeset", "local", "export", "readonly", "unset", "unsetenv", "alias",
        "unalias",
        // wrappers and runners `chain` follows that `RUNS_CODE` does not name
        "nsenter", "strace", "ltrace", ".", "let",
    ];
    RUNS_CODE.contains(&name) || crate::script::CHANGES_HOST.contains(&name) || MORE.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::super::assert_reads_as_tree_sitter;
    use crate::script::Language;

    fn agree(name: &str, src: &str) -> (usize, usize) {
        assert_reads_as_tree_sitter(name, src, Language::Bash)
    }

    const EXAMPLES: &[&str] = &[
        include_str!("../../../examples/macos-build/build.sh"),
        include_str!("../../../examples/nas/add-backup-user.sh"),
        include_str!("../../../examples/nas/backup-shares.sh"),
        include_str!("../../../examples/web/deploy.sh"),
        include_str!("../../../examples/web/healthcheck.sh"),
    ];

    /// Statements of every kind the reader reads and of many it must decline.
    const LINES: &[&str] = &[
        "tool1 --opt2 /etc/x.conf",
        "a | b && c || d; e & f",
        "a &&\n  b ||\n\n  c |\n d",
        "out=\"$(tool3 --opt1 \"$dir\" | grep -v '^#' | sort -u)\"",
        "x=1 y='two' z=\"thr $ee\" cmd arg",
        "x= cmd",
        "x=",
        "cmd >> \"$log\" 2>&1 && printf '%s\\n' \"$k\"",
        "cmd 2>/dev/null >&2 <in.txt 1>out",
        "cmd >out arg2",
        "echo 'tool7 is not run here' >> \"$log\"",
        "curl -fsSL \"https://example.invalid/$k\" -o \"/tmp/$k\" && tool9 --opt3 \"/tmp/$k\"",
        "a # a comment",
        "# only a comment",
        "a; # comment after an operator",
        "echo \"${HOME}/x $1 $@ $* $# $? $$ $! done\"",
        "echo \"$(date +%s) and $(uname -r)\" $(id -u)",
        "echo \"\" '' x",
        "/usr/bin/python3 -m venv /opt/v",
        "./run.sh --fast",
        "gzip -9 \"$f\" && echo \"compressed $f\"",
        "ls *.log a?b",
        "make CC=gcc -j4",
        "cmd a=b c=d",
        "cmd;",
        "cmd &",
        "cmd & other",
        "x=$(a $(b c) d)",
        "echo x#y",
        "echo \"a#b\" '#c'",
        "echo $'\\x41'",
        "echo \"\\$x\"",
        "echo `date`",
        "a | & b",
        "a ;; b",
        "cat <<EOF\nx\nEOF",
        "echo $((1 + 2))",
        "diff <(a) <(b)",
        "if a; then b; fi",
        "sudo -u deploy env A=1 tool4 --force 2>&1 | tee -a \"$log\"",
        "f() { a; }",
        "{ a; b; }",
        "(a; b)",
        "! a",
        "command -v jq && jq .",
        "[ -f x ] && a",
        "local x=1",
        "export A=1",
        "a\\\n b",
        "a\r\nb",
        "echo caf\u{e9}",
        "x+=1",
        "arr=(a b)",
        "a[1]=x",
        "echo ${x:-y}",
        "echo $",
        "echo \"$\"",
        "echo $\"x\"",
        "a &> f",
        "a >| f",
        "a <> f",
        "a 2>&1",
        "a >& 2",
        "a 2>& 1",
        "a>f",
        "a 3<&0",
        "time a",
        "a = b",
        "=a",
        "echo {a,b}",
        "echo ~/x ~user",
        "echo a,b+c%d@e^f",
        "echo \"it's\" 'say \"hi\"'",
        "echo $10",
        "echo \"$x$y\"",
        "echo \"a$x\"b'c'$y",
        "if [ -f \"/etc/app1.conf\" ]; then\n  tool1 -q --opt1 /etc/app1.conf\nfi",
        "if a; then b; elif c; then d; else e; fi",
        "if a\nthen\n  b\nelse\n  c\nfi",
        "if a; then fi",
        "if [ -x /usr/bin/jq ]; then jq; fi",
        "if [ -n \"$(command -v jq)\" ]; then jq; fi",
        "if [ \"$(uname)\" = Darwin ]; then a; fi",
        "if [ -d /x ] && [ -z \"$y\" ]; then a; fi",
        "[ -f x ] && a",
        "[ -f x ] 2>/dev/null",
        "[ -e x ]",
        "[ -f ]",
        "[ x ]",
        "for f in /var/log/app1/*.log; do\n  gzip -9 \"$f\" && echo \"compressed $f\"\ndone",
        "for f in a b; do x; done",
        "for f; do x; done",
        "for f in a b\ndo\n  x\ndone",
        "for ((i=0;i<3;i++)); do x; done",
        "while a; do b; done",
        "until a; do b; done",
        "while read -r l; do b; done < f",
        "for f in a; do b; done | sort",
        "{ a; b; }",
        "{ a; b; } > log",
        "function step_1 {\n  local x=$1\n  tool1 \"$x\" || return 1\n}",
        "step_2() {\n  a\n}",
        "step_3 () { a; }",
        "function f() { a; }",
        "f() ( a )",
        "local x=1 y",
        "export PATH=\"$PATH:/opt/bin\"",
        "declare -a x",
        "readonly X=1",
        "A=1 export x",
        "sudo -u deploy env A=1 tool4 --force 2>&1 | tee -a \"$log\"",
        "sudo apt-get install -y x",
        "sudo -l",
        "sudo -i",
        "sudo -u \"$u\" x",
        "sudo 'apt-get' x",
        "doas x",
        "env -i PATH=/bin x",
        "env",
        "nice -n 5 x",
        "nohup x &",
        "setsid x",
        "stdbuf -oL x",
        "timeout 5 x",
        "timeout -s KILL 5 x",
        "sudo bash -c 'x'",
        "sudo sh",
        "env ssh h x",
        // Shapes the grammar reads otherwise than they look.
        "_=1",
        "_= x",
        "x=1 _=2 cmd",
        "a@b",
        "a%b x",
        "x=1 1:",
        "a | -1@",
        "local 1%",
        "local *0:",
        "echo $(1@a)",
        "for x in; do y; done",
        "for x in\ndo y; done",
        "for x-y in a; do y; done",
        "for x.y in a; do y; done",
        "timeout == x",
        "timeout =~ x",
        "cmd == \"a b\"",
        "cmd =~ 'x'",
        "[ -f / ]",
        "[ -f ~ ]",
        "[ -f ~+ ]",
        "[ -f /= ]",
        "x=$(a=)",
        "echo \"$(x=)\"",
        "export x=|a",
        "declare x=||\nlocal",
        "- a=b c",
        "- 2>f",
        "x=1 - a=b",
        "a >&- b c",
        "a >&- b",
        "a >&-",
        "a 2>&-- b",
        "a 2>&1- b",
        "{ n|a|local x\nr>f; }",
        "if a; then n | a | export\nr 2>&1; fi",
        "f() { n|[ -f x ]|local\nr>\"\"\n}",
        "x=a'b'$1",
        "x=a'b'$1-",
        "x=$d/$@.",
        "x=1 y=a\"b\"$?a",
        "echo $(x=a'b'$1-)",
        "x=$1",
        "a $1>f",
        "a $9>f b",
        "echo $(a $1>f)",
        "a \"$1\">f",
        "x=a'b'$x/",
        "x=${x}${x}?$x,",
        "x='q',$x?",
        "x=$PATH:/opt/bin",
        "x=\"$1a\"",
        "x=\"$?x=<\"",
        "a | b $!$(a)$$''\t",
        "local x=$?-/$$'q';",
        "echo \"pid $$\" $$\"q\"",
        "a | b ?2>@",
        "a | b 02>f",
        "-2>f",
        "sudo x=$x$1",
        "env A=1 x=$!$x$x$1",
        "sudo x=*$x$1 y",
        // `unsetenv` is a declaration to the grammar: no guard reaches it.
        "command -v unsetenv >/dev/null || exit 1\nunsetenv x",
    ];

    #[test]
    fn ordinary_statements_read_as_tree_sitter_reads_them() {
        let mut accepted = 0;
        for line in LINES {
            for src in [
                line.to_string(),
                format!("{line}\n"),
                format!("pre\n{line}\npost\n"),
            ] {
                accepted += agree(line, &src).1;
            }
        }
        assert!(
            accepted > 80,
            "the reader accepted only {accepted} stretches"
        );
    }

    /// Holds the reader to tree-sitter on every stretch of `src` from a line start to a later
    /// one (or the end), not only between the lexer's cuts: a stretch the lexer cut wrongly is
    /// no longer confirmed by a parse when the reader takes it, so the reader must decline
    /// every stretch tree-sitter would not confirm. Returns how many it read.
    pub(super) fn agree_on_every_span(name: &str, src: &str) -> usize {
        use crate::script::sparse::{tree_sitter_read, Cut};
        use crate::script::Parsed;
        let endings = crate::script::bash::endings(src);
        // tree-sitter reads a same-length rewrite, as in a sparse parse.
        let patched = crate::script::bash::patch_heredocs(src);
        let text = patched.as_deref().unwrap_or(src);
        let reader = super::super::Reader::new(src, Language::Bash, &endings);
        let mut starts = vec![Cut { offset: 0, row: 0 }];
        for (i, _) in src.match_indices('\n') {
            starts.push(Cut {
                offset: i + 1,
                row: starts.len(),
            });
        }
        let mut read = 0;
        for (k, &start) in starts.iter().enumerate() {
            for &end in &starts[k + 1..] {
                let span = start.offset..end.offset;
                let mut quick = Parsed::default();
                if !reader.read(span.clone(), &mut quick) {
                    continue;
                }
                read += 1;
                let stretch = &src[span];
                let mut walked = Parsed::default();
                assert!(
                    tree_sitter_read(
                        src,
                        text,
                        Language::Bash,
                        &(start..end),
                        &endings,
                        &mut walked
                    ),
                    "{name}: tree-sitter does not confirm {stretch:?}"
                );
                for p in [&mut quick, &mut walked] {
                    p.commands.sort_by_key(|c| c.name_span.start);
                    p.code.sort_by_key(|r| r.span.start);
                }
                assert_eq!(quick.commands, walked.commands, "{name}: {stretch:?}");
                assert_eq!(quick.code, walked.code, "{name}: {stretch:?}");
            }
        }
        read
    }

    #[test]
    fn every_span_between_line_starts_reads_as_tree_sitter_reads_it() {
        let mut read = 0;
        for line in LINES {
            read += agree_on_every_span(line, &format!("pre\n{line}\npost\n"));
        }
        for src in EXAMPLES {
            read += agree_on_every_span("example", src);
        }
        assert!(read > 1_000, "only {read} read");
    }

    /// The reader recurses into substitutions and compound commands: nesting far deeper than
    /// scripts do is declined, not a stack overflow (a thousand `$(` overflowed a 2 MB thread
    /// stack, the size of the sparse parse's threads).
    #[test]
    fn deep_nesting_is_declined_without_overflowing_the_stack() {
        use crate::script::os::Passed;
        use crate::script::Parsed;
        let n = 20_000;
        let deep = [
            format!("x={}a{}\n", "$(".repeat(n), ")".repeat(n)),
            format!("x={}a{}\n", "\"$(".repeat(n), ")\"".repeat(n)),
            format!("{}a\n{}", "if a; then ".repeat(n), "fi\n".repeat(n)),
            format!("{}a\n{}", "{ ".repeat(n), "}\n".repeat(n)),
            format!("{}a\n{}", "f() { ".repeat(n), "}\n".repeat(n)),
        ];
        let read = |src: &str| {
            let mut out = Parsed::default();
            super::read(src, 0..src.len(), &Passed::default(), &mut out)
        };
        let reads = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || deep.iter().map(|src| read(src)).collect::<Vec<_>>())
            .expect("thread")
            .join()
            .expect("no overflow");
        assert_eq!(reads, [false; 5]);
        // As deep as scripts nest is still read.
        let nested = format!("{}a\n{}", "if a; then ".repeat(8), "fi\n".repeat(8));
        assert!(read(&nested));
        agree("nested", &nested);
    }

    #[test]
    fn the_synthetic_workload_and_the_examples_read_as_tree_sitter_reads_them() {
        for seed in [2, 7] {
            let src = crate::synthetic::bash_script(3_000, 1_000, seed);
            let (total, accepted) = agree("synthetic", &src);
            // Of its ten statement shapes, the reader is for the five that are simple
            // commands, assignments and comments (`if`, `for`, functions, heredocs and
            // `sudo … env …` go to tree-sitter).
            assert!(
                accepted * 10 >= total * 4,
                "seed {seed}: {accepted} of {total} stretches read"
            );
        }
        for src in EXAMPLES {
            agree("example", src);
        }
    }
}

#[cfg(test)]
mod generated {
    //! Random statements from pieces the reader knows and pieces it must decline, each held to
    //! tree-sitter's reading of it.
    use super::super::assert_reads_as_tree_sitter;
    use crate::script::Language;
    use crate::synthetic::Rng;

    /// Words the reader reads, and words it must decline (or read as tree-sitter does).
    const WORDS: &[&str] = &[
        "x",
        "-f",
        "--opt=1",
        "/etc/a.conf",
        "'q t'",
        "\"d $v q\"",
        "\"$v\"",
        "$v",
        "${v}",
        "$(b -c)",
        "\"$(b | c)\"",
        "a=b",
        "*.log",
        "''",
        "\"\"",
        "'#'",
        "\"a#b\"",
        "$1",
        "$@",
        "x$v",
        "\"a\"'b'c",
        "~/x",
        "$#",
        "$?",
        "@",
        "%",
        "5",
        "2>&1",
        ">f",
        ">>\"$log\"",
        "<in",
        "2>/dev/null",
        "# c",
    ];
    const ODD_WORDS: &[&str] = &[
        "$((1))", "`b`", "\\x", "{a,b}", "$'\\n'", "a[1]", "\"\\\"\"", "<<E", "<(a)", "a#b",
        "$(a\nb)", "&>f", "\"$\"", ">&-", "==", "=~", "a%b", "x=", "-",
    ];
    const NAMES: &[&str] = &[
        "tool1",
        "curl",
        "grep",
        "/usr/bin/python3",
        "./run.sh",
        "sudo",
        "sudo -u u",
        "env A=1",
        "nice -n 5",
        "timeout 5",
        "nohup",
        "local",
        "export",
        "A=1",
        "x=$(a)",
        "[ -f x ]",
        "sudo env B=2 nice",
    ];
    const ODD_NAMES: &[&str] = &[
        "bash -c",
        "ssh h",
        "command -v",
        "type",
        "[",
        "test",
        "eval",
        "xargs",
        "find . -exec",
        "time",
        "exec",
        "!",
        "[[",
        "docker exec c",
        "trap",
        "source",
        ".",
        "sudo -s",
        "case",
        "-",
        "a@b",
        "_=1",
        "x=1 1:",
    ];
    const JOINS: &[&str] = &[" | ", " && ", " || ", "; ", " & ", "\n", " &&\n  ", " |\n"];
    const ODD_JOINS: &[&str] = &[";;", " |& ", " ; ; ", "\n;"];

    /// From `from`, or one time in eight from `odd`.
    fn pick<'a>(rng: &mut Rng, from: &[&'a str], odd: &[&'a str]) -> &'a str {
        match rng.below(8) {
            0 => odd[rng.below(odd.len())],
            _ => from[rng.below(from.len())],
        }
    }

    fn command(rng: &mut Rng) -> String {
        let mut c = pick(rng, NAMES, ODD_NAMES).to_string();
        for _ in 0..rng.below(4) {
            c.push(' ');
            c.push_str(pick(rng, WORDS, ODD_WORDS));
        }
        c
    }

    fn statement(rng: &mut Rng, depth: usize) -> String {
        let mut s = command(rng);
        for _ in 0..rng.below(3) {
            s.push_str(pick(rng, JOINS, ODD_JOINS));
            s.push_str(&command(rng));
        }
        if depth > 0 {
            let inner = statement(rng, depth - 1);
            s = match rng.below(8) {
                0 => format!("if {s}; then\n  {inner}\nfi"),
                1 => format!(
                    "if [ -f {} ]; then {inner}; else {s}; fi",
                    pick(rng, WORDS, ODD_WORDS)
                ),
                2 => format!(
                    "for f in {}; do\n  {inner}\ndone",
                    pick(rng, WORDS, ODD_WORDS)
                ),
                3 => format!("while {s}; do {inner}; done"),
                4 => format!("f{}() {{\n  {inner}\n}}", rng.below(9)),
                5 => format!("{{ {s}; {inner}; }}"),
                _ => s,
            };
        }
        s
    }

    #[test]
    fn random_statements_read_as_tree_sitter_reads_them() {
        let (mut total, mut accepted) = (0, 0);
        for seed in 45..49 {
            let mut rng = Rng::new(seed);
            for i in 0..5_000 {
                let src = format!("{}\n{}\n", statement(&mut rng, 2), statement(&mut rng, 1));
                let name = format!("seed {seed}, script {i}");
                let (t, a) = assert_reads_as_tree_sitter(&name, &src, Language::Bash);
                total += t;
                accepted += a;
                // And every other stretch between line starts, one script in ten.
                if i % 10 == 0 {
                    super::tests::agree_on_every_span(&name, &src);
                }
            }
        }
        // Enough of them are read for the comparison to mean something.
        assert!(accepted * 8 > total, "{accepted} of {total} read");
    }

    /// Every word of up to three characters from an alphabet of the characters that mean
    /// something to the grammar's scanner somewhere, in each place a word can stand: where an
    /// assignment may start (`a%b`, `x=1 1:`, `local 1@`, `_=1` are not the commands they look
    /// like), as an operand of `[ -f … ]` (`/`, `~+`), a loop's variable (`a-b`), a wrapper's
    /// argument (`timeout == x`).
    #[test]
    fn short_words_in_every_place_read_as_tree_sitter_reads_them() {
        const ALPHABET: &[&str] = &[
            "a", "1", "0", "_", "-", ".", "/", ":", ",", "+", "=", "%", "@", "~", "^", "*", "?",
            "$", "\"x\"", "'x'",
        ];
        const PLACES: &[&str] = &[
            "{}",
            "{} x",
            "cmd {} y",
            "x=1 {}",
            "x={} cmd",
            "a | {}",
            "cmd >{}",
            "echo $({})",
            "local {}",
            "sudo {}",
            "[ -f {} ]",
            "for {} in a; do b; done",
            "for x in {}; do b; done",
            "{}() { a; }",
            "env {}",
            "timeout {} x",
            "nice {} x",
        ];
        let mut words: Vec<String> = vec![String::new()];
        let mut last = words.clone();
        for _ in 0..3 {
            last = last
                .iter()
                .flat_map(|w| ALPHABET.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(last.iter().cloned());
        }
        words.remove(0);
        let mut accepted = 0;
        for word in &words {
            for place in PLACES {
                let src = format!("{}\n", place.replace("{}", word));
                accepted += assert_reads_as_tree_sitter(&src, &src, Language::Bash).1;
            }
        }
        assert!(accepted > 10_000, "only {accepted} read");
    }
}
