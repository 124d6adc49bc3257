//! Fixes already in place: a pattern's `fix.applied_if` regex recognises its fix in the script
//! (the TLS 1.2 patterns' `[Net.ServicePointManager]::SecurityProtocol = … Tls12`), and a
//! command after it, in the same session, is no finding of that pattern.
//!
//! A match counts only where it *starts* in code (a [`CodeRegion`]: not a comment or a data
//! string; it may run on through a string on its line, `SecurityProtocol = 'Tls12'`). What it
//! covers depends on where the code runs:
//! - code that runs where the file runs (no host) covers every later command that runs there;
//! - code sent to a host (`Invoke-Command -ComputerName X { … }`, `ssh X '…'`) runs in a fresh
//!   session there: it covers only the later commands sent to that host up to the next code
//!   that runs locally (the end of the block), and a local match covers no remote code.
//!
//! Every piece of a script that is parsed alone (a sparse scan's stretches, the language
//! server's chunks) is a run of whole top-level statements, and a remote block lies inside one
//! statement, so a remote match and what it covers are always in the same piece; only local
//! matches reach across pieces. Those are read first for the whole file and handed to every
//! piece ([`Directives::applied`](super::directives::Directives)), so that a piece agrees with
//! a whole parse.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::index::PatternIndex;
use crate::script::{CodeRegion, Parsed};

/// One pattern's `fix.applied_if`, compiled on first use (case-insensitive in the languages
/// that ignore case, as triggering entries are).
#[derive(Debug)]
pub(crate) struct AppliedIf {
    /// The pattern's place in the index.
    pub pattern: usize,
    source: String,
    compiled: [OnceLock<Option<Regex>>; 2],
}

impl AppliedIf {
    pub(crate) fn new(pattern: usize, source: &str) -> AppliedIf {
        AppliedIf {
            pattern,
            source: source.to_string(),
            compiled: Default::default(),
        }
    }

    pub(crate) fn regex(&self, case_insensitive: bool) -> Option<&Regex> {
        self.compiled[case_insensitive as usize]
            .get_or_init(|| super::index::compile(&self.source, case_insensitive))
            .as_ref()
    }
}

/// Where, in one parsed piece of a script, fixes are in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InPlace {
    places: Vec<Place>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    pattern: usize,
    host: Option<String>,
    /// Commands starting here or later are covered...
    from: usize,
    /// ...up to here (the next local code, for a remote match).
    until: usize,
}

impl InPlace {
    /// The fixes in place in the code `parsed` found in `src` (both of one piece).
    pub(crate) fn find(src: &str, parsed: &Parsed, index: &PatternIndex) -> InPlace {
        let mut places = Vec::new();
        if index.applied_ifs().is_empty() {
            return InPlace { places };
        }
        let mut local_starts: Vec<usize> = parsed
            .code
            .iter()
            .filter(|r| r.host.is_none())
            .map(|r| r.span.start)
            .collect();
        local_starts.sort_unstable();
        for a in index.applied_ifs() {
            for region in &parsed.code {
                for m in starts_in(src, region, a) {
                    let until = match region.host {
                        None => usize::MAX,
                        Some(_) => {
                            let i = local_starts.partition_point(|&s| s < m.end);
                            local_starts.get(i).copied().unwrap_or(usize::MAX)
                        }
                    };
                    places.push(Place {
                        pattern: a.pattern,
                        host: region.host.clone(),
                        from: m.end,
                        until,
                    });
                }
            }
        }
        InPlace { places }
    }

    /// Whether pattern `pi`'s fix is in place for a command at `at` that runs on `host`.
    pub(crate) fn covers(&self, pi: usize, host: &Option<String>, at: usize) -> bool {
        self.places
            .iter()
            .any(|p| p.pattern == pi && &p.host == host && p.from <= at && at < p.until)
    }

    /// For each pattern whose fix is in place in code that runs where the file runs, its id
    /// and where that code first ends (what a piece hands the pieces after it).
    pub(crate) fn local(&self, index: &PatternIndex) -> Vec<(String, usize)> {
        earliest(
            self.places
                .iter()
                .filter(|p| p.host.is_none())
                .map(|p| (index.pattern(p.pattern).id.clone(), p.from)),
        )
    }
}

/// Of each pattern's fixes in place, the first (sorted by id).
pub(crate) fn earliest(found: impl Iterator<Item = (String, usize)>) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for (id, from) in found {
        match out.iter_mut().find(|(i, _)| *i == id) {
            Some((_, f)) => *f = (*f).min(from),
            None => out.push((id, from)),
        }
    }
    out.sort();
    out
}

/// The matches of `a` that start inside `region` (each may run on to the end of its line, past
/// a string the region leaves out).
fn starts_in<'s>(
    src: &'s str,
    region: &CodeRegion,
    a: &'s AppliedIf,
) -> impl Iterator<Item = Range<usize>> + 's {
    let re = a.regex(region.language.case_insensitive());
    let (start, end) = (region.span.start, region.span.end.min(src.len()));
    let limit = src
        .get(end..)
        .and_then(|rest| rest.find('\n'))
        .map_or(src.len(), |i| end + i);
    let hay = src.get(..limit).filter(|_| src.is_char_boundary(start));
    let mut at = start;
    std::iter::from_fn(move || {
        let (re, hay) = (re?, hay?);
        let m = re.find_at(hay, at).filter(|m| m.start() < end)?;
        // An empty match (refused by `problems`, but the index may hold anything) must move on.
        at = if m.end() > m.start() {
            m.end()
        } else {
            let next = hay[m.end()..].chars().next()?;
            m.end() + next.len_utf8()
        };
        Some(m.range())
    })
}

/// The raw matches of every `applied_if` in `src`, ignoring case (a superset of what the parse
/// will accept in any language): where a sparse scan must look for fixes in place.
pub(crate) fn candidates(src: &str, index: &PatternIndex) -> Vec<usize> {
    let mut out = Vec::new();
    for a in index.applied_ifs() {
        if let Some(re) = a.regex(true) {
            out.extend(re.find_iter(src).map(|m| m.start()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a pattern `pi`'s command at `at` on `host` in a piece is covered, by the piece's own
/// code or, for local code, by what the file's earlier pieces hold (`before`: pattern id and
/// where its fix ends, in the piece's offsets).
pub(crate) fn covered(
    in_place: &InPlace,
    before: &[(String, usize)],
    index: &PatternIndex,
    pi: usize,
    host: &Option<String>,
    at: usize,
) -> bool {
    in_place.covers(pi, host, at)
        || (host.is_none()
            && before
                .iter()
                .any(|(id, from)| *from <= at && *id == index.pattern(pi).id))
}
