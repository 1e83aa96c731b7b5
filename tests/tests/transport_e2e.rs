//! The example server's `/mcp` behind `TransportLayer` and `InstrumentedSessions`, from the
//! outside: each bad input sent with a raw HTTP/1.1 client over a TCP socket gets rmcp's status
//! and is counted once under its reason, every request is timed with its method and status,
//! nothing a client sent becomes a label; a legacy session that idles out leaves both session
//! gauges at 0 and is counted as `idle_timeout`, a deleted one as `client_delete`.

use mcp_metrics::rmcp::Refusal;
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually, get, sample};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `head` (the request line and headers, without the blank line) and `body` on a new
/// connection and returns the status code and the body of the answer.
fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before it read all of a large body.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

/// The data of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A POST to `/mcp` with the headers a legacy client sends, `extra` headers replacing them.
fn post(addr: SocketAddr, extra: &[(&str, &str)], body: &str) -> (u16, String) {
    let host = addr.to_string();
    let mut headers = vec![
        ("Host", host.as_str()),
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
    ];
    for (name, value) in extra {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name, value));
    }
    let head: Vec<String> = std::iter::once("POST /mcp HTTP/1.1".to_owned())
        .chain(headers.iter().map(|(n, v)| format!("{n}: {v}")))
        .collect();
    raw(addr, &head.join("\r\n"), body.as_bytes())
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

fn scrape(server: &ExampleServer) -> String {
    let (status, text) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200);
    text
}

#[test]
fn every_refusal_gets_its_status_and_its_reason() {
    let server = ExampleServer::start("http-server", &[("MCP_MAX_BODY_BYTES", "4096")]);
    let addr = server.addr;
    let standard_init = INITIALIZE.replace("2025-06-18", "2026-07-28");
    let tools_list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(8192)
    );
    // (what is sent, the status rmcp answers, the reason, how many times)
    let sent: Vec<((u16, String), u16, Refusal)> = vec![
        (
            post(addr, &[("Host", "evil.example")], INITIALIZE),
            403,
            Refusal::HostNotAllowed,
        ),
        (
            post(
                addr,
                &[("Host", "rebind.attacker.example:8080")],
                INITIALIZE,
            ),
            403,
            Refusal::HostNotAllowed,
        ),
        (post(addr, &[], &big), 413, Refusal::BodyTooLarge),
        (
            post(addr, &[], "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\":"),
            415,
            Refusal::ParseError,
        ),
        (
            post(addr, &[], r#"{"hello":"world"}"#),
            415,
            Refusal::ParseError,
        ),
        (
            post(addr, &[("Content-Type", "text/plain")], INITIALIZE),
            415,
            Refusal::UnsupportedMediaType,
        ),
        (
            post(addr, &[("Accept", "text/html")], INITIALIZE),
            406,
            Refusal::NotAcceptable,
        ),
        (
            post(addr, &[("MCP-Protocol-Version", "1999-01-01")], INITIALIZE),
            400,
            Refusal::BadProtocolVersion,
        ),
        (
            post(
                addr,
                &[
                    ("MCP-Protocol-Version", "2026-07-28"),
                    ("Mcp-Method", "tools/list"),
                ],
                &standard_init,
            ),
            400,
            Refusal::HeaderMismatch,
        ),
        (
            post(
                addr,
                &[("Mcp-Session-Id", "0000-not-a-session")],
                tools_list,
            ),
            404,
            Refusal::UnknownSession,
        ),
        (post(addr, &[], tools_list), 400, Refusal::UnknownSession),
        (
            raw(
                addr,
                &format!("PUT /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json"),
                b"{}",
            ),
            405,
            Refusal::MethodNotAllowed,
        ),
        (
            raw(
                addr,
                &format!("GET /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json"),
                b"",
            ),
            406,
            Refusal::NotAcceptable,
        ),
    ];
    for ((status, body), want, reason) in &sent {
        assert_eq!(status, want, "{reason}: {body}");
    }
    // A valid session's requests are not refusals.
    let mut client = McpHttp::connect(&server.url("/mcp"));
    let answer = client.call_tool("add", serde_json::json!({"a": 1, "b": 2}));
    assert!(answer.get("result").is_some(), "{answer}");

    let text = scrape(&server);
    for reason in Refusal::ALL {
        let want = sent.iter().filter(|(_, _, r)| *r == reason).count() as f64;
        let got = sample(
            &text,
            "mcp_server_refused_requests_total",
            &[("http_route", "/mcp"), ("refusal_reason", reason.as_str())],
        );
        assert_eq!(got, Some(want), "{reason}");
    }
    let timed = |method: &str, status: &str| {
        sample(
            &text,
            "http_server_request_duration_seconds_count",
            &[
                ("http_request_method", method),
                ("http_response_status_code", status),
                ("http_route", "/mcp"),
            ],
        )
    };
    assert_eq!(timed("POST", "403"), Some(2.0));
    assert_eq!(timed("POST", "413"), Some(1.0));
    assert_eq!(timed("POST", "415"), Some(3.0));
    assert_eq!(timed("POST", "406"), Some(1.0));
    assert_eq!(timed("POST", "404"), Some(1.0));
    assert_eq!(timed("PUT", "405"), Some(1.0));
    assert_eq!(timed("GET", "406"), Some(1.0));
    // initialize, then the call, on server-sent events; the notification accepted.
    assert_eq!(timed("POST", "200"), Some(2.0));
    assert_eq!(timed("POST", "202"), Some(1.0));
    // Nothing a client sent is a label value.
    for sent in [
        "evil.example",
        "attacker",
        "0000-not-a-session",
        "1999-01-01",
        "text/html",
        "hello",
    ] {
        assert!(!text.contains(sent), "{sent} reached the exposition");
    }
}

#[test]
fn an_idle_session_ends_as_idle_timeout_and_is_no_longer_held() {
    let server = ExampleServer::start("http-server", &[("MCP_SESSION_KEEP_ALIVE", "1")]);
    let live = |text: &str| {
        sample(
            text,
            "mcp_server_sessions_active",
            &[("client_name", "_OTHER")],
        )
    };
    let held = |text: &str| sample(text, "mcp_server_sessions_held", &[]);
    let ended = |text: &str, end: &str| {
        sample(
            text,
            "mcp_server_session_duration_seconds_count",
            &[("client_name", "_OTHER"), ("end_reason", end)],
        )
    };
    assert_eq!(held(&scrape(&server)), Some(0.0), "registered at 0");

    let deleted = McpHttp::connect(&server.url("/mcp"));
    let mut idle = McpHttp::connect(&server.url("/mcp"));
    let answer = idle.call_tool("add", serde_json::json!({"a": 1, "b": 2}));
    assert!(answer.get("result").is_some(), "{answer}");
    let text = scrape(&server);
    assert_eq!((live(&text), held(&text)), (Some(2.0), Some(2.0)));

    assert_eq!(deleted.close(), 202);
    let text = eventually(Duration::from_secs(20), || {
        let text = scrape(&server);
        (ended(&text, "client_delete") == Some(1.0)).then_some(text)
    })
    .expect("the deleted session ends");
    assert_eq!((live(&text), held(&text)), (Some(1.0), Some(1.0)));

    // The other one idles past its keep-alive of 1 s: rmcp 3.11 ends its handler and drops it
    // from the session manager.
    let text = eventually(Duration::from_secs(30), || {
        let text = scrape(&server);
        (ended(&text, "idle_timeout") == Some(1.0)).then_some(text)
    })
    .expect("the idle session ends");
    let text = eventually(Duration::from_secs(10), || {
        let text = scrape(&server);
        (held(&text) == Some(0.0)).then_some(text)
    })
    .unwrap_or(text);
    assert_eq!((live(&text), held(&text)), (Some(0.0), Some(0.0)));
    assert_eq!(ended(&text, "client_delete"), Some(1.0));
    assert_eq!(ended(&text, "server_shutdown"), None);
}
