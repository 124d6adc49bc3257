//! `forewarn store …` and `forewarn insights` through the real binary, each test on its own
//! store file in a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn forewarn(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forewarn"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("FOREWARN_STORE")
        .env_remove("FOREWARN_TARGET")
        .stdin(Stdio::null())
        .output()
        .expect("run forewarn")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and insists on exit 0, returning stdout.
fn ok(store: &Path, args: &[&str]) -> String {
    let o = forewarn(store, args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "forewarn {args:?} failed\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn json(store: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(store, args)).expect("JSON output")
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patterns.db");
    (dir, path)
}

fn default_library_ids() -> Vec<String> {
    let lib: Value = serde_json::from_str(forewarn::store::DEFAULT_LIBRARY).unwrap();
    lib["failure_patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

fn count_of(store: &Path, id: &str) -> i64 {
    rusqlite::Connection::open(store)
        .unwrap()
        .query_row(
            "SELECT occurrence_count FROM failure_patterns WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn init_creates_the_missing_directory_and_seeds_the_default_library() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("not/yet/there/patterns.db");
    let out = ok(&store, &["store", "init"]);
    assert!(
        out.contains("created") && out.contains("patterns.db"),
        "{out}"
    );
    let listed = json(&store, &["store", "list", "--format", "json", "--all"]);
    let mut ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected = default_library_ids();
    expected.sort();
    assert_eq!(ids, expected);
    // A second init leaves it alone.
    let again = ok(&store, &["store", "init"]);
    assert!(again.contains("exists"), "{again}");
    assert_eq!(
        json(&store, &["store", "list", "--format", "json", "--all"])
            .as_array()
            .unwrap()
            .len(),
        expected.len()
    );
    // Any other command creates a missing store too (check, hooks and the server rely on it).
    let other = dir.path().join("other/p.db");
    ok(&other, &["store", "lint"]);
    assert!(other.is_file());
    assert_eq!(
        ok(&other, &["store", "path"]).trim(),
        other.display().to_string()
    );
}

#[test]
fn add_show_list_export_import_round_trip() {
    let (dir, store) = temp();
    ok(&store, &["store", "init"]);
    ok(&store, &["store", "client", "add", "Acme"]);
    ok(
        &store,
        &[
            "store",
            "host",
            "add",
            "D2TESTNAS",
            "--alias",
            "nas.example.lan",
            "--tag",
            "synology-dsm",
            "--tag",
            "busybox",
            "--os",
            "Synology DSM",
            "--os-version",
            "7.2",
            "--client",
            "Acme",
        ],
    );
    let id = ok(
        &store,
        &[
            "store",
            "add",
            "--type",
            "environmental_limitation",
            "--signature",
            "systemctl is missing on Synology DSM",
            "--error-pattern",
            "systemctl: command not found",
            "--affected-system",
            "synology-dsm",
            "--command",
            "systemctl",
            "--operation",
            "service_control",
            "--description",
            "systemctl is not found",
            "--root-cause",
            "DSM manages services with synosystemctl",
            "--solution",
            "Use synosystemctl",
            "--alternative",
            "synopkg restart PKG",
            "--severity",
            "blocking",
            "--fix-replace",
            "^systemctl",
            "--fix-with",
            "synosystemctl",
            "--fix-title",
            "Use synosystemctl",
            "--reference",
            "https://kb.synology.com/",
            "--host",
            "nas.example.lan",
            "--client",
            "Acme",
        ],
    )
    .trim()
    .to_string();
    assert_eq!(id.len(), 36, "prints the new UUID: {id}");

    let shown = ok(&store, &["store", "show", &id[..13]]);
    for needle in [
        id.as_str(),
        "systemctl is missing on Synology DSM",
        "environmental_limitation",
        "blocking",
        "DSM manages services with synosystemctl",
        "synopkg restart PKG",
        "service_control",
        "D2TESTNAS",
        "Acme",
        "replace /^systemctl/ with `synosystemctl`",
        "https://kb.synology.com/",
    ] {
        assert!(shown.contains(needle), "show lacks {needle:?}:\n{shown}");
    }
    let p = json(&store, &["store", "show", &id, "--format", "json"]);
    assert_eq!(p["fix"]["with"], "synosystemctl");
    assert_eq!(p["triggering_operations"][0], "service_control");
    assert!(p["infrastructure_id"].is_string() && p["client_id"].is_string());

    let list = ok(&store, &["store", "list"]);
    assert!(
        list.lines()
            .any(|l| l.contains("systemctl is missing on Synology DSM") && l.contains("blocking")),
        "{list}"
    );

    let first = ok(&store, &["store", "export"]);
    let exported: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(exported["clients"][0]["name"], "Acme");
    assert_eq!(exported["infrastructure"][0]["system_tags"][1], "busybox");
    assert!(exported["failure_patterns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id.as_str()));

    let file = dir.path().join("export.json");
    ok(&store, &["store", "export", file.to_str().unwrap()]);
    let fresh = dir.path().join("fresh.db");
    ok(&fresh, &["store", "init", "--no-defaults"]);
    assert_eq!(
        json(&fresh, &["store", "list", "--format", "json"]),
        Value::Array(vec![])
    );
    let imported = ok(&fresh, &["store", "import", file.to_str().unwrap()]);
    assert!(imported.contains("added"), "{imported}");
    assert_eq!(
        ok(&fresh, &["store", "export"]),
        first,
        "export → import → export is identical"
    );

    // Importing the same file again updates in place.
    let again = ok(&fresh, &["store", "import", file.to_str().unwrap()]);
    assert!(again.contains("0 patterns added"), "{again}");
    assert_eq!(ok(&fresh, &["store", "export"]), first);
}

#[test]
fn writes_are_validated_and_name_what_is_wrong() {
    let (dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);
    let bad = forewarn(
        &store,
        &[
            "store",
            "add",
            "--type",
            "version_mismatch",
            "--signature",
            "s",
            "--description",
            "d",
            "--command",
            "sed(",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--command"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("sed("), "{}", stderr(&bad));
    let bad_sev = forewarn(
        &store,
        &[
            "store",
            "add",
            "--type",
            "version_mismatch",
            "--signature",
            "s",
            "--description",
            "d",
            "--severity",
            "fatal",
        ],
    );
    assert_eq!(bad_sev.status.code(), Some(2));
    assert!(
        stderr(&bad_sev).contains("--severity"),
        "{}",
        stderr(&bad_sev)
    );

    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"failure_patterns": [
            {"id": "aaaaaaaa-0000-4000-8000-000000000001", "pattern_type": "permission_denied",
             "pattern_signature": "fine", "failure_description": "d", "severity": "minor"},
            {"id": "aaaaaaaa-0000-4000-8000-000000000002", "pattern_type": "permission_denied",
             "pattern_signature": "bad json list", "failure_description": "d", "affected_systems": "x"},
            {"pattern_type": "nonsense", "pattern_signature": "no id", "failure_description": "d"}
        ]}"#,
    )
    .unwrap();
    let o = forewarn(&store, &["store", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("nothing imported"), "{err}");
    assert!(
        err.contains("failure_patterns[1] (id aaaaaaaa-0000-4000-8000-000000000002): affected_systems must be an array"),
        "{err}"
    );
    assert!(
        err.contains("failure_patterns[2]: pattern_type: unknown pattern_type `nonsense`"),
        "{err}"
    );
    assert_eq!(
        json(&store, &["store", "list", "--format", "json", "--all"]),
        Value::Array(vec![]),
        "the valid row was not imported either"
    );
    let missing = forewarn(&store, &["store", "import", "/nonexistent/x.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/x.json"));
}

#[test]
fn lint_names_every_broken_row() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init"]);
    let clean = ok(&store, &["store", "lint"]);
    assert!(clean.contains("OK"), "{clean}");
    let ids = default_library_ids();
    assert!(ids.len() >= 2);
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        conn.execute(
            "UPDATE failure_patterns SET triggering_commands = '[\"Get-(\"]' WHERE id = ?1",
            [&ids[0]],
        )
        .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA ignore_check_constraints = ON;
             UPDATE failure_patterns SET severity = 'catastrophic', alternative_approaches = 'not json'
             WHERE id = '{}';",
            ids[1]
        ))
        .unwrap();
    }
    let o = forewarn(&store, &["store", "lint"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    let line_of = |id: &str| {
        out.lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{out}"))
            .to_string()
    };
    assert!(
        line_of(&ids[0]).contains("`Get-(` is not a valid regex"),
        "{out}"
    );
    let second = line_of(&ids[1]);
    assert!(
        second.contains("unknown severity `catastrophic`"),
        "{second}"
    );
    assert!(
        second.contains("alternative_approaches is not a JSON array"),
        "{second}"
    );
    // Every other pattern still loads.
    let listed = json(&store, &["store", "list", "--format", "json", "--all"]);
    assert_eq!(listed.as_array().unwrap().len(), ids.len() - 1);
}

#[test]
fn hosts_and_clients() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);
    let no_client = forewarn(
        &store,
        &["store", "host", "add", "web1", "--client", "Globex"],
    );
    assert_eq!(no_client.status.code(), Some(2));
    assert!(stderr(&no_client).contains("no client is named `Globex`"));
    ok(&store, &["store", "client", "add", "Globex"]);
    let dup = forewarn(&store, &["store", "client", "add", "Globex"]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(stderr(&dup).contains("exists already"));
    ok(
        &store,
        &[
            "store",
            "host",
            "add",
            "web1",
            "--alias",
            "web1.globex.com",
            "--tag",
            "debian-12",
            "--client",
            "Globex",
        ],
    );
    ok(
        &store,
        &[
            "store",
            "host",
            "add",
            "build2",
            "--os",
            "Windows Server",
            "--os-version",
            "2008 R2",
        ],
    );
    let dup_host = forewarn(&store, &["store", "host", "add", "WEB1"]);
    assert_eq!(
        dup_host.status.code(),
        Some(2),
        "hostnames are unique, case-insensitively"
    );
    let hosts = json(&store, &["store", "host", "list", "--format", "json"]);
    assert_eq!(hosts.as_array().unwrap().len(), 2);
    assert_eq!(hosts[0]["aliases"][0], "web1.globex.com");
    assert_eq!(hosts[0]["system_tags"][0], "debian-12");
    assert!(hosts[0]["client_id"].is_string() && hosts[1]["client_id"].is_null());
    let human = ok(&store, &["store", "host", "list"]);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("web1") && l.contains("Globex")),
        "{human}"
    );
    let clients = ok(&store, &["store", "client", "list"]);
    assert!(
        clients
            .lines()
            .any(|l| l.starts_with("Globex") && l.contains(" 1 ")),
        "{clients}"
    );
    ok(&store, &["store", "host", "remove", "Web1"]);
    let gone = forewarn(&store, &["store", "host", "remove", "web1"]);
    assert_eq!(gone.status.code(), Some(2));
    assert_eq!(
        json(&store, &["store", "host", "list", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn insights_writes_the_digest_then_marks_the_rows() {
    let (dir, store) = temp();
    ok(&store, &["store", "init"]);
    let ids = default_library_ids();
    let md = dir.path().join("insights.md");
    let o = forewarn(&store, &["insights", "--out", md.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# forewarn insights"), "{text}");
    let lib: Value = serde_json::from_str(forewarn::store::DEFAULT_LIBRARY).unwrap();
    for p in lib["failure_patterns"].as_array().unwrap() {
        let sig = p["pattern_signature"].as_str().unwrap();
        assert!(text.contains(sig), "digest lacks {sig}");
    }
    // Grouped by severity, worst first.
    if let (Some(b), Some(m)) = (text.find("### Blocking"), text.find("### Major")) {
        assert!(b < m);
    }
    let conn = rusqlite::Connection::open(&store).unwrap();
    let marked: i64 = conn
        .query_row(
            "SELECT count(*) FROM failure_patterns WHERE added_to_insights = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(marked as usize, ids.len());
    // Nothing new: the file is left as it was.
    ok(&store, &["insights", "--out", md.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&md).unwrap(), text);
    // A new pattern is appended as a new section.
    ok(
        &store,
        &[
            "store",
            "add",
            "--type",
            "configuration_error",
            "--signature",
            "brand new",
            "--description",
            "d",
            "--command",
            "brand-new-tool",
        ],
    );
    ok(&store, &["insights", "--out", md.to_str().unwrap()]);
    let after = std::fs::read_to_string(&md).unwrap();
    assert!(after.starts_with(&text) && after[text.len()..].contains("brand new"));
    assert_eq!(after.matches("# forewarn insights").count(), 1);
}

#[test]
fn record_counts_and_reports_bad_ids() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init"]);
    let id = default_library_ids().remove(0);
    let before = count_of(&store, &id);
    assert_eq!(before, 0, "the seeded library has not failed here yet");
    assert!(
        ok(&store, &["store", "stats"]).contains("no occurrences recorded yet"),
        "stats lists no seeded pattern as frequent"
    );
    assert_eq!(
        ok(&store, &["store", "record", &id]).trim(),
        (before + 1).to_string()
    );
    // An occurrence on a host names a host of the store (DESIGN.md §2: hosts are rows of
    // `infrastructure`); a typo would file it under a host that does not exist.
    let nosuch = forewarn(&store, &["store", "record", &id, "--host", "nosuchhost"]);
    assert_eq!(nosuch.status.code(), Some(2));
    assert!(
        stderr(&nosuch).contains("--host: no host is named `nosuchhost`"),
        "{}",
        stderr(&nosuch)
    );
    assert_eq!(count_of(&store, &id), before + 1, "nothing counted");
    ok(
        &store,
        &["store", "host", "add", "web1", "--alias", "web1.acme.lan"],
    );
    assert_eq!(
        ok(&store, &["store", "record", &id, "--host", "WEB1.acme.lan"]).trim(),
        (before + 2).to_string()
    );
    assert_eq!(count_of(&store, &id), before + 2);
    let stats = ok(&store, &["store", "stats"]);
    assert!(
        stats.lines().any(|l| l.contains(" web1 ")),
        "logged under its hostname: {stats}"
    );
    let unknown = forewarn(&store, &["store", "record", "ffffffff-nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("ffffffff-nope"));
}

#[test]
fn a_corrupt_store_is_exit_2_naming_the_file() {
    let (_dir, store) = temp();
    std::fs::write(&store, "garbage, not SQLite at all. ".repeat(300)).unwrap();
    for args in [
        &["store", "list"][..],
        &["store", "record", "x"],
        &["check", "-", "--language", "bash"],
    ] {
        let o = forewarn(&store, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains(&store.display().to_string()),
            "{args:?}: {err}"
        );
        assert!(err.contains("not a SQLite database"), "{err}");
    }
}

/// Clears the immutable attribute on drop, so the temporary directory can be removed.
struct Immutable(PathBuf);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_store_still_reads() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init"]);
    let mut perms = std::fs::metadata(&store).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&store, perms).unwrap();
    let mut _guard = None;
    // Root ignores file modes. The immutable attribute stops root too, where the filesystem
    // and the process's capabilities allow it; otherwise this test cannot make the file
    // read-only and says so.
    if std::fs::OpenOptions::new()
        .append(true)
        .open(&store)
        .is_ok()
    {
        let chattr = Command::new("chattr").arg("+i").arg(&store).status();
        if !matches!(chattr, Ok(s) if s.success()) {
            eprintln!("SKIPPED a_read_only_store_still_reads: running with privileges that ignore file modes, and chattr +i is unavailable");
            return;
        }
        _guard = Some(Immutable(store.clone()));
        assert!(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&store)
                .is_err(),
            "the store could not be made read-only"
        );
    }
    let list = forewarn(&store, &["store", "list", "--format", "json"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        default_library_ids().len()
    );
    assert!(stderr(&list).contains("read-only"), "{}", stderr(&list));
    let check = forewarn(&store, &["check", "-", "--language", "bash"]);
    assert_ne!(
        check.status.code(),
        Some(2),
        "check works on a read-only store: {}",
        stderr(&check)
    );
    let id = default_library_ids().remove(0);
    let record = forewarn(&store, &["store", "record", &id]);
    assert_eq!(record.status.code(), Some(2));
    assert!(stderr(&record).contains("read-only"), "{}", stderr(&record));
}

#[test]
fn eight_processes_record_concurrently_and_every_count_lands() {
    const PROCESSES: usize = 8;
    const EACH: usize = 25;
    let (_dir, store) = temp();
    ok(&store, &["store", "init"]);
    let id = default_library_ids().remove(0);
    let before = count_of(&store, &id);
    for w in 0..PROCESSES {
        ok(&store, &["store", "host", "add", &format!("worker{w}")]);
    }
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|w| {
                let store = &store;
                let id = &id;
                s.spawn(move || {
                    let mut failed = Vec::new();
                    for i in 0..EACH {
                        let host = format!("worker{w}");
                        let o = forewarn(store, &["store", "record", id, "--host", &host]);
                        if o.status.code() != Some(0) {
                            failed.push(format!(
                                "worker {w} run {i}: {:?} {}",
                                o.status,
                                stderr(&o)
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(count_of(&store, &id), before + (PROCESSES * EACH) as i64);
    let logged: i64 = rusqlite::Connection::open(&store)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM occurrences WHERE pattern_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged as usize, PROCESSES * EACH);
}

#[test]
fn processes_creating_the_same_store_at_once_seed_it_once() {
    let (_dir, store) = temp();
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| forewarn(&store, &["store", "list", "--format", "json", "--all"])))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for o in &outputs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            listed.as_array().unwrap().len(),
            default_library_ids().len()
        );
    }
}

#[test]
fn a_store_in_a_read_only_directory_still_reads() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("ro");
    let store = sub.join("patterns.db");
    ok(&store, &["store", "init"]);
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
    struct Restore(PathBuf);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        }
    }
    let _restore = Restore(sub.clone());
    // Root ignores directory modes; nothing short of a read-only mount stops it, so this case
    // runs only without that privilege (a_read_only_store_still_reads covers root).
    if std::fs::write(sub.join("probe"), b"").is_ok() {
        eprintln!("SKIPPED a_store_in_a_read_only_directory_still_reads: privileges ignore directory modes");
        return;
    }
    let list = forewarn(&store, &["store", "list", "--format", "json"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        default_library_ids().len()
    );
    let record = forewarn(&store, &["store", "record", &default_library_ids()[0]]);
    assert_eq!(record.status.code(), Some(2));
    assert!(stderr(&record).contains("read-only"), "{}", stderr(&record));
}

fn with_stdin(store: &Path, args: &[&str], input: &str) -> Output {
    common::output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_forewarn"))
            .arg("--store")
            .arg(store)
            .args(args)
            .env_remove("FOREWARN_STORE"),
        input,
    )
}

#[test]
fn add_from_json_and_import_from_stdin() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);
    let row = r#"{"id": "bbbbbbbb-0000-4000-8000-000000000001", "pattern_type": "version_mismatch",
        "pattern_signature": "bash 3.2 has no associative arrays", "failure_description": "declare -A fails",
        "triggering_commands": ["declare\\s+-A"], "affected_systems": ["macos"], "severity": "warning"}"#;
    let added = with_stdin(&store, &["store", "add", "--json", "-"], row);
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    assert_eq!(
        stdout(&added).trim(),
        "bbbbbbbb-0000-4000-8000-000000000001"
    );
    let p = json(&store, &["store", "show", "bbbbbbbb", "--format", "json"]);
    assert_eq!(
        p["severity"], "major",
        "the `warning` alias is stored by its name"
    );
    let again = with_stdin(&store, &["store", "add", "--json", "-"], row);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let bare = r#"[{"pattern_type": "service_unavailable", "pattern_signature": "no systemd in containers",
        "failure_description": "System has not been booted with systemd", "triggering_commands": ["systemctl"]}]"#;
    let imported = with_stdin(&store, &["store", "import", "-"], bare);
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let listed = json(&store, &["store", "list", "--format", "json"]);
    let new = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pattern_signature"] == "no systemd in containers")
        .expect("imported from stdin");
    assert_eq!(
        new["id"].as_str().unwrap().len(),
        36,
        "a row without an id gets a UUID"
    );
}

/// `store add` of a minimal pattern from flags, with `extra` flags; returns the run.
fn add_with(store: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "store",
        "add",
        "--type",
        "command_compatibility",
        "--signature",
        "s",
        "--description",
        "d",
        "--command",
        "foo",
    ];
    args.extend_from_slice(extra);
    forewarn(store, &args)
}

#[test]
fn values_that_match_nothing_are_refused_on_every_write() {
    let (dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);

    let typo = add_with(&store, &["--affected-system", "macoss"]);
    assert_eq!(typo.status.code(), Some(2));
    let err = stderr(&typo);
    assert!(
        err.contains(
            "--affected-system (affected_systems) tag `macoss` is neither a documented tag"
        ) && err.contains("(did you mean `macos`?)")
            && err.contains("nothing added"),
        "{err}"
    );
    let op = add_with(&store, &["--operation", "package-install"]);
    assert_eq!(op.status.code(), Some(2));
    assert!(
        stderr(&op).contains("--operation (triggering_operations) class `package-install`")
            && stderr(&op).contains("(did you mean `package_install`?)"),
        "{}",
        stderr(&op)
    );

    let row = dir.path().join("row.json");
    std::fs::write(
        &row,
        r#"{"id": "my-pattern-1", "pattern_type": "version_mismatch", "pattern_signature": "s",
            "failure_description": "d", "triggering_commands": ["foo"]}"#,
    )
    .unwrap();
    let not_uuid = forewarn(&store, &["store", "add", "--json", row.to_str().unwrap()]);
    assert_eq!(not_uuid.status.code(), Some(2));
    assert!(
        stderr(&not_uuid).contains("pattern (id my-pattern-1): id `my-pattern-1` is not a UUID"),
        "{}",
        stderr(&not_uuid)
    );

    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"[{"id": "aaaaaaaa-0000-4000-8000-000000000001", "pattern_type": "permission_denied",
             "pattern_signature": "fine", "failure_description": "d", "triggering_commands": ["x"]},
            {"id": "aaaaaaaa-0000-4000-8000-000000000002", "pattern_type": "permission_denied",
             "pattern_signature": "typo", "failure_description": "d", "triggering_commands": ["x"],
             "affected_systems": ["windows-server-2008r2"], "triggering_operations": ["reboot"]}]"#,
    )
    .unwrap();
    let o = forewarn(&store, &["store", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let row = "failure_patterns[1] (id aaaaaaaa-0000-4000-8000-000000000002)";
    assert!(
        err.contains(&format!(
            "{row}: affected_systems tag `windows-server-2008r2`"
        )) && err.contains("did you mean `windows-server-2008-r2`"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{row}: triggering_operations class `reboot`")),
        "{err}"
    );
    assert!(err.contains("2 problems, nothing imported"), "{err}");
    assert_eq!(
        json(&store, &["store", "list", "--format", "json", "--all"]),
        Value::Array(vec![]),
        "nothing was written"
    );
}

#[test]
fn hosts_answer_to_their_own_names_and_introduce_site_tags_on_purpose() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);
    ok(
        &store,
        &[
            "store",
            "host",
            "add",
            "acme-web01",
            "--alias",
            "web01.acme.lan",
        ],
    );
    let clash = forewarn(
        &store,
        &["store", "host", "add", "h2", "--alias", "acme-web01"],
    );
    assert_eq!(clash.status.code(), Some(2));
    assert!(
        stderr(&clash).contains("--alias `acme-web01` is already the hostname of host acme-web01"),
        "{}",
        stderr(&clash)
    );
    let clash = forewarn(&store, &["store", "host", "add", "WEB01.acme.lan"]);
    assert_eq!(clash.status.code(), Some(2));
    assert!(
        stderr(&clash).contains("is already an alias of host acme-web01"),
        "{}",
        stderr(&clash)
    );

    let typo = forewarn(&store, &["store", "host", "add", "h2", "--tag", "macoss"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("--tag `macoss` is neither a documented tag")
            && stderr(&typo).contains("(did you mean `macos`?)")
            && stderr(&typo).contains("--site-tag macoss"),
        "{}",
        stderr(&typo)
    );
    // A pattern cannot name a site tag before a host carries it...
    let early = add_with(&store, &["--affected-system", "acme-legacy"]);
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    // ...and can once one does. Tags are stored lowercased.
    ok(
        &store,
        &[
            "store",
            "host",
            "add",
            "h2",
            "--tag",
            "MacOS",
            "--site-tag",
            "Acme-Legacy",
        ],
    );
    let hosts = json(&store, &["store", "host", "list", "--format", "json"]);
    assert_eq!(
        hosts[1]["system_tags"],
        serde_json::json!(["macos", "acme-legacy"])
    );
    let added = add_with(&store, &["--affected-system", "ACME-legacy"]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let id = String::from_utf8_lossy(&added.stdout);
    let p = json(&store, &["store", "show", id.trim(), "--format", "json"]);
    assert_eq!(p["affected_systems"], serde_json::json!(["acme-legacy"]));
    ok(
        &store,
        &["store", "host", "add", "h3", "--tag", "acme-legacy"],
    );
    assert!(ok(&store, &["store", "lint"]).contains("OK"));
    let hosts = json(&store, &["store", "host", "list", "--format", "json"]);
    assert_eq!(
        hosts.as_array().unwrap().len(),
        3,
        "no refused host was added"
    );
}

#[test]
fn lint_reports_rows_that_load_but_match_nothing() {
    let (_dir, store) = temp();
    ok(&store, &["store", "init", "--no-defaults"]);
    ok(&store, &["store", "host", "add", "web1"]);
    ok(&store, &["store", "host", "add", "web2"]);
    {
        // What an older forewarn or the sqlite3 shell could write.
        let conn = rusqlite::Connection::open(&store).unwrap();
        conn.execute_batch(
            r#"INSERT INTO failure_patterns (id, pattern_type, pattern_signature, severity,
                   failure_description, triggering_commands, triggering_operations, affected_systems)
               VALUES ('p1', 'command_compatibility', 's', 'major', 'd', '["foo"]',
                   '["package-install"]', '["macoss"]');
               UPDATE infrastructure SET aliases = '["WEB1"]', system_tags = '["acme-x"]'
               WHERE hostname = 'web2';"#,
        )
        .unwrap();
    }
    let o = forewarn(&store, &["store", "lint"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    let line_of = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line for {needle}:\n{out}"))
            .to_string()
    };
    let p1 = line_of("pattern p1:");
    for needle in [
        "id `p1` is not a UUID",
        "affected_systems tag `macoss`",
        "did you mean `macos`",
        "triggering_operations class `package-install`",
    ] {
        assert!(p1.contains(needle), "{needle}: {p1}");
    }
    let web2 = line_of("host web2:");
    assert!(
        web2.contains("alias `WEB1` is also the hostname of host web1")
            && web2.contains("system tag `acme-x`"),
        "{web2}"
    );
    assert!(
        out.trim_end()
            .ends_with("2 problems (2 in rows that still load)"),
        "{out}"
    );
    // The pattern still works for check: lint reports it, nothing skips it.
    let listed = json(&store, &["store", "list", "--format", "json"]);
    assert_eq!(listed[0]["id"], "p1");
}
