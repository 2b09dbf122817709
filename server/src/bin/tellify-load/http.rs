//! A minimal HTTP/1.1 client over a raw tokio `TcpStream`.
//!
//! The load tool shares two cores with the server it measures, so every
//! cycle it spends is a cycle the server does not get. A general client
//! (hyper, reqwest) builds header maps and bodies per request; here a request
//! is a byte string built once, sent with one write, and the answer is framed
//! by `Content-Length` (or chunked encoding, which Tellify does not use for
//! JSON but an error page might) with no more parsing than needed. Keep-alive
//! only: a connection closed by the server is reopened by the caller.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where requests go: `http://host:port` (no TLS, no path prefix).
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub host: String,
}

impl Target {
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        let rest = url
            .strip_prefix("http://")
            .with_context(|| format!("'{url}': only http:// URLs are supported"))?;
        let host = rest.trim_end_matches('/');
        if host.contains('/') {
            bail!("'{url}': give the server's root URL, without a path");
        }
        let with_port = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
            .with_context(|| format!("resolving {with_port}"))?
            .next()
            .with_context(|| format!("{with_port} resolves to no address"))?;
        Ok(Target {
            addr,
            host: host.to_owned(),
        })
    }

    /// The bytes of one request, ready to be written as they are.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Bytes {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = Vec::with_capacity(head.len() + body.len());
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body);
        out.into()
    }

    /// A JSON request with a bearer token.
    pub fn json_request(&self, method: &str, path: &str, token: &str, body: &[u8]) -> Bytes {
        let auth = format!("Bearer {token}");
        self.request(
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }
}

/// One answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
    /// The server said `Connection: close`: the connection must be reopened.
    pub close: bool,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "answer {} is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    pub async fn connect(target: &Target) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(target.addr)
            .await
            .with_context(|| format!("connecting to {}", target.addr))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
        })
    }

    /// Send one request and read its answer.
    pub async fn roundtrip(&mut self, request: &[u8]) -> anyhow::Result<Response> {
        self.stream.write_all(request).await?;
        loop {
            if let Some(response) = parse_response(&mut self.buf)? {
                return Ok(response);
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("the server closed the connection");
            }
        }
    }
}

/// Take one complete response off the front of `buf`, or `None` if more
/// bytes are needed.
fn parse_response(buf: &mut BytesMut) -> anyhow::Result<Option<Response>> {
    let Some(head_len) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_len]).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line '{status_line}'"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if chunked {
        let Some((body, used)) = dechunk(&buf[head_len..])? else {
            return Ok(None);
        };
        buf.advance(head_len + used);
        return Ok(Some(Response {
            status,
            body: body.into(),
            close,
        }));
    }
    let length = match length {
        Some(n) => n,
        None if status == 204 || status == 304 || status < 200 => 0,
        None => bail!("answer {status} has neither Content-Length nor chunked encoding"),
    };
    if buf.len() < head_len + length {
        return Ok(None);
    }
    buf.advance(head_len);
    let body = buf.split_to(length).freeze();
    Ok(Some(Response {
        status,
        body,
        close,
    }))
}

/// Decode a chunked body; `None` if it is not complete yet. Returns the body
/// and how many bytes of `data` it took (trailers are not supported).
fn dechunk(data: &[u8]) -> anyhow::Result<Option<(Vec<u8>, usize)>> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = find(&data[at..], b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&data[at..at + eol])?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size '{size_text}'"))?;
        at += eol + 2;
        if data.len() < at + size + 2 {
            return Ok(None);
        }
        if size == 0 {
            return Ok(Some((body, at + 2)));
        }
        body.extend_from_slice(&data[at..at + size]);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_by_length_and_keeps_the_rest() -> anyhow::Result<()> {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 400 Bad"[..],
        );
        let r = parse_response(&mut buf)?.context("complete")?;
        assert_eq!((r.status, &r.body[..]), (202, &b"{}"[..]));
        assert_eq!(&buf[..], b"HTTP/1.1 400 Bad");
        assert!(parse_response(&mut buf)?.is_none());
        Ok(())
    }

    #[test]
    fn decodes_chunks() -> anyhow::Result<()> {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"[..],
        );
        let r = parse_response(&mut buf)?.context("complete")?;
        assert_eq!((r.status, &r.body[..]), (500, &b"abcde"[..]));
        assert!(buf.is_empty());
        Ok(())
    }
}
