//! `forewarn lsp` end to end: the real binary over stdio, a real store made with the CLI, and
//! the behaviour of issue 3 as an editor sees it.

// Shared with benches/lsp.rs, which uses a helper or two these tests do not.
#[path = "lsp/client.rs"]
#[allow(dead_code)]
mod client;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use client::{apply_edit, Client, EXE, TIMEOUT};
use serde_json::{json, Value};

const GLU: &str = "11111111-1111-4111-8111-111111111111";
const SED: &str = "22222222-2222-4222-8222-222222222222";
const FOO: &str = "33333333-3333-4333-8333-333333333333";

fn patterns() -> Value {
    json!({"failure_patterns": [
        {"id": GLU, "pattern_type": "command_compatibility",
         "pattern_signature": "Get-LocalUser needs PowerShell 5.1",
         "affected_systems": ["powershell-2.0"],
         "triggering_commands": ["Get-LocalUser"],
         "failure_description": "Get-LocalUser is not recognized",
         "root_cause": "Windows Server 2008 ships PowerShell 2.0 *only* <b>",
         "recommended_solution": "Use Get-WmiObject -Class Win32_UserAccount",
         "alternative_approaches": ["Run `net user`", "Install WMF 5.1"],
         "severity": "blocking",
         "fix": {"replace": "^Get-LocalUser$", "with": "Get-WmiObject -Class Win32_UserAccount"}},
        {"id": SED, "pattern_type": "command_compatibility",
         "pattern_signature": "sed-i-bsd",
         "affected_systems": ["macos"],
         "triggering_commands": ["sed\\s+-i"],
         "failure_description": "BSD sed needs an argument after -i",
         "root_cause": "macOS sed is BSD sed",
         "recommended_solution": "Write sed -i ''",
         "severity": "major"}
    ]})
}

fn foo_pattern() -> Value {
    json!({"failure_patterns": [
        {"id": FOO, "pattern_type": "command_compatibility",
         "pattern_signature": "Get-Foo is gone",
         "triggering_commands": ["Get-Foo"],
         "failure_description": "Get-Foo was removed",
         "root_cause": "it was deprecated",
         "recommended_solution": "Use Get-Bar",
         "severity": "major"}
    ]})
}

/// A temp dir with a store holding `patterns()`.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        env.make_store(&env.store(), &patterns());
        env
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("patterns.db")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn uri(&self, rel: &str) -> String {
        format!("file://{}", self.path(rel).display())
    }

    fn forewarn(&self, store: &Path, args: &[&str]) {
        let out = Command::new(EXE)
            .arg("--store")
            .arg(store)
            .args(args)
            .env("FOREWARN_STORE", store)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "forewarn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn import(&self, store: &Path, data: &Value) {
        let file = self.dir.path().join(format!(
            "import-{}.json",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::write(&file, data.to_string()).unwrap();
        self.forewarn(store, &["store", "import", file.to_str().unwrap()]);
    }

    fn make_store(&self, store: &Path, data: &Value) {
        self.forewarn(store, &["store", "init", "--no-defaults"]);
        self.import(store, data);
    }

    fn start(&self) -> Client {
        Client::start(&self.store())
    }

    /// A server initialized with a target under which the fixture patterns apply.
    fn server(&self, capabilities: Value) -> Client {
        let mut c = self.start();
        c.initialize(
            capabilities,
            json!({"forewarn": {"target": "powershell-2.0", "debounceMs": 100}}),
            Value::Null,
        );
        c
    }
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn encodings_give_exact_ranges_after_emoji() {
    let env = Env::new();
    let text = "$x = \"😀日本\"; Get-LocalUser -Name a\n";
    for (offer, name, start) in [
        (json!(["utf-8", "utf-16"]), "utf-8", 19),
        (json!(["utf-16"]), "utf-16", 13),
        (Value::Null, "utf-16", 13),
    ] {
        let mut c = env.start();
        let caps = if offer.is_null() {
            json!({})
        } else {
            json!({"general": {"positionEncodings": offer}})
        };
        let init = c.initialize(
            caps,
            json!({"forewarn": {"target": "powershell-2.0"}}),
            Value::Null,
        );
        assert_eq!(init["capabilities"]["positionEncoding"], name);
        assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 2);
        let uri = env.uri("users.ps1");
        c.open(&uri, "powershell", 1, text);
        let diags = c.diagnostics(&uri, Some(1));
        assert_eq!(diags.len(), 1, "{diags:?}");
        let d = &diags[0];
        assert_eq!(
            d["range"],
            json!({"start": {"line": 0, "character": start}, "end": {"line": 0, "character": start + 13}}),
            "{name}"
        );
        assert_eq!(d["severity"], 1);
        assert_eq!(d["source"], "forewarn");
        assert_eq!(d["code"], "Get-LocalUser needs PowerShell 5.1");
        let msg = d["message"].as_str().unwrap();
        assert!(msg.contains("Get-LocalUser is not recognized"), "{msg}");
        assert!(
            msg.contains("powershell-2.0"),
            "the message names the target: {msg}"
        );
        assert_eq!(d["data"]["pattern_id"], GLU);
        assert_eq!(d["data"]["matched"], "Get-LocalUser");
        assert!(c.shutdown().success());
    }
}

#[test]
fn a_burst_of_changes_publishes_once_for_the_final_text() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    let uri = env.uri("burst.ps1");
    c.open(&uri, "powershell", 1, "Write-Host hi\n");
    assert!(c.diagnostics(&uri, Some(1)).is_empty());
    // Type "Get-LocalUser" one key at a time at the start of line 2.
    let typed = "Get-LocalUser";
    for (i, ch) in typed.chars().enumerate() {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2 + i},
                   "contentChanges": [{"range": {"start": {"line": 1, "character": i}, "end": {"line": 1, "character": i}}, "text": ch.to_string()}]}),
        );
    }
    let last = 1 + typed.len() as i64;
    let published = c.collect(
        "textDocument/publishDiagnostics",
        Duration::from_millis(1500),
    );
    let published: Vec<&Value> = published.iter().filter(|p| p["uri"] == uri).collect();
    assert_eq!(published.len(), 1, "one scan for the burst: {published:?}");
    let p = published[0];
    assert_eq!(p["version"], last);
    let diags = p["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1);
    assert_eq!(
        diags[0]["range"],
        json!({"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 13}})
    );
    // Closing clears them.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(c.diagnostics(&uri, None).is_empty());
    assert!(c.shutdown().success());
}

#[test]
fn code_actions_apply_and_hover_explains() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    let uri = env.uri("users.ps1");
    let text = "if ($true) {\n    $u = Get-LocalUser -Name admin\n}\n";
    c.open(&uri, "powershell", 1, text);
    let diags = c.diagnostics(&uri, Some(1));
    assert_eq!(diags.len(), 1, "{diags:?}");
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diags[0]["range"],
               "context": {"diagnostics": diags}}),
    );
    let actions = r["result"].as_array().expect("actions");
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 5, "{titles:?}");
    let applied: Vec<String> = actions
        .iter()
        .map(|a| {
            assert_eq!(a["kind"], "quickfix");
            assert_eq!(a["diagnostics"][0]["data"]["pattern_id"], GLU);
            let edits = a["edit"]["changes"][&uri].as_array().unwrap();
            assert_eq!(edits.len(), 1);
            apply_edit(text, &edits[0])
        })
        .collect();
    assert_eq!(actions[0]["isPreferred"], true);
    assert_eq!(
        applied[0],
        "if ($true) {\n    $u = Get-WmiObject -Class Win32_UserAccount -Name admin\n}\n"
    );
    assert_eq!(
        applied[1],
        "if ($true) {\n    # Use Get-WmiObject -Class Win32_UserAccount\n    $u = Get-LocalUser -Name admin\n}\n"
    );
    assert_eq!(
        applied[2],
        "if ($true) {\n    # Run `net user`\n    $u = Get-LocalUser -Name admin\n}\n"
    );
    assert_eq!(
        applied[3],
        "if ($true) {\n    # Install WMF 5.1\n    $u = Get-LocalUser -Name admin\n}\n"
    );
    assert_eq!(
        applied[4],
        format!(
            "if ($true) {{\n    # forewarn: ignore={GLU}\n    $u = Get-LocalUser -Name admin\n}}\n"
        )
    );

    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 14}}),
    );
    let md = r["result"]["contents"]["value"].as_str().expect("hover");
    assert_eq!(r["result"]["contents"]["kind"], "markdown");
    for want in [
        "Get\\-LocalUser needs PowerShell 5\\.1",
        "Get\\-LocalUser is not recognized",
        "PowerShell 2\\.0 \\*only\\* \\<b\\>",
        "Win32\\_UserAccount",
        "Run \\`net user\\`",
        "Install WMF 5\\.1",
        "powershell\\-2\\.0",
        "**Seen:** 1 time",
    ] {
        assert!(md.contains(want), "hover lacks {want:?}:\n{md}");
    }
    // Nothing flagged there.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}),
    );
    assert!(r["result"].is_null(), "{r}");

    // Recording an occurrence shows in the next hover.
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "forewarn.recordOccurrence", "arguments": [GLU, "OLDSRV"]}),
    );
    assert_eq!(r["result"]["occurrence_count"], 2, "{r}");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 14}}),
        );
        let md = r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if md.contains("**Seen:** 2 times, last on") {
            break;
        }
        assert!(Instant::now() < deadline, "occurrence not shown:\n{md}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "forewarn.reloadStore"}),
    );
    assert_eq!(r["result"]["patterns"], 2, "{r}");
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "forewarn.recordOccurrence", "arguments": []}),
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pattern id"),
        "{r}"
    );
    assert!(c.shutdown().success());
}

#[test]
fn a_fix_already_in_the_script_gives_no_diagnostic_and_no_quick_fix() {
    const TLS: &str = "44444444-4444-4444-8444-444444444444";
    const SET: &str =
        "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12";
    let env = Env::new();
    env.import(
        &env.store(),
        &json!([{"id": TLS, "pattern_type": "configuration_error",
            "pattern_signature": "TLS 1.2 first",
            "affected_systems": ["powershell-2.0"],
            "triggering_commands": ["(Invoke-RestMethod|irm)\\s+https://"],
            "failure_description": "The request fails the TLS handshake",
            "recommended_solution": "Enable TLS 1.2 first",
            "severity": "major",
            "fix": {"title": "Enable TLS 1.2 first", "replace": "^", "with": format!("{SET}; "),
                    "applied_if": "SecurityProtocol\\s*=[^\\r\\n;#]*Tls12"}}]),
    );
    let mut c = env.server(json!({}));
    let uri = env.uri("get.ps1");
    let text = "$ErrorActionPreference = 'Stop'\nInvoke-RestMethod https://api.example.com/x\n";
    c.open(&uri, "powershell", 1, text);
    let diags = c.diagnostics(&uri, Some(1));
    assert_eq!(diags.len(), 1, "{diags:?}");
    let actions_for = |c: &mut Client, diags: &[Value]| -> Vec<Value> {
        let r = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diags[0]["range"],
                   "context": {"diagnostics": diags}}),
        );
        r["result"].as_array().expect("actions").clone()
    };
    // The quick fix puts the setting before the request.
    let actions = actions_for(&mut c, &diags);
    assert_eq!(actions[0]["title"], "Enable TLS 1.2 first");
    let edit = &actions[0]["edit"]["changes"][&uri][0];
    let fixed = apply_edit(text, edit);
    assert_eq!(
        fixed,
        format!(
            "$ErrorActionPreference = 'Stop'\n{SET}; Invoke-RestMethod https://api.example.com/x\n"
        )
    );
    // The user types the setting at the end of the line above instead: until the document is
    // checked again, the diagnostic still points at the request, but no action offers to put
    // the setting in again (nor to suppress a finding that is gone).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 31}, "end": {"line": 0, "character": 31}},
                                   "text": format!("; {SET}")}]}),
    );
    assert_eq!(actions_for(&mut c, &diags), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&uri, Some(2)), Vec::<Value>::new());
    // The applied quick fix is quiet too; a comment is not the setting.
    for (version, text, expected) in [
        (3, fixed.clone(), 0),
        (
            4,
            format!("# {SET}\nInvoke-RestMethod https://api.example.com/x\n"),
            1,
        ),
    ] {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": text}]}),
        );
        assert_eq!(c.diagnostics(&uri, Some(version)).len(), expected, "{text}");
    }
    assert!(c.shutdown().success());
}

#[test]
fn another_process_changes_the_store_and_diagnostics_follow() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    let uri = env.uri("foo.ps1");
    c.open(&uri, "powershell", 1, "Get-Foo -All\nGet-LocalUser\n");
    let diags = c.diagnostics(&uri, Some(1));
    assert_eq!(codes(&diags), ["Get-LocalUser needs PowerShell 5.1"]);

    let started = Instant::now();
    env.import(&env.store(), &foo_pattern());
    let p = c
        .wait_for("textDocument/publishDiagnostics", TIMEOUT, |p| {
            p["uri"] == uri && p["diagnostics"].as_array().is_some_and(|d| d.len() == 2)
        })
        .unwrap_or_else(|| {
            panic!(
                "no re-check after the store changed; stderr:\n{}",
                c.stderr()
            )
        });
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} (budget 2 s + the import itself)"
    );
    let diags = p["diagnostics"].as_array().unwrap();
    assert_eq!(
        codes(diags),
        ["Get-Foo is gone", "Get-LocalUser needs PowerShell 5.1"]
    );
    assert!(c.shutdown().success());
}

#[test]
fn the_store_file_removed_and_restored() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    let uri = env.uri("foo.ps1");
    c.open(&uri, "powershell", 1, "Get-Foo\nGet-LocalUser\n");
    assert_eq!(c.diagnostics(&uri, Some(1)).len(), 1);
    let store = env.store();
    let wal = |s: &str| PathBuf::from(format!("{}{s}", store.display()));
    for p in [store.clone(), wal("-wal"), wal("-shm")] {
        let _ = std::fs::remove_file(p);
    }
    let shown = c
        .wait_for("window/showMessage", TIMEOUT, |p| {
            p["message"].as_str().is_some_and(|m| m.contains("store"))
        })
        .expect("the user is told the store is gone");
    assert_eq!(shown["type"], 2, "a warning: {shown}");
    // Said once, and the last good patterns keep working.
    let more = c.collect("window/showMessage", Duration::from_millis(1200));
    assert!(more.is_empty(), "said more than once: {more:?}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# x\n"}]}),
    );
    assert_eq!(c.diagnostics(&uri, Some(2)).len(), 1);

    // Restored (with one more pattern): picked up with no restart.
    let staging = env.path("staging.db");
    let mut both = patterns();
    both["failure_patterns"].as_array_mut().unwrap().extend(
        foo_pattern()["failure_patterns"]
            .as_array()
            .unwrap()
            .clone(),
    );
    env.make_store(&staging, &both);
    // A checkpointed single file, moved into place at once.
    let _ = Command::new(EXE)
        .args(["--store", staging.to_str().unwrap(), "store", "list"])
        .output();
    std::fs::rename(&staging, &store).unwrap();
    for s in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{s}", staging.display()));
        if from.exists() {
            std::fs::rename(from, wal(s)).unwrap();
        }
    }
    let p = c
        .wait_for("textDocument/publishDiagnostics", TIMEOUT, |p| {
            p["uri"] == uri && p["diagnostics"].as_array().is_some_and(|d| d.len() == 2)
        })
        .unwrap_or_else(|| panic!("not recovered; stderr:\n{}", c.stderr()));
    assert_eq!(p["version"], 2);
    assert!(c.shutdown().success());
}

#[test]
fn a_corrupt_store_keeps_the_last_patterns_until_it_is_fixed() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    let uri = env.uri("foo.ps1");
    c.open(&uri, "powershell", 1, "Get-Foo\nGet-LocalUser\n");
    assert_eq!(c.diagnostics(&uri, Some(1)).len(), 1);
    // Replaced (a new file, as an editor or a copy would) by something that is not SQLite.
    let store = env.store();
    let garbage = env.path("garbage.db");
    std::fs::write(&garbage, "this is not a database ".repeat(500)).unwrap();
    std::fs::rename(&garbage, &store).unwrap();
    let shown = c
        .wait_for("window/showMessage", TIMEOUT, |p| {
            p["message"].as_str().is_some_and(|m| m.contains("store"))
        })
        .unwrap_or_else(|| panic!("not told; stderr:\n{}", c.stderr()));
    assert_eq!(shown["type"], 2, "{shown}");
    // A request still answers, from the last good patterns.
    let r = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        codes(r["result"]["items"].as_array().unwrap()),
        ["Get-LocalUser needs PowerShell 5.1"]
    );
    // Fixed: a good store (with one more pattern) moved into place.
    let staging = env.path("fixed.db");
    let mut both = patterns();
    both["failure_patterns"].as_array_mut().unwrap().extend(
        foo_pattern()["failure_patterns"]
            .as_array()
            .unwrap()
            .clone(),
    );
    env.make_store(&staging, &both);
    for s in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", store.display()));
    }
    std::fs::rename(&staging, &store).unwrap();
    for s in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{s}", staging.display()));
        if from.exists() {
            std::fs::rename(from, format!("{}{s}", store.display())).unwrap();
        }
    }
    let p = c
        .wait_for("textDocument/publishDiagnostics", TIMEOUT, |p| {
            p["uri"] == uri && p["diagnostics"].as_array().is_some_and(|d| d.len() == 2)
        })
        .unwrap_or_else(|| panic!("not recovered; stderr:\n{}", c.stderr()));
    assert_eq!(p["version"], 1);
    assert!(c.shutdown().success());
}

#[test]
fn pull_diagnostics_and_no_push_for_pulling_clients() {
    let env = Env::new();
    let mut c = env.server(json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}));
    let uri = env.uri("deploy.sh");
    c.open(
        &uri,
        "shellscript",
        1,
        "#!/bin/sh\n# forewarn: target=macos\nsed -i s/a/b/ f\n",
    );
    let r = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(r["result"]["kind"], "full", "{r}");
    let items = r["result"]["items"].as_array().unwrap();
    assert_eq!(codes(items), ["sed-i-bsd"]);
    assert_eq!(items[0]["severity"], 2);
    assert_eq!(
        items[0]["range"]["start"],
        json!({"line": 2, "character": 0})
    );
    let pushed = c.collect(
        "textDocument/publishDiagnostics",
        Duration::from_millis(300),
    );
    assert!(
        pushed.is_empty(),
        "a pulling client gets no pushes: {pushed:?}"
    );
    let r = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": env.uri("never-opened.sh")}}),
    );
    assert!(
        r["error"]["message"].as_str().unwrap().contains("not open"),
        "{r}"
    );
    assert!(c.shutdown().success());
}

#[test]
fn workspace_folders_each_with_their_config_and_shebang_detection() {
    let env = Env::new();
    for (folder, target) in [("old", "powershell-2.0"), ("new", "powershell-7")] {
        std::fs::create_dir_all(env.path(folder)).unwrap();
        std::fs::write(
            env.path(&format!("{folder}/.forewarn.toml")),
            format!("target = \"{target}\"\n"),
        )
        .unwrap();
    }
    let mut c = env.start();
    c.initialize(
        json!({}),
        Value::Null,
        json!([{"uri": env.uri("old"), "name": "old"}, {"uri": env.uri("new"), "name": "new"}]),
    );
    let text = "#!/usr/bin/env pwsh\nGet-LocalUser\n";
    let old = env.uri("old/users");
    let new = env.uri("new/users");
    c.open(&old, "plaintext", 1, text);
    c.open(&new, "plaintext", 1, text);
    let d = c.diagnostics(&old, Some(1));
    assert_eq!(codes(&d), ["Get-LocalUser needs PowerShell 5.1"]);
    assert!(d[0]["message"].as_str().unwrap().contains("powershell-2.0"));
    assert!(c.diagnostics(&new, Some(1)).is_empty());

    // A settings change re-publishes every open document.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"forewarn": {"severity": "blocking", "targets": 5}}}),
    );
    let log = c
        .wait_for("window/logMessage", TIMEOUT, |p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("forewarn.targets"))
        })
        .expect("the bad key is named");
    assert!(log["message"].as_str().unwrap().contains("object"), "{log}");
    assert_eq!(c.diagnostics(&old, Some(1)).len(), 1, "blocking stays");
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"forewarn": {"severity": "info", "target": "x"}}}),
    );
    assert_eq!(c.diagnostics(&old, Some(1)).len(), 1);
    assert!(c.shutdown().success());
}

fn frame(c: &mut Client, body: &str) {
    c.send_raw(body.as_bytes());
}

#[test]
fn bad_input_never_crashes_the_server() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    frame(&mut c, "{not json");
    frame(&mut c, r#"{"jsonrpc":"2.0","id":99}"#);
    let r = c.request("forewarn/unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    for why in ["not a JSON-RPC object", "neither a request"] {
        assert!(
            c.wait_for("window/logMessage", TIMEOUT, |p| {
                p["message"].as_str().is_some_and(|m| m.contains(why))
            })
            .is_some(),
            "malformed message not logged: {why}"
        );
    }
    c.notify("forewarn/unknownNotification", json!({}));
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": env.uri("nope.ps1")}, "position": {"line": 0, "character": 0}}),
    );
    assert!(
        r["error"]["message"].as_str().unwrap().contains("not open"),
        "{r}"
    );
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": env.uri("nope.ps1")}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert!(r.get("error").is_some(), "{r}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": env.uri("nope.ps1"), "version": 2}, "contentChanges": [{"text": "x"}]}),
    );

    let uri = env.uri("a.ps1");
    c.open(&uri, "powershell", 1, "Write-Host a\n");
    assert!(c.diagnostics(&uri, Some(1)).is_empty());
    // Past the end of a line and of the file.
    for (line, character) in [(0, 500), (40, 3)] {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        assert!(r["result"].is_null() && r.get("error").is_none(), "{r}");
    }
    // An out-of-bounds edit is clamped to the end and applied.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 9, "character": 9}, "end": {"line": 99, "character": 0}}, "text": "Get-LocalUser\n"}]}),
    );
    let d = c.diagnostics(&uri, Some(2));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["range"]["start"], json!({"line": 1, "character": 0}));
    let log = c
        .wait_for("window/logMessage", TIMEOUT, |p| {
            p["message"].as_str().is_some_and(|m| m.contains("clamped"))
        })
        .expect("the clamp is logged");
    assert!(log["message"].as_str().unwrap().contains("a.ps1"));

    // A 50 MB document: tracked, not checked, said so; the server keeps answering.
    let big_uri = env.uri("big.ps1");
    let big = "Get-LocalUser\n".repeat(50 * 1024 * 1024 / 14);
    c.open(&big_uri, "powershell", 1, &big);
    assert!(c.diagnostics(&big_uri, Some(1)).is_empty());
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": big_uri}, "position": {"line": 3, "character": 2}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"forewarn": {"severity": "loud", "debounceMs": "soon"}}}),
    );
    for key in ["forewarn.severity", "forewarn.debounceMs"] {
        assert!(
            c.wait_for("window/logMessage", TIMEOUT, |p| {
                p["message"].as_str().is_some_and(|m| m.contains(key))
            })
            .is_some(),
            "{key} not named"
        );
    }
    assert!(c.is_running());
    assert!(c.shutdown().success());
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let env = Env::new();
    let mut c = env.server(json!({}));
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit().code(), Some(1));
}
