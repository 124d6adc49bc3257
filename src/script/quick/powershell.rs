//! The PowerShell reader of [`super`]: ordinary PowerShell statements without tree-sitter.
//!
//! It reads a small grammar, the statements most scripts are made of, byte by byte, and gives
//! up on the first byte it is not sure of:
//!
//! - pipelines of commands (`a | b`, a line break after the `|`), whose name is a plain word
//!   (letters, digits, `_ - . \ /`, a drive `C:\`) and whose arguments are parameters
//!   (`-Name`, `--opt3`, `-Name:value`), bare words, integers, `'verbatim'` and `"expandable"`
//!   strings (holding `$var`, `$env:X` and `$( … )` of this grammar, no escapes), variables
//!   with members (`$_.Name`, `$r.Content`), script blocks `{ … }`, sub-expressions `$( … )`
//!   and parenthesised pipelines `( … )`, with members (`(Get-FileHash x).Hash`), and
//!   redirections (`2>&1`, `2>$null`, `> out.txt`, `2>> $log`);
//! - `$x = ` such a pipeline or a value; a value alone, or values compared (`$_.Enabled`,
//!   `$_.Name -like 'adm*'`), as script blocks hold them; a type's property as a value or
//!   assigned (`[Net.ServicePointManager]::SecurityProtocol = …`);
//! - `if (pipeline) { … }` with `elseif`/`else`, also `-not (pipeline)`, `!(pipeline)` and
//!   values compared (`$LASTEXITCODE -ne 0`, joined by `-and`/`-or`), when the condition looks
//!   no name up (no `Get-Command`) and reads no version or OS probe ([`PROBES`]): nothing the
//!   walk reads a guard or a version check from;
//! - `foreach ($x in $list) { … }` (a variable or a parenthesised pipeline as the list),
//!   `try { … }` with untyped `catch { … }` and `finally { … }`, and `throw`, `return`,
//!   `exit` (with a value), `break` and `continue` (without a label);
//! - `Invoke-Command` (`icm`) sending one block to one host, the way the walk's
//!   `invoke_command` reads it: `-ComputerName NAME` (or a prefix of it, `-cn`, `-HostName`) or
//!   `NAME` first among the positional arguments, and `-ScriptBlock { … }` (`-sc`) or the
//!   positional block after the name, in either order; `NAME` a word or a string
//!   ([`ps::host_list`] gives one name). The commands and code regions of the block run on NAME
//!   (as written: `localhost` too, which the engine reads as this machine): the checks and
//!   `#Requires` lines of this script prove nothing there, and a region ends at the block's
//!   braces. A session, a list, a variable, a switch, another parameter, a nested
//!   `Invoke-Command`, or one in a condition, is declined;
//! - `;`, line breaks (LF or CRLF), indenting tabs and `#` comments between statements.
//!
//! A stretch of comments alone is declined too: tree-sitter confirms no stretch without a
//! statement.
//!
//! It declines every other keyword (`function`, `param`, `switch`, …), every other name the
//! walk reads more closely (one that runs code, changes host or opens a session, [`SPECIAL`]),
//! backticks, here-strings, `@`, casts and other `[`, `,`, `&`, `?`, other redirections, block
//! comments and anything not ASCII.
//!
//! What it finds is handed to the walk's own pieces ([`ps::resolve_name`],
//! [`ps::build_command`], [`Facts::mark`], [`ps::push_word`]), so a command it reads is the
//! command the walk makes. The grammar it follows is tree-sitter-powershell's reading of the
//! same-length rewrite [`ps::patch_ps7`] makes of a stretch (a keyword glued to a noun,
//! `ForEach-Object`, is a plain name there, and `--opt3` a parameter), which is what a
//! sparse parse hands tree-sitter; every command and region is cut from the original text.

use std::ops::Range;
use std::rc::Rc;

use crate::script::os::Passed;
use crate::script::powershell::{self as ps, Facts};
use crate::script::{command_name, CodeRegion, Language, Parsed, CHANGES_HOST};

const PS: Language = Language::PowerShell;

/// How deep blocks, sub-expressions and parentheses may nest before the reader declines.
const MAX_DEPTH: u32 = 24;

/// Command names (lowercase, as written, aliases included) the walk reads more closely than a
/// plain command: they run a string or a block as code, run it elsewhere, open or leave a
/// session, or start a process. A statement naming one goes to tree-sitter (so does any name
/// of [`CHANGES_HOST`] and of [`crate::script::sparse_ps::RUNS_CODE`]), but for the
/// `Invoke-Command`s [`Reader::invoke_command`] reads.
const SPECIAL: &[&str] = &[
    "bash",
    "cmd",
    "dash",
    "enter-pssession",
    "etsn",
    "exit-pssession",
    "exsn",
    "iex",
    "icm",
    "invoke-command",
    "invoke-expression",
    "ksh",
    "new-pssession",
    "nsn",
    "powershell",
    "psexec",
    "psexec64",
    "pwsh",
    "sajb",
    "saps",
    "sh",
    "ssh",
    "start",
    "start-job",
    "start-process",
    "wsl",
    "zsh",
];

/// Variables (lowercase, scope left out, or with it) a condition reads a version or an OS
/// from: a condition naming one goes to tree-sitter.
const PROBES: &[&str] = &[
    "env:os",
    "host",
    "islinux",
    "ismacos",
    "iswindows",
    "psversiontable",
];

/// The names whose lookup proves a command present in a condition ([`Facts::names`]).
const LOOKUPS: &[&str] = &["gcm", "get-command"];

/// The comparison (and bitwise) operators a value statement may hold (`$_.Name -like 'adm*'`).
const COMPARISONS: &[&str] = &[
    "and",
    "band",
    "bor",
    "contains",
    "eq",
    "ge",
    "gt",
    "in",
    "le",
    "like",
    "lt",
    "match",
    "ne",
    "notcontains",
    "notin",
    "notlike",
    "notmatch",
    "or",
];

/// Adds what the top-level statements of `span` of `src` hold to `out`, as the tree-sitter
/// walk would, and returns true; false when not sure of all of it (the caller undoes any
/// partial output). `pwsh`: the document declares PowerShell 6 or later.
pub(crate) fn read(
    src: &str,
    span: Range<usize>,
    passed: &Passed,
    pwsh: bool,
    out: &mut Parsed,
) -> bool {
    let Some(text) = src.get(span.clone()) else {
        return false;
    };
    // An empty stretch is no program tree-sitter confirms.
    if text.is_empty() || !text.is_ascii() {
        return false;
    }
    let mut r = Reader {
        src,
        b: src.as_bytes(),
        i: span.start,
        end: span.end,
        cmds: Vec::new(),
        region: None,
        regions: Vec::new(),
        depth: 0,
        condition: false,
        remote: None,
        hosts: Vec::new(),
    };
    if r.statements(None).is_none() {
        return false;
    }
    r.flush();
    // A stretch of only comments is no program tree-sitter confirms.
    if r.regions.is_empty() {
        return false;
    }
    let Some(hosts) = r.hosts.into_iter().collect::<Option<Vec<Rc<str>>>>() else {
        return false;
    };
    let host = |k: Option<u32>| k.and_then(|k| hosts.get(k as usize)).map(|h| &**h);
    // Code the script's own PowerShell reads: what its `#Requires` lines declare (a remote
    // host runs its own PowerShell, as the walk's `required_on` says).
    let required = passed.required();
    out.code
        .extend(r.regions.into_iter().map(|(span, on)| CodeRegion {
            span,
            language: PS,
            host: host(on).map(str::to_string),
            min_powershell: required.filter(|_| on.is_none()),
        }));
    for c in &r.cmds {
        for w in &c.words {
            ps::push_word(out, src, w.clone());
        }
        // What the checks that ended the script proved holds on this machine only.
        let checks = (!passed.is_empty() && c.host.is_none()).then_some(passed);
        let proven = match checks {
            Some(p) => Facts::default().after_checks(p, c.word.start),
            None => Facts::default(),
        };
        let Some((name, _, alias)) = ps::resolve_name(&src[c.word.clone()], pwsh, &proven) else {
            return false;
        };
        // Only the checks that ended the script may prove the name present here.
        let resolved = match checks {
            Some(_) => alias.unwrap_or(name).to_ascii_lowercase(),
            None => String::new(),
        };
        // The text leaves out the inside of long blocks, as the walk's does.
        let mut pieces = Vec::with_capacity(c.elided.len() + 1);
        let mut at = c.word.end.min(c.end);
        for inner in &c.elided {
            if inner.start >= at && inner.end <= c.end {
                pieces.push(at..inner.start);
                at = inner.end;
            }
        }
        pieces.push(at..c.end.max(at));
        let mut cmd = ps::build_command(
            src,
            None,
            c.word.clone(),
            alias,
            None,
            &pieces,
            host(c.host),
        );
        proven.mark(&mut cmd, &resolved, checks, c.word.start);
        out.commands.push(cmd);
    }
    true
}

/// A command read: its name word, where it ends, its argument words, the insides of its
/// long block arguments, and the host it runs on (an index of [`Reader::hosts`]).
struct Cmd {
    word: Range<usize>,
    end: usize,
    words: Vec<Range<usize>>,
    elided: Vec<Range<usize>>,
    host: Option<u32>,
}

struct Reader<'s> {
    src: &'s str,
    b: &'s [u8],
    i: usize,
    end: usize,
    /// The commands, in the order the walk meets them (a command before those of its blocks).
    cmds: Vec<Cmd>,
    /// The code region being grown, and those done, with the host they run on.
    region: Option<(Range<usize>, Option<u32>)>,
    regions: Vec<(Range<usize>, Option<u32>)>,
    depth: u32,
    /// Reading an `if` condition.
    condition: bool,
    /// Reading the block an `Invoke-Command` sends to the host of this index.
    remote: Option<u32>,
    /// The hosts of the `Invoke-Command`s read, by index; `None` until its name is read
    /// (`-ScriptBlock { … } -ComputerName NAME` names it after the block).
    hosts: Vec<Option<Rc<str>>>,
}

/// A byte that ends an argument (0 is the end of the stretch).
fn ends_element(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b')' | b'}' | 0
    )
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A byte of a command name or a bare word.
fn is_word_byte(c: u8) -> bool {
    is_ident(c) || matches!(c, b'-' | b'.' | b':' | b'\\' | b'/')
}

/// An operator of [`COMPARISONS`], maybe made case-insensitive or -sensitive (`-ieq`, `-ceq`;
/// the grammar knows no `-iin`).
fn is_comparison(op: &[u8]) -> bool {
    let known = |op: &[u8]| {
        COMPARISONS
            .iter()
            .any(|o| o.as_bytes().eq_ignore_ascii_case(op))
    };
    let unprefixed = |op: &[u8]| {
        ["and", "band", "bor", "in", "notin", "or"]
            .iter()
            .any(|o| o.as_bytes().eq_ignore_ascii_case(op))
    };
    known(op)
        || (matches!(op.first().map(u8::to_ascii_lowercase), Some(b'i' | b'c'))
            && known(&op[1..])
            && !unprefixed(&op[1..]))
}

fn is_keyword(word: &[u8]) -> bool {
    ps::KEYWORDS
        .iter()
        .any(|k| k.as_bytes().eq_ignore_ascii_case(word))
}

impl Reader<'_> {
    /// The byte at `k`, 0 past the stretch.
    fn at(&self, k: usize) -> u8 {
        if k < self.end {
            self.b[k]
        } else {
            0
        }
    }

    fn peek(&self) -> u8 {
        self.at(self.i)
    }

    /// Skips blanks; whether there were any. A tab only indents: after a word the grammar
    /// reads it as part of the next one (`tool a<TAB>b` is an error).
    fn blanks(&mut self) -> bool {
        let start = self.i;
        // Whether the blanks skipped so far indent: asked once per run, as asking at each
        // tab (a walk back over the run) made a long indent quadratic.
        let mut indents = None;
        loop {
            match self.peek() {
                b' ' => self.i += 1,
                b'\t' if *indents.get_or_insert_with(|| self.indents()) => self.i += 1,
                _ => break,
            }
        }
        self.i > start
    }

    /// Whether only blanks are between the line start and here.
    fn indents(&self) -> bool {
        let line = &self.b[..self.i];
        let blanks = line
            .iter()
            .rev()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        matches!(
            line.len().checked_sub(blanks + 1).map(|k| line[k]),
            None | Some(b'\n')
        )
    }

    /// Skips one line break (LF or CRLF); whether there was one.
    fn newline(&mut self) -> bool {
        match (self.peek(), self.at(self.i + 1)) {
            (b'\n', _) => self.i += 1,
            (b'\r', b'\n') => self.i += 2,
            _ => return false,
        }
        true
    }

    /// The byte `c` here, read as code; `None` when another is here.
    fn expect(&mut self, c: u8) -> Option<()> {
        if self.peek() != c {
            return None;
        }
        self.code(self.i..self.i + 1);
        self.i += 1;
        Some(())
    }

    /// Blanks and line breaks, up to the next thing on a line.
    fn blank_lines(&mut self) {
        self.blanks();
        while self.newline() {
            self.blanks();
        }
    }

    /// The end of the run of identifier bytes from `k`.
    fn ident_end(&self, mut k: usize) -> usize {
        while is_ident(self.at(k)) {
            k += 1;
        }
        k
    }

    /// A code token: the region being grown reaches over it, if it runs on the same host.
    fn code(&mut self, r: Range<usize>) {
        match &mut self.region {
            // The regions of two hosts never touch: the block of one is always between code
            // of this machine (its `Invoke-Command`, its `}`), so an index is as good as a name.
            Some((g, on)) if *on == self.remote => g.end = r.end,
            _ => {
                self.flush();
                self.region = Some((r, self.remote));
            }
        }
    }

    /// Data (a comment, a string): the region being grown ends.
    fn flush(&mut self) {
        if let Some(r) = self.region.take() {
            self.regions.push(r);
        }
    }

    /// Statements up to `close` (`)` or `}`, left unread) or the end of the stretch; how many.
    fn statements(&mut self, close: Option<u8>) -> Option<usize> {
        let mut read = 0;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        loop {
            self.blanks();
            match self.peek() {
                0 if self.i >= self.end => {
                    if close.is_some() {
                        return None;
                    }
                    break;
                }
                b'\n' | b'\r' => {
                    if !self.newline() {
                        return None;
                    }
                }
                b'#' => self.comment(),
                b';' => {
                    self.code(self.i..self.i + 1);
                    self.i += 1;
                }
                c if Some(c) == close => break,
                _ => {
                    self.statement()?;
                    read += 1;
                    let blank = self.blanks();
                    match self.peek() {
                        0 if self.i >= self.end => {}
                        b'\n' | b'\r' | b';' => {}
                        b'#' if blank => {}
                        c if Some(c) == close => {}
                        _ => return None,
                    }
                }
            }
        }
        self.depth -= 1;
        Some(read)
    }

    /// A `#` comment, up to the line break. The grammar's comment also ends at a `\r` alone,
    /// after which what follows is code (`tool # a<CR>b` passes `b` to `tool`): stopped
    /// there, the reader declines the lone `\r` as it does anywhere else.
    fn comment(&mut self) {
        self.flush();
        while !matches!(self.peek(), b'\n' | b'\r' | 0) {
            self.i += 1;
        }
    }

    fn statement(&mut self) -> Option<()> {
        match self.peek() {
            b'$' | b'[' => self.assignment_or_value(),
            b'\'' | b'"' => self.value(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                if !self.keyword_at(self.i) {
                    return self.pipeline();
                }
                let run = self.ident_end(self.i);
                let word = self.b[self.i..run].to_ascii_lowercase();
                let next = self.at(run);
                let opens = |c: u8| matches!(c, b' ' | b'\t' | b'{' | b'\n' | b'\r');
                match word.as_slice() {
                    b"if" if matches!(next, b' ' | b'\t' | b'(') => self.if_statement(),
                    b"foreach" if matches!(next, b' ' | b'(') => self.foreach_statement(run),
                    b"try" if opens(next) => self.try_statement(run),
                    b"throw" | b"return" | b"exit" | b"break" | b"continue" => {
                        self.code(self.i..run);
                        self.i = run;
                        let save = self.i;
                        self.blanks();
                        match self.peek() {
                            b'\n' | b'\r' | b';' | b'}' | b'#' | 0 => {
                                self.i = save;
                                Some(())
                            }
                            // `break outer`: a label, read no further.
                            _ if matches!(word.as_slice(), b"break" | b"continue") => None,
                            _ => self.value(),
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `foreach ($x in $list) { … }` (the list a variable or a parenthesised pipeline), the
    /// keyword read up to `run`.
    fn foreach_statement(&mut self, run: usize) -> Option<()> {
        self.code(self.i..run);
        self.i = run;
        self.blanks();
        self.expect(b'(')?;
        self.blanks();
        let v = self.i;
        if self.peek() != b'$' {
            return None;
        }
        self.variable(false)?;
        self.code(v..self.i);
        if !self.blanks() {
            return None;
        }
        let s = self.i;
        let end = self.ident_end(s);
        if !self.b[s..end].eq_ignore_ascii_case(b"in") || self.at(end) != b' ' {
            return None;
        }
        self.code(s..end);
        self.i = end;
        self.blanks();
        match self.peek() {
            b'$' if self.at(self.i + 1) != b'(' => {
                let v = self.i;
                self.variable(true)?;
                self.code(v..self.i);
            }
            b'(' => self.parenthesised()?,
            _ => return None,
        }
        self.blanks();
        self.expect(b')')?;
        self.block()
    }

    /// `try { … }` with `catch { … }` (no exception type) and `finally { … }`, the keyword
    /// read up to `run`.
    fn try_statement(&mut self, run: usize) -> Option<()> {
        self.code(self.i..run);
        self.i = run;
        self.block()?;
        let mut clauses = 0;
        loop {
            let save = self.i;
            self.blank_lines();
            let s = self.i;
            let end = self.ident_end(s);
            let word = &self.b[s..end];
            let opens = matches!(self.at(end), b' ' | b'\t' | b'{' | b'\n' | b'\r');
            let catch = word.eq_ignore_ascii_case(b"catch");
            if opens && (catch || word.eq_ignore_ascii_case(b"finally")) {
                self.code(s..end);
                self.i = end;
                self.block()?;
                clauses += 1;
                if !catch {
                    break;
                }
            } else {
                self.i = save;
                break;
            }
        }
        (clauses > 0).then_some(())
    }

    /// Whether a keyword the grammar would read starts the word at `i`: one not glued to a
    /// noun by `-` (`ForEach-Object`), which [`ps::patch_ps7`] turns into a plain word.
    fn keyword_at(&self, i: usize) -> bool {
        let run = self.ident_end(i);
        is_keyword(&self.b[i..run])
            && !(self.at(run) == b'-' && self.at(run + 1).is_ascii_alphabetic())
    }

    fn pipeline(&mut self) -> Option<()> {
        self.command()?;
        self.pipe_rest()
    }

    /// The `| command`s after the first element of a pipeline.
    fn pipe_rest(&mut self) -> Option<()> {
        loop {
            let save = self.i;
            self.blanks();
            if self.peek() != b'|' || self.at(self.i + 1) == b'|' {
                self.i = save;
                return Some(());
            }
            self.code(self.i..self.i + 1);
            self.i += 1;
            self.blanks();
            if self.newline() {
                self.blanks();
            }
            self.command()?;
        }
    }

    fn command(&mut self) -> Option<()> {
        let start = self.i;
        let c = self.peek();
        if !(c.is_ascii_alphabetic() || c == b'_') || self.keyword_at(start) {
            return None;
        }
        let mut j = start;
        while is_word_byte(self.at(j)) {
            j += 1;
        }
        let word = std::str::from_utf8(&self.b[start..j]).ok()?;
        // A `:` only after a drive letter (`C:\tools\x.exe`): `a:b` may be a drive's item.
        let colon = word.find(':');
        if !ends_element(self.at(j))
            || colon.is_some_and(|c| c != 1 || !matches!(self.at(start + 2), b'\\' | b'/'))
            || word[colon.map_or(0, |c| c + 1)..].contains(':')
            || word.contains("..")
        {
            return None;
        }
        let name = command_name(word, PS).0;
        let named = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
        // `Invoke-Command` as written (no path, no suffix), outside a condition and a remote
        // block: sending one block to one named host is read.
        let remote = ["invoke-command", "icm"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(word))
            && !self.condition
            && self.remote.is_none();
        if !remote
            && (named(SPECIAL)
                || named(CHANGES_HOST)
                || named(crate::script::sparse_ps::RUNS_CODE)
                || (self.condition && named(LOOKUPS)))
        {
            return None;
        }
        self.code(start..j);
        let k = self.cmds.len();
        self.cmds.push(Cmd {
            word: start..j,
            end: j,
            words: Vec::new(),
            elided: Vec::new(),
            host: self.remote,
        });
        self.i = j;
        if remote {
            return self.invoke_command(k);
        }
        loop {
            if !self.another_argument() {
                break;
            }
            let end = self.element(k)?;
            self.cmds[k].end = end;
            if !ends_element(self.peek()) {
                return None;
            }
        }
        Some(())
    }

    /// Whether blanks and then another argument of the command follow (read up to it); at the
    /// end of the command, nothing is read.
    fn another_argument(&mut self) -> bool {
        let save = self.i;
        if !self.blanks() {
            return false;
        }
        if matches!(
            self.peek(),
            b'\n' | b'\r' | b';' | b'|' | b')' | b'}' | b'#' | 0
        ) {
            self.i = save;
            return false;
        }
        true
    }

    /// The arguments of `Invoke-Command` (the command `k`) that send one block to one host, as
    /// the walk's `invoke_command` reads them: the host a name or a string after a computer
    /// parameter ([`ps::is_computer_param`]) or first among the positional arguments, the
    /// block after `-ScriptBlock` or the first positional one after the host. Anything else
    /// (a session, a list, a variable, a switch, another parameter) is declined.
    fn invoke_command(&mut self, k: usize) -> Option<()> {
        #[derive(PartialEq)]
        enum Wants {
            Nothing,
            Host,
            Block,
        }
        let at = self.hosts.len();
        self.hosts.push(None);
        let (mut host, mut block, mut positional_block) = (false, false, false);
        let mut wants = Wants::Nothing;
        loop {
            if !self.another_argument() {
                break;
            }
            let s = self.i;
            match self.peek() {
                // One dash: `--cn` may be no parameter to the grammar.
                b'-' if wants == Wants::Nothing && self.at(s + 1) != b'-' => {
                    self.element(k)?;
                    let param = &self.b[s..self.i];
                    if param.contains(&b':') {
                        return None;
                    }
                    let p = ps::param_name(std::str::from_utf8(param).ok()?);
                    wants = if ps::is_computer_param(&p) && !host {
                        Wants::Host
                    } else if ps::is_scriptblock_param(&p) && !block {
                        Wants::Block
                    } else {
                        return None;
                    };
                }
                b'{' if wants != Wants::Host && !block => {
                    // A positional block names no host after it.
                    positional_block = wants == Wants::Nothing;
                    wants = Wants::Nothing;
                    block = true;
                    self.remote = Some(u32::try_from(at).ok()?);
                    let read = self.enclosed(b'}');
                    self.remote = None;
                    read?;
                    self.elide(k, s, 1);
                }
                // A name or a string; a host named before the block when both are positional.
                c if c.is_ascii_alphabetic() || c == b'\'' || c == b'"' => {
                    if wants == Wants::Block
                        || host
                        || (wants == Wants::Nothing && positional_block)
                    {
                        return None;
                    }
                    let (names, end) = ps::host_list(self.src, s);
                    self.element(k)?;
                    let [name] = names.as_slice() else {
                        return None;
                    };
                    if self.i != end {
                        return None;
                    }
                    self.hosts[at] = Some(name.clone());
                    wants = Wants::Nothing;
                    host = true;
                }
                _ => return None,
            }
            self.cmds[k].end = self.i;
            if !ends_element(self.peek()) {
                return None;
            }
        }
        (host && block && wants == Wants::Nothing).then_some(())
    }

    /// One argument of the command `k`; its end.
    fn element(&mut self, k: usize) -> Option<usize> {
        let s = self.i;
        match self.peek() {
            b'-' => {
                let mut j = s + 1;
                if self.at(j) == b'-' {
                    j += 1;
                }
                if !(self.at(j).is_ascii_alphabetic() || self.at(j) == b'_') {
                    return None;
                }
                while is_ident(self.at(j)) || matches!(self.at(j), b'-' | b'=') {
                    j += 1;
                }
                if self.b[j - 1] == b'-' {
                    return None;
                }
                self.cmds[k].words.push(s..j);
                self.code(s..j);
                self.i = j;
                if self.peek() == b':' {
                    // `-Name:value`: the value glued on is an argument of its own.
                    self.code(j..j + 1);
                    self.i += 1;
                    match self.peek() {
                        c if ends_element(c) => {}
                        b'$' if self.at(self.i + 1) != b'(' => {
                            let v = self.i;
                            self.variable(true)?;
                            self.code(v..self.i);
                        }
                        c if c.is_ascii_alphabetic() => {
                            let w = self.bare_word()?;
                            self.cmds[k].words.push(w);
                        }
                        _ => return None,
                    }
                }
            }
            b'$' if self.at(s + 1) == b'(' => {
                self.sub_expression()?;
                self.elide(k, s, 2);
            }
            b'$' => {
                self.variable(true)?;
                self.code(s..self.i);
            }
            b'\'' => self.verbatim()?,
            b'"' => self.expandable()?,
            b'{' => {
                self.enclosed(b'}')?;
                self.elide(k, s, 1);
            }
            b'(' => {
                self.parenthesised()?;
                // `(…).Name` is a member access, whose text the walk keeps whole.
                match self.peek() {
                    b'.' => self.members()?,
                    _ => self.elide(k, s, 1),
                }
            }
            b'1'..=b'6' | b'*' | b'>' if self.redirection(k)? => {}
            b'0'..=b'9' => self.number()?,
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'\\' || c == b'/' => {
                let w = self.bare_word()?;
                self.cmds[k].words.push(w);
            }
            b'.' if matches!(self.at(s + 1), b'\\' | b'/')
                || (self.at(s + 1) == b'.' && matches!(self.at(s + 2), b'\\' | b'/')) =>
            {
                let w = self.bare_word()?;
                self.cmds[k].words.push(w);
            }
            _ => return None,
        }
        Some(self.i)
    }

    /// A redirection of the command `k` (`2>&1`, `> out.txt`, `2>> $log`, `2>$null`); false
    /// when what is here is no redirection (a number).
    fn redirection(&mut self, k: usize) -> Option<bool> {
        let s = self.i;
        let mut j = s;
        if self.at(j) != b'>' {
            j += 1;
        }
        if self.at(j) != b'>' {
            return match self.at(s) {
                b'*' => None,
                _ => Some(false),
            };
        }
        j += 1;
        // The grammar's file redirections name no stream 1 (`1> x` is one bare word to it).
        if self.at(s) == b'1' && self.at(j) != b'&' {
            return None;
        }
        let append = self.at(j) == b'>';
        if append {
            j += 1;
        }
        let stream = j - s > 1 + usize::from(append);
        match self.at(j) {
            // `2>&1`: one token. The grammar knows no `1>&1` nor `2>&2`.
            b'&' if stream
                && !append
                && matches!(self.at(j + 1), b'1' | b'2')
                && self.at(s) != self.at(j + 1) =>
            {
                j += 2;
                self.code(s..j);
                self.i = j;
            }
            // `2>$null`: one bare word to the grammar.
            // (Within the stretch: the document may go on with what completes it.)
            b'$' if stream && !append && self.b[j..self.end].starts_with(b"$null") => {
                j += 5;
                self.cmds[k].words.push(s..j);
                self.code(s..j);
                self.i = j;
            }
            // `> out.txt`: the file is no argument word.
            b' ' => {
                self.code(s..j);
                self.i = j;
                self.blanks();
                let t = self.i;
                match self.peek() {
                    b'$' if self.at(t + 1) != b'(' => {
                        self.variable(false)?;
                        self.code(t..self.i);
                    }
                    c if c.is_ascii_alphabetic() || c == b'_' || c == b'.' || c == b'\\' => {
                        self.bare_word()?;
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
        ends_element(self.peek()).then_some(true)
    }

    /// A block argument from `s` to here, whose opening bracket is `open` bytes long: its
    /// inside is left out of the command's text when it is long or spans lines.
    fn elide(&mut self, k: usize, s: usize, open: usize) {
        let whole = &self.b[s..self.i];
        if whole.len() > ps::MAX_INLINE_BLOCK || whole.contains(&b'\n') {
            self.cmds[k].elided.push(s + open..self.i - 1);
        }
    }

    /// A bare word argument (`C:\x\y.txt`, `./x.ps1`, `http://x/y`); its span.
    fn bare_word(&mut self) -> Option<Range<usize>> {
        let s = self.i;
        // After `-Name:` a keyword is not rewritten; anywhere a keyword may be read as one.
        let glued = self.at(s.wrapping_sub(1)) == b':';
        let run = self.ident_end(s);
        if is_keyword(&self.b[s..run]) && (glued || self.keyword_at(s)) {
            return None;
        }
        let mut j = s;
        while is_word_byte(self.at(j)) || self.at(j) == b'=' {
            j += 1;
        }
        let word = &self.b[s..j];
        let dots = word.windows(2).position(|w| w == b"..");
        if !ends_element(self.at(j))
            || word.ends_with(b":")
            || dots.is_some_and(|d| d > 0 || !matches!(word.get(2), Some(b'\\' | b'/')))
        {
            return None;
        }
        self.code(s..j);
        self.i = j;
        Some(s..j)
    }

    fn number(&mut self) -> Option<()> {
        let s = self.i;
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
        if !ends_element(self.peek()) {
            return None;
        }
        self.code(s..self.i);
        Some(())
    }

    /// `$name`, `$_`, `$env:NAME` (and the other scopes), with `.member`s when `members`.
    fn variable(&mut self, members: bool) -> Option<()> {
        let mut j = self.i + 1;
        let c = self.at(j);
        if !(c.is_ascii_alphabetic() || c == b'_') {
            return None;
        }
        j = self.ident_end(j);
        let mut name = self.i + 1..j;
        if self.at(j) == b':' {
            let scope = &self.b[self.i + 1..j];
            let known = ["env", "script", "global", "local", "private"]
                .iter()
                .any(|s| s.as_bytes().eq_ignore_ascii_case(scope));
            let next = self.at(j + 1);
            if !known || !(next.is_ascii_alphabetic() || next == b'_') {
                return None;
            }
            name = j + 1..self.ident_end(j + 1);
            j = name.end;
        }
        // What a condition may prove something from: the PowerShell's version, the OS.
        let probe = |n: &[u8]| PROBES.iter().any(|p| p.as_bytes().eq_ignore_ascii_case(n));
        if self.condition && (probe(&self.b[name]) || probe(&self.b[self.i + 1..j])) {
            return None;
        }
        while members && self.at(j) == b'.' {
            j = self.member_end(j)?;
        }
        self.i = j;
        Some(())
    }

    /// `'…'` (`''` inside), on one line: data.
    fn verbatim(&mut self) -> Option<()> {
        self.flush();
        let mut j = self.i + 1;
        loop {
            match self.at(j) {
                b'\'' if self.at(j + 1) == b'\'' => j += 2,
                b'\'' => break,
                b'\n' | b'\r' | 0 => return None,
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Some(())
    }

    /// `"…"` on one line, without escapes: data but for its `$( … )`.
    fn expandable(&mut self) -> Option<()> {
        self.flush();
        self.i += 1;
        loop {
            match self.peek() {
                b'"' if self.at(self.i + 1) == b'"' => return None,
                b'"' => break,
                b'`' | b'\n' | b'\r' | 0 => return None,
                b'$' if self.at(self.i + 1) == b'(' => self.sub_expression()?,
                b'$' => {
                    // A variable is a node of the string: the code around it is cut there.
                    self.flush();
                    self.variable(false)?;
                }
                _ => {
                    self.i += 1;
                    continue;
                }
            }
            // After a variable or a `$( … )`, the grammar reads a `#` (after blanks) as a
            // comment running to the end of the line, not as text (`"$x#$y"`, `"$(a) #b"`),
            // unless only `#`s and blanks close the string: left to tree-sitter either way.
            let mut k = self.i;
            while matches!(self.at(k), b' ' | b'\t' | 0x0b | 0x0c) {
                k += 1;
            }
            if self.at(k) == b'#' {
                return None;
            }
        }
        self.flush();
        self.i += 1;
        Some(())
    }

    /// `$( … )`.
    fn sub_expression(&mut self) -> Option<()> {
        self.code(self.i..self.i + 2);
        self.i += 1;
        self.enclosed(b')')
    }

    /// From the opening byte at `i` to `close`: statements, one at least (the grammar reads
    /// an empty block with a missing `;`, a repair).
    fn enclosed(&mut self, close: u8) -> Option<()> {
        self.code(self.i..self.i + 1);
        self.i += 1;
        if self.statements(Some(close))? == 0 || self.peek() != close {
            return None;
        }
        self.code(self.i..self.i + 1);
        self.i += 1;
        Some(())
    }

    /// `( pipeline )` or `( value )`.
    fn parenthesised(&mut self) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.code(self.i..self.i + 1);
        self.i += 1;
        self.blanks();
        match self.peek() {
            c if c.is_ascii_alphabetic() || c == b'_' => self.pipeline()?,
            _ => self.value()?,
        }
        self.blanks();
        self.expect(b')')?;
        self.depth -= 1;
        Some(())
    }

    /// `$x = pipeline`, `$x = value`, or a value statement starting with a variable.
    fn assignment_or_value(&mut self) -> Option<()> {
        if self.at(self.i + 1) == b'(' {
            return self.value();
        }
        let s = self.i;
        match self.peek() {
            b'[' => self.static_member()?,
            _ => {
                self.variable(true)?;
                self.code(s..self.i);
            }
        }
        let save = self.i;
        self.blanks();
        if self.peek() != b'=' || self.at(self.i + 1) == b'=' {
            self.i = save;
            self.comparisons()?;
            return self.pipe_rest();
        }
        self.code(self.i..self.i + 1);
        self.i += 1;
        self.blanks();
        match self.peek() {
            c if c.is_ascii_alphabetic() || c == b'_' => self.pipeline(),
            _ => self.value(),
        }
    }

    /// An operand, then comparisons, then maybe commands it is piped into.
    fn value(&mut self) -> Option<()> {
        self.operand()?;
        self.comparisons()?;
        self.pipe_rest()
    }

    fn operand(&mut self) -> Option<()> {
        let s = self.i;
        match self.peek() {
            b'$' if self.at(s + 1) == b'(' => self.sub_expression(),
            b'$' => {
                self.variable(true)?;
                self.code(s..self.i);
                Some(())
            }
            b'\'' => self.verbatim(),
            b'"' => self.expandable(),
            b'0'..=b'9' => self.number(),
            b'[' => self.static_member(),
            b'(' => {
                self.parenthesised()?;
                // `(Get-Host).Version` may be a version probe of a condition.
                if self.condition && self.peek() == b'.' {
                    return None;
                }
                self.members()
            }
            _ => None,
        }
    }

    /// `[Net.ServicePointManager]::SecurityProtocol`: a property of a type, with members. Not
    /// in a condition, which may read the OS's version from one (`[Environment]::OSVersion`).
    fn static_member(&mut self) -> Option<()> {
        if self.condition {
            return None;
        }
        let s = self.i;
        let mut j = s;
        loop {
            let next = self.at(j + 1);
            if !(next.is_ascii_alphabetic() || next == b'_') {
                return None;
            }
            j = self.ident_end(j + 1);
            if self.at(j) != b'.' {
                break;
            }
        }
        let next = self.at(j + 3);
        if self.at(j) != b']'
            || self.at(j + 1) != b':'
            || self.at(j + 2) != b':'
            || !(next.is_ascii_alphabetic() || next == b'_')
        {
            return None;
        }
        // `[scriptblock]::Create(…)` makes code: the walk reads it.
        let ty = &self.b[s + 1..j];
        let named = |n: &str| ty.eq_ignore_ascii_case(n.as_bytes());
        if named("scriptblock") || named("system.management.automation.scriptblock") {
            return None;
        }
        let end = self.ident_end(j + 3);
        self.code(s..end);
        self.i = end;
        self.members()
    }

    /// The end of the `.Name` at `dot`. Not a name starting `ForEach`: the grammar's token
    /// `.foreach` (the start of `.ForEach{ … }`) takes those first bytes, and it fails on the
    /// member (`$x.ForEach`, `$x.ForEachItem`).
    fn member_end(&self, dot: usize) -> Option<usize> {
        let next = self.at(dot + 1);
        let end = self.ident_end(dot + 1);
        let foreach = self.b[dot + 1..end]
            .get(..7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"foreach"));
        ((next.is_ascii_alphabetic() || next == b'_') && !foreach).then_some(end)
    }

    /// `.Name`s after a parenthesised pipeline (`(Get-FileHash x).Hash`).
    fn members(&mut self) -> Option<()> {
        while self.peek() == b'.' {
            let end = self.member_end(self.i)?;
            self.code(self.i..end);
            self.i = end;
        }
        Some(())
    }

    /// `-op operand`, as many as there are.
    fn comparisons(&mut self) -> Option<()> {
        loop {
            let save = self.i;
            if !self.blanks() || self.peek() != b'-' {
                self.i = save;
                return Some(());
            }
            let s = self.i;
            let j = self.ident_end(s + 1);
            if !is_comparison(&self.b[s + 1..j]) || !matches!(self.at(j), b' ' | b'\t') {
                return None;
            }
            self.code(s..j);
            self.i = j;
            self.blanks();
            self.operand()?;
            if !ends_element(self.peek()) {
                return None;
            }
        }
    }

    /// `if (…) { … }`, `elseif (…) { … }`s, `else { … }`.
    fn if_statement(&mut self) -> Option<()> {
        self.code(self.i..self.i + 2);
        self.i += 2;
        self.condition_and_block()?;
        loop {
            let save = self.i;
            self.blank_lines();
            let s = self.i;
            let run = self.ident_end(s);
            let word = &self.b[s..run];
            let next = self.at(run);
            if word.eq_ignore_ascii_case(b"elseif") && matches!(next, b' ' | b'\t' | b'(') {
                self.code(s..run);
                self.i = run;
                self.condition_and_block()?;
            } else if word.eq_ignore_ascii_case(b"else")
                && matches!(next, b' ' | b'\t' | b'{' | b'\n' | b'\r')
            {
                self.code(s..run);
                self.i = run;
                return self.block();
            } else {
                self.i = save;
                return Some(());
            }
        }
    }

    /// `(pipeline) { … }` of an `if` or `elseif`.
    fn condition_and_block(&mut self) -> Option<()> {
        self.blanks();
        self.expect(b'(')?;
        self.blanks();
        self.condition = true;
        let read = match self.peek() {
            b'-' | b'!' => self.negated(),
            c if c.is_ascii_alphabetic() || c == b'_' => self.pipeline(),
            _ => self.compared(),
        };
        self.condition = false;
        read?;
        self.blanks();
        self.expect(b')')?;
        self.block()
    }

    /// Values compared (`$LASTEXITCODE -ne 0`), joined by `-and`/`-or`: one comparison each,
    /// of values that are no version or OS probe ([`PROBES`]), proves nothing.
    fn compared(&mut self) -> Option<()> {
        let mut compared = false;
        loop {
            self.operand()?;
            let save = self.i;
            self.blanks();
            let s = self.i;
            let end = self.ident_end(s + 1);
            let op = match self.peek() {
                b'-' if matches!(self.at(end), b' ' | b'\t') => &self.b[s + 1..end],
                _ => {
                    self.i = save;
                    return Some(());
                }
            };
            let logical = op.eq_ignore_ascii_case(b"and") || op.eq_ignore_ascii_case(b"or");
            // `$a -eq $b -eq $c` compares a comparison: not read.
            if !is_comparison(op) || (compared && !logical) {
                return None;
            }
            compared = !logical;
            self.code(s..end);
            self.i = end;
            self.blanks();
        }
    }

    /// `-not (pipeline)` or `!(pipeline)`: what the pipeline proves, turned around (nothing,
    /// as it looks no name up).
    fn negated(&mut self) -> Option<()> {
        let s = self.i;
        let end = match self.peek() {
            b'!' => s + 1,
            _ => {
                let j = self.ident_end(s + 1);
                if !self.b[s + 1..j].eq_ignore_ascii_case(b"not") || self.at(j) != b' ' {
                    return None;
                }
                j
            }
        };
        self.code(s..end);
        self.i = end;
        self.blanks();
        self.expect(b'(')?;
        self.blanks();
        self.pipeline()?;
        self.blanks();
        self.expect(b')')?;
        Some(())
    }

    /// The `{ … }` of a clause, after blanks and line breaks.
    fn block(&mut self) -> Option<()> {
        self.blank_lines();
        if self.peek() != b'{' {
            return None;
        }
        self.enclosed(b'}')
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_reads_as_tree_sitter;
    use super::*;

    /// Statements the reader reads (each alone, and all together), and what tree-sitter gives
    /// for them is what the reader gives.
    const READ: &[&str] = &[
        "Get-LocalUser",
        "tool5 -opt",
        "tool5 --opt3 -x1 --level=2",
        "tool5 $_.Name $r.Content.Length $env:TEMP $true",
        "tool5 'single' \"double\" 'it''s' \"\"",
        "Write-Host \"tool3 is only text here: $(Get-Date)\"",
        "Write-Host \"a $x b $(c -x) $(d) e $env:X $(f | g)\"",
        "Write-Host \"$(Get-Date -Format \"yyyy\") done\"",
        "tool -Name:value -Name: x -Path:$p -in x -eq y -f z -and -not",
        "tool ./x.ps1 .\\y.ps1 ..\\z C:\\x\\y.txt a=b a:b http://x/y \\\\srv\\share /opt",
        "Start-Sleep 5",
        "C:\\tools\\x.exe -v",
        "tool.exe /q",
        "$users = Get-LocalUser | Where-Object { $_.Enabled } | ForEach-Object { tool5 $_.Name }",
        "$r = Invoke-WebRequest -Uri 'https://example.invalid/3' -UseBasicParsing; tool3 $r.Content",
        "$ErrorActionPreference = 'Stop'",
        "$x = 5",
        "$x = $y.Z",
        "$env:PATH = \"$env:PATH;C:\\x\"",
        "$x = \"a\" -eq 'b'",
        "Get-A | Get-B |\n  Get-C",
        "Get-A |\r\n  Get-B",
        "a; b ;c",
        "tool -x # a comment; with 'quotes' and \"more\"",
        "Where-Object { $_.Name -like 'adm*' -and $_.Enabled }",
        "Get-X | Where-Object { $_.Count -ge 2 } | Select-Object -First 3",
        "ForEach-Object {\n    tool $_\n    other -x\n}",
        "ForEach-Object { tool $_ } -End { done }",
        "Invoke-RestMethod -Uri 'https://x' -Body ($users | ConvertTo-Json) -Method Post",
        "tool (Get-Date) $(Get-Item x) { x }",
        "if (Test-Path \"C:\\app3\") {\n    tool3 -Path \"C:\\app3\" --opt3\n}",
        "if (Test-Path x) { a } elseif (Test-Path y) { b } else { c }",
        "if (Test-Path x)\n{\n  a\n}\nelse\n{\n  b\n}",
        "if (a | b) { c }",
        "Get-Process -Name x",
        "Get-Content $path | Out-File x.txt",
        "$users | Export-Csv x.csv",
        "'a' | Out-File x",
        "\"$x\" | tool | other",
        "$x = $y | Sort-Object",
        "tool \"C:\\Program Files\\x\" 'C:\\y z'",
        "Format-Table -AutoSize",
        "Set-Location -Path C:\\x",
        "Select-Object Name",
        "curl https://x",
        "wget https://x -OutFile y",
        "gwmi Win32_OperatingSystem",
        "tool -x;",
        "$a = tool x | other -y",
        "_tool x",
        "tool a-b --c-d",
        "tool $_",
        "tool -Parallel x",
        "Data-Thing -x",
        "tool in-place",
        "C:\\tools\\x.exe -v",
        "ForEach-Object {\n    tool $_\n} -End { done } -x",
        "ForEach-Object { tool $_; other -x 'a long argument that goes on'; third -y \"and on $(Get-Date) and on\"; fourth -z 'until the block is longer than the text of a command keeps'; fifth }",
        "if (Test-Path x) { a }; c",
        "IF (Test-Path x) { a } ELSEIF (b) { c } ELSE { d }",
        "if (Test-Path x) {\n  if (b) { c }\n}\nelseif (d) {\n  e\n}",
        "tool $_x $x1",
        "if (-not (Test-Path $dir)) {\n  New-Item -ItemType Directory -Path $dir | Out-Null\n}",
        "if (!(Test-Path x)) { a } elseif (-NOT (b | c)) { d }",
        "if (! ( Test-Path x ) ) { a }",
        "foreach ($u in $users) {\n  tool $u.Name\n}",
        "foreach ($f in (Get-ChildItem -Path C:\\x)) { Remove-Item $f.FullName }",
        "ForEach ($u in $r.Items) { a }",
        "try {\n  tool -x\n}\ncatch {\n  Write-Warning \"failed: $($_.Exception.Message)\"\n}",
        "try { a } catch { b } finally { c }",
        "try { a }\nfinally { c }",
        "if (Test-Path x) { throw \"no $x\" }",
        "if (Test-Path x) { exit 1 } else { exit $code }",
        "ForEach-Object { if (Test-Path $_) { return } ; continue }",
        "foreach ($x in $y) { if (a) { break } }",
        "return $x -eq 'y'",
        "if ($LASTEXITCODE -ne 0) { throw \"sqlcmd failed with $LASTEXITCODE\" }",
        "if ($args -contains '-Install') {\n  schtasks /Create /F\n}",
        "if ($x) { a } elseif ($y -eq 'b' -and $z -ne $null) { c }",
        "if ($null -eq $r.Content) { a }",
        "if ((Test-Path x)) { a }",
        "$hash = (Get-FileHash -Algorithm SHA256 -Path $zip).Hash",
        "tool (Get-Item x).FullName -x",
        "$x = ($y)",
        "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
        "[System.Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
        "$p = [Environment]::OSVersion.Version",
        "Write-Host \"$(tool ')') and $(tool \"a)b\")\"",
        "Write-Host \"a # not a comment $(b) {0} ; | c\" 'd # e'",
        "tool x;# c\ny",
        "tool do-it until-x",
        "tool 2>&1 x",
        "tool 2>$null; other *>$null",
        "tool > out.txt -x",
        "tool >> log | y",
        "tool 2> $null | y",
        "tool 2>> err.log 3> $x",
        "tool 1 5 2",
        "$_.Name -cnotlike 'x*' -or $_.Id -in 1 -and $_.N -ceq 'a' -or $_.M -inotmatch 'b'",
        "throw",
        "\ttool -x\n\t\tother 'z'",
        "$a = 'x'; $b = \"y\"; tool $a $b",
        "Write-Output \"$(tool \"$(inner -x)\")\"",
        // One block sent to one host named as a word or a string.
        "Invoke-Command -ComputerName srv -ScriptBlock { tool }",
        "icm srv { tool }",
        "ICM srv -ScriptBlock { tool }",
        "Invoke-Command -ScriptBlock { tool -x } -ComputerName srv",
        "Invoke-Command -ScriptBlock { tool } srv",
        "Invoke-Command { tool } -ComputerName srv",
        "Invoke-Command -cn 'srv01' -ScriptBlock { Get-LocalUser | Where-Object { $_.Enabled } }",
        "Invoke-Command -Comp \"srv.corp.local\" -sc {\n  tool1 -x\n  tool2\n}",
        "Invoke-Command -HostName srv -ScriptBlock { curl https://x; iwr https://y }",
        "Invoke-Command -ComputerName localhost -ScriptBlock { tool }",
        "Invoke-Command -ComputerName 'localhost' -ScriptBlock { tool }",
        "Invoke-Command -ComputerName 'it''s' -ScriptBlock { tool }",
        "$r = Invoke-Command -ComputerName srv -ScriptBlock { Get-Service x } | Select-Object Name",
        "if (Test-Path x) { Invoke-Command -ComputerName srv -ScriptBlock { tool } }",
        "foreach ($s in $list) {\n  Invoke-Command -ComputerName srv -ScriptBlock { tool $s }\n}",
        "Invoke-Command -ComputerName srv -ScriptBlock { if (Test-Path x) { tool } else { other } }",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool # c\n}",
        "Invoke-Command -ComputerName srv -ScriptBlock { Write-Host \"a $(tool) b\" 'c' }",
        "tool; Invoke-Command -cn a -ScriptBlock { b }; c | icm a { d }",
        "tool 1>&2 *>&2 5>&2 3>&1",
        "tool $x.Where $x.Fore (a).For",
        "$x.Each = $y.Count",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool1 -a 'a long argument that goes on'; tool2 -b 'and on and on'; tool3 -c \"and on $(Get-Date) and on\"; tool4 -d 'until the block is longer than the text of a command keeps'; tool5 }",
    ];

    /// Statements the reader leaves to tree-sitter: the walk reads them more closely (guards,
    /// hosts, executed strings), or the grammar's reading is not one the reader follows.
    const DECLINED: &[&str] = &[
        // tree-sitter confirms no stretch without a statement.
        "# only a comment",
        "#Requires -Version 5.1",
        // Code sent elsewhere the reader does not follow: a session, a list, a name it does
        // not know, a switch or another parameter, a nested send, a lookup in a condition.
        "Invoke-Command -Session $s -ScriptBlock { tool }",
        "Invoke-Command -ComputerName $servers -ScriptBlock { tool }",
        "Invoke-Command -ComputerName a,b -ScriptBlock { tool }",
        "Invoke-Command -ComputerName a, b -ScriptBlock { tool }",
        "Invoke-Command -ComputerName @('a') -ScriptBlock { tool }",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool } -AsJob",
        "Invoke-Command -AsJob -ComputerName srv -ScriptBlock { tool }",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool $args } -ArgumentList 1",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool $using:x }",
        "Invoke-Command -ComputerName a -ScriptBlock { Invoke-Command -ComputerName b -ScriptBlock { tool } }",
        "Invoke-Command -ComputerName a -ScriptBlock { icm b { tool } }",
        "Invoke-Command -ComputerName . -ScriptBlock { tool }",
        "Invoke-Command -ComputerName 127.0.0.1 -ScriptBlock { tool }",
        "Invoke-Command -FilePath x.ps1 -ComputerName srv",
        "Invoke-Command -ComputerName srv -ScriptBlock $sb",
        "Invoke-Command -ComputerName:srv -ScriptBlock { tool }",
        "Invoke-Command --ComputerName srv -ScriptBlock { tool }",
        "Invoke-Command -ComputerName \"$h\" -ScriptBlock { tool }",
        "Invoke-Command -ComputerName \"srv$(a)\" -ScriptBlock { tool }",
        "Invoke-Command -ComputerName '' -ScriptBlock { tool }",
        "Invoke-Command -ComputerName srv -ComputerName b -ScriptBlock { tool }",
        "Invoke-Command srv -ComputerName b { tool }",
        "Invoke-Command { tool } srv",
        "Invoke-Command -ComputerName srv",
        "Invoke-Command -ScriptBlock { tool }",
        "Invoke-Command { tool }",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool } { other }",
        "Invoke-Command -ComputerName srv -ScriptBlock { tool } -ScriptBlock { other }",
        "Invoke-Command -ComputerName srv -ScriptBlock",
        "Invoke-Command -Credential $c -ComputerName srv -ScriptBlock { tool }",
        "Invoke-Command @p",
        "Invoke-Command.exe -ComputerName srv -ScriptBlock { tool }",
        "if (Invoke-Command -ComputerName srv -ScriptBlock { tool }) { a }",
        "if (Get-Command tool) { Invoke-Command -ComputerName srv -ScriptBlock { tool } }",
        "Invoke-Expression 'tool'",
        "iex $code",
        "'tool' | iex",
        "$code | Invoke-Expression",
        "powershell -Command tool",
        "pwsh -c tool",
        "cmd /c dir",
        "bash -c 'ls'",
        "Start-Process tool",
        "Start-Job { tool }",
        "Enter-PSSession srv",
        "$s = New-PSSession srv",
        "ssh host ls",
        "psexec \\\\h tool",
        "docker run x",
        "& tool",
        ". .\\x.ps1",
        "& 'C:\\x\\tool.exe'",
        "if (Get-Command tool -ErrorAction SilentlyContinue) { tool }",
        "if (gcm tool) { tool }",
        "if ($PSVersionTable.PSVersion.Major -ge 5) { tool }",
        "if ($IsLinux) { tool }",
        "if ($global:IsWindows -eq $true) { tool }",
        "if ($PSVersionTable.PSVersion.Major -lt 5) { tool }",
        "if ($Host.Version -ge '5.1') { tool }",
        "if ($env:OS -eq 'Windows_NT') { tool }",
        "if ($a -eq $b -eq $c) { tool }",
        "if ((Get-Command tool)) { tool }",
        "if ($null -ne (Get-Command tool -ea 0)) { tool }",
        "if ((Get-Date).AddDays(-1) -lt $x) { tool }",
        "if ((Get-Host).Version.Major -ge 3) { a }",
        "if ((gwmi Win32_OperatingSystem).Version -ge '6.2') { a }",
        "$_.Id -iin 1",
        "$_.Id -cor 1",
        "if (-not (Get-Command tool)) { a }",
        "if (!(gcm tool -ea 0)) { a }",
        "if (-not $x) { a }",
        "if (-not -not (Test-Path x)) { a }",
        "foreach ($i in 1..3) { tool }",
        "foreach ($f in Get-ChildItem) { tool }",
        "foreach -Parallel ($u in $users) { tool }",
        "try { a }",
        "try { a } catch [System.Exception] { b }",
        "break outer",
        "return Get-X",
        "throw 'x' 'y'",
        "function f { tool }",
        "param($x)",
        "switch ($x) { 1 { a } }",
        "Get-Local`User",
        "tool `\n  -x",
        "tool \"a`tb\"",
        "tool \"a \"\"b\"\"\"",
        "$h = @'\nx\n'@",
        "$a = @(1, 2)",
        "$t = @{ a = 1 }",
        "$sb = [scriptblock]::Create('tool')",
        "$sb = [ScriptBlock]::Create",
        "if ([Environment]::OSVersion.Version -ge [version]'6.2') { tool }",
        "if ([Environment]::Is64BitProcess) { tool }",
        "[List[string]]::new",
        "$x = [Math]::Max(1, 2)",
        "$x = [int]'5'",
        "tool a, b",
        "Select-Object Name, Id",
        "tool >out.txt",
        "tool 2>&3",
        "tool 2>$nullx",
        "tool > 'x'",
        "tool 7> x",
        "tool | Out-Null && other",
        "$a ?? 'b'",
        "$x ? 'a' : 'b'",
        "Get-ChildItem *.log",
        "tool ex??.log",
        "<# block #> tool",
        "tool x#y",
        "tool ${x}",
        "tool \"${x}\"",
        "tool $x[0]",
        "tool $x.Method()",
        "tool \"$5\"",
        "tool $using:x",
        "tool é",
        "tool\ra",
        "$x += 1",
        "$x.y = { tool }",
        "$sb = { tool }",
        "$x = 1.5",
        "tool 0x10",
        "tool -5",
        "tool if",
        "if.exe -x",
        "tool -Name:for-x",
        "tool 'a\nb'",
        "tool ((a))x",
        "tool { }",
        "tool $()",
        "tool \"$()\"",
        "x:y -z",
        "tool -x\t-y\t'z'",
        "tool a\tb",
        "$x =\t'a'",
        "a:b:c",
        "C:x",
        "if (tool) { a } b",
        "if (tool)\n\n# c\n{ a }",
        // The grammar's comment ends at a `\r` alone, and what follows is code: here an
        // argument of `tool`.
        "tool -x # a\rb",
        // Redirections the grammar does not know: `1>&1`, `2>&2`, and a file one of stream 1
        // (`1> x` is one bare word to it).
        "tool 1>&1",
        "tool 2>&2",
        "tool 1> x",
        "tool 1>> x",
        "tool 1>$null",
        // `.foreach` is a token of the grammar (`.ForEach{ … }`), even at the start of a
        // longer member name.
        "tool $x.ForEach",
        "$x.foreachItem",
        "$x = (a).ForEach_x.y",
        "$x = [a]::b.foreach",
        // After a variable or a sub-expression in a string, `#` starts a comment to the
        // grammar (the string never closes).
        "tool \"$x#$y\"",
        "tool \"$(a)#$_\"",
        "tool \"$x #a\"",
        "tool \"a$x#b\" | b",
        "$y = \"$x\t#}\"",
    ];

    #[test]
    fn nothing_past_the_stretch_is_read() {
        // A stretch cut inside `$null` is no redirection to `$null`, whatever follows it.
        let src = "tool 2>$null\n";
        for end in 8..12 {
            let mut out = Parsed::default();
            let passed = Passed::new(Vec::new());
            assert!(!read(src, 0..end, &passed, false, &mut out), "{end}");
        }
    }

    #[test]
    fn deep_nesting_is_declined_on_a_small_stack() {
        let deep = |open: &str, inner: &str, close: &str| {
            format!("{}{inner}{}\n", open.repeat(1000), close.repeat(1000))
        };
        let sources = [
            deep("$(", "a", ")"),
            deep("tool { ", "a", " }"),
            deep("tool (", "a", ")"),
            deep("$x = (", "$a", ")"),
            deep("if ($x) { ", "a", " }"),
            deep("foreach ($x in $y) { ", "a", " }"),
            deep("try { ", "a", " } catch { b }"),
            deep("tool \"$(a ", "x", ")\""),
            deep("if (-not (", "a", ")) { b }"),
            deep("icm srv { ForEach-Object { ", "a", " } }"),
        ];
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for src in &sources {
                    let mut out = Parsed::default();
                    let passed = Passed::new(Vec::new());
                    assert!(!read(src, 0..src.len(), &passed, false, &mut out));
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_long_indent_is_read_in_linear_time() {
        // Each tab asked whether it indents by walking back over the line: 60,000 tabs took
        // half a minute.
        let src = format!("{}tool -x\n", "\t".repeat(200_000));
        let start = std::time::Instant::now();
        let mut out = Parsed::default();
        assert!(read(
            &src,
            0..src.len(),
            &Passed::new(Vec::new()),
            false,
            &mut out
        ));
        assert_eq!(out.commands[0].text, "tool -x");
        let took = start.elapsed();
        assert!(took.as_secs() < 2, "{took:?}");
    }

    fn check(name: &str, src: &str) -> (usize, usize) {
        assert_reads_as_tree_sitter(name, src, PS)
    }

    #[test]
    fn ordinary_statements_read_as_tree_sitter_reads_them() {
        for stmt in READ {
            for src in [
                format!("{stmt}\n"),
                format!("{stmt}\n").replace('\n', "\r\n"),
            ] {
                let src = src.replace("\r\r\n", "\r\n");
                let (stretches, accepted) = check(stmt, &src);
                assert!(stretches > 0, "the lexer cuts {src:?}");
                assert_eq!(accepted, stretches, "declined: {src:?}");
            }
        }
        // All together, in stretches of a few statements, and at the end without a newline.
        let all = READ.join("\n");
        let (stretches, accepted) = check("READ", &all);
        assert!(stretches >= READ.len() / 2);
        assert_eq!(accepted, stretches);
    }

    #[test]
    fn what_the_walk_reads_closer_is_declined() {
        for stmt in DECLINED {
            let src = format!("{stmt}\n");
            let (_, accepted) = check(stmt, &src);
            assert_eq!(accepted, 0, "read: {src:?}");
        }
    }

    #[test]
    fn the_checks_that_end_the_script_mark_what_follows() {
        let src = "#Requires -Version 5.1\n\
                   if (-not (Get-Command tool -ErrorAction SilentlyContinue)) { throw 'no' }\n\
                   if ($IsLinux) { exit 1 }\n\
                   tool -x\ncurl https://x\n";
        let (stretches, accepted) = check("endings", src);
        assert!(accepted >= 2 && stretches >= 4, "{stretches} {accepted}");
        // And they do reach the reader's commands.
        let endings = super::super::document_endings(src, Language::PowerShell);
        let mut out = Parsed::default();
        let at = src.find("tool -x").unwrap();
        let passed = Passed::new(endings);
        assert!(read(src, at..src.len(), &passed, false, &mut out));
        let tool = &out.commands[0];
        assert!(tool.guarded);
        assert_eq!(tool.min_powershell, Some((5, 1)));
        assert!(!tool.os.meets(crate::script::OsSet::LINUX));
        assert_eq!(out.code[0].min_powershell, Some((5, 1)));
        assert_eq!(out.commands[1].name, "Invoke-WebRequest");
    }

    #[test]
    fn a_remote_block_runs_on_its_host_without_what_this_machine_proved() {
        let src = "#Requires -Version 5.1\n\
                   if (-not (Get-Command tool -ErrorAction SilentlyContinue)) { throw 'no' }\n\
                   if ($IsLinux) { exit 1 }\n\
                   Invoke-Command -ComputerName srv -ScriptBlock { tool -x }\ntool -y\n";
        let (stretches, accepted) = check("remote endings", src);
        assert!(accepted >= 2 && stretches >= 4, "{stretches} {accepted}");
        let endings = super::super::document_endings(src, Language::PowerShell);
        let mut out = Parsed::default();
        let at = src.find("Invoke-Command").unwrap();
        assert!(read(
            src,
            at..src.len(),
            &Passed::new(endings),
            false,
            &mut out
        ));
        let found: Vec<_> = out
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("Invoke-Command", None),
                ("tool", Some("srv")),
                ("tool", None)
            ]
        );
        let (icm, remote, local) = (&out.commands[0], &out.commands[1], &out.commands[2]);
        assert_eq!(icm.min_powershell, Some((5, 1)));
        assert!(!remote.guarded && remote.min_powershell.is_none());
        assert!(remote.os.meets(crate::script::OsSet::LINUX));
        assert!(local.guarded && local.min_powershell == Some((5, 1)));
        assert!(!local.os.meets(crate::script::OsSet::LINUX));
        let regions: Vec<_> = out
            .code
            .iter()
            .map(|r| (&src[r.span.clone()], r.host.as_deref(), r.min_powershell))
            .collect();
        assert_eq!(
            regions,
            [
                (
                    "Invoke-Command -ComputerName srv -ScriptBlock",
                    None,
                    Some((5, 1))
                ),
                ("{ tool -x }", Some("srv"), None),
                ("tool -y", None, Some((5, 1))),
            ]
        );
    }

    #[test]
    fn the_synthetic_script_is_read_remote_blocks_too() {
        for seed in [3, 11] {
            let src = crate::synthetic::powershell_script(2_000, 1_000, seed);
            let (stretches, accepted) = check("synthetic", &src);
            let lexed = crate::script::sparse::lex(&src, PS).unwrap();
            assert_eq!(stretches, lexed.cuts.len() + 1);
            let remote = src.matches("Invoke-Command -ComputerName").count();
            eprintln!(
                "synthetic seed {seed}: {accepted} of {stretches} stretches read, {remote} remote"
            );
            // The remote blocks are one statement in six: reading 95% means reading them.
            assert!(
                remote * 8 > stretches,
                "seed {seed}: {remote} of {stretches}"
            );
            assert!(
                accepted * 100 >= stretches * 95,
                "seed {seed}: {accepted} of {stretches}"
            );
        }
    }

    #[test]
    fn the_example_scripts_read_as_tree_sitter_reads_them() {
        let scripts = [
            include_str!("../../../examples/windows-legacy/user-audit.ps1"),
            include_str!("../../../examples/windows-legacy/backup-sql.ps1"),
            include_str!("../../../tests/fixtures/check/windows/users.ps1"),
            include_str!("../../../tests/fixtures/check/guards/ends.ps1"),
            include_str!("../../../tests/fixtures/check/guards/guarded.ps1"),
            include_str!("../../../tests/fixtures/powershell/maintenance.ps1"),
        ];
        let mut total = (0, 0);
        for (k, src) in scripts.iter().enumerate() {
            for src in [src.to_string(), src.replace('\n', "\r\n")] {
                let (s, a) = check(&format!("example {k}"), &src);
                total = (total.0 + s, total.1 + a);
            }
        }
        eprintln!("examples: {total:?}");
        // Most of their statements are ordinary.
        assert!(total.1 * 2 >= total.0, "{total:?}");
    }

    /// The string literals of a Rust source (its tests' scripts among them), unescaped.
    fn literals(rust: &str) -> Vec<String> {
        let lit = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap();
        lit.captures_iter(rust)
            .map(|c| {
                c[1].replace("\\n", "\n")
                    .replace("\\r", "\r")
                    .replace("\\t", "\t")
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
            })
            .filter(|l| l.len() > 3)
            .collect()
    }

    #[test]
    fn the_walks_own_test_scripts_read_as_tree_sitter_reads_them() {
        let rust = [
            include_str!("../powershell.rs"),
            include_str!("../sparse_ps.rs"),
            include_str!("../os.rs"),
            include_str!("../mod.rs"),
            include_str!("../../engine/scan.rs"),
            include_str!("../../engine/pattern.rs"),
            include_str!("../../lsp/analysis.rs"),
            include_str!("../../../tests/cli_powershell.rs"),
            include_str!("../../../tests/cli_check.rs"),
        ];
        let raw = regex::Regex::new(r##"(?s)r#"(.*?)"#"##).unwrap();
        let mut sources = Vec::new();
        for src in rust {
            sources.extend(literals(src));
            sources.extend(raw.captures_iter(src).map(|c| c[1].to_string()));
        }
        let mut read = 0;
        for src in &sources {
            read += check("walk test", src).1;
        }
        eprintln!("walk tests: {read} of {} sources", sources.len());
        assert!(read > 100, "{read} of {} sources", sources.len());
    }

    #[test]
    fn every_name_the_walk_knows_reads_as_tree_sitter_reads_it() {
        let names = crate::script::walk_names(include_str!("../powershell.rs"));
        let shapes = [
            "N a 'b' { c }",
            "N -ComputerName a -ScriptBlock { tool5 --x }",
            "x | N a",
            "$v = N a",
            "if (N a) { tool5 }",
            "Write-Host \"$(N a)\"",
        ];
        let mut read = 0;
        for name in &names {
            for shape in shapes {
                let src = shape.replace('N', name) + "\n";
                read += check(name, &src).1;
            }
        }
        assert!(read > names.len(), "{read}");
    }

    /// A fixed xorshift sequence, so a failure reproduces.
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    /// A command line drawn from names and arguments the reader reads, and a few it must not.
    fn command_line(d: &mut Draw) -> String {
        const NAMES: &[&str] = &[
            "tool",
            "Get-X",
            "ForEach-Object",
            "Where-Object",
            "C:\\t\\x.exe",
            "curl",
            "iwr",
            "gcm",
            "Data-Thing",
            "x.exe",
            "Select-Object",
            "Out-File",
        ];
        const ARGS: &[&str] = &[
            "-x",
            "--o2",
            "-N:v",
            "-N:$v",
            "-N:",
            "2>&1",
            "2>$null",
            "> f",
            ">> $l",
            "*>$null",
            "2>>f",
            ">",
            "3> x",
            "1",
            "w",
            "C:\\p",
            "./a.ps1",
            "a=b",
            "http://x",
            "'s'",
            "'it''s'",
            "\"d\"",
            "\"d $v\"",
            "\"$(a -x)\"",
            "\"$(a) $(b)\"",
            "\"$v$(c)\"",
            "$_.N",
            "$env:T",
            "5",
            "{ a }",
            "{ a; b -x }",
            "{\n  a\n}",
            "$(a)",
            "(a | b)",
            "($v)",
            "('s')",
            "# c",
            "in-place",
            "x.y",
            "-Parallel",
            "if",
            "5x",
            "$x[0]",
            "a,b",
            "`n",
            "@(1)",
            "*.log",
            "\"a\"\"b\"",
            "$x.M()",
            "-eq",
            "[IO.Path]::Sep",
            "[int]",
            "{ }",
            "'a\tb'",
            "..\\z",
        ];
        let mut line = d.pick(NAMES).to_string();
        for _ in 0..d.below(5) {
            line.push(' ');
            line.push_str(d.pick(ARGS));
        }
        line
    }

    #[test]
    fn random_statements_read_as_tree_sitter_reads_them() {
        let mut d = Draw(0x9e37_79b9_7f4a_7c15);
        let (mut stretches, mut read) = (0, 0);
        let (mut remote, mut remote_read) = (0, 0);
        for _ in 0..6000 {
            let mut src = String::new();
            for _ in 0..1 + d.below(4) {
                let a = command_line(&mut d);
                let statement = match d.below(14) {
                    0 => format!("$x = {a}"),
                    1 => format!("{a} | {}", command_line(&mut d)),
                    2 => format!("if ({a}) {{ {} }}", command_line(&mut d)),
                    6 => format!("if (-not ({a})) {{ {} }}", command_line(&mut d)),
                    7 => format!("foreach ($u in $l) {{\n  {a}\n}}"),
                    8 => format!("try {{ {a} }}\ncatch {{ throw }}"),
                    3 => format!("if ({a}) {{\n  {}\n}}\nelse {{ b }}", command_line(&mut d)),
                    4 => format!("$v = '{}'", d.below(9)),
                    5 => "$_.N -eq 'x' -or $_.M".to_string(),
                    10 => format!(
                        "if ({} {} {}) {{ {a} }}",
                        d.pick(&["$x", "$LASTEXITCODE", "'a'", "5", "$null", "(tool)", "$_.N"]),
                        d.pick(&[
                            "-eq",
                            "[IO.Path]::Sep",
                            "[int]",
                            "-ne",
                            "-like",
                            "-and",
                            "-or",
                            "-ge",
                            "-f",
                            "-eq 1 -and"
                        ]),
                        d.pick(&["$x", "0", "'b'", "$null", "\"$x\"", "(a | b).C", "$IsLinux"])
                    ),
                    9 => format!(
                        "{} {}",
                        d.pick(&["exit", "return", "throw"]),
                        d.pick(&["", "1", "$x", "'m'", "\"m $x\""])
                    ),
                    11 | 12 => {
                        // Mostly the form the reader reads, a near miss one time in ten.
                        let mut part =
                            |read: &[&'static str], missed: &[&'static str]| match d.below(10) {
                                0 => d.pick(missed),
                                _ => d.pick(read),
                            };
                        let (name, cn, host, sb) = (
                            part(&["Invoke-Command", "icm"], &["Invoke-Command.exe", "irm"]),
                            part(
                                &["-ComputerName ", "-cn ", "-HostName ", ""],
                                &["-Session "],
                            ),
                            part(
                                &["srv", "'srv'", "\"s.corp\"", "localhost"],
                                &["$h", "a,b", "''", "\"$h\"", "@('a')", "127.0.0.1", "."],
                            ),
                            part(
                                &["-ScriptBlock ", "-sc ", ""],
                                &["-FilePath ", "-ArgumentList "],
                            ),
                        );
                        let extra = part(&[""], &[" -AsJob", " -ArgumentList 1", " x", " { b }"]);
                        let block = match d.below(4) {
                            0 => format!("{{ {} }}", command_line(&mut d)),
                            1 => format!("{{\n  {a}\n  {}\n}}", command_line(&mut d)),
                            2 => format!("{{ if ({a}) {{ b }} }}"),
                            _ => format!("{{ {a} $using:x }}"),
                        };
                        let statement = match d.below(2) {
                            0 => format!("{name} {cn}{host} {sb}{block}{extra}"),
                            _ => format!("{name} {sb}{block} {cn}{host}{extra}"),
                        };
                        // Alone too: how many of them are read.
                        let (s, r) = check("random remote", &format!("{statement}\n"));
                        remote_read += r;
                        remote += s;
                        statement
                    }
                    _ => a,
                };
                src.push_str(&statement);
                src.push_str(d.pick(&["\n", "\n", "; ", "\r\n", "\n\n"]));
            }
            let (s, r) = check("random", &src);
            stretches += s;
            read += r;
        }
        eprintln!(
            "random: {read} of {stretches}, {remote_read} of {remote} sending code elsewhere"
        );
        // Enough of them are read for the comparison to mean something.
        assert!(read * 2 >= stretches, "{read} of {stretches}");
        assert!(remote_read * 6 >= remote, "{remote_read} of {remote}");
    }

    /// Random programs of the reader's grammar, nested (blocks, sub-expressions and strings
    /// in each other, clauses on their own lines), in random case and with CRLF now and then:
    /// where the flat command lines above stay on the surface, these reach the shapes found by
    /// a review (a `#` after a variable in a string, a comment ending at a CR).
    struct Program(Draw);

    impl Program {
        fn pick(&mut self, from: &[&str]) -> String {
            self.0.pick(from).to_string()
        }

        fn case(&mut self, word: &str) -> String {
            match self.0.below(4) {
                0 => word.to_ascii_uppercase(),
                1 => word
                    .chars()
                    .map(|c| match self.0.below(2) {
                        0 => c.to_ascii_uppercase(),
                        _ => c,
                    })
                    .collect(),
                _ => word.to_string(),
            }
        }

        fn string(&mut self, depth: u32) -> String {
            if self.0.below(3) == 0 {
                return self.pick(&["'a'", "'it''s'", "''", "'a # b'", "'$x'", "'x ? y : z'"]);
            }
            let mut s = String::from("\"");
            for _ in 0..self.0.below(4) {
                let part = match self.0.below(3) {
                    0 => self.pick(&["a", " ", "#", " #", "{0}", ";", "|", ")", "}"]),
                    1 => self.pick(&["$x", "$_", "$env:T", "$x.a", "$global:y"]),
                    _ if depth < 3 => format!("$({})", self.pipeline(depth + 1)),
                    _ => "$(a)".to_string(),
                };
                s.push_str(&part);
            }
            s + "\""
        }

        fn block(&mut self, depth: u32) -> String {
            if depth > 3 {
                return "{ a }".to_string();
            }
            let n = 1 + self.0.below(3);
            let body = self.statements(depth + 1, n);
            match self.0.below(2) {
                0 if !body.contains('\n') => format!("{{ {body} }}"),
                _ => format!("{{\n  {body}\n}}"),
            }
        }

        fn argument(&mut self, depth: u32) -> String {
            match self.0.below(8) {
                0 => self.pick(&["-x", "--o2", "-N:v", "-N:$v", "-a=b", "-eq", "-_z"]),
                1 => self.pick(&[
                    "w",
                    "C:\\p",
                    "./a.ps1",
                    "a:b",
                    "http://x/y",
                    "x.y",
                    "in-place",
                ]),
                2 => self.string(depth),
                3 => self.pick(&["$x", "$_.N", "$env:T", "$x.ForEachY", "5", "0"]),
                4 => self.pick(&["2>&1", "2>$null", "> f", "*>&2", "1>&2", "1> f", "2>&2"]),
                5 if depth < 3 => self.block(depth),
                6 if depth < 3 => format!("$({})", self.pipeline(depth + 1)),
                7 if depth < 3 => format!("({})", self.pipeline(depth + 1)),
                _ => self.pick(&["{ a }", "$(a)", "(a)", "# c\rb"]),
            }
        }

        fn pipeline(&mut self, depth: u32) -> String {
            let mut s = String::new();
            for k in 0..1 + self.0.below(2) {
                if k > 0 {
                    s.push_str(&self.pick(&[" | ", "|", " |\n  "]));
                }
                let name = self.pick(&[
                    "tool",
                    "Get-X",
                    "curl",
                    "gci",
                    "Where-Object",
                    "if-x",
                    "a.b",
                ]);
                s.push_str(&self.case(&name));
                for _ in 0..self.0.below(4) {
                    s.push(' ');
                    s.push_str(&self.argument(depth));
                }
            }
            s
        }

        fn condition(&mut self, depth: u32) -> String {
            match self.0.below(3) {
                0 => self.pipeline(depth),
                1 => format!("-not ({})", self.pipeline(depth)),
                _ => {
                    let op = self.pick(&["-eq", "-ne", "-like", "-and", "-or"]);
                    format!(
                        "{} {} {}",
                        self.string(depth),
                        self.case(&op),
                        self.pick(&["$x", "5"])
                    )
                }
            }
        }

        fn statement(&mut self, depth: u32) -> String {
            match self.0.below(8) {
                0 => format!("$x = {}", self.pipeline(depth)),
                1 => {
                    let mut s = format!(
                        "{} ({}) {}",
                        self.case("if"),
                        self.condition(depth),
                        self.block(depth)
                    );
                    if self.0.below(2) == 0 {
                        let sep = self.pick(&[" ", "\n", "\r\n"]);
                        s += &format!("{sep}{} {}", self.case("else"), self.block(depth));
                    }
                    s
                }
                2 => format!("{} ($i in $l) {}", self.case("foreach"), self.block(depth)),
                3 => format!(
                    "{} {}\n{} {}",
                    self.case("try"),
                    self.block(depth),
                    self.case("catch"),
                    self.block(depth)
                ),
                4 if depth == 0 => {
                    let host = self.pick(&["srv", "'srv'", "localhost"]);
                    format!("{} -cn {host} {}", self.case("icm"), self.block(depth))
                }
                5 => format!("{} -eq {}", self.string(depth), self.pick(&["$x", "'a'"])),
                _ => self.pipeline(depth),
            }
        }

        fn statements(&mut self, depth: u32, n: usize) -> String {
            let mut s = String::new();
            for k in 0..n {
                if k > 0 {
                    s.push_str(&self.pick(&["\n", "\r\n", "; ", " # c\n", "\n\n"]));
                }
                s.push_str(&self.statement(depth));
            }
            s
        }
    }

    #[test]
    fn random_programs_read_as_tree_sitter_reads_them() {
        let mut p = Program(Draw(0x5851_f42d_4c95_7f2d));
        let (mut stretches, mut read) = (0, 0);
        for _ in 0..1500 {
            let n = 1 + p.0.below(3);
            let src = p.statements(0, n) + "\n";
            let (s, r) = check("program", &src);
            stretches += s;
            read += r;
        }
        eprintln!("programs: {read} of {stretches}");
        assert!(read * 4 >= stretches, "{read} of {stretches}");
    }

    #[test]
    fn statements_made_of_random_tokens_read_as_tree_sitter_reads_them() {
        let tokens = [
            "tool ",
            "Get-X ",
            "ForEach-Object ",
            "-x ",
            "--o2 ",
            "-N:v ",
            "w ",
            "C:\\p ",
            "'s' ",
            "\"d $v $(a) \" ",
            "$_.N ",
            "5 ",
            "{ ",
            "} ",
            "$( ",
            "( ",
            ") ",
            "| ",
            "; ",
            "\n",
            "\r\n",
            "# c\n",
            "$x = ",
            "if (t) ",
            "else ",
            "-eq ",
            "` ",
            "@",
            ",",
            "Get-Command ",
            "iex ",
            "\"",
            "'",
            "&",
            ":",
            "=",
            "x.y ",
        ];
        let mut read = 0;
        for src in crate::script::token_soups(&tokens, 3000, 14, 0x2545_f491_4f6c_dd1d) {
            read += check("soup", &src).1;
        }
        assert!(read > 150, "{read}");
    }
}
