//! Codex CLI: Claude-shaped `PreToolUse` / `PostToolUse` for its `Bash` tool
//! (reference/agent-hooks.md §4). Codex rejects unknown output fields (a failed hook, so the
//! tool runs), so only the schema's fields are written: `hookSpecificOutput` with
//! `permissionDecision`/`permissionDecisionReason` or `additionalContext`, and `systemMessage`.
//! `PostToolUse` also fires after a non-zero exit, with the output as a plain string.

use serde_json::Value;

use super::dialect::{Incoming, Outcome, Reply};
use crate::script::Language;

fn shell_language(tool: &str) -> Option<Language> {
    // `Bash` is the documented name; older builds named the shell tool after its handler.
    matches!(tool, "Bash" | "shell" | "local_shell" | "exec_command").then_some(Language::Bash)
}

pub fn parse(payload: &Value) -> Result<Incoming, String> {
    let inc = super::claude::parse_with(payload, shell_language)?;
    if inc.event_name == "PostToolUseFailure" {
        return Err("unknown event `PostToolUseFailure` (Codex sends PostToolUse)".into());
    }
    Ok(inc)
}

pub fn render(incoming: &Incoming, outcome: &Outcome) -> Reply {
    super::claude::render(incoming, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::dialect::HookEvent;
    use serde_json::json;

    #[test]
    fn reads_the_documented_payloads() {
        let pre = json!({"session_id":"s","turn_id":"t","transcript_path":null,"cwd":"/repo",
            "hook_event_name":"PreToolUse","model":"gpt","permission_mode":"default",
            "tool_name":"Bash","tool_use_id":"c","tool_input":{"command":"rm -rf build"}});
        assert!(
            matches!(parse(&pre).unwrap().event, HookEvent::Before { ref command, .. } if command == "rm -rf build")
        );
        let post = json!({"hook_event_name":"PostToolUse","tool_name":"Bash","cwd":"/repo",
            "tool_input":{"command":"python x"},"tool_response":"Process exited with code 127\npython: command not found"});
        match parse(&post).unwrap().event {
            HookEvent::After { output, .. } => assert!(output.ends_with("command not found")),
            e => panic!("{e:?}"),
        }
        let patch = json!({"hook_event_name":"PreToolUse","tool_name":"apply_patch","tool_input":{"command":"x"}});
        assert!(parse(&patch).is_err());
    }
}
