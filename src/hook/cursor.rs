//! Cursor: `beforeShellExecution` / `afterShellExecution`, and the generic `preToolUse` /
//! `postToolUse` / `postToolUseFailure` for its `Shell` tool (reference/agent-hooks.md §2).
//!
//! `beforeShellExecution` answers `{permission, user_message, agent_message}`. `"allow"` runs the
//! command without asking the user, so a warning carries only the two messages. The generic
//! `preToolUse` answers `{decision, reason}` and has no field for a warning. The after-events are
//! fire-and-forget: forewarn records the failure and prints nothing.

use serde_json::{json, Value};

use super::dialect::{
    capped, command_in, cwd_of, output_of, str_field, Decision, HookEvent, Incoming, Outcome, Reply,
};
use crate::script::Language;

pub fn parse(payload: &Value) -> Result<Incoming, String> {
    let event_name = str_field(payload, "hook_event_name")
        .ok_or("the payload has no hook_event_name")?
        .to_string();
    let cwd = cwd_of(payload);
    let language = Language::Bash;
    let event = match event_name.as_str() {
        "beforeShellExecution" => {
            HookEvent::new(shell_command(payload, &event_name)?, language, cwd, None)
        }
        "afterShellExecution" => HookEvent::new(
            shell_command(payload, &event_name)?,
            language,
            cwd,
            Some(output_of(payload, "output")),
        ),
        "preToolUse" | "postToolUse" | "postToolUseFailure" => {
            let tool = str_field(payload, "tool_name").unwrap_or("");
            if tool != "Shell" {
                return Err(format!(
                    "{event_name} for tool `{tool}`, which is not a shell"
                ));
            }
            let input = payload.get("tool_input");
            let command = input
                .and_then(command_in)
                .ok_or_else(|| format!("{event_name} has no tool_input.command"))?;
            let cwd = cwd.or_else(|| {
                input
                    .and_then(|i| str_field(i, "working_directory"))
                    .map(Into::into)
            });
            let output = match event_name.as_str() {
                "preToolUse" => None,
                "postToolUse" => Some(output_of(payload, "tool_output")),
                _ => Some(output_of(payload, "error_message")),
            };
            HookEvent::new(command, language, cwd, output)
        }
        other => return Err(format!("unknown event `{other}`")),
    };
    Ok(Incoming {
        event,
        event_name,
        snake_case: true,
    })
}

fn shell_command(payload: &Value, event: &str) -> Result<String, String> {
    str_field(payload, "command")
        .filter(|c| !c.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("{event} has no command"))
}

pub fn render(incoming: &Incoming, outcome: &Outcome) -> Reply {
    let generic = incoming.event_name == "preToolUse";
    match outcome {
        Outcome::Before(Decision::Deny(m)) if generic => {
            Reply::json(json!({"decision": "deny", "reason": capped(&m.agent)}))
        }
        Outcome::Before(Decision::Deny(m)) => Reply::json(json!({
            "permission": "deny",
            "user_message": capped(&m.user),
            "agent_message": capped(&m.agent),
        })),
        Outcome::Before(Decision::Warn(m)) if !generic => Reply::json(json!({
            "user_message": capped(&m.user),
            "agent_message": capped(&m.agent),
        })),
        _ => Reply::silent(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::dialect::Message;

    fn msg() -> Message {
        Message {
            agent: "a".into(),
            user: "u".into(),
        }
    }

    #[test]
    fn reads_shell_and_generic_events() {
        let before = json!({"hook_event_name":"beforeShellExecution","command":"python x.py","cwd":"",
            "workspace_roots":["/p"]});
        assert_eq!(
            parse(&before).unwrap().event,
            HookEvent::Before {
                command: "python x.py".into(),
                language: Language::Bash,
                cwd: Some("/p".into())
            }
        );
        let after = json!({"hook_event_name":"afterShellExecution","command":"x","output":"boom","duration":3});
        assert!(
            matches!(parse(&after).unwrap().event, HookEvent::After { ref output, .. } if output == "boom")
        );
        let failure = json!({"hook_event_name":"postToolUseFailure","tool_name":"Shell",
            "tool_input":{"command":"npm test"},"cwd":"/project","error_message":"Command timed out",
            "failure_type":"timeout"});
        assert!(
            matches!(parse(&failure).unwrap().event, HookEvent::After { ref output, .. } if output == "Command timed out")
        );
        let read = json!({"hook_event_name":"preToolUse","tool_name":"Read","tool_input":{}});
        assert!(parse(&read).is_err());
        assert!(parse(&json!({"hook_event_name":"stop"})).is_err());
    }

    #[test]
    fn warning_never_grants_permission() {
        let inc = parse(&json!({"hook_event_name":"beforeShellExecution","command":"x"})).unwrap();
        let warn = render(&inc, &Outcome::Before(Decision::Warn(msg())));
        assert_eq!(
            warn.stdout,
            Some(json!({"user_message": "u", "agent_message": "a"}))
        );
        let deny = render(&inc, &Outcome::Before(Decision::Deny(msg())));
        assert_eq!(deny.stdout.unwrap()["permission"], "deny");
    }
}
