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
