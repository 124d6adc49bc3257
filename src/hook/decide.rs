//! The decisions, agent-neutral and without I/O: which findings deny or warn a command before
//! it runs, which patterns explain its output after it ran, and the text the agent reads.
//!
//! The text is written for an agent to act on without a human: what fails and where, why (the
//! root cause, for which target), what to run instead, and the fixed command when a pattern
//! carries a machine-applicable fix. Claude's docs ask for factual statements rather than
//! instructions in context (they can trip prompt-injection defences), so the wording states.

use std::fmt::Write as _;

use super::dialect::{Decision, Message};
use crate::engine::{self, Finding, Pattern, PatternIndex, Severity};
use crate::script::{self, Language, Parsed};

/// At most this many findings or matches are spelled out; the rest are counted.
const MAX_LISTED: usize = 5;

/// Where the command's default target came from, for the agent to know what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultTarget {
    pub name: String,
    /// `.forewarn.toml` path or `FOREWARN_TARGET`.
    pub origin: String,
}

/// The policy in force for one command.
#[derive(Clone, Debug)]
pub struct Policy {
    pub target: Option<DefaultTarget>,
    /// Lowest severity that denies (`[hook] block`; default blocking).
    pub block: Severity,
    /// Lowest severity mentioned at all (`severity`; default info).
    pub report: Severity,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            target: None,
            block: Severity::Blocking,
            report: Severity::Info,
        }
    }
}

/// Scans `command` and decides: deny at or above the blocking level, warn below it, allow when
/// nothing applies.
/// What to do before `command` runs; `parsed` is its parse when the caller has made it.
pub fn before(
    command: &str,
    lang: Language,
    parsed: Option<Parsed>,
    policy: &Policy,
    index: &PatternIndex,
) -> Decision {
    let default = policy.target.as_ref().map(|t| t.name.as_str());
    let prepared = parsed.map(engine::Prepared::Parsed);
    let scan = engine::scan_prepared(command, lang, default, index, prepared);
    let findings: Vec<(&Finding, &Pattern)> = scan
        .findings
        .iter()
        .filter(|f| f.severity >= policy.report)
        .filter_map(|f| index.get(&f.pattern_id).map(|p| (f, p)))
        .collect();
    if findings.is_empty() {
        return Decision::Allow;
    }
    let deny = findings.iter().any(|(f, _)| f.severity >= policy.block);
    let fixed = fixed_command(command, findings.iter().map(|(f, _)| *f));

    let mut agent = String::new();
    if deny {
        agent.push_str(
            "forewarn denied this command: it is known to fail on the system it runs on.\n",
        );
    } else {
        agent.push_str(
            "forewarn: this command is known to have problems on the system it runs on (it was not blocked).\n",
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut listed = 0;
    for (f, p) in &findings {
        if seen.contains(&p.id.as_str()) {
            continue;
        }
        seen.push(&p.id);
        listed += 1;
        if listed > MAX_LISTED {
            continue;
        }
        let matched = command.get(f.span.clone()).unwrap_or("").trim();
        let _ = write!(
            agent,
            "\n{listed}. `{}` [{}]: {}\n",
            one_line(matched),
            f.severity,
            f.message(p)
        );
        if !p.recommended_solution.trim().is_empty() {
            let _ = writeln!(agent, "   Instead: {}", p.recommended_solution.trim());
        }
        if !p.alternative_approaches.is_empty() {
            let _ = writeln!(
                agent,
                "   Alternatives: {}",
                p.alternative_approaches.join("; ")
            );
        }
    }
    if listed > MAX_LISTED {
        let _ = writeln!(agent, "\n… and {} more.", listed - MAX_LISTED);
    }
    if let Some(fixed) = &fixed {
        let _ = write!(agent, "\nThe fixed command is:\n{fixed}\n");
    }
    if let Some(t) = &policy.target {
        if index.target(&t.name).is_some() {
            let _ = write!(
                agent,
                "\nTarget {} comes from {}; commands run through ssh/Invoke-Command are checked against their own host.\n",
                t.name, t.origin
            );
        } else {
            let _ = writeln!(agent, "\nU{}.", &unknown_target(t)[1..]);
        }
    }

    let (first, p) = findings[0];
    let where_ = first
        .target
        .as_deref()
        .map(|t| format!(" on {t}"))
        .unwrap_or_default();
    let more = match seen.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let user = if deny {
        format!(
            "forewarn denied the command: {}{where_}{more}",
            p.pattern_signature
        )
    } else {
        format!("forewarn warning: {}{where_}{more}", p.pattern_signature)
    };
    let message = Message {
        agent: agent.trim_end().to_string(),
        user,
    };
    if deny {
        Decision::Deny(message)
    } else {
        Decision::Warn(message)
    }
}

/// The command with every fix applied (in order, overlapping ones skipped); `None` when no
/// finding has a fix or nothing changes.
pub fn fixed_command<'a>(
    command: &str,
    findings: impl Iterator<Item = &'a Finding>,
) -> Option<String> {
    let mut edits: Vec<&engine::Edit> = findings.filter_map(|f| f.fix.as_ref()).collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(command.len());
    let mut at = 0;
    for e in edits {
        if e.span.start < at || e.span.end > command.len() {
            continue;
        }
        out.push_str(command.get(at..e.span.start)?);
        out.push_str(&e.replacement);
        at = e.span.end;
    }
    out.push_str(command.get(at..)?);
    (out != command).then_some(out)
}

/// The host a command runs on when it executes remotely (`ssh HOST '…'`,
/// `Invoke-Command -ComputerName HOST {…}`): the first one found that is not the local machine
/// (`ssh localhost`, which runs where the command runs).
pub fn remote_host(command: &str, lang: Language) -> Option<String> {
    script::parse(command, lang)
        .commands
        .into_iter()
        .filter_map(|c| c.host)
        .find(|h| !crate::engine::target::is_loopback(h))
}

/// What the output of a command tells, for the agent.
#[derive(Debug, Default)]
pub struct After<'i> {
    /// The patterns that explain the output, most severe first, one per pattern.
    pub patterns: Vec<&'i Pattern>,
    /// The target they were matched for (the remote host in the command, else the default
    /// target), when it is a known one.
    pub target: Option<String>,
    /// The default target, when it is unknown: matched as if no target were set.
    pub unknown: Option<DefaultTarget>,
    /// When nothing explains the output on a known target: the patterns whose error text
    /// matches it on other systems (the target may be wrong). Never recorded.
    pub elsewhere: Vec<&'i Pattern>,
}

/// The patterns that explain `output` of `command` on its target and that the command could
/// have triggered (see [`could_trigger`]).
pub fn after<'i>(
    command: &str,
    lang: Language,
    output: &str,
    policy: &Policy,
    index: &'i PatternIndex,
) -> After<'i> {
    if output.trim().is_empty() {
        return After::default();
    }
    let unknown = policy
        .target
        .as_ref()
        .filter(|t| index.target(&t.name).is_none())
        .cloned();
    let target_name = remote_host(command, lang).or_else(|| {
        policy
            .target
            .as_ref()
            .filter(|_| unknown.is_none())
            .map(|t| t.name.clone())
    });
    let target = target_name.as_deref().and_then(|t| index.target(t));
    let default = policy.target.as_ref().map(|t| t.name.as_str());
    let explained = |target: Option<&engine::Target>| {
        let all = unique(engine::explain(output, target, index), index);
        could_trigger(command, lang, default, all, index)
    };
    let mut patterns = explained(target.as_ref());
    patterns.truncate(MAX_LISTED);
    let mut elsewhere = Vec::new();
    if patterns.is_empty() && target.is_some() {
        elsewhere = explained(None);
        elsewhere.truncate(MAX_LISTED);
    }
    After {
        patterns,
        target: target.and(target_name),
        unknown,
        elsewhere,
    }
}

fn unique(found: Vec<engine::Explanation>, index: &PatternIndex) -> Vec<&Pattern> {
    let mut patterns: Vec<&Pattern> = Vec::new();
    for e in found {
        if let Some(p) = index.get(&e.pattern_id) {
            if !patterns.iter().any(|q| q.id == p.id) {
                patterns.push(p);
            }
        }
    }
    patterns
}

/// Of `matched` (patterns whose error text matched the output), those `command` could have
/// triggered: the scan of the command finds them, or one of their triggering entries or
/// operation classes matches one of its commands. When it could trigger none of them, all of
/// them: the command ran others the hook cannot see (`./deploy.sh`, `make`), and DESIGN.md §9
/// records any error_pattern match after a command.
fn could_trigger<'i>(
    command: &str,
    lang: Language,
    default: Option<&str>,
    matched: Vec<&'i Pattern>,
    index: &PatternIndex,
) -> Vec<&'i Pattern> {
    if matched.is_empty() {
        return matched;
    }
    let mut ids: Vec<&str> = engine::scan(command, lang, default, index)
        .findings
        .iter()
        .filter_map(|f| index.get(&f.pattern_id).map(|p| p.id.as_str()))
        .collect();
    let parsed = script::parse(command, lang);
    let mut candidates = Vec::new();
    for cmd in &parsed.commands {
        index.command_candidates(&cmd.name, &mut candidates);
        for &ei in &candidates {
            let entry = index.entry(ei);
            if entry
                .match_command(&cmd.name, &cmd.text, cmd.language)
                .is_some()
            {
                ids.push(&index.pattern(entry.pattern).id);
            }
        }
        for op in engine::operations::classify(cmd) {
            for &pi in index.operation_patterns(op) {
                ids.push(&index.pattern(pi).id);
            }
        }
    }
    let triggered: Vec<&Pattern> = matched
        .iter()
        .copied()
        .filter(|p| ids.contains(&p.id.as_str()))
        .collect();
    if triggered.is_empty() {
        matched
    } else {
        triggered
    }
}

/// What the hook says of a default target the store does not know (as `forewarn check` does).
pub fn unknown_target(t: &DefaultTarget) -> String {
    crate::cli::check::unknown_target_message(&t.name, Some(&t.origin))
}

/// The context handed to the agent after a recognised failure. `counts[i]` is the occurrence
/// count of `found.patterns[i]` after recording, when recording worked. When nothing was
/// recognised but the output matches failures of other systems, one line asking whether the
/// target is right.
pub fn after_message(found: &After, counts: &[Option<i64>]) -> Option<Message> {
    let Some(first) = found.patterns.first() else {
        return elsewhere_message(found);
    };
    let patterns = &found.patterns;
    let mut agent = String::from("forewarn recognises this failure");
    if let Some(t) = &found.target {
        let _ = write!(agent, " (target {t})");
    }
    agent.push_str(":\n");
    for (i, p) in patterns.iter().enumerate() {
        let _ = write!(
            agent,
            "\n{}. {} [{}]: {}\n",
            i + 1,
            p.pattern_signature,
            p.severity,
            p.message()
        );
        if let Some(Some(n)) = counts.get(i) {
            let _ = writeln!(agent, "   Seen {n} time{}.", if *n == 1 { "" } else { "s" });
        }
        if !p.recommended_solution.trim().is_empty() {
            let _ = writeln!(agent, "   Instead: {}", p.recommended_solution.trim());
        }
        if !p.alternative_approaches.is_empty() {
            let _ = writeln!(
                agent,
                "   Alternatives: {}",
                p.alternative_approaches.join("; ")
            );
        }
    }
    if let Some(t) = &found.unknown {
        let _ = writeln!(agent, "\nU{}.", &unknown_target(t)[1..]);
    }
    let more = match patterns.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    Some(Message {
        agent: agent.trim_end().to_string(),
        user: format!(
            "forewarn recognised a known failure: {}{more}",
            first.pattern_signature
        ),
    })
}

/// One line when the output is a known failure only of systems other than the target.
fn elsewhere_message(found: &After) -> Option<Message> {
    let p = found.elsewhere.first()?;
    let target = found.target.as_deref()?;
    let systems = p.affected_systems.join(", ");
    let line = format!(
        "forewarn: this output matches {}, a failure on {systems} — is the target {target} right?",
        p.pattern_signature
    );
    Some(Message {
        agent: line.clone(),
        user: line,
    })
}

fn one_line(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Edit, Fix, PatternType};

    fn finding(span: std::ops::Range<usize>, replacement: Option<&str>) -> Finding {
        Finding {
            pattern_id: "p".into(),
            span: span.clone(),
            severity: Severity::Major,
            target: None,
            fix: replacement.map(|r| Edit {
                title: "t".into(),
                span,
                replacement: r.into(),
            }),
        }
    }

    #[test]
    fn the_local_machine_is_no_remote_host() {
        let host = |c: &str, lang| remote_host(c, lang);
        assert_eq!(host("ssh localhost 'nproc'", Language::Bash), None);
        assert_eq!(
            host("ssh 127.0.0.1 nproc; ssh web1 nproc", Language::Bash).as_deref(),
            Some("web1")
        );
        assert_eq!(
            host(
                "Invoke-Command -ComputerName . { Get-LocalUser }",
                Language::PowerShell
            ),
            None
        );
        assert_eq!(
            host("ssh oldsrv 'Get-LocalUser'", Language::Bash).as_deref(),
            Some("oldsrv")
        );
    }

    #[test]
    fn fixes_apply_in_order_and_skip_overlaps() {
        let cmd = "python a.py && python b.py";
        let fs = [
            finding(15..21, Some("python3")),
            finding(0..6, Some("python3")),
            finding(2..8, Some("zzz")),
            finding(7..11, None),
        ];
        assert_eq!(
            fixed_command(cmd, fs.iter()).as_deref(),
            Some("python3 a.py && python3 b.py")
        );
        assert_eq!(fixed_command(cmd, [finding(0..6, None)].iter()), None);
        assert_eq!(
            fixed_command(cmd, [finding(0..6, Some("python"))].iter()),
            None
        );
        assert_eq!(fixed_command("ab", [finding(1..9, Some("x"))].iter()), None);
    }

    fn pattern(id: &str, sev: Severity) -> Pattern {
        Pattern {
            error_pattern: Some(format!("{id}: command not found")),
            affected_systems: vec!["debian-12".into()],
            triggering_commands: vec![id.into()],
            root_cause: "it is not installed".into(),
            recommended_solution: format!("Use {id}3."),
            alternative_approaches: vec!["install it".into()],
            severity: sev,
            fix: Some(Fix {
                title: None,
                replace: format!("^{id}"),
                with: format!("{id}3"),
                applied_if: None,
            }),
            ..Pattern::new(
                id,
                PatternType::CommandCompatibility,
                format!("sig {id}"),
                format!("`{id}` is not found"),
            )
        }
    }

    #[test]
    fn after_message_names_cause_fix_and_count() {
        let p = pattern("python", Severity::Major);
        let found = After {
            patterns: vec![&p],
            target: Some("debian-12".into()),
            ..After::default()
        };
        let m = after_message(&found, &[Some(4)]).unwrap();
        assert!(m.agent.contains("target debian-12"), "{}", m.agent);
        assert!(m.agent.contains("it is not installed"));
        assert!(m.agent.contains("Instead: Use python3."));
        assert!(m.agent.contains("Seen 4 times."));
        assert!(m.user.contains("sig python"));
        assert_eq!(after_message(&After::default(), &[]), None);
    }

    #[test]
    fn a_command_parsed_ahead_is_decided_as_one_that_is_not() {
        let index = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let policy = Policy {
            target: Some(DefaultTarget {
                name: "macos".into(),
                origin: "test".into(),
            }),
            ..Policy::default()
        };
        for command in [
            "sed -i 's/a/b/' f && nproc",
            "ls -l",
            "readlink -f x | xargs -r rm",
        ] {
            let parsed = script::parse(command, Language::Bash);
            let decided = before(command, Language::Bash, None, &policy, &index);
            assert_eq!(
                before(command, Language::Bash, Some(parsed), &policy, &index),
                decided,
                "{command}"
            );
        }
        assert!(matches!(
            before("nproc", Language::Bash, None, &policy, &index),
            Decision::Warn(_) | Decision::Deny(_)
        ));
    }

    #[test]
    fn nothing_known_allows() {
        let index = PatternIndex::build(vec![], vec![], vec![]);
        assert_eq!(
            before("ls -l", Language::Bash, None, &Policy::default(), &index),
            Decision::Allow
        );
        assert_eq!(
            after("ls", Language::Bash, "", &Policy::default(), &index)
                .patterns
                .len(),
            0
        );
    }
}
