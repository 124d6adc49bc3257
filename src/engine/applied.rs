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
//! - code run by a new process or job (`powershell`/`pwsh -Command`, `cmd /c`, `Start-Job { … }`,
//!   `Start-ThreadJob { … }`) is a session of its own, like a remote block: a match inside it
//!   covers only the later code inside it, and a match outside it covers nothing inside it;
//! - code that is not run where it is written (a function's body, a script block kept in a
//!   variable, `$sb = { … }`) covers only the later code inside it: whether and when it runs is
//!   not known, so nothing outside counts on it.
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
    /// Literals one of which every match holds, lowercased (`None`: no such set).
    needs: OnceLock<Option<Vec<String>>>,
}

impl AppliedIf {
    pub(crate) fn new(pattern: usize, source: &str) -> AppliedIf {
        AppliedIf {
            pattern,
            source: source.to_string(),
            compiled: Default::default(),
            needs: OnceLock::new(),
        }
    }

    /// Whether the regex may match in a text whose ASCII lowercase is `lower`. Compiling the
    /// library's install regexes took a millisecond of the hook's three, for commands that hold
    /// none of their words.
    fn may_match(&self, lower: &str) -> bool {
        self.needs
            .get_or_init(|| {
                super::index::required_literals(&self.source).map(|lits| {
                    lits.into_iter()
                        .map(|(l, _)| l.to_ascii_lowercase())
                        .collect()
                })
            })
            .as_ref()
            .is_none_or(|lits| lits.iter().any(|l| lower.contains(l.as_str())))
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
    /// The code run by a new process or job (see [`sessions`]).
    sessions: Vec<Range<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    pattern: usize,
    host: Option<String>,
    /// Commands starting here or later are covered...
    from: usize,
    /// ...up to here (the next local code, for a remote match).
    until: usize,
    /// The innermost new session or code not run in place the match is in: it covers nothing
    /// outside.
    within: Option<Range<usize>>,
}

impl InPlace {
    /// The fixes in place in the code `parsed` found in `src` (both of one piece).
    pub(crate) fn find(src: &str, parsed: &Parsed, index: &PatternIndex) -> InPlace {
        let mut places = Vec::new();
        if index.applied_ifs().is_empty() {
            return InPlace {
                places,
                sessions: Vec::new(),
            };
        }
        let sessions = sessions(parsed, src.len());
        let mut regions: Vec<&CodeRegion> = parsed
            .code
            .iter()
            .filter(|r| r.span.start < r.span.end && r.span.end <= src.len())
            .collect();
        regions.sort_by_key(|r| r.span.start);
        let longest = regions.iter().map(|r| r.span.len()).max().unwrap_or(0);
        let local_starts: Vec<usize> = regions
            .iter()
            .filter(|r| r.host.is_none())
            .map(|r| r.span.start)
            .collect();
        // The stretches to search: each region and the rest of its line, merged, so that every
        // byte is read once per regex however many regions a line holds.
        let mut windows: Vec<Range<usize>> = Vec::new();
        for r in &regions {
            let end = src
                .get(r.span.end..)
                .and_then(|rest| rest.find('\n'))
                .map_or(src.len(), |i| r.span.end + i);
            match windows.last_mut() {
                Some(w) if r.span.start <= w.end => w.end = w.end.max(end),
                _ => windows.push(r.span.start..end),
            }
        }
        // Read only when a match needs them.
        let deferred = std::cell::OnceCell::new();
        let lower = src.to_ascii_lowercase();
        let all = index.applied_ifs();
        for (k, a) in all.iter().enumerate() {
            // Patterns about one fix share its regex (the TLS 1.2 ones): searched once, for all.
            if all[..k].iter().any(|b| b.source == a.source) || !a.may_match(&lower) {
                continue;
            }
            let sharing: Vec<usize> = all[k..]
                .iter()
                .filter(|b| b.source == a.source)
                .map(|b| b.pattern)
                .collect();
            for w in &windows {
                for m in matches(src, w, a.regex(true)) {
                    // Every region the match starts in (code sent to several hosts is there once
                    // per host), read with its language's case rule.
                    let first = regions.partition_point(|r| r.span.start + longest <= m.start);
                    let last = regions.partition_point(|r| r.span.start <= m.start);
                    for r in regions[first..last]
                        .iter()
                        .filter(|r| r.span.contains(&m.start))
                    {
                        let end = match r.language.case_insensitive() {
                            true => m.end,
                            false => match a
                                .regex(false)
                                .and_then(|re| re.find_at(&src[..w.end], m.start))
                            {
                                Some(c) if c.start() == m.start => c.end(),
                                _ => continue,
                            },
                        };
                        let until = match r.host {
                            None => usize::MAX,
                            Some(_) => {
                                let i = local_starts.partition_point(|&s| s < end);
                                local_starts.get(i).copied().unwrap_or(usize::MAX)
                            }
                        };
                        let deferred: &Vec<Range<usize>> =
                            deferred.get_or_init(|| not_in_place(src, &regions));
                        let within = sessions
                            .iter()
                            .chain(deferred.iter())
                            .filter(|s| s.contains(&m.start))
                            .min_by_key(|s| s.len())
                            .cloned();
                        places.extend(sharing.iter().map(|&pattern| Place {
                            pattern,
                            host: r.host.clone(),
                            from: end,
                            until,
                            within: within.clone(),
                        }));
                    }
                }
            }
        }
        InPlace { places, sessions }
    }

    /// Whether pattern `pi`'s fix is in place for a command at `at` that runs on `host`.
    pub(crate) fn covers(&self, pi: usize, host: &Option<String>, at: usize) -> bool {
        self.places.iter().any(|p| {
            p.pattern == pi
                && &p.host == host
                && p.from <= at
                && at < p.until
                && p.within.as_ref().is_none_or(|w| w.contains(&at))
                && self.same_session(p.from, at)
        })
    }

    /// Whether code at `at` runs in the session of the code at `from` (before it): no new
    /// process or job holds `at` but not `from`.
    fn same_session(&self, from: usize, at: usize) -> bool {
        !self
            .sessions
            .iter()
            .any(|s| s.contains(&at) && !s.contains(&from.saturating_sub(1)))
    }

    /// For each pattern whose fix is in place in code that runs where the file runs, its id
    /// and where that code first ends (what a piece hands the pieces after it).
    pub(crate) fn local(&self, index: &PatternIndex) -> Vec<(String, usize)> {
        earliest(
            self.places
                .iter()
                .filter(|p| p.host.is_none() && p.within.is_none())
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

/// The code a command runs in a new process or job, from its name to its end: the arguments of
/// `powershell`/`pwsh` (`-Command`, `-EncodedCommand`), `cmd` (`/c`), `Start-Job`/`Start-ThreadJob`
/// (a job is a new runspace, `Start-Job` a new process).
fn sessions(parsed: &Parsed, len: usize) -> Vec<Range<usize>> {
    const NEW: &[&str] = &[
        "powershell",
        "pwsh",
        "cmd",
        "start-job",
        "sajb",
        "start-threadjob",
    ];
    parsed
        .commands
        .iter()
        .filter(|c| NEW.iter().any(|n| c.name.eq_ignore_ascii_case(n)))
        .map(|c| c.name_span.end..c.map.to_source_end(c.text.len()).min(len))
        .filter(|s| s.start < s.end)
        .collect()
}

/// The blocks of code not run where they are written: function bodies (`function F { … }`,
/// `filter`, `workflow`) and script blocks assigned (`$sb = { … }`), from `{` to its `}`
/// counted in code only (a brace in a comment or a data string is none).
fn not_in_place(src: &str, regions: &[&CodeRegion]) -> Vec<Range<usize>> {
    static OPENS: OnceLock<Option<Regex>> = OnceLock::new();
    let opens = OPENS.get_or_init(|| {
        Regex::new(r"(?i)(?:(?:^|[\s;{(])(?:function|filter|workflow)\s+[^\s{(]+\s*(?:\([^)]*\)\s*)?|=\s*)$")
            .ok()
    });
    // Code bytes once each, though regions repeat per host.
    let mut code: Vec<Range<usize>> = Vec::new();
    for r in regions {
        match code.last_mut() {
            Some(c) if r.span.start <= c.end => c.end = c.end.max(r.span.end),
            _ => code.push(r.span.clone()),
        }
    }
    let bytes = src.as_bytes();
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut out = Vec::new();
    for c in &code {
        for i in c.clone() {
            match bytes.get(i) {
                Some(b'{') => {
                    let mut from = i.saturating_sub(200);
                    while !src.is_char_boundary(from) {
                        from += 1;
                    }
                    let before = src.get(from..i).unwrap_or("");
                    let deferred = opens.as_ref().is_some_and(|re| re.is_match(before))
                        && !before.trim_end().ends_with("==");
                    open.push((i, deferred));
                }
                Some(b'}') => {
                    if let Some((o, true)) = open.pop() {
                        out.push(o..i + 1);
                    }
                }
                _ => {}
            }
        }
    }
    // An unclosed block holds the rest of the piece.
    out.extend(open.into_iter().filter(|o| o.1).map(|o| o.0..src.len()));
    out
}

/// The matches of `re` that start in `window` of `src` (text before it still counts for `^`
/// and `\b`).
fn matches<'s>(
    src: &'s str,
    window: &Range<usize>,
    re: Option<&'s Regex>,
) -> impl Iterator<Item = Range<usize>> + 's {
    let hay = src
        .get(..window.end)
        .filter(|_| src.is_char_boundary(window.start));
    let (mut at, end) = (window.start, window.end);
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
    let mut searched: Vec<&str> = Vec::new();
    for a in index.applied_ifs() {
        // Patterns about one fix share its regex (the TLS 1.2 ones): one pass each.
        if searched.contains(&a.source.as_str()) {
            continue;
        }
        searched.push(&a.source);
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
            && in_place.same_session(0, at)
            && before
                .iter()
                .any(|(id, from)| *from <= at && *id == index.pattern(pi).id))
}

#[cfg(test)]
mod tests {
    use crate::engine::{scan, Fix, Pattern, PatternIndex, PatternType};
    use crate::script::Language;

    const SET: &str = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12";
    /// The default library's "TLS 1.2-only HTTPS endpoints" pattern.
    const TLS: &str = "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7";

    fn library() -> PatternIndex {
        PatternIndex::build(crate::store::default_patterns(), vec![], vec![])
    }

    /// The 1-based lines of the TLS pattern's findings in `src` (PowerShell, on Server 2012 R2).
    fn tls_lines(src: &str, idx: &PatternIndex) -> Vec<usize> {
        tls_lines_on(src, idx, "windows-server-2012-r2")
    }

    /// The 1-based lines of the TLS pattern's findings in `src` (PowerShell, on `target`).
    fn tls_lines_on(src: &str, idx: &PatternIndex, target: &str) -> Vec<usize> {
        scan(src, Language::PowerShell, Some(target), idx)
            .findings
            .iter()
            .filter(|f| f.pattern_id == TLS)
            .map(|f| src[..f.span.start].matches('\n').count() + 1)
            .collect()
    }

    #[test]
    fn the_setting_prevents_the_tls_findings_after_it_only() {
        let idx = library();
        let body = "$ErrorActionPreference = 'Stop'\nInvoke-WebRequest -Uri https://github.com/a/b/releases/latest -OutFile a.zip\nInvoke-RestMethod https://api.github.com/repos/a/b\niwr https://example.com/setup.ps1 -UseBasicParsing | iex\n";
        // The tester's script: line 2 sets TLS 1.2, lines 4-6 request.
        let with = format!("# deploy\n{SET}\n{body}");
        assert_eq!(tls_lines(&with, &idx), Vec::<usize>::new());
        let without = format!("# deploy\n{body}");
        assert_eq!(tls_lines(&without, &idx), [3, 4, 5]);
        // The Gallery pattern shares the regex: one search covers both.
        let gallery = |src: &str| {
            scan(
                src,
                Language::PowerShell,
                Some("windows-server-2012-r2"),
                &idx,
            )
            .findings
            .iter()
            .filter(|f| f.pattern_id == "9e9d3ad5-ee8f-4e70-9a18-2c7a0f222dc0")
            .count()
        };
        let modules = "Install-Module PSWindowsUpdate\niwr https://a.example\n";
        assert_eq!(gallery(modules), 1);
        assert_eq!(gallery(&format!("{SET}\n{modules}")), 0);
        assert_eq!(
            tls_lines(&format!("{SET}\n{modules}"), &idx),
            Vec::<usize>::new()
        );
        // Only what comes after the setting is covered, on its own line too.
        let src =
            format!("iwr https://a.example\n{SET}; iwr https://b.example\nirm https://c.example\n");
        assert_eq!(tls_lines(&src, &idx), [1]);
        // Other spellings of the setting, in any case, a value in quotes, the numeric value.
        for set in [
            "[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.SecurityProtocolType]::Tls12",
            "[net.servicepointmanager]::securityprotocol = 'tls12'",
            "[Net.ServicePointManager]::SecurityProtocol = \"Tls11, Tls12\"",
            "[Net.ServicePointManager]::SecurityProtocol = 3072",
            "if ($old) { [Net.ServicePointManager]::SecurityProtocol += [Net.SecurityProtocolType]::Tls12 }",
        ] {
            assert_eq!(tls_lines(&format!("{set}\niwr https://a.example\n"), &idx), Vec::<usize>::new(), "{set}");
        }
        // Reading the setting, or setting something else, is not the fix.
        for not in [
            "$p = [Net.ServicePointManager]::SecurityProtocol; Write-Host Tls12",
            "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls11",
            "[Net.ServicePointManager]::SecurityProtocol = $p # was Tls12",
        ] {
            assert_eq!(
                tls_lines(&format!("{not}\niwr https://a.example\n"), &idx),
                [2],
                "{not}"
            );
        }
    }

    #[test]
    fn the_setting_counts_in_code_not_in_comments_or_data() {
        let idx = library();
        for quiet in [
            format!("# {SET}\niwr https://a.example\n"),
            format!("<#\n{SET}\n#>\niwr https://a.example\n"),
            format!("Write-Host '{SET}'\niwr https://a.example\n"),
            format!("$help = @'\n{SET}\n'@\niwr https://a.example\n"),
        ] {
            let line = quiet.lines().count();
            assert_eq!(tls_lines(&quiet, &idx), [line], "{quiet}");
        }
        // Code inside a string that runs is code.
        let run = format!(
            "Invoke-Expression \"{}\"\niwr https://a.example\n",
            SET.replace('$', "`$")
        );
        assert_eq!(tls_lines(&run, &idx), Vec::<usize>::new(), "{run}");
    }

    #[test]
    fn code_sent_to_a_host_runs_in_a_fresh_session_there() {
        let idx = library();
        let src = format!(
            "{SET}\n\
             Invoke-Command -ComputerName OLD1 {{ iwr https://a.example }}\n\
             Invoke-Command -ComputerName OLD1 {{\n  {SET}\n  iwr https://b.example\n}}\n\
             Invoke-Command -ComputerName OLD1 {{ iwr https://c.example }}\n\
             iwr https://d.example\n"
        );
        // Line 2: the local setting does not reach OLD1. Lines 3-6: the block sets it for
        // itself. Line 7: a new session. Line 8: local, set on line 1.
        assert_eq!(tls_lines(&src, &idx), [2, 7]);
        // What a block sets stays there.
        let src = format!("Invoke-Command -ComputerName OLD1 {{ {SET} }}\niwr https://a.example\n");
        assert_eq!(tls_lines(&src, &idx), [2]);
        // A block sent to two hosts sets it on each.
        let src =
            format!("Invoke-Command -ComputerName OLD1, OLD2 {{ {SET}; iwr https://a.example }}\n");
        assert_eq!(tls_lines(&src, &idx), Vec::<usize>::new());
        let src = "Invoke-Command -ComputerName OLD1, OLD2 { iwr https://a.example }\n";
        assert_eq!(tls_lines(src, &idx), [1]);
    }

    /// Whether the TLS pattern fires on the 2008 R2 target, per line.
    fn fires_2008(src: &str, idx: &PatternIndex) -> Vec<usize> {
        tls_lines_on(src, idx, "windows-server-2008-r2")
    }

    #[test]
    fn a_new_process_or_job_is_a_session_of_its_own() {
        let idx = library();
        const T: &str = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072";
        let iwr = "Invoke-WebRequest https://example.com/a.zip -OutFile a.zip";
        // The fix runs elsewhere: the request here is not covered.
        for fix in [
            format!("powershell -Command \"{T}\""),
            format!("pwsh -c \"{T}\""),
            format!("Start-Job {{ {T} }}"),
            format!("Start-ThreadJob {{ {T} }}"),
            format!("cmd /c \"powershell -Command {T}\""),
        ] {
            let src = format!("{fix}\n{iwr}\n");
            assert_eq!(fires_2008(&src, &idx), [2], "{src}");
        }
        // The fix is here, the request runs elsewhere.
        for req in [
            "powershell -Command \"iwr https://example.com/a\"".to_string(),
            "Start-Job { iwr https://example.com/a }".to_string(),
            "cmd /c \"powershell -Command iwr https://example.com/a\"".to_string(),
        ] {
            let src = format!("{T}\n{req}\n");
            assert_eq!(fires_2008(&src, &idx), [2], "{src}");
        }
        // Inside one new session the fix covers what follows it there.
        for quiet in [
            format!("powershell -Command \"{T}; iwr https://example.com/a\"\n"),
            format!("Start-Job {{ {T}; iwr https://example.com/a }}\n"),
            format!("{T}\n{iwr}\n"),
            format!("if ($true) {{ {T} }}\n{iwr}\n"),
            format!("& {{ {T} }}\n{iwr}\n"),
            format!("function Get-A {{ {T}\n{iwr} }}\n"),
        ] {
            assert_eq!(fires_2008(&quiet, &idx), Vec::<usize>::new(), "{quiet}");
        }
    }

    #[test]
    fn code_not_run_where_it_is_written_covers_only_itself() {
        let idx = library();
        const T: &str = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072";
        let iwr = "Invoke-WebRequest https://example.com/a.zip";
        for src in [
            format!("function Set-Tls {{ {T} }}\n{iwr}\n"),
            format!("function Set-Tls {{\n    {T}\n}}\n{iwr}\nSet-Tls\n"),
            format!("filter Set-Tls($x) {{ {T} }}\n{iwr}\n"),
            format!("$sb = {{ {T} }}\n{iwr}\n"),
        ] {
            let line = src.lines().position(|l| l == iwr).map(|i| i + 1);
            assert_eq!(fires_2008(&src, &idx), [line.unwrap()], "{src}");
        }
        // Turning TLS 1.2 off is no fix.
        for off in [
            "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -band -bnot 3072",
            "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -band (-bnot [Net.SecurityProtocolType]::Tls12)",
        ] {
            assert_eq!(fires_2008(&format!("{off}\n{iwr}\n"), &idx), [2], "{off}");
        }
    }

    #[test]
    fn any_pattern_can_say_it_in_bash_too_with_its_case_and_hosts() {
        let mut p = Pattern::new(
            "0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90",
            PatternType::EnvironmentalLimitation,
            "pip install outside a venv on Debian 12",
            "pip refuses: externally-managed-environment",
        );
        p.triggering_commands = vec![r"pip3?\s+install".into()];
        p.fix = Some(Fix {
            title: None,
            replace: String::new(),
            with: String::new(),
            applied_if: Some(r"\bPIP_BREAK_SYSTEM_PACKAGES=1".into()),
        });
        let idx = PatternIndex::build(vec![p], vec![], vec![]);
        let lines = |src: &str| -> Vec<usize> {
            scan(src, Language::Bash, None, &idx)
                .findings
                .iter()
                .map(|f| src[..f.span.start].matches('\n').count() + 1)
                .collect()
        };
        assert_eq!(
            lines("pip install x\nexport PIP_BREAK_SYSTEM_PACKAGES=1\npip install y\n"),
            [1]
        );
        // bash is case-sensitive: another variable is no fix.
        assert_eq!(
            lines("export pip_break_system_packages=1\npip install y\n"),
            [2]
        );
        assert_eq!(
            lines("echo 'PIP_BREAK_SYSTEM_PACKAGES=1'\npip install y\n"),
            [2]
        );
        // ssh runs the code in a fresh shell on the host.
        assert_eq!(
            lines("export PIP_BREAK_SYSTEM_PACKAGES=1\nssh deb12 'pip install y'\nssh deb12 'PIP_BREAK_SYSTEM_PACKAGES=1 pip install z'\n"),
            [2]
        );
    }

    #[test]
    fn an_applied_if_that_cannot_work_is_a_problem_named_with_the_pattern() {
        let mut p = Pattern::new(
            "0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90",
            PatternType::ConfigurationError,
            "s",
            "d",
        );
        p.triggering_commands = vec!["iwr".into()];
        let fix = |applied_if: Option<&str>, replace: &str, with: &str| Fix {
            title: None,
            replace: replace.into(),
            with: with.into(),
            applied_if: applied_if.map(str::to_string),
        };
        for (f, says) in [
            (
                fix(Some("SecurityProtocol = (Tls12"), "", ""),
                "fix.applied_if `SecurityProtocol = (Tls12` is not a valid regex",
            ),
            (fix(Some("(Tls12)?"), "", ""), "can match empty text"),
            (fix(Some("  "), "", ""), "fix.applied_if is empty"),
            (fix(None, "", ""), "neither replace/with nor applied_if"),
            (
                fix(Some("Tls12"), "", "x"),
                "fix.with `x` has no fix.replace",
            ),
        ] {
            p.fix = Some(f);
            let problems = p.problems();
            assert!(
                problems.len() == 1 && problems[0].contains(says),
                "{problems:?}"
            );
            let idx = PatternIndex::build(vec![p.clone()], vec![], vec![]);
            assert!(idx.is_empty());
            assert_eq!(idx.problems()[0].pattern_id, p.id);
            assert!(idx.problems()[0].message.contains(says));
        }
        p.fix = Some(fix(Some(r"SecurityProtocol\s*=.*Tls12"), "", ""));
        assert_eq!(p.problems(), Vec::<String>::new());
        p.fix = Some(fix(Some("Tls12"), "^iwr", "iwr -UseBasicParsing"));
        assert_eq!(p.problems(), Vec::<String>::new());
    }

    #[test]
    fn a_fix_without_an_edit_round_trips_as_written() {
        let json = serde_json::json!({"applied_if": "Tls12"});
        let fix: Fix = serde_json::from_value(json.clone()).unwrap();
        assert!(!fix.is_edit());
        assert_eq!(serde_json::to_value(&fix).unwrap(), json);
        // An edit that deletes what it matches keeps its empty `with`.
        let json =
            serde_json::json!({"title": "t", "replace": " -Foo", "with": "", "applied_if": "x"});
        let fix: Fix = serde_json::from_value(json.clone()).unwrap();
        assert!(fix.is_edit());
        assert_eq!(serde_json::to_value(&fix).unwrap(), json);
    }

    /// What looking for fixes in place costs a large PowerShell scan (sparse), against the same
    /// library without `applied_if`: `cargo test --release --lib applied_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn applied_cost() {
        let with = library();
        let without = PatternIndex::build(
            crate::store::default_patterns()
                .into_iter()
                .map(|mut p| {
                    p.fix = p.fix.filter(|f| f.is_edit());
                    p
                })
                .collect(),
            vec![],
            vec![],
        );
        let mut src = String::new();
        while src.len() < 1 << 20 {
            src.push_str("$v = Get-Item C:\\x\nWrite-Output \"a $v\"\nInvoke-RestMethod https://a.example/api\n");
        }
        for (name, idx) in [("without", &without), ("with", &with)] {
            let t = scan(
                &src,
                Language::PowerShell,
                Some("windows-server-2012-r2"),
                idx,
            );
            let start = std::time::Instant::now();
            for _ in 0..5 {
                scan(
                    &src,
                    Language::PowerShell,
                    Some("windows-server-2012-r2"),
                    idx,
                );
            }
            println!(
                "{name}: {:?} per scan of {} bytes, {} findings",
                start.elapsed() / 5,
                src.len(),
                t.findings.len()
            );
        }
    }
}
