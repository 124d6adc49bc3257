//! Claude Code: `PreToolUse` for the `Bash` and `PowerShell` tools, `PostToolUse` and
//! `PostToolUseFailure` (reference/agent-hooks.md §1).
//!
//! Deny is `hookSpecificOutput.permissionDecision: "deny"` with the reason Claude reads; a
//! warning is `additionalContext` alone, with no `permissionDecision`, because "allow" would skip
//! the user's permission prompt (§1.5). Everything exits 0: the JSON decides.

use serde_json::{json, Map, Value};

use super::dialect::{
    capped, command_in, cwd_of, output_of, str_field, Decision, HookEvent, Incoming, Outcome, Reply,
};
use crate::script::Language;

/// Claude's shell tools and the language their commands are in.
fn shell_language(tool: &str) -> Option<Language> {
    match tool {
        "Bash" => Some(Language::Bash),
        "PowerShell" => Some(Language::PowerShell),
        _ => None,
    }
}

pub fn parse(payload: &Value) -> Result<Incoming, String> {
    parse_with(payload, shell_language)
}

/// The Claude-shaped payload (Codex sends the same), with the dialect's own shell tools.
pub(crate) fn parse_with(
    payload: &Value,
    shell_language: fn(&str) -> Option<Language>,
) -> Result<Incoming, String> {
    let event_name = str_field(payload, "hook_event_name")
        .ok_or("the payload has no hook_event_name")?
        .to_string();
    let tool = str_field(payload, "tool_name").unwrap_or("");
    let language = match event_name.as_str() {
        "PreToolUse" | "PostToolUse" | "PostToolUseFailure" => shell_language(tool)
            .ok_or_else(|| format!("{event_name} for tool `{tool}`, which is not a shell"))?,
        other => return Err(format!("unknown event `{other}`")),
    };
    let command = payload
        .get("tool_input")
        .and_then(command_in)
        .ok_or_else(|| format!("{event_name} for `{tool}` has no tool_input.command"))?;
    let cwd = cwd_of(payload);
    let output = match event_name.as_str() {
        "PreToolUse" => None,
        "PostToolUseFailure" => Some(output_of(payload, "error")),
        _ => Some(output_of(payload, "tool_response")),
    };
    let event = HookEvent::new(command, language, cwd, output);
    Ok(Incoming {
        event,
        event_name,
        snake_case: true,
    })
}

pub fn render(incoming: &Incoming, outcome: &Outcome) -> Reply {
    let event = incoming.event_name.as_str();
    let (specific, system) = match outcome {
        Outcome::Before(Decision::Allow) | Outcome::After(None) => return Reply::silent(),
        Outcome::Before(Decision::Deny(m)) => (
            json!({
                "hookEventName": event,
                "permissionDecision": "deny",
                "permissionDecisionReason": capped(&m.agent),
            }),
            &m.user,
        ),
        Outcome::Before(Decision::Warn(m)) | Outcome::After(Some(m)) => (
            json!({"hookEventName": event, "additionalContext": capped(&m.agent)}),
            &m.user,
        ),
    };
    let mut out = Map::new();
    out.insert("hookSpecificOutput".into(), specific);
    out.insert("systemMessage".into(), Value::String(capped(system)));
    Reply::json(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::dialect::Message;

    fn msg() -> Message {
        Message {
            agent: "for the agent".into(),
            user: "for the user".into(),
        }
    }

    #[test]
    fn reads_pre_and_post_payloads() {
        let pre = json!({"hook_event_name": "PreToolUse", "tool_name": "PowerShell", "cwd": "/p",
                         "tool_input": {"command": "Get-LocalUser"}});
        let inc = parse(&pre).unwrap();
        assert_eq!(
            inc.event,
            HookEvent::Before {
                command: "Get-LocalUser".into(),
                language: Language::PowerShell,
                cwd: Some("/p".into())
            }
        );
        let fail = json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
                          "tool_input": {"command": "npm test"}, "error": "Exit code 1\nboom"});
        match parse(&fail).unwrap().event {
            HookEvent::After { output, .. } => assert_eq!(output, "Exit code 1\nboom"),
            e => panic!("{e:?}"),
        }
        let post = json!({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                          "tool_input": {"command": "x"}, "tool_response": {"stdout": "o", "stderr": "e"}});
        match parse(&post).unwrap().event {
            HookEvent::After { output, .. } => assert_eq!(output, "o\ne"),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn refuses_other_tools_and_events() {
        let read = json!({"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {"file_path": "x"}});
        assert!(parse(&read).unwrap_err().contains("not a shell"));
        let stop = json!({"hook_event_name": "Stop"});
        assert!(parse(&stop).unwrap_err().contains("unknown event"));
        assert!(parse(&json!({"tool_name": "Bash"})).is_err());
    }

    #[test]
    fn renders_deny_warn_and_silence() {
        let inc = Incoming {
            event: HookEvent::Before {
                command: "x".into(),
                language: Language::Bash,
                cwd: None,
            },
            event_name: "PreToolUse".into(),
            snake_case: true,
        };
        let deny = render(&inc, &Outcome::Before(Decision::Deny(msg())));
        assert_eq!(
            deny.stdout.unwrap()["hookSpecificOutput"],
            json!({"hookEventName": "PreToolUse", "permissionDecision": "deny",
                   "permissionDecisionReason": "for the agent"})
        );
        let warn = render(&inc, &Outcome::Before(Decision::Warn(msg())))
            .stdout
            .unwrap();
        assert_eq!(
            warn["hookSpecificOutput"],
            json!({"hookEventName": "PreToolUse", "additionalContext": "for the agent"})
        );
        assert!(warn["hookSpecificOutput"]
            .get("permissionDecision")
            .is_none());
        assert_eq!(warn["systemMessage"], "for the user");
        assert_eq!(
            render(&inc, &Outcome::Before(Decision::Allow)),
            Reply::silent()
        );
    }
}
