//! Gemini CLI: `BeforeTool` / `AfterTool` on `run_shell_command` (reference/agent-hooks.md §3).
//!
//! Deny is `{decision: "deny", reason}` (the reason reaches the agent as a tool error). BeforeTool
//! has no documented field that reaches the agent without denying, so a warning is a
//! `systemMessage` for the user. AfterTool appends `hookSpecificOutput.additionalContext` to the
//! tool result. Gemini runs commands with `bash -c`, and on Windows with PowerShell.

use std::path::Path;

use serde_json::{json, Value};

use super::dialect::{
    capped, command_in, cwd_of, output_of, str_field, Decision, HookEvent, Incoming, Outcome, Reply,
};
use crate::script::Language;

const SHELL_TOOL: &str = "run_shell_command";

/// Gemini's shell is PowerShell on Windows. The hook runs on the agent's machine, so this
/// process's platform says which; a Windows-style `cwd` says so too.
fn shell_language(cwd: Option<&Path>) -> Language {
    let windows_cwd = cwd.and_then(Path::to_str).is_some_and(|c| {
        let b = c.as_bytes();
        c.starts_with("\\\\") || (b.len() >= 3 && b[0].is_ascii_alphabetic() && &b[1..3] == b":\\")
    });
    if cfg!(windows) || windows_cwd {
        Language::PowerShell
    } else {
        Language::Bash
    }
}

pub fn parse(payload: &Value) -> Result<Incoming, String> {
    let event_name = str_field(payload, "hook_event_name")
        .ok_or("the payload has no hook_event_name")?
        .to_string();
    if event_name != "BeforeTool" && event_name != "AfterTool" {
        return Err(format!("unknown event `{event_name}`"));
    }
    let tool = str_field(payload, "tool_name").unwrap_or("");
    if tool != SHELL_TOOL {
        return Err(format!(
            "{event_name} for tool `{tool}`, which is not a shell"
        ));
    }
    let input = payload.get("tool_input");
    let command = input
        .and_then(command_in)
        .ok_or_else(|| format!("{event_name} has no tool_input.command"))?;
    let cwd = input
        .and_then(|i| str_field(i, "dir_path").or_else(|| str_field(i, "directory")))
        .map(Into::into)
        .filter(|d: &std::path::PathBuf| d.is_absolute())
        .or_else(|| cwd_of(payload));
    let language = shell_language(cwd.as_deref());
    let output = (event_name != "BeforeTool").then(|| output_of(payload, "tool_response"));
    let event = HookEvent::new(command, language, cwd, output);
    Ok(Incoming {
        event,
        event_name,
        snake_case: true,
    })
}

pub fn render(incoming: &Incoming, outcome: &Outcome) -> Reply {
    match outcome {
        Outcome::Before(Decision::Allow) | Outcome::After(None) => Reply::silent(),
        Outcome::Before(Decision::Deny(m)) => Reply::json(json!({
            "decision": "deny",
            "reason": capped(&m.agent),
            "systemMessage": capped(&m.user),
        })),
        Outcome::Before(Decision::Warn(m)) => Reply::json(json!({
            "systemMessage": capped(&format!("{}\n{}", m.user, m.agent)),
        })),
        Outcome::After(Some(m)) => Reply::json(json!({
            "hookSpecificOutput": {
                "hookEventName": incoming.event_name,
                "additionalContext": capped(&m.agent),
            },
            "systemMessage": capped(&m.user),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_before_and_after() {
        let before = json!({"session_id":"s","cwd":"/p","hook_event_name":"BeforeTool",
            "timestamp":"2025-12-01T10:30:00Z","tool_name":"run_shell_command",
            "tool_input":{"command":"python x.py","description":"d"}});
        assert_eq!(
            parse(&before).unwrap().event,
            HookEvent::Before {
                command: "python x.py".into(),
                language: if cfg!(windows) {
                    Language::PowerShell
                } else {
                    Language::Bash
                },
                cwd: Some("/p".into())
            }
        );
        let after = json!({"cwd":"/p","hook_event_name":"AfterTool","tool_name":"run_shell_command",
            "tool_input":{"command":"python x.py"},
            "tool_response":{"llmContent":"Stderr: python: command not found","returnDisplay":"x"}});
        assert!(
            matches!(parse(&after).unwrap().event, HookEvent::After { ref output, .. } if output.contains("command not found"))
        );
        let read = json!({"hook_event_name":"BeforeTool","tool_name":"read_file","tool_input":{}});
        assert!(parse(&read).is_err());
    }

    #[test]
    fn windows_paths_mean_powershell() {
        assert_eq!(
            shell_language(Some(Path::new("C:\\Users\\me"))),
            Language::PowerShell
        );
        assert_eq!(
            shell_language(Some(Path::new("\\\\srv\\share"))),
            Language::PowerShell
        );
    }
}
