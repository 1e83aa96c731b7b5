//! Pushgateway exporter against a dead address and against a small local receiver.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use mcp_metrics_exporter::{ExporterBuilder, ExporterKind};
use mcp_metrics_tests::harness::retry_delay;
use metrics::{counter, histogram, with_local_recorder};
use tokio::sync::mpsc;

/// Log lines captured by the global subscriber of this test binary.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn lines_naming(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

/// A port that was bound and released, so nothing listens there.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[derive(Debug)]
struct Received {
    method: Method,
    uri: Uri,
    content_type: String,
    body: String,
}

/// Accepts any request on 127.0.0.1 and forwards it to the returned channel; stops when the
/// returned sender is dropped or sent to.
async fn receiver() -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<Received>,
    tokio::sync::oneshot::Sender<()>,
) {
    receiver_on(0).await
}

/// [`receiver`] on a given port.
async fn receiver_on(
    port: u16,
) -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<Received>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().fallback(
        |State(tx): State<mpsc::UnboundedSender<Received>>,
         method: Method,
         uri: Uri,
         headers: HeaderMap,
         body: Bytes| async move {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            let _ = tx.send(Received {
                method,
                uri,
                content_type,
                body,
            });
            ""
        },
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.with_state(tx))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, rx, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_gateway_does_not_disturb_recording() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let exporter = ExporterBuilder::new()
        .exporter(ExporterKind::Push)
        .push_gateway(&url)
        .expect("valid url")
        .push_interval(Duration::from_millis(10))
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    let handle = exporter.start().expect("push task starts");
    let (calls, duration) = with_local_recorder(&registry, || {
        (counter!("calls_total"), histogram!("work_seconds"))
    });

    // Record while pushes fail and back off underneath.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    let mut recorded = 0u64;
    while tokio::time::Instant::now() < deadline {
        for _ in 0..1000 {
            calls.increment(1);
            duration.record(0.01);
        }
        recorded += 1000;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let text = registry.render_prometheus();
    assert!(
        text.contains(&format!("\ncalls_total {recorded}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nwork_seconds_count {recorded}\n")),
        "{text}"
    );
    assert!(
        handle.is_running(),
        "the push task must survive failing pushes"
    );
    // A graceful stop makes one last (failing) attempt and returns.
    tokio::time::timeout(Duration::from_secs(20), handle.shutdown())
        .await
        .expect("shutdown finishes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_reach_the_grouping_key_path() {
    let (addr, mut received, stop) = receiver().await;
    let exporter = ExporterBuilder::new()
        .env(&|name| match name {
            "MCP_METRICS_EXPORTER" => Some("push".into()),
            "MCP_METRICS_PUSH_URL" => Some(format!("http://{addr}/gateway/")),
            "MCP_METRICS_PUSH_INTERVAL" => Some("50ms".into()),
            "MCP_METRICS_PUSH_JOB" => Some("mcp-server".into()),
            "MCP_METRICS_PUSH_INSTANCE" => Some("host/1".into()),
            _ => None,
        })
        .expect("valid environment")
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    with_local_recorder(&registry, || {
        counter!("mcp_tool_calls_total", "tool" => "search", "outcome" => "success").increment(4);
    });
    let handle = exporter.start().expect("push task starts");

    let push = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a push arrives in time")
        .expect("receiver is open");
    assert_eq!(push.method, Method::PUT);
    // "host/1" has a slash, so it travels base64url-encoded.
    assert_eq!(
        push.uri.path(),
        "/gateway/metrics/job/mcp-server/instance@base64/aG9zdC8x"
    );
    assert_eq!(
        push.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        push.body.contains("# TYPE mcp_tool_calls_total counter\n"),
        "{}",
        push.body
    );
    assert!(
        push.body
            .contains("mcp_tool_calls_total{outcome=\"success\",tool=\"search\"} 4\n"),
        "{}",
        push.body
    );

    // Later pushes carry later values.
    with_local_recorder(&registry, || {
        counter!("mcp_tool_calls_total", "tool" => "search", "outcome" => "success").increment(1);
    });
    let updated = async {
        while let Some(push) = received.recv().await {
            if push.body.contains("tool=\"search\"} 5\n") {
                return push;
            }
        }
        panic!("receiver closed");
    };
    tokio::time::timeout(Duration::from_secs(10), updated)
        .await
        .expect("an updated push arrives");

    assert!(handle.is_running());
    handle.shutdown().await;
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_logged_once_per_attempt_and_recovery_once() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .expect("the only global subscriber of this binary");
    let port = closed_port();
    let exporter = ExporterBuilder::new()
        .push_gateway(&format!("http://127.0.0.1:{port}"))
        .expect("valid url")
        .push_instance("late")
        .push_interval(Duration::from_millis(50))
        .build()
        .expect("valid settings");
    let url = format!("http://127.0.0.1:{port}/metrics/job/unknown_service/instance/late");
    let handle = exporter.start().expect("push task starts");
    // Attempts at about 50, 150, 350 ms, … fail; the gateway comes up after the second failure.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let failed = format!("metrics export to {url} failed");
    while logs.lines_naming(&failed).len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no two failed attempts"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (_, mut received, stop) = receiver_on(port).await;
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a push arrives once the gateway is up")
        .expect("receiver is open");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while logs.lines_naming("recovered").is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown().await;
    let _ = stop.send(());

    let lines = logs.lines_naming(&url);
    let failures: Vec<&String> = lines.iter().filter(|l| l.contains("WARN")).collect();
    assert!(failures.len() >= 2, "{lines:#?}");
    for (step, line) in failures.iter().enumerate() {
        let expected = format!(
            "metrics export to {url} failed (connection refused); retrying in {}",
            retry_delay(100 << step)
        );
        assert!(line.contains(&expected), "{line}\nexpected: {expected}");
    }
    let recovered: Vec<&String> = lines.iter().filter(|l| l.contains("recovered")).collect();
    assert_eq!(recovered.len(), 1, "{lines:#?}");
    assert!(
        recovered[0].contains(&format!(
            "metrics export to {url} recovered after {} failed attempts",
            failures.len()
        )),
        "{}",
        recovered[0]
    );
}
