//! `forewarn hook install AGENT`: merged into existing settings, idempotent, backed up, and
//! `--print` writes nothing. The real binary, in a temp project and a temp HOME.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");

struct Dirs {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    home: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    Dirs {
        _tmp: tmp,
        project,
        home,
    }
}

fn install(d: &Dirs, args: &[&str]) -> Output {
    let out = Command::new(EXE)
        .current_dir(&d.project)
        .env("HOME", &d.home)
        .env_remove("CODEX_HOME")
        .args(["hook", "install"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn command_for(agent: &str) -> String {
    format!("{EXE} hook {agent}")
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bak"))
        .collect();
    v.sort();
    v
}

const CLAUDE_SETTINGS: &str = r#"{
  "permissions": {"allow": ["Bash(git status)"]},
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      {"matcher": "Bash", "hooks": [{"type": "command", "command": "./.claude/hooks/block-rm.sh"}]}
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "./notify.sh"}]}]
  }
}
"#;

#[test]
fn claude_project_install_merges_backs_up_and_is_idempotent() {
    let d = dirs();
    let file = d.project.join(".claude/settings.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, CLAUDE_SETTINGS).unwrap();

    install(&d, &["claude", "--project"]);
    let v = read(&file);
    // Everything that was there is still there, in its order.
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["permissions", "model", "hooks"]
    );
    assert_eq!(v["permissions"], json!({"allow": ["Bash(git status)"]}));
    assert_eq!(
        v["hooks"]["Stop"],
        json!([{"hooks": [{"type": "command", "command": "./notify.sh"}]}])
    );
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2);
    assert_eq!(pre[0]["hooks"][0]["command"], "./.claude/hooks/block-rm.sh");
    let ours = json!({"matcher": "Bash|PowerShell",
        "hooks": [{"type": "command", "command": command_for("claude"), "timeout": 10}]});
    assert_eq!(pre[1], ours);
    assert_eq!(v["hooks"]["PostToolUse"], json!([ours]));
    assert_eq!(v["hooks"]["PostToolUseFailure"], json!([ours]));

    let baks = backups(file.parent().unwrap());
    assert_eq!(baks.len(), 1);
    assert_eq!(std::fs::read_to_string(&baks[0]).unwrap(), CLAUDE_SETTINGS);

    // A second install changes nothing and makes no new backup.
    let after_first = std::fs::read(&file).unwrap();
    let out = install(&d, &["claude"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already"));
    assert_eq!(std::fs::read(&file).unwrap(), after_first);
    assert_eq!(backups(file.parent().unwrap()).len(), 1);
}

#[test]
fn print_shows_the_result_and_writes_nothing() {
    let d = dirs();
    let file = d.project.join(".claude/settings.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, CLAUDE_SETTINGS).unwrap();
    let out = install(&d, &["claude", "--print"]);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["model"], "opus");
    assert_eq!(printed["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), CLAUDE_SETTINGS);
    assert!(backups(file.parent().unwrap()).is_empty());

    // Nothing there yet: still nothing written.
    install(&d, &["cursor", "--print"]);
    assert!(!d.project.join(".cursor").exists());
}

#[test]
fn user_install_goes_to_the_home_directory() {
    let d = dirs();
    install(&d, &["claude", "--user"]);
    let v = read(&d.home.join(".claude/settings.json"));
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        command_for("claude")
    );
    assert!(!d.project.join(".claude").exists());
}

#[test]
fn every_agent_gets_its_own_file_and_shape() {
    let d = dirs();
    // Cursor: an existing hooks.json with another hook.
    let cursor = d.project.join(".cursor/hooks.json");
    std::fs::create_dir_all(cursor.parent().unwrap()).unwrap();
    std::fs::write(
        &cursor,
        r#"{"version": 1, "hooks": {"beforeShellExecution": [{"command": "./audit.sh"}]}}"#,
    )
    .unwrap();
    for agent in ["codex", "cursor", "gemini", "copilot"] {
        install(&d, &[agent]);
        install(&d, &[agent]);
    }

    let v = read(&cursor);
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["hooks"]["beforeShellExecution"],
        json!([{"command": "./audit.sh"}, {"command": command_for("cursor"), "timeout": 10}])
    );
    assert_eq!(
        v["hooks"]["afterShellExecution"],
        json!([{"command": command_for("cursor"), "timeout": 10}])
    );

    let v = read(&d.project.join(".codex/hooks.json"));
    for event in ["PreToolUse", "PostToolUse"] {
        assert_eq!(
            v["hooks"][event],
            json!([{"matcher": "^Bash$", "hooks": [{"type": "command", "command": command_for("codex"), "timeout": 10}]}])
        );
    }

    let v = read(&d.project.join(".gemini/settings.json"));
    for event in ["BeforeTool", "AfterTool"] {
        assert_eq!(
            v["hooks"][event],
            json!([{"matcher": "run_shell_command", "hooks": [{"name": "forewarn", "type": "command",
                "command": command_for("gemini"), "timeout": 10000}]}])
        );
    }

    let v = read(&d.project.join(".github/hooks/forewarn.json"));
    assert_eq!(v["version"], 1);
    for event in ["preToolUse", "postToolUseFailure"] {
        assert_eq!(
            v["hooks"][event],
            json!([{"type": "command", "bash": command_for("copilot"),
                "powershell": command_for("copilot"), "timeoutSec": 10}])
        );
    }
}

#[test]
fn a_broken_settings_file_is_left_alone() {
    let d = dirs();
    let file = d.project.join(".gemini/settings.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "{ \"hooks\": ").unwrap();
    let out = Command::new(EXE)
        .current_dir(&d.project)
        .env("HOME", &d.home)
        .args(["hook", "install", "gemini"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("settings.json") && stderr.contains("not valid JSON"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ \"hooks\": ");

    let out = Command::new(EXE)
        .current_dir(&d.project)
        .args(["hook", "install", "windsurf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A store named with `--store` is the store the installed hook uses, wherever the agent runs it.
#[test]
fn the_installed_hook_keeps_the_store_it_was_installed_with() {
    let d = dirs();
    install(&d, &["claude", "--store", "my store.db"]);
    let settings = read(&d.project.join(".claude/settings.json"));
    let command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    let store = d.project.join("my store.db");
    assert_eq!(
        command,
        format!("{EXE} --store '{}' hook claude", store.display())
    );
    // Run as the agent would, from elsewhere: the hook reads (and so creates) that store.
    let out = Command::new("sh")
        .args(["-c", &command])
        .current_dir(&d.home)
        .env("HOME", &d.home)
        .stdin(std::fs::File::open(file_with(&d, r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#)).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        store.exists(),
        "the hook opened the store it was installed with"
    );
}

fn file_with(d: &Dirs, text: &str) -> PathBuf {
    let p = d.home.join("input.json");
    std::fs::write(&p, text).unwrap();
    p
}

/// `hook install` without asserting success: for the refusals.
fn try_install(d: &Dirs, args: &[&str]) -> Output {
    Command::new(EXE)
        .current_dir(&d.project)
        .env("HOME", &d.home)
        .env_remove("CODEX_HOME")
        .args(["hook", "install"])
        .args(args)
        .output()
        .unwrap()
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A Gemini CLI settings.json as people keep it: comments, another tool's hooks, its own layout.
const GEMINI_SETTINGS: &str = r#"{
  // Pinned while we evaluate 2.5.
  "model": { "name": "gemini-2.5-pro" }, // not flash
  "tools": { "enableHooks": true },
  /* Team hooks: keep the linter first. */
  "hooks": {
    "BeforeTool": [
      {
        "matcher": "write_file|replace",
        "hooks": [{ "name": "lint", "type": "command", "command": "./.gemini/lint.sh" }] // fast
      }
    ],
    "SessionStart": [{ "hooks": [{ "type": "command", "command": "./hello.sh" }] }]
  }
}
"#;

fn gemini_entry(indent: &str) -> String {
    let lines = [
        "{".to_string(),
        "  \"matcher\": \"run_shell_command\",".to_string(),
        "  \"hooks\": [".to_string(),
        "    {".to_string(),
        "      \"name\": \"forewarn\",".to_string(),
        "      \"type\": \"command\",".to_string(),
        format!("      \"command\": \"{}\",", command_for("gemini")),
        "      \"timeout\": 10000".to_string(),
        "    }".to_string(),
        "  ]".to_string(),
        "}".to_string(),
    ];
    lines
        .iter()
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gemini_settings_with_comments_keep_every_comment_and_line() {
    let d = dirs();
    let file = d.project.join(".gemini/settings.json");
    write(&file, GEMINI_SETTINGS);

    install(&d, &["gemini"]);
    let after = std::fs::read_to_string(&file).unwrap();
    // Exactly the original, with forewarn's entry after the linter's and a new AfterTool list.
    let expected = GEMINI_SETTINGS
        .replace(
            "] // fast\n      }\n    ],\n",
            &format!("] // fast\n      }},\n{}\n    ],\n", gemini_entry("      ")),
        )
        .replace(
            "\"./hello.sh\" }] }]\n",
            &format!(
                "\"./hello.sh\" }}] }}],\n    \"AfterTool\": [\n{}\n    ]\n",
                gemini_entry("      ")
            ),
        );
    assert_ne!(expected, GEMINI_SETTINGS);
    assert_eq!(after, expected);

    // Installing again changes nothing, and the one backup is the original.
    let out = install(&d, &["gemini"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), expected);
    let baks = backups(file.parent().unwrap());
    assert_eq!(baks.len(), 1);
    assert_eq!(std::fs::read_to_string(&baks[0]).unwrap(), GEMINI_SETTINGS);
}

#[test]
fn crlf_settings_stay_crlf() {
    let d = dirs();
    let file = d.project.join(".gemini/settings.json");
    let original = GEMINI_SETTINGS.replace('\n', "\r\n");
    write(&file, &original);
    install(&d, &["gemini"]);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
    let expected_lf = {
        write(&file, GEMINI_SETTINGS);
        install(&d, &["gemini"]);
        std::fs::read_to_string(&file).unwrap()
    };
    assert_eq!(after, expected_lf.replace('\n', "\r\n"));
}

#[test]
fn files_the_agent_would_reject_are_refused_and_left_alone() {
    let d = dirs();
    let cases = [
        // Claude Code reads strict JSON: a comment makes it ignore the whole file.
        (
            "claude",
            ".claude/settings.json",
            "{\n  \"model\": \"opus\",\n  // why\n  \"hooks\": {}\n}\n",
            ":3: ",
            "Claude Code",
        ),
        // Codex reads hooks.json with serde_json.
        ("codex", ".codex/hooks.json", "/* x */ {}", ":1: ", "Codex"),
        // Gemini CLI strips comments, then JSON.parse: a trailing comma breaks it.
        (
            "gemini",
            ".gemini/settings.json",
            "{\n  // ok\n  \"model\": { \"name\": \"x\", },\n}\n",
            ":3:",
            "trailing commas",
        ),
        // A shape forewarn will not guess at: the line, and what to add by hand.
        (
            "gemini",
            ".gemini/settings.json",
            "{\n  // tools\n  \"hooks\": { \"BeforeTool\": { \"matcher\": \"x\" } }\n}\n",
            ":3: `hooks.BeforeTool` is not a list",
            "\"run_shell_command\"",
        ),
        (
            "cursor",
            ".cursor/hooks.json",
            "{\"version\": 1, \"hooks\": [], \"hooks\": {}}",
            ":1: `hooks` is there more than once",
            "\"afterShellExecution\"",
        ),
        (
            "gemini",
            ".gemini/settings.json",
            "{ \"hooks\": ",
            "",
            "not valid JSON",
        ),
    ];
    for (agent, path, text, at, says) in cases {
        let file = d.project.join(path);
        write(&file, text);
        let out = try_install(&d, &[agent]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{agent}: {stderr}");
        assert!(
            stderr.contains(&format!("{path}{at}")) && stderr.contains(says),
            "{agent} {text:?}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        assert!(backups(file.parent().unwrap()).is_empty(), "{agent}");
    }
}

#[test]
fn an_empty_settings_file_becomes_forewarns_settings() {
    let d = dirs();
    let file = d.project.join(".gemini/settings.json");
    write(&file, "");
    install(&d, &["gemini"]);
    let v = read(&file);
    assert_eq!(
        v["hooks"]["BeforeTool"][0]["hooks"][0]["command"],
        command_for("gemini")
    );
}

#[test]
fn strict_json_files_are_edited_in_place_too() {
    let d = dirs();
    let file = d.project.join(".claude/settings.json");
    write(&file, CLAUDE_SETTINGS);
    install(&d, &["claude"]);
    let after = std::fs::read_to_string(&file).unwrap();
    // The user's compact lines are untouched; forewarn's entries are added after them.
    for line in CLAUDE_SETTINGS
        .lines()
        .filter(|l| l.contains("\"command\""))
    {
        assert!(after.contains(line), "{line:?} lost in:\n{after}");
    }
    assert!(after.starts_with(
        "{\n  \"permissions\": {\"allow\": [\"Bash(git status)\"]},\n  \"model\": \"opus\",\n"
    ));
}
