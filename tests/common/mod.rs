//! What the end-to-end tests share: the real binary with a clean environment, and running it
//! with input on its stdin.

// Each test crate compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The built `forewarn` on the store `store`, with neither the user's target nor store from the
/// environment, and no colour.
pub fn forewarn(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_forewarn"));
    c.env_remove("FOREWARN_TARGET")
        .env_remove("FOREWARN_STORE")
        .env("NO_COLOR", "1")
        .arg("--store")
        .arg(store);
    c
}

/// Starts `cmd` with piped stdio, writes `input` to its stdin and closes it. The process may
/// finish without reading its input (an unknown agent, a usage error): a closed pipe is its
/// answer, not the test's failure.
pub fn spawn_with_stdin(cmd: &mut Command, input: &str) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child
}

/// [`spawn_with_stdin`], then waits for the output.
pub fn output_with_stdin(cmd: &mut Command, input: &str) -> Output {
    spawn_with_stdin(cmd, input).wait_with_output().unwrap()
}
