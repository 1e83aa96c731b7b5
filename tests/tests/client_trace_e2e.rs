//! Client spans end to end, collected by an OTLP/HTTP receiver on 127.0.0.1 that decodes them with
//! the OTLP proto definitions:
//! - an rmcp client (wrapped by `mcp_metrics::rmcp::client`) calling the example HTTP server (a
//!   separate process exporting to the same receiver) gives one trace: the caller's span → client
//!   span → server span → tool span;
//! - the same client calling a Python MCP server (the official `mcp` SDK, over stdio, exporting
//!   with `opentelemetry-sdk`) gives a Python server span whose parent is the Rust client span,
//!   with the caller's `tracestate` and baggage carried through `_meta`.

use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics::rmcp::client::with_current_context;
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, Telemetry, TelemetryBuilder};
use mcp_metrics_tests::harness::{ExampleServer, eventually, python, workspace_root};
use mcp_metrics_tests::otlp::{Receiver, attr_str, find, hex, names};
use opentelemetry::KeyValue;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use std::time::Duration;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

fn one<'a>(spans: &'a [Span], name: &str, kind: SpanKind) -> &'a Span {
    let found = find(spans, name, kind);
    assert_eq!(
        found.len(),
        1,
        "one {name} ({kind:?}) in {:?}",
        names(spans)
    );
    found[0]
}

/// The tracing pipeline of the test process (the MCP client), exporting to `receiver`, with the
/// default propagators (W3C trace context and baggage, as `OTEL_PROPAGATORS` defaults to)
/// installed as `init` would.
fn client_telemetry(
    receiver: &Receiver,
    service: &str,
) -> (tracing::subscriber::DefaultGuard, Telemetry) {
    let builder = TelemetryBuilder::new()
        .service_name(service)
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::None)
        .filter("info,rmcp=warn")
        .unwrap();
    builder.install_propagators();
    let (subscriber, telemetry) = builder.build().unwrap();
    (tracing::subscriber::set_default(subscriber), telemetry)
}

#[tokio::test(flavor = "current_thread")]
async fn rust_client_and_example_server_share_one_trace() {
    let receiver = Receiver::start();
    let (_default, telemetry) = client_telemetry(&receiver, "rust-agent");
    let mut server = ExampleServer::start(
        "http-server",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.base_url()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("RUST_LOG", "info,rmcp=warn"),
        ],
    );

    let transport =
        InstrumentedTransport::new(StreamableHttpClientTransport::from_uri(server.url("/mcp")))
            .over_http(server.addr.ip().to_string(), server.addr.port());
    let client = ().serve(transport).await.unwrap();
    let agent = tracing::info_span!("invoke_agent", otel.kind = "internal");
    async {
        client.list_all_tools().await.unwrap();
        let add = CallToolRequestParams::new("add").with_arguments(
            serde_json::json!({"a": 2, "b": 3})
                .as_object()
                .unwrap()
                .clone(),
        );
        let sum = client.call_tool(with_current_context(add)).await.unwrap();
        assert_eq!(sum.content[0].as_text().unwrap().text, "5");
        let unknown = CallToolRequestParams::new("no_such_tool");
        assert!(
            client
                .call_tool(with_current_context(unknown))
                .await
                .is_err()
        );
    }
    .instrument(agent.clone())
    .await;
    drop(agent);
    client.cancel().await.unwrap();
    telemetry.shutdown();
    // The server flushes its spans as it shuts down.
    assert!(server.proc.terminate(Duration::from_secs(10)));

    let spans = eventually(Duration::from_secs(10), || {
        let spans = receiver.spans();
        (find(&spans, "tools/call add", SpanKind::Server).len() == 1
            && find(&spans, "tools/call", SpanKind::Server).len() == 1)
            .then_some(spans)
    })
    .unwrap_or_else(|| panic!("server spans missing: {:?}", names(&receiver.spans())));

    let agent = one(&spans, "invoke_agent", SpanKind::Internal);
    let client_add = one(&spans, "tools/call add", SpanKind::Client);
    let server_add = one(&spans, "tools/call add", SpanKind::Server);
    // One trace: agent → client span → server span → tool span.
    assert_eq!(client_add.trace_id, agent.trace_id);
    assert_eq!(client_add.parent_span_id, agent.span_id);
    assert_eq!(server_add.trace_id, agent.trace_id);
    assert_eq!(hex(&server_add.parent_span_id), hex(&client_add.span_id));
    let tool = spans
        .iter()
        .find(|s| s.parent_span_id == server_add.span_id)
        .unwrap_or_else(|| panic!("no span under the server span: {:?}", names(&spans)));
    assert_eq!(tool.trace_id, agent.trace_id);
    assert_eq!(attr_str(tool, "gen_ai.tool.name").as_deref(), Some("add"));

    // The client span's attributes (OpenTelemetry MCP conventions).
    let expect = [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "add"),
        ("gen_ai.operation.name", "execute_tool"),
        ("mcp.protocol.version", "2025-11-25"),
        ("network.transport", "tcp"),
        ("network.protocol.name", "http"),
        ("server.address", "127.0.0.1"),
    ];
    for (key, value) in expect {
        assert_eq!(attr_str(client_add, key).as_deref(), Some(value), "{key}");
    }
    assert_eq!(
        attr_str(client_add, "server.port"),
        Some(server.addr.port().to_string())
    );
    assert_eq!(
        attr_str(client_add, "jsonrpc.request.id"),
        attr_str(server_add, "jsonrpc.request.id")
    );
    assert!(attr_str(client_add, "error.type").is_none());

    // A tool neither side knows: both spans are named after the method alone, never after the
    // name a peer chose, and carry no tool name.
    let client_unknown = one(&spans, "tools/call", SpanKind::Client);
    let server_unknown = one(&spans, "tools/call", SpanKind::Server);
    assert_eq!(
        hex(&server_unknown.parent_span_id),
        hex(&client_unknown.span_id)
    );
    assert_eq!(client_unknown.parent_span_id, agent.span_id);
    for span in [client_unknown, server_unknown] {
        assert!(attr_str(span, "gen_ai.tool.name").is_none());
        assert_eq!(
            attr_str(span, "rpc.response.status_code").as_deref(),
            Some("-32602")
        );
    }
    // The client counts every JSON-RPC error as an error: error.type and an error status with
    // the message.
    assert_eq!(
        attr_str(client_unknown, "error.type").as_deref(),
        Some("-32602")
    );
    let status = client_unknown.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(!status.message.is_empty());
    // The server does not: -32602 says the caller asked for what the server does not have.
    assert!(attr_str(server_unknown, "error.type").is_none());
    assert_ne!(
        server_unknown.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    // Requests made outside the caller's span start their own trace, and still reach the server
    // with the client span as parent: `initialize` at connection time.
    let client_init = one(&spans, "initialize", SpanKind::Client);
    let server_init = one(&spans, "initialize", SpanKind::Server);
    assert!(client_init.parent_span_id.is_empty());
    assert_ne!(client_init.trace_id, agent.trace_id);
    assert_eq!(hex(&server_init.parent_span_id), hex(&client_init.span_id));
    let list = one(&spans, "tools/list", SpanKind::Client);
    assert!(
        list.parent_span_id.is_empty(),
        "no context was handed to it"
    );
}

const UPSTREAM_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const UPSTREAM_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "current_thread")]
async fn python_server_continues_the_rust_client_trace() {
    let receiver = Receiver::start();
    let (_default, telemetry) = client_telemetry(&receiver, "rust-agent");
    let mut child = tokio::process::Command::new(python())
        .arg(workspace_root().join("tests/python/otel_server.py"))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base_url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the Python server");
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    // Tools the agent calls without listing them first: named, so that the spans carry them.
    let transport = InstrumentedTransport::new(io)
        .over_stdio()
        .with_tool_names(["context", "add", "fail"]);
    let client = ().serve(transport).await.unwrap();

    // The caller's span continues an upstream trace that has a tracestate, and carries baggage.
    let upstream = SpanContext::new(
        TraceId::from_hex(UPSTREAM_TRACE).unwrap(),
        SpanId::from_hex(UPSTREAM_SPAN).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "abc")]).unwrap(),
    );
    let agent = tracing::info_span!("invoke_agent", otel.kind = "internal");
    agent
        .set_parent(
            opentelemetry::Context::new()
                .with_remote_span_context(upstream)
                .with_baggage(vec![KeyValue::new("tenant", "acme")]),
        )
        .unwrap();
    let seen: serde_json::Value = async {
        let seen = client
            .call_tool(with_current_context(CallToolRequestParams::new("context")))
            .await
            .unwrap();
        let add = CallToolRequestParams::new("add").with_arguments(
            serde_json::json!({"a": 20, "b": 22})
                .as_object()
                .unwrap()
                .clone(),
        );
        let sum = client.call_tool(with_current_context(add)).await.unwrap();
        assert_eq!(sum.content[0].as_text().unwrap().text, "42");
        let failed = client
            .call_tool(with_current_context(CallToolRequestParams::new("fail")))
            .await
            .unwrap();
        assert_eq!(failed.is_error, Some(true));
        serde_json::from_str(&seen.content[0].as_text().unwrap().text).unwrap()
    }
    .instrument(agent.clone())
    .await;
    drop(agent);
    client.cancel().await.unwrap();
    telemetry.shutdown();
    // Standard input closed: the server ends, after exporting its spans.
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the Python server exits when its input closes")
        .unwrap();
    assert!(status.success(), "{status}");

    let spans = eventually(Duration::from_secs(10), || {
        let spans = receiver.spans();
        (find(&spans, "tools/call fail", SpanKind::Server).len() == 1).then_some(spans)
    })
    .unwrap_or_else(|| panic!("Python spans missing: {:?}", names(&receiver.spans())));

    let agent = one(&spans, "invoke_agent", SpanKind::Internal);
    assert_eq!(hex(&agent.trace_id), UPSTREAM_TRACE);
    let rust_client = one(&spans, "tools/call context", SpanKind::Client);
    let python_server = one(&spans, "tools/call context", SpanKind::Server);
    assert_eq!(rust_client.parent_span_id, agent.span_id);
    assert_eq!(hex(&python_server.trace_id), UPSTREAM_TRACE);
    assert_eq!(
        hex(&python_server.parent_span_id),
        hex(&rust_client.span_id)
    );
    assert_eq!(python_server.trace_state, "vendor=abc");
    assert_eq!(
        attr_str(python_server, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attr_str(rust_client, "network.transport").as_deref(),
        Some("pipe")
    );
    // What the Python tool saw: its server span, in the upstream trace, and the three keys in
    // `_meta`, from which its propagator reads the caller's baggage.
    assert_eq!(seen["trace_id"], UPSTREAM_TRACE);
    for key in ["traceparent", "tracestate", "baggage"] {
        assert!(
            seen["meta_keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == key),
            "{key} in {seen}"
        );
    }
    assert_eq!(seen["span_id"], hex(&python_server.span_id));
    assert_eq!(seen["baggage"]["tenant"], "acme");

    let python_add = one(&spans, "tools/call add", SpanKind::Server);
    let rust_add = one(&spans, "tools/call add", SpanKind::Client);
    assert_eq!(hex(&python_add.parent_span_id), hex(&rust_add.span_id));

    // A tool error (`isError`) is an error on both sides.
    let rust_fail = one(&spans, "tools/call fail", SpanKind::Client);
    let python_fail = one(&spans, "tools/call fail", SpanKind::Server);
    assert_eq!(hex(&python_fail.parent_span_id), hex(&rust_fail.span_id));
    assert_eq!(
        attr_str(rust_fail, "error.type").as_deref(),
        Some("tool_error")
    );
    assert_eq!(
        attr_str(python_fail, "error.type").as_deref(),
        Some("tool_error")
    );
    assert_eq!(
        rust_fail.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
}

/// A server whose `confirm` tool asks for one more round (an `InputRequiredResult` with a
/// `requestState`) before it completes.
#[derive(Clone)]
struct TwoRounds;

impl rmcp::ServerHandler for TwoRounds {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        rmcp::model::ServerConfig::new(
            rmcp::model::ServerCapabilities::builder()
                .enable_tools()
                .build(),
        )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, InputRequiredResult};
        Ok(match request.request_state {
            None => CallToolResponse::InputRequired(InputRequiredResult::from_request_state(
                "first-round",
            )),
            Some(_) => {
                CallToolResponse::Complete(CallToolResult::success(vec![ContentBlock::text(
                    "done",
                )]))
            }
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn rounds_of_one_call_are_linked() {
    use rmcp::ClientServiceExt as _;
    let receiver = Receiver::start();
    let (_default, telemetry) = client_telemetry(&receiver, "rust-agent");
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = TwoRounds.serve(server_io).await.unwrap();
        let _ = running.waiting().await;
    });
    let client = ()
        .serve_with_lifecycle(
            InstrumentedTransport::new(client_io).with_tool_names(["confirm"]),
            rmcp::ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    let agent = tracing::info_span!("invoke_agent", otel.kind = "internal");
    async {
        let params = with_current_context(CallToolRequestParams::new("confirm"));
        let done = client.call_tool(params).await.unwrap();
        assert_eq!(done.content[0].as_text().unwrap().text, "done");
    }
    .instrument(agent.clone())
    .await;
    drop(agent);
    client.cancel().await.unwrap();
    server.abort();
    telemetry.shutdown();

    let spans = receiver.spans();
    let agent = one(&spans, "invoke_agent", SpanKind::Internal);
    let rounds = find(&spans, "tools/call confirm", SpanKind::Client);
    assert_eq!(rounds.len(), 2, "{:?}", names(&spans));
    let (first, retry) = if rounds[0].links.is_empty() {
        (rounds[0], rounds[1])
    } else {
        (rounds[1], rounds[0])
    };
    // Both rounds are children of the caller's span; the retry links to the first round.
    assert_eq!(first.parent_span_id, agent.span_id);
    assert_eq!(retry.parent_span_id, agent.span_id);
    assert!(first.links.is_empty());
    assert_eq!(retry.links.len(), 1);
    assert_eq!(retry.links[0].span_id, first.span_id);
    assert_eq!(retry.links[0].trace_id, first.trace_id);
    // Asking for input is not an error.
    assert!(attr_str(first, "error.type").is_none());
    assert_ne!(
        first.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    assert_eq!(
        attr_str(first, "mcp.protocol.version").as_deref(),
        Some("2026-07-28")
    );
    let discover = one(&spans, "server/discover", SpanKind::Client);
    assert!(attr_str(discover, "jsonrpc.request.id").is_some());
}
