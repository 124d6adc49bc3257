//! GitHub Copilot (CLI and coding agent): `preToolUse` / `postToolUse` / `postToolUseFailure`
//! for its `bash` and `powershell` tools (reference/agent-hooks.md §5).
//!
//! Two payload formats: camelCase (`toolName`, `toolArgs` as a JSON string or an object, and no
//! event name: the event is told by its fields) when configured as `preToolUse`, and snake_case
//! with `hook_event_name` when configured as `PreToolUse`. Deny is
//! `{permissionDecision: "deny", permissionDecisionReason}`; preToolUse has no field that reaches
//! the agent without approving, so a warning goes to the hook log only. postToolUseFailure takes
//! `{additionalContext}` as recovery guidance.

use serde_json::{json, Value};

use super::dialect::{
    capped, command_in, cwd_of, output_of, str_field, Decision, HookEvent, Incoming, Outcome, Reply,
};
use crate::script::Language;

fn shell_language(tool: &str) -> Option<Language> {
    match tool {
        "bash" => Some(Language::Bash),
        "powershell" => Some(Language::PowerShell),
        _ => None,
    }
}

pub fn parse(payload: &Value) -> Result<Incoming, String> {
    let snake = payload.get("hook_event_name").is_some();
    let (tool_key, args_key, result_key) = if snake {
        ("tool_name", "tool_input", "tool_result")
    } else {
        ("toolName", "toolArgs", "toolResult")
    };
    let event_name = match str_field(payload, "hook_event_name") {
        Some(name) => name.to_string(),
        None if payload.get("error").is_some() => "postToolUseFailure".into(),
        None if payload.get(result_key).is_some() => "postToolUse".into(),
        None if payload.get(tool_key).is_some() => "preToolUse".into(),
        None => return Err("the payload is not a tool event (no toolName)".into()),
    };
    let kind = event_name.to_ascii_lowercase();
    if !matches!(
        kind.as_str(),
        "pretooluse" | "posttooluse" | "posttoolusefailure"
    ) {
        return Err(format!("unknown event `{event_name}`"));
    }
    let tool = str_field(payload, tool_key).unwrap_or("");
    let language = shell_language(tool)
        .ok_or_else(|| format!("{event_name} for tool `{tool}`, which is not a shell"))?;
    let command = payload
        .get(args_key)
        .and_then(command_in)
        .ok_or_else(|| format!("{event_name} for `{tool}` has no command in {args_key}"))?;
    let cwd = cwd_of(payload);
    let output = match kind.as_str() {
        "pretooluse" => None,
        "posttoolusefailure" => Some(output_of(payload, "error")),
        _ => Some(output_of(payload, result_key)),
    };
    let event = HookEvent::new(command, language, cwd, output);
    Ok(Incoming {
        event,
        event_name,
        snake_case: snake,
    })
}

pub fn render(incoming: &Incoming, outcome: &Outcome) -> Reply {
    match outcome {
        Outcome::Before(Decision::Deny(m)) => Reply::json(json!({
            "permissionDecision": "deny",
            "permissionDecisionReason": capped(&m.agent),
        })),
        Outcome::After(Some(m))
            if incoming
                .event_name
                .eq_ignore_ascii_case("postToolUseFailure") =>
        {
            Reply::json(json!({"additionalContext": capped(&m.agent)}))
        }
        _ => Reply::silent(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::dialect::Message;

    #[test]
    fn reads_both_payload_formats() {
        let camel = json!({"timestamp":1704614600000u64,"cwd":"/p","toolName":"bash",
            "toolArgs":"{\"command\":\"rm -rf dist\",\"description\":\"Clean\"}"});
        let inc = parse(&camel).unwrap();
        assert_eq!(inc.event_name, "preToolUse");
        assert!(
            matches!(inc.event, HookEvent::Before { ref command, .. } if command == "rm -rf dist")
        );
        let object_args =
            json!({"cwd":"/p","toolName":"powershell","toolArgs":{"command":"Get-LocalUser"}});
        assert!(matches!(
            parse(&object_args).unwrap().event,
            HookEvent::Before {
                language: Language::PowerShell,
                ..
            }
        ));
        let failure = json!({"cwd":"/p","toolName":"bash","toolArgs":{"command":"python x"},
            "error":"python: command not found"});
        let inc = parse(&failure).unwrap();
        assert_eq!(inc.event_name, "postToolUseFailure");
        let snake = json!({"hook_event_name":"PreToolUse","session_id":"s","cwd":"/p",
            "tool_name":"bash","tool_input":{"command":"ls"}});
        assert!(parse(&snake).unwrap().snake_case);
        let edit = json!({"toolName":"edit","toolArgs":{}});
        assert!(parse(&edit).is_err());
    }

    #[test]
    fn renders_deny_and_failure_guidance() {
        let m = Message {
            agent: "a".into(),
            user: "u".into(),
        };
        let pre = parse(&json!({"toolName":"bash","toolArgs":{"command":"x"}})).unwrap();
        assert_eq!(
            render(&pre, &Outcome::Before(Decision::Deny(m.clone()))).stdout,
            Some(json!({"permissionDecision":"deny","permissionDecisionReason":"a"}))
        );
        assert_eq!(
            render(&pre, &Outcome::Before(Decision::Warn(m.clone()))),
            Reply::silent()
        );
        let fail =
            parse(&json!({"toolName":"bash","toolArgs":{"command":"x"},"error":"e"})).unwrap();
        assert_eq!(
            render(&fail, &Outcome::After(Some(m))).stdout,
            Some(json!({"additionalContext":"a"}))
        );
    }
}
