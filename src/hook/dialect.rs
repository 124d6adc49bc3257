//! What every agent dialect shares: the neutral event a payload is read into, the neutral
//! decision forewarn takes, the reply a dialect renders from it, and the helpers that dig a
//! command and its output out of each agent's JSON.
//!
//! Each agent module (`claude`, `codex`, `cursor`, `gemini`, `copilot`) only maps its own field
//! names and output shapes onto these types, so the decision logic never knows which agent asked.

use std::path::PathBuf;

use serde_json::Value;

use crate::script::Language;

/// The agents forewarn speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    Claude,
    Codex,
    Cursor,
    Gemini,
    Copilot,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Cursor,
        Agent::Gemini,
        Agent::Copilot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Cursor => "cursor",
            Agent::Gemini => "gemini",
            Agent::Copilot => "copilot",
        }
    }

    pub fn from_name(name: &str) -> Option<Agent> {
        let name = name.trim().to_ascii_lowercase();
        let name = match name.as_str() {
            "claude-code" | "claudecode" => "claude",
            "gemini-cli" => "gemini",
            "copilot-cli" | "github-copilot" => "copilot",
            "codex-cli" => "codex",
            other => other,
        };
        Agent::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Reads one payload. `Err` says why it is not something forewarn acts on (a malformed
    /// payload, an unknown event, a tool that is not a shell): the caller allows and says so.
    pub fn parse(self, payload: &Value) -> Result<Incoming, String> {
        if !payload.is_object() {
            return Err("the payload is not a JSON object".into());
        }
        match self {
            Agent::Claude => super::claude::parse(payload),
            Agent::Codex => super::codex::parse(payload),
            Agent::Cursor => super::cursor::parse(payload),
            Agent::Gemini => super::gemini::parse(payload),
            Agent::Copilot => super::copilot::parse(payload),
        }
    }

    /// The agent's answer to `incoming`, given what forewarn decided.
    pub fn render(self, incoming: &Incoming, outcome: &Outcome) -> Reply {
        match self {
            Agent::Claude => super::claude::render(incoming, outcome),
            Agent::Codex => super::codex::render(incoming, outcome),
            Agent::Cursor => super::cursor::render(incoming, outcome),
            Agent::Gemini => super::gemini::render(incoming, outcome),
            Agent::Copilot => super::copilot::render(incoming, outcome),
        }
    }
}

/// What the agent is about to do, or just did, in forewarn's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// A shell command is about to run.
    Before {
        command: String,
        language: Language,
        cwd: Option<PathBuf>,
    },
    /// A shell command ran (or failed); `output` is everything it printed that the agent saw.
    After {
        command: String,
        language: Language,
        output: String,
        cwd: Option<PathBuf>,
    },
}

impl HookEvent {
    /// `Before` while the command has not run (`output` is `None`), else `After` with what it
    /// printed: every dialect's events come down to this.
    pub fn new(
        command: String,
        language: Language,
        cwd: Option<PathBuf>,
        output: Option<String>,
    ) -> HookEvent {
        match output {
            None => HookEvent::Before {
                command,
                language,
                cwd,
            },
            Some(output) => HookEvent::After {
                command,
                language,
                output,
                cwd,
            },
        }
    }

    pub fn cwd(&self) -> Option<&std::path::Path> {
        match self {
            HookEvent::Before { cwd, .. } | HookEvent::After { cwd, .. } => cwd.as_deref(),
        }
    }
}

/// A parsed payload: the neutral event plus what the dialect needs to answer it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub event: HookEvent,
    /// The event name as the agent sent it (Claude echoes it in `hookEventName`).
    pub event_name: String,
    /// Whether the payload used snake_case keys (Copilot's VS Code-compatible format).
    pub snake_case: bool,
}

/// Text for the agent (full: what fails, why, what to run instead) and for the person watching
/// (one line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub agent: String,
    pub user: String,
}

/// What forewarn decided about a command before it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing known: say nothing, the agent's normal permission flow applies.
    Allow,
    /// Known to fail below the blocking level: let it run, tell the agent.
    Warn(Message),
    /// Known to fail at or above the blocking level: stop it, tell the agent why and what instead.
    Deny(Message),
}

/// forewarn's answer to one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Before(Decision),
    /// After a command: the recognised failure and its fix, if any.
    After(Option<Message>),
}

/// What the process prints and returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// The JSON object for stdout; `None` prints nothing.
    pub stdout: Option<Value>,
    pub exit: u8,
}

impl Reply {
    pub fn silent() -> Reply {
        Reply::default()
    }

    pub fn json(v: Value) -> Reply {
        Reply {
            stdout: Some(v),
            exit: 0,
        }
    }
}

/// Agents cap hook text (Claude: 10,000 characters, then it spills to a file); stay under it.
pub const MAX_TEXT: usize = 9_000;

/// `text` cut to [`MAX_TEXT`] characters on a character boundary, marked when cut.
pub fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        None => text.to_string(),
        Some((i, _)) => format!("{}\n[… truncated by forewarn]", &text[..i]),
    }
}

/// A non-empty string field.
pub fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The working directory: `cwd` when present and non-empty (Cursor sometimes sends ""), else
/// the first workspace root.
pub fn cwd_of(v: &Value) -> Option<PathBuf> {
    str_field(v, "cwd")
        .or_else(|| {
            ["workspace_roots", "workspaceRoots"].iter().find_map(|k| {
                v.get(*k)
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
        })
        .map(PathBuf::from)
}

/// The command in a tool's arguments. Agents send `{"command": "…"}`, some Codex versions
/// `{"command": ["bash", "-lc", "…"]}`, and Copilot a JSON *string* holding the object.
pub fn command_in(args: &Value) -> Option<String> {
    match args {
        Value::String(s) => {
            let inner: Value = serde_json::from_str(s).ok()?;
            if inner.is_string() {
                return None;
            }
            command_in(&inner)
        }
        Value::Object(map) => match map.get("command")? {
            Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
            Value::Array(words) => {
                let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
                argv_to_command(&words)
            }
            _ => None,
        },
        _ => None,
    }
}

/// An argv as a command line: the script of `bash -lc SCRIPT` (what Codex sends), else the
/// words joined with blanks.
fn argv_to_command(words: &[&str]) -> Option<String> {
    if let [shell, flag, script, ..] = words {
        let shell = shell.rsplit('/').next().unwrap_or(shell);
        if matches!(shell, "bash" | "sh" | "zsh" | "dash")
            && flag.starts_with('-')
            && flag.contains('c')
        {
            return Some(script.to_string());
        }
    }
    let joined = words.join(" ");
    (!joined.trim().is_empty()).then_some(joined)
}

/// Every piece of text in a tool's result the agent would read: a plain string, or the text
/// fields of a result object (Claude `stdout`/`stderr`, Gemini `llmContent`/`error`, Copilot
/// `textResultForLlm`, …).
/// The text of `payload[key]`, as [`output_text`] gives it (empty when absent).
pub fn output_of(payload: &Value, key: &str) -> String {
    payload.get(key).map(output_text).unwrap_or_default()
}

pub fn output_text(v: &Value) -> String {
    let mut out = String::new();
    collect_text(v, &mut out, 0);
    out
}

const TEXT_KEYS: [&str; 11] = [
    "stdout",
    "stderr",
    "output",
    "error",
    "error_message",
    "llmContent",
    "textResultForLlm",
    "text_result_for_llm",
    "result",
    "message",
    "text",
];

fn collect_text(v: &Value, out: &mut String, depth: usize) {
    if depth > 4 {
        return;
    }
    match v {
        Value::String(s) if !s.is_empty() => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
        Value::Array(items) => {
            for item in items {
                collect_text(item, out, depth + 1);
            }
        }
        Value::Object(map) => {
            let before = out.len();
            for key in TEXT_KEYS {
                if let Some(field) = map.get(key) {
                    collect_text(field, out, depth + 1);
                }
            }
            // Gemini's display text repeats llmContent; read it only when nothing else was there.
            if out.len() == before {
                if let Some(display) = map.get("returnDisplay") {
                    collect_text(display, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_come_from_objects_strings_and_argvs() {
        assert_eq!(
            command_in(&json!({"command": "ls -l"})).as_deref(),
            Some("ls -l")
        );
        assert_eq!(
            command_in(&json!(
                "{\"command\":\"rm -rf dist\",\"description\":\"x\"}"
            ))
            .as_deref(),
            Some("rm -rf dist")
        );
        assert_eq!(
            command_in(&json!({"command": ["bash", "-lc", "python x.py"]})).as_deref(),
            Some("python x.py")
        );
        assert_eq!(
            command_in(&json!({"command": ["git", "status"]})).as_deref(),
            Some("git status")
        );
        assert_eq!(command_in(&json!({"command": "  "})), None);
        assert_eq!(command_in(&json!({"path": "x"})), None);
        assert_eq!(command_in(&json!("not json")), None);
        assert_eq!(command_in(&json!(3)), None);
    }

    #[test]
    fn output_reads_every_text_field_once() {
        let claude = json!({"stdout": "out", "stderr": "err", "interrupted": false});
        assert_eq!(output_text(&claude), "out\nerr");
        let gemini = json!({"llmContent": "Stdout: x", "returnDisplay": "x", "error": "boom"});
        assert_eq!(output_text(&gemini), "boom\nStdout: x");
        assert_eq!(output_text(&json!({"returnDisplay": "only"})), "only");
        assert_eq!(output_text(&json!("flat")), "flat");
        assert_eq!(output_text(&json!(null)), "");
    }

    #[test]
    fn cwd_falls_back_to_the_workspace_root() {
        assert_eq!(
            cwd_of(&json!({"cwd": "", "workspace_roots": ["/p"]})),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(cwd_of(&json!({"cwd": "/a"})), Some(PathBuf::from("/a")));
        assert_eq!(cwd_of(&json!({})), None);
    }

    #[test]
    fn long_text_is_capped() {
        let long = "é".repeat(MAX_TEXT + 10);
        let c = capped(&long);
        assert!(c.chars().count() < MAX_TEXT + 40);
        assert!(c.ends_with("[… truncated by forewarn]"));
        assert_eq!(capped("short"), "short");
    }

    #[test]
    fn agents_by_name() {
        assert_eq!(Agent::from_name("Claude"), Some(Agent::Claude));
        assert_eq!(Agent::from_name("gemini-cli"), Some(Agent::Gemini));
        assert_eq!(Agent::from_name("windsurf"), None);
    }
}
