//! Spans exported over OTLP/HTTP to a receiver on 127.0.0.1 that decodes them with the OTLP proto
//! definitions: names, attributes, the client's trace continued from `_meta.traceparent`, the tool
//! span nested under the request span, error status; JSON log lines with the same ids; and a
//! collector that is down.

use axum::body::Bytes;
use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::Instrumented;
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientConfig, RequestMetaObject};
use rmcp::{ClientHandler, ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::{Arc, Mutex};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[derive(Debug, Deserialize, JsonSchema)]
struct Div {
    a: i64,
    b: i64,
}

#[derive(Clone)]
struct Calc {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Calc {
    /// Divides.
    #[mcp_tool]
    #[tool]
    async fn divide(&self, Parameters(Div { a, b }): Parameters<Div>) -> Result<String, ErrorData> {
        tracing::info!(a, b, "dividing");
        if b == 0 {
            return Err(ErrorData::invalid_params("division by zero", None));
        }
        Ok((a / b).to_string())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calc {}

#[derive(Clone)]
struct Client;
impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

/// An OTLP/HTTP traces receiver on its own runtime thread.
struct Receiver {
    addr: std::net::SocketAddr,
    spans: Arc<Mutex<Vec<Span>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Self {
        let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sink = spans.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().route(
                    "/v1/traces",
                    axum::routing::post(move |body: Bytes| async move {
                        let request = ExportTraceServiceRequest::decode(body)
                            .expect("a valid OTLP protobuf body");
                        for rs in request.resource_spans {
                            for ss in rs.scope_spans {
                                sink.lock().unwrap().extend(ss.spans);
                            }
                        }
                        (
                            [("content-type", "application/x-protobuf")],
                            Vec::<u8>::new(),
                        )
                    }),
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr,
            spans,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn attr_str(span: &Span, key: &str) -> Option<String> {
    match attr(span, key)? {
        AnyValue::StringValue(s) => Some(s.clone()),
        other => Some(format!("{other:?}")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Log lines written by the JSON formatter, captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, Client>,
    b: i64,
    traceparent: Option<&str>,
) -> bool {
    let mut params = CallToolRequestParams::new("divide").with_arguments(
        serde_json::json!({"a": 10, "b": b})
            .as_object()
            .unwrap()
            .clone(),
    );
    if let Some(tp) = traceparent {
        let mut meta = RequestMetaObject::new();
        meta.set_traceparent(tp);
        params.meta = Some(meta);
    }
    client.call_tool(params).await.is_ok()
}

#[tokio::test(flavor = "current_thread")]
async fn spans_continue_the_client_trace_and_nest() {
    let receiver = Receiver::start();
    let logs = Captured::default();
    let writer = logs.clone();
    let (subscriber, telemetry) = TelemetryBuilder::new("tracing-e2e")
        .otlp(
            &format!("http://{}/v1/traces", receiver.addr),
            OtlpProtocol::HttpProtobuf,
        )
        .unwrap()
        .log_format(LogFormat::Json)
        .filter("info,rmcp=warn")
        .unwrap()
        .build_with_writer(move || writer.clone())
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    // Installed as an application installs it: exemplars are kept by the store that
    // `#[mcp_tool]` call sites record into.
    let exporter = mcp_metrics_exporter::ExporterBuilder::new()
        .without_listener()
        .install()
        .expect("the only exporter of this test binary");
    let registry = exporter.registry().clone();

    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let s = Instrumented::new(Calc {
            tool_router: Calc::tool_router(),
        })
        .serve(server_io)
        .await
        .unwrap();
        s.waiting().await.unwrap();
    });
    let client = Client.serve(client_io).await.unwrap();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    assert!(call(&client, 2, Some(&traceparent)).await);
    assert!(
        !call(&client, 0, None).await,
        "division by zero is a JSON-RPC error"
    );
    client.cancel().await.unwrap();
    server.await.unwrap();
    telemetry.shutdown();

    let spans = receiver.spans.lock().unwrap().clone();
    let named = |name: &str| -> Vec<&Span> { spans.iter().filter(|s| s.name == name).collect() };
    let calls = named("tools/call divide");
    // per call: the request span (server) and the tool span (internal) of `#[mcp_tool]`
    let tools = named("execute_tool divide");
    assert_eq!(
        (calls.len(), tools.len()),
        (2, 2),
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let server_kind = opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32;
    let internal_kind = opentelemetry_proto::tonic::trace::v1::span::SpanKind::Internal as i32;
    let requests: Vec<&&Span> = calls.iter().filter(|s| s.kind == server_kind).collect();
    assert_eq!(requests.len(), 2);
    assert!(tools.iter().all(|s| s.kind == internal_kind));

    // The first request continues the client's trace.
    let first = requests
        .iter()
        .find(|s| hex(&s.trace_id) == TRACE_ID)
        .expect("a span in the client's trace");
    assert_eq!(hex(&first.parent_span_id), PARENT_ID);
    assert_eq!(
        attr_str(first, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attr_str(first, "gen_ai.tool.name").as_deref(),
        Some("divide")
    );
    assert_eq!(
        attr_str(first, "gen_ai.operation.name").as_deref(),
        Some("execute_tool")
    );
    assert!(attr_str(first, "jsonrpc.request.id").is_some());
    let tool = tools
        .iter()
        .find(|s| s.parent_span_id == first.span_id)
        .expect("the tool span nests under the request span");
    assert_eq!(hex(&tool.trace_id), TRACE_ID);
    assert_eq!(
        attr_str(tool, "gen_ai.tool.name").as_deref(),
        Some("divide")
    );
    assert_eq!(
        attr_str(tool, "gen_ai.operation.name").as_deref(),
        Some("execute_tool")
    );
    assert_eq!(attr_str(tool, "mcp.method.name"), None);

    // The second request has no traceparent: a new trace, and an error status.
    let second = requests
        .iter()
        .find(|s| hex(&s.trace_id) != TRACE_ID)
        .expect("second request span");
    assert!(second.parent_span_id.is_empty());
    assert_eq!(attr_str(second, "error.type").as_deref(), Some("-32602"));
    let error = opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32;
    assert_eq!(second.status.as_ref().map(|s| s.code), Some(error));
    let failed_tool = tools
        .iter()
        .find(|s| s.parent_span_id == second.span_id)
        .expect("nested tool span");
    assert_eq!(
        attr_str(failed_tool, "error.type").as_deref(),
        Some("-32602")
    );
    assert_eq!(failed_tool.status.as_ref().map(|s| s.code), Some(error));

    // JSON logs from inside the tool carry the ids of the tool span.
    let lines = logs.lines();
    let dividing: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "dividing")
        .collect();
    assert_eq!(dividing.len(), 2, "{lines:?}");
    assert_eq!(dividing[0]["trace_id"], TRACE_ID);
    assert_eq!(dividing[0]["span_id"], hex(&tool.span_id));
    assert_eq!(dividing[0]["b"], 2);
    assert_eq!(dividing[1]["trace_id"], hex(&second.trace_id));

    // Exemplars: the duration histogram links a bucket to the first call's trace (OpenMetrics).
    let text = registry.render_openmetrics();
    let exemplar = format!(
        "# {{trace_id=\"{TRACE_ID}\",span_id=\"{}\"}}",
        hex(&tool.span_id)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("mcp_tool_duration_seconds_bucket{") && l.contains(&exemplar))
        .unwrap_or_else(|| panic!("no exemplar {exemplar} in:\n{text}"));
    assert!(
        line.contains("outcome=\"success\",tool=\"divide\""),
        "{line}"
    );
    assert!(
        !registry.render_prometheus().contains("trace_id"),
        "the 0.0.4 text format has no exemplars"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn collector_down_never_blocks_tool_calls() {
    // A port that was bound and released: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (subscriber, telemetry) = TelemetryBuilder::new("down")
        .otlp(
            &format!("http://{closed}/v1/traces"),
            OtlpProtocol::HttpProtobuf,
        )
        .unwrap()
        .log_format(LogFormat::Off)
        .max_queue_size(16)
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    // A tool of its own: the exemplars of `divide` belong to the other test of this binary.
    #[mcp_tool]
    async fn halve(i: i64) -> Result<i64, ErrorData> {
        tracing::info!(i, "halving");
        Ok(i / 2)
    }
    for i in 1..=500 {
        assert_eq!(halve(i * 2).await.unwrap(), i);
    }
    // Shutting down tries the export once more and gives up; it returns.
    telemetry.shutdown();
}

/// Serves `Calc` under a pipeline configured from `vars`, makes one call with a sampled
/// `traceparent` and one without, and returns the spans the receiver got.
async fn spans_with_sampler(vars: &[(&str, &str)]) -> Vec<Span> {
    let receiver = Receiver::start();
    let endpoint = format!("http://{}/v1/traces", receiver.addr);
    let lookup = |name: &str| {
        if name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" {
            return Some(endpoint.clone());
        }
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let (subscriber, telemetry) = TelemetryBuilder::from_lookup("sampling", &lookup)
        .unwrap()
        .log_format(LogFormat::Off)
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let s = Instrumented::new(Calc {
            tool_router: Calc::tool_router(),
        })
        .serve(server_io)
        .await
        .unwrap();
        s.waiting().await.unwrap();
    });
    let client = Client.serve(client_io).await.unwrap();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    assert!(call(&client, 2, Some(&traceparent)).await);
    assert!(call(&client, 5, None).await);
    client.cancel().await.unwrap();
    server.await.unwrap();
    telemetry.shutdown();
    receiver.spans.lock().unwrap().clone()
}

#[tokio::test(flavor = "current_thread")]
async fn sampling_follows_otel_traces_sampler() {
    // 1 %-style sampling with a ratio of 0: new traces are dropped, but a client's sampled
    // trace is continued (parent-based).
    let spans = spans_with_sampler(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0"),
    ])
    .await;
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names.len(),
        2,
        "request and tool span of the traced call: {names:?}"
    );
    assert!(
        spans.iter().all(|s| hex(&s.trace_id) == TRACE_ID),
        "{names:?}"
    );

    // The same ratio without the parent rule drops the client's trace too.
    let spans = spans_with_sampler(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0"),
    ])
    .await;
    assert!(
        spans.is_empty(),
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    // always_on records both calls, each a request span and a tool span (and the session's
    // other requests).
    let spans = spans_with_sampler(&[("OTEL_TRACES_SAMPLER", "always_on")]).await;
    let named = |name: &str| spans.iter().filter(|s| s.name == name).count();
    let names = spans.iter().map(|s| &s.name).collect::<Vec<_>>();
    assert_eq!(named("tools/call divide"), 2, "{names:?}");
    assert_eq!(named("execute_tool divide"), 2, "{names:?}");
}
