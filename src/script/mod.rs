//! Script understanding: which language a file is in, and which commands it would run.
//!
//! [`parse`] is the single entry point. It never does I/O and never panics: whatever the input,
//! it returns the commands it could find. Each language has its own module; they all produce the
//! same [`Parsed`] shape, so the engine never needs to know which grammar found a command.
//!
//! What counts as a command is DESIGN.md §3: every part of a pipeline or compound command,
//! through wrappers (`sudo`, `env`, `VAR=x`, `timeout`, PowerShell `&`, batch `call`, ...), inside
//! command substitutions and script blocks, and inside strings that are themselves executed
//! (`bash -c '...'`, `ssh HOST '...'`, `Invoke-Expression`, `cmd /c`). Never in comments, data
//! strings or data heredocs, and never a word that is only an argument.

pub mod bash;
pub mod batch;
pub mod os;
pub mod powershell;
pub(crate) mod quick;
pub mod sparse;
pub mod sparse_ps;

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use os::OsSet;

/// The script languages forewarn understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    PowerShell,
    /// POSIX shells and bash (also used for sh, dash, zsh and ksh scripts).
    Bash,
    Batch,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::PowerShell, Language::Bash, Language::Batch];

    /// The name used in `--language`, JSON output and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Language::PowerShell => "powershell",
            Language::Bash => "bash",
            Language::Batch => "batch",
        }
    }

    /// Accepts the `--language` spellings and the LSP languageIds.
    pub fn from_name(name: &str) -> Option<Language> {
        match name.to_ascii_lowercase().as_str() {
            "powershell" | "pwsh" | "ps1" | "ps" => Some(Language::PowerShell),
            "bash" | "sh" | "shell" | "shellscript" | "zsh" | "dash" | "ksh" | "posix" => {
                Some(Language::Bash)
            }
            "batch" | "bat" | "cmd" | "dosbatch" => Some(Language::Batch),
            _ => None,
        }
    }

    pub fn from_extension(ext: &str) -> Option<Language> {
        match ext.to_ascii_lowercase().as_str() {
            "ps1" | "psm1" | "psd1" => Some(Language::PowerShell),
            "sh" | "bash" | "zsh" | "ksh" | "dash" => Some(Language::Bash),
            "bat" | "cmd" => Some(Language::Batch),
            _ => None,
        }
    }

    /// The language named by a `#!` first line (`#!/bin/sh`, `#!/usr/bin/env bash`, `#!/usr/bin/env -S pwsh -NoProfile`).
    pub fn from_shebang(first_line: &str) -> Option<Language> {
        let rest = first_line.strip_prefix("#!")?;
        let mut words = rest.split_whitespace();
        let mut prog = words.next()?;
        if prog.rsplit('/').next() == Some("env") {
            prog = words.find(|w| !w.starts_with('-'))?;
        }
        let name = prog.rsplit('/').next().unwrap_or(prog);
        match name {
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "mksh" | "busybox" => {
                Some(Language::Bash)
            }
            "pwsh" | "powershell" => Some(Language::PowerShell),
            _ => None,
        }
    }

    /// Extension first, then the `#!` line of the text.
    pub fn detect(path: &Path, text: &str) -> Option<Language> {
        if let Some(lang) = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Language::from_extension)
        {
            return Some(lang);
        }
        Language::from_shebang(text.lines().next().unwrap_or(""))
    }

    /// PowerShell and cmd resolve command names case-insensitively; POSIX shells do not.
    pub fn case_insensitive(self) -> bool {
        !matches!(self, Language::Bash)
    }

    /// The start of a line comment, used when forewarn writes one (quick fixes, suppressions).
    pub fn line_comment(self) -> &'static str {
        match self {
            Language::PowerShell | Language::Bash => "#",
            Language::Batch => "REM",
        }
    }
}

/// Maps byte offsets in a derived text (a [`Command::text`], an unescaped inner string) back to
/// byte offsets in the original source. Segments are `(text_offset, source_offset)` pairs,
/// sorted by text offset; inside a segment the two advance together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetMap {
    segments: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// A map where text offset 0 is source offset `source_start` and both advance together.
    pub fn starting_at(source_start: usize) -> OffsetMap {
        OffsetMap {
            segments: vec![(0, source_start)],
        }
    }

    /// From `text_offset` on, text offsets map to `source_offset` onwards. Calls must come in
    /// increasing `text_offset` order.
    pub fn push(&mut self, text_offset: usize, source_offset: usize) {
        if let Some(last) = self.segments.last_mut() {
            if last.0 == text_offset {
                *last = (text_offset, source_offset);
                return;
            }
        }
        self.segments.push((text_offset, source_offset));
    }

    /// The source offset of a text offset.
    pub fn to_source(&self, text_offset: usize) -> usize {
        let i = self.segments.partition_point(|&(t, _)| t <= text_offset);
        match i.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some(&(t, s)) => s + (text_offset - t),
            None => self.segments.first().map_or(text_offset, |&(_, s)| s),
        }
    }

    /// The source offset just past the text byte before `text_end`: the end of a range, which
    /// stays on the range's last source byte when the next text byte comes from elsewhere (after
    /// a removed escape, `ls\ -l` → `ls -l`, `ls` ends before the backslash).
    pub fn to_source_end(&self, text_end: usize) -> usize {
        match text_end.checked_sub(1) {
            Some(last) => self.to_source(last) + 1,
            None => self.to_source(0),
        }
    }

    /// Whether every offset maps to itself.
    pub fn is_identity(&self) -> bool {
        self.segments == [(0, 0)]
    }

    /// Composes `self` (text → inner source) with `outer` (inner source → outer source), for
    /// code found inside code (an executed string inside a script).
    ///
    /// Every break of `outer` that falls inside a segment of `self` becomes a break of the
    /// result, so offsets past a removed escape (`\"` in a double-quoted `bash -c "…"`) stay exact.
    pub fn then(&self, outer: &OffsetMap) -> OffsetMap {
        if outer.is_identity() {
            return self.clone();
        }
        let mut out = OffsetMap {
            segments: Vec::with_capacity(self.segments.len() + outer.segments.len()),
        };
        for (i, &(t, s)) in self.segments.iter().enumerate() {
            out.push(t, outer.to_source(s));
            let limit = self.segments.get(i + 1).map(|&(next, _)| s + (next - t));
            let first = outer.segments.partition_point(|&(u, _)| u <= s);
            for &(u, v) in &outer.segments[first..] {
                if limit.is_some_and(|l| u >= l) {
                    break;
                }
                out.push(t + (u - s), v);
            }
        }
        out
    }
}

/// One command the script would run, after wrappers are seen through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The command name as the shell resolves it: the last component of a path, and in
    /// PowerShell and batch without an `.exe`/`.com`/`.cmd`/`.bat` suffix. Case as written.
    pub name: String,
    /// Source bytes of the name as written (path and suffix included).
    pub name_span: Range<usize>,
    /// `name` followed by the command's arguments, up to the end of this one command, with line
    /// continuations (`\`, backtick, `^` + newline) replaced by spaces. Triggering regexes run on
    /// this text, anchored at its start.
    pub text: String,
    /// Maps offsets in `text` to offsets in the source.
    pub map: OffsetMap,
    /// The language this command is written in (an inner `bash -c '…'` in a PowerShell script is bash).
    pub language: Language,
    /// The host this command runs on when it is inside remote execution (`ssh HOST '…'`,
    /// `Invoke-Command -ComputerName HOST {…}`, `Enter-PSSession HOST`, `psexec \\HOST`).
    pub host: Option<String>,
    /// An enclosing guard looked this command's own name up before running it (`command -v X
    /// && X`, `if (Get-Command X -ErrorAction SilentlyContinue) { X }`): where it runs, it exists.
    pub guarded: bool,
    /// The enclosing condition proves the PowerShell running this command is at least this
    /// `(major, minor)` (`if ($PSVersionTable.PSVersion.Major -ge 5) { … }` gives `(5, 0)`).
    pub min_powershell: Option<(u32, u32)>,
    /// The enclosing condition proves that, should this command run on Windows, the release is
    /// at least this NT version `(major, minor, build)` (`if ([Environment]::OSVersion.Version
    /// -ge [version]'6.2') { … }` gives `(6, 2, 0)`: Server 2012 / Windows 8 or later).
    pub min_windows: Option<(u32, u32, u32)>,
    /// The OS families this command can run on, as the enclosing conditions tell
    /// (`if [ "$(uname)" = Darwin ]; then … else nproc; fi`: `nproc` runs on all but Darwin);
    /// [`OsSet::ANY`] when they tell nothing. Only commands carry it: a shell reads a whole
    /// compound command before running any branch, so a syntax error is not behind a guard.
    pub os: OsSet,
}

impl Command {
    /// The arguments: `text` after the name, leading blanks trimmed.
    pub fn args(&self) -> &str {
        self.text.get(self.name.len()..).unwrap_or("").trim_start()
    }
}

/// A stretch of code (no comments, no data strings) where `syntax:` entries are looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRegion {
    pub span: Range<usize>,
    pub language: Language,
    pub host: Option<String>,
    /// The PowerShell that parses this code is at least this version (code run by `pwsh`,
    /// which is never Windows PowerShell).
    pub min_powershell: Option<(u32, u32)>,
}

/// What a parse found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every command, in source order of its name.
    pub commands: Vec<Command>,
    /// Code regions in source order; comments, data strings and data heredocs are left out.
    pub code: Vec<CodeRegion>,
    /// PowerShell: the bare words and parameter names among commands' arguments, in source
    /// order. PowerShell reads them in argument mode, where an operator is text
    /// (`dir ex??.log`, `openssl pkcs12 -in c.pfx`) and only a `$` starts code (`x$HOME`).
    pub words: Vec<Range<usize>>,
    /// PowerShell: blocks behind a `$PSVersionTable` check, which run only on a PowerShell at
    /// least that new (the `if` block of `-ge 3`, the `else` of `-lt 3`).
    pub version_blocks: Vec<VersionBlock>,
}

/// A block that runs only on PowerShell `min` or later, on `host` (the one its check ran on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionBlock {
    pub span: Range<usize>,
    pub host: Option<String>,
    pub min: (u32, u32),
}

/// Finds the commands and code regions of `src`, written in `lang`.
pub fn parse(src: &str, lang: Language) -> Parsed {
    let mut parsed = match lang {
        Language::Bash => bash::parse(src),
        Language::PowerShell => powershell::parse(src),
        Language::Batch => batch::parse(src),
    };
    parsed.commands.sort_by_key(|c| c.name_span.start);
    parsed.code.sort_by_key(|r| r.span.start);
    parsed.words.sort_by_key(|w| w.start);
    parsed
}

/// The commands (lowercased, aliases included) through which code may run on another system, so
/// that it is checked against that system (`Command::host`, `CodeRegion::host`) instead of the
/// file's target. A statement naming none of them runs where the file says it runs; tests in
/// this module keep the list complete for every language's walk.
pub const CHANGES_HOST: &[&str] = &[
    "docker",
    "docker-compose",
    "enter-pssession",
    "etsn",
    "icm",
    "invoke-command",
    "kubectl",
    "new-pssession",
    "nsn",
    "oc",
    "podman",
    "podman-compose",
    "psexec",
    "psexec64",
    "ssh",
];

/// `pwsh` is PowerShell 6 or later: what it runs (everything added to `out` from the given
/// command and region counts on) is parsed and run by no older PowerShell, whatever the target.
pub(crate) fn run_by_pwsh(out: &mut Parsed, commands_from: usize, code_from: usize) {
    const PWSH: Option<(u32, u32)> = Some((6, 0));
    for c in out.commands.iter_mut().skip(commands_from) {
        c.min_powershell = c.min_powershell.max(PWSH);
    }
    for r in out.code.iter_mut().skip(code_from) {
        r.min_powershell = r.min_powershell.max(PWSH);
    }
}

/// How deep executed strings may nest (`bash -c "ssh h 'sh -c …'"`) before forewarn stops looking.
pub const MAX_EMBED_DEPTH: u8 = 8;

/// Parses code embedded in another script — an executed string (`bash -c '…'`, `cmd /c`,
/// `Invoke-Expression`), a heredoc fed to a shell, a remote block — adding its commands and code
/// regions to `out`. `base` maps offsets in `code` to offsets in the outer document; `host` is
/// set when the code runs on another machine. Each language module implements `parse_into`
/// with this signature; this is how the languages call each other.
pub fn parse_embedded(
    code: &str,
    lang: Language,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
) {
    if depth > MAX_EMBED_DEPTH {
        return;
    }
    match lang {
        Language::Bash => bash::parse_into(code, base, host, out, depth),
        Language::PowerShell => powershell::parse_into(code, base, host, out, depth),
        Language::Batch => batch::parse_into(code, base, host, out, depth),
    }
}

/// Whether the walks pass over what cannot hold a command or data (the words of a plain bash
/// command, a PowerShell expression without brackets or quotes). Tests compare them with walks
/// that do not ([`assert_pruned_walks_equal_full`]).
pub(crate) fn prune_walks() -> bool {
    #[cfg(test)]
    return !FULL_WALK.get();
    #[cfg(not(test))]
    true
}

#[cfg(test)]
thread_local! {
    static FULL_WALK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The tree tree-sitter's PowerShell grammar gives `text` as it is (no rewrite).
#[cfg(test)]
pub(crate) fn powershell_tree(text: &str) -> tree_sitter::Tree {
    let mut parser = new_parser(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    parser.parse(text, None).unwrap()
}

/// Every script of `scripts` gives the same commands and code regions with pruned and full walks.
#[cfg(test)]
pub(crate) fn assert_pruned_walks_equal_full(lang: Language, scripts: &[(String, String)]) {
    for (name, src) in scripts {
        let pruned = parse(src, lang);
        FULL_WALK.set(true);
        let full = parse(src, lang);
        FULL_WALK.set(false);
        assert_eq!(pruned.commands, full.commands, "{name}: {src}");
        assert_eq!(pruned.code, full.code, "{name}: {src}");
    }
}

/// Runs `f` with this thread's tree-sitter parser for `grammar`. Creating a parser and loading
/// its grammar costs more than parsing a short embedded string, so each thread keeps one per
/// grammar; a nested call (PowerShell inside PowerShell) finds it borrowed and uses a fresh one.
pub(crate) fn with_parser<R>(
    slot: &'static std::thread::LocalKey<std::cell::RefCell<Option<tree_sitter::Parser>>>,
    grammar: fn() -> tree_sitter::Language,
    f: impl FnOnce(&mut tree_sitter::Parser) -> Option<R>,
) -> Option<R> {
    slot.with(|cell| match cell.try_borrow_mut() {
        Ok(mut parser) => {
            if parser.is_none() {
                *parser = new_parser(&grammar());
            }
            f(parser.as_mut()?)
        }
        Err(_) => f(&mut new_parser(&grammar())?),
    })
}

/// A tree-sitter parser for `grammar`: every parser in forewarn is made here.
pub(crate) fn new_parser(grammar: &tree_sitter::Language) -> Option<tree_sitter::Parser> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(grammar).ok()?;
    Some(parser)
}

/// Parses only `ranges` of `text` with this thread's parser for `grammar` (see [`with_parser`]),
/// which is left reading whole documents again.
pub(crate) fn parse_ranges(
    slot: &'static std::thread::LocalKey<std::cell::RefCell<Option<tree_sitter::Parser>>>,
    grammar: fn() -> tree_sitter::Language,
    text: &str,
    ranges: &[tree_sitter::Range],
) -> Option<tree_sitter::Tree> {
    with_parser(slot, grammar, |parser| {
        parser.set_included_ranges(ranges).ok()?;
        let tree = parser.parse(text, None);
        let _ = parser.set_included_ranges(&[]);
        tree
    })
}

/// The normalized name of a command word: the last path component (`/usr/bin/python` →
/// `python`, `C:\Windows\System32\wbem\WMIC.exe` → `WMIC`), without an executable suffix in
/// languages that ignore one. Returns the name and its byte range within `word`.
pub fn command_name(word: &str, lang: Language) -> (&str, Range<usize>) {
    let start = match lang {
        Language::Bash => word.rfind('/').map_or(0, |i| i + 1),
        _ => word.rfind(['/', '\\']).map_or(0, |i| i + 1),
    };
    let mut end = word.len();
    if lang != Language::Bash {
        let lower = word[start..].to_ascii_lowercase();
        for suffix in [".exe", ".com", ".cmd", ".bat"] {
            if lower.len() > suffix.len() && lower.ends_with(suffix) {
                end -= suffix.len();
                break;
            }
        }
    }
    // A word made only of a path prefix (`./`) keeps its whole text rather than becoming empty.
    if start >= end {
        return (word, 0..word.len());
    }
    (&word[start..end], start..end)
}

/// Builds a [`Command`] from the source span of its name word and the source span of its
/// arguments (up to the end of the command). Continuations in the argument text become spaces
/// so that offsets keep their meaning. `base` maps `src` offsets to the outer document (use
/// `OffsetMap::starting_at(0)` for the document itself).
pub fn make_command(
    src: &str,
    name_word: Range<usize>,
    command_end: usize,
    lang: Language,
    host: Option<String>,
    base: &OffsetMap,
) -> Command {
    let word = &src[name_word.clone()];
    let (name, within) = command_name(word, lang);
    let name_start = name_word.start + within.start;
    let rest_start = name_word.end.min(command_end.max(name_word.end));
    let rest = src
        .get(rest_start..command_end.max(rest_start))
        .unwrap_or("");
    let mut text = String::with_capacity(name.len() + rest.len());
    text.push_str(name);
    text.push_str(&blank_continuations(rest, lang));
    let mut map = OffsetMap::starting_at(name_start);
    map.push(name.len(), rest_start);
    // Bounds the last segment, so composing with `base` copies only the breaks inside the command.
    map.push(text.len(), rest_start + rest.len());
    Command {
        name: name.to_string(),
        name_span: base.to_source(name_word.start)
            ..base
                .to_source_end(name_word.end)
                .max(base.to_source(name_word.start)),
        text,
        // Code of the document itself (most of it) maps through the identity.
        map: if base.is_identity() {
            map
        } else {
            map.then(base)
        },
        language: lang,
        host,
        guarded: false,
        min_powershell: None,
        min_windows: None,
        os: OsSet::ANY,
    }
}

/// Replaces each line continuation (the escape character, an optional `\r`, and the `\n`) with
/// spaces of the same byte length.
pub fn blank_continuations(text: &str, lang: Language) -> String {
    let escape = match lang {
        Language::Bash => b'\\',
        Language::PowerShell => b'`',
        Language::Batch => b'^',
    };
    let bytes = text.as_bytes();
    let mut out = text.as_bytes().to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == escape {
            let mut j = i + 1;
            if bytes.get(j) == Some(&b'\r') {
                j += 1;
            }
            if bytes.get(j) == Some(&b'\n') {
                for b in &mut out[i..=j] {
                    *b = b' ';
                }
                i = j + 1;
                continue;
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A grammar-free parse for the engine's and the server's tests: one command per line, named by
/// its first word (ending at a blank, `;`, `)` or `}`); `#` and `REM` lines are comments; a line
/// containing `@remote` runs on host `OLDSRV`. Those tests must not depend on the grammars.
#[cfg(test)]
pub(crate) fn naive_parse(src: &str, lang: Language) -> Parsed {
    let mut parsed = Parsed::default();
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let word_end = body[lead..]
            .find([' ', ';', ')', '}'])
            .map_or(body.len(), |i| lead + i);
        let first = body.trim_start();
        if word_end > lead && !first.starts_with('#') && !first.starts_with("REM") {
            let host = body.contains("@remote").then(|| "OLDSRV".to_string());
            parsed.commands.push(make_command(
                src,
                start + lead..start + word_end,
                start + body.len(),
                lang,
                host,
                &OffsetMap::starting_at(0),
            ));
            parsed.code.push(CodeRegion {
                span: start..start + body.len(),
                language: lang,
                host: None,
                min_powershell: None,
            });
        }
        start += line.len();
    }
    parsed
}

/// `count` sources of fewer than `max_tokens` tokens drawn from `tokens` (a fixed xorshift
/// sequence, so a failure reproduces): the garbage the parsers and lexers are fed in tests.
#[cfg(test)]
pub(crate) fn token_soups<'a>(
    tokens: &'a [&'a str],
    count: usize,
    max_tokens: u64,
    mut seed: u64,
) -> impl Iterator<Item = String> + 'a {
    (0..count).map(move |_| {
        let mut src = String::new();
        for _ in 0..(seed % max_tokens) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            src.push_str(tokens[(seed % tokens.len() as u64) as usize]);
        }
        seed = seed.wrapping_add(1);
        src
    })
}

/// The scripts of `examples/` and `tests/fixtures/` with one of `extensions`, as (path, text):
/// the real-world corpus the sparse-versus-whole tests start from.
#[cfg(test)]
pub(crate) fn repository_scripts(extensions: &[&str]) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/fixtures"] {
        for entry in ignore::Walk::new(root.join(dir)).flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                let text = std::fs::read_to_string(path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }
    out
}

/// 1,500 [`token_soups`] of up to 23 tokens, each parsed as `lang` and checked with
/// [`assert_spans_valid`]: the parsers' "garbage never panics and never hands out a bad span"
/// test.
#[cfg(test)]
pub(crate) fn assert_token_soup_is_safe(tokens: &[&str], lang: Language) {
    for src in token_soups(tokens, 1500, 24, 0x9e37_79b9_7f4a_7c15) {
        assert_spans_valid(&src, &parse(&src, lang));
    }
}

/// The name-like string literals (lowercased, `[…]` unwrapped) of a walk's source: every name
/// it may special-case, for the tests that keep lists such as `RUNS_CODE` complete. Each is
/// found by its own quotes, so a `'"'` elsewhere cannot shift which text counts as a string.
#[cfg(test)]
pub(crate) fn walk_names(source: &str) -> Vec<String> {
    let literal = regex::Regex::new(r#""\[?([A-Za-z][A-Za-z0-9._-]*)\]?""#).unwrap();
    let mut names: Vec<String> = literal
        .captures_iter(source)
        .map(|c| c[1].to_ascii_lowercase())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Every span a parse hands out is a valid range of the document (for the parsers' tests).
#[cfg(test)]
pub(crate) fn assert_spans_valid(src: &str, parsed: &Parsed) {
    for c in &parsed.commands {
        assert!(src.get(c.name_span.clone()).is_some(), "{c:?} in {src:?}");
        for t in [0, c.name.len(), c.text.len()] {
            assert!(c.map.to_source(t) <= src.len(), "{c:?} in {src:?}");
        }
    }
    for r in &parsed.code {
        assert!(src.get(r.span.clone()).is_some(), "{r:?} in {src:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_host_names_every_command_that_runs_code_elsewhere() {
        // Every name-like string literal of a walk is a name it may special-case.
        let walks = [
            (Language::Bash, include_str!("bash.rs")),
            (Language::PowerShell, include_str!("powershell.rs")),
            (Language::Batch, include_str!("batch.rs")),
        ];
        let shapes = [
            "N a 'tool5 --x'",
            "N a tool5 --x",
            "N -t a tool5 --x",
            "N exec a tool5 --x",
            "N exec -t a tool5 --x",
            "N compose exec a tool5 --x",
            "N -n a exec a -- tool5 --x",
            "N a { tool5 --x }",
            "N -ComputerName a -ScriptBlock { tool5 --x }",
            "N \\\\a tool5 --x",
            "N a\ntool5 --x",
            "N -ComputerName a\ntool5 --x",
            "N a <<'EOF'\ntool5 --x\nEOF",
        ];
        let mut checked = 0;
        for (lang, source) in walks {
            let names = walk_names(source);
            for name in names.iter().filter(|n| !CHANGES_HOST.contains(&n.as_str())) {
                for shape in shapes {
                    let src = shape.replace('N', name) + "\n";
                    let parsed = parse(&src, lang);
                    checked += 1;
                    let remote = parsed.commands.iter().any(|c| c.host.is_some())
                        || parsed.code.iter().any(|r| r.host.is_some());
                    assert!(
                        !remote,
                        "{lang:?} runs code elsewhere through `{name}` ({src:?}): add it to \
                         CHANGES_HOST"
                    );
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        // And the test can see a host change: through the names it knows.
        let parsed = parse("ssh a tool5 --x\n", Language::Bash);
        assert!(parsed
            .commands
            .iter()
            .any(|c| c.host.as_deref() == Some("a")));
    }

    #[test]
    fn names_are_normalized_per_language() {
        assert_eq!(command_name("/usr/bin/python", Language::Bash).0, "python");
        assert_eq!(command_name("python.exe", Language::Bash).0, "python.exe");
        assert_eq!(
            command_name(r"C:\Windows\System32\wbem\WMIC.exe", Language::Batch).0,
            "WMIC"
        );
        assert_eq!(
            command_name("Get-LocalUser", Language::PowerShell).0,
            "Get-LocalUser"
        );
        assert_eq!(command_name("./", Language::Bash).0, "./");
    }

    #[test]
    fn shebangs() {
        assert_eq!(Language::from_shebang("#!/bin/sh"), Some(Language::Bash));
        assert_eq!(
            Language::from_shebang("#!/usr/bin/env bash"),
            Some(Language::Bash)
        );
        assert_eq!(
            Language::from_shebang("#!/usr/bin/env -S pwsh -NoProfile"),
            Some(Language::PowerShell)
        );
        assert_eq!(Language::from_shebang("#!/usr/bin/python3"), None);
        assert_eq!(Language::from_shebang("echo hi"), None);
    }

    #[test]
    fn continuations_keep_offsets() {
        let t = blank_continuations("sed \\\r\n  -i x", Language::Bash);
        assert_eq!(t, "sed      -i x");
        assert_eq!(blank_continuations("a `\nb", Language::PowerShell), "a   b");
        assert_eq!(
            blank_continuations("a ^\nb ^^", Language::Batch),
            "a   b ^^"
        );
    }

    #[test]
    fn command_text_maps_back_to_source() {
        let src = "sudo /usr/bin/python \\\n  x.py";
        let c = make_command(
            src,
            5..20,
            src.len(),
            Language::Bash,
            None,
            &OffsetMap::starting_at(0),
        );
        assert_eq!(c.name, "python");
        assert_eq!(c.text, "python     x.py");
        assert_eq!(c.map.to_source(0), 14);
        assert_eq!(&src[c.map.to_source(0)..c.map.to_source(6)], "python");
        assert_eq!(c.map.to_source(c.text.len()), src.len());
        assert_eq!(c.args(), "x.py");
    }

    #[test]
    fn offset_maps_compose() {
        let mut inner = OffsetMap::starting_at(0);
        inner.push(5, 7);
        let outer = OffsetMap::starting_at(100);
        let both = inner.then(&outer);
        assert_eq!(both.to_source(2), 102);
        assert_eq!(both.to_source(6), 108);
        // A break of the outer map inside an inner segment is kept.
        let mut outer = OffsetMap::starting_at(100);
        outer.push(3, 105);
        let both = OffsetMap::starting_at(1).then(&outer);
        assert_eq!(both.to_source(0), 101);
        assert_eq!(both.to_source(2), 105);
        assert_eq!(both.to_source(4), 107);
        // A range ending where a removed escape was ends on its own last byte.
        let mut map = OffsetMap::starting_at(10);
        map.push(2, 13);
        assert_eq!(map.to_source(2), 13);
        assert_eq!(map.to_source_end(2), 12);
        assert_eq!(map.to_source_end(0), 10);
    }
}
