//! rmcp's streamable HTTP service in process, behind `TransportLayer` and with
//! `InstrumentedSessions`: every refusal counted once by its reason, every request timed with
//! its method, status and route, the sessions held beside the live ones, and each way a session
//! ends.

mod common;

use bytes::Bytes;
use common::{Metrics, record_async};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use mcp_metrics::rmcp::{Instrumented, InstrumentedSessions, Refusal, SessionEnd, TransportLayer};
use rmcp::ServiceExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt as _;
use tower_layer::Layer as _;

/// A handler that counts how many of its clones were dropped.
#[derive(Clone, Default)]
struct Server(Arc<AtomicUsize>);

impl rmcp::ServerHandler for Server {}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

type Endpoint = mcp_metrics::rmcp::transport::TransportService<
    StreamableHttpService<Instrumented<Server>, InstrumentedSessions>,
>;

fn config() -> StreamableHttpServerConfig {
    StreamableHttpServerConfig::default()
        .with_max_request_body_bytes(1024)
        .with_allowed_origins(["http://app.example:*"])
        .with_sse_keep_alive(None)
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A POST as a well-behaved legacy client sends it, with `headers` set (replacing the usual
/// ones).
fn post(body: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut request = Request::post("http://localhost/mcp")
        .body(Full::from(body.to_owned()))
        .unwrap();
    let usual = [
        ("host", "localhost"),
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];
    for (name, value) in usual.iter().chain(headers) {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request
            .headers_mut()
            .insert(name, http::HeaderValue::from_str(value).unwrap());
    }
    request
}

/// `request` with another method.
fn with_method(mut request: Request<Full<Bytes>>, method: http::Method) -> Request<Full<Bytes>> {
    *request.method_mut() = method;
    request
}

/// The status, the session id and the whole body of the answer.
async fn send(endpoint: &Endpoint, request: Request<Full<Bytes>>) -> (u16, Option<String>, String) {
    let response: Response<_> = endpoint.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, session, String::from_utf8_lossy(&body).into_owned())
}

/// Opens a legacy session: `initialize`, then `notifications/initialized`.
async fn open_session(endpoint: &Endpoint) -> String {
    let (status, session, body) = send(endpoint, post(INITIALIZE, &[])).await;
    assert_eq!(status, 200, "{body}");
    let session = session.expect("a session id");
    let (status, _, body) =
        send(endpoint, post(INITIALIZED, &[("mcp-session-id", &session)])).await;
    assert_eq!(status, 202, "{body}");
    session
}

/// Polls `done` until it holds, for at most 10 s.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition never held");
}

fn refused(m: &Metrics, reason: Refusal) -> u64 {
    m.counter(
        "mcp_server_refused_requests_total",
        &[("refusal_reason", reason.as_str()), ("http_route", "/mcp")],
    )
}

#[test]
fn each_refusal_is_counted_once_by_its_reason_and_every_request_is_timed() {
    let ((), m) = record_async(async {
        let endpoint = Fixture::new(None).endpoint;
        let standard = "2026-07-28";
        let standard_init = INITIALIZE.replace("2025-06-18", standard);
        let cases: Vec<(Request<Full<Bytes>>, u16, Refusal)> = vec![
            (
                post(INITIALIZE, &[("host", "evil.example")]),
                403,
                Refusal::HostNotAllowed,
            ),
            (
                post(INITIALIZE, &[("origin", "http://evil.example")]),
                403,
                Refusal::OriginNotAllowed,
            ),
            (post(&" ".repeat(2048), &[]), 413, Refusal::BodyTooLarge),
            (post("{not json", &[]), 415, Refusal::ParseError),
            (
                post(INITIALIZE, &[("content-type", "text/plain")]),
                415,
                Refusal::UnsupportedMediaType,
            ),
            (
                post(INITIALIZE, &[("accept", "text/plain")]),
                406,
                Refusal::NotAcceptable,
            ),
            (
                post(INITIALIZE, &[("mcp-protocol-version", "1999-01-01")]),
                400,
                Refusal::BadProtocolVersion,
            ),
            (
                post(
                    &standard_init,
                    &[
                        ("mcp-protocol-version", standard),
                        ("mcp-method", "tools/list"),
                    ],
                ),
                400,
                Refusal::HeaderMismatch,
            ),
            (
                post(
                    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
                    &[("mcp-session-id", "no-such-session")],
                ),
                404,
                Refusal::UnknownSession,
            ),
            (
                with_method(post(INITIALIZE, &[]), http::Method::PUT),
                405,
                Refusal::MethodNotAllowed,
            ),
        ];
        for (request, status, reason) in cases {
            let (got, _, body) = send(&endpoint, request).await;
            assert_eq!(got, status, "{reason}: {body}");
        }
        // A session opened and used: no refusal.
        let session = open_session(&endpoint).await;
        let (status, _, body) = send(
            &endpoint,
            post(
                r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
                &[("mcp-session-id", &session)],
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    });
    for reason in Refusal::ALL {
        let want = u64::from(reason != Refusal::Other);
        assert_eq!(refused(&m, reason), want, "{reason}");
    }
    let timed = |method: &str, status: &str| {
        m.histogram(
            "http_server_request_duration_seconds",
            &[
                ("http_request_method", method),
                ("http_response_status_code", status),
                ("http_route", "/mcp"),
            ],
        )
        .len()
    };
    assert_eq!(timed("POST", "403"), 2);
    assert_eq!(timed("POST", "415"), 2);
    assert_eq!(timed("POST", "400"), 2);
    assert_eq!(timed("PUT", "405"), 1);
    // initialize and ping on server-sent events, the notification accepted.
    assert_eq!(timed("POST", "200"), 2);
    assert_eq!(timed("POST", "202"), 1);
}

/// A session endpoint whose handlers count their drops, with `keep_alive` for idle sessions.
struct Fixture {
    endpoint: Endpoint,
    sessions: Arc<InstrumentedSessions>,
    config: StreamableHttpServerConfig,
    dropped: Arc<AtomicUsize>,
}

impl Fixture {
    fn new(keep_alive: Option<Duration>) -> Self {
        let mut local = LocalSessionManager::default();
        local.session_config.keep_alive = keep_alive;
        let sessions = Arc::new(InstrumentedSessions::new(local));
        let config = config();
        let dropped = Arc::new(AtomicUsize::new(0));
        let handler = Server(dropped.clone());
        let service = StreamableHttpService::new(
            move || Ok(Instrumented::new(handler.clone())),
            sessions.clone(),
            config.clone(),
        );
        Fixture {
            endpoint: TransportLayer::new("/mcp").layer(service),
            sessions,
            config,
            dropped,
        }
    }

    /// Waits until the session's handler is gone (the wrapper records the session's end as it
    /// drops, on this thread).
    async fn handler_dropped(&self) {
        until(|| self.dropped.load(Ordering::SeqCst) > 0).await;
    }
}

fn ended(m: &Metrics, end: SessionEnd) -> usize {
    m.histogram(
        "mcp_server_session_duration_seconds",
        &[("client_name", "_OTHER"), ("end_reason", end.as_str())],
    )
    .len()
}

fn live_and_held(m: &Metrics) -> (f64, f64) {
    (
        m.gauge("mcp_server_sessions_active", &[("client_name", "_OTHER")]),
        m.gauge("mcp_server_sessions_held", &[]),
    )
}

#[test]
fn a_session_that_idles_out_ends_with_idle_timeout() {
    let (held, m) = record_async(async {
        let fixture = Fixture::new(Some(Duration::from_millis(300)));
        open_session(&fixture.endpoint).await;
        assert_eq!(fixture.sessions.held(), 1);
        fixture.handler_dropped().await;
        until(|| fixture.sessions.held() == 0).await;
        fixture.sessions.held()
    });
    assert_eq!(held, 0);
    assert_eq!(ended(&m, SessionEnd::IdleTimeout), 1);
    assert_eq!(live_and_held(&m), (0.0, 0.0));
}

#[test]
fn a_deleted_session_ends_with_client_delete() {
    let ((), m) = record_async(async {
        let fixture = Fixture::new(None);
        let session = open_session(&fixture.endpoint).await;
        let delete = with_method(
            post("", &[("mcp-session-id", &session)]),
            http::Method::DELETE,
        );
        let (status, _, body) = send(&fixture.endpoint, delete).await;
        assert_eq!(status, 202, "{body}");
        // The manager no longer holds it as soon as it is closed.
        assert_eq!(fixture.sessions.held(), 0);
        fixture.handler_dropped().await;
    });
    assert_eq!(ended(&m, SessionEnd::ClientDelete), 1);
    assert_eq!(live_and_held(&m), (0.0, 0.0));
}

#[test]
fn a_session_cancelled_by_the_server_ends_with_server_shutdown() {
    let ((), m) = record_async(async {
        let fixture = Fixture::new(None);
        open_session(&fixture.endpoint).await;
        fixture.config.cancellation_token.cancel();
        fixture.handler_dropped().await;
        until(|| fixture.sessions.held() == 0).await;
    });
    assert_eq!(ended(&m, SessionEnd::ServerShutdown), 1);
    assert_eq!(live_and_held(&m), (0.0, 0.0));
}

#[test]
fn a_session_whose_stdio_closes_ends_with_transport_closed() {
    let ((), m) = record_async(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let (server_io, client_io) = tokio::io::duplex(4096);
        let server = tokio::spawn(Instrumented::new(Server(dropped.clone())).serve(server_io));
        let client = ().serve(client_io).await.expect("the client initializes");
        let server = server.await.unwrap().expect("the server initializes");
        client.cancel().await.unwrap();
        server.waiting().await.unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    });
    assert_eq!(ended(&m, SessionEnd::TransportClosed), 1);
}
