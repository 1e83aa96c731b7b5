//! The load generator: a fixed number of keep-alive HTTP/1.1 connections (hyper's client
//! connection, no pool), each sending `tools/call` requests for the cheap tools one after
//! another, in one of two protocol styles. Latency is taken per request from before the request
//! is written to after the last byte of the response body; every response is checked.

use crate::histogram::Histogram;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How requests carry the protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Revision 2026-07-28: no `initialize`; every request carries the protocol version, client
    /// info and capabilities in `params._meta` and the `MCP-Protocol-Version`, `Mcp-Method`
    /// and `Mcp-Name` headers. The server handles each request on its own.
    Stateless,
    /// Revision 2025-06-18: one `initialize` per connection, then calls with `Mcp-Session-Id`.
    Session,
}

impl Style {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Style::Stateless => "stateless 2026-07-28",
            Style::Session => "session 2025-06-18",
        }
    }

    /// A short name for file names.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Style::Stateless => "stateless",
            Style::Session => "session",
        }
    }
}

const STATELESS_VERSION: &str = "2026-07-28";
const SESSION_VERSION: &str = "2025-06-18";

/// Phases of a run, shared with the connections.
const WARM_UP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// What one connection saw.
struct Tally {
    histogram: Histogram,
    /// Responses checked good that arrived while measuring.
    ok: u64,
    /// Failures while measuring.
    errors: u64,
    /// Good responses in every phase.
    all_ok: u64,
    first_error: Option<String>,
}

/// What a run of all connections saw while measuring.
pub(crate) struct Run {
    pub(crate) histogram: Histogram,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) all_ok: u64,
    pub(crate) first_error: Option<String>,
}

/// Runs `connections` connections against `addr`: `warm_up`, then `on_measure(true)`, `measure`,
/// `on_measure(false)`; returns what was counted in between.
pub(crate) async fn run(
    addr: SocketAddr,
    style: Style,
    connections: usize,
    warm_up: Duration,
    measure: Duration,
    mut on_measure: impl FnMut(bool),
) -> Run {
    let phase = Arc::new(AtomicU8::new(WARM_UP));
    let workers: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(addr, style, phase.clone())))
        .collect();
    tokio::time::sleep(warm_up).await;
    on_measure(true);
    phase.store(MEASURE, Relaxed);
    tokio::time::sleep(measure).await;
    phase.store(STOP, Relaxed);
    on_measure(false);
    let mut run = Run {
        histogram: Histogram::new(),
        ok: 0,
        errors: 0,
        all_ok: 0,
        first_error: None,
    };
    for worker in workers {
        let tally = worker.await.expect("a connection task");
        run.histogram.merge(&tally.histogram);
        run.ok += tally.ok;
        run.errors += tally.errors;
        run.all_ok += tally.all_ok;
        if run.first_error.is_none() {
            run.first_error = tally.first_error;
        }
    }
    run
}

/// Sends `requests` calls one after another on one connection (after its `initialize` in the
/// session style) and closes it; the first failure is the error.
pub(crate) async fn sequential(
    addr: SocketAddr,
    style: Style,
    requests: u64,
) -> Result<(), String> {
    let mut client = Client::open(addr, style).await?;
    for n in 0..requests {
        client.call(n).await?;
    }
    client.close().await;
    Ok(())
}

async fn connection(addr: SocketAddr, style: Style, phase: Arc<AtomicU8>) -> Tally {
    let mut tally = Tally {
        histogram: Histogram::new(),
        ok: 0,
        errors: 0,
        all_ok: 0,
        first_error: None,
    };
    let mut client: Option<Client> = None;
    let mut call = 0u64;
    while phase.load(Relaxed) != STOP {
        let result = match client.as_mut() {
            Some(c) => {
                let started = Instant::now();
                let result = c.call(call).await;
                call += 1;
                result.map(|()| started.elapsed())
            }
            None => match Client::open(addr, style).await {
                Ok(c) => {
                    client = Some(c);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        let measuring = phase.load(Relaxed) == MEASURE;
        match result {
            Ok(latency) => {
                tally.all_ok += 1;
                if measuring {
                    tally.ok += 1;
                    tally.histogram.record(latency);
                }
            }
            Err(e) => {
                if measuring {
                    tally.errors += 1;
                }
                tally.first_error.get_or_insert(e);
                // A failed connection is opened anew, after a pause that keeps a dead server
                // from turning this into a busy loop.
                client = None;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    if let Some(c) = client {
        c.close().await;
    }
    tally
}

/// One keep-alive connection to the server's `/mcp`.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    style: Style,
    session: Option<HeaderValue>,
}

impl Client {
    async fn open(addr: SocketAddr, style: Style) -> Result<Client, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut client = Client {
            sender,
            host: HeaderValue::from_str(&addr.to_string()).expect("an address is a valid host"),
            style,
            session: None,
        };
        if style == Style::Session {
            client.initialize().await?;
        }
        Ok(client)
    }

    /// A POST to `/mcp` with the headers every request of this style carries.
    fn post(&self) -> hyper::http::request::Builder {
        let mut request = Request::post("/mcp")
            .header(HOST, self.host.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json");
        match (self.style, &self.session) {
            (Style::Stateless, _) => {
                request = request
                    .header("mcp-protocol-version", STATELESS_VERSION)
                    .header("mcp-method", "tools/call");
            }
            (Style::Session, Some(session)) => {
                request = request
                    .header("mcp-protocol-version", SESSION_VERSION)
                    .header("mcp-session-id", session.clone());
            }
            (Style::Session, None) => {}
        }
        request
    }

    async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        Ok((parts.status, parts.headers, body))
    }

    async fn initialize(&mut self) -> Result<(), String> {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{SESSION_VERSION}","capabilities":{{}},"clientInfo":{{"name":"server-bench","version":"1.0.0"}}}}}}"#
        );
        let request = self
            .post()
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request");
        let (status, headers, body) = self.send(request).await?;
        if status != StatusCode::OK || !contains(&body, r#""protocolVersion""#) {
            return Err(format!(
                "initialize: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        self.session = Some(
            headers
                .get("mcp-session-id")
                .cloned()
                .ok_or("initialize: no Mcp-Session-Id")?,
        );
        let request = self
            .post()
            .body(Full::new(Bytes::from_static(
                br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            )))
            .expect("a valid request");
        let (status, _, body) = self.send(request).await?;
        if !status.is_success() {
            return Err(format!(
                "notifications/initialized: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// Sends call number `n` (tools in turn: `add`, `lookup`, `validate`) and checks the answer.
    async fn call(&mut self, n: u64) -> Result<(), String> {
        let (tool, arguments, expected) = match n % 3 {
            0 => ("add", format!(r#"{{"a":{n},"b":1}}"#), format!("{}", n + 1)),
            1 => (
                "lookup",
                r#"{"key":"alpha"}"#.to_owned(),
                "first".to_owned(),
            ),
            _ => (
                "validate",
                r#"{"text":"ok"}"#.to_owned(),
                "valid".to_owned(),
            ),
        };
        let meta = match self.style {
            Style::Stateless => format!(
                r#","_meta":{{"io.modelcontextprotocol/protocolVersion":"{STATELESS_VERSION}","io.modelcontextprotocol/clientInfo":{{"name":"server-bench","version":"1.0.0"}},"io.modelcontextprotocol/clientCapabilities":{{}}}}"#
            ),
            Style::Session => String::new(),
        };
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{n},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}{meta}}}}}"#
        );
        let mut request = self.post();
        if self.style == Style::Stateless {
            request = request.header("mcp-name", tool);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request");
        let (status, _, body) = self.send(request).await?;
        let text = format!(r#""text":"{expected}""#);
        if status != StatusCode::OK
            || !contains(&body, &text)
            || !contains(&body, r#""isError":false"#)
        {
            return Err(format!(
                "{tool}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// Ends the session, if there is one.
    async fn close(mut self) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let request = Request::builder()
            .method(Method::DELETE)
            .uri("/mcp")
            .header(HOST, self.host.clone())
            .header("mcp-protocol-version", SESSION_VERSION)
            .header("mcp-session-id", session)
            .body(Full::new(Bytes::new()))
            .expect("a valid request");
        let _ = self.send(request).await;
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// GET `path` from `addr` on a connection of its own; the body, if the status is 200.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::get(path)
        .header(HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("GET {path}: {e}"))?
        .to_bytes();
    if status != StatusCode::OK {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}
