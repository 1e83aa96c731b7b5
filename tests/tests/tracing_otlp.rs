//! Spans exported over OTLP/HTTP to a receiver on 127.0.0.1 that decodes them with the OTLP proto
//! definitions: names, attributes, the client's trace continued from `_meta.traceparent`, the tool
//! span nested under the request span, error status; JSON log lines with the same ids; a
//! collector that is down; and the example server reading `_meta` trace context and baggage
//! only through the propagators `OTEL_PROPAGATORS` names.
//!
//! The receiver (`mcp_metrics_tests::otlp`) stands in for an OpenTelemetry Collector, of which no
//! binary is available on this machine; it decodes what arrives with the OTLP proto definitions.

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::Instrumented;
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually};
use mcp_metrics_tests::otlp::{Captured, Receiver, attr_str, hex, is_server};
use opentelemetry_proto::tonic::trace::v1::Span;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientConfig, RequestMetaObject};
use rmcp::{ClientHandler, ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// Held by the tests that call `divide` under `TRACE_ID`: a call of the sampling test in the
/// second after the store is installed would take the exemplar of the call the exemplar test
/// looks for (one exemplar per call site a second).
static DIVIDE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let _divide = DIVIDE.lock().await;
    let receiver = Receiver::start();
    let logs = Captured::default();
    let writer = logs.clone();
    let builder = TelemetryBuilder::new()
        .service_name("tracing-e2e")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::Json)
        .filter("info,rmcp=warn")
        .unwrap();
    // As `init` does: the client's context in `_meta` is read through the propagators.
    builder.install_propagators();
    let (subscriber, telemetry) = builder.build_with_writer(move || writer.clone()).unwrap();
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

    let spans = receiver.spans();
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

    // The second request has no traceparent: a new trace. Its -32602 is the caller's fault,
    // which the conventions say a server does not count as its error: the code is recorded,
    // the request span has no `error.type` and no error status; the tool's own span has both.
    let second = requests
        .iter()
        .find(|s| hex(&s.trace_id) != TRACE_ID)
        .expect("second request span");
    assert!(second.parent_span_id.is_empty());
    assert_eq!(
        attr_str(second, "rpc.response.status_code").as_deref(),
        Some("-32602")
    );
    assert_eq!(attr_str(second, "error.type"), None);
    let error = opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32;
    assert_ne!(second.status.as_ref().map(|s| s.code), Some(error));
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
        line.contains("outcome=\"success\",risk=\"destructive\",tool=\"divide\""),
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
    let (subscriber, telemetry) = TelemetryBuilder::new()
        .service_name("down")
        .otlp_endpoint(
            &format!("http://{closed}/v1/traces"),
            OtlpProtocol::HttpProtobuf,
        )
        .unwrap()
        .log_format(LogFormat::None)
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
    let endpoint = receiver.traces_url();
    let lookup = |name: &str| {
        if name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" {
            return Some(endpoint.clone());
        }
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let builder = TelemetryBuilder::new()
        .service_name("sampling")
        .env(&lookup)
        .unwrap()
        .log_format(LogFormat::None);
    builder.install_propagators();
    let (subscriber, telemetry) = builder.build().unwrap();
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
    receiver.spans()
}

#[tokio::test(flavor = "current_thread")]
async fn sampling_follows_otel_traces_sampler() {
    let _divide = DIVIDE.lock().await;
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

/// What the example server's span of one `tools/call add` looked like under `OTEL_PROPAGATORS`
/// = `propagators` (unset when `None`): its trace id, its parent span id and the `tenant`
/// attribute that `MCP_TRACE_BAGGAGE_KEYS` copies from the baggage. The call carries
/// `traceparent` and `baggage` in `_meta`.
fn server_span_under(propagators: Option<&str>) -> (String, String, Option<String>) {
    let receiver = Receiver::start();
    let traces = receiver.traces_url();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("MCP_TRACE_BAGGAGE_KEYS", "tenant"),
        ("RUST_LOG", "info,rmcp=warn"),
    ];
    if let Some(p) = propagators {
        env.push(("OTEL_PROPAGATORS", p));
    }
    let mut server = ExampleServer::start("http-server", &env);
    let mut client = McpHttp::connect(&server.url("/mcp"));
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let sum = client.request(
        "tools/call",
        serde_json::json!({
            "name": "add",
            "arguments": {"a": 2, "b": 3},
            "_meta": {"traceparent": traceparent, "baggage": "tenant=acme"},
        }),
    );
    assert_eq!(sum["result"]["content"][0]["text"], "5", "{sum}");
    // The server flushes its spans as it shuts down.
    assert!(server.proc.terminate(std::time::Duration::from_secs(10)));
    let span = eventually(std::time::Duration::from_secs(10), || {
        receiver
            .spans()
            .into_iter()
            .find(|s| s.name == "tools/call add" && is_server(s))
    })
    .unwrap_or_else(|| panic!("no server span under OTEL_PROPAGATORS={propagators:?}"));
    (
        hex(&span.trace_id),
        hex(&span.parent_span_id),
        attr_str(&span, "tenant"),
    )
}

#[test]
fn meta_context_follows_otel_propagators() {
    let acme = Some("acme".to_owned());
    // Default, `tracecontext,baggage`: the caller's trace continues and its baggage is read.
    let (trace, parent, tenant) = server_span_under(None);
    assert_eq!((trace.as_str(), parent.as_str()), (TRACE_ID, PARENT_ID));
    assert_eq!(tenant, acme);
    // Trace context only: the trace continues, the baggage is not read.
    let (trace, parent, tenant) = server_span_under(Some("tracecontext"));
    assert_eq!((trace.as_str(), parent.as_str()), (TRACE_ID, PARENT_ID));
    assert_eq!(tenant, None);
    // Baggage only: a trace of its own, with the caller's baggage.
    let (trace, parent, tenant) = server_span_under(Some("baggage"));
    assert_ne!(trace, TRACE_ID);
    assert_ne!(parent, PARENT_ID);
    assert_eq!(tenant, acme);
    // None: nothing of the caller's context, although `_meta` carries a valid `traceparent`.
    let (trace, parent, tenant) = server_span_under(Some("none"));
    assert_ne!(trace, TRACE_ID);
    assert_ne!(parent, PARENT_ID);
    assert_eq!(tenant, None);
}
