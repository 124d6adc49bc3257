//! `forewarn check --target container` with the default library: the real binary on the
//! tester's read-only commands (`ifconfig eth0`, `crontab -l`), which are no network change and
//! no scheduled job, next to the forms that are, which still get the container findings.

mod common;

use std::process::Command;

use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");
const NETWORK: &str = "Changing network settings inside an unprivileged container is not permitted";
const SCHEDULE: &str = "Scheduled jobs never run inside containers";

/// The signatures of the findings, each with the text it matched, for `script` on `container`.
fn findings(store: &tempfile::TempDir, script: &str) -> Vec<(String, String)> {
    let mut cmd = common::forewarn(&store.path().join("patterns.db"));
    cmd.current_dir(store.path());
    let out = common::output_with_stdin(
        cmd.args([
            "check",
            "--format",
            "json",
            "--language",
            "bash",
            "--target",
            "container",
            "-",
        ]),
        script,
    );
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["signature"].as_str().unwrap().to_owned(),
                f["matched"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn reading_commands_get_no_container_change_findings() {
    let store = tempfile::tempdir().unwrap();
    let out = Command::new(EXE)
        .env_remove("FOREWARN_STORE")
        .arg("--store")
        .arg(store.path().join("patterns.db"))
        .args(["store", "init"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "store init: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let reads = findings(&store, "ifconfig eth0\ncrontab -l 2>/dev/null\n");
    assert!(
        !reads
            .iter()
            .any(|(sig, _)| sig == NETWORK || sig == SCHEDULE),
        "read-only commands reported as changes: {reads:?}"
    );

    // The same commands changing something still get both findings.
    let changes = findings(&store, "ifconfig eth0 up\ncrontab /tmp/jobs\n");
    let signatures: Vec<&str> = changes.iter().map(|(sig, _)| sig.as_str()).collect();
    assert!(signatures.contains(&NETWORK), "{changes:?}");
    assert!(signatures.contains(&SCHEDULE), "{changes:?}");
}
