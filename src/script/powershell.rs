//! Commands and code regions of PowerShell scripts, found with tree-sitter-powershell.
//!
//! The tree is walked once, iteratively (a `TreeCursor` and an explicit frame stack, so 5,000
//! nested script blocks cannot overflow the stack). Every `command` node becomes a [`Command`]:
//! pipelines, `&&`/`||` chains, statement lists, script blocks, `$( … )` inside expandable
//! strings and here-strings, parenthesised pipelines, `&`/`.` invocations. Some commands get a
//! closer look because they run code of their own: `Invoke-Expression` (also of a string piped
//! into it, `'…' | iex`), `powershell`/`pwsh
//! -Command`/`-EncodedCommand`, `cmd /c`, `bash -c`/`wsl`, `ssh HOST …`, `psexec \\HOST …`
//! (executed strings, parsed with [`super::parse_embedded`]), `Start-Process PROGRAM`, and
//! `Invoke-Command -ComputerName`/`-Session`/`Enter-PSSession` (remote code, tagged with its
//! host). Code sent to a list of hosts (`-ComputerName a, b`, `@('a','b')`, a session opened on
//! several, `psexec \\a,b`) is found once per host: the same spans, one copy for each host, so
//! each host's patterns are asked (the engine keeps one finding per pattern and span). A script
//! block kept in a variable (`$sb = { … }`, `$sb = [scriptblock]::Create('…')`)
//! or in a splatting table (`$p = @{ ComputerName = …; ScriptBlock = … }`) runs where it is
//! written until `Invoke-Command -ScriptBlock $sb -ComputerName HOST` / `Invoke-Command @p` sends
//! it; then its commands and code are tagged with HOST (each host once, if sent to several).
//! Code regions are every token outside comments and string literals, merged, with `$( … )`
//! inside expandable strings counted as code.
//! A command name is what PowerShell runs after its backtick escapes (`` Get-Local`User ``
//! runs Get-LocalUser; an escape that makes a control character, `` `t ``, names nothing).
//! `` `e `` is such an escape only to PowerShell 6 and later: a name is read as Windows
//! PowerShell reads it (`` G`et-Command `` runs Get-Command) unless a `pwsh` command line
//! ([`read_by`]), a `$PSVersionTable` check, or the script's opening `#!`/`#Requires` lines say
//! its reader is `pwsh`. A script's `#Requires -Version` lines ([`requires`]) prove the lowest
//! PowerShell of all the code it runs in its own session, as a check that ends the script would,
//! from its first line, and for its code regions too.
//!
//! The blocks of `if`/`elseif`/`else` know what their conditions proved: a command is `guarded`
//! when `Get-Command X` (`gcm`, `-Name X`, `-ErrorAction …`, `$null -ne (…)`) looked its own name
//! up (aliases resolved on both sides), gets `min_powershell` from `$PSVersionTable.PSVersion`,
//! `.Major` (with `.Minor`: `Major -ge 5 -and Minor -ge 1` is 5.1) or `$Host.Version` compared
//! with a literal, and `min_windows` from the Windows release (`[Environment]::OSVersion.Version`,
//! WMI's `Win32_OperatingSystem` `Version`, compared as text unless cast); `-not`/`!` moves a fact
//! to the `else`, `-and` joins facts. The clauses of a `switch` on such a version run on the
//! versions they match, its `default` where all of them failed. Facts hold on the host the condition ran on only: a remote block and a kept
//! block sent elsewhere start without them, and so does a string run by another PowerShell
//! (`powershell -Command`); a string `Invoke-Expression` runs in this session keeps them.
//!
//! Known gaps: a block variable is tracked by name in source order, not by scope or control
//! flow; a table built up with `$p.ComputerName = …` or `$p += @{…}` is not followed; a guard
//! that exits (`if (-not (Get-Command X)) { exit }`) and `Get-Module -ListAvailable` are not
//! followed.
//!
//! The grammar stumbles on a few common constructs (`Name, Other` argument lists,
//! `ForEach-Object -Parallel`, `??`, the ternary operator, `-IPv4`) and then loses the statements after
//! them, and stops a name after `&` at its first backtick (`` & Get-Local`User ``);
//! `patch_ps7` hands it a same-length rewrite that it parses, while every command and
//! region is still cut from the original text.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::rc::Rc;

use tree_sitter::{Node, Parser, Tree};

use super::os::{may_end_script, Ending, Passed};
use super::{
    blank_continuations, make_command, CodeRegion, Command, Language, OffsetMap, OsSet, Parsed,
};

const PS: Language = Language::PowerShell;

/// An argument (script block, sub-expression …) longer than this, or spanning lines, is left
/// out of its command's text: its own commands are found separately, and copying it into every
/// enclosing command would make nested blocks quadratic.
pub(crate) const MAX_INLINE_BLOCK: usize = 256;

/// Built-in aliases whose cmdlet is unambiguous; patterns about the cmdlet fire on the alias.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    ("gwmi", "Get-WmiObject"),
    ("iwr", "Invoke-WebRequest"),
    ("irm", "Invoke-RestMethod"),
    ("iex", "Invoke-Expression"),
    ("icm", "Invoke-Command"),
    ("gcim", "Get-CimInstance"),
    ("etsn", "Enter-PSSession"),
    ("exsn", "Exit-PSSession"),
    ("sajb", "Start-Job"),
    ("ipmo", "Import-Module"),
    ("gcm", "Get-Command"),
];

/// Aliases Windows PowerShell (5.1 and older) defines and PowerShell 6 removed, so that the
/// program of that name runs there: `curl` and `wget` are Invoke-WebRequest only where
/// Windows PowerShell reads the code.
pub(crate) const WINDOWS_POWERSHELL_ALIASES: &[(&str, &str)] =
    &[("curl", "Invoke-WebRequest"), ("wget", "Invoke-WebRequest")];

/// Every alias a PowerShell name may stand for, in one PowerShell or another.
pub(crate) fn all_aliases() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    ALIASES.iter().chain(WINDOWS_POWERSHELL_ALIASES)
}

/// The commands and code regions of a whole powershell document.
pub fn parse(src: &str) -> Parsed {
    let mut out = Parsed::default();
    parse_into(src, &OffsetMap::starting_at(0), None, &mut out, 0);
    out
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
    /// Whether the PowerShell code parsed now is read by PowerShell 6 or later: set by
    /// [`read_by`] around the parse of a `pwsh` command line's code.
    static PWSH: Cell<bool> = const { Cell::new(false) };
}

/// Whether a script file says it is read by `pwsh` in the comments it opens with: a `#!` line
/// naming `pwsh`, or `#Requires -Version 6` (or later) or `-PSEdition Core`, which Windows
/// PowerShell refuses to run.
pub(crate) fn declares_pwsh(src: &str) -> bool {
    for (i, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if i == 0 {
            if let Some(rest) = line.strip_prefix("#!") {
                let mut words = rest.split_whitespace();
                let mut prog = words.next().unwrap_or("");
                if prog.rsplit('/').next() == Some("env") {
                    prog = words.find(|w| !w.starts_with('-')).unwrap_or("");
                }
                if matches!(prog.rsplit('/').next(), Some("pwsh" | "pwsh-preview")) {
                    return true;
                }
                continue;
            }
        }
        if !line.starts_with('#') {
            return false;
        }
        let lower = line.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("#requires") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.windows(2) {
            let major = pair[1]
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            match pair[0] {
                "-version" if major.is_some_and(|m| m >= 6) => return true,
                "-psedition" if pair[1] == "core" => return true,
                _ => {}
            }
        }
    }
    false
}

/// What a script's own `#Requires` lines say of the PowerShell that runs it: each line that
/// names a lowest version, with its span (from its `#` to the end of the line) and the version.
/// PowerShell checks them all before it runs any of the script, wherever they stand (in a
/// function too), so they hold for the whole script.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Requires {
    pub lines: Vec<(Range<usize>, (u32, u32))>,
}

impl Requires {
    /// The lowest PowerShell that runs the script: the highest version a line names.
    pub fn min(&self) -> Option<(u32, u32)> {
        self.lines.iter().map(|(_, v)| *v).max()
    }

    /// What it proves for all the script, from its start, as a check that ends the script
    /// would ([`Ending`]), and for its `syntax:` constructs too ([`Ending::required`]).
    pub fn ending(&self) -> Option<Ending> {
        let min = self.min()?;
        Some(Ending {
            min_powershell: Some(min),
            required: Some(min),
            ..Ending::default()
        })
    }

    /// The lines inside `range`, moved to offsets from its start (a piece of the document
    /// scanned alone).
    pub fn within(&self, range: &Range<usize>) -> Requires {
        Requires {
            lines: self
                .lines
                .iter()
                .filter(|(s, _)| range.start <= s.start && s.end <= range.end)
                .map(|(s, v)| (s.start - range.start..s.end - range.start, *v))
                .collect(),
        }
    }
}

/// The `#Requires` lines of the script `src` that name a lowest PowerShell: `#Requires -Version
/// N[.n]` (any case; a prefix of `-Version` too, as PowerShell matches parameter names, but not
/// after `-PSSnapin`, where it is the snap-in's version) and `-PSEdition Core` (PowerShell 6 or
/// later). A line counts when `#requires` is its first word, outside here-strings and block
/// comments; code in strings (`Invoke-Expression`, `powershell -Command`) is not the script's
/// own. One search for `#` over the text; lines are followed from the start only when it finds
/// a candidate.
pub fn requires(src: &str) -> Requires {
    let bytes = src.as_bytes();
    let mut candidates = Vec::new();
    for (at, _) in src.match_indices('#') {
        let word = bytes.get(at + 1..at + 9);
        if !word.is_some_and(|w| w.eq_ignore_ascii_case(b"requires"))
            || !matches!(bytes.get(at + 9), Some(b' ' | b'\t'))
        {
            continue;
        }
        let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
        if src[line_start..at].bytes().all(|b| b == b' ' || b == b'\t') {
            candidates.push((line_start, at));
        }
    }
    let mut out = Requires::default();
    if candidates.is_empty() {
        return out;
    }
    // Here-strings and block comments, followed line by line up to the last candidate.
    let last = candidates.last().map_or(0, |c| c.0);
    let mut quiet_lines = Vec::new();
    let (mut in_here, mut in_comment): (Option<&str>, bool) = (None, false);
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if start > last {
            break;
        }
        let text = line.trim_end();
        if let Some(close) = in_here {
            quiet_lines.push(start);
            if text.starts_with(close) {
                in_here = None;
            }
            continue;
        }
        if in_comment {
            quiet_lines.push(start);
            in_comment = !text.contains("#>");
            continue;
        }
        let code = text.trim_start();
        if code.starts_with('#') {
            continue;
        }
        if code.ends_with("@\"") {
            in_here = Some("\"@");
        } else if code.ends_with("@'") {
            in_here = Some("'@");
        } else if let Some(open) = code.rfind("<#") {
            in_comment = !code[open..].contains("#>");
        }
    }
    for (line_start, at) in candidates {
        if quiet_lines.binary_search(&line_start).is_ok() {
            continue;
        }
        let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        let line = src[at..end].trim_end();
        if let Some(v) = required_version(&line[9..]) {
            out.lines.push((at..at + line.len(), v));
        }
    }
    out
}

/// The lowest PowerShell the parameters of one `#Requires` line name (see [`requires`]).
fn required_version(params: &str) -> Option<(u32, u32)> {
    let mut words = params.split_whitespace();
    let (mut snapin, mut min) = (false, None);
    while let Some(word) = words.next() {
        if word.starts_with('#') {
            break;
        }
        let Some(name) = word.strip_prefix('-').filter(|n| !n.is_empty()) else {
            continue;
        };
        // `-Version:5.1`: the value glued on.
        let (name, glued) = match name.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (name, None),
        };
        let mut value = || glued.or_else(|| words.next()).unwrap_or("");
        let name = name.to_ascii_lowercase();
        // In the order PowerShell tries them: `-p` and `-ps` are `-PSSnapin`.
        let is = |full: &str| full.starts_with(name.as_str());
        if is("shellid") {
            value();
        } else if is("pssnapin") {
            snapin = true;
            value();
        } else if is("psedition") {
            let editions = value();
            let core = editions
                .split(',')
                .map(|e| e.trim_matches(['\'', '"']))
                .all(|e| e.eq_ignore_ascii_case("core"));
            if core && !editions.is_empty() {
                min = min.max(PWSH6);
            }
        } else if is("version") && !snapin {
            let v = value().trim_matches(['\'', '"']);
            let mut parts = v.split('.');
            let major = parts.next().and_then(|m| m.parse::<u32>().ok());
            let minor = match parts.next() {
                None => Some(0),
                Some(m) => m.parse::<u32>().ok(),
            };
            if let (Some(major), Some(minor)) = (major, minor) {
                min = min.max(Some((major, minor)));
            }
        }
    }
    min
}

/// Runs `parse` (of the code a `powershell` or `pwsh` command line runs) knowing whether that
/// code is read by `pwsh`, PowerShell 6 or later, which reads a name's `` `e `` as ESC where
/// Windows PowerShell reads `e`. A `powershell` inside `pwsh` code is Windows PowerShell again.
pub(crate) fn read_by<R>(pwsh: bool, parse: impl FnOnce() -> R) -> R {
    let before = PWSH.replace(pwsh);
    let r = parse();
    PWSH.set(before);
    r
}

/// Parses `range` of `text` (node offsets stay those of `text`) with this thread's parser.
fn parse_tree(text: &str, range: Option<(Range<usize>, usize)>) -> Option<Tree> {
    let run = |parser: &mut Parser| {
        let ranges = match &range {
            Some((r, row)) => vec![tree_sitter::Range {
                start_byte: r.start,
                end_byte: r.end,
                start_point: tree_sitter::Point::new(*row, 0),
                end_point: tree_sitter::Point::new(usize::MAX, 0),
            }],
            None => Vec::new(),
        };
        parser.set_included_ranges(&ranges).ok()?;
        let tree = parser.parse(text, None);
        // Back to the whole text for the next user of this parser.
        let _ = parser.set_included_ranges(&[]);
        tree
    };
    super::with_parser(&PARSER, || tree_sitter_powershell::LANGUAGE.into(), run)
}

/// Above this size a document is parsed in pieces of about [`CHUNK`] bytes, so the syntax tree
/// in memory stays small (a whole tree takes ~80 bytes per source byte: 4 GB for 50 MB).
const CHUNKED_ABOVE: usize = 1 << 20;
const CHUNK: usize = 256 << 10;

/// Where to cut a large document: line starts that look like top-level statements (column 0,
/// a word, variable or comment; the line before not continued; not inside a here-string or
/// block comment), at least [`CHUNK`] bytes apart. Returns each piece and its first row.
fn chunks(src: &str, size: usize) -> Vec<(Range<usize>, usize)> {
    let mut out = Vec::new();
    let (mut piece_start, mut piece_row) = (0, 0);
    let mut in_here: Option<&str> = None;
    let mut in_comment = false;
    let mut continued = false;
    let mut offset = 0;
    for (row, line) in src.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let text = line.trim_end();
        if let Some(close) = in_here {
            if text.starts_with(close) {
                in_here = None;
            }
            continue;
        }
        if in_comment {
            in_comment = !text.contains("#>");
            continue;
        }
        let first = text.bytes().next();
        let top_level = !continued
            && matches!(first, Some(b'a'..=b'z' | b'A'..=b'Z' | b'$' | b'#' | b'['))
            && !text.starts_with("<#");
        if top_level && start - piece_start >= size {
            out.push((piece_start..start, piece_row));
            (piece_start, piece_row) = (start, row);
        }
        if text.ends_with("@\"") {
            in_here = Some("\"@");
        } else if text.ends_with("@'") {
            in_here = Some("'@");
        }
        if text.contains("<#") && !text.contains("#>") {
            in_comment = true;
        }
        continued = text.ends_with(['`', '|', '{', '(', ',', '=', '+']);
    }
    out.push((piece_start..src.len(), piece_row));
    out
}

/// Keywords the grammar recognises at the start of a longer word (`ForEach-Object`,
/// `Data-Thing`, `Switch-Foo` become `foreach`/`data`/`switch` followed by garbage).
pub(crate) const KEYWORDS: &[&str] = &[
    "begin",
    "break",
    "catch",
    "class",
    "configuration",
    "continue",
    "data",
    "define",
    "do",
    "dynamicparam",
    "else",
    "elseif",
    "end",
    "enum",
    "exit",
    "filter",
    "finally",
    "for",
    "foreach",
    "from",
    "function",
    "if",
    "in",
    "inlinescript",
    "parallel",
    "param",
    "process",
    "return",
    "sequence",
    "switch",
    "throw",
    "trap",
    "try",
    "until",
    "using",
    "var",
    "while",
    "workflow",
];

/// Same-length rewrites of constructs the grammar gets wrong, which would otherwise throw away
/// the statements that follow: a keyword glued to `-Noun` (`ForEach-Object` → `ForEach_Object`),
/// PowerShell 7's `??` and `??=` (as `-f` and `+=`), and `-Parallel` outside the workflow
/// `foreach -parallel`, and digits or `=` in a parameter word (`-IPv4`, `--level=2`). The tree
/// is only used for its shape: commands and regions are cut from the original text, so the
/// stand-ins never show.
pub(crate) fn patch_ps7(src: &str) -> Option<String> {
    let bytes = src.as_bytes();
    let mut edits: Vec<(usize, &'static [u8])> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'?' && bytes.get(i + 1) == Some(&b'?') {
            // `dir ex??.log`: wildcards in a bare word are the word's own text.
            if !null_coalescing_at(bytes, i) {
                i += 2;
                continue;
            }
            if bytes.get(i + 2) == Some(&b'=') {
                edits.push((i, b" +="));
                i += 3;
            } else {
                edits.push((i, b"-f"));
                i += 2;
            }
            continue;
        }
        if b == b'?' {
            if let Some(colon) = ternary_at(bytes, i) {
                edits.push((i, b"+"));
                edits.push((colon, b"+"));
            }
        }
        // `Select-Object Name, LastLogon`: the grammar fails on a blank after a comma in
        // command arguments (and loses the statements after it), but takes ` ,`.
        if b == b',' {
            let mut j = i + 1;
            while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            if j > i + 1 && !matches!(bytes.get(j), None | Some(b'\n' | b'\r' | b'#')) {
                edits.push((i, b" "));
                edits.push((j - 1, b","));
            }
            i = j;
            continue;
        }
        // `Start-Sleep 5 &` (a background job): the grammar only knows the call operator.
        if b == b'&' && background_at(bytes, i) {
            edits.push((i, b" "));
        } else if b == b'&' {
            // `& Get-Local`User`: after the call operator the grammar's name token stops at a
            // backtick, and the error loses every statement after it. With each escape's
            // backtick read as a letter the name is one word, which the walk reads (and
            // unescapes) from the original.
            for at in call_name_escapes(bytes, i) {
                edits.push((at, b"_"));
            }
        }
        // `Test-Connection -IPv4`, `curl --http2`, `tool --level=2`: the grammar's parameter
        // token takes letters, `_`, `?`, `` ` `` and `-` only, and reads a digit or `=` after
        // them as a redirection missing its `>`. Each such repair costs the parser an error
        // recovery (they made the synthetic 10,000-line script's parse take 2.2 times as long)
        // and can lose what follows; read as letters, the word is one parameter.
        if b == b'-' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            if let Some(end) = parameter_word(bytes, i) {
                for (k, &c) in bytes.iter().enumerate().take(end).skip(i) {
                    if c.is_ascii_digit() || c == b'=' {
                        edits.push((k, b"_"));
                    }
                }
                i = end;
                continue;
            }
        }
        if !b.is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let boundary = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b'('
                    | b'{'
                    | b'|'
                    | b';'
                    | b'&'
                    | b'='
                    | b','
                    | b'-'
            );
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        if boundary && bytes.get(j) == Some(&b'-') {
            let word = &src[i..j];
            let next_alpha = bytes.get(j + 1).is_some_and(u8::is_ascii_alphabetic);
            if next_alpha
                && (i == 0 || bytes[i - 1] != b'-')
                && KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
            {
                edits.push((j, b"_"));
            }
        }
        if i > 0 && bytes[i - 1] == b'-' && word_is(&src[i..j], "parallel") {
            let before = src[..i - 1].trim_end();
            let word_start = before
                .char_indices()
                .rev()
                .find(|&(_, c)| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
                .map_or(0, |(k, c)| k + c.len_utf8());
            if !before[word_start..].eq_ignore_ascii_case("foreach") {
                edits.push((j - 1, b"_"));
            }
        }
        i = j;
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = bytes.to_vec();
    for (at, with) in edits {
        out[at..at + with.len()].copy_from_slice(with);
    }
    String::from_utf8(out).ok()
}

/// The end of the parameter word at `i` (`-IPv4`, `--level=2`) when it holds a digit or `=` the
/// grammar's parameter token does not take, and nothing it cannot stand for as letters.
fn parameter_word(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while bytes.get(j) == Some(&b'-') {
        j += 1;
    }
    if !bytes
        .get(j)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'?')
    {
        return None;
    }
    let mut odd = false;
    while let Some(&c) = bytes.get(j) {
        match c {
            b'0'..=b'9' | b'=' => odd = true,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'?' | b'-' => {}
            _ => break,
        }
        j += 1;
    }
    // `-IPv4:$true`: the colon that joins a value ends the name.
    let ends = matches!(
        bytes.get(j),
        None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|' | b')' | b'}' | b':')
    );
    (odd && ends).then_some(j)
}

/// Whether the `??` at `i` may be PowerShell 7's null-coalescing operator (`$a ?? 'x'`,
/// `($a)??($b)`, `$x ??= 1`) rather than wildcards inside a word (`C:\Temp\??.tmp`,
/// `-Filter ??.tmp`, `ex??????.log`): it stands after a blank or a closing bracket or quote, and
/// before a blank, the end, or what opens an operand.
fn null_coalescing_at(bytes: &[u8], i: usize) -> bool {
    let before = i.checked_sub(1).map(|k| bytes[k]);
    let after = match bytes.get(i + 2) {
        Some(b'=') => bytes.get(i + 3),
        other => other,
    };
    matches!(
        before,
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b')' | b']' | b'}' | b'\'' | b'"')
    ) && after.is_none_or(|&c| c.is_ascii_digit() || b" \t\r\n$(@'\"[{-+!".contains(&c))
}

/// `COND ? A : B` (PowerShell 7): the position of the `:` when the `?` at `i` is a ternary
/// operator rather than the `?` alias of Where-Object (`| ? { … }`).
fn ternary_at(bytes: &[u8], i: usize) -> Option<usize> {
    let blank = |b: Option<&u8>| b.is_some_and(|&b| b == b' ' || b == b'\t');
    if i == 0 || !blank(bytes.get(i - 1)) || !blank(bytes.get(i + 1)) {
        return None;
    }
    let before = bytes[..i]
        .iter()
        .rev()
        .find(|&&b| b != b' ' && b != b'\t')?;
    if matches!(before, b'|' | b'\n' | b'\r' | b';' | b'{' | b'(') {
        return None;
    }
    let mut j = i + 2;
    while j + 1 < bytes.len() && bytes[j] != b'\n' {
        if bytes[j] == b':' && blank(bytes.get(j - 1)) && blank(bytes.get(j + 1)) {
            return Some(j);
        }
        j += 1;
    }
    None
}

/// A lone `&` at the end of a pipeline (PowerShell 7's background operator).
fn background_at(bytes: &[u8], i: usize) -> bool {
    if i == 0
        || matches!(
            bytes[i - 1],
            b'&' | b'>' | b'<' | b'\n' | b'\r' | b'(' | b'{' | b';'
        )
    {
        return false;
    }
    let rest = bytes[i + 1..].iter().find(|&&b| b != b' ' && b != b'\t');
    matches!(rest, None | Some(b'\n' | b'\r' | b';' | b'}' | b')'))
}

/// The backticks of the bare name after the call operator at `i` (`` & Get-Local`User ``) when
/// each escapes a letter, digit or `-` and the name is one word of those and `_ . \ / :`.
fn call_name_escapes(bytes: &[u8], i: usize) -> Vec<usize> {
    if bytes.get(i + 1) == Some(&b'&') || (i > 0 && bytes[i - 1] == b'&') {
        return Vec::new();
    }
    let mut j = i + 1;
    while matches!(bytes.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    if j == i + 1 || !bytes.get(j).is_some_and(u8::is_ascii_alphabetic) {
        return Vec::new();
    }
    let name_byte = |c: &u8| c.is_ascii_alphanumeric() || b"-_.\\/:".contains(c);
    let mut escapes = Vec::new();
    while let Some(&c) = bytes.get(j) {
        if c == b'`'
            && bytes
                .get(j + 1)
                .is_some_and(|e| e.is_ascii_alphanumeric() || *e == b'-')
        {
            escapes.push(j);
            j += 2;
        } else if name_byte(&c) {
            j += 1;
        } else {
            break;
        }
    }
    match bytes.get(j) {
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b')' | b'}') => escapes,
        _ => Vec::new(),
    }
}

fn word_is(word: &str, expected: &str) -> bool {
    word.eq_ignore_ascii_case(expected)
}

/// See [`super::parse_embedded`].
pub(crate) fn parse_into(
    src: &str,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
) {
    parse_in_chunks(src, base, host, out, depth, CHUNKED_ABOVE, CHUNK);
}

fn parse_in_chunks(
    src: &str,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
    chunked_above: usize,
    chunk: usize,
) {
    let patched = patch_ps7(src);
    let text = patched.as_deref().unwrap_or(src);
    let mut walker = Walker::new(src, base, host, out, depth);
    walker.pwsh |= depth == 0 && declares_pwsh(src);
    // A check that ends the script holds for all the document after it; a piece of a document
    // parsed alone is told what the checks before it proved (`os::after_checks`).
    let mut endings: Vec<Ending> = match depth {
        0 => {
            let passed = super::os::passed();
            // The script's `#Requires` lines hold for all of it: read here, unless the caller
            // read them from the whole document this is a piece of.
            let required = match passed.as_ref().and_then(|p| p.required) {
                Some(_) => None,
                None => requires(src).ending(),
            };
            passed
                .map(|p| Ending { from: 0, ..p })
                .into_iter()
                .chain(required)
                .collect()
        }
        _ => Vec::new(),
    };
    // A large document is parsed in pieces: what the pieces before proved is kept.
    let mut walk = |walker: &mut Walker<'_, '_>, root: Node<'_>| {
        if depth == 0 {
            let found = walker.endings(root);
            if !found.is_empty() || (walker.passed.is_empty() && !endings.is_empty()) {
                endings.extend(found);
                walker.passed = Passed::new(endings.clone());
            }
        }
        walker.walk(root);
    };
    if src.len() <= chunked_above {
        if let Some(tree) = parse_tree(text, None) {
            walk(&mut walker, tree.root_node());
        }
    } else {
        for piece in chunks(text, chunk) {
            if let Some(tree) = parse_tree(text, Some(piece)) {
                walk(&mut walker, tree.root_node());
            }
            // Claims name nodes of the tree just freed; their ids may be reused.
            walker.special.clear();
            walker.flush_region();
        }
    }
    walker.flush_region();
}

/// Parses the `ranges` of `text` (`src` after [`patch_ps7`], the same length) as one program
/// and adds the commands and code regions of `src` found there to `out`; `false` when the
/// tree does not confirm the ranges ([`super::sparse_ps::confirms`]). A code region never
/// reaches over the text between two ranges, which was not parsed.
pub(crate) fn parse_ranges_into(
    src: &str,
    text: &str,
    ranges: &[tree_sitter::Range],
    out: &mut Parsed,
    endings: &[Ending],
) -> bool {
    let tree = super::parse_ranges(
        &PARSER,
        || tree_sitter_powershell::LANGUAGE.into(),
        text,
        ranges,
    );
    let Some(tree) = tree.filter(|t| super::sparse_ps::confirms(t.root_node(), ranges)) else {
        return false;
    };
    let base = OffsetMap::starting_at(0);
    let mut walker = Walker::new(src, &base, None, out, 0);
    walker.pwsh |= declares_pwsh(src);
    walker.range_ends = ranges.iter().map(|r| r.end_byte).collect();
    if !endings.is_empty() {
        walker.passed = Passed::new(endings.to_vec());
    }
    walker.walk(tree.root_node());
    walker.flush_region();
    true
}

/// The checks that end the script ([`Ending`]) among the top-level statements of `ranges` of
/// the document `src` (`text` as in [`parse_ranges_into`]); `None` when the tree does not
/// confirm the ranges.
pub(crate) fn endings_in_ranges(
    src: &str,
    text: &str,
    ranges: &[tree_sitter::Range],
) -> Option<Vec<Ending>> {
    let tree = super::parse_ranges(
        &PARSER,
        || tree_sitter_powershell::LANGUAGE.into(),
        text,
        ranges,
    );
    let tree = tree.filter(|t| super::sparse_ps::confirms(t.root_node(), ranges))?;
    let mut out = Parsed::default();
    let base = OffsetMap::starting_at(0);
    let mut walker = Walker::new(src, &base, None, &mut out, 0);
    walker.pwsh |= declares_pwsh(src);
    Some(walker.endings(tree.root_node()))
}

/// The checks that end the script among the top-level statements of the document `src`.
pub fn endings(src: &str) -> Vec<Ending> {
    if !may_end_script(src, PS) {
        return Vec::new();
    }
    let patched = patch_ps7(src);
    let text = patched.as_deref().unwrap_or(src);
    let mut out = Parsed::default();
    let base = OffsetMap::starting_at(0);
    let mut walker = Walker::new(src, &base, None, &mut out, 0);
    walker.pwsh |= declares_pwsh(src);
    let mut found = Vec::new();
    if src.len() <= CHUNKED_ABOVE {
        if let Some(tree) = parse_tree(text, None) {
            found = walker.endings(tree.root_node());
        }
    } else {
        for piece in chunks(text, CHUNK) {
            if let Some(tree) = parse_tree(text, Some(piece)) {
                found.extend(walker.endings(tree.root_node()));
            }
        }
    }
    found
}

/// The node kinds the walk treats specially, by kind id (a name can have several ids).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    /// Comments, verbatim strings and here-strings: never code.
    Data,
    /// Expandable strings and here-strings: code only in their `$( … )`.
    Expandable,
    SubExpression,
    Command,
    /// `$x = …`: remembered when the value is a script block or a splatting table.
    Assignment,
    /// `if (…) { … } elseif (…) { … } else { … }`: its condition may guard its blocks.
    If,
    /// `switch ($PSVersionTable.PSVersion.Major) { 5 { … } default { … } }`: each clause runs
    /// on the versions its condition matches.
    Switch,
    /// An expression or a command's arguments: a command, a string or a comment can only be
    /// in one through a bracket or a quote (`(…)`, `$(…)`, `{…}`, `'…'`, `@'…'@`, `#`), so one
    /// without any is only code. The grammar nests every value in a chain of a dozen
    /// expression kinds; walking them node by node was a third of a large script's scan.
    Opaque,
}

/// A byte that may open a command, a string, a comment or an escape inside an expression.
fn opens_something(b: u8) -> bool {
    matches!(b, b'(' | b'{' | b'"' | b'\'' | b'@' | b'#' | b'`')
}

fn kinds() -> &'static [Kind] {
    static KINDS: std::sync::OnceLock<Vec<Kind>> = std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        let lang: tree_sitter::Language = tree_sitter_powershell::LANGUAGE.into();
        (0..lang.node_kind_count())
            .map(|id| {
                match u16::try_from(id)
                    .ok()
                    .and_then(|id| lang.node_kind_for_id(id))
                {
                    Some(
                        "comment"
                        | "verbatim_string_characters"
                        | "verbatim_here_string_characters",
                    ) => Kind::Data,
                    Some("expandable_string_literal" | "expandable_here_string_literal") => {
                        Kind::Expandable
                    }
                    Some("sub_expression") => Kind::SubExpression,
                    Some("command") => Kind::Command,
                    Some("assignment_expression") => Kind::Assignment,
                    Some("if_statement") => Kind::If,
                    Some("switch_statement") => Kind::Switch,
                    Some(
                        "additive_argument_expression"
                        | "additive_expression"
                        | "argument_expression"
                        | "argument_expression_list"
                        | "array_literal_expression"
                        | "bitwise_argument_expression"
                        | "bitwise_expression"
                        | "cast_expression"
                        | "command_elements"
                        | "command_parameter"
                        | "comparison_argument_expression"
                        | "comparison_expression"
                        | "decimal_integer_literal"
                        | "element_access"
                        | "expression_with_unary_operator"
                        | "format_argument_expression"
                        | "format_expression"
                        | "generic_token"
                        | "hexadecimal_integer_literal"
                        | "integer_literal"
                        | "logical_argument_expression"
                        | "logical_expression"
                        | "member_access"
                        | "multiplicative_argument_expression"
                        | "multiplicative_expression"
                        | "post_decrement_expression"
                        | "post_increment_expression"
                        | "pre_decrement_expression"
                        | "pre_increment_expression"
                        | "range_argument_expression"
                        | "range_expression"
                        | "real_literal"
                        | "type_literal"
                        | "unary_expression"
                        | "variable",
                    ) => Kind::Opaque,
                    _ => Kind::Other,
                }
            })
            .collect()
    })
}

/// What the walk does with a node an enclosing command has claimed.
enum Special {
    /// Already handled (an executed string parsed as code): neither commands nor code here.
    Skip,
    /// A script block that runs on these hosts (the first, then copies for the others).
    Hosts(Vec<Rc<str>>),
}

/// A script block sent to several hosts: what the walk finds in it for the first is copied for
/// the others when the walk leaves it.
#[derive(Clone)]
struct FanOut {
    first: Rc<str>,
    others: Vec<Rc<str>>,
    /// How many commands and code regions there were when the block was entered.
    commands: usize,
    code: usize,
}

#[derive(Clone, Default)]
struct Frame {
    /// Leaving these children ends the code region (the rest of a string is data).
    flush_on_exit: bool,
    /// Set inside a remote script block.
    host: Option<Rc<str>>,
    /// The children are parts of an expandable string: only `$( … )` is code.
    in_string: bool,
    /// Leaving these children copies what was found in them for other hosts.
    fan_out: Option<FanOut>,
}

struct Walker<'s, 'o> {
    kinds: &'static [Kind],
    src: &'s str,
    base: &'o OffsetMap,
    identity: bool,
    outer_host: Option<Rc<str>>,
    out: &'o mut Parsed,
    depth: u8,
    /// By node id, with the node's start (an [`Kind::Opaque`] node holding one is walked).
    special: Vec<(usize, usize, Special)>,
    /// `$s = New-PSSession -ComputerName HOST`: variable (lowercase, with `$`) and host, for
    /// a later `-Session $s`.
    sessions: Vec<(String, Vec<Rc<str>>)>,
    /// `$sb = { … }` / `$sb = [scriptblock]::Create('…')`: script blocks kept in variables,
    /// for a later `Invoke-Command -ScriptBlock $sb -ComputerName HOST`.
    blocks: Vec<Block>,
    /// `$p = @{ ComputerName = …; ScriptBlock = … }`: tables for `Invoke-Command @p`.
    splats: Vec<Splat>,
    /// `Enter-PSSession HOST` seen: the session starts at this offset.
    pending_session: Option<(usize, Rc<str>)>,
    /// After `Enter-PSSession HOST`, until `Exit-PSSession`.
    session_host: Option<Rc<str>>,
    /// The code region being grown: source range and host.
    region: Option<(Range<usize>, Option<Rc<str>>)>,
    /// Blocks of `if` statements whose condition proves something about what they run.
    guards: Vec<Guard>,
    /// What the checks that end the script prove for the code after each ([`Ending`]).
    passed: Passed,
    /// In a parse of chosen ranges ([`parse_ranges_into`]), where each ends: a code region
    /// stops there.
    range_ends: Vec<usize>,
    /// The tree has no error: [`Kind::Opaque`] nodes are passed over whole.
    clean: bool,
    /// This code is read by `pwsh` (see [`read_by`]).
    pwsh: bool,
}

/// A block that runs only when a condition proved a command present or PowerShell new enough.
struct Guard {
    range: Range<usize>,
    /// The host the condition was checked on.
    host: Option<Rc<str>>,
    facts: Facts,
}

/// What a condition proves: command names (lowercase, aliases resolved) that exist, a lowest
/// PowerShell version and a lowest Windows release.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    names: Vec<String>,
    min: Option<(u32, u32)>,
    /// A lowest `.PSVersion.Minor`: alone it proves no version (7.1 has a higher minor than
    /// 7.0), with a major (`Major -ge 5 -and Minor -ge 1`) it raises `min` (to 5.1).
    minor: Option<u32>,
    /// The OS families the code can run on (`if ($IsLinux)`).
    os: OsSet,
    /// A lowest Windows NT version `(major, minor, build)`, should the code run on Windows
    /// (`[Environment]::OSVersion.Version -ge [version]'6.2'`): on another OS the check
    /// compares that OS's own version, so it proves no OS family.
    windows: Option<(u32, u32, u32)>,
    /// A lowest `.OSVersion.Version.Minor`, as `minor` is for PowerShell.
    windows_minor: Option<u32>,
}

impl Facts {
    /// These facts and what the checks that ended the script before `at` prove ([`Passed`]).
    pub(crate) fn after_checks(mut self, passed: &Passed, at: usize) -> Facts {
        let (os, min) = passed.at(at);
        self.os = self.os & os;
        self.min = self.min.max(min);
        self.windows = self.windows.max(passed.windows_at(at));
        self.settle();
        self
    }

    /// Marks the command `cmd` (named `resolved`, lowercase, at `at`) with what these facts
    /// prove, and with the names the checks that ended the script (`passed`, on its host)
    /// proved present.
    pub(crate) fn mark(
        &self,
        cmd: &mut Command,
        resolved: &str,
        passed: Option<&Passed>,
        at: usize,
    ) {
        cmd.guarded |= self.names.iter().any(|n| n == resolved)
            || passed.is_some_and(|p| p.proves(resolved, at));
        cmd.min_powershell = cmd.min_powershell.max(self.min);
        cmd.min_windows = cmd.min_windows.max(self.windows);
        cmd.os = cmd.os & self.os;
    }

    fn and(mut self, other: Facts) -> Facts {
        self.names.extend(other.names);
        self.min = self.min.max(other.min);
        self.minor = self.minor.max(other.minor);
        self.os = self.os & other.os;
        self.windows = self.windows.max(other.windows);
        self.windows_minor = self.windows_minor.max(other.windows_minor);
        self.settle();
        self
    }

    /// One of the two held: what both prove (the names both prove, the lower version, either
    /// side's OS families).
    fn or(self, other: Facts) -> Facts {
        let lower = |a: Option<u32>, b: Option<u32>| a.zip(b).map(|(a, b)| a.min(b));
        Facts {
            names: self
                .names
                .into_iter()
                .filter(|n| other.names.contains(n))
                .collect(),
            min: self.min.zip(other.min).map(|(a, b)| a.min(b)),
            minor: lower(self.minor, other.minor),
            os: self.os | other.os,
            windows: self.windows.zip(other.windows).map(|(a, b)| a.min(b)),
            windows_minor: lower(self.windows_minor, other.windows_minor),
        }
    }

    /// Raises the lowest versions to what their lowest minors add: a version of at least 5.0
    /// whose minor is at least 1 is at least 5.1.
    fn settle(&mut self) {
        if let (Some((major, minor)), Some(m)) = (self.min, self.minor) {
            if minor < m {
                self.min = Some((major, m));
            }
        }
        if let (Some((major, minor, _)), Some(m)) = (self.windows, self.windows_minor) {
            if minor < m {
                self.windows = Some((major, m, 0));
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.min.is_none()
            && self.minor.is_none()
            && self.os.is_any()
            && self.windows.is_none()
            && self.windows_minor.is_none()
    }
}

/// What a condition proves when it is true, and when it is false.
#[derive(Default)]
struct Proof {
    if_true: Facts,
    if_false: Facts,
}

impl Proof {
    fn not(self) -> Proof {
        Proof {
            if_true: self.if_false,
            if_false: self.if_true,
        }
    }
}

/// A script block kept in a variable.
struct Block {
    /// The variable, lowercase, with its `$`.
    var: String,
    /// The block's document span: its commands and code regions are found where it is written.
    span: Range<usize>,
    /// Where the block's commands run until it is sent elsewhere: the host around it.
    defined_on: Option<Rc<str>>,
    /// The host it was last sent to by `Invoke-Command`.
    sent_to: Option<Rc<str>>,
}

/// A splatting table for `Invoke-Command @var`.
struct Splat {
    /// The variable, lowercase, with its `$`.
    var: String,
    hosts: Vec<Rc<str>>,
    /// The document span of its `ScriptBlock` (written inline or through a block variable).
    block: Option<Range<usize>>,
}

/// One argument of a command: the element node and the node it wraps (a string literal, a
/// script block, a bare word …).
#[derive(Clone, Copy)]
struct Elem<'t> {
    node: Node<'t>,
    core: Node<'t>,
}

impl<'t> Elem<'t> {
    fn is_param(&self) -> bool {
        self.node.kind() == "command_parameter"
    }
}

impl<'s, 'o> Walker<'s, 'o> {
    fn new(
        src: &'s str,
        base: &'o OffsetMap,
        host: Option<&str>,
        out: &'o mut Parsed,
        depth: u8,
    ) -> Walker<'s, 'o> {
        Walker {
            kinds: kinds(),
            src,
            base,
            identity: *base == OffsetMap::starting_at(0),
            outer_host: host.map(Rc::from),
            out,
            depth,
            special: Vec::new(),
            sessions: Vec::new(),
            blocks: Vec::new(),
            splats: Vec::new(),
            pending_session: None,
            session_host: None,
            region: None,
            guards: Vec::new(),
            passed: Passed::default(),
            range_ends: Vec::new(),
            clean: false,
            pwsh: PWSH.get(),
        }
    }
}

impl<'s> Walker<'s, '_> {
    fn walk(&mut self, root: Node<'_>) {
        // A repaired tree may hold tokens that start with a blank: walked leaf by leaf.
        self.clean = !root.has_error();
        let mut cursor = root.walk();
        let mut frames: Vec<Frame> = vec![Frame::default()];
        loop {
            let node = cursor.node();
            let top = frames.len() - 1;
            if let Some(child_frame) = self.visit(node, &frames[top]) {
                if cursor.goto_first_child() {
                    frames.push(child_frame);
                    continue;
                }
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                if let Some(f) = frames.pop() {
                    if f.flush_on_exit {
                        self.flush_region();
                    }
                    if let Some(fan) = f.fan_out {
                        self.fan_out(fan);
                    }
                }
            }
        }
    }

    fn host_of(&self, frame: &Frame) -> Option<Rc<str>> {
        frame
            .host
            .clone()
            .or_else(|| self.session_host.clone())
            .or_else(|| self.outer_host.clone())
    }

    /// Handles one node; returns the frame for its children, or `None` to skip them.
    fn visit(&mut self, node: Node<'_>, frame: &Frame) -> Option<Frame> {
        if let Some((from, _)) = &self.pending_session {
            if node.start_byte() >= *from {
                self.session_host = self.pending_session.take().map(|(_, h)| h);
            }
        }
        let mut child = Frame {
            host: frame.host.clone(),
            ..Frame::default()
        };
        if !self.special.is_empty() {
            if let Some(i) = self.special.iter().position(|(id, ..)| *id == node.id()) {
                match self.special.swap_remove(i).2 {
                    Special::Skip => {
                        self.flush_region();
                        return None;
                    }
                    Special::Hosts(hosts) => {
                        let mut hosts = hosts.into_iter();
                        if let Some(first) = hosts.next() {
                            let others: Vec<Rc<str>> = hosts.collect();
                            if !others.is_empty() {
                                // What is found from here on runs on `first` only if it is new.
                                self.flush_region();
                                child.fan_out = Some(FanOut {
                                    first: first.clone(),
                                    others,
                                    commands: self.out.commands.len(),
                                    code: self.out.code.len(),
                                });
                            }
                            child.host = Some(first);
                        }
                    }
                }
            }
        }
        let kind = self
            .kinds
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(Kind::Other);
        if frame.in_string && kind != Kind::SubExpression {
            self.flush_region();
            return None;
        }
        match kind {
            Kind::Data => {
                self.flush_region();
                None
            }
            // A bare argument run by another shell (`bash -c ls -la`, `powershell -ec BASE64`)
            // is claimed: the node holding it is walked so that the claim ends the region.
            Kind::Opaque
                if self.clean
                    && super::prune_walks()
                    && !self.text(node).bytes().any(opens_something)
                    && !self
                        .special
                        .iter()
                        .any(|&(_, at, _)| node.byte_range().contains(&at)) =>
            {
                let text = self.text(node);
                // ASCII blanks only, as the leaf walk skips them: a no-break space is a token.
                let start = node.start_byte() + (text.len() - text.trim_ascii_start().len());
                let end = start + text.trim_ascii().len();
                if start < end {
                    let host = self.host_of(&child);
                    self.grow_region(start..end, host);
                }
                None
            }
            Kind::Expandable => {
                self.flush_region();
                child.in_string = true;
                child.flush_on_exit = true;
                Some(child)
            }
            _ => {
                if kind == Kind::Command {
                    let host = self.host_of(&child);
                    self.command(node, host);
                } else if kind == Kind::Assignment {
                    let host = self.host_of(&child);
                    self.assignment(node, host);
                } else if kind == Kind::If {
                    let host = self.host_of(&child);
                    self.if_guards(node, host);
                    self.version_blocks(node.start_byte());
                } else if kind == Kind::Switch {
                    let host = self.host_of(&child);
                    self.switch_guards(node, host);
                    self.version_blocks(node.start_byte());
                }
                if node.child_count() == 0
                    && !self.text(node).bytes().all(|b| b.is_ascii_whitespace())
                {
                    let host = self.host_of(&child);
                    self.grow_region(node.byte_range(), host);
                }
                Some(child)
            }
        }
    }

    /// Extends the region being grown with `range` (code, not blank), or starts a new one.
    fn grow_region(&mut self, range: Range<usize>, host: Option<Rc<str>>) {
        if range.is_empty() {
            return;
        }
        if let Some((r, h)) = &mut self.region {
            let over_a_gap = !self.range_ends.is_empty() && {
                let k = self.range_ends.partition_point(|&e| e < r.end);
                self.range_ends.get(k).is_some_and(|&e| e <= range.start)
            };
            if *h == host && !over_a_gap {
                r.end = range.end;
                return;
            }
        }
        self.flush_region();
        self.region = Some((range, host));
    }

    /// The commands and code regions found for `fan.first` in a block sent to several hosts,
    /// once more for each other host: the same spans, checked against each host.
    fn fan_out(&mut self, fan: FanOut) {
        self.flush_region();
        let on_first = |h: &Option<String>| h.as_deref() == Some(&*fan.first);
        for k in fan.commands..self.out.commands.len() {
            if on_first(&self.out.commands[k].host) {
                for h in &fan.others {
                    let mut c = self.out.commands[k].clone();
                    c.host = Some(h.to_string());
                    self.out.commands.push(c);
                }
            }
        }
        for k in fan.code..self.out.code.len() {
            if on_first(&self.out.code[k].host) {
                for h in &fan.others {
                    let mut r = self.out.code[k].clone();
                    r.host = Some(h.to_string());
                    self.out.code.push(r);
                }
            }
        }
    }

    fn flush_region(&mut self) {
        if let Some((range, host)) = self.region.take() {
            // Code the script's own PowerShell reads: what its `#Requires` lines declare.
            let required = self.required_on(&host);
            let host = host.map(|h| h.to_string());
            if self.identity {
                self.out.code.push(CodeRegion {
                    span: range,
                    language: PS,
                    host,
                    min_powershell: required,
                });
            } else {
                let from = self.out.code.len();
                push_mapped_region(self.out, range, self.base, PS, host);
                for r in &mut self.out.code[from..] {
                    r.min_powershell = required;
                }
            }
        }
    }

    /// The lowest PowerShell the script's `#Requires` lines declare, for code that runs on
    /// `host` in this session (`None` elsewhere: a remote host runs its own PowerShell).
    fn required_on(&self, host: &Option<Rc<str>>) -> Option<(u32, u32)> {
        match *host == self.outer_host {
            true => self.passed.required(),
            false => None,
        }
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    /// A `command` node: its name, its text, and what it runs.
    fn command(&mut self, node: Node<'_>, host: Option<Rc<str>>) {
        let Some(name_node) = node.child_by_field_name("command_name") else {
            return;
        };
        // `& 'C:\x\tool.exe'` / `& cmd` / `. .\x.ps1`: the name is the word or string after the
        // operator; `& $var` and `& { … }` have none.
        let (word, after_name) = match name_node.kind() {
            "command_name" => (name_node.byte_range(), name_node.end_byte()),
            "command_name_expr" => {
                let Some(inner) = name_node.named_child(0) else {
                    return;
                };
                match inner.kind() {
                    // `& Get-Date`: the grammar reads a name with a `-` after `&` as a path.
                    "command_name" | "path_command_name" => (inner.byte_range(), inner.end_byte()),
                    "string_literal" => match string_content(self.src, inner) {
                        Some((content, map)) if !content.is_empty() => {
                            // Only a string without escapes gives a faithful name span.
                            let start = map.to_source(0);
                            let end = map.to_source(content.len());
                            if end - start != content.len() {
                                return;
                            }
                            (start..end, inner.end_byte())
                        }
                        _ => return,
                    },
                    _ => return,
                }
            }
            _ => return,
        };
        let mut proven = Facts::default();
        for g in self.guards.iter().filter(|g| g.range.contains(&word.start)) {
            // A check made here says nothing about another host.
            if g.host != host {
                continue;
            }
            proven = proven.and(g.facts.clone());
        }
        // What the checks that ended the script proved, on this machine.
        let passed = host == self.outer_host && !self.passed.is_empty();
        if passed {
            proven = proven.after_checks(&self.passed, word.start);
        }
        let word_text = self.src.get(word.clone()).unwrap_or("");
        // `Get-Local`User` runs Get-LocalUser: a backtick escapes the next character.
        let escaped = match word_text.contains('`') {
            true => match unescape_name(word_text, word.start, self.pwsh || proven.min >= PWSH6) {
                Some(e) => Some(e),
                None => return,
            },
            false => None,
        };
        let spelled = escaped.as_ref().map_or(word_text, |(n, _)| n.as_str());
        let Some((name, within, alias)) = resolve_name(spelled, self.pwsh, &proven) else {
            return;
        };
        let resolved = alias.unwrap_or(name).to_ascii_lowercase();

        let elems = self.elements(node);
        let end = self.command_end(node, after_name, &elems);
        self.argument_words(&elems);

        // The text: the name, then the arguments up to the end of this command, leaving out the
        // inside of long script blocks and sub-expressions.
        let mut pieces = Vec::new();
        let mut at = after_name.min(end);
        for e in &elems {
            if let Some(inner) = elidable(e.core, self.src) {
                if inner.start >= at && inner.end <= end {
                    pieces.push(at..inner.start);
                    at = inner.end;
                }
            }
        }
        pieces.push(at..end.max(at));
        let unescaped = escaped
            .as_ref()
            .map(|(_, at)| (name, map_bytes(&at[within])));
        let mut cmd = self.build(
            word.clone(),
            alias,
            unescaped.as_ref().map(|(n, m)| (*n, m)),
            &pieces,
            host.as_deref(),
        );
        proven.mark(
            &mut cmd,
            &resolved,
            passed.then_some(&self.passed),
            word.start,
        );
        self.out.commands.push(cmd);

        match resolved.as_str() {
            "invoke-expression" => {
                let from = self.out.commands.len();
                let code_from = self.out.code.len();
                match elems.is_empty() {
                    true => self.piped_string(node, host.as_deref()),
                    false => self.invoke_expression(&elems, host.clone()),
                }
                // The string runs in this session: what the conditions proved holds there too
                // (not in `powershell -Command`, another PowerShell with its own modules).
                for c in self.out.commands.iter_mut().skip(from) {
                    if c.language == PS && c.host.as_deref() == host.as_deref() {
                        let name = resolve_alias(&c.name);
                        c.guarded |= proven.names.contains(&name)
                            || (passed && self.passed.proves(&name, word.start));
                        c.min_powershell = c.min_powershell.max(proven.min);
                        c.min_windows = c.min_windows.max(proven.windows);
                        c.os = c.os & proven.os;
                    }
                }
                // The session's PowerShell reads its code: what `#Requires` declares holds there.
                let required = self.required_on(&host);
                for r in self.out.code.iter_mut().skip(code_from) {
                    if r.language == PS && r.host.as_deref() == host.as_deref() {
                        r.min_powershell = r.min_powershell.max(required);
                    }
                }
            }
            "powershell" | "pwsh" => {
                let from = (self.out.commands.len(), self.out.code.len());
                let pwsh = resolved == "pwsh";
                read_by(pwsh, || self.powershell(&elems, end, host, !pwsh));
                if pwsh {
                    super::run_by_pwsh(self.out, from.0, from.1);
                }
            }
            "cmd" => self.cmd(&elems, end, host),
            "bash" | "sh" | "zsh" | "dash" | "ksh" => self.shell_c(&elems, end, host),
            "wsl" => self.wsl(&elems, end, host),
            "ssh" => self.ssh(&elems, end),
            "psexec" | "psexec64" => self.psexec(&elems, end),
            "invoke-command" => self.invoke_command(&elems),
            "enter-pssession" => {
                // One host: `Enter-PSSession` takes no list.
                if let Some(h) = self.session_hosts(&elems).into_iter().next() {
                    // The session starts after this command, which itself runs here.
                    self.pending_session = Some((node.end_byte(), h));
                }
            }
            "exit-pssession" => {
                self.session_host = None;
                self.pending_session = None;
            }
            "new-pssession" => self.remember_session(node, &elems),
            "start-process" | "saps" | "start" => self.start_process(&elems, host),
            _ => {}
        }
    }

    /// Records the bare words and parameter names among a command's arguments, which
    /// PowerShell reads in argument mode ([`Parsed::words`]).
    fn argument_words(&mut self, elems: &[Elem<'_>]) {
        for e in elems {
            let node = match e.is_param() {
                true => e.node,
                false if e.core.kind() == "generic_token" => e.core,
                false => continue,
            };
            let r = node.byte_range();
            if !self.identity {
                let r = self.base.to_source(r.start)..self.base.to_source_end(r.end);
                self.out.words.push(r);
                continue;
            }
            push_word(self.out, self.src, r);
        }
    }

    /// The blocks of the `if` statement at `at` whose conditions proved a lowest PowerShell
    /// ([`Parsed::version_blocks`]): the guards [`Walker::if_guards`] just added.
    fn version_blocks(&mut self, at: usize) {
        for g in self.guards.iter().filter(|g| g.range.start >= at) {
            // With the checks around it: `Minor -ge 1` inside `Major -ge 5` proves 5.1.
            let facts = self
                .guards
                .iter()
                .filter(|o| {
                    o.range.start < at && o.range.contains(&g.range.start) && o.host == g.host
                })
                .fold(g.facts.clone(), |f, o| f.and(o.facts.clone()));
            let Some(min) = facts.min else {
                continue;
            };
            let span = match self.identity {
                true => g.range.clone(),
                false => self.base.to_source(g.range.start)..self.base.to_source_end(g.range.end),
            };
            self.out.version_blocks.push(super::VersionBlock {
                span,
                host: g.host.as_deref().map(str::to_string),
                min,
            });
        }
    }

    /// The end of a command: its node without trailing blanks or a dangling continuation, and
    /// never past a line break between its words that no backtick continues (after a parse
    /// error the grammar can let a command run into the next line).
    fn command_end(&self, node: Node<'_>, after_name: usize, elems: &[Elem<'_>]) -> usize {
        let mut end = node.end_byte();
        let mut gap_start = after_name;
        let line_break = |text: &str| {
            text.match_indices('\n')
                .map(|(i, _)| i)
                .find(|&i| !text[..i].trim_end_matches('\r').ends_with('`'))
        };
        let words = elems
            .iter()
            .map(|e| (e.node.start_byte(), e.node.end_byte(), e.node.is_error()))
            .chain([(end, end, false)]);
        for (e_start, e_end, error) in words {
            let gap = self
                .src
                .get(gap_start..e_start.max(gap_start))
                .unwrap_or("");
            if line_break(gap).is_some() {
                end = gap_start;
                break;
            }
            if error {
                let text = self.src.get(e_start..e_end).unwrap_or("");
                if let Some(nl) = line_break(text) {
                    end = e_start + nl;
                    break;
                }
            }
            gap_start = gap_start.max(e_end);
        }
        let start = node.start_byte().min(end);
        let text = self.src.get(start..end).unwrap_or("");
        let trimmed = text.trim_end().trim_end_matches('`').trim_end();
        start + trimmed.len()
    }

    /// [`build_command`] in this walk's text.
    fn build(
        &self,
        word: Range<usize>,
        alias: Option<&str>,
        unescaped: Option<(&str, &OffsetMap)>,
        pieces: &[Range<usize>],
        host: Option<&str>,
    ) -> Command {
        let base = (!self.identity).then_some(self.base);
        build_command(self.src, base, word, alias, unescaped, pieces, host)
    }

    fn elements<'t>(&self, command: Node<'t>) -> Vec<Elem<'t>> {
        let mut out = Vec::new();
        let Some(list) = command.child_by_field_name("command_elements") else {
            return out;
        };
        let mut cursor = list.walk();
        for node in list.children(&mut cursor) {
            match node.kind() {
                "command_argument_sep" | "comment" => {}
                _ => out.push(Elem {
                    node,
                    core: unwrap(node),
                }),
            }
        }
        out
    }

    /// Marks an argument as consumed: its content is parsed as code instead.
    fn claim(&mut self, node: Node<'_>) {
        self.special
            .push((node.id(), node.start_byte(), Special::Skip));
    }

    /// Parses an argument that is code in `lang`: a string (unescaped), or the bare words from
    /// it to the end of the command. Script blocks are left to the walk.
    fn exec_arg(
        &mut self,
        elems: &[Elem<'_>],
        i: usize,
        end: usize,
        lang: Language,
        host: Option<&str>,
    ) {
        let Some(e) = elems.get(i) else {
            return;
        };
        if e.core.kind() == "script_block_expression" {
            return;
        }
        if e.core.kind() == "string_literal" && (i + 1 == elems.len() || lang == PS) {
            if let Some((code, map)) = string_content(self.src, e.core) {
                self.claim(e.node);
                self.embed(&code, &map, lang, host);
            }
            return;
        }
        let start = e.node.start_byte();
        if start >= end {
            return;
        }
        for e in &elems[i..] {
            self.claim(e.node);
        }
        let code = self.src[start..end].to_string();
        self.embed(&code, &OffsetMap::starting_at(start), lang, host);
    }

    /// Parses `code`, whose offsets `map` turns into offsets of this text.
    fn embed(&mut self, code: &str, map: &OffsetMap, lang: Language, host: Option<&str>) {
        self.flush_region();
        let map = map.then(self.base);
        super::parse_embedded(code, lang, &map, host, self.out, self.depth + 1);
    }

    fn invoke_expression(&mut self, elems: &[Elem<'_>], host: Option<Rc<str>>) {
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            if e.is_param() {
                let p = param_name(self.text(e.node));
                if is_prefix(&p, "command", 1) {
                    self.exec_string(elems.get(i + 1), host.as_deref());
                    return;
                }
                i += 2;
                continue;
            }
            self.exec_string(Some(&e), host.as_deref());
            return;
        }
    }

    /// `'…' | iex`, `Write-Output '…' | Invoke-Expression`: the string the pipeline stage before
    /// `command` hands on, run as PowerShell.
    fn piped_string(&mut self, command: Node<'_>, host: Option<&str>) {
        let Some(before) = command.prev_named_sibling().filter(|_| {
            command
                .parent()
                .is_some_and(|p| p.kind() == "pipeline_chain")
        }) else {
            return;
        };
        let string = match before.kind() {
            "command" => {
                let name = before
                    .child_by_field_name("command_name")
                    .map_or("", |n| self.text(n));
                let elems = self.elements(before);
                match (resolve_alias(name).as_str(), &elems[..]) {
                    ("write-output" | "echo" | "write", [only]) => only.node,
                    _ => return,
                }
            }
            // An expression stage: down its chain of one-child nodes to the string.
            _ => {
                let mut n = before;
                while n.kind() != "string_literal" && n.named_child_count() == 1 {
                    match n.named_child(0) {
                        Some(c) => n = c,
                        None => return,
                    }
                }
                n
            }
        };
        self.exec_string(
            Some(&Elem {
                node: string,
                core: unwrap(string),
            }),
            host,
        );
    }

    /// A string argument run as PowerShell (`Invoke-Expression`).
    fn exec_string(&mut self, e: Option<&Elem<'_>>, host: Option<&str>) {
        let Some(e) = e else { return };
        if e.core.kind() != "string_literal" {
            return;
        }
        if let Some((code, map)) = string_content(self.src, e.core) {
            self.claim(e.node);
            self.embed(&code, &map, PS, host);
        }
    }

    /// `powershell`/`pwsh`: `-Command` code, `-EncodedCommand` BASE64; `-File` is not inner code.
    fn powershell(
        &mut self,
        elems: &[Elem<'_>],
        end: usize,
        host: Option<Rc<str>>,
        positional_command: bool,
    ) {
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            let text = self.text(e.node);
            if !text.starts_with(['-', '/']) {
                if positional_command {
                    self.exec_arg(elems, i, end, PS, host.as_deref());
                }
                return;
            }
            let p = param_name(text);
            if is_prefix(&p, "command", 1) {
                self.exec_arg(elems, i + 1, end, PS, host.as_deref());
                return;
            }
            if p == "e" || p == "ec" || is_prefix(&p, "encodedcommand", 2) {
                if let Some(v) = elems.get(i + 1) {
                    let span = v.node.byte_range();
                    if let Some(code) = decode_utf16_base64(self.text(v.node)) {
                        self.claim(v.node);
                        // The decoded code has no faithful offsets: all of it points into
                        // the argument (BASE64 is longer than the text it encodes).
                        let map = OffsetMap::starting_at(span.start);
                        self.embed(&code, &map, PS, host.as_deref());
                    }
                }
                return;
            }
            if is_prefix(&p, "file", 1) {
                return;
            }
            const VALUED: &[&str] = &[
                "executionpolicy",
                "ep",
                "ex",
                "windowstyle",
                "w",
                "version",
                "v",
                "outputformat",
                "o",
                "of",
                "inputformat",
                "if",
                "inp",
                "configurationname",
                "config",
                "psconsolefile",
                "workingdirectory",
                "wd",
                "settingsfile",
                "custompipename",
                "encodedarguments",
                "ea",
            ];
            let valued = VALUED.iter().any(|v| *v == p)
                || (p.len() >= 3
                    && VALUED
                        .iter()
                        .any(|v| v.len() > 3 && v.starts_with(p.as_str())));
            i += if valued { 2 } else { 1 };
        }
    }

    /// `cmd /c …` and `cmd /k …`: the rest is a batch command line.
    fn cmd(&mut self, elems: &[Elem<'_>], end: usize, host: Option<Rc<str>>) {
        for (i, e) in elems.iter().enumerate() {
            let t = self.text(e.node).to_ascii_lowercase();
            if t == "/c" || t == "/k" || t == "/r" {
                self.exec_arg(elems, i + 1, end, Language::Batch, host.as_deref());
                return;
            }
            if !t.starts_with('/') {
                return;
            }
        }
    }

    /// `bash -c '…'`, `sh -lc '…'`.
    fn shell_c(&mut self, elems: &[Elem<'_>], end: usize, host: Option<Rc<str>>) {
        for (i, e) in elems.iter().enumerate() {
            let t = self.text(e.node);
            if !t.starts_with('-') {
                return;
            }
            if !t.starts_with("--") && t[1..].contains('c') {
                self.exec_arg(elems, i + 1, end, Language::Bash, host.as_deref());
                return;
            }
        }
    }

    /// `wsl [options] [--exec|-e|--] command args`: the command runs in the Linux shell.
    fn wsl(&mut self, elems: &[Elem<'_>], end: usize, host: Option<Rc<str>>) {
        let mut i = 0;
        while i < elems.len() {
            let t = self.text(elems[i].node).to_ascii_lowercase();
            match t.as_str() {
                "-e" | "--exec" | "--" => {
                    self.exec_arg(elems, i + 1, end, Language::Bash, host.as_deref());
                    return;
                }
                "-d" | "--distribution" | "-u" | "--user" | "--cd" | "--shell-type" => i += 2,
                _ if t.starts_with('-') => {
                    // `wsl --install`, `--list`, `--shutdown` …: management, no command.
                    if t.starts_with("--") {
                        return;
                    }
                    i += 1;
                }
                _ => {
                    self.exec_arg(elems, i, end, Language::Bash, host.as_deref());
                    return;
                }
            }
        }
    }

    /// `ssh [options] [user@]HOST command…`: the command runs in HOST's shell.
    fn ssh(&mut self, elems: &[Elem<'_>], end: usize) {
        const VALUED: &str = "bcDEeFIiJLlmOoPpQRSWw";
        let mut i = 0;
        while i < elems.len() {
            let t = self.text(elems[i].node);
            if let Some(flags) = t.strip_prefix('-') {
                let takes_value = flags
                    .chars()
                    .last()
                    .is_some_and(|c| VALUED.contains(c) && flags.len() == 1);
                i += if takes_value { 2 } else { 1 };
                continue;
            }
            let Some(dest) = static_value(self.src, elems[i].core) else {
                return;
            };
            let dest = dest.strip_prefix("ssh://").unwrap_or(&dest);
            let host = dest.rsplit('@').next().unwrap_or(dest);
            let host = host.split(':').next().unwrap_or(host).to_string();
            if !host.is_empty() {
                self.exec_arg(elems, i + 1, end, Language::Bash, Some(&host));
            }
            return;
        }
    }

    /// `psexec \\HOST[,HOST…] [options] command args`: the command runs on each HOST
    /// (PowerShell passes `\\a,b` to a program as written).
    fn psexec(&mut self, elems: &[Elem<'_>], end: usize) {
        // `\\a,b` is one argument the grammar splits at the comma: elements that touch are
        // one word, which starts at element `first[k]`.
        let mut words: Vec<String> = Vec::new();
        let mut first = Vec::new();
        for (k, e) in elems.iter().enumerate() {
            let text = self.text(e.node);
            match words.last_mut() {
                Some(w) if k > 0 && elems[k - 1].node.end_byte() == e.node.start_byte() => {
                    w.push_str(text)
                }
                _ => {
                    words.push(text.to_string());
                    first.push(k);
                }
            }
        }
        let texts: Vec<&str> = words.iter().map(String::as_str).collect();
        let Some((hosts, i)) = super::batch::psexec_target(&texts) else {
            return;
        };
        let i = first.get(i).copied().unwrap_or(elems.len());
        let mut hosts = hosts.into_iter().map(Rc::<str>::from);
        let Some(on) = hosts.next() else {
            return;
        };
        self.flush_region();
        let fan = FanOut {
            first: on.clone(),
            others: hosts.collect(),
            commands: self.out.commands.len(),
            code: self.out.code.len(),
        };
        self.exec_arg(elems, i, end, Language::Batch, Some(&on));
        self.fan_out(fan);
    }

    /// `Invoke-Command [-ComputerName] HOST [-ScriptBlock] { … }`: the block runs on HOST, on
    /// each host of a list (`-ComputerName a, b`, `@('a','b')`, a session of several).
    fn invoke_command(&mut self, elems: &[Elem<'_>]) {
        const SWITCHES: &[&str] = &[
            "asjob",
            "hidecomputername",
            "indisconnectedsession",
            "nonewscope",
            "enablenetworkaccess",
            "usessl",
            "allowredirection",
            "runasadministrator",
            "remotedebug",
            "sshtransport",
        ];
        let mut hosts: Option<Vec<Rc<str>>> = None;
        let mut block: Option<Elem<'_>> = None;
        let mut positional = Vec::new();
        // The hosts of the first positional argument, if it is a list of names.
        let mut positional_hosts = Vec::new();
        let mut splat: Option<usize> = None;
        let is_block = |e: &Elem<'_>| {
            e.core.kind() == "script_block_expression" || self.statement_block(e.core).is_some()
        };
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            if !e.is_param() {
                let text = self.text(e.core);
                if e.core.kind() == "variable" && text.starts_with('@') {
                    let var = format!("${}", text[1..].to_ascii_lowercase());
                    splat = self.splats.iter().rposition(|s| s.var == var);
                } else if positional.is_empty() && !is_block(&e) {
                    let (list, next) = self.host_list(elems, i);
                    positional_hosts = list;
                    positional.push(e);
                    i = next;
                    continue;
                } else {
                    positional.push(e);
                }
                i += 1;
                continue;
            }
            let p = param_name(self.text(e.node));
            if SWITCHES.iter().any(|s| is_prefix(&p, s, 3)) {
                i += 1;
                continue;
            }
            let value = elems.get(i + 1).copied();
            if is_computer_param(&p) {
                let (list, next) = self.host_list(elems, i + 1);
                hosts = Some(list);
                i = next;
                continue;
            } else if is_prefix(&p, "session", 7) {
                hosts = Some(value.map(|v| self.session_of(v)).unwrap_or_default());
            } else if is_scriptblock_param(&p) {
                block = value;
            }
            // A value that is a list (`-ArgumentList a, b`) is one argument.
            i = self.host_list(elems, i + 1).1;
        }
        if block.is_none() {
            match positional.as_slice() {
                [b, ..] if is_block(b) => block = Some(*b),
                [h, b, ..] if !is_block(h) && is_block(b) => {
                    block = Some(*b);
                    hosts.get_or_insert(positional_hosts);
                }
                _ => {}
            }
        } else if !positional.is_empty() {
            hosts.get_or_insert(positional_hosts);
        }
        // `Invoke-Command @p`: what the table gives, unless written out as well.
        let mut kept = None;
        if let Some(s) = splat.and_then(|i| self.splats.get(i)) {
            if hosts.is_none() {
                hosts = Some(s.hosts.clone());
            }
            if block.is_none() {
                kept = s.block.clone();
            }
        }
        let hosts = hosts.unwrap_or_default();
        if hosts.is_empty() {
            return;
        }
        match block {
            Some(b) if b.core.kind() == "script_block_expression" => {
                let at = b.node.start_byte();
                self.special.push((b.node.id(), at, Special::Hosts(hosts)));
            }
            Some(b) => {
                if let Some(i) = self.statement_block(b.core) {
                    for h in hosts {
                        self.send_block(i, h);
                    }
                }
            }
            None => {
                if let Some(i) = kept.and_then(|s| self.blocks.iter().rposition(|b| b.span == s)) {
                    for h in hosts {
                        self.send_block(i, h);
                    }
                }
            }
        }
    }

    /// The block kept in the variable `core` names.
    fn statement_block(&self, core: Node<'_>) -> Option<usize> {
        if core.kind() != "variable" {
            return None;
        }
        let var = self.text(core).trim().to_ascii_lowercase();
        self.blocks.iter().rposition(|b| b.var == var)
    }

    /// `$x = { … }`, `$x = [scriptblock]::Create('…')`, `$x = @{ ComputerName = …;
    /// ScriptBlock = … }`: remembered for a later `Invoke-Command`. The block itself is walked
    /// where it stands (a block that is never sent anywhere runs here); the string given to
    /// `Create` is parsed as code.
    fn assignment(&mut self, node: Node<'_>, host: Option<Rc<str>>) {
        let (Some(left), Some(value)) = (node.child(0), node.child_by_field_name("value")) else {
            return;
        };
        let var = self.text(left).trim().to_ascii_lowercase();
        if !var.starts_with('$') || var.contains(['.', '[', ':', ' ']) {
            return;
        }
        let value = single(value);
        let span = match value.kind() {
            "script_block_expression" => value.byte_range(),
            "invokation_expression" => match self.scriptblock_create(value) {
                Some(lit) => {
                    self.exec_string(
                        Some(&Elem {
                            node: lit,
                            core: lit,
                        }),
                        host.as_deref(),
                    );
                    lit.byte_range()
                }
                None => return,
            },
            "hash_literal_expression" => {
                self.remember_splat(var, value, host);
                return;
            }
            _ => return,
        };
        let span = self.base.to_source(span.start)..self.base.to_source_end(span.end);
        self.blocks.retain(|b| b.var != var);
        self.blocks.push(Block {
            var,
            span,
            defined_on: host,
            sent_to: None,
        });
    }

    /// The string literal of `[scriptblock]::Create('…')`.
    fn scriptblock_create<'t>(&self, inv: Node<'t>) -> Option<Node<'t>> {
        let ty = self.text(inv.named_child(0)?).to_ascii_lowercase();
        let ty = ty.replace(' ', "");
        if !matches!(
            ty.as_str(),
            "[scriptblock]" | "[system.management.automation.scriptblock]"
        ) {
            return None;
        }
        let member = inv.named_child(1)?;
        if !self.text(member).eq_ignore_ascii_case("create") {
            return None;
        }
        let args = inv.named_child(2)?;
        let arg = single(args);
        (arg.kind() == "string_literal").then_some(arg)
    }

    /// `@{ ComputerName = 'srv'; ScriptBlock = { … } }` (keys in any case, `Cn` too).
    fn remember_splat(&mut self, var: String, table: Node<'_>, defined_on: Option<Rc<str>>) {
        let mut hosts = Vec::new();
        let mut block = None;
        let Some(body) = table.named_child(0) else {
            return;
        };
        let mut cursor = body.walk();
        for entry in body.named_children(&mut cursor) {
            let (Some(key), Some(value)) = (entry.named_child(0), entry.named_child(1)) else {
                continue;
            };
            let key = self
                .text(key)
                .trim()
                .trim_matches(['\'', '"'])
                .to_ascii_lowercase();
            let value = single(value);
            if is_computer_param(&key) {
                hosts = host_list(self.src, value.start_byte()).0;
            } else if key == "session" {
                let var = self.text(value).trim().to_ascii_lowercase();
                hosts = self
                    .sessions
                    .iter()
                    .find(|(name, _)| *name == var)
                    .map(|(_, h)| h.clone())
                    .unwrap_or_default();
            } else if key == "scriptblock" {
                if value.kind() == "script_block_expression" {
                    let r = value.byte_range();
                    let span = self.base.to_source(r.start)..self.base.to_source_end(r.end);
                    // The inline block is kept like a block variable, under no name.
                    self.blocks.push(Block {
                        var: String::new(),
                        span: span.clone(),
                        defined_on: defined_on.clone(),
                        sent_to: None,
                    });
                    block = Some(span);
                } else if let Some(i) = self.statement_block(value) {
                    block = self.blocks.get(i).map(|b| b.span.clone());
                }
            }
        }
        self.splats.retain(|s| s.var != var);
        self.splats.push(Splat { var, hosts, block });
    }

    /// A kept block is sent to `host`: the commands and code found in it run there. The first
    /// time they move; sent again to another host, they run there too.
    fn send_block(&mut self, i: usize, host: Rc<str>) {
        self.flush_region();
        let Some(b) = self.blocks.get_mut(i) else {
            return;
        };
        let from = b.sent_to.clone().or(b.defined_on.clone());
        let copy = b.sent_to.is_some();
        if b.sent_to.as_deref() == Some(&*host) {
            return;
        }
        b.sent_to = Some(host.clone());
        let span = b.span.clone();
        let to = Some(host.to_string());
        let inside = |r: &Range<usize>| span.start <= r.start && r.start < span.end;
        let n = self.out.commands.len();
        for k in 0..n {
            let c = &self.out.commands[k];
            if inside(&c.name_span) && c.host.as_deref() == from.as_deref() {
                // What a condition checked where the block was written (even inside it) is
                // not known of the host it is sent to.
                let mut c = c.clone();
                c.host = to.clone();
                c.guarded = false;
                c.min_powershell = None;
                c.min_windows = None;
                c.os = OsSet::ANY;
                if copy {
                    self.out.commands.push(c);
                } else {
                    self.out.commands[k] = c;
                }
            }
        }
        let n = self.out.code.len();
        for k in 0..n {
            let r = &self.out.code[k];
            if r.host.as_deref() != from.as_deref()
                || r.span.end <= span.start
                || r.span.start >= span.end
            {
                continue;
            }
            let mid = r.span.start.max(span.start)..r.span.end.min(span.end);
            let mut moved = r.clone();
            moved.span = mid.clone();
            moved.host = to.clone();
            // The host it is sent to reads it with its own PowerShell, whatever `#Requires`
            // says of this one (a `pwsh` run inside it keeps its 6.0 unless that was as high).
            if moved.min_powershell.is_some() && moved.min_powershell == self.passed.required() {
                moved.min_powershell = None;
            }
            if copy {
                self.out.code.push(moved);
                continue;
            }
            let (before, after) = (r.span.start..mid.start, mid.end..r.span.end);
            let rest = r.clone();
            self.out.code[k] = moved;
            for piece in [before, after] {
                if !piece.is_empty() {
                    let mut p = rest.clone();
                    p.span = piece;
                    self.out.code.push(p);
                }
            }
        }
    }

    /// The checks among the top-level statements under `root` that end the script
    /// ([`Ending`]): `if (C) { …; throw … }` (also `exit`, `return`, which ends a script at its
    /// top level), whose code after it runs only when `C` was false; with an `else` whose block
    /// ends the script instead, only when `C` was true. Not with `elseif`; the statement must
    /// start its line, and the `throw` be one of the block's statements, not nested further.
    fn endings(&self, root: Node<'_>) -> Vec<Ending> {
        let mut out = Vec::new();
        let mut cursor = root.walk();
        let mut statements: Vec<Node<'_>> = Vec::new();
        for child in root.named_children(&mut cursor) {
            if child.kind() == "statement_list" {
                let mut inner = child.walk();
                statements.extend(child.named_children(&mut inner));
            } else {
                statements.push(child);
            }
        }
        for node in statements {
            if node.kind() != "if_statement"
                || node.has_error()
                || !super::os::starts_line(self.src, node.start_byte())
                || node.child_by_field_name("elseif_clauses").is_some()
                || !may_end_script(self.text(node), PS)
            {
                continue;
            }
            let ends = |block: Option<Node<'_>>| {
                block
                    .and_then(|b| b.child_by_field_name("statement_list"))
                    .is_some_and(|list| {
                        let mut cursor = list.walk();
                        let ends = list.named_children(&mut cursor).any(|s| {
                            s.kind() == "flow_control_statement"
                                && s.child(0).is_some_and(|k| {
                                    matches!(
                                        self.text(k).to_ascii_lowercase().as_str(),
                                        "throw" | "exit" | "return"
                                    )
                                })
                        });
                        ends
                    })
            };
            let then_ends = ends(statement_block(node));
            let else_ends = ends(
                node.child_by_field_name("else_clause")
                    .and_then(statement_block),
            );
            let Some(cond) = node.child_by_field_name("condition") else {
                continue;
            };
            let proof = self.proof(cond, 0);
            let facts = match (then_ends, else_ends) {
                (true, false) => proof.if_false,
                (false, true) => proof.if_true,
                _ => continue,
            };
            let ending = Ending {
                from: node.end_byte(),
                os: facts.os,
                names: facts.names,
                min_powershell: facts.min,
                min_windows: facts.windows,
                required: None,
            };
            if !ending.is_empty() {
                out.push(ending);
            }
        }
        out
    }

    /// `if (C) { A } elseif (D) { B } else { E }`: `A` runs when `C` is true, `B` when `C` is
    /// false and `D` true, `E` when both are false.
    fn if_guards(&mut self, node: Node<'_>, host: Option<Rc<str>>) {
        let at = node.start_byte();
        self.guards.retain(|g| g.range.end > at);
        // What every condition so far proves by having been false.
        let mut failed = Facts::default();
        let mut branch = |cond: Option<Node<'_>>, block: Option<Node<'_>>, walker: &mut Self| {
            let proof = cond.map(|c| walker.proof(c, 0)).unwrap_or_default();
            let facts = failed.clone().and(proof.if_true);
            if let Some(block) = block.filter(|_| !facts.is_empty()) {
                walker.guards.push(Guard {
                    range: block.byte_range(),
                    host: host.clone(),
                    facts,
                });
            }
            failed = std::mem::take(&mut failed).and(proof.if_false);
        };
        branch(
            node.child_by_field_name("condition"),
            statement_block(node),
            self,
        );
        if let Some(clauses) = node.child_by_field_name("elseif_clauses") {
            let mut cursor = clauses.walk();
            for clause in clauses.named_children(&mut cursor) {
                branch(
                    clause.child_by_field_name("condition"),
                    statement_block(clause),
                    self,
                );
            }
        }
        if let Some(e) = node.child_by_field_name("else_clause") {
            branch(None, statement_block(e), self);
        }
    }

    /// `switch (V) { 5 { A } { $_ -ge 7 } { B } default { C } }` on a version `V`
    /// (`$PSVersionTable.PSVersion.Major`, `[Environment]::OSVersion.Version.Build`, …): `A` runs
    /// when `V -eq 5`, `B` when `V -ge 7`, `C` when no clause matched. Not with `-regex`,
    /// `-wildcard` or `-file`, which match otherwise.
    fn switch_guards(&mut self, node: Node<'_>, host: Option<Rc<str>>) {
        let at = node.start_byte();
        self.guards.retain(|g| g.range.end > at);
        let mut cursor = node.walk();
        let mut subject = None;
        let mut clauses = None;
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "switch_parameters" => {
                    let exact = self
                        .squeezed(child)
                        .split('-')
                        .all(|p| matches!(p, "" | "exact" | "casesensitive"));
                    if !exact {
                        return;
                    }
                }
                "switch_condition" => {
                    subject = child
                        .named_child(0)
                        .filter(|p| p.kind() == "pipeline")
                        .map(|p| self.squeezed(p));
                }
                "switch_body" => clauses = child.named_child(0),
                _ => {}
            }
        }
        let (Some(subject), Some(clauses)) = (subject, clauses) else {
            return;
        };
        if version_probe(&subject).is_none() {
            return;
        }
        // The default clause runs where every other clause's condition was false.
        let mut failed = Facts::default();
        let mut default = None;
        let mut cursor = clauses.walk();
        for clause in clauses.named_children(&mut cursor) {
            let (Some(cond), Some(block)) = (clause.named_child(0), clause.named_child(1)) else {
                continue;
            };
            if block.kind() != "statement_block" {
                continue;
            }
            let arm = self.squeezed(cond);
            if arm == "default" {
                default = Some(block.byte_range());
                continue;
            }
            let proof = self.arm_proof(&subject, &arm).unwrap_or_default();
            failed = std::mem::take(&mut failed).and(proof.if_false);
            if !proof.if_true.is_empty() {
                self.guards.push(Guard {
                    range: block.byte_range(),
                    host: host.clone(),
                    facts: proof.if_true,
                });
            }
        }
        if let Some(range) = default.filter(|_| !failed.is_empty()) {
            self.guards.push(Guard {
                range,
                host,
                facts: failed,
            });
        }
    }

    /// What a switch clause's condition proves about the switch's `subject`: a value compared
    /// with `-eq` (`5`, `'5'`), or a script block comparing `$_` with a value (`{ $_ -ge 7 }`).
    fn arm_proof(&self, subject: &str, arm: &str) -> Option<Proof> {
        let Some(inner) = arm.strip_prefix('{').and_then(|a| a.strip_suffix('}')) else {
            return version_proof_text(subject, "eq", arm);
        };
        // `$_-ge7`: one comparison, `$_` on one side; a value that does not parse (`7-and…`)
        // proves nothing.
        let (at, len) = ["-ge", "-gt", "-le", "-lt", "-eq", "-ne"]
            .iter()
            .flat_map(|op| {
                let with = |p: &str| format!("-{p}{}", &op[1..]);
                [(op.to_string(), 3), (with("i"), 4), (with("c"), 4)]
            })
            .filter_map(|(op, len)| inner.find(&op).map(|at| (at, len)))
            .min()?;
        let (lhs, rest) = inner.split_at(at);
        let (op, rhs) = rest.split_at(len);
        let op = &op[op.len() - 2..];
        // `$_` or `$PSItem` is the subject, and `$_.Major` its major.
        let item = |s: &str| {
            ["$_", "$psitem"].iter().find_map(|i| {
                let rest = s.strip_prefix(i)?;
                (rest.is_empty() || rest.starts_with('.')).then(|| format!("{subject}{rest}"))
            })
        };
        match (item(lhs), item(rhs)) {
            (Some(lhs), None) => version_proof_text(&lhs, op, rhs),
            (None, Some(rhs)) => version_proof_text(lhs, op, &rhs),
            _ => None,
        }
    }

    /// What a condition proves when true and when false: `Get-Command X` (also `-Name X`,
    /// with `-ErrorAction`), `-not`/`!`, `-and`/`-or`, `$null -ne (…)`, and
    /// `$PSVersionTable.PSVersion[.Major]` compared with a number or version.
    fn proof(&self, node: Node<'_>, depth: u8) -> Proof {
        if depth > 16 {
            return Proof::default();
        }
        // Down the grammar's chain of one-child expression levels and through parentheses
        // (not `single`, which would step over a `-not`).
        let mut node = node;
        for _ in 0..64 {
            node = match node.child_count() {
                1 => match node.child(0) {
                    Some(c) => c,
                    None => break,
                },
                3 if node.kind() == "parenthesized_expression" => match node.named_child(0) {
                    Some(c) => c,
                    None => break,
                },
                _ => break,
            };
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node
            .children(&mut cursor)
            .filter(|c| c.kind() != "comment")
            .collect();
        match (node.kind(), &children[..]) {
            ("command", _) => Proof {
                if_true: Facts {
                    names: self.lookup(node).into_iter().collect(),
                    ..Facts::default()
                },
                if_false: Facts::default(),
            },
            ("expression_with_unary_operator", [op, operand])
                if matches!(self.text(*op).to_ascii_lowercase().as_str(), "-not" | "!") =>
            {
                self.proof(*operand, depth + 1).not()
            }
            ("logical_expression", [a, op, b]) => {
                let (a, b) = (self.proof(*a, depth + 1), self.proof(*b, depth + 1));
                // `-and` is false when the left side was, or the left was true and the right
                // false; `-or` is true when the left side was, or the left was false and the
                // right true (the right side runs only then).
                match self.text(*op).to_ascii_lowercase().as_str() {
                    "-and" => Proof {
                        if_true: a.if_true.clone().and(b.if_true),
                        if_false: a.if_false.or(a.if_true.and(b.if_false)),
                    },
                    "-or" => Proof {
                        if_true: a.if_true.or(a.if_false.clone().and(b.if_true)),
                        if_false: a.if_false.and(b.if_false),
                    },
                    _ => Proof::default(),
                }
            }
            ("comparison_expression", [a, op, b]) => {
                let op = self.text(*op).to_ascii_lowercase();
                let op = op
                    .strip_prefix("-i")
                    .or_else(|| op.strip_prefix("-c"))
                    .or_else(|| op.strip_prefix('-'))
                    .unwrap_or("");
                let is_null = |n: Node<'_>| self.text(single(n)).eq_ignore_ascii_case("$null");
                match op {
                    "ne" if is_null(*a) => self.proof(*b, depth + 1),
                    "ne" if is_null(*b) => self.proof(*a, depth + 1),
                    "eq" if is_null(*a) => self.proof(*b, depth + 1).not(),
                    "eq" if is_null(*b) => self.proof(*a, depth + 1).not(),
                    _ => self
                        .version_proof(*a, op, *b)
                        .or_else(|| self.os_comparison(*a, op, *b))
                        .unwrap_or_default(),
                }
            }
            _ => self.os_variable(node).unwrap_or_default(),
        }
    }

    /// `$IsWindows`, `$IsLinux`, `$IsMacOS`: true only on that OS, in PowerShell 6 or later,
    /// which defines them. Windows PowerShell does not: there `$IsWindows` is `$null`, so its
    /// being false proves nothing, while `$IsLinux` and `$IsMacOS` are false on Windows too.
    fn os_variable(&self, node: Node<'_>) -> Option<Proof> {
        let (os, false_proves) = match self.text(node).to_ascii_lowercase().as_str() {
            "$iswindows" | "$global:iswindows" => (OsSet::WINDOWS, false),
            "$islinux" | "$global:islinux" => (OsSet::LINUX, true),
            "$ismacos" | "$global:ismacos" => (OsSet::DARWIN, true),
            _ => return None,
        };
        Some(Proof {
            if_true: Facts {
                min: Some((6, 0)),
                os,
                ..Facts::default()
            },
            if_false: Facts {
                os: if false_proves { !os } else { OsSet::ANY },
                ..Facts::default()
            },
        })
    }

    /// A node's text without blanks, lowercased: how a comparison's sides are recognised
    /// (`$PSVersionTable . PSVersion`, `[Environment]::OSVersion.Platform`).
    fn squeezed(&self, n: Node<'_>) -> String {
        self.text(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// `[Environment]::OSVersion.Platform -eq 'Win32NT'` (.NET says `Unix` elsewhere) and
    /// `$env:OS -eq 'Windows_NT'` (unset elsewhere), either side first, `-eq` or `-ne`.
    fn os_comparison(&self, a: Node<'_>, op: &str, b: Node<'_>) -> Option<Proof> {
        let squeeze = |n: Node<'_>| self.squeezed(n);
        let probe = |s: &str| {
            matches!(
                s.strip_prefix("[system.").or_else(|| s.strip_prefix('[')),
                Some("environment]::osversion.platform")
            ) || s == "$env:os"
        };
        let (a, b) = (squeeze(a), squeeze(b));
        let value = match (probe(&a), probe(&b)) {
            (true, false) => b,
            (false, true) => a,
            _ => return None,
        };
        let windows = matches!(value.trim_matches(['\'', '"']), "win32nt" | "windows_nt");
        if !windows {
            return None;
        }
        let proof = Proof {
            if_true: Facts {
                os: OsSet::WINDOWS,
                ..Facts::default()
            },
            if_false: Facts {
                os: !OsSet::WINDOWS,
                ..Facts::default()
            },
        };
        match op {
            "eq" => Some(proof),
            "ne" => Some(proof.not()),
            _ => None,
        }
    }

    /// A version compared with a literal, either side first: the PowerShell's
    /// (`$PSVersionTable.PSVersion.Major -ge 5`, `$PSVersionTable.PSVersion -ge [version]'5.1'`,
    /// `.Minor`, `$Host.Version`) or the Windows release's
    /// (`[Environment]::OSVersion.Version -ge [version]'6.2'`, `.Major`, `.Minor`, `.Build`,
    /// `(Get-CimInstance Win32_OperatingSystem).Version`): the lowest version it proves when true
    /// and when false.
    fn version_proof(&self, a: Node<'_>, op: &str, b: Node<'_>) -> Option<Proof> {
        version_proof_text(&self.squeezed(a), op, &self.squeezed(b))
    }
}

/// [`Walker::version_proof`] on the sides' texts without blanks, lowercased.
fn version_proof_text(a: &str, op: &str, b: &str) -> Option<Proof> {
    // Written value first, the operator turns around, and the value's type decides how
    // PowerShell compares (it converts the right side to the left side's type).
    let (probe, op, value, value_first) = match (version_probe(a), version_probe(b)) {
        (Some(p), None) => (p, op, b, false),
        (None, Some(p)) => (p, flip(op)?, a, true),
        _ => return None,
    };
    let cast = ["[version]", "[system.version]"]
        .iter()
        .find_map(|c| value.strip_prefix(c));
    let quoted = cast.unwrap_or(value);
    let literal = quoted.trim_matches(['\'', '"']);
    let is_quoted = quoted != literal;
    let mut if_true = Facts::default();
    let mut if_false = Facts::default();
    match probe {
        VersionProbe::PowerShell(part) => {
            let (first, second) = version_parts(literal)?;
            // A whole version compares with its build numbers: `-gt 5.1` holds for 5.1.19041,
            // so it proves only 5.1.
            let whole = |n: u32| lowest_whole(op, n);
            match part {
                Part::Whole => {
                    let v = Some((first, second.unwrap_or(0)));
                    match op {
                        "ge" | "gt" | "eq" => if_true.min = v,
                        "lt" | "le" | "ne" => if_false.min = v,
                        _ => return None,
                    }
                }
                Part::Major if second.is_none() => {
                    let (t, f) = whole(first)?;
                    if_true.min = t.map(|m| (m, 0));
                    if_false.min = f.map(|m| (m, 0));
                }
                Part::Minor if second.is_none() => {
                    (if_true.minor, if_false.minor) = whole(first)?;
                }
                _ => return None,
            }
        }
        VersionProbe::Windows(part, typed)
            if match value_first {
                // Subject first: its type decides.
                false => typed,
                // A version written first converts the subject; a number does too, but
                // a whole version converts to no number (the condition fails).
                true => cast.is_some() || (!is_quoted && part != Part::Whole),
            } =>
        {
            let whole = |n: u32| lowest_whole(op, n);
            let number = || -> Option<u32> { literal.parse().ok() };
            match part {
                Part::Whole => {
                    let v = Some(nt_version(literal)?);
                    match op {
                        "ge" | "gt" | "eq" => if_true.windows = v,
                        "lt" | "le" | "ne" => if_false.windows = v,
                        _ => return None,
                    }
                }
                Part::Major => {
                    let (t, f) = whole(number()?)?;
                    if_true.windows = t.map(|m| (m, 0, 0));
                    if_false.windows = f.map(|m| (m, 0, 0));
                }
                Part::Minor => {
                    (if_true.windows_minor, if_false.windows_minor) = whole(number()?)?;
                }
                Part::Build => {
                    let (t, f) = whole(number()?)?;
                    if_true.windows = t.and_then(super::os::nt_release_of_build);
                    if_false.windows = f.and_then(super::os::nt_release_of_build);
                }
            }
        }
        VersionProbe::Windows(part, _) => {
            // Compared as text (WMI's `Version` and `BuildNumber` are strings, and so is a
            // quoted value written first): `'10.0.17763' -ge '6.2'` is false. What holds is
            // read off the strings the Windows releases report.
            if value_first && !is_quoted {
                return None;
            }
            let holds = |text: &str| -> Option<bool> {
                let c = text.cmp(literal);
                Some(match op {
                    "ge" => c.is_ge(),
                    "gt" => c.is_gt(),
                    "eq" => c.is_eq(),
                    "lt" => c.is_lt(),
                    "le" => c.is_le(),
                    "ne" => c.is_ne(),
                    _ => return None,
                })
            };
            let (mut t, mut f) = (None, None);
            for &v in super::os::NT_RELEASES {
                let text = match part {
                    Part::Whole => format!("{}.{}.{}", v.0, v.1, v.2),
                    Part::Build => v.2.to_string(),
                    Part::Major | Part::Minor => return None,
                };
                let slot = match holds(&text)? {
                    true => &mut t,
                    false => &mut f,
                };
                *slot = Some(slot.map_or(v, |s: (u32, u32, u32)| s.min(v)));
            }
            // A release newer than all of them may fall on either side: the lowest
            // version of a side stands only if a known release is on it, and proves
            // something only above the oldest.
            let oldest = super::os::NT_RELEASES.first().copied();
            if_true.windows = t.filter(|&v| Some(v) != oldest);
            if_false.windows = f.filter(|&v| Some(v) != oldest);
        }
    }
    if_true.settle();
    if_false.settle();
    Some(Proof { if_true, if_false })
}

impl Walker<'_, '_> {
    /// The command `Get-Command X` / `Get-Command -Name X` (`gcm`) looks up: one static name,
    /// lowercase, its alias resolved. Only parameters that keep it one exact lookup are allowed.
    fn lookup(&self, command: Node<'_>) -> Option<String> {
        let name_node = command.child_by_field_name("command_name")?;
        let name = super::command_name(self.text(name_node), PS).0;
        if !word_is(name, "Get-Command") && !word_is(name, "gcm") {
            return None;
        }
        let elems = self.elements(command);
        let mut target = None;
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            let value = if e.is_param() {
                let text = self.text(e.node);
                let p = param_name(text);
                let takes_value = text.ends_with(':');
                i += 1;
                if is_prefix(&p, "name", 1) {
                    if takes_value {
                        continue;
                    }
                    elems.get(i)
                } else if [
                    "erroraction",
                    "ea",
                    "commandtype",
                    "type",
                    "module",
                    "errorvariable",
                    "ev",
                    "outvariable",
                    "ov",
                ]
                .iter()
                .any(|full| p == *full || (p.len() >= 3 && is_prefix(&p, full, 3)))
                {
                    if !takes_value {
                        i += 1;
                    }
                    continue;
                } else if ["all", "listimported"]
                    .iter()
                    .any(|full| is_prefix(&p, full, 2))
                {
                    continue;
                } else {
                    return None;
                }
            } else {
                Some(&e)
            };
            let value = static_value(self.src, value?.core)?;
            if target.is_some() || value.contains(['*', '?', '[', ',', '$']) || value.is_empty() {
                return None;
            }
            target = Some(value);
            i += 1;
        }
        let target = target?;
        Some(resolve_alias(super::command_name(&target, PS).0))
    }

    /// The hosts `New-PSSession`/`Enter-PSSession` connect to: `-ComputerName`, `-Session`, or
    /// the first positional argument.
    fn session_hosts(&self, elems: &[Elem<'_>]) -> Vec<Rc<str>> {
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            if e.is_param() {
                let p = param_name(self.text(e.node));
                if is_computer_param(&p) {
                    return self.host_list(elems, i + 1).0;
                }
                if is_prefix(&p, "session", 7) {
                    return elems
                        .get(i + 1)
                        .map(|v| self.session_of(*v))
                        .unwrap_or_default();
                }
                i = self.host_list(elems, i + 1).1;
                continue;
            }
            return self.host_list(elems, i).0;
        }
        Vec::new()
    }

    /// `Start-Process [-FilePath] PROGRAM [[-ArgumentList] ARGS]`: PROGRAM runs, with ARGS.
    fn start_process(&mut self, elems: &[Elem<'_>], host: Option<Rc<str>>) {
        const SWITCHES: &[&str] = &[
            "wait",
            "nonewwindow",
            "nnw",
            "passthru",
            "usenewenvironment",
            "loaduserprofile",
            "lup",
        ];
        let mut program = None;
        let mut args = None;
        let mut positional = 0;
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            if e.is_param() {
                let p = param_name(self.text(e.node));
                if SWITCHES.iter().any(|s| is_prefix(&p, s, 2)) {
                    i += 1;
                    continue;
                }
                if is_prefix(&p, "filepath", 1) || p == "path" || p == "pspath" {
                    program = elems.get(i + 1).copied();
                } else if is_prefix(&p, "argumentlist", 1) || p == "args" {
                    args = elems.get(i + 1).copied();
                }
                i += 2;
                continue;
            }
            match positional {
                0 => program = program.or(Some(e)),
                1 => args = args.or(Some(e)),
                _ => {}
            }
            positional += 1;
            i += 1;
        }
        let Some(word) = program.and_then(|p| self.literal_span(p.core)) else {
            return;
        };
        let (name, _) = super::command_name(&self.src[word.clone()], PS);
        if name.is_empty() || name.contains(['$', '(', '@']) {
            return;
        }
        // The arguments follow the name after one space, which maps to the byte before them.
        let piece = args
            .map(|a| {
                self.literal_span(a.core)
                    .unwrap_or_else(|| a.node.byte_range())
            })
            .filter(|r| r.start > 0)
            .map(|r| r.start - 1..r.end);
        let mut cmd = self.build(word, None, None, piece.as_slice(), host.as_deref());
        if piece.is_some() && cmd.text.is_char_boundary(cmd.name.len() + 1) {
            cmd.text
                .replace_range(cmd.name.len()..cmd.name.len() + 1, " ");
        }
        self.out.commands.push(cmd);
    }

    /// The source span of a bare word, or of a string's content when it has no escapes.
    fn literal_span(&self, core: Node<'_>) -> Option<Range<usize>> {
        match core.kind() {
            "generic_token" | "command_name" => Some(core.byte_range()),
            "string_literal" => {
                let (content, map) = string_content(self.src, core)?;
                let start = map.to_source(0);
                let end = map.to_source(content.len());
                (end >= start && end - start == content.len() && !content.contains('$'))
                    .then_some(start..end)
            }
            _ => None,
        }
    }

    /// `$s = New-PSSession [-ComputerName] HOST`: remembers where `$s` runs code.
    fn remember_session(&mut self, command: Node<'_>, elems: &[Elem<'_>]) {
        let hosts = self.session_hosts(elems);
        if hosts.is_empty() {
            return;
        }
        // command ← pipeline_chain ← pipeline ← assignment_expression (rare: parent() is fine)
        let mut n = command;
        for _ in 0..3 {
            match n.parent() {
                Some(p) => n = p,
                None => return,
            }
        }
        if n.kind() != "assignment_expression" {
            return;
        }
        let Some(left) = n.child(0) else { return };
        let var = self.text(left).trim().to_ascii_lowercase();
        if var.starts_with('$') {
            self.sessions.retain(|(v, _)| *v != var);
            self.sessions.push((var, hosts));
        }
    }

    fn session_of(&self, v: Elem<'_>) -> Vec<Rc<str>> {
        let var = self.text(v.node).trim().to_ascii_lowercase();
        self.sessions
            .iter()
            .find(|(name, _)| *name == var)
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    }

    /// The hosts of a value that starts at element `i` (see [`host_list`]), and the index of
    /// the first element after it: a list the grammar splits into several elements is one
    /// value.
    fn host_list(&self, elems: &[Elem<'_>], i: usize) -> (Vec<Rc<str>>, usize) {
        let Some(e) = elems.get(i).filter(|e| !e.is_param()) else {
            return (Vec::new(), i);
        };
        let (hosts, end) = host_list(self.src, e.node.start_byte());
        let next = (i + 1..elems.len())
            .find(|&k| elems[k].node.start_byte() >= end)
            .unwrap_or(elems.len());
        (hosts, next)
    }
}

/// A command name as guards compare it: lowercase, an alias replaced by its cmdlet.
/// The first PowerShell that is not Windows PowerShell (`pwsh`).
const PWSH6: Option<(u32, u32)> = Some((6, 0));

/// A bare word with backtick escapes as PowerShell reads it (`` Get-Local`User ``), with the
/// source offset of each of its bytes; `None` where an escape makes a control character
/// (`` `n ``, `` `t `` …) or ends the word at a line break. `` `e `` and `` `u{…} `` are
/// escapes of PowerShell 6 and later (`pwsh`: ESC, a code point); Windows PowerShell reads
/// them as the letter, so unless the reader is known to be `pwsh`, `` G`et-Command `` is
/// Get-Command, the one command the word can run.
/// What one side of a version comparison reads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum VersionProbe {
    /// `$PSVersionTable.PSVersion`, `$Host.Version`, `(Get-Host).Version`.
    PowerShell(Part),
    /// The Windows NT version: typed (`[Environment]::OSVersion.Version`, a `[version]` or
    /// `[int]` cast) or text (WMI's `Version` and `BuildNumber` strings).
    Windows(Part, bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    Whole,
    Major,
    Minor,
    Build,
}

/// The version a comparison's side reads, from its text without blanks, lowercased.
///
/// `$Host.Version` is the version of the program hosting PowerShell: the engine's own in
/// `powershell.exe`, `pwsh` and the ISE, 1.0 in a remote session (where a `-ge` check then
/// fails), the program's own in third-party hosts. It is read as the PowerShell version, as the
/// scripts that test it mean it (docs/patterns.md says where it is not).
fn version_probe(side: &str) -> Option<VersionProbe> {
    let parts = |rest: &str| match rest {
        "" => Some(Part::Whole),
        ".major" => Some(Part::Major),
        ".minor" => Some(Part::Minor),
        ".build" => Some(Part::Build),
        _ => None,
    };
    for ps in [
        "$psversiontable.psversion",
        "$host.version",
        "(get-host).version",
    ] {
        if let Some(rest) = side.strip_prefix(ps) {
            return match parts(rest)? {
                Part::Build => None,
                part => Some(VersionProbe::PowerShell(part)),
            };
        }
    }
    for os in [
        "[environment]::osversion.version",
        "[system.environment]::osversion.version",
    ] {
        if let Some(rest) = side.strip_prefix(os) {
            return Some(VersionProbe::Windows(parts(rest)?, true));
        }
    }
    // `(Get-CimInstance Win32_OperatingSystem).Version`, also `gcim`, `Get-WmiObject`,
    // `gwmi`, `-ClassName`/`-Class`; cast to `[version]` (or `[int]` for `.BuildNumber`).
    let (cast, side) = match ["[version]", "[system.version]", "[int]"]
        .iter()
        .find_map(|c| side.strip_prefix(c).map(|rest| (*c, rest)))
    {
        Some((c, rest)) => (Some(c), rest),
        None => (None, side),
    };
    let (query, field) = side.strip_prefix('(')?.rsplit_once(").")?;
    let class = ["get-ciminstance", "gcim", "get-wmiobject", "gwmi"]
        .iter()
        .find_map(|c| query.strip_prefix(c))?;
    let class = ["-classname", "-class", ""].iter().find_map(|p| {
        class
            .strip_prefix(p)
            .filter(|c| *c == "win32_operatingsystem")
    });
    class?;
    match (field, cast) {
        ("version", None) => Some(VersionProbe::Windows(Part::Whole, false)),
        ("version", Some("[version]" | "[system.version]")) => {
            Some(VersionProbe::Windows(Part::Whole, true))
        }
        ("buildnumber", None) => Some(VersionProbe::Windows(Part::Build, false)),
        ("buildnumber", Some("[int]")) => Some(VersionProbe::Windows(Part::Build, true)),
        _ => None,
    }
}

/// The lowest value a whole number (`Major`, `Minor`, `Build`) compared with `n` has when the
/// comparison is true and when it is false: `-gt 5` means at least 6; not 0 is at least 1.
fn lowest_whole(op: &str, n: u32) -> Option<(Option<u32>, Option<u32>)> {
    Some(match op {
        "ge" | "eq" => (Some(n), None),
        "gt" => (Some(n.checked_add(1)?), None),
        "lt" => (None, Some(n)),
        "le" => (None, Some(n.checked_add(1)?)),
        "ne" => ((n == 0).then_some(1), Some(n)),
        _ => return None,
    })
}

/// The operator that says the same with its sides swapped.
fn flip(op: &str) -> Option<&str> {
    Some(match op {
        "ge" => "le",
        "gt" => "lt",
        "le" => "ge",
        "lt" => "gt",
        "eq" | "ne" => op,
        _ => return None,
    })
}

/// `5` or `5.1` (more parts ignored): the major and, when written, the minor.
fn version_parts(text: &str) -> Option<(u32, Option<u32>)> {
    let mut parts = text.split('.');
    let first = parts.next()?.parse().ok()?;
    let second = match parts.next() {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((first, second))
}

/// `6.2`, `10.0.17763` (a revision ignored) as a Windows NT `(major, minor, build)`.
fn nt_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let build = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((major, minor, build))
}

/// The command named by `word` (or by `unescaped`, its name as PowerShell reads it with
/// the map of its bytes to the source), with `pieces` of the source as its arguments,
/// as the walk makes it; `base` maps offsets of `src` to the document when they differ.
pub(crate) fn build_command(
    src: &str,
    base: Option<&OffsetMap>,
    word: Range<usize>,
    alias: Option<&str>,
    unescaped: Option<(&str, &OffsetMap)>,
    pieces: &[Range<usize>],
    host: Option<&str>,
) -> Command {
    let identity = OffsetMap::starting_at(0);
    let mut c = make_command(
        src,
        word.clone(),
        word.end,
        PS,
        host.map(str::to_string),
        &identity,
    );
    if let Some((name, map)) = unescaped {
        c.name = name.to_string();
        c.text = name.to_string();
        c.map = map.clone();
        c.map.push(name.len(), word.end);
    }
    if let Some(cmdlet) = alias {
        c.name = cmdlet.to_string();
        c.text = cmdlet.to_string();
        c.map = OffsetMap::starting_at(word.start);
        // The cmdlet's name stands for the alias: its last byte is the alias's last byte, so
        // a finding on the name ends where the alias does (`iwr`, not 17 bytes on).
        if let Some(last) = cmdlet.len().checked_sub(1).filter(|&l| l > 0) {
            c.map.push(last, word.end.saturating_sub(1).max(word.start));
        }
    }
    c.text.reserve(pieces.iter().map(|p| p.len()).sum());
    for p in pieces {
        if p.is_empty() {
            continue;
        }
        c.map.push(c.text.len(), p.start);
        let piece = src.get(p.clone()).unwrap_or("");
        // Only a backtick continues a line: most arguments are copied as they are.
        match piece.contains('`') {
            true => c.text.push_str(&blank_continuations(piece, PS)),
            false => c.text.push_str(piece),
        }
    }
    // The map's last segment ends at the text end; anchor the end exactly.
    if let Some(last) = pieces.last() {
        c.map.push(c.text.len(), last.end.max(last.start));
    }
    if let Some(base) = base {
        c.map = c.map.then(base);
        c.name_span = base.to_source(word.start)..base.to_source(word.end);
    }
    c
}

/// Adds the argument word `r` of `src` to `out` ([`Parsed::words`]): words only blanks apart
/// are one range, as a large script has millions of them.
pub(crate) fn push_word(out: &mut Parsed, src: &str, r: Range<usize>) {
    if let Some(last) = out.words.last_mut() {
        let gap = src.get(last.end..r.start).unwrap_or("\n");
        if last.end <= r.start && gap.bytes().all(|b| b == b' ' || b == b'\t') {
            last.end = r.end;
            return;
        }
    }
    out.words.push(r);
}

/// The name a command word spelled `spelled` runs (its last path component, without an
/// `.exe`-like suffix), where in `spelled` it is, and the cmdlet it is an alias of; `None` when
/// the walk makes no command of it (`foreach ($i in 1..3)`: the grammar makes the range a
/// command). `pwsh` and what `proven` says of the PowerShell tell whether Windows PowerShell's
/// own aliases (`curl`) count.
pub(crate) fn resolve_name<'w>(
    spelled: &'w str,
    pwsh: bool,
    proven: &Facts,
) -> Option<(&'w str, Range<usize>, Option<&'static str>)> {
    let (name, within) = super::command_name(spelled, PS);
    let numeric = name.bytes().all(|b| b.is_ascii_digit() || b == b'.') || name.contains("..");
    if numeric || name.contains(['$', '(', ')', '{', '}', '@', '"', '\'']) {
        return None;
    }
    // `curl` is Invoke-WebRequest where Windows PowerShell reads it, curl.exe in `pwsh`.
    let windows_powershell = !(pwsh || proven.min >= PWSH6);
    let removed = match windows_powershell {
        true => WINDOWS_POWERSHELL_ALIASES,
        false => &[],
    };
    let alias = ALIASES
        .iter()
        .chain(removed)
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .filter(|_| spelled.len() == name.len())
        .map(|(_, cmdlet)| *cmdlet);
    Some((name, within, alias))
}

fn unescape_name(word: &str, start: usize, pwsh: bool) -> Option<(String, Vec<usize>)> {
    let mut name = String::with_capacity(word.len());
    let mut at = Vec::with_capacity(word.len());
    let mut chars = word.char_indices();
    while let Some((i, c)) = chars.next() {
        let (i, c) = match c {
            '`' => match chars.next()? {
                (_, '0' | 'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\n' | '\r') => return None,
                // The grammar ends a name at the `{` of `` `u{55} ``: what is left names
                // nothing to `pwsh`.
                (_, 'e' | 'u') if pwsh => return None,
                escaped => escaped,
            },
            _ => (i, c),
        };
        name.push(c);
        at.extend((0..c.len_utf8()).map(|k| start + i + k));
    }
    Some((name, at))
}

/// The map of a text whose byte `i` comes from source offset `at[i]`.
fn map_bytes(at: &[usize]) -> OffsetMap {
    let mut map = OffsetMap::starting_at(at.first().copied().unwrap_or(0));
    for (i, pair) in at.windows(2).enumerate() {
        if pair[1] != pair[0] + 1 {
            map.push(i + 1, pair[1]);
        }
    }
    map
}

fn resolve_alias(name: &str) -> String {
    ALIASES
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .map_or(name, |(_, cmdlet)| cmdlet)
        .to_ascii_lowercase()
}

pub(crate) fn is_computer_param(p: &str) -> bool {
    p == "cn" || (p.len() >= 4 && is_prefix(p, "computername", 4)) || is_prefix(p, "hostname", 2)
}

/// `Invoke-Command`'s `-ScriptBlock` (as [`param_name`] gives it), or a prefix the walk reads
/// as it.
pub(crate) fn is_scriptblock_param(p: &str) -> bool {
    p.starts_with("sc") && is_prefix(p, "scriptblock", 2)
}

/// The host names of a value written at `at`: a word or a string, a comma list of them (`a,b`,
/// `a, b`, a line break after a comma), or `@(…)` of them; and where the value ends. Names held
/// in variables or made by expressions are unknown and left out (`$servers` gives none).
pub(crate) fn host_list(src: &str, at: usize) -> (Vec<Rc<str>>, usize) {
    let b = src.as_bytes();
    let blank = |i: &mut usize, lines: bool| {
        while let Some(&c) = b.get(*i) {
            match c {
                b' ' | b'\t' => *i += 1,
                b'\r' | b'\n' if lines => *i += 1,
                b'`' if matches!(b.get(*i + 1), Some(b'\n' | b'\r')) => *i += 1,
                _ => break,
            }
        }
    };
    let array = src.get(at..).is_some_and(|s| s.starts_with("@("));
    let mut i = at + if array { 2 } else { 0 };
    let mut hosts = Vec::new();
    let mut end = at;
    loop {
        blank(&mut i, true);
        let Some((host, next)) = host_item(src, i) else {
            break;
        };
        if let Some(h) = host.filter(|h| !h.is_empty()) {
            hosts.push(Rc::from(h));
        }
        i = next;
        end = next;
        blank(&mut i, array);
        if b.get(i) != Some(&b',') {
            break;
        }
        i += 1;
    }
    if array {
        blank(&mut i, true);
        if b.get(i) != Some(&b')') {
            return (Vec::new(), at);
        }
        end = i + 1;
    }
    (hosts, end)
}

/// One item of a host list at `at`: a quoted string or a bare word, its value (`None` when a
/// variable or an escape makes it unknown) and where it ends; `None` when no item starts here.
fn host_item(src: &str, at: usize) -> Option<(Option<String>, usize)> {
    let b = src.as_bytes();
    match *b.get(at)? {
        b'\'' => {
            let mut value = String::new();
            let mut i = at + 1;
            loop {
                let rest = src.get(i..)?;
                let q = rest.find('\'')?;
                value.push_str(&rest[..q]);
                i += q + 1;
                // `''` is a quote inside a verbatim string.
                if b.get(i) != Some(&b'\'') {
                    return Some((Some(value), i));
                }
                value.push('\'');
                i += 1;
            }
        }
        b'"' => {
            let close = at + 1 + src.get(at + 1..)?.find('"')?;
            let value = &src[at + 1..close];
            let known = !value.contains(['$', '`']);
            Some((known.then(|| value.to_string()), close + 1))
        }
        _ => {
            let len = src[at..]
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(
                            c,
                            ',' | ';' | '{' | '}' | '(' | ')' | '|' | '&' | '#' | '\'' | '"'
                        )
                })
                .unwrap_or(src.len() - at);
            let word = &src[at..at + len];
            if word.is_empty() || word.starts_with('-') || word.starts_with('@') {
                return None;
            }
            let known = !word.contains(['$', '`', '[', ']']);
            Some((known.then(|| word.to_string()), at + len))
        }
    }
}

/// `-ComputerName:` → `computername`.
pub(crate) fn param_name(text: &str) -> String {
    text.trim_start_matches(['-', '/'])
        .trim_end_matches(':')
        .to_ascii_lowercase()
}

/// PowerShell accepts any unambiguous prefix of a parameter name.
fn is_prefix(p: &str, full: &str, min: usize) -> bool {
    p.len() >= min && full.starts_with(p)
}

/// Down through nodes with a single named child (the grammar's chain of expression levels,
/// pipelines of one element, argument lists of one argument) to the node that says something.
fn single(node: Node<'_>) -> Node<'_> {
    let mut n = node;
    for _ in 0..64 {
        if n.named_child_count() != 1
            || matches!(
                n.kind(),
                "script_block_expression"
                    | "hash_literal_expression"
                    | "string_literal"
                    | "invokation_expression"
                    | "command"
                    | "variable"
            )
        {
            break;
        }
        match n.named_child(0) {
            Some(c) => n = c,
            None => break,
        }
    }
    n
}

/// The `{ … }` of an `if`, `elseif` or `else`.
fn statement_block(clause: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = clause.walk();
    let block = clause
        .named_children(&mut cursor)
        .find(|c| c.kind() == "statement_block");
    block
}

/// Through the expression wrappers the grammar puts around an argument.
fn unwrap(node: Node<'_>) -> Node<'_> {
    let mut n = node;
    while matches!(n.kind(), "array_literal_expression" | "unary_expression")
        && n.named_child_count() == 1
    {
        match n.named_child(0) {
            Some(c) => n = c,
            None => break,
        }
    }
    n
}

/// The inside of a long or multi-line block argument, which a command's text leaves out.
fn elidable(core: Node<'_>, src: &str) -> Option<Range<usize>> {
    if !matches!(
        core.kind(),
        "script_block_expression"
            | "sub_expression"
            | "parenthesized_expression"
            | "array_expression"
            | "hash_literal_expression"
    ) {
        return None;
    }
    let range = core.byte_range();
    let text = src.get(range.clone())?;
    if text.len() <= MAX_INLINE_BLOCK && !text.contains('\n') {
        return None;
    }
    let open = core.child(0)?;
    let close = core.child(core.child_count().checked_sub(1)?)?;
    (open.end_byte() <= close.start_byte()).then(|| open.end_byte()..close.start_byte())
}

/// The value of a word or a string without variables (a host name, an ssh destination).
fn static_value(src: &str, core: Node<'_>) -> Option<String> {
    match core.kind() {
        "generic_token" | "command_name" => Some(src.get(core.byte_range())?.to_string()),
        "string_literal" => {
            let (s, _) = string_content(src, core)?;
            let expandable = core
                .child(0)
                .is_some_and(|c| c.kind().starts_with("expandable"));
            (!(expandable && s.contains('$'))).then_some(s)
        }
        _ => None,
    }
}

/// The value of a string literal and the map from its offsets to source offsets: `''` in
/// verbatim strings, backtick escapes and `""` in expandable ones, here-string bodies.
fn string_content(src: &str, lit: Node<'_>) -> Option<(String, OffsetMap)> {
    let inner = lit.child(0)?;
    let range = inner.byte_range();
    let text = src.get(range.clone())?;
    let start = range.start;
    match inner.kind() {
        "verbatim_string_characters" => {
            let body = strip_quotes(text, '\'')?;
            Some(unescape(body, start + 1, Quote::Verbatim))
        }
        "expandable_string_literal" => {
            let body = strip_quotes(text, '"')?;
            Some(unescape(body, start + 1, Quote::Expandable))
        }
        "verbatim_here_string_characters" | "expandable_here_string_literal" => {
            let (body, offset) = here_body(text)?;
            if inner.kind().starts_with("verbatim") {
                Some((body.to_string(), OffsetMap::starting_at(start + offset)))
            } else {
                Some(unescape(body, start + offset, Quote::HereString))
            }
        }
        _ => None,
    }
}

fn strip_quotes(text: &str, q: char) -> Option<&str> {
    let body = text.strip_prefix(q)?;
    Some(body.strip_suffix(q).unwrap_or(body))
}

/// The body of `@'…'@` / `@"…"@`: from after the first line break to before the last one.
fn here_body(text: &str) -> Option<(&str, usize)> {
    let first = text.find('\n')? + 1;
    let close = text.len().checked_sub(2)?;
    let mut end = text.get(..close)?.rfind('\n').unwrap_or(close).max(first);
    if end > first && text.as_bytes().get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    Some((text.get(first..end)?, first))
}

#[derive(PartialEq)]
enum Quote {
    Verbatim,
    Expandable,
    HereString,
}

fn unescape(body: &str, start: usize, quote: Quote) -> (String, OffsetMap) {
    let mut out = String::with_capacity(body.len());
    let mut map = OffsetMap::starting_at(start);
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let doubled = match quote {
            Quote::Verbatim => c == '\'',
            Quote::Expandable => c == '"',
            Quote::HereString => false,
        };
        if doubled && chars.peek().map(|&(_, n)| n) == Some(c) {
            let (j, _) = chars.next().unwrap_or((i + 1, c));
            map.push(out.len(), start + j);
            out.push(c);
            map.push(out.len(), start + j + 1);
            continue;
        }
        if c == '`' && quote != Quote::Verbatim {
            if let Some((j, n)) = chars.next() {
                let value = match n {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'e' => '\u{1b}',
                    'f' => '\u{c}',
                    'v' => '\u{b}',
                    other => other,
                };
                map.push(out.len(), start + j);
                out.push(value);
                map.push(out.len(), start + j + n.len_utf8());
                continue;
            }
        }
        out.push(c);
    }
    (out, map)
}

/// `-EncodedCommand` takes BASE64 of UTF-16LE text.
pub(super) fn decode_utf16_base64(text: &str) -> Option<String> {
    let text = text.trim_matches(['"', '\'']);
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bytes.len() < 2 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// Adds a code region of embedded code, split wherever `base` jumps (an unescaped quote), so
/// every region is a true range of the document.
pub(super) fn push_mapped_region(
    out: &mut Parsed,
    range: Range<usize>,
    base: &OffsetMap,
    lang: Language,
    host: Option<String>,
) {
    let (a, b) = (range.start, range.end);
    if a >= b {
        return;
    }
    let (sa, sb) = (base.to_source(a), base.to_source(b));
    if sb >= sa && sb - sa == b - a {
        out.code.push(CodeRegion {
            span: sa..sb,
            language: lang,
            host,
            min_powershell: None,
        });
        return;
    }
    let mut start = a;
    let mut i = a;
    while i < b {
        let next = base.to_source(i + 1);
        if next != base.to_source(i) + 1 || i + 1 == b {
            out.code.push(CodeRegion {
                span: base.to_source(start)..base.to_source(i) + 1,
                language: lang,
                host: host.clone(),
                min_powershell: None,
            });
            start = i + 1;
        }
        i += 1;
    }
}

#[cfg(test)]
/// OS checks the walk reads (and one it does not), for the pruned-walk and sparse-parse corpora.
pub(crate) const OS_CHECKS: &str = r#"if ($IsLinux) { nproc } elseif ($IsMacOS) { sysctl -n hw.ncpu } else { Get-WmiObject Win32_OS }
if ($IsWindows) { Get-LocalUser } else { Get-WmiObject x }
if ([Environment]::OSVersion.Platform -ne 'Win32NT') { Get-WmiObject y; iex 'Get-LocalUser' }
if ($env:OS -eq 'Windows_NT') { wmic os get caption }
if ($onLinux) { Get-WmiObject z }
"#;

/// A script whose `#Requires` line stands in a function, with look-alikes in a here-string
/// and a block comment, local and remote code, for the pruned-walk and sparse-parse corpora.
#[cfg(test)]
pub(crate) const REQUIRES: &str = r#"<#
#Requires -Version 7
#>
$doc = @"
#requires -version 7
"@
Get-LocalUser
$o = [pscustomobject]@{ a = 1 }
function Start-Audit {
    #requires -Version 5.1 -RunAsAdministrator
    Invoke-WebRequest https://x -UseBasicParsing | ConvertFrom-Json
}
Invoke-Command -ComputerName OLD1 { Get-LocalUser; $p = [pscustomobject]@{} }
powershell -NoProfile -Command "Get-LocalUser"
Invoke-Expression 'Get-LocalUser; $q = [pscustomobject]@{}'
$x = $a ?? 'b'
"#;

/// Version and Windows release checks (and some that prove nothing), for the pruned-walk and
/// sparse-parse corpora.
#[cfg(test)]
pub(crate) const VERSION_CHECKS: &str = r#"if ($PSVersionTable.PSVersion.Major -ge 5 -and $PSVersionTable.PSVersion.Minor -ge 1) { Get-LocalUser }
if (5 -le $PSVersionTable.PSVersion.Major) { Get-LocalUser } else { Get-WmiObject Win32_OS }
if ($PSVersionTable.PSVersion.Major -ge 5) {
    if ($PSVersionTable.PSVersion.Minor -ge 1) { $o = [pscustomobject]@{ a = 1 }; Get-LocalUser }
}
if ($Host.Version.Major -ge 3) { Invoke-WebRequest https://x -OutFile a; ConvertTo-Json $o }
if ((Get-Host).Version.Major -lt 3) { Get-WmiObject x } else { Get-CimInstance x }
switch ($PSVersionTable.PSVersion.Major) {
    2 { Get-WmiObject Win32_BIOS }
    5 { Get-CimInstance Win32_BIOS; Get-LocalUser }
    { $_ -ge 7 } { Get-Content x -AsByteStream }
    default { Get-FileHash a }
}
switch -regex ($PSVersionTable.PSVersion.Major) { 5 { Get-LocalUser }
}
if ([Environment]::OSVersion.Version -ge [version]'6.2') { Get-NetIPAddress; Get-ScheduledTask }
if ([System.Environment]::OSVersion.Version.Major -ge 10) { Get-SmbShare }
if ([Environment]::OSVersion.Version.Build -ge 9600) { Test-NetConnection h }
if ((Get-CimInstance Win32_OperatingSystem).Version -ge '6.2') { Get-Disk }
if ([version](Get-WmiObject Win32_OperatingSystem).Version -ge [version]'6.2') { Resolve-DnsName x }
if ((Get-WmiObject Win32_OperatingSystem).Version -ge '10.0') { Resolve-DnsName y }
if ([Environment]::OSVersion.Version -lt [version]'6.2') { Get-WmiObject Win32_NetworkAdapterConfiguration } else { Get-NetAdapter }
Get-NetIPAddress
"#;

/// Joined OS checks and checks that end the script, for the tests that compare walks and parses.
#[cfg(test)]
pub(crate) const ENDING_CHECKS: &str = r#"Get-LocalUser
if (-not (Get-Command Get-LocalUser -ErrorAction SilentlyContinue)) { throw 'need LocalAccounts' }
function f { if (-not $IsLinux) { throw 'no' } }
if ($IsLinux -or $IsMacOS) { nproc } else { Get-WmiObject w }
Get-LocalUser
if ($PSVersionTable.PSVersion.Major -lt 7) { exit 1 }
Get-WmiObject x
if (-not $IsWindows) {
    Write-Warning 'Windows only'
    return
}
wmic os get caption
Get-NetIPAddress
if ([Environment]::OSVersion.Version -lt [version]'6.2') { throw 'needs Windows Server 2012' }
Get-NetIPAddress
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::assert_spans_valid;

    fn names(src: &str) -> Vec<String> {
        super::super::parse(src, PS)
            .commands
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    fn find<'p>(p: &'p Parsed, name: &str) -> &'p Command {
        p.commands
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no {name} in {:?}", p.commands))
    }

    /// The source text of every code region, joined.
    fn code(src: &str) -> String {
        let p = super::super::parse(src, PS);
        p.code
            .iter()
            .map(|r| &src[r.span.clone()])
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn backtick_escapes_in_a_command_name_are_what_powershell_runs() {
        let src = "Get-Local`User -Name x\n";
        let p = super::super::parse(src, PS);
        let c = find(&p, "Get-LocalUser");
        assert_eq!(c.text, "Get-LocalUser -Name x");
        assert_eq!(&src[c.name_span.clone()], "Get-Local`User");
        // `U` comes after the backtick; the arguments where they are written.
        assert_eq!(c.map.to_source(8), 8);
        assert_eq!(c.map.to_source(9), 10);
        assert_eq!(c.map.to_source(14), 15);
        assert_spans_valid(src, &p);
        // Aliases, paths and suffixes resolve after unescaping; what the command runs is run.
        assert_eq!(
            names("ic`m srv { Get-Date }"),
            ["Invoke-Command", "Get-Date"]
        );
        assert_eq!(
            names("Invoke-Ex`pression 'Get-LocalGroup'"),
            ["Invoke-Expression", "Get-LocalGroup"]
        );
        assert_eq!(
            names("C:\\Windows\\System32\\wbem\\WM`IC.exe os get caption"),
            ["WMIC"]
        );
        // `` `t ``, `` `n `` … make control characters: no such command can be known.
        assert!(names("Get-Local`tUser\n").is_empty());
        assert!(names("Write-Host Get-Local`User\n") == ["Write-Host"]);
    }

    #[test]
    fn escapes_of_powershell_6_are_letters_where_windows_powershell_may_read_the_name() {
        // Windows PowerShell reads `` `e `` and `` `u `` as the letters: the name runs a command.
        let src = "G`et-Command x\nGet-Local`user\n";
        let p = super::super::parse(src, PS);
        let c = find(&p, "Get-Command");
        assert_eq!(&src[c.name_span.clone()], "G`et-Command");
        assert_eq!((c.map.to_source(0), c.map.to_source(1)), (0, 2));
        assert_eq!(c.min_powershell, None);
        assert_eq!(names(src), ["Get-Command", "Get-Localuser"]);
        // `pwsh` reads `` `e `` as ESC.
        assert_eq!(
            names("pwsh -Command 'G`et-Command x; Get-Local`user'"),
            ["pwsh"]
        );
        assert_eq!(
            names(
                "if ($PSVersionTable.PSVersion.Major -ge 7) { G`et-Command } else { G`et-Alias }"
            ),
            ["Get-Alias"]
        );
        // Windows PowerShell started from `pwsh` code reads the letter again; `pwsh` code run by
        // `Invoke-Expression` stays `pwsh` code.
        assert_eq!(
            names("pwsh -Command 'powershell -Command G`et-Command; iex \"G``et-Alias\"'"),
            ["pwsh", "powershell", "Get-Command", "Invoke-Expression"]
        );
        // The reader is known only while its code is parsed.
        assert_eq!(
            names("pwsh -File x.ps1\nG`et-Command"),
            ["pwsh", "Get-Command"]
        );
        // A script that says it is read by `pwsh`.
        for head in [
            "#!/usr/bin/env pwsh\n",
            "#!/usr/bin/pwsh -NoProfile\n",
            "#Requires -Version 7.2\n",
            "# build script\n\n#requires -PSEdition Core -Modules Az\n",
        ] {
            let src = format!("{head}G`et-Command x\nGet-Date\n");
            assert_eq!(names(&src), ["Get-Date"], "{head:?}");
        }
        for head in [
            "#!/usr/bin/env powershell\n",
            "#Requires -Version 5.1\n",
            "#Requires -PSEdition Desktop\n",
            "# pwsh\n",
        ] {
            let src = format!("{head}G`et-Command x\n");
            assert!(names(&src).contains(&"Get-Command".to_string()), "{head:?}");
        }
    }

    #[test]
    fn the_call_operator_runs_a_cmdlet_name_and_an_escaped_one() {
        // The grammar reads a name with a `-` after `&` as a path, and stops it at a backtick,
        // losing every statement after it.
        let src = "& Get-Date\n& Get-Local`User -Name x\nGet-Process | & G`et-Alias; Get-Item\n";
        let p = super::super::parse(src, PS);
        assert_eq!(
            names(src),
            [
                "Get-Date",
                "Get-LocalUser",
                "Get-Process",
                "Get-Alias",
                "Get-Item"
            ]
        );
        let c = find(&p, "Get-LocalUser");
        assert_eq!(&src[c.name_span.clone()], "Get-Local`User");
        assert_eq!(c.text, "Get-LocalUser -Name x");
        assert_spans_valid(src, &p);
        // `&&`, a background `&` and an escape of anything but a letter, digit or `-` are not
        // rewritten.
        assert_eq!(names("Get-A && Get-B`x"), ["Get-A", "Get-Bx"]);
        assert_eq!(patch_ps7("Get-A && Get-B`x"), None);
        assert_eq!(patch_ps7("& Get-Local` User"), None);
        assert_eq!(patch_ps7("& 'Get-Local`User'"), None);
    }

    #[test]
    fn pipelines_blocks_and_chains() {
        assert_eq!(
            names(
                "Get-Process | Where-Object { $_.CPU -gt 5 } | ForEach-Object { Stop-Process $_ }"
            ),
            [
                "Get-Process",
                "Where-Object",
                "ForEach-Object",
                "Stop-Process"
            ]
        );
        assert_eq!(
            names("git pull && Write-Output ok || Write-Host fail; Get-Date"),
            ["git", "Write-Output", "Write-Host", "Get-Date"]
        );
        assert_eq!(
            names("function f {\n  param($p)\n  Get-A\n}\nif ($x) { Get-B } elseif ($y) { Get-C } else { Get-D }\ntry { Get-E } catch { Get-F }\nforeach ($i in 1..3) { Get-G }\nswitch ($z) { 1 { Get-H } }"),
            ["Get-A", "Get-B", "Get-C", "Get-D", "Get-E", "Get-F", "Get-G", "Get-H"]
        );
        assert_eq!(
            names("$n = (Get-Item x).Length\n$a = @(Get-Z)\n$h = @{ a = (Get-Y) }"),
            ["Get-Item", "Get-Z", "Get-Y"]
        );
        assert_eq!(
            names("1..3 | ForEach-Object -Parallel { Get-LocalUser } -ThrottleLimit 2"),
            ["ForEach-Object", "Get-LocalUser"]
        );
    }

    #[test]
    fn strings_and_comments_hold_no_commands() {
        let src = "# Get-LocalUser\n<# block\nGet-LocalUser #>\n$a = 'Get-LocalUser'\n$b = \"Get-LocalUser $(Get-Date) $env:x\"\n$c = @'\nGet-LocalUser\n'@\n$d = @\"\nGet-LocalUser $(hostname)\n\"@\nWrite-Host Get-LocalUser\necho Get-LocalUser\nGet-Command Get-LocalUser\ngcm Get-LocalUser";
        assert_eq!(
            names(src),
            [
                "Get-Date",
                "hostname",
                "Write-Host",
                "echo",
                "Get-Command",
                "Get-Command"
            ]
        );
        let code = code(src);
        assert!(!code.contains("block"), "{code}");
        assert!(!code.contains("'Get-LocalUser'"), "{code}");
        assert!(code.contains("$(Get-Date)"), "{code}");
        assert!(code.contains("$(hostname)"), "{code}");
        assert!(!code.contains("$env:x"), "{code}");
        assert!(code.contains("Write-Host Get-LocalUser"), "{code}");
    }

    #[test]
    fn regions_are_merged() {
        let src = "Get-A -x 1 | Get-B\nGet-C && Get-D # note\n";
        let p = super::super::parse(src, PS);
        assert_eq!(p.code.len(), 1, "{:?}", p.code);
        assert_eq!(
            &src[p.code[0].span.clone()],
            "Get-A -x 1 | Get-B\nGet-C && Get-D"
        );
    }

    #[test]
    fn null_coalescing_keeps_the_rest_parsable() {
        let src = "$a = $b ?? 'c'\nfunction f { Get-LocalUser }\n$x ??= 5\n";
        assert_eq!(names(src), ["Get-LocalUser"]);
        assert!(code(src).contains("??"));
        assert!(code(src).contains("??="));
    }

    #[test]
    fn wildcards_in_a_word_are_no_null_coalescing() {
        // Left as written, so the grammar reads one word (`-f.tmp` was a parameter and an error).
        for word in [
            "dir ex??????.log",
            "gci -Filter ??.tmp",
            "ri C:\\T\\~DF??.tmp",
        ] {
            assert_eq!(patch_ps7(word), None, "{word}");
            let p = parse(word);
            assert!(
                !parse_tree(word, None).unwrap().root_node().has_error(),
                "{word}"
            );
            assert_eq!(p.commands.len(), 1);
        }
        for op in [
            "$a ?? 'x'",
            "$a ??= 1",
            "($a)??($b)",
            "$x = $null ?? 1",
            "$a ??$b",
        ] {
            assert!(patch_ps7(op).is_some(), "{op}");
        }
    }

    #[test]
    fn bare_words_and_parameter_names_are_argument_text() {
        let src = "dir C:\\logs\\ex??.log -Filter ??.tmp\n& openssl.exe pkcs12 -in C:\\c.pfx\nif ($x -in $y) { Write-Output x$HOME ($a -in $b) }\n$x = $null ?? 1\n";
        let p = super::super::parse(src, PS);
        let words: Vec<&str> = p.words.iter().map(|w| &src[w.clone()]).collect();
        // Words only blanks apart are kept as one range.
        assert_eq!(
            words,
            [
                "C:\\logs\\ex??.log -Filter ??.tmp",
                "pkcs12 -in C:\\c.pfx",
                "x$HOME"
            ]
        );
        // The words of code a string runs are where the string holds them.
        let src = "Invoke-Expression 'openssl x509 -in c.pem'\n";
        let p = super::super::parse(src, PS);
        let words: Vec<&str> = p.words.iter().map(|w| &src[w.clone()]).collect();
        assert_eq!(words, ["x509", "-in", "c.pem"]);
    }

    #[test]
    fn version_checked_blocks_are_kept_for_the_constructs_in_them() {
        let src = "if ($PSVersionTable.PSVersion.Major -lt 3) { a } else { b }\nif ($PSVersionTable.PSVersion -ge [version]'5.1') { c }\nif (Get-Command d) { d }\n";
        let p = parse(src);
        let blocks: Vec<(&str, (u32, u32))> = p
            .version_blocks
            .iter()
            .map(|b| (&src[b.span.clone()], b.min))
            .collect();
        assert_eq!(blocks, [("{ b }", (3, 0)), ("{ c }", (5, 1))]);
        let remote =
            "Invoke-Command -ComputerName h { if ($PSVersionTable.PSVersion.Major -ge 3) { a } }\n";
        let p = parse(remote);
        assert_eq!(p.version_blocks.len(), 1);
        assert_eq!(p.version_blocks[0].host.as_deref(), Some("h"));
    }

    #[test]
    fn call_operator_and_dot_sourcing() {
        let src = "& 'C:\\x\\tool.exe' -a b\n& \"$env:ProgramFiles\\Git\\bin\\git.exe\" pull\n. .\\lib.ps1\n& $cmd x\n& { Get-A }\n& cmd /c ver\n. Get-LocalUser -Name a";
        assert_eq!(
            names(src),
            [
                "tool",
                "git",
                "lib.ps1",
                "Get-A",
                "cmd",
                "ver",
                "Get-LocalUser"
            ]
        );
        let p = super::super::parse(src, PS);
        let tool = find(&p, "tool");
        assert_eq!(&src[tool.name_span.clone()], "C:\\x\\tool.exe");
        assert_eq!(tool.text, "tool -a b");
        assert_eq!(tool.map.to_source(5), src.find("-a").unwrap());
    }

    /// Name and host of each command, sorted (copies for other hosts come after the block).
    fn on_hosts(src: &str) -> Vec<(String, Option<String>)> {
        let mut v: Vec<_> = super::super::parse(src, PS)
            .commands
            .into_iter()
            .map(|c| (c.name, c.host))
            .collect();
        v.sort();
        v
    }

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        let mut v: Vec<_> = list
            .iter()
            .map(|(n, h)| (n.to_string(), h.map(str::to_string)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_block_sent_to_several_hosts_runs_on_each() {
        let two = pairs(&[
            ("Invoke-Command", None),
            ("Get-LocalUser", Some("SRV2016")),
            ("Get-LocalUser", Some("ACME-DC01")),
        ]);
        for src in [
            "Invoke-Command -ComputerName SRV2016, ACME-DC01 { Get-LocalUser }",
            "Invoke-Command -ComputerName SRV2016,ACME-DC01 { Get-LocalUser }",
            "Invoke-Command -cn SRV2016,ACME-DC01 -ScriptBlock { Get-LocalUser }",
            "Invoke-Command -ComputerName @('SRV2016', \"ACME-DC01\") { Get-LocalUser }",
            "Invoke-Command SRV2016,ACME-DC01 { Get-LocalUser }",
            "Invoke-Command -ScriptBlock { Get-LocalUser } -ComputerName 'SRV2016' , ACME-DC01 -AsJob",
            "Invoke-Command -ComputerName SRV2016, ACME-DC01 -ArgumentList x, y { Get-LocalUser }",
        ] {
            assert_eq!(on_hosts(src), two, "{src}");
        }
        // Same spans, and code regions for each host.
        let src = "Invoke-Command -ComputerName a, b { Get-LocalUser -Name x }";
        let p = super::super::parse(src, PS);
        let users: Vec<&Command> = p
            .commands
            .iter()
            .filter(|c| c.name == "Get-LocalUser")
            .collect();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].name_span, users[1].name_span);
        assert_eq!(users[0].text, users[1].text);
        let block = |h: &str| {
            p.code
                .iter()
                .filter(|r| r.host.as_deref() == Some(h))
                .map(|r| &src[r.span.clone()])
                .collect::<Vec<_>>()
        };
        assert_eq!(block("a"), ["{ Get-LocalUser -Name x }"]);
        assert_eq!(block("b"), block("a"));
        // Kept blocks, tables and sessions of several hosts.
        let ab = pairs(&[
            ("Invoke-Command", None),
            ("Get-LocalUser", Some("a")),
            ("Get-LocalUser", Some("b")),
        ]);
        let sb =
            "$sb = { Get-LocalUser }\nInvoke-Command -ScriptBlock $sb -ComputerName \"a\", 'b'";
        assert_eq!(on_hosts(sb), ab);
        let table =
            "$p = @{ ComputerName = 'a','b'; ScriptBlock = { Get-LocalUser } }\nInvoke-Command @p";
        assert_eq!(on_hosts(table), ab);
        let session =
            "$s = New-PSSession -ComputerName a, b\nInvoke-Command -Session $s { Get-LocalUser }";
        let mut with_new = ab.clone();
        with_new.push(("New-PSSession".into(), None));
        with_new.sort();
        assert_eq!(on_hosts(session), with_new);
        // Nested: the inner block's own hosts, from each outer host alike.
        let nested = "Invoke-Command -cn a,b { Get-A; Invoke-Command -cn c,d { Get-C } }";
        assert_eq!(
            on_hosts(nested),
            pairs(&[
                ("Invoke-Command", None),
                ("Invoke-Command", Some("a")),
                ("Invoke-Command", Some("b")),
                ("Get-A", Some("a")),
                ("Get-A", Some("b")),
                ("Get-C", Some("c")),
                ("Get-C", Some("d")),
            ])
        );
        // Executed strings in the block run on each host too.
        let iex = "Invoke-Command -cn a,b { iex 'Get-X' }";
        let xs: Vec<_> = on_hosts(iex)
            .into_iter()
            .filter(|(n, _)| n == "Get-X")
            .collect();
        assert_eq!(xs, pairs(&[("Get-X", Some("a")), ("Get-X", Some("b"))]));
        // Hosts held in variables stay unknown; the static ones of a list are known.
        assert_eq!(
            on_hosts("Invoke-Command -ComputerName $servers { Get-LocalUser }"),
            pairs(&[("Invoke-Command", None), ("Get-LocalUser", None)])
        );
        assert_eq!(
            on_hosts("Invoke-Command -ComputerName $servers { Get-LocalUser }"),
            pairs(&[("Invoke-Command", None), ("Get-LocalUser", None)])
        );
        // `Enter-PSSession` takes one host.
        let enter = "Enter-PSSession a\nGet-LocalUser\nExit-PSSession";
        assert!(on_hosts(enter).contains(&("Get-LocalUser".into(), Some("a".into()))));
    }

    #[test]
    fn psexec_runs_on_each_host_of_its_list() {
        let src = "psexec \\\\a,b -s cmd /c ver\nhostname";
        assert_eq!(
            on_hosts(src),
            pairs(&[
                ("psexec", None),
                ("hostname", None),
                ("cmd", Some("a")),
                ("cmd", Some("b")),
                ("ver", Some("a")),
                ("ver", Some("b")),
            ])
        );
        // Each host's command, one finding per pattern and span. (The sparse path declines
        // `\\a,b`, which the grammar reads with a supplied blank, and parses the whole file.)
        let library =
            crate::engine::PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let src = "$x = 1\npsexec \\\\a,b cmd /c \"wmic os get caption\"\n$z = 3\n";
        let p = super::super::parse(src, PS);
        assert_eq!(p.commands.iter().filter(|c| c.name == "wmic").count(), 2);
        let whole = crate::engine::scan(src, PS, None, &library).findings;
        let wmic: Vec<_> = whole
            .iter()
            .filter(|f| src[f.span.clone()].starts_with("wmic"))
            .collect();
        assert!(!wmic.is_empty());
        let mut ids: Vec<_> = wmic.iter().map(|f| &f.pattern_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), wmic.len(), "{wmic:?}");
    }

    #[test]
    fn one_finding_per_pattern_and_span_for_a_block_sent_to_several_hosts() {
        use crate::engine::{pattern::*, target::Host, PatternIndex};
        let pattern = |id: &str, systems: &[&str], severity| {
            crate::engine::scan::tests::pattern(id, &["Get-LocalUser"], systems, severity)
        };
        let host = |name: &str, tag: &str| Host {
            id: name.to_lowercase(),
            hostname: name.into(),
            system_tags: vec![tag.into()],
            ..Host::default()
        };
        let idx = PatternIndex::build(
            vec![
                pattern("a-ps2", &["powershell-2.0"], Severity::Major),
                pattern("b-any", &[], Severity::Major),
            ],
            vec![
                host("SRV2016", "powershell-5.1"),
                host("OLD", "powershell-2.0"),
            ],
            vec![],
        );
        let findings = |src: &str| -> Vec<(String, Option<String>, Severity)> {
            crate::engine::scan(src, PS, None, &idx)
                .findings
                .into_iter()
                .map(|f| (f.pattern_id, f.target, f.severity))
                .collect()
        };
        let s = |id: &str, t: Option<&str>, sev| (id.to_string(), t.map(str::to_string), sev);
        // Only the second host is affected: it is found, named, at full severity.
        assert_eq!(
            findings("Invoke-Command -ComputerName SRV2016, OLD { Get-LocalUser }"),
            [
                s("a-ps2", Some("OLD"), Severity::Major),
                s("b-any", Some("SRV2016"), Severity::Major),
            ]
        );
        // An unknown host shows the scoped pattern lowered, and once only.
        assert_eq!(
            findings("Invoke-Command -ComputerName OLD, NEW { Get-LocalUser }"),
            [
                s("a-ps2", Some("OLD"), Severity::Major),
                s("b-any", Some("OLD"), Severity::Major),
            ]
        );
        assert_eq!(
            findings("Invoke-Command -ComputerName NEW, OLD { Get-LocalUser }"),
            [
                s("a-ps2", Some("OLD"), Severity::Major),
                s("b-any", None, Severity::Major),
            ]
        );
    }

    #[test]
    fn start_process_runs_its_program() {
        let src = "Start-Process -FilePath wmic -ArgumentList 'os get caption' -Wait\nstart notepad.exe x.txt\nStart-Process \"C:\\x\\setup.exe\" -Verb RunAs";
        let p = super::super::parse(src, PS);
        let w = find(&p, "wmic");
        assert_eq!(w.text, "wmic os get caption");
        assert_eq!(&src[w.name_span.clone()], "wmic");
        assert_eq!(w.map.to_source(5), src.find("os get").unwrap());
        assert_eq!(find(&p, "notepad").text, "notepad x.txt");
        assert_eq!(find(&p, "setup").text, "setup");
    }

    #[test]
    fn comma_lists_keep_the_rest_parsable() {
        let src = "Get-X | Select-Object Name, LastLogon\nGet-Y -A 1, 2 -B x\nfunction f([string]$a, [int]$b) { Get-W }\nGet-V";
        assert_eq!(
            names(src),
            ["Get-X", "Select-Object", "Get-Y", "Get-W", "Get-V"]
        );
        let p = super::super::parse(src, PS);
        assert_eq!(
            find(&p, "Select-Object").text,
            "Select-Object Name, LastLogon"
        );
    }

    #[test]
    fn ps7_operators_keep_the_rest_parsable() {
        let src = "$v = $a ? 'x' : 'y'\nGet-A\nStart-Sleep 5 &\nGet-B\nGet-Item | ? { $_ }\nGet-C";
        assert_eq!(
            names(src),
            ["Get-A", "Start-Sleep", "Get-B", "Get-Item", "?", "Get-C"]
        );
    }

    #[test]
    fn passing_over_plain_expressions_changes_no_command_and_no_region() {
        let mut scripts = crate::script::repository_scripts(&["ps1", "psm1"]);
        assert!(scripts.len() >= 4);
        scripts.push((
            "synthetic".into(),
            crate::synthetic::powershell_script(3000, 1000, 7),
        ));
        // Bare arguments another shell runs are claimed below a plain argument list.
        scripts.push((
            "bare executed arguments".into(),
            "bash -c ls -la\ncmd /c dir x\nwsl ls -la\nssh host ls -la\npowershell -Command Get-X y\n\
             pwsh -c Get-X y\npowershell Get-X y\npowershell -ec RwBlAHQALQBYAA==\nGet-Y\n\
             psexec \\\\h cmd /c dir\nEnter-PSSession h\nGet-X $using:x $env:PATH $a.b.c [int]::Max 1..3\n\
             Exit-PSSession\nGet-X 2>&1 | Out-Null; Get-A && Get-B || Get-C; $c = !$b -band 0x1\n"
                .into(),
        ));
        // A no-break space is a token to the grammar, not a blank.
        scripts.push(("no-break space".into(), "$sb = \u{a0}\nGet-X\n".into()));
        scripts.push((
            "several hosts".into(),
            r"Invoke-Command -ComputerName a, b { Get-X -n 1; iex 'Get-Y' }
Invoke-Command -cn @('a','b') -ArgumentList x, y { Get-Z $using:v }
$s = New-PSSession a,b
Invoke-Command -Session $s { Get-W }
$sb = { Get-V }
Invoke-Command $sb -ComputerName a,b
psexec \\a,b cmd /c dir
Invoke-Command -cn a,b { Invoke-Command -cn c,d { Get-U 1..3 } }
"
            .into(),
        ));
        scripts.push((
            "escaped names".into(),
            "& Get-Date x\n& Get-Local`User -Name (Get-X)\nG`et-Command\n\
             pwsh -Command 'G`et-Alias; Get-Local`user'\nGet-Y | & G`et-Z\n"
                .into(),
        ));
        scripts.push(("os checks".into(), OS_CHECKS.into()));
        scripts.push(("ending checks".into(), ENDING_CHECKS.into()));
        scripts.push(("version checks".into(), VERSION_CHECKS.into()));
        scripts.push(("requires".into(), REQUIRES.into()));
        let tokens = [
            "Get-X", " ", "\n", "'", "\"", "$(", "(", ")", "@(", "{", "}", "#", "`", "$a", "-x6",
            "--y=1", "-eq", "1", "+", ".", "|", ";", "=", "[int]", ",", "$_.N", "-and", "tool",
            "bash -c ", "ssh h ", "\u{a0}",
        ];
        scripts.extend(
            crate::script::token_soups(&tokens, 2000, 24, 0x9e37_79b9_7f4a_7c15)
                .map(|s| ("soup".to_string(), s)),
        );
        crate::script::assert_pruned_walks_equal_full(PS, &scripts);
    }

    #[test]
    fn parameters_with_digits_or_equals_are_one_parameter() {
        let src = "Test-Connection -IPv4 srv1\ncurl.exe --http2 -o x https://x\ntool --level=2 --v2; Get-A\n$n = $i -band 0x1\nGet-B -Confirm:$false -Count 5";
        // Without the rewrite each of these is an error repair in the tree.
        let patched = patch_ps7(src).unwrap();
        assert_eq!(patched.len(), src.len());
        let tree = crate::script::powershell_tree;
        assert!(tree(src).root_node().has_error());
        assert!(!tree(&patched).root_node().has_error(), "{patched}");
        assert_eq!(
            names(src),
            ["Test-Connection", "curl", "tool", "Get-A", "Get-B"]
        );
        // The commands read the original text, digits and all.
        let p = super::super::parse(src, PS);
        assert_eq!(
            find(&p, "Test-Connection").text,
            "Test-Connection -IPv4 srv1"
        );
        assert_eq!(find(&p, "tool").text, "tool --level=2 --v2");
        // Only those words are rewritten: numbers, operators and `-Name:value` are the grammar's.
        let mut changed = Vec::new();
        let mut at = 0;
        for word in src.split([' ', '\n']) {
            if patched[at..at + word.len()] != *word {
                changed.push(word);
            }
            at += word.len() + 1;
        }
        assert_eq!(changed, ["-IPv4", "--http2", "--level=2", "--v2;"]);
        assert_eq!(patch_ps7("ping -4 x; $a -= 1; $b--; tool -x 'a -b2'"), None);
        // A value joined with a colon, as `-Name:value` is.
        let joined = "Test-Connection -IPv4:$true srv1\nGet-A";
        assert!(tree(joined).root_node().has_error());
        let patched = patch_ps7(joined).unwrap();
        assert!(!tree(&patched).root_node().has_error(), "{patched}");
        assert_eq!(&patched[..22], "Test-Connection -IPv_:");
    }

    #[test]
    fn aliases_resolve_to_cmdlets() {
        let src = "gwmi win32_os -cn x\niwr http://x | iex";
        let p = super::super::parse(src, PS);
        let g = find(&p, "Get-WmiObject");
        assert_eq!(g.text, "Get-WmiObject win32_os -cn x");
        assert_eq!(&src[g.name_span.clone()], "gwmi");
        assert_eq!(g.map.to_source(0), 0);
        assert_eq!(g.map.to_source("Get-WmiObject".len()), 4);
        assert_eq!(g.map.to_source("Get-WmiObject win".len()), 8);
        // A finding on the name alone ends with the alias, also at the end of the text.
        assert_eq!(g.map.to_source_end("Get-WmiObject".len()), 4);
        for src in ["iwr", "iwr\nWrite-Output x", "& iwr x"] {
            let p = super::super::parse(src, PS);
            let i = find(&p, "Invoke-WebRequest");
            let end = i.map.to_source_end("Invoke-WebRequest".len());
            assert_eq!(end, i.name_span.end, "{src:?}");
            assert_eq!(&src[i.name_span.start..end], "iwr");
        }
        assert_eq!(
            names(src),
            ["Get-WmiObject", "Invoke-WebRequest", "Invoke-Expression"]
        );
    }

    #[test]
    fn curl_and_wget_are_invoke_webrequest_where_windows_powershell_reads_them() {
        assert_eq!(
            names("curl https://x -OutFile a\nwget https://y\ncurl.exe -sS https://z\n"),
            ["Invoke-WebRequest", "Invoke-WebRequest", "curl"]
        );
        let p = parse("curl https://x");
        assert_eq!(
            find(&p, "Invoke-WebRequest").text,
            "Invoke-WebRequest https://x"
        );
        // PowerShell 6 removed the aliases: where `pwsh` reads the code, curl is curl.
        for src in [
            "#Requires -Version 7\ncurl https://x\n",
            "#!/usr/bin/env pwsh\ncurl https://x\n",
            "pwsh -c 'curl https://x'\n",
            "if ($PSVersionTable.PSVersion.Major -ge 6) { curl https://x }\n",
        ] {
            assert!(names(src).iter().any(|n| n == "curl"), "{src}");
            assert!(
                !names(src).iter().any(|n| n == "Invoke-WebRequest"),
                "{src}"
            );
        }
        assert!(names("powershell -c 'curl https://x'\n")
            .iter()
            .any(|n| n == "Invoke-WebRequest"));
    }

    /// `(name, guarded, min_powershell)` of every command but the lookups, in source order.
    type Marks = Vec<(String, bool, Option<(u32, u32)>)>;

    fn guards(src: &str) -> Marks {
        crate::script::parse(src, PS)
            .commands
            .into_iter()
            .filter(|c| !c.name.eq_ignore_ascii_case("Get-Command") && c.name != "gcm")
            .map(|c| (c.name, c.guarded, c.min_powershell))
            .collect()
    }

    fn guarded(src: &str) -> Vec<String> {
        guards(src)
            .into_iter()
            .filter(|(_, g, _)| *g)
            .map(|(n, _, _)| n)
            .collect()
    }

    /// The OS families each command named `name` can run on, in source order.
    fn oses(src: &str, name: &str) -> Vec<Vec<&'static str>> {
        crate::script::parse(src, PS)
            .commands
            .into_iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.os.names())
            .collect()
    }

    #[test]
    fn os_variables_and_platform_checks_bound_the_branches() {
        let all = || OsSet::ANY.names();
        let all_but = |out: OsSet| (!out).names();
        let src = "if ($IsLinux) { nproc } elseif ($IsMacOS) { sysctl -n hw.ncpu } else { Get-CimInstance x }";
        assert_eq!(oses(src, "nproc"), [["linux"]]);
        assert_eq!(oses(src, "sysctl"), [["darwin"]]);
        assert_eq!(
            oses(src, "Get-CimInstance"),
            [all_but(OsSet::LINUX | OsSet::DARWIN)]
        );
        // `$IsWindows` is `$null` in Windows PowerShell: its being false proves nothing.
        let src = "if ($IsWindows) { a } else { b }";
        assert_eq!(oses(src, "a"), [["windows"]]);
        assert_eq!(oses(src, "b"), [all()]);
        assert_eq!(guards(src)[0].2, Some((6, 0)));
        assert_eq!(
            oses("if (-not $IsWindows) { a } else { b }", "b"),
            [["windows"]]
        );
        assert_eq!(oses("if ($IsLinux -and $x) { a }", "a"), [["linux"]]);
        let src = "if ([Environment]::OSVersion.Platform -eq 'Win32NT') { a } else { b }";
        assert_eq!(oses(src, "a"), [["windows"]]);
        assert_eq!(oses(src, "b"), [all_but(OsSet::WINDOWS)]);
        let src = "if ($env:OS -ne \"Windows_NT\") { a } else { b }";
        assert_eq!(oses(src, "a"), [all_but(OsSet::WINDOWS)]);
        assert_eq!(oses(src, "b"), [["windows"]]);
        // Not a check: another variable, another value; and code sent to another host.
        for src in [
            "if ($onLinux) { a }",
            "if ($env:OS -eq $x) { a }",
            "if ([Environment]::OSVersion.Platform -eq 'Unix') { a }",
            "if ($IsLinux) { Invoke-Command -ComputerName SRV { a } }",
        ] {
            assert_eq!(oses(src, "a"), [all()], "{src}");
        }
        assert_eq!(oses("if ($IsLinux) { iex 'a' }", "a"), [["linux"]]);
    }

    #[test]
    fn joined_os_checks_combine() {
        let all = || OsSet::ANY.names();
        let all_but = |out: OsSet| (!out).names();
        let both = OsSet::LINUX | OsSet::DARWIN;
        for (src, then, otherwise) in [
            // Either: the families together; neither: the rest.
            (
                "if ($IsLinux -or $IsMacOS) { a } else { a }",
                both.names(),
                all_but(both),
            ),
            (
                "if ($IsMacOS -OR ($IsLinux)) { a } else { a }",
                both.names(),
                all_but(both),
            ),
            // An unknown side of `-or`: the then-branch may run anywhere.
            (
                "if ($IsLinux -or $x) { a } else { a }",
                all(),
                all_but(OsSet::LINUX),
            ),
            // An unknown side of `-and`: the then-branch is bounded, the else is not.
            (
                "if ($x -and $IsMacOS) { a } else { a }",
                vec!["darwin"],
                all(),
            ),
            (
                "if ($IsLinux -and -not $IsMacOS) { a } else { a }",
                vec!["linux"],
                all_but(OsSet::LINUX),
            ),
            (
                "if (-not ($IsLinux -or $IsMacOS)) { a } else { a }",
                all_but(both),
                both.names(),
            ),
            (
                "if (!$IsLinux -and !$IsMacOS) { a } else { a }",
                all_but(both),
                both.names(),
            ),
            // `$IsWindows` false proves nothing (Windows PowerShell leaves it unset).
            (
                "if (-not $IsWindows) { a } else { a }",
                all(),
                vec!["windows"],
            ),
            (
                "if ($IsWindows -or $IsLinux) { a } elseif ($IsMacOS) { a } else { a }",
                vec!["linux", "windows"],
                vec!["darwin"],
            ),
        ] {
            let got = oses(src, "a");
            assert_eq!(got[0], then, "{src}");
            assert_eq!(got[1], otherwise, "{src}");
        }
        // The last `else` after `$IsWindows -or $IsLinux` and `$IsMacOS`: not Linux, not
        // macOS; Windows PowerShell may still take it.
        assert_eq!(
            oses(
                "if ($IsWindows -or $IsLinux) { a } elseif ($IsMacOS) { a } else { a }",
                "a"
            )[2],
            all_but(both)
        );
        // Both sides need PowerShell 6 to be true: so does the branch.
        let marks = guards("if ($IsLinux -or $IsMacOS) { a }");
        assert_eq!(marks[0].2, Some((6, 0)));
        // A lookup on one side of `-or` proves nothing; on both, its name.
        assert!(guarded("if ((Get-Command jq) -or $IsLinux) { jq }").is_empty());
        assert_eq!(
            guarded("if ((Get-Command jq) -or (Get-Command jq -ErrorAction Ignore)) { jq }"),
            ["jq"]
        );
        assert_eq!(
            guarded("if (-not (Get-Command jq -ErrorAction SilentlyContinue) -or -not $IsLinux) { } else { jq }"),
            ["jq"]
        );
    }

    #[test]
    fn a_check_that_ends_the_script_holds_after_it() {
        let all = || OsSet::ANY.names();
        let src = "if (-not $IsLinux) { throw 'Linux only' }\nnproc";
        assert_eq!(oses(src, "nproc"), [["linux"]]);
        assert_eq!(guards(src)[0].2, Some((6, 0)));
        assert_eq!(
            oses(
                "nproc\nif ($IsMacOS) { Write-Host no; exit 1 }\nnproc",
                "nproc"
            ),
            [all(), (!OsSet::DARWIN).names()]
        );
        assert_eq!(
            oses("if ($IsLinux) { } else { return }\nnproc", "nproc"),
            [["linux"]]
        );
        let src = "if (-not (Get-Command jq -ErrorAction SilentlyContinue)) {\n  Write-Error 'need jq'\n  exit 1\n}\njq .";
        assert_eq!(guarded(src), ["jq"]);
        let src = "if ($PSVersionTable.PSVersion.Major -lt 5) { throw 'needs 5.0' }\nGet-LocalUser";
        assert_eq!(
            guards(src),
            [("Get-LocalUser".to_string(), false, Some((5, 0)))]
        );
        // Not at the top level, not every branch, `elseif`, nested deeper: not read.
        for src in [
            "function f { if (-not $IsLinux) { throw 'no' } }\nnproc",
            "foreach ($a in $x) { if (-not $IsLinux) { exit 1 } }\nnproc",
            "if (-not $IsLinux) { if ($y) { throw 'no' } }\nnproc",
            "if (-not $IsLinux) { throw 'no' } elseif ($x) { }\nnproc",
            "if (-not $IsLinux) { Write-Warning 'untested' }\nnproc",
        ] {
            assert_eq!(oses(src, "nproc"), [all()], "{src}");
        }
    }

    #[test]
    fn get_command_guards_what_it_looks_up() {
        let src = "if (Get-Command Get-LocalUser -ErrorAction SilentlyContinue) {\n  Get-LocalUser | Where-Object Enabled\n} else {\n  Get-WmiObject Win32_UserAccount\n}\n";
        assert_eq!(
            guards(src),
            [
                ("Get-LocalUser".to_string(), true, None),
                ("Where-Object".to_string(), false, None),
                ("Get-WmiObject".to_string(), false, None),
            ]
        );
        assert_eq!(
            guarded("if (Get-Command -Name 'iwr' -EA 0) { Invoke-WebRequest x }"),
            ["Invoke-WebRequest"],
            "names compare through aliases"
        );
        assert_eq!(
            guarded("if (gcm curl.exe -ErrorAction:SilentlyContinue -CommandType Application) { curl.exe -s x }"),
            ["curl"]
        );
        assert_eq!(
            guarded("if ($null -ne (Get-Command iwr -EA 0) -and $x) { foreach ($u in $l) { Invoke-WebRequest $u } }"),
            ["Invoke-WebRequest"]
        );
        assert_eq!(
            guarded("if (-not (Get-Command Get-CimInstance -EA 0)) { gwmi Win32_OS } else { Get-CimInstance Win32_OS }"),
            ["Get-CimInstance"]
        );
        assert_eq!(
            guarded("if (!(Get-Command a -EA 0)) { x } elseif (Get-Command b -EA 0) { a; b } else { a; b }"),
            ["a", "b", "a"]
        );
        assert_eq!(
            guarded("if ($null -eq (Get-Command a -EA 0) -or $null -eq (Get-Command b -EA 0)) { x } else { a; b }"),
            ["a", "b"]
        );
    }

    #[test]
    fn get_command_guards_are_exact() {
        for src in [
            "if (Get-Command curl -EA 0) { wget x }",
            "if (Get-Command a -EA 0) { } else { a }",
            "if (Get-Command a -EA 0) { } elseif ($x) { a }",
            "if (Get-Command a -EA 0 -or $x) { a }",
            "if ((Get-Command a -EA 0) -or $x) { a }",
            "if (Get-Command a* -EA 0) { a }",
            "if (Get-Command a, b -EA 0) { a }",
            "if (Get-Command $name -EA 0) { a }",
            "if (Get-Command a -EA 0 | Select-Object -First 1) { a }",
            "if (Get-Command a -Noun b) { a }",
            "if (Get-Module -ListAvailable a) { a }",
            "if (Get-Command a -EA 0) { }\na",
            "if (Get-Command a -EA 0) { Invoke-Command -ComputerName SRV { a } }",
            "if (Get-Command a -EA 0) { powershell -Command 'a' }",
        ] {
            assert!(guarded(src).is_empty(), "{src}");
        }
        // A block kept in a variable and sent to another host loses what was checked here.
        let src = "if (Get-Command a -EA 0) { $sb = { a } }\nInvoke-Command -ComputerName SRV -ScriptBlock $sb";
        assert_eq!(guards(src)[0], ("a".to_string(), false, None));
    }

    #[test]
    fn invoke_expression_runs_where_the_condition_was_checked() {
        assert_eq!(
            guarded("if (Get-Command Get-LocalUser -EA 0) { iex 'Get-LocalUser; Get-Disk' }"),
            ["Get-LocalUser"]
        );
        assert_eq!(
            guarded("if (gcm iwr -EA 0) { Invoke-Expression -Command \"Invoke-WebRequest x\" }"),
            ["Invoke-WebRequest"]
        );
        let got = guards("if ($PSVersionTable.PSVersion.Major -ge 5) { iex 'Get-LocalUser' }");
        assert_eq!(got[1], ("Get-LocalUser".to_string(), false, Some((5, 0))));
        // Not in what the string sends elsewhere.
        let src = "if (Get-Command a -EA 0) { iex 'Invoke-Command -ComputerName SRV { a }' }";
        assert!(guarded(src).is_empty(), "{:?}", guards(src));
    }

    #[test]
    fn version_checks_set_a_lowest_powershell() {
        let min = |src: &str| {
            guards(src)
                .into_iter()
                .map(|(n, _, m)| (n, m))
                .collect::<Vec<_>>()
        };
        let one = |name: &str, m: Option<(u32, u32)>| vec![(name.to_string(), m)];
        assert_eq!(
            min("if ($PSVersionTable.PSVersion.Major -ge 5) { Get-LocalUser }"),
            one("Get-LocalUser", Some((5, 0)))
        );
        assert_eq!(
            min("if ($PSVersionTable.PSVersion.Major -gt 5) { Get-LocalUser }"),
            one("Get-LocalUser", Some((6, 0)))
        );
        assert_eq!(
            min("if ($PSVersionTable.PSVersion -ge [version]'5.1') { Get-LocalUser }"),
            one("Get-LocalUser", Some((5, 1)))
        );
        assert_eq!(
            min("if ($PSVersionTable.PSVersion -gt '5.1') { Get-LocalUser }"),
            one("Get-LocalUser", Some((5, 1))),
            "5.1.19041 is greater than 5.1"
        );
        assert_eq!(
            min("if (3 -LE $PSVersionTable.PSVersion.Major) { Invoke-WebRequest x }"),
            one("Invoke-WebRequest", Some((3, 0)))
        );
        assert_eq!(
            min("if ($PSVersionTable.PSVersion.Major -lt 7) { Get-WmiObject x } else { ForEach-Object -Parallel { } }"),
            vec![
                ("Get-WmiObject".to_string(), None),
                ("ForEach-Object".to_string(), Some((7, 0)))
            ]
        );
        assert_eq!(
            min("if ($PSVersionTable.PSVersion.Major -le 4) { a } elseif ($PSVersionTable.PSVersion.Major -ge 7 -and (Get-Command b -EA 0)) { b } else { c }"),
            vec![
                ("a".to_string(), None),
                ("b".to_string(), Some((7, 0))),
                ("c".to_string(), Some((5, 0)))
            ]
        );
        assert_eq!(
            guards("if ($PSVersionTable.PSVersion.Major -ge 7 -and (Get-Command b -EA 0)) { b }"),
            vec![("b".to_string(), true, Some((7, 0)))]
        );
        for src in [
            "if ($PSVersionTable.PSVersion.Major -ge 5) { } else { a }",
            "if ($PSVersionTable.PSVersion.Major -ge 5 -or $x) { a }",
            "if ($PSVersionTable.PSVersion.Minor -ge 1) { a }",
            "if ($PSVersionTable.PSVersion.Major -ge $v) { a }",
            "if ($PSVersionTable.PSVersion.Major -ge 5.1) { a }",
            "if ($PSVersionTable.PSVersion.Major -ge 5) { Invoke-Command -ComputerName SRV { a } }",
            "if ($PSVersionTable.PSVersion.Major -ge 5) { }\na",
        ] {
            assert!(
                guards(src).iter().all(|(n, _, m)| n != "a" || m.is_none()),
                "{src}"
            );
        }
    }

    /// `(name, min_powershell)` of every command.
    fn mins(src: &str) -> Vec<(String, Option<(u32, u32)>)> {
        guards(src).into_iter().map(|(n, _, m)| (n, m)).collect()
    }

    /// The lowest PowerShell proven for the command `name`.
    fn min_of(src: &str, name: &str) -> Option<(u32, u32)> {
        find(&crate::script::parse(src, PS), name).min_powershell
    }

    #[test]
    fn major_and_minor_checks_prove_the_lowest_version_satisfying_both() {
        let v = "$PSVersionTable.PSVersion";
        // True for 5.1, 5.2 and 6.1, false for 6.0 and 7.0: the lowest is 5.1.
        let both = format!("if ({v}.Major -ge 5 -and {v}.Minor -ge 1) {{ a }} else {{ b }}");
        assert_eq!(min_of(&both, "a"), Some((5, 1)));
        assert_eq!(min_of(&both, "b"), None, "6.0 and 4.9 both fail the check");
        let swapped = format!("if (1 -le {v}.Minor -and 5 -le {v}.Major) {{ a }}");
        assert_eq!(min_of(&swapped, "a"), Some((5, 1)));
        let nested = format!("if ({v}.Major -ge 5) {{ if ({v}.Minor -gt 0) {{ a }} }}");
        assert_eq!(min_of(&nested, "a"), Some((5, 1)));
        // Either side: the lower of the two.
        let either =
            format!("if (({v}.Major -ge 5 -and {v}.Minor -ge 1) -or {v}.Major -ge 6) {{ a }}");
        assert_eq!(min_of(&either, "a"), Some((5, 1)));
        let exact = format!(
            "if ({v}.Major -gt 5 -or ({v}.Major -eq 5 -and {v}.Minor -ge 1)) {{ a }} else {{ b }}"
        );
        assert_eq!(min_of(&exact, "a"), Some((5, 1)));
        assert_eq!(min_of(&exact, "b"), None);
        // Ending the script when either fails proves both after it.
        let ends = format!("if ({v}.Major -lt 5 -or {v}.Minor -lt 1) {{ throw 'x' }}\na");
        assert_eq!(min_of(&ends, "a"), Some((5, 1)));
        assert_eq!(
            min_of(&format!("if ({v}.Major -gt 4) {{ a }}"), "a"),
            Some((5, 0))
        );
        assert_eq!(
            min_of(&format!("if ({v}.Major -eq 5) {{ a }}"), "a"),
            Some((5, 0))
        );
        assert_eq!(
            min_of(&format!("if (5 -le {v}.Major) {{ a }}"), "a"),
            Some((5, 0))
        );
        assert_eq!(
            min_of(&format!("if (4 -lt {v}.Major) {{ a }}"), "a"),
            Some((5, 0))
        );
        // A minor alone proves no version; above a major it does not lower it.
        assert_eq!(min_of(&format!("if ({v}.Minor -ge 1) {{ a }}"), "a"), None);
        assert_eq!(
            min_of(
                &format!("if ({v}.Major -ge 7 -and {v}.Minor -ge 1) {{ a }}"),
                "a"
            ),
            Some((7, 1))
        );
        assert_eq!(
            min_of(
                &format!("if ({v} -ge [version]'5.1' -and {v}.Minor -ge 0) {{ a }}"),
                "a"
            ),
            Some((5, 1))
        );
        // The block keeps the version for the constructs in it.
        let p = crate::script::parse(&nested, PS);
        assert!(p.version_blocks.iter().any(|b| b.min == (5, 1)));
    }

    #[test]
    fn the_host_version_is_read_as_the_powershell_version() {
        for src in [
            "if ($Host.Version.Major -ge 3) { a }",
            "if ($host.version.major -ge 3) { a }",
            "if ((Get-Host).Version.Major -ge 3) { a }",
            "if ($Host.Version -ge [version]'3.0') { a }",
            "if ($Host.Version.Major -lt 3) { b } else { a }",
        ] {
            assert_eq!(min_of(src, "a"), Some((3, 0)), "{src}");
        }
        assert_eq!(min_of("if ($Host.Name -ge 3) { a }", "a"), None);
        assert_eq!(min_of("if ($Host.Version.Build -ge 3) { a }", "a"), None);
    }

    #[test]
    fn switch_clauses_run_on_the_versions_they_match() {
        let src = "switch ($PSVersionTable.PSVersion.Major) {\n  2 { a }\n  '5' { b }\n  { $_ -ge 7 } { c }\n  { 6 -le $PSItem } { d }\n  default { e }\n}\nf";
        assert_eq!(
            mins(src),
            [
                ("a".to_string(), Some((2, 0))),
                ("b".to_string(), Some((5, 0))),
                ("c".to_string(), Some((7, 0))),
                ("d".to_string(), Some((6, 0))),
                // PowerShell 1.0 has no $PSVersionTable and runs `default` too.
                ("e".to_string(), None),
                ("f".to_string(), None),
            ]
        );
        // `default` where every other clause's failing proves something.
        let low =
            "switch ($PSVersionTable.PSVersion.Major) {\n { $_ -lt 5 } { a }\n default { b }\n}";
        assert_eq!(min_of(low, "b"), Some((5, 0)));
        let dotted = "switch ($PSVersionTable.PSVersion) {\n { $_.Major -ge 5 } { a }\n}";
        assert_eq!(min_of(dotted, "a"), Some((5, 0)));
        let whole = "switch ($PSVersionTable.PSVersion) { { $_ -ge [version]'5.1' } { a } }";
        assert_eq!(min_of(whole, "a"), Some((5, 1)));
        let p = crate::script::parse(whole, PS);
        assert!(p.version_blocks.iter().any(|b| b.min == (5, 1)));
        // Matching that is not `-eq` proves nothing; nor does another subject.
        for src in [
            "switch -regex ($PSVersionTable.PSVersion.Major) { 5 { a } }",
            "switch -wildcard ($PSVersionTable.PSVersion.Major) { 5 { a } }",
            "switch ($x) { 5 { a } }",
            "switch ($PSVersionTable.PSVersion.Major) { { $_ -ge 5 -or $y } { a } }",
            "switch ($PSVersionTable.PSVersion.Major) { { $x -ge 5 } { a } }",
        ] {
            assert_eq!(min_of(src, "a"), None, "{src}");
        }
        assert_eq!(
            min_of(
                "switch -exact ($PSVersionTable.PSVersion.Major) { 5 { a } }",
                "a"
            ),
            Some((5, 0))
        );
    }

    /// The lowest Windows release proven for the command `name`.
    fn windows_of(src: &str, name: &str) -> Option<(u32, u32, u32)> {
        find(&crate::script::parse(src, PS), name).min_windows
    }

    #[test]
    fn os_release_checks_prove_the_lowest_windows_release() {
        let env = "[Environment]::OSVersion.Version";
        for (src, want) in [
            (format!("if ({env} -ge [version]'6.2') {{ a }}"), (6, 2, 0)),
            (format!("if ({env} -ge '10.0.17763') {{ a }}"), (10, 0, 17763)),
            (format!("if ({env} -gt [version]'6.3') {{ a }}"), (6, 3, 0)),
            (format!("if ([version]'6.2' -le {env}) {{ a }}"), (6, 2, 0)),
            (format!("if ({env} -lt [version]'6.2') {{ b }} else {{ a }}"), (6, 2, 0)),
            (
                "if ([System.Environment]::OSVersion.Version.Major -ge 10) { a }".into(),
                (10, 0, 0),
            ),
            (format!("if ({env}.Major -gt 6) {{ a }}"), (7, 0, 0)),
            (
                format!("if ({env}.Major -eq 6 -and {env}.Minor -ge 2) {{ a }}"),
                (6, 2, 0),
            ),
            (format!("if ({env}.Build -ge 17763) {{ a }}"), (10, 0, 17763)),
            (format!("if ({env}.Build -ge 9200) {{ a }}"), (6, 2, 9200)),
            (format!("if ({env}.Build -gt 20347) {{ a }}"), (10, 0, 20348)),
            (
                "if ([version](Get-WmiObject Win32_OperatingSystem).Version -ge [version]'6.2') { a }"
                    .into(),
                (6, 2, 0),
            ),
            (
                "if ([version](Get-CimInstance -ClassName Win32_OperatingSystem).Version -ge '6.3') { a }"
                    .into(),
                (6, 3, 0),
            ),
            (
                "if ([int](gcim Win32_OperatingSystem).BuildNumber -ge 17763) { a }".into(),
                (10, 0, 17763),
            ),
            (
                "if (17763 -le (gwmi Win32_OperatingSystem).BuildNumber) { a }".into(),
                (10, 0, 17763),
            ),
            // WMI's Version is text: `'6.3.9600' -ge '6.2'` holds, `'10.0.17763'` does not,
            // so the block runs on 6.2 and 6.3.
            (
                "if ((Get-CimInstance Win32_OperatingSystem).Version -ge '6.2') { a }".into(),
                (6, 2, 9200),
            ),
            (
                "if ((Get-WmiObject Win32_OperatingSystem).Version -ge [version]'6.2') { a }"
                    .into(),
                (6, 2, 9200),
            ),
            (
                "if ((Get-WmiObject Win32_OperatingSystem).Version -lt '6.2') { throw 'x' }\na"
                    .into(),
                (6, 2, 9200),
            ),
            (
                format!("if ({env} -lt [version]'6.2') {{ throw 'needs 2012' }}\na"),
                (6, 2, 0),
            ),
            (
                format!("switch ({env}.Major) {{ 10 {{ a }} }}"),
                (10, 0, 0),
            ),
        ] {
            assert_eq!(windows_of(&src, "a"), Some(want), "{src}");
            assert_eq!(min_of(&src, "a"), None, "no PowerShell version: {src}");
        }
        for src in [
            // Text: 6.1.7601 is greater than '10.0' as text.
            "if ((Get-CimInstance Win32_OperatingSystem).Version -ge '10.0') { a }",
            "if ((gcim Win32_OperatingSystem).BuildNumber -ge 17763) { a }",
            // Another machine's version.
            "if ((Get-WmiObject Win32_OperatingSystem -ComputerName srv).Version -ge '6.2') { a }",
            // A version written first does not convert to a number.
            "if (6.2 -le [Environment]::OSVersion.Version) { a }",
            "if ([Environment]::OSVersion.Version -ge [version]'6.2') { } else { a }",
            "if ([Environment]::OSVersion.Version -ge [version]'6.2' -or $x) { a }",
            "if ([Environment]::OSVersion.Version -ge [version]'6.2') { Invoke-Command -ComputerName SRV { a } }",
        ] {
            assert_eq!(windows_of(src, "a"), None, "{src}");
        }
        // It proves no OS family: Linux reports its kernel's version there.
        let p = crate::script::parse("if ([Environment]::OSVersion.Version -ge '6.2') { a }", PS);
        assert!(find(&p, "a").os.is_any());
    }

    #[test]
    fn invoke_expression_strings_are_code() {
        let src = "iex 'Get-LocalUser -Name ''a''; Get-Service'\nInvoke-Expression \"Get-Item `\"x`\"; Get-Date\"\nInvoke-Expression -Command 'Get-Disk'";
        let p = super::super::parse(src, PS);
        for name in [
            "Get-LocalUser",
            "Get-Service",
            "Get-Item",
            "Get-Date",
            "Get-Disk",
        ] {
            let c = find(&p, name);
            assert_eq!(&src[c.name_span.clone()], name);
        }
        // Offsets after an unescaped quote stay exact.
        let svc = find(&p, "Get-Service");
        assert_eq!(svc.map.to_source(0), src.find("Get-Service").unwrap());
        let date = find(&p, "Get-Date");
        assert_eq!(date.map.to_source(0), src.find("Get-Date").unwrap());
        // Inside a command's text, past an unescaped quote, offsets stay exact too.
        let lu = find(&p, "Get-LocalUser");
        let semi = lu.text.find("'a'").unwrap();
        assert_eq!(lu.map.to_source(semi + 1), src.find("''a''").unwrap() + 2);
        // The string is inner code, not outer code, and is not double-counted.
        assert_eq!(p.commands.len(), 8);
        let svc_at = src.find("Get-Service").unwrap();
        let inner = p
            .code
            .iter()
            .find(|r| r.span.contains(&svc_at))
            .expect("inner region");
        assert_eq!(&src[inner.span.clone()], "; Get-Service");
    }

    #[test]
    fn strings_piped_into_invoke_expression_are_code() {
        let src = "'Get-LocalUser -x' | iex\n\"Get-Disk\" | Invoke-Expression\n\
                   echo 'Get-Date' | iex\nWrite-Output @'\nGet-Item x\n'@ | iex\n\
                   'Get-Nope' | Out-Null\nGet-Process | iex\n";
        let p = super::super::parse(src, PS);
        for name in ["Get-LocalUser", "Get-Disk", "Get-Date", "Get-Item"] {
            let c = find(&p, name);
            assert_eq!(&src[c.name_span.clone()], name);
        }
        // A string not run, and a stage that hands on no string, run nothing.
        assert!(!p.commands.iter().any(|c| c.name == "Get-Nope"));
        let n = p
            .commands
            .iter()
            .filter(|c| c.name == "Get-Process")
            .count();
        assert_eq!(n, 1);
    }

    #[test]
    fn invoke_expression_here_strings_and_subexpressions() {
        let src = "iex @'\nGet-LocalUser\n'@\nInvoke-Expression @\"\r\nGet-Disk `$x\r\n\"@\niex \"Get-A $(Get-B)\"";
        let p = super::super::parse(src, PS);
        let n: Vec<_> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            n,
            [
                "Invoke-Expression",
                "Get-LocalUser",
                "Invoke-Expression",
                "Get-Disk",
                "Invoke-Expression",
                "Get-A",
                "Get-B"
            ]
        );
        for c in &p.commands[1..] {
            if c.name.starts_with("Get-") {
                assert_eq!(&src[c.name_span.clone()], c.name);
            }
        }
        assert_eq!(find(&p, "Get-Disk").text, "Get-Disk $x");
    }

    #[test]
    fn powershell_command_and_encoded_command() {
        let src = "powershell.exe -NoProfile -ExecutionPolicy Bypass -Command \"Get-LocalUser\"\npwsh -c { Get-Disk }\npwsh -File x.ps1 Get-Nope\npowershell -enc RwBlAHQALQBMAG8AYwBhAGwAVQBzAGUAcgA=";
        let p = super::super::parse(src, PS);
        let n: Vec<_> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            n,
            [
                "powershell",
                "Get-LocalUser",
                "pwsh",
                "Get-Disk",
                "pwsh",
                "powershell",
                "Get-LocalUser"
            ]
        );
        let enc = &p.commands[6];
        let arg = src.find("RwBl").unwrap();
        assert!(enc.name_span.start >= arg && enc.name_span.end <= src.len());
    }

    #[test]
    fn cmd_bash_wsl_ssh_inner_code() {
        let src = "cmd /c \"wmic os get caption\"\nbash -c 'sed -i s/a/b/ f'\nwsl ls -la\nssh admin@nas01 'systemctl restart x'";
        let p = super::super::parse(src, PS);
        let w = find(&p, "wmic");
        assert_eq!(w.language, Language::Batch);
        assert_eq!(&src[w.name_span.clone()], "wmic");
        let sed = find(&p, "sed");
        assert_eq!(sed.language, Language::Bash);
        assert_eq!(&src[sed.name_span.clone()], "sed");
        assert_eq!(find(&p, "ls").language, Language::Bash);
        let systemctl = find(&p, "systemctl");
        assert_eq!(systemctl.host.as_deref(), Some("nas01"));
        assert_eq!(&src[systemctl.name_span.clone()], "systemctl");
        // Nothing of the strings leaks out as PowerShell commands.
        assert!(p
            .commands
            .iter()
            .filter(|c| c.language == PS)
            .all(|c| ["cmd", "bash", "wsl", "ssh"].contains(&c.name.as_str())));
    }

    #[test]
    fn remote_blocks_carry_their_host() {
        let src = "Invoke-Command -ComputerName OLDSRV -ScriptBlock { Get-LocalUser }\nicm -cn a,b { Get-Disk }\nInvoke-Command SRV2 { Get-Volume }\nInvoke-Command { Get-Local }\nInvoke-Command -Session $s { Get-Sess }\nGet-After";
        let p = super::super::parse(src, PS);
        let host = |n: &str| find(&p, n).host.clone();
        assert_eq!(host("Get-LocalUser").as_deref(), Some("OLDSRV"));
        assert_eq!(host("Get-Disk").as_deref(), Some("a"));
        assert_eq!(host("Get-Volume").as_deref(), Some("SRV2"));
        assert_eq!(host("Get-Local"), None);
        assert_eq!(host("Get-Sess"), None);
        assert_eq!(host("Get-After"), None);
        assert_eq!(host("Invoke-Command"), None);
        let at = src.find("Get-LocalUser").unwrap();
        let r = p
            .code
            .iter()
            .find(|r| r.span.contains(&at))
            .expect("region of the remote block");
        assert_eq!(&src[r.span.clone()], "{ Get-LocalUser }");
        assert_eq!(r.host.as_deref(), Some("OLDSRV"));
    }

    /// Each command's name and host, in order.
    fn hosts(p: &Parsed) -> Vec<(&str, Option<&str>)> {
        p.commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect()
    }

    /// The host of the code region that holds `needle`.
    fn region_host<'p>(src: &str, p: &'p Parsed, needle: &str) -> Option<&'p str> {
        let at = src.find(needle).unwrap();
        p.code
            .iter()
            .find(|r| r.span.contains(&at))
            .unwrap_or_else(|| panic!("no region holds {needle:?}: {:?}", p.code))
            .host
            .as_deref()
    }

    #[test]
    fn script_blocks_in_variables_run_where_they_are_sent() {
        let src = "$sb = { Get-LocalUser | Select Name }\nGet-Date\nInvoke-Command -ComputerName OLDSRV -ScriptBlock $sb\n$local = { Get-Volume }\n& $local";
        let p = parse(src);
        assert_eq!(
            hosts(&p),
            [
                ("Get-LocalUser", Some("OLDSRV")),
                ("Select", Some("OLDSRV")),
                ("Get-Date", None),
                ("Invoke-Command", None),
                ("Get-Volume", None),
            ]
        );
        assert_eq!(region_host(src, &p, "Get-LocalUser"), Some("OLDSRV"));
        assert_eq!(region_host(src, &p, "$sb ="), None);
        assert_eq!(region_host(src, &p, "Get-Date"), None);
        assert_eq!(region_host(src, &p, "Get-Volume"), None);
        crate::script::assert_spans_valid(src, &p);

        // Positional, `-cn`, sent to two hosts, and a later reassignment.
        let src = "$b = { Get-Disk }\nicm -cn A -ScriptBlock $b\nInvoke-Command B $b\n$b = { Get-Other }\nInvoke-Command -Session $nosuch -ScriptBlock $b";
        let p = parse(src);
        let disks: Vec<Option<&str>> = p
            .commands
            .iter()
            .filter(|c| c.name == "Get-Disk")
            .map(|c| c.host.as_deref())
            .collect();
        assert_eq!(disks, [Some("A"), Some("B")]);
        assert_eq!(find(&p, "Get-Other").host, None);

        // `[scriptblock]::Create('…')`: the string is code, sent like a block.
        let src = "$sb = [ScriptBlock]::Create('Get-WindowsFeature -Name x')\nInvoke-Command -ComputerName srv1 -ScriptBlock $sb\n$s2 = [scriptblock]::Create(\"Get-Service\")";
        let p = parse(src);
        let feature = find(&p, "Get-WindowsFeature");
        assert_eq!(feature.host.as_deref(), Some("srv1"));
        assert_eq!(&src[feature.name_span.clone()], "Get-WindowsFeature");
        assert_eq!(feature.text, "Get-WindowsFeature -Name x");
        assert_eq!(find(&p, "Get-Service").host, None);
        // Any other string stays data; any other method call is not code.
        assert_eq!(
            names("$x = 'Get-LocalUser'\n$y = [string]::Format('Get-X')\nInvoke-Command -cn h -ScriptBlock $x"),
            ["Invoke-Command"]
        );
    }

    #[test]
    fn splatted_invoke_command_runs_on_its_table_host() {
        let src = "$params = @{\n  ComputerName = 'srv9'\n  ScriptBlock = { Get-LocalUser }\n}\nInvoke-Command @params\n$sb = { Get-Disk }\n$p2 = @{ cn = \"h2\"; scriptblock = $sb }\nInvoke-Command @p2 -AsJob";
        let p = parse(src);
        assert_eq!(find(&p, "Get-LocalUser").host.as_deref(), Some("srv9"));
        assert_eq!(find(&p, "Get-Disk").host.as_deref(), Some("h2"));
        assert_eq!(region_host(src, &p, "Get-LocalUser"), Some("srv9"));
        assert_eq!(region_host(src, &p, "ComputerName"), None);
        crate::script::assert_spans_valid(src, &p);
        // A table that is never splatted, or one without a host, changes nothing.
        let src = "$t = @{ ComputerName = 'x'; ScriptBlock = { Get-A } }\n$u = @{ ScriptBlock = { Get-B } }\nInvoke-Command @u\nInvoke-Command @nosuch";
        let p = parse(src);
        assert_eq!(find(&p, "Get-A").host, None);
        assert_eq!(find(&p, "Get-B").host, None);
    }

    #[test]
    fn sessions_remember_their_host() {
        let src = "$s = New-PSSession -ComputerName OLDSRV\nInvoke-Command -Session $s -ScriptBlock { Get-LocalUser }\nEnter-PSSession -Session $S\nGet-Disk\nExit-PSSession\nInvoke-Command -Session $other { Get-Volume }";
        let p = super::super::parse(src, PS);
        let host = |n: &str| find(&p, n).host.clone();
        assert_eq!(host("New-PSSession"), None);
        assert_eq!(host("Get-LocalUser").as_deref(), Some("OLDSRV"));
        assert_eq!(host("Get-Disk").as_deref(), Some("OLDSRV"));
        assert_eq!(host("Get-Volume"), None);
    }

    #[test]
    fn enter_pssession_moves_what_follows() {
        let src = "Get-A\nEnter-PSSession -ComputerName OLDSRV\nGet-LocalUser\nExit-PSSession\nGet-B\netsn SRV2\nGet-C";
        let p = super::super::parse(src, PS);
        let host = |n: &str| find(&p, n).host.clone();
        assert_eq!(host("Get-A"), None);
        assert_eq!(host("Get-LocalUser").as_deref(), Some("OLDSRV"));
        assert_eq!(host("Get-B"), None);
        assert_eq!(host("Get-C").as_deref(), Some("SRV2"));
        assert_eq!(host("Enter-PSSession"), None);
        let enter = src.find("Enter-PSSession").unwrap();
        let r = p.code.iter().find(|r| r.span.contains(&enter)).unwrap();
        assert_eq!(r.host, None);
        let get = src.find("Get-LocalUser").unwrap();
        let r = p.code.iter().find(|r| r.span.contains(&get)).unwrap();
        assert_eq!(r.host.as_deref(), Some("OLDSRV"));
    }

    #[test]
    fn psexec_runs_on_its_host() {
        let src = "psexec \\\\OLDSRV -u admin -p pw -s -accepteula cmd /c \"wmic os get caption\"";
        let p = super::super::parse(src, PS);
        assert_eq!(find(&p, "psexec").host, None);
        let w = find(&p, "wmic");
        assert_eq!(w.host.as_deref(), Some("OLDSRV"));
        assert_eq!(&src[w.name_span.clone()], "wmic");
    }

    #[test]
    fn a_command_never_runs_into_the_next_line() {
        let src = "bash -c 'x'\nwsl ls -la `| grep x\nssh admin@nas01 'y'\nGet-Next a b\n";
        let p = super::super::parse(src, PS);
        for c in &p.commands {
            assert!(!c.text.contains('\n'), "{c:?}");
        }
    }

    #[test]
    fn large_documents_parse_in_pieces_with_the_same_result() {
        let one = include_str!("../../tests/fixtures/powershell/maintenance.ps1");
        let src = one.repeat(12);
        let whole = super::super::parse(&src, PS);
        let mut pieces = Parsed::default();
        let base = OffsetMap::starting_at(0);
        parse_in_chunks(&src, &base, None, &mut pieces, 0, 1000, 4000);
        assert!(chunks(&src, 4000).len() > 3);
        pieces.commands.sort_by_key(|c| c.name_span.start);
        pieces.code.sort_by_key(|r| r.span.start);
        assert_eq!(whole.commands, pieces.commands);
        // Regions may break at a cut; the code they cover is the same.
        let covered = |p: &Parsed| {
            let mut bytes = vec![None; src.len()];
            for r in &p.code {
                for (i, b) in src.as_bytes()[r.span.clone()].iter().enumerate() {
                    if !b.is_ascii_whitespace() {
                        bytes[r.span.start + i] = Some((r.language, r.host.clone()));
                    }
                }
            }
            bytes
        };
        assert!(covered(&whole) == covered(&pieces));
        assert!(pieces.code.len() <= whole.code.len() + chunks(&src, 4000).len());
        assert!(whole.commands.len() >= 12 * parse(one).commands.len());
    }

    #[test]
    fn continuation_lines_are_one_command() {
        let src = "Get-WmiObject win32_os `\n  -ComputerName x `\r\n  -Credential $c\nGet-Next";
        let p = super::super::parse(src, PS);
        let g = find(&p, "Get-WmiObject");
        assert_eq!(
            g.text,
            "Get-WmiObject win32_os     -ComputerName x      -Credential $c"
        );
        assert_eq!(g.args().split_whitespace().count(), 5);
        assert_eq!(names(src), ["Get-WmiObject", "Get-Next"]);
    }

    #[test]
    fn crlf_gives_the_same_commands() {
        let lf = "Get-A | Get-B\n$x = @\"\nhi $(Get-C)\n\"@\nif ($y) {\n  Get-D `\n   -x\n}\n";
        let crlf = lf.replace('\n', "\r\n");
        let a = super::super::parse(lf, PS);
        let b = super::super::parse(&crlf, PS);
        let texts = |p: &Parsed| {
            p.commands
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.text.split_whitespace().collect::<Vec<_>>().join(" "),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&a), texts(&b));
        assert_eq!(texts(&a).len(), 4);
    }

    #[test]
    fn long_blocks_are_left_out_of_the_enclosing_text() {
        let src = "ForEach-Object -Parallel {\n  Get-A\n  Get-B\n} -ThrottleLimit 4";
        let p = super::super::parse(src, PS);
        let f = find(&p, "ForEach-Object");
        assert_eq!(f.text, "ForEach-Object -Parallel {} -ThrottleLimit 4");
        let t = f.text.find("-Thr").unwrap();
        assert_eq!(f.map.to_source(t), src.find("-Thr").unwrap());
        assert_eq!(names(src), ["ForEach-Object", "Get-A", "Get-B"]);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let n = 5000;
        let src = format!(
            "{}Get-Deep{}",
            "ForEach-Object { ".repeat(n),
            " }".repeat(n)
        );
        let p = super::super::parse(&src, PS);
        assert!(p.commands.iter().any(|c| c.name == "Get-Deep"));
        let src = format!("{}Get-Deep{}", "(".repeat(n), ")".repeat(n));
        let _ = super::super::parse(&src, PS);
        let src = format!("{}Get-Deep{}", "$(".repeat(n), ")".repeat(n));
        let _ = super::super::parse(&src, PS);
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "",
            "\"",
            "'",
            "@\"",
            "@'\n",
            "& ",
            "iex",
            "iex '",
            "Invoke-Command -ComputerName",
            "powershell -enc ###",
            "powershell -enc",
            "psexec \\\\",
            "}}}{{{ ((( $( @{ ",
            "\u{feff}Get-A é ü \u{0}",
            "cmd /c \"",
            "`",
            "a ?? ",
            "<# unterminated",
            "iex @'\né",
            "iex @\"\n`é\"@",
            "& 'é",
            "Start-Process é -ArgumentList 'ü",
        ] {
            assert_spans_valid(src, &super::super::parse(src, PS));
        }
        let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let junk = String::from_utf8_lossy(&bytes);
        assert_spans_valid(&junk, &super::super::parse(&junk, PS));
    }

    #[test]
    fn decodes_encoded_command() {
        assert_eq!(decode_utf16_base64("ZQBjAGgAbwA=").as_deref(), Some("echo"));
        assert_eq!(decode_utf16_base64("not base64!"), None);
    }

    /// CPU time of this thread (wall time is meaningless on a shared machine).
    fn cpu() -> std::time::Duration {
        let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        std::time::Duration::from_nanos(ns)
    }

    /// `cargo test --release --lib script::powershell::tests::speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn speed() {
        let block = "# report users\n$users = Get-LocalUser | Where-Object { $_.Enabled -and $_.Name -like \"adm*\" }\nforeach ($u in $users) {\n    Write-Host \"User: $($u.Name) last $(Get-Date -Format o)\"\n    if ($u.PasswordExpires -lt (Get-Date)) { Set-LocalUser -Name $u.Name -PasswordNeverExpires $true }\n}\nInvoke-Command -ComputerName SRV01 -ScriptBlock { Get-Service -Name spooler | Restart-Service }\n$r = Invoke-WebRequest -Uri 'https://example.com/api' -UseBasicParsing\niex 'Get-Process | Sort-Object CPU -Descending | Select-Object -First 5'\n";
        let lines = block.lines().count();
        let mine = block.repeat(10_000 / lines + 1);
        let bench = crate::synthetic::powershell_script(10_000, 10_000, 3);
        let _ = parse("warm up");
        for (what, src) in [("realistic", &mine), ("benchmark", &bench)] {
            let mut best = (std::time::Duration::MAX, std::time::Duration::MAX);
            let mut p = Parsed::default();
            for _ in 0..3 {
                let t = cpu();
                let tree = parse_tree(src, None);
                let ts = cpu() - t;
                drop(tree);
                let t = cpu();
                p = parse(src);
                let all = cpu() - t;
                best = (best.0.min(ts), best.1.min(all));
            }
            println!(
                "{what}: {} lines, {} bytes: tree-sitter {:?}, parse+extract {:?} (CPU time, best of 3), {} commands, {} regions",
                src.lines().count(),
                src.len(),
                best.0,
                best.1,
                p.commands.len(),
                p.code.len()
            );
            assert!(p.commands.len() > 10_000);
        }
    }

    #[test]
    fn random_token_soup_never_panics() {
        let tokens = [
            "iex ",
            "$sb = ",
            "Invoke-Command -cn h -ScriptBlock $sb ",
            "icm @p ",
            "$p = @{ cn = 'x'; ScriptBlock = ",
            "[scriptblock]::Create(",
            "'",
            "''",
            "\"",
            "`",
            "`\n",
            "\n",
            "\r\n",
            "$(",
            ")",
            "(",
            "{",
            "}",
            "@'\n",
            "\n'@",
            "@\"\n",
            "\n\"@",
            "&",
            "&&",
            "|",
            ";",
            "#",
            "<#",
            "#>",
            "Invoke-Command -cn h ",
            "Enter-PSSession h\n",
            "cmd /c ",
            "powershell -enc ZQBjAGgAbwA= ",
            "pwsh -c ",
            "psexec \\\\h ",
            "Start-Process x ",
            "Get-X ",
            "é",
            " ",
            "??",
            " ? ",
            " : ",
            "ForEach-Object -Parallel ",
            "$s = New-PSSession h\n",
            "Get-Local`User ",
            "`",
            "i`e`x ",
            "& G`et-X",
            "& ",
        ];
        crate::script::assert_token_soup_is_safe(&tokens, PS);
    }

    #[test]
    fn realistic_script() {
        let src = include_str!("../../tests/fixtures/powershell/maintenance.ps1");
        for src in [src.to_string(), src.replace('\n', "\r\n")] {
            let parsed = super::super::parse(&src, PS);
            assert_spans_valid(&src, &parsed);
            let got: Vec<(&str, Option<&str>, Language)> = parsed
                .commands
                .iter()
                .map(|c| (c.name.as_str(), c.host.as_deref(), c.language))
                .collect();
            const BAT: Language = Language::Batch;
            let (old, files) = (Some("OLDSRV"), Some("FILESRV"));
            let want: Vec<(&str, Option<&str>, Language)> = vec![
                ("Set-StrictMode", None, PS),
                ("Add-Content", None, PS),
                ("Get-Date", None, PS),
                ("Get-LocalUser", None, PS),
                ("Where-Object", None, PS),
                ("Select-Object", None, PS),
                ("Get-WmiObject", None, PS),
                ("Write-Host", None, PS),
                ("Write-Host", None, PS),
                ("Invoke-Command", None, PS),
                ("Get-LocalGroupMember", old, PS),
                ("wmic", old, PS),
                ("New-PSSession", None, PS),
                ("Invoke-Command", None, PS),
                ("Get-SmbShare", files, PS),
                ("Remove-PSSession", None, PS),
                ("whoami", None, PS),
                ("Invoke-Expression", None, PS),
                ("Get-Service", None, PS),
                ("Restart-Service", None, PS),
                ("Invoke-RestMethod", None, PS),
                ("ConvertTo-Json", None, PS),
                ("ForEach-Object", None, PS),
                ("Test-Connection", None, PS),
                ("git", None, PS),
                ("Write-Log", None, PS),
                ("Write-Log", None, PS),
                ("backup", None, PS),
                ("cmd", None, PS),
                ("net", None, BAT),
                ("psexec", None, PS),
                ("cmd", old, BAT),
                ("sc", old, BAT),
                ("Enter-PSSession", None, PS),
                ("Get-WindowsFeature", old, PS),
                ("Exit-PSSession", old, PS),
                ("Get-Command", None, PS),
            ];
            assert_eq!(got, want);
            let irm = find(&parsed, "Invoke-RestMethod");
            assert_eq!(
                irm.text.split_whitespace().collect::<Vec<_>>().join(" "),
                "Invoke-RestMethod -Uri 'https://inventory.example/api' -Method Post -Body ($users | ConvertTo-Json) -ContentType 'application/json'"
            );
            let code: String = parsed.code.iter().map(|r| &src[r.span.clone()]).collect();
            assert!(code.contains("[Net.ServicePointManager]"));
            assert!(code.contains("-Parallel"));
            assert!(code.contains("&&"));
            assert!(code.contains("??"));
            assert!(!code.contains("documentation"));
            assert!(!code.contains("Generated by"));
        }
    }

    #[test]
    fn requires_lines_name_the_lowest_powershell_as_powershell_reads_them() {
        let min = |src: &str| requires(src).min();
        assert_eq!(min("#Requires -Version 5.1\nGet-X\n"), Some((5, 1)));
        assert_eq!(min("#requires -version 3\n"), Some((3, 0)));
        assert_eq!(
            min("#REQUIRES -Ver 4.0 -RunAsAdministrator\n"),
            Some((4, 0))
        );
        assert_eq!(min("#Requires -Version 5.1.0\r\n"), Some((5, 1)));
        assert_eq!(min("#Requires -Version:'4.0'\n"), Some((4, 0)));
        assert_eq!(min("#Requires -PSEdition Core\n"), Some((6, 0)));
        assert_eq!(min("#Requires -PSEdition Desktop\n"), None);
        assert_eq!(
            min("#Requires -PSEdition Core -Version 7.2\n"),
            Some((7, 2))
        );
        // Several lines: the highest holds.
        assert_eq!(
            min("#Requires -Version 3\nx\n  #Requires -Version 5.1\n"),
            Some((5, 1))
        );
        // The snap-in's version, other parameters, and what is no `#Requires` line.
        for src in [
            "#Requires -PSSnapin Foo -Version 1.2\n",
            "#Requires -Modules Az\n",
            "# Requires -Version 7\n",
            "#requires-version 7\n",
            "Write-Host x #Requires -Version 7\n",
            "#Requires -Version seven\n",
            "<#\n#Requires -Version 7\n#>\n",
            "<# a\n  #Requires -Version 7 #>\n",
            "$h = @'\n#Requires -Version 7\n'@\n",
            "$h = @\"\n#Requires -Version 7\n\"@\n",
        ] {
            assert_eq!(min(src), None, "{src:?}");
        }
        // After a closed block comment or here-string, and indented in a function, it counts.
        assert_eq!(min("<# x #>\n#Requires -Version 4\n"), Some((4, 0)));
        assert_eq!(min("$h = @'\nx\n'@\n#Requires -Version 4\n"), Some((4, 0)));
        assert_eq!(min(REQUIRES), Some((5, 1)));
        let r = requires(REQUIRES);
        assert_eq!(r.lines.len(), 1);
        assert_eq!(
            &REQUIRES[r.lines[0].0.clone()],
            "#requires -Version 5.1 -RunAsAdministrator"
        );
        // A piece of the document holds its own lines, from its start.
        let at = r.lines[0].0.start;
        assert_eq!(r.within(&(at - 4..REQUIRES.len())).lines[0].0.start, 4);
        assert!(r.within(&(0..at)).lines.is_empty());
    }

    #[test]
    fn requires_sets_the_lowest_powershell_of_the_scripts_own_code() {
        let parsed = parse(REQUIRES);
        type Seen<'a> = Vec<(Option<&'a str>, Option<(u32, u32)>)>;
        let of = |name: &str| -> Seen<'_> {
            parsed
                .commands
                .iter()
                .filter(|c| c.name == name)
                .map(|c| (c.host.as_deref(), c.min_powershell))
                .collect()
        };
        let v51 = Some((5, 1));
        // Local code, before the line too and through Invoke-Expression; not the remote block,
        // nor the code another PowerShell runs (`powershell -Command`).
        assert_eq!(
            of("Get-LocalUser"),
            [(None, v51), (Some("OLD1"), None), (None, None), (None, v51)]
        );
        assert_eq!(of("Invoke-WebRequest"), [(None, v51)]);
        let region = |needle: &str| {
            let at = REQUIRES.find(needle).unwrap();
            let r = parsed.code.iter().find(|r| r.span.contains(&at)).unwrap();
            (r.host.as_deref(), r.min_powershell)
        };
        assert_eq!(region("[pscustomobject]@{ a"), (None, v51));
        assert_eq!(region("?? 'b'"), (None, v51));
        assert_eq!(region("[pscustomobject]@{}"), (Some("OLD1"), None));
        assert_eq!(region("[pscustomobject]@{}'"), (None, v51));
        // A block kept and sent elsewhere leaves the script's PowerShell behind.
        let kept = "#Requires -Version 7\n$sb = { $a ?? 1; Get-X }\n\
                    Invoke-Command -ComputerName OLD1 -ScriptBlock $sb\n";
        let p = parse(kept);
        assert!(p.code.iter().any(|r| r.host.as_deref() == Some("OLD1")));
        for r in p.code.iter().filter(|r| r.host.is_some()) {
            assert_eq!(r.min_powershell, None, "{r:?}");
        }
        for c in p.commands.iter().filter(|c| c.name == "Get-X") {
            assert_eq!(c.min_powershell, None, "{c:?}");
        }
        // `#Requires -Version 7`: read as `pwsh` reads it (curl is curl.exe there).
        let p = parse("curl https://x\n#Requires -Version 7\n");
        assert!(
            p.commands.iter().any(|c| c.name == "curl"),
            "{:?}",
            p.commands
        );
        assert!(!p.commands.iter().any(|c| c.name == "Invoke-WebRequest"));
    }
}
