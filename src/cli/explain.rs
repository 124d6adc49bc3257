//! `forewarn explain`: which patterns recognise some error output.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use super::check::{load_index, unknown_target_message};
use super::store::{short, short_id_len};
use super::{error, outln, EXIT_ERROR};
use crate::config::Config;
use crate::engine::{self, Pattern, PatternIndex};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The error output; `-` or nothing reads stdin. It may start with `-`, as bash's own
    /// messages do when it is a login shell (`-bash: python: command not found`).
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: Option<String>,
    /// Only patterns that apply on this target (host, alias or system tag).
    #[arg(long, env = "FOREWARN_TARGET", value_name = "T")]
    pub target: Option<String>,
    /// human or json.
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
}

pub fn run(args: ExplainArgs, store_flag: Option<PathBuf>) -> ExitCode {
    let text = match args.text.as_deref() {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
                error(format_args!("<stdin>: {e}"));
                return ExitCode::from(EXIT_ERROR);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    if text.trim().is_empty() {
        error("explain needs error output: as an argument, or on stdin (`cmd 2>&1 | forewarn explain`)");
        return ExitCode::from(EXIT_ERROR);
    }
    let (config, _) = Config::discover(std::path::Path::new("."));
    let index = match load_index(store_flag.as_deref(), &config) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let target_name = args
        .target
        .filter(|t| !t.trim().is_empty())
        .or(config.target.clone());
    let target = target_name.as_deref().and_then(|t| index.target(t));
    if let (Some(name), None) = (&target_name, &target) {
        error(unknown_target_message(
            name,
            Some("--target, FOREWARN_TARGET or the configuration"),
        ));
    }
    let found = engine::explain(&text, target.as_ref(), &index);
    let elsewhere = match &target {
        Some(_) => elsewhere(&found, engine::explain(&text, None, &index)),
        None => Vec::new(),
    };
    let with_pattern = |found: &[engine::Explanation]| -> Vec<(&Pattern, &str)> {
        found
            .iter()
            .filter_map(|e| {
                index
                    .get(&e.pattern_id)
                    .map(|p| (p, text.get(e.span.clone()).unwrap_or("")))
            })
            .collect()
    };
    let patterns = with_pattern(&found);
    let others = with_pattern(&elsewhere);
    if args.format == "json" {
        let items = |patterns: &[(&Pattern, &str)]| -> Vec<serde_json::Value> {
            patterns
                .iter()
                .map(|(p, matched)| {
                    serde_json::json!({
                        "pattern_id": p.id, "signature": p.pattern_signature, "severity": p.severity,
                        "pattern_type": p.pattern_type, "matched": matched,
                        "failure_description": p.failure_description, "root_cause": p.root_cause,
                        "recommended_solution": p.recommended_solution, "alternatives": p.alternative_approaches,
                        "affected_systems": p.affected_systems, "occurrence_count": p.occurrence_count,
                    })
                })
                .collect()
        };
        outln!(
            "{}",
            serde_json::json!({
                "version": 1, "target": target_name, "matches": items(&patterns),
                "other_systems": items(&others),
            })
        );
    } else {
        // An id as short as tells it from the store's others, as `store list` shows it.
        let ids: Vec<&str> = index.patterns().iter().map(|p| p.id.as_str()).collect();
        let id_len = short_id_len(&ids);
        let headline = |p: &Pattern| {
            format!(
                "{} [{}] ({})",
                p.pattern_signature,
                p.severity,
                short(&p.id, id_len)
            )
        };
        let name = target.as_ref().map(|t| t.name.as_str()).unwrap_or("");
        if patterns.is_empty() && others.is_empty() {
            outln!("No known failure pattern matches this output.");
        } else if patterns.is_empty() {
            outln!("No known failure pattern for {name} matches this output.");
            outln!();
        }
        for (p, matched) in &patterns {
            outln!("{}", headline(p));
            detail(p, matched);
        }
        if !others.is_empty() {
            // In full when nothing for the target matched: the cause may still be the one (a
            // 32-bit PowerShell on a new server lacks the cmdlets an old one lacks); in a line
            // each when something did.
            outln!("Matches patterns for other systems (not {name}):");
            for (p, matched) in &others {
                if patterns.is_empty() {
                    outln!("{}", headline(p));
                    outln!("  systems: {}", systems(p, &index));
                    detail(p, matched);
                } else {
                    outln!("  {} — {}", headline(p), systems(p, &index));
                }
            }
        }
    }
    ExitCode::from(u8::from(patterns.is_empty()))
}

/// What a human report shows of a matching pattern under its headline.
fn detail(p: &Pattern, matched: &str) {
    outln!("  matched: {}", matched.trim());
    outln!("  what:    {}", p.failure_description);
    outln!("  cause:   {}", p.root_cause);
    outln!("  fix:     {}", p.recommended_solution);
    for alt in &p.alternative_approaches {
        outln!("  also:    {alt}");
    }
    outln!();
}

/// The systems a pattern is about, as a human reads them: its tags, else the host or client
/// it was recorded for.
fn systems(p: &Pattern, index: &PatternIndex) -> String {
    let mut out = p.affected_systems.clone();
    if let Some(id) = &p.infrastructure_id {
        let host = index.hosts().iter().find(|h| &h.id == id);
        out.push(format!(
            "host {}",
            host.map_or(id.as_str(), |h| &h.hostname)
        ));
    }
    if let Some(id) = &p.client_id {
        let client = index.clients().iter().find(|c| &c.id == id);
        out.push(format!(
            "client {}",
            client.map_or(id.as_str(), |c| &c.name)
        ));
    }
    out.join(", ")
}

/// The explanations of `all` (the output explained with no target) that are not in `found` (for
/// the target): patterns that recognise the output on other systems.
fn elsewhere(
    found: &[engine::Explanation],
    all: Vec<engine::Explanation>,
) -> Vec<engine::Explanation> {
    all.into_iter()
        .filter(|e| !found.iter().any(|f| f.pattern_id == e.pattern_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_systems_are_the_matches_the_target_left_out() {
        let index = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        let text =
            "Get-LocalUser : The term 'Get-LocalUser' is not recognized as the name of a cmdlet";
        let ids = |e: &[engine::Explanation]| -> Vec<String> {
            e.iter().map(|e| e.pattern_id.clone()).collect()
        };
        let all = engine::explain(text, None, &index);
        assert!(!all.is_empty());
        let new = index.target("windows-server-2022").unwrap();
        let found = engine::explain(text, Some(&new), &index);
        let others = elsewhere(&found, all.clone());
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(ids(&others), ids(&all), "all of them, in the same order");
        let old = index.target("windows-server-2008").unwrap();
        let found = engine::explain(text, Some(&old), &index);
        assert!(!found.is_empty());
        let others = elsewhere(&found, all.clone());
        assert_eq!(found.len() + others.len(), all.len());
        assert!(others.iter().all(|o| !ids(&found).contains(&o.pattern_id)));
        let p = index.get(&all[0].pattern_id).unwrap();
        assert!(systems(p, &index).contains("windows-server-2008"));
    }
}
