//! An agent whose own GenAI instrumentation already traces a tool's execution (an `execute_tool`
//! span) calls the tool over MCP with `in_tool_span`: the instrumented client transport opens no
//! CLIENT span of its own and adds the MCP attributes, the error and the status to the agent's
//! span, which stays the agent's to name and end; the server's span is its child. A call with
//! `with_current_context` still gets a CLIENT span. Spans go to an OTLP/HTTP receiver on
//! 127.0.0.1, from an rmcp server and client in one process.

use mcp_metrics::rmcp::Instrumented;
use mcp_metrics::rmcp::client::{InstrumentedTransport, in_tool_span, with_current_context};
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::otlp::{Receiver, attr_str};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::json;
use tracing::Instrument as _;

/// A server with a tool that works and one that fails with a JSON-RPC error.
#[derive(Clone)]
struct Tools;

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object"});
        let tool = |name: &'static str| Tool::new(name, name, schema.as_object().unwrap().clone());
        Ok(ListToolsResult::with_all_items(vec![
            tool("add"),
            tool("fail"),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        match &*request.name {
            "add" => Ok(CallToolResponse::Complete(CallToolResult::success(vec![
                ContentBlock::text("5"),
            ]))),
            _ => Err(ErrorData::internal_error("the tool broke", None)),
        }
    }
}

/// The agent's span of one tool execution, as a GenAI instrumentation opens it.
fn execute_tool(tool: &str, call: &str) -> tracing::Span {
    tracing::info_span!(
        "execute_tool",
        otel.name = %format!("execute_tool {tool}"),
        otel.kind = "internal",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = tool,
        call = call,
    )
}

fn the<'a>(spans: &'a [Span], what: &str, found: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| found(s)).collect();
    let names: Vec<_> = spans.iter().map(|s| (&s.name, s.kind)).collect();
    assert_eq!(found.len(), 1, "one {what} in {names:?}");
    found[0]
}

#[tokio::test(flavor = "current_thread")]
async fn the_agents_tool_span_carries_the_mcp_call() {
    let receiver = Receiver::start();
    let builder = TelemetryBuilder::new()
        .service_name("tool-span")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::None)
        .filter("info,rmcp=warn")
        .unwrap();
    builder.install_propagators();
    let (subscriber, telemetry) = builder.build().unwrap();
    let _default = tracing::subscriber::set_default(subscriber);

    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let serving = tokio::spawn(async move {
        let running = Instrumented::new(Tools).serve(server_io).await.unwrap();
        running.waiting().await.unwrap();
    });
    let transport = InstrumentedTransport::new(client_io)
        .with_tool_names(["add", "fail"])
        .over_stdio();
    let client = ().serve(transport).await.unwrap();
    // The server names its spans after the tools it listed.
    client.list_all_tools().await.unwrap();
    let add = || CallToolRequestParams::new("add");

    // Each call runs in the agent's span, which is current where the params are made.
    let sum = async { client.call_tool(in_tool_span(add())).await }
        .instrument(execute_tool("add", "adopted"))
        .await
        .unwrap();
    assert_eq!(sum.content[0].as_text().unwrap().text, "5");
    let fail = || CallToolRequestParams::new("fail");
    let failed = async { client.call_tool(in_tool_span(fail())).await }
        .instrument(execute_tool("fail", "adopted"))
        .await;
    assert!(failed.is_err());
    let sum = async { client.call_tool(with_current_context(add())).await }
        .instrument(execute_tool("add", "own span"))
        .await
        .unwrap();
    assert_eq!(sum.content[0].as_text().unwrap().text, "5");
    client.cancel().await.unwrap();
    serving.await.unwrap();
    telemetry.shutdown();

    let spans = receiver.spans();
    let host = |tool: &'static str, call: &'static str| {
        the(&spans, &format!("execute_tool {tool} ({call})"), move |s| {
            s.name == format!("execute_tool {tool}") && attr_str(s, "call").as_deref() == Some(call)
        })
    };
    let served = |tool: &str, parent: &Span| {
        the(&spans, &format!("tools/call {tool} (server)"), |s| {
            s.kind == SpanKind::Server as i32
                && s.name == format!("tools/call {tool}")
                && s.parent_span_id == parent.span_id
        })
    };

    // Adopted: the agent's span is the MCP client span; the server's span is its child.
    let adopted = host("add", "adopted");
    assert_eq!(adopted.kind, SpanKind::Internal as i32, "the agent's kind");
    assert_eq!(
        attr_str(adopted, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attr_str(adopted, "gen_ai.tool.name").as_deref(),
        Some("add")
    );
    assert_eq!(
        attr_str(adopted, "network.transport").as_deref(),
        Some("pipe")
    );
    assert!(attr_str(adopted, "jsonrpc.request.id").is_some());
    served("add", adopted);

    // A failure marks the agent's span.
    let broken = host("fail", "adopted");
    assert_eq!(attr_str(broken, "error.type").as_deref(), Some("-32603"));
    assert_eq!(
        attr_str(broken, "rpc.response.status_code").as_deref(),
        Some("-32603")
    );
    let status = broken.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "the tool broke");
    served("fail", broken);

    // Only the call that did not hand its span over has a CLIENT span, a child of the agent's.
    let clients: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Client as i32 && s.name.starts_with("tools/call"))
        .collect();
    assert_eq!(clients.len(), 1, "{clients:?}");
    let own = host("add", "own span");
    assert_eq!(clients[0].parent_span_id, own.span_id);
    assert!(attr_str(own, "mcp.method.name").is_none());
    served("add", clients[0]);
}
