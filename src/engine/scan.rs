//! `scan`: the findings of one script against one index, for one target.

use std::ops::Range;

use super::applied::{self, InPlace};
use super::directives::Directives;
use super::index::{Hit, PatternIndex};
use super::operations;
use super::pattern::{Pattern, PatternType, Severity};
use super::target::Target;
use crate::script::sparse::{self, Cut};
use crate::script::{self, Language, OsSet, Parsed};

/// A machine-applicable edit: replace `span` of the source with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub title: String,
    pub span: Range<usize>,
    pub replacement: String,
}

/// One command (or construct) that a pattern says will fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub pattern_id: String,
    /// Source bytes of the matched text.
    pub span: Range<usize>,
    /// The pattern's severity, lowered to at most `minor` when the target is unknown.
    pub severity: Severity,
    /// The target this finding is for; `None` when no target is known.
    pub target: Option<String>,
    pub fix: Option<Edit>,
}

impl Finding {
    /// The one-line message: what fails, why, and for which target.
    pub fn message(&self, pattern: &Pattern) -> String {
        let base = pattern.message();
        match &self.target {
            Some(t) => format!("{base} (target: {t})"),
            None if pattern.affected_systems.is_empty() => base,
            None => format!(
                "{base} (no target set; affects {})",
                pattern.affected_systems.join(", ")
            ),
        }
    }
}

/// The result of scanning one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub findings: Vec<Finding>,
    /// The file's target after directives: the in-file directive, else the caller's default.
    pub target: Option<String>,
    /// Target names (the file's, or remote hosts') that are neither a known host nor a system tag
    /// any pattern uses; the code they cover was checked as if no target were set.
    pub unknown_targets: Vec<String>,
}

/// Scans `src` written in `lang`. `default_target` is what the configuration or the command line
/// says (an in-file `forewarn: target=` directive wins over it).
pub fn scan(src: &str, lang: Language, default_target: Option<&str>, index: &PatternIndex) -> Scan {
    scan_prepared(src, lang, default_target, index, None)
}

/// Work on a script done ahead of its scan by an adapter that needed it first, or had a core to
/// spare for it.
#[derive(Debug)]
pub enum Prepared {
    /// Lexed into statements ([`prelex`]): the lexer needs no patterns, so `check` lexes while
    /// they load, on a core that would otherwise wait, and the scan then spends both cores on
    /// the word lookups.
    Lexed(Option<sparse::Lexed>),
    /// Parsed whole: the hook parses a command to learn which patterns to load.
    Parsed(Parsed),
}

/// [`Prepared::Lexed`] for `src`; `None` when a scan of it would not lex (it is small enough to
/// parse whole).
pub fn prelex(src: &str, lang: Language) -> Option<Prepared> {
    (src.len() >= SPARSE_MIN_BYTES).then(|| Prepared::Lexed(sparse::lex(src, lang)))
}

/// [`scan`] of a text some of whose work is done (`None`: none is).
pub fn scan_prepared(
    src: &str,
    lang: Language,
    default_target: Option<&str>,
    index: &PatternIndex,
    prepared: Option<Prepared>,
) -> Scan {
    let directives = Directives::parse(src, lang);
    if directives.disable_file {
        return Scan {
            findings: Vec::new(),
            target: directives.target_or(default_target),
            unknown_targets: Vec::new(),
        };
    }
    let lexed = match prepared {
        Some(Prepared::Parsed(parsed)) => {
            return scan_parsed(src, &parsed, &directives, default_target, index)
        }
        Some(Prepared::Lexed(lexed)) => Some(lexed),
        None => None,
    };
    if src.len() >= SPARSE_MIN_BYTES {
        let target = directives
            .target_or(default_target)
            .and_then(|name| index.target(&name));
        if let Some(parts) = sparse_ranges(src, lang, target.as_ref(), index, lexed).and_then(
            |(ranges, ends, fixes)| {
                // Fixes applied where the file runs reach across stretches: read them first
                // from the statements that may hold one, and hand them to every stretch.
                let applied = if fixes.is_empty() {
                    Vec::new()
                } else {
                    let found = sparse::parse_ranges_with(src, lang, &fixes, &ends, |p| {
                        InPlace::find(src, &p, index).local(index)
                    })?;
                    applied::earliest(found.into_iter().flatten())
                };
                // The `#Requires` lines are reported once, by the merge.
                let directives = Directives {
                    applied,
                    requires: Default::default(),
                    ..directives.clone()
                };
                let scan_part =
                    |parsed: Parsed| scan_parsed(src, &parsed, &directives, default_target, index);
                sparse::parse_ranges_with(src, lang, &ranges, &ends, scan_part)
            },
        ) {
            let declared = requires_findings(src, &directives, default_target, index);
            return merge(parts, declared, default_target, &directives, index);
        }
    }
    let parsed = script::parse(src, lang);
    scan_parsed(src, &parsed, &directives, default_target, index)
}

/// From this size on a script is parsed sparsely when it can be: below it a whole parse takes a
/// few milliseconds and the lexer would not pay for itself.
pub(crate) const SPARSE_MIN_BYTES: usize = 64 * 1024;

/// The stretches of `src` between statement cuts that contain a literal of some pattern that
/// can fire where that stretch runs (see [`script::sparse`]), one range each, and the
/// stretches that may hold a check that ends the script (`sparse::ending_stretches`), and those
/// that may hold a fix already applied (`fix.applied_if`, outside comments); `None` when the
/// file cannot be cut safely.
#[allow(clippy::type_complexity)]
fn sparse_ranges(
    src: &str,
    lang: Language,
    target: Option<&Target>,
    index: &PatternIndex,
    lexed: Option<Option<sparse::Lexed>>,
) -> Option<(Vec<Range<Cut>>, Vec<Range<Cut>>, Vec<Range<Cut>>)> {
    let prefilter = index.prefilter(lang)?;
    let words = |text: &str, offset: usize, hits: &mut Vec<(Range<usize>, Relevant)>| {
        let mut relevance = Relevance::new(index, target);
        prefilter.word_hits(text, |m, hit| {
            hits.push((m.start + offset..m.end + offset, relevance.of(hit)))
        });
    };
    let literals = |hits: &mut Vec<(Range<usize>, Relevant)>| {
        prefilter.literal_hits(src, |m| hits.push((m, Relevant::Here)))
    };
    let (lexed, hits) = match lexed {
        // The lexer and the literal search each read the whole text: side by side (the lexer
        // takes about as long as the word lookups and the automaton together).
        None => std::thread::scope(|s| {
            let lexed = s.spawn(|| sparse::lex(src, lang));
            let mut hits = Vec::new();
            words(src, 0, &mut hits);
            literals(&mut hits);
            (lexed.join().ok().flatten(), hits)
        }),
        // Lexed already: the word lookups are split instead, the automaton going with the
        // smaller part (it costs about 40% of the lookups). A cut at a line start splits no
        // word; the automaton reads the whole text, as its literals may hold a newline.
        Some(lexed) => {
            let lexed = lexed?;
            // (A byte offset may fall inside a character: from the one it is in.)
            let from = crate::text::floor_char_boundary(src, src.len() * 2 / 7);
            let mid = src[from..].find('\n').map_or(src.len(), |i| from + i + 1);
            let (head, tail) = src.split_at(mid);
            let hits = std::thread::scope(|s| {
                let rest = s.spawn(|| {
                    let mut hits = Vec::new();
                    words(tail, mid, &mut hits);
                    hits
                });
                let mut hits = Vec::new();
                words(head, 0, &mut hits);
                literals(&mut hits);
                hits.extend(rest.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
                hits
            });
            (Some(lexed), hits)
        }
    };
    let lexed = lexed?;
    let cuts = &lexed.cuts;
    // Stretch k runs from cut k-1 (or the start) to cut k (or the end).
    let stretch_of = |offset: usize| cuts.partition_point(|c| c.offset <= offset);
    let inside = |spans: &[Range<usize>], at: usize| {
        let i = spans.partition_point(|s| s.end <= at);
        spans.get(i).is_some_and(|s| s.start <= at)
    };
    let text = |k: usize| {
        let start = k.checked_sub(1).map_or(0, |i| cuts[i].offset);
        let end = cuts.get(k).map_or(src.len(), |c| c.offset);
        &src[start..end]
    };
    let mut wanted = vec![false; cuts.len() + 1];
    let mut runs_code: Vec<Option<bool>> = vec![None; cuts.len() + 1];
    // Code a stretch sends to another system is checked against that system, so there every
    // pattern counts. That code is part of the statement that sends it: the PowerShell lexer
    // gives up on files where it may not be (`Enter-PSSession`, blocks kept for a later
    // `Invoke-Command`, see `sparse_ps`); elsewhere one such name makes every pattern count.
    let mut remote = vec![false; cuts.len() + 1];
    for (m, _) in hits.iter().filter(|(_, r)| *r == Relevant::Remote) {
        match lang {
            Language::Bash | Language::PowerShell => {
                remote[stretch_of(m.start)..=stretch_of(m.end.saturating_sub(1))].fill(true)
            }
            Language::Batch => remote.fill(true),
        }
    }
    for (m, relevant) in hits {
        let (first, last) = (stretch_of(m.start), stretch_of(m.end.saturating_sub(1)));
        if relevant == Relevant::Remote
            || (relevant == Relevant::Elsewhere && !remote[first..=last].iter().any(|&r| r))
            || wanted[first..=last].iter().all(|&w| w)
            || inside(&lexed.comments, m.start)
        {
            continue;
        }
        if inside(&lexed.quoted, m.start)
            && !*runs_code[first].get_or_insert_with(|| sparse::runs_code(lang, text(first)))
        {
            continue;
        }
        wanted[first..=last].fill(true);
    }
    // Code joined from quoted pieces (`sh -c 'fre''e'`) shows no literal until it is joined;
    // nor does a name made of pieces (`fre''e -m` runs `free`), nor a shell so named
    // (`s''h -c 'nproc'`), whose quoted code the loop above took for data.
    for &at in &lexed.joins {
        let k = stretch_of(at);
        if !wanted[k]
            && (*runs_code[k].get_or_insert_with(|| sparse::runs_code(lang, text(k))) || {
                let joined = joined_word(src, at, lang);
                let mut hit = sparse::runs_code(lang, &joined);
                prefilter.hits(&joined, |_, _| hit = true);
                hit
            })
        {
            wanted[k] = true;
        }
    }
    // Quoted text a command decodes before a shell reads it (`printf 'uname\nlsb_release' |
    // sh`, `echo -e`): a name after an escape shows no literal (`nlsb_release` is one word to
    // the lookups).
    for q in &lexed.quoted {
        let k = stretch_of(q.start);
        if !wanted[k]
            && src
                .as_bytes()
                .get(q.clone())
                .is_some_and(|t| memchr::memchr(b'\\', t).is_some())
            && *runs_code[k].get_or_insert_with(|| sparse::runs_code(lang, text(k)))
        {
            wanted[k] = true;
        }
    }
    let bound = |k: usize| match k.checked_sub(1) {
        None => Cut { offset: 0, row: 0 },
        Some(i) => cuts.get(i).copied().unwrap_or(Cut {
            offset: src.len(),
            row: 0,
        }),
    };
    // One range per stretch: the parse reads ordinary statements without tree-sitter, one
    // stretch at a time, and merges what is left where it touches.
    let ranges_of = |wanted: &[bool]| {
        (0..wanted.len())
            .filter(|&k| wanted[k])
            .map(|k| bound(k)..bound(k + 1))
            .collect::<Vec<Range<Cut>>>()
    };
    let mut fixes = vec![false; cuts.len() + 1];
    for at in applied::candidates(src, index) {
        if !inside(&lexed.comments, at) {
            fixes[stretch_of(at)] = true;
        }
    }
    Some((
        ranges_of(&wanted),
        sparse::ending_stretches(src, lang, cuts),
        ranges_of(&fixes),
    ))
}

/// Whether a prefilter hit can become a finding, as far as the file's target tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relevant {
    Here,
    /// Only patterns that cannot fire on the file's target (or inactive ones) stand behind it:
    /// it matters only in code sent to another system.
    Elsewhere,
    /// A command that sends code to another system.
    Remote,
}

/// Answers [`Relevant`] for hits, asking each pattern at most once per scan.
struct Relevance<'a> {
    index: &'a PatternIndex,
    applicable: Applicable,
}

impl<'a> Relevance<'a> {
    fn new(index: &'a PatternIndex, target: Option<&'a Target>) -> Relevance<'a> {
        Relevance {
            index,
            applicable: Applicable::new(target.cloned()),
        }
    }

    fn of(&mut self, hit: Hit<'_>) -> Relevant {
        let (index, applicable) = (self.index, &mut self.applicable);
        let here = match hit {
            Hit::Remote => return Relevant::Remote,
            Hit::Other => true,
            Hit::Entries(entries) => entries
                .iter()
                .any(|&e| applicable.applies(index, index.entry(e).pattern)),
            Hit::Operation(name) => operations::classes_of(name).any(|op| {
                index
                    .operation_patterns(op)
                    .iter()
                    .any(|&pi| applicable.applies(index, pi))
            }),
        };
        match here {
            true => Relevant::Here,
            false => Relevant::Elsewhere,
        }
    }
}

/// Which patterns can give a finding on one target (`None`: no known target), each asked at
/// most once: a pattern behind a common command is met thousands of times in a large script.
struct Applicable {
    target: Option<Target>,
    cache: Vec<Option<bool>>,
}

impl Applicable {
    fn new(target: Option<Target>) -> Applicable {
        Applicable {
            target,
            cache: Vec::new(),
        }
    }

    fn applies(&mut self, index: &PatternIndex, pi: usize) -> bool {
        if self.cache.is_empty() {
            self.cache = vec![None; index.len()];
        }
        let target = self.target.as_ref();
        *self.cache[pi].get_or_insert_with(|| {
            let pattern = index.pattern(pi);
            pattern.is_active && target.is_none_or(|t| t.applies(pattern))
        })
    }
}

/// The targets a document's code runs on: the file's (first), then each remote host met,
/// resolved once, with the names that are neither a host nor a known tag.
struct Targets<'a> {
    index: &'a PatternIndex,
    /// Each remote host met (lowercased) and its number in `list`: a large script may send
    /// code to thousands of hosts.
    hosts: rustc_hash::FxHashMap<String, usize>,
    list: Vec<Applicable>,
    unknown: Vec<String>,
    /// The one entry of `list` for code whose target is not known: every such host shares its
    /// answers (a script sending code to a thousand unknown hosts made a thousand tables).
    unresolved: Option<usize>,
}

impl<'a> Targets<'a> {
    fn new(index: &'a PatternIndex, file_target: Option<&str>) -> Targets<'a> {
        let mut targets = Targets {
            index,
            hosts: Default::default(),
            list: Vec::new(),
            unknown: Vec::new(),
            unresolved: None,
        };
        targets.add(file_target);
        targets
    }

    fn add(&mut self, name: Option<&str>) -> usize {
        let target = name.and_then(|n| {
            let t = self.index.target(n);
            if t.is_none() {
                self.unknown.push(n.to_string());
            }
            t
        });
        if target.is_none() {
            if let Some(k) = self.unresolved {
                return k;
            }
            self.unresolved = Some(self.list.len());
        }
        self.list.push(Applicable::new(target));
        self.list.len() - 1
    }

    /// The target of code running on `host` (`None`, or the local machine: where the file runs).
    fn of(&mut self, host: &Option<String>) -> usize {
        let Some(h) = host.as_ref().filter(|h| !super::target::is_loopback(h)) else {
            return 0;
        };
        let key = h.to_ascii_lowercase();
        if let Some(&k) = self.hosts.get(&key) {
            return k;
        }
        let k = self.add(Some(h));
        self.hosts.insert(key, k);
        k
    }

    fn target(&self, k: usize) -> Option<&Target> {
        self.list[k].target.as_ref()
    }

    fn applies(&mut self, k: usize, pi: usize) -> bool {
        self.list[k].applies(self.index, pi)
    }
}

/// The shell word that starts at `at`, its pieces joined as the shell joins them (`fre''e` is
/// `free`, `$'se\x64'` is `sed`, `se\` CR LF `d` is `sed`, PowerShell's ``Get-Local`User`` is
/// `Get-LocalUser`): quotes and escapes dropped, up to the first blank or operator outside
/// quotes.
fn joined_word(src: &str, at: usize, lang: Language) -> String {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut quote = None;
    let mut i = at;
    while let Some(&c) = b.get(i) {
        match (quote, c) {
            (
                None,
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b'&' | b'<' | b'>' | b'(' | b')',
            ) => break,
            (None, b'$') if b.get(i + 1) == Some(&b'\'') => {
                let mut end = i + 2;
                while end < b.len() && b[end] != b'\'' {
                    end += 1 + usize::from(b[end] == b'\\');
                }
                let body = src.get(i + 2..end.min(b.len())).unwrap_or("");
                if let Some((text, _)) = script::bash::ansi_c(body, 0) {
                    out.extend_from_slice(text.as_bytes());
                }
                i = end;
            }
            (None, b'\'' | b'"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None | Some(b'"'), b'`') if lang == Language::PowerShell => {
                i += 1;
                match b.get(i) {
                    None | Some(b'\n' | b'\r') => break,
                    Some(&e) => out.push(e),
                }
            }
            (None | Some(b'"'), b'\\') => {
                i += 1;
                // tree-sitter-bash reads `\` CR LF as a line continuation too.
                if b.get(i) == Some(&b'\r') && b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                if let Some(&e) = b.get(i).filter(|&&e| e != b'\n') {
                    out.push(e);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The commands of the stretches [`sparse_ranges`] keeps, as one parse (for tests).
#[cfg(test)]
pub(crate) fn parse_sparse(
    src: &str,
    lang: Language,
    default_target: Option<&str>,
    index: &PatternIndex,
) -> Option<Parsed> {
    let target = Directives::parse(src, lang)
        .target_or(default_target)
        .and_then(|name| index.target(&name));
    let (ranges, ends, _) = sparse_ranges(src, lang, target.as_ref(), index, None)?;
    let parts = sparse::parse_ranges_with(src, lang, &ranges, &ends, |p| p)?;
    let mut parsed = Parsed::default();
    for part in parts {
        parsed.commands.extend(part.commands);
        parsed.code.extend(part.code);
        // As each part's scan reads them: argument words and version-checked blocks.
        parsed.words.extend(part.words);
        parsed.version_blocks.extend(part.version_blocks);
    }
    Some(parsed)
}

/// One scan from the scans of a document's parts (each names the file's target if unknown).
fn merge(
    parts: Vec<Scan>,
    declared: Vec<Finding>,
    default_target: Option<&str>,
    directives: &Directives,
    index: &PatternIndex,
) -> Scan {
    let target = directives.target_or(default_target);
    let mut unknown_targets: Vec<String> = target
        .iter()
        .filter(|t| index.target(t).is_none())
        .cloned()
        .collect();
    let mut seen: rustc_hash::FxHashSet<String> = unknown_targets.iter().cloned().collect();
    let mut findings = declared;
    for part in parts {
        findings.extend(part.findings);
        for t in part.unknown_targets {
            if seen.insert(t.clone()) {
                unknown_targets.push(t);
            }
        }
    }
    sort_findings(&mut findings);
    Scan {
        findings,
        target,
        unknown_targets,
    }
}

/// [`scan`] on an already parsed document (the language server re-parses only what changed).
pub fn scan_parsed(
    src: &str,
    parsed: &Parsed,
    directives: &Directives,
    default_target: Option<&str>,
    index: &PatternIndex,
) -> Scan {
    let file_target_name = directives.target_or(default_target);
    let mut targets = Targets::new(index, file_target_name.as_deref());
    let mut found = Found::default();
    let mut candidates = Vec::new();
    let lines = LineStarts::new(src);
    // Fixes already in place (`fix.applied_if`), read on the first finding that asks.
    let in_place = std::cell::OnceCell::new();
    let prevented = |pi: usize, host: &Option<String>, at: usize| {
        index.has_applied_if(pi)
            && applied::covered(
                in_place.get_or_init(|| InPlace::find(src, parsed, index)),
                &directives.applied,
                index,
                pi,
                host,
                at,
            )
    };
    for cmd in &parsed.commands {
        index.command_candidates(&cmd.name, &mut candidates);
        let ops = if index.has_operations() {
            operations::classify(cmd)
        } else {
            Vec::new()
        };
        if candidates.is_empty() && ops.is_empty() {
            continue;
        }
        let k = targets.of(&cmd.host);
        // Code behind an OS check (`if [ "$(uname)" = Darwin ]`) that cannot run on the
        // target's OS gives nothing there.
        if !cmd.os.is_any() && off_target(targets.target(k), cmd.os) {
            continue;
        }
        // Once per command: an operation class can hit a hundred patterns on one command.
        let splat = std::cell::OnceCell::new();
        let mut hit = |pi: usize, text_range: Range<usize>, targets: &mut Targets| {
            if !targets.applies(k, pi) {
                return;
            }
            let span = cmd.map.to_source(text_range.start)..cmd.map.to_source_end(text_range.end);
            if prevented(pi, &cmd.host, span.start) {
                return;
            }
            let text = &cmd.text[text_range];
            let splat =
                *splat.get_or_init(|| cmd.language == Language::PowerShell && splats(&cmd.text));
            let text = Matched { text, splat };
            found.push(index, pi, span, text, (k, targets), directives, &lines);
        };
        // Guarded code checked for what it uses before using it. A lookup of the command's
        // own name proves it exists, so a pattern that predicts it is missing and is matched by
        // the name alone stays quiet; one that needs the arguments (`sed -i`), the command's
        // class (operations) or is about a command that exists and fails (`systemctl` in a
        // container) still speaks. A version or OS check rules out the patterns every system of
        // which it excludes (`ruled_out_by_powershell`, `ruled_out_by_os`).
        // A function the file defined before runs under that name, where the file runs (a
        // path, `/usr/bin/nproc`, runs the program instead).
        let defined = |cmd: &script::Command| {
            cmd.host.is_none()
                && directives.defines(src, &cmd.name, cmd.language, cmd.name_span.start)
                && src
                    .get(cmd.name_span.clone())
                    .is_some_and(|written| !written.contains(['/', '\\']))
        };
        let quiet = |pi: usize| {
            cmd.min_powershell
                .is_some_and(|min| ruled_out_by_powershell(index.pattern(pi), min))
                || cmd
                    .min_windows
                    .is_some_and(|min| ruled_out_by_windows(index.pattern(pi), min))
                || (!cmd.os.is_any() && ruled_out_by_os(index.pattern(pi), cmd.os))
        };
        let someones = std::cell::OnceCell::new();
        for &ei in &candidates {
            let entry = index.entry(ei);
            // Asked first: a regex is compiled on first use, and most of a large store's
            // patterns do not apply on any one target.
            if !targets.applies(k, entry.pattern) {
                continue;
            }
            if let Some(r) = entry.match_command(&cmd.name, &cmd.text, cmd.language) {
                let proven = r == (0..cmd.name.len())
                    && index.is_missing_command(entry.pattern)
                    && (cmd.guarded || defined(cmd));
                // A program called by a path someone chose (`.venv/bin/python`) is not the one
                // the system ships, which is what these patterns know about.
                let elsewhere = (index.is_missing_command(entry.pattern)
                    || about_shipped_programs(index.pattern(entry.pattern)))
                    && *someones.get_or_init(|| someones_program(src, cmd));
                if proven || elsewhere || quiet(entry.pattern) {
                    continue;
                }
                hit(entry.pattern, r, &mut targets);
            }
        }
        for op in ops {
            for &pi in index.operation_patterns(op) {
                // Applicability first: a class holds a hundred patterns, most for other systems.
                if targets.applies(k, pi) && !quiet(pi) {
                    hit(pi, 0..cmd.name.len(), &mut targets);
                }
            }
        }
    }

    let mut seen = Vec::new();
    // Sorted once a PowerShell construct is found: an embedded parse adds its words late.
    let mut words: Option<std::borrow::Cow<'_, [Range<usize>]>> = None;
    for region in &parsed.code {
        let Some(code) = src.get(region.span.clone()) else {
            continue;
        };
        let entries = index.syntax_candidates(code, &mut seen);
        if entries.is_empty() {
            continue;
        }
        let k = targets.of(&region.host);
        for ei in entries {
            let entry = index.entry(ei);
            // Code `pwsh` parses is no Windows PowerShell's problem (a guard's version is not
            // set here: Windows PowerShell parses a whole script before running any of it).
            if !targets.applies(k, entry.pattern)
                || region
                    .min_powershell
                    .is_some_and(|min| ruled_out_by_powershell(index.pattern(entry.pattern), min))
            {
                continue;
            }
            let pattern = index.pattern(entry.pattern);
            for m in entry.syntax_matches(code, region.language) {
                let span = region.span.start + m.start..region.span.start + m.end;
                if region.language == Language::PowerShell {
                    let words = words.get_or_insert_with(|| sorted_words(&parsed.words));
                    if argument_text(words, src, &span)
                        || (!fails_at_parse(pattern)
                            && (runs_on_newer(parsed, &region.host, span.start)
                                .is_some_and(|min| ruled_out_by_powershell(pattern, min))
                                || value_unused(src, &span)))
                    {
                        continue;
                    }
                }
                if prevented(entry.pattern, &region.host, span.start) {
                    continue;
                }
                let on = (k, &targets);
                let text = Matched {
                    text: &code[m],
                    splat: false,
                };
                found.push(index, entry.pattern, span, text, on, directives, &lines);
            }
        }
    }

    push_requires(src, directives, &mut targets, index, &mut found, &lines);

    Scan {
        findings: found.into_findings(index, &targets, src),
        target: file_target_name,
        unknown_targets: targets.unknown,
    }
}

/// Records the findings of the script's `#Requires` lines (`directives.requires`) that the
/// file's target does not satisfy: PowerShell refuses to run a script whose `#Requires -Version`
/// names a newer version than its own, before running any of it. The line is a comment, where
/// no `syntax:` entry looks; here the entries that match its text speak for it, so the failure
/// is a library pattern (an id, a cause, a fix, an ignore) like any other. Without a target, or
/// one whose PowerShell its tags do not tell, nothing: whether it fails is unknown.
fn push_requires<'p>(
    src: &'p str,
    directives: &Directives,
    targets: &mut Targets,
    index: &PatternIndex,
    found: &mut Found<'p>,
    lines: &LineStarts,
) {
    if directives.requires.lines.is_empty() {
        return;
    }
    let Some(runs) = targets.target(0).and_then(|t| target_powershell(&t.tags)) else {
        return;
    };
    let mut seen = Vec::new();
    for (span, min) in &directives.requires.lines {
        let Some(line) = src.get(span.clone()).filter(|_| runs < *min) else {
            continue;
        };
        for ei in index.syntax_candidates(line, &mut seen) {
            let entry = index.entry(ei);
            if !targets.applies(0, entry.pattern) {
                continue;
            }
            for m in entry.syntax_matches(line, Language::PowerShell) {
                let at = span.start + m.start..span.start + m.end;
                let text = Matched {
                    text: &line[m],
                    splat: false,
                };
                found.push(
                    index,
                    entry.pattern,
                    at,
                    text,
                    (0, targets),
                    directives,
                    lines,
                );
            }
        }
    }
}

/// The findings of [`push_requires`] alone: a sparse scan's parts leave them out, and the
/// merge adds them once.
fn requires_findings(
    src: &str,
    directives: &Directives,
    default_target: Option<&str>,
    index: &PatternIndex,
) -> Vec<Finding> {
    if directives.requires.lines.is_empty() {
        return Vec::new();
    }
    let mut targets = Targets::new(index, directives.target_or(default_target).as_deref());
    let mut found = Found::default();
    let lines = LineStarts::new(src);
    push_requires(src, directives, &mut targets, index, &mut found, &lines);
    found.into_findings(index, &targets, src)
}

/// The PowerShell a target runs, as its tags tell: the newest `powershell-X` it names
/// (`powershell-7` is any 7.x: as new as a 7 can be), else the newest its Windows release ships
/// (`target::windows_release`: 2.0 on Server 2008 R2); `None` when they tell neither.
fn target_powershell(tags: &[String]) -> Option<(u32, u32)> {
    let named = tags
        .iter()
        .filter_map(|t| {
            let t = lowercase(t.trim());
            let (major, minor) = powershell(&t)?;
            Some((major, if t.contains('.') { minor } else { u32::MAX }))
        })
        .max();
    named.or_else(|| {
        tags.iter()
            .filter_map(|t| super::target::windows_release(t.trim()))
            .map(|r| r.powershell)
            .max()
    })
}

/// Source order, the most severe first at one place. The parts of a sparse scan cover
/// disjoint stretches and each holds one finding per pattern and span, so no two parts can
/// repeat one.
fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.severity.cmp(&a.severity))
            .then(a.pattern_id.cmp(&b.pattern_id))
    });
}

/// Keeps the first of the items (sorted by span start) that one pattern makes at one span, even
/// when others lie between them: code sent to two hosts can give a pattern at full severity on
/// one and lowered on the other, with another pattern sorted in between. A set per start, not
/// a search of the group: a `curl` line with no target gives a hundred findings at one start.
fn dedup_at_one_place<T, K: std::hash::Hash + Eq>(
    items: &mut Vec<T>,
    span: impl Fn(&T) -> Range<usize>,
    pattern: impl Fn(&T) -> K,
) {
    let mut seen: rustc_hash::FxHashSet<(K, usize)> = Default::default();
    let mut start = None;
    items.retain(|item| {
        let span = span(item);
        if start != Some(span.start) {
            start = Some(span.start);
            seen.clear();
        }
        seen.insert((pattern(item), span.end))
    });
}

/// The findings of one scan as they are met: small records, sorted and deduplicated before
/// any of them becomes a [`Finding`] with its strings. A large script without a target gives
/// tens of thousands (every `curl` line names every `file_transfer` pattern), and sorting the
/// findings themselves was a sixth of the scan.
#[derive(Default)]
struct Found<'p> {
    list: Vec<Raw<'p>>,
}

struct Raw<'p> {
    span: Range<usize>,
    /// The pattern's severity, lowered as [`Finding::severity`] says.
    severity: Severity,
    /// The pattern's place in id order ([`PatternIndex::id_rank`]), which orders findings at
    /// one place after severity.
    rank: u32,
    pattern: u32,
    /// Which of the scan's [`Targets`] the code runs on.
    target: u32,
    /// The command or construct text the pattern matched (what a fix rewrites).
    text: &'p str,
    /// The command splats a table (`Invoke-WebRequest @p`), which may pass any parameter.
    splat: bool,
}

/// The text a pattern matched, and whether its command splats a table.
struct Matched<'p> {
    text: &'p str,
    splat: bool,
}

/// Whether PowerShell command text passes a splatted variable (`@params`,
/// `@PSBoundParameters`), whose parameters it cannot show.
fn splats(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'@'
            && i > 0
            && b[i - 1].is_ascii_whitespace()
            && b.get(i + 1)
                .is_some_and(|&n| n.is_ascii_alphabetic() || n == b'_')
    })
}

impl<'p> Found<'p> {
    /// Records a finding of pattern `pi` in code that runs on target `k` of `targets`, where the
    /// pattern applies (the caller asked [`Applicable`]), unless a directive suppresses it there.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        index: &PatternIndex,
        pi: usize,
        span: Range<usize>,
        Matched { text, splat }: Matched<'p>,
        (k, targets): (usize, &Targets),
        directives: &Directives,
        lines: &LineStarts,
    ) {
        let pattern = index.pattern(pi);
        if directives.ignores(
            lines.line_of(span.start),
            &pattern.id,
            &pattern.pattern_signature,
        ) {
            return;
        }
        let severity = match targets.target(k) {
            None if pattern.is_scoped() => pattern.severity.min(Severity::Minor),
            _ => pattern.severity,
        };
        self.list.push(Raw {
            span,
            severity,
            rank: index.id_rank(pi),
            pattern: pi as u32,
            target: k as u32,
            text,
            splat,
        });
    }

    /// Source order, the most severe first at one place, then by pattern id; one finding per
    /// pattern and span.
    fn into_findings(mut self, index: &PatternIndex, targets: &Targets, src: &str) -> Vec<Finding> {
        // Stable: of the findings one pattern makes at one span (code sent to several hosts),
        // the first met is kept, with its target, as before the records.
        self.list.sort_by_key(|r| {
            (
                r.span.start,
                std::cmp::Reverse(r.severity),
                r.rank,
                r.span.end,
            )
        });
        dedup_at_one_place(&mut self.list, |r| r.span.clone(), |r| r.pattern);
        self.list
            .into_iter()
            .map(|r| {
                let pattern = index.pattern(r.pattern as usize);
                Finding {
                    fix: edit(pattern, &r.span, r.text, src)
                        .filter(|e| !(r.splat && adds_a_parameter(&e.replacement, r.text))),
                    pattern_id: pattern.id.clone(),
                    span: r.span,
                    severity: r.severity,
                    target: targets.target(r.target as usize).map(|t| t.name.clone()),
                }
            })
            .collect()
    }
}

/// The edit of `pattern`'s fix to the `text` it matched at `span`, if it changes anything.
fn edit(pattern: &Pattern, span: &Range<usize>, text: &str, src: &str) -> Option<Edit> {
    let fix = pattern.fix.as_ref().filter(|f| f.is_edit())?;
    let re = regex::Regex::new(&fix.replace).ok()?;
    let replaced = re.replace(text, fix.with.as_str());
    if replaced == text {
        return None;
    }
    // The edit replaces the source text; with continuation lines inside the match the
    // source and the command text differ, so only exact correspondences are fixable.
    if src.get(span.clone())? != text {
        return None;
    }
    Some(Edit {
        title: fix
            .title
            .clone()
            .unwrap_or_else(|| format!("Replace with `{replaced}`")),
        span: span.clone(),
        replacement: replaced.into_owned(),
    })
}

/// Whether `replacement` passes a parameter (`-UseBasicParsing`) that `text` does not: on a
/// command that splats a table, the table may pass it already, and twice is an error
/// ("Cannot bind parameter because parameter 'UseBasicParsing' is specified more than once").
fn adds_a_parameter(replacement: &str, text: &str) -> bool {
    let params = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace())
            .filter_map(|w| w.strip_prefix('-'))
            .map(|w| w.split(':').next().unwrap_or("").to_ascii_lowercase())
            .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
            .collect()
    };
    let had = params(text);
    params(replacement).iter().any(|p| !had.contains(p))
}

/// 0-based line numbers of byte offsets, for suppression directives.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(src: &str) -> LineStarts {
        let mut v = vec![0];
        v.extend(memchr_newlines(src));
        LineStarts(v)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).saturating_sub(1)
    }
}

/// The starts of the lines after the first. Vectorised: a scan builds this over the whole text
/// once per part, and a byte-by-byte filter cost 8 instructions a byte.
fn memchr_newlines(src: &str) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i + 1)
}

/// Whether code that runs only on the OS families `os` (the `else` of `if [ "$(uname)" =
/// Darwin ]`) is out of `pattern`'s reach: the systems it names name OS families
/// (`target::os_families`: `macos` is Darwin, `debian-12` Linux), and none of them is in `os`.
/// Tags that name no OS (`bash-3.2`, `container`) do not keep a pattern in reach, and a
/// pattern that names no OS at all is never ruled out: it may fail anywhere.
fn ruled_out_by_os(pattern: &Pattern, os: OsSet) -> bool {
    let named = super::target::os_families(&pattern.affected_systems);
    !named.is_empty() && !named.meets(os)
}

/// Whether code that runs only on the OS families `os` never runs on `target`: the target
/// names an OS family (a host by its tags) and `os` holds none of them. Then no pattern, not
/// even one that names no system, has a finding there.
fn off_target(target: Option<&Target>, os: OsSet) -> bool {
    target.is_some_and(|t| {
        let named = super::target::os_families(&t.tags);
        !named.is_empty() && !named.meets(os)
    })
}

/// `words` in source order.
fn sorted_words(words: &[Range<usize>]) -> std::borrow::Cow<'_, [Range<usize>]> {
    match words.is_sorted_by_key(|w| w.start) {
        true => std::borrow::Cow::Borrowed(words),
        false => {
            let mut w = words.to_vec();
            w.sort_by_key(|w| w.start);
            std::borrow::Cow::Owned(w)
        }
    }
}

/// Whether a construct matched at `span` of PowerShell code is argument text: every non-blank
/// byte of it lies in the bare words and parameter names of commands (`words`, sorted), which
/// PowerShell reads in argument mode. There `??` in `dir ex??.log` is a wildcard and `-in` in
/// `openssl pkcs12 -in c.pfx` a parameter, not operators; only a `$` starts code in a bare word
/// (`x$PSScriptRoot` expands the variable), so a construct that starts with one is code.
fn argument_text(words: &[Range<usize>], src: &str, span: &Range<usize>) -> bool {
    let Some(text) = src.get(span.clone()) else {
        return false;
    };
    let mut blank = true;
    for (i, b) in text.bytes().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if blank && b == b'$' {
            return false;
        }
        blank = false;
        let at = span.start + i;
        let k = words.partition_point(|w| w.start <= at);
        if k == 0 || words[k - 1].end <= at {
            return false;
        }
    }
    !blank
}

/// Whether `pattern`'s failure is a parse error (its error text is one of the PowerShell or
/// shell parser's messages: "Unexpected token", "is not a valid statement separator", "Missing
/// …", "ParserError", "syntax error"), or says nothing: then a construct fails the whole script
/// before any of it runs, wherever it stands. Otherwise it fails only when the line runs
/// (`[pscustomobject]` "Unable to find type", an empty `$PSScriptRoot`, the `using` drive), and a
/// version check in front of it rules it out as it rules out a cmdlet.
fn fails_at_parse(pattern: &Pattern) -> bool {
    const PARSER: [&str; 8] = [
        "unexpected token",
        "not a valid statement separator",
        "parsererror",
        "parse error",
        "syntax error",
        "missing expression",
        "missing closing",
        "missing statement",
    ];
    let error = pattern
        .error_pattern
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    error.trim().is_empty() || PARSER.iter().any(|m| error.contains(m))
}

/// The lowest PowerShell that the version checks around `at` (on `host`) prove.
fn runs_on_newer(parsed: &Parsed, host: &Option<String>, at: usize) -> Option<(u32, u32)> {
    parsed
        .version_blocks
        .iter()
        .filter(|b| b.span.contains(&at) && b.host == *host)
        .map(|b| b.min)
        .max()
}

/// Whether a variable matched at `span` (`$PSScriptRoot`) is only tested for a value or
/// given one: `-not $X`, `!$X`, `if ($X)`, `$null -eq $X`, `$X -eq $null`, `$X = …`. An unset
/// variable is `$null` there, which is what the test is for: the common fallback `if (-not
/// $PSScriptRoot) { $PSScriptRoot = Split-Path … }` is the fix, not the failure. A scope or drive
/// (`$using:x`) is looked up even there, and fails.
fn value_unused(src: &str, span: &Range<usize>) -> bool {
    let Some(name) = src.get(span.clone()).and_then(|t| t.strip_prefix('$')) else {
        return false;
    };
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = src.as_bytes();
    if name.is_empty()
        || !name.bytes().all(word)
        || bytes.get(span.end).is_some_and(|&b| word(b) || b == b':')
    {
        return false;
    }
    let before = src[..span.start].trim_end_matches([' ', '\t']);
    let after = src[span.end..].trim_start_matches([' ', '\t']);
    let ends_with_word = |s: &str, w: &str| {
        s.len() >= w.len()
            && s.is_char_boundary(s.len() - w.len())
            && s[s.len() - w.len()..].eq_ignore_ascii_case(w)
            && !s.as_bytes()[..s.len() - w.len()]
                .last()
                .is_some_and(|&b| word(b) || b == b'-')
    };
    let starts_with_word = |s: &str, w: &str| {
        s.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w))
            && !s.as_bytes().get(w.len()).is_some_and(|&b| word(b))
    };
    let assigned = after.starts_with('=') && !after.starts_with("==");
    let negated = before.ends_with('!') || ends_with_word(before, "-not");
    let compared_with_null = (ends_with_word(before, "-eq") || ends_with_word(before, "-ne"))
        && ends_with_word(before[..before.len() - 3].trim_end(), "$null")
        || (starts_with_word(after, "-eq") || starts_with_word(after, "-ne"))
            && starts_with_word(after[3..].trim_start(), "$null");
    let condition = after.starts_with(')')
        && before.ends_with('(')
        && (ends_with_word(before[..before.len() - 1].trim_end(), "if")
            || ends_with_word(before[..before.len() - 1].trim_end(), "elseif"));
    assigned || negated || compared_with_null || condition
}

/// The directories a system's own programs are installed in (by the OS or its package
/// manager): a command called by a path into one of them is the system's.
const SYSTEM_BIN_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    // Synology DSM's own tools (`/usr/syno/sbin/synoservice`).
    "/usr/syno/bin",
    "/usr/syno/sbin",
];

/// Whether a POSIX shell command is called by a path someone chose: a relative path
/// (`.venv/bin/python`, `./tool`), a directory written with a variable (`"$VENV"/bin/pip`) or an
/// absolute one outside [`SYSTEM_BIN_DIRS`] (`/opt/v/bin/pip`). What runs there was put there by
/// someone, so it is neither missing nor the program the system ships. PowerShell and batch
/// paths are not read (Windows has no such short list).
fn someones_program(src: &str, cmd: &script::Command) -> bool {
    if cmd.language != Language::Bash {
        return false;
    }
    let Some(written) = src.get(cmd.name_span.clone()) else {
        return false;
    };
    let written: String = written
        .chars()
        .filter(|c| !matches!(c, '"' | '\'' | '\\'))
        .collect();
    let Some(slash) = written.rfind('/') else {
        return false;
    };
    // `/usr//bin/` and `/usr/bin/` are one directory.
    let parts: Vec<&str> = written[..slash]
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let dir = match written.starts_with('/') {
        true => format!("/{}", parts.join("/")),
        false => parts.join("/"),
    };
    !SYSTEM_BIN_DIRS.contains(&dir.as_str())
}

/// Whether a pattern is knowledge about the programs systems ship: it is scoped only by tags of
/// the documented vocabulary (not by a site tag, a host or a client, which may name programs of
/// their own wherever they live).
fn about_shipped_programs(p: &Pattern) -> bool {
    p.infrastructure_id.is_none()
        && p.client_id.is_none()
        && !p.affected_systems.is_empty()
        && p.affected_systems.iter().all(|t| {
            super::target::SYSTEM_TAGS
                .iter()
                .any(|v| v.eq_ignore_ascii_case(t))
        })
}

/// Whether code that runs only on PowerShell `min` or later (`if ($PSVersionTable.PSVersion
/// -ge [version]'5.1') { … }`) is out of `pattern`'s reach.
///
/// Every affected system must be ruled out. A `powershell-X` tag is when X is older than
/// `min`. A Windows tag is when the pattern also names the PowerShell that Windows release
/// ships (`windows-server-2012-r2` with `powershell-4.0`), that version is older than `min`,
/// and the pattern is a `version_mismatch`: the pattern then fails there because of that
/// PowerShell, and a newer one installed (WMF) is what the check looks for. Another type
/// (`command_compatibility`: the NetTCPIP module ships with Windows Server 2012, and WMF 5.1 on
/// 2008 R2 does not bring it) fails for the release itself. A Windows tag without its PowerShell in the pattern
/// (`wmic` removed from `windows-11-24h2`, Install-WindowsFeature on client Windows) fails for
/// the operating system, which no version check rules out; neither is any other tag, nor a
/// pattern scoped to a host or client, nor one that names no system at all.
fn ruled_out_by_powershell(pattern: &Pattern, min: (u32, u32)) -> bool {
    if pattern.affected_systems.is_empty()
        || pattern.infrastructure_id.is_some()
        || pattern.client_id.is_some()
    {
        return false;
    }
    // Asked for every candidate of every command under a version check (a `#Requires` line
    // puts the whole file under one): no allocation unless a tag is not lowercase.
    let tags = || pattern.affected_systems.iter().map(|t| lowercase(t.trim()));
    // A module that ships with a Windows release (NetTCPIP, ScheduledTasks with Server 2012) is
    // missing from older releases whatever WMF adds: only a `version_mismatch` pattern fails
    // there because of the PowerShell.
    let version_bound = pattern.pattern_type == PatternType::VersionMismatch;
    tags().all(|t| match powershell(&t) {
        Some(v) => v < min,
        None => {
            version_bound
                && super::target::windows_release(&t).is_some_and(|r| {
                    r.powershell < min && tags().any(|n| powershell(&n) == Some(r.powershell))
                })
        }
    })
}

/// The version a `powershell-X[.Y]` tag names.
fn powershell(tag: &str) -> Option<(u32, u32)> {
    let v = tag.strip_prefix("powershell-")?;
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `text` in ASCII lowercase, borrowed when it already is.
fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    match text.bytes().any(|b| b.is_ascii_uppercase()) {
        true => text.to_ascii_lowercase().into(),
        false => text.into(),
    }
}

/// Whether code that runs, on Windows, only on NT version `min` or later (`if
/// ([Environment]::OSVersion.Version -ge [version]'6.2') { … }`) is out of `pattern`'s reach.
///
/// Every affected system must be ruled out, as for [`ruled_out_by_powershell`], the other way
/// round. A Windows release tag is when its newest NT version is older than `min`
/// (`target::windows_release`). A `powershell-X` tag is when the pattern is not a
/// `version_mismatch` and X is what a release it names and the check rules out ships: by the
/// "OS as shipped" convention the tag stands for that release (NetTCPIP, missing from Server
/// 2008 R2, is tagged `powershell-2.0` too). A `version_mismatch` fails for the PowerShell,
/// which a newer Windows does not prove (it may run the PowerShell 2.0 engine). The check
/// proves no OS family (on another OS it compares that OS's version), so other tags stay.
fn ruled_out_by_windows(pattern: &Pattern, min: (u32, u32, u32)) -> bool {
    if pattern.affected_systems.is_empty()
        || pattern.infrastructure_id.is_some()
        || pattern.client_id.is_some()
    {
        return false;
    }
    let tags = || pattern.affected_systems.iter().map(|t| lowercase(t.trim()));
    let release = |t: &str| super::target::windows_release(t);
    let shipped_by_excluded = |v: (u32, u32)| {
        tags()
            .filter_map(|t| release(&t))
            .any(|r| r.nt < min && r.powershell == v)
    };
    let release_bound = pattern.pattern_type != PatternType::VersionMismatch;
    tags().all(|t| match release(&t) {
        Some(r) => r.nt < min,
        None => release_bound && powershell(&t).is_some_and(shipped_by_excluded),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::pattern::Fix;
    use crate::engine::target::Host;
    use crate::script::{make_command, OffsetMap};

    pub(crate) fn pattern(
        id: &str,
        commands: &[&str],
        systems: &[&str],
        severity: Severity,
    ) -> Pattern {
        Pattern {
            affected_systems: systems.iter().map(|s| s.to_string()).collect(),
            triggering_commands: commands.iter().map(|s| s.to_string()).collect(),
            root_cause: "because".into(),
            recommended_solution: "do else".into(),
            severity,
            ..Pattern::new(
                id,
                PatternType::CommandCompatibility,
                format!("sig {id}"),
                "it fails",
            )
        }
    }

    fn run(src: &str, lang: Language, target: Option<&str>, index: &PatternIndex) -> Vec<Finding> {
        scan_parsed(
            src,
            &crate::script::naive_parse(src, lang),
            &Directives::parse(src, lang),
            target,
            index,
        )
        .findings
    }

    fn index(patterns: Vec<Pattern>) -> PatternIndex {
        PatternIndex::build(patterns, vec![], vec![])
    }

    #[test]
    fn findings_at_one_place_come_most_severe_first_by_the_severity_shown() {
        // Without a target a scoped pattern is shown as at most minor, and sorts as shown.
        let idx = index(vec![
            pattern("c-scoped", &["curl"], &["alpine"], Severity::Blocking),
            pattern("b-major", &["curl"], &[], Severity::Major),
            pattern("a-major", &["curl"], &[], Severity::Major),
            pattern("d-regex", &[r"curl\s+-k"], &[], Severity::Blocking),
        ]);
        let order = |target: Option<&str>| -> Vec<(String, Severity)> {
            scan("echo x; curl -k https://x\n", Language::Bash, target, &idx)
                .findings
                .into_iter()
                .map(|f| (f.pattern_id, f.severity))
                .collect()
        };
        let s = |id: &str, sev| (id.to_string(), sev);
        assert_eq!(
            order(None),
            [
                s("d-regex", Severity::Blocking),
                s("a-major", Severity::Major),
                s("b-major", Severity::Major),
                s("c-scoped", Severity::Minor),
            ]
        );
        assert_eq!(
            order(Some("alpine")),
            [
                s("c-scoped", Severity::Blocking),
                s("d-regex", Severity::Blocking),
                s("a-major", Severity::Major),
                s("b-major", Severity::Major),
            ]
        );
    }

    #[test]
    fn one_pattern_at_one_span_on_several_hosts_names_the_first_host() {
        // A kept script block sent to 40 hosts is 40 commands at one span; the finding kept
        // is the first met (a sort that moves equal records named whichever came out first).
        let hosts: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
        let mut patterns = vec![
            pattern("x", &["Get-X"], &[], Severity::Major),
            // Met after the commands, before them in the source: the records are not sorted.
            pattern("y", &[r"syntax:\$sb ="], &[], Severity::Major),
        ];
        for h in &hosts {
            patterns.push(pattern(
                &format!("on-{h}"),
                &["other"],
                &[h],
                Severity::Major,
            ));
        }
        let idx = index(patterns);
        let mut src = String::from("$sb = { Get-X }\n");
        for h in &hosts {
            src.push_str(&format!(
                "Invoke-Command -ComputerName {h} -ScriptBlock $sb\n"
            ));
        }
        let found: Vec<_> = scan(&src, Language::PowerShell, None, &idx)
            .findings
            .into_iter()
            .map(|f| (f.pattern_id, f.target))
            .collect();
        assert_eq!(
            found,
            [
                ("y".to_string(), None),
                ("x".to_string(), Some("t0".to_string()))
            ]
        );
    }

    #[test]
    fn names_match_whole_and_case_follows_the_language() {
        let idx = index(vec![
            pattern("p1", &["python"], &[], Severity::Major),
            pattern("p2", &["Get-LocalUser"], &[], Severity::Major),
        ]);
        assert_eq!(run("python3 x.py\n", Language::Bash, None, &idx).len(), 0);
        assert_eq!(run("python x.py\n", Language::Bash, None, &idx).len(), 1);
        assert_eq!(
            run("Python x.py\n", Language::Bash, None, &idx).len(),
            0,
            "POSIX shells are case-sensitive"
        );
        assert_eq!(
            run("get-localuser\n", Language::PowerShell, None, &idx).len(),
            1
        );
        assert_eq!(
            run("Get-LocalUserInfo\n", Language::PowerShell, None, &idx).len(),
            0
        );
        let f = &run("  /usr/bin/python x.py\n", Language::Bash, None, &idx)[0];
        assert_eq!(f.span, 11..17, "the span is the name's last component");
    }

    #[test]
    fn regex_entries_are_anchored_and_cover_the_name() {
        let idx = index(vec![
            pattern(
                "sed",
                &[r"sed\s+(-[a-zA-Z]+\s+)*-i(\s|$)"],
                &[],
                Severity::Major,
            ),
            pattern("pyx", &[r"py(thon)?"], &[], Severity::Major),
            pattern("inline", &[r"(?-i)Foo"], &[], Severity::Major),
        ]);
        let src = "sed -n -i s/a/b/ f\nsed -n p f\necho sed -i\n";
        let found = run(src, Language::Bash, None, &idx);
        assert_eq!(found.len(), 1);
        assert_eq!(&src[found[0].span.clone()], "sed -n -i ");
        assert!(
            run("python3\n", Language::Bash, None, &idx).is_empty(),
            "`py(thon)?` must not match part of `python3`"
        );
        assert_eq!(
            run("foo\n", Language::PowerShell, None, &idx).len(),
            0,
            "an inline flag overrides the language"
        );
        assert_eq!(run("Foo\n", Language::PowerShell, None, &idx).len(), 1);
    }

    #[test]
    fn continuation_lines_stay_in_the_command_and_map_back() {
        let idx = index(vec![pattern(
            "sed",
            &[r"sed\s+-i\s+s"],
            &[],
            Severity::Major,
        )]);
        let src = "sed \\\n  -i s/a/b/ f\n";
        let mut parsed = Parsed::default();
        parsed.commands.push(make_command(
            src,
            0..3,
            src.len() - 1,
            Language::Bash,
            None,
            &OffsetMap::starting_at(0),
        ));
        let found = scan_parsed(src, &parsed, &Directives::default(), None, &idx).findings;
        assert_eq!(found.len(), 1);
        assert_eq!(&src[found[0].span.clone()], "sed \\\n  -i s");
    }

    #[test]
    fn targets_scope_patterns_and_unknown_targets_lower_severity() {
        let hosts = vec![Host {
            id: "h1".into(),
            hostname: "OLDSRV".into(),
            system_tags: vec!["windows-server-2008".into()],
            ..Host::default()
        }];
        let idx = PatternIndex::build(
            vec![
                pattern(
                    "p",
                    &["Get-LocalUser"],
                    &["windows-server-2008"],
                    Severity::Blocking,
                ),
                pattern("any", &["Restart-Computer"], &[], Severity::Major),
                pattern("deb", &["apt-key"], &["debian-12"], Severity::Major),
            ],
            hosts,
            vec![],
        );
        let src = "Get-LocalUser\nRestart-Computer\n";
        let on_host = run(src, Language::PowerShell, Some("oldsrv"), &idx);
        assert_eq!(on_host.len(), 2);
        assert_eq!(on_host[0].severity, Severity::Blocking);
        assert_eq!(on_host[0].target.as_deref(), Some("oldsrv"));
        assert_eq!(
            run(src, Language::PowerShell, Some("windows-server-2008"), &idx)[0].severity,
            Severity::Blocking,
            "a tag works without a host row"
        );
        assert_eq!(
            run(src, Language::PowerShell, Some("debian-12"), &idx).len(),
            1,
            "only the unscoped pattern"
        );
        // A name that is neither a host nor a tag any pattern uses (a typo) is an unknown target,
        // not a tag that turns every scoped pattern off; the scan says so.
        let typo = scan(src, Language::PowerShell, Some("windwos-server-2008"), &idx);
        assert_eq!(typo.findings.len(), 2);
        assert_eq!(typo.findings[0].severity, Severity::Minor);
        assert_eq!(typo.findings[0].target, None);
        assert_eq!(
            typo.unknown_targets,
            vec!["windwos-server-2008".to_string()]
        );
        let unknown = run(src, Language::PowerShell, None, &idx);
        assert_eq!(unknown[0].severity, Severity::Minor);
        assert_eq!(
            unknown[1].severity,
            Severity::Major,
            "an unscoped pattern keeps its severity"
        );
        assert!(unknown[0]
            .message(idx.get("p").unwrap())
            .contains("windows-server-2008"));
        let directive = "# forewarn: target=OLDSRV\nGet-LocalUser\n";
        assert_eq!(
            run(directive, Language::PowerShell, Some("debian-12"), &idx)[0].severity,
            Severity::Blocking,
            "the directive wins"
        );
    }

    #[test]
    fn remote_commands_use_their_host() {
        let hosts = vec![Host {
            id: "h1".into(),
            hostname: "OLDSRV".into(),
            system_tags: vec!["powershell-2.0".into()],
            ..Host::default()
        }];
        let idx = PatternIndex::build(
            vec![pattern(
                "p",
                &["Get-LocalUser"],
                &["powershell-2.0"],
                Severity::Blocking,
            )],
            hosts,
            vec![],
        );
        let found = run(
            "Get-LocalUser @remote\nGet-LocalUser\n",
            Language::PowerShell,
            Some("WIN2022"),
            &idx,
        );
        assert_eq!(
            found.len(),
            2,
            "WIN2022 is unknown: the local command is checked as untargeted"
        );
        assert_eq!(found[0].target.as_deref(), Some("OLDSRV"));
        assert_eq!(found[0].severity, Severity::Blocking);
        assert_eq!(found[1].target, None);
        assert_eq!(found[1].severity, Severity::Minor);
    }

    #[test]
    fn suppressions_inactive_patterns_and_disable_file() {
        let mut inactive = pattern("off", &["curl"], &[], Severity::Major);
        inactive.is_active = false;
        let idx = index(vec![
            pattern("abcd1234", &["wget"], &[], Severity::Major),
            inactive,
        ]);
        let src =
            "wget a # forewarn: ignore\n# forewarn: ignore=abcd1234\nwget b\nwget c\ncurl d\n";
        let found = run(src, Language::Bash, None, &idx);
        assert_eq!(found.len(), 1);
        assert_eq!(&src[found[0].span.clone()], "wget");
        assert_eq!(found[0].span.start, src.find("wget c").unwrap());
        let disabled = scan(
            "# forewarn: disable-file\nwget x\n",
            Language::Bash,
            None,
            &idx,
        );
        assert!(disabled.findings.is_empty());
    }

    #[test]
    fn fixes_become_edits_of_the_source() {
        let mut p = pattern("py", &["python"], &[], Severity::Major);
        p.fix = Some(Fix {
            title: None,
            replace: "^python".into(),
            with: "python3".into(),
            applied_if: None,
        });
        let idx = index(vec![p]);
        let src = "x=1\n/usr/bin/python run.py\n";
        let f = &run(src, Language::Bash, None, &idx)[0];
        let edit = f.fix.as_ref().unwrap();
        let mut fixed = src.to_string();
        fixed.replace_range(edit.span.clone(), &edit.replacement);
        assert_eq!(fixed, "x=1\n/usr/bin/python3 run.py\n");
    }

    #[test]
    fn a_command_that_splats_a_table_gets_no_edit_adding_a_parameter() {
        let mut basic = pattern(
            "basic",
            // The default library's: every argument but one starting `-UseB`.
            &[
                r"(Invoke-WebRequest|iwr)(\s+([^-\s]\S*|-([^uU\s]\S*|[uU]([^sS\s]\S*|[sS]([^eE\s]\S*|[eE]([^bB\s]\S*)?)?)?)))*\s*$",
            ],
            &[],
            Severity::Major,
        );
        basic.fix = Some(Fix {
            title: None,
            replace: r"(?i)^(Invoke-WebRequest|iwr)\b".into(),
            with: "${1} -UseBasicParsing".into(),
            applied_if: None,
        });
        let mut py = pattern("py", &["python"], &[], Severity::Major);
        py.fix = Some(Fix {
            title: None,
            replace: "^python$".into(),
            with: "python3".into(),
            applied_if: None,
        });
        let mut tls = pattern("tls", &[r"curl\s.*"], &[], Severity::Major);
        tls.fix = Some(Fix {
            title: None,
            replace: "^curl".into(),
            with: "curl --tlsv1.2".into(),
            applied_if: None,
        });
        let idx = index(vec![basic, py, tls]);
        let edit = |src: &str, lang: Language| -> Vec<Option<String>> {
            scan(src, lang, None, &idx)
                .findings
                .into_iter()
                .map(|f| f.fix.map(|e| e.replacement))
                .collect()
        };
        let ps = Language::PowerShell;
        assert_eq!(
            edit("Invoke-WebRequest -Uri https://x\n", ps),
            [Some(
                "Invoke-WebRequest -UseBasicParsing -Uri https://x".to_string()
            )]
        );
        // The table may hold UseBasicParsing: adding it could pass it twice.
        for src in [
            "$p = @{Uri='https://x'; UseBasicParsing=$true}; Invoke-WebRequest @p\n",
            "Invoke-WebRequest -Uri https://x @rest\n",
            "Invoke-WebRequest @PSBoundParameters\n",
        ] {
            assert_eq!(edit(src, ps), [None], "{src}");
        }
        // A table literal, an array and an e-mail address are no splats; a rename adds no
        // parameter; `@file` is curl's, not PowerShell's.
        assert_eq!(
            edit("Invoke-WebRequest -Body @{a=1} -Uri https://x\n", ps),
            [Some(
                "Invoke-WebRequest -UseBasicParsing -Body @{a=1} -Uri https://x".to_string()
            )]
        );
        assert_eq!(edit("python @args\n", ps), [Some("python3".to_string())]);
        assert_eq!(
            edit("curl -d @body.json https://x\n", Language::Bash),
            [Some("curl --tlsv1.2 -d @body.json https://x".to_string())]
        );
    }

    #[test]
    fn syntax_entries_match_in_code_regions_only() {
        let idx = index(vec![
            pattern("chain", &["syntax:&&"], &[], Severity::Major),
            pattern(
                "spm",
                &[r"syntax:\[Net\.ServicePointManager\]"],
                &[],
                Severity::Minor,
            ),
        ]);
        let src = "a && b\n# c && d\n[net.servicepointmanager]::SecurityProtocol = 'Tls12'\n";
        let found = run(src, Language::PowerShell, None, &idx);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(&src[found[0].span.clone()], "&&");
        assert_eq!(found[1].span.start, src.find("[net").unwrap());
    }

    #[test]
    fn operations_trigger_patterns() {
        let mut p = pattern("apt", &[], &["alpine"], Severity::Blocking);
        p.triggering_operations = vec!["package_install".into()];
        let idx = index(vec![p]);
        let found = run(
            "apt-get install -y curl\napt-get update\n",
            Language::Bash,
            Some("alpine"),
            &idx,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, 0..7);
    }

    #[test]
    fn code_run_by_pwsh_is_no_windows_powershell_problem() {
        let idx = index(vec![
            pattern(
                "chain",
                &["syntax:&&"],
                &["powershell-5.1"],
                Severity::Major,
            ),
            pattern(
                "ht",
                &["ConvertFrom-Json"],
                &["powershell-5.1"],
                Severity::Major,
            ),
        ]);
        let ps = "pwsh -Command \"a && b | ConvertFrom-Json\"\npowershell -Command \"a && b | ConvertFrom-Json\"\n";
        let found = scan(ps, Language::PowerShell, Some("powershell-5.1"), &idx).findings;
        let lines: Vec<(usize, &str)> = found
            .iter()
            .map(|f| {
                (
                    ps[..f.span.start].matches('\n').count() + 1,
                    f.pattern_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [(2, "chain"), (2, "ht")],
            "only what Windows PowerShell runs"
        );
        let sh = "pwsh -c 'a && b'\n";
        assert!(scan(sh, Language::Bash, Some("powershell-5.1"), &idx)
            .findings
            .is_empty());
    }

    #[test]
    fn syntax_entries_fire_only_in_their_systems_languages() {
        let idx = index(vec![
            pattern(
                "ps-chain",
                &["syntax:&&"],
                &["powershell-5.1"],
                Severity::Major,
            ),
            pattern(
                "any-chain",
                &["syntax:\\|\\|"],
                &["container"],
                Severity::Major,
            ),
        ]);
        let bash = "cd /tmp && ls || true\n";
        let found = scan(bash, Language::Bash, None, &idx).findings;
        assert_eq!(
            found
                .iter()
                .map(|f| f.pattern_id.as_str())
                .collect::<Vec<_>>(),
            ["any-chain"],
            "a PowerShell 5.1 construct is no problem in bash"
        );
        let ps = "cd C:\\ && dir\n";
        let found = scan(ps, Language::PowerShell, None, &idx).findings;
        assert_eq!(found[0].pattern_id, "ps-chain");
    }

    #[test]
    fn broken_patterns_are_skipped_and_named() {
        let idx = index(vec![
            pattern("bad", &["(unclosed"], &[], Severity::Major),
            pattern("good", &["wget"], &[], Severity::Major),
        ]);
        assert_eq!(idx.problems().len(), 1);
        assert_eq!(idx.problems()[0].pattern_id, "bad");
        assert_eq!(run("wget x\n", Language::Bash, None, &idx).len(), 1);
    }

    #[test]
    fn explain_matches_regexes_and_keywords() {
        let mut a = pattern("a", &[], &["synology-dsm"], Severity::Major);
        a.error_pattern = Some(r"systemctl: (command )?not found".into());
        let mut b = pattern("b", &[], &[], Severity::Minor);
        b.error_pattern = Some("externally-managed-environment (".into()); // not a regex: keywords
        let idx = index(vec![a, b]);
        let out = "bash: systemctl: command not found\n";
        let found = crate::engine::explain(out, None, &idx);
        assert_eq!(found.len(), 1);
        assert_eq!(&out[found[0].span.clone()], "systemctl: command not found");
        let t = idx.resolve_target("debian-12");
        assert!(crate::engine::explain(out, Some(&t), &idx).is_empty());
        let pip = "error: EXTERNALLY-MANAGED-ENVIRONMENT\n× This environment is externally managed (see PEP 668)";
        assert_eq!(crate::engine::explain(pip, None, &idx)[0].pattern_id, "b");
    }

    /// Bash written to trip a statement lexer: heredocs (data, fed to shells, quoted, dashed,
    /// two on a line, inside `$( )`), functions in every form, `case`, loops, groups, multi-line
    /// strings and substitutions, continuations, comments holding quotes and keywords, and
    /// default-library commands in each of those places.
    pub(super) const TRICKY_BASH: &str = r#"#!/bin/bash
# don't run systemctl here (it's "only" a comment) if fi done
set -e
cat <<EOF > /etc/motd
systemctl restart nginx
sed -i 's/a/b/' f
EOF
bash <<'SCRIPT'
systemctl enable --now app
SCRIPT
ssh admin@nas sh <<-EOT
	readlink -f /volume1
	EOT
cat <<A
grep -P x
A
python setup.py
out=$(cat <<EOF
date -d yesterday
EOF
)
f() {
  sed -i "s/$1/$2/" "$3"
}
g()
{
  readlink -f "$1"
}
function h {
  case "$1" in
    start) systemctl start app ;;
    (stop) service app stop ;;
    *) echo "usage: it's start|stop" ;;
  esac
}
for x in a b; do
  grep -P "$x" file || true
done
while read -r l
do
  echo "$l" | xargs -r rm
done < list
if [ -f x ]; then
  python script.py
elif [ -d y ]; then
  :
else
  timeout 5 ls
fi
{ stat -c %s f; date -d now; }
( cd /tmp && python -V )
msg='a long
string with systemctl in it
and base64 -w0'
echo "$(printf '%s' "a
b") $(( 1 << 3 ))"
ls | \
  xargs -r echo
ls |
  sort
arr=(one two
 three)
echo ${#arr[@]} $# a#b
sudo -u root sed -i 's/x/y/' /etc/x
eval "readlink -f ."
bash -c 'systemctl daemon-reload'
echo 'sed -i s/a/b/ f' | sh
A='x' 'readlink' -f .
B=$(pwd) 'grep' -P x f
"$cmd" 'date' -d now
printf '%s\n' 'python x.py' | bash
sudo 'stat' -c %s f
cat <<'EOF' | bash
readlink -f /
EOF
cat <<EOF
$(readlink -f /) and python in data
EOF
echo 'python' "$(date -d now)" # python
A=$HOME 'nproc'
PATH=$PATH:/opt 'nproc' --all
A=x\ y 'nproc'
A=$'x' 'nproc'
>/dev/null 'nproc'
2>&1 'nproc'
2>/dev/null 'sed' -i 's/a/b/' f
sh -c 'fre''e -m'
cat <<EOF>/tmp/app.conf
systemctl restart nginx
EOF
nproc
cat << EOF|sh
readlink -f /
EOF
s''h -c 'nproc'
{ echo 'free -m'; echo 'readlink -f /'; } | sh
ev\al 'free -m'
echo 'nproc' | s\h
eval "fr""ee -m"
echo 'fr''ee -m' | sh
sh <<< "fr""ee"
sh -c "fr"ee
sh -c fr'ee'
sh -c 'a=1
fr''ee -m'
[[ $x =~ ^(a|b)$ && -n "$(nproc)" ]]
. /dev/stdin <<'EOF'
readlink -f /
EOF
echo hi
\nproc
tee /tmp/log <<EOF | sh
readlink -f /
EOF
at now <<'EOF'
date -d tomorrow
EOF
docker compose exec -T web readlink -f /
command -v nproc >/dev/null && sh <<'EOF'
nproc
EOF
systemd-run --unit x -p CPUQuota=20% --user readlink -f /
screen -dmS build sed -i 's/a/b/' f
tmux new-session -d -s n 'free -m; nproc'
tmux send-keys -t n 'readlink -f /' Enter
echo systemd-run sed -i
tmux ls
bash < <(echo 'free -m')
sh <(echo 'nproc')
. <(printf '%s\n' 'readlink -f /')
source <(curl -fsSL https://example.invalid/x.sh)
$'nproc'
cat<<EOF>/tmp/x.conf
systemctl restart nginx
EOF
cat <<EOF; readlink -f /
sed -i data
EOF
cat<<EOF; free -m
date -d data
EOF
cat <<'EOF' 2>/dev/null | sh
readlink -f /
EOF
cat <<EOF >/dev/null | sh
readlink -f data
EOF
fre''e -m
echo done
"#;

    fn example_scripts() -> Vec<(String, String)> {
        let out = script::repository_scripts(&["sh"]);
        assert!(out.len() >= 5, "example scripts found: {}", out.len());
        out
    }

    fn whole_and_sparse(
        src: &str,
        target: Option<&str>,
        idx: &PatternIndex,
    ) -> (Vec<Finding>, Option<Vec<Finding>>) {
        let dirs = Directives::parse(src, Language::Bash);
        let whole = script::parse(src, Language::Bash);
        let findings = |p: &Parsed| scan_parsed(src, p, &dirs, target, idx).findings;
        let sparse = parse_sparse(src, Language::Bash, target, idx).map(|p| findings(&p));
        (findings(&whole), sparse)
    }

    /// A large script of the statements the quick bash reader takes (and of shapes next to
    /// them it must decline: `x=a'b'$1` runs `1` to the grammar, `- a=b c` runs `c`), after
    /// checks that end the script: its sparse scan, where the reader reads most kept
    /// stretches, finds what a whole parse finds.
    #[test]
    fn the_quick_reader_finds_in_a_large_script_what_a_whole_parse_finds() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let lines = [
            "nproc",
            "n=$(nproc) m=\"$(nproc --all)\"",
            "sudo -u root env A=1 systemctl restart app 2>&1 | tee -a \"$log\"",
            "if [ -f /etc/app.conf ]; then\n  sed -i 's/a/b/' /etc/app.conf\nfi",
            "for f in a b; do readlink -f \"$f\"; done &",
            "f() {\n  local x=$1\n  tac \"$x\" || return 1\n}",
            "timeout -k 5 10 free -m >/dev/null",
            "{ nproc; free -m; } # nproc",
            "echo \"$(systemctl is-active app)\" '$(nproc)' # nproc",
            "x=1 y='nproc' nproc",
            "{ a | b | local x\nsystemctl status >f; }",
            "x=a'b'$1\nnproc",
            "- a=b systemctl",
            "a >&- b; systemctl",
            "unsetenv x; tac f",
            "x=$PATH:/opt/bin nproc",
        ];
        let mut big = script::bash::ENDING_CHECKS.to_string();
        let mut i = 0;
        while big.len() < SPARSE_MIN_BYTES + 4096 {
            big.push_str(lines[i % lines.len()]);
            big.push_str(&format!("\necho step {i}\necho done {i}\n"));
            i += 1;
        }
        let lang = Language::Bash;
        for target in [None, Some("macos"), Some("synology-dsm-6")] {
            let resolved = target.and_then(|t| idx.target(t));
            let (ranges, ends, _) =
                sparse_ranges(&big, lang, resolved.as_ref(), &idx, None).expect("cut");
            // Most kept stretches are the reader's.
            let endings = script::bash::endings(&big);
            let reader = script::quick::Reader::new(&big, lang, &endings);
            let read = ranges
                .iter()
                .filter(|r| reader.read(r.start.offset..r.end.offset, &mut Parsed::default()))
                .count();
            assert!(read * 2 > ranges.len(), "{read} of {}", ranges.len());
            assert!(sparse::parse_ranges_with(&big, lang, &ranges, &ends, |_| ()).is_some());
            let whole = scan_parsed(
                &big,
                &script::parse(&big, lang),
                &Directives::parse(&big, lang),
                target,
                &idx,
            )
            .findings;
            assert!(!whole.is_empty(), "{target:?}");
            let sparse = scan(&big, lang, target, &idx).findings;
            assert_eq!(sparse, whole, "{target:?}");
        }
    }

    /// A large PowerShell script of the statements the quick PowerShell reader takes, and of
    /// shapes next to them it must decline (a comment ending at a lone CR, `1>` which the
    /// grammar does not know, probes in conditions, near misses of the remote form), under each way a script declares its PowerShell: its sparse scan finds
    /// what a whole parse finds, for targets of each PowerShell.
    #[test]
    fn the_quick_powershell_reader_finds_in_a_large_script_what_a_whole_parse_finds() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let lines = [
            "Get-LocalUser | Where-Object { $_.Enabled }",
            "curl https://x.example -OutFile a; wget https://y.example",
            "$r = Invoke-WebRequest -Uri 'https://x.example' -UseBasicParsing",
            "Get-X | ForEach-Object -Parallel { tool $_ } -ThrottleLimit 5",
            "gci C:\\x | % { $_.Name } | ? { $_ -like 'a*' }",
            "Get-CimInstance Win32_OperatingSystem 2>&1 | Out-Null",
            "tool -x # Get-LocalUser\rGet-LocalUser",
            "Get-LocalUser 1> x",
            "Invoke-Command -ComputerName OLD1 -ScriptBlock { Get-LocalUser; irm https://b.example }",
            "icm srv2 {\n  # Get-LocalUser\n  Invoke-WebRequest https://c.example\n}",
            "Invoke-Command -ComputerName localhost { Get-LocalUser }",
            "Invoke-Command -cn 'a','b' { Get-LocalUser }",
            "Invoke-Command -ComputerName srv { Get-LocalUser $using:x }",
            "if ($PSVersionTable.PSVersion.Major -ge 5) { Get-LocalUser }",
            "if ((Get-Host).Version.Major -lt 3) { exit } else { Get-CimInstance x }",
            "if ($IsWindows) { Get-LocalUser } elseif ($IsLinux) { curl https://x }",
            "if (Get-Command Get-LocalUser -ErrorAction SilentlyContinue) { Get-LocalUser }",
            "if (-not (Test-Path $p)) {\n  New-Item -ItemType Directory -Path $p | Out-Null\n}",
            "try {\n  Get-LocalUser -Name x\n}\ncatch {\n  Write-Warning \"no: $($_.Exception.Message)\"\n}",
            "foreach ($s in $list) { Get-LocalUser -Name $s.Name }",
            "IF ($x -EQ 1) { GET-LOCALUSER } ELSE { Get-Localuser }",
            "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
            "$a = $b ?? 'c'",
        ];
        let lang = Language::PowerShell;
        for header in [
            "",
            "#Requires -Version 7\n",
            "#!/usr/bin/env pwsh\n",
            "#Requires -Version 5.1\n",
        ] {
            let mut big = header.to_string();
            let mut i = 0;
            while big.len() < SPARSE_MIN_BYTES + 4096 {
                big.push_str(lines[i % lines.len()]);
                big.push_str(&format!("\nWrite-Host 'step {i}'\n$done = {i}\n"));
                i += 1;
            }
            for src in [big.clone(), big.replace('\n', "\r\n")] {
                for target in [
                    None,
                    Some("powershell-2.0"),
                    Some("windows-server-2008"),
                    Some("powershell-7"),
                ] {
                    let resolved = target.and_then(|t| idx.target(t));
                    let (ranges, ends, _) =
                        sparse_ranges(&src, lang, resolved.as_ref(), &idx, None).expect("cut");
                    let endings = script::powershell::endings(&src);
                    let reader = script::quick::Reader::new(&src, lang, &endings);
                    let read = ranges
                        .iter()
                        .filter(|r| {
                            reader.read(r.start.offset..r.end.offset, &mut Parsed::default())
                        })
                        .count();
                    assert!(
                        read > 0,
                        "{header:?} {target:?}: none of {} read",
                        ranges.len()
                    );
                    assert!(
                        sparse::parse_ranges_with(&src, lang, &ranges, &ends, |_| ()).is_some()
                    );
                    let whole = scan_parsed(
                        &src,
                        &script::parse(&src, lang),
                        &Directives::parse(&src, lang),
                        target,
                        &idx,
                    )
                    .findings;
                    assert!(!whole.is_empty(), "{header:?} {target:?}");
                    let sparse = scan(&src, lang, target, &idx).findings;
                    assert_eq!(sparse, whole, "{header:?} {target:?}");
                }
            }
        }
    }

    /// Quoted code with escapes a command decodes before a shell runs it (`printf 'a\nb' |
    /// sh`): a name after an escape shows no literal in the text (`\nlsb_release` is one word
    /// there), yet a whole parse finds it.
    #[test]
    fn escaped_code_fed_to_a_shell_is_parsed_in_a_large_script() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let mut big = String::from("printf 'uname -r\\nlsb_release -a\\n' | sh\n");
        big.push_str(&"echo 'plain data' \"$x\"\n".repeat(SPARSE_MIN_BYTES / 20));
        let (whole, sparse) = whole_and_sparse(&big, None, &idx);
        assert!(
            whole
                .iter()
                .any(|f| big[f.span.clone()].starts_with("lsb_release")),
            "{whole:?}"
        );
        assert_eq!(sparse.expect("cut"), whole);
    }

    #[test]
    fn a_fix_applied_early_holds_in_a_sparse_scan_as_in_a_whole_one() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let tls = "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7";
        let lang = Language::PowerShell;
        let name = "windows-server-2012-r2";
        let target = idx.target(name);
        // (The number: the enum member is itself a finding of a PowerShell 2.0 pattern, whose
        // stretch would be parsed with the requests anyway.)
        let set = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072\n";
        let mut body = String::new();
        for i in 0..6000 {
            body.push_str(&format!("$v{i} = {i}\n"));
        }
        body.push_str("Invoke-WebRequest https://a.example -OutFile a\n");
        body.push_str("Invoke-Command -ComputerName OLD1 { irm https://b.example }\n");
        let lines = |src: &str, findings: &[Finding]| -> Vec<usize> {
            findings
                .iter()
                .filter(|f| f.pattern_id == tls)
                .map(|f| src[..f.span.start].matches('\n').count() + 1)
                .collect()
        };
        let n = body.lines().count();
        for (src, expected) in [
            // Set first: only the code sent to OLD1, a fresh session, still needs it.
            (format!("{set}{body}"), vec![n + 1]),
            (body.clone(), vec![n - 1, n]),
            (
                format!("{body}{set}iwr https://c.example\n"),
                vec![n - 1, n],
            ),
            // A fix run by another process, or kept in a function, covers nothing here; a
            // fix here covers no job.
            (
                format!("powershell -Command \"{}\"\n{body}", set.trim_end()),
                vec![n, n + 1],
            ),
            (
                format!("function Set-Tls {{ {} }}\n{body}", set.trim_end()),
                vec![n, n + 1],
            ),
            (
                format!("{set}{body}Start-Job {{ iwr https://c.example }}\n"),
                vec![n + 1, n + 2],
            ),
        ] {
            assert!(src.len() >= SPARSE_MIN_BYTES);
            let (ranges, ends, fixes) =
                sparse_ranges(&src, lang, target.as_ref(), &idx, None).expect("lexed");
            assert!(sparse::parse_ranges_with(&src, lang, &ranges, &ends, |_| ()).is_some());
            // The setting, a statement of its own, is parsed apart from the requests' stretches.
            let own = (src.starts_with(set).then_some(0))
                .or_else(|| src.find(&format!("\n{set}")).map(|i| i + 1));
            if let Some(at) = own {
                let inside =
                    |r: &[Range<Cut>]| r.iter().any(|r| r.start.offset <= at && at < r.end.offset);
                assert!(inside(&fixes) && !inside(&ranges), "{ranges:?} {fixes:?}");
            }
            let whole = scan_parsed(
                &src,
                &script::parse(&src, lang),
                &Directives::parse(&src, lang),
                Some(name),
                &idx,
            )
            .findings;
            let sparse = scan(&src, lang, Some(name), &idx).findings;
            assert_eq!(lines(&src, &whole), expected);
            assert_eq!(sparse, whole);
        }
    }

    #[test]
    fn sparse_parsing_finds_what_a_whole_parse_finds() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        assert!(library.len() >= 50);
        let mut corpus = example_scripts();
        corpus.push(("tricky".into(), TRICKY_BASH.to_string()));
        corpus.push(("tricky, CRLF".into(), TRICKY_BASH.replace('\n', "\r\n")));
        corpus.push(("os checks".into(), script::bash::OS_CHECKS.to_string()));
        corpus.push((
            "ending checks".into(),
            script::bash::ENDING_CHECKS.to_string(),
        ));
        for (name, src) in &corpus {
            for target in [
                None,
                Some("synology-dsm"),
                Some("windows-server-2008"),
                Some("macos"),
            ] {
                let (whole, sparse) = whole_and_sparse(src, target, &library);
                let sparse = sparse.unwrap_or_else(|| panic!("{name} was not cut for {target:?}"));
                assert_eq!(sparse, whole, "{name} for {target:?}");
            }
        }
        let (whole, _) = whole_and_sparse(TRICKY_BASH, None, &library);
        assert!(
            whole.len() >= 15,
            "the tricky script exercises the library: {}",
            whole.len()
        );
    }

    #[test]
    fn a_check_that_ends_the_script_holds_in_a_sparse_scan_as_in_a_whole_one() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let lines = |src: &str, findings: &[Finding]| -> Vec<usize> {
            findings
                .iter()
                .map(|f| src[..f.span.start].matches('\n').count())
                .collect()
        };
        for (lang, src) in [
            (Language::Bash, script::bash::ENDING_CHECKS),
            (Language::PowerShell, script::powershell::ENDING_CHECKS),
        ] {
            // The checks are statements without a pattern's literal: the sparse path does not
            // parse them, yet what they prove reaches the statements it parses after them.
            // (A lookup of a command with a pattern holds its literal: that one is parsed.)
            let ends = |p: &Parsed| {
                p.commands
                    .iter()
                    .filter(|c| c.name == "exit" || c.name == "Write-Warning")
                    .count()
            };
            let sparse = parse_sparse(src, lang, Some("macos"), &library).expect("cut");
            let whole = script::parse(src, lang);
            assert!(
                ends(&sparse) < ends(&whole),
                "{lang:?}: every check was parsed"
            );
            // Each command parsed is the whole parse's, its OS families and guard included.
            for c in &sparse.commands {
                assert!(whole.commands.contains(c), "{lang:?}: {c:?}");
            }
            let dirs = Directives::parse(src, lang);
            for target in [
                None,
                Some("macos"),
                Some("windows-server-2008"),
                Some("linux"),
            ] {
                let whole = scan_parsed(src, &script::parse(src, lang), &dirs, target, &library);
                let sparse = parse_sparse(src, lang, target, &library).expect("cut");
                let sparse = scan_parsed(src, &sparse, &dirs, target, &library);
                assert_eq!(sparse.findings, whole.findings, "{lang:?} for {target:?}");
            }
        }
        // And they hold: on macOS only the `nproc`s before the checks warn (a check run in the
        // background ends nothing; the last one runs off Darwin only); on Windows Server 2008 the LocalAccounts cmdlet warns before its
        // lookup only.
        let bash = script::bash::ENDING_CHECKS;
        let found = scan(bash, Language::Bash, Some("macos"), &library);
        let nproc: Vec<usize> = lines(bash, &found.findings)
            .into_iter()
            .filter(|&l| bash.lines().nth(l) == Some("nproc"))
            .collect();
        assert_eq!(nproc, [0, 4]);
        let ps = script::powershell::ENDING_CHECKS;
        let found = scan(
            ps,
            Language::PowerShell,
            Some("windows-server-2008"),
            &library,
        );
        let local_user: Vec<usize> = lines(ps, &found.findings)
            .into_iter()
            .filter(|&l| ps.lines().nth(l) == Some("Get-LocalUser"))
            .collect();
        assert_eq!(local_user, [0]);
    }

    #[test]
    fn sparse_parsing_skips_what_cannot_match_and_keeps_its_findings() {
        let idx = PatternIndex::build(crate::synthetic::patterns(2000, 1), vec![], vec![]);
        let src = crate::synthetic::bash_script(3000, 2000, 2);
        let (whole, sparse) = whole_and_sparse(&src, None, &idx);
        assert!(whole.len() > 300);
        assert_eq!(sparse.expect("the synthetic script is cut"), whole);
        let parsed = parse_sparse(&src, Language::Bash, None, &idx).unwrap();
        let all = script::parse(&src, Language::Bash);
        assert!(
            parsed.commands.len() * 10 < all.commands.len() * 8,
            "{} of {} commands parsed",
            parsed.commands.len(),
            all.commands.len()
        );
    }

    #[test]
    fn a_function_the_script_defines_is_no_missing_command_after_its_definition() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let fired = |src: &str| -> Vec<String> {
            scan(src, Language::Bash, Some("macos"), &idx)
                .findings
                .into_iter()
                .map(|f| src[f.span].to_string())
                .collect()
        };
        // The shim idiom: defined when missing, then called.
        let shim = "if ! command -v nproc >/dev/null; then\n  nproc() { sysctl -n hw.ncpu; }\nfi\necho $(nproc)\n";
        assert_eq!(fired(shim), Vec::<String>::new());
        assert_eq!(
            fired("nproc\nnproc() { echo 4; }\n"),
            ["nproc"],
            "called before"
        );
        // A function stands for its name only: its arguments still fail (`sed -i`), a path
        // bypasses it, and code run by another shell or on another host does not see it.
        let src = "sed() { command sed \"$@\"; }\nsed -i s/a/b/ f\nnproc() { :; }\n/usr/bin/nproc\nssh web nproc\n";
        let got = fired(src);
        assert!(got.iter().any(|m| m.starts_with("sed -i")), "{got:?}");
        assert_eq!(
            got.iter().filter(|m| *m == "nproc").count(),
            2,
            "the path and ssh: {got:?}"
        );
        // Neither a wrapper, `command`, nor another shell runs the function, and a definition
        // in a heredoc's text defines nothing (both found by review).
        for call in [
            "command nproc",
            "exec nproc",
            "env nproc",
            "sudo nproc",
            "nohup nproc",
            "sh -c nproc",
            "bash -c 'nproc'",
            "echo x | xargs nproc",
        ] {
            let src = format!("nproc() {{ :; }}\n{call}\n");
            assert_eq!(fired(&src), ["nproc"], "{call}");
        }
        let heredoc = "cat >/tmp/x <<EOF\nnproc() { :; }\nEOF\nnproc\n";
        assert_eq!(fired(heredoc), ["nproc"]);
        let direct = "nproc() { :; }\nif nproc; then echo; fi && nproc | tac; ! nproc\n";
        assert_eq!(fired(direct), ["tac"]);
        let ps = "function Get-LocalUser { Get-WmiObject Win32_UserAccount }\nGet-LocalUser\n";
        let ps_found = scan(ps, Language::PowerShell, Some("powershell-2.0"), &idx).findings;
        assert!(ps_found.is_empty(), "{ps_found:?}");
        // A large file parsed in pieces agrees with a whole parse.
        let mut big = String::from("nproc() { sysctl -n hw.ncpu; }\n");
        for i in 0..4000 {
            big.push_str(&format!("echo step {i} && nproc\ntac f{i}\n"));
        }
        let (whole, sparse) = whole_and_sparse(&big, Some("macos"), &idx);
        assert_eq!(sparse.expect("cut"), whole);
        assert!(big.len() >= SPARSE_MIN_BYTES, "scan takes the sparse path");
        assert_eq!(fired(&big).iter().filter(|m| *m == "nproc").count(), 0);
        assert_eq!(fired(&big).iter().filter(|m| *m == "tac").count(), 4000);
    }

    #[test]
    fn a_script_lexed_or_parsed_ahead_scans_as_one_that_is_not() {
        let idx = PatternIndex::build(crate::synthetic::patterns(2000, 1), vec![], vec![]);
        let bash = crate::synthetic::bash_script(3000, 2000, 2);
        let ps = crate::synthetic::powershell_script(3000, 2000, 3);
        // Cut where the split of the word lookups falls inside a character (a crash, found by
        // review): a comment of Cyrillic letters across the split.
        let mut wide = format!("nproc\n# {}\n{bash}", "ж".repeat(bash.len() / 3));
        while wide.is_char_boundary(wide.len() * 2 / 7) {
            wide.insert(0, ' ');
        }
        // A file that does not end with its quote closed: the lexer gives up, and the prelexed
        // scan parses the file whole.
        let unsure = format!("{bash}tool7 'unclosed\n");
        for (src, lang, target) in [
            (&bash, Language::Bash, None),
            (&bash, Language::Bash, Some("debian-12")),
            (&ps, Language::PowerShell, Some("powershell-5.1")),
            (&unsure, Language::Bash, None),
            (&wide, Language::Bash, Some("debian-12")),
        ] {
            let expected = scan(src, lang, target, &idx);
            assert!(expected.findings.len() > 100, "{lang:?} {target:?}");
            let prelexed = prelex(src, lang).expect("large enough to lex");
            let parsed = Prepared::Parsed(script::parse(src, lang));
            for prepared in [prelexed, parsed] {
                assert_eq!(
                    scan_prepared(src, lang, target, &idx, Some(prepared)),
                    expected,
                    "{lang:?} {target:?}"
                );
            }
        }
        let lexed = |src: &str| match prelex(src, Language::Bash) {
            Some(Prepared::Lexed(l)) => Some(l.is_some()),
            _ => None,
        };
        assert_eq!(lexed("tool1 --opt1\n"), None, "too small to lex");
        assert_eq!(lexed(&bash), Some(true));
        assert_eq!(lexed(&unsure), Some(false));
    }

    #[test]
    fn sparse_parsing_with_a_target_skips_its_inapplicable_patterns_but_not_remote_code() {
        // No operations: `ssh` and `docker` would be operation commands (remote execution)
        // relevant on their own; here only the code they send makes them count.
        let mut patterns = crate::synthetic::patterns(2000, 1);
        patterns.retain(|p| p.triggering_operations.is_empty());
        let on = |tag: &str| {
            let tag = tag.to_string();
            move |p: &&Pattern| p.affected_systems.contains(&tag)
        };
        // Patterns of commands that fire on the NAS and not on the file's target.
        let nas_only: Vec<&str> = patterns
            .iter()
            .filter(on("synology-dsm"))
            .filter(|p| !on("debian-12")(p) && !p.triggering_commands.is_empty())
            .map(|p| p.triggering_commands[0].as_str())
            .filter(|name| name.bytes().all(|c| c.is_ascii_alphanumeric()))
            .take(4)
            .collect();
        assert_eq!(nas_only.len(), 4);
        let nas = crate::engine::Host {
            id: "h1".into(),
            client_id: None,
            hostname: "nas".into(),
            aliases: vec![],
            os: None,
            os_version: None,
            system_tags: vec!["synology-dsm".into()],
        };
        let idx = PatternIndex::build(patterns.clone(), vec![nas], vec![]);
        let mut src = crate::synthetic::bash_script(3000, 2000, 2);
        let [a, b, c, d] = nas_only[..] else {
            unreachable!()
        };
        src.push_str(&format!(
            "{a} --opt1\nssh nas {a} --opt1\nssh -p 22 nas '{b} --opt2'\n\
             docker exec nas {c} --opt3 | sort\nif true; then ssh nas \"{d} --opt4\"; fi\n\
             \"ss\"h nas {a}\nss\\h nas {b}\n"
        ));
        let (whole, sparse) = whole_and_sparse(&src, Some("debian-12"), &idx);
        assert_eq!(sparse.expect("the synthetic script is cut"), whole);
        let remote = whole
            .iter()
            .filter(|f| f.target.as_deref() == Some("nas"))
            .count();
        assert!(remote >= 6, "{remote} findings on the NAS");
        let parsed = |target| {
            parse_sparse(&src, Language::Bash, target, &idx)
                .unwrap()
                .commands
                .len()
        };
        let (targeted, untargeted) = (parsed(Some("debian-12")), parsed(None));
        assert!(
            targeted * 2 < untargeted,
            "{targeted} commands parsed for debian-12, {untargeted} for no target"
        );
    }

    #[test]
    fn regexes_of_patterns_that_cannot_fire_on_the_target_are_not_compiled() {
        let patterns = vec![
            pattern("mac", &[r"tool1\s+--x"], &["macos"], Severity::Major),
            pattern("deb", &[r"tool2\s+--x"], &["debian-12"], Severity::Major),
        ];
        let src = "tool1 --x\ntool2 --x\n";
        let idx = index(patterns.clone());
        let found = run(src, Language::Bash, Some("debian-12"), &idx);
        assert_eq!(found.len(), 1);
        assert_eq!(idx.compiled_command_regexes(), 1);
        let idx = index(patterns);
        assert_eq!(run(src, Language::Bash, None, &idx).len(), 2);
        assert_eq!(idx.compiled_command_regexes(), 2);
    }

    #[test]
    fn sparse_parsing_declines_what_it_cannot_prove() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        // The lexer's doubt (a heredoc the grammar ends early), and tree-sitter's (two heredocs
        // on one line, which the grammar cannot parse, in a stretch that would be parsed).
        for src in [
            "cat <<EOF\nEOFX\nEOF\nsed -i x f\n",
            "ls\ncat <<A <<B\nsed -i x f\nA\nB\nls\n",
            // An unclosed `[[`: the grammar's recovery swallows what follows.
            "nproc\n[[ -f x\nsed -i x f\n",
        ] {
            assert!(
                parse_sparse(src, Language::Bash, None, &library).is_none(),
                "{src:?}"
            );
        }
        // An index with an entry that may match any command cannot skip anything.
        let any = index(vec![pattern("any", &[r".*\.exe"], &[], Severity::Major)]);
        assert!(parse_sparse("ls\n", Language::Bash, None, &any).is_none());
    }

    /// The findings of `src` (one command per line, see `naive_parse`) with each command's
    /// guard set by `mark`.
    fn run_marked(
        src: &str,
        lang: Language,
        target: Option<&str>,
        idx: &PatternIndex,
        mark: impl Fn(&mut script::Command),
    ) -> Vec<String> {
        let mut parsed = crate::script::naive_parse(src, lang);
        parsed.commands.iter_mut().for_each(mark);
        scan_parsed(src, &parsed, &Directives::parse(src, lang), target, idx)
            .findings
            .into_iter()
            .map(|f| format!("{}@{}", f.pattern_id, &src[f.span]))
            .collect()
    }

    #[test]
    fn guarded_commands_are_quiet_about_their_name_only() {
        let mut ops = pattern("ops", &[], &["container"], Severity::Major);
        ops.triggering_operations = vec!["service_control".into()];
        let not_found = |mut p: Pattern| {
            p.error_pattern = Some("(nproc|tac|systemctl): (command )?not found".into());
            p
        };
        let mut fails = pattern("fails", &["systemctl"], &["container"], Severity::Major);
        fails.error_pattern = Some("System has not been booted with systemd".into());
        let idx = index(vec![
            not_found(pattern(
                "missing",
                &["nproc", "systemctl"],
                &["macos"],
                Severity::Major,
            )),
            not_found(pattern(
                "by-regex",
                &["(nproc|tac)"],
                &["macos"],
                Severity::Major,
            )),
            not_found(pattern(
                "sed-i",
                &[r"sed\s+-i"],
                &["macos"],
                Severity::Major,
            )),
            ops,
            fails,
        ]);
        let src = "nproc\nsed -i s/a/b/ f\nsystemctl restart x\nnproc\n";
        // The first three lines are guarded (as `command -v X && X` would make them).
        let guard_first_three = |c: &mut script::Command| c.guarded = c.name_span.start < 40;
        let found = run_marked(src, Language::Bash, None, &idx, guard_first_three);
        assert_eq!(
            found,
            [
                "sed-i@sed -i",
                "fails@systemctl",
                "ops@systemctl",
                "by-regex@nproc",
                "missing@nproc"
            ],
            "a guard proves the name exists, not that `-i` or a service manager works"
        );
        let unguarded = run_marked(src, Language::Bash, None, &idx, |_| {});
        assert_eq!(unguarded.len(), 8, "{unguarded:?}");
    }

    #[test]
    fn os_checks_answer_the_default_library_where_the_branch_cannot_run() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let nproc = |src: &str, target: Option<&str>| -> Vec<Severity> {
            scan(src, Language::Bash, target, &library)
                .findings
                .into_iter()
                .filter(|f| src[f.span.clone()].starts_with("nproc"))
                .map(|f| f.severity)
                .collect()
        };
        // The tester's portability idioms: on macOS the `nproc` branch never runs.
        for src in [
            "if [ \"$(uname)\" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi\n",
            "case \"$(uname -s)\" in Darwin) sysctl -n hw.ncpu ;; *) nproc ;; esac\n",
            "if [[ \"$OSTYPE\" == linux* ]]; then nproc; fi\n",
            "[[ $OSTYPE == darwin* ]] || nproc\n",
        ] {
            assert_eq!(nproc(src, Some("macos")), [], "{src}");
            // Without the check the same line warns.
            let bare = "nproc\n";
            assert_eq!(nproc(bare, Some("macos")), [Severity::Blocking]);
        }
        // A branch that runs on macOS still warns.
        assert_eq!(
            nproc(
                "if [ \"$(uname)\" = Darwin ]; then nproc; fi\n",
                Some("macos")
            ),
            [Severity::Blocking]
        );
        // Not Darwin is still FreeBSD, which the pattern names too.
        let src = "if [ \"$(uname)\" = Darwin ]; then sysctl -n hw.ncpu; else nproc; fi\n";
        assert_eq!(nproc(src, Some("freebsd")), [Severity::Blocking]);
        assert_eq!(nproc(src, None).len(), 1);
        // Untargeted, a Linux-only branch gives no macOS/FreeBSD pattern.
        assert_eq!(
            nproc("if [[ \"$OSTYPE\" == linux* ]]; then nproc; fi\n", None),
            []
        );
        // What the walk cannot read is no check.
        assert_eq!(
            nproc(
                "if [ \"$os\" = Darwin ]; then :; else nproc; fi\n",
                Some("macos")
            ),
            [Severity::Blocking]
        );
        // PowerShell's `$IsLinux`: a Windows-only cmdlet there is no finding, on any target.
        let ps = |src: &str, target: Option<&str>| {
            scan(src, Language::PowerShell, target, &library)
                .findings
                .len()
        };
        for target in [None, Some("windows-server-2008")] {
            assert!(ps("Get-LocalUser\n", target) > 0);
            assert_eq!(ps("if ($IsLinux) { Get-LocalUser }\n", target), 0);
        }
    }

    #[test]
    fn a_branch_that_cannot_run_on_the_target_gives_nothing_there() {
        // A pattern that names no system applies everywhere, but not to code that never runs
        // on the target; a pattern naming only excluded systems is quiet untargeted too.
        let idx = index(vec![
            pattern("any", &["tool"], &[], Severity::Major),
            pattern("mac", &["tool"], &["macos", "bash-3.2"], Severity::Major),
        ]);
        let ids = |src: &str, target: Option<&str>| -> Vec<String> {
            scan(src, Language::Bash, target, &idx)
                .findings
                .into_iter()
                .map(|f| f.pattern_id)
                .collect()
        };
        let src = "if [ \"$(uname)\" = Darwin ]; then :; else tool; fi\n";
        assert_eq!(ids(src, Some("macos")), Vec::<String>::new());
        assert_eq!(ids(src, Some("debian-12")), ["any"]);
        assert_eq!(ids(src, None), ["any"]);
        assert_eq!(ids("tool\n", None), ["any", "mac"]);
        let src = "case `uname` in Darwin) tool ;; esac\n";
        assert_eq!(ids(src, Some("macos")), ["any", "mac"]);
        assert_eq!(ids(src, Some("alpine")), Vec::<String>::new());
    }

    #[test]
    fn a_guard_answers_the_default_library_only_where_it_predicts_a_missing_command() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let signatures = |src: &str, lang: Language, target: &str| -> Vec<String> {
            scan(src, lang, Some(target), &library)
                .findings
                .iter()
                .map(|f| {
                    library
                        .get(&f.pattern_id)
                        .unwrap()
                        .pattern_signature
                        .clone()
                })
                .collect()
        };
        // systemd is not PID 1 in a container: systemctl is there and fails.
        let src = "command -v systemctl >/dev/null && systemctl restart nginx\n";
        let found = signatures(src, Language::Bash, "container");
        assert!(
            found
                .iter()
                .any(|s| s.contains("systemctl fails in containers")),
            "{found:?}"
        );
        // On macOS systemctl does not exist: the lookup answers that.
        assert!(signatures(src, Language::Bash, "macos").is_empty());
        let src =
            "if (Get-Command Get-LocalUser -ErrorAction SilentlyContinue) { Get-LocalUser }\n";
        assert!(signatures(src, Language::PowerShell, "powershell-2.0").is_empty());
        let found = signatures("Get-LocalUser\n", Language::PowerShell, "powershell-2.0");
        assert!(
            found.iter().any(|s| s.contains("LocalAccounts")),
            "{found:?}"
        );
    }

    /// A PowerShell 2.0 `syntax:` pattern failing with `error`.
    fn construct(id: &str, entry: &str, error: &str) -> Pattern {
        let mut p = pattern(
            id,
            &[entry],
            &["powershell-2.0", "windows-server-2008-r2"],
            Severity::Blocking,
        );
        p.pattern_type = PatternType::VersionMismatch;
        p.error_pattern = Some(error.into());
        p
    }

    /// The ids of the findings of a whole parse of the PowerShell `src`, in order.
    fn ps_ids(src: &str, idx: &PatternIndex) -> Vec<String> {
        scan(src, Language::PowerShell, None, idx)
            .findings
            .into_iter()
            .map(|f| f.pattern_id)
            .collect()
    }

    #[test]
    fn operators_in_a_commands_bare_words_and_parameter_names_are_text() {
        let idx = index(vec![
            construct("coalesce", r"syntax:\?\?=?", r"Unexpected token '\?\?'"),
            construct("in", r"syntax:\s-(not)?in\s", r"Unexpected token '-in'"),
            construct(
                "ternary",
                r"syntax:[\w\)\]]\s+\?\s",
                r"Unexpected token '\?'",
            ),
            construct("root", r"syntax:\$PSScriptRoot\b", "Cannot bind argument"),
        ]);
        for text in [
            "Get-ChildItem C:\\Temp\\??.tmp\n",
            "Get-ChildItem -Filter ??.tmp\n",
            "Remove-Item C:\\Temp\\~DF??.tmp\n",
            "dir C:\\logs\\ex??????.log\n",
            "Get-ChildItem ??\n",
            "& openssl.exe pkcs12 -in C:\\c.pfx -out c.pem\n",
            "certutil -encode -in x\n",
            "Some-Cmdlet -in\n",
            "Some-Cmdlet -notin x\n",
            "Get-Item a ? b\n",
        ] {
            assert_eq!(ps_ids(text, &idx), Vec::<String>::new(), "{text}");
        }
        for (text, id) in [
            ("$a ?? 'x'\n", "coalesce"),
            ("$x = $null ?? 1\n", "coalesce"),
            ("($a)??($b)\n", "coalesce"),
            ("$x ??= 1\n", "coalesce"),
            ("Write-Output ($a ?? 'x')\n", "coalesce"),
            ("if ($x -in $list) { }\n", "in"),
            ("$a = 1 -in 1,2\n", "in"),
            ("$b = $x -notin $y\n", "in"),
            ("Get-Item ($a -in $b)\n", "in"),
            ("$v = $ok ? 1 : 2\n", "ternary"),
            // A bare word expands its variables.
            ("Write-Output x$PSScriptRoot\n", "root"),
        ] {
            assert_eq!(ps_ids(text, &idx), [id], "{text}");
        }
        // The same wildcards after an operator still leave it found.
        assert_eq!(
            ps_ids("dir ex??.log\n$x = $null ?? 1\n", &idx),
            ["coalesce"]
        );
    }

    #[test]
    fn version_checks_rule_out_constructs_that_fail_when_run_not_parse_errors() {
        let idx = index(vec![
            construct(
                "custom",
                r"syntax:\[pscustomobject\]",
                r"Unable to find type \[pscustomobject\]",
            ),
            construct(
                "in",
                r"syntax:\s-(not)?in\s",
                r"Unexpected token '-(not)?in'",
            ),
            construct("root", r"syntax:\$PSScriptRoot\b", "Cannot bind argument"),
            construct(
                "using",
                r"syntax:\$using:\w+",
                "A drive with the name 'using'",
            ),
        ]);
        assert_eq!(ps_ids("$o = [pscustomobject]@{a=1}\n", &idx), ["custom"]);
        let checked = "if ($PSVersionTable.PSVersion.Major -ge 3) {\n  $o = [pscustomobject]@{a=1}\n  $b = 1 -in 1,2\n  $r = Join-Path $PSScriptRoot lib\n  Invoke-Command -Session $s { $using:o }\n}\n";
        assert_eq!(
            ps_ids(checked, &idx),
            ["in"],
            "-in is a parse error of the whole script"
        );
        let else_branch = "if ($PSVersionTable.PSVersion.Major -lt 3) { $o = New-Object PSObject }\nelse { $o = [pscustomobject]@{a=1} }\n";
        assert_eq!(ps_ids(else_branch, &idx), Vec::<String>::new());
        let then_branch =
            "if ($PSVersionTable.PSVersion.Major -lt 3) { $o = [pscustomobject]@{a=1} }\n";
        assert_eq!(ps_ids(then_branch, &idx), ["custom"]);
        // A check too old rules nothing out.
        let low = "if ($PSVersionTable.PSVersion.Major -ge 2) { $o = [pscustomobject]@{} }\n";
        assert_eq!(ps_ids(low, &idx), ["custom"]);
        // The fallback for PowerShell 2.0 only tests and sets the variable.
        let fallback = "if (-not $PSScriptRoot) { $PSScriptRoot = Split-Path -Parent $MyInvocation.MyCommand.Definition }\n";
        assert_eq!(ps_ids(fallback, &idx), Vec::<String>::new());
        for quiet in [
            "if (!$PSScriptRoot) { }\n",
            "if ($PSScriptRoot) { }\n",
            "if ($null -eq $PSScriptRoot) { }\n",
            "if ($PSScriptRoot -eq $null) { }\n",
        ] {
            assert_eq!(ps_ids(quiet, &idx), Vec::<String>::new(), "{quiet}");
        }
        assert_eq!(
            ps_ids("$lib = Join-Path $PSScriptRoot lib\n", &idx),
            ["root"]
        );
        // A scope is looked up even in a test, and fails there.
        assert_eq!(ps_ids("if (-not $using:o) { }\n", &idx), ["using"]);
    }

    /// The default library's pattern for a `#Requires` line the target's PowerShell fails.
    const REQUIRES: &str = "6074b71d-ed3e-489d-a892-2d8d3c7ef35d";

    #[test]
    fn a_requires_line_is_the_one_finding_where_the_target_runs_an_older_powershell() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let ps = Language::PowerShell;
        let local = "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b01";
        let ids = |src: &str, target: Option<&str>| -> Vec<(String, usize)> {
            scan(src, ps, target, &idx)
                .findings
                .into_iter()
                .map(|f| (f.pattern_id, src[..f.span.start].matches('\n').count() + 1))
                .collect()
        };
        let src = "#Requires -Version 5.1\n$u = Get-LocalUser\n$o = Get-CimInstance Win32_BIOS\n";
        for target in [
            "powershell-2.0",
            "windows-server-2008-r2",
            "windows-server-2012",
        ] {
            assert_eq!(
                ids(src, Some(target)),
                [(REQUIRES.to_string(), 1)],
                "{target}"
            );
        }
        // Met, unknown, or not told by the target's tags: no such finding.
        for target in [
            Some("powershell-5.1"),
            Some("windows-server-2016"),
            None,
            Some("freebsd"),
        ] {
            assert!(
                !ids(src, target).iter().any(|(id, _)| id == REQUIRES),
                "{target:?}"
            );
        }
        // Without the line, each cmdlet speaks for itself.
        let bare = &src[src.find('\n').unwrap() + 1..];
        assert!(ids(bare, Some("powershell-2.0"))
            .iter()
            .any(|(id, _)| id == local));
        // `powershell-7` is any 7.x; a Windows release ships its PowerShell; `#Requires
        // -Version 7` makes `&&` the script's own business, not Windows PowerShell's.
        let seven = "#Requires -Version 7.4\nGet-Item a && Get-Item b\n";
        assert!(ids(seven, Some("powershell-7")).is_empty());
        assert_eq!(
            ids(seven, Some("windows-server-2022")),
            [(REQUIRES.to_string(), 1)]
        );
        let glued = "#Requires -Ver:'5.1'\n";
        assert_eq!(
            ids(glued, Some("powershell-4.0")),
            [(REQUIRES.to_string(), 1)]
        );
        let eight = "#requires -version 8\n";
        assert_eq!(
            ids(eight, Some("powershell-7")),
            [(REQUIRES.to_string(), 1)]
        );
        assert_eq!(
            ids("#Requires -PSEdition Core\n", Some("powershell-5.1")),
            [(REQUIRES.to_string(), 1)]
        );
        // Ignored like any finding, by id prefix on the line before.
        let ignored = format!("# forewarn: ignore={}\n{src}", &REQUIRES[..8]);
        assert!(ids(&ignored, Some("powershell-2.0")).is_empty());
        // The span is the line's `#Requires … -Version N`.
        let f = &scan(src, ps, Some("powershell-2.0"), &idx).findings[0];
        assert_eq!(&src[f.span.clone()], "#Requires -Version 5.1");
        // Its entry is filed under its literal: code without `#requires` never runs its regex.
        let alone = index(
            crate::store::default_patterns()
                .into_iter()
                .filter(|p| p.id == REQUIRES)
                .collect(),
        );
        assert_eq!(alone.len(), 1);
        assert!(alone
            .syntax_candidates("$u = Get-LocalUser; $a ?? 1", &mut Vec::new())
            .is_empty());
        assert_eq!(
            alone
                .syntax_candidates("#REQUIRES -Version 3", &mut Vec::new())
                .len(),
            1
        );
    }

    #[test]
    fn a_requires_line_holds_in_a_sparse_scan_as_in_a_whole_one() {
        let idx = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let ps = Language::PowerShell;
        let mut body = String::from("$u = Get-LocalUser\n");
        for i in 0..5000 {
            body.push_str(&format!("$v{i} = {i}\n"));
            if i % 1000 == 0 {
                body.push_str("$r = Invoke-WebRequest https://x -UseBasicParsing\n");
                body.push_str("Invoke-Command -ComputerName OLD1 { Get-LocalUser }\n");
                body.push_str("$a = $b ?? 'c'\n");
            }
        }
        // The line in a function in the middle; a look-alike in a here-string.
        let mid = body.len() / 2;
        let mid = body[mid..].find('\n').unwrap() + mid + 1;
        let doc = "$d = @'\n#Requires -Version 7\n'@\n";
        for (name, src) in [
            (
                "5.1",
                format!(
                    "{}function f {{\n  #Requires -Version 5.1\n}}\n{}",
                    &body[..mid],
                    &body[mid..]
                ),
            ),
            (
                "7",
                format!(
                    "{doc}{}#requires -version 7\n{}",
                    &body[..mid],
                    &body[mid..]
                ),
            ),
            ("none", format!("{doc}{body}")),
        ] {
            assert!(src.len() >= SPARSE_MIN_BYTES);
            for target in [None, Some("windows-server-2008-r2"), Some("powershell-5.1")] {
                assert!(
                    parse_sparse(&src, ps, target, &idx).is_some(),
                    "{name} is cut"
                );
                let whole = scan_parsed(
                    &src,
                    &script::parse(&src, ps),
                    &Directives::parse(&src, ps),
                    target,
                    &idx,
                )
                .findings;
                let sparse = scan(&src, ps, target, &idx).findings;
                assert_eq!(sparse, whole, "{name} for {target:?}");
                let count = |id: &str| whole.iter().filter(|f| f.pattern_id == id).count();
                let local = "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b01";
                let expected = match (name, target) {
                    (_, None) | ("5.1", Some("powershell-5.1")) | ("none", _) => 0,
                    _ => 1,
                };
                assert_eq!(count(REQUIRES), expected, "{name} for {target:?}");
                // The remote blocks keep OLD1's facts (an unknown host: untargeted); the
                // local Get-LocalUser is the script's own, quiet under the line.
                let local_hits = whole
                    .iter()
                    .filter(|f| f.pattern_id == local && f.target.as_deref() != Some("OLD1"))
                    .filter(|f| !src[..f.span.start].ends_with("{ "))
                    .count();
                match name {
                    "none" if target == Some("windows-server-2008-r2") => assert_eq!(local_hits, 1),
                    "none" => {}
                    _ => assert_eq!(local_hits, 0, "{name} for {target:?}"),
                }
            }
        }
    }

    #[test]
    fn curl_in_windows_powershell_is_invoke_webrequest_sparse_and_whole() {
        let mut basic = pattern("basic", &["Invoke-WebRequest"], &[], Severity::Major);
        basic.pattern_type = PatternType::EnvironmentalLimitation;
        let exe = pattern("exe", &["curl"], &[], Severity::Major);
        let idx = index(vec![basic.clone(), exe]);
        // Without a pattern about curl, the alias alone keeps its statement in the sparse path.
        let only_basic = index(vec![basic]);
        let ps = Language::PowerShell;
        let ids_in = |src: &str, idx: &PatternIndex| -> Vec<(String, usize)> {
            let whole = scan(src, ps, None, idx).findings;
            let dirs = Directives::parse(src, ps);
            let sparse = parse_sparse(src, ps, None, idx).expect("cut");
            assert_eq!(
                scan_parsed(src, &sparse, &dirs, None, idx).findings,
                whole,
                "sparse equals whole: {src}"
            );
            whole
                .into_iter()
                .map(|f| (f.pattern_id, src[..f.span.start].lines().count()))
                .collect()
        };
        let ids = |src: &str| ids_in(src, &idx);
        let pair = |id: &str, line: usize| (id.to_string(), line);
        let src =
            "Get-Date\nWrite-Host a\ncurl https://x -OutFile a\nGet-Date\ncurl.exe -sS https://y\n";
        // 0-based lines: `curl` on the third, `curl.exe` on the fifth.
        assert_eq!(ids(src), [pair("basic", 2), pair("exe", 4)]);
        let pwsh = format!("#Requires -Version 7\n{src}");
        assert_eq!(ids(&pwsh), [pair("exe", 3), pair("exe", 5)]);
        assert_eq!(ids_in(src, &only_basic), [pair("basic", 2)]);
        assert_eq!(ids_in(&pwsh, &only_basic), []);
    }

    #[test]
    fn windows_release_checks_rule_out_patterns_of_older_releases_only() {
        let mut netip = pattern(
            "netip",
            &["Get-NetIPAddress"],
            &[
                "powershell-2.0",
                "windows-7",
                "windows-server-2008",
                "windows-server-2008-r2",
            ],
            Severity::Major,
        );
        netip.pattern_type = PatternType::CommandCompatibility;
        let mut tnc = pattern(
            "tnc",
            &["Test-NetConnection"],
            &[
                "powershell-2.0",
                "powershell-3.0",
                "windows-7",
                "windows-server-2008-r2",
                "windows-server-2012",
            ],
            Severity::Major,
        );
        tnc.pattern_type = PatternType::CommandCompatibility;
        // About the PowerShell: Server 2012 may still run the 2.0 engine.
        let mut json = pattern(
            "json",
            &["ConvertTo-Json"],
            &["powershell-2.0", "windows-7", "windows-server-2008-r2"],
            Severity::Major,
        );
        json.pattern_type = PatternType::VersionMismatch;
        let mut wmic = pattern(
            "wmic",
            &["wmic"],
            &["windows-11-24h2", "windows-server-2025"],
            Severity::Major,
        );
        wmic.pattern_type = PatternType::CommandCompatibility;
        let linux = pattern("linux", &["Get-NetIPAddress"], &["linux"], Severity::Major);
        let mut hosted = pattern(
            "hosted",
            &["Get-NetIPAddress"],
            &["windows-server-2008-r2"],
            Severity::Major,
        );
        hosted.infrastructure_id = Some("h".into());
        let idx = index(vec![netip, tnc, json, wmic, linux, hosted]);
        let src = "Get-NetIPAddress\nTest-NetConnection\nConvertTo-Json\nwmic\n";
        let ids = |min: Option<(u32, u32, u32)>, target: Option<&str>| {
            let mut ids: Vec<String> = run_marked(src, Language::PowerShell, target, &idx, |c| {
                c.min_windows = min
            })
            .into_iter()
            .map(|f| f.split('@').next().unwrap_or("").to_string())
            .collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids(None, None),
            ["hosted", "json", "linux", "netip", "tnc", "wmic"]
        );
        // Server 2012 or later: the 2008 R2 modules are there, Test-NetConnection is not yet.
        // A host's own pattern stays.
        assert_eq!(
            ids(Some((6, 2, 0)), None),
            ["hosted", "json", "linux", "tnc", "wmic"]
        );
        assert_eq!(
            ids(Some((6, 3, 9600)), None),
            ["hosted", "json", "linux", "wmic"]
        );
        // A newer release never rules out what a newer release lacks.
        assert_eq!(
            ids(Some((10, 0, 26100)), None),
            ["hosted", "json", "linux", "wmic"]
        );
        // Below every release the pattern names: nothing ruled out.
        assert_eq!(ids(Some((6, 1, 7601)), None), ids(None, None));
        // On a target: the check says the code does not run there.
        let r2 = Some("windows-server-2008-r2");
        assert_eq!(ids(None, r2), ["hosted", "json", "netip", "tnc"]);
        assert_eq!(ids(Some((6, 2, 0)), r2), ["hosted", "json", "tnc"]);
    }

    #[test]
    fn version_guards_rule_out_patterns_of_older_powershell_only() {
        let windows_and_ps = [
            "powershell-2.0",
            "powershell-3.0",
            "powershell-4.0",
            "powershell-5.0",
            "windows-7",
            "windows-server-2008-r2",
            "windows-server-2012",
            "windows-server-2012-r2",
        ];
        let mut hosted = pattern(
            "hosted",
            &["Get-Four"],
            &["powershell-2.0"],
            Severity::Major,
        );
        hosted.infrastructure_id = Some("h1".into());
        let mut local = pattern(
            "local",
            &["Get-LocalUser"],
            &windows_and_ps,
            Severity::Major,
        );
        local.pattern_type = PatternType::VersionMismatch;
        // Tagged the same way, but a module of the Windows release (NetTCPIP comes with
        // Server 2012): WMF 5.1 on 2008 R2 does not bring it.
        let module = pattern(
            "module",
            &["Get-NetAdapter"],
            &windows_and_ps,
            Severity::Major,
        );
        let idx = index(vec![
            local,
            module,
            pattern(
                "ps-only",
                &["Get-Two"],
                &["powershell-2.0"],
                Severity::Major,
            ),
            pattern(
                // Windows Server 2016 ships 5.1, which this pattern does not name: the failure
                // there is the operating system's.
                "os-too",
                &["Get-Three"],
                &["powershell-5.0", "windows-server-2016"],
                Severity::Major,
            ),
            pattern(
                "os-only",
                &["Get-Three"],
                &["windows-11-24h2"],
                Severity::Major,
            ),
            pattern(
                "gone-in-7",
                &["Get-WmiObject"],
                &["powershell-7"],
                Severity::Major,
            ),
            pattern("anywhere", &["Get-Two"], &[], Severity::Major),
            hosted,
        ]);
        let src = "Get-LocalUser\nGet-Two\nGet-Three\nGet-WmiObject\nGet-Four\nGet-NetAdapter\n";
        let ids = |min: Option<(u32, u32)>, target: Option<&str>| {
            run_marked(src, Language::PowerShell, target, &idx, |c| {
                c.min_powershell = min
            })
            .into_iter()
            .map(|f| f.split('@').next().unwrap_or("").to_string())
            .collect::<Vec<_>>()
        };
        let all = ids(None, None);
        assert_eq!(
            all,
            [
                "local",
                "anywhere",
                "ps-only",
                "os-only",
                "os-too",
                "gone-in-7",
                "hosted",
                "module"
            ]
        );
        assert_eq!(
            ids(Some((5, 1)), None),
            [
                "anywhere",
                "os-only",
                "os-too",
                "gone-in-7",
                "hosted",
                "module"
            ],
            "5.1 rules out 2.0-5.0 and the Windows releases that ship them, for a version mismatch"
        );
        assert_eq!(
            ids(Some((5, 0)), None),
            [
                "local",
                "anywhere",
                "os-only",
                "os-too",
                "gone-in-7",
                "hosted",
                "module"
            ],
            "5.0 itself is affected"
        );
        assert_eq!(
            ids(Some((7, 0)), Some("windows-server-2012-r2")),
            ["anywhere", "module"],
            "a targeted scan drops them too, but not a module the release lacks"
        );
        assert_eq!(
            ids(None, Some("windows-server-2012-r2")),
            ["local", "anywhere", "module"]
        );
    }
}

#[cfg(test)]
mod corpus {
    use super::*;

    /// Sparse and whole parses agree on every shell script of this machine (not in CI: the
    /// corpus depends on the machine). `cargo test --release --lib corpus -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn sparse_equals_whole_on_the_machines_shell_scripts() {
        let library = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let synthetic = PatternIndex::build(crate::synthetic::patterns(3000, 1), vec![], vec![]);
        let (mut files, mut cut, mut findings, mut differ) = (0, 0, 0, Vec::new());
        let mut all = String::new();
        for root in ["/usr/bin", "/usr/sbin", "/usr/share", "/usr/lib", "/etc"] {
            for entry in ignore::WalkBuilder::new(root)
                .hidden(false)
                .build()
                .flatten()
            {
                let path = entry.path();
                let Ok(meta) = path.metadata() else { continue };
                if !meta.is_file() || meta.len() > 2_000_000 {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                if Language::detect(path, &text) != Some(Language::Bash) {
                    continue;
                }
                files += 1;
                if parse_sparse(&text, Language::Bash, None, &library).is_some() {
                    all.push_str(&text);
                    all.push('\n');
                }
                let whole = script::parse(&text, Language::Bash);
                let dirs = Directives::parse(&text, Language::Bash);
                for (idx, target) in [
                    (&library, None),
                    (&library, Some("synology-dsm")),
                    (&synthetic, None),
                    (&synthetic, Some("debian-12")),
                ] {
                    let Some(sparse) = parse_sparse(&text, Language::Bash, target, idx) else {
                        continue;
                    };
                    cut += 1;
                    let a = scan_parsed(&text, &sparse, &dirs, target, idx).findings;
                    let b = scan_parsed(&text, &whole, &dirs, target, idx).findings;
                    findings += b.len();
                    if a != b {
                        differ.push(path.display().to_string());
                    }
                }
            }
        }
        eprintln!(
            "{files} scripts, {cut} sparse scans, {findings} findings, {} differ: {differ:?}",
            differ.len()
        );
        assert!(differ.is_empty());
        // All of them as one large file: the threaded path of `scan` itself.
        let whole = script::parse(&all, Language::Bash);
        let dirs = Directives::parse(&all, Language::Bash);
        let expected = scan_parsed(&all, &whole, &dirs, None, &library).findings;
        assert!(parse_sparse(&all, Language::Bash, None, &library).is_some());
        assert_eq!(
            scan(&all, Language::Bash, None, &library).findings,
            expected
        );
        let on_dsm = scan_parsed(&all, &whole, &dirs, Some("synology-dsm"), &library).findings;
        assert_eq!(
            scan(&all, Language::Bash, Some("synology-dsm"), &library).findings,
            on_dsm
        );
        eprintln!(
            "one file of {} bytes: {} findings agree",
            all.len(),
            expected.len()
        );
    }
}
