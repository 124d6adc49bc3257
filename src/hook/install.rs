//! `forewarn hook install AGENT [--project|--user] [--print]`: merges forewarn's hook entry into
//! the agent's settings file (reference/agent-hooks.md has each file and shape).
//!
//! The file is edited, not rewritten (as `cargo add` edits Cargo.toml): forewarn's entries are
//! inserted where they belong, with the file's own indentation and line ends, and the rest stays
//! byte for byte — other keys in their order, other hooks, other handlers for the same events,
//! and the comments Gemini CLI allows in its settings.json. An existing forewarn handler for this
//! agent is updated in place, so a second install changes nothing.
//!
//! The file is first read the way its agent reads it. One the agent would reject (a comment where
//! the agent wants strict JSON, a trailing comma, broken JSON) or whose shape forewarn cannot edit
//! safely is refused with its line, and what to add by hand; it is never written. The original is
//! copied to a `.bak` file before the first write; `--print` shows the result and writes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jsonc_parser::cst::{CstInputValue, CstNewlineKind, CstNode, CstObject, CstRootNode};
use jsonc_parser::ParseOptions;
use serde_json::{json, Map, Value};

use super::dialect::Agent;
use crate::cli::{error, EXIT_ERROR};
use crate::text::LineIndex;

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
    let text = edit(agent, file, original.as_deref().unwrap_or(""), command)?;
    if print {
        return Ok(text.trim_end().to_string());
    }
    if original.as_deref() == Some(text.as_str()) {
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

/// The agent's name as its users know it, for messages.
fn product(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => "Claude Code",
        Agent::Codex => "Codex",
        Agent::Cursor => "Cursor",
        Agent::Gemini => "Gemini CLI",
        Agent::Copilot => "GitHub Copilot",
    }
}

/// Whether the agent reads its settings file with comments. Gemini CLI removes `//` and `/* */`
/// comments and parses the rest as strict JSON (`JSON.parse(stripJsonComments(content))` in its
/// settings loader), so a trailing comma still breaks it. Claude Code rejects a settings.json
/// with comments ("Invalid or malformed JSON") and Codex reads hooks.json with serde_json; for
/// Cursor and Copilot nothing says comments are allowed, so they get strict JSON too.
fn comments_allowed(agent: Agent) -> bool {
    agent == Agent::Gemini
}

fn parse_options(agent: Agent) -> ParseOptions {
    ParseOptions {
        allow_comments: comments_allowed(agent),
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
    }
}

/// `text` with forewarn's entries merged in; nothing else in it changes.
fn edit(agent: Agent, file: &Path, text: &str, command: &str) -> Result<String, String> {
    check_syntax(agent, file, text)?;
    let refuse = |r: Refusal| {
        let line = line_of(agent, text, &r.path).map_or(String::new(), |l| format!(":{l}"));
        format!(
            "{}{line}: {}, so forewarn cannot add its entry safely; the file is unchanged. \
             Add it by hand (keeping what is there):\n{}",
            file.display(),
            r.what,
            by_hand(agent, command)
        )
    };
    let root = CstRootNode::parse(text, &parse_options(agent)).map_err(|e| {
        refuse(Refusal {
            path: Vec::new(),
            what: format!("cannot read it ({e})"),
        })
    })?;
    let fresh = root.value().is_none();
    let object = match root.value() {
        None => root.object_value_or_set(),
        Some(value) => value.as_object().ok_or_else(|| {
            refuse(Refusal {
                path: Vec::new(),
                what: "the top level is not a JSON object".into(),
            })
        })?,
    };
    merge(agent, &object, command).map_err(refuse)?;
    let mut out = root.to_string();
    if fresh && !out.ends_with('\n') {
        out.push_str(match root.newline_kind() {
            CstNewlineKind::CarriageReturnLineFeed => "\r\n",
            CstNewlineKind::LineFeed => "\n",
        });
    }
    Ok(out)
}

/// Refuses a file the agent itself would not read, before anything is changed: forewarn's entry
/// in it would never run, and the user should hear why now rather than find out later.
fn check_syntax(agent: Agent, file: &Path, text: &str) -> Result<(), String> {
    let (stripped, first_comment) = strip_comments(text);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let (false, Some(at)) = (comments_allowed(agent), first_comment) {
        return Err(format!(
            "{}:{}: a comment, which {} does not accept: it reads {name} as strict JSON and \
             ignores the whole file; remove the comment, then install again",
            file.display(),
            LineIndex::new(text).line_of(at) + 1,
            product(agent),
        ));
    }
    if stripped.trim().is_empty() {
        // Empty (or only comments): it becomes a settings object with forewarn's entry.
        return Ok(());
    }
    serde_json::from_str::<Value>(&stripped).map_err(|e| {
        let advice = if !e.to_string().starts_with("trailing comma") {
            "fix or move it, then install again".to_string()
        } else if comments_allowed(agent) {
            format!(
                "{} allows comments in {name} but not trailing commas; remove it, then install again",
                product(agent)
            )
        } else {
            format!(
                "{} reads {name} as strict JSON; remove it, then install again",
                product(agent)
            )
        };
        format!(
            "{}:{}:{}: not valid JSON ({e}); {advice}",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    Ok(())
}

/// `text` with its `//` and `/* */` comments blanked out (line ends kept, so positions in it are
/// positions in `text`), and where the first comment starts. Text inside strings is not a comment.
fn strip_comments(text: &str) -> (String, Option<usize>) {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut first = None;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let end = match (b, bytes.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                i += 1;
                continue;
            }
            (b'/', Some(b'/')) => bytes[i..]
                .iter()
                .position(|&c| c == b'\n' || c == b'\r')
                .map_or(bytes.len(), |n| i + n),
            (b'/', Some(b'*')) => bytes[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2),
            _ => {
                i += 1;
                continue;
            }
        };
        first.get_or_insert(i);
        for c in &mut out[i..end] {
            if !matches!(*c, b'\n' | b'\r' | b'\t') {
                *c = b' ';
            }
        }
        i = end;
    }
    // Only whole comments (from an ASCII `/` to a line end or `*/`) became spaces.
    (String::from_utf8(out).unwrap_or_default(), first)
}

/// What forewarn will not edit, and where: the keys from the top-level object to it.
#[derive(Debug)]
struct Refusal {
    path: Vec<String>,
    what: String,
}

impl Refusal {
    fn at(path: &[&str], what: impl Into<String>) -> Refusal {
        Refusal {
            path: path.iter().map(|k| k.to_string()).collect(),
            what: what.into(),
        }
    }
}

/// The 1-based line of the property at `path` in the original `text` (or of the top-level value).
fn line_of(agent: Agent, text: &str, path: &[String]) -> Option<usize> {
    let root = CstRootNode::parse(text, &parse_options(agent)).ok()?;
    let mut node: CstNode = root.value()?;
    for (i, key) in path.iter().enumerate() {
        let prop = node.as_object()?.get(key)?;
        // Inside a value on the way; at the property itself at the end.
        node = if i + 1 == path.len() {
            prop.into()
        } else {
            prop.value()?
        };
    }
    // A node's offset: the text of everything before it, inside each of its ancestors.
    let mut offset = 0;
    let mut current = node;
    while let Some(parent) = current.parent() {
        offset += current
            .previous_siblings()
            .map(|s| s.to_string().len())
            .sum::<usize>();
        current = parent.into();
    }
    Some(LineIndex::new(text).line_of(offset) + 1)
}

/// The entries to add by hand when forewarn will not edit the file itself.
fn by_hand(agent: Agent, command: &str) -> String {
    let mut hooks = Map::new();
    for (event, matcher) in events(agent) {
        hooks.insert(
            event.to_string(),
            Value::Array(vec![entry(agent, matcher, command)]),
        );
    }
    let mut root = Map::new();
    if matches!(agent, Agent::Cursor | Agent::Copilot) {
        root.insert("version".into(), json!(1));
    }
    root.insert("hooks".into(), Value::Object(hooks));
    serde_json::to_string_pretty(&root).unwrap_or_default()
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

/// The element forewarn adds to one event's list.
fn entry(agent: Agent, matcher: &str, command: &str) -> Value {
    match agent {
        // Gemini's timeout is in milliseconds.
        Agent::Gemini => json!({"matcher": matcher, "hooks": [
            {"name": "forewarn", "type": "command", "command": command, "timeout": TIMEOUT_SECS * 1000}
        ]}),
        Agent::Claude | Agent::Codex => json!({"matcher": matcher, "hooks": [
            {"type": "command", "command": command, "timeout": TIMEOUT_SECS}
        ]}),
        Agent::Cursor => json!({"command": command, "timeout": TIMEOUT_SECS}),
        Agent::Copilot => json!({
            "type": "command",
            "bash": command,
            "powershell": copilot_powershell(command),
            "timeoutSec": TIMEOUT_SECS,
        }),
    }
}

/// Copilot runs the `powershell` command with PowerShell, where a quoted program needs `&`.
fn copilot_powershell(command: &str) -> String {
    if command.starts_with(['"', '\'']) {
        format!("& {command}")
    } else {
        command.to_string()
    }
}

/// Adds (or updates) forewarn's handler for each event in `root`, in place.
fn merge(agent: Agent, root: &CstObject, command: &str) -> Result<(), Refusal> {
    if matches!(agent, Agent::Cursor | Agent::Copilot) && unique(root, &[], "version")?.is_none() {
        root.insert(0, "version", CstInputValue::Number("1".into()));
    }
    let hooks = match unique(root, &[], "hooks")? {
        Some(prop) => prop
            .object_value()
            .ok_or_else(|| Refusal::at(&["hooks"], "`hooks` is not an object"))?,
        None => root.object_value_or_set("hooks"),
    };
    for (event, matcher) in events(agent) {
        let list = match unique(&hooks, &["hooks"], event)? {
            Some(prop) => prop.array_value().ok_or_else(|| {
                Refusal::at(&["hooks", event], format!("`hooks.{event}` is not a list"))
            })?,
            None => hooks.array_value_or_set(event),
        };
        let updated = match agent {
            Agent::Claude | Agent::Codex | Agent::Gemini => list.elements().iter().any(|group| {
                let handlers = group
                    .as_object()
                    .and_then(|g| g.get("hooks"))
                    .and_then(|p| p.array_value());
                handlers.is_some_and(|h| update_ours(agent, &h.elements(), &[("command", command)]))
            }),
            Agent::Cursor => update_ours(agent, &list.elements(), &[("command", command)]),
            Agent::Copilot => update_ours(
                agent,
                &list.elements(),
                &[
                    ("bash", command),
                    ("powershell", &copilot_powershell(command)),
                ],
            ),
        };
        if !updated {
            // An entry written across lines goes into lists and objects written across lines:
            // each container on its way that sits on one line is opened up (its own elements
            // keep their text); containers already across lines are not touched.
            root.ensure_multiline();
            hooks.ensure_multiline();
            list.ensure_multiline();
            let new = entry(agent, matcher, command);
            let node = list.append(cst_input(&new));
            write_strings(&node, &new);
        }
    }
    Ok(())
}

/// The property `key` of `object` (at `path`), refusing a key given twice: the agent reads the
/// last one, and which one an edit should go into is a guess.
fn unique(
    object: &CstObject,
    path: &[&str],
    key: &str,
) -> Result<Option<jsonc_parser::cst::CstObjectProp>, Refusal> {
    let mut found = object
        .properties()
        .into_iter()
        .filter(|p| p.name().and_then(|n| n.decoded_value().ok()).as_deref() == Some(key));
    let first = found.next();
    if found.next().is_some() {
        let mut at = path.to_vec();
        at.push(key);
        return Err(Refusal::at(&at, format!("`{key}` is there more than once")));
    }
    Ok(first)
}

/// Finds forewarn's own handler among `handlers` (one of whose `keys` runs forewarn for this
/// agent) and sets those keys to the new commands. Whether there was one.
fn update_ours(agent: Agent, handlers: &[CstNode], keys: &[(&str, &str)]) -> bool {
    for handler in handlers.iter().filter_map(CstNode::as_object) {
        let ours = keys
            .iter()
            .any(|(key, _)| string_at(&handler, key).is_some_and(|c| is_ours(&c, agent)));
        if ours {
            for (key, value) in keys {
                set_string(&handler, key, value);
            }
            return true;
        }
    }
    false
}

fn string_at(object: &CstObject, key: &str) -> Option<String> {
    object
        .get(key)?
        .value()?
        .as_string_lit()?
        .decoded_value()
        .ok()
}

/// Sets `object.key` to the string `value`, touching nothing when it is that already.
fn set_string(object: &CstObject, key: &str, value: &str) {
    if string_at(object, key).as_deref() == Some(value) {
        return;
    }
    let prop = match object.get(key) {
        Some(prop) => {
            prop.set_value(CstInputValue::String(String::new()));
            prop
        }
        None => object.append(key, CstInputValue::String(String::new())),
    };
    if let Some(lit) = prop.value().and_then(|v| v.as_string_lit()) {
        lit.set_raw_value(json_string(value));
    }
}

fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `value` as a node to insert. Its strings are written properly by [`write_strings`] afterwards.
fn cst_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(cst_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), cst_input(v))).collect())
        }
    }
}

/// jsonc-parser escapes only `"` in the strings it inserts, so a backslash (a Windows path in the
/// command) would come out wrong: every string of an inserted value is rewritten as JSON.
fn write_strings(node: &CstNode, value: &Value) {
    match value {
        Value::String(s) => {
            if let Some(lit) = node.as_string_lit() {
                lit.set_raw_value(json_string(s));
            }
        }
        Value::Array(items) => {
            if let Some(array) = node.as_array() {
                for (n, v) in array.elements().iter().zip(items) {
                    write_strings(n, v);
                }
            }
        }
        Value::Object(map) => {
            if let Some(object) = node.as_object() {
                for (k, v) in map {
                    if let Some(n) = object.get(k).and_then(|p| p.value()) {
                        write_strings(&n, v);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEMINI: &str = "/bin/forewarn hook gemini";

    fn edited(agent: Agent, text: &str, command: &str) -> Result<String, String> {
        edit(agent, Path::new("settings.json"), text, command)
    }

    /// The value an agent that strips comments would read.
    fn value_of(text: &str) -> Value {
        serde_json::from_str(&strip_comments(text).0).unwrap()
    }

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
    fn gemini_comments_and_layout_stay_and_the_entry_goes_in_beside_them() {
        let before = r#"{
  // which model
  "model": { "name": "gemini-2.5-pro" }, // pinned
  /* hooks */
  "hooks": {
    "BeforeTool": [
      { "matcher": "write_file", "hooks": [ { "type": "command", "command": "./lint.sh" } ] } // lint
    ]
  }
  // end
}
"#;
        let after = edited(Agent::Gemini, before, GEMINI).unwrap();
        let expected = r#"{
  // which model
  "model": { "name": "gemini-2.5-pro" }, // pinned
  /* hooks */
  "hooks": {
    "BeforeTool": [
      { "matcher": "write_file", "hooks": [ { "type": "command", "command": "./lint.sh" } ] }, // lint
      {
        "matcher": "run_shell_command",
        "hooks": [
          {
            "name": "forewarn",
            "type": "command",
            "command": "/bin/forewarn hook gemini",
            "timeout": 10000
          }
        ]
      }
    ],
    "AfterTool": [
      {
        "matcher": "run_shell_command",
        "hooks": [
          {
            "name": "forewarn",
            "type": "command",
            "command": "/bin/forewarn hook gemini",
            "timeout": 10000
          }
        ]
      }
    ]
  }
  // end
}
"#;
        assert_eq!(after, expected);
        // Once in: nothing more to do.
        assert_eq!(edited(Agent::Gemini, &after, GEMINI).unwrap(), after);
    }

    #[test]
    fn a_moved_binary_changes_only_its_command() {
        let first = edited(Agent::Gemini, "{ /* mine */ \"a\": 1 }\n", GEMINI).unwrap();
        let moved = edited(Agent::Gemini, &first, "/new/forewarn hook gemini").unwrap();
        assert_eq!(
            moved,
            first.replace(
                "\"/bin/forewarn hook gemini\"",
                "\"/new/forewarn hook gemini\""
            )
        );
        assert!(moved.contains("/* mine */"));

        // Copilot's handler carries two commands: both follow.
        let first = edited(Agent::Copilot, "", "/bin/forewarn hook copilot").unwrap();
        let moved = edited(Agent::Copilot, &first, "'/my dir/forewarn' hook copilot").unwrap();
        let v = value_of(&moved);
        assert_eq!(v["hooks"]["preToolUse"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["hooks"]["preToolUse"][0]["bash"],
            "'/my dir/forewarn' hook copilot"
        );
        assert_eq!(
            v["hooks"]["preToolUse"][0]["powershell"],
            "& '/my dir/forewarn' hook copilot"
        );
    }

    #[test]
    fn crlf_files_keep_crlf_and_their_indentation() {
        let before =
            "{\r\n    \"model\": \"x\", // c\r\n    \"ui\": { \"theme\": \"Dark\" }\r\n}\r\n";
        let after = edited(Agent::Gemini, before, GEMINI).unwrap();
        assert!(after.starts_with("{\r\n    \"model\": \"x\", // c\r\n    \"ui\": { \"theme\": \"Dark\" },\r\n    \"hooks\": {\r\n        \"BeforeTool\": [\r\n"));
        assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
        assert_eq!(
            value_of(&after)["hooks"]["AfterTool"][0]["hooks"][0]["command"],
            GEMINI
        );
    }

    #[test]
    fn a_windows_path_is_written_as_a_json_string() {
        let command = r#""C:\Program Files\forewarn\forewarn.exe" hook gemini"#;
        let after = edited(Agent::Gemini, "{}", command).unwrap();
        let v = value_of(&after);
        assert_eq!(v["hooks"]["BeforeTool"][0]["hooks"][0]["command"], command);
        // And it is recognised as forewarn's on the next install.
        assert_eq!(edited(Agent::Gemini, &after, command).unwrap(), after);
    }

    #[test]
    fn empty_and_comment_only_files_get_a_settings_object() {
        let fresh = edited(Agent::Cursor, "", "/bin/forewarn hook cursor").unwrap();
        assert!(fresh.ends_with("}\n"), "{fresh}");
        let v = value_of(&fresh);
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["version", "hooks"]
        );
        let after = edited(Agent::Gemini, "// project settings\n", GEMINI).unwrap();
        assert!(after.starts_with("// project settings\n{"), "{after}");
        assert_eq!(
            value_of(&after)["hooks"]["BeforeTool"][0]["matcher"],
            "run_shell_command"
        );
    }

    #[test]
    fn files_the_agent_would_reject_are_refused_with_their_line() {
        // Claude Code reads strict JSON: a comment makes it drop the file.
        let e = edited(
            Agent::Claude,
            "{\n  \"model\": \"opus\" // mine\n}\n",
            "f hook claude",
        )
        .unwrap_err();
        assert!(
            e.starts_with("settings.json:2: ") && e.contains("Claude Code"),
            "{e}"
        );
        // Gemini CLI strips comments only: a trailing comma still breaks it.
        let e = edited(Agent::Gemini, "{\n  // ok\n  \"a\": [1, 2,],\n}\n", GEMINI).unwrap_err();
        assert!(
            e.starts_with("settings.json:3:") && e.contains("trailing commas"),
            "{e}"
        );
        let e = edited(Agent::Gemini, "{ \"hooks\": ", GEMINI).unwrap_err();
        assert!(e.contains("not valid JSON"), "{e}");
        // Deep nesting is an error, not a stack overflow.
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(edited(Agent::Gemini, &deep, GEMINI).is_err());
    }

    #[test]
    fn shapes_it_cannot_edit_are_refused_with_their_line_and_the_entry_to_add() {
        let e = edited(
            Agent::Claude,
            "{\n  \"a\": 1,\n  \"hooks\": []\n}",
            "f hook claude",
        )
        .unwrap_err();
        assert!(
            e.starts_with("settings.json:3: `hooks` is not an object"),
            "{e}"
        );
        // The entry to add by hand is the one install would have written.
        let snippet: Value = serde_json::from_str(e.split_once(":\n").unwrap().1).unwrap();
        assert_eq!(
            snippet["hooks"]["PreToolUse"][0],
            entry(Agent::Claude, "Bash|PowerShell", "f hook claude")
        );

        let e = edited(
            Agent::Cursor,
            "{\"version\": 1,\n \"hooks\": {\n  \"beforeShellExecution\": {}}}",
            "f hook cursor",
        )
        .unwrap_err();
        assert!(
            e.starts_with("settings.json:3: `hooks.beforeShellExecution` is not a list"),
            "{e}"
        );

        let e = edited(Agent::Gemini, "{\"hooks\": {},\n\"hooks\": {}}", GEMINI).unwrap_err();
        assert!(
            e.starts_with("settings.json:1: `hooks` is there more than once"),
            "{e}"
        );

        let e = edited(Agent::Gemini, "// x\n[1]", GEMINI).unwrap_err();
        assert!(
            e.starts_with("settings.json:2: the top level is not a JSON object"),
            "{e}"
        );
    }

    #[test]
    fn merges_beside_other_hooks_once() {
        let before = r#"{"model":"x","hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"./a.sh"}]}]}}"#;
        let once = edited(Agent::Claude, before, "/bin/forewarn hook claude").unwrap();
        assert_eq!(
            edited(Agent::Claude, &once, "/bin/forewarn hook claude").unwrap(),
            once
        );
        let v = value_of(&once);
        let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "./a.sh");
        assert_eq!(pre[1]["matcher"], "Bash|PowerShell");
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["model", "hooks"]
        );
    }

    #[test]
    fn a_one_line_file_is_opened_up_only_along_the_way_to_the_new_entry() {
        let before = r#"{"version": 1, "hooks": {"beforeShellExecution": [{"command": "./audit.sh", "timeout": 5}]}}"#;
        let after = edited(Agent::Cursor, before, "/bin/forewarn hook cursor").unwrap();
        let expected = r#"{
  "version": 1,
  "hooks": {
    "beforeShellExecution": [
      {"command": "./audit.sh", "timeout": 5},
      {
        "command": "/bin/forewarn hook cursor",
        "timeout": 10
      }
    ],
    "afterShellExecution": [
      {
        "command": "/bin/forewarn hook cursor",
        "timeout": 10
      }
    ]
  }
}"#;
        assert_eq!(after, expected);
    }

    /// The text of the comments of `text`, in order (in pieces split at blanks).
    fn comments(text: &str) -> Vec<String> {
        let (stripped, _) = strip_comments(text);
        let (a, b) = (text.as_bytes(), stripped.as_bytes());
        let mut out = Vec::new();
        let mut start = None;
        for i in 0..=a.len() {
            let differs = i < a.len() && a[i] != b[i];
            match (differs, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push(text[s..i].to_string());
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn awkward_files_keep_their_comments_and_get_exactly_one_entry() {
        let files = [
            r#"{"hooks": {"BeforeTool": [/* none yet */]}}"#,
            "{\"hooks\": {\"BeforeTool\": [ // none\n ]}}",
            "{ /* only */ }",
            "{\n  \"a\": 1 /* trailing block */\n}",
            "{\"hooks\": {} // c\n}",
            "{\n\t\"a\": \"\u{fc}n\u{ef}\", // \u{fc}n\u{ef}c\u{f8}d\u{e9} \u{2713}\n\t\"b\": [1, 2]\n}\n",
            r#"{"hooks":{"BeforeTool":[{"matcher":"run_shell_command","hooks":[{"type":"command","command":"/old/forewarn hook gemini"}]}]}}"#,
            r#"{"hooks": {"BeforeTool": [1, "x", {"hooks": ["x", 1, null, {"command": 5}]}]}}"#,
            "// head\n{} // tail\n",
        ];
        for before in files {
            let after =
                edited(Agent::Gemini, before, GEMINI).unwrap_or_else(|e| panic!("{before:?}: {e}"));
            assert_eq!(comments(&after), comments(before), "{after}");
            let v = value_of(&after);
            for event in ["BeforeTool", "AfterTool"] {
                let ours = v["hooks"][event]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|g| g["hooks"].as_array())
                    .flatten()
                    .filter(|h| h["command"] == GEMINI)
                    .count();
                assert_eq!(ours, 1, "{event} in {after}");
            }
            assert_eq!(edited(Agent::Gemini, &after, GEMINI).unwrap(), after);
        }
    }

    #[test]
    fn comments_are_found_outside_strings_only() {
        let text = "{\"url\": \"http://x/*y*/\", \"q\": \"a\\\"//b\"} // tail\n/* c\n */";
        let (stripped, first) = strip_comments(text);
        assert_eq!(first, Some(text.find("// tail").unwrap()));
        assert_eq!(stripped.len(), text.len());
        assert_eq!(
            value_of(text),
            json!({"url": "http://x/*y*/", "q": "a\"//b"})
        );
        assert_eq!(stripped.lines().count(), text.lines().count());
    }
}
