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

use crate::script::bash::RUNS_CODE;
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
}

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
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Some(()),
                Some(b'\n') => self.pos += 1,
                Some(b'#') => self.comment()?,
                Some(_) => {
                    if self.list(Stop::Line)? != Stop::Line {
                        return None;
                    }
                }
            }
        }
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
    /// trailing comment) or, in a substitution, up to its `)`.
    fn list(&mut self, stop: Stop) -> Option<Stop> {
        loop {
            self.command(&stop)?;
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
                }
                (Some(b';' | b'&'), next) => {
                    if matches!(next, Some(b';' | b'&' | b'>' | b'|')) {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_blanks();
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

    /// One simple command: assignments, then a name and its words and redirects. At least one
    /// assignment or a name.
    fn command(&mut self, stop: &Stop) -> Option<()> {
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
            }
            assigned = true;
        }
        self.skip_blanks();
        if self.at_redirect() || !self.at_word_start() {
            // A redirect before the name, or no name: only assignments are read.
            return (assigned && !self.at_redirect()).then_some(());
        }
        let _ = stop;
        let name = self.word()?;
        let word = &self.src[name.clone()];
        if !is_plain_name(word) {
            return None;
        }
        let resolved = command_name(word, Language::Bash).0;
        if declined(resolved) {
            return None;
        }
        let mut end = name.end;
        loop {
            self.skip_blanks();
            if self.at_redirect() {
                self.redirect()?;
                end = self.pos;
            } else if self.at_word_start() {
                end = self.word()?.end;
            } else {
                break;
            }
        }
        let mut cmd = make_command(
            self.src,
            name.clone(),
            end,
            Language::Bash,
            None,
            &self.base,
        );
        cmd.guarded = self.passed.proves(&cmd.name, name.start);
        cmd.os = cmd.os & self.passed.at(name.start).0;
        self.out.commands.push(cmd);
        Some(())
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
        rest.get(n) == Some(&b'=')
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
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let op = self.peek()?;
        self.pos += 1;
        match (op, self.peek()) {
            (b'>', Some(b'>')) => self.pos += 1,
            (b'>' | b'<', Some(b'&')) => {
                // A descriptor (`2>&1`) or `-`, right after the operator.
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == b'-') {
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
                b'$' => self.expansion()?,
                c if is_plain(c) => self.pos += 1,
                // `a#b`, `a{b}`, `a(b)`, … are words whose pieces the grammar may read
                // otherwise; blanks and operators end the word.
                b' ' | b'\t' | b'\n' | b'|' | b'&' | b';' | b')' | b'<' | b'>' => break,
                _ => return None,
            }
        }
        (self.pos > start).then(|| start..self.pos)
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
        if self.b[from..self.pos].iter().any(|&c| c != b' ' && c != b'\t') {
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
            c if c.is_ascii_digit() => {
                self.pos += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None;
                }
            }
            b'@' | b'*' | b'#' | b'?' | b'$' | b'!' => self.pos += 1,
            _ => return None,
        }
        Some(())
    }

    /// The code regions: the stretch but for the holes, each trimmed of blanks, as the walk's
    /// `finish` gives them.
    fn regions(&mut self, start: usize) {
        self.holes.sort_unstable_by_key(|h| h.start);
        let mut pos = start;
        let holes = std::mem::take(&mut self.holes);
        for h in holes.iter().chain(std::iter::once(&(self.end..self.end))) {
            if h.start > pos {
                let text = &self.src[pos..h.start];
                let trimmed = text.trim_start();
                let from = pos + (text.len() - trimmed.len());
                let to = from + trimmed.trim_end().len();
                if to > from {
                    self.out.code.push(CodeRegion {
                        span: from..to,
                        language: Language::Bash,
                        host: None,
                        min_powershell: None,
                    });
                }
            }
            pos = pos.max(h.end);
        }
    }
}

/// A character of a word that is only itself to bash and to the grammar.
fn is_plain(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'_' | b'-' | b'.' | b'/' | b':' | b',' | b'+' | b'=' | b'%' | b'@' | b'~' | b'^'
        )
}

/// A command name made of plain characters only, and not an assignment.
fn is_plain_name(word: &str) -> bool {
    !word.is_empty()
        && !word.contains('=')
        && word.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'_' | b'-' | b'.' | b'/' | b':' | b'+' | b'@' | b'%')
        })
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
        "declare", "typeset", "local", "export", "readonly", "unset", "alias", "unalias",
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

    #[test]
    fn ordinary_statements_read_as_tree_sitter_reads_them() {
        let lines = [
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
        ];
        let mut accepted = 0;
        for line in lines {
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
        let examples = [
            include_str!("../../../examples/macos-build/build.sh"),
            include_str!("../../../examples/nas/add-backup-user.sh"),
            include_str!("../../../examples/nas/backup-shares.sh"),
            include_str!("../../../examples/web/deploy.sh"),
            include_str!("../../../examples/web/healthcheck.sh"),
        ];
        for src in examples {
            agree("example", src);
        }
    }
}
