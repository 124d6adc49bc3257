//! A guard in front of tower-lsp-server's stdin: it frames messages itself and lets only
//! well-formed JSON-RPC through.
//!
//! Why: tower-lsp-server reads stdin with a `FramedRead`, and a single frame that is not JSON,
//! or JSON that is not a JSON-RPC message, ends that stream — the server would stop at the
//! first malformed message. Here such a frame becomes a [`MALFORMED`] notification, which the
//! server logs (`window/logMessage`), and reading goes on. (Not a request with id `null`:
//! tower-lsp-server rejects a second pending request with the same id, so two malformed frames
//! in a row would get different answers.)

use serde::de::IgnoredAny;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

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
        // Headers up to the blank line.
        let mut length: Option<usize> = None;
        let mut bad_header = None;
        let mut saw_any = false;
        loop {
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                if saw_any {
                    break;
                }
                continue;
            }
            saw_any = true;
            match text.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    match value.trim().parse::<usize>() {
                        Ok(n) => length = Some(n),
                        Err(_) => {
                            bad_header = Some(format!("bad Content-Length `{}`", value.trim()))
                        }
                    }
                }
                Some(_) => {}
                None => bad_header = Some(format!("not a header: `{}`", shorten(text))),
            }
        }
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
