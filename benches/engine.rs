//! The engine's budgets (DESIGN.md §10) on a synthetic store of 10,000 patterns and a
//! 10,000-line script: index build (≤ 50 ms), a full scan (≤ 20 ms) cold and warm, the parse
//! alone, and a whole-process `forewarn check` of the file next to `grep -F -w -f` over the same
//! literals. Run with `cargo bench --bench engine`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use forewarn::engine::{scan, PatternIndex};
use forewarn::script::{self, Language};
use forewarn::synthetic;

const PATTERNS: usize = 10_000;
const LINES: usize = 10_000;
const TARGET: &str = "debian-12";

fn engine(c: &mut Criterion) {
    let patterns = synthetic::patterns(PATTERNS, 1);
    let bash = synthetic::bash_script(LINES, PATTERNS, 2);
    let pwsh = synthetic::powershell_script(LINES, PATTERNS, 3);
    let mut g = c.benchmark_group("engine");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));

    g.bench_function("index_build_10k_patterns", |b| {
        b.iter_batched(
            || patterns.clone(),
            |p| PatternIndex::build(p, vec![], vec![]),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("parse_bash_10k_lines", |b| {
        b.iter(|| script::parse(&bash, Language::Bash))
    });
    g.bench_function("parse_powershell_10k_lines", |b| {
        b.iter(|| script::parse(&pwsh, Language::PowerShell))
    });
    // Cold: a fresh index each time, so every regex the script needs is compiled in the run.
    g.bench_function("scan_bash_10k_lines_cold", |b| {
        b.iter_batched(
            || PatternIndex::build(patterns.clone(), vec![], vec![]),
            |index| scan(&bash, Language::Bash, Some(TARGET), &index),
            BatchSize::LargeInput,
        )
    });
    let index = PatternIndex::build(patterns.clone(), vec![], vec![]);
    // Real admin scripts (examples/*/*.sh) repeated to 10,000 lines: comments, blank lines and
    // quoting as people write them, next to the denser synthetic script.
    let real = repeat_to_lines(&example_scripts("sh"), LINES);
    g.bench_function("scan_examples_bash_10k_lines_warm", |b| {
        b.iter(|| scan(&real, Language::Bash, Some(TARGET), &index))
    });
    g.bench_function("scan_bash_10k_lines_warm", |b| {
        b.iter(|| scan(&bash, Language::Bash, Some(TARGET), &index))
    });
    // No target: every pattern may fire, so every statement naming one is parsed.
    g.bench_function("scan_bash_10k_lines_warm_untargeted", |b| {
        b.iter(|| scan(&bash, Language::Bash, None, &index))
    });
    g.bench_function("scan_powershell_10k_lines_warm", |b| {
        b.iter(|| scan(&pwsh, Language::PowerShell, Some("powershell-5.1"), &index))
    });
    g.finish();

    let findings = scan(&bash, Language::Bash, Some(TARGET), &index)
        .findings
        .len();
    let commands = script::parse(&bash, Language::Bash).commands.len();
    eprintln!(
        "bash script: {} bytes, {commands} commands, {findings} findings for target {TARGET}",
        bash.len()
    );
    process(c, &patterns, &bash);
}

/// The text of every `examples/*/*.EXT` script.
fn example_scripts(ext: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.is_dir())
        .flat_map(|d| {
            std::fs::read_dir(d)
                .unwrap()
                .filter_map(|f| f.ok().map(|f| f.path()))
        })
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap() + "\n")
        .collect()
}

fn repeat_to_lines(text: &str, lines: usize) -> String {
    let per = text.lines().count().max(1);
    text.repeat(lines.div_ceil(per))
}

/// Whole-process figures: `forewarn check` with the 10,000-pattern store, and grep.
fn process(c: &mut Criterion, patterns: &[forewarn::engine::Pattern], bash: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("patterns.db");
    let script = dir.path().join("big.sh");
    let literals = dir.path().join("literals.txt");
    let json = dir.path().join("patterns.json");
    std::fs::write(&script, bash).unwrap();
    std::fs::write(&literals, synthetic::literals(patterns.len())).unwrap();
    std::fs::write(&json, serde_json::to_string(patterns).unwrap()).unwrap();
    let exe = env!("CARGO_BIN_EXE_forewarn");
    let run = |args: &[&str]| {
        let out = Command::new(exe)
            .arg("--store")
            .arg(&store)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["store", "init", "--no-defaults"]);
    run(&["store", "import", json.to_str().unwrap()]);
    // The pattern cache beside the store, as the first `check` (or hook) after a change leaves
    // it: later runs load only the patterns whose anchors occur in the script.
    run(&["hook", "--rebuild-cache"]);

    let mut g = c.benchmark_group("process");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("forewarn_check_10k_lines_10k_patterns", |b| {
        b.iter(|| check(exe, &store, &script, true, Some(TARGET)))
    });
    // Without a target every pattern may fire: the cache loads all those the script names.
    g.bench_function("forewarn_check_10k_lines_10k_patterns_untargeted", |b| {
        b.iter(|| check(exe, &store, &script, true, None))
    });
    // The first run after the knowledge changed: the whole store is loaded and indexed.
    g.bench_function("forewarn_check_10k_lines_10k_patterns_whole_store", |b| {
        b.iter(|| check(exe, &store, &script, false, Some(TARGET)))
    });
    if Command::new("grep").arg("--version").output().is_ok() {
        g.bench_function("grep_F_w_f_same_literals", |b| {
            b.iter(|| {
                Command::new("grep")
                    .arg("-F")
                    .arg("-w")
                    .arg("-f")
                    .arg(&literals)
                    .arg(&script)
                    .output()
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn check(exe: &str, store: &Path, script: &Path, cache: bool, target: Option<&str>) {
    let mut cmd = Command::new(exe);
    cmd.env("FOREWARN_HOOK_CACHE", if cache { "1" } else { "0" })
        .env_remove("FOREWARN_TARGET")
        .arg("--store")
        .arg(store)
        .args(["check", "--format", "json"]);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    let out = cmd.arg(script).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

criterion_group!(benches, engine);
criterion_main!(benches);
