//! The traffic of the soak: valid calls and hostile requests mixed by request number, sent over
//! keep-alive HTTP/1.1 connections, each answer checked and tallied by kind.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one request is; the mix repeats every 100 requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// 70 %: `tools/call add` (2026-07-28, stateless), from one of 50 rotating client names.
    Valid,
    /// 15 %: `tools/call` of one of 10,000 tool names the server does not have.
    UnknownTool,
    /// 5 %: a body that is not JSON.
    Malformed,
    /// 5 %: a `Host` the DNS-rebinding protection refuses, one of 10,000.
    BadHost,
    /// 1 %: a body larger than the server reads.
    Oversized,
    /// 2 %: an `MCP-Protocol-Version` no revision has.
    BadVersion,
    /// 1 %: a request for a session the server does not hold.
    UnknownSession,
    /// 1 %: a legacy `initialize`; every other session is deleted, the rest idle out.
    Session,
}

impl Kind {
    pub(crate) const ALL: [Kind; 8] = [
        Kind::Valid,
        Kind::UnknownTool,
        Kind::Malformed,
        Kind::BadHost,
        Kind::Oversized,
        Kind::BadVersion,
        Kind::UnknownSession,
        Kind::Session,
    ];

    pub(crate) fn of(n: u64) -> Kind {
        match n % 100 {
            0..70 => Kind::Valid,
            70..85 => Kind::UnknownTool,
            85..90 => Kind::Malformed,
            90..95 => Kind::BadHost,
            95 => Kind::Oversized,
            96 | 97 => Kind::BadVersion,
            98 => Kind::UnknownSession,
            _ => Kind::Session,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Valid => "valid tools/call add",
            Kind::UnknownTool => "unknown tool (10,000 names)",
            Kind::Malformed => "malformed JSON",
            Kind::BadHost => "bad Host (10,000 names)",
            Kind::Oversized => "oversized body",
            Kind::BadVersion => "bad protocol version",
            Kind::UnknownSession => "unknown session",
            Kind::Session => "legacy session (initialize)",
        }
    }

    /// The refusal the server counts it as, if it is one.
    pub(crate) fn refusal(self) -> Option<&'static str> {
        match self {
            Kind::Malformed => Some("parse_error"),
            Kind::BadHost => Some("host_not_allowed"),
            Kind::Oversized => Some("body_too_large"),
            Kind::BadVersion => Some("bad_protocol_version"),
            Kind::UnknownSession => Some("unknown_session"),
            _ => None,
        }
    }
}

/// Answers as expected, per kind, and everything else.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) ok: [AtomicU64; 8],
    pub(crate) wrong: AtomicU64,
    pub(crate) deletes: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    /// Requests answered so far, whatever the answer.
    pub(crate) done: AtomicU64,
}

impl Tally {
    pub(crate) fn ok(&self, kind: Kind) -> u64 {
        self.ok[kind as usize].load(Ordering::Relaxed)
    }
}

const STATELESS: &str = "2026-07-28";
const LEGACY: &str = "2025-06-18";
/// The server's `MCP_MAX_BODY_BYTES`; oversized bodies are half as large again.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// Sends requests `next..total` over `connections` connections to `addr`.
pub(crate) async fn run(
    addr: SocketAddr,
    connections: usize,
    total: u64,
    next: Arc<AtomicU64>,
    tally: Arc<Tally>,
) {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, tally) = (next.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return;
                }
                let sender = match &mut connection {
                    Some(sender) => sender,
                    None => connection.insert(connect(addr).await),
                };
                let kind = Kind::of(n);
                match exchange(sender, addr, n, kind, &tally).await {
                    Ok(true) => {
                        tally.ok[kind as usize].fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => {
                        tally.wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        tally.wrong.fetch_add(1, Ordering::Relaxed);
                        connection = None;
                        tally.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tally.done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("a connection task");
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
}

/// Sends request `n` of `kind` and says whether the answer is the expected one.
async fn exchange(
    sender: &mut Sender,
    addr: SocketAddr,
    n: u64,
    kind: Kind,
    tally: &Tally,
) -> Result<bool, hyper::Error> {
    let host = addr.to_string();
    let (status, headers, body) = send(sender, request(n, kind, &host)).await?;
    let has = |needle: &str| contains(&body, needle);
    Ok(match kind {
        Kind::Valid => {
            status == StatusCode::OK
                && has(&format!(r#""text":"{}""#, n + 1))
                && has(r#""isError":false"#)
        }
        Kind::UnknownTool => status == StatusCode::OK && has(r#""code":-32602"#),
        Kind::Malformed => status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::BadHost => status == StatusCode::FORBIDDEN,
        Kind::Oversized => status == StatusCode::PAYLOAD_TOO_LARGE,
        Kind::BadVersion => status == StatusCode::BAD_REQUEST,
        Kind::UnknownSession => status == StatusCode::NOT_FOUND,
        Kind::Session => {
            status == StatusCode::OK
                && has(r#""protocolVersion""#)
                && end_session(sender, &host, n, &headers, tally).await?
        }
    })
}

/// The rest of a legacy session opened with `headers`: every other one is deleted, the others
/// idle out.
async fn end_session(
    sender: &mut Sender,
    host: &str,
    n: u64,
    headers: &hyper::HeaderMap,
    tally: &Tally,
) -> Result<bool, hyper::Error> {
    let Some(session) = headers.get("mcp-session-id") else {
        return Ok(false);
    };
    if n % 200 != 99 {
        return Ok(true);
    }
    let delete = Request::delete("/mcp")
        .header("host", host)
        .header("mcp-protocol-version", LEGACY)
        .header("mcp-session-id", session)
        .body(Full::new(Bytes::new()))
        .expect("a request");
    let (status, _, _) = send(sender, delete).await?;
    tally.deletes.fetch_add(1, Ordering::Relaxed);
    Ok(status == StatusCode::ACCEPTED)
}

async fn send(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, hyper::HeaderMap, Bytes), hyper::Error> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok((parts.status, parts.headers, body))
}

/// Request `n` of `kind`.
fn request(n: u64, kind: Kind, host: &str) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/mcp")
        .header("host", host)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    let body = match kind {
        Kind::Valid => {
            builder = stateless(builder, "add");
            call(n, "add", &format!(r#"{{"a":{n},"b":1}}"#))
        }
        Kind::UnknownTool => {
            let tool = format!("nope-{}", n % 10_000);
            builder = stateless(builder, &tool);
            call(n, &tool, "{}")
        }
        Kind::Malformed => r#"{"jsonrpc":"2.0","id":1,"method":"#.to_owned(),
        Kind::BadHost => {
            let mut request = Request::post("/mcp")
                .header("host", format!("evil-{}.example", n % 10_000))
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json");
            request = stateless(request, "add");
            return request
                .body(Full::new(Bytes::from(call(n, "add", r#"{"a":1,"b":1}"#))))
                .expect("a request");
        }
        Kind::Oversized => {
            let pad = "x".repeat(MAX_BODY * 3 / 2);
            builder = stateless(builder, "add");
            call(n, "add", &format!(r#"{{"a":1,"b":1,"pad":"{pad}"}}"#))
        }
        Kind::BadVersion => {
            builder = builder.header("mcp-protocol-version", format!("1999-{:02}-01", n % 12 + 1));
            initialize(n)
        }
        Kind::UnknownSession => {
            builder = builder
                .header("mcp-protocol-version", LEGACY)
                .header("mcp-session-id", format!("soak-{n}"));
            format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"tools/list"}}"#)
        }
        Kind::Session => initialize(n),
    };
    builder
        .body(Full::new(Bytes::from(body)))
        .expect("a request")
}

/// The headers of a 2026-07-28 `tools/call`.
fn stateless(builder: hyper::http::request::Builder, tool: &str) -> hyper::http::request::Builder {
    builder
        .header("mcp-protocol-version", STATELESS)
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
}

/// A 2026-07-28 `tools/call` from one of 50 client names.
fn call(n: u64, tool: &str, arguments: &str) -> String {
    let client = format!("soak-{}", n % 50);
    format!(
        r#"{{"jsonrpc":"2.0","id":{n},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{STATELESS}","io.modelcontextprotocol/clientInfo":{{"name":"{client}","version":"1.0.0"}},"io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

fn initialize(n: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{n},"method":"initialize","params":{{"protocolVersion":"{LEGACY}","capabilities":{{}},"clientInfo":{{"name":"soak-{}","version":"1.0.0"}}}}}}"#,
        n % 50
    )
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}
