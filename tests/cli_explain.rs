//! `forewarn explain` through the real binary: error output in, the patterns that explain it out.

mod common;

use std::process::Command;

use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/check/patterns.json"
);

fn store() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    for args in [
        vec!["store", "init", "--no-defaults"],
        vec!["store", "import", FIXTURE],
    ] {
        let out = Command::new(EXE)
            .arg("--store")
            .arg(&db)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (dir, db)
}

fn explain(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String) {
    let out = common::output_with_stdin(
        Command::new(EXE)
            .current_dir(db.parent().unwrap())
            .env_remove("FOREWARN_TARGET")
            .arg("--store")
            .arg(db)
            .arg("explain")
            .args(args),
        stdin.unwrap_or(""),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn explains_error_output_with_cause_and_solution() {
    let (_dir, db) = store();
    let text = "Get-LocalUser : The term 'Get-LocalUser' is not recognized as the name of a cmdlet";
    let (code, out) = explain(&db, &[text], None);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("LocalAccounts cmdlets on PowerShell 2.0 [blocking]"),
        "{out}"
    );
    assert!(
        out.contains("cause:   PowerShell 2.0 has no LocalAccounts module."),
        "{out}"
    );
    assert!(
        out.contains("fix:     Use Get-WmiObject -Class Win32_UserAccount."),
        "{out}"
    );

    let (code, out) = explain(
        &db,
        &["--format", "json", "-"],
        Some("bash: python: command not found\n"),
    );
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["matches"][0]["pattern_id"],
        "a0000000-0000-4000-8000-000000000003"
    );
    assert_eq!(v["matches"][0]["matched"], "python: command not found");
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);
}

#[test]
fn targets_filter_and_no_match_exits_1() {
    let (_dir, db) = store();
    let text = "bash: python: command not found";
    let (code, out) = explain(
        &db,
        &["--format", "json", "--target", "windows-11", text],
        None,
    );
    assert_eq!(
        code,
        Some(1),
        "the pattern does not apply on windows-11: {out}"
    );
    let (code, _) = explain(&db, &["--target", "nas01", text], None);
    assert_eq!(code, Some(0), "nas01 has the busybox tag");
    let (code, out) = explain(&db, &["all good"], None);
    assert_eq!(code, Some(1));
    assert!(out.contains("No known failure pattern"), "{out}");
}

/// A reader that stops early (`forewarn explain … | head -1`, `store list | true`) ends the
/// output quietly: no panic, success, as for `cat`.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let (_dir, db) = store();
    for args in [
        vec!["explain", "sed: 1: \"f\": invalid command code f"],
        vec!["store", "list"],
        vec!["store", "list", "--format", "json"],
    ] {
        let mut child = Command::new(EXE)
            .arg("--store")
            .arg(&db)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The read end is closed before the process can have written (it has yet to start).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn no_error_output_is_a_usage_error() {
    let (_dir, db) = store();
    assert_eq!(explain(&db, &[], Some("")).0, Some(2), "empty stdin");
    assert_eq!(explain(&db, &["-"], Some(" \n")).0, Some(2), "blank stdin");
    assert_eq!(explain(&db, &["  "], None).0, Some(2), "blank argument");
}

/// bash as a login shell prefixes its messages with `-bash:`: such text is the argument, not an
/// option, wherever the options stand.
#[test]
fn output_that_starts_with_a_dash_is_the_text() {
    let (_dir, db) = store();
    let plain = explain(&db, &["bash: python: command not found"], None);
    assert_eq!(plain.0, Some(0), "the fixture explains it: {}", plain.1);
    for args in [
        vec!["-bash: python: command not found"],
        vec!["--format", "human", "-bash: python: command not found"],
        vec!["-bash: python: command not found", "--format", "human"],
        vec!["--", "-bash: python: command not found"],
    ] {
        let (code, out) = explain(&db, &args, None);
        assert_eq!(code, Some(0), "{args:?}: {out}");
        assert_eq!(out.lines().next(), plain.1.lines().next(), "{args:?}");
    }
}

/// Output that no pattern for the target explains, but patterns for other systems do: those are
/// shown in their own, labelled section with their systems (the cause may still be the one),
/// the exit code stays 1 (nothing for the target), and JSON lists them under `other_systems`.
#[test]
fn matches_for_other_systems_are_shown_apart() {
    let (_dir, db) = store();
    let text = "bash: python: command not found";
    let (code, out) = explain(&db, &["--target", "windows-11", text], None);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "No known failure pattern for windows-11 matches this output.",
            "",
            "Matches patterns for other systems (not windows-11):",
            "bare python [minor] (a0000000-0000-4000-8000-000000000003)",
        ],
        "{out}"
    );
    assert!(out.contains("  systems: busybox, debian-12\n"), "{out}");
    assert!(out.contains("  cause:   "), "{out}");
    let (code, out) = explain(
        &db,
        &["--format", "json", "--target", "windows-11", text],
        None,
    );
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["matches"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(
        v["other_systems"][0]["pattern_id"],
        "a0000000-0000-4000-8000-000000000003"
    );
    assert_eq!(
        v["other_systems"][0]["affected_systems"],
        serde_json::json!(["busybox", "debian-12"])
    );

    // Something for the target matched: it comes first, the others in a line each.
    let both = "'wmic' is not recognized as an internal or external command\nbash: python: command not found";
    let (code, out) = explain(&db, &["--target", "windows-11", both], None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("wmic removed [info]"), "{out}");
    assert!(
        out.contains("Matches patterns for other systems (not windows-11):\n  bare python [minor] (a0000000-0000-4000-8000-000000000003) — busybox, debian-12\n"),
        "{out}"
    );
    // Without a target every pattern is a match: no other systems.
    let (code, out) = explain(&db, &["--format", "json", both], None);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["matches"].as_array().unwrap().len(), 2, "{v:#}");
    assert_eq!(v["other_systems"], serde_json::json!([]));
    let (_, out) = explain(&db, &[both], None);
    assert!(!out.contains("other systems"), "{out}");
}
