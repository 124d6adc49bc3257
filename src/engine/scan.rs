//! `scan`: the findings of one script against one index, for one target.

use std::ops::Range;

use super::directives::Directives;
use super::index::PatternIndex;
use super::operations;
use super::pattern::{Pattern, Severity};
use super::target::Target;
use crate::script::{self, Language, Parsed};

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
}

/// Scans `src` written in `lang`. `default_target` is what the configuration or the command line
/// says (an in-file `forewarn: target=` directive wins over it).
pub fn scan(src: &str, lang: Language, default_target: Option<&str>, index: &PatternIndex) -> Scan {
    let directives = Directives::parse(src, lang);
    if directives.disable_file {
        return Scan {
            findings: Vec::new(),
            target: directives.target.or(default_target.map(str::to_string)),
        };
    }
    let parsed = script::parse(src, lang);
    scan_parsed(src, &parsed, &directives, default_target, index)
}

/// [`scan`] on an already parsed document (the language server re-parses only what changed).
pub fn scan_parsed(
    src: &str,
    parsed: &Parsed,
    directives: &Directives,
    default_target: Option<&str>,
    index: &PatternIndex,
) -> Scan {
    let file_target_name = directives
        .target
        .clone()
        .or_else(|| default_target.map(str::to_string));
    let file_target = file_target_name.as_deref().map(|n| index.resolve_target(n));
    let mut resolved: Vec<Target> = Vec::new();
    let mut target_for = |host: &Option<String>| -> Option<Target> {
        match host {
            None => file_target.clone(),
            Some(h) => {
                if let Some(t) = resolved.iter().find(|t| t.name.eq_ignore_ascii_case(h)) {
                    return Some(t.clone());
                }
                let t = index.resolve_target(h);
                resolved.push(t.clone());
                Some(t)
            }
        }
    };

    let mut findings = Vec::new();
    let mut candidates = Vec::new();
    let lines = LineStarts::new(src);
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
        let target = target_for(&cmd.host);
        let hit = |pi: usize, text_range: Range<usize>, findings: &mut Vec<Finding>| {
            let pattern = index.pattern(pi);
            let span = cmd.map.to_source(text_range.start)..cmd.map.to_source(text_range.end);
            let matched_text = &cmd.text[text_range.clone()];
            push_finding(
                findings,
                pattern,
                span,
                matched_text,
                target.as_ref(),
                src,
                directives,
                &lines,
            );
        };
        for &ei in &candidates {
            let entry = index.entry(ei);
            if let Some(r) = entry.match_command(&cmd.name, &cmd.text, cmd.language) {
                hit(entry.pattern, r, &mut findings);
            }
        }
        for op in ops {
            for &pi in index.operation_patterns(op) {
                hit(pi, 0..cmd.name.len(), &mut findings);
            }
        }
    }

    let mut seen = Vec::new();
    for region in &parsed.code {
        let Some(code) = src.get(region.span.clone()) else {
            continue;
        };
        let entries = index.syntax_candidates(code, &mut seen);
        if entries.is_empty() {
            continue;
        }
        let target = target_for(&region.host);
        for ei in entries {
            let entry = index.entry(ei);
            for m in entry.syntax_matches(code, region.language) {
                let span = region.span.start + m.start..region.span.start + m.end;
                let pattern = index.pattern(entry.pattern);
                push_finding(
                    &mut findings,
                    pattern,
                    span,
                    &code[m],
                    target.as_ref(),
                    src,
                    directives,
                    &lines,
                );
            }
        }
    }

    findings.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.severity.cmp(&a.severity))
            .then(a.pattern_id.cmp(&b.pattern_id))
    });
    findings.dedup_by(|a, b| a.pattern_id == b.pattern_id && a.span == b.span);
    Scan {
        findings,
        target: file_target_name,
    }
}

#[allow(clippy::too_many_arguments)]
fn push_finding(
    findings: &mut Vec<Finding>,
    pattern: &Pattern,
    span: Range<usize>,
    matched_text: &str,
    target: Option<&Target>,
    src: &str,
    directives: &Directives,
    lines: &LineStarts,
) {
    if !pattern.is_active {
        return;
    }
    if let Some(t) = target {
        if !t.applies(pattern) {
            return;
        }
    }
    let line = lines.line_of(span.start);
    if directives.ignores(line, &pattern.id, &pattern.pattern_signature) {
        return;
    }
    let severity = match target {
        None if pattern.is_scoped() => pattern.severity.min(Severity::Minor),
        _ => pattern.severity,
    };
    let fix = pattern.fix.as_ref().and_then(|fix| {
        let re = regex::Regex::new(&fix.replace).ok()?;
        let replaced = re.replace(matched_text, fix.with.as_str());
        if replaced == matched_text {
            return None;
        }
        // The edit replaces the source text; with continuation lines inside the match the
        // source and the command text differ, so only exact correspondences are fixable.
        let source_text = src.get(span.clone())?;
        if source_text != matched_text {
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
    });
    findings.push(Finding {
        pattern_id: pattern.id.clone(),
        span,
        severity,
        target: target.map(|t| t.name.clone()),
        fix,
    });
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

fn memchr_newlines(src: &str) -> impl Iterator<Item = usize> + '_ {
    src.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}
