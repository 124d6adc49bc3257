//! A fix already in the script (`fix.applied_if`) through the real binary: `check` on the
//! tester's PowerShell script that sets TLS 1.2 before its requests, and the store commands
//! that accept, show, export, import and lint the field.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::{json, Value};

/// The default library's "TLS 1.2-only HTTPS endpoints" pattern.
const TLS: &str = "4ad620a2-67c2-4b6e-a19e-c0ea3a39d3b7";
const SET: &str = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12";

fn forewarn(store: &Path, args: &[&str]) -> Output {
    common::forewarn(store)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(store: &Path, args: &[&str]) -> String {
    let o = forewarn(store, args);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A new store seeded with the default library.
fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patterns.db");
    ok(&path, &["store", "init"]);
    (dir, path)
}

/// The tester's script: line 2 sets TLS 1.2 (or, `set = false`, does something else), lines
/// 4-6 make HTTPS requests.
fn script(set: bool) -> String {
    format!(
        "# Download the agent\n{}\n$ErrorActionPreference = 'Stop'\n\
         Invoke-WebRequest -Uri https://github.com/acme/agent/releases/latest/download/agent.zip -OutFile agent.zip -UseBasicParsing\n\
         $release = Invoke-RestMethod -Uri https://api.github.com/repos/acme/agent/releases/latest\n\
         iwr https://acme.example/install.ps1 -UseBasicParsing -OutFile install.ps1\n",
        if set { SET } else { "$ProgressPreference = 'SilentlyContinue'" }
    )
}

/// `check --format json` of `file` for `target`: the exit code and the TLS findings' lines.
fn tls_lines_for(store: &Path, file: &Path, target: &str) -> (Option<i32>, Vec<u64>) {
    let o = forewarn(
        store,
        &[
            "check",
            "--format",
            "json",
            "--target",
            target,
            file.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)));
    let lines = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["pattern_id"] == TLS)
        .map(|f| f["start"]["line"].as_u64().unwrap())
        .collect();
    (o.status.code(), lines)
}

/// [`tls_lines_for`] Server 2012 R2.
fn tls_lines(store: &Path, file: &Path) -> (Option<i32>, Vec<u64>) {
    tls_lines_for(store, file, "windows-server-2012-r2")
}

#[test]
fn check_reports_no_tls_finding_after_the_script_sets_tls_12() {
    let (dir, store) = store();
    let file = dir.path().join("deploy.ps1");
    std::fs::write(&file, script(true)).unwrap();
    assert_eq!(tls_lines(&store, &file), (Some(0), vec![]));
    std::fs::write(&file, script(false)).unwrap();
    assert_eq!(tls_lines(&store, &file), (Some(1), vec![4, 5, 6]));
    // The setting in a comment is no setting.
    std::fs::write(&file, script(true).replacen("[Net.", "# [Net.", 1)).unwrap();
    assert_eq!(tls_lines(&store, &file), (Some(1), vec![4, 5, 6]));
    // Code sent to another host runs in a fresh session there.
    let remote = format!(
        "{SET}\nInvoke-Command -ComputerName windows-server-2012-r2 {{ irm https://a.example/x }}\n"
    );
    std::fs::write(&file, remote).unwrap();
    assert_eq!(tls_lines(&store, &file), (Some(1), vec![2]));
}

/// `check` for Server 2008 R2 of `src`: the TLS findings' lines.
fn tls_lines_2008(store: &Path, file: &Path, src: &str) -> Vec<u64> {
    std::fs::write(file, src).unwrap();
    tls_lines_for(store, file, "windows-server-2008-r2").1
}

#[test]
fn a_fix_in_another_process_a_job_or_an_uncalled_function_covers_no_request_here() {
    let (dir, store) = store();
    let file = dir.path().join("deploy.ps1");
    let t = "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072";
    let iwr = "Invoke-WebRequest https://acme.example/a.zip -OutFile a.zip";
    for src in [
        format!("powershell -Command \"{t}\"\n{iwr}\n"),
        format!("Start-Job {{ {t} }}\n{iwr}\n"),
        format!("function Set-Tls {{ {t} }}\n{iwr}\n"),
        format!("$sb = {{ {t} }}\n{iwr}\n"),
        format!("{}\n{iwr}\n", t.replace("-bor", "-band -bnot")),
    ] {
        assert_eq!(tls_lines_2008(&store, &file, &src), [2], "{src}");
    }
    // The fix here does not reach a request run by a job.
    let src = format!("{t}\nStart-Job {{ iwr https://acme.example/a }}\n");
    assert_eq!(tls_lines_2008(&store, &file, &src), [2], "{src}");
    // In place, it still covers what follows.
    let src = format!("{t}\n{iwr}\npowershell -Command \"{t}; iwr https://acme.example/b\"\n");
    assert_eq!(
        tls_lines_2008(&store, &file, &src),
        Vec::<u64>::new(),
        "{src}"
    );
}

/// A pattern in the interchange format whose fix is only `applied_if`.
fn pattern(applied_if: &str) -> Value {
    json!({
        "id": "7f1c2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b",
        "pattern_type": "configuration_error",
        "pattern_signature": "curl to an old TLS server",
        "failure_description": "curl fails the handshake",
        "triggering_commands": ["curl"],
        "severity": "minor",
        "fix": {"title": "Allow TLS 1.0", "applied_if": applied_if}
    })
}

#[test]
fn the_store_accepts_shows_exports_imports_and_lints_applied_if() {
    let (dir, store) = store();
    let file = dir.path().join("p.json");
    std::fs::write(&file, pattern(r"--tlsv1(\.0)?\b").to_string()).unwrap();
    let id = ok(&store, &["store", "add", "--json", file.to_str().unwrap()]);
    assert_eq!(id.trim(), "7f1c2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b");
    let shown = ok(&store, &["store", "show", id.trim()]);
    assert!(
        shown.contains(r"Allow TLS 1.0: applied if /--tlsv1(\.0)?\b/"),
        "{shown}"
    );

    // The same through flags; a bad regex is named with its flag.
    let flags = |applied_if: &str| -> Vec<String> {
        let mut args: Vec<String> = [
            "store",
            "add",
            "--type",
            "configuration_error",
            "--signature",
            "wget to an old TLS server",
            "--description",
            "wget fails the handshake",
            "--command",
            "wget",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--fix-applied-if={applied_if}"));
        args
    };
    let args = flags("--secure-protocol=TLSv1");
    let id2 = ok(&store, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let shown = ok(&store, &["store", "show", id2.trim()]);
    assert!(
        shown.contains("applied if /--secure-protocol=TLSv1/"),
        "{shown}"
    );
    let args = flags("(TLSv1");
    let o = forewarn(&store, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--fix-applied-if (fix.applied_if) `(TLSv1` is not a valid regex"),
        "{}",
        text(&o.stderr)
    );

    // Export → import into an empty store → the same export.
    let exported = ok(&store, &["store", "export"]);
    let doc: Value = serde_json::from_str(&exported).unwrap();
    let rows = doc["failure_patterns"].as_array().unwrap();
    let row = |rows: &[Value], id: &str| rows.iter().find(|p| p["id"] == id).cloned().unwrap();
    assert_eq!(
        row(rows, id.trim())["fix"],
        json!({"title": "Allow TLS 1.0", "applied_if": r"--tlsv1(\.0)?\b"})
    );
    assert!(row(rows, TLS)["fix"]["applied_if"]
        .as_str()
        .unwrap()
        .contains("SecurityProtocol"));
    let again = dir.path().join("again.db");
    ok(&again, &["store", "init", "--no-defaults"]);
    let export_file = dir.path().join("export.json");
    std::fs::write(&export_file, &exported).unwrap();
    ok(&again, &["store", "import", export_file.to_str().unwrap()]);
    assert_eq!(ok(&again, &["store", "export"]), exported);

    // A regex that does not compile is refused by add and import, named with the pattern.
    std::fs::write(&file, pattern("--tlsv1(").to_string()).unwrap();
    let list = dir.path().join("list.json");
    std::fs::write(&list, json!([pattern("--tlsv1(")]).to_string()).unwrap();
    for args in [
        vec!["store", "add", "--json", file.to_str().unwrap()],
        vec!["store", "import", list.to_str().unwrap()],
    ] {
        let o = forewarn(&store, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = text(&o.stderr);
        assert!(
            err.contains("fix.applied_if `--tlsv1(` is not a valid regex"),
            "{args:?}: {err}"
        );
    }
    // One written into the store behind its back is what lint names, with the pattern's id.
    rusqlite::Connection::open(&store)
        .unwrap()
        .execute(
            "UPDATE failure_patterns SET fix = '{\"applied_if\": \"SecurityProtocol = (\"}' WHERE id = ?1",
            [TLS],
        )
        .unwrap();
    let o = forewarn(&store, &["store", "lint"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.contains(TLS))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("fix.applied_if `SecurityProtocol = (` is not a valid regex"),
        "{line}"
    );
}
