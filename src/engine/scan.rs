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
    /// Target names (the file's, or remote hosts') that are neither a known host nor a system tag
    /// any pattern uses; the code they cover was checked as if no target were set.
    pub unknown_targets: Vec<String>,
}

/// Scans `src` written in `lang`. `default_target` is what the configuration or the command line
/// says (an in-file `forewarn: target=` directive wins over it).
pub fn scan(src: &str, lang: Language, default_target: Option<&str>, index: &PatternIndex) -> Scan {
    let directives = Directives::parse(src, lang);
    if directives.disable_file {
        return Scan {
            findings: Vec::new(),
            target: directives.target.or(default_target.map(str::to_string)),
            unknown_targets: Vec::new(),
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
    let mut unknown_targets = Vec::new();
    let file_target = file_target_name.as_deref().and_then(|n| {
        let t = index.target(n);
        if t.is_none() {
            unknown_targets.push(n.to_string());
        }
        t
    });
    let mut resolved: Vec<(String, Option<Target>)> = Vec::new();
    let mut target_for = |host: &Option<String>| -> Option<Target> {
        match host {
            None => file_target.clone(),
            Some(h) => {
                if let Some((_, t)) = resolved.iter().find(|(n, _)| n.eq_ignore_ascii_case(h)) {
                    return t.clone();
                }
                let t = index.target(h);
                if t.is_none() {
                    unknown_targets.push(h.clone());
                }
                resolved.push((h.clone(), t.clone()));
                t
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
        unknown_targets,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pattern::{Fix, PatternType};
    use crate::engine::target::Host;
    use crate::script::{make_command, OffsetMap};

    fn pattern(id: &str, commands: &[&str], systems: &[&str], severity: Severity) -> Pattern {
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
}
