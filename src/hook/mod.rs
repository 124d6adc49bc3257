//! `forewarn hook AGENT`: the agent hook adapter (DESIGN.md §9), and `forewarn hook install`.
//!
//! One process per agent command: read the agent's JSON on stdin, turn it into a neutral
//! [`dialect::HookEvent`], decide with the engine ([`decide`]), and answer in the agent's own
//! JSON ([`dialect::Agent::render`]). The hook fails open: whatever goes wrong (unusable store,
//! malformed JSON, an event or tool it does not know, even a bug) the command is allowed, one
//! line goes to stderr, and the exit code is 0. It never runs the command.

pub mod claude;
pub mod codex;
pub mod copilot;
pub mod cursor;
pub mod decide;
pub mod dialect;
pub mod gemini;
pub mod install;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::Value;

use crate::config::Config;
use crate::engine::{PatternIndex, Severity};
use crate::script::Parsed;
use crate::store::{cache, Store};
use dialect::{Agent, Decision, HookEvent, Incoming, Outcome, Reply};

/// Payloads bigger than this are not commands an agent types; reading stops there.
const MAX_PAYLOAD: u64 = 16 << 20;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: Option<HookAction>,
    /// claude, codex, cursor, gemini or copilot (the agent's hook JSON arrives on stdin).
    #[arg(value_name = "AGENT")]
    pub agent: Option<String>,
    /// Ignored: words some hook configurations add after the agent (e.g. an event name).
    #[arg(
        value_name = "EXTRA",
        hide = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub extra: Vec<String>,
    /// Rebuilds the pattern cache beside the store (what a hook starts in the background after
    /// a cache miss).
    #[arg(long, hide = true)]
    pub rebuild_cache: bool,
}

#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Add forewarn's hook to an agent's settings file, keeping everything already there.
    Install(install::InstallArgs),
}

pub fn run(args: HookArgs, store: Option<PathBuf>) -> ExitCode {
    if let Some(HookAction::Install(install)) = args.action {
        return install::run(install, store.as_deref());
    }
    if args.rebuild_cache {
        cache::rebuild(&Store::resolve_path(store.as_deref(), None));
        return ExitCode::SUCCESS;
    }
    let Some(name) = args.agent else {
        note("no agent named (expected claude, codex, cursor, gemini or copilot)");
        return ExitCode::SUCCESS;
    };
    let Some(agent) = Agent::from_name(&name) else {
        note(format_args!(
            "unknown agent `{name}` (expected claude, codex, cursor, gemini or copilot)"
        ));
        return ExitCode::SUCCESS;
    };
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(MAX_PAYLOAD)
        .read_to_end(&mut input)
    {
        note(format_args!("cannot read stdin: {e}"));
        return ExitCode::SUCCESS;
    }
    // A bug must not block the agent: a panic becomes one line on stderr and an allow.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        note(format_args!("internal error{at}: {msg}; allowing"));
    }));
    let reply = std::panic::catch_unwind(|| answer(agent, &input, store.as_deref()))
        .unwrap_or_else(|_| Reply::silent());
    if let Some(v) = &reply.stdout {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{v}");
        let _ = out.flush();
    }
    ExitCode::from(reply.exit)
}

/// One line on stderr saying why the hook let the command through (or what it noticed).
fn note(message: impl std::fmt::Display) {
    let line = message.to_string().replace('\n', " ");
    // Not eprintln!: it panics when stderr is gone, and the hook must not.
    let _ = writeln!(std::io::stderr().lock(), "forewarn hook: {line}");
}

/// The whole hook, from the raw payload to the reply. Never fails: every problem is an allow.
pub fn answer(agent: Agent, input: &[u8], store_flag: Option<&Path>) -> Reply {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    // A stray byte that is not UTF-8 (a Latin-1 file name in the command) must not cost the
    // check: it becomes U+FFFD and the rest is read.
    let input = String::from_utf8_lossy(input);
    let payload: Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => {
            note(format_args!(
                "{}: malformed JSON on stdin ({e}); allowing",
                agent.name()
            ));
            return Reply::silent();
        }
    };
    let incoming = match agent.parse(&payload) {
        Ok(i) => i,
        Err(why) => {
            note(format_args!("{}: {why}; allowing", agent.name()));
            return Reply::silent();
        }
    };
    let (config, policy) = policy_for(incoming.event.cwd());
    let path = Store::resolve_path(store_flag, Some(&config));
    // A command is parsed once: its commands say which patterns to load, then they are checked.
    let parsed = match &incoming.event {
        HookEvent::Before {
            command, language, ..
        } => Some(crate::script::parse(command, *language)),
        HookEvent::After { .. } => None,
    };
    let index = match load_index(&path, &incoming.event, parsed.as_ref()) {
        Ok(i) => i,
        Err(e) => {
            note(format_args!("pattern store unusable ({e}); allowing"));
            return Reply::silent();
        }
    };
    if let Some(t) = policy
        .target
        .as_ref()
        .filter(|t| index.target(&t.name).is_none())
    {
        note(decide::unknown_target(t));
    }
    let outcome = outcome(&incoming, parsed, &policy, &index, &path);
    let reply = agent.render(&incoming, &outcome);
    if reply.stdout.is_none() {
        // The dialect has no field for it (Copilot's preToolUse, Cursor's generic preToolUse):
        // the agent's hook log still shows it.
        if let Outcome::Before(Decision::Warn(m)) = &outcome {
            note(&m.user);
        }
    }
    reply
}

/// The configuration found from the command's working directory, and the hook policy it gives.
fn policy_for(cwd: Option<&Path>) -> (Config, decide::Policy) {
    // A working directory that is gone (or not yet made) is still inside its project: the
    // configuration is looked for from its nearest existing ancestor.
    let start = cwd
        .and_then(|d| d.ancestors().find(|a| a.is_dir()))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (config, err) = Config::discover(start);
    if let Some(e) = err {
        note(format_args!("{e} (using defaults)"));
    }
    let target = match (&config.target, &config.file) {
        (Some(t), Some(file)) => Some(decide::DefaultTarget {
            name: t.clone(),
            origin: file.display().to_string(),
        }),
        _ => std::env::var("FOREWARN_TARGET")
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(|name| decide::DefaultTarget {
                name,
                origin: "FOREWARN_TARGET".into(),
            }),
    };
    let policy = decide::Policy {
        target,
        block: config.hook_block.unwrap_or(Severity::Blocking),
        report: config.severity.unwrap_or(Severity::Info),
    };
    (config, policy)
}

/// The index for this event: from the cache when it is fresh, else from the store (and the
/// cache is rewritten for the next hook). `FOREWARN_HOOK_CACHE=0` always reads the store.
fn load_index(
    path: &Path,
    event: &HookEvent,
    parsed: Option<&Parsed>,
) -> Result<PatternIndex, String> {
    let use_cache = std::env::var("FOREWARN_HOOK_CACHE").map_or(true, |v| v != "0");
    let (haystack, ops) = needs(event, parsed);
    let need = match event {
        HookEvent::Before { .. } => cache::Need::Before {
            haystack: &haystack,
            ops: &ops,
        },
        HookEvent::After { .. } => cache::Need::After {
            haystack: &haystack,
        },
    };
    // The cache is keyed on the store's knowledge version; while the store files are unchanged
    // since a hook last read it, that version is known without opening SQLite.
    if use_cache {
        if let Some(index) = cache::remembered_key(path).and_then(|k| cache::load(path, &k, &need))
        {
            tracing::debug!("answered from the hook cache ({} patterns)", index.len());
            return Ok(index);
        }
    }
    let store = Store::open(path).map_err(|e| e.to_string())?;
    if use_cache {
        if let Some(key) = cache::store_key(&store) {
            if let Some(index) = cache::load(path, &key, &need) {
                drop(store);
                cache::remember_key(path, &key);
                tracing::debug!("answered from the hook cache ({} patterns)", index.len());
                return Ok(index);
            }
        }
    }
    let (index, _problems) = store.load_index().map_err(|e| e.to_string())?;
    drop(store);
    if use_cache {
        // Writing the cache costs several times a full load (every pattern is serialised and
        // its regexes parsed): a detached process does it, so this hook answers now.
        cache::spawn_rebuild(path);
    }
    Ok(index)
}

/// The text a pattern's anchor must occur in for it to matter here, and the operation classes
/// of the command (see [`cache::parsed_haystack`]; `parsed` is its parse), or the output after a
/// command.
fn needs(event: &HookEvent, parsed: Option<&Parsed>) -> (String, Vec<&'static str>) {
    match (event, parsed) {
        (HookEvent::Before { command, .. }, Some(parsed)) => {
            cache::parsed_haystack(command, parsed)
        }
        (
            HookEvent::Before {
                command, language, ..
            },
            None,
        ) => cache::command_haystack(command, *language),
        (HookEvent::After { output, .. }, _) => {
            // What `explain` reads besides the output: other shells' words restated in bash's.
            let mut hay = output.to_lowercase();
            for (line, _) in crate::engine::explain::restated(output) {
                hay.push('\n');
                hay.push_str(&line.to_lowercase());
            }
            (hay, Vec::new())
        }
    }
}

fn outcome(
    incoming: &Incoming,
    parsed: Option<Parsed>,
    policy: &decide::Policy,
    index: &PatternIndex,
    store_path: &Path,
) -> Outcome {
    match &incoming.event {
        HookEvent::Before {
            command, language, ..
        } => Outcome::Before(decide::before(command, *language, parsed, policy, index)),
        HookEvent::After {
            command,
            language,
            output,
            ..
        } => {
            let found = decide::after(command, *language, output, policy, index);
            let counts = match found.patterns.is_empty() {
                true => Vec::new(),
                false => record(store_path, &found.patterns, found.target.as_deref()),
            };
            Outcome::After(decide::after_message(&found, &counts))
        }
    }
}

/// Records one occurrence of each recognised pattern; the new counts, `None` where it failed.
fn record(
    store_path: &Path,
    patterns: &[&crate::engine::Pattern],
    host: Option<&str>,
) -> Vec<Option<i64>> {
    let store = match Store::open(store_path) {
        Ok(s) => s,
        Err(e) => {
            note(format_args!("cannot record the occurrence: {e}"));
            return vec![None; patterns.len()];
        }
    };
    patterns
        .iter()
        .map(|p| match store.record_occurrence(&p.id, host) {
            Ok(n) => Some(n),
            Err(e) => {
                note(format_args!(
                    "cannot record an occurrence of pattern {}: {e}",
                    p.id
                ));
                None
            }
        })
        .collect()
}
