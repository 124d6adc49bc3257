//! Whole-process latency of `forewarn hook claude` (DESIGN.md §10: ≤ 5 ms median with the
//! default library, ≤ 15 ms with 10,000 patterns), the way an agent pays it: spawn the release
//! binary, write the payload to its stdin, wait for its answer.
//!
//! `cargo bench --bench hook` (or `benches/hook.sh`, which also runs hyperfine when installed).
//! Set `FOREWARN_BENCH_RUNS` to change the number of runs per case (default 200).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use forewarn::synthetic;

const EXE: &str = env!("CARGO_BIN_EXE_forewarn");

/// A typical agent command: a compound command with a wrapper, nothing known to fail.
const TYPICAL: &str = "cd /srv/app && git pull --ff-only && sudo systemctl restart app.service";

fn payload(event: &str, command: &str, extra: serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": "/",
        "permission_mode": "default", "hook_event_name": event, "tool_name": "Bash",
        "tool_input": {"command": command, "description": "bench"}, "tool_use_id": "toolu_bench",
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

fn run_once(store: &Path, target: &str, stdin: &str) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(EXE)
        .arg("--store")
        .arg(store)
        .args(["hook", "claude"])
        .env("FOREWARN_TARGET", target)
        .env_remove("FOREWARN_STORE")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn forewarn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// CPU time (user + system) of every child waited for so far, from /proc (Linux); wall-clock
/// figures on a shared machine include waiting for a core, CPU time does not.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command name: state is field 3, cutime 16 and cstime 17 (1-based).
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn measure(name: &str, store: &Path, target: &str, stdin: &str, runs: usize) -> Duration {
    for _ in 0..5 {
        run_once(store, target, stdin);
    }
    // A miss rebuilds the cache in a detached process: let it finish before measuring.
    std::thread::sleep(Duration::from_secs(2));
    let cpu_before = children_cpu();
    let mut times: Vec<Duration> = (0..runs).map(|_| run_once(store, target, stdin)).collect();
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(a, b)| {
            format!(
                "  cpu {:>5.2} ms/run",
                ms(a.saturating_sub(b)) / runs as f64
            )
        })
        .unwrap_or_default();
    times.sort();
    let median = times[times.len() / 2];
    let p90 = times[times.len() * 9 / 10];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{name:<46} median {:>6.2} ms  p90 {:>6.2} ms  mean {:>6.2} ms{cpu}  ({runs} runs)",
        ms(median),
        ms(p90),
        ms(mean)
    );
    median
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn forewarn(store: &Path, args: &[&str]) {
    let out = Command::new(EXE)
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either way.
    let runs: usize = std::env::var("FOREWARN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(10);
    let dir = tempfile::tempdir().unwrap();
    let default_store = dir.path().join("default.db");
    forewarn(&default_store, &["store", "init"]);

    let big_store = dir.path().join("10k.db");
    let json = dir.path().join("10k.json");
    let patterns = synthetic::patterns(10_000, 1);
    std::fs::write(&json, serde_json::to_string(&patterns).unwrap()).unwrap();
    forewarn(&big_store, &["store", "init", "--no-defaults"]);
    forewarn(&big_store, &["store", "import", json.to_str().unwrap()]);

    let typical = payload("PreToolUse", TYPICAL, serde_json::json!({}));
    let blocked = payload(
        "PreToolUse",
        "python manage.py migrate && tool42 --opt0 x",
        serde_json::json!({}),
    );
    let failure = payload(
        "PostToolUseFailure",
        "tool7 --opt0",
        serde_json::json!({"error": "Exit code 2\ntool7: unknown option '--opt0'", "is_interrupt": false}),
    );
    println!("forewarn hook claude, whole process ({EXE})");
    // The floor: the same binary and pipe doing no work, under the same machine load.
    measure(
        "process floor (malformed payload)",
        &default_store,
        "debian-12",
        "{",
        runs,
    );
    let d = measure(
        "default library, typical PreToolUse",
        &default_store,
        "debian-12",
        &typical,
        runs,
    );
    measure(
        "default library, PreToolUse with findings",
        &default_store,
        "debian-12",
        &blocked,
        runs,
    );
    let b = measure(
        "10,000 patterns, typical PreToolUse",
        &big_store,
        "debian-12",
        &typical,
        runs,
    );
    measure(
        "10,000 patterns, PreToolUse with findings",
        &big_store,
        "debian-12",
        &blocked,
        runs,
    );
    measure(
        "10,000 patterns, PostToolUseFailure, unknown",
        &big_store,
        "debian-12",
        &failure,
        runs,
    );
    // With no target every pattern applies, so this failure is recognised and recorded: each
    // run writes the store (an occurrence, which leaves the cache's knowledge version alone).
    measure(
        "10,000 patterns, PostToolUseFailure, records",
        &big_store,
        "",
        &failure,
        runs.min(50),
    );
    println!(
        "budget: default {} (≤ 5 ms), 10k {} (≤ 15 ms)",
        if ms(d) <= 5.0 { "met" } else { "MISSED" },
        if ms(b) <= 15.0 { "met" } else { "MISSED" }
    );
}
