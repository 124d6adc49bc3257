//! Commands and code regions of bash and POSIX shell scripts, found with tree-sitter-bash.
//!
//! The syntax tree is walked once with a `TreeCursor` (no recursion on the tree, so a script
//! nested ten thousand subshells deep cannot overflow the stack). Every `command` node is a
//! simple command; its words are resolved through wrappers (`sudo -u root`, `env -i A=1`,
//! `timeout -s KILL 5`, `xargs -I{}`, `find … -exec … \;`, `runuser -u USER --`, `nsenter -t 1
//! -m --`, `strace -f`, …), so both the wrapper and the
//! command it runs are reported, each with its text ending where the simple command ends.
//! `watch`, `parallel` (the template before `:::`), `flock FILE CMD`/`-c '…'`, `setsid`,
//! `chroot DIR CMD`, `systemd-run [options] CMD` (not with `-H`/`-M`, another machine),
//! `screen -dmS NAME CMD`, `tmux new-session`/`new-window`/`split-window` (one argument is shell
//! code, several are the command), `docker`/`podman exec CONTAINER CMD`, `docker compose exec
//! SERVICE CMD` and `kubectl exec POD -- CMD` are wrappers too; a command inside a container
//! runs on the container, named as a host
//! (`store host add web --tag alpine` tells forewarn what it runs; unknown, it is checked as
//! untargeted), like `ssh`. Strings that another program executes (`bash -c`, `ssh HOST '…'`,
//! `eval`, `trap`, `pwsh -Command`, `cmd /c`, `watch '…'`, `tmux run-shell`/`if-shell`/`-c`,
//! what `tmux send-keys` types before `Enter`, heredocs and here-strings fed to a shell or to
//! `at`/`batch`, and what `echo`, `printf '%s\n'` or `cat <<EOF` pipe into a shell reading its
//! stdin, also through `tee` and `cat`, or write into a process substitution a shell reads as
//! its script or stdin: `sh <(echo '…')`, `bash < <(…)`, `source <(…)`) are handed to
//! [`super::parse_embedded`] with an [`OffsetMap`] back to the document — also when the string
//! is written in several quoted pieces (`bash -c 'a'"b"`) — and `ssh` moves what it runs to
//! the remote host. Code regions are the document minus comments, single-quoted strings, the
//! literal text of double-quoted strings and heredoc bodies.
//!
//! A command is `guarded` when an enclosing condition looked its own name up: the right side of
//! `LOOKUP && …` (or `! LOOKUP || …`), the `then` of `if LOOKUP`, the `else` (and later `elif`s)
//! of `if ! LOOKUP`, where LOOKUP is `command -v/-V X`, `type X`, `hash X`, `which X`, or a test
//! `[ -x "$(command -v X)" ]`, `[ -n "$(which X)" ]`, `[ -x /path/X ]`, possibly redirected and
//! joined with `&&`. Only X is guarded, and only on this machine: also in the shell code run here
//! (`bash -c 'X'`, a heredoc piped into `sh`), not on another host or in a container (`ssh`,
//! `docker exec`). A top-level `LOOKUP || exit 1` (or `|| { …; exit 1; }`, `if ! LOOKUP; then
//! …; exit 1; fi`) guards X on every later line ([`super::os::Ending`]).
//!
//! A command name is what the shell runs after quote removal (`fre''e`, `"free"`, `\free`,
//! `$'free'`, `$'fr\x65e'`, `fr$'ee'` and `fr\` newline `ee` run `free`). tree-sitter-bash reads a line that starts with
//! an escaped name (`\nproc`) as one more word of the command on the line before; the walk
//! splits it off again.
//!
//! Known gaps: `$"…"` is not read (as a name or an executed string); only `echo`,
//! `printf` and `cat` produce piped code (alone or in a `{ …; }`/`( … )` group), through `cat`
//! and `tee` stages (not files);
//! `parallel -S` keeps the current host, and so do `podman exec --latest` and an ssh destination
//! that is a variable (but no guard holds there); `docker compose run` is not followed;
//! tree-sitter-bash ends a heredoc at the first line that *starts* with its delimiter (`EOFX`
//! ends `<<EOF`); it reads an unquoted delimiter up to the next blank and drops what follows
//! `;` on a heredoc's line (tree-sitter-bash issue #346), which `patch_heredocs` works around
//! (not for a one-letter delimiter glued to `|` or to a `;` with more after it, `cat<<E|sh`,
//! nor for a line with `&&` or `||` after a second `;`, a `|` or `&` before the `;`, or no
//! blank after a `;`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

use tree_sitter::{Node, Parser, Tree, TreeCursor};

use super::os::{
    glob_regex, may_end_script, probe_variables, variable_read, Ending, OsSplit, Passed, Probe,
    ProbeVars,
};
use super::{
    command_name, make_command, parse_embedded, CodeRegion, Language, OffsetMap, OsSet, Parsed,
};

/// The commands and code regions of a whole bash document.
pub fn parse(src: &str) -> Parsed {
    let mut out = Parsed::default();
    parse_into(src, &OffsetMap::starting_at(0), None, &mut out, 0);
    out
}

/// A same-length rewrite of `src` that tree-sitter-bash reads as bash does, or `None` when none
/// is needed. The tree is only used for its shape: text is read from the original.
///
/// - The grammar reads an unquoted heredoc delimiter up to the next blank, so in `cat <<EOF>f`
///   (or `<<EOF|sh`, `<<EOF;`) the delimiter never ends and the rest of the file is lost in the
///   heredoc. The blank before `<<` is moved after the delimiter (`cat<<EOF >f`), which means
///   the same; with no blank to move (`cat<<EOF>f`), the delimiter loses its last byte to a
///   blank, on its line and on the line that ends the body (`cat<<EO >f` … `EO `), where no
///   line of the body starts with the shorter one; else (`cat<<E>f`) the glued redirects are
///   blanked (`cat<<E  `), and a pipe after them is `&&`.
/// - It drops what follows `;` on a heredoc's line (tree-sitter-bash issue #346), but reads
///   `&&` there: `cat <<EOF; echo done` is read as `cat <<EOF &&echo done`, which runs the same
///   commands (the `&&` stays inside the heredoc redirect, where no guard is taken from it). A
///   further `; ` is `&&` too (`cat <<EOF &&a&&b`, no guard taken from an `&&` that is `;` in
///   the text), a `;` ending the line a blank. Only where plain words and redirects come
///   before the first `;`, and no `&&`/`||` joins a line with a second. A redirect
///   before a pipe fails the same way: one of stderr is blanked (`cat <<EOF      | sh`: stdout
///   still goes down the pipe), one of stdout makes the pipe `&&` (`>f &&sh`: the next stage
///   reads nothing from the heredoc either way).
pub(crate) fn patch_heredocs(src: &str) -> Option<String> {
    let b = src.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut from = 0;
    while let Some(at) = src.get(from..).and_then(|t| t.find("<<")).map(|i| from + i) {
        from = at + 2;
        if at == 0 || b.get(at + 2) == Some(&b'<') || (at > 1 && b[at - 2] == b'<') {
            continue;
        }
        let mut end = at + 2;
        let dash = b.get(end) == Some(&b'-');
        if dash {
            end += 1;
        }
        // `<< EOF>f`: the blank between moves instead.
        let mut blank = at - 1;
        if matches!(b.get(end), Some(b' ' | b'\t')) {
            blank = end;
            end += 1;
        }
        let word = end;
        if let Some(&q @ (b'\'' | b'"')) = b.get(word) {
            // A quoted delimiter ends at its quote.
            let close = b[word + 1..].iter().position(|&c| c == q || c == b'\n');
            if let Some(close) = close.filter(|&c| b[word + 1 + c] == q) {
                end = word + close + 2;
                after_delimiter(b, &mut out, end);
                from = end;
            }
            continue;
        }
        while b
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            end += 1;
        }
        if end == word {
            continue;
        }
        let glued = matches!(b.get(end), Some(b'>' | b'|' | b';' | b'&' | b'<' | b')'));
        // A blank before `<<` moves only where the word it ends stays a word of its own: not
        // after a backslash (`\ <<EOF` escapes it) nor after digits (`5<<EOF` is a descriptor).
        let movable =
            blank > at || (blank > 0 && !b[blank - 1].is_ascii_digit() && b[blank - 1] != b'\\');
        if glued {
            if movable && matches!(b[blank], b' ' | b'\t') {
                let patched = out.get_or_insert_with(|| b.to_vec());
                patched[blank..end].rotate_left(1);
            } else {
                let patched = shorten_delimiter(b, &mut out, at, word..end, dash)
                    || (plausibly_heredoc(b, at, end) && blank_glued_redirects(b, &mut out, end));
                if !patched {
                    continue;
                }
            }
        }
        after_delimiter(b, &mut out, end);
        from = end;
    }
    // Only ASCII bytes changed, so the text is still UTF-8.
    out.and_then(|v| String::from_utf8(v).ok())
}

/// The start and end (past its newline, or the text's end) of the line around `at`.
fn line_around(b: &[u8], at: usize) -> (usize, usize) {
    let start = b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let end = b[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |i| at + i + 1);
    (start, end)
}

/// Whether the `<<` at `at`, its delimiter ending at `end`, is plausibly a heredoc in code: no
/// comment or open quote before it on its line, no `((` (`$((y<<x))` is a shift), not after
/// `\ ` (the grammar reads `\ <<` as one word), its line not continued.
fn plausibly_heredoc(b: &[u8], at: usize, end: usize) -> bool {
    let (line_start, line_end) = line_around(b, at);
    let before = &b[line_start..at];
    let after = &b[end.min(line_end)..line_end];
    let count = |t: &[u8], c: u8| t.iter().filter(|&&x| x == c).count();
    let comment = before
        .iter()
        .enumerate()
        .any(|(i, &c)| c == b'#' && (i == 0 || matches!(before[i - 1], b' ' | b'\t')));
    !(comment
        || after.trim_ascii_end().ends_with(b"\\")
        || before.ends_with(b"\\ ")
        || before.ends_with(b"\\\t")
        || before.windows(2).any(|w| w == b"((")
        || count(before, b'\'') % 2 == 1
        || count(before, b'"') % 2 == 1)
}

/// `cat<<EOF>f`: gives the delimiter's last byte, here and on the body's last line, to a blank
/// (see [`patch_heredocs`]). Only where the `<<` is plausibly code (no comment or open quote
/// before it on its line), the only heredoc of its line, and no line of the body starts with
/// the shorter delimiter or holds a `<<` of its own. Returns whether it patched.
fn shorten_delimiter(
    b: &[u8],
    out: &mut Option<Vec<u8>>,
    at: usize,
    delimiter: Range<usize>,
    dash: bool,
) -> bool {
    let full = &b[delimiter.clone()];
    if full.len() < 2 {
        return false;
    }
    let short = &full[..full.len() - 1];
    let (line_start, line_end) = line_around(b, at);
    let before = &b[line_start..at];
    let after = &b[delimiter.end..line_end];
    if !plausibly_heredoc(b, at, delimiter.end)
        || before.windows(2).any(|w| w == b"<<")
        || after.windows(2).any(|w| w == b"<<")
    {
        return false;
    }
    let mut ls = line_end;
    while ls < b.len() {
        let le = b[ls..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |i| ls + i);
        let line = &b[ls..le];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let tabs = if dash {
            line.iter().take_while(|&&c| c == b'\t').count()
        } else {
            0
        };
        let trimmed = line.trim_ascii_start();
        if trimmed.starts_with(short) {
            if &line[tabs..] != full {
                return false;
            }
            let patched = out.get_or_insert_with(|| b.to_vec());
            patched[delimiter.end - 1] = b' ';
            patched[ls + tabs + full.len() - 1] = b' ';
            return true;
        }
        if line.windows(2).any(|w| w == b"<<") {
            return false;
        }
        ls = le + 1;
    }
    false
}

/// The end of the redirects glued to a heredoc's delimiter that ends at `at` (`cat<<E>f`,
/// `cat<<E>>f>&2`, `cat<<E&>/dev/null`), when they are followed by a blank, `;`, `|` or the
/// line's end. Each sends stdout elsewhere: a descriptor's digits would end the word before.
pub(crate) fn glued_redirects_end(b: &[u8], at: usize) -> Option<usize> {
    let plain = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-' | b'+');
    let mut i = at;
    loop {
        let both = b.get(i) == Some(&b'&');
        if b.get(i + usize::from(both)) != Some(&b'>') {
            break;
        }
        i += 1 + usize::from(both);
        if matches!(b.get(i), Some(b'>' | b'|')) && !both {
            i += 1;
        }
        if b.get(i) == Some(&b'&') && !both {
            i += 1;
            let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            i += digits;
        } else {
            let target = i;
            while b.get(i).copied().is_some_and(plain) {
                i += 1;
            }
            if i == target || b[target] == b'-' {
                return None;
            }
        }
    }
    let ends = matches!(
        b.get(i),
        None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|')
    );
    (i > at && ends).then_some(i)
}

/// `cat<<E>f`: a delimiter too short to lose a byte ([`shorten_delimiter`]) ends at a blank
/// where its glued redirects were, which only say where the output goes (the walk still ends
/// the command's text after them, [`glued_redirects_end`]; [`after_delimiter`] reads the
/// original). Before a pipe the redirects make it `&&` (`cat<<E &&sh`: the next stage reads
/// nothing of the heredoc). A `;` or `&` glued at the line's end goes the same way. Returns
/// whether it patched.
fn blank_glued_redirects(b: &[u8], out: &mut Option<Vec<u8>>, at: usize) -> bool {
    if matches!(b.get(at), Some(b';' | b'&'))
        && b[at + 1..]
            .iter()
            .take_while(|&&c| c != b'\n')
            .all(u8::is_ascii_whitespace)
    {
        out.get_or_insert_with(|| b.to_vec())[at] = b' ';
        return true;
    }
    let Some(end) = glued_redirects_end(b, at) else {
        return false;
    };
    let piped = b.get(end) == Some(&b'|') && !matches!(b.get(end + 1), Some(b'|' | b'&'));
    let patched = out.get_or_insert_with(|| b.to_vec());
    patched[at..end].fill(b' ');
    if piped {
        // At least `>` and a target before the pipe: room for a blank and `&&`.
        patched[end - 1..end + 1].copy_from_slice(b"&&");
    }
    true
}

/// What follows a heredoc's delimiter on its line (see [`patch_heredocs`]), `end` being where
/// the delimiter ends: `cat <<EOF; echo done` → `cat <<EOF &&echo done`; before a pipe,
/// `cat <<EOF 2>&1 | sh` → `cat <<EOF      | sh` (stderr redirects blanked: stdout still goes
/// down the pipe) and `cat <<EOF >f | sh` → `cat <<EOF >f &&sh` (stdout goes to the file: the
/// next stage reads none of it).
fn after_delimiter(b: &[u8], out: &mut Option<Vec<u8>>, end: usize) {
    let (_, line_end) = line_around(b, end.min(b.len().saturating_sub(1)));
    let line = &b[..line_end];
    let plain = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-' | b'+');
    let mut i = end;
    // Redirects not of stdout (`2>&1`, `2>/dev/null`), and whether one of stdout was seen.
    let mut others: Vec<Range<usize>> = Vec::new();
    let mut stdout = false;
    // Plain words and redirects up to the `;` or `|`.
    let op = loop {
        match line.get(i) {
            None | Some(b'\n') => return,
            Some(b';' | b'|') => break i,
            Some(b' ' | b'\t' | b'\r') => i += 1,
            Some(&q @ (b'\'' | b'"')) => {
                let Some(close) = line[i + 1..].iter().position(|&c| c == q) else {
                    return;
                };
                if line[i + 1..i + 1 + close]
                    .iter()
                    .any(|&c| matches!(c, b'$' | b'`' | b'\\' | b'\n'))
                {
                    return;
                }
                i += close + 2;
            }
            Some(&c) if c == b'>' || c == b'&' || c.is_ascii_digit() => {
                let start = i;
                let digits = line[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let both = c == b'&';
                i += digits + usize::from(both);
                if line.get(i) != Some(&b'>') {
                    // A word starting with digits (`cat <<EOF 5`), or a lone `&`.
                    if both {
                        return;
                    }
                    while line.get(i).copied().is_some_and(plain) {
                        i += 1;
                    }
                    continue;
                }
                i += 1;
                if matches!(line.get(i), Some(b'>' | b'|')) {
                    i += 1;
                }
                if line.get(i) == Some(&b'&') {
                    i += 1;
                } else {
                    while matches!(line.get(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                }
                let target = i;
                while line.get(i).copied().is_some_and(plain) {
                    i += 1;
                }
                if i == target {
                    return;
                }
                let fd = &line[start..start + digits];
                if both || fd.is_empty() || fd == b"1" {
                    stdout = true;
                } else {
                    others.push(start..i);
                }
            }
            Some(&c) if plain(c) => i += 1,
            Some(_) => return,
        }
    };
    let pipe = line[op] == b'|';
    if matches!(line.get(op + 1), Some(b'|' | b'&')) || (pipe && others.is_empty() && !stdout) {
        return;
    }
    if pipe && !stdout {
        let patched = out.get_or_insert_with(|| b.to_vec());
        for r in others {
            patched[r].fill(b' ');
        }
        return;
    }
    if !matches!(line.get(op + 1), Some(b' ' | b'\t')) {
        return;
    }
    let rest = &line[op + 2..];
    let lone_amp = rest.iter().enumerate().any(|(k, &c)| {
        c == b'&'
            && !(rest.get(k + 1) == Some(&b'&')
                || (k > 0 && matches!(rest[k - 1], b'&' | b'>'))
                || rest.get(k + 1) == Some(&b'>'))
    });
    if lone_amp || rest.windows(2).any(|w| w == b"<<") || rest.trim_ascii_end().ends_with(b"\\") {
        return;
    }
    // `cat <<EOF; echo a; echo b`: each further `; ` is read as `&&` too (the walk takes no
    // guard from an `&&` that is `; ` in the text), a `;` ending the line as a blank. Where the
    // line also holds a real `&&` or `||`, the two would group differently: left alone.
    let rest_at = op + 2;
    let mut semis = Vec::new();
    for (k, &c) in rest.iter().enumerate() {
        if c != b';' {
            continue;
        }
        let tail = rest[k + 1..].trim_ascii();
        match rest.get(k + 1) {
            Some(b' ' | b'\t') if !tail.is_empty() => semis.push((rest_at + k, false)),
            _ if tail.is_empty() => semis.push((rest_at + k, true)),
            _ => return,
        }
    }
    if !semis.is_empty() && rest.windows(2).any(|w| w == b"&&" || w == b"||") {
        return;
    }
    let patched = out.get_or_insert_with(|| b.to_vec());
    patched[op] = b'&';
    patched[op + 1] = b'&';
    for (at, last) in semis {
        match last {
            true => patched[at] = b' ',
            false => patched[at..at + 2].copy_from_slice(b"&&"),
        }
    }
}

/// See [`super::parse_embedded`].
pub(crate) fn parse_into(
    src: &str,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
) {
    let Some(tree) = parse_tree(src) else {
        return;
    };
    let probe_vars = OnceLock::new();
    let doc = Document {
        probe_vars: &probe_vars,
        endings: None,
    };
    walk_tree(&tree, src, base, host, out, depth, Vec::new(), doc);
}

/// What the parses of one document share: the variables set to an OS probe (read from its
/// whole text once, [`probe_variables`]) and, for a parse of some of its statements, the
/// checks that end the script found in all of them ([`endings_in_ranges`]).
#[derive(Clone, Copy)]
pub(crate) struct Document<'d> {
    pub(crate) probe_vars: &'d OnceLock<ProbeVars>,
    /// `None`: read from the tree parsed, which holds the whole document.
    pub(crate) endings: Option<&'d [Ending]>,
}

/// The checks that end the script ([`Ending`]) among the top-level statements of `ranges` of
/// the document `src` (`text` as in [`parse_ranges_into`]); `None` when the tree does not
/// confirm the ranges.
pub(crate) fn endings_in_ranges(
    src: &str,
    text: &str,
    ranges: &[tree_sitter::Range],
    probe_vars: &OnceLock<ProbeVars>,
) -> Option<Vec<Ending>> {
    let tree = super::parse_ranges(&PARSER, || tree_sitter_bash::LANGUAGE.into(), text, ranges);
    let tree = tree.filter(|t| super::sparse::confirms(t.root_node(), ranges))?;
    let mut out = Parsed::default();
    let base = OffsetMap::starting_at(0);
    let walk = Walk::new(&tree, src, &base, None, &mut out, 0, Vec::new(), probe_vars);
    Some(walk.endings(tree.root_node()))
}

/// The checks that end the script among the top-level statements of the document `src`.
pub fn endings(src: &str) -> Vec<Ending> {
    if !may_end_script(src, Language::Bash) {
        return Vec::new();
    }
    let Some(tree) = parse_tree(src) else {
        return Vec::new();
    };
    let probe_vars = OnceLock::new();
    let mut out = Parsed::default();
    let base = OffsetMap::starting_at(0);
    let walk = Walk::new(
        &tree,
        src,
        &base,
        None,
        &mut out,
        0,
        Vec::new(),
        &probe_vars,
    );
    walk.endings(tree.root_node())
}

/// Parses only `ranges` of the document `src` as one program (see [`super::sparse`]). Adds
/// nothing and returns false unless the tree confirms every range holds whole top-level
/// statements. `text` is `src`, or its [`patch_heredocs`] rewrite, which is what tree-sitter
/// reads. `probe_vars` is shared by the parses of one document: the variables set to an OS probe
/// are read from its whole text once ([`probe_variables`]).
pub(crate) fn parse_ranges_into(
    src: &str,
    text: &str,
    ranges: &[tree_sitter::Range],
    out: &mut Parsed,
    doc: Document<'_>,
) -> bool {
    let tree = super::parse_ranges(&PARSER, || tree_sitter_bash::LANGUAGE.into(), text, ranges);
    let Some(tree) = tree.filter(|t| super::sparse::confirms(t.root_node(), ranges)) else {
        return false;
    };
    // What lies between the ranges was not parsed: it is no code region of this parse.
    let mut gaps = Vec::with_capacity(ranges.len() + 1);
    let mut pos = 0;
    for r in ranges {
        gaps.push(pos..r.start_byte);
        pos = r.end_byte;
    }
    gaps.push(pos..src.len());
    gaps.retain(|g| !g.is_empty());
    let base = OffsetMap::starting_at(0);
    walk_tree(&tree, src, &base, None, out, 0, gaps, doc);
    true
}

#[allow(clippy::too_many_arguments)]
fn walk_tree(
    tree: &Tree,
    src: &str,
    base: &OffsetMap,
    host: Option<&str>,
    out: &mut Parsed,
    depth: u8,
    holes: Vec<Range<usize>>,
    doc: Document<'_>,
) {
    let root = tree.root_node();
    let mut walk = Walk::new(tree, src, base, host, out, depth, holes, doc.probe_vars);
    // A check that ends the script holds for all the document after it; a piece of a document
    // parsed alone is told what the checks before it proved (`os::after_checks`).
    if depth == 0 {
        let mut endings = match doc.endings {
            Some(e) => e.to_vec(),
            None => walk.endings(root),
        };
        if let Some(passed) = super::os::passed() {
            endings.push(Ending { from: 0, ..passed });
        }
        if !endings.is_empty() {
            walk.passed = Passed::new(endings);
        }
    }
    walk.run(root);
    walk.finish();
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn parse_tree(src: &str) -> Option<Tree> {
    let patched = patch_heredocs(src);
    super::with_parser(
        &PARSER,
        || tree_sitter_bash::LANGUAGE.into(),
        |p| p.parse(patched.as_deref().unwrap_or(src), None),
    )
}

/// Whether a command's text may hold a command or data below its words: a substitution
/// (`$(`, `` ` ``, `<(`, `>(`), a quote, any other `(` (the grammar hangs a subshell on a word
/// in `a(]]=b)`) or a `#` (it starts a comment after an operator, `cat <<<#c`).
fn may_nest(text: &str) -> bool {
    text.bytes()
        .any(|c| matches!(c, b'`' | b'\'' | b'"' | b'(' | b'#'))
}

/// Node kind ids, compared as integers on every node of the walk.
struct Kinds {
    command: u16,
    command_name: u16,
    comment: u16,
    raw_string: u16,
    ansi_c_string: u16,
    string: u16,
    string_content: u16,
    word: u16,
    heredoc_body: u16,
    heredoc_content: u16,
    heredoc_redirect: u16,
    heredoc_start: u16,
    herestring_redirect: u16,
    file_redirect: u16,
    redirected_statement: u16,
    compound_statement: u16,
    subshell: u16,
    variable_assignment: u16,
    test_command: u16,
    declaration_command: u16,
    unset_command: u16,
    pipeline: u16,
    concatenation: u16,
    simple_expansion: u16,
    expansion: u16,
    command_substitution: u16,
    if_statement: u16,
    case_statement: u16,
    case_item: u16,
    binary_expression: u16,
    while_statement: u16,
    elif_clause: u16,
    else_clause: u16,
    list: u16,
    negated_command: u16,
    unary_expression: u16,
    parenthesized_expression: u16,
    process_substitution: u16,
}

fn kinds() -> &'static Kinds {
    static KINDS: OnceLock<Kinds> = OnceLock::new();
    KINDS.get_or_init(|| {
        let lang: tree_sitter::Language = tree_sitter_bash::LANGUAGE.into();
        let id = |name: &str| lang.id_for_node_kind(name, true);
        Kinds {
            command: id("command"),
            command_name: id("command_name"),
            comment: id("comment"),
            raw_string: id("raw_string"),
            ansi_c_string: id("ansi_c_string"),
            string: id("string"),
            string_content: id("string_content"),
            word: id("word"),
            heredoc_body: id("heredoc_body"),
            heredoc_content: id("heredoc_content"),
            heredoc_redirect: id("heredoc_redirect"),
            heredoc_start: id("heredoc_start"),
            herestring_redirect: id("herestring_redirect"),
            file_redirect: id("file_redirect"),
            redirected_statement: id("redirected_statement"),
            compound_statement: id("compound_statement"),
            subshell: id("subshell"),
            variable_assignment: id("variable_assignment"),
            test_command: id("test_command"),
            declaration_command: id("declaration_command"),
            unset_command: id("unset_command"),
            pipeline: id("pipeline"),
            concatenation: id("concatenation"),
            simple_expansion: id("simple_expansion"),
            expansion: id("expansion"),
            command_substitution: id("command_substitution"),
            if_statement: id("if_statement"),
            case_statement: id("case_statement"),
            case_item: id("case_item"),
            binary_expression: id("binary_expression"),
            while_statement: id("while_statement"),
            elif_clause: id("elif_clause"),
            else_clause: id("else_clause"),
            list: id("list"),
            negated_command: id("negated_command"),
            unary_expression: id("unary_expression"),
            parenthesized_expression: id("parenthesized_expression"),
            process_substitution: id("process_substitution"),
        }
    })
}

/// One word of a simple command (its name or an argument).
#[derive(Clone, Copy)]
struct Word<'t> {
    node: Node<'t>,
    start: usize,
    end: usize,
}

impl<'t> Word<'t> {
    fn of(node: Node<'t>) -> Word<'t> {
        Word {
            node,
            start: node.start_byte(),
            end: node.end_byte(),
        }
    }
}

/// The redirects of a `redirected_statement`, kept until the walk reaches its command.
struct Redirects<'t> {
    body: Range<usize>,
    /// Where the command's text ends: after its file redirects and heredoc delimiters.
    end: usize,
    /// The last heredoc body or here-string word: what the command reads on stdin.
    stdin: Option<Node<'t>>,
}

/// A stretch of words to resolve as one command (a whole simple command, or `find -exec …`).
struct Job<'t> {
    from: usize,
    to: usize,
    end: usize,
    host: Option<String>,
    stdin: Option<Node<'t>>,
}

struct Walk<'a, 't> {
    src: &'a str,
    base: &'a OffsetMap,
    host: Option<&'a str>,
    out: &'a mut Parsed,
    depth: u8,
    k: &'static Kinds,
    /// A second cursor for looking at a node's children without disturbing the walk.
    aux: TreeCursor<'t>,
    /// Reused for every command, so collecting words does not allocate.
    words: Vec<Word<'t>>,
    /// Spans that are not code: comments, quoted literal text, heredoc text.
    holes: Vec<Range<usize>>,
    /// Redirected statements entered whose command the walk has not reached yet: nested ones
    /// (`A >/dev/null && sh <<EOF`: the heredoc belongs to the list, and so to `sh`).
    pending: Vec<Redirects<'t>>,
    /// Stretches of this text where a command name was looked up first (`command -v X && …`,
    /// the `then` of `if command -v X`): the range and the name.
    guards: Vec<(Range<usize>, String)>,
    /// Stretches of this text that run only on some OS families (`if [ "$(uname)" = Darwin ]`,
    /// `case $OSTYPE in linux*)`): the range and the families.
    os_guards: Vec<(Range<usize>, OsSet)>,
    /// Where the name of the last command reported starts: the command whose arguments an
    /// executed string or heredoc comes from.
    at: usize,
    /// The command being resolved runs in a container or on another host even when its name
    /// is not known (`podman exec --latest`, `ssh "$host"`): no lookup made here holds there.
    elsewhere: bool,
    /// The tree has no error: a plain command's words are not visited one by one.
    clean: bool,
    /// The body of the last redirected statement entered, and where that statement ends:
    /// asking a node for its parent walks down from the root, which a long `&&` chain (as deep
    /// as it is long) made quadratic.
    redirected_body: Option<(usize, usize)>,
    /// The proofs of the lists met, by node id: a chain `a && b && … && z` nests lists down its
    /// left side, and the walk asks for each one's left side in turn.
    list_proofs: RefCell<rustc_hash::FxHashMap<usize, Proof>>,
    /// Variables the text sets to an OS probe, read on first use ([`probe_variables`]) and
    /// shared by the parses of one document.
    probe_vars: &'a OnceLock<ProbeVars>,
    /// What the checks that end the script prove for the code after each ([`Ending`]).
    passed: Passed,
}

/// Every command name through which the walk may read a quoted string, a heredoc or its
/// input as code: the shells, `ssh`, `eval`, `trap`, and the wrappers (a wrapper's quoted
/// argument may be the command, `sudo 'apt-get' …`). Text quoted in a statement that names
/// none of these is data, which lets a large file go unparsed there ([`super::sparse`]);
/// `runs_code_names_every_command_the_walk_runs_code_through` keeps this list complete.
pub(crate) const RUNS_CODE: &[&str] = &[
    "ash",
    "at",
    "bash",
    "batch",
    "builtin",
    "busybox",
    "chroot",
    "chrt",
    "cmd",
    "cmd.exe",
    "command",
    "dash",
    "doas",
    "docker",
    "docker-compose",
    "env",
    "eval",
    "exec",
    "find",
    "flock",
    "ionice",
    "ksh",
    "kubectl",
    "mksh",
    "nice",
    "nohup",
    "oc",
    "parallel",
    "podman",
    "podman-compose",
    "powershell",
    "powershell.exe",
    "pwsh",
    "pwsh.exe",
    "rbash",
    "runuser",
    "screen",
    "setsid",
    "sh",
    "source",
    "ssh",
    "stdbuf",
    // `. /dev/stdin <<EOF`: `.` is no name to search for, its argument is.
    "stdin",
    "su",
    "sudo",
    "systemd-run",
    "taskset",
    "time",
    "timeout",
    "tmux",
    "trap",
    "watch",
    "xargs",
    "zsh",
];

/// Short options whose value is the next word (when not attached), per wrapper.
pub(crate) const SUDO_SHORT: &[u8] = b"ugpCUrtTDR";
pub(crate) const SUDO_LONG: &[&str] = &[
    "user",
    "group",
    "prompt",
    "close-from",
    "other-user",
    "role",
    "type",
    "command-timeout",
    "chdir",
    "chroot",
    "host",
];
const XARGS_SHORT: &[u8] = b"IndPLsEa";
const XARGS_LONG: &[&str] = &[
    "max-args",
    "max-procs",
    "delimiter",
    "arg-file",
    "max-lines",
    "eof",
    "max-chars",
    "process-slot-var",
];
const SSH_SHORT: &[u8] = b"BbcDEeFIiJLlmOopQRSWw";
const WATCH_LONG: &[&str] = &["interval", "equexit"];
const PARALLEL_SHORT: &[u8] = b"aCdEIjLlNnPSs";
const PARALLEL_LONG: &[&str] = &[
    "arg-file",
    "colsep",
    "delimiter",
    "eof",
    "replace",
    "jobs",
    "max-lines",
    "max-args",
    "max-procs",
    "sshlogin",
    "sshloginfile",
    "slf",
    "max-chars",
    "workdir",
    "wd",
    "tmpdir",
    "results",
    "joblog",
    "delay",
    "timeout",
    "retries",
    "basefile",
    "env",
    "memfree",
    "load",
    "halt",
    "tag-string",
    "tagstring",
    "return",
    "transferfile",
];
/// `docker`/`podman` options before the subcommand that take a value.
const CONTAINER_GLOBAL_SHORT: &[u8] = b"Hcl";
const CONTAINER_GLOBAL_LONG: &[&str] = &[
    "host",
    "context",
    "config",
    "log-level",
    "tlscacert",
    "tlscert",
    "tlskey",
    "url",
    "connection",
    "root",
    "runroot",
];
const EXEC_SHORT: &[u8] = b"euw";
const EXEC_LONG: &[&str] = &[
    "env",
    "env-file",
    "user",
    "workdir",
    "detach-keys",
    "preserve-fds",
    "preserve-fd",
];
/// `docker compose` options before the subcommand that take a value, and `exec`'s (`-T`,
/// `-d`, `--privileged` take none).
const COMPOSE_SHORT: &[u8] = b"fp";
const COMPOSE_LONG: &[&str] = &[
    "file",
    "project-name",
    "project-directory",
    "env-file",
    "profile",
    "ansi",
    "progress",
    "parallel",
];
const COMPOSE_EXEC_LONG: &[&str] = &["env", "user", "workdir", "index"];
/// `systemd-run` options that take a value (systemd's `src/run/run.c`).
const SYSTEMD_RUN_SHORT: &[u8] = b"CHMEpu";
const SYSTEMD_RUN_LONG: &[&str] = &[
    "capsule",
    "unit",
    "description",
    "slice",
    "expand-environment",
    "host",
    "machine",
    "service-type",
    "uid",
    "gid",
    "nice",
    "setenv",
    "property",
    "on-active",
    "on-boot",
    "on-startup",
    "on-unit-active",
    "on-unit-inactive",
    "on-calendar",
    "timer-property",
    "path-property",
    "socket-property",
    "working-directory",
    "job-mode",
    "background",
    "json",
];
/// `screen` options that take a value.
const SCREEN_SHORT: &[u8] = b"cehpsStT";
/// `tmux` options before the command that take a value (`-c` is a shell command).
const TMUX_SHORT: &[u8] = b"cfLST";
/// `kubectl` options (global and `exec`'s) that take a value.
const KUBECTL_SHORT: &[u8] = b"cnfs";
const KUBECTL_LONG: &[&str] = &[
    "container",
    "namespace",
    "filename",
    "pod-running-timeout",
    "context",
    "kubeconfig",
    "cluster",
    "user",
    "server",
    "token",
    "request-timeout",
    "as",
    "as-group",
    "as-uid",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "tls-server-name",
    "cache-dir",
    "profile",
    "profile-output",
];

/// Reads a wrapper's options from word `args.start` on, each word's value (after quote
/// removal; `None` when it depends on an expansion) given by `value`: returns the index of the
/// first word after them (the command the wrapper runs) and the set of short option letters seen
/// ([`bit`]). `short_val` and `long_val` are the options that take a value.
pub(crate) fn options<'v>(
    value: impl Fn(usize) -> Option<Cow<'v, str>>,
    args: Range<usize>,
    short_val: &[u8],
    long_val: &[&str],
) -> (usize, u128) {
    let mut seen = 0u128;
    let mut j = args.start;
    while j < args.end {
        let Some(v) = value(j) else {
            break;
        };
        if v == "--" {
            return (j + 1, seen);
        }
        if let Some(long) = v.strip_prefix("--") {
            j += if !long.contains('=') && long_val.contains(&long) {
                2
            } else {
                1
            };
            continue;
        }
        let Some(flags) = v.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        j += 1;
        for (pos, b) in flags.bytes().enumerate() {
            seen |= bit(b);
            if short_val.contains(&b) {
                if pos + 1 == flags.len() {
                    j += 1;
                }
                break;
            }
        }
    }
    (j.min(args.end), seen)
}

pub(crate) fn bit(letter: u8) -> u128 {
    if letter < 128 {
        1u128 << letter
    } else {
        0
    }
}

pub(crate) fn any_of(seen: u128, letters: &[u8]) -> bool {
    letters.iter().any(|&l| seen & bit(l) != 0)
}

impl<'a, 't> Walk<'a, 't> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        tree: &'t Tree,
        src: &'a str,
        base: &'a OffsetMap,
        host: Option<&'a str>,
        out: &'a mut Parsed,
        depth: u8,
        holes: Vec<Range<usize>>,
        probe_vars: &'a OnceLock<ProbeVars>,
    ) -> Walk<'a, 't> {
        let root = tree.root_node();
        Walk {
            src,
            base,
            host,
            out,
            depth,
            k: kinds(),
            aux: root.walk(),
            words: Vec::new(),
            holes,
            pending: Vec::new(),
            guards: Vec::new(),
            os_guards: Vec::new(),
            at: 0,
            elsewhere: false,
            clean: !root.has_error(),
            redirected_body: None,
            list_proofs: RefCell::default(),
            probe_vars,
            passed: Passed::default(),
        }
    }

    fn run(&mut self, root: Node<'t>) {
        let mut cursor = root.walk();
        loop {
            let node = cursor.node();
            if self.enter(node) && cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    /// Handles one node on the way down; returns whether to visit its children.
    fn enter(&mut self, node: Node<'t>) -> bool {
        let k = self.k;
        let kind = node.kind_id();
        if kind == k.comment
            || kind == k.raw_string
            || kind == k.ansi_c_string
            || kind == k.string_content
        {
            self.holes.push(node.byte_range());
            return false;
        }
        if kind == k.command {
            self.command(node);
            // Its words are read; below them, only a substitution runs a command and only a
            // quote holds data. A command with neither has nothing more to find, and visiting
            // its words one by one was a large part of the walk.
            // (A repaired tree may hang commands below a command's words: walked whole.)
            return !(self.clean && super::prune_walks())
                || self.src.get(node.byte_range()).is_none_or(may_nest);
        } else if kind == k.redirected_statement {
            self.redirected_body = node
                .child_by_field_name("body")
                .map(|b| (b.id(), node.end_byte()));
            self.redirects(node);
        } else if kind == k.heredoc_body {
            self.heredoc_holes(node);
        } else if kind == k.test_command || kind == k.declaration_command || kind == k.unset_command
        {
            self.keyword_command(node);
        } else if kind == k.if_statement {
            self.if_guards(node);
        } else if kind == k.while_statement {
            self.loop_guards(node);
        } else if kind == k.list {
            self.list_guards(node);
        } else if kind == k.case_statement {
            self.case_guards(node);
        }
        true
    }

    /// `[ … ]`, `[[ … ]]`, `local`, `declare`, `export`, `unset`: the grammar gives them their
    /// own nodes, but they are commands too (`declare -A` fails in bash 3.2, `[[` in dash).
    fn keyword_command(&mut self, node: Node<'t>) {
        let Some(first) = node.child(0) else {
            return;
        };
        let span = node.start_byte()..first.end_byte();
        if first.is_named() || self.src.get(span.clone()).is_none() {
            return;
        }
        let mut cmd = make_command(
            self.src,
            span,
            node.end_byte(),
            Language::Bash,
            self.host.map(str::to_string),
            self.base,
        );
        if !self.elsewhere {
            cmd.os = self.os_at(node.start_byte());
        }
        self.out.commands.push(cmd);
    }

    /// Remembers the redirects of a statement for its command, which the walk reaches next.
    fn redirects(&mut self, node: Node<'t>) {
        let k = self.k;
        let c = &mut self.aux;
        c.reset(node);
        if !c.goto_first_child() {
            return;
        }
        let body = c.node();
        let bk = body.kind_id();
        if bk == k.file_redirect || bk == k.heredoc_redirect || bk == k.herestring_redirect {
            return;
        }
        let mut end = body.end_byte();
        let mut stdin = None;
        while c.goto_next_sibling() {
            let n = c.node();
            let kind = n.kind_id();
            if kind == k.file_redirect {
                end = end.max(n.end_byte());
                // `bash < <(curl …)`: stdin is what the substitution writes.
                if let Some(dest) = n
                    .child_by_field_name("destination")
                    .filter(|d| d.kind_id() == k.process_substitution)
                {
                    let op = self
                        .src
                        .get(n.start_byte()..dest.start_byte())
                        .unwrap_or("");
                    if matches!(op.trim(), "<" | "0<") {
                        stdin = Some(dest);
                    }
                }
            } else if kind == k.herestring_redirect {
                end = end.max(n.end_byte());
                stdin = last_named_child(n);
            } else if kind == k.heredoc_redirect && c.goto_first_child() {
                loop {
                    let h = c.node();
                    let hk = h.kind_id();
                    if hk == k.heredoc_start {
                        // A delimiter glued to an operator was parsed a byte to the left
                        // (`patch_heredocs`): the command's text ends after the whole word.
                        let word_end = self.src.as_bytes()[h.end_byte().min(self.src.len())..]
                            .iter()
                            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                            .map_or(self.src.len(), |n| h.end_byte() + n);
                        // `cat<<E>f`: the redirects were blanked for the grammar.
                        let word_end =
                            glued_redirects_end(self.src.as_bytes(), word_end).unwrap_or(word_end);
                        end = end.max(word_end);
                    } else if hk == k.file_redirect {
                        end = end.max(h.end_byte());
                    } else if hk == k.heredoc_body {
                        stdin = Some(h);
                    }
                    if !c.goto_next_sibling() {
                        break;
                    }
                }
                c.goto_parent();
            }
        }
        self.pending.push(Redirects {
            body: body.byte_range(),
            end,
            stdin,
        });
    }

    /// The text of a heredoc body is data to this shell; its expansions and substitutions are
    /// code (the shell runs `$(…)` in an unquoted heredoc).
    fn heredoc_holes(&mut self, node: Node<'t>) {
        let k = self.k;
        let mut pos = node.start_byte();
        let c = &mut self.aux;
        c.reset(node);
        if c.goto_first_child() {
            loop {
                let n = c.node();
                if n.is_named() && n.kind_id() != k.heredoc_content {
                    if n.start_byte() > pos {
                        self.holes.push(pos..n.start_byte());
                    }
                    pos = pos.max(n.end_byte());
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        if node.end_byte() > pos {
            self.holes.push(pos..node.end_byte());
        }
    }

    fn command(&mut self, node: Node<'t>) {
        let k = self.k;
        let mut end = node.end_byte();
        let mut stdin = None;
        // Statements that ended before this command can no longer claim it.
        self.pending.retain(|p| p.body.end > node.start_byte());
        let (start, stop) = (node.start_byte(), node.end_byte());
        if let Some(i) = self
            .pending
            .iter()
            .rposition(|p| p.body.end == stop && p.body.start <= start)
        {
            let p = self.pending.remove(i);
            end = end.max(p.end);
            stdin = p.stdin;
        }
        let mut words = std::mem::take(&mut self.words);
        words.clear();
        let c = &mut self.aux;
        c.reset(node);
        let mut named = false;
        if c.goto_first_child() {
            loop {
                let n = c.node();
                let kind = n.kind_id();
                if kind == k.command_name {
                    named = true;
                    words.push(Word::of(n));
                } else if kind == k.herestring_redirect {
                    stdin = last_named_child(n);
                } else if named
                    && n.is_named()
                    && kind != k.file_redirect
                    && kind != k.comment
                    && kind != k.variable_assignment
                {
                    let mut w = Word::of(n);
                    // The grammar's slip (see below) starts the word at the line break.
                    if let Some(text) = self.src.get(w.start..w.end) {
                        let line_break = text.len() - text.trim_start_matches(['\r', '\n']).len();
                        if line_break > 0 && line_break < text.len() {
                            w.start += line_break;
                        }
                    }
                    words.push(w);
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        if named {
            let mut jobs = Vec::new();
            let mut from = 0;
            while from < words.len() {
                // tree-sitter-bash reads a line that starts with an escaped name (`\nproc`) as
                // one more word of the command on the line before, starting at the line break;
                // the shell runs it on its own.
                let to = (from + 1..words.len())
                    .find(|&i| ends_line(self.src, words[i - 1].end, words[i].start))
                    .unwrap_or(words.len());
                let last = to == words.len();
                let job = Job {
                    from,
                    to,
                    end: if last { end } else { words[to - 1].end },
                    host: self.host.map(str::to_string),
                    // Without a heredoc or here-string, the command itself stands for "what the
                    // pipeline feeds it", looked up only if a shell ends up reading its stdin.
                    stdin: if last { stdin.or(Some(node)) } else { None },
                };
                self.chain(&words, job, &mut jobs);
                while let Some(job) = jobs.pop() {
                    self.chain(&words, job, &mut jobs);
                }
                from = to;
            }
        }
        self.words = words;
    }

    /// Reports the command at `job.from` and follows wrappers to the command they run.
    fn chain(&mut self, words: &[Word<'t>], job: Job<'t>, jobs: &mut Vec<Job<'t>>) {
        let Job {
            mut from,
            mut to,
            mut end,
            mut host,
            mut stdin,
        } = job;
        self.elsewhere = false;
        while from < to {
            // `se\<newline>d`: the grammar splits the word at the continuation, bash joins it.
            let pieces = 1
                + (from + 1..to)
                    .take_while(|&i| is_continuation(self.src, words[i - 1].end, words[i].start))
                    .count();
            let Some(word) = self.push_name(&words[from..from + pieces], end, host.clone()) else {
                return;
            };
            let name = command_name(&word, Language::Bash).0;
            let args = from + pieces..to;
            let next = match name {
                "sudo" | "doas" => {
                    let (j, seen) = if name == "sudo" {
                        self.options(words, args, SUDO_SHORT, SUDO_LONG)
                    } else {
                        self.options(words, args, b"uC", &[])
                    };
                    // Edit, list, validate and version modes run no command.
                    if name == "sudo" && any_of(seen, b"elvVK") {
                        return;
                    }
                    let j = self.skip_assignments(words, j, to);
                    if j >= to && any_of(seen, b"si") {
                        self.run_stdin(stdin, host.as_deref());
                    }
                    j
                }
                "env" => {
                    let (j, _) =
                        self.options(words, args, b"uCSP", &["unset", "chdir", "split-string"]);
                    self.skip_assignments(words, j, to)
                }
                "nice" => self.options(words, args, b"n", &["adjustment"]).0,
                // `runuser -u USER [--] CMD` runs CMD; `runuser [-l] USER -c 'CODE'` is su's form.
                "runuser" => {
                    let (j, seen) = self.options(
                        words,
                        args.clone(),
                        b"ugGcsw",
                        &[
                            "user",
                            "group",
                            "supp-group",
                            "command",
                            "shell",
                            "whitelist-environment",
                        ],
                    );
                    let long_user = args.clone().any(|i| {
                        self.value(words, i)
                            .is_some_and(|v| v == "--user" || v.starts_with("--user="))
                    });
                    if !any_of(seen, b"u") && !long_user {
                        self.su(words, args, stdin, host.as_deref());
                        return;
                    }
                    j
                }
                // Run CMD in another process's namespaces, on this machine.
                "nsenter" => {
                    self.options(
                        words,
                        args,
                        b"tSGwd",
                        &["target", "setuid", "setgid", "wd", "wdns", "env"],
                    )
                    .0
                }
                "strace" | "ltrace" => {
                    let (j, seen) = self.options(
                        words,
                        args,
                        b"eoOpPsuEaAbISXU",
                        &[
                            "output",
                            "attach",
                            "user",
                            "trace",
                            "signal",
                            "string-limit",
                        ],
                    );
                    // Attached to a running process: nothing is started.
                    if any_of(seen, b"p") {
                        return;
                    }
                    j
                }
                "nohup" | "builtin" | "setsid" => self.options(words, args, b"", &[]).0,
                // `coproc CMD` runs CMD; `coproc [NAME] { CMD; }` runs the group, which the
                // grammar (knowing no `coproc`) reads as words up to the first `;`, the rest
                // as statements of their own.
                "coproc" => {
                    let is = |i: usize, of: &[&str]| {
                        i < to && self.value(words, i).is_some_and(|v| of.contains(&&*v))
                    };
                    const COMPOUND: &[&str] =
                        &["while", "until", "for", "if", "case", "select", "[[", "(("];
                    match args.start {
                        j if is(j, &["{"]) => j + 1,
                        j if is(j + 1, &["{"]) => j + 2,
                        // `coproc NAME while …`, `coproc NAME (…)`: NAME names the
                        // coprocess; the compound the grammar misreads runs nothing named.
                        j if is(j + 1, COMPOUND)
                            || words.get(j).is_some_and(|w| {
                                w.node.is_error() || w.node.parent().is_some_and(|p| p.is_error())
                            }) =>
                        {
                            return
                        }
                        j => j,
                    }
                }
                // A transient unit runs CMD on this machine; with `-H`/`-M` on another host or in
                // a container, which is not followed; `--shell` runs an interactive shell.
                "systemd-run" => {
                    let (j, seen) =
                        self.options(words, args.clone(), SYSTEMD_RUN_SHORT, SYSTEMD_RUN_LONG);
                    let elsewhere = (args.start..j).any(|i| {
                        self.value(words, i).is_some_and(|v| {
                            v == "--shell"
                                || ["--host", "--machine"]
                                    .iter()
                                    .any(|o| v == *o || v.starts_with(&format!("{o}=")))
                        })
                    });
                    if elsewhere || any_of(seen, b"HMS") {
                        return;
                    }
                    j
                }
                "screen" => match self.screen(words, args) {
                    Some(j) => j,
                    None => return,
                },
                "tmux" => {
                    self.tmux(words, args, host.as_ref(), jobs);
                    return;
                }
                "chroot" => {
                    // Then the new root, then the command.
                    self.options(words, args, b"", &["userspec", "groups"]).0 + 1
                }
                "time" => self.options(words, args, b"fo", &["format", "output"]).0,
                "exec" => self.options(words, args, b"a", &[]).0,
                "stdbuf" => {
                    self.options(words, args, b"ioe", &["input", "output", "error"])
                        .0
                }
                "timeout" => {
                    // Then the duration, then the command.
                    self.options(words, args, b"sk", &["signal", "kill-after"])
                        .0
                        + 1
                }
                "command" => {
                    let (j, seen) = self.options(words, args, b"", &[]);
                    if any_of(seen, b"vV") {
                        return;
                    }
                    j
                }
                "ionice" => {
                    let (j, seen) = self.options(
                        words,
                        args,
                        b"cnpPu",
                        &["class", "classdata", "pid", "pgid", "uid"],
                    );
                    if any_of(seen, b"pPu") {
                        return;
                    }
                    j
                }
                "chrt" => {
                    let (j, seen) = self.options(
                        words,
                        args,
                        b"TPD",
                        &["sched-runtime", "sched-period", "sched-deadline"],
                    );
                    if any_of(seen, b"pm") {
                        return;
                    }
                    j + 1
                }
                "busybox" => match self.value(words, args.start) {
                    Some(v) if !v.starts_with('-') => args.start,
                    _ => return,
                },
                "xargs" => {
                    stdin = None;
                    self.options(words, args, XARGS_SHORT, XARGS_LONG).0
                }
                "find" => {
                    self.find_exec(words, args, host.as_ref(), jobs);
                    return;
                }
                "watch" => {
                    let (j, seen) = self.options(words, args, b"nq", WATCH_LONG);
                    // Without `-x`, watch joins its arguments and runs them with `sh -c`.
                    if j < to && seen & bit(b'x') == 0 && self.is_quoted(words[j]) {
                        self.embed_words(&words[j..to], Language::Bash, host.as_deref());
                        return;
                    }
                    j
                }
                "parallel" => {
                    let (j, _) = self.options(words, args, PARALLEL_SHORT, PARALLEL_LONG);
                    let sep = (j..to).find(|&i| {
                        matches!(
                            self.value(words, i).as_deref(),
                            Some(":::" | "::::" | ":::+" | "::::+")
                        )
                    });
                    let Some(k) = sep.or(Some(to)).filter(|&k| k > j) else {
                        // No template: each argument after `:::` is a command line.
                        if let Some(k) = sep {
                            if self.value(words, k).as_deref() == Some(":::") {
                                let mut i = k + 1;
                                while i < to {
                                    let word = shell_word(self.src, &words[..to], i);
                                    i += word.len();
                                    self.embed_words(word, Language::Bash, host.as_deref());
                                }
                            }
                        }
                        return;
                    };
                    // The template is a shell command line run once per argument.
                    if self.is_quoted(words[j]) {
                        self.embed_words(&words[j..k], Language::Bash, host.as_deref());
                        return;
                    }
                    to = k;
                    end = end.min(words[k - 1].end);
                    j
                }
                "flock" => {
                    let (j, _) = self.options(
                        words,
                        args,
                        b"wE",
                        &["wait", "timeout", "conflict-exit-code"],
                    );
                    // Then the lock file (or a descriptor number, and no command).
                    let k = j + 1;
                    if matches!(self.value(words, k).as_deref(), Some("-c" | "--command")) {
                        if k + 1 < to {
                            self.embed_words(
                                shell_word(self.src, words, k + 1),
                                Language::Bash,
                                host.as_deref(),
                            );
                        }
                        return;
                    }
                    k
                }
                // What runs in a container is checked against the container (a host name the
                // store may know, else an unknown target), not the machine that starts it.
                "docker" | "podman" => match self.container_exec(words, args, name == "podman") {
                    Some((j, container)) => {
                        self.elsewhere = true;
                        host = container.or(host);
                        j
                    }
                    None => return,
                },
                // `docker compose exec SERVICE CMD`: the service's container, named as a host.
                "docker-compose" | "podman-compose" => match self.compose_exec(words, args) {
                    Some((j, service)) => {
                        self.elsewhere = true;
                        host = service.or(host);
                        j
                    }
                    None => return,
                },
                "kubectl" | "oc" => match self.kubectl_exec(words, args) {
                    Some((j, pod)) => {
                        self.elsewhere = true;
                        host = pod.or(host);
                        j
                    }
                    None => return,
                },
                // `at TIME` and `batch` read the commands to run later with sh from stdin
                // (`-f FILE` reads a file; `-l`, `-r`, `-d`, `-c` list, remove or show jobs).
                "at" | "batch" => {
                    let (_, seen) = self.options(words, args, b"qftu", &[]);
                    if !any_of(seen, b"lrdcf") {
                        self.run_stdin(stdin, host.as_deref());
                    }
                    return;
                }
                "bash" | "sh" | "dash" | "zsh" | "ksh" | "ash" | "mksh" | "rbash" => {
                    self.shell(words, args, stdin, host.as_deref());
                    return;
                }
                "su" => {
                    self.su(words, args, stdin, host.as_deref());
                    return;
                }
                // `source /dev/stdin <<EOF` / `. /dev/stdin`: the current shell runs its input.
                "source" | "." => {
                    if self.is_stdin_file(words, args.start) {
                        self.run_stdin(stdin, host.as_deref());
                    } else if args.start < to
                        && words[args.start].node.kind_id() == self.k.process_substitution
                    {
                        self.run_stdin(Some(words[args.start].node), host.as_deref());
                    }
                    return;
                }
                "eval" => {
                    if args.start < to && self.is_quoted(words[args.start]) {
                        self.embed_words(
                            shell_word(self.src, words, args.start),
                            Language::Bash,
                            host.as_deref(),
                        );
                        return;
                    }
                    args.start
                }
                "trap" => {
                    self.trap(words, args, host.as_deref());
                    return;
                }
                "pwsh" | "powershell" | "pwsh.exe" | "powershell.exe" => {
                    let from = (self.out.commands.len(), self.out.code.len());
                    let pwsh = name.starts_with("pwsh");
                    super::powershell::read_by(pwsh, || {
                        self.powershell(words, args, end, host.as_deref())
                    });
                    if pwsh {
                        super::run_by_pwsh(self.out, from.0, from.1);
                    }
                    return;
                }
                "cmd" | "cmd.exe" => {
                    self.cmd(words, args, end, host.as_deref());
                    return;
                }
                "ssh" => {
                    let (j, seen) = self.options(words, args, SSH_SHORT, &[]);
                    if j >= to {
                        return;
                    }
                    self.elsewhere = true;
                    let remote = self
                        .value(words, j)
                        .map(|d| ssh_host(&d).to_string())
                        .filter(|h| !h.is_empty())
                        .or(host.clone());
                    if seen & bit(b'N') != 0 {
                        return;
                    }
                    let mut k = j + 1;
                    if k < to && self.value(words, k).as_deref() == Some("--") {
                        k += 1;
                    }
                    if k >= to {
                        self.run_stdin(stdin, remote.as_deref());
                        return;
                    }
                    if self.is_quoted(words[k]) {
                        self.embed_words(
                            shell_word(self.src, words, k),
                            Language::Bash,
                            remote.as_deref(),
                        );
                        return;
                    }
                    host = remote;
                    k
                }
                _ => return,
            };
            from = next;
        }
    }

    /// Reports the command named by word `w` and returns that word as the shell reads it:
    /// quotes removed and escapes resolved (`"apt-get"`, `fre''e`, `\rm` run `apt-get`, `free`,
    /// `rm`), its text mapped back to the pieces. `None` for a name that depends on an
    /// expansion (`"$cmd"`), which the walk cannot know.
    fn push_name(
        &mut self,
        pieces: &[Word<'t>],
        end: usize,
        host: Option<String>,
    ) -> Option<Cow<'a, str>> {
        let src = self.src;
        let (first, last) = (*pieces.first()?, *pieces.last()?);
        let w = Word {
            end: last.end,
            ..first
        };
        let text = src.get(w.start..w.end)?;
        let plain = |t: &str| {
            !t.is_empty()
                && !t.contains([
                    '$', '`', '\'', '"', '\\', '(', ')', '<', '>', ' ', '\n', '\r',
                ])
        };
        if plain(text) {
            let cmd = make_command(src, w.start..w.end, end, Language::Bash, host, self.base);
            self.push_command(cmd, w.start);
            return Some(Cow::Borrowed(text));
        }
        let mut node = w.node;
        if node.kind_id() == self.k.command_name {
            node = node.named_child(0)?;
        }
        let (word, mut map, local) = if pieces.len() > 1 {
            let mut unwrapped = pieces.to_vec();
            unwrapped[0] = Word::of(node);
            self.words_code(&unwrapped)?
        } else if node.kind_id() == self.k.word {
            // `\rm`, and a word the grammar started early (see `command`): escapes only (a
            // quote left in the name fails `plain` below).
            let (mut code, mut map) = (String::new(), OffsetMap::starting_at(w.start));
            push_unescaped_word(&mut code, &mut map, text, w.start);
            (code, map, Vec::new())
        } else {
            self.words_code(&[Word::of(node)])?
        };
        // A control character (`$'se\td'`) names nothing that can be known.
        if !local.is_empty() || !plain(&word) || word.chars().any(char::is_control) {
            return None;
        }
        // The name as the shell reads it, then the arguments as written.
        let rest = src.get(w.end..end.max(w.end)).unwrap_or("");
        let joined = format!("{word}{rest}");
        map.push(word.len(), w.end);
        map.push(joined.len(), w.end + rest.len());
        let base = map.then(self.base);
        let cmd = make_command(
            &joined,
            0..word.len(),
            joined.len(),
            Language::Bash,
            host,
            &base,
        );
        self.push_command(cmd, w.start);
        Some(Cow::Owned(word))
    }

    /// Adds `cmd`, whose name word starts at `at` in this text, guarded if a lookup of its name
    /// encloses it here.
    fn push_command(&mut self, mut cmd: super::Command, at: usize) {
        // A lookup here says nothing about another host (`command -v tac && ssh nas tac`) or a
        // container (`docker exec web tac`).
        let here = !self.elsewhere && cmd.host.as_deref() == self.host;
        cmd.guarded = here
            && (self
                .guards
                .iter()
                .any(|(r, name)| r.contains(&at) && *name == cmd.name)
                || self.passed.proves(&cmd.name, at));
        if here {
            cmd.os = cmd.os & self.os_at(at);
        }
        self.at = at;
        self.out.commands.push(cmd);
    }

    /// `find … -exec CMD … ;` (and `-execdir`, `-ok`, `-okdir`, ending in `;` or `{} +`).
    fn find_exec(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        host: Option<&String>,
        jobs: &mut Vec<Job<'t>>,
    ) {
        let mut i = args.start;
        while i < args.end {
            let is_exec = matches!(
                self.value(words, i).as_deref(),
                Some("-exec" | "-execdir" | "-ok" | "-okdir")
            );
            i += 1;
            if !is_exec {
                continue;
            }
            let start = i;
            let mut term = args.end;
            let mut prev_braces = false;
            while i < args.end {
                let v = self.value(words, i);
                let v = v.as_deref();
                if v == Some(";") || (v == Some("+") && prev_braces) {
                    term = i;
                    break;
                }
                prev_braces = v == Some("{}");
                i += 1;
            }
            if term > start {
                jobs.push(Job {
                    from: start,
                    to: term,
                    end: words[term - 1].end,
                    host: host.cloned(),
                    stdin: None,
                });
            }
            i = term + 1;
        }
    }

    /// `docker|podman [global options] [container] exec [options] CONTAINER CMD…`: where CMD
    /// starts. It runs inside the container; the container's system is not known here, so the
    /// command keeps the current target.
    fn container_exec(
        &self,
        words: &[Word<'t>],
        args: Range<usize>,
        podman: bool,
    ) -> Option<(usize, Option<String>)> {
        let to = args.end;
        let (mut j, _) = self.options(words, args, CONTAINER_GLOBAL_SHORT, CONTAINER_GLOBAL_LONG);
        if self.value(words, j).as_deref() == Some("compose") {
            return self.compose_exec(words, j + 1..to);
        }
        if self.value(words, j).as_deref() == Some("container") {
            j += 1;
        }
        if self.value(words, j).as_deref() != Some("exec") {
            return None;
        }
        let (j, seen) = self.options(words, j + 1..to, EXEC_SHORT, EXEC_LONG);
        // `podman exec --latest CMD` names no container.
        let latest = podman
            && (seen & bit(b'l') != 0
                || (j > 0 && self.value(words, j - 1).as_deref() == Some("--latest")));
        let cmd = if latest { j } else { j + 1 };
        let container = (!latest).then(|| self.value(words, j)).flatten();
        (cmd < to).then_some((cmd, container.map(|c| c.into_owned())))
    }

    /// `docker compose [options] exec [options] SERVICE CMD…` (also `docker-compose`): where CMD
    /// starts, and the service, whose container runs it.
    fn compose_exec(
        &self,
        words: &[Word<'t>],
        args: Range<usize>,
    ) -> Option<(usize, Option<String>)> {
        let to = args.end;
        let (_, j) = self.exec_subcommand(
            words,
            args,
            (COMPOSE_SHORT, COMPOSE_LONG),
            (EXEC_SHORT, COMPOSE_EXEC_LONG),
        )?;
        let service = self.value(words, j).map(|s| s.into_owned());
        (j + 1 < to).then_some((j + 1, service))
    }

    /// `TOOL [global options] exec [exec options] TARGET …` (compose, kubectl): the index of
    /// `exec` and of the word after the exec options, or `None` when the subcommand is another.
    fn exec_subcommand(
        &self,
        words: &[Word<'t>],
        args: Range<usize>,
        global: (&[u8], &[&str]),
        exec: (&[u8], &[&str]),
    ) -> Option<(usize, usize)> {
        let to = args.end;
        let (j, _) = self.options(words, args, global.0, global.1);
        if self.value(words, j).as_deref() != Some("exec") {
            return None;
        }
        Some((j, self.options(words, j + 1..to, exec.0, exec.1).0))
    }

    /// `kubectl [global options] exec [options] POD [--] CMD…`: where CMD starts (in the pod,
    /// keeping the current target like `docker exec`).
    fn kubectl_exec(
        &self,
        words: &[Word<'t>],
        args: Range<usize>,
    ) -> Option<(usize, Option<String>)> {
        let to = args.end;
        let kubectl = (KUBECTL_SHORT, KUBECTL_LONG);
        let (j, pod) = self.exec_subcommand(words, args, kubectl, kubectl)?;
        let name = (pod < to)
            .then(|| self.value(words, pod))
            .flatten()
            .filter(|p| p != "--")
            .map(|p| p.into_owned());
        if let Some(dash) = (j + 1..to).find(|&i| self.value(words, i).as_deref() == Some("--")) {
            return (dash + 1 < to).then_some((dash + 1, name));
        }
        // The old form without `--`: options, the pod, then the command.
        (pod + 1 < to).then_some((pod + 1, name))
    }

    /// `screen [options] [CMD …]`: where CMD starts, or `None` when screen starts none (`-ls`,
    /// `-r`/`-x` reattach, `-X` sends a screen command, `-d NAME` detaches a session, a device
    /// opens a serial line).
    fn screen(&self, words: &[Word<'t>], args: Range<usize>) -> Option<usize> {
        let mut seen = 0u128;
        let mut j = args.start;
        while j < args.end {
            let v = self.value(words, j)?;
            match v.as_ref() {
                "-ls" | "-list" | "-wipe" | "-version" => return None,
                "-Logfile" => {
                    j += 2;
                    continue;
                }
                _ => {}
            }
            let Some(flags) = v.strip_prefix('-').filter(|f| !f.is_empty()) else {
                break;
            };
            j += 1;
            for (pos, b) in flags.bytes().enumerate() {
                seen |= bit(b);
                if SCREEN_SHORT.contains(&b) {
                    if pos + 1 == flags.len() {
                        j += 1;
                    }
                    break;
                }
            }
        }
        let detaches_only = any_of(seen, b"dD") && !any_of(seen, b"m");
        if any_of(seen, b"rRxXQ") || detaches_only || j >= args.end {
            return None;
        }
        // A terminal device (`screen /dev/ttyUSB0 115200`) or `//telnet` opens a window on it.
        if self
            .value(words, j)
            .is_some_and(|v| v.starts_with("/dev/") || v.starts_with("//"))
        {
            return None;
        }
        Some(j)
    }

    /// `tmux [options] COMMAND [flags] … [\; COMMAND …]`: the shell command of `new-session`,
    /// `new-window`, `split-window`, `respawn-*`, `run-shell` and `if-shell` (one argument is
    /// shell code, several are the command and its arguments), and the keys `send-keys` types
    /// into a pane before `Enter`. All of it runs on this machine.
    fn tmux(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        host: Option<&String>,
        jobs: &mut Vec<Job<'t>>,
    ) {
        let to = args.end;
        let (mut j, seen) = self.options(words, args.clone(), TMUX_SHORT, &[]);
        if any_of(seen, b"c") {
            // `tmux -c 'CMD'` runs CMD with the shell, like `sh -c`.
            let at = (args.start..j).find(|&i| {
                self.value(words, i)
                    .is_some_and(|v| v.len() > 1 && v.ends_with('c') && v.starts_with('-'))
            });
            if let Some(at) = at.filter(|&at| at + 1 < j) {
                self.embed_words(
                    shell_word(self.src, words, at + 1),
                    Language::Bash,
                    host.map(String::as_str),
                );
            }
            return;
        }
        while j < to {
            // Commands are separated by a `;` argument (`\;` or `';'` to the shell).
            let e = (j..to)
                .find(|&i| self.value(words, i).as_deref() == Some(";"))
                .unwrap_or(to);
            self.tmux_command(words, j..e, host, jobs);
            j = e + 1;
        }
    }

    /// One tmux command of [`Self::tmux`], its name at `args.start`.
    fn tmux_command(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        host: Option<&String>,
        jobs: &mut Vec<Job<'t>>,
    ) {
        let (from, to) = (args.start + 1, args.end);
        let Some(name) = self.value(words, args.start) else {
            return;
        };
        let h = host.map(String::as_str);
        let (values, shell_only): (&[u8], bool) = match name.as_ref() {
            "new-session" | "new" => (b"cefFnstxy", false),
            "new-window" | "neww" => (b"ceFnt", false),
            "split-window" | "splitw" => (b"ceFlpt", false),
            "respawn-pane" | "respawnp" | "respawn-window" | "respawnw" => (b"cet", false),
            "run-shell" | "run" => (b"cdt", true),
            "if-shell" | "if" => (b"t", true),
            "send-keys" | "send" => {
                let (mut k, seen) = self.options(words, from..to, b"cNt", &[]);
                // Literal, hex, copy-mode, key-table and mouse keys are not typed commands.
                if any_of(seen, b"lHXKM") {
                    return;
                }
                // Each `Enter` runs what was typed before it, when that is one word.
                while k < to {
                    let Some(m) =
                        (k..to).find(|&i| self.value(words, i).is_some_and(|v| is_tmux_enter(&v)))
                    else {
                        return;
                    };
                    // Keys pressed before the text (`C-c`, `Escape`) type nothing.
                    while k < m && self.value(words, k).is_some_and(|v| is_tmux_key(&v)) {
                        k += 1;
                    }
                    if m > k && shell_word(self.src, &words[..m], k).len() == m - k {
                        self.embed_words(&words[k..m], Language::Bash, h);
                    }
                    k = m + 1;
                }
                return;
            }
            _ => return,
        };
        let (k, seen) = self.options(words, from..to, values, &[]);
        if k >= to {
            return;
        }
        // `run-shell -C` and `if-shell -F` take a tmux command or a format, not shell code.
        if shell_only && any_of(seen, b"CF") {
            return;
        }
        let word = shell_word(self.src, &words[..to], k);
        if shell_only || word.len() == to - k {
            self.embed_words(word, Language::Bash, h);
        } else {
            jobs.push(Job {
                from: k,
                to,
                end: words[to - 1].end,
                host: host.cloned(),
                stdin: None,
            });
        }
    }

    /// `bash [options] -c STRING`, `sh -s <<EOF`, `bash <<< 'cmd'`; a script file is not code.
    fn shell(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        stdin: Option<Node<'t>>,
        host: Option<&str>,
    ) {
        let (mut c, mut s) = (false, false);
        let mut j = args.start;
        while j < args.end {
            let Some(v) = self.value(words, j) else {
                break;
            };
            if v == "--" || v == "-" {
                j += 1;
                break;
            }
            if v.starts_with("--") {
                j += if matches!(v.as_ref(), "--rcfile" | "--init-file") {
                    2
                } else {
                    1
                };
                continue;
            }
            if v.len() > 1 && (v.starts_with('-') || v.starts_with('+')) {
                j += 1;
                let flags = &v.as_bytes()[1..];
                for (pos, &b) in flags.iter().enumerate() {
                    match b {
                        b'c' => c = true,
                        b's' => s = true,
                        b'o' | b'O' if pos + 1 == flags.len() => j += 1,
                        _ => {}
                    }
                }
                continue;
            }
            break;
        }
        if c {
            if j < args.end {
                self.embed_words(shell_word(self.src, words, j), Language::Bash, host);
            }
        } else if j >= args.end || s || self.is_stdin_file(words, j) {
            self.run_stdin(stdin, host);
        } else if words[j].node.kind_id() == self.k.process_substitution {
            // `bash <(curl …)`: the script is what the substitution writes.
            self.run_stdin(Some(words[j].node), host);
        }
    }

    /// `/dev/stdin` (or `/proc/self/fd/0`, `/dev/fd/0`) as the script: the shell reads its input.
    fn is_stdin_file(&self, words: &[Word<'t>], j: usize) -> bool {
        matches!(
            self.value(words, j).as_deref(),
            Some("/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0")
        )
    }

    /// `su [-] [user] -c 'cmd'` / `--command 'cmd'`; without one, su runs a shell on stdin.
    fn su(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        stdin: Option<Node<'t>>,
        host: Option<&str>,
    ) {
        for j in args.clone() {
            if matches!(self.value(words, j).as_deref(), Some("-c" | "--command")) {
                if j + 1 < args.end {
                    self.embed_words(shell_word(self.src, words, j + 1), Language::Bash, host);
                }
                return;
            }
        }
        self.run_stdin(stdin, host);
    }

    /// `trap 'cleanup code' EXIT`: the handler is code the shell runs later.
    fn trap(&mut self, words: &[Word<'t>], args: Range<usize>, host: Option<&str>) {
        let mut j = args.start;
        if self.value(words, j).as_deref() == Some("--") {
            j += 1;
        }
        if j + 1 >= args.end {
            return;
        }
        match self.value(words, j).as_deref() {
            Some(v) if v.starts_with('-') => {}
            _ => self.embed_words(shell_word(self.src, words, j), Language::Bash, host),
        }
    }

    /// `pwsh -NoProfile -Command 'Get-X'` / `powershell -c Get-X -Name y`.
    fn powershell(
        &mut self,
        words: &[Word<'t>],
        args: Range<usize>,
        end: usize,
        host: Option<&str>,
    ) {
        for j in args.clone() {
            let Some(v) = self.value(words, j) else {
                continue;
            };
            let lower = v.to_ascii_lowercase();
            let Some(opt) = lower.strip_prefix('-').or_else(|| lower.strip_prefix('/')) else {
                continue;
            };
            if opt == "c" || (opt.len() >= 3 && "command".starts_with(opt)) {
                if j + 1 < args.end && self.value(words, j + 1).as_deref() != Some("-") {
                    self.embed_rest(words[j + 1], end, Language::PowerShell, host);
                }
                return;
            }
        }
    }

    /// `cmd /c "dir C:\"` / `cmd.exe /C ver`.
    fn cmd(&mut self, words: &[Word<'t>], args: Range<usize>, end: usize, host: Option<&str>) {
        for j in args.clone() {
            let is_c = matches!(
                self.value(words, j)
                    .map(|v| v.to_ascii_lowercase())
                    .as_deref(),
                Some("/c" | "/k")
            );
            if is_c {
                if j + 1 < args.end {
                    self.embed_rest(words[j + 1], end, Language::Batch, host);
                }
                return;
            }
        }
    }

    /// The code of a program that joins its remaining arguments: one quoted word is that
    /// string; plain words are taken as written up to the end of the command.
    fn embed_rest(&mut self, first: Word<'t>, end: usize, lang: Language, host: Option<&str>) {
        if self.is_quoted(first) {
            self.embed_word(first, lang, host);
        } else if let Some(code) = self.src.get(first.start..end.max(first.start)) {
            self.embed(code, OffsetMap::starting_at(first.start), lang, host, &[]);
        }
    }

    /// What a shell reads on stdin: a heredoc body or a here-string word.
    fn run_stdin(&mut self, stdin: Option<Node<'t>>, host: Option<&str>) {
        let Some(node) = stdin else {
            return;
        };
        if node.kind_id() == self.k.command {
            self.run_piped(node, host);
        } else if node.kind_id() == self.k.process_substitution {
            let mut cursor = node.walk();
            let last = node
                .named_children(&mut cursor)
                .filter(|n| n.kind_id() != self.k.comment)
                .last();
            let stage = last.and_then(|n| self.as_stage(n));
            self.run_from(stage, host);
        } else if node.kind_id() == self.k.heredoc_body {
            let Some(code) = self.src.get(node.byte_range()) else {
                return;
            };
            let local = self.expansions_in(node);
            self.embed(
                code,
                OffsetMap::starting_at(node.start_byte()),
                Language::Bash,
                host,
                &local,
            );
        } else {
            self.embed_word(Word::of(node), Language::Bash, host);
        }
    }

    /// Parses the string a word stands for as code in `lang`.
    fn embed_word(&mut self, w: Word<'t>, lang: Language, host: Option<&str>) {
        self.embed_words(&[w], lang, host);
    }

    /// Parses the strings `words` stand for, joined by spaces (as `echo`, `watch` and `ssh`
    /// join their arguments), as code in `lang`.
    fn embed_words(&mut self, words: &[Word<'t>], lang: Language, host: Option<&str>) {
        if let Some((code, map, local)) = self.words_code(words) {
            self.embed(&code, map, lang, host, &local);
        }
    }

    /// The strings `words` stand for, joined by spaces, with the map back to the source and
    /// the spans of expansions in them. `None` when a word's text cannot be known with exact
    /// offsets (`$'…'`, `$"…"`).
    #[allow(clippy::type_complexity)]
    fn words_code(&mut self, words: &[Word<'t>]) -> Option<(String, OffsetMap, Vec<Range<usize>>)> {
        let first = words.first()?;
        let mut code = String::new();
        let mut map = OffsetMap::starting_at(first.start);
        let mut local = Vec::new();
        let mut prev_end = None;
        for w in words {
            // Adjacent pieces (`'a'\ b`, which the grammar splits) are one shell word; a line
            // continuation between two pieces vanishes.
            if let Some(prev) = prev_end.filter(|&p| p != w.start) {
                match escaped_blank(self.src, prev, w.start) {
                    Some(blank) => {
                        map.push(code.len(), prev + 1);
                        code.push(blank);
                    }
                    None if is_continuation(self.src, prev, w.start) => {}
                    None => {
                        map.push(code.len(), prev);
                        code.push(' ');
                    }
                }
            }
            if !self.word_code(w.node, &mut code, &mut map, &mut local) {
                return None;
            }
            prev_end = Some(w.end);
        }
        Some((code, map, local))
    }

    /// Appends the string `node` stands for to `code` (quotes removed, escapes resolved),
    /// mapping each piece back to its source bytes. Expansions stay as written and their spans
    /// go to `local`: the outer shell runs them. Returns false for a word it cannot follow.
    fn word_code(
        &mut self,
        node: Node<'t>,
        code: &mut String,
        map: &mut OffsetMap,
        local: &mut Vec<Range<usize>>,
    ) -> bool {
        let k = self.k;
        let src = self.src;
        let (start, end) = (node.start_byte(), node.end_byte());
        let kind = node.kind_id();
        if kind == k.raw_string || kind == k.string {
            if end < start + 2 {
                return false;
            }
            let Some(content) = src.get(start + 1..end - 1) else {
                return false;
            };
            if kind == k.raw_string {
                map.push(code.len(), start + 1);
                code.push_str(content);
            } else {
                push_unescaped_double_quoted(code, map, content, start + 1);
                local.extend(self.expansions_in(node));
            }
            true
        } else if kind == k.word {
            let Some(text) = src.get(start..end) else {
                return false;
            };
            // `\'` between quoted pieces (`'echo '\''a'\''`) is a quote the shell keeps;
            // a bare quote is a piece the grammar did not split off.
            if has_bare_quote(text) {
                return false;
            }
            push_unescaped_word(code, map, text, start);
            true
        } else if kind == k.ansi_c_string {
            // `$'se\x64'` is `sed`; each byte maps to where its escape starts.
            let Some((text, at)) = src
                .get(start..end)
                .and_then(|t| t.strip_prefix("$'")?.strip_suffix('\''))
                .and_then(|body| ansi_c(body, start + 2))
            else {
                return false;
            };
            for (i, &from) in at.iter().enumerate() {
                if i == 0 || at[i - 1] + 1 != from {
                    map.push(code.len() + i, from);
                }
            }
            code.push_str(&text);
            true
        } else if kind == k.simple_expansion
            || kind == k.expansion
            || kind == k.command_substitution
        {
            let Some(text) = src.get(start..end) else {
                return false;
            };
            map.push(code.len(), start);
            code.push_str(text);
            local.push(start..end);
            true
        } else if kind == k.concatenation {
            let mut pos = start;
            let mut cursor = node.walk();
            let parts: Vec<Node<'t>> = node.children(&mut cursor).collect();
            for part in parts {
                // Only adjacent pieces this function understands, no gaps.
                if !part.is_named()
                    || part.start_byte() != pos
                    || part.kind_id() == k.concatenation
                    || !self.word_code(part, code, map, local)
                {
                    return false;
                }
                pos = part.end_byte();
            }
            pos == end
        } else {
            false
        }
    }

    /// What a pipeline feeds a shell at its end: the previous stage's output, when that is
    /// code forewarn can read (`echo '…' |`, `printf '%s\n' '…' |`, `cat <<EOF |`), also through
    /// stages that pass their input on (`cat`, `tee f`).
    fn run_piped(&mut self, command: Node<'t>, host: Option<&str>) {
        let stage = self.previous_stage(command);
        self.run_from(stage, host);
    }

    /// The code `stage` writes (and, through `cat` and `tee`, the stages before it), parsed
    /// for the shell that reads it.
    fn run_from(&mut self, mut stage: Option<(Node<'t>, Option<Node<'t>>)>, host: Option<&str>) {
        let k = self.k;
        // Each pass-through moves one stage back; a bound keeps a pathological pipeline cheap.
        for _ in 0..64 {
            let Some((producer, heredoc)) = stage else {
                return;
            };
            // `{ echo …; printf …; } | sh`: each command of the group writes into the pipe.
            if producer.kind_id() == k.compound_statement || producer.kind_id() == k.subshell {
                let mut cursor = producer.walk();
                let stages: Vec<_> = producer
                    .named_children(&mut cursor)
                    .filter_map(|n| match n.kind_id() {
                        id if id == k.command => Some((n, None)),
                        id if id == k.redirected_statement => n
                            .child_by_field_name("body")
                            .filter(|b| b.kind_id() == k.command)
                            .map(|b| (b, self.heredoc_of(n))),
                        _ => None,
                    })
                    .collect();
                for (stage, heredoc) in stages {
                    self.produce(stage, heredoc, host);
                }
                return;
            }
            match self.produce(producer, heredoc, host) {
                Some(next) => stage = self.previous_stage(next),
                None => return,
            }
        }
    }

    /// The command before `stage` in its pipeline, with the heredoc it reads.
    fn previous_stage(&self, command: Node<'t>) -> Option<(Node<'t>, Option<Node<'t>>)> {
        let k = self.k;
        let mut stage = command;
        if let Some(p) = stage.parent() {
            if p.kind_id() == k.redirected_statement {
                stage = p;
            }
        }
        let mut pipeline = stage.parent().filter(|p| p.kind_id() == k.pipeline)?;
        let mut prev = stage.prev_named_sibling();
        loop {
            while let Some(p) = prev.filter(|p| p.kind_id() == k.comment) {
                prev = p.prev_named_sibling();
            }
            if prev.is_some() {
                break;
            }
            // The first stage of a pipeline nested in another (`a | b | c` after a heredoc).
            match pipeline.parent() {
                Some(outer) if outer.kind_id() == k.pipeline => {
                    prev = pipeline.prev_named_sibling();
                    pipeline = outer;
                }
                _ => break,
            }
        }
        match prev {
            Some(p) => self.as_stage(p),
            // `cat <<EOF | sh`: the grammar puts the rest of the pipeline inside the heredoc
            // redirect of the first command (`A && cat <<EOF | sh`: of the list it ends).
            None => {
                let redirect = pipeline
                    .parent()
                    .filter(|r| r.kind_id() == k.heredoc_redirect)?;
                let statement = redirect.parent()?;
                let mut body = statement.child_by_field_name("body")?;
                while body.kind_id() == k.list {
                    body = last_named_child(body)?;
                }
                (body.kind_id() == k.command).then(|| (body, self.heredoc_of(statement)))
            }
        }
    }

    /// A statement as a stage that writes output: a command (with the heredoc it reads), a
    /// group, or the last stage of a pipeline.
    fn as_stage(&self, mut node: Node<'t>) -> Option<(Node<'t>, Option<Node<'t>>)> {
        let k = self.k;
        while node.kind_id() == k.pipeline {
            node = last_named_child(node)?;
        }
        let kind = node.kind_id();
        if kind == k.command || kind == k.compound_statement || kind == k.subshell {
            Some((node, None))
        } else if kind == k.redirected_statement {
            let body = node.child_by_field_name("body")?;
            (body.kind_id() == k.command).then(|| (body, self.heredoc_of(node)))
        } else {
            None
        }
    }

    /// The last heredoc body of a redirected statement.
    fn heredoc_of(&self, statement: Node<'t>) -> Option<Node<'t>> {
        let k = self.k;
        let mut found = None;
        let mut cursor = statement.walk();
        for r in statement.named_children(&mut cursor) {
            if r.kind_id() == k.heredoc_redirect {
                let mut c2 = r.walk();
                found = r
                    .named_children(&mut c2)
                    .filter(|h| h.kind_id() == k.heredoc_body)
                    .last()
                    .or(found);
            }
        }
        found
    }

    /// The code a pipeline stage writes, parsed for the shell that reads it. Returns the stage
    /// itself when it passes on what it reads from the stage before (`cat`, `tee f`).
    fn produce(
        &mut self,
        command: Node<'t>,
        heredoc: Option<Node<'t>>,
        host: Option<&str>,
    ) -> Option<Node<'t>> {
        let k = self.k;
        let mut words = Vec::new();
        let mut herestring = None;
        let mut cursor = command.walk();
        for n in command.named_children(&mut cursor) {
            let kind = n.kind_id();
            if kind == k.herestring_redirect {
                herestring = last_named_child(n);
            } else if kind == k.command_name
                || (!words.is_empty()
                    && kind != k.file_redirect
                    && kind != k.comment
                    && kind != k.variable_assignment)
            {
                words.push(Word::of(n));
            }
        }
        let name = self.value(&words, 0)?;
        let passes_on = match command_name(&name, Language::Bash).0 {
            "cat" => (1..words.len()).all(|j| self.value(&words, j).as_deref() == Some("-")),
            // tee writes what it reads to its files and to its output.
            "tee" => true,
            _ => false,
        };
        if passes_on {
            return match herestring.or(heredoc) {
                Some(body) => {
                    self.run_stdin(Some(body), host);
                    None
                }
                None => Some(command),
            };
        }
        match command_name(&name, Language::Bash).0 {
            "echo" => {
                let mut j = 1;
                let mut escapes = false;
                while let Some(v) = self.value(&words, j) {
                    let Some(flags) = v.strip_prefix('-') else {
                        break;
                    };
                    if flags.is_empty() || !flags.bytes().all(|b| matches!(b, b'n' | b'e' | b'E')) {
                        break;
                    }
                    escapes |= flags.contains('e');
                    j += 1;
                }
                self.embed_lines(&words[j.min(words.len())..], escapes, host);
            }
            "printf" => {
                let format = self.value(&words, 1)?;
                let rest = &words[2.min(words.len())..];
                if rest.is_empty() {
                    if !format.contains('%') {
                        self.embed_lines(&words[1..2], true, host);
                    }
                } else if format
                    .strip_prefix("%s")
                    .is_some_and(|t| t.split("\\n").all(str::is_empty))
                {
                    // One argument per line.
                    for w in rest {
                        self.embed_lines(std::slice::from_ref(w), false, host);
                    }
                }
            }
            _ => {}
        }
        None
    }

    /// `echo`'s arguments as shell code, `\n` read as a line break where the program
    /// interprets escapes (`echo -e`, a printf format); other escapes give up.
    fn embed_lines(&mut self, words: &[Word<'t>], escapes: bool, host: Option<&str>) {
        let Some((mut code, map, local)) = self.words_code(words) else {
            return;
        };
        if escapes && code.contains('\\') {
            // `\n` becomes a line break and a space: the same length, so the map still holds.
            let replaced = code.replace("\\n", "\n ");
            if replaced.contains('\\') {
                return;
            }
            code = replaced;
        }
        self.embed(&code, map, Language::Bash, host, &local);
    }

    /// The expansions and substitutions directly inside a double-quoted string or an unquoted
    /// heredoc: the outer shell runs those itself before the inner code sees the text.
    fn expansions_in(&mut self, node: Node<'t>) -> Vec<Range<usize>> {
        let k = self.k;
        let mut spans = Vec::new();
        let c = &mut self.aux;
        c.reset(node);
        if c.goto_first_child() {
            loop {
                let n = c.node();
                let kind = n.kind_id();
                if n.is_named() && kind != k.string_content && kind != k.heredoc_content {
                    spans.push(n.byte_range());
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        spans
    }

    /// Parses `code` (whose offsets `map` takes to this source) and adds what it finds. Commands
    /// inside `local` spans (source offsets) were already found by this walk, as the outer
    /// shell runs them, and are not reported a second time.
    fn embed(
        &mut self,
        code: &str,
        map: OffsetMap,
        lang: Language,
        host: Option<&str>,
        local: &[Range<usize>],
    ) {
        let base = map.then(self.base);
        #[cfg(test)]
        tests::EMBEDDED.with(|e| {
            e.borrow_mut().push((
                code.to_string(),
                lang,
                host.map(str::to_string),
                base.to_source(0),
            ))
        });
        // A lookup proves its name exists on this machine, also for the shell code it runs
        // here (`command -v X && bash -c 'X'`, `… && cat <<EOF | sh`); not on another host.
        let at = self.at;
        let here = lang == Language::Bash && host == self.host && !self.elsewhere;
        let proven: Vec<String> = if here {
            self.guards
                .iter()
                .filter(|(r, _)| r.contains(&at))
                .map(|(_, name)| name.clone())
                .collect()
        } else {
            Vec::new()
        };
        // An OS check holds for all the code run on this machine.
        let os = if host == self.host && !self.elsewhere {
            self.os_at(at)
        } else {
            OsSet::ANY
        };
        let n = self.out.commands.len();
        parse_embedded(
            code,
            lang,
            &base,
            host,
            self.out,
            self.depth.saturating_add(1),
        );
        let passed = here && !self.passed.is_empty();
        if !proven.is_empty() || !os.is_any() || passed {
            for c in self.out.commands.iter_mut().skip(n) {
                if c.host.as_deref() == host {
                    c.guarded |=
                        proven.contains(&c.name) || (passed && self.passed.proves(&c.name, at));
                    c.os = c.os & os;
                }
            }
        }
        if !local.is_empty() && self.out.commands.len() > n {
            let local: Vec<Range<usize>> = local
                .iter()
                .map(|r| self.base.to_source(r.start)..self.base.to_source(r.end))
                .collect();
            let tail = self.out.commands.split_off(n);
            self.out.commands.extend(
                tail.into_iter()
                    .filter(|c| !local.iter().any(|r| r.contains(&c.name_span.start))),
            );
        }
    }

    /// Skips a wrapper's options (getopt style: `-u root`, `-uroot`, `-Eu root`, `--user=root`,
    /// `--user root`, `--`); returns the index of its first operand and the short option
    /// letters seen.
    fn options(
        &self,
        words: &[Word<'t>],
        args: Range<usize>,
        short_val: &[u8],
        long_val: &[&str],
    ) -> (usize, u128) {
        options(|i| self.value(words, i), args, short_val, long_val)
    }

    /// Skips `NAME=value` words (`env A=1 cmd`, `sudo LANG=C cmd`).
    fn skip_assignments(&self, words: &[Word<'t>], mut j: usize, to: usize) -> usize {
        while j < to {
            let text = self.src.get(words[j].start..words[j].end).unwrap_or("");
            if !is_assignment(text) {
                break;
            }
            j += 1;
        }
        j
    }

    fn is_quoted(&self, w: Word<'t>) -> bool {
        let kind = w.node.kind_id();
        kind == self.k.raw_string || kind == self.k.string || kind == self.k.concatenation
    }

    /// The word after quote removal, or `None` when it depends on an expansion.
    fn value(&self, words: &[Word<'t>], i: usize) -> Option<Cow<'a, str>> {
        let w = words.get(i)?;
        unquote(self.src.get(w.start..w.end)?)
    }

    /// The checks among the top-level statements under `root` that end the script when they
    /// fail ([`Ending`]): `C || exit`, `C || { …; exit; }`, `C && exit`, `if C; then …; exit;
    /// fi` (also with an `else`, or with the `exit` in the `else`). The statement must start
    /// its line and be free of syntax errors; `exit` must be one of the statements of its
    /// branch, not nested further. A statement run in the background (`C || exit 1 &`) is
    /// none: its `exit` ends only the background subshell, and the script runs on.
    fn endings(&self, root: Node<'t>) -> Vec<Ending> {
        let k = self.k;
        let mut out = Vec::new();
        let mut cursor = root.walk();
        for node in root.named_children(&mut cursor) {
            if (node.kind_id() != k.list && node.kind_id() != k.if_statement)
                || node.has_error()
                || node.next_sibling().is_some_and(|n| n.kind() == "&")
                || !super::os::starts_line(self.src, node.start_byte())
                || !self
                    .src
                    .get(node.byte_range())
                    .is_some_and(|t| may_end_script(t, Language::Bash))
            {
                continue;
            }
            let proven = if node.kind_id() == k.list {
                self.list_ending(node)
            } else {
                self.if_ending(node)
            };
            let Some((names, os)) = proven else {
                continue;
            };
            let ending = Ending {
                from: node.end_byte(),
                os,
                names,
                ..Ending::default()
            };
            if !ending.is_empty() {
                out.push(ending);
            }
        }
        out
    }

    /// `C || exit`, `C && exit`: what the code after it knows of `C`.
    fn list_ending(&self, node: Node<'t>) -> Option<(Vec<String>, OsSet)> {
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        let op = children
            .iter()
            .position(|c| matches!(c.kind(), "&&" | "||"))?;
        // `cat <<EOF; a; b` is read as `cat <<EOF &&a&&b` (`patch_heredocs`): no check there.
        let op_text = self.src.get(children[op].byte_range())?;
        let (Some(left), Some(exit)) = (
            children[..op]
                .iter()
                .next_back()
                .filter(|c| self.is_statement(**c)),
            children[op + 1..]
                .iter()
                .next()
                .filter(|c| self.is_statement(**c)),
        ) else {
            return None;
        };
        if !self.ends_script(*exit) {
            return None;
        }
        let proof = self.proof(*left, 0);
        match op_text {
            "||" => Some((proof.if_true, proof.os.if_true)),
            "&&" => Some((proof.if_false, proof.os.if_false)),
            _ => None,
        }
    }

    /// `if C; then …; exit; fi` (the code after it runs when `C` failed), `if C; then …; else
    /// …; exit; fi` (when it succeeded); not with `elif`.
    fn if_ending(&self, node: Node<'t>) -> Option<(Vec<String>, OsSet)> {
        let k = self.k;
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        if children.iter().any(|c| c.kind_id() == k.elif_clause) {
            return None;
        }
        let then = children.iter().position(|c| c.kind() == "then")?;
        let cond = children[..then]
            .iter()
            .rev()
            .find(|c| self.is_statement(**c))?;
        let body_ends = children[then + 1..]
            .iter()
            .take_while(|c| c.kind_id() != k.else_clause && c.kind() != "fi")
            .any(|c| self.ends_script(*c));
        let else_ends = children
            .iter()
            .find(|c| c.kind_id() == k.else_clause)
            .is_some_and(|e| {
                let mut cursor = e.walk();
                let ends = e.named_children(&mut cursor).any(|c| self.ends_script(c));
                ends
            });
        let proof = self.proof(*cond, 0);
        match (body_ends, else_ends) {
            (true, false) => Some((proof.if_false, proof.os.if_false)),
            (false, true) => Some((proof.if_true, proof.os.if_true)),
            _ => None,
        }
    }

    /// Whether running `node` ends the script: `exit`, or a `{ …; }` group one of whose
    /// statements does.
    fn ends_script(&self, node: Node<'t>) -> bool {
        self.ends_script_within(node, 0)
    }

    fn ends_script_within(&self, node: Node<'t>, depth: u8) -> bool {
        let k = self.k;
        let node = match node.kind_id() == k.redirected_statement {
            true => match node.child_by_field_name("body") {
                Some(b) => b,
                None => return false,
            },
            false => node,
        };
        if node.kind_id() == k.command {
            return node
                .child_by_field_name("name")
                .and_then(|n| self.src.get(n.byte_range()))
                == Some("exit");
        }
        if node.kind_id() == k.compound_statement && depth < 4 {
            let mut cursor = node.walk();
            let ends = node
                .named_children(&mut cursor)
                .any(|c| self.ends_script_within(c, depth + 1));
            return ends;
        }
        false
    }

    /// `L && R` runs `R` only when `L` succeeded, `L || R` only when it failed: the names `L`
    /// then proves present guard `R`.
    fn list_guards(&mut self, node: Node<'t>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        let Some(op) = children
            .iter()
            .position(|c| matches!(c.kind(), "&&" | "||"))
        else {
            return;
        };
        let left = children[..op].iter().rev().find(|c| self.is_statement(**c));
        let right = children[op + 1..].iter().find(|c| self.is_statement(**c));
        let (Some(left), Some(right)) = (left, right) else {
            return;
        };
        // `cat <<EOF; a; b` is read as `cat <<EOF &&a&&b` (`patch_heredocs`): no guard there.
        if !matches!(self.src.get(children[op].byte_range()), Some("&&" | "||")) {
            return;
        }
        let proof = self.proof(*left, 0);
        let (names, os) = if children[op].kind() == "&&" {
            (proof.if_true, proof.os.if_true)
        } else {
            (proof.if_false, proof.os.if_false)
        };
        // `L && cat <<EOF | sh`: the grammar hangs the heredoc, and the rest of the pipeline,
        // on the whole list; they belong to its right side.
        let mut range = right.byte_range();
        if let Some((_, end)) = self.redirected_body.filter(|(id, _)| *id == node.id()) {
            range.end = end;
        }
        self.os_guard(node.start_byte(), range.clone(), os);
        self.guard(node.start_byte(), range, names);
    }

    /// `if C; then A; elif D; then B; else E; fi`: `A` runs when `C` succeeded, `B` when `C`
    /// failed and `D` succeeded, `E` when both failed.
    fn if_guards(&mut self, node: Node<'t>) {
        let k = self.k;
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        let Some((proof, body)) = self.branch(&children, node.end_byte()) else {
            return;
        };
        self.os_guard(node.start_byte(), body.clone(), proof.os.if_true);
        self.guard(node.start_byte(), body, proof.if_true);
        // What every condition so far proves by having failed.
        let mut failed = proof.if_false;
        let mut failed_os = proof.os.if_false;
        for c in &children {
            if c.kind_id() == k.elif_clause {
                let mut cursor = c.walk();
                let parts: Vec<Node<'t>> = c.children(&mut cursor).collect();
                match self.branch(&parts, c.end_byte()) {
                    Some((proof, body)) => {
                        let mut names = failed.clone();
                        names.extend(proof.if_true);
                        self.os_guard(
                            node.start_byte(),
                            body.clone(),
                            failed_os & proof.os.if_true,
                        );
                        self.guard(node.start_byte(), body, names);
                        failed.extend(proof.if_false);
                        failed_os = failed_os & proof.os.if_false;
                    }
                    // An `elif` not read: what follows it is known to have passed the
                    // conditions before it, no more.
                    None => self.os_guard(node.start_byte(), c.byte_range(), failed_os),
                }
            } else if c.kind_id() == k.else_clause {
                self.os_guard(node.start_byte(), c.byte_range(), failed_os);
                self.guard(node.start_byte(), c.byte_range(), failed.clone());
            }
        }
    }

    /// `while C; do A; done` runs `A` only after `C` succeeded, `until C; do A; done` only after
    /// it failed.
    fn loop_guards(&mut self, node: Node<'t>) {
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        let until = children.first().is_some_and(|c| c.kind() == "until");
        let Some(cond) = children
            .iter()
            .take_while(|c| c.id() != body.id())
            .filter(|c| self.is_statement(**c))
            .last()
        else {
            return;
        };
        let proof = self.proof(*cond, 0);
        let (names, os) = if until {
            (proof.if_false, proof.os.if_false)
        } else {
            (proof.if_true, proof.os.if_true)
        };
        self.os_guard(node.start_byte(), body.byte_range(), os);
        self.guard(node.start_byte(), body.byte_range(), names);
    }

    /// The condition of an `if` or `elif` (the last statement before `then`, whose status
    /// decides) and the range of its body (from `then` to the next clause, `fi` or `end`).
    fn branch(&self, children: &[Node<'t>], end: usize) -> Option<(Proof, Range<usize>)> {
        let k = self.k;
        let then = children.iter().position(|c| c.kind() == "then")?;
        let cond = children[..then]
            .iter()
            .rev()
            .find(|c| self.is_statement(**c))?;
        let body_end = children[then + 1..]
            .iter()
            .find(|c| {
                c.kind_id() == k.elif_clause || c.kind_id() == k.else_clause || c.kind() == "fi"
            })
            .map_or(end, |c| c.start_byte());
        let body_start = children[then].end_byte();
        Some((self.proof(*cond, 0), body_start..body_end.max(body_start)))
    }

    fn is_statement(&self, node: Node<'t>) -> bool {
        node.is_named() && node.kind_id() != self.k.comment
    }

    /// Records that `names` were looked up before `range` runs. Guards that ended before
    /// `at` (where the walk is) are dropped on the way.
    fn guard(&mut self, at: usize, range: Range<usize>, names: Vec<String>) {
        self.guards.retain(|(r, _)| r.end > at);
        let src = self.src;
        // The links of a chain `command -v X && a && … && z` are entered from the last: each
        // one's guard ends where the one met before starts but for the `&&` between them, and
        // joins it, so that a chain of thousands keeps one guard and not thousands to search.
        let joins = |r: &Range<usize>| {
            range.end <= r.start
                && src.get(range.end..r.start).is_some_and(|gap| {
                    gap.bytes()
                        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'&' | b'|'))
                })
        };
        for name in names {
            let recent = self.guards.len().saturating_sub(8);
            match self.guards[recent..]
                .iter_mut()
                .find(|(r, n)| *n == name && joins(r))
            {
                Some((r, _)) => r.start = range.start,
                None => self.guards.push((range.clone(), name)),
            }
        }
    }

    /// The command names a condition proves present when it succeeds, and when it fails.
    fn proof(&self, node: Node<'t>, depth: u8) -> Proof {
        let k = self.k;
        let kind = node.kind_id();
        if depth > 16 {
            return Proof::default();
        }
        if kind == k.command {
            if let Some(proof) = self.test_builtin(node) {
                return proof;
            }
            return Proof {
                if_true: self.lookup(node).into_iter().collect(),
                ..Proof::default()
            };
        }
        if kind == k.test_command {
            let double = self.src.get(node.start_byte()..node.start_byte() + 2) == Some("[[");
            let mut cursor = node.walk();
            let inner: Vec<Node<'t>> = node
                .named_children(&mut cursor)
                .filter(|c| self.is_statement(*c))
                .collect();
            return self.test_proof(&inner, double);
        }
        if kind == k.redirected_statement {
            return node
                .child_by_field_name("body")
                .map(|b| self.proof(b, depth + 1))
                .unwrap_or_default();
        }
        if kind == k.negated_command {
            let Some(inner) = node.named_child(0) else {
                return Proof::default();
            };
            return self.proof(inner, depth + 1).negated();
        }
        if kind == k.list {
            return self.list_proof(node, depth);
        }
        Proof::default()
    }

    /// The proof of a list: both sides' together. A chain `a && b && … && z` is a list whose
    /// left side is a list, as deep as the chain is long (an agent's command may hold
    /// thousands): its left spine is followed in a loop, not by recursion, and each list's
    /// proof is kept for when the walk reaches it.
    fn list_proof(&self, node: Node<'t>, depth: u8) -> Proof {
        let k = self.k;
        // Down the left side to a list whose proof is known, or to a left side no list.
        let mut spine = Vec::new();
        let mut at = node;
        let mut known = loop {
            if let Some(p) = self.list_proofs.borrow().get(&at.id()) {
                break p.clone();
            }
            if at.kind_id() != k.list {
                break self.proof(at, depth + 1);
            }
            let sides = self.list_sides(at);
            spine.push((at, sides));
            match sides {
                Some((Some(left), _, Some(_))) => at = left,
                _ => break Proof::default(),
            }
        };
        for (list, sides) in spine.into_iter().rev() {
            known = match sides {
                Some((Some(_), and, Some(right))) => {
                    let b = self.proof(right, depth + 1);
                    match and {
                        true => known.and(b),
                        false => known.or(b),
                    }
                }
                _ => Proof::default(),
            };
            self.list_proofs
                .borrow_mut()
                .insert(list.id(), known.clone());
        }
        known
    }

    /// A list's statements left and right of its `&&` or `||` (`None` where there is none),
    /// and whether it is `&&`; `None` without either operator.
    fn list_sides(&self, node: Node<'t>) -> Option<(Option<Node<'t>>, bool, Option<Node<'t>>)> {
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
        let op = children
            .iter()
            .position(|c| matches!(c.kind(), "&&" | "||"))?;
        let statement = |c: &&Node<'t>| self.is_statement(**c);
        let left = children[..op].iter().next_back().filter(statement).copied();
        let right = children[op + 1..].iter().next().filter(statement).copied();
        Some((left, children[op].kind() == "&&", right))
    }

    /// `test EXPR`: what the expression proves, as in `[ EXPR ]`; `None` for another command.
    fn test_builtin(&self, node: Node<'t>) -> Option<Proof> {
        let name = node.child_by_field_name("name")?;
        if self.src.get(name.byte_range())? != "test" {
            return None;
        }
        let mut cursor = node.walk();
        let args: Vec<Node<'t>> = node
            .children_by_field_name("argument", &mut cursor)
            .collect();
        Some(self.test_proof(&args, false))
    }

    /// What a test expression proves: `[ "$(uname)" = Darwin ]`, `[[ $OSTYPE == darwin* ]]`,
    /// `[ -x "$(command -v X)" ]`, and those joined inside the test (`&&`, `||`, `!` and
    /// parentheses in `[[ ]]`; `-a`, `-o` and `!` in `[ ]` and `test`). The grammar's tree
    /// of `[ a = b -a c ]` does not follow `test`'s precedence, so the expression is read
    /// again from its words and operators in order, as `test` reads its arguments. Anything
    /// not read whole proves nothing.
    fn test_proof(&self, nodes: &[Node<'t>], double: bool) -> Proof {
        let k = self.k;
        // The words and operators in source order: the grammar's expression nodes opened.
        let mut tokens = Vec::new();
        let mut stack: Vec<Node<'t>> = nodes.iter().rev().copied().collect();
        while let Some(n) = stack.pop() {
            if tokens.len() > MAX_TEST_TOKENS {
                return Proof::default();
            }
            let kind = n.kind_id();
            if kind == k.comment {
                continue;
            }
            if kind == k.binary_expression
                || kind == k.unary_expression
                || kind == k.parenthesized_expression
            {
                let mut cursor = n.walk();
                let children: Vec<Node<'t>> = n.children(&mut cursor).collect();
                stack.extend(children.into_iter().rev());
            } else {
                tokens.push(n);
            }
        }
        let mut reader = TestReader {
            tokens: &tokens,
            at: 0,
            double,
        };
        match self.test_or(&mut reader, 0) {
            Some(proof) if reader.at == tokens.len() => proof,
            _ => Proof::default(),
        }
    }

    /// `A || B` in `[[ ]]`, `A -o B` in `[ ]`: the loosest operator.
    fn test_or(&self, r: &mut TestReader<'_, 't>, depth: u8) -> Option<Proof> {
        let op = if r.double { "||" } else { "-o" };
        let mut proof = self.test_and(r, depth)?;
        while r.peek(self.src, 0) == Some(op) {
            r.at += 1;
            proof = proof.or(self.test_and(r, depth)?);
        }
        Some(proof)
    }

    /// `A && B` in `[[ ]]`, `A -a B` in `[ ]`.
    fn test_and(&self, r: &mut TestReader<'_, 't>, depth: u8) -> Option<Proof> {
        let op = if r.double { "&&" } else { "-a" };
        let mut proof = self.test_not(r, depth)?;
        while r.peek(self.src, 0) == Some(op) {
            r.at += 1;
            proof = proof.and(self.test_not(r, depth)?);
        }
        Some(proof)
    }

    /// `! A`, `( A )` (in `[[ ]]`), or one comparison or unary test.
    fn test_not(&self, r: &mut TestReader<'_, 't>, depth: u8) -> Option<Proof> {
        if depth > 32 {
            return None;
        }
        let src = self.src;
        match r.peek(src, 0)? {
            "!" => {
                r.at += 1;
                return self.test_not(r, depth + 1).map(Proof::negated);
            }
            "(" if r.double => {
                r.at += 1;
                let inner = self.test_or(r, depth + 1)?;
                if r.peek(src, 0) != Some(")") {
                    return None;
                }
                r.at += 1;
                return Some(inner);
            }
            _ => {}
        }
        let binary = |op: &str| {
            matches!(
                op,
                "=" | "=="
                    | "!="
                    | "=~"
                    | "<"
                    | ">"
                    | "-eq"
                    | "-ne"
                    | "-lt"
                    | "-le"
                    | "-gt"
                    | "-ge"
                    | "-nt"
                    | "-ot"
                    | "-ef"
            )
        };
        if r.peek(src, 1).is_some_and(binary) {
            let (a, op, b) = (r.tokens[r.at], r.peek(src, 1)?, *r.tokens.get(r.at + 2)?);
            r.at += 3;
            let os = self.os_compare(a, op, b, r.double).unwrap_or_default();
            return Some(Proof {
                os,
                ..Proof::default()
            });
        }
        let first = r.peek(src, 0)?;
        let unary =
            first.len() == 2 && first.starts_with('-') && first.as_bytes()[1].is_ascii_alphabetic();
        if unary && r.at + 1 < r.tokens.len() {
            let operand = r.tokens[r.at + 1];
            r.at += 2;
            return Some(Proof {
                if_true: self.tested_name(first, operand).into_iter().collect(),
                ..Proof::default()
            });
        }
        // A lone word: true when it is not empty.
        r.at += 1;
        Some(Proof::default())
    }

    /// `a OP b` with one side an OS probe (`$(uname)`, `$OSTYPE`) and the other a string: in
    /// `[[ ]]` (`glob`) an unquoted right side is a pattern and `=~` a regex; in `[ ]` and
    /// `test`, both are strings.
    fn os_compare(&self, a: Node<'t>, op: &str, b: Node<'t>, glob: bool) -> Option<OsSplit> {
        let text = |n: Node<'t>| self.src.get(n.byte_range());
        let (probe, other, probe_left) = match self.probe_of(text(a)?, a.start_byte()) {
            Some(p) => (p, b, true),
            None => (self.probe_of(text(b)?, b.start_byte())?, a, false),
        };
        let other = text(other)?;
        let split = match op {
            "=" | "==" | "!=" if glob && probe_left => {
                let re = glob_regex(other)?;
                probe.split(|v| re.is_match(v))
            }
            "=" | "==" | "!=" => {
                let s = unquote(other)?;
                probe.split(|v| v == s)
            }
            "=~" if glob && probe_left => {
                if other.contains(['\'', '"', '$', '`']) {
                    return None;
                }
                let re = regex::Regex::new(other).ok()?;
                probe.split(|v| re.is_match(v))
            }
            _ => return None,
        };
        Some(if op == "!=" { split.negated() } else { split })
    }

    /// The OS probe a word at `at` reads: the probe itself (`"$(uname)"`, `$OSTYPE`), or a
    /// variable set to one before it (`os=$(uname -s)` … `"$os"`, see [`probe_variables`]).
    fn probe_of(&self, word: &str, at: usize) -> Option<Probe> {
        Probe::of_word(word).or_else(|| {
            let name = variable_read(word)?;
            self.probe_vars
                .get_or_init(|| probe_variables(self.src))
                .iter()
                .find(|(n, set, _)| n == name && *set < at)
                .map(|(_, _, p)| *p)
        })
    }

    /// `case WORD in P1|P2) A ;; P3) B ;; *) C ;; esac` on an OS probe: each arm runs on the
    /// families its patterns may match, less those an earlier arm took whole.
    fn case_guards(&mut self, node: Node<'t>) {
        let k = self.k;
        let Some(probe) = node
            .child_by_field_name("value")
            .and_then(|v| self.probe_of(self.src.get(v.byte_range())?, v.start_byte()))
        else {
            return;
        };
        // The families no arm so far has taken whole.
        let mut left = OsSet::ANY;
        // The families on which the arm before falls into this one (`;&`).
        let mut carried = OsSet::NONE;
        let mut cursor = node.walk();
        let items: Vec<Node<'t>> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind_id() == k.case_item)
            .collect();
        for item in items {
            let mut cursor = item.walk();
            let patterns: Vec<Node<'t>> =
                item.children_by_field_name("value", &mut cursor).collect();
            let mut split = OsSplit {
                if_true: OsSet::NONE,
                if_false: OsSet::ANY,
            };
            for p in patterns {
                let re = self.src.get(p.byte_range()).and_then(glob_regex);
                let Some(re) = re else {
                    // An arm not read may take any family: later arms know nothing more.
                    split = OsSplit::default();
                    break;
                };
                split = split.or(probe.split(|v| re.is_match(v)));
            }
            let arm = (left & split.if_true) | carried;
            self.os_guard(node.start_byte(), item.byte_range(), arm);
            // `;&` runs the next arm's body too; `;;&` tests its patterns whatever this one
            // matched.
            let end = (0..item.child_count())
                .filter_map(|i| item.child(i))
                .find(|c| matches!(c.kind(), ";;" | ";&" | ";;&"))
                .map(|c| c.kind());
            carried = OsSet::NONE;
            match end {
                Some(";&") => {
                    carried = arm;
                    left = left & split.if_false;
                }
                Some(";;&") => {}
                _ => left = left & split.if_false,
            }
        }
    }

    /// Records that `range` runs only on the families `os`.
    fn os_guard(&mut self, at: usize, range: Range<usize>, os: OsSet) {
        self.os_guards.retain(|(r, _)| r.end > at);
        if os.is_any() {
            return;
        }
        // A chain `[ "$(uname)" = Linux ] && a && … && z` is entered from its last link: each
        // joins the guard met before it, as in `guard`.
        let src = self.src;
        let recent = self.os_guards.len().saturating_sub(8);
        let joined = self.os_guards[recent..].iter_mut().find(|(r, set)| {
            *set == os
                && range.end <= r.start
                && src.get(range.end..r.start).is_some_and(|gap| {
                    gap.bytes()
                        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'&' | b'|'))
                })
        });
        match joined {
            Some((r, _)) => r.start = range.start,
            None => self.os_guards.push((range, os)),
        }
    }

    /// The families the code at `at` can run on.
    fn os_at(&self, at: usize) -> OsSet {
        self.os_guards
            .iter()
            .filter(|(r, _)| r.contains(&at))
            .fold(self.passed.at(at).0, |os, (_, set)| os & *set)
    }

    /// The name a lookup command looks up: `command -v X`, `type [-afpPt] X`, `hash X`,
    /// `which X`, `test -x "$(command -v X)"`. One static name only (`type a b` succeeds when
    /// either is found, in some shells).
    fn lookup(&self, node: Node<'t>) -> Option<String> {
        let name_node = node.child_by_field_name("name")?;
        let word = unquote(self.src.get(name_node.byte_range())?)?;
        let name = command_name(&word, Language::Bash).0;
        let mut cursor = node.walk();
        let args: Vec<Node<'t>> = node
            .children_by_field_name("argument", &mut cursor)
            .collect();
        if name == "test" {
            let [op, operand] = args[..] else {
                return None;
            };
            return self.tested_name(self.src.get(op.byte_range())?, operand);
        }
        let allowed = match name {
            "command" => "vVp",
            "type" => "afpPt",
            "hash" => "t",
            "which" => "as",
            _ => return None,
        };
        let mut rest = &args[..];
        let mut verbose = false;
        while let Some(first) = rest.first() {
            let text = unquote(self.src.get(first.byte_range())?)?;
            if text == "--" {
                rest = &rest[1..];
                break;
            }
            let Some(flags) = text.strip_prefix('-').filter(|f| !f.is_empty()) else {
                break;
            };
            if !flags.chars().all(|c| allowed.contains(c)) {
                return None;
            }
            verbose |= flags.contains(['v', 'V']);
            rest = &rest[1..];
        }
        // Plain `command X` runs X.
        if name == "command" && !verbose {
            return None;
        }
        let [target] = rest else {
            return None;
        };
        let target = unquote(self.src.get(target.byte_range())?)?;
        let looked_up = command_name(&target, Language::Bash).0;
        let glob = |c: char| matches!(c, '*' | '?' | '[' | '=' | ' ');
        (!looked_up.is_empty() && !looked_up.contains(glob)).then(|| looked_up.to_string())
    }

    /// `-x "$(command -v X)"`, `-n "$(which X)"`, `-x /usr/sbin/X`: the name a test proves
    /// present when it succeeds.
    fn tested_name(&self, op: &str, operand: Node<'t>) -> Option<String> {
        let k = self.k;
        if op != "-x" && op != "-n" {
            return None;
        }
        let mut node = operand;
        if node.kind_id() == k.string && node.named_child_count() == 1 {
            node = node.named_child(0)?;
        }
        if node.kind_id() == k.command_substitution {
            let mut cursor = node.walk();
            let mut inner = node
                .named_children(&mut cursor)
                .filter(|c| self.is_statement(*c));
            let (Some(c), None) = (inner.next(), inner.next()) else {
                return None;
            };
            let c = if c.kind_id() == k.redirected_statement {
                c.child_by_field_name("body")?
            } else {
                c
            };
            return (c.kind_id() == k.command).then(|| self.lookup(c)).flatten();
        }
        let path = unquote(self.src.get(operand.byte_range())?)?;
        if op == "-x" && path.starts_with('/') && !path.ends_with('/') {
            let name = command_name(&path, Language::Bash).0;
            if !name.contains(['*', '?', '[', ' ']) {
                return Some(name.to_string());
            }
        }
        None
    }

    /// Adds the code regions: everything outside the holes, mapped to the document.
    fn finish(&mut self) {
        let mut holes = std::mem::take(&mut self.holes);
        let (src, base, host) = (self.src, self.base, self.host);
        let code = &mut self.out.code;
        code_spans(src, 0..src.len(), &mut holes, |span| {
            code.push(CodeRegion {
                span: base.to_source(span.start)..base.to_source(span.end - 1) + 1,
                language: Language::Bash,
                host: host.map(str::to_string),
                min_powershell: None,
            })
        });
    }
}

/// The code of `within`: what lies between `holes` (comments, quoted text, heredoc text), each
/// piece trimmed of blanks, in order. The walk's code regions, and the quick reader's.
pub(crate) fn code_spans(
    src: &str,
    within: Range<usize>,
    holes: &mut [Range<usize>],
    mut each: impl FnMut(Range<usize>),
) {
    holes.sort_unstable_by_key(|h| h.start);
    let mut pos = within.start;
    for h in holes
        .iter()
        .chain(std::iter::once(&(within.end..within.end)))
    {
        if h.start > pos {
            if let Some(text) = src.get(pos..h.start) {
                let trimmed = text.trim_start();
                let from = pos + (text.len() - trimmed.len());
                let to = from + trimmed.trim_end().len();
                if to > from {
                    each(from..to);
                }
            }
        }
        pos = pos.max(h.end);
    }
}

/// How many names one condition may prove present: a chain of lookups longer than this is no
/// script a person writes, and copying its names down the chain would be quadratic.
const MAX_PROVEN: usize = 64;

/// How many words and operators one test expression may have to be read: more is no check a
/// person writes.
const MAX_TEST_TOKENS: usize = 256;

/// The command names a condition proves present, when it succeeds and when it fails.
#[derive(Clone, Default)]
struct Proof {
    if_true: Vec<String>,
    if_false: Vec<String>,
    /// The OS families on which the condition can succeed, and fail.
    os: OsSplit,
}

impl Proof {
    fn negated(self) -> Proof {
        Proof {
            if_true: self.if_false,
            if_false: self.if_true,
            os: self.os.negated(),
        }
    }

    /// `a && b`: both succeeded; a failure could come from either side and proves no name.
    fn and(self, b: Proof) -> Proof {
        Proof {
            if_true: joined(self.if_true, b.if_true),
            if_false: Vec::new(),
            os: self.os.and(b.os),
        }
    }

    /// `a || b`: both failed; a success could come from either side and proves no name.
    fn or(self, b: Proof) -> Proof {
        Proof {
            if_true: Vec::new(),
            if_false: joined(self.if_false, b.if_false),
            os: self.os.or(b.os),
        }
    }
}

fn joined(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    a.extend(b);
    a.truncate(MAX_PROVEN);
    a
}

/// The words and operators of one test expression, read front to back.
struct TestReader<'n, 't> {
    tokens: &'n [Node<'t>],
    at: usize,
    /// `[[ ]]`: `&&`, `||`, parentheses, patterns; else `[ ]` or `test`: `-a`, `-o`, strings.
    double: bool,
}

impl<'t> TestReader<'_, 't> {
    /// The text of the token `ahead` places on.
    fn peek<'s>(&self, src: &'s str, ahead: usize) -> Option<&'s str> {
        let n = self.tokens.get(self.at + ahead)?;
        src.get(n.byte_range())
    }
}

/// Whether the blanks between two words of a command hold a line break that is no line
/// continuation (the grammar's slip: see `command`).
fn ends_line(src: &str, from: usize, to: usize) -> bool {
    let b = src.as_bytes();
    (from..to.min(b.len())).any(|i| {
        let before = &b[..i];
        let before = before.strip_suffix(b"\r").unwrap_or(before);
        b[i] == b'\n' && !before.ends_with(b"\\")
    })
}

/// The words from `i` on that touch each other: one word to the shell (tree-sitter-bash splits
/// `'a'\ b` in two).
fn shell_word<'w, 't>(src: &str, words: &'w [Word<'t>], i: usize) -> &'w [Word<'t>] {
    let Some(rest) = words.get(i..) else {
        return &[];
    };
    let n = rest
        .windows(2)
        .take_while(|pair| {
            pair[0].end == pair[1].start
                || escaped_blank(src, pair[0].end, pair[1].start).is_some()
                || is_continuation(src, pair[0].end, pair[1].start)
        })
        .count();
    &rest[..rest.len().min(n + 1)]
}

/// A tmux key name that `send-keys` presses rather than types (`C-c`, `M-x`, `Escape`).
/// A tmux key that ends a line typed into a shell: only then do the keys typed before it run
/// (tmux reads key names case-insensitively, and a modifier prefix too).
fn is_tmux_enter(word: &str) -> bool {
    ["Enter", "KPEnter", "C-m", "C-j"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

fn is_tmux_key(word: &str) -> bool {
    let modified = ["C-", "M-", "S-"].iter().any(|m| {
        word.strip_prefix(m)
            .is_some_and(|k| !k.is_empty() && !k.contains(' '))
    });
    modified
        || matches!(
            word,
            "Escape" | "Space" | "Tab" | "BTab" | "BSpace" | "Up" | "Down" | "Left" | "Right"
        )
}

/// Whether the bytes between two words are only a line continuation (`\` newline, also
/// before CR LF): the shell joins the words into one.
fn is_continuation(src: &str, from: usize, to: usize) -> bool {
    matches!(src.get(from..to), Some("\\\n" | "\\\r\n"))
}

/// The blank of a `\ ` (or backslash-tab) between two words: the grammar leaves it out of
/// both, but it joins them into one shell word.
fn escaped_blank(src: &str, from: usize, to: usize) -> Option<char> {
    match src.get(from..to)? {
        "\\ " => Some(' '),
        "\\\t" => Some('\t'),
        _ => None,
    }
}

fn last_named_child(node: Node<'_>) -> Option<Node<'_>> {
    let n = node.named_child_count();
    node.named_child(n.checked_sub(1)?)
}

/// `NAME=…` with a valid shell variable name.
pub(crate) fn is_assignment(text: &str) -> bool {
    let Some(eq) = text.find('=') else {
        return false;
    };
    let name = &text[..eq];
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The host of an ssh destination: `user@host`, `ssh://user@host:port`.
fn ssh_host(dest: &str) -> &str {
    let (rest, url) = match dest.strip_prefix("ssh://") {
        Some(r) => (r, true),
        None => (dest, false),
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = if url {
        host.split('/').next().unwrap_or(host)
    } else {
        host
    };
    let host = match host.strip_prefix('[') {
        Some(h) => h.split(']').next().unwrap_or(h),
        None if url => host.split(':').next().unwrap_or(host),
        None => host,
    };
    host
}

/// Shell quote removal for a static word; `None` if any part of it is expanded.
pub(crate) fn unquote(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains(['\'', '"', '\\', '$', '`']) {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => loop {
                match chars.next()? {
                    '"' => break,
                    '$' | '`' => return None,
                    '\\' => match chars.next()? {
                        '\n' => {}
                        c @ ('$' | '`' | '"' | '\\') => out.push(c),
                        c => {
                            out.push('\\');
                            out.push(c);
                        }
                    },
                    c => out.push(c),
                }
            },
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(c) => out.push(c),
            },
            '$' | '`' => return None,
            c => out.push(c),
        }
    }
    Some(Cow::Owned(out))
}

/// Appends the text a double-quoted string's content stands for when another shell runs it
/// (`\"`, `\\`, `\$` and `` \` `` lose their backslash) to `code`, mapping it back to
/// `content_start`-based source offsets.
fn push_unescaped_double_quoted(
    code: &mut String,
    map: &mut OffsetMap,
    content: &str,
    content_start: usize,
) {
    let bytes = content.as_bytes();
    map.push(code.len(), content_start);
    let mut last = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' && matches!(bytes[i + 1], b'"' | b'\\' | b'$' | b'`') {
            code.push_str(&content[last..i]);
            map.push(code.len(), content_start + i + 1);
            last = i + 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    code.push_str(&content[last..]);
}

/// Appends an unquoted word after quote removal (`c\ d` is `c d`; a backslash-newline
/// vanishes) to `code`, mapping it back to `word_start`-based source offsets.
/// The text `$'…'` stands for, `body` being what is between its quotes, with the source
/// offset of each of its bytes (`start` being the body's; a byte an escape makes maps to the
/// escape's start, or its end if it is the last): bash's escapes (`\n`, `\x64`, `\163`,
/// `\u00e9`, `\cA`, `\'` …) resolved, an unknown one kept as written. `None` where the bytes
/// are not UTF-8 (`\xff` alone) or a code point is invalid.
pub(crate) fn ansi_c(body: &str, start: usize) -> Option<(String, Vec<usize>)> {
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut at = Vec::with_capacity(b.len());
    let mut i = 0;
    // The value of up to `max` digits of `radix` at `j`, and how many there were.
    let digits = |j: usize, radix: u32, max: usize| {
        let n = b[j.min(b.len())..]
            .iter()
            .take(max)
            .take_while(|c| (**c as char).is_digit(radix))
            .count();
        let value = body
            .get(j..j + n)
            .and_then(|d| u32::from_str_radix(d, radix).ok());
        (value.filter(|_| n > 0), n)
    };
    while i < b.len() {
        let from = start + i;
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            at.push(from);
            i += 1;
            continue;
        }
        let (bytes, used): (Vec<u8>, usize) = match b[i + 1] {
            b'a' => (vec![7], 2),
            b'b' => (vec![8], 2),
            b'e' | b'E' => (vec![0x1b], 2),
            b'f' => (vec![0x0c], 2),
            b'n' => (vec![b'\n'], 2),
            b'r' => (vec![b'\r'], 2),
            b't' => (vec![b'\t'], 2),
            b'v' => (vec![0x0b], 2),
            c @ (b'\\' | b'\'' | b'"' | b'?') => (vec![c], 2),
            b'c' if i + 2 < b.len() => (vec![b[i + 2] & 0x1f], 3),
            b'0'..=b'7' => {
                let (v, n) = digits(i + 1, 8, 3);
                (vec![v? as u8], 1 + n)
            }
            x @ (b'x' | b'u' | b'U') => {
                let max = match x {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                match digits(i + 2, 16, max) {
                    (Some(v), n) if x == b'x' => (vec![v as u8], 2 + n),
                    (Some(v), n) => {
                        let c = char::from_u32(v)?;
                        (c.to_string().into_bytes(), 2 + n)
                    }
                    // No digit: bash keeps the escape as written.
                    (None, _) => (vec![b'\\', x], 2),
                }
            }
            c => (vec![b'\\', c], 2),
        };
        at.extend(std::iter::repeat_n(from, bytes.len()));
        out.extend(bytes);
        i += used;
        if i >= b.len() {
            // The last byte maps to the escape's end: a range ending there ends after it.
            if let Some(last) = at.last_mut() {
                *last = start + i - 1;
            }
        }
    }
    String::from_utf8(out).ok().map(|s| (s, at))
}

/// Whether `word` holds a quote no backslash escapes.
fn has_bare_quote(word: &str) -> bool {
    let mut bytes = word.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'\'' | b'"' => return true,
            _ => {}
        }
    }
    false
}

fn push_unescaped_word(code: &mut String, map: &mut OffsetMap, word: &str, word_start: usize) {
    let bytes = word.as_bytes();
    map.push(code.len(), word_start);
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            code.push_str(&word[last..i]);
            let skip = if bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            map.push(code.len(), word_start + i + skip);
            last = (i + skip).min(bytes.len());
            // The escaped character itself is kept as written.
            i += skip + usize::from(skip == 1);
        } else {
            i += 1;
        }
    }
    code.push_str(word.get(last..).unwrap_or(""));
}

#[cfg(test)]
/// OS checks of every shape the walk reads (and some it does not), for the pruned-walk and
/// sparse-parse corpora.
pub(crate) const OS_CHECKS: &str = r#"if [ "$(uname)" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi
case "$(uname -s)" in Darwin) sysctl -n hw.ncpu ;; *) nproc ;; esac
if [[ "$OSTYPE" == linux* ]]; then nproc; fi
[[ $OSTYPE == darwin* ]] || nproc
if [ "$(uname)" = Darwin ]; then nproc; fi
case $OSTYPE in
  darwin*|*bsd*) sysctl -n hw.ncpu ;;
  linux-gnu*) readlink -f / ;&
  msys|cygwin) free -m ;;
  *) nproc ;;
esac
if test "$(uname -o)" = Msys; then a; elif [[ `uname` =~ ^MINGW ]]; then b; else bash -c 'nproc; readlink -f /'; fi
[ "$(uname -s)" != Darwin ] && sed -i 's/a/b/' f && ssh h nproc || nproc
if [ "$os" = Darwin ]; then nproc; fi
kernel=$(uname -s)
if [ "$kernel" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi
case "${kernel}" in Linux) free -m ;; *) readlink -f / ;; esac
[ ! "$(uname)" = Darwin ] && nproc; [[ ! $OSTYPE == linux* ]] || free -m
case "$(uname -s | tr '[:upper:]' '[:lower:]')" in darwin) readlink -f / ;; *) nproc ;; esac
"#;

/// Checks joined inside one test and checks that end the script, for the tests that compare
/// walks and parses (the sparse path must give every statement after a check what a whole
/// parse gives it, the check itself unparsed).
#[cfg(test)]
pub(crate) const ENDING_CHECKS: &str = r#"nproc
[ "$(uname)" = Linux ] || exit 1 &
if [ "$(uname)" != Linux ]; then exit 1; fi &
command -v nproc >/dev/null || exit 1 &
nproc
command -v tac >/dev/null || { echo 'need tac' >&2; exit 1; }
f() { [ "$(uname)" = Darwin ] || exit 1; }
for x in a; do [[ $OSTYPE == darwin* ]] || exit 1; done
[ "$(uname)" = Linux -o "$(uname)" = Darwin ] || exit 1
tac f
if [[ $OSTYPE == darwin* && -n $x ]]; then free -m; else readlink -f /; fi
if ! command -v readlink >/dev/null; then
  echo 'need readlink' >&2
  exit 1
fi
readlink -f /
cd /srv || exit 1
[ "$(uname)" = Darwin ] && exit 0
nproc
free -m
sed -i 's/a/b/' f
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_over_plain_commands_changes_no_command_and_no_region() {
        let mut scripts = crate::script::repository_scripts(&["sh", "bash"]);
        assert!(scripts.len() >= 4);
        scripts.push((
            "synthetic".into(),
            crate::synthetic::bash_script(3000, 1000, 7),
        ));
        scripts.push((
            "unquoted substitutions".into(),
            "n=$(nproc)\nfor f in $(ls /etc); do sed -i s/a/b/ $f; done\ndiff <(sort a) <(sort b)\n\
             echo `hostname` $((1+2)) ${x:-$(free -m)}\ncat f | tee >(grep x) > /dev/null\n\
             sudo -u me env A=$(id -u) systemctl restart x\n"
                .into(),
        ));
        // Grammar quirks in error-free trees: a subshell hung on a word, comments after an
        // operator or a bracket inside a command.
        for quirk in ["a(]]=b)\n", "cat <<<#c\nfree\n", "}]#declare\\\nsudo\n"] {
            scripts.push(("quirk".into(), quirk.into()));
        }
        scripts.push((
            "plain shapes".into(),
            "rm -rf !(keep.txt)\nls *.@(jpg|png)\ncp x{,.bak}\nA=1 B=2 cmd x > f 2>&1 < g\n\
             2>/dev/null cmd <<<x\necho ${#x} ${x#y} $[1+2] a#b \\\n  c\ncurl x#frag -o y\n\
             systemd-run --unit x free\ntmux send-keys -t s free Enter\nfind . -exec free {} \\;\n"
                .into(),
        ));
        scripts.push(("os checks".into(), OS_CHECKS.into()));
        scripts.push(("ending checks".into(), ENDING_CHECKS.into()));
        scripts.push((
            "escaped quotes and coproc".into(),
            r"bash -c 'echo '\''a'\''; nproc'
ssh h 'grep '\''x y'\'' f'
sh -c 'bash -c '\''nproc -a'\'''
coproc nproc --all
coproc N { free -m; }
"
            .into(),
        ));
        scripts.push((
            "glued heredocs".into(),
            "cat<<E>f\n$(id)\nE\nsh<<E>f|sh\nfree\nE\ncat <<EOF; a; command -v b; b;\nx\nEOF\n\
             cat<<E;\nx\nE\ncat <<E; command -v c && c\nx\nE\n$'se\\x64' x\ns$'ed' y\n\
             echo $'a\\nfree' | sh\n"
                .into(),
        ));
        let tokens = [
            "sed",
            " ",
            "\n",
            "'",
            "\"",
            "$(",
            "(",
            ")",
            "<(",
            "`",
            "{",
            "}",
            "#",
            "\\",
            "$a",
            "-i",
            "|",
            "&&",
            ";",
            "=",
            "x=1",
            "<<EOF",
            "EOF",
            "sudo",
            "bash -c",
            "if",
            "then",
            "fi",
            "command -v",
            "<<<",
            "]]",
            "[ \"$(uname)\" = Darwin ]",
            "case $OSTYPE in",
            "darwin*)",
            ";;",
            "esac",
        ];
        scripts.extend(
            crate::script::token_soups(&tokens, 2000, 24, 0x51_7cc1_b727_220a)
                .map(|s| ("soup".to_string(), s)),
        );
        crate::script::assert_pruned_walks_equal_full(Language::Bash, &scripts);
    }

    #[test]
    fn a_heredoc_delimiter_glued_to_an_operator_ends_where_bash_ends_it() {
        for (src, expected) in [
            (
                "cat <<EOF>/etc/app.conf\nport=80\nEOF\nnproc\nfree -m\n",
                &["cat", "nproc", "free"][..],
            ),
            ("cat << EOF>f\nx\nEOF\nnproc\n", &["cat", "nproc"]),
            ("cat <<-EOF>>f\n\tx\n\tEOF\nnproc\n", &["cat", "nproc"]),
            ("cat <<EOF|tr a b\nx\nEOF\nnproc\n", &["cat", "tr", "nproc"]),
            // The grammar drops what follows `;` on a heredoc's line (issue #346): read as `&&`.
            (
                "cat <<EOF; echo wrote\nx\nEOF\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            (
                "cat <<'EOF'; echo wrote\nx\nEOF\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            (
                "cat <<EOF >/tmp/f; echo wrote\nx\nEOF\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            (
                "cat <<EOF ; sh\nfree -m\nEOF\nnproc\n",
                &["cat", "sh", "nproc"],
            ),
            // The shell still reads the heredoc; what follows the `;` does not.
            (
                "sh <<'EOF'; echo done\nfree -m\nEOF\nnproc\n",
                &["sh", "free", "echo", "nproc"],
            ),
            (
                "cat <<EOF; a && b | c\nx\nEOF\nnproc\n",
                &["cat", "a", "b", "c", "nproc"],
            ),
            // A redirect before a pipe (the same issue): a stderr redirect leaves stdout to the
            // pipe, a stdout redirect sends it elsewhere.
            (
                "cat <<EOF 2>&1 | sh\nnproc\nEOF\nfree\n",
                &["cat", "sh", "nproc", "free"],
            ),
            (
                "cat <<'EOF' 2> /tmp/err | tee -a log\nx\nEOF\nnproc\n",
                &["cat", "tee", "nproc"],
            ),
            (
                "cat <<EOF >f | sh\nnproc\nEOF\nfree\n",
                &["cat", "sh", "free"],
            ),
            (
                "cat <<EOF &>/dev/null | sh\nnproc\nEOF\nfree\n",
                &["cat", "sh", "free"],
            ),
            (
                "cat <<EOF >&2 | tail\nx\nEOF\nnproc\n",
                &["cat", "tail", "nproc"],
            ),
            (
                "cat <<EOF 2>&1; echo done\nx\nEOF\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            // No blank to move: the delimiter gives its last byte, here and where it ends.
            ("cat<<EOF>f\nx\nEOF\nnproc\n", &["cat", "nproc"]),
            (
                "cat<<EOF; echo a\nx\nEOF\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            ("cat<<-EOF>f\n\tx\n\tEOF\nnproc\n", &["cat", "nproc"]),
            ("head -n 5 <<EOF>f\nx\nEOF\nnproc\n", &["head", "nproc"]),
            ("x=$(cat<<EOF>f\nx\nEOF\n)\nnproc\n", &["cat", "nproc"]),
            (
                "cat <<EOF|sh\nfree -m\nEOF\nnproc\n",
                &["cat", "sh", "free", "nproc"],
            ),
            // Arithmetic means the same with the blank moved.
            ("echo $(( y <<x))\nnproc\n", &["echo", "nproc"]),
            // A one-letter delimiter cannot give a byte: the glued redirects are blanked.
            ("cat<<E>f\necho $(id)\nE\nnproc\n", &["cat", "id", "nproc"]),
            ("cat<<E>>f>&2\nx\nE\nnproc\n", &["cat", "nproc"]),
            ("sh<<E>f\nfree -m\nE\nnproc\n", &["sh", "free", "nproc"]),
            ("cat<<E>f|sh\nfree -m\nE\nnproc\n", &["cat", "sh", "nproc"]),
            (
                "cat<<E&>/dev/null; echo a\nx\nE\nnproc\n",
                &["cat", "echo", "nproc"],
            ),
            ("cat<<E;\nx\nE\nnproc\n", &["cat", "nproc"]),
            // So are those of a delimiter that cannot give one (a body line starts `EO`).
            ("cat<<EOF>f\nEOL\nEOF\nnproc\n", &["cat", "nproc"]),
            ("cat<<EOF>f\ncat <<X\nX\nEOF\nnproc\n", &["cat", "nproc"]),
            // More than one `;`: each is read as `&&`, one ending the line as a blank.
            (
                "cat <<EOF; echo a; echo b;\nx\nEOF\nnproc\n",
                &["cat", "echo", "echo", "nproc"],
            ),
            (
                "sh <<'EOF'; a; b\nfree -m\nEOF\nnproc\n",
                &["sh", "free", "a", "b", "nproc"],
            ),
            (
                "cat<<EOF; a | sh; b\nx\nEOF\nnproc\n",
                &["cat", "a", "sh", "b", "nproc"],
            ),
        ] {
            let names: Vec<String> = parse(src).commands.into_iter().map(|c| c.name).collect();
            assert_eq!(names, expected, "{src:?}");
            assert_eq!(patch_heredocs(src).map(|p| p.len()), Some(src.len()));
            let crlf = src.replace('\n', "\r\n");
            let names: Vec<String> = parse(&crlf).commands.into_iter().map(|c| c.name).collect();
            assert_eq!(names, expected, "{crlf:?}");
        }
        // What the `;` rewrite and the shorter delimiter leave to the walk reads as written.
        let p = parse("cat<<EOF; echo done\nx\nEOF\n");
        assert_eq!(p.commands[0].text, "cat<<EOF");
        assert_eq!(p.commands[1].text, "echo done");
        assert_eq!(
            patch_heredocs("cat<<EOF; echo done\nx\nEOF\n").as_deref(),
            Some("cat<<EO &&echo done\nx\nEO \n")
        );
        // Where the shorter delimiter would end the body early, or another line holds a heredoc,
        // or the `<<` is a shift, in a comment or a string, nothing is shortened.
        for src in [
            "echo $((y<<xy))\nxy\n",
            "# cat<<EOF>f\nEOF\n",
            "echo 'cat<<EOF>f'\nEOF\n",
            // The grammar reads `\ <<` as one word, patched or not.
            "echo a \\ <<EOF>f\nnproc\nEOF\n",
        ] {
            assert_eq!(patch_heredocs(src), None, "{src:?}");
        }
        // A `;` rewrite only where the line stays simple: `;`s, or `&&`/`||` after one `;`, no
        // other heredoc, no `&`.
        for src in [
            "cat <<EOF; a; b || c\nx\nEOF\n",
            "cat <<EOF; a;b\nx\nEOF\n",
            "cat <<EOF | sh; a\nx\nEOF\n",
            "cat <<EOF; a & b\nx\nEOF\n",
            "cat <<EOF;a\nx\nEOF\n",
            "cat <<A; cat <<B\nx\nA\ny\nB\n",
            "cat <<EOF;; esac\nx\nEOF\n",
        ] {
            let patched = patch_heredocs(src).unwrap_or_default();
            assert!(!patched.contains("&&"), "{src:?}: {patched:?}");
        }
        // The command's text still ends after the delimiter.
        let cat = &parse("cat <<EOF;\nx\nEOF\n").commands[0];
        assert_eq!(cat.text, "cat <<EOF");
        // And after blanked redirects; the commands after `;`s read as written, and an `&&`
        // that is a `;` in the text proves nothing.
        let p = parse("cat<<E>f; echo a; command -v X; X\nx\nE\n");
        let texts: Vec<&str> = p.commands.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["cat<<E>f", "echo a", "command -v X", "X"]);
        assert!(!p.commands[3].guarded);
        let p = parse("cat <<E; command -v X && X\nx\nE\n");
        assert!(p.commands[2].guarded);
        assert_eq!(
            patch_heredocs("cat<<E>f; a; b;\nx\nE\n").as_deref(),
            Some("cat<<E  &&a&&b \nx\nE\n")
        );
        // Nothing to patch: no rewrite.
        assert_eq!(patch_heredocs("cat <<EOF >f\nx\nEOF\n"), None);
        assert_eq!(patch_heredocs("cat <<'EOF'>f\nx\nEOF\n"), None);
        assert_eq!(patch_heredocs("a <<< x\n"), None);
    }
    use crate::script::Command;

    /// One embedded parse: code, language, host, document offset of the code's first byte.
    pub(super) type Embedded = (String, Language, Option<String>, usize);

    thread_local! {
        /// Every embedded parse of this thread: code, language, host, document offset of the
        /// code's first byte. Lets the hand-off to other languages be checked on its own.
        pub(super) static EMBEDDED: RefCell<Vec<Embedded>> =
            const { RefCell::new(Vec::new()) };
    }

    fn embedded(src: &str) -> Vec<Embedded> {
        EMBEDDED.with(|e| e.borrow_mut().clear());
        let _ = parse(src);
        EMBEDDED.with(|e| e.borrow_mut().drain(..).collect())
    }

    fn names(src: &str) -> Vec<String> {
        crate::script::parse(src, Language::Bash)
            .commands
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    fn get<'p>(p: &'p Parsed, name: &str) -> &'p Command {
        p.commands
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no command {name} in {:?}", p.commands))
    }

    /// The command's name span and text map back to the source exactly.
    fn check_maps(src: &str, c: &Command) {
        let spelled = &src[c.name_span.clone()];
        assert!(spelled.ends_with(&c.name), "{spelled:?} vs {}", c.name);
        let a = c.map.to_source(0);
        let b = c.map.to_source(c.name.len() - 1) + 1;
        assert_eq!(&src[a..b], c.name);
    }

    fn parsed(src: &str) -> Parsed {
        let p = crate::script::parse(src, Language::Bash);
        for c in &p.commands {
            check_maps(src, c);
        }
        p
    }

    fn code_texts<'s>(src: &'s str, p: &Parsed) -> Vec<&'s str> {
        p.code.iter().map(|r| &src[r.span.clone()]).collect()
    }

    #[test]
    fn kinds_exist_in_the_grammar() {
        let k = kinds();
        for id in [
            k.command,
            k.command_name,
            k.comment,
            k.raw_string,
            k.ansi_c_string,
            k.string,
            k.string_content,
            k.word,
            k.heredoc_body,
            k.heredoc_content,
            k.heredoc_redirect,
            k.heredoc_start,
            k.herestring_redirect,
            k.file_redirect,
            k.redirected_statement,
            k.compound_statement,
            k.subshell,
            k.variable_assignment,
            k.test_command,
            k.declaration_command,
            k.unset_command,
            k.pipeline,
            k.concatenation,
            k.simple_expansion,
            k.expansion,
            k.command_substitution,
            k.if_statement,
            k.while_statement,
            k.elif_clause,
            k.else_clause,
            k.list,
            k.negated_command,
            k.unary_expression,
            k.parenthesized_expression,
            k.process_substitution,
        ] {
            assert_ne!(id, 0);
        }
    }

    #[test]
    fn comments_and_data_strings_are_not_commands() {
        let src = "# sed -i x\necho 'sed -i' \"grep -P\" sed -i # rm -rf /\n";
        assert_eq!(names(src), ["echo"]);
        let p = parsed(src);
        let echo = get(&p, "echo");
        assert_eq!(echo.text, "echo 'sed -i' \"grep -P\" sed -i");
        assert_eq!(echo.args(), "'sed -i' \"grep -P\" sed -i");
        // Code: `echo `, the quotes of the double-quoted string, ` sed -i`.
        let code = code_texts(src, &p).join("|");
        assert!(!code.contains("sed -i'"), "{code}");
        assert!(!code.contains("grep"), "{code}");
        assert!(!code.contains("rm -rf"), "{code}");
        assert!(code.contains("echo"), "{code}");
    }

    #[test]
    fn pipelines_lists_and_compounds() {
        let src =
            "a | b && c || d; e & f\n(g; h)\n{ i; }\nif j; then k; elif l; then m; else n; fi\n\
                   while o; do p; done; until q; do r; done\nfor s in 1 2; do t; done\n\
                   case $x in a) u ;; *) v ;; esac\nf() { w; }\nfunction g2 { x2 | y2; }\n! z\n";
        assert_eq!(
            names(src),
            [
                "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
                "q", "r", "t", "u", "v", "w", "x2", "y2", "z"
            ]
        );
    }

    #[test]
    fn one_command_text_stops_at_operators_and_newlines() {
        let src = "sed -i 's/a/b/' f | grep -P x && tee y > /dev/null; ls\nnext";
        let p = parsed(src);
        assert_eq!(get(&p, "sed").text, "sed -i 's/a/b/' f");
        assert_eq!(get(&p, "grep").text, "grep -P x");
        assert_eq!(get(&p, "tee").text, "tee y > /dev/null");
        assert_eq!(get(&p, "ls").text, "ls");
        assert_eq!(get(&p, "next").text, "next");
    }

    #[test]
    fn substitutions_everywhere() {
        let src = "x=$(a $(b) \"$(c)\") d `e` \"s $(f) `g`\" <(h) >(i)\nlocal y=$(j)\n\
                   echo \"${v:-$(k)}\" $((1 + $(l)))\nfor q in $(m); do :; done\n";
        let got = names(src);
        for n in [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "local", "j", "echo", "k", "l", "m",
        ] {
            assert!(got.contains(&n.to_string()), "{n} missing from {got:?}");
        }
        assert!(!got.contains(&"x".to_string()));
        // Substitutions inside double quotes are code; the literal text is not.
        let p = parsed(src);
        let code = code_texts(src, &p).join("|");
        assert!(code.contains("$(f)"), "{code}");
        assert!(!code.contains("s $(f)"), "{code}");
    }

    #[test]
    fn nested_substitution_texts() {
        let src = "echo $(basename $(dirname \"$p\"))";
        let p = parsed(src);
        assert_eq!(get(&p, "basename").text, "basename $(dirname \"$p\")");
        assert_eq!(get(&p, "dirname").text, "dirname \"$p\"");
    }

    #[test]
    fn test_and_brackets_are_commands() {
        let src = "[ -f x ] && [[ -d y ]] && test -e z";
        let p = parsed(src);
        assert_eq!(get(&p, "[").text, "[ -f x ]");
        assert_eq!(get(&p, "[[").text, "[[ -d y ]]");
        assert_eq!(get(&p, "test").text, "test -e z");
    }

    #[test]
    fn declarations_are_commands() {
        let p = parsed("declare -A map\nexport PATH=/x\nunset y");
        assert_eq!(get(&p, "declare").text, "declare -A map");
        assert_eq!(get(&p, "export").text, "export PATH=/x");
        assert_eq!(get(&p, "unset").text, "unset y");
    }

    #[test]
    fn wrappers_are_seen_through() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "sudo -u root apt-get install x",
                &["sudo", "apt-get"],
                "apt-get install x",
            ),
            (
                "sudo -E -H -- systemctl restart y",
                &["sudo", "systemctl"],
                "systemctl restart y",
            ),
            (
                "sudo --user=root -g wheel LANG=C ls -l",
                &["sudo", "ls"],
                "ls -l",
            ),
            ("sudo -iu admin whoami", &["sudo", "whoami"], "whoami"),
            (
                "runuser -u postgres -- psql -c 'select 1'",
                &["runuser", "psql"],
                "psql -c 'select 1'",
            ),
            (
                "runuser --user=app -g app systemctl --user start x",
                &["runuser", "systemctl"],
                "systemctl --user start x",
            ),
            (
                "runuser -l backup -c 'rsync -a /a /b'",
                &["runuser", "rsync"],
                "rsync -a /a /b",
            ),
            (
                "nsenter -t 1 -m -u -n -i -- ip addr add 10.0.0.2/24 dev eth0",
                &["nsenter", "ip"],
                "ip addr add 10.0.0.2/24 dev eth0",
            ),
            (
                "nsenter --target 42 --mount=/proc/42/ns/mnt df -h",
                &["nsenter", "df"],
                "df -h",
            ),
            (
                "strace -f -e trace=open -o /tmp/t readlink -f x",
                &["strace", "readlink"],
                "readlink -f x",
            ),
            (
                "doas -u root rc-service x start",
                &["doas", "rc-service"],
                "rc-service x start",
            ),
            (
                "env -i A=1 B=\"2 3\" python x.py",
                &["env", "python"],
                "python x.py",
            ),
            ("env -u HOME -- node a.js", &["env", "node"], "node a.js"),
            ("A=1 B=$(c) make -j4", &["c", "make"], "make -j4"),
            ("nice -n 10 tar cf x", &["nice", "tar"], "tar cf x"),
            ("nice -5 gzip x", &["nice", "gzip"], "gzip x"),
            (
                "nohup ./server --port 1 &",
                &["nohup", "server"],
                "server --port 1",
            ),
            (
                "timeout -s KILL 5 curl -sS u",
                &["timeout", "curl"],
                "curl -sS u",
            ),
            (
                "timeout --kill-after=2 10s wget u",
                &["timeout", "wget"],
                "wget u",
            ),
            ("time -p sleep 1", &["time", "sleep"], "sleep 1"),
            (
                "exec -a name -c nginx -g x",
                &["exec", "nginx"],
                "nginx -g x",
            ),
            ("command grep -P x", &["command", "grep"], "grep -P x"),
            (
                "stdbuf -oL -e 0 tail -f log",
                &["stdbuf", "tail"],
                "tail -f log",
            ),
            (
                "ionice -c 3 -n7 rsync a b",
                &["ionice", "rsync"],
                "rsync a b",
            ),
            (
                "chrt -f 99 cyclictest",
                &["chrt", "cyclictest"],
                "cyclictest",
            ),
            (
                "busybox sed -i s/a/b/ f",
                &["busybox", "sed"],
                "sed -i s/a/b/ f",
            ),
            ("xargs -I{} -n1 -P 4 rm -f {}", &["xargs", "rm"], "rm -f {}"),
            (
                "chroot --userspec=1:1 /mnt apt-get update",
                &["chroot", "apt-get"],
                "apt-get update",
            ),
            ("setsid -f daemon -d", &["setsid", "daemon"], "daemon -d"),
            (
                "xargs -0 --max-args 2 -d '\\n' chmod 600",
                &["xargs", "chmod"],
                "chmod 600",
            ),
            (
                "sudo timeout 5 nice -n 1 env X=1 /usr/bin/python3 s.py",
                &["sudo", "timeout", "nice", "env", "python3"],
                "python3 s.py",
            ),
        ];
        for (src, want, inner) in cases {
            let p = parsed(src);
            let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(&got, want, "{src}");
            let last = p.commands.last().unwrap();
            assert_eq!(last.text, *inner, "{src}");
            // The wrapper's own text is the whole command.
            if p.commands[0].name_span.start == 0 {
                assert_eq!(
                    p.commands[0].text.len() + p.commands[0].name_span.start,
                    src.trim_end_matches(" &").len(),
                    "{src}"
                );
            }
        }
    }

    #[test]
    fn wrappers_without_a_command() {
        assert_eq!(names("sudo -l"), ["sudo"]);
        assert_eq!(names("sudo -e /etc/hosts"), ["sudo"]);
        assert_eq!(names("env"), ["env"]);
        assert_eq!(names("exec 3>&1"), ["exec"]);
        assert_eq!(names("xargs < list"), ["xargs"]);
        assert_eq!(names("ionice -p 12"), ["ionice"]);
    }

    #[test]
    fn find_exec() {
        let src = "find . -name '*.pyc' -exec rm -f {} \\; -execdir chmod 600 {} + -print";
        let p = parsed(src);
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["find", "rm", "chmod"]);
        assert_eq!(get(&p, "rm").text, "rm -f {}");
        assert_eq!(get(&p, "chmod").text, "chmod 600 {}");
        assert_eq!(get(&p, "find").text, src);
        let p = parsed("find / -exec sh -c 'grep -P x \"$1\"' _ {} ';'");
        assert_eq!(get(&p, "grep").text, "grep -P x \"$1\"");
    }

    #[test]
    fn lookups_do_not_run() {
        assert_eq!(names("command -v python"), ["command"]);
        assert_eq!(names("command -V python"), ["command"]);
        assert_eq!(
            names("type python; which python3; hash pip"),
            ["type", "which", "hash"]
        );
        assert_eq!(
            names("if command -v sed >/dev/null; then sed x; fi"),
            ["command", "sed"]
        );
    }

    /// `(name, guarded)` of every command, in source order.
    fn guards(src: &str) -> Vec<(String, bool)> {
        crate::script::parse(src, Language::Bash)
            .commands
            .into_iter()
            .map(|c| (c.name, c.guarded))
            .collect()
    }

    fn guarded(src: &str) -> Vec<String> {
        guards(src)
            .into_iter()
            .filter(|(_, g)| *g)
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn lookups_guard_what_they_look_up() {
        assert_eq!(guarded("command -v nproc >/dev/null && nproc"), ["nproc"]);
        assert_eq!(
            guarded("type nproc &>/dev/null && nproc; hash nproc 2>/dev/null && nproc"),
            ["nproc", "nproc"]
        );
        assert_eq!(guarded("which -s tac && tac f | sort"), ["tac"]);
        assert_eq!(
            guarded("command -v /usr/bin/python >/dev/null && python x.py"),
            ["python"],
            "a path looks up its last component"
        );
        let src = "if command -v systemctl >/dev/null 2>&1; then
  systemctl restart x
else
  service x restart
fi
";
        assert_eq!(
            guards(src),
            [
                ("command".to_string(), false),
                ("systemctl".to_string(), true),
                ("service".to_string(), false)
            ]
        );
        assert_eq!(
            guarded(r#"[ -x "$(command -v nproc)" ] && nproc; [[ -n $(which tac) ]] && tac"#),
            ["nproc", "tac"]
        );
        assert_eq!(
            guarded(r#"test -x "$(command -v nproc)" && nproc; [ -x /usr/sbin/ip ] && ip a"#),
            ["nproc", "ip"]
        );
        // Nested bodies, wrappers and substitutions inside the guarded part are guarded too.
        assert_eq!(
            guarded(
                "if type -P timeout >/dev/null; then\n  for f in *; do sudo timeout 5 cat \"$(nproc)\"; done\nfi"
            ),
            ["timeout"]
        );
    }

    #[test]
    fn a_chain_of_any_length_guards_what_its_start_looked_up() {
        let links = |n: usize| "echo hi && ".repeat(n);
        // Every link runs only if all before it succeeded, however far the lookup is.
        assert_eq!(
            guarded(&format!(
                "command -v nproc >/dev/null && {}nproc",
                links(40)
            )),
            ["nproc"]
        );
        assert_eq!(
            guarded(&format!("command -v nproc || {}nproc", links(3))),
            Vec::<String>::new(),
            "after `||` the name was not found"
        );
        // An agent's command may be a chain of many thousand links (each a list nested in the
        // next): every command is found, with linear work (this took minutes when each link
        // asked the tree for its parent).
        let chain = format!("command -v tac >/dev/null && {}tac f", links(50_000));
        let all = guards(&chain);
        assert_eq!(all.len(), 50_002);
        assert_eq!(all.last(), Some(&("tac".to_string(), true)));
        assert!(all[1..50_001].iter().all(|(n, _)| n == "echo"));
    }

    #[test]
    fn negated_lookups_guard_the_else_branch_only() {
        let src = "if ! command -v nproc >/dev/null; then
  nproc=1
  sysctl -n hw.ncpu
else
  nproc
fi
nproc
";
        assert_eq!(
            guards(src),
            [
                ("command".to_string(), false),
                ("sysctl".to_string(), false),
                ("nproc".to_string(), true),
                ("nproc".to_string(), false),
            ],
            "after `fi` nothing is known"
        );
        let src = "if ! command -v a >/dev/null; then x; elif command -v b >/dev/null; then a; b; else a; b; fi";
        assert_eq!(
            guards(src)
                .into_iter()
                .filter(|(n, _)| n != "command")
                .collect::<Vec<_>>(),
            [
                ("x".to_string(), false),
                ("a".to_string(), true),
                ("b".to_string(), true),
                ("a".to_string(), true),
                ("b".to_string(), false),
            ]
        );
        assert_eq!(guarded("! command -v nproc >/dev/null || nproc"), ["nproc"]);
    }

    #[test]
    fn guards_hold_in_shell_code_run_on_this_machine() {
        // A lookup proves the name exists here, for the code a shell runs here as well.
        for src in [
            "command -v nproc >/dev/null && cat <<EOF | sh\nnproc\nEOF\n",
            "command -v nproc >/dev/null && tee /tmp/x <<'EOF' | bash\nnproc\nEOF\n",
            "command -v nproc >/dev/null && bash -c 'nproc --all'\n",
            "command -v nproc >/dev/null && sudo sh -c \"nproc\"\n",
            "command -v nproc >/dev/null && echo nproc | sh\n",
            "command -v nproc >/dev/null && sh <<'EOF'\nnproc\nEOF\n",
            "if command -v nproc >/dev/null; then\n  cat <<'EOF' | sh\nnproc\nEOF\nfi\n",
            "command -v nproc >/dev/null && at now <<'EOF'\nnproc\nEOF\n",
        ] {
            assert_eq!(guarded(src), ["nproc"], "{src:?}");
        }
        // Not on another host or in a container, nor for another name or language.
        for src in [
            "command -v nproc && ssh nas 'nproc'\n",
            "command -v nproc && ssh \"$host\" nproc\n",
            "command -v nproc && bash -c 'ssh nas nproc'\n",
            "command -v nproc && docker exec web nproc\n",
            "command -v nproc && podman exec --latest nproc\n",
            "command -v nproc && docker compose exec web nproc\n",
            "command -v nproc && cat <<EOF | ssh nas sh\nnproc\nEOF\n",
            "command -v tac && bash -c 'nproc'\n",
            "command -v nproc || bash -c 'nproc'\n",
            "command -v nproc; bash -c 'nproc'\n",
        ] {
            assert!(guarded(src).is_empty(), "{src:?}: {:?}", guards(src));
        }
    }

    #[test]
    fn guards_are_exact_about_names_and_branches() {
        assert!(guarded("command -v curl >/dev/null && wget -q x").is_empty());
        assert!(guarded("command -v nproc >/dev/null || nproc").is_empty());
        assert!(
            guarded("{ command -v nproc >/dev/null || exit 1; }\nnproc").is_empty(),
            "a check inside a group is not read (only top-level statements are)"
        );
        assert!(guarded("if command -v nproc; then :; else nproc; fi").is_empty());
        assert!(guarded("if command -v a >/dev/null; then :; elif true; then a; fi").is_empty());
        assert!(
            guarded("command nproc && nproc").is_empty(),
            "`command X` runs X, it does not look it up"
        );
        assert!(guarded("type a b && a").is_empty(), "one name only");
        assert!(guarded("command -v $tool && nproc").is_empty());
        assert!(
            guarded("command -v nproc | grep -q x && nproc").is_empty(),
            "a pipeline's status is its last command's"
        );
        assert!(guarded("if command -v nproc >/dev/null; true; then nproc; fi").is_empty());
        assert!(
            guarded("command -v tac && ssh nas 'tac f'").is_empty(),
            "another host is not this one"
        );
        assert!(guarded("command -v tac && ssh nas tac f").is_empty());
        assert!(guarded("[ -f /usr/bin/tac ] && tac").is_empty());
        assert!(guarded("command -v a && command -v b && b").contains(&"b".to_string()));
        assert_eq!(
            guarded("command -v a >/dev/null && command -v b >/dev/null && { a; b; c; }"),
            ["a", "b"]
        );
        // The guard ends with the list or the `if`.
        assert!(guarded("if command -v a; then :; fi; a").is_empty());
        assert!(guarded("{ command -v a && :; }; a").is_empty());
    }

    #[test]
    fn bash_c_single_quoted() {
        let src = "bash -c 'sed -i s/a/b/ f && grep -P x'";
        let p = parsed(src);
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["bash", "sed", "grep"]);
        let sed = get(&p, "sed");
        assert_eq!(&src[sed.name_span.clone()], "sed");
        assert_eq!(sed.text, "sed -i s/a/b/ f");
        assert_eq!(&src[sed.map.to_source(4)..sed.map.to_source(6)], "-i");
        assert_eq!(&src[get(&p, "grep").name_span.clone()], "grep");
        // The string is code for bash, not data of the outer script.
        let code = code_texts(src, &p).join("|");
        assert!(code.contains("sed -i s/a/b/ f && grep -P x"), "{code}");
    }

    #[test]
    fn sh_c_double_quoted_maps_through_escapes() {
        let src = r#"sh -ec "echo \"\$HOME\" | tr a b; awk \"{print \\\$1}\" x" arg0"#;
        let p = parsed(src);
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["sh", "echo", "tr", "awk"]);
        let tr = get(&p, "tr");
        assert_eq!(&src[tr.name_span.clone()], "tr");
        assert_eq!(tr.text, "tr a b");
        let awk = get(&p, "awk");
        assert_eq!(&src[awk.name_span.clone()], "awk");
        // Inner text `awk "{print \$1}" x`: the source has one more backslash pair per escape.
        assert_eq!(awk.text, r#"awk "{print \$1}" x"#);
        let x = awk.text.len() - 1;
        assert_eq!(&src[awk.map.to_source(x)..awk.map.to_source(x) + 1], "x");
        let echo = get(&p, "echo");
        assert_eq!(echo.text, r#"echo "$HOME""#);
    }

    #[test]
    fn substitutions_in_executed_double_quotes_run_locally_once() {
        let src = r#"ssh nas "systemctl restart $(cat svc)""#;
        let p = parsed(src);
        let got: Vec<(&str, Option<&str>)> = p
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("ssh", None), ("systemctl", Some("nas")), ("cat", None)]
        );
    }

    #[test]
    fn ssh_remote_commands_get_the_host() {
        let src = "ssh -p 22 -i key admin@nas 'synoservice --restart x'";
        let p = parsed(src);
        let inner = get(&p, "synoservice");
        assert_eq!(inner.host.as_deref(), Some("nas"));
        assert_eq!(inner.text, "synoservice --restart x");
        assert_eq!(&src[inner.name_span.clone()], "synoservice");
        assert_eq!(get(&p, "ssh").host, None);
        let regions: Vec<_> = p
            .code
            .iter()
            .filter(|r| r.host.as_deref() == Some("nas"))
            .collect();
        assert_eq!(regions.len(), 1);
        assert_eq!(&src[regions[0].span.clone()], "synoservice --restart x");

        let p = parsed("ssh -o StrictHostKeyChecking=no -tt root@db1 sudo systemctl restart pg");
        let got: Vec<(&str, Option<&str>)> = p
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("ssh", None),
                ("sudo", Some("db1")),
                ("systemctl", Some("db1"))
            ]
        );
        assert_eq!(get(&p, "systemctl").text, "systemctl restart pg");

        let p = parsed("ssh ssh://u@h2:2222 uptime");
        assert_eq!(get(&p, "uptime").host.as_deref(), Some("h2"));
        // Nested ssh moves the host again.
        let p = parsed("ssh jump \"ssh inner 'uname -a'\"");
        assert_eq!(get(&p, "uname").host.as_deref(), Some("inner"));
        assert_eq!(p.commands.iter().filter(|c| c.name == "ssh").count(), 2);
    }

    #[test]
    fn heredocs_fed_to_shells_are_code() {
        let src = "ssh admin@nas <<'EOF'\nsynopkg list\nsed -i x f # c\nEOF\ncat <<EOF\nrm -rf / $(date)\nEOF\n";
        let p = parsed(src);
        let got: Vec<(&str, Option<&str>)> = p
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("ssh", None),
                ("synopkg", Some("nas")),
                ("sed", Some("nas")),
                ("cat", None),
                ("date", None)
            ]
        );
        assert_eq!(get(&p, "sed").text, "sed -i x f");
        assert_eq!(get(&p, "ssh").text, "ssh admin@nas <<'EOF'");
        let code = code_texts(src, &p).join("|");
        assert!(code.contains("synopkg list\nsed -i x f"), "{code}");
        assert!(!code.contains("rm -rf"), "{code}");
        assert!(code.contains("$(date)"), "{code}");

        let src = "ssh h bash -s -- a <<EOF\nuname\nEOF\nsudo sh <<-X\n\tapt-get update\n\tX\n";
        let p = parsed(src);
        assert_eq!(get(&p, "uname").host.as_deref(), Some("h"));
        assert_eq!(get(&p, "apt-get").host, None);
        assert_eq!(get(&p, "apt-get").text, "apt-get update");
        // In an unquoted heredoc the local shell runs `$(…)` before ssh sends the text.
        let p = parsed("ssh h -- <<EOF\nuname $(hostname)\nEOF\n");
        let got: Vec<(&str, Option<&str>)> = p
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("ssh", None), ("uname", Some("h")), ("hostname", None)]
        );
        // A script file reads its own stdin: the heredoc is data.
        assert_eq!(names("bash install.sh <<EOF\nyes\nEOF\n"), ["bash"]);
        assert_eq!(names("tee f <<EOF\nrm x\nEOF\n"), ["tee"]);
    }

    #[test]
    fn here_strings() {
        let p = parsed("bash <<< 'ls -l | wc -l'\ngrep x <<< \"$(whoami)\"");
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["bash", "ls", "wc", "grep", "whoami"]);
    }

    #[test]
    fn other_executed_strings() {
        let p = parsed("su - postgres -c 'psql -c x'");
        assert_eq!(get(&p, "psql").text, "psql -c x");
        let src = "sudo -u pg nohup bash -lc 'pg_ctl restart -D \"$d\"' &";
        let p = parsed(src);
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["sudo", "nohup", "bash", "pg_ctl"]);
        assert_eq!(get(&p, "pg_ctl").text, "pg_ctl restart -D \"$d\"");
        assert_eq!(&src[get(&p, "pg_ctl").name_span.clone()], "pg_ctl");
        let p = parsed("eval 'apt-get update'; eval \"$(ssh-agent -s)\"");
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["eval", "apt-get", "eval", "ssh-agent"]);
        let p = parsed("trap 'rm -f \"$tmp\"' EXIT");
        assert_eq!(get(&p, "rm").text, "rm -f \"$tmp\"");
    }

    #[test]
    fn other_languages_are_handed_off() {
        use Language::{Batch, PowerShell};
        let at = |src: &str, needle: &str| src.find(needle).unwrap();
        let src = "pwsh -NoProfile -ExecutionPolicy Bypass -Command 'Get-LocalUser | Select Name'";
        let want = "Get-LocalUser | Select Name";
        assert_eq!(
            embedded(src),
            [(want.into(), PowerShell, None, at(src, want))]
        );
        let src = "powershell.exe -c Get-Service -Name x; ls";
        let want = "Get-Service -Name x";
        assert_eq!(
            embedded(src),
            [(want.into(), PowerShell, None, at(src, want))]
        );
        let src = "ssh admin@win1 \"pwsh -c \\\"Get-Date\\\"\"";
        let got = embedded(src);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].0, "Get-Date");
        assert_eq!((got[1].1, got[1].2.as_deref()), (PowerShell, Some("win1")));
        assert_eq!(&src[got[1].3..got[1].3 + 8], "Get-Date");
        let src = "cmd.exe /C \"ver & dir C:\\\\\"";
        assert_eq!(
            embedded(src),
            [("ver & dir C:\\".into(), Batch, None, at(src, "ver"))]
        );
        // The other languages' parsers find the commands, mapped to this document.
        let src = "ssh admin@win1 \"pwsh -c 'Get-LocalUser | Select Name'\"; cmd /c \"ver\"";
        let p = parsed(src);
        let user = get(&p, "Get-LocalUser");
        assert_eq!(user.language, PowerShell);
        assert_eq!(user.host.as_deref(), Some("win1"));
        assert_eq!(&src[user.name_span.clone()], "Get-LocalUser");
        let ver = get(&p, "ver");
        assert_eq!((ver.language, &src[ver.name_span.clone()]), (Batch, "ver"));
        // Not executed: the script file, the encoded command, a plain argument.
        assert_eq!(
            embedded("pwsh -File x.ps1; pwsh -EncodedCommand ZQBjAA==; echo -c 'x'"),
            []
        );
    }

    #[test]
    fn a_powershell_name_is_read_as_the_powershell_started_reads_it() {
        // `pwsh` reads `` `e `` as ESC; Windows PowerShell reads the letter.
        assert_eq!(
            names("pwsh -c 'G`et-Command x'; powershell -c 'G`et-Command y'; pwsh.exe -c 'G`et-Alias'"),
            ["pwsh", "powershell", "Get-Command", "pwsh.exe"]
        );
        let p = crate::script::parse(
            "ssh h \"pwsh -c 'powershell -c G\\`et-Command'\"",
            Language::Bash,
        );
        let c = p.commands.iter().find(|c| c.name == "Get-Command").unwrap();
        assert_eq!(c.host.as_deref(), Some("h"));
    }

    #[test]
    fn sudo_shells_and_stdin() {
        let p = parsed("sudo -i <<EOF\nwhoami\nEOF\nsudo -s\nx=1");
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["sudo", "whoami", "sudo"]);
        let p = parsed("xargs -n1 sh -c 'gzip \"$0\"' < list");
        let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["xargs", "sh", "gzip"]);
        assert_eq!(
            embedded("ssh h bash <<< 'uname -r'")[0].2.as_deref(),
            Some("h")
        );
    }

    /// Names and hosts of the commands, in order.
    fn named_hosts(p: &Parsed) -> Vec<(&str, Option<&str>)> {
        p.commands
            .iter()
            .map(|c| (c.name.as_str(), c.host.as_deref()))
            .collect()
    }

    /// The command's text maps back to the source: every byte of `text` that is not a blank
    /// comes from the source byte its map names.
    fn check_text_map(src: &str, c: &Command) {
        for (i, b) in c.text.bytes().enumerate() {
            if !b.is_ascii_whitespace() {
                let at = c.map.to_source(i);
                assert_eq!(
                    src.as_bytes().get(at),
                    Some(&b),
                    "byte {i} of {:?} maps to {at} in {src:?}",
                    c.text
                );
            }
        }
    }

    #[test]
    fn code_piped_into_a_shell() {
        let src = "cat <<EOF | bash\napt-get update\nsed -i x f\nEOF\n";
        let p = parsed(src);
        assert_eq!(names(src), ["cat", "bash", "apt-get", "sed"]);
        assert_eq!(get(&p, "sed").text, "sed -i x f");
        check_text_map(src, get(&p, "sed"));
        let code = code_texts(src, &p).join("|");
        assert!(code.contains("apt-get update"), "{code}");

        let src = "cat <<'EOF' | sudo sh -s -- arg\nsystemctl restart x\nEOF\n";
        assert_eq!(names(src), ["cat", "sudo", "sh", "systemctl"]);
        let src = "echo 'sed -i x f' | sh\necho sed -i y g | bash -s";
        let p = parsed(src);
        let seds: Vec<&Command> = p.commands.iter().filter(|c| c.name == "sed").collect();
        assert_eq!(seds.len(), 2, "{:?}", p.commands);
        assert_eq!(seds[0].text, "sed -i x f");
        assert_eq!(seds[1].text, "sed -i y g");
        for c in &seds {
            check_text_map(src, c);
        }
        let src = "printf '%s\\n' 'apt-get install -y x' \"yum check-update\" | bash";
        let p = parsed(src);
        assert_eq!(get(&p, "apt-get").text, "apt-get install -y x");
        assert_eq!(get(&p, "yum").text, "yum check-update");
        check_text_map(src, get(&p, "yum"));
        let src = "printf 'uname -r\\nlsb_release -a\\n' | sh\necho -e 'a\\nb' | sh";
        let p = parsed(src);
        assert_eq!(get(&p, "lsb_release").text, "lsb_release -a");
        check_text_map(src, get(&p, "lsb_release"));
        assert_eq!(names("echo -e 'a\\nb' | sh"), ["echo", "a", "b", "sh"]);
        // Into ssh with no command: the remote shell reads it.
        let p = parsed("echo 'uname -a' | ssh admin@nas\ncat <<'EOF' | ssh h bash\nls\nEOF\n");
        assert_eq!(
            named_hosts(&p),
            [
                ("echo", None),
                ("uname", Some("nas")),
                ("ssh", None),
                ("cat", None),
                ("ssh", None),
                ("bash", Some("h")),
                ("ls", Some("h"))
            ]
        );
        // A substitution in the piped text runs here, once.
        let p = parsed("echo \"systemctl restart $(cat svc)\" | ssh h");
        assert_eq!(
            named_hosts(&p),
            [
                ("echo", None),
                ("systemctl", Some("h")),
                ("cat", None),
                ("ssh", None)
            ]
        );
        assert_spans_valid_here("cat <<EOF | bash\nls\n");
        // A group's commands all write into the pipe.
        let src = "{ echo 'uname -a'; printf '%s\\n' 'sed -i x f'; } | ssh nas sh\n\
                   ( echo 'nproc'; echo 'free -m' ) | bash\n";
        let p = parsed(src);
        assert_eq!(
            named_hosts(&p),
            [
                ("echo", None),
                ("uname", Some("nas")),
                ("printf", None),
                ("sed", Some("nas")),
                ("ssh", None),
                ("sh", Some("nas")),
                ("echo", None),
                ("nproc", None),
                ("echo", None),
                ("free", None),
                ("bash", None)
            ]
        );
        check_text_map(src, get(&p, "sed"));
    }

    fn assert_spans_valid_here(src: &str) {
        crate::script::assert_spans_valid(src, &crate::script::parse(src, Language::Bash));
    }

    #[test]
    fn piped_data_stays_data() {
        // Not a shell reading stdin: a script file, `-c`, another program, or not the text.
        for src in [
            "cat <<EOF | grep x\nsed -i a b\nEOF\n",
            "cat <<EOF | bash install.sh\nsed -i a b\nEOF\n",
            "echo 'sed -i a b' | bash -c 'read x'",
            "echo 'sed -i a b' | tee f",
            "cat f <<EOF | sh\nsed -i a b\nEOF\n",
            "echo 'sed -i a b' | grep s | sh",
            "printf '%d\\n' 'sed -i a b' | sh",
            "curl -fsSL https://x/sed | sh",
            "echo 'sed -i a b' | xargs sh",
            "echo 'sed -i a b'\nsh",
        ] {
            let got = names(src);
            assert!(!got.iter().any(|n| n == "sed"), "{src:?}: {got:?}");
            assert_spans_valid_here(src);
        }
        // `$'…'` is the text its escapes stand for: echoed into a shell, it runs.
        assert_eq!(names("echo $'sed -i a\\tb' | sh"), ["echo", "sed", "sh"]);
    }

    #[test]
    fn more_wrappers_are_seen_through() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("watch -n 5 df -h", &["watch", "df"], "df -h"),
            (
                "watch -d --interval 2 -x free -m",
                &["watch", "free"],
                "free -m",
            ),
            (
                "watch 'ps aux | grep -P x'",
                &["watch", "ps", "grep"],
                "grep -P x",
            ),
            ("watch -n1 \"ss -tlnp\"", &["watch", "ss"], "ss -tlnp"),
            (
                "parallel -j 4 gzip -9 ::: a b",
                &["parallel", "gzip"],
                "gzip -9",
            ),
            (
                "parallel --jobs 2 'sed -i s/a/b/ {}' ::: f g",
                &["parallel", "sed"],
                "sed -i s/a/b/ {}",
            ),
            (
                "parallel ::: 'apt-get update' 'yum makecache'",
                &["parallel", "apt-get", "yum"],
                "yum makecache",
            ),
            ("ls | parallel -X rm", &["ls", "parallel", "rm"], "rm"),
            (
                "flock -w 10 /tmp/l rsync -a x y",
                &["flock", "rsync"],
                "rsync -a x y",
            ),
            (
                "flock -n /tmp/l -c 'apt-get update && apt-get -y upgrade'",
                &["flock", "apt-get", "apt-get"],
                "apt-get -y upgrade",
            ),
            (
                "docker exec -it -u root web sed -i x f",
                &["docker", "sed"],
                "sed -i x f",
            ),
            (
                "docker -H tcp://h:2375 container exec --env A=1 db sh -c 'pg_ctl reload'",
                &["docker", "sh", "pg_ctl"],
                "pg_ctl reload",
            ),
            ("podman exec -l ps aux", &["podman", "ps"], "ps aux"),
            (
                "kubectl -n prod exec -it api-0 -c app -- apk add curl",
                &["kubectl", "apk"],
                "apk add curl",
            ),
            (
                "kubectl exec api-0 -- sh -c 'apt-get install -y x'",
                &["kubectl", "sh", "apt-get"],
                "apt-get install -y x",
            ),
            ("kubectl exec -n x pod date", &["kubectl", "date"], "date"),
        ];
        for (src, want, inner) in cases {
            let p = parsed(src);
            let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(&got, want, "{src}");
            let last = p.commands.last().unwrap();
            assert_eq!(last.text, *inner, "{src}");
            for c in &p.commands {
                check_text_map(src, c);
            }
        }
        // Inside a container the command runs on the container (a host the store may know,
        // else an unknown target), wherever the container runs; the runtime itself stays.
        let p = parsed("ssh h docker exec web apt-get update");
        assert_eq!(get(&p, "docker").host.as_deref(), Some("h"));
        assert_eq!(get(&p, "apt-get").host.as_deref(), Some("web"));
        let p = parsed("docker exec -it web uname");
        assert_eq!(get(&p, "uname").host.as_deref(), Some("web"));
        assert_eq!(get(&p, "docker").host, None);
        let p = parsed("kubectl -n prod exec -it api-0 -c app -- free -m");
        assert_eq!(get(&p, "free").host.as_deref(), Some("api-0"));
        let p = parsed("podman exec -l uname");
        assert_eq!(get(&p, "uname").host, None);
    }

    #[test]
    fn unit_and_session_wrappers_run_their_command_here() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "systemd-run --unit x -p CPUQuota=20% --user sed -i f",
                &["systemd-run", "sed"],
                "sed -i f",
            ),
            (
                "systemd-run --scope --wait -t -q nproc",
                &["systemd-run", "nproc"],
                "nproc",
            ),
            (
                "systemd-run --on-calendar daily -E A=1 --property=Nice=5 --slice x.slice \
                 /usr/bin/python x.py",
                &["systemd-run", "python"],
                "python x.py",
            ),
            (
                "sudo systemd-run -u job -- readlink -f /",
                &["sudo", "systemd-run", "readlink"],
                "readlink -f /",
            ),
            ("screen -dmS build sed -i f", &["screen", "sed"], "sed -i f"),
            (
                "screen -S s -d -m -L -Logfile /tmp/l nproc --all",
                &["screen", "nproc"],
                "nproc --all",
            ),
            ("screen nproc", &["screen", "nproc"], "nproc"),
            (
                "tmux new-session -d -s n 'sed -i f; nproc'",
                &["tmux", "sed", "nproc"],
                "nproc",
            ),
            ("tmux new -d nproc -a", &["tmux", "nproc"], "nproc -a"),
            (
                "tmux -L sock new-window -n w \"free -m\"",
                &["tmux", "free"],
                "free -m",
            ),
            (
                "tmux split-window -h -p 30 'readlink -f /'",
                &["tmux", "readlink"],
                "readlink -f /",
            ),
            (
                "tmux send-keys -t build 'sed -i f' Enter",
                &["tmux", "sed"],
                "sed -i f",
            ),
            (
                "tmux send-keys -t build C-c Escape 'nproc' Enter",
                &["tmux", "nproc"],
                "nproc",
            ),
            (
                "tmux new -d -s x \\; send-keys -t x 'free -m' C-m",
                &["tmux", "free"],
                "free -m",
            ),
            ("tmux -c 'nproc -a'", &["tmux", "nproc"], "nproc -a"),
            ("tmux run-shell -b 'nproc'", &["tmux", "nproc"], "nproc"),
            (
                "tmux if-shell 'test -f x' 'kill-server'",
                &["tmux", "test"],
                "test -f x",
            ),
            ("setsid -f sed -i f", &["setsid", "sed"], "sed -i f"),
            ("chroot /mnt sed -i f", &["chroot", "sed"], "sed -i f"),
        ];
        for (src, want, inner) in cases {
            let p = parsed(src);
            let got: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(&got, want, "{src}");
            assert_eq!(p.commands.last().unwrap().text, *inner, "{src}");
            for c in &p.commands {
                check_text_map(src, c);
                assert_eq!(c.host, None, "{src}: runs on this machine");
            }
        }
        // A lookup guards them as it guards any command run here.
        let p = parsed("if command -v nproc >/dev/null; then tmux new -d 'nproc'; fi");
        assert!(get(&p, "nproc").guarded);
    }

    #[test]
    fn tmux_send_keys_types_shell_code_only_up_to_a_key_that_ends_the_line() {
        // Without `Enter`/`C-m` the keys sit at the pane's prompt (or go to whatever program
        // runs there): nothing runs.
        assert_eq!(names("tmux send-keys -t s 'nproc'"), ["tmux"]);
        assert_eq!(names("tmux send-keys -t s 'nproc' C-c"), ["tmux"]);
        // What follows the last `Enter` is not run; each `Enter` runs what was typed before.
        assert_eq!(
            names("tmux send-keys -t s 'nproc' Enter 'free -m'"),
            ["tmux", "nproc"]
        );
        assert_eq!(
            names("tmux send-keys 'nproc' Enter 'free -m' C-m"),
            ["tmux", "nproc", "free"]
        );
        // Key names as tmux reads them: any case, quoted or not.
        for enter in ["enter", "ENTER", "'Enter'", "c-m", "C-j", "KPEnter"] {
            let src = format!("tmux send-keys -t s 'free -m' {enter}");
            assert_eq!(names(&src), ["tmux", "free"], "{src}");
        }
        assert_eq!(names("tmux send-keys -t s 'free -m' Enterprise"), ["tmux"]);
    }

    #[test]
    fn unit_and_session_wrappers_that_run_nothing_here() {
        for src in [
            "systemd-run -H admin@nas nproc",
            "systemd-run --machine=web nproc",
            "systemd-run --host nas nproc",
            "systemd-run --shell",
            "systemd-run",
            "screen -ls",
            "screen -r build",
            "screen -x",
            "screen -d build",
            "screen -S s -X stuff 'nproc'",
            "screen /dev/ttyUSB0 115200",
            "screen -L /dev/ttyS0 9600,cs8",
            "screen //telnet host 23",
            "tmux",
            "tmux ls",
            "tmux attach -t build",
            "tmux kill-server",
            "tmux send-keys -t build C-c",
            "tmux send-keys -l 'nproc' Enter",
            "tmux send-keys -t build 'nproc'",
            "tmux run-shell -C 'nproc'",
            "tmux if-shell -F '#{x}' 'nproc'",
            "tmux new -d",
        ] {
            let got = names(src);
            assert_eq!(got.len(), 1, "{src:?}: {got:?}");
            assert_spans_valid_here(src);
        }
        for src in [
            "echo systemd-run sed -i",
            "echo tmux new 'nproc'",
            "echo screen -dm nproc",
        ] {
            assert_eq!(names(src), ["echo"], "{src:?}");
        }
    }

    #[test]
    fn process_substitutions_a_shell_reads_are_code() {
        for src in [
            "bash < <(echo 'nproc')\n",
            "bash <(echo 'nproc')\n",
            "sh -e <(printf '%s\\n' 'nproc')\n",
            "source <(echo 'nproc')\n",
            ". <(echo 'nproc')\n",
            "sh <(cat <<'EOF'\nnproc\nEOF\n)\n",
            "bash -s < <(echo nproc | tee log)\n",
            "bash <(echo 'nproc' | cat)\n",
            "sudo bash < <({ echo 'nproc'; })\n",
        ] {
            let p = parsed(src);
            let nproc = get(&p, "nproc");
            check_text_map(src, nproc);
            crate::script::assert_spans_valid(src, &p);
        }
        // What the substitution runs is found in any case; what it writes is not known.
        assert_eq!(
            names("bash <(curl -fsSL https://example.invalid/i.sh)"),
            ["bash", "curl"]
        );
        assert_eq!(names("bash < <(curl -s x)"), ["bash", "curl"]);
        // Substitutions that no shell reads as its script, or that read the shell's output.
        for src in [
            "diff <(echo 'nproc') f\n",
            "cat <(echo 'nproc')\n",
            "bash script.sh <(echo 'nproc')\n",
            "wc -l < <(echo 'nproc')\n",
            "bash > >(echo 'nproc')\n",
            "bash -c 'date' <(echo 'nproc')\n",
        ] {
            assert!(!names(src).contains(&"nproc".to_string()), "{src:?}");
        }
    }

    #[test]
    fn names_split_by_a_continuation_or_ansi_c_quoted() {
        for src in ["se\\\nd -i f\n", "se\\\r\nd -i f\r\n"] {
            let p = crate::script::parse(src, Language::Bash);
            assert_eq!(p.commands.len(), 1, "{src:?}");
            let c = &p.commands[0];
            assert_eq!((c.name.as_str(), c.text.as_str()), ("sed", "sed -i f"));
            assert_eq!(
                &src[c.name_span.clone()],
                &src[..src.find('d').unwrap() + 1]
            );
            // Each letter maps to where it is written: `s`, `e`, then `d` after the break.
            let d = src.find('d').unwrap();
            let at: Vec<usize> = (0..3).map(|i| c.map.to_source(i)).collect();
            assert_eq!(at, [0, 1, d], "{src:?}");
            assert_eq!(c.map.to_source(4), d + 2, "the arguments: {src:?}");
        }
        assert_eq!(names("sudo se\\\nd -i f\n"), ["sudo", "sed"]);
        // In an executed string too.
        let src = "bash -c 'fr'\\\n'ee -m'\n";
        let p = crate::script::parse(src, Language::Bash);
        assert_eq!(get(&p, "free").text, "free -m");
        check_text_map(src, get(&p, "free"));
        assert_eq!(names("apt\\\n-get install x\n"), ["apt-get"]);
        // A continuation after a blank separates words, as in bash.
        assert_eq!(names("sudo \\\nsed -i f\n"), ["sudo", "sed"]);
        assert_eq!(get(&parsed("sed \\\n-i f\n"), "sed").text, "sed   -i f");
        // `$'…'` without escapes is its text.
        let src = "$'sed' -i f\n";
        let p = crate::script::parse(src, Language::Bash);
        assert_eq!(p.commands[0].text, "sed -i f");
        assert_eq!(&src[p.commands[0].name_span.clone()], "sed");
        assert_eq!(names("bash -c $'nproc -a'"), ["bash", "nproc"]);
        assert_eq!(names("sudo $'nproc'"), ["sudo", "nproc"]);
        assert!(names("echo $'sed -i'\n") == ["echo"]);
    }

    #[test]
    fn ansi_c_quoted_names_with_escapes_and_in_pieces() {
        for (src, name) in [
            ("$'se\\x64' -i f\n", "sed"),
            ("$'\\163ed' -i f\n", "sed"),
            ("$'s\\u0065d' -i f\n", "sed"),
            ("$'se'd -i f\n", "sed"),
            ("s$'ed' -i f\n", "sed"),
            ("s$'\\x65'\"d\" -i f\n", "sed"),
            ("fre$'e' -m\n", "free"),
            ("sudo $'fr\\145e' -m\n", "free"),
        ] {
            let p = crate::script::parse(src, Language::Bash);
            let c = p.commands.last().unwrap();
            assert_eq!(c.name, name, "{src:?}");
            assert_eq!(
                c.args(),
                src[src.find(" -").unwrap() + 1..].trim_end(),
                "{src:?}"
            );
            // The name spans its pieces; each letter maps into the piece it comes from.
            let word_end = src[..src.find(" -").unwrap()]
                .trim_end_matches(['\'', '"'])
                .len();
            assert_eq!(c.name_span.end, word_end, "{src:?}");
            assert!(!src[c.name_span.clone()].contains(' '), "{src:?}");
            for i in 0..c.name.len() {
                assert!(
                    c.name_span.contains(&c.map.to_source(i)),
                    "{src:?} byte {i}"
                );
            }
            // The arguments are where they are written.
            let a = c.text.find(" -").unwrap() + 1;
            assert_eq!(c.map.to_source(a), src.find(" -").unwrap() + 1, "{src:?}");
        }
        let p = crate::script::parse("$'se\\x64' x\n", Language::Bash);
        let at: Vec<usize> = (0..3).map(|i| p.commands[0].map.to_source(i)).collect();
        // `d` is the escape `\x64`, whose end ends the name.
        assert_eq!(at, [2, 3, 7]);
        assert_eq!(p.commands[0].name_span, 2..8);
        // A control character, bytes that are no text, an expansion: nothing known.
        for src in ["$'se\\td' x", "$'se\\xff' x", "$'se'$d x", "$'s\\u{65}d' x"] {
            assert!(names(src).is_empty(), "{src:?}");
        }
        // Executed strings: `$'…'` runs what its escapes stand for.
        assert_eq!(
            names("bash -c $'nproc\\nfre\\x65 -m'"),
            ["bash", "nproc", "free"]
        );
        // Escapes bash does not know stay as written.
        assert_eq!(ansi_c("a\\qb\\x", 0).unwrap().0, "a\\qb\\x");
        assert_eq!(ansi_c("\\'\\cA\\e\\0", 0).unwrap().0, "'\u{1}\u{1b}\0");
    }

    #[test]
    fn wrappers_that_run_nothing() {
        for src in [
            "docker ps -a",
            "docker run --rm alpine",
            "docker exec",
            "docker exec -it web",
            "kubectl get pods",
            "kubectl exec -it pod --",
            "kubectl logs pod -- x",
            "flock -x 9",
            "flock /tmp/l",
            "flock /tmp/l -c",
            "watch",
            "watch -n 5",
            "parallel",
            "parallel ::::  list",
            "podman images",
            "strace -p 1234 -f",
            "runuser -l backup",
            "nsenter -t 1 -m",
        ] {
            let got = names(src);
            assert_eq!(got.len(), 1, "{src:?}: {got:?}");
            assert_spans_valid_here(src);
        }
        // `echo` inside the quoted watch command is data to it.
        assert_eq!(names("watch 'echo sed -i'"), ["watch", "echo"]);
    }

    #[test]
    fn executed_strings_made_of_pieces() {
        let src = "bash -c 'apt-get '\"install -y $pkg\"' && sed -i x f'";
        let p = parsed(src);
        assert_eq!(names(src), ["bash", "apt-get", "sed"]);
        let apt = get(&p, "apt-get");
        assert_eq!(apt.text, "apt-get install -y $pkg");
        check_text_map(src, apt);
        check_text_map(src, get(&p, "sed"));
        let src = "sh -c \"uname \"'-a; grep -P x'\\ f";
        let p = parsed(src);
        assert_eq!(get(&p, "uname").text, "uname -a");
        assert_eq!(get(&p, "grep").text, "grep -P x f");
        check_text_map(src, get(&p, "grep"));
        // A substitution in a piece runs in the outer shell, once.
        let p = parsed("ssh h 'systemctl restart '$(cat svc)");
        assert_eq!(
            named_hosts(&p),
            [("ssh", None), ("systemctl", Some("h")), ("cat", None)]
        );
        // Unquoted escapes: `ls\ -l` is the one word `ls -l` for the inner shell.
        let src = "bash -c ls\\ -l\\ /tmp";
        let p = parsed(src);
        assert_eq!(get(&p, "ls").text, "ls -l /tmp");
        check_text_map(src, get(&p, "ls"));
        // `$'…'` is what its escapes stand for; pieces of data stay data.
        let src = "bash -c $'ls\\n'\"x\"";
        assert_eq!(names(src), ["bash", "ls", "x"]);
        let p = parsed(src);
        assert_eq!(&src[get(&p, "x").name_span.clone()], "x");
        assert_eq!(names("echo 'sed -i '\"x f\""), ["echo"]);
        for src in [
            "bash -c 'a'\"",
            "sh -c ''\"\"",
            "bash -c 'x'$",
            "bash -c a\\",
        ] {
            assert_spans_valid_here(src);
        }
    }

    #[test]
    fn an_escaped_quote_between_quoted_pieces_is_part_of_the_code() {
        // `'\''` closes the quote, adds a quote, opens another: bash runs `echo 'a'; nproc`.
        let src = r"bash -c 'echo '\''a'\''; nproc'";
        let p = parsed(src);
        assert_eq!(names(src), ["bash", "echo", "nproc"]);
        assert_eq!(get(&p, "echo").text, "echo 'a'");
        check_text_map(src, get(&p, "echo"));
        check_text_map(src, get(&p, "nproc"));
        assert_eq!(&src[get(&p, "nproc").name_span.clone()], "nproc");
        // Nested shells, `sh -c` and `ssh HOST '…'` alike.
        let src = r"bash -c 'bash -c '\''nproc'\'''";
        let p = parsed(src);
        assert_eq!(names(src), ["bash", "bash", "nproc"]);
        assert_eq!(&src[get(&p, "nproc").name_span.clone()], "nproc");
        let src = r"sh -c 'grep '\''a b'\'' f; nproc'";
        let p = parsed(src);
        assert_eq!(get(&p, "grep").text, "grep 'a b' f");
        check_text_map(src, get(&p, "grep"));
        let src = r"ssh web1 'sudo sed -i '\''s/a/b/'\'' f && nproc'";
        let p = parsed(src);
        assert_eq!(
            named_hosts(&p),
            [
                ("ssh", None),
                ("sudo", Some("web1")),
                ("sed", Some("web1")),
                ("nproc", Some("web1"))
            ]
        );
        check_text_map(src, get(&p, "sed"));
        // An escaped double quote is a quote too; a bare one is no piece the walk follows.
        let src = r#"bash -c 'echo '\"x\"'; nproc'"#;
        assert_eq!(names(src), ["bash", "echo", "nproc"]);
        assert!(has_bare_quote("a'b") && has_bare_quote("\"") && !has_bare_quote(r#"\'\""#));
    }

    #[test]
    fn coproc_runs_its_command() {
        assert_eq!(names("coproc nproc"), ["coproc", "nproc"]);
        let p = parsed("coproc nproc --all");
        assert_eq!(get(&p, "nproc").text, "nproc --all");
        // `coproc [NAME] { …; }`: the grammar reads the group's first command as words.
        assert_eq!(names("coproc NAME { nproc; }"), ["coproc", "nproc", "}"]);
        assert_eq!(
            names("coproc { nproc; free; }"),
            ["coproc", "nproc", "free", "}"]
        );
        assert_eq!(names("coproc (nproc)"), ["coproc", "nproc"]);
        // A NAME before a compound names the coprocess: it runs nothing called NAME.
        assert_eq!(names("coproc N (nproc)"), ["coproc", "nproc"]);
        assert!(!names("coproc N while true; do nproc; done").contains(&"N".to_string()));
        assert_eq!(names("sudo coproc nproc"), ["sudo", "coproc", "nproc"]);
    }

    #[test]
    fn names_made_of_quoted_pieces_are_what_the_shell_runs() {
        let src = "fre''e -m\nf\"re\"e -m\n\"free\" -m\n'fr'ee -m\n\\free -m\nfr\\ee -m\n";
        let p = crate::script::parse(src, Language::Bash);
        let got: Vec<(&str, &str)> = p
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(got, [("free", "free -m"); 6]);
        // Each letter of the name, and the arguments, map back to where they are written.
        let c = &p.commands[0];
        let at: Vec<usize> = (0..c.text.len()).map(|i| c.map.to_source(i)).collect();
        assert_eq!(at, [0, 1, 2, 5, 6, 7, 8]);
        assert_eq!(c.name_span, 0..6);
        // Wrappers too; a name that depends on an expansion stays unknown.
        assert_eq!(names("su''do 'apt'-get install x"), ["sudo", "apt-get"]);
        assert!(names("\"$x\"free -m; fr${e}e -m; 'my tool' x").is_empty());
    }

    #[test]
    fn a_line_starting_with_an_escaped_name_is_its_own_command() {
        // tree-sitter-bash makes `\nproc` one more argument of `echo hi`, starting at the
        // line break.
        for src in ["echo hi\n\\nproc -a\n", "echo hi # c\r\n\\nproc -a\r\n"] {
            let p = parsed(src);
            let got: Vec<(&str, &str)> = p
                .commands
                .iter()
                .map(|c| (c.name.as_str(), c.text.as_str()))
                .collect();
            assert_eq!(got, [("echo", "echo hi"), ("nproc", "nproc -a")], "{src:?}");
            assert_eq!(&src[p.commands[1].name_span.clone()], "nproc");
        }
        assert_eq!(names("sudo \\\n  \\nproc\n"), ["sudo", "nproc"]);
        assert_eq!(names("echo hi \\\n\\nproc\n"), ["echo"], "a continuation");
        assert_eq!(names("\\nproc\n"), ["nproc"]);
        assert_eq!(names("echo hi\n  \\nproc\n"), ["echo", "nproc"]);
        assert_eq!(
            names("if true; then echo a\n\\nproc; fi\n"),
            ["true", "echo", "nproc"]
        );
        assert_eq!(
            names("echo hi\n\\sudo \\nproc\n"),
            ["echo", "sudo", "nproc"]
        );
    }

    #[test]
    fn more_ways_code_reaches_a_shell() {
        let ran = |src: &str| names(src).contains(&"nproc".to_string());
        for src in [
            "tee f <<EOF | sh\nnproc\nEOF\n",
            "tee -a f <<< 'nproc' | sh\n",
            "cat <<EOF | tee f | sh\nnproc\nEOF\n",
            "echo nproc | tee -a log | cat | bash\n",
            "printf '%s\\n' nproc | cat - | sh\n",
            "at now <<EOF\nnproc\nEOF\n",
            "at -m 10:00 tomorrow <<'EOF'\nnproc\nEOF\n",
            "batch <<EOF\nnproc\nEOF\n",
            "echo nproc | at now + 5 minutes\n",
        ] {
            assert!(ran(src), "{src:?}: {:?}", names(src));
        }
        for src in [
            "tee f <<EOF\nnproc\nEOF\n",
            "cat <<EOF | tee f\nnproc\nEOF\n",
            "echo nproc | tee f | grep x\n",
            "cat f <<EOF | sh\nnproc\nEOF\n",
            "at -f job.sh now <<EOF\nnproc\nEOF\n",
            "at -c 4 <<EOF\nnproc\nEOF\n",
        ] {
            assert!(!ran(src), "{src:?}: {:?}", names(src));
        }
    }

    #[test]
    fn docker_compose_exec_runs_in_the_service() {
        for (src, host) in [
            ("docker compose exec -T -u root web nproc -a\n", "web"),
            (
                "docker-compose -f a.yml exec -e A=1 --index 2 db nproc\n",
                "db",
            ),
            (
                "docker --context x compose -p app exec -w /srv api sh -c 'nproc'\n",
                "api",
            ),
            ("podman-compose exec -d worker nproc\n", "worker"),
        ] {
            let p = parsed(src);
            let c = get(&p, "nproc");
            assert_eq!(c.host.as_deref(), Some(host), "{src:?}");
            assert!(c.text.starts_with("nproc"), "{src:?}");
        }
        assert_eq!(names("docker compose up -d web\n"), ["docker"]);
        assert_eq!(names("docker-compose logs -f web\n"), ["docker-compose"]);
        assert_eq!(names("docker compose exec web\n"), ["docker"]);
    }

    #[test]
    fn path_qualified_and_quoted_names() {
        let src = "/usr/bin/python x.py; \\rm -rf d; \"apt-get\" install y";
        let p = parsed(src);
        let py = get(&p, "python");
        assert_eq!(&src[py.name_span.clone()], "/usr/bin/python");
        assert_eq!(py.text, "python x.py");
        assert_eq!(get(&p, "rm").text, "rm -rf d");
        assert_eq!(get(&p, "apt-get").text, "apt-get install y");
    }

    #[test]
    fn dynamic_names_are_skipped_but_searched() {
        assert_eq!(names("$cmd args $(inner)"), ["inner"]);
        assert_eq!(names("\"$x\" y; ${run} z; sudo $tool x"), ["sudo"]);
    }

    #[test]
    fn continuation_lines() {
        let src = "apt-get install \\\n  -y \\\n  curl && ls";
        let p = parsed(src);
        let c = get(&p, "apt-get");
        assert_eq!(c.text, "apt-get install     -y     curl");
        let y = c.text.find("-y").unwrap();
        assert_eq!(&src[c.map.to_source(y)..c.map.to_source(y + 2)], "-y");
        assert_eq!(get(&p, "ls").text, "ls");
    }

    #[test]
    fn crlf_gives_the_same_commands() {
        let lf = "#!/bin/sh\nif [ -f x ]; then\n  sudo apt-get install \\\n    -y curl # c\nfi\n\
                  cat <<EOF\n$(date) text\nEOF\nssh h <<'EOF'\nuname -a\nEOF\n\
                  echo \"a\nb $(c)\"\ncase $x in\n  a) d ;;\nesac\nbash -c 'e f\ng h'\n\
                  for i in 1 2; do\n  j $i |\n    k\ndone\nf() {\n  l \"$@\"\n}\nx=$(\n  m\n)\n";
        let crlf = lf.replace('\n', "\r\n");
        let a = crate::script::parse(lf, Language::Bash);
        let b = crate::script::parse(&crlf, Language::Bash);
        let key = |p: &Parsed| -> Vec<(String, String, Option<String>)> {
            p.commands
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.text.split_whitespace().collect::<Vec<_>>().join(" "),
                        c.host.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(key(&a), key(&b));
        assert!(key(&a).len() >= 10, "{:?}", key(&a));
        for c in &b.commands {
            check_maps(&crlf, c);
            assert!(!c.text.ends_with('\r'), "{:?}", c.text);
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let n = 10_000;
        let src = format!("{}ls{}", "( ".repeat(n), " )".repeat(n));
        let p = parse(&src);
        assert_eq!(p.commands.len(), 1);
        assert_eq!(p.commands[0].name, "ls");
        let src = format!("{}ls{}", "echo $(".repeat(500), ")".repeat(500));
        assert_eq!(parse(&src).commands.len(), 501);
        // Executed code nests only MAX_EMBED_DEPTH deep. (Delimiters are not prefixes of each
        // other: tree-sitter-bash ends a heredoc at a line that starts with its delimiter.)
        let levels = 20;
        let mut s = String::new();
        for i in 0..levels {
            s.push_str(&format!("bash <<'L{i}E'\n"));
        }
        s.push_str("ls\n");
        for i in (0..levels).rev() {
            s.push_str(&format!("L{i}E\n"));
        }
        let p = parse(&s);
        let bashes = p.commands.iter().filter(|c| c.name == "bash").count();
        assert_eq!(bashes, usize::from(crate::script::MAX_EMBED_DEPTH) + 1);
        assert!(!p.commands.iter().any(|c| c.name == "ls"));
        let shallow = s.replace("bash <<'L3E'", "cat <<'L3E'");
        assert_eq!(names(&shallow), ["bash", "bash", "bash", "cat"]);
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "",
            "'",
            "\"$(",
            "<<",
            "cat <<EOF",
            "bash -c",
            "bash -c \"",
            "ssh",
            "ssh -p",
            "find -exec",
            "sudo -u",
            "timeout",
            "é$(ü) 'ö' \"ä\" `ß` \\€",
            "\u{0}\u{1}\r\r\n\\",
            "x=$'\\x41' ; ${a[$(b)]}",
            "(((((",
            "fi done esac }",
            "systemd-run",
            "tmux send-keys Enter",
            "tmux \\;",
            "tmux -c",
            "screen -S",
            "bash <(",
            ". <()",
            "cat<<EOF>",
            "cat<<EOF;",
            "cat <<EOF; ",
            "a\\\n",
            "\\\n\\\n",
            "$'",
        ] {
            let p = parse(src);
            for c in &p.commands {
                assert!(src.get(c.name_span.clone()).is_some());
            }
            for r in &p.code {
                assert!(src.get(r.span.clone()).is_some(), "{src:?} {r:?}");
            }
        }
    }

    #[test]
    fn random_token_soup_never_panics() {
        let tokens = [
            "echo ",
            "printf '%s\\n' ",
            "cat <<EOF",
            "cat <<'E'",
            "\nEOF\n",
            "\nE\n",
            " | ",
            " | sh",
            " | bash -s",
            "ssh h ",
            "bash -c ",
            "'",
            "\"",
            "\\",
            "\\ ",
            "$(",
            ")",
            "$x",
            "${y}",
            "$'a'",
            "watch ",
            "parallel ",
            " ::: ",
            "flock f ",
            "-c ",
            "docker exec c ",
            "kubectl exec p -- ",
            "systemd-run -p ",
            "screen -dmS s ",
            "tmux new -d ",
            "tmux send-keys ",
            " Enter",
            " \\; ",
            "<(",
            "< <(",
            ". ",
            "cat<<EOF>f",
            "<<EOF;",
            "se\\\n",
            "sed -i x",
            "\n",
            "\r\n",
            "&&",
            ";",
            " ",
            "<<<",
            "`",
            "cat<<E>f",
            "cat<<E;",
            ">x|",
            "E",
            "$'se\\x6",
            "4'",
            "\\u{",
        ];
        crate::script::assert_token_soup_is_safe(&tokens, Language::Bash);
    }

    #[test]
    fn code_regions_leave_out_data() {
        let src = "ls -l # list\necho 'x && y' \"lit $v\" && z\n";
        let p = parsed(src);
        let code = code_texts(src, &p);
        assert!(code.iter().all(|c| !c.contains("list")), "{code:?}");
        assert!(code.iter().all(|c| !c.contains("x && y")), "{code:?}");
        assert!(code.iter().all(|c| !c.contains("lit")), "{code:?}");
        assert!(code.iter().any(|c| c.contains("$v")), "{code:?}");
        assert!(code.iter().any(|c| c.contains("&& z")), "{code:?}");
        assert!(code.len() <= 4, "{code:?}");
        assert!(p
            .code
            .iter()
            .all(|r| r.language == Language::Bash && r.host.is_none()));
    }

    fn generated_script(lines: usize) -> String {
        let templates = [
            "if [ -f \"$HOME/.config/app-{i}\" ]; then",
            "  sudo -u root apt-get install -y package-{i} > /dev/null 2>&1 # install",
            "  result_{i}=$(grep -E 'pattern{i}' /var/log/syslog | awk '{{print $1}}' | sort -u)",
            "  echo \"Processing item {i}: $result_{i} at $(date +%s)\"",
            "fi",
            "for f in /tmp/dir{i}/*.log; do gzip -9 \"$f\" && mv \"$f.gz\" /archive/; done",
            "ssh -p 22 admin@host{i} 'systemctl restart svc{i} && journalctl -u svc{i} -n 5'",
            "find /var/tmp -name '*.tmp{i}' -mtime +7 -exec rm -f {{}} \\;",
            "curl -fsSL https://example.com/{i} | bash -s -- --flag \\",
            "    --other-flag value{i}",
        ];
        let mut s = String::from("#!/bin/bash\nset -euo pipefail\n");
        for i in 0..lines.div_ceil(templates.len()) {
            for t in &templates {
                s.push_str(&t.replace("{i}", &i.to_string()));
                s.push('\n');
            }
        }
        s
    }

    /// CPU time of this thread (wall time on a shared machine measures the other tenants).
    fn cpu_time() -> std::time::Duration {
        let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        std::time::Duration::from_nanos(ns)
    }

    fn best_of(runs: usize, mut f: impl FnMut()) -> (std::time::Duration, std::time::Duration) {
        let mut best = (std::time::Duration::MAX, std::time::Duration::MAX);
        for _ in 0..runs {
            let (wall, cpu) = (std::time::Instant::now(), cpu_time());
            f();
            best.0 = best.0.min(wall.elapsed());
            best.1 = best.1.min(cpu_time().saturating_sub(cpu));
        }
        best
    }

    /// `cargo test --release --lib script::bash -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing_10k_lines() {
        let src = generated_script(10_000);
        let (mut n, mut regions) = (0, 0);
        let (wall, cpu) = best_of(10, || {
            let p = parse(&src);
            (n, regions) = (p.commands.len(), p.code.len());
        });
        let (ts_wall, ts_cpu) = best_of(10, || {
            let tree = parse_tree(&src).unwrap();
            assert!(!tree.root_node().has_error());
        });
        println!(
            "10k lines ({} bytes, {n} commands, {regions} code regions), best of 10: parse+extract {wall:.1?} wall / {cpu:.1?} cpu; \
             tree-sitter parse of the document alone {ts_wall:.1?} wall / {ts_cpu:.1?} cpu",
            src.len()
        );
    }

    #[test]
    fn runs_code_names_every_command_the_walk_runs_code_through() {
        // Every command-like string literal of this module is a name the walk may special-case.
        let names = crate::script::walk_names(include_str!("bash.rs"));
        assert!(
            names.len() > 40 && names.iter().any(|n| n == "sudo"),
            "{names:?}"
        );
        let shapes = [
            "N 'tool5 --x'",
            "N -c 'tool5 --x'",
            "N a 'tool5 --x'",
            "N a -c 'tool5 --x'",
            "N -- 'tool5 --x'",
            "N a -- 'tool5 --x'",
            "N a b 'tool5 --x'",
            "N exec a 'tool5 --x'",
            "N -x a 'tool5 --x'",
            "N 'tool5 --x' ::: a",
            "echo 'tool5 --x' | N",
            "echo 'tool5 --x' | N a",
            "N <<'EOF'\ntool5 --x\nEOF",
            "N a <<'EOF'\ntool5 --x\nEOF",
            "N -s <<'EOF'\ntool5 --x\nEOF",
            "N -i a <<'EOF'\ntool5 --x\nEOF",
            "cat <<'EOF' | N\ntool5 --x\nEOF",
        ];
        // Reserved words are no commands: `until <<EOF` is a broken loop, parsed any which way.
        let reserved = [
            "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until",
            "do", "done", "in", "function", "time", "coproc",
        ];
        for name in names
            .iter()
            .filter(|n| !RUNS_CODE.contains(&n.as_str()) && !reserved.contains(&n.as_str()))
            // The probe itself.
            .filter(|n| *n != "tool5")
        {
            for shape in shapes {
                let src = shape.replace('N', name) + "\n";
                let found = parse(&src);
                assert!(
                    !found.commands.iter().any(|c| c.name == "tool5"),
                    "the walk runs quoted code through `{name}` ({src:?}): add it to RUNS_CODE"
                );
            }
        }
    }

    #[test]
    fn a_shell_reading_dev_stdin_runs_its_input() {
        for src in [
            "sh /dev/stdin <<'EOF'\nnproc\nEOF\n",
            "bash -e /dev/fd/0 <<EOF\nnproc\nEOF\n",
            "source /dev/stdin <<'EOF'\nnproc\nEOF\n",
            ". /dev/stdin <<'EOF'\nnproc\nEOF\n",
            "echo nproc | . /dev/stdin\n",
        ] {
            let p = parsed(src);
            assert!(p.commands.iter().any(|c| c.name == "nproc"), "{src:?}");
            crate::script::assert_spans_valid(src, &p);
        }
        for src in [
            "sh ./setup.sh <<'EOF'\nnproc\nEOF\n",
            "source ./lib.sh <<'EOF'\nnproc\nEOF\n",
            "cat /dev/stdin <<'EOF'\nnproc\nEOF\n",
        ] {
            assert!(
                !parsed(src).commands.iter().any(|c| c.name == "nproc"),
                "{src:?}"
            );
        }
    }

    #[test]
    fn loops_guard_their_body_like_if() {
        let guarded = |src: &str, name: &str| {
            parsed(src)
                .commands
                .iter()
                .filter(|c| c.name == name)
                .map(|c| c.guarded)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            guarded(
                "while command -v nproc >/dev/null; do nproc; done\n",
                "nproc"
            ),
            [true]
        );
        assert_eq!(
            guarded("until ! command -v nproc; do nproc; done\n", "nproc"),
            [true]
        );
        // The body of `until C` runs while C fails: no proof that nproc exists.
        assert_eq!(
            guarded("until command -v nproc; do nproc; done; nproc\n", "nproc"),
            [false, false]
        );
    }

    /// The OS families each command named `name` can run on, in source order.
    fn oses(src: &str, name: &str) -> Vec<Vec<&'static str>> {
        crate::script::parse(src, Language::Bash)
            .commands
            .into_iter()
            .filter(|c| c.name == name)
            .map(|c| c.os.names())
            .collect()
    }

    const ALL: [&str; 7] = [
        "linux", "darwin", "freebsd", "openbsd", "netbsd", "windows", "other",
    ];

    fn all_but(out: &[&str]) -> Vec<&'static str> {
        ALL.into_iter().filter(|f| !out.contains(f)).collect()
    }

    #[test]
    fn os_checks_bound_the_branches_of_if_and_lists() {
        let src = r#"if [ "$(uname)" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi"#;
        assert_eq!(oses(src, "sysctl"), [["darwin"]]);
        assert_eq!(oses(src, "nproc"), [all_but(&["darwin"])]);
        assert_eq!(
            oses(r#"if [ "$(uname)" = Darwin ]; then nproc; fi"#, "nproc"),
            [["darwin"]]
        );
        assert_eq!(
            oses(r#"if [[ "$OSTYPE" == linux* ]]; then nproc; fi"#, "nproc"),
            [["linux"]]
        );
        assert_eq!(
            oses("[[ $OSTYPE == darwin* ]] || nproc", "nproc"),
            [all_but(&["darwin"])]
        );
        assert_eq!(
            oses("[[ $OSTYPE == \"darwin\"* ]] && nproc", "nproc"),
            [["darwin"]]
        );
        assert_eq!(
            oses("[[ $OSTYPE =~ ^(free|open)bsd ]] && a", "a"),
            [["freebsd", "openbsd"]]
        );
        assert_eq!(
            oses("[ `uname -s` != Linux ] && a", "a"),
            [all_but(&["linux"])]
        );
        assert_eq!(oses("test \"$(uname -o)\" = Msys && a", "a"), [["windows"]]);
        assert_eq!(oses("[ Darwin = \"$(uname)\" ] && a", "a"), [["darwin"]]);
        assert_eq!(
            oses("! [ \"$(uname)\" = Darwin ] && a", "a"),
            [all_but(&["darwin"])]
        );
        assert_eq!(oses("[ \"${OSTYPE}\" == msys ] && a", "a"), [["windows"]]);
        assert_eq!(
            oses("[ ! \"$(uname)\" = Darwin ] && a", "a"),
            [all_but(&["darwin"])]
        );
        assert_eq!(
            oses("[[ ! $OSTYPE == darwin* ]] && a", "a"),
            [all_but(&["darwin"])]
        );
        let src = "case \"$(uname -s | tr '[:upper:]' '[:lower:]')\" in darwin) a ;; *) b ;; esac";
        assert_eq!(oses(src, "a"), [["darwin"]]);
        assert_eq!(oses(src, "b"), [all_but(&["darwin"])]);
        // `elif` and `else` know what the conditions before them ruled out.
        let src = r#"if [ "$(uname)" = Darwin ]; then a; elif [ "$(uname)" = Linux ]; then b; else c; fi"#;
        assert_eq!(oses(src, "a"), [["darwin"]]);
        assert_eq!(oses(src, "b"), [["linux"]]);
        assert_eq!(oses(src, "c"), [all_but(&["darwin", "linux"])]);
        // A chain keeps the check; `A && B || C` runs C also where B failed.
        assert_eq!(
            oses("[ \"$(uname)\" = Linux ] && a && a && a", "a"),
            [["linux"], ["linux"], ["linux"]]
        );
        assert_eq!(oses("[ \"$(uname)\" = Darwin ] && a || b", "b"), [ALL]);
        assert_eq!(
            oses("while [ \"$(uname)\" = Darwin ]; do a; done", "a"),
            [["darwin"]]
        );
        // Nested checks meet; code run here (`bash -c`) keeps them, code sent away does not.
        let src =
            "if [[ $OSTYPE == linux* ]]; then case \"$(uname -o)\" in Android) a;; *) b;; esac; fi";
        assert_eq!(oses(src, "a"), [["linux"]]);
        assert_eq!(oses(src, "b"), [["linux"]]);
        assert_eq!(
            oses(
                "if [ \"$(uname)\" = Darwin ]; then bash -c 'nproc'; ssh h nproc; fi",
                "nproc"
            ),
            [vec!["darwin"], ALL.to_vec()]
        );
        // `[[` and `[` are commands too, checked where they run.
        assert_eq!(
            oses("[ \"$(uname)\" = Linux ] && [[ -n x ]]", "[["),
            [["linux"]]
        );
    }

    #[test]
    fn os_checks_bound_the_arms_of_case() {
        let src = r#"case "$(uname -s)" in Darwin) sysctl -n hw.ncpu ;; *) nproc ;; esac"#;
        assert_eq!(oses(src, "sysctl"), [["darwin"]]);
        assert_eq!(oses(src, "nproc"), [all_but(&["darwin"])]);
        let src = "case $OSTYPE in darwin*|*bsd*) a ;; linux-gnu*) b ;; linux*) c ;; *) d ;; esac";
        assert_eq!(oses(src, "a"), [["darwin", "freebsd", "openbsd", "netbsd"]]);
        assert_eq!(oses(src, "b"), [["linux"]]);
        // `linux-gnu*` took only some Linux systems: `linux*` still runs on Linux.
        assert_eq!(oses(src, "c"), [["linux"]]);
        assert_eq!(oses(src, "d"), [["windows", "other"]]);
        // `;&` falls into the next arm, whatever it matches; `;;&` tests the next patterns.
        let src = "case `uname` in Darwin) a ;& Linux) b ;; *) c ;; esac";
        assert_eq!(oses(src, "b"), [["linux", "darwin"]]);
        assert_eq!(oses(src, "c"), [all_but(&["darwin", "linux"])]);
        let src = "case `uname` in Darwin) a ;;& *) c ;; esac";
        assert_eq!(oses(src, "c"), [ALL]);
        // An arm not read may run anywhere, and takes no family from the arms after it.
        let src = "case `uname` in $mine) a ;; Linux) b ;; *) c ;; esac";
        assert_eq!(oses(src, "a"), [ALL]);
        assert_eq!(oses(src, "b"), [["linux"]]);
        assert_eq!(oses(src, "c"), [all_but(&["linux"])]);
    }

    #[test]
    fn a_variable_set_once_to_a_probe_is_the_probe() {
        let set = "kernel=$(uname -s)\nexport OS_KIND=\"$OSTYPE\"\n";
        let src = format!(
            "{set}if [ \"$kernel\" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi\n\
             case \"${{kernel}}\" in Linux) free -m ;; esac\n\
             [[ $OS_KIND == darwin* ]] || tac f\n"
        );
        assert_eq!(oses(&src, "sysctl"), [["darwin"]]);
        assert_eq!(oses(&src, "nproc"), [all_but(&["darwin"])]);
        assert_eq!(oses(&src, "free"), [["linux"]]);
        assert_eq!(oses(&src, "tac"), [all_but(&["darwin"])]);
        // Set again, read into, or compared before it is set: not known.
        for src in [
            "os=$(uname)\nos=Linux\n[ \"$os\" = Darwin ] || nproc",
            "os=$(uname)\nread os\n[ \"$os\" = Darwin ] || nproc",
            "[ \"$os\" = Darwin ] || nproc\nos=$(uname)",
            "os=$(uname -r)\n[ \"$os\" = Darwin ] || nproc",
        ] {
            assert_eq!(oses(src, "nproc"), [ALL], "{src}");
        }
    }

    #[test]
    fn conditions_joined_inside_one_test_combine() {
        let linux_darwin = vec!["linux", "darwin"];
        for (src, then, otherwise) in [
            // Both must hold: the families of the OS test; the else of one side unknown: any.
            (
                "if [[ $OSTYPE == darwin* && -n $x ]]; then nproc; else nproc; fi",
                vec!["darwin"],
                ALL.to_vec(),
            ),
            (
                "if [ \"$(uname)\" = Darwin -a -n \"$x\" ]; then nproc; else nproc; fi",
                vec!["darwin"],
                ALL.to_vec(),
            ),
            (
                "if test -n \"$x\" -a \"$(uname)\" = Darwin; then nproc; else nproc; fi",
                vec!["darwin"],
                ALL.to_vec(),
            ),
            // Either may hold: their families together; the else runs on neither.
            (
                "if [[ $OSTYPE == linux* || $OSTYPE == darwin* ]]; then nproc; else nproc; fi",
                linux_darwin.clone(),
                all_but(&["linux", "darwin"]),
            ),
            (
                "if [ \"$(uname)\" = Linux -o \"$(uname)\" = Darwin ]; then nproc; else nproc; fi",
                linux_darwin.clone(),
                all_but(&["linux", "darwin"]),
            ),
            // One unknown side of `||`: the then-branch is any, the else is still off Darwin.
            (
                "if [[ -n $x || $OSTYPE == darwin* ]]; then nproc; else nproc; fi",
                ALL.to_vec(),
                all_but(&["darwin"]),
            ),
            // `!` and parentheses in `[[ ]]`; `!` binds closer than `-a` in `[ ]`.
            (
                "if [[ ! ( $OSTYPE == linux* || $OSTYPE == darwin* ) ]]; then nproc; else nproc; fi",
                all_but(&["linux", "darwin"]),
                linux_darwin.clone(),
            ),
            (
                "if [ ! \"$(uname)\" = Darwin -a \"$(uname)\" != Linux ]; then nproc; else nproc; fi",
                all_but(&["linux", "darwin"]),
                linux_darwin.clone(),
            ),
            // `&&` binds closer than `||` inside `[[ ]]`, `-a` closer than `-o` in `[ ]`.
            (
                "if [[ $OSTYPE == linux* || $OSTYPE == darwin* && -n $x ]]; then nproc; else nproc; fi",
                linux_darwin.clone(),
                all_but(&["linux"]),
            ),
            (
                "if [ \"$(uname)\" = Linux -o -n \"$x\" -a \"$(uname)\" = Darwin ]; then nproc; else nproc; fi",
                linux_darwin.clone(),
                all_but(&["linux"]),
            ),
        ] {
            assert_eq!(oses(src, "nproc"), [then, otherwise], "{src}");
        }
    }

    #[test]
    fn a_lookup_joined_inside_one_test_guards_its_name() {
        assert_eq!(
            guarded(r#"[[ -x "$(command -v jq)" && $OSTYPE == linux* ]] && jq ."#),
            ["jq"]
        );
        assert_eq!(
            guarded(r#"if [ -x "$(command -v jq)" -a -n "$f" ]; then jq .; fi"#),
            ["jq"]
        );
        // Either side may have held: nothing is proven present.
        assert!(guarded(r#"[[ -x "$(command -v jq)" || -n $x ]] && jq ."#).is_empty());
        // Both failed: the `else` of a negated lookup joined with `||`.
        assert_eq!(
            guarded(r#"if [[ ! -x "$(command -v jq)" || -z $f ]]; then :; else jq .; fi"#),
            ["jq"]
        );
        assert_eq!(
            oses(
                r#"[[ -x "$(command -v jq)" && $OSTYPE == linux* ]] && jq ."#,
                "jq"
            ),
            [["linux"]]
        );
    }

    #[test]
    fn a_check_that_ends_the_script_bounds_all_the_code_after_it() {
        for src in [
            "[ \"$(uname)\" = Linux ] || exit 1\nnproc",
            "[[ $OSTYPE == linux* ]] || { echo 'Linux only' >&2; exit 1; }\nnproc",
            "if [ \"$(uname)\" != Linux ]; then\n  echo 'Linux only' >&2\n  exit 1\nfi\nnproc",
            "if [ \"$(uname)\" = Linux ]; then :; else exit 1; fi\nnproc",
            "kernel=$(uname -s)\ntest \"$kernel\" = Linux || exit\nf() { nproc; }",
        ] {
            assert_eq!(oses(src, "nproc"), [["linux"]], "{src}");
        }
        assert_eq!(
            oses("[ \"$(uname)\" = Darwin ] && exit 0\nnproc", "nproc"),
            [all_but(&["darwin"])]
        );
        // Before the check, the code may run anywhere.
        assert_eq!(
            oses("nproc\n[ \"$(uname)\" = Linux ] || exit 1\nnproc", "nproc"),
            [ALL.to_vec(), vec!["linux"]]
        );
        // Only a check at the top level ends the script: `exit` in a function, a loop or a
        // branch may never run; one nested deeper in the branch is not read; nor is `elif`.
        for src in [
            "f() { [ \"$(uname)\" = Linux ] || exit 1; }\nnproc",
            "for a in $x; do [ \"$(uname)\" = Linux ] || exit 1; done\nnproc",
            "if [ -n \"$x\" ]; then [ \"$(uname)\" = Linux ] || exit 1; fi\nnproc",
            "if [ \"$(uname)\" != Linux ]; then if true; then exit 1; fi; fi\nnproc",
            "if [ \"$(uname)\" != Linux ]; then exit 1; elif true; then :; fi\nnproc",
            "[ \"$(uname)\" = Linux ] || ( exit 1 )\nnproc",
            "[ \"$(uname)\" = Linux ] || echo 'not Linux'\nnproc",
            "( [ \"$(uname)\" = Linux ] || exit 1 )\nnproc",
            // In the background, `exit` ends only the background subshell.
            "[ \"$(uname)\" = Linux ] || exit 1 &\nnproc",
            "[ \"$(uname)\" = Linux ] || exit 1 & nproc",
            "if [ \"$(uname)\" != Linux ]; then exit 1; fi &\nnproc",
        ] {
            assert_eq!(oses(src, "nproc"), [ALL], "{src}");
        }
        let src = "command -v jq >/dev/null || exit 1 &\njq .";
        assert!(
            guards(src).iter().any(|(n, g)| n == "jq" && !*g),
            "{src}: {:?}",
            guards(src)
        );
    }

    #[test]
    fn a_lookup_that_ends_the_script_guards_its_name_after_it() {
        for src in [
            "command -v jq >/dev/null || exit 1\njq .",
            "command -v jq >/dev/null 2>&1 || { echo 'need jq' >&2; exit 1; }\njq .",
            "if ! command -v jq >/dev/null; then\n  echo 'need jq' >&2\n  exit 1\nfi\njq .",
            "type jq >/dev/null && command -v tac >/dev/null || exit 1\njq .",
            "command -v jq >/dev/null || exit 1\nf() { jq .; }\nbash -c 'jq .'",
        ] {
            assert!(
                guards(src)
                    .iter()
                    .filter(|(n, _)| n == "jq")
                    .all(|(_, g)| *g),
                "{src}: {:?}",
                guards(src)
            );
        }
        let src = "jq .\ncommand -v jq >/dev/null || exit 1\njq .\nssh nas jq .\ntac f";
        let marks: Vec<bool> = guards(src)
            .into_iter()
            .filter(|(n, _)| n == "jq" || n == "tac")
            .map(|(_, g)| g)
            .collect();
        // Before it; after it; on another host; another name.
        assert_eq!(marks, [false, true, false, false]);
        // Many checks, as an agent may chain them: each name is guarded after its own check,
        // and the OS check holds for all after it.
        let mut long = String::from("[[ $OSTYPE == linux* ]] || exit 1\n");
        for i in 0..2000 {
            long.push_str(&format!(
                "tool{i} x\ncommand -v tool{i} >/dev/null || exit 1\ntool{i} y\n"
            ));
        }
        let p = crate::script::parse(&long, Language::Bash);
        let tools: Vec<&Command> = p
            .commands
            .iter()
            .filter(|c| c.name.starts_with("tool"))
            .collect();
        assert_eq!(tools.len(), 4000);
        // The first 64 names a document's checks prove are kept (the language server keeps
        // them with every chunk).
        for (k, c) in tools.iter().enumerate() {
            assert_eq!(c.guarded, k % 2 == 1 && k / 2 < 64, "{k}: {}", c.name);
            assert_eq!(c.os, OsSet::LINUX);
        }
        for src in [
            "f() { command -v jq >/dev/null || exit 1; }\njq .",
            "command -v jq >/dev/null && exit 1\njq .",
            "cd /srv || exit 1\njq .",
        ] {
            assert!(guarded(src).is_empty(), "{src}");
        }
    }

    #[test]
    fn what_the_walk_cannot_read_is_no_os_check() {
        for src in [
            "if [ \"$os\" = Darwin ]; then nproc; fi",
            "[ \"$(uname)\" = Darwin ]; nproc",
            "if [ \"$(uname)\" = Darwin ]; then :; fi; nproc",
            "[ \"$(uname)\" = Darwin -o -n \"$x\" ] && nproc",
            "[[ $OSTYPE == darwin* || -n $x ]] && nproc",
            "[[ $OSTYPE == darwin* && -n $x ]] || nproc",
            "[[ ( $OSTYPE == darwin* ]] && nproc",
            "[ \"$(uname)\" = Darwin \"$x\" ] && nproc",
            "[[ $OSTYPE == @(darwin|linux)* ]] && nproc",
            "[[ $OSTYPE == $want ]] && nproc",
            "case \"$(uname | sed s/D/d/)\" in darwin) nproc ;; esac",
            "[ \"$(uname -r)\" = 6.1 ] && nproc",
            "[[ \"$(uname)\" < Darwin ]] && nproc",
        ] {
            assert_eq!(oses(src, "nproc"), [ALL], "{src}");
        }
    }
}
