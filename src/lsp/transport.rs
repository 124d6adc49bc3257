//! A guard in front of tower-lsp-server's stdin: it frames messages itself and lets only
//! well-formed JSON-RPC through.
//!
//! Why: tower-lsp-server reads stdin with a `FramedRead`, and a single frame that is not JSON,
//! or JSON that is not a JSON-RPC message, ends that stream — the server would stop at the
//! first malformed message. Here such a frame becomes a [`MALFORMED`] notification, which the
//! server logs (`window/logMessage`), and reading goes on. (Not a request with id `null`:
//! tower-lsp-server rejects a second pending request with the same id, so two malformed frames
//! in a row would get different answers.)
//!
//! On the way out, [`read_server`] and [`write_out`] interleave tower-lsp-server's frames with the diagnostics the
//! server serializes itself.

use serde::de::IgnoredAny;
use serde::Deserialize;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};

/// The method a malformed frame is replaced with.
pub const MALFORMED: &str = "forewarn/malformedMessage";

/// Frames larger than this are skipped, not buffered (a runaway client must not exhaust memory).
const MAX_FRAME: usize = 512 * 1024 * 1024;

/// The fields that decide whether a body is a JSON-RPC message; everything else is skipped
/// without being kept.
#[derive(Deserialize)]
struct Shape {
    jsonrpc: Option<String>,
    method: Option<String>,
    #[serde(default, deserialize_with = "present")]
    id: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    result: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    error: Option<IgnoredAny>,
    #[serde(rename = "params")]
    _params: Option<IgnoredAny>,
}

/// `Some` whenever the field is there, `null` included (`"result": null` is a valid response).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<IgnoredAny>, D::Error> {
    IgnoredAny::deserialize(d).map(Some)
}

/// Why `body` is not a JSON-RPC message, or `None` when it is one.
pub fn problem(body: &[u8]) -> Option<String> {
    let shape: Shape = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => return Some(format!("not a JSON-RPC object: {e}")),
    };
    if shape.jsonrpc.as_deref() != Some("2.0") {
        return Some("`jsonrpc` is not \"2.0\"".into());
    }
    match (&shape.method, &shape.id) {
        (Some(_), _) => None,
        (None, Some(_)) if shape.result.is_some() || shape.error.is_some() => None,
        _ => Some("neither a request, a notification nor a response".into()),
    }
}

/// Reads one frame's headers, up to the blank line: its Content-Length and, when a header was
/// unreadable, why. `None` at the end of the input.
async fn read_headers<R: AsyncBufRead + Unpin>(
    input: &mut R,
) -> Option<(Option<usize>, Option<String>)> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut saw_any = false;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            if saw_any {
                return Some((length, bad_header));
            }
            continue;
        }
        saw_any = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("not a header: `{}`", shorten(text))),
        }
    }
}

/// What [`write_out`] writes: a message body, or `None` once tower-lsp-server has stopped.
pub type Outgoing = Option<Vec<u8>>;

/// Forwards each frame tower-lsp-server writes to `from_server` to `queue`, where the bodies the
/// server serializes itself (publishDiagnostics: see [`super::diagnostics::publish_body`])
/// join them; `None` at the end.
pub async fn read_server<R: AsyncRead + Unpin>(
    from_server: R,
    queue: tokio::sync::mpsc::UnboundedSender<Outgoing>,
) {
    let mut from_server = BufReader::new(from_server);
    while let Some((Some(len), _)) = read_headers(&mut from_server).await {
        let mut body = vec![0; len];
        if from_server.read_exact(&mut body).await.is_err() {
            break;
        }
        // With stdout gone, keep reading (and dropping) so tower-lsp-server never blocks on a
        // full pipe and still sees the end of stdin.
        let _ = queue.send(Some(body));
    }
    let _ = queue.send(None);
}

/// Writes the queued bodies to `out` as frames, in the order they were queued, until
/// tower-lsp-server has stopped (and what was queued before that is written) or `out` closes.
pub async fn write_out<W: AsyncWrite + Unpin>(
    mut queue: tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    mut out: W,
) {
    while let Some(Some(body)) = queue.recv().await {
        if write_frame(&mut out, &body).await.is_err() {
            return;
        }
        // A big publish leaves its freed buffers in the allocator's arenas.
        if body.len() > TRIM_AFTER {
            drop(body);
            trim();
        }
    }
}

/// Publishes larger than this are followed by [`trim`].
const TRIM_AFTER: usize = 256 * 1024;

/// Hands memory the allocator holds free back to the system (glibc keeps freed memory in
/// per-thread arenas; DESIGN.md §10 counts resident memory).
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn replacement(why: &str) -> Vec<u8> {
    serde_json::json!({"jsonrpc": "2.0", "method": MALFORMED, "params": {"problem": why}})
        .to_string()
        .into_bytes()
}

async fn write_frame<W: AsyncWrite + Unpin>(out: &mut W, body: &[u8]) -> std::io::Result<()> {
    out.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await?;
    out.write_all(body).await?;
    out.flush().await
}

/// Copies framed messages from `input` to `out`, replacing malformed ones. Returns at the end
/// of `input` or when `out` is closed.
pub async fn sanitize<R, W>(input: R, mut out: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    loop {
        let Some((length, bad_header)) = read_headers(&mut input).await else {
            return;
        };
        let Some(len) = length else {
            let why = bad_header.unwrap_or_else(|| "a message without Content-Length".into());
            tracing::warn!("malformed message header: {why}");
            if write_frame(&mut out, &replacement(&why)).await.is_err() {
                return;
            }
            continue;
        };
        if len > MAX_FRAME {
            tracing::warn!("skipping a {len}-byte message (more than {MAX_FRAME})");
            let mut rest = (&mut input).take(len as u64);
            if tokio::io::copy(&mut rest, &mut tokio::io::sink())
                .await
                .is_err()
            {
                return;
            }
            let why = format!("a {len}-byte message is more than forewarn accepts");
            if write_frame(&mut out, &replacement(&why)).await.is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0; len];
        if input.read_exact(&mut body).await.is_err() {
            return;
        }
        let frame = match problem(&body) {
            None => body,
            Some(why) => {
                tracing::warn!("malformed message: {why}");
                replacement(&why)
            }
        };
        if write_frame(&mut out, &frame).await.is_err() {
            return;
        }
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(problem(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#), None);
        assert_eq!(
            problem(br#"{"jsonrpc":"2.0","method":"x","params":[1]}"#),
            None
        );
        assert_eq!(problem(br#"{"jsonrpc":"2.0","id":1,"result":null}"#), None);
        assert!(problem(b"{not json").is_some());
        assert!(problem(br#"{"jsonrpc":"2.0","id":9}"#).is_some());
        assert!(problem(br#"[1,2]"#).is_some());
        assert!(problem(br#"{"id":1,"method":"x"}"#).is_some());
    }

    #[tokio::test]
    async fn direct_bodies_join_the_servers_frames_whole_and_in_order() {
        let (queue, queued) = tokio::sync::mpsc::unbounded_channel();
        let direct = queue.clone();
        let (mut server_out, from_server) = tokio::io::duplex(64);
        let reader = tokio::spawn(read_server(from_server, queue));
        let mut out = Vec::new();
        // A server frame written in small pieces, a direct body, then another server frame.
        let first = br#"{"jsonrpc":"2.0","id":1,"result":"first answer, longer than the pipe"}"#;
        let header = format!("Content-Length: {}\r\n\r\n", first.len());
        let writer = tokio::spawn(async move {
            for piece in header.as_bytes().chunks(5).chain(first.chunks(7)) {
                server_out.write_all(piece).await.unwrap();
            }
            // Wait until the first frame is queued, so the order below is defined.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            direct.send(Some(br#"{"direct":true}"#.to_vec())).unwrap();
            write_frame(&mut server_out, br#"{"last":1}"#)
                .await
                .unwrap();
        });
        // Returns once the server's output has ended (the writer task dropped it).
        write_out(queued, &mut out).await;
        writer.await.unwrap();
        reader.await.unwrap();
        let out = String::from_utf8(out).unwrap();
        let want = format!(
            "Content-Length: {}\r\n\r\n{}Content-Length: 15\r\n\r\n{{\"direct\":true}}Content-Length: 10\r\n\r\n{{\"last\":1}}",
            first.len(),
            std::str::from_utf8(first).unwrap()
        );
        assert_eq!(out, want);
    }

    #[tokio::test]
    async fn malformed_frames_are_replaced_and_reading_goes_on() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#;
        let input = format!(
            "Content-Length: 9\r\n\r\n{{not jsonContent-Length: x\r\n\r\nContent-Length: {}\r\n\r\n{good}",
            good.len()
        )
        .into_bytes();
        let mut out = Vec::new();
        sanitize(&input[..], &mut out).await;
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.matches(MALFORMED).count(), 2, "{out}");
        assert!(
            out.ends_with("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}"),
            "{out}"
        );
    }
}
