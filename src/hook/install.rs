//! `forewarn hook install AGENT [--project|--user] [--print]`: merges forewarn's hook entry into
//! the agent's settings file (reference/agent-hooks.md has each file and shape).
//!
//! Everything already in the file stays, in its order: other keys, other hooks, other handlers
//! for the same events. An existing forewarn handler for this agent is updated in place, so a
//! second install changes nothing. The original is copied to a `.bak` file before the first
//! write; `--print` shows the result and writes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Map, Value};

use super::dialect::Agent;
use crate::cli::{error, EXIT_ERROR};

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// claude, codex, cursor, gemini or copilot.
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// The project's settings, in the current directory (the default).
    #[arg(long, conflicts_with = "user")]
    pub project: bool,
    /// The user's settings, in the home directory.
    #[arg(long)]
    pub user: bool,
    /// Print the resulting file instead of writing it.
    #[arg(long)]
    pub print: bool,
}

/// Seconds (Claude, Codex, Cursor, Copilot) an agent waits for the hook; it answers in
/// milliseconds, so this only bounds a stuck store.
const TIMEOUT_SECS: u64 = 10;

/// Installs the hook; `store` is the global `--store`, which the installed command keeps.
pub fn run(args: InstallArgs, store: Option<&Path>) -> ExitCode {
    let Some(agent) = Agent::from_name(&args.agent) else {
        error(format_args!(
            "unknown agent `{}` (expected claude, codex, cursor, gemini or copilot)",
            args.agent
        ));
        return ExitCode::from(EXIT_ERROR);
    };
    let base = if args.user {
        match dirs::home_dir() {
            Some(h) => h,
            None => {
                error("cannot find the home directory");
                return ExitCode::from(EXIT_ERROR);
            }
        }
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    };
    let file = settings_path(agent, &base, args.user);
    let command = match hook_command(agent, store) {
        Ok(c) => c,
        Err(e) => {
            error(e);
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match install(agent, &file, &command, args.print) {
        Ok(report) => {
            crate::cli::outln!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error(e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The settings file forewarn's entry goes into, under `base` (the project or the home dir).
pub fn settings_path(agent: Agent, base: &Path, user: bool) -> PathBuf {
    match agent {
        Agent::Claude => base.join(".claude").join("settings.json"),
        Agent::Codex => match std::env::var_os("CODEX_HOME").filter(|_| user) {
            Some(home) => PathBuf::from(home).join("hooks.json"),
            None => base.join(".codex").join("hooks.json"),
        },
        Agent::Cursor => base.join(".cursor").join("hooks.json"),
        Agent::Gemini => base.join(".gemini").join("settings.json"),
        Agent::Copilot if user => base.join(".copilot").join("hooks").join("forewarn.json"),
        Agent::Copilot => base.join(".github").join("hooks").join("forewarn.json"),
    }
}

/// `"<absolute path of this executable>" hook <agent>`, quoted when the path needs it.
fn hook_command(agent: Agent, store: Option<&Path>) -> Result<String, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find forewarn's own path: {e}"))?;
    let mut command = quoted(&exe.to_string_lossy());
    // The agent runs the hook from the project it works in: a store named here is made
    // absolute, so the hook reads and records in the store the user chose.
    if let Some(store) = store {
        let store = std::path::absolute(store).map_err(|e| format!("{}: {e}", store.display()))?;
        command.push_str(" --store ");
        command.push_str(&quoted(&store.to_string_lossy()));
    }
    Ok(format!("{command} hook {}", agent.name()))
}

/// `word` quoted for the shell the agent runs the hook command with, where it needs it.
fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if word.chars().all(plain) || (cfg!(windows) && !word.contains(' ')) {
        word.to_string()
    } else if cfg!(windows) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Merges the entry into `file` (or prints the result). Returns what happened, for the user.
pub fn install(agent: Agent, file: &Path, command: &str, print: bool) -> Result<String, String> {
    let original = match std::fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let mut root = match original.as_deref().map(str::trim) {
        None | Some("") => Value::Object(Map::new()),
        Some(text) => serde_json::from_str::<Value>(text).map_err(|e| {
            format!(
                "{}: not valid JSON ({e}); fix or move it, then install again",
                file.display()
            )
        })?,
    };
    let Some(obj) = root.as_object_mut() else {
        return Err(format!(
            "{}: the top level is not a JSON object",
            file.display()
        ));
    };
    merge(agent, obj, command).map_err(|e| format!("{}: {e}", file.display()))?;
    let text = serde_json::to_string_pretty(&root).map_err(|e| e.to_string())? + "\n";
    if print {
        return Ok(text.trim_end().to_string());
    }
    if original.as_deref() == Some(text.as_str())
        || original
            .as_deref()
            .and_then(|o| serde_json::from_str::<Value>(o).ok())
            .is_some_and(|o| o == root && same_order(&o, &root))
    {
        return Ok(format!(
            "forewarn's {} hook is already in {}",
            agent.name(),
            file.display()
        ));
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut report = format!(
        "installed forewarn's {} hook in {}",
        agent.name(),
        file.display()
    );
    if original.is_some() {
        let backup = backup_path(file);
        std::fs::copy(file, &backup).map_err(|e| format!("{}: {e}", backup.display()))?;
        report.push_str(&format!(" (backup: {})", backup.display()));
    }
    write_atomically(file, &text)?;
    if agent == Agent::Gemini {
        report.push_str(
            "\nGemini CLI runs hooks only when they are enabled (`tools.enableHooks` / `hooks.enabled` in its settings).",
        );
    }
    Ok(report)
}

/// Whether two equal values also list their keys in the same order (so nothing would move).
fn same_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys().eq(y.keys()) && x.values().zip(y.values()).all(|(p, q)| same_order(p, q))
        }
        (Value::Array(x), Value::Array(y)) => x.iter().zip(y).all(|(p, q)| same_order(p, q)),
        _ => true,
    }
}

/// `settings.json.bak`, or a timestamped name when that exists already (an older backup is kept).
fn backup_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plain = file.with_file_name(format!("{name}.bak"));
    if !plain.exists() {
        return plain;
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    file.with_file_name(format!("{name}.{stamp}.bak"))
}

fn write_atomically(file: &Path, text: &str) -> Result<(), String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = file.with_file_name(format!(".{name}.forewarn-{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, file).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", file.display())
    })
}

/// Whether a hook command is forewarn's own for `agent` (any install path of it).
fn is_ours(command: &str, agent: Agent) -> bool {
    let command = command.trim();
    let Some(rest) = command.strip_suffix(agent.name()) else {
        return false;
    };
    let Some(program) = rest.trim_end().strip_suffix("hook") else {
        return false;
    };
    let program = program.trim().trim_matches(|c| c == '\'' || c == '"');
    let program = program.strip_prefix("& ").unwrap_or(program);
    let program = program.trim_matches(|c| c == '\'' || c == '"');
    let base = program.rsplit(['/', '\\']).next().unwrap_or(program);
    base == "forewarn" || base == "forewarn.exe"
}

/// Which events get an entry, with the matcher each needs.
fn events(agent: Agent) -> &'static [(&'static str, &'static str)] {
    match agent {
        Agent::Claude => &[
            ("PreToolUse", "Bash|PowerShell"),
            ("PostToolUse", "Bash|PowerShell"),
            ("PostToolUseFailure", "Bash|PowerShell"),
        ],
        Agent::Codex => &[("PreToolUse", "^Bash$"), ("PostToolUse", "^Bash$")],
        Agent::Gemini => &[
            ("BeforeTool", "run_shell_command"),
            ("AfterTool", "run_shell_command"),
        ],
        Agent::Cursor => &[("beforeShellExecution", ""), ("afterShellExecution", "")],
        Agent::Copilot => &[("preToolUse", ""), ("postToolUseFailure", "")],
    }
}

/// Adds (or updates) forewarn's handler for each event in `root`.
fn merge(agent: Agent, root: &mut Map<String, Value>, command: &str) -> Result<(), String> {
    if matches!(agent, Agent::Cursor | Agent::Copilot) && !root.contains_key("version") {
        root.insert("version".into(), json!(1));
    }
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("`hooks` is not an object")?;
    for (event, matcher) in events(agent) {
        let list = hooks
            .entry(event.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or_else(|| format!("`hooks.{event}` is not an array"))?;
        match agent {
            Agent::Claude | Agent::Codex | Agent::Gemini => {
                merge_grouped(agent, list, matcher, command)
            }
            Agent::Cursor => merge_flat(
                agent,
                list,
                "command",
                || json!({"command": command, "timeout": TIMEOUT_SECS}),
            ),
            Agent::Copilot => merge_copilot(agent, list, command),
        }
    }
    Ok(())
}

/// Claude, Codex and Gemini: event → `[{matcher, hooks: [handler…]}]`.
fn merge_grouped(agent: Agent, groups: &mut Vec<Value>, matcher: &str, command: &str) {
    for group in groups.iter_mut() {
        let Some(handlers) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
            continue;
        };
        for h in handlers.iter_mut() {
            if h.get("command")
                .and_then(Value::as_str)
                .is_some_and(|c| is_ours(c, agent))
            {
                h["command"] = Value::String(command.to_string());
                return;
            }
        }
    }
    let handler = if agent == Agent::Gemini {
        // Gemini's timeout is in milliseconds.
        json!({"name": "forewarn", "type": "command", "command": command, "timeout": TIMEOUT_SECS * 1000})
    } else {
        json!({"type": "command", "command": command, "timeout": TIMEOUT_SECS})
    };
    groups.push(json!({"matcher": matcher, "hooks": [handler]}));
}

/// Cursor: event → `[handler…]`.
fn merge_flat(agent: Agent, list: &mut Vec<Value>, key: &str, new: impl FnOnce() -> Value) {
    let fresh = new();
    for h in list.iter_mut() {
        if h.get(key)
            .and_then(Value::as_str)
            .is_some_and(|c| is_ours(c, agent))
        {
            h[key] = fresh[key].clone();
            return;
        }
    }
    list.push(fresh);
}

/// Copilot: event → `[{type, bash, powershell, timeoutSec}]`.
fn merge_copilot(agent: Agent, list: &mut Vec<Value>, command: &str) {
    let powershell = if command.starts_with(['"', '\'']) {
        format!("& {command}")
    } else {
        command.to_string()
    };
    for h in list.iter_mut() {
        let ours = ["bash", "powershell"].iter().any(|k| {
            h.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|c| is_ours(c, agent))
        });
        if ours {
            h["bash"] = Value::String(command.to_string());
            h["powershell"] = Value::String(powershell);
            return;
        }
    }
    list.push(json!({
        "type": "command",
        "bash": command,
        "powershell": powershell,
        "timeoutSec": TIMEOUT_SECS,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_own_handlers() {
        assert!(is_ours(
            "/usr/local/bin/forewarn hook claude",
            Agent::Claude
        ));
        assert!(is_ours(
            "'/opt/my tools/forewarn' hook claude",
            Agent::Claude
        ));
        assert!(is_ours(
            "& \"C:\\x y\\forewarn.exe\" hook copilot",
            Agent::Copilot
        ));
        assert!(!is_ours(
            "/usr/local/bin/forewarn hook codex",
            Agent::Claude
        ));
        assert!(!is_ours("/usr/bin/other hook claude", Agent::Claude));
        assert!(!is_ours("./block-rm.sh", Agent::Claude));
    }

    #[test]
    fn merges_beside_other_hooks_once() {
        let mut root = serde_json::from_str::<Value>(
            r#"{"model":"x","hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"./a.sh"}]}]}}"#,
        )
        .unwrap();
        let obj = root.as_object_mut().unwrap();
        merge(Agent::Claude, obj, "/bin/forewarn hook claude").unwrap();
        let once = root.clone();
        merge(
            Agent::Claude,
            root.as_object_mut().unwrap(),
            "/bin/forewarn hook claude",
        )
        .unwrap();
        assert_eq!(root, once);
        let pre = root["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "./a.sh");
        assert_eq!(pre[1]["matcher"], "Bash|PowerShell");
        assert_eq!(
            root.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["model", "hooks"]
        );
        // A moved binary updates the entry instead of adding a second one.
        merge(
            Agent::Claude,
            root.as_object_mut().unwrap(),
            "/new/forewarn hook claude",
        )
        .unwrap();
        let pre = root["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[1]["hooks"][0]["command"], "/new/forewarn hook claude");
    }

    #[test]
    fn refuses_shapes_it_cannot_merge_into() {
        let mut root = json!({"hooks": []});
        assert!(merge(
            Agent::Claude,
            root.as_object_mut().unwrap(),
            "f hook claude"
        )
        .is_err());
        let mut root = json!({"hooks": {"beforeShellExecution": {}}});
        assert!(merge(
            Agent::Cursor,
            root.as_object_mut().unwrap(),
            "f hook cursor"
        )
        .is_err());
    }
}
