//! `forewarn explain`: which patterns recognise some error output.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use super::check::{load_index, unknown_target_message};
use super::store::{short, short_id_len};
use super::{error, outln, EXIT_ERROR};
use crate::config::Config;
use crate::engine::{self, Pattern};

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
    let patterns: Vec<(&Pattern, &str)> = found
        .iter()
        .filter_map(|e| {
            index
                .get(&e.pattern_id)
                .map(|p| (p, text.get(e.span.clone()).unwrap_or("")))
        })
        .collect();
    if args.format == "json" {
        let items: Vec<serde_json::Value> = patterns
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
            .collect();
        outln!(
            "{}",
            serde_json::json!({"version": 1, "target": target_name, "matches": items})
        );
    } else if patterns.is_empty() {
        outln!("No known failure pattern matches this output.");
    } else {
        // An id as short as tells it from the store's others, as `store list` shows it.
        let ids: Vec<&str> = index.patterns().iter().map(|p| p.id.as_str()).collect();
        let id_len = short_id_len(&ids);
        for (p, matched) in &patterns {
            outln!(
                "{} [{}] ({})",
                p.pattern_signature,
                p.severity,
                short(&p.id, id_len)
            );
            outln!("  matched: {}", matched.trim());
            outln!("  what:    {}", p.failure_description);
            outln!("  cause:   {}", p.root_cause);
            outln!("  fix:     {}", p.recommended_solution);
            for alt in &p.alternative_approaches {
                outln!("  also:    {alt}");
            }
            outln!();
        }
    }
    ExitCode::from(u8::from(patterns.is_empty()))
}
