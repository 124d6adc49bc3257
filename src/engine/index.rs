//! The pattern index: everything the matcher needs, built once from the store's rows and shared
//! (`Arc`) by every scan.
//!
//! Building must stay cheap (≤ 50 ms for 10,000 patterns, DESIGN.md §10), so nothing is compiled
//! up front. Each triggering entry is filed under the literal its match must start with — the
//! command name for plain entries, the regex's required prefix otherwise — and its regex is
//! compiled the first time a command with that name is seen. `syntax:` entries and error
//! patterns are found through an Aho-Corasick automaton over their required literals.

use std::collections::{HashMap, HashSet};

// The command-name maps are looked up for every word of a scanned script and every command: a
// fast non-cryptographic hash (the keys come from the store, not from an attacker) pays there.
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::pattern::{Pattern, SYNTAX_PREFIX};
use super::target::{Client, Host, Target};
use crate::script::Language;

/// Compiled regexes may not grow past this; a pattern that needs more is skipped and named.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A pattern that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pattern_id: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pattern {}: {}", self.pattern_id, self.message)
    }
}

/// Checks that `re` is a regex forewarn can use, without compiling it.
pub fn check_regex(re: &str) -> Result<(), String> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(re)
        .map(|_| ())
        .map_err(|e| one_line(&e.to_string()))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn language_bit(lang: Language) -> u8 {
    1 << Language::ALL.iter().position(|&l| l == lang).unwrap_or(0)
}

/// A plain entry is a bare command name: it needs no regex at all.
pub(crate) fn is_plain_name(entry: &str) -> bool {
    !entry.is_empty()
        && entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How a triggering entry matches.
#[derive(Debug)]
enum EntryKind {
    /// The command name, compared whole.
    Name(String),
    /// A regex anchored at the start of the command text, compiled on first use; one slot for
    /// case-sensitive languages and one for case-insensitive ones.
    Command {
        source: String,
        compiled: [OnceLock<Option<Regex>>; 2],
        /// What a text must hold for the regex to match it, per slot, found on first use.
        needs: [OnceLock<Needs>; 2],
    },
    /// A `syntax:` regex, matched anywhere in code of the pattern's languages.
    Syntax {
        source: String,
        compiled: [OnceLock<Option<Regex>>; 2],
        /// A bit per language, in [`Language::ALL`] order (an index holds thousands).
        languages: u8,
    },
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) pattern: usize,
    kind: EntryKind,
}

/// A match of one triggering entry: byte offsets in the command text (or the code region).
pub(crate) type TextMatch = std::ops::Range<usize>;

impl Entry {
    /// Matches this entry against a command. The match must cover the whole command name, so
    /// that `python` never matches `python3` and `Get-LocalUser` never `Get-LocalUserInfo`.
    pub(crate) fn match_command(
        &self,
        name: &str,
        text: &str,
        lang: Language,
    ) -> Option<TextMatch> {
        let ci = lang.case_insensitive();
        match &self.kind {
            EntryKind::Name(n) => {
                let same = if ci {
                    n.eq_ignore_ascii_case(name) || n.to_lowercase() == name.to_lowercase()
                } else {
                    n == name
                };
                same.then_some(0..name.len())
            }
            EntryKind::Command {
                source,
                compiled,
                needs,
            } => {
                // Most commands an entry is tried on cannot match it (`tool1\s+--x` is tried on
                // `tool12`, and on `tool1` without `--x`): a literal test spares compiling it.
                if !needs[ci as usize]
                    .get_or_init(|| Needs::of(source, ci))
                    .admit(text)
                {
                    return None;
                }
                let re = compiled[ci as usize]
                    .get_or_init(|| compile(&format!("^(?:{source})"), ci))
                    .as_ref()?;
                let m = re.find(text)?;
                (m.end() >= name.len()).then(|| m.range())
            }
            EntryKind::Syntax { .. } => None,
        }
    }

    /// All matches of a `syntax:` entry in a region of code.
    pub(crate) fn syntax_matches(&self, code: &str, lang: Language) -> Vec<TextMatch> {
        let EntryKind::Syntax {
            source,
            compiled,
            languages,
        } = &self.kind
        else {
            return Vec::new();
        };
        if languages & language_bit(lang) == 0 {
            return Vec::new();
        }
        let ci = lang.case_insensitive();
        match compiled[ci as usize].get_or_init(|| compile(source, ci)) {
            Some(re) => re.find_iter(code).map(|m| m.range()).collect(),
            None => Vec::new(),
        }
    }
}

/// Literals a command text must hold for a command regex to match it: every match starts at
/// the start of the text with one of `prefixes` and ends with one of `suffixes`. An empty list
/// asks nothing (there is no small finite set). Prefix classes are expanded further than for the
/// index (`\s` is 25 characters), so that `tool1\s+` tells `tool1 x` from `tool12 x`. Found from the
/// regex as the slot compiles it (case-insensitively: with every case variant).
#[derive(Debug, Default)]
struct Needs {
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Needs {
    fn of(source: &str, case_insensitive: bool) -> Needs {
        let Ok(hir) = regex_syntax::ParserBuilder::new()
            .case_insensitive(case_insensitive)
            .build()
            .parse(source)
        else {
            return Needs::default();
        };
        let literals = |kind: ExtractKind, class_limit: usize| -> Vec<String> {
            let seq = Extractor::new()
                .kind(kind)
                .limit_class(class_limit)
                .limit_total(64)
                .extract(&hir);
            let Some(lits) = seq.literals() else {
                return Vec::new();
            };
            // An empty literal (the regex may match nothing there) or a cut character: no test.
            lits.iter()
                .map(|l| {
                    std::str::from_utf8(l.as_bytes())
                        .ok()
                        .filter(|s| !s.is_empty())
                })
                .collect::<Option<Vec<&str>>>()
                .map_or_else(Vec::new, |v| v.into_iter().map(str::to_string).collect())
        };
        // Only the prefix needs the expanded classes (the end of the name); a suffix is worth
        // it only as a plain literal (`--opt1`), and expanding costs more than the test saves.
        Needs {
            prefixes: literals(ExtractKind::Prefix, 32),
            suffixes: literals(ExtractKind::Suffix, 4),
        }
    }

    fn admit(&self, text: &str) -> bool {
        (self.prefixes.is_empty() || self.prefixes.iter().any(|p| text.starts_with(p.as_str())))
            && (self.suffixes.is_empty() || self.suffixes.iter().any(|s| text.contains(s.as_str())))
    }
}

pub(crate) fn compile(source: &str, case_insensitive: bool) -> Option<Regex> {
    match RegexBuilder::new(source)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(re) => Some(re),
        Err(e) => {
            tracing::warn!(
                "regex `{source}` cannot be compiled: {}",
                one_line(&e.to_string())
            );
            None
        }
    }
}

/// Where an entry is filed in the index.
enum Keys {
    Name(String),
    Command(Option<Vec<(String, bool)>>),
    Syntax(Option<Vec<(String, bool)>>),
}

/// Parses `re`: an error if it is not a valid regex, else its prefix literals.
fn literals_of(re: &str) -> Result<Option<Vec<(String, bool)>>, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(re)
        .map_err(|e| one_line(&e.to_string()))?;
    Ok(literals_of_hir(&hir))
}

/// The literals one of which must begin every match of `re`, lowercased, each with whether it
/// is a whole match; `None` when there is no such finite set (the entry is then tried everywhere).
pub(crate) fn prefix_literals(re: &str) -> Option<Vec<(String, bool)>> {
    literals_of(re).ok().flatten()
}

/// Literals one of which occurs in every match of `re`, wherever: its prefix literals, else
/// its suffix ones, else the prefix literals of the longest-keyed tail of its sequence
/// (`\s-(not)?in\s` starts and ends with a blank of any kind, but holds `-in` or `-notin`).
pub(crate) fn required_literals(re: &str) -> Option<Vec<(String, bool)>> {
    if let Some(lits) = prefix_literals(re) {
        return Some(lits);
    }
    let hir = regex_syntax::ParserBuilder::new().build().parse(re).ok()?;
    if let Some(lits) = extract(&hir, ExtractKind::Suffix, 8) {
        return Some(lits);
    }
    let regex_syntax::hir::HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    (1..parts.len())
        .filter_map(|k| literals_of_hir(&regex_syntax::hir::Hir::concat(parts[k..].to_vec())))
        .max_by_key(|lits| lits.iter().map(|(l, _)| l.len()).min().unwrap_or(0))
}

fn literals_of_hir(hir: &regex_syntax::hir::Hir) -> Option<Vec<(String, bool)>> {
    // Small classes only: `\d` or `[a-z]` would multiply the literals (and the automaton) tenfold
    // for no selectivity; a short common prefix filters as well as the full expansion.
    extract(hir, ExtractKind::Prefix, 4)
}

/// The prefix or suffix literals of `hir` (classes up to `class_limit` expanded), lowercased,
/// each with whether it is a whole match; `None` when there is no finite, non-empty set.
fn extract(
    hir: &regex_syntax::hir::Hir,
    kind: ExtractKind,
    class_limit: usize,
) -> Option<Vec<(String, bool)>> {
    let prefix = matches!(kind, ExtractKind::Prefix);
    let mut seq = Extractor::new()
        .kind(kind)
        .limit_class(class_limit)
        .limit_total(64)
        .extract(hir);
    if prefix {
        seq.keep_first_bytes(32);
    } else {
        seq.keep_last_bytes(32);
    }
    seq.dedup();
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    lits.iter()
        .map(|l| {
            std::str::from_utf8(l.as_bytes())
                .ok()
                .map(|s| (s.to_lowercase(), l.is_exact()))
        })
        .collect()
}

/// How an error pattern recognises output.
#[derive(Debug)]
enum ErrorMatcher {
    Regex {
        source: String,
        compiled: OnceLock<Option<Regex>>,
    },
    /// Not a valid regex: every keyword must appear, case-insensitively.
    Keywords(Vec<String>),
}

#[derive(Debug)]
struct ErrorEntry {
    pattern: usize,
    matcher: ErrorMatcher,
}

/// Error patterns are only needed by `explain` and the agents' post-command hooks, so their
/// automaton is built on first use.
#[derive(Debug, Default)]
struct ErrorIndex {
    entries: Vec<ErrorEntry>,
    auto: Automaton,
}

/// Literal-keyed lookup for a set of entries: for each automaton pattern, the entries that
/// literal stands for.
#[derive(Debug, Default)]
struct Automaton {
    ac: Option<AhoCorasick>,
    ac_entries: Vec<Vec<usize>>,
    unkeyed: Vec<usize>,
}

impl Automaton {
    fn build(keyed: HashMap<String, Vec<usize>>, unkeyed: Vec<usize>) -> Automaton {
        let (lits, ac_entries): (Vec<String>, Vec<Vec<usize>>) = keyed.into_iter().unzip();
        let ac = (!lits.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&lits)
                    .ok()
            })
            .flatten();
        Automaton {
            ac,
            ac_entries,
            unkeyed,
        }
    }

    /// Entries one of whose literals occurs in `hay` (plus the unkeyed ones), deduplicated.
    fn candidates(&self, hay: &str, seen: &mut [bool]) -> Vec<usize> {
        let mut out = self.unkeyed.clone();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(hay) {
                for &e in &self.ac_entries[m.pattern().as_usize()] {
                    if !seen[e] {
                        seen[e] = true;
                        out.push(e);
                    }
                }
            }
        }
        for &e in &out {
            seen[e] = false;
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Where a literal must stand for its text to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    /// A whole command name: no name character on either side.
    Word,
    /// The start of a command name (a regex's required prefix).
    Start,
    /// Anywhere (a `syntax:` literal).
    Anywhere,
}

/// The literals of a prefilter the index's own maps do not answer: names and prefixes with a
/// character that never stands in a command word, `syntax:` literals; and the names
/// operations and embedded shells add. Built on first use, per language.
#[derive(Debug)]
struct PrefilterParts {
    ac: Option<AhoCorasick>,
    bounds: Vec<Bound>,
    words: FxHashSet<String>,
    /// The words of `words` that are PowerShell aliases (`curl` is Invoke-WebRequest in Windows
    /// PowerShell): reported as [`Hit::Other`] even when also an operation command.
    aliases: FxHashSet<String>,
    starts: WordStarts,
}

/// Finds the places in a script where some pattern may match: every word that is a command
/// name or starts with a required prefix of the index, every operation command, and every
/// `syntax:` literal. Plain names are looked up in the index's maps word by word, so nothing
/// the size of the index is built for it.
pub(crate) struct Prefilter<'a> {
    index: &'a PatternIndex,
    parts: &'a PrefilterParts,
}

/// Characters of a command word; a literal next to one is part of a longer name.
fn continues_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// The byte ranges of the maximal runs of `is_name` bytes in `b`: the words a prefilter looks
/// up (here and in the store's pattern cache, each with its own notion of a name byte).
pub(crate) fn word_ranges<'b>(
    b: &'b [u8],
    is_name: impl Fn(u8) -> bool + 'b,
) -> impl Iterator<Item = std::ops::Range<usize>> + 'b {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !is_name(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && is_name(b[i]) {
            i += 1;
        }
        (start < i).then_some(start..i)
    })
}

/// Literal bytes up to which the prefilter's automaton is a DFA (about 1 MB of tables).
const MAX_DFA_LITERAL_BYTES: usize = 16 * 1024;

impl PrefilterParts {
    /// `keys` are the index's name and prefix keys, looked up word by word.
    fn build<'a>(
        odd: impl Iterator<Item = (&'a str, Bound)>,
        words: impl Iterator<Item = &'a str>,
        keys: impl Iterator<Item = &'a str>,
    ) -> Option<PrefilterParts> {
        let words: FxHashSet<String> = words.map(str::to_ascii_lowercase).collect();
        let mut starts = WordStarts::default();
        for key in keys.chain(crate::script::CHANGES_HOST.iter().copied()) {
            starts.insert(key);
        }
        for word in &words {
            starts.insert(word);
        }
        let mut texts = Vec::new();
        let mut bounds = Vec::new();
        for (text, bound) in odd {
            // ASCII case folding would miss another case of a non-ASCII name.
            if text.is_empty() || !text.is_ascii() {
                return None;
            }
            texts.push(text);
            bounds.push(bound);
        }
        // A DFA is the fastest to run but costs about 60 bytes per literal byte: 20,000 odd
        // names would hold 23 MB per language (the builder's own choice, 2.5 MB). Above a
        // store's worth of literals the builder chooses.
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        let kind = (bytes <= MAX_DFA_LITERAL_BYTES).then_some(aho_corasick::AhoCorasickKind::DFA);
        let ac = match texts.is_empty() {
            true => None,
            false => Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .prefilter(false)
                    .build(&texts)
                    .ok()?,
            ),
        };
        Some(PrefilterParts {
            ac,
            bounds,
            words,
            aliases: FxHashSet::default(),
            starts,
        })
    }
}

/// The first two bytes (ASCII-lowercased; 0 past a one-byte word) of every key a word may be
/// looked up under, as a bit set: most words of a script start no key, and are passed over
/// without lowercasing or hashing them.
struct WordStarts(Box<[u64]>);

impl Default for WordStarts {
    fn default() -> WordStarts {
        WordStarts(vec![0; 1 << 10].into_boxed_slice())
    }
}

impl std::fmt::Debug for WordStarts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WordStarts")
    }
}

impl WordStarts {
    fn insert(&mut self, key: &str) {
        let b = key.as_bytes();
        let Some(&first) = b.first() else { return };
        match b.get(1) {
            Some(&second) => self.set(first, second),
            // A one-byte key starts every word that starts with its byte.
            None => (0..=255).for_each(|second| self.set(first, second)),
        }
    }

    fn set(&mut self, first: u8, second: u8) {
        let bit = Self::bit(first, second);
        self.0[bit / 64] |= 1 << (bit % 64);
    }

    fn bit(first: u8, second: u8) -> usize {
        (first.to_ascii_lowercase() as usize) << 8 | second.to_ascii_lowercase() as usize
    }

    /// Whether some key may start the word `w` (not empty).
    fn may_start(&self, w: &[u8]) -> bool {
        let bit = Self::bit(w[0], w.get(1).copied().unwrap_or(0));
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// What a prefilter hit stands for, so that a caller who knows the target can tell whether any
/// pattern behind it applies there.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hit<'a> {
    /// A command name or a required prefix: the triggering entries filed under it.
    Entries(&'a [usize]),
    /// A command some operation classes name (lowercased).
    Operation(&'a str),
    /// A command that may run code on another system ([`crate::script::CHANGES_HOST`]): what it runs
    /// is checked against that system, whatever the file's target.
    Remote,
    /// Anything else (`syntax:` literals, odd names, embedded shells): may matter anywhere.
    Other,
}

impl Prefilter<'_> {
    /// Calls `hit` with the byte range of every occurrence of a literal that stands where its
    /// kind requires, and what it stands for.
    pub(crate) fn hits(&self, text: &str, mut hit: impl FnMut(std::ops::Range<usize>, Hit<'_>)) {
        self.word_hits(text, &mut hit);
        self.literal_hits(text, |m| hit(m, Hit::Other));
    }

    /// The hits [`Prefilter::hits`] finds by looking words up in the index's maps.
    pub(crate) fn word_hits(
        &self,
        text: &str,
        mut hit: impl FnMut(std::ops::Range<usize>, Hit<'_>),
    ) {
        let b = text.as_bytes();
        let index = self.index;
        let mut word = String::new();
        for std::ops::Range { start, end: i } in word_ranges(b, continues_name) {
            if !self.parts.starts.may_start(&b[start..i]) {
                continue;
            }
            word.clear();
            word.push_str(&text[start..i]);
            word.make_ascii_lowercase();
            // Every reading of the word is reported: which patterns stand behind it matters.
            if crate::script::CHANGES_HOST.contains(&word.as_str()) {
                hit(start..i, Hit::Remote);
            }
            if let Some(entries) = index.by_name.get(&word) {
                hit(start..i, Hit::Entries(entries));
            }
            if self.parts.words.contains(&word) {
                let operation = super::operations::is_command_name(&word);
                if operation {
                    hit(start..i, Hit::Operation(&word));
                }
                if !operation || self.parts.aliases.contains(&word) {
                    hit(start..i, Hit::Other);
                }
            }
            for &len in &index.prefix_lens {
                if len > word.len() {
                    break;
                }
                if let Some(entries) = index.by_prefix.get(&word[..len]) {
                    hit(start..start + len, Hit::Entries(entries));
                }
            }
        }
    }

    /// The hits [`Prefilter::hits`] finds with its automaton (odd names, `syntax:` literals):
    /// all of them [`Hit::Other`].
    pub(crate) fn literal_hits(&self, text: &str, mut hit: impl FnMut(std::ops::Range<usize>)) {
        let Some(ac) = &self.parts.ac else {
            return;
        };
        let b = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let bound = self.parts.bounds[m.pattern().as_usize()];
            let starts =
                bound == Bound::Anywhere || m.start() == 0 || !continues_name(b[m.start() - 1]);
            let ends = bound != Bound::Word || b.get(m.end()).is_none_or(|&c| !continues_name(c));
            if starts && ends {
                hit(m.range());
            }
        }
    }
}

/// Every usable pattern, the hosts and clients they refer to, and the lookup structures.
#[derive(Debug, Default)]
pub struct PatternIndex {
    patterns: Vec<Pattern>,
    /// [`Pattern::is_missing_command`] of each pattern, decided once here.
    missing_command: Vec<bool>,
    by_id: HashMap<String, usize>,
    hosts: Vec<Host>,
    clients: Vec<Client>,
    /// Every system tag a pattern or a host names, and the documented vocabulary, lowercased: a
    /// target name that is neither a host nor one of these is a typo or an unknown host.
    known_tags: HashSet<String>,
    problems: Vec<Problem>,
    entries: Vec<Entry>,
    /// Lowercased command name → entries whose match is that whole name.
    by_name: FxHashMap<String, Vec<usize>>,
    /// Lowercased literal → entries whose command name starts with it.
    by_prefix: FxHashMap<String, Vec<usize>>,
    /// Byte lengths present in `by_prefix`, so a lookup tries only those.
    prefix_lens: Vec<usize>,
    /// Command entries without a usable literal: tried on every command.
    unkeyed: Vec<usize>,
    syntax: Automaton,
    /// Operation name → patterns triggered by that class of command.
    by_operation: HashMap<String, Vec<usize>>,
    errors: OnceLock<ErrorIndex>,
    /// Per language (in [`Language::ALL`] order), built on first use.
    prefilters: [OnceLock<Option<PrefilterParts>>; 3],
    /// Each pattern's place in id order, built on first use (see [`PatternIndex::id_rank`]).
    id_ranks: OnceLock<Vec<u32>>,
    /// The patterns whose fix says when it is already applied (`fix.applied_if`), in pattern
    /// order.
    applied_ifs: Vec<super::applied::AppliedIf>,
}

impl PatternIndex {
    /// Builds the index. Patterns that cannot work (a regex that does not parse, an empty
    /// signature) are left out and listed in [`PatternIndex::problems`]; all others work.
    pub fn build(patterns: Vec<Pattern>, hosts: Vec<Host>, clients: Vec<Client>) -> PatternIndex {
        let known_tags = hosts
            .iter()
            .flat_map(|h| h.system_tags.iter().map(|t| t.trim().to_lowercase()))
            .chain(super::target::SYSTEM_TAGS.iter().map(|t| t.to_string()))
            .collect();
        let mut index = PatternIndex {
            known_tags,
            hosts,
            clients,
            ..PatternIndex::default()
        };
        let mut syntax_keyed: HashMap<String, Vec<usize>> = HashMap::new();
        let mut syntax_unkeyed = Vec::new();
        for pattern in patterns {
            let mut problems = pattern.field_problems();
            // Parse every regex once: the parse both validates it and yields its literals.
            let mut keys: Vec<(EntryKind, Keys)> =
                Vec::with_capacity(pattern.triggering_commands.len());
            for entry in &pattern.triggering_commands {
                let (re, syntax) = match entry.strip_prefix(SYNTAX_PREFIX) {
                    Some(re) => (re, true),
                    None => (entry.trim(), false),
                };
                if re.trim().is_empty() {
                    problems.push(format!("triggering_commands entry `{entry}` is empty"));
                    continue;
                }
                if !syntax && is_plain_name(re) {
                    keys.push((
                        EntryKind::Name(re.to_string()),
                        Keys::Name(re.to_lowercase()),
                    ));
                    continue;
                }
                let lits = match literals_of(re) {
                    Ok(l) => l,
                    Err(e) => {
                        problems.push(format!(
                            "triggering_commands entry `{entry}` is not a valid regex: {e}"
                        ));
                        continue;
                    }
                };
                let compiled = Default::default();
                let source = re.to_string();
                if syntax {
                    let languages = super::target::construct_languages(&pattern.affected_systems)
                        .into_iter()
                        .fold(0, |bits, l| bits | language_bit(l));
                    let kind = EntryKind::Syntax {
                        source,
                        compiled,
                        languages,
                    };
                    keys.push((kind, Keys::Syntax(lits)));
                } else {
                    let kind = EntryKind::Command {
                        source,
                        compiled,
                        needs: Default::default(),
                    };
                    keys.push((kind, Keys::Command(lits)));
                }
            }
            if !problems.is_empty() {
                index.problems.push(Problem {
                    pattern_id: pattern.id.clone(),
                    message: problems.join("; "),
                });
                continue;
            }
            let pi = index.patterns.len();
            for (kind, key) in keys {
                let ei = index.entries.len();
                match key {
                    Keys::Name(name) => index.by_name.entry(name).or_default().push(ei),
                    Keys::Syntax(Some(lits)) => {
                        for (lit, _) in lits {
                            syntax_keyed.entry(lit).or_default().push(ei);
                        }
                    }
                    Keys::Syntax(None) => syntax_unkeyed.push(ei),
                    Keys::Command(Some(lits)) => {
                        for (lit, exact) in lits {
                            // The name ends at the first blank: a literal that reaches one (or
                            // the end of an exact match) gives the whole name.
                            match lit.find(char::is_whitespace) {
                                Some(i) => index
                                    .by_name
                                    .entry(lit[..i].to_string())
                                    .or_default()
                                    .push(ei),
                                None if exact => index.by_name.entry(lit).or_default().push(ei),
                                None => index.by_prefix.entry(lit).or_default().push(ei),
                            }
                        }
                    }
                    Keys::Command(None) => index.unkeyed.push(ei),
                }
                index.entries.push(Entry { pattern: pi, kind });
            }
            for op in &pattern.triggering_operations {
                index
                    .by_operation
                    .entry(op.trim().to_lowercase())
                    .or_default()
                    .push(pi);
            }
            index.known_tags.extend(
                pattern
                    .affected_systems
                    .iter()
                    .map(|t| t.trim().to_lowercase()),
            );
            index.by_id.insert(pattern.id.clone(), pi);
            index.missing_command.push(pattern.is_missing_command());
            if let Some(re) = pattern.fix.as_ref().and_then(|f| f.applied_if.as_deref()) {
                index
                    .applied_ifs
                    .push(super::applied::AppliedIf::new(pi, re));
            }
            index.patterns.push(pattern);
        }
        for list in index
            .by_name
            .values_mut()
            .chain(index.by_prefix.values_mut())
        {
            list.dedup();
        }
        let mut lens: Vec<usize> = index.by_prefix.keys().map(String::len).collect();
        lens.sort_unstable();
        lens.dedup();
        index.prefix_lens = lens;
        index.syntax = Automaton::build(syntax_keyed, syntax_unkeyed);
        index
    }

    /// Every usable pattern, active or not.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns that were left out, and why.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The patterns whose fix says when it is already applied.
    pub(crate) fn applied_ifs(&self) -> &[super::applied::AppliedIf] {
        &self.applied_ifs
    }

    /// Whether pattern `i`'s fix says when it is already applied.
    pub(crate) fn has_applied_if(&self, i: usize) -> bool {
        self.applied_ifs
            .binary_search_by_key(&i, |a| a.pattern)
            .is_ok()
    }

    /// A pattern by its full id.
    pub fn get(&self, id: &str) -> Option<&Pattern> {
        self.by_id.get(id).map(|&i| &self.patterns[i])
    }

    pub(crate) fn pattern(&self, i: usize) -> &Pattern {
        &self.patterns[i]
    }

    /// Pattern `i`'s place among the patterns ordered by id: findings at one place are ordered
    /// by id, and comparing ranks is cheaper than comparing ids tens of thousands of times.
    pub(crate) fn id_rank(&self, i: usize) -> u32 {
        let ranks = self.id_ranks.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.patterns.len()).collect();
            order.sort_unstable_by(|&a, &b| self.patterns[a].id.cmp(&self.patterns[b].id));
            let mut ranks = vec![0; order.len()];
            for (rank, &pi) in order.iter().enumerate() {
                ranks[pi] = rank as u32;
            }
            ranks
        });
        ranks.get(i).copied().unwrap_or(u32::MAX)
    }

    /// Whether pattern `i` predicts only that its command is missing ([`Pattern::is_missing_command`]).
    pub(crate) fn is_missing_command(&self, i: usize) -> bool {
        self.missing_command.get(i).copied().unwrap_or(false)
    }

    /// Resolves a target name against this index's hosts (DESIGN.md §4). A name that is not a
    /// host is taken as a tag, known or not; prefer [`PatternIndex::target`].
    pub fn resolve_target(&self, name: &str) -> Target {
        Target::resolve(name, &self.hosts)
    }

    /// The target `name` stands for: a known host (by hostname or alias), or a system tag some
    /// pattern or host uses. `None` for anything else (a typo, a host the store does not know),
    /// which callers treat as an unknown target rather than as a tag nothing applies to — so a
    /// misspelt target never silently turns every scoped pattern off.
    pub fn target(&self, name: &str) -> Option<Target> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let known = self.hosts.iter().any(|h| h.is_named(name))
            || self.known_tags.contains(&name.to_lowercase());
        known.then(|| Target::resolve(name, &self.hosts))
    }

    /// The command entries that may match a command called `name`.
    pub(crate) fn command_candidates(&self, name: &str, out: &mut Vec<usize>) {
        out.clear();
        // Most names are lowercase already: no copy for them (this runs for every command).
        let lower: std::borrow::Cow<str> = if name
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            name.to_lowercase().into()
        } else {
            name.into()
        };
        if let Some(list) = self.by_name.get(lower.as_ref()) {
            out.extend_from_slice(list);
        }
        for &len in &self.prefix_lens {
            if len > lower.len() {
                break;
            }
            if let Some(list) = lower.get(..len).and_then(|p| self.by_prefix.get(p)) {
                out.extend_from_slice(list);
            }
        }
        out.extend_from_slice(&self.unkeyed);
    }

    pub(crate) fn entry(&self, i: usize) -> &Entry {
        &self.entries[i]
    }

    /// The `syntax:` entries that may match somewhere in `code`.
    pub(crate) fn syntax_candidates(&self, code: &str, seen: &mut Vec<bool>) -> Vec<usize> {
        if self.syntax.ac.is_none() && self.syntax.unkeyed.is_empty() {
            return Vec::new();
        }
        seen.resize(self.entries.len(), false);
        self.syntax.candidates(code, seen)
    }

    /// How many command regexes have been compiled (for tests of laziness).
    #[cfg(test)]
    pub(crate) fn compiled_command_regexes(&self) -> usize {
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Command { compiled, .. } => Some(compiled),
                _ => None,
            })
            .flatten()
            .filter(|c| c.get().is_some())
            .count()
    }

    /// Patterns triggered by an operation class.
    pub(crate) fn operation_patterns(&self, op: &str) -> &[usize] {
        self.by_operation.get(op).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn has_operations(&self) -> bool {
        !self.by_operation.is_empty()
    }

    /// The literals every finding in a script written in `lang` contains, built on first use;
    /// `None` when some entry has none (it may match anywhere, so nothing can be skipped).
    pub(crate) fn prefilter(&self, lang: Language) -> Option<Prefilter<'_>> {
        let slot = Language::ALL.iter().position(|&l| l == lang)?;
        let parts = self.prefilters[slot]
            .get_or_init(|| self.build_prefilter(lang))
            .as_ref()?;
        Some(Prefilter { index: self, parts })
    }

    fn build_prefilter(&self, lang: Language) -> Option<PrefilterParts> {
        if !self.unkeyed.is_empty() {
            return None;
        }
        let mut literals: Vec<(String, Bound)> = Vec::new();
        for entry in &self.entries {
            if let EntryKind::Syntax {
                source, languages, ..
            } = &entry.kind
            {
                if languages & language_bit(lang) != 0 {
                    for (lit, _) in required_literals(source)? {
                        literals.push((lit, Bound::Anywhere));
                    }
                }
            }
        }
        let operations: Vec<&str> = match self.has_operations() {
            true => super::operations::command_names().collect(),
            false => Vec::new(),
        };
        // PowerShell run from the script (`pwsh -c 'gwmi …'`) may use aliases or be encoded.
        let shells = ["pwsh", "powershell"];
        let mut words: Vec<&str> = operations.into_iter().chain(shells).collect();
        let mut aliases = FxHashSet::default();
        if lang == Language::PowerShell {
            // `gwmi` runs Get-WmiObject: an alias stands for its cmdlet's names.
            let mut found = Vec::new();
            for &(alias, cmdlet) in crate::script::powershell::all_aliases() {
                self.command_candidates(cmdlet, &mut found);
                if !found.is_empty() || words.iter().any(|w| w.eq_ignore_ascii_case(cmdlet)) {
                    words.push(alias);
                    aliases.insert(alias.to_ascii_lowercase());
                }
            }
        }
        // Names and prefixes made of word characters are found word by word in the index's
        // own maps; the others (`python3.11`, `%`) need the automaton.
        let odd = |l: &&String| !l.bytes().all(continues_name);
        let names = self
            .by_name
            .keys()
            .filter(odd)
            .map(|l| (l.as_str(), Bound::Word));
        let prefixes = self
            .by_prefix
            .keys()
            .filter(odd)
            .map(|l| (l.as_str(), Bound::Start));
        let words_odd = words
            .iter()
            .filter(|w| !w.bytes().all(continues_name))
            .map(|w| (*w, Bound::Word));
        let syntax = literals.iter().map(|(l, b)| (l.as_str(), *b));
        if self
            .by_name
            .keys()
            .chain(self.by_prefix.keys())
            .any(|k| !k.is_ascii())
        {
            return None;
        }
        let mut parts = PrefilterParts::build(
            names.chain(prefixes).chain(words_odd).chain(syntax),
            words.iter().copied(),
            self.by_name
                .keys()
                .chain(self.by_prefix.keys())
                .map(String::as_str),
        )?;
        parts.aliases = aliases;
        Some(parts)
    }

    /// Patterns whose error_pattern matches somewhere in `text`, with the matched byte range.
    pub(crate) fn error_matches(&self, text: &str) -> Vec<(usize, std::ops::Range<usize>)> {
        let errors = self.errors.get_or_init(|| self.build_error_index());
        let mut seen = vec![false; errors.entries.len()];
        let mut out = Vec::new();
        let lower = text.to_lowercase();
        for ei in errors.auto.candidates(text, &mut seen) {
            let entry = &errors.entries[ei];
            let found = match &entry.matcher {
                ErrorMatcher::Regex { source, compiled } => compiled
                    .get_or_init(|| compile(source, true))
                    .as_ref()
                    .and_then(|re| re.find(text))
                    .map(|m| m.range()),
                ErrorMatcher::Keywords(words) => {
                    let mut first: Option<std::ops::Range<usize>> = None;
                    let mut all = true;
                    for w in words {
                        match lower.find(w.as_str()) {
                            Some(i) if lower.len() == text.len() => {
                                let r = i..i + w.len();
                                first = Some(match first {
                                    Some(f) => f.start.min(r.start)..f.end.max(r.end),
                                    None => r,
                                });
                            }
                            Some(_) => first = first.or(Some(0..text.len())),
                            None => {
                                all = false;
                                break;
                            }
                        }
                    }
                    if all {
                        first
                    } else {
                        None
                    }
                }
            };
            if let Some(range) = found {
                out.push((entry.pattern, range));
            }
        }
        out
    }

    fn build_error_index(&self) -> ErrorIndex {
        let mut keyed: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unkeyed = Vec::new();
        let mut entries = Vec::new();
        for (pi, p) in self.patterns.iter().enumerate() {
            let Some(ep) = p
                .error_pattern
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let ei = entries.len();
            if check_regex(ep).is_ok() {
                match prefix_literals(ep) {
                    Some(lits) => lits
                        .into_iter()
                        .for_each(|(l, _)| keyed.entry(l).or_default().push(ei)),
                    None => unkeyed.push(ei),
                }
                entries.push(ErrorEntry {
                    pattern: pi,
                    matcher: ErrorMatcher::Regex {
                        source: ep.to_string(),
                        compiled: OnceLock::new(),
                    },
                });
            } else {
                let words: Vec<String> = ep.split_whitespace().map(str::to_lowercase).collect();
                // Any one keyword is a required literal; the longest is the most selective.
                let key = words
                    .iter()
                    .max_by_key(|w| w.len())
                    .cloned()
                    .unwrap_or_default();
                keyed.entry(key).or_default().push(ei);
                entries.push(ErrorEntry {
                    pattern: pi,
                    matcher: ErrorMatcher::Keywords(words),
                });
            }
        }
        ErrorIndex {
            entries,
            auto: Automaton::build(keyed, unkeyed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_store_of_literals_gets_no_dfa_sixty_times_their_size() {
        let odd = |n: usize| {
            let patterns = (0..n)
                .map(|i| Pattern {
                    triggering_commands: vec![format!("syntax:@@op{i}@@{}", i * 7919 % 100_003)],
                    root_cause: "c".into(),
                    recommended_solution: "s".into(),
                    ..Pattern::new(
                        format!("p{i}"),
                        super::super::PatternType::CommandCompatibility,
                        "p",
                        "d",
                    )
                })
                .collect();
            let idx = PatternIndex::build(patterns, vec![], vec![]);
            let f = idx.prefilter(Language::Bash).expect("a prefilter");
            let ac = f.parts.ac.as_ref().expect("an automaton");
            let hits = |text: &str| ac.find_overlapping_iter(text).count();
            (
                ac.kind(),
                ac.memory_usage(),
                hits("@@op3@@23757 @@OP10@@79190 @@op1@@"),
            )
        };
        // A library's worth: the fastest automaton, small.
        let (kind, bytes, hits) = odd(100);
        assert_eq!(kind, aho_corasick::AhoCorasickKind::DFA);
        assert!(bytes < 1 << 20, "{bytes}");
        assert_eq!(hits, 2);
        // 20,000 literals: 23 MB as a DFA.
        let (kind, bytes, hits) = odd(20_000);
        assert_ne!(kind, aho_corasick::AhoCorasickKind::DFA);
        assert!(bytes < 4 << 20, "{bytes}");
        assert_eq!(hits, 2);
    }

    #[test]
    fn word_ranges_are_the_maximal_runs_of_name_bytes() {
        fn words(t: &str) -> Vec<&str> {
            word_ranges(t.as_bytes(), continues_name)
                .map(|r| &t[r])
                .collect()
        }
        assert_eq!(
            words("sudo -u x  tool-1;x=$(a)"),
            ["sudo", "-u", "x", "tool-1", "x", "a"]
        );
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words(" ; "), Vec::<&str>::new());
        assert_eq!(words("ab"), ["ab"]);
    }

    #[test]
    fn literals_key_entries() {
        assert_eq!(
            prefix_literals("sed -i"),
            Some(vec![("sed -i".into(), true)])
        );
        let l = prefix_literals(r"apt-get\s+install").unwrap();
        assert_eq!(l, vec![("apt-get".into(), false)]);
        assert_eq!(prefix_literals(r".*foo"), None);
    }

    #[test]
    fn a_command_regex_compiles_only_for_texts_that_hold_its_literals() {
        let p = Pattern {
            triggering_commands: vec![r"tool1\s+(-[a-z]+\s+)*--opt1".into()],
            root_cause: "c".into(),
            recommended_solution: "s".into(),
            ..Pattern::new(
                "p",
                super::super::PatternType::CommandCompatibility,
                "p",
                "d",
            )
        };
        let index = PatternIndex::build(vec![p], vec![], vec![]);
        let mut candidates = Vec::new();
        let try_on = |name: &str, text: &str, lang: Language, out: &mut Vec<usize>| {
            index.command_candidates(name, out);
            out.iter()
                .find_map(|&e| index.entry(e).match_command(name, text, lang))
        };
        let compiled = |slot: usize| match &index.entry(0).kind {
            EntryKind::Command { compiled, .. } => compiled[slot].get().is_some(),
            _ => unreachable!(),
        };
        // `tool12` is a candidate (the name may continue the prefix) but cannot match, nor can
        // `tool1` without `--opt1`: neither compiles the regex.
        assert_eq!(
            try_on("tool12", "tool12 --opt1", Language::Bash, &mut candidates),
            None
        );
        assert_eq!(
            try_on("tool1", "tool1 --force", Language::Bash, &mut candidates),
            None
        );
        assert!(!compiled(0));
        assert_eq!(
            try_on(
                "tool1",
                "tool1 -q --opt1 f",
                Language::Bash,
                &mut candidates
            ),
            Some(0..15)
        );
        assert!(compiled(0));
        // Case-insensitive languages test every case variant.
        assert_eq!(
            try_on(
                "TOOL1",
                "TOOL1 --OPT1",
                Language::PowerShell,
                &mut candidates
            ),
            Some(0..12)
        );
        assert_eq!(
            try_on(
                "Tool1",
                "Tool1 --Opt2",
                Language::PowerShell,
                &mut candidates
            ),
            None
        );
    }

    #[test]
    fn required_literals_come_from_inside_when_the_ends_have_none() {
        let lits = |re: &str| {
            let mut l: Vec<String> = required_literals(re)
                .unwrap_or_default()
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            l.sort();
            l
        };
        assert_eq!(lits(r"\s-(not)?in\s"), ["-in", "-notin"]);
        assert_eq!(lits(r"[\w\)\]]\s+\?\s"), ["?"]);
        // Also at a code region's start (right after a string): still keyed by the operator.
        assert_eq!(lits(r"(?:^|\s)-(not)?in\b"), ["-in", "-notin"]);
        assert_eq!(lits(r"(?:^[ \t]*|[\w\)\]]\s+)\?(\s|$)"), ["?"]);
        assert_eq!(lits(r"\$using:\w+"), ["$using:"]);
        assert!(required_literals(r"\s+\w+").is_none());
    }

    #[test]
    fn plain_names() {
        assert!(is_plain_name("Get-LocalUser"));
        assert!(!is_plain_name("python3.11"));
        assert!(!is_plain_name("sed -i"));
    }
}
