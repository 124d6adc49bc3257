//! `forewarn hook AGENT` as the agents run it: the real binary, each agent's documented payload
//! (tests/fixtures/hooks, taken from reference/agent-hooks.md) on stdin, a store seeded from a
//! fixture pattern file, and the answer checked field by field with its exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hooks");

const LOCAL_ACCOUNTS: &str = "b0000000-0000-4000-8000-000000000001";
const PYTHON: &str = "b0000000-0000-4000-8000-000000000002";
const IFCONFIG: &str = "b0000000-0000-4000-8000-000000000003";

/// A temp dir with a seeded store, a home directory and projects.
struct Env {
    dir: tempfile::TempDir,
}

/// What one hook process did.
struct Run {
    json: Option<Value>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.home()).unwrap();
        for args in [
            vec!["store", "init", "--no-defaults"],
            vec!["store", "import", &format!("{FIXTURES}/patterns.json")],
        ] {
            let out = env.forewarn().args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        env
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store").join("patterns.db")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn forewarn(&self) -> Command {
        let mut c = Command::new(EXE);
        c.current_dir(self.dir.path())
            .env_remove("FOREWARN_TARGET")
            .env_remove("FOREWARN_STORE")
            .env("HOME", self.home())
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .arg("--store")
            .arg(self.store());
        c
    }

    /// A project directory whose `.forewarn.toml` holds `config`.
    fn project(&self, name: &str, config: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.join("sub")).unwrap();
        std::fs::write(p.join(".forewarn.toml"), config).unwrap();
        p
    }

    fn hook(&self, agent: &str, payload: &Value) -> Run {
        self.hook_with(agent, &payload.to_string(), &[])
    }

    fn hook_with(&self, agent: &str, stdin: &str, envs: &[(&str, &str)]) -> Run {
        let out = common::output_with_stdin(
            self.forewarn()
                .args(["hook", agent])
                .envs(envs.iter().copied()),
            stdin,
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = (!stdout.trim().is_empty()).then(|| {
            serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"))
        });
        Run {
            json,
            code: out.status.code().unwrap_or(-1),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn count(&self, id: &str) -> i64 {
        let db = rusqlite::Connection::open(self.store()).unwrap();
        db.query_row(
            "SELECT occurrence_count FROM failure_patterns WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    }
}

/// A documented payload from the fixtures, with fields replaced (JSON pointers).
fn payload(name: &str, edits: &[(&str, Value)]) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    for (pointer, value) in edits {
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{name}: no {pointer}")) = value.clone();
    }
    v
}

fn path(p: &Path) -> Value {
    Value::String(p.to_str().unwrap().to_string())
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

/// A failure forewarn recognises after the command: the reply carries the fix as context for
/// the agent (and a line for the user) under the dialect's event name.
fn assert_recognised(env: &Env, agent: &str, payload: &Value, event: &str, context_has: &str) {
    let out = env.hook(agent, payload).json.expect("context");
    assert_eq!(keys(&out), ["hookSpecificOutput", "systemMessage"]);
    assert_eq!(out["hookSpecificOutput"]["hookEventName"], event);
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains(context_has), "{context}");
}

/// An allowed command: nothing on stdout, exit 0.
fn assert_silent(run: &Run) {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "stderr: {}", run.stderr);
}

fn claude_pre(tool: &str, command: &str, cwd: &Path) -> Value {
    payload(
        "claude-pre",
        &[
            ("/tool_name", json!(tool)),
            ("/tool_input/command", json!(command)),
            ("/cwd", path(cwd)),
        ],
    )
}

fn assert_claude_deny(run: &Run) -> String {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let out = run.json.as_ref().expect("a deny answer");
    assert_eq!(keys(out), ["hookSpecificOutput", "systemMessage"]);
    let hso = &out["hookSpecificOutput"];
    assert_eq!(
        keys(hso),
        [
            "hookEventName",
            "permissionDecision",
            "permissionDecisionReason"
        ]
    );
    assert_eq!(hso["hookEventName"], "PreToolUse");
    assert_eq!(hso["permissionDecision"], "deny");
    text(hso, "/permissionDecisionReason").to_string()
}

#[test]
fn claude_blocks_with_cause_solution_and_fixed_command() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let run = env.hook(
        "claude",
        &claude_pre(
            "Bash",
            "sudo ifconfig eth0 up && echo done",
            &project.join("sub"),
        ),
    );
    let reason = assert_claude_deny(&run);
    for part in [
        "ifconfig is not installed",
        "Debian 12 does not install net-tools by default.",
        "debian-12",
        "Use `ip addr` from iproute2.",
        "sudo ip addr eth0 up && echo done",
        ".forewarn.toml",
    ] {
        assert!(reason.contains(part), "missing {part:?} in:\n{reason}");
    }
    let user = text(run.json.as_ref().unwrap(), "/systemMessage");
    assert!(user.contains("ifconfig without net-tools"), "{user}");
    // A byte-order mark in front of the JSON is not a reason to let it through.
    let p = claude_pre("Bash", "ifconfig", &project);
    assert_claude_deny(&env.hook_with("claude", &format!("\u{feff}{p}"), &[]));
}

#[test]
fn claude_warns_below_the_block_level_without_approving() {
    let env = Env::new();
    let cwd = env.dir.path().join("plain");
    std::fs::create_dir_all(&cwd).unwrap();
    let p = claude_pre("Bash", "python manage.py migrate", &cwd);
    let run = env.hook_with(
        "claude",
        &p.to_string(),
        &[("FOREWARN_TARGET", "debian-12")],
    );
    assert_eq!(run.code, 0);
    let out = run.json.expect("a warning");
    assert_eq!(keys(&out), ["hookSpecificOutput", "systemMessage"]);
    let hso = &out["hookSpecificOutput"];
    // No permissionDecision: "allow" would skip the user's permission prompt.
    assert_eq!(keys(hso), ["additionalContext", "hookEventName"]);
    assert_eq!(hso["hookEventName"], "PreToolUse");
    let context = text(hso, "/additionalContext");
    for part in [
        "python is not installed",
        "Call python3.",
        "python3 manage.py migrate",
        "FOREWARN_TARGET",
    ] {
        assert!(context.contains(part), "missing {part:?} in:\n{context}");
    }
}

#[test]
fn claude_allows_what_nothing_knows_about() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    assert_silent(&env.hook(
        "claude",
        &claude_pre("Bash", "ls -la && git status", &project),
    ));
    // Data is not a command.
    assert_silent(&env.hook(
        "claude",
        &claude_pre("Bash", "echo 'ifconfig eth0' | grep ifconfig", &project),
    ));
}

/// The agent's working directory may be gone, or not made yet (`cd build && …`): it is still
/// inside its project, whose configuration sets the target.
#[test]
fn a_missing_working_directory_keeps_its_projects_target() {
    let env = Env::new();
    let project = env.project("proj", "target = \"debian-12\"\n");
    let gone = project.join("build/not/made/yet");
    let reason = assert_claude_deny(&env.hook("claude", &claude_pre("Bash", "ifconfig", &gone)));
    assert!(reason.contains("debian-12"), "{reason}");
}

#[test]
fn an_unknown_target_never_denies() {
    let env = Env::new();
    let cwd = env.dir.path().join("nowhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let run = env.hook("claude", &claude_pre("PowerShell", "Get-LocalUser", &cwd));
    let out = run.json.expect("a warning");
    assert!(out["hookSpecificOutput"]
        .get("permissionDecision")
        .is_none());
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("powershell-2.0"), "{context}");
}

#[test]
fn remote_execution_is_checked_against_the_remote_host() {
    let env = Env::new();
    // The local target says nothing applies; the remote host's tags decide.
    let project = env.project("p", "target = \"debian-12\"\n");
    let reason = assert_claude_deny(&env.hook(
        "claude",
        &claude_pre("Bash", "ssh oldsrv 'Get-LocalUser'", &project),
    ));
    assert!(reason.contains("Get-WmiObject"), "{reason}");
    assert!(reason.to_lowercase().contains("oldsrv"), "{reason}");
    let reason = assert_claude_deny(&env.hook(
        "claude",
        &claude_pre(
            "PowerShell",
            "Invoke-Command -ComputerName OLDSRV { Get-LocalUser }",
            &project,
        ),
    ));
    assert!(reason.contains("PowerShell 2.0 has no LocalAccounts module."));
    assert_claude_deny(&env.hook(
        "claude",
        &claude_pre(
            "Bash",
            "ssh nas01 \"sed -i 's/a/b/' /etc/x.conf\"",
            &project,
        ),
    ));
    // The same command locally is fine on debian-12.
    assert_silent(&env.hook(
        "claude",
        &claude_pre("Bash", "sed -i 's/a/b/' /etc/x.conf", &project),
    ));
}

#[test]
fn the_block_level_is_configurable() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n[hook]\nblock = \"major\"\n");
    let reason = assert_claude_deny(&env.hook(
        "claude",
        &claude_pre("Bash", "python manage.py migrate", &project),
    ));
    assert!(reason.contains("python3 manage.py migrate"), "{reason}");
}

#[test]
fn claude_failure_is_recognised_and_recorded() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let before = env.count(PYTHON);
    let p = payload(
        "claude-post-failure",
        &[
            ("/tool_input/command", json!("python manage.py migrate")),
            ("/cwd", path(&project)),
            (
                "/error",
                json!("Exit code 127\n/bin/bash: line 1: python: command not found"),
            ),
        ],
    );
    let run = env.hook("claude", &p);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.json.expect("context");
    assert_eq!(keys(&out), ["hookSpecificOutput", "systemMessage"]);
    assert_eq!(
        keys(&out["hookSpecificOutput"]),
        ["additionalContext", "hookEventName"]
    );
    assert_eq!(
        out["hookSpecificOutput"]["hookEventName"],
        "PostToolUseFailure"
    );
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("Call python3."), "{context}");
    assert!(
        context.contains("Debian 12 ships only python3."),
        "{context}"
    );
    assert_eq!(env.count(PYTHON), before + 1);
    assert!(
        context.contains(&format!("Seen {} times", before + 1)),
        "{context}"
    );

    // zsh (macOS's shell) words it otherwise: recognised all the same, from the cache too.
    let p = payload(
        "claude-post-failure",
        &[
            ("/cwd", path(&project)),
            (
                "/error",
                json!("Exit code 127\nzsh:1: command not found: python"),
            ),
        ],
    );
    let out = env.hook("claude", &p).json.expect("context");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("Call python3."), "{context}");
    assert_eq!(env.count(PYTHON), before + 2);

    // Output nothing knows: no answer, nothing counted.
    let p = payload("claude-post-failure", &[("/cwd", path(&project))]);
    assert_silent(&env.hook("claude", &p));
    assert_eq!(env.count(PYTHON), before + 2);
}

#[test]
fn a_remote_failure_is_matched_for_the_remote_host() {
    let env = Env::new();
    let cwd = env.dir.path().join("w");
    std::fs::create_dir_all(&cwd).unwrap();
    let before = env.count(LOCAL_ACCOUNTS);
    let p = payload(
        "claude-post",
        &[
            ("/tool_input/command", json!("ssh oldsrv.acme.lan powershell -Command Get-LocalUser")),
            ("/cwd", path(&cwd)),
            (
                "/tool_response/stderr",
                json!("Get-LocalUser : The term 'Get-LocalUser' is not recognized as the name of a cmdlet"),
            ),
        ],
    );
    let run = env.hook_with(
        "claude",
        &p.to_string(),
        &[("FOREWARN_TARGET", "debian-12")],
    );
    let out = run
        .json
        .unwrap_or_else(|| panic!("context expected; stderr: {}", run.stderr));
    assert_eq!(out["hookSpecificOutput"]["hookEventName"], "PostToolUse");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("Get-WmiObject"), "{context}");
    assert_eq!(env.count(LOCAL_ACCOUNTS), before + 1);
    // The occurrence names the host it happened on.
    let db = rusqlite::Connection::open(env.store()).unwrap();
    let host: Option<String> = db
        .query_row(
            "SELECT host FROM occurrences WHERE pattern_id = ?1 ORDER BY rowid DESC LIMIT 1",
            [LOCAL_ACCOUNTS],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(host.as_deref(), Some("oldsrv.acme.lan"));
}

#[test]
fn codex_denies_and_explains() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let p = payload(
        "codex-pre",
        &[
            ("/tool_input/command", json!("ifconfig -a")),
            ("/cwd", path(&project)),
        ],
    );
    let reason = assert_claude_deny(&env.hook("codex", &p));
    assert!(reason.contains("ip addr -a"), "{reason}");
    let before = env.count(IFCONFIG);
    let p = payload(
        "codex-post",
        &[
            ("/tool_input/command", json!("ifconfig -a")),
            ("/cwd", path(&project)),
            (
                "/tool_response",
                json!("Chunk ID: 7\nProcess exited with code 127\nFinal output:\nbash: ifconfig: command not found\n"),
            ),
        ],
    );
    assert_recognised(&env, "codex", &p, "PostToolUse", "ip addr");
    assert_eq!(env.count(IFCONFIG), before + 1);
}

#[test]
fn cursor_denies_warns_and_records() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let before_shell = |cmd: &str| {
        payload(
            "cursor-before",
            &[("/command", json!(cmd)), ("/cwd", path(&project))],
        )
    };
    let out = env
        .hook("cursor", &before_shell("ifconfig"))
        .json
        .expect("deny");
    assert_eq!(keys(&out), ["agent_message", "permission", "user_message"]);
    assert_eq!(out["permission"], "deny");
    assert!(text(&out, "/agent_message").contains("Use `ip addr` from iproute2."));

    // A warning must not grant permission: "allow" would run the command without asking.
    let out = env
        .hook("cursor", &before_shell("python x.py"))
        .json
        .expect("warning");
    assert_eq!(keys(&out), ["agent_message", "user_message"]);
    assert!(text(&out, "/agent_message").contains("python3 x.py"));

    assert_silent(&env.hook("cursor", &before_shell("npm install express")));

    // An empty cwd falls back to the workspace root.
    let p = payload(
        "cursor-before",
        &[
            ("/command", json!("ifconfig")),
            ("/cwd", json!("")),
            ("/workspace_roots", json!([path(&project)])),
        ],
    );
    assert_eq!(
        env.hook("cursor", &p).json.expect("deny")["permission"],
        "deny"
    );

    // The generic preToolUse for the Shell tool answers with decision/reason.
    let p = payload(
        "cursor-pre-tool",
        &[
            ("/tool_input/command", json!("ifconfig eth0")),
            ("/cwd", path(&project)),
        ],
    );
    let out = env.hook("cursor", &p).json.expect("deny");
    assert_eq!(keys(&out), ["decision", "reason"]);
    assert_eq!(out["decision"], "deny");

    // afterShellExecution is fire-and-forget: recorded, nothing printed.
    let before = env.count(PYTHON);
    let p = payload(
        "cursor-after",
        &[
            ("/command", json!("python x.py")),
            ("/output", json!("bash: python: command not found")),
            ("/workspace_roots", json!([path(&project)])),
        ],
    );
    assert_silent(&env.hook("cursor", &p));
    assert_eq!(env.count(PYTHON), before + 1);
}

#[test]
fn gemini_denies_warns_and_adds_context_after() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let before_tool = |cmd: &str| {
        payload(
            "gemini-before",
            &[
                ("/tool_input/command", json!(cmd)),
                ("/cwd", path(&project)),
            ],
        )
    };
    let out = env
        .hook("gemini", &before_tool("ifconfig"))
        .json
        .expect("deny");
    assert_eq!(keys(&out), ["decision", "reason", "systemMessage"]);
    assert_eq!(out["decision"], "deny");
    assert!(text(&out, "/reason").contains("Debian 12 does not install net-tools"));

    let out = env
        .hook("gemini", &before_tool("python x.py"))
        .json
        .expect("warning");
    assert_eq!(keys(&out), ["systemMessage"]);
    assert!(text(&out, "/systemMessage").contains("python3 x.py"));

    let before = env.count(PYTHON);
    let p = payload(
        "gemini-after",
        &[
            ("/tool_input/command", json!("python x.py")),
            ("/cwd", path(&project)),
            (
                "/tool_response/llmContent",
                json!("Command: python x.py\nStdout: (empty)\nStderr: bash: python: command not found\nExit Code: 127"),
            ),
        ],
    );
    assert_recognised(&env, "gemini", &p, "AfterTool", "Call python3.");
    assert_eq!(env.count(PYTHON), before + 1);

    // The documented success payload: nothing to say.
    assert_silent(&env.hook(
        "gemini",
        &payload("gemini-after", &[("/cwd", path(&project))]),
    ));
}

#[test]
fn copilot_denies_in_both_formats_and_guides_after_failure() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    // camelCase, toolArgs as a JSON string.
    let p = payload(
        "copilot-pre",
        &[
            (
                "/toolArgs",
                json!(json!({"command": "ifconfig"}).to_string()),
            ),
            ("/cwd", path(&project)),
        ],
    );
    let out = env.hook("copilot", &p).json.expect("deny");
    assert_eq!(
        keys(&out),
        ["permissionDecision", "permissionDecisionReason"]
    );
    assert_eq!(out["permissionDecision"], "deny");
    assert!(text(&out, "/permissionDecisionReason").contains("ip addr"));

    // snake_case, the powershell tool, remote execution.
    let p = payload(
        "copilot-pre-snake",
        &[
            (
                "/tool_input/command",
                json!("Invoke-Command -ComputerName OLDSRV -ScriptBlock { Get-LocalUser }"),
            ),
            ("/cwd", path(&project)),
        ],
    );
    let out = env.hook("copilot", &p).json.expect("deny");
    assert_eq!(out["permissionDecision"], "deny");

    // A warning has no field that does not approve: nothing on stdout, a line in the log.
    let p = payload(
        "copilot-pre",
        &[
            ("/toolArgs", json!({"command": "python x.py"})),
            ("/cwd", path(&project)),
        ],
    );
    let run = env.hook("copilot", &p);
    assert_silent(&run);
    assert!(run.stderr.contains("bare python"), "{}", run.stderr);

    let before = env.count(IFCONFIG);
    let p = payload(
        "copilot-post-failure",
        &[
            ("/toolArgs", json!({"command": "ifconfig"})),
            ("/cwd", path(&project)),
            ("/error", json!("bash: ifconfig: command not found")),
        ],
    );
    let out = env.hook("copilot", &p).json.expect("guidance");
    assert_eq!(keys(&out), ["additionalContext"]);
    assert!(text(&out, "/additionalContext").contains("ip addr"));
    assert_eq!(env.count(IFCONFIG), before + 1);
}

#[test]
fn everything_unexpected_is_allowed_with_one_line_on_stderr() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let blocked = claude_pre("Bash", "ifconfig", &project).to_string();
    let cases: Vec<(&str, String)> = vec![
        ("claude", "{not json".into()),
        ("claude", "".into()),
        ("claude", "[1, 2]".into()),
        ("claude", json!({"hook_event_name": "Stop", "cwd": "/"}).to_string()),
        (
            "claude",
            json!({"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {"file_path": "/etc/passwd"}})
                .to_string(),
        ),
        ("claude", json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}).to_string()),
        ("cursor", json!({"hook_event_name": "afterFileEdit"}).to_string()),
        ("gemini", json!({"hook_event_name": "BeforeModel"}).to_string()),
        ("copilot", json!({"toolName": "edit", "toolArgs": {}}).to_string()),
        ("windsurf", blocked.clone()),
    ];
    for (agent, stdin) in cases {
        let run = env.hook_with(agent, &stdin, &[]);
        assert_silent(&run);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{agent} {stdin}: {}",
            run.stderr
        );
        assert!(run.stderr.starts_with("forewarn hook: "), "{}", run.stderr);
    }
    // An unusable store allows even a command that would be denied.
    let bad = env.dir.path().join("garbage.db");
    std::fs::write(&bad, "this is not a database, it is just text ".repeat(200)).unwrap();
    let out = common::output_with_stdin(
        Command::new(EXE)
            .current_dir(env.dir.path())
            .env("HOME", env.home())
            .env_remove("FOREWARN_STORE")
            .args(["--store", bad.to_str().unwrap(), "hook", "claude"]),
        &blocked,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("allowing"), "{stderr}");
}

#[test]
fn eight_parallel_hooks_count_exactly_eight() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let before = env.count(PYTHON);
    let p = payload(
        "claude-post-failure",
        &[
            ("/tool_input/command", json!("python x.py")),
            ("/cwd", path(&project)),
            (
                "/error",
                json!("Exit code 127\nbash: python: command not found"),
            ),
        ],
    )
    .to_string();
    let children: Vec<_> = (0..8)
        .map(|_| common::spawn_with_stdin(env.forewarn().args(["hook", "claude"]), &p))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(
            v["hookSpecificOutput"]["hookEventName"],
            "PostToolUseFailure"
        );
    }
    assert_eq!(env.count(PYTHON), before + 8);
}

/// Runs the hook until it answers from the cache (a miss answers from the store and rebuilds
/// the cache in the background), checking every answer against the store's (`uncached`).
fn until_cached(env: &Env, agent: &str, p: &Value, uncached: &Run) -> Run {
    for _ in 0..200 {
        let run = env.hook_with(agent, &p.to_string(), &[("FOREWARN_LOG", "debug")]);
        assert_eq!(run.stdout, uncached.stdout, "{agent}: {p}");
        if run.stderr.contains("answered from the hook cache") {
            return run;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{agent}: never answered from the cache: {p}");
}

/// The cache file's bytes and modification time.
fn cache_stamp(env: &Env) -> (Vec<u8>, std::time::SystemTime) {
    let cache = PathBuf::from(format!("{}.hook-cache", env.store().display()));
    let bytes = std::fs::read(&cache).unwrap();
    (
        bytes,
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
    )
}

#[test]
fn recorded_occurrences_keep_the_cache_and_a_new_pattern_rebuilds_it() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let pre = claude_pre("Bash", "python x.py && netstat -tlnp", &project);
    let uncached = env.hook_with("claude", &pre.to_string(), &[("FOREWARN_HOOK_CACHE", "0")]);
    let answer = &uncached.stdout;
    assert!(
        answer.contains("python3") && !answer.contains("ss -tlnp"),
        "{answer}"
    );
    until_cached(&env, "claude", &pre, &uncached);
    let stamp = cache_stamp(&env);

    // The hook records after a recognised failure, and a curator with `store record`: neither
    // changes what the cache holds, so the next hooks still answer from it.
    let failure = payload(
        "claude-post-failure",
        &[
            ("/tool_input/command", json!("python manage.py migrate")),
            ("/cwd", path(&project)),
            (
                "/error",
                json!("Exit code 127\n/bin/bash: line 1: python: command not found"),
            ),
        ],
    );
    let before = env.count(PYTHON);
    for n in 1..=2 {
        let run = env.hook_with("claude", &failure.to_string(), &[("FOREWARN_LOG", "debug")]);
        assert!(
            run.stderr.contains("answered from the hook cache"),
            "{}",
            run.stderr
        );
        let context = text(
            run.json.as_ref().unwrap(),
            "/hookSpecificOutput/additionalContext",
        );
        // The count shown is the one just recorded, not the cached pattern's.
        assert!(
            context.contains(&format!("Seen {} times", before + n)),
            "{context}"
        );
    }
    let out = env
        .forewarn()
        .args(["store", "record", PYTHON])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.count(PYTHON), before + 3);
    let run = env.hook_with("claude", &pre.to_string(), &[("FOREWARN_LOG", "debug")]);
    assert!(
        run.stderr.contains("answered from the hook cache"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, uncached.stdout);
    // No rebuild was started: give one the time it would take, then check the file.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(cache_stamp(&env) == stamp, "the cache was rewritten");

    // A new pattern is seen at once (from the store), and the cache is rebuilt with it.
    let out = env
        .forewarn()
        .args(["store", "import", &format!("{FIXTURES}/extra-pattern.json")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = env.hook_with("claude", &pre.to_string(), &[("FOREWARN_LOG", "debug")]);
    assert!(
        !run.stderr.contains("answered from the hook cache"),
        "{}",
        run.stderr
    );
    let reason = assert_claude_deny(&run);
    assert!(
        reason.contains("python3") && reason.contains("ss -tlnp"),
        "{reason}"
    );
    let uncached = env.hook_with("claude", &pre.to_string(), &[("FOREWARN_HOOK_CACHE", "0")]);
    assert_eq!(run.stdout, uncached.stdout);
    until_cached(&env, "claude", &pre, &uncached);
    assert!(cache_stamp(&env).0 != stamp.0, "the cache was not rebuilt");
}

#[test]
fn the_prebuilt_cache_answers_exactly_like_the_store() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let cache = PathBuf::from(format!("{}.hook-cache", env.store().display()));
    let payloads = [
        (
            "claude",
            claude_pre("Bash", "sudo ifconfig eth0 up", &project),
        ),
        (
            "claude",
            claude_pre("Bash", "python x.py | tee log", &project),
        ),
        (
            "claude",
            claude_pre("Bash", "ssh nas01 'sed -i s/a/b/ f'", &project),
        ),
        (
            "claude",
            claude_pre(
                "PowerShell",
                "Invoke-Command -ComputerName OLDSRV { Get-LocalUser }",
                &project,
            ),
        ),
        ("claude", claude_pre("Bash", "ls -la", &project)),
        (
            "gemini",
            payload(
                "gemini-after",
                &[
                    ("/cwd", path(&project)),
                    (
                        "/tool_response/llmContent",
                        json!("Stderr: sed: unrecognized option '-i'"),
                    ),
                ],
            ),
        ),
    ];
    for (agent, p) in &payloads {
        let uncached = env.hook_with(agent, &p.to_string(), &[("FOREWARN_HOOK_CACHE", "0")]);
        let cached = until_cached(&env, agent, p, &uncached);
        assert!(cache.is_file());
        assert_eq!(cached.code, uncached.code);
    }
    // A change to the store is seen at once: the cache is keyed by the store's version.
    let out = env
        .forewarn()
        .args(["store", "import", &format!("{FIXTURES}/extra-pattern.json")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reason =
        assert_claude_deny(&env.hook("claude", &claude_pre("Bash", "netstat -tlnp", &project)));
    assert!(reason.contains("ss -tlnp"), "{reason}");
}

#[test]
fn gemini_on_windows_speaks_powershell() {
    let env = Env::new();
    // A Windows working directory means Gemini runs the command with PowerShell, where the
    // script block runs on OLDSRV (read as bash, it would be a local brace group).
    let p = payload(
        "gemini-before",
        &[
            (
                "/tool_input/command",
                json!("Invoke-Command -ComputerName OLDSRV { Get-LocalUser }"),
            ),
            ("/tool_input/dir_path", json!("C:\\Users\\dev\\project")),
            ("/cwd", json!("C:\\Users\\dev\\project")),
        ],
    );
    let out = env.hook("gemini", &p).json.expect("deny");
    assert_eq!(out["decision"], "deny");
    assert!(text(&out, "/reason").contains("OLDSRV"));
}

#[test]
fn copilot_vscode_format_failure_gets_guidance() {
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let before = env.count(PYTHON);
    let p = json!({"hook_event_name": "PostToolUseFailure", "session_id": "s", "timestamp": "2026-01-07T08:03:20Z",
        "cwd": path(&project), "tool_name": "bash", "tool_input": {"command": "python x.py"},
        "error": "bash: python: command not found"});
    let out = env.hook("copilot", &p).json.expect("guidance");
    assert_eq!(keys(&out), ["additionalContext"]);
    assert!(text(&out, "/additionalContext").contains("Call python3."));
    assert_eq!(env.count(PYTHON), before + 1);
}

const SYSTEMCTL: &str = "b0000000-0000-4000-8000-000000000011";
const SCHEDULED: &str = "b0000000-0000-4000-8000-000000000012";
const READLINK: &str = "b0000000-0000-4000-8000-000000000013";

/// [`Env::new`] with the container and BSD patterns of container-patterns.json added.
fn container_env() -> Env {
    let env = Env::new();
    let out = env
        .forewarn()
        .args([
            "store",
            "import",
            &format!("{FIXTURES}/container-patterns.json"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

fn codex_post(command: &str, output: &str, cwd: &Path) -> Value {
    payload(
        "codex-post",
        &[
            ("/tool_input/command", json!(command)),
            ("/cwd", path(cwd)),
            (
                "/tool_response",
                json!(format!(
                    "Chunk ID: 3\nProcess exited with code 1\nFinal output:\n{output}\n"
                )),
            ),
        ],
    )
}

#[test]
fn only_patterns_the_command_could_trigger_are_recorded_after_it() {
    let env = container_env();
    let project = env.project("p", "target = \"container\"\n");
    let (s0, c0) = (env.count(SYSTEMCTL), env.count(SCHEDULED));
    let output = "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down";
    let out = env
        .hook(
            "codex",
            &codex_post("sudo systemctl restart nginx", output, &project),
        )
        .json
        .expect("context");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(
        context.contains("systemctl fails in containers"),
        "{context}"
    );
    assert!(!context.contains("Scheduled jobs"), "{context}");
    assert!(!text(&out, "/systemMessage").contains("+"), "{out}");
    assert_eq!((env.count(SYSTEMCTL), env.count(SCHEDULED)), (s0 + 1, c0));

    // A scheduling command that fails the same way is the scheduling pattern's (its operation
    // class), not systemctl's.
    let out = env
        .hook(
            "codex",
            &codex_post(
                "crontab -l; systemd-run --on-calendar=daily x",
                output,
                &project,
            ),
        )
        .json
        .expect("context");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("Scheduled jobs"), "{context}");
    assert!(!context.contains("systemctl fails"), "{context}");
    assert_eq!(
        (env.count(SYSTEMCTL), env.count(SCHEDULED)),
        (s0 + 1, c0 + 1)
    );

    // A script hides what it runs: every pattern its output matches is recorded (DESIGN §9).
    let out = env
        .hook("codex", &codex_post("./deploy.sh", output, &project))
        .json
        .expect("context");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(context.contains("systemctl fails") && context.contains("Scheduled jobs"));
    assert_eq!(
        (env.count(SYSTEMCTL), env.count(SCHEDULED)),
        (s0 + 2, c0 + 2)
    );
}

#[test]
fn a_target_typo_is_named_on_stderr_and_to_the_agent() {
    let env = Env::new();
    let project = env.project("p", "target = \"debain-12\"\n");
    let run = env.hook("claude", &claude_pre("Bash", "ifconfig -a", &project));
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("forewarn hook: unknown target `debain-12`")
            && lines[0].contains(".forewarn.toml")
            && lines[0].contains("checked as if no target were set"),
        "{}",
        run.stderr
    );
    // Checked as if no target were set (as `check` does): a blocking finding only warns.
    let out = run.json.expect("a warning");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert!(!context.contains("Target debain-12"), "{context}");
    assert!(
        context.contains("Unknown target `debain-12`")
            && context.contains("checked as if no target were set"),
        "{context}"
    );

    // After a command too: the output is matched as if no target were set, and said so.
    let p = payload(
        "claude-post-failure",
        &[
            ("/tool_input/command", json!("python app.py")),
            ("/cwd", path(&project)),
            ("/error", json!("bash: python: command not found")),
        ],
    );
    let run = env.hook("claude", &p);
    assert!(
        run.stderr.contains("unknown target `debain-12`"),
        "{}",
        run.stderr
    );
    let context = text(
        run.json.as_ref().unwrap(),
        "/hookSpecificOutput/additionalContext",
    );
    assert!(!context.contains("(target debain-12)"), "{context}");
    assert!(context.contains("Unknown target `debain-12`"), "{context}");

    // A known target says nothing on stderr.
    let good = env.project("q", "target = \"debian-12\"\n");
    let run = env.hook("claude", &claude_pre("Bash", "ifconfig -a", &good));
    assert_eq!(run.stderr, "");
    assert_claude_deny(&run);
}

#[test]
fn a_payload_byte_that_is_not_utf8_does_not_skip_the_check() {
    use std::io::Write;
    use std::process::Stdio;
    let env = Env::new();
    let project = env.project("p", "target = \"debian-12\"\n");
    let json = claude_pre("Bash", "ifconfig > /tmp/caf\u{e9}.log", &project).to_string();
    // The é as one Latin-1 byte: no longer UTF-8.
    let bytes = json.replace('\u{e9}', "\u{1}").into_bytes();
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == 1 { 0xE9 } else { b })
        .collect();
    assert!(std::str::from_utf8(&bytes).is_err());
    let mut child = env
        .forewarn()
        .args(["hook", "claude"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        json: serde_json::from_slice(&out.stdout).ok(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let reason = assert_claude_deny(&run);
    assert!(reason.contains("ip"), "{reason}");
    assert_eq!(run.stderr, "");
}

#[test]
fn output_known_only_on_other_systems_questions_the_target() {
    let env = container_env();
    let project = env.project("p", "target = \"debian-12\"\n");
    let r0 = env.count(READLINK);
    let p = codex_post(
        "readlink -f build",
        "readlink: illegal option -- f",
        &project,
    );
    let out = env.hook("codex", &p).json.expect("a question");
    assert_eq!(keys(&out), ["hookSpecificOutput", "systemMessage"]);
    assert_eq!(out["hookSpecificOutput"]["hookEventName"], "PostToolUse");
    let context = text(&out, "/hookSpecificOutput/additionalContext");
    assert_eq!(context.lines().count(), 1, "{context}");
    assert!(
        context.contains("BSD readlink has no -f")
            && context.contains("macos, freebsd")
            && context.contains("is the target debian-12 right?"),
        "{context}"
    );
    assert_eq!(env.count(READLINK), r0);
    // On a target it applies to, it is recognised and recorded.
    let mac = env.project("m", "target = \"macos\"\n");
    let p = codex_post("readlink -f build", "readlink: illegal option -- f", &mac);
    assert_recognised(&env, "codex", &p, "PostToolUse", "realpath");
    assert_eq!(env.count(READLINK), r0 + 1);
}
