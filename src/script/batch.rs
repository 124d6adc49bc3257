//! Commands and code regions of batch (cmd.exe) scripts, found by a small hand-written lexer
//! (there is no batch tree-sitter grammar).
//!
//! It follows cmd's own reading closely enough for forewarn: lines joined by `^` + newline,
//! `&`, `&&`, `||` and `|` outside quotes and not escaped, parenthesised blocks across lines
//! (`if … ( … ) else ( … )`, `for … do ( … )`), the `@` prefix, labels and `::`/`REM` comments.
//! `if` and `for` are seen through to the command they run, as are `call` and `start`; the
//! command of `for /f … in ('…')`, `cmd /c` (also written `%COMSPEC% /c`, reported as `cmd`),
//! `powershell -Command` and `psexec \\HOST` is parsed as code (the last on HOST, on each of `\\a,b`). It never
//! recurses on nesting, so any input is safe. A name is what cmd runs with its carets dropped
//! (`w^mic` is `wmic`). Other commands named by a variable (`%TOOL%`, `!x!`, `%%i`) are decided
//! at run time and not reported. What follows an unconditional `goto`/`exit` (outside blocks,
//! conditions and `&&`/`||`) up to the next label never runs: its commands and code are dropped.

use std::ops::Range;

use super::powershell::{decode_utf16_base64, push_mapped_region};
use super::{blank_continuations, make_command, Command, Language, OffsetMap, Parsed};

const BAT: Language = Language::Batch;

/// The commands and code regions of a whole batch document.
pub fn parse(src: &str) -> Parsed {
    let mut out = Parsed::default();
    parse_into(src, &OffsetMap::starting_at(0), None, &mut out, 0);
    out
}

/// See [`super::parse_embedded`].
pub(crate) fn parse_into(
    src: &str,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
) {
    let mut lexer = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        blocks: 0,
        base,
        host,
        out,
        depth,
        holes: Vec::new(),
        line_cond: false,
        next_cond: false,
        dead: None,
        started: None,
    };
    lexer.run();
    lexer.revive(src.len());
    lexer.regions();
}

struct Lexer<'s, 'o> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// Open parenthesised blocks.
    blocks: usize,
    base: &'o OffsetMap,
    host: Option<&'o str>,
    out: &'o mut Parsed,
    depth: u8,
    /// Ranges that are not code: comments, labels, data arguments, code parsed as embedded.
    holes: Vec<Range<usize>>,
    /// The rest of the line runs under an `if`, a `for` or an `else` (or after a block's `)`).
    line_cond: bool,
    /// The next command runs after `&&`, `||` or `|`: only when the one before allows it.
    next_cond: bool,
    /// Since an unconditional `goto` or `exit`: where the code that never runs starts, and how
    /// many commands and code regions there were then.
    dead: Option<(usize, usize, usize)>,
    /// Where the program a `start` runs begins: it runs in a new process (a new window, or
    /// with `/b` the same console), so its `exit` or `goto` leaves nothing of the script.
    started: Option<usize>,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x0b' | b'\x0c')
}

impl Lexer<'_, '_> {
    fn run(&mut self) {
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            match c {
                b'\n' => {
                    self.line_cond = false;
                    self.next_cond = false;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b'@' | b';' | b',' | b'=' | b'\x0b' | b'\x0c' => {
                    self.pos += 1
                }
                b'^' if self.continuation_at(self.pos).is_some() => {
                    self.pos = self.continuation_at(self.pos).unwrap_or(self.pos + 1);
                }
                b'(' => {
                    self.blocks += 1;
                    self.pos += 1;
                }
                b')' => {
                    self.blocks = self.blocks.saturating_sub(1);
                    self.pos += 1;
                    // What follows a block on its line (`) else …`, `) & …`) is taken to be
                    // as conditional as the block may have been.
                    self.line_cond = true;
                    // `) else (` / `) else cmd`
                    let after = self.skip_blanks(self.pos);
                    let (ws, we) = self.word_at(after);
                    if self.src[ws..we].eq_ignore_ascii_case("else") {
                        self.pos = we;
                    }
                }
                b':' => {
                    // A label, or a `::` comment: neither is code. A label is where a `goto`
                    // may land: the code after it may run again.
                    if self.b.get(self.pos + 1) != Some(&b':') {
                        self.revive(self.pos);
                    }
                    let end = self.line_end(self.pos);
                    self.holes.push(self.pos..end);
                    self.pos = end;
                }
                b'&' | b'|' => self.separator(self.pos),
                // `>nul 2>&1 cmd`: a redirection before the command, with its target.
                b'<' | b'>' => {
                    let mut i = self.pos + 1;
                    while matches!(self.b.get(i), Some(b'>') | Some(b'&')) {
                        i += 1;
                    }
                    let i = self.skip_blanks(i);
                    self.pos = self.word_at(i).1.max(self.pos + 1);
                }
                b'0'..=b'9' if matches!(self.b.get(self.pos + 1), Some(b'>') | Some(b'<')) => {
                    self.pos += 1
                }
                _ => self.statement(),
            }
        }
    }

    /// `^` + optional CR + LF: the end of the continuation.
    fn continuation_at(&self, i: usize) -> Option<usize> {
        if self.b.get(i) != Some(&b'^') {
            return None;
        }
        let mut j = i + 1;
        if self.b.get(j) == Some(&b'\r') {
            j += 1;
        }
        (self.b.get(j) == Some(&b'\n')).then_some(j + 1)
    }

    fn skip_blanks(&self, mut i: usize) -> usize {
        while i < self.b.len() {
            if is_blank(self.b[i]) {
                i += 1;
            } else if let Some(j) = self.continuation_at(i) {
                i = j;
            } else {
                break;
            }
        }
        i
    }

    /// The end of the physical line (continuations included), before the newline.
    fn line_end(&self, mut i: usize) -> usize {
        while i < self.b.len() && self.b[i] != b'\n' {
            if let Some(j) = self.continuation_at(i) {
                i = j;
                continue;
            }
            i += 1;
        }
        if i > 0 && self.b.get(i - 1) == Some(&b'\r') {
            i -= 1;
        }
        i
    }

    /// A word: up to a blank, a separator or a redirection outside quotes, or a block's `)`.
    fn word_at(&self, start: usize) -> (usize, usize) {
        self.token(start, false)
    }

    fn token(&self, start: usize, stop_at_eq: bool) -> (usize, usize) {
        let mut i = start;
        let mut quoted = false;
        while i < self.b.len() {
            let c = self.b[i];
            if c == b'\n' || c == b'\r' {
                break;
            }
            if c == b'"' {
                quoted = !quoted;
                i += 1;
                continue;
            }
            if !quoted {
                if c == b'^' {
                    if self.continuation_at(i).is_some() {
                        break;
                    }
                    i += 2;
                    continue;
                }
                if is_blank(c)
                    || matches!(c, b'&' | b'|' | b'<' | b'>')
                    || (c == b')' && self.blocks > 0)
                    || (stop_at_eq && c == b'=')
                {
                    break;
                }
                // `echo(`, `if(`: the parenthesis starts the next part.
                if c == b'(' && i > start {
                    break;
                }
            }
            i += 1;
        }
        (start, i.min(self.b.len()))
    }

    /// The end of the simple command starting at `start`: a separator, a newline, or the `)` of
    /// an open block, outside quotes and not escaped.
    fn command_end(&self, start: usize) -> usize {
        let mut i = start;
        let mut quoted = false;
        while i < self.b.len() {
            let c = self.b[i];
            match c {
                b'\n' => break,
                b'"' => quoted = !quoted,
                b'^' if !quoted => {
                    i = self.continuation_at(i).unwrap_or(i + 2);
                    continue;
                }
                b'&' | b'|' if !quoted => {
                    // `2>&1`, `>&2`: a redirection, not a separator.
                    let redirect = i > 0 && matches!(self.b[i - 1], b'>' | b'<');
                    if !redirect {
                        break;
                    }
                }
                b')' if !quoted && self.blocks > 0 => break,
                _ => {}
            }
            i += 1;
        }
        let i = i.min(self.b.len());
        let text = &self.src[start..i];
        let mut kept = text.trim_end();
        // `net stop x ^` + newline + `|| …`: the continuation leads only to the separator.
        if kept.ends_with('^') && text[kept.len()..].contains('\n') {
            kept = kept[..kept.len() - 1].trim_end();
        }
        start + kept.len()
    }

    /// Moves past a command and the separator after it.
    fn after_command(&mut self, end: usize) {
        let mut i = end;
        while i < self.b.len() && is_blank(self.b[i]) {
            i += 1;
        }
        let from = self.pos;
        if matches!(self.b.get(i), Some(b'&') | Some(b'|')) {
            self.separator(i);
            i = self.pos;
        }
        self.pos = i.max(end).max(from + 1).min(self.b.len());
    }

    /// Moves past the separator at `i` (`&`, `&&`, `||`, `|`), noting whether the next command
    /// runs whatever happened before it (`&` only).
    fn separator(&mut self, i: usize) {
        let first = self.b[i];
        let doubled = self.b.get(i + 1) == Some(&first);
        self.next_cond = first == b'|' || doubled;
        self.pos = i + 1 + usize::from(doubled);
    }

    /// Whether the command `bare` with arguments `args` leaves the script or jumps (`goto
    /// label`, `goto :eof`, `exit /b`) wherever it stands: in the script itself (an executed
    /// string has no labels to go to), outside any block, condition or `&&`/`||`.
    fn jumps_away(&self, bare: &str, args: Range<usize>) -> bool {
        let (keyword, rest) = match bare.split_once(':') {
            Some(("goto", label)) => ("goto", label),
            _ => (bare.split('/').next().unwrap_or(bare), ""),
        };
        let arg = self.src.get(args).unwrap_or("").trim();
        let help = arg.starts_with("/?") || bare.contains("/?");
        let unconditional = self.depth == 0 && self.blocks == 0 && !self.line_cond;
        unconditional
            && !help
            && match keyword {
                // `goto` with no label fails and goes on.
                "goto" => !rest.is_empty() || !arg.is_empty(),
                "exit" => true,
                _ => false,
            }
    }

    /// Ends the code that never runs at `at` (a label, or the end): its commands and code
    /// regions are dropped and its text is no code.
    fn revive(&mut self, at: usize) {
        if let Some((from, commands, code)) = self.dead.take() {
            self.out.commands.truncate(commands);
            self.out.code.truncate(code);
            if at > from {
                self.holes.push(from..at);
            }
        }
    }

    /// The words of `range` (quotes kept).
    fn words(&self, range: Range<usize>) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = range.start;
        while i < range.end {
            i = self.skip_blanks(i);
            if i >= range.end {
                break;
            }
            let (s, e) = self.word_at(i);
            let e = e.min(range.end);
            if e <= s {
                i += 1;
                continue;
            }
            out.push(s..e);
            i = e;
        }
        out
    }

    fn statement(&mut self) {
        let start = self.pos;
        let (ws, we) = self.word_at(start);
        if we <= ws {
            self.pos = start + 1;
            return;
        }
        let word = &self.src[ws..we];
        let lower = word.to_ascii_lowercase();
        let keyword = lower.trim_matches('"');
        match keyword {
            "rem" | "rem." => {
                let end = self.line_end(ws);
                let mut from = ws;
                while from > 0 && self.b[from - 1] == b'@' {
                    from -= 1;
                }
                self.holes.push(from..end);
                self.pos = end;
            }
            "if" => {
                self.line_cond = true;
                self.if_condition(we)
            }
            "for" => {
                self.line_cond = true;
                self.for_header(we)
            }
            "else" => {
                self.line_cond = true;
                self.pos = we
            }
            _ => self.command(ws, we, &lower),
        }
    }

    /// `if [/i] [not] exist X | defined V | errorlevel N | cmdextversion N | A==B | A op B`:
    /// what follows is the command (or block) it runs.
    fn if_condition(&mut self, mut i: usize) {
        let next = |lexer: &Self, i: &mut usize, eq: bool| -> Range<usize> {
            *i = lexer.skip_blanks(*i);
            let (s, e) = lexer.token(*i, eq);
            *i = e;
            s..e
        };
        let mut w = next(self, &mut i, true);
        if self.src[w.clone()].eq_ignore_ascii_case("/i") {
            w = next(self, &mut i, true);
        }
        if self.src[w.clone()].eq_ignore_ascii_case("not") {
            w = next(self, &mut i, true);
        }
        let kw = self.src[w.clone()].to_ascii_lowercase();
        match kw.as_str() {
            "exist" | "defined" | "errorlevel" | "cmdextversion" => {
                next(self, &mut i, false);
            }
            _ => {
                let j = self.skip_blanks(i);
                if self.b.get(j..j + 2) == Some(b"==") {
                    i = j + 2;
                    // `if a== b`, `if "a"=="b"`
                    while self.b.get(i) == Some(&b'=') {
                        i += 1;
                    }
                    next(self, &mut i, false);
                } else {
                    let op = next(self, &mut i, false);
                    let op = self.src[op].to_ascii_lowercase();
                    if matches!(op.as_str(), "equ" | "neq" | "lss" | "leq" | "gtr" | "geq") {
                        next(self, &mut i, false);
                    }
                }
            }
        }
        self.pos = i.max(self.pos + 1);
    }

    /// `for [/d|/r [dir]|/l|/f ["opts"]] %%v in (set) do …`: a `('command')` set is run.
    fn for_header(&mut self, we: usize) {
        let mut i = we;
        let mut usebackq = false;
        // Up to `in`.
        loop {
            i = self.skip_blanks(i);
            if i >= self.b.len() || self.b[i] == b'\n' {
                self.pos = i;
                return;
            }
            let (s, e) = self.word_at(i);
            if e <= s {
                self.pos = i + 1;
                return;
            }
            let w = &self.src[s..e];
            if w.to_ascii_lowercase().contains("usebackq") {
                usebackq = true;
            }
            i = e;
            if w.eq_ignore_ascii_case("in") {
                break;
            }
        }
        i = self.skip_blanks(i);
        if self.b.get(i) != Some(&b'(') {
            self.pos = i;
            return;
        }
        // The set, to its `)` outside quotes.
        let set_start = i + 1;
        let mut j = set_start;
        let mut quote: Option<u8> = None;
        while j < self.b.len() {
            let c = self.b[j];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b')' => break,
                None if c == b'"' || c == b'\'' || c == b'`' => quote = Some(c),
                None => {}
            }
            j += 1;
        }
        let set = set_start..j.min(self.b.len());
        let trimmed = self.src[set.clone()].trim();
        let opener = if usebackq { '`' } else { '\'' };
        if trimmed.len() >= 2 && trimmed.starts_with(opener) && trimmed.ends_with(opener) {
            let lead = self.src[set.clone()].len() - self.src[set.clone()].trim_start().len();
            let inner = set.start + lead + 1..set.start + lead + trimmed.len() - 1;
            self.embed_batch(inner, self.host, true);
        } else {
            self.holes.push(set.clone());
        }
        i = (j + 1).min(self.b.len());
        // `do`
        i = self.skip_blanks(i);
        let (s, e) = self.word_at(i);
        if self.src[s..e].eq_ignore_ascii_case("do") {
            i = e;
        }
        self.pos = i.max(self.pos + 1);
    }

    /// A simple command starting with the word `ws..we`.
    fn command(&mut self, ws: usize, we: usize, lower: &str) {
        let end = self.command_end(ws).max(we);
        let after_cond = std::mem::take(&mut self.next_cond);
        let started = self.started.take() == Some(ws);
        // A quoted program path: the name is inside the quotes.
        let mut word = if self.b[ws] == b'"' && we > ws + 1 && self.b[we - 1] == b'"' {
            ws + 1..we - 1
        } else {
            ws..we
        };
        // `%~dp0tool.exe`: the script's own directory, then the program.
        word.start += dir_of_arg_prefix(&self.src[word.clone()]);
        let text = &self.src[word.clone()];
        // `w^mic`: cmd drops the caret and runs `wmic`.
        let unescaped = (text.contains('^') && !text.starts_with('"'))
            .then(|| unescape(self.src, word.clone(), b'^'));
        let spelled = unescaped.as_ref().map_or(text, |(u, _)| u.as_str());
        let (name, within) = super::command_name(spelled, BAT);
        let spelled_lower = unescaped.as_ref().map(|(u, _)| u.to_ascii_lowercase());
        let bare = spelled_lower.as_deref().unwrap_or(lower).trim_matches('"');
        let bare = super::command_name(bare, BAT).0.to_string();
        // The name's bytes in the source, when carets were dropped from it.
        let name_map = unescaped.as_ref().map(|(_, at)| {
            let mut m = OffsetMap::starting_at(within.start);
            m.push(name.len(), within.end);
            m.then(at)
        });
        // `%COMSPEC% /c …` is cmd: reported as `cmd`, its name spanning the variable.
        if bare.eq_ignore_ascii_case("%comspec%") || bare.eq_ignore_ascii_case("!comspec!") {
            let mut map = OffsetMap::starting_at(word.start);
            map.push(3, we);
            self.emit_named("cmd", map, word.clone(), we, end);
            self.cmd(we..end);
            self.after_command(end);
            return;
        }
        // `%VAR%`, `!VAR!`, `%%i`: decided at run time.
        if name.is_empty() || name.contains(['%', '!', '"']) {
            self.after_command(end);
            return;
        }
        // `echo.`, `echo:`, `echo/` are echo too.
        let echo_like = bare == "echo"
            || (bare.starts_with("echo")
                && matches!(
                    bare.as_bytes().get(4),
                    Some(b'.' | b':' | b'/' | b'\\' | b'[')
                ));
        match name_map {
            Some(map) => self.emit_unescaped(name, map, word.clone(), end),
            None => self.emit(word.clone(), we, end),
        }
        let args = we..end;
        match bare.as_str() {
            _ if echo_like => self.holes.push(args),
            "set" | "title" => self.holes.push(args),
            "call" => {
                let i = self.skip_blanks(we);
                if i < end && self.b[i] != b':' {
                    self.pos = i;
                    return;
                }
            }
            "start" => {
                if let Some(i) = self.start_program(we, end) {
                    self.pos = i;
                    self.started = Some(i);
                    return;
                }
            }
            "cmd" => self.cmd(args),
            "powershell" | "pwsh" => {
                let from = (self.out.commands.len(), self.out.code.len());
                let pwsh = name == "pwsh";
                super::powershell::read_by(pwsh, || self.powershell(args));
                if pwsh {
                    super::run_by_pwsh(self.out, from.0, from.1);
                }
            }
            "psexec" | "psexec64" => self.psexec(args),
            "ssh" => self.ssh(args),
            "bash" | "sh" => self.shell_c(args),
            "wsl" => self.wsl(args),
            _ => {}
        }
        // Nothing after it runs until the next label (the rest of its own line neither).
        if self.dead.is_none() && !after_cond && !started && self.jumps_away(&bare, we..end) {
            self.dead = Some((end, self.out.commands.len(), self.out.code.len()));
        }
        self.after_command(end);
    }

    /// A command named by `word`; its arguments run from `rest` (after a closing quote) to `end`.
    fn emit(&mut self, word: Range<usize>, rest: usize, end: usize) {
        let host = self.host.map(str::to_string);
        let cmd = if rest == word.end {
            make_command(self.src, word, end, BAT, host, self.base)
        } else {
            let identity = OffsetMap::starting_at(0);
            let mut c = make_command(self.src, word.clone(), word.end, BAT, host, &identity);
            let args = self.src.get(rest..end.max(rest)).unwrap_or("");
            c.map.push(c.text.len(), rest);
            c.text.push_str(&blank_continuations(args, BAT));
            c.map = c.map.then(self.base);
            c.name_span = self.base.to_source(word.start)..self.base.to_source(word.end);
            c
        };
        self.out.commands.push(cmd);
    }

    /// A command whose name cmd reads with carets dropped: `name`, whose bytes `map` takes to
    /// the source, written as `word`; its arguments run from the word's end to `end`.
    fn emit_unescaped(&mut self, name: &str, mut map: OffsetMap, word: Range<usize>, end: usize) {
        map.push(name.len(), word.end);
        let args_at = word.end;
        self.emit_named(name, map, word, args_at, end);
    }

    /// A command named `name` (spelled as `word`), whose bytes `map` already takes to the
    /// source; its arguments run from `args_at` to `end`.
    fn emit_named(
        &mut self,
        name: &str,
        mut map: OffsetMap,
        word: Range<usize>,
        args_at: usize,
        end: usize,
    ) {
        let args = self.src.get(args_at..end.max(args_at)).unwrap_or("");
        let text = format!("{name}{}", blank_continuations(args, BAT));
        map.push(text.len(), args_at + args.len());
        self.out.commands.push(Command {
            name: name.to_string(),
            name_span: self.base.to_source(word.start)..self.base.to_source_end(word.end),
            text,
            map: map.then(self.base),
            language: BAT,
            host: self.host.map(str::to_string),
            guarded: false,
            min_powershell: None,
            min_windows: None,
            os: super::OsSet::ANY,
        });
    }

    /// `start ["title"] [/options] program args`: where the program starts.
    fn start_program(&self, we: usize, end: usize) -> Option<usize> {
        let words = self.words(we..end);
        let mut k = 0;
        if words.first().is_some_and(|w| self.b[w.start] == b'"') {
            k = 1;
        }
        while let Some(w) = words.get(k) {
            let t = self.src[w.clone()].to_ascii_lowercase();
            if !t.starts_with('/') {
                break;
            }
            k += if matches!(t.as_str(), "/d" | "/node" | "/affinity") {
                2
            } else {
                1
            };
        }
        words.get(k).map(|w| w.start)
    }

    /// `cmd [/s] [/q] [/v:on] /c|/k command`.
    fn cmd(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        for (k, w) in words.iter().enumerate() {
            let t = self.src[w.clone()].to_ascii_lowercase();
            if t == "/c" || t == "/k" || t == "/r" {
                if let Some(first) = words.get(k + 1) {
                    let rest = first.start..args.end;
                    // cmd strips the first and the last quote of the line.
                    let text = &self.src[rest.clone()];
                    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
                        self.embed_batch(rest.start + 1..rest.end - 1, self.host, false);
                    } else {
                        self.embed_batch(rest, self.host, true);
                    }
                }
                return;
            }
            if !t.starts_with('/') {
                return;
            }
        }
    }

    /// `powershell [options] -Command …` / `-EncodedCommand B64`; `-File` is not inner code.
    fn powershell(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        let mut k = 0;
        while let Some(w) = words.get(k) {
            let t = &self.src[w.clone()];
            if !t.starts_with(['-', '/']) {
                // Windows PowerShell runs bare words as a command.
                self.ps_code(w.start..args.end);
                return;
            }
            let p = t.trim_start_matches(['-', '/']).to_ascii_lowercase();
            if !p.is_empty() && "command".starts_with(p.as_str()) {
                if let Some(v) = words.get(k + 1) {
                    self.ps_code(v.start..args.end);
                }
                return;
            }
            if p == "e" || p == "ec" || (p.len() >= 2 && "encodedcommand".starts_with(p.as_str())) {
                if let Some(v) = words.get(k + 1) {
                    if let Some(code) = decode_utf16_base64(&self.src[v.clone()]) {
                        self.holes.push(v.clone());
                        let map = OffsetMap::starting_at(v.start).then(self.base);
                        super::parse_embedded(
                            &code,
                            Language::PowerShell,
                            &map,
                            self.host,
                            self.out,
                            self.depth + 1,
                        );
                    }
                }
                return;
            }
            if !p.is_empty() && "file".starts_with(p.as_str()) {
                return;
            }
            let valued = [
                "executionpolicy",
                "ep",
                "ex",
                "windowstyle",
                "w",
                "version",
                "v",
                "outputformat",
                "of",
                "inputformat",
                "if",
                "configurationname",
                "psconsolefile",
                "workingdirectory",
                "wd",
                "settingsfile",
            ]
            .iter()
            .any(|v| *v == p || (p.len() >= 3 && v.starts_with(p.as_str())));
            k += if valued { 2 } else { 1 };
        }
    }

    /// PowerShell code on a batch command line: one quoted argument (its `\"` are quotes) or
    /// the bare rest of the line (its `^` escapes undone).
    fn ps_code(&mut self, rest: Range<usize>) {
        let text = &self.src[rest.clone()];
        let single = text.len() >= 2
            && text.starts_with('"')
            && text.ends_with('"')
            && !text[1..text.len() - 1].replace("\\\"", "").contains('"');
        let (code, map) = if single {
            unescape(self.src, rest.start + 1..rest.end - 1, b'\\')
        } else {
            unescape(self.src, rest.clone(), b'^')
        };
        self.holes.push(rest);
        let map = map.then(self.base);
        super::parse_embedded(
            &code,
            Language::PowerShell,
            &map,
            self.host,
            self.out,
            self.depth + 1,
        );
    }

    /// `psexec \\HOST[,HOST…] [options] command args`: the command runs on each HOST.
    fn psexec(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        let texts: Vec<&str> = words.iter().map(|w| &self.src[w.clone()]).collect();
        if let Some((hosts, k)) = psexec_target(&texts) {
            if let Some(w) = words.get(k) {
                for host in hosts {
                    self.embed_batch(w.start..args.end, Some(&host), true);
                }
            }
        }
    }

    /// `ssh [options] [user@]HOST command`: the command runs in HOST's shell.
    fn ssh(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        let mut k = 0;
        while let Some(w) = words.get(k) {
            let t = &self.src[w.clone()];
            if let Some(flag) = t.strip_prefix('-') {
                let valued = flag.len() == 1 && "bcDEeFIiJLlmOoPpQRSWw".contains(flag);
                k += if valued { 2 } else { 1 };
                continue;
            }
            let dest = t.trim_matches('"');
            let host = dest.rsplit('@').next().unwrap_or(dest);
            let host = host.split(':').next().unwrap_or(host).to_string();
            if let Some(cmd) = words.get(k + 1) {
                self.shell_string(cmd.start..args.end, Some(&host));
            }
            return;
        }
    }

    /// `bash -c "…"`, `sh -c`.
    fn shell_c(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        for (k, w) in words.iter().enumerate() {
            let t = &self.src[w.clone()];
            if !t.starts_with('-') {
                return;
            }
            if !t.starts_with("--") && t[1..].contains('c') {
                if let Some(code) = words.get(k + 1) {
                    self.shell_string(code.start..args.end, self.host);
                }
                return;
            }
        }
    }

    /// `wsl [options] [-e|--exec|--] command`: the command runs in the Linux shell.
    fn wsl(&mut self, args: Range<usize>) {
        let words = self.words(args.clone());
        let mut k = 0;
        while let Some(w) = words.get(k) {
            let t = self.src[w.clone()].to_ascii_lowercase();
            match t.as_str() {
                "-e" | "--exec" | "--" => {
                    if let Some(c) = words.get(k + 1) {
                        self.shell_string(c.start..args.end, self.host);
                    }
                    return;
                }
                "-d" | "--distribution" | "-u" | "--user" | "--cd" | "--shell-type" => k += 2,
                _ if t.starts_with("--") => return,
                _ if t.starts_with('-') => k += 1,
                _ => {
                    self.shell_string(w.start..args.end, self.host);
                    return;
                }
            }
        }
    }

    /// POSIX shell code: one quoted argument (quotes stripped) or the rest of the line.
    fn shell_string(&mut self, rest: Range<usize>, host: Option<&str>) {
        let text = &self.src[rest.clone()];
        let single = text.len() >= 2
            && text.starts_with('"')
            && text.ends_with('"')
            && !text[1..text.len() - 1].contains('"');
        let range = if single {
            rest.start + 1..rest.end - 1
        } else {
            rest.clone()
        };
        let (code, map) = unescape(self.src, range, b'^');
        self.holes.push(rest);
        let map = map.then(self.base);
        super::parse_embedded(&code, Language::Bash, &map, host, self.out, self.depth + 1);
    }

    /// Parses `range` of this text as a batch command line. Outside double quotes the outer
    /// cmd has already consumed one level of `^` escapes (`('dir ^| find x')`), so they are
    /// undone unless the whole range was quoted.
    fn embed_batch(&mut self, range: Range<usize>, host: Option<&str>, carets: bool) {
        if range.start >= range.end {
            return;
        }
        self.holes.push(range.clone());
        let (code, map) = if carets {
            unescape(self.src, range, b'^')
        } else {
            (
                self.src[range.clone()].to_string(),
                OffsetMap::starting_at(range.start),
            )
        };
        let map = map.then(self.base);
        super::parse_embedded(&code, BAT, &map, host, self.out, self.depth + 1);
    }

    /// Everything that is not a hole, trimmed, mapped to the document.
    fn regions(&mut self) {
        let mut holes = std::mem::take(&mut self.holes);
        holes.sort_by_key(|h| h.start);
        let mut at = 0;
        let host = self.host.map(str::to_string);
        let identity = *self.base == OffsetMap::starting_at(0);
        let push = |lexer: &mut Self, r: Range<usize>| {
            let text = &lexer.src[r.clone()];
            let lead = text.len() - text.trim_start().len();
            let r = r.start + lead..r.start + text.trim_end().len();
            if r.is_empty() {
                return;
            }
            if identity {
                lexer.out.code.push(super::CodeRegion {
                    span: r,
                    language: BAT,
                    host: host.clone(),
                    min_powershell: None,
                });
            } else {
                push_mapped_region(lexer.out, r, lexer.base, BAT, host.clone());
            }
        };
        for h in holes {
            if h.start > at {
                push(self, at..h.start);
            }
            at = at.max(h.end);
        }
        if at < self.src.len() {
            push(self, at..self.src.len());
        }
    }
}

/// Undoes an escape character (`^` on a cmd line, `\` before `"` in an argument) and line
/// continuations, mapping every byte of the result to the source.
fn unescape(src: &str, range: Range<usize>, escape: u8) -> (String, OffsetMap) {
    let text = src.get(range.clone()).unwrap_or("");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = OffsetMap::starting_at(range.start);
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            quoted = !quoted;
        }
        let applies = c == escape
            && match escape {
                b'^' => !quoted,
                _ => bytes.get(i + 1) == Some(&b'"'),
            };
        if applies {
            let mut j = i + 1;
            if escape == b'^' && bytes.get(j) == Some(&b'\r') {
                j += 1;
            }
            if escape == b'^' && bytes.get(j) == Some(&b'\n') {
                map.push(out.len(), range.start + j + 1);
                i = j + 1;
                continue;
            }
            if j < bytes.len() {
                // The escaped character whole (it may be more than one byte).
                let len = text[j..].chars().next().map_or(1, char::len_utf8);
                map.push(out.len(), range.start + j);
                out.extend_from_slice(&bytes[j..j + len]);
                map.push(out.len(), range.start + j + len);
                if escape != b'^' {
                    // An escaped quote does not toggle quoting.
                    quoted = !quoted;
                }
                i = j + len;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    let s = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (s, map)
}

/// The length of a leading `%~dp0` (any `%~` modifiers with `p`, then an argument digit),
/// which expands to a directory with its trailing backslash.
fn dir_of_arg_prefix(word: &str) -> usize {
    let b = word.as_bytes();
    if !word.starts_with("%~") {
        return 0;
    }
    let mut i = 2;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let modifiers = word[2..i].to_ascii_lowercase();
    if modifiers.contains('p') && i + 1 < b.len() && b[i].is_ascii_digit() {
        i + 1
    } else {
        0
    }
}

/// `psexec [options] \\HOST [options] program args`: HOST (each of `\\a,b`) and the index of
/// the program word. `\\*` and `@file` name no host forewarn can know.
pub(super) fn psexec_target(words: &[&str]) -> Option<(Vec<String>, usize)> {
    let mut host = None;
    let mut k = 0;
    while let Some(w) = words.get(k) {
        if let Some(h) = w.strip_prefix("\\\\") {
            if host.is_some() {
                break;
            }
            let hosts: Vec<String> = h
                .split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect();
            if hosts.is_empty() || hosts.iter().any(|h| h == "*") {
                return None;
            }
            host = Some(hosts);
            k += 1;
            continue;
        }
        if !w.starts_with('-') {
            break;
        }
        let next_numeric = words
            .get(k + 1)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        k += match w.to_ascii_lowercase().as_str() {
            "-u" | "-p" | "-w" | "-n" | "-a" | "-r" | "-g" => 2,
            "-i" if next_numeric => 2,
            _ => 1,
        };
    }
    Some((host?, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::assert_spans_valid;

    use crate::script::Command;

    fn p(src: &str) -> Parsed {
        super::super::parse(src, BAT)
    }

    fn names(src: &str) -> Vec<String> {
        p(src).commands.into_iter().map(|c| c.name).collect()
    }

    fn find<'a>(p: &'a Parsed, name: &str) -> &'a Command {
        p.commands
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no {name} in {:?}", p.commands))
    }

    fn code(src: &str) -> String {
        p(src)
            .code
            .iter()
            .map(|r| &src[r.span.clone()])
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn code_after_an_unconditional_jump_runs_only_from_the_next_label() {
        // What never runs, up to the next label, is neither a command nor code.
        let src = "@echo off\r\ngoto :skip\r\nwmic os get caption\r\npowershell -Command \"Get-LocalUser\"\r\n:skip\r\nver\r\n";
        assert_eq!(names(src), ["echo", "goto", "ver"]);
        assert!(!code(src).contains("wmic"), "{}", code(src));
        assert_spans_valid(src, &p(src));
        for (src, expected) in [
            ("goto skip\nwmic\n:skip\nver\n", vec!["goto", "ver"]),
            ("goto:eof\nwmic\n", vec!["goto:eof"]),
            ("GoTo :EOF\nwmic\n:sub\nver\n", vec!["GoTo", "ver"]),
            ("exit /b 0\nwmic\n:sub\nver\n", vec!["exit", "ver"]),
            ("exit\nwmic\n", vec!["exit"]),
            // The rest of its own line does not run either; a `::` comment is no label.
            (
                "goto end & wmic\n:: note\nwmic\n:end\nver\n",
                vec!["goto", "ver"],
            ),
            // A label inside a block, or after other text, still ends it.
            ("goto a\nwmic\n(\n:a\nver\n)\n", vec!["goto", "ver"]),
            ("goto %target%\nwmic\n  :x\nver\n", vec!["goto", "ver"]),
            // The same label jumped to twice, and code after a `call` (which returns).
            (
                "call :sub\nwmic\ngoto :eof\n:sub\nver\ngoto :eof\n",
                vec!["call", "wmic", "goto", "ver", "goto"],
            ),
        ] {
            assert_eq!(names(src), expected, "{src:?}");
        }
        // Conditional jumps: what follows may run.
        for src in [
            "if errorlevel 1 goto :fail\nwmic\n",
            "if exist x (goto :a) else goto :b\nwmic\n",
            "if exist x (\n  goto :a\n)\nwmic\n",
            "if exist x echo a & goto :a\nwmic\n",
            "for %%f in (*) do goto :a\nwmic\n",
            "ver || goto :fail\nwmic\n",
            "ver && exit /b\nwmic\n",
            "(\n  goto :a\n)\nwmic\n",
            "ver | exit\nwmic\n",
            "goto /?\nwmic\n",
            "goto\nwmic\n",
            "cmd /c \"goto :a & exit\"\nwmic\n",
            "for /f %%i in ('goto x') do echo\nwmic\n",
            // What `start` runs runs in a new process, `/b` in the same console.
            "start exit\nwmic\n",
            "start goto x\nwmic\n",
            "start /b goto x\nwmic\n",
            "start \"\" exit /b\nwmic\n",
            "start \"\" cmd /c exit\nwmic\n",
            "start /wait /b exit & wmic\n",
        ] {
            assert!(
                names(src).iter().any(|n| n == "wmic"),
                "{src:?}: {:?}",
                names(src)
            );
        }
        // `&` makes no condition: `ver & goto :a` always jumps.
        assert_eq!(names("ver & goto :a\nwmic\n:a\n"), ["ver", "goto"]);
        assert_eq!(
            names("ver || echo x & goto :a\nwmic\n:a\n"),
            ["ver", "echo", "goto"]
        );
    }

    #[test]
    fn carets_in_a_command_name_are_dropped() {
        let src = "w^mic os get caption\r\n";
        let p = p(src);
        let c = find(&p, "wmic");
        assert_eq!(c.text, "wmic os get caption");
        assert_eq!(&src[c.name_span.clone()], "w^mic");
        let at: Vec<usize> = (0..5).map(|i| c.map.to_source(i)).collect();
        assert_eq!(at, [0, 2, 3, 4, 5]);
        assert_spans_valid(src, &p);
        // Paths, suffixes and what the command runs follow from the unescaped name.
        assert_eq!(
            names("C:\\Windows\\System32\\wbem\\W^MIC.exe os\r\n"),
            ["WMIC"]
        );
        assert_eq!(names("c^md /c ver\r\n"), ["cmd", "ver"]);
        // Data stays data, and a caret-escaped separator is part of the word.
        assert_eq!(names("echo w^mic os\r\n"), ["echo"]);
        assert_eq!(names("w^&mic\r\n"), ["w&mic"]);
    }

    #[test]
    fn separators_and_prefixes() {
        assert_eq!(
            names("@echo off\nnet stop x && sc start y || exit /b 1\r\ndir | findstr a & ver 2>&1 >nul\n"),
            ["echo", "net", "sc", "exit", "dir", "findstr", "ver"]
        );
        assert_eq!(
            names("echo a ^& wmic os & echo \"b & wmic\" & C:\\Windows\\System32\\WMIC.exe os"),
            ["echo", "echo", "WMIC"]
        );
        let src = "@C:\\tools\\x.exe -a";
        let c = &p(src).commands[0];
        assert_eq!(c.name, "x");
        assert_eq!(&src[c.name_span.clone()], "C:\\tools\\x.exe");
        assert_eq!(c.text, "x -a");
    }

    #[test]
    fn comments_and_labels() {
        let src =
            "REM wmic os\n@rem wmic os\n:: wmic os\n:label\nrem. wmic\ngoto :eof\n:more\nREMOVE-ME x";
        assert_eq!(names(src), ["goto", "REMOVE-ME"]);
        let code = code(src);
        assert!(!code.contains("wmic"), "{code}");
        assert!(!code.contains(":label"), "{code}");
        assert!(code.contains("goto :eof"), "{code}");
        assert!(!code.contains('@'), "{code}");
    }

    #[test]
    fn if_and_else_blocks() {
        let src = "if exist C:\\x (\n  wmic os get caption\n  net user\n) else (\n  sc query x\n)\nif not defined V set V=1\nif errorlevel 1 goto fail\nif \"%a%\"==\"b\" schtasks /query\nif /i %x% equ y reg query HKLM\nif %a%==b (ipconfig) else (route print)";
        assert_eq!(
            names(src),
            ["wmic", "net", "sc", "set", "goto", "schtasks", "reg", "ipconfig", "route"]
        );
    }

    #[test]
    fn for_loops_run_their_command_and_body() {
        let src = "for /f %%p in ('tasklist ^| findstr x') do echo %%p\nfor /f \"tokens=2 delims==\" %%i in ('wmic os get caption /value') do echo %%i\nfor %%f in (*.txt) do (\n  type %%f\n)\nfor /f \"usebackq\" %%a in (`ver`) do call :x %%a\nfor /l %%n in (1,1,3) do ping -n 1 h%%n";
        let parsed = p(src);
        let n: Vec<_> = parsed.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            n,
            ["tasklist", "findstr", "echo", "wmic", "echo", "type", "ver", "call", "ping"]
        );
        let f = find(&parsed, "findstr");
        assert_eq!(&src[f.name_span.clone()], "findstr");
        let w = find(&parsed, "wmic");
        assert_eq!(&src[w.name_span.clone()], "wmic");
        assert_eq!(w.text, "wmic os get caption /value");
        assert!(!code(src).contains("*.txt"));
    }

    #[test]
    fn call_and_start_are_seen_through() {
        let src = "call :sub arg\ncall other.bat x\ncall wmic os\nstart \"title\" /wait /b /min notepad.exe f.txt\nstart /d C:\\x prog\nstart \"\" \"C:\\Program Files\\App\\app.exe\" -x";
        assert_eq!(
            names(src),
            [
                "call", "call", "other", "call", "wmic", "start", "notepad", "start", "prog",
                "start", "app"
            ]
        );
    }

    #[test]
    fn leading_redirections_are_not_commands() {
        assert_eq!(
            names(">nul 2>&1 wmic os\n2>nul ver & >>log.txt hostname"),
            ["wmic", "ver", "hostname"]
        );
    }

    #[test]
    fn dynamic_names_are_skipped() {
        assert_eq!(names("%TOOL% /c x\n!tool! y\n%%i\nfoo"), ["foo"]);
        let src =
            "%~dp0tools\\wget.exe -q x\n\"%~dp0curl.exe\" -s\n%ProgramFiles%\\7-Zip\\7z.exe a";
        let parsed = p(src);
        let n: Vec<_> = parsed.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(n, ["wget", "curl", "7z"]);
        assert_eq!(parsed.commands[0].text, "wget -q x");
    }

    #[test]
    fn caret_continuation_joins_lines() {
        let src = "wmic ^\r\n  os get ^\n  caption & ver";
        let parsed = p(src);
        let w = find(&parsed, "wmic");
        assert_eq!(
            w.text.split_whitespace().collect::<Vec<_>>(),
            ["wmic", "os", "get", "caption"]
        );
        assert_eq!(names(src), ["wmic", "ver"]);
    }

    #[test]
    fn crlf_gives_the_same_commands() {
        let lf = "@echo off\nif exist x (\n  wmic os\n) else (\n  ver\n)\nfor /f %%i in ('hostname') do echo %%i\n";
        let crlf = lf.replace('\n', "\r\n");
        let t = |p: &Parsed| {
            p.commands
                .iter()
                .map(|c| c.text.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(t(&p(lf)), t(&p(&crlf)));
        assert_eq!(t(&p(lf)).len(), 5);
    }

    #[test]
    fn cmd_c_is_batch_code() {
        let src = "cmd /c \"wmic os get caption\"\ncmd.exe /k ver & dir";
        let parsed = p(src);
        let w = find(&parsed, "wmic");
        assert_eq!(&src[w.name_span.clone()], "wmic");
        assert_eq!(names(src), ["cmd", "wmic", "cmd", "ver", "dir"]);
    }

    #[test]
    fn comspec_is_cmd() {
        let src = "%COMSPEC% /c \"wmic os get caption\"\r\n%ComSpec% /s /k ver & dir\n\"%comspec%\" /C hostname";
        let parsed = p(src);
        assert_eq!(
            names(src),
            ["cmd", "wmic", "cmd", "ver", "dir", "cmd", "hostname"]
        );
        let w = find(&parsed, "wmic");
        assert_eq!(&src[w.name_span.clone()], "wmic");
        assert_eq!(w.text, "wmic os get caption");
        let c = &parsed.commands[0];
        assert_eq!(&src[c.name_span.clone()], "%COMSPEC%");
        assert_eq!(c.text, "cmd /c \"wmic os get caption\"");
        // The text maps back: `/c` is where it is written.
        let at = c.text.find("/c").unwrap();
        assert_eq!(&src[c.map.to_source(at)..c.map.to_source(at) + 2], "/c");
        assert_spans_valid(src, &parsed);
        // Any other variable is still decided at run time, and echoing %COMSPEC% runs nothing.
        assert_eq!(names("%SHELL% /c ver\necho %COMSPEC% /c ver"), ["echo"]);
    }

    #[test]
    fn a_powershell_name_is_read_as_the_powershell_started_reads_it() {
        // `pwsh` reads `` `e `` as ESC; Windows PowerShell reads the letter.
        assert_eq!(
            names("pwsh -c G`et-Command x\npowershell -c G`et-Command y\n"),
            ["pwsh", "powershell", "Get-Command"]
        );
    }

    #[test]
    fn powershell_command_is_powershell() {
        let src = "powershell.exe -NoProfile -ExecutionPolicy Bypass -Command \"Get-LocalUser -Name \\\"a b\\\" | Where-Object { $_.Enabled }\"\npowershell -File x.ps1 Get-Nope\npwsh -c Get-Disk ^| Format-List";
        let parsed = p(src);
        let n: Vec<_> = parsed
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.language))
            .collect();
        use Language::PowerShell as PS;
        assert_eq!(
            n,
            [
                ("powershell", BAT),
                ("Get-LocalUser", PS),
                ("Where-Object", PS),
                ("powershell", BAT),
                ("pwsh", BAT),
                ("Get-Disk", PS),
                ("Format-List", PS)
            ]
        );
        let g = find(&parsed, "Get-LocalUser");
        assert_eq!(&src[g.name_span.clone()], "Get-LocalUser");
        let w = find(&parsed, "Where-Object");
        let at = w.text.find("$_").unwrap();
        assert_eq!(w.map.to_source(at), src.find("$_").unwrap());
        let f = find(&parsed, "Format-List");
        assert_eq!(&src[f.name_span.clone()], "Format-List");
        // The PowerShell code is PowerShell code, not batch code.
        let ps_region = parsed
            .code
            .iter()
            .find(|r| r.language == PS)
            .expect("a PowerShell region");
        assert!(src[ps_region.span.clone()].starts_with("Get-LocalUser"));
        assert!(!parsed
            .code
            .iter()
            .any(|r| r.language == BAT && src[r.span.clone()].contains("Get-LocalUser")));
    }

    #[test]
    fn psexec_runs_on_its_host() {
        let src = "psexec \\\\OLDSRV -u admin -p secret -s -i 1 -accepteula cmd /c \"wmic os get caption\"\nver\npsexec -accepteula -s \\\\NEWSRV,OTHER hostname\npsexec \\\\* ipconfig";
        let parsed = p(src);
        assert_eq!(find(&parsed, "psexec").host, None);
        assert_eq!(find(&parsed, "cmd").host.as_deref(), Some("OLDSRV"));
        let w = find(&parsed, "wmic");
        assert_eq!(w.host.as_deref(), Some("OLDSRV"));
        assert_eq!(&src[w.name_span.clone()], "wmic");
        assert_eq!(find(&parsed, "ver").host, None);
        assert_eq!(find(&parsed, "hostname").host.as_deref(), Some("NEWSRV"));
        // `\\a,b` runs the command on each host, at the same span.
        let on: Vec<_> = parsed
            .commands
            .iter()
            .filter(|c| c.name == "hostname")
            .map(|c| (c.host.as_deref(), c.name_span.clone()))
            .collect();
        assert_eq!(on.len(), 2);
        assert_eq!((on[0].0, on[1].0), (Some("NEWSRV"), Some("OTHER")));
        assert_eq!(on[0].1, on[1].1);
        assert!(parsed
            .code
            .iter()
            .any(|r| r.host.as_deref() == Some("OTHER")));
        assert!(parsed.commands.iter().all(|c| c.name != "ipconfig"));
        assert!(parsed
            .code
            .iter()
            .any(|r| r.host.as_deref() == Some("OLDSRV")));
    }

    #[test]
    fn bash_and_ssh_inner_code() {
        let src = "bash -c \"sed -i s/a/b/ f\"\r\nwsl -e grep -P x y\r\nssh -p 22 root@nas01 \"stat -c %s f\"";
        let parsed = p(src);
        let sed = find(&parsed, "sed");
        assert_eq!(sed.language, Language::Bash);
        assert_eq!(&src[sed.name_span.clone()], "sed");
        assert_eq!(find(&parsed, "grep").language, Language::Bash);
        let stat = find(&parsed, "stat");
        assert_eq!(stat.host.as_deref(), Some("nas01"));
        assert_eq!(stat.text, "stat -c %s f");
    }

    #[test]
    fn data_arguments_are_not_code() {
        let src = "echo Install with && wmic\nset X=wmic os\ntitle wmic\nver";
        let code = code(src);
        assert!(!code.contains("Install"), "{code}");
        assert!(!code.contains("X=wmic"), "{code}");
        assert!(code.contains("ver"), "{code}");
        // `&&` in echo's line still separates: the wmic after it runs.
        assert_eq!(names(src), ["echo", "wmic", "set", "title", "ver"]);
    }

    #[test]
    fn deep_nesting_and_garbage() {
        let n = 5000;
        let src = format!("{}wmic os{}", "if 1==1 (".repeat(n), ")".repeat(n));
        assert!(names(&src).contains(&"wmic".to_string()));
        for src in [
            "",
            "^",
            "\"",
            "(((",
            ")))",
            "if",
            "if not",
            "if ==",
            "for",
            "for %%i in (",
            "for /f %%i in ('",
            "call",
            "start \"",
            "cmd /c",
            "cmd /c \"",
            "powershell -c",
            "powershell -enc",
            "psexec",
            "psexec \\\\",
            ":",
            "&&||&|",
            "^\r\n",
            "é ü \u{0}",
            "^é",
            "echo ^é&ver^",
            "for /f %%i in ('^é') do ^é",
            "cmd /c ^é\"",
            "powershell -c ^é",
            "%~dp0é",
            "%~dp0",
            "psexec \\\\h ^é",
        ] {
            assert_spans_valid(src, &p(src));
        }
        let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let junk = String::from_utf8_lossy(&bytes);
        assert_spans_valid(&junk, &p(&junk));
    }

    /// `cargo test --release --lib script::batch::tests::speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn speed() {
        let block = "@echo off\nREM check the system\nif exist C:\\x (\n  wmic os get caption ^\n    /value\n) else (\n  ver & hostname\n)\nfor /f \"tokens=2\" %%i in ('tasklist /fi \"imagename eq x.exe\"') do echo %%i\npowershell -NoProfile -Command \"Get-Service | Where-Object { $_.Status -eq 'Running' }\"\npsexec \\\\SRV -s cmd /c \"net user\"\n";
        let lines = block.lines().count();
        let src = block.repeat(10_000 / lines + 1);
        let t = std::time::Instant::now();
        let parsed = parse(&src);
        println!(
            "{} lines, {} bytes: {:?} (wall), {} commands, {} regions",
            src.lines().count(),
            src.len(),
            t.elapsed(),
            parsed.commands.len(),
            parsed.code.len()
        );
        assert!(parsed.commands.len() > 10_000);
    }

    #[test]
    fn random_token_soup_never_panics() {
        let tokens = [
            "^",
            "^\n",
            "\"",
            "'",
            "`",
            "\n",
            "\r\n",
            "(",
            ")",
            "&",
            "&&",
            "|",
            "||",
            "@",
            ":",
            "::",
            "rem ",
            "if ",
            "not ",
            "exist ",
            "==",
            "for /f ",
            "%%i ",
            "in ",
            "('",
            "')",
            "do ",
            "call ",
            "start ",
            "cmd /c ",
            "powershell -Command ",
            "psexec \\\\h ",
            "echo ",
            "set ",
            "%~dp0",
            "%X%",
            "é",
            " ",
            ">",
            "2>&1",
            "else ",
        ];
        crate::script::assert_token_soup_is_safe(&tokens, Language::Batch);
    }

    #[test]
    fn realistic_script() {
        let src = include_str!("../../tests/fixtures/batch/deploy.bat");
        for src in [src.to_string(), src.replace('\n', "\r\n")] {
            let parsed = p(&src);
            assert_spans_valid(&src, &parsed);
            let got: Vec<(&str, Option<&str>, Language)> = parsed
                .commands
                .iter()
                .map(|c| (c.name.as_str(), c.host.as_deref(), c.language))
                .collect();
            use Language::PowerShell as PS;
            let old = Some("OLDSRV");
            let want: Vec<(&str, Option<&str>, Language)> = vec![
                ("echo", None, BAT),
                ("setlocal", None, BAT),
                ("set", None, BAT),
                ("mkdir", None, BAT),
                ("echo", None, BAT),
                ("wmic", None, BAT),
                ("findstr", None, BAT),
                ("set", None, BAT),
                ("msiexec", None, BAT),
                ("goto", None, BAT),
                ("call", None, BAT),
                ("call", None, BAT),
                ("register", None, BAT),
                ("start", None, BAT),
                ("agent", None, BAT),
                ("powershell", None, BAT),
                ("Get-LocalUser", None, PS),
                ("Where-Object", None, PS),
                ("Export-Csv", None, PS),
                ("psexec", None, BAT),
                ("cmd", old, BAT),
                ("sc", old, BAT),
                ("sc", None, BAT),
                ("find", None, BAT),
                ("net", None, BAT),
                ("echo", None, BAT),
                ("goto", None, BAT),
                ("bitsadmin", None, BAT),
                ("exit", None, BAT),
                ("echo", None, BAT),
                ("exit", None, BAT),
            ];
            assert_eq!(got, want);
            assert_eq!(find(&parsed, "net").text, "net stop wuauserv");
            // Comments and echo text are not code; the wmic that runs is.
            let wmic_in_code = parsed
                .code
                .iter()
                .filter(|r| src[r.span.clone()].contains("wmic"))
                .count();
            assert_eq!(wmic_in_code, 1);
        }
    }
}
