//! Installing as the global recorder and scraping the standalone listener over real TCP.

use std::net::SocketAddr;
use std::time::Duration;

use mcp_metrics_exporter::{Error, ExporterBuilder, ExporterKind, build_info};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Sends one HTTP/1.1 request and returns the whole response as text.
async fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    String::from_utf8(response).expect("utf-8 response")
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_serves_the_global_recorder_behind_basic_auth() {
    // `none` installs nothing, so a later install still succeeds.
    let none = ExporterBuilder::new()
        .exporter(ExporterKind::None)
        .install()
        .expect("none installs");
    metrics::counter!("before_install_total").increment(1);
    none.shutdown().await;

    let handle = ExporterBuilder::new()
        .exporter(ExporterKind::Prometheus)
        .listen("127.0.0.1:0".parse().unwrap())
        .basic_auth("prom", "secret")
        .build_info(build_info!())
        .install()
        .expect("install");
    let addr = handle.listen_addr().expect("a listener");
    assert!(addr.ip().is_loopback());

    metrics::counter!("mcp_tool_calls_total", "tool" => "echo", "outcome" => "success")
        .increment(2);

    let denied = http(addr, &get("/metrics", "")).await;
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    assert!(
        denied
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"metrics\""),
        "{denied}"
    );

    // "prom:secret" in base64.
    let ok = http(
        addr,
        &get("/metrics", "Authorization: Basic cHJvbTpzZWNyZXQ=\r\n"),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{ok}"
    );
    assert!(
        ok.contains("mcp_tool_calls_total{outcome=\"success\",tool=\"echo\"} 2\n"),
        "{ok}"
    );
    assert!(
        ok.contains("mcp_build_info{service=\"mcp-metrics-tests\""),
        "{ok}"
    );
    assert!(
        !ok.contains("before_install_total"),
        "recorded before install must be a no-op: {ok}"
    );

    // Credentials are checked before anything else: a POST without them learns nothing.
    let post = |auth: &'static str| {
        format!(
            "POST /metrics HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    };
    let anonymous = http(addr, &post("")).await;
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    let authorized = http(addr, &post("Authorization: Basic cHJvbTpzZWNyZXQ=\r\n")).await;
    assert!(authorized.starts_with("HTTP/1.1 405"), "{authorized}");

    let second = ExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install();
    assert!(
        matches!(second, Err(Error::RecorderAlreadySet)),
        "{second:?}"
    );

    handle.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener must be closed after shutdown"
    );
}
