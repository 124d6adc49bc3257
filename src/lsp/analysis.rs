//! Incremental checking of one document: after a one-line edit only the statements around it
//! are parsed and scanned again (DESIGN.md §10: ≤ 5 ms for 10,000 lines and 10,000 patterns).
//!
//! The document is cut into *chunks*: runs of whole top-level statements, each starting at a
//! line start. A top-level statement means the same thing wherever it stands, so a chunk parsed
//! and scanned on its own gives exactly the findings a whole-file scan gives inside it; those
//! findings are cached by the chunk's text. After an edit, a few chunks have new text and are
//! scanned; every other chunk's findings come from the cache, shifted to where it now starts.
//!
//! Statement boundaries come from tree-sitter (bash and PowerShell). A newly opened file is
//! parsed in windows of about 64 KB, front to back; after that an edit marks the chunks it
//! touched, and only a window around them is parsed again, alone. (tree-sitter's own incremental re-parse costs as much as a
//! full parse on a flat 10,000-statement bash file.) The window grows until it starts and ends
//! between statements — nothing broken at its start, nothing left open or continued at its end —
//! so every boundary outside it is still one a whole-file parse would give. Where the grammar
//! saw an error, no cut is made next to it, so a broken construct is always scanned together
//! with its neighbours. Batch files are checked whole (its lexer is linear and cheap).
//!
//! Chunk ends are chosen by content (a hash of the statement after the cut), not by counting
//! from the top, so inserting a line moves no boundary except the ones next to it.
//!
//! File-wide directives (`forewarn: target=`, `ignore`, `disable-file`) are read from the whole
//! text on every analysis and applied after the per-chunk scans, with absolute line numbers.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use crate::engine::applied::InPlace;
use crate::engine::directives::Directives;

use crate::engine::{self, Finding, PatternIndex};
use crate::script::os::{self, Ending};
use crate::script::{self, Language, Parsed};
use crate::text::{Encoding, LineIndex};

use super::diagnostics::Prepared;
use super::documents::{ByteEdit, PendingEdits};

/// The parser the analyzer calls on a chunk; tests substitute a grammar-free one.
pub type ParseFn = fn(&str, Language) -> Parsed;

/// A chunk ends at an allowed cut when the next statement's hash is 0 modulo this (about one
/// chunk per this many statements)...
const CUT_MODULUS: u64 = 8;
/// ...or when it has grown to this many bytes.
const MAX_CHUNK_BYTES: usize = 4096;

/// The findings of one analysis of one document version.
#[derive(Debug)]
pub struct Analysis {
    pub version: i32,
    pub language: Language,
    pub text: String,
    pub line_index: LineIndex,
    /// The file's target (directive, else the configured default).
    pub target: Option<String>,
    /// The index the findings came from (hover and code actions read patterns from it).
    pub index: Arc<PatternIndex>,
    /// The encoding the prepared diagnostics count columns in.
    pub encoding: Encoding,
    /// Each chunk's findings and prepared diagnostics (shared with the chunk cache, so an
    /// edit copies none of them), in order.
    pieces: Vec<Piece>,
    /// When suppression directives apply: the findings that remain (absolute spans), and no
    /// pieces.
    kept: Option<Vec<Finding>>,
}

/// One chunk's results, where the chunk starts.
#[derive(Debug)]
pub struct Piece {
    /// Byte offset and line of the chunk's start.
    pub start: usize,
    pub line: u32,
    pub chunk: Arc<Checked>,
}

/// What scanning one chunk gave, relative to the chunk.
#[derive(Debug)]
pub struct Checked {
    pub findings: Vec<Finding>,
    /// `None` only when a number does not fit [`Prepared`]'s compact form.
    pub diagnostics: Option<Prepared>,
}

impl Analysis {
    /// Findings with absolute spans, directives applied, in source order.
    pub fn findings(&self) -> Vec<Finding> {
        if let Some(kept) = &self.kept {
            return kept.clone();
        }
        self.pieces
            .iter()
            .flat_map(|p| p.chunk.findings.iter().map(|f| shifted(f, p.start)))
            .collect()
    }

    /// The findings whose span covers byte `offset` (ends included), in source order.
    pub fn findings_at(&self, offset: usize) -> Vec<Finding> {
        let covers = |f: &Finding| f.span.start <= offset && offset <= f.span.end;
        if let Some(kept) = &self.kept {
            return kept.iter().filter(|f| covers(f)).cloned().collect();
        }
        // A finding lies inside its chunk, so only the chunk holding `offset` and, when
        // `offset` is that chunk's start, the one before can have one covering it.
        let i = self.pieces.partition_point(|p| p.start <= offset);
        self.pieces[i.saturating_sub(2)..i]
            .iter()
            .flat_map(|p| p.chunk.findings.iter().map(|f| shifted(f, p.start)))
            .filter(covers)
            .collect()
    }

    /// The chunks' results; `None` when suppression directives apply.
    pub fn pieces(&self) -> Option<&[Piece]> {
        self.kept.is_none().then_some(&self.pieces[..])
    }
}

/// A chunk's finding moved to where the chunk starts.
fn shifted(f: &Finding, by: usize) -> Finding {
    let mut f = f.clone();
    f.span = f.span.start + by..f.span.end + by;
    if let Some(fix) = &mut f.fix {
        fix.span = fix.span.start + by..fix.span.end + by;
    }
    f
}

/// What an analysis depends on besides the text.
#[derive(Clone)]
struct CacheKey {
    encoding: Encoding,
    /// Held (not just its address) so that a freed index's address cannot come back as a
    /// different index and make stale findings look current.
    index: Arc<PatternIndex>,
    language: Language,
    target: Option<String>,
    /// The document says `pwsh` reads it (`#Requires -Version 7`, a `#!` naming pwsh): its
    /// chunks, which do not hold those lines, are read as pwsh reads them.
    pwsh: bool,
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &CacheKey) -> bool {
        Arc::ptr_eq(&self.index, &other.index)
            && self.encoding == other.encoding
            && self.language == other.language
            && self.target == other.target
            && self.pwsh == other.pwsh
    }
}

struct CachedChunk {
    text: Box<str>,
    /// What the checks that end the script before it proved (`script::os::after_checks`):
    /// part of what its findings depend on.
    passed: Option<Ending>,
    /// What its own such checks prove for the chunks after it.
    ends: Option<Ending>,
    /// The patterns whose fix the chunks before it applied where the file runs
    /// (`fix.applied_if`, sorted ids): part of what its findings depend on.
    fixed_before: Vec<String>,
    /// Those its own code applies, for the chunks after it.
    fixes: Vec<String>,
    checked: Arc<Checked>,
    /// The analysis that last used it.
    generation: u64,
}

/// Chunks no longer in the text stay cached up to this multiple of the text's size: an edit
/// that briefly breaks the structure (typing `if` before its `fi`) merges many chunks into one,
/// and the next keystroke that restores it must find the old ones again.
const CACHE_TEXT_MULTIPLE: usize = 3;

/// Per-document analysis state: the chunk map and the chunk cache. One analysis at a time
/// (the server keeps it behind a mutex).
pub struct Analyzer {
    parse: ParseFn,
    parser: Option<(Language, tree_sitter::Parser)>,
    /// The chunk map of the last analysis, and the length of the text it covered.
    chunks: Vec<Chunk>,
    chunked_len: usize,
    key: Option<CacheKey>,
    cache: HashMap<u64, CachedChunk>,
    cached_bytes: usize,
    generation: u64,
    encoding: Encoding,
    /// Chunks scanned (not taken from the cache) by the last analysis, for tests and benches.
    pub last_rescanned: usize,
    pub last_chunks: usize,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(script::parse)
    }
}

impl Analyzer {
    pub fn new(parse: ParseFn) -> Analyzer {
        Analyzer {
            parse,
            parser: None,
            chunks: Vec::new(),
            chunked_len: 0,
            key: None,
            cache: HashMap::new(),
            cached_bytes: 0,
            generation: 0,
            encoding: Encoding::Utf16,
            last_rescanned: 0,
            last_chunks: 0,
        }
    }

    /// The encoding the ready-made diagnostics count columns in (UTF-16 unless set).
    pub fn set_encoding(&mut self, encoding: Encoding) {
        self.encoding = encoding;
    }

    /// Analyzes `text` (version `version`). `pending` are the edits made since the previous
    /// call; `default_target` is what configuration and settings say.
    pub fn analyze(
        &mut self,
        text: String,
        version: i32,
        language: Language,
        pending: PendingEdits,
        default_target: Option<&str>,
        index: &Arc<PatternIndex>,
    ) -> Analysis {
        let line_index = LineIndex::new(&text);
        self.analyze_indexed(
            text,
            line_index,
            version,
            language,
            pending,
            default_target,
            index,
        )
    }

    /// [`Analyzer::analyze`] with the text's line index already made (the document keeps one:
    /// a copy is cheaper than finding every line end again on each edit).
    #[allow(clippy::too_many_arguments)]
    pub fn analyze_indexed(
        &mut self,
        text: String,
        line_index: LineIndex,
        version: i32,
        language: Language,
        pending: PendingEdits,
        default_target: Option<&str>,
        index: &Arc<PatternIndex>,
    ) -> Analysis {
        let directives = Directives::parse(&text, language);
        let target = directives
            .target
            .clone()
            .or_else(|| default_target.map(str::to_string));
        let pwsh =
            language == Language::PowerShell && crate::script::powershell::declares_pwsh(&text);
        let key = CacheKey {
            encoding: self.encoding,
            index: index.clone(),
            language,
            target: target.clone(),
            pwsh,
        };
        if self.key.as_ref() != Some(&key) {
            self.cache.clear();
            self.cached_bytes = 0;
            self.key = Some(key);
        }
        let chunks = self.chunks(&text, language, pending);
        let mut pieces = Vec::new();
        let mut kept = None;
        if directives.disable_file {
            kept = Some(Vec::new());
        } else {
            // Each chunk is scanned with only the file's target: ignores are applied below
            // with absolute lines, and a chunk never sees `disable-file`.
            let chunk_directives = Directives {
                target: directives.target.clone(),
                ..Directives::default()
            };
            self.generation += 1;
            self.last_rescanned = 0;
            pieces.reserve_exact(chunks.len());
            let mut hashes = Vec::with_capacity(chunks.len());
            // A check that ends the script (`[ "$(uname)" = Linux ] || exit 1`) holds for the
            // chunks after it: each chunk is parsed knowing what those before it proved, and
            // cached under that too.
            // The script's `#Requires` lines hold for all of it, wherever they stand: every
            // chunk starts knowing them (and is cached under them).
            let mut passed: Option<Ending> = directives.requires.ending();
            // Likewise a fix applied where the file runs (`fix.applied_if`) holds for the
            // commands after it, in later chunks too.
            let mut fixed: Vec<String> = Vec::new();
            for (range, known) in &chunks {
                let chunk = &text[range.clone()];
                let h = known.unwrap_or_else(|| hash(chunk));
                hashes.push(h);
                let key = passed.as_ref().map_or(h, |p| h ^ hash(p));
                let key = match fixed.is_empty() {
                    true => key,
                    false => key ^ hash(&fixed).rotate_left(17),
                };
                let cached = self
                    .cache
                    .get_mut(&key)
                    .filter(|c| &*c.text == chunk && c.passed == passed && c.fixed_before == fixed);
                let (checked, ends, fixes) = match cached {
                    Some(c) => {
                        c.generation = self.generation;
                        (c.checked.clone(), c.ends.clone(), c.fixes.clone())
                    }
                    None => {
                        self.last_rescanned += 1;
                        let pwsh = self.key.as_ref().is_some_and(|k| k.pwsh);
                        let (parsed, ends) = crate::script::powershell::read_by(pwsh, || {
                            let parsed =
                                os::after_checks(passed.clone(), || (self.parse)(chunk, language));
                            let ends = os::endings(chunk, language);
                            (parsed, (!ends.is_empty()).then(|| Ending::all(&ends)))
                        });
                        // The `#Requires` lines of this chunk are its own to report.
                        let requires = directives.requires.within(range);
                        let own_directives;
                        let directives = match fixed.is_empty() && requires.lines.is_empty() {
                            true => &chunk_directives,
                            false => {
                                own_directives = Directives {
                                    applied: fixed.iter().map(|id| (id.clone(), 0)).collect(),
                                    requires,
                                    ..chunk_directives.clone()
                                };
                                &own_directives
                            }
                        };
                        let mut findings =
                            engine::scan_parsed(chunk, &parsed, directives, default_target, index)
                                .findings;
                        let fixes: Vec<String> = match index.applied_ifs().is_empty() {
                            true => Vec::new(),
                            false => InPlace::find(chunk, &parsed, index)
                                .local(index)
                                .into_iter()
                                .map(|(id, _)| id)
                                .collect(),
                        };
                        // Kept as long as the chunk is cached: no spare capacity.
                        findings.shrink_to_fit();
                        let chunk_lines = LineIndex::new(chunk);
                        let diagnostics =
                            Prepared::new(chunk, &chunk_lines, &findings, index, self.encoding);
                        let checked = Arc::new(Checked {
                            findings,
                            diagnostics,
                        });
                        self.cached_bytes += chunk.len();
                        if let Some(old) = self.cache.insert(
                            key,
                            CachedChunk {
                                text: chunk.into(),
                                passed: passed.clone(),
                                ends: ends.clone(),
                                fixed_before: fixed.clone(),
                                fixes: fixes.clone(),
                                checked: checked.clone(),
                                generation: self.generation,
                            },
                        ) {
                            self.cached_bytes -= old.text.len();
                        }
                        (checked, ends, fixes)
                    }
                };
                for id in fixes {
                    if let Err(at) = fixed.binary_search(&id) {
                        fixed.insert(at, id);
                    }
                }
                if let Some(ends) = ends {
                    passed = Some(match passed {
                        Some(before) => Ending::all(&[before, ends]),
                        None => ends,
                    });
                }
                pieces.push(Piece {
                    start: range.start,
                    line: line_index.line_of(range.start) as u32,
                    chunk: checked,
                });
            }
            if self.chunks.len() == hashes.len() {
                for (c, h) in self.chunks.iter_mut().zip(hashes) {
                    c.hash = Some(h);
                }
            }
            self.evict(text.len());
            // Chunks are scanned alone, so what the whole file says is applied here: its
            // ignores, and the functions it defines (a command of that name after the
            // definition runs the function, as `scan` decides for a whole file). Only when one
            // of them removes a finding are the findings gathered anew: otherwise each chunk's
            // diagnostics, prepared once, are published as they are.
            let shadowed = |f: &Finding, at: usize| {
                let start = f.span.start + at;
                text.get(start..f.span.end + at).is_some_and(|name| {
                    directives.defines(&text, name, language, start)
                        && index
                            .get(&f.pattern_id)
                            .is_some_and(|p| p.is_missing_command())
                })
            };
            let any_shadowed = directives.has_functions(&text)
                && pieces
                    .iter()
                    .any(|p| p.chunk.findings.iter().any(|f| shadowed(f, p.start)));
            if !directives.ignores.is_empty() || any_shadowed {
                let mut findings = Vec::new();
                for p in &pieces {
                    for f in &p.chunk.findings {
                        let line = line_index.line_of(f.span.start + p.start);
                        let signature = index
                            .get(&f.pattern_id)
                            .map_or("", |p| p.pattern_signature.as_str());
                        if !directives.ignores(line, &f.pattern_id, signature)
                            && !shadowed(f, p.start)
                        {
                            findings.push(shifted(f, p.start));
                        }
                    }
                }
                pieces.clear();
                kept = Some(findings);
            }
        }
        self.last_chunks = chunks.len();
        Analysis {
            version,
            language,
            text,
            line_index,
            target,
            index: index.clone(),
            encoding: self.encoding,
            pieces,
            kept,
        }
    }

    /// Drops the least recently used chunks not in the current text until the cache holds at
    /// most `CACHE_TEXT_MULTIPLE` times the text.
    fn evict(&mut self, text_len: usize) {
        let budget = CACHE_TEXT_MULTIPLE * text_len.max(64 * 1024);
        if self.cached_bytes <= budget {
            return;
        }
        let mut old: Vec<(u64, u64, usize)> = self
            .cache
            .iter()
            .filter(|(_, c)| c.generation != self.generation)
            .map(|(&h, c)| (c.generation, h, c.text.len()))
            .collect();
        old.sort_unstable();
        for (_, h, len) in old {
            if self.cached_bytes <= budget {
                break;
            }
            self.cache.remove(&h);
            self.cached_bytes -= len;
        }
    }

    /// Cuts `text` into chunks that cover it, each starting at a line start, with their text's
    /// hash when it is known from an earlier analysis.
    fn chunks(
        &mut self,
        text: &str,
        language: Language,
        pending: PendingEdits,
    ) -> Vec<(Range<usize>, Option<u64>)> {
        let grammar: tree_sitter::Language = match language {
            Language::Bash => tree_sitter_bash::LANGUAGE.into(),
            Language::PowerShell => tree_sitter_powershell::LANGUAGE.into(),
            Language::Batch => {
                self.chunks.clear();
                return vec![(0..text.len(), None)];
            }
        };
        if self.parser.as_ref().map(|(l, _)| *l) != Some(language) {
            let Some(parser) = crate::script::new_parser(&grammar) else {
                self.chunks.clear();
                return vec![(0..text.len(), None)];
            };
            self.parser = Some((language, parser));
            self.chunks.clear();
        }
        let Some((_, parser)) = &mut self.parser else {
            return vec![(0..text.len(), None)];
        };
        let consistent = self.chunks.last().map(|c| c.range.end) == Some(self.chunked_len);
        if pending.reset || self.chunks.is_empty() || !consistent {
            self.chunks = initial(parser, text, language);
        } else {
            for e in &pending.edits {
                mark_edit(&mut self.chunks, e);
            }
            rechunk_dirty(parser, text, language, &mut self.chunks);
        }
        self.chunked_len = text.len();
        if self.chunks.last().map(|c| c.range.end) != Some(text.len()) {
            // Edits that disagree with the text (never expected): start over.
            tracing::warn!("chunk map out of step with the text; re-chunking");
            self.chunks = initial(parser, text, language);
        }
        self.chunks
            .iter()
            .map(|c| (c.range.clone(), c.hash))
            .collect()
    }
}

/// A newly opened text is parsed in windows of about this many bytes, front to back: a
/// whole-file tree of a large script would be the server's peak memory.
const WINDOW_BYTES: usize = 64 * 1024;

/// The chunks of a whole text, parsed window by window from the start. Each window begins at a
/// boundary already proven; it is accepted when it parses without error and ends between
/// statements, else it doubles (at worst to the end of the text).
fn initial(parser: &mut tree_sitter::Parser, text: &str, language: Language) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut size = WINDOW_BYTES;
        loop {
            let end = next_line_start(text, start.saturating_add(size));
            let window = start..end;
            let (units, parsed) = window_units(parser, text, window.clone());
            let at_end = end == text.len();
            let clean = parsed && settled(text, &window, &units, language, 0);
            if clean || at_end {
                if parsed {
                    out.extend(cut_units(text, window, &units));
                } else {
                    out.push(Chunk {
                        range: window,
                        dirty: false,
                        broken: 1,
                        hash: None,
                    });
                }
                start = end;
                break;
            }
            size = size.saturating_mul(2);
        }
    }
    if out.is_empty() {
        out.push(Chunk {
            range: 0..text.len(),
            dirty: false,
            broken: 0,
            hash: None,
        });
    }
    out
}

/// The start of the line after `pos` (or the end of the text).
fn next_line_start(text: &str, pos: usize) -> usize {
    if pos >= text.len() {
        return text.len();
    }
    text.as_bytes()[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| pos + i + 1)
}

/// A chunk of the previous analysis, moved by later edits; `dirty` when an edit touched it.
#[derive(Clone, Debug)]
struct Chunk {
    range: Range<usize>,
    dirty: bool,
    /// Statements with a syntax error that start in it, when it was last parsed.
    broken: usize,
    /// The hash of its text, once computed: an edit that touches the chunk makes a new one,
    /// so a kept hash is still the text's (and the cache compares the text anyway).
    hash: Option<u64>,
}

/// Folds one edit into the chunk map: the chunks it touches (and the one starting where it
/// ends, whose first line may have been joined to the edit) become one dirty chunk, and every
/// chunk after moves by the edit's change in length.
fn mark_edit(chunks: &mut Vec<Chunk>, e: &ByteEdit) {
    if chunks.is_empty() {
        return;
    }
    let find = |offset: usize| {
        chunks
            .partition_point(|c| c.range.end <= offset)
            .min(chunks.len() - 1)
    };
    let i = find(e.start);
    let j = find(e.old_end).max(i);
    let delta = e.new_end as isize - e.old_end as isize;
    let shift = |x: usize| (x as isize + delta).max(0) as usize;
    let merged = Chunk {
        range: chunks[i].range.start..shift(chunks[j].range.end),
        dirty: true,
        broken: chunks[i..=j].iter().map(|c| c.broken).sum(),
        hash: None,
    };
    chunks.splice(i..=j, std::iter::once(merged));
    for c in &mut chunks[i + 1..] {
        c.range = shift(c.range.start)..shift(c.range.end);
    }
}

/// Re-chunks every dirty chunk by parsing a window around it alone. The window grows (first to
/// the neighbouring chunks, then doubling, at worst to the rest of the file) until it parses
/// without error and ends between statements: nothing left open or continued at its end. Then
/// the boundaries outside it are exactly those a whole-file parse would give.
fn rechunk_dirty(
    parser: &mut tree_sitter::Parser,
    text: &str,
    language: Language,
    chunks: &mut Vec<Chunk>,
) {
    let mut k = 0;
    while k < chunks.len() {
        if !chunks[k].dirty {
            k += 1;
            continue;
        }
        let (mut lo, mut hi) = (k, k);
        let mut grow = 1;
        let (new, lo_done, hi_done) = loop {
            let window = chunks[lo].range.start..chunks[hi].range.end;
            let (units, parsed) = window_units(parser, text, window.clone());
            let clean_start = lo == 0 || units.first().is_none_or(|u| !u.broken);
            let before: usize = chunks[lo..=hi].iter().map(|c| c.broken).sum();
            let clean_end =
                hi + 1 == chunks.len() || settled(text, &window, &units, language, before);
            if parsed && clean_start && clean_end {
                break (cut_units(text, window, &units), lo, hi);
            }
            if !clean_start {
                lo -= 1;
            }
            if !clean_end {
                hi = (hi + grow).min(chunks.len() - 1);
                grow *= 2;
            }
            if !parsed || grow > 64 {
                // A construct that stays open this long: the rest of the file is one window.
                let window = chunks[lo].range.start..text.len();
                let last = chunks.len() - 1;
                break (whole(parser, text, window), lo, last);
            }
        };
        let count = new.len();
        chunks.splice(lo_done..=hi_done, new);
        k = lo_done + count;
    }
}

/// Parses `window` alone: its top-level statements with absolute spans, and whether the parse
/// succeeded at all.
fn window_units(
    parser: &mut tree_sitter::Parser,
    text: &str,
    window: Range<usize>,
) -> (Vec<Unit>, bool) {
    let Some(w) = text.get(window.clone()) else {
        return (Vec::new(), false);
    };
    match parser.parse(w, None) {
        Some(tree) => {
            let mut units = units(tree.root_node());
            for u in &mut units {
                u.span = u.span.start + window.start..u.span.end + window.start;
            }
            (units, true)
        }
        None => (Vec::new(), false),
    }
}

/// Past this size a window with a syntax error inside is accepted when its end is clean: the
/// error is most likely the file's own (a script that does not parse), and growing further
/// would re-parse the rest of the file on every keystroke.
const ERROR_WINDOW_BYTES: usize = 64 * 1024;

/// Whether `window` can end a re-parse: it ends between statements and has no more syntax
/// errors than the same chunks had before the edit. (A new error may be the parser recovering
/// from something a whole-file parse reads differently by looking further, such as an
/// unterminated `<#` comment it closes at a later `#>`; an old one — a construct the grammar
/// does not know — is no news.) Once the window is large, whatever error it holds is accepted
/// as long as its end is clean.
fn settled(
    text: &str,
    window: &Range<usize>,
    units: &[Unit],
    language: Language,
    broken_before: usize,
) -> bool {
    let broken = units.iter().filter(|u| u.broken).count();
    ends_clean(text, window, units, language)
        && (broken <= broken_before || window.len() >= ERROR_WINDOW_BYTES)
}

/// Whether the statements of `window` are all closed by its end: its last statement is whole
/// and ends on an earlier line than the window's end, and its last line does not continue.
fn ends_clean(text: &str, window: &Range<usize>, units: &[Unit], language: Language) -> bool {
    let w = &text[window.clone()];
    if !w.ends_with('\n') {
        return false;
    }
    if let Some(last) = units.last() {
        if last.broken || last.span.end >= window.end {
            return false;
        }
    }
    let last_line = w.trim_end().rsplit('\n').next().unwrap_or("");
    let continued: &[&str] = match language {
        Language::Bash => &["\\", "|", "&&", "||"],
        Language::PowerShell => &["`", "|", ","],
        Language::Batch => &["^"],
    };
    !continued.iter().any(|c| last_line.ends_with(c))
}

/// Parses `window` (the whole text, or its tail) and cuts it.
fn whole(parser: &mut tree_sitter::Parser, text: &str, window: Range<usize>) -> Vec<Chunk> {
    let (units, parsed) = window_units(parser, text, window.clone());
    if !parsed {
        return vec![Chunk {
            range: window,
            dirty: false,
            broken: 1,
            hash: None,
        }];
    }
    cut_units(text, window, &units)
}

fn hash<T: Hash + ?Sized>(s: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A top-level statement: its bytes, and whether the grammar saw an error in or at it.
struct Unit {
    span: Range<usize>,
    broken: bool,
}

/// The top-level statements under `root` (PowerShell wraps them in a `statement_list`).
fn units(root: tree_sitter::Node) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        if child.kind() == "statement_list" && !child.is_error() {
            let mut inner = child.walk();
            for s in child.children(&mut inner) {
                out.push(unit(s));
            }
        } else {
            out.push(unit(child));
        }
    }
    out
}

fn unit(n: tree_sitter::Node) -> Unit {
    Unit {
        span: n.byte_range(),
        broken: n.is_error() || n.is_missing() || n.has_error(),
    }
}

/// Chunks covering `window`, cut only at the start of a line whose first statement
/// begins after the previous statement ended, and never next to a broken statement.
fn cut_units(text: &str, window: Range<usize>, units: &[Unit]) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = window.start;
    let mut broken = units.first().map_or(0, |u| u.broken as usize);
    for pair in units.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        let cut = !prev.broken && !next.broken && {
            let line_start = line_start_of(bytes, next.span.start);
            line_start > start
                && line_start >= prev.span.end
                && (hash(&text[next.span.clone()]) % CUT_MODULUS == 0
                    || line_start - start >= MAX_CHUNK_BYTES)
        };
        if cut {
            let line_start = line_start_of(bytes, next.span.start);
            chunks.push(Chunk {
                range: start..line_start,
                dirty: false,
                broken,
                hash: None,
            });
            start = line_start;
            broken = 0;
        }
        broken += next.broken as usize;
    }
    chunks.push(Chunk {
        range: start..window.end,
        dirty: false,
        broken,
        hash: None,
    });
    chunks
}

fn line_start_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{Pattern, PatternType, Severity};
    use crate::lsp::diagnostics;

    pub(crate) use crate::script::naive_parse as naive;

    pub(crate) fn pattern(id: &str, commands: &[&str], severity: Severity) -> Pattern {
        Pattern {
            triggering_commands: commands.iter().map(|s| s.to_string()).collect(),
            root_cause: "because".into(),
            recommended_solution: "do something else".into(),
            severity,
            ..Pattern::new(
                id,
                PatternType::CommandCompatibility,
                format!("sig-{id}"),
                format!("{id} fails"),
            )
        }
    }

    fn index() -> Arc<PatternIndex> {
        Arc::new(PatternIndex::build(
            vec![
                pattern("p-sed", &["sed"], Severity::Major),
                pattern("p-rl", &["readlink"], Severity::Minor),
            ],
            vec![],
            vec![],
        ))
    }

    fn full(text: &str, lang: Language, idx: &PatternIndex) -> Vec<(String, Range<usize>)> {
        let parsed = naive(text, lang);
        let d = Directives::parse(text, lang);
        engine::scan_parsed(text, &parsed, &d, None, idx)
            .findings
            .into_iter()
            .map(|f| (f.pattern_id, f.span))
            .collect()
    }

    fn ids(a: &Analysis) -> Vec<(String, Range<usize>)> {
        a.findings()
            .into_iter()
            .map(|f| (f.pattern_id, f.span))
            .collect()
    }

    fn script(lines: usize) -> String {
        let mut s = String::new();
        for i in 0..lines {
            match i % 7 {
                0 => s.push_str(&format!("sed -i s/a/b/ f{i}\n")),
                1 => s.push_str(&format!("if [ -f x{i} ]; then\n  readlink -f y\nfi\n")),
                2 => s.push_str(&format!("# comment {i}\n")),
                3 => s.push_str(&format!("cat <<EOF\nsed -i {i}\nEOF\n")),
                _ => s.push_str(&format!("echo line {i}\n")),
            }
        }
        s
    }

    #[test]
    fn edits_rescan_only_the_chunks_they_touch_and_match_a_full_scan() {
        let idx = index();
        let mut text = script(2000);
        let mut an = Analyzer::new(naive);
        let a = an.analyze(
            text.clone(),
            1,
            Language::Bash,
            PendingEdits {
                reset: true,
                edits: vec![],
            },
            None,
            &idx,
        );
        assert_eq!(ids(&a), full(&text, Language::Bash, &idx));
        assert!(an.last_chunks > 50, "{} chunks", an.last_chunks);

        // Insert a flagged line in the middle, through the document model.
        let mut doc = super::super::documents::Document::new(
            "file:///w/a.sh".parse().unwrap(),
            "shellscript".into(),
            1,
            text.clone(),
        );
        doc.take_pending();
        let line = 1500u32;
        doc.apply_change(
            &tower_lsp_server::lsp_types::TextDocumentContentChangeEvent {
                range: Some(tower_lsp_server::lsp_types::Range::new(
                    tower_lsp_server::lsp_types::Position::new(line, 0),
                    tower_lsp_server::lsp_types::Position::new(line, 0),
                )),
                range_length: None,
                text: "readlink -f inserted\n".into(),
            },
            crate::text::Encoding::Utf16,
        );
        text = doc.text().to_string();
        let a = an.analyze(
            text.clone(),
            2,
            Language::Bash,
            doc.take_pending(),
            None,
            &idx,
        );
        assert_eq!(ids(&a), full(&text, Language::Bash, &idx));
        assert!(
            an.last_rescanned <= 3,
            "rescanned {} of {} chunks",
            an.last_rescanned,
            an.last_chunks
        );
    }

    #[test]
    fn an_edit_that_changes_a_multi_line_construct_rescans_all_of_it() {
        let idx = index();
        let before = "echo a\ncat <<EOF\nsed -i x\nEOF\necho b\nsed -i y\n";
        let mut an = Analyzer::new(naive);
        let reset = || PendingEdits {
            reset: true,
            edits: vec![],
        };
        let a = an.analyze(before.into(), 1, Language::Bash, reset(), None, &idx);
        assert_eq!(ids(&a), full(before, Language::Bash, &idx));
        // Opening an unterminated quote swallows everything after it into one broken chunk.
        let after = "echo 'a\ncat <<EOF\nsed -i x\nEOF\necho b\nsed -i y\n";
        let a = an.analyze(after.into(), 2, Language::Bash, reset(), None, &idx);
        assert_eq!(ids(&a), full(after, Language::Bash, &idx));
    }

    #[test]
    fn directives_apply_with_absolute_lines() {
        let idx = index();
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!("echo {i}\n"));
        }
        text.push_str("# forewarn: ignore=sig-p-sed\nsed -i x\nsed -i y\n");
        let mut an = Analyzer::new(naive);
        let reset = PendingEdits {
            reset: true,
            edits: vec![],
        };
        let a = an.analyze(text.clone(), 1, Language::Bash, reset.clone(), None, &idx);
        assert_eq!(a.findings().len(), 1);
        assert_eq!(&text[a.findings()[0].span.clone()], "sed");
        assert_eq!(a.line_index.line_of(a.findings()[0].span.start), 302);
        let disabled = format!("# forewarn: disable-file\n{text}");
        let a = an.analyze(disabled, 2, Language::Bash, reset, None, &idx);
        assert!(a.findings().is_empty());
    }

    #[test]
    fn a_function_the_file_defines_is_no_missing_command_in_later_chunks() {
        let missing = Pattern {
            error_pattern: Some("nproc: command not found".into()),
            ..pattern("p-nproc", &["nproc"], Severity::Major)
        };
        let idx = Arc::new(PatternIndex::build(vec![missing], vec![], vec![]));
        let mut text = String::from("nproc\nnproc() { echo 4; }\n");
        for i in 0..300 {
            text.push_str(&format!("echo {i}\n"));
        }
        // A path and a wrapper do not run the function (the same rule as `scan`'s).
        text.push_str("/usr/bin/nproc\nsudo nproc\nnproc\n");
        let mut an = Analyzer::new(crate::script::parse);
        let reset = PendingEdits {
            reset: true,
            edits: vec![],
        };
        let a = an.analyze(text.clone(), 1, Language::Bash, reset, None, &idx);
        assert!(an.last_chunks > 10, "{} chunks", an.last_chunks);
        // The call before the definition fails, and so do the path and the wrapper's; a whole
        // scan agrees.
        let spans: Vec<Range<usize>> = a.findings().into_iter().map(|f| f.span).collect();
        let path = text.find("/usr/bin/nproc").unwrap() + "/usr/bin/".len();
        let sudo = text.find("sudo nproc").unwrap() + "sudo ".len();
        assert_eq!(spans, vec![0..5, path..path + 5, sudo..sudo + 5]);
        assert_eq!(
            engine::scan(&text, Language::Bash, None, &idx)
                .findings
                .into_iter()
                .map(|f| f.span)
                .collect::<Vec<_>>(),
            spans
        );
    }

    #[test]
    fn a_fix_applied_in_an_earlier_chunk_holds_in_later_ones_through_edits() {
        let idx = Arc::new(PatternIndex::build(
            crate::store::default_patterns(),
            vec![],
            vec![],
        ));
        let tls = "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7";
        let target = Some("windows-server-2012-r2");
        let set = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12\n";
        let mut text = String::from(set);
        for i in 0..300 {
            text.push_str(&format!("$v{i} = {i}\n"));
        }
        text.push_str("Invoke-RestMethod https://api.example.com/x\n");
        let mut doc = super::super::documents::Document::new(
            "file:///w/a.ps1".parse().unwrap(),
            "powershell".into(),
            1,
            text.clone(),
        );
        let mut an = Analyzer::new(crate::script::parse);
        let tls_spans = |findings: Vec<Finding>| -> Vec<Range<usize>> {
            findings
                .into_iter()
                .filter(|f| f.pattern_id == tls)
                .map(|f| f.span)
                .collect()
        };
        let edit = |doc: &mut super::super::documents::Document, end: u32, with: &str| {
            let range = tower_lsp_server::lsp_types::Range::new(
                tower_lsp_server::lsp_types::Position::new(0, 0),
                tower_lsp_server::lsp_types::Position::new(end, 0),
            );
            doc.apply_change(
                &tower_lsp_server::lsp_types::TextDocumentContentChangeEvent {
                    range: Some(range),
                    range_length: None,
                    text: with.into(),
                },
                crate::text::Encoding::Utf16,
            );
        };
        // Set, removed, set again, then kept in a function never called, then run by another
        // process: each analysis agrees with a whole scan.
        let in_function = format!("function Set-Tls {{ {} }}\n", set.trim_end());
        let in_child = format!("powershell -Command \"{}\"\n", set.trim_end());
        for (version, expect_finding) in [(1, false), (2, true), (3, false), (4, true), (5, true)] {
            match version {
                2 => edit(&mut doc, 1, ""),
                3 => edit(&mut doc, 0, set),
                4 => edit(&mut doc, 1, &in_function),
                5 => edit(&mut doc, 1, &in_child),
                _ => {}
            }
            text = doc.text().to_string();
            let a = an.analyze(
                text.clone(),
                version,
                Language::PowerShell,
                doc.take_pending(),
                target,
                &idx,
            );
            assert!(an.last_chunks > 10, "{} chunks", an.last_chunks);
            let spans = tls_spans(a.findings());
            let whole = tls_spans(engine::scan(&text, Language::PowerShell, target, &idx).findings);
            assert_eq!(spans, whole, "version {version}");
            assert_eq!(spans.len(), expect_finding as usize, "version {version}");
        }
    }

    #[test]
    fn a_check_that_ends_the_script_holds_in_later_chunks() {
        let missing = |id: &str, name: &str, systems: &[&str]| Pattern {
            error_pattern: Some(format!("{name}: command not found")),
            affected_systems: systems.iter().map(|s| s.to_string()).collect(),
            ..pattern(id, &[name], Severity::Major)
        };
        let idx = Arc::new(PatternIndex::build(
            vec![
                missing("p-nproc", "nproc", &["macos"]),
                missing("p-tac", "tac", &[]),
            ],
            vec![],
            vec![],
        ));
        let checks = "[ \"$(uname)\" = Linux ] || exit 1\ncommand -v tac >/dev/null || exit 1\n";
        let mut body = String::new();
        for i in 0..300 {
            body.push_str(&format!("echo {i}\n"));
        }
        body.push_str("nproc\ntac f\n");
        let with = format!("nproc\ntac f\n{checks}{body}");
        let without = format!("nproc\ntac f\n{body}");
        // Checks run in the background end nothing.
        let background = format!("nproc\ntac f\n{}{body}", checks.replace(" 1\n", " 1 &\n"));
        let reset = || PendingEdits {
            reset: true,
            edits: vec![],
        };
        let spans = |findings: Vec<Finding>| -> Vec<Range<usize>> {
            findings.into_iter().map(|f| f.span).collect()
        };
        let mut an = Analyzer::new(crate::script::parse);
        for (text, fired) in [(&with, 2), (&without, 4), (&with, 2), (&background, 4)] {
            let a = an.analyze(
                text.clone(),
                1,
                Language::Bash,
                reset(),
                Some("macos"),
                &idx,
            );
            assert!(an.last_chunks > 10, "{} chunks", an.last_chunks);
            // Before the checks both fire; after them neither (off macOS; tac looked up),
            // unless the checks are gone: the later chunks, unchanged, are not taken from the
            // cache as they were scanned under the checks. A whole scan agrees.
            let found = spans(a.findings());
            assert_eq!(found.len(), fired, "{found:?}");
            assert_eq!(
                spans(engine::scan(text, Language::Bash, Some("macos"), &idx).findings),
                found
            );
        }
    }

    #[test]
    fn a_script_pwsh_reads_is_read_so_in_every_chunk() {
        let idx = Arc::new(PatternIndex::build(
            vec![pattern("p-glu", &["Get-LocalUser"], Severity::Blocking)],
            vec![],
            vec![],
        ));
        // For pwsh, `e is ESC: G`et-LocalUser names no cmdlet; Windows PowerShell runs it.
        let mut body = String::new();
        for i in 0..300 {
            body.push_str(&format!("Write-Output {i}\n"));
        }
        body.push_str("G`et-LocalUser\n");
        for (text, expected) in [
            (format!("#Requires -Version 7\n{body}"), 0),
            (format!("#Requires -Version 5.1\n{body}"), 1),
        ] {
            let mut an = Analyzer::new(crate::script::parse);
            let reset = PendingEdits {
                reset: true,
                edits: vec![],
            };
            let a = an.analyze(text.clone(), 1, Language::PowerShell, reset, None, &idx);
            assert!(an.last_chunks > 10, "{} chunks", an.last_chunks);
            assert_eq!(a.findings().len(), expected, "{}", &text[..25]);
            let whole = engine::scan(&text, Language::PowerShell, None, &idx).findings;
            assert_eq!(whole.len(), expected, "check agrees");
        }
    }

    #[test]
    fn a_requires_line_in_one_chunk_holds_in_every_chunk() {
        let idx = Arc::new(PatternIndex::build(
            crate::store::default_patterns(),
            vec![],
            vec![],
        ));
        let requires = "6074b71d-ed3e-489d-a892-2d8d3c7ef35d";
        let local = "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b01";
        let doc = |version: &str| {
            let mut text = String::from("$u = Get-LocalUser\n");
            for i in 0..300 {
                text.push_str(&format!("Write-Output {i}\n"));
                if i == 150 {
                    text.push_str(&format!(
                        "function f {{\n  #Requires -Version {version}\n}}\n"
                    ));
                }
            }
            text.push_str("$a = $b ?? 'c'\nInvoke-Command -ComputerName OLD1 { Get-LocalUser }\n");
            text
        };
        let reset = || PendingEdits {
            reset: true,
            edits: vec![],
        };
        // One analyzer through the edits: chunks cached under one version are not reused
        // under another.
        let mut an = Analyzer::new(crate::script::parse);
        for (version, target, expected) in [
            ("5.1", "powershell-2.0", (1, 0)),
            ("2.0", "powershell-2.0", (0, 1)),
            ("5.1", "powershell-2.0", (1, 0)),
            ("5.1", "powershell-5.1", (0, 0)),
        ] {
            let text = doc(version);
            let a = an.analyze(
                text.clone(),
                1,
                Language::PowerShell,
                reset(),
                Some(target),
                &idx,
            );
            assert!(an.last_chunks > 10, "{} chunks", an.last_chunks);
            let found = a.findings();
            let count = |id: &str, local_only: bool| {
                found
                    .iter()
                    .filter(|f| {
                        f.pattern_id == id && (!local_only || f.target.as_deref() == Some(target))
                    })
                    .count()
            };
            assert_eq!(
                (count(requires, false), count(local, true)),
                expected,
                "{version} on {target}"
            );
            let whole = engine::scan(&text, Language::PowerShell, Some(target), &idx).findings;
            assert_eq!(found, whole, "{version} on {target}: check agrees");
        }
    }

    #[test]
    fn powershell_statements_are_chunks_too() {
        let idx = Arc::new(PatternIndex::build(
            vec![pattern("p-glu", &["Get-LocalUser"], Severity::Blocking)],
            vec![],
            vec![],
        ));
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!(
                "function f{i} {{\n  Get-LocalUser x\n}}\nWrite-Host {i}\n"
            ));
        }
        let mut an = Analyzer::new(naive);
        let a = an.analyze(
            text.clone(),
            1,
            Language::PowerShell,
            PendingEdits {
                reset: true,
                edits: vec![],
            },
            None,
            &idx,
        );
        assert_eq!(a.findings().len(), 400);
        assert_eq!(ids(&a), full(&text, Language::PowerShell, &idx));
        assert!(an.last_chunks > 10);
    }

    /// Where a whole-file parse allows a chunk to start (a line start between two whole
    /// statements); `None` when the file has an error.
    fn allowed_cuts(text: &str, lang: Language) -> Option<std::collections::HashSet<usize>> {
        let grammar: tree_sitter::Language = match lang {
            Language::Bash => tree_sitter_bash::LANGUAGE.into(),
            _ => tree_sitter_powershell::LANGUAGE.into(),
        };
        let mut parser = crate::script::new_parser(&grammar).unwrap();
        let tree = parser.parse(text, None).unwrap();
        if tree.root_node().has_error() {
            return None;
        }
        let units = units(tree.root_node());
        let mut ok = std::collections::HashSet::new();
        for pair in units.windows(2) {
            let (prev, next) = (&pair[0], &pair[1]);
            if prev.broken || next.broken {
                continue;
            }
            // Any line start between the two statements (blank and comment lines included).
            for (i, b) in text[prev.span.end..next.span.start].bytes().enumerate() {
                if b == b'\n' {
                    ok.insert(prev.span.end + i + 1);
                }
            }
        }
        Some(ok)
    }

    /// Inserting whole constructs at statement boundaries keeps a file valid; deleting a line may break it,
    /// and putting it back heals it. In every state where the whole file parses without
    /// error, the findings must be a whole-file scan's, and every boundary of the incrementally
    /// maintained chunk map must be one a whole-file parse allows (with syntax errors, tree-sitter's recovery is not local, and chunked
    /// recovery may differ near the error).
    #[test]
    fn after_random_edits_every_boundary_is_one_a_whole_parse_allows() {
        use crate::synthetic::Rng;
        let constructs: [(Language, &[&str]); 2] = [
            (
                Language::Bash,
                &[
                    "echo x\n",
                    "if true; then\n  echo y\nfi\n",
                    "cat <<EOF\nsed -i x\nEOF\n",
                    "echo 'multi\nline'\n",
                    "f() {\n  ls\n}\n",
                    "for i in 1 2; do\n  echo $i\ndone\n",
                    "x=$(\n  date\n)\n",
                    "ls | \\\n  wc -l\n",
                    "case $a in\n  x) echo x;;\nesac\n",
                    "sed -i s/a/b/ f && echo ok\n",
                    "# comment\n",
                    "\n",
                ],
            ),
            (
                Language::PowerShell,
                &[
                    "Write-Host x\n",
                    "if ($x) {\n  Get-Y\n}\n",
                    "$s = @'\nGet-LocalUser\n'@\n",
                    "<#\n block\n#>\n",
                    "Get-X |\n  Where-Object { $_ }\n",
                    "Get-Y `\n  -Name a\n",
                    "function f {\n  param($a)\n  $a\n}\n",
                    "$a = @(1,\n  2)\n",
                    "\"multi\nline\"\n",
                    "# comment\n",
                    "\n",
                ],
            ),
        ];
        // The real parsers: chunked findings must equal a whole-file scan's.
        let idx = Arc::new(PatternIndex::build(
            [
                "sed",
                "ls",
                "wc",
                "date",
                "echo",
                "cat",
                "Write-Host",
                "Get-Y",
                "Get-X",
                "Where-Object",
                "Get-LocalUser",
            ]
            .iter()
            .map(|c| pattern(&format!("p-{c}"), &[c], Severity::Major))
            .collect(),
            vec![],
            vec![],
        ));
        for (lang, constructs) in constructs {
            let mut rng = Rng::new(7);
            let text: String = (0..200).map(|i| constructs[i % constructs.len()]).collect();
            let mut doc = super::super::documents::Document::new(
                "file:///w/x".parse().unwrap(),
                lang.name().into(),
                1,
                text,
            );
            let mut an = Analyzer::default();
            let mut removed: Option<(u32, String)> = None;
            let mut checked = 0;
            for step in 0..150 {
                let lines = doc.line_index().line_count() as u32;
                let (line, end_line, new) = match removed.take() {
                    // Put back what the previous step deleted.
                    Some((line, text)) => (line, line, text),
                    None if rng.below(4) == 0 => {
                        let line = rng.below(lines as usize - 1) as u32;
                        let r = doc.line_index().line_range(doc.text(), line as usize);
                        removed = Some((line, format!("{}\n", &doc.text()[r])));
                        (line, line + 1, String::new())
                    }
                    None => {
                        // At a statement boundary, so the file stays valid.
                        let mut cuts: Vec<usize> = allowed_cuts(doc.text(), lang)
                            .map(|s| s.into_iter().collect())
                            .unwrap_or_default();
                        cuts.push(0);
                        cuts.sort_unstable();
                        let at = cuts[rng.below(cuts.len())];
                        let line = doc.line_index().line_of(at) as u32;
                        let c = constructs[rng.below(constructs.len())];
                        (line, line, c.to_string())
                    }
                };
                doc.apply_change(
                    &tower_lsp_server::lsp_types::TextDocumentContentChangeEvent {
                        range: Some(tower_lsp_server::lsp_types::Range::new(
                            tower_lsp_server::lsp_types::Position::new(line, 0),
                            tower_lsp_server::lsp_types::Position::new(end_line, 0),
                        )),
                        range_length: None,
                        text: new,
                    },
                    crate::text::Encoding::Utf16,
                );
                let text = doc.text().to_string();
                let a = an.analyze(text.clone(), step, lang, doc.take_pending(), None, &idx);
                let chunks: Vec<Range<usize>> = an.chunks.iter().map(|c| c.range.clone()).collect();
                assert_eq!(chunks.first().map(|c| c.start), Some(0));
                assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
                assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
                let Some(ok) = allowed_cuts(&text, lang) else {
                    continue;
                };
                checked += 1;
                let whole = engine::scan(&text, lang, None, &idx).findings;
                assert!(!whole.is_empty());
                assert_eq!(
                    a.findings(),
                    whole,
                    "{lang:?} step {step}: chunked ≠ whole-file scan"
                );
                for c in &chunks[1..] {
                    assert!(
                        ok.contains(&c.start),
                        "{lang:?} step {step}: cut at line {} is not a statement boundary of the whole file:\n{}⟦CUT⟧{}",
                        text[..c.start].matches('\n').count(),
                        &text[c.start.saturating_sub(300)..c.start],
                        &text[c.start..(c.start + 200).min(text.len())]
                    );
                }
            }
            assert!(
                checked > 90,
                "{lang:?}: only {checked} valid states checked"
            );
        }
    }

    #[test]
    fn a_large_file_is_opened_window_by_window_at_true_boundaries() {
        let block = "cat <<EOF\necho not a command\nEOF\nif true; then\n  echo 'multi\nline'\nfi\nls | \\\n  wc -l\n";
        // One construct spans a window edge whatever the window size: a long heredoc.
        let mut text = block.repeat(2000);
        text.push_str("cat <<EOF\n");
        text.push_str(&"data line\n".repeat(20_000));
        text.push_str("EOF\n");
        text.push_str(&block.repeat(2000));
        let mut parser = crate::script::new_parser(&tree_sitter_bash::LANGUAGE.into()).unwrap();
        let chunks = initial(&mut parser, &text, Language::Bash);
        assert!(
            chunks.len() > 50,
            "{} chunks, whole-file error: {:?}",
            chunks.len(),
            allowed_cuts(&text, Language::Bash).is_none()
        );
        assert_eq!(chunks.last().unwrap().range.end, text.len());
        let ok = allowed_cuts(&text, Language::Bash).expect("the file is valid");
        for c in &chunks[1..] {
            assert!(
                ok.contains(&c.range.start),
                "cut at {} is not a boundary",
                c.range.start
            );
        }
    }

    /// A publish of `diags` as tower-lsp-server serializes it (`Client::publish_diagnostics`).
    fn as_tower_lsp_writes(
        uri: &tower_lsp_server::lsp_types::Uri,
        diags: Vec<tower_lsp_server::lsp_types::Diagnostic>,
        version: i32,
    ) -> String {
        let params = tower_lsp_server::lsp_types::PublishDiagnosticsParams::new(
            uri.clone(),
            diags,
            Some(version),
        );
        let request = tower_lsp_server::jsonrpc::Request::build("textDocument/publishDiagnostics")
            .params(serde_json::to_value(params).unwrap())
            .finish();
        serde_json::to_string(&request).unwrap()
    }

    #[test]
    fn ready_made_diagnostics_equal_converted_ones_after_edits() {
        let mut p = pattern("p-py", &["python"], Severity::Major);
        // Text the JSON must escape.
        p.failure_description = "needs \"quotes\", a \\ and a\ttab, é, \u{1}".into();
        p.fix = Some(crate::engine::Fix {
            title: None,
            replace: "^python$".into(),
            with: "python3".into(),
            applied_if: None,
        });
        let idx = Arc::new(PatternIndex::build(
            vec![p, pattern("p-sed", &["sed"], Severity::Minor)],
            vec![],
            vec![],
        ));
        let mut text = String::new();
        for i in 0..600 {
            text.push_str(&format!("echo 😀{i}\npython x{i}\nsed -i y\n"));
        }
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            let mut doc = super::super::documents::Document::new(
                "file:///w/a.sh".parse().unwrap(),
                "shellscript".into(),
                1,
                text.clone(),
            );
            let mut an = Analyzer::new(naive);
            an.set_encoding(enc);
            for step in 0..3u32 {
                let a = an.analyze(
                    doc.text().to_string(),
                    step as i32,
                    Language::Bash,
                    doc.take_pending(),
                    None,
                    &idx,
                );
                assert!(a.pieces().is_some());
                let uri: tower_lsp_server::lsp_types::Uri = "file:///w/a%20b.sh".parse().unwrap();
                for (min, count) in [(Severity::Info, 1200), (Severity::Major, 600)] {
                    let converted = diagnostics::diagnostics(&a, enc, min);
                    assert_eq!(converted.len(), count);
                    // What tower-lsp-server writes for a publish of the converted list.
                    let want = as_tower_lsp_writes(&uri, converted, step as i32);
                    for publish_enc in [Encoding::Utf8, Encoding::Utf16] {
                        let body = diagnostics::publish_body(
                            &uri,
                            Some(&a),
                            Some(step as i32),
                            publish_enc,
                            min,
                        );
                        let got = String::from_utf8(body).unwrap();
                        if publish_enc == enc {
                            assert_eq!(got, want, "{enc:?} step {step} {min:?}");
                        } else {
                            // Prepared in the other encoding: converted on the spot.
                            assert_eq!(
                                got,
                                as_tower_lsp_writes(
                                    &uri,
                                    diagnostics::diagnostics(&a, publish_enc, min),
                                    step as i32,
                                )
                            );
                        }
                    }
                }
                // Hover's lookup agrees with the full list at every offset.
                let all = a.findings();
                for offset in (0..a.text.len()).step_by(7).chain([a.text.len()]) {
                    let want: Vec<Finding> = all
                        .iter()
                        .filter(|f| f.span.start <= offset && offset <= f.span.end)
                        .cloned()
                        .collect();
                    assert_eq!(a.findings_at(offset), want, "offset {offset}");
                }
                // Insert lines near the top: every later chunk moves.
                doc.apply_change(
                    &tower_lsp_server::lsp_types::TextDocumentContentChangeEvent {
                        range: Some(tower_lsp_server::lsp_types::Range::new(
                            tower_lsp_server::lsp_types::Position::new(3 + step, 0),
                            tower_lsp_server::lsp_types::Position::new(3 + step, 0),
                        )),
                        range_length: None,
                        text: "# 日本\necho inserted\n".into(),
                    },
                    enc,
                );
            }
        }
    }
}
