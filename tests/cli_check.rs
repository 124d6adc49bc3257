//! `forewarn check` as a user runs it: the real binary on real files, with a fixture store,
//! in every output format, with every exit code and the bad inputs of issue 2 §5.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check");

/// A copy of the fixture workspace and a store seeded from its patterns, in a temp dir.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(Path::new(FIXTURE), &dir.path().join("ws"));
        let ws = Workspace { dir };
        let out = ws.forewarn(&["store", "init", "--no-defaults"]);
        assert!(out.status.success(), "store init: {}", stderr(&out));
        let out = ws.forewarn(&[
            "store",
            "import",
            ws.root().join("patterns.json").to_str().unwrap(),
        ]);
        assert!(out.status.success(), "store import: {}", stderr(&out));
        ws
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store").join("patterns.db")
    }

    fn command(&self) -> Command {
        let mut c = common::forewarn(&self.store());
        c.current_dir(self.root());
        c
    }

    fn forewarn(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn check_json(&self, args: &[&str]) -> (Value, Output) {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.forewarn(&all);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
        (v, out)
    }

    /// The JSON report of `check ARGS`, which must have run (exit 0, or 1 for findings).
    fn checked(&self, args: &[&str]) -> Value {
        let (v, out) = self.check_json(args);
        assert!(
            out.status.success() || out.status.code() == Some(1),
            "{args:?}: {}",
            stderr(&out)
        );
        v
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn finding<'a>(v: &'a Value, path_end: &str, signature: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(path_end) && f["signature"] == signature)
        .unwrap_or_else(|| panic!("no `{signature}` finding in {path_end}: {v:#}"))
}

#[test]
fn json_report_has_the_contract_shape() {
    let ws = Workspace::new();
    let (v, out) = ws.check_json(&["."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a blocking finding fails at the default --fail-on: {}",
        stderr(&out)
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["files"], 4, "{v:#}");
    assert_eq!(v["summary"]["findings"], 4, "{v:#}");
    assert_eq!(
        v["summary"]["by_severity"],
        serde_json::json!({"blocking": 1, "major": 1, "minor": 1, "info": 1})
    );

    let users = finding(
        &v,
        "windows/users.ps1",
        "LocalAccounts cmdlets on PowerShell 2.0",
    );
    assert_eq!(users["path"], "windows/users.ps1");
    let text = std::fs::read_to_string(ws.root().join("windows/users.ps1")).unwrap();
    let offset = text.find("Get-LocalUser").unwrap();
    assert_eq!(
        users["start"],
        serde_json::json!({"line": 2, "column": 10, "offset": offset})
    );
    assert_eq!(
        users["end"],
        serde_json::json!({"line": 2, "column": 23, "offset": offset + 13})
    );
    assert_eq!(users["matched"], "Get-LocalUser");
    assert_eq!(users["severity"], "blocking");
    assert_eq!(
        users["target"], "OLDSRV",
        "the [targets] glob of .forewarn.toml"
    );
    assert_eq!(users["pattern_id"], "a0000000-0000-4000-8000-000000000001");
    assert_eq!(users["pattern_type"], "command_compatibility");
    assert_eq!(
        users["root_cause"],
        "PowerShell 2.0 has no LocalAccounts module."
    );
    assert_eq!(
        users["recommended_solution"],
        "Use Get-WmiObject -Class Win32_UserAccount."
    );
    assert_eq!(users["alternatives"], serde_json::json!(["net user"]));
    assert!(users["message"].as_str().unwrap().contains("OLDSRV"));
    assert!(users["fix"].is_null());

    let bat = finding(&v, "windows/info.bat", "wmic removed");
    assert_eq!(
        bat["target"], "windows-11",
        "the in-file directive wins over the config"
    );
    assert_eq!(bat["start"]["line"], 3);

    let sed = finding(&v, "nas/backup.sh", "GNU sed -i on BusyBox");
    assert_eq!(sed["start"]["line"], 3);
    assert_eq!(sed["severity"], "major");
    let py = finding(&v, "nas/backup.sh", "bare python");
    assert_eq!(py["fix"]["replacement"], "python3");
    assert_eq!(py["fix"]["start"], py["start"]);
    let all = v["findings"].as_array().unwrap();
    assert!(all.iter().all(|f| f["start"]["line"] != 4 || !f["path"].as_str().unwrap().ends_with("backup.sh")), "`echo \"sed -i\"` is data");
}

#[test]
fn human_report_shows_source_span_cause_and_fix() {
    let ws = Workspace::new();
    let out = ws.forewarn(&["check", "windows/users.ps1"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(s.contains("windows/users.ps1:2:10: blocking: LocalAccounts cmdlets on PowerShell 2.0 (target: OLDSRV)"), "{s}");
    assert!(
        s.contains("2 | $users = Get-LocalUser | Where-Object { $_.Enabled }"),
        "{s}"
    );
    assert!(
        s.contains("  |          ^^^^^^^^^^^^^ Get-LocalUser is not recognized"),
        "{s}"
    );
    assert!(
        s.contains("= cause: PowerShell 2.0 has no LocalAccounts module."),
        "{s}"
    );
    assert!(
        s.contains("= fix: Use Get-WmiObject -Class Win32_UserAccount."),
        "{s}"
    );
    assert!(s.contains("= also: net user"), "{s}");
    assert!(s.contains("Found 1 finding in 1 file (1 blocking)."), "{s}");
    assert!(
        !s.contains('\x1b'),
        "no colour when NO_COLOR is set or stdout is not a terminal"
    );
    let colored = ws.forewarn(&["check", "--color", "always", "windows/users.ps1"]);
    assert!(
        stdout(&colored).contains("\x1b[1;31mblocking"),
        "{}",
        stdout(&colored)
    );
}

#[test]
fn sarif_is_2_1_0_with_one_rule_per_pattern() {
    let ws = Workspace::new();
    let out = ws.forewarn(&["check", "--format", "sarif", "."]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "forewarn");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(rules.len(), 4, "one rule per pattern that fired");
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(rules[idx]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Solution:"));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .contains('/'));
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    let blocking = results.iter().find(|r| r["level"] == "error").unwrap();
    assert_eq!(
        blocking["locations"][0]["physicalLocation"]["region"]["startColumn"],
        10
    );
    let fixed = results
        .iter()
        .find(|r| r.get("fixes").is_some())
        .expect("the python fix travels as a SARIF fix");
    assert_eq!(
        fixed["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "python3"
    );
}

#[test]
fn github_annotations() {
    let ws = Workspace::new();
    let out = ws.forewarn(&["check", "--format", "github", "."]);
    let s = stdout(&out);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 4, "{s}");
    assert!(lines.iter().any(|l| l.starts_with("::error file=windows/users.ps1,line=2,col=10,endLine=2,endColumn=23,title=forewarn%3A LocalAccounts cmdlets on PowerShell 2.0::")), "{s}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning file=nas/backup.sh,line=3,")),
        "{s}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::notice file=windows/info.bat,line=3,")),
        "{s}"
    );
    assert!(lines.iter().all(|l| !l.contains('\n')));
}

#[test]
fn thresholds_and_exit_codes() {
    let ws = Workspace::new();
    let (v, out) = ws.check_json(&["--severity", "major", "."]);
    assert_eq!(v["summary"]["findings"], 2);
    assert_eq!(out.status.code(), Some(1));
    let (_, out) = ws.check_json(&["--fail-on", "blocking", "nas"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a major finding does not fail with --fail-on blocking"
    );
    let (v, out) = ws.check_json(&["clean"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["summary"]["findings"], 0);
    let bad = ws.forewarn(&["check", "--severity", "loud", "."]);
    assert_eq!(bad.status.code(), Some(2), "usage error");
    let missing = ws.forewarn(&["check", "no/such/file.sh"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/file.sh"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn target_flag_env_and_unknown_target() {
    let ws = Workspace::new();
    // A misspelt target is not a tag that silences every scoped pattern: it is an unknown
    // target, said once, and the findings stay (at most minor).
    std::fs::write(
        ws.root().join("clean/typo.ps1"),
        "Get-LocalUser\nNew-LocalUser x\n",
    )
    .unwrap();
    let (v, out) = ws.check_json(&["--target", "oldsrvv", "clean/typo.ps1"]);
    assert_eq!(v["summary"]["findings"], 2, "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "minor");
    let err = stderr(&out);
    assert_eq!(err.matches("unknown target `oldsrvv`").count(), 1, "{err}");
    assert!(err.contains("(from --target or FOREWARN_TARGET)"), "{err}");
    // Where a name came from is said: a directive, the configuration, a remote host.
    std::fs::create_dir_all(ws.root().join("typo")).unwrap();
    std::fs::write(
        ws.root().join("typo/.forewarn.toml"),
        "[targets]\n\"*.sh\" = \"macoss\"\n",
    )
    .unwrap();
    std::fs::write(ws.root().join("typo/a.sh"), "python x\nssh webx python x\n").unwrap();
    std::fs::write(
        ws.root().join("typo/b.sh"),
        "# forewarn: target=debian-12, macos\nnproc\n",
    )
    .unwrap();
    let (_, out) = ws.check_json(&["typo"]);
    let err = stderr(&out);
    for from in [
        "unknown target `macoss` (from [targets] of ",
        "unknown target `webx` (from a host typo/a.sh sends code to)",
        "unknown target `debian-12,` (from the `forewarn: target=` directive in typo/b.sh) (a target is one host or tag, not a list)",
    ] {
        assert!(err.contains(from), "missing {from:?} in:\n{err}");
    }
    // In CI the same warnings reach the run's summary: a GitHub annotation, a SARIF
    // tool notification. The exit code stays that of the findings.
    let out = ws
        .command()
        .args(["check", "--format", "github", "typo"])
        .output()
        .unwrap();
    let annotations = stdout(&out);
    let warnings: Vec<&str> = annotations
        .lines()
        .filter(|l| l.starts_with("::warning title=forewarn%3A configuration::"))
        .collect();
    assert_eq!(warnings.len(), 3, "{annotations}");
    assert!(
        warnings[0].contains("unknown target `debian-12,`"),
        "{annotations}"
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = ws
        .command()
        .args(["check", "--format", "sarif", "typo"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes.as_array().map(Vec::len), Some(3), "{sarif:#}");
    assert_eq!(notes[1]["level"], "warning");
    assert!(
        notes[1]["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("unknown target `macoss` (from [targets] of ")),
        "{notes:#}"
    );
    std::fs::remove_dir_all(ws.root().join("typo")).unwrap();
    std::fs::remove_file(ws.root().join("clean/typo.ps1")).unwrap();
    // Outside the [targets] globs the flag decides; with no target the severity is at most minor.
    std::fs::write(ws.root().join("clean/users.ps1"), "Get-LocalUser\n").unwrap();
    let (v, out) = ws.check_json(&["clean/users.ps1"]);
    assert_eq!(out.status.code(), Some(0), "unknown target: nothing fails");
    assert_eq!(v["findings"][0]["severity"], "minor");
    assert!(v["findings"][0]["target"].is_null());
    assert!(v["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("powershell-2.0"));
    let (v, _) = ws.check_json(&["--target", "oldsrv.acme.lan", "clean/users.ps1"]);
    assert_eq!(
        v["findings"][0]["severity"], "blocking",
        "an alias resolves to the host"
    );
    let out = ws
        .command()
        .args(["check", "--format", "json", "clean/users.ps1"])
        .env("FOREWARN_TARGET", "powershell-2.0")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["severity"], "blocking",
        "a bare tag as the target"
    );
    let (v, _) = ws.check_json(&["--target", "debian-12", "clean/users.ps1"]);
    assert_eq!(
        v["summary"]["findings"], 0,
        "the pattern does not apply on debian-12"
    );
    // A config's default target comes after `--target` and FOREWARN_TARGET (README, Targets).
    std::fs::create_dir_all(ws.root().join("deb")).unwrap();
    std::fs::write(
        ws.root().join("deb/.forewarn.toml"),
        "target = \"debian-12\"\n",
    )
    .unwrap();
    std::fs::write(ws.root().join("deb/users.ps1"), "Get-LocalUser\n").unwrap();
    let (v, _) = ws.check_json(&["deb/users.ps1"]);
    assert_eq!(v["summary"]["findings"], 0, "the config's target: {v:#}");
    let (v, _) = ws.check_json(&["--target", "powershell-2.0", "deb/users.ps1"]);
    assert_eq!(v["findings"][0]["target"], "powershell-2.0", "{v:#}");
    for file in ["deb/users.ps1", "-"] {
        let out = ws
            .command()
            .current_dir(ws.root().join("deb"))
            .args(["check", "--format", "json", "--language", "powershell"])
            .arg(file.strip_prefix("deb/").unwrap_or(file))
            .env("FOREWARN_TARGET", "powershell-2.0")
            .stdin(std::fs::File::open(ws.root().join("deb/users.ps1")).unwrap())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["findings"][0]["target"], "powershell-2.0",
            "{file}: {v:#}"
        );
    }
}

#[test]
fn stdin_needs_a_language() {
    let ws = Workspace::new();
    let run =
        |args: &[&str], input: &str| common::output_with_stdin(ws.command().args(args), input);
    let out = run(
        &[
            "check",
            "--format",
            "json",
            "--language",
            "bash",
            "--target",
            "nas01",
            "-",
        ],
        "sudo python x.py\n",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["path"], "<stdin>");
    assert_eq!(v["findings"][0]["matched"], "python");
    let out = run(&["check", "-"], "x\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--language"));
    let out = run(
        &["check", "--format", "json", "--target", "nas01", "-"],
        "#!/bin/sh\npython x.py\n",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["matched"], "python",
        "a #! line names the language"
    );
}

#[test]
fn crlf_invalid_utf8_and_binary_files() {
    let ws = Workspace::new();
    let nas = ws.root().join("nas");
    std::fs::write(
        nas.join("crlf.sh"),
        "#!/bin/sh\r\nsed -i 's/a/b/' f\r\npython x.py\r\n",
    )
    .unwrap();
    std::fs::write(
        nas.join("latin1.sh"),
        b"#!/bin/sh\n# caf\xe9 \xff\xfe\necho \xe9t\xe9; python x.py\n",
    )
    .unwrap();
    std::fs::write(nas.join("blob.sh"), b"\x7fELF\x00\x00\x01python\n").unwrap();
    let (v, out) = ws.check_json(&["nas"]);
    let err = stderr(&out);
    assert_eq!(
        err.matches("blob.sh").count(),
        1,
        "a binary file is named once: {err}"
    );
    assert!(err.contains("binary"), "{err}");
    let crlf: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "nas/crlf.sh")
        .collect();
    assert_eq!(crlf.len(), 2, "CRLF gives the same findings as LF: {v:#}");
    assert_eq!(crlf[1]["start"]["line"], 3);
    let latin: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "nas/latin1.sh")
        .collect();
    assert_eq!(latin.len(), 1, "{v:#}");
    // Read lossily, positions are still right: `echo ?t?; ` is 10 characters before python.
    assert_eq!(latin[0]["start"]["line"], 3);
    assert_eq!(latin[0]["start"]["column"], 11);
    assert_eq!(latin[0]["matched"], "python");
}

#[test]
fn utf16_files_and_files_named_twice() {
    let ws = Workspace::new();
    // Windows PowerShell 5.1's `Out-File` writes UTF-16LE with a BOM.
    let text = "# note\r\n$u = Get-LocalUser\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(ws.root().join("windows/utf16.ps1"), bytes).unwrap();
    let (v, out) = ws.check_json(&["windows/utf16.ps1", "./windows/utf16.ps1", "windows"]);
    assert!(!stderr(&out).contains("binary"), "{}", stderr(&out));
    let utf16: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with("utf16.ps1"))
        .collect();
    assert_eq!(
        utf16.len(),
        1,
        "checked once although named three times: {v:#}"
    );
    assert_eq!(utf16[0]["start"]["line"], 2);
    assert_eq!(utf16[0]["start"]["column"], 6);
    assert_eq!(v["summary"]["files"], 3, "utf16.ps1, users.ps1, info.bat");
}

#[test]
fn gitignore_and_exclude_are_honoured() {
    let ws = Workspace::new();
    std::fs::write(ws.root().join(".gitignore"), "generated/\n").unwrap();
    std::fs::create_dir_all(ws.root().join("generated")).unwrap();
    std::fs::write(ws.root().join("generated/x.sh"), "python x.py\n").unwrap();
    let (v, _) = ws.check_json(&["--target", "debian-12", "."]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["path"].as_str().unwrap().starts_with("generated")),
        "{v:#}"
    );
    // A file named explicitly is checked even when ignored.
    let (v, _) = ws.check_json(&["--target", "debian-12", "generated/x.sh"]);
    assert_eq!(v["summary"]["findings"], 1);
}

#[test]
fn invalid_config_is_named_and_defaults_keep_working() {
    let ws = Workspace::new();
    std::fs::write(
        ws.root().join(".forewarn.toml"),
        "severity = \"loud\"\n[targets]\n\"windows/**\" = \"OLDSRV\"\n",
    )
    .unwrap();
    let (v, out) = ws.check_json(&["--target", "OLDSRV", "windows/users.ps1"]);
    let err = stderr(&out);
    assert!(err.contains(".forewarn.toml:1: key `severity`"), "{err}");
    assert_eq!(v["summary"]["findings"], 1, "the check still runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a config that could not be read fails the run instead of quietly weakening it"
    );
    let toml_err = ws.forewarn(&["check", "windows"]);
    assert_eq!(
        stderr(&toml_err).matches(".forewarn.toml").count(),
        1,
        "said once: {}",
        stderr(&toml_err)
    );
}

#[test]
fn store_problems_missing_dirs_and_corruption() {
    let ws = Workspace::new();
    // An invalid pattern written behind forewarn's back is skipped and named; the rest works.
    let conn = rusqlite::Connection::open(ws.store()).unwrap();
    conn.execute(
        "UPDATE failure_patterns SET triggering_commands = '[\"(unclosed\"]' WHERE id = 'a0000000-0000-4000-8000-000000000004'",
        [],
    )
    .unwrap();
    drop(conn);
    let (v, out) = ws.check_json(&["."]);
    let err = stderr(&out);
    assert!(
        err.contains("a0000000-0000-4000-8000-000000000004"),
        "{err}"
    );
    assert_eq!(
        err.matches("a0000000-0000-4000-8000-000000000004").count(),
        1,
        "named once: {err}"
    );
    assert_eq!(v["summary"]["findings"], 3);

    // A store in a directory that does not exist yet is created (and seeded).
    let fresh = ws.dir.path().join("new/dir/patterns.db");
    let out = Command::new(EXE)
        .current_dir(ws.root())
        .arg("--store")
        .arg(&fresh)
        .args(["check", "clean"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fresh.exists());

    // A corrupt store is exit 2, naming the file.
    let bad = ws.dir.path().join("corrupt.db");
    std::fs::write(&bad, vec![b'x'; 8192]).unwrap();
    let out = Command::new(EXE)
        .current_dir(ws.root())
        .arg("--store")
        .arg(&bad)
        .args(["check", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("corrupt.db"), "{}", stderr(&out));
}

#[test]
fn unreadable_files_are_reported_and_the_rest_is_checked() {
    let ws = Workspace::new();
    // As root a chmod does not stop reads, so use a file the kernel refuses to read.
    let unreadable = if is_root() {
        PathBuf::from("/proc/self/mem")
    } else {
        let p = ws.root().join("nas/secret.sh");
        std::fs::write(&p, "python x\n").unwrap();
        std::process::Command::new("chmod")
            .arg("000")
            .arg(&p)
            .status()
            .unwrap();
        p
    };
    let out = ws.forewarn(&[
        "check",
        "--format",
        "json",
        "--language",
        "bash",
        unreadable.to_str().unwrap(),
        "nas/backup.sh",
    ]);
    assert_eq!(out.status.code(), Some(2), "an I/O error is exit 2");
    assert!(
        stderr(&out).contains(unreadable.file_name().unwrap().to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["summary"]["findings"], 2,
        "the other file is still checked"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| stdout(&o).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn a_50_mb_file_is_checked() {
    let ws = Workspace::new();
    let line = "echo \"processing item\" && gzip -9 /var/log/app.log # comment\n";
    let mut text = String::with_capacity(50 << 20);
    while text.len() < 50 << 20 {
        text.push_str(line);
    }
    text.push_str("python last.py\n");
    let lines = text.lines().count();
    std::fs::write(ws.root().join("nas/huge.sh"), &text).unwrap();
    drop(text);
    let (v, out) = ws.check_json(&["nas/huge.sh"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let f = &v["findings"][0];
    assert_eq!(f["matched"], "python");
    assert_eq!(f["start"]["line"], lines);
}

/// `(line, signature)` of every finding, in report order.
fn lines_and_signatures(v: &Value) -> Vec<(u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["start"]["line"].as_u64().unwrap(),
                f["signature"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn guarded_code_is_not_a_finding() {
    let ws = Workspace::new();
    let v = ws.checked(&["--target", "busybox", "guards/guarded.sh"]);
    let py = "bare python".to_string();
    assert_eq!(
        lines_and_signatures(&v),
        [
            // `command -v python2` does not look python up.
            (10, py.clone()),
            // The `then` of `if ! command -v python` runs when python is missing.
            (12, py),
            // `command -v python || exit 1` guards the lines after it (line 15).
            // The lookup proves sed exists, not that its `-i` works.
            (16, "GNU sed -i on BusyBox".to_string()),
        ],
        "{v:#}"
    );

    let v = ws.checked(&["--target", "powershell-2.0", "guards/guarded.ps1"]);
    let local = "LocalAccounts cmdlets on PowerShell 2.0".to_string();
    assert_eq!(
        lines_and_signatures(&v),
        // Get-LocalGroup was looked up, not New-LocalUser; the last line checks nothing.
        [(9, local.clone()), (10, local)],
        "{v:#}"
    );
    // Left out of the workspace walk, they do not change the other tests' counts.
    let (v, _) = ws.check_json(&["--target", "busybox", "."]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["path"].as_str().unwrap().starts_with("guards")),
        "{v:#}"
    );
}

#[test]
fn a_guard_answers_missing_commands_on_this_machine_only() {
    let ws = Workspace::new();
    let (v, out) = ws.check_json(&["--target", "container", "guards/container.sh"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        lines_and_signatures(&v),
        // The lookup proves systemctl is there, not that systemd runs; python's lookup holds.
        [(4, "systemctl without systemd as PID 1".to_string())],
        "{v:#}"
    );

    let v = ws.checked(&["--target", "busybox", "guards/shells.sh"]);
    let lines: Vec<u64> = lines_and_signatures(&v)
        .into_iter()
        .filter(|(_, s)| s == "bare python")
        .map(|(l, _)| l)
        .collect();
    // Not on line 4 (the heredoc piped into sh) nor 6 (bash -c): the lookup was made there.
    assert_eq!(lines, [7, 8, 10, 12, 14, 17], "{v:#}");
}

#[test]
fn os_checks_bound_where_a_branch_runs() {
    let ws = Workspace::new();
    let sed = "GNU sed -i on BusyBox".to_string();
    // On BusyBox (Linux) only the branches that can run on Linux warn (not `*)` after `Linux)`);
    // untargeted too, as the pattern names only a Linux system.
    for target in [Some("busybox"), None] {
        let mut args = vec!["guards/os.sh"];
        if let Some(t) = target {
            args.extend(["--target", t]);
        }
        let v = ws.checked(&args);
        assert_eq!(
            lines_and_signatures(&v),
            [(6, sed.clone()), (9, sed.clone())],
            "{target:?}: {v:#}"
        );
    }
    // On macOS nothing in the file applies.
    let v = ws.checked(&["--target", "macos", "guards/os.sh"]);
    assert_eq!(lines_and_signatures(&v), [], "{v:#}");
}

#[test]
fn checks_that_end_the_script_and_joined_checks_hold_after_them() {
    let ws = Workspace::new();
    let sed = "GNU sed -i on BusyBox".to_string();
    let python = "bare python".to_string();
    let v = ws.checked(&["--target", "busybox", "guards/ends.sh"]);
    assert_eq!(
        lines_and_signatures(&v),
        // python before its lookup, not after; sed before the OS check (the check inside a
        // function ends nothing), not after it: the script stops on Linux there.
        [(3, python), (6, sed.clone()), (8, sed)],
        "{v:#}"
    );
    let local = "LocalAccounts cmdlets on PowerShell 2.0".to_string();
    let v = ws.checked(&["--target", "powershell-2.0", "guards/ends.ps1"]);
    assert_eq!(lines_and_signatures(&v), [(2, local)], "{v:#}");
    // `$IsLinux -or $IsMacOS`: the block never runs on Windows.
    let v = ws.checked(&["--target", "windows-11", "guards/ends.ps1"]);
    assert_eq!(
        lines_and_signatures(&v),
        [(5, "wmic removed".to_string())],
        "{v:#}"
    );
}

// ---- `check` through the pattern cache beside the store (`<store>.hook-cache`) ----

/// What one run of `check` shows: stdout, stderr and the exit code.
type Run = (String, String, Option<i32>);

impl Workspace {
    /// Writes the pattern cache now (what a run that missed it starts in the background).
    fn rebuild_cache(&self) {
        let out = self.forewarn(&["hook", "--rebuild-cache"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let cache = PathBuf::from(format!("{}.hook-cache", self.store().display()));
        assert!(cache.is_file(), "no cache at {}", cache.display());
    }

    /// `check ARGS` reading the whole store, and `check ARGS` answered from the cache (the
    /// debug log must say so; it is left out of the stderr compared).
    fn check_both_ways(&self, args: &[&str]) -> (Run, Run) {
        let run = |cache: bool| {
            let mut c = self.command();
            c.env_remove("FOREWARN_LOG").env_remove("RUST_LOG");
            if !cache {
                c.env("FOREWARN_HOOK_CACHE", "0");
            }
            let out = c
                .arg("check")
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            (stdout(&out), stderr(&out), out.status.code())
        };
        let full = run(false);
        let cached = run(true);
        assert_eq!(self.loaded_from_cache(args), Some(true), "{args:?}");
        (full, cached)
    }

    /// Whether `check ARGS` took its patterns from the cache (`None`: the log did not say).
    fn loaded_from_cache(&self, args: &[&str]) -> Option<bool> {
        let out = self
            .command()
            .env("FOREWARN_LOG", "debug")
            .arg("check")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Some(stderr(&out).contains("patterns from the cache"))
    }
}

/// Scripts that hide a command name from a plain text search (quotes, escapes, aliases, encoded
/// PowerShell, strings run by another shell), next to the synthetic ones.
fn write_cache_scripts(ws: &Workspace) {
    let dir = ws.root().join("cachecheck");
    std::fs::create_dir_all(&dir).unwrap();
    let patterns = forewarn::synthetic::patterns(3000, 7);
    std::fs::write(
        dir.join("synthetic.json"),
        serde_json::to_string(&patterns).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("big.sh"),
        forewarn::synthetic::bash_script(3000, 3000, 8),
    )
    .unwrap();
    std::fs::write(
        dir.join("big.ps1"),
        // Under 64 KB: a larger script that needs a whole parse to show its names is checked
        // against the whole store (see below).
        forewarn::synthetic::powershell_script(600, 3000, 9),
    )
    .unwrap();
    // `Get-LocalUser` as UTF-16LE base64, run by an encoded command.
    let encoded = "RwBlAHQALQBMAG8AYwBhAGwAVQBzAGUAcgA=";
    std::fs::write(
        dir.join("hidden.sh"),
        format!(
            "#!/bin/bash\np''ython a.py\npy\\thon b.py\nbash -c \"pyt\\\"\\\"hon c.py\"\n\
             ssh web1 'se\"\"d -i s/a/b/ f'\nsudo -u x env A=1 /usr/bin/python d.py\n\
             pwsh -EncodedCommand {encoded}\necho $'\\x70ython' | sh\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("hidden.ps1"),
        format!(
            "Get-Local`User\n& 'New-LocalUser' -Name x\npowershell.exe -enc {encoded}\n\
             Invoke-Expression 'wmic os get caption'\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("hidden.bat"),
        "@echo off\r\nw^mic os get caption\r\ncmd /c \"python x.py\"\r\n",
    )
    .unwrap();
}

#[test]
fn the_pattern_cache_gives_check_the_same_reports_as_the_whole_store() {
    let ws = Workspace::new();
    write_cache_scripts(&ws);
    let out = ws.forewarn(&["store", "import", "cachecheck/synthetic.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A tag only a pattern that cannot fire here uses: still a known target from the cache.
    // The store's writes refuse a tag no host carries, so the row is one an older store holds.
    let conn = rusqlite::Connection::open(ws.store()).unwrap();
    conn.execute(
        "INSERT INTO failure_patterns (id, pattern_type, pattern_signature, severity,
             failure_description, triggering_commands, affected_systems)
         VALUES ('a1000000-0000-4000-8000-000000000001', 'command_compatibility', 'acme only',
             'major', 'd', '[\"acmetool\"]', '[\"acme-os\"]')",
        [],
    )
    .unwrap();
    // A row that does not decode is reported the same way from the cache.
    conn.execute(
        "UPDATE failure_patterns SET triggering_commands = '[\"(unclosed\"]' \
         WHERE id = 'a0000000-0000-4000-8000-000000000004'",
        [],
    )
    .unwrap();
    drop(conn);
    ws.rebuild_cache();

    let mut compared = 0;
    for format in ["json", "human", "sarif", "github"] {
        for target in [
            None,
            Some("debian-12"),
            Some("acme-os"),
            Some("powershell-2.0"),
        ] {
            for files in [
                &["."][..],
                &["cachecheck/big.sh"][..],
                &["guards/guarded.sh", "guards/guarded.ps1"][..],
                &[
                    "cachecheck/hidden.sh",
                    "cachecheck/hidden.ps1",
                    "cachecheck/hidden.bat",
                ][..],
            ] {
                let mut args = vec!["--format", format];
                if let Some(t) = target {
                    args.extend(["--target", t]);
                }
                args.extend_from_slice(files);
                let (full, cached) = ws.check_both_ways(&args);
                assert_eq!(cached, full, "check {args:?}");
                assert!(
                    full.1.contains("a0000000-0000-4000-8000-000000000004"),
                    "the bad row is named: {}",
                    full.1
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 64);
    // A large PowerShell script would have to be parsed whole to find its aliases for the
    // cache: it is checked against the whole store instead, with the same report.
    std::fs::write(
        ws.root().join("cachecheck/huge.ps1"),
        forewarn::synthetic::powershell_script(2000, 3000, 9),
    )
    .unwrap();
    let args = [
        "--format",
        "json",
        "--target",
        "powershell-5.1",
        "cachecheck/huge.ps1",
    ];
    assert_eq!(ws.loaded_from_cache(&args), Some(false));
    let mut uncached = ws.command();
    uncached.env("FOREWARN_HOOK_CACHE", "0");
    let uncached = uncached.arg("check").args(args).output().unwrap();
    let cached = ws.command().arg("check").args(args).output().unwrap();
    assert_eq!(stdout(&cached), stdout(&uncached));
    assert!(stdout(&cached).matches("\"pattern_id\"").count() > 100);
    // The comparison has something to compare: the hidden names are found, and the cache holds
    // fewer patterns than the store.
    let (v, _) = ws.check_json(&["cachecheck"]);
    let lines: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.contains("hidden")))
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // The encoded command (ps1:3) names no cmdlet in its text. (wmic is the broken row.)
    for (path, line) in [
        ("cachecheck/hidden.sh", 6),
        ("cachecheck/hidden.ps1", 2),
        ("cachecheck/hidden.ps1", 3),
        ("cachecheck/hidden.bat", 3),
    ] {
        assert!(
            lines.contains(&(path.to_string(), line)),
            "no finding at {path}:{line}: {lines:?}"
        );
    }
    let out = ws
        .command()
        .env("FOREWARN_LOG", "debug")
        .args(["check", "--format", "json", "cachecheck/hidden.sh"])
        .output()
        .unwrap();
    let log = stderr(&out);
    let loaded: usize = log
        .split("patterns from the cache (")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        loaded < 300,
        "{loaded} of 3005 patterns loaded for an 8-line script (the operation-triggered ones, \
         one in twenty, are always loaded)"
    );
}

#[test]
fn check_never_answers_from_a_stale_cache() {
    let ws = Workspace::new();
    std::fs::write(ws.root().join("new.sh"), "newtool --x\npython a.py\n").unwrap();
    ws.rebuild_cache();
    let ids = |ws: &Workspace| -> Vec<(String, String)> {
        let (v, out) = ws.check_json(&["new.sh"]);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&out)
        );
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["matched"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let first = ids(&ws);
    assert_eq!(first.len(), 1, "{first:?}");
    let python = first[0].clone();
    assert_eq!(python.0, "python");
    assert_ne!(python.1, "info");
    assert_eq!(ws.loaded_from_cache(&["new.sh"]), Some(true));

    // store add: the next check sees the new pattern, whether or not the cache was rebuilt.
    let out = ws.forewarn(&[
        "store",
        "add",
        "--type",
        "command_compatibility",
        "--signature",
        "new tool",
        "--description",
        "d",
        "--command",
        "newtool",
        "--severity",
        "blocking",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let newtool = ("newtool".to_string(), "blocking".to_string());
    assert_eq!(ids(&ws), [newtool.clone(), python.clone()]);
    ws.rebuild_cache();
    assert_eq!(ws.loaded_from_cache(&["new.sh"]), Some(true));
    assert_eq!(ids(&ws), [newtool.clone(), python.clone()]);

    // store import updating a pattern: its new severity shows at once.
    let (v, _) = ws.check_json(&["new.sh"]);
    let id = v["findings"][1]["pattern_id"].as_str().unwrap().to_string();
    let export = ws.forewarn(&["store", "show", &id, "--format", "json"]);
    let mut row: Value = serde_json::from_slice(&export.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(&export)));
    row["severity"] = "info".into();
    std::fs::write(ws.root().join("update.json"), json_array(&row)).unwrap();
    let out = ws.forewarn(&["store", "import", "update.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let python_minor = ("python".to_string(), "info".to_string());
    assert_eq!(ids(&ws), [newtool.clone(), python_minor.clone()]);

    // store record moves no knowledge: the rebuilt cache stays in use and says the same.
    ws.rebuild_cache();
    let out = ws.forewarn(&["store", "record", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ws.loaded_from_cache(&["new.sh"]), Some(true));
    assert_eq!(ids(&ws), [newtool, python_minor]);
}

fn json_array(row: &Value) -> String {
    serde_json::to_string(&Value::Array(vec![row.clone()])).unwrap()
}

#[test]
fn a_damaged_or_older_cache_gives_the_same_report_and_is_rebuilt() {
    let ws = Workspace::new();
    let args = ["--format", "json", "--target", "debian-12", "."];
    let run = |cache: bool| {
        let mut c = ws.command();
        c.env_remove("FOREWARN_LOG").env_remove("RUST_LOG");
        if !cache {
            c.env("FOREWARN_HOOK_CACHE", "0");
        }
        let out = c.arg("check").args(args).output().unwrap();
        (stdout(&out), stderr(&out), out.status.code())
    };
    let full = run(false);
    assert!(full.0.contains("\"pattern_id\""), "{}", full.0);
    let cache = PathBuf::from(format!("{}.hook-cache", ws.store().display()));
    // The cache is back (a detached rebuild writes it) and answers again.
    let rebuilt = || {
        for _ in 0..200 {
            if ws.loaded_from_cache(&args) == Some(true) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    };
    ws.rebuild_cache();
    let whole = std::fs::read(&cache).unwrap();

    // Cut short (a torn write): the report is the store's, and stderr says why it is slower.
    std::fs::write(&cache, &whole[..whole.len() - 100]).unwrap();
    let (out, err, code) = run(true);
    assert_eq!((&out, code), (&full.0, full.2));
    assert!(
        err.contains("the pattern cache is damaged") && err.contains(".hook-cache"),
        "{err}"
    );
    assert_eq!(
        err.replace(err.lines().next().unwrap(), "").trim(),
        full.1.trim()
    );
    assert!(rebuilt(), "the damaged cache was not rebuilt");
    assert_eq!(std::fs::read(&cache).unwrap(), whole);

    // Written by an older forewarn: quietly read around and replaced.
    let text = String::from_utf8_lossy(&whole).into_owned();
    let first = text.lines().next().unwrap();
    let mut words: Vec<&str> = first.split(' ').collect();
    words[1] = "5";
    let older = text.replacen(first, &words.join(" "), 1);
    std::fs::write(&cache, older).unwrap();
    assert_eq!(run(true), full);
    assert!(rebuilt(), "the older cache was not rebuilt");
    assert_eq!(std::fs::read(&cache).unwrap(), whole);
}

#[test]
fn a_missing_path_checks_nothing_and_says_so() {
    let ws = Workspace::new();
    let out = ws.forewarn(&["check", "no-such-script.sh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-script.sh: no such file"));
    assert_eq!(stdout(&out).trim(), "No scripts were checked.");
}

/// Code sent to the machine it is on (`Invoke-Command -ComputerName localhost`, `.`, a loopback
/// address, `ssh localhost`) runs on the file's target: checked against it, not as an unknown
/// host. A store host named `localhost` does not change that (README, Targets).
#[test]
fn remote_execution_to_the_local_machine_keeps_the_target() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.root().join("loop")).unwrap();
    let names = [
        "localhost",
        "LOCALHOST",
        ".",
        "127.0.0.1",
        "::1",
        "localhost.",
        "'localhost'",
    ];
    let ps: String = names
        .iter()
        .map(|n| format!("Invoke-Command -ComputerName {n} {{ Get-LocalUser }}\n"))
        .collect();
    std::fs::write(ws.root().join("loop/local.ps1"), &ps).unwrap();
    std::fs::write(
        ws.root().join("loop/local.sh"),
        "ssh localhost 'python x'\nssh admin@127.0.0.1 python y\n",
    )
    .unwrap();
    let by_target = |v: &Value| -> Vec<(u64, String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["start"]["line"].as_u64().unwrap(),
                    f["severity"].as_str().unwrap().to_string(),
                    f["target"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let expected = |n: usize, severity: &str, target: &str| -> Vec<(u64, String, String)> {
        (1..=n as u64)
            .map(|l| (l, severity.to_string(), target.to_string()))
            .collect()
    };
    for with_local_host in [false, true] {
        if with_local_host {
            let out = ws.forewarn(&["store", "host", "add", "localhost", "--tag", "debian-12"]);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let (v, out) = ws.check_json(&["--target", "oldsrv", "loop/local.ps1"]);
        assert_eq!(
            by_target(&v),
            expected(names.len(), "blocking", "oldsrv"),
            "{v:#}"
        );
        assert!(!stderr(&out).contains("unknown target"), "{}", stderr(&out));
        assert_eq!(out.status.code(), Some(1));
        let (v, out) = ws.check_json(&["--target", "nas01", "loop/local.sh"]);
        assert_eq!(by_target(&v), expected(2, "minor", "nas01"), "{v:#}");
        assert!(!stderr(&out).contains("unknown target"), "{}", stderr(&out));
        // Untargeted, the local machine is still unknown: at most minor, no unknown host.
        let (v, out) = ws.check_json(&["loop/local.ps1"]);
        assert_eq!(by_target(&v), expected(names.len(), "minor", "-"), "{v:#}");
        assert!(!stderr(&out).contains("unknown target"), "{}", stderr(&out));
    }
    // Another machine is still another target.
    std::fs::write(
        ws.root().join("loop/other.ps1"),
        "Invoke-Command -ComputerName localhost2 { Get-LocalUser }\n",
    )
    .unwrap();
    let (_, out) = ws.check_json(&["--target", "oldsrv", "loop/other.ps1"]);
    assert!(
        stderr(&out).contains("unknown target `localhost2`"),
        "{}",
        stderr(&out)
    );
}

/// `# FOREWARN: IGNORE`, `# Forewarn: Ignore`, `REM FOREWARN: TARGET=…` and `DISABLE-FILE` are
/// directives: the keyword is read in any case.
#[test]
fn directive_keywords_are_read_in_any_case() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.root().join("case")).unwrap();
    let files = [
        ("a.ps1", "Get-LocalUser # FOREWARN: IGNORE\n# Forewarn: Ignore\nGet-LocalUser\nGet-LocalUser # forewarn: Ignore=LOCALACCOUNTS cmdlets on PowerShell 2.0\nGet-LocalUser\n"),
        ("b.sh", "# Forewarn: Disable-File\npython x\n"),
    ];
    for (name, text) in files {
        std::fs::write(ws.root().join("case").join(name), text).unwrap();
    }
    let v = ws.checked(&["--target", "oldsrv", "case"]);
    let lines: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [("case/a.ps1".to_string(), 5)], "{v:#}");
    std::fs::write(
        ws.root().join("case/c.bat"),
        "@echo off\r\nREM FOREWARN: TARGET=windows-11\r\nwmic os get caption\r\n",
    )
    .unwrap();
    let v = ws.checked(&["case/c.bat"]);
    assert_eq!(v["findings"][0]["target"], "windows-11", "{v:#}");
}

/// `--severity` hides findings below it; the human summary says how many, so that a clean line
/// does not read as no findings at all. JSON, SARIF and GitHub stay as they were.
#[test]
fn a_severity_threshold_says_what_it_hid() {
    let ws = Workspace::new();
    let last_line = |args: &[&str]| -> String {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        let out = ws.forewarn(&all);
        stdout(&out).lines().last().unwrap_or("").to_string()
    };
    assert_eq!(
        last_line(&["--severity", "blocking", "nas"]),
        "✓ No known failures at or above blocking in 1 file; 2 more below blocking not shown (1 major, 1 minor: --severity minor shows them)."
    );
    assert_eq!(
        last_line(&["--severity", "major", "."]),
        "Found 2 findings in 4 files (1 blocking, 1 major); 2 more below major not shown (1 minor, 1 info: --severity info shows them)."
    );
    // Nothing hidden: the summary is as it was.
    assert_eq!(
        last_line(&["--severity", "info", "."]),
        "Found 4 findings in 4 files (1 blocking, 1 major, 1 minor, 1 info)."
    );
    assert_eq!(last_line(&["clean"]), "✓ No known failures in 1 file.");
    // The configuration's `severity` is a threshold too.
    std::fs::write(
        ws.root().join("nas/.forewarn.toml"),
        "severity = \"major\"\n[targets]\n\"**\" = \"nas01\"\n",
    )
    .unwrap();
    assert_eq!(
        last_line(&["nas"]),
        "Found 1 finding in 1 file (1 major); 1 more below major not shown (1 minor: --severity minor shows them)."
    );
    let (v, _) = ws.check_json(&["--severity", "blocking", "nas"]);
    assert_eq!(
        v["summary"],
        serde_json::json!({"files": 1, "findings": 0, "by_severity": {}}),
        "JSON is unchanged"
    );
    for format in ["github", "sarif"] {
        let out = ws.forewarn(&["check", "--format", format, "--severity", "blocking", "nas"]);
        assert!(!stdout(&out).contains("not shown"), "{format}");
    }
}

/// A path given with `.` or `name/..` in it is shown normalised as text (no symlink followed) in
/// every format; absolute paths stay absolute.
#[test]
fn paths_are_shown_normalised_in_every_format() {
    let ws = Workspace::new();
    let given = "nas/../nas/./backup.sh";
    let out = ws.forewarn(&["check", "--format", "github", given]);
    let s = stdout(&out);
    assert!(s.starts_with("::warning file=nas/backup.sh,line=3,"), "{s}");
    assert!(!s.contains(".."), "{s}");
    let out = ws.forewarn(&["check", given]);
    assert!(
        stdout(&out).contains("nas/backup.sh:3:1: major: GNU sed -i on BusyBox"),
        "{}",
        stdout(&out)
    );
    let v = ws.checked(&[given]);
    assert_eq!(v["findings"][0]["path"], "nas/backup.sh");
    let out = ws.forewarn(&["check", "--format", "sarif", "windows/../nas"]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let location =
        &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "nas/backup.sh", "{sarif:#}");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    // Absolute: still absolute, without the detour.
    let abs = ws.root().join("windows/../nas/backup.sh");
    let v = ws.checked(&[abs.to_str().unwrap()]);
    let expected = format!("{}/nas/backup.sh", ws.root().display());
    assert_eq!(v["findings"][0]["path"].as_str().unwrap(), expected);
    let out = ws.forewarn(&["check", "--format", "sarif", abs.to_str().unwrap()]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/nas/backup.sh"),
        "{uri}"
    );
    assert!(!uri.contains(".."), "{uri}");
}

/// In batch, what follows an unconditional `goto` (or `exit`) up to the next label never runs
/// and is not reported; a conditional jump, or a label, and it may.
#[test]
fn batch_code_after_an_unconditional_goto_is_not_reported() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.root().join("jump")).unwrap();
    std::fs::write(
        ws.root().join("jump/skip.bat"),
        "@echo off\r\ngoto :skip\r\nwmic os get caption\r\n:skip\r\nwmic cpu get name\r\nif errorlevel 1 goto :eof\r\nwmic bios get serialnumber\r\ngoto :eof\r\nwmic nic get name\r\n:: a comment is no label\r\nwmic os get version\r\n",
    )
    .unwrap();
    let v = ws.checked(&["--target", "windows-11", "jump/skip.bat"]);
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5, 7], "{v:#}");
}

/// A command called by a path someone chose (a virtualenv's python, a GNU sed unpacked in
/// `./tools`) is not the system's: the patterns about what the system ships stay quiet on it,
/// and still speak on the bare name and on the system's own directories.
#[test]
fn a_program_at_someones_path_is_not_the_systems() {
    let ws = Workspace::new();
    std::fs::write(
        ws.root().join("paths.sh"),
        "#!/bin/sh\n.venv/bin/python -m pip install x\n/opt/py/bin/python a.py\n\
         \"$VENV\"/bin/python b.py\n/usr/bin/python c.py\npython d.py\n\
         ./tools/sed -i s/a/b/ f\n/bin/sed -i s/a/b/ f\n/usr//bin/python e.py\n",
    )
    .unwrap();
    let lines = |target: &str, signature: &str| -> Vec<i64> {
        let v = ws.checked(&["--target", target, "paths.sh"]);
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["signature"] == signature)
            .map(|f| f["start"]["line"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(lines("debian-12", "bare python"), [5, 6, 9]);
    assert_eq!(lines("busybox", "GNU sed -i on BusyBox"), [8]);
}

/// An `exit` run in the background (`… || exit 1 &`) or through `start` (a new process) ends
/// nothing: the code after it runs and is reported.
#[test]
fn exits_in_the_background_or_through_start_leave_the_code_after_them_live() {
    let ws = Workspace::new();
    let bash = "command -v python >/dev/null || exit 1 &\npython x.py\n";
    std::fs::write(ws.root().join("bg.sh"), bash).unwrap();
    let v = ws.checked(&["--target", "debian-12", "bg.sh"]);
    assert_eq!(v["summary"]["findings"], 1, "{v:#}");
    assert_eq!(v["findings"][0]["start"]["line"], 2, "{v:#}");
    // Without the `&` the lookup ends the script where python is missing.
    std::fs::write(ws.root().join("fg.sh"), bash.replace(" &\n", "\n")).unwrap();
    let v = ws.checked(&["--target", "debian-12", "fg.sh"]);
    assert_eq!(v["summary"]["findings"], 0, "{v:#}");

    let bat = "@echo off\r\nstart /b goto done\r\nwmic os get caption\r\n:done\r\n";
    std::fs::write(ws.root().join("start.bat"), bat).unwrap();
    let v = ws.checked(&["--target", "windows-11", "start.bat"]);
    assert_eq!(v["summary"]["findings"], 1, "{v:#}");
    assert_eq!(v["findings"][0]["start"]["line"], 3, "{v:#}");
    std::fs::write(ws.root().join("goto.bat"), bat.replace("start /b ", "")).unwrap();
    let v = ws.checked(&["--target", "windows-11", "goto.bat"]);
    assert_eq!(v["summary"]["findings"], 0, "{v:#}");
}
