//! Server spans over a real streamable HTTP server and rmcp's client, exported over OTLP/HTTP to
//! a receiver on 127.0.0.1: the MCP semantic-convention attributes in both protocol styles, the
//! trace context from `_meta` through the configured propagator (`traceparent`, `tracestate`,
//! `baggage`), the HTTP request's `traceparent` as a link (or as the parent when `_meta` has
//! none), the JSON-RPC error on the span status, and the audit events with the trace id.

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::{Instrumented, Options};
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::otlp::{Captured, Receiver, all_text, attr_int, attr_str, hex, is_server};
use opentelemetry_proto::tonic::trace::v1::Span;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
    ReadResourceRequestParams, RequestMetaObject,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use rmcp::{
    ClientLifecycleMode, ClientServiceExt, ErrorData, ServerHandler, ServiceExt, tool,
    tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const HTTP_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const HTTP_SPAN_ID: &str = "b7ad6b7169203331";

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
        if b == 0 {
            return Err(ErrorData::invalid_params("division by zero", None));
        }
        Ok((a / b).to_string())
    }

    /// The caller's tenant, from the baggage of its trace context.
    #[mcp_tool]
    #[tool]
    async fn tenant(&self) -> String {
        use opentelemetry::baggage::BaggageExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let cx = tracing::Span::current().context();
        cx.baggage()
            .get("tenant")
            .map(|v| v.to_string())
            .unwrap_or_default()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calc {}

/// Serves `Calc` over streamable HTTP on 127.0.0.1, recording peer addresses; returns the MCP URL
/// and a sender that stops the server.
async fn serve(options: Options) -> (String, tokio::sync::oneshot::Sender<()>) {
    let service = StreamableHttpService::new(
        move || {
            Ok(Instrumented::with_options(
                Calc {
                    tool_router: Calc::tool_router(),
                },
                options.clone(),
            ))
        },
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (format!("http://{addr}/mcp"), stop)
}

fn call(tool: &str, arguments: serde_json::Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

fn with_trace_context(mut params: CallToolRequestParams) -> CallToolRequestParams {
    let mut meta = RequestMetaObject::new();
    meta.set_traceparent(format!("00-{TRACE_ID}-{PARENT_ID}-01"));
    meta.set_tracestate("vendor=abc");
    meta.set_baggage("tenant=acme");
    params.meta = Some(meta);
    params
}

fn install_propagator() {
    // rmcp's HTTP client is reqwest, which this build has without a rustls provider of its own
    // (the exporter's choice); the exporter installs ring when it is built, and this process
    // builds none.
    #[allow(deprecated)] // ring, the exporter's provider: rustls 0.23.48 deprecates it
    let _ = rustls::crypto::ring::default_provider().install_default();
    use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
    opentelemetry::global::set_text_map_propagator(
        opentelemetry::propagation::TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]),
    );
}

#[tokio::test(flavor = "current_thread")]
async fn server_spans_follow_the_mcp_conventions() {
    install_propagator();
    let receiver = Receiver::start();
    let logs = Captured::default();
    let writer = logs.clone();
    let (subscriber, telemetry) = TelemetryBuilder::new()
        .service_name("server-spans")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::Json)
        .filter("info,rmcp=warn")
        .unwrap()
        .build_with_writer(move || writer.clone())
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    let (url, stop) = serve(Options::new().audit(true)).await;

    // 2026-07-28 over HTTP, with a traceparent header on every HTTP request.
    let mut headers = HashMap::new();
    headers.insert(
        http::HeaderName::from_static("traceparent"),
        http::HeaderValue::from_str(&format!("00-{HTTP_TRACE_ID}-{HTTP_SPAN_ID}-01")).unwrap(),
    );
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.clone()).custom_headers(headers),
    );
    let modern = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("Span Client", "3.1"),
    )
    .serve_with_lifecycle(
        transport,
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .unwrap();
    let r = modern
        .call_tool(with_trace_context(call(
            "divide",
            serde_json::json!({"a": 10, "b": 2}),
        )))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text().unwrap().text, "5");
    let r = modern
        .call_tool(with_trace_context(call("tenant", serde_json::json!({}))))
        .await
        .unwrap();
    assert_eq!(
        r.content[0].as_text().unwrap().text,
        "acme",
        "the baggage of _meta reaches the tool"
    );
    let failed = modern
        .call_tool(call("divide", serde_json::json!({"a": 1, "b": 0})))
        .await;
    assert!(failed.is_err());
    // This server has no resources: the read fails, and its span still names the resource.
    let read = modern
        .read_resource(ReadResourceRequestParams::new("file:///etc/motd"))
        .await;
    assert!(read.is_err());
    modern.cancel().await.unwrap();

    // 2025-11-25: a session.
    let legacy = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("legacy-client", "1.0"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
    .serve(StreamableHttpClientTransport::from_uri(url.clone()))
    .await
    .unwrap();
    legacy
        .call_tool(call("divide", serde_json::json!({"a": 6, "b": 3})))
        .await
        .unwrap();
    legacy.cancel().await.unwrap();
    let _ = stop.send(());
    telemetry.shutdown();

    let spans = receiver.spans();
    if std::env::var_os("SHOW_SPANS").is_some() {
        for s in &spans {
            eprintln!("{}", all_text(s));
        }
        for l in logs.lines() {
            eprintln!("{l}");
        }
    }
    let server: Vec<&Span> = spans.iter().filter(|s| is_server(s)).collect();
    let names: Vec<&str> = server.iter().map(|s| s.name.as_str()).collect();
    let named =
        |name: &str| -> Vec<&Span> { server.iter().copied().filter(|s| s.name == name).collect() };

    // The first call continues the client's trace from _meta; the HTTP context is a link.
    let divides = named("tools/call divide");
    assert_eq!(divides.len(), 3, "{names:?}");
    let first = divides
        .iter()
        .find(|s| hex(&s.trace_id) == TRACE_ID)
        .expect("a span in the client's trace");
    assert_eq!(hex(&first.parent_span_id), PARENT_ID);
    assert_eq!(first.trace_state, "vendor=abc", "tracestate from _meta");
    assert_eq!(first.links.len(), 1, "the HTTP traceparent is a link");
    assert_eq!(hex(&first.links[0].trace_id), HTTP_TRACE_ID);
    assert_eq!(hex(&first.links[0].span_id), HTTP_SPAN_ID);
    let a = |key| attr_str(first, key);
    assert_eq!(a("mcp.method.name").as_deref(), Some("tools/call"));
    assert_eq!(a("gen_ai.tool.name").as_deref(), Some("divide"));
    assert_eq!(a("gen_ai.operation.name").as_deref(), Some("execute_tool"));
    assert!(a("jsonrpc.request.id").is_some());
    assert_eq!(a("mcp.protocol.version").as_deref(), Some("2026-07-28"));
    assert_eq!(a("network.transport").as_deref(), Some("tcp"));
    assert_eq!(a("network.protocol.name").as_deref(), Some("http"));
    assert_eq!(a("network.protocol.version").as_deref(), Some("1.1"));
    assert_eq!(a("client.address").as_deref(), Some("127.0.0.1"));
    assert!(attr_int(first, "client.port").is_some_and(|p| p > 0));
    assert_eq!(a("mcp_metrics.client.name").as_deref(), Some("Span Client"));
    assert_eq!(a("mcp_metrics.client.version").as_deref(), Some("3.1"));
    assert_eq!(a("mcp.session.id"), None, "2026-07-28 has no session");
    assert_eq!(a("error.type"), None);
    assert_eq!(a("gen_ai.tool.call.arguments"), None, "capture is off");
    let ok = opentelemetry_proto::tonic::trace::v1::status::StatusCode::Unset as i32;
    assert_eq!(first.status.as_ref().map_or(ok, |s| s.code), ok);

    // The failed call has no _meta context: the HTTP context is its parent. Its -32602 (invalid
    // params) is the caller's: the conventions record the code on the server side but count it
    // as no error (no error.type, no ERROR status).
    let failed = divides
        .iter()
        .find(|s| attr_str(s, "rpc.response.status_code").is_some())
        .expect("the failed call");
    assert_eq!(hex(&failed.trace_id), HTTP_TRACE_ID);
    assert_eq!(hex(&failed.parent_span_id), HTTP_SPAN_ID);
    assert!(failed.links.is_empty());
    assert_eq!(
        attr_str(failed, "rpc.response.status_code").as_deref(),
        Some("-32602")
    );
    assert_eq!(attr_str(failed, "error.type"), None);
    let error = opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32;
    assert_ne!(failed.status.as_ref().map(|s| s.code), Some(error));

    // The legacy session: protocol from initialize, the session id of the HTTP session.
    let legacy_call = divides
        .iter()
        .find(|s| attr_str(s, "mcp_metrics.client.name").as_deref() == Some("legacy-client"))
        .expect("the legacy call");
    assert_eq!(
        attr_str(legacy_call, "mcp.protocol.version").as_deref(),
        Some("2025-11-25")
    );
    assert_eq!(
        attr_str(legacy_call, "mcp_metrics.client.version").as_deref(),
        Some("1.0")
    );
    let session = attr_str(legacy_call, "mcp.session.id").expect("a session id");
    assert!(!session.is_empty());
    let initialize = named("initialize");
    assert_eq!(initialize.len(), 1, "{names:?}");
    assert_eq!(
        attr_str(initialize[0], "mcp_metrics.client.name").as_deref(),
        Some("legacy-client")
    );
    assert_eq!(named("server/discover").len(), 1, "{names:?}");
    let read = named("resources/read");
    assert_eq!(read.len(), 1, "{names:?}");
    assert_eq!(
        attr_str(read[0], "mcp.resource.uri").as_deref(),
        Some("file:///etc/motd")
    );
    // Method not found is the caller's (not an error on the server side): the code only.
    assert_eq!(
        attr_str(read[0], "rpc.response.status_code").as_deref(),
        Some("-32601")
    );
    assert_eq!(attr_str(read[0], "error.type"), None);
    assert_eq!(
        named("notifications/initialized").len(),
        1,
        "notifications are operations too: {names:?}"
    );

    // The tool span nests under the server span.
    let tool_spans: Vec<&Span> = spans
        .iter()
        .filter(|s| !is_server(s) && s.parent_span_id == first.span_id)
        .collect();
    assert_eq!(
        tool_spans.len(),
        1,
        "the #[mcp_tool] span of the first call"
    );

    // Audit events: one per tool call, with the trace id of the server span and the session.
    let audit: Vec<serde_json::Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["target"] == "mcp_metrics::audit")
        .collect();
    assert_eq!(audit.len(), 4, "{audit:?}");
    let first_audit = audit
        .iter()
        .find(|l| l["trace_id"] == TRACE_ID && l["tool"] == "divide")
        .expect("the audit event of the first call");
    assert_eq!(first_audit["outcome"], "success");
    assert_eq!(first_audit["client_name"], "Span Client");
    assert_eq!(first_audit["protocol_version"], "2026-07-28");
    assert!(first_audit.get("session_id").is_none());
    assert!(first_audit.get("arguments").is_none(), "capture is off");
    let failed_audit = audit
        .iter()
        .find(|l| l["outcome"] == "error")
        .expect("the failed call");
    assert_eq!(failed_audit["error_type"], "-32602");
    assert_eq!(failed_audit["fault"], "client");
    assert_eq!(failed_audit["trace_id"], HTTP_TRACE_ID);
    let legacy_audit = audit
        .iter()
        .find(|l| l["client_name"] == "legacy-client")
        .expect("the legacy call");
    assert_eq!(legacy_audit["session_id"], session.as_str());
    assert!(legacy_audit["duration_ms"].as_f64().is_some());
    assert!(
        legacy_audit["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
}
