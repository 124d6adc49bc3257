//! Runs the editor tests (editors/vscode and editors/nvim) against the `forewarn` binary this
//! `cargo test` built, so the README's single test command covers the editors too.
//!
//! Each test needs a tool that `.ci/editors.sh` installs (Neovim 0.11 in `.venv-nvim`, the VS Code
//! extension's `node_modules` and compiled `out/`). When it is missing the test fails under CI
//! (env `CI` set), so CI never passes by skipping, and elsewhere skips with a message saying how
//! to install it, so `cargo test` works on a fresh checkout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any editor test needs (each waits at most 15 s per step); a hung child is killed.
const TIMEOUT: Duration = Duration::from_secs(180);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `Some(tool)` when present; otherwise fails under CI, or says why it skips and returns `None`.
fn require(tool: Option<PathBuf>, test: &str, missing: &str) -> Option<PathBuf> {
    if tool.is_some() {
        return tool;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {missing}; CI must run `bash .ci/editors.sh` before `cargo test`");
    }
    eprintln!("SKIPPED {test}: {missing} (run `bash .ci/editors.sh` to install it)");
    None
}

/// Neovim 0.11+ from `.ci/editors.sh`'s venv, else on PATH.
fn nvim() -> Option<PathBuf> {
    let venv = repo().join(".venv-nvim/bin/nvim");
    let candidates = [venv, PathBuf::from("nvim")];
    candidates.into_iter().find(|nvim| {
        Command::new(nvim)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| nvim_minor(&String::from_utf8_lossy(&out.stdout)))
            .is_some_and(|(major, minor)| (major, minor) >= (0, 11))
    })
}

/// `(major, minor)` from `nvim --version`'s first line, `NVIM v0.11.4`.
fn nvim_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.lines().next()?.strip_prefix("NVIM v")?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `node` when the extension's dependencies are installed and it is compiled.
fn node_for_vscode() -> Option<PathBuf> {
    let ext = repo().join("editors/vscode");
    let ready = ext
        .join("node_modules/vscode-languageserver-protocol/package.json")
        .is_file()
        && ext.join("out/serverPath.js").is_file();
    let node = PathBuf::from("node");
    let runs = Command::new(&node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    (ready && runs).then_some(node)
}

/// Runs `cmd` with the test binary and a private data/state/cache home, and fails the test with
/// the tool's whole output unless it exits 0 within [`TIMEOUT`].
fn run(test: &str, mut cmd: Command) {
    let home = tempfile::tempdir().expect("temp dir");
    cmd.env("FOREWARN_BIN", env!("CARGO_BIN_EXE_forewarn"))
        // Nothing reaches the user's store or editor state, even if a setting were ignored.
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("FOREWARN_STORE")
        .env_remove("FOREWARN_TARGET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{test}: cannot start {shown}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the editor test") {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let verdict = match status {
        Some(s) if s.success() => {
            eprintln!("{test}: passed ({:.1} s)", started.elapsed().as_secs_f64());
            return;
        }
        Some(s) => format!("exited with {s}"),
        None => format!("was killed after {} s", TIMEOUT.as_secs()),
    };
    panic!("{test}: {shown} {verdict}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
}

fn node_test(test: &str, file: &str) {
    let Some(node) = require(
        node_for_vscode(),
        test,
        "node, or editors/vscode's node_modules and compiled out/, is missing",
    ) else {
        return;
    };
    let mut cmd = Command::new(node);
    cmd.current_dir(repo().join("editors/vscode"))
        .args(["--test", "--test-reporter=spec", file]);
    run(test, cmd);
}

/// The VS Code client's protocol library against `forewarn lsp`: UTF-16 ranges, code actions.
#[test]
fn vscode_lsp_protocol() {
    node_test("vscode_lsp_protocol", "test/lsp-protocol.test.mjs");
}

/// The extension's lookup of the forewarn binary.
#[test]
fn vscode_server_path() {
    node_test("vscode_server_path", "test/server-path.test.mjs");
}

/// The extension's package.json against its compiled code and its libraries.
#[test]
fn vscode_manifest() {
    node_test("vscode_manifest", "test/manifest.test.mjs");
}

/// Neovim 0.11 with editors/nvim/lsp/forewarn.lua, headless, end to end.
#[test]
fn nvim_headless() {
    let Some(nvim) = require(nvim(), "nvim_headless", "Neovim 0.11+ is missing") else {
        return;
    };
    let mut cmd = Command::new(nvim);
    cmd.current_dir(repo())
        .args(["--headless", "--clean", "-l", "editors/nvim/test/run.lua"]);
    run("nvim_headless", cmd);
}

#[test]
fn nvim_version_parsing() {
    assert_eq!(
        nvim_minor("NVIM v0.11.4\nBuild type: Release"),
        Some((0, 11))
    );
    assert_eq!(nvim_minor("NVIM v0.9.5-dev+g1"), Some((0, 9)));
    assert_eq!(nvim_minor("VIM - Vi IMproved 9.0"), None);
}
