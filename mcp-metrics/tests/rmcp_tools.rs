//! `#[mcp_tool]` above rmcp's `#[tool]` in a `#[tool_router]` impl: the router, names and
//! descriptions keep working, and calls made by a real rmcp client over a transport are counted.
#![cfg(all(feature = "metrics", feature = "trace", feature = "rmcp"))]

mod common;
use common::Metrics;
use mcp_metrics::{ErrorKind, mcp_tool};

use metrics_util::debugging::DebuggingRecorder;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, ContentBlock as Content};
use rmcp::{ClientHandler, ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
struct AddRequest {
    /// First addend.
    a: i64,
    /// Second addend.
    b: i64,
}

#[derive(Debug)]
enum CityError {
    UnknownCity,
}

impl From<CityError> for ErrorData {
    fn from(e: CityError) -> Self {
        ErrorData::invalid_params(format!("{e:?}"), None)
    }
}

#[derive(Clone)]
struct Calculator {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Calculator {
    /// Adds two integers.
    #[mcp_tool]
    #[tool]
    async fn add(
        &self,
        Parameters(AddRequest { a, b }): Parameters<AddRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![Content::text(
            (a + b).to_string(),
        )]))
    }

    /// Checks that a number is positive.
    #[mcp_tool(metrics)]
    #[tool(name = "check-positive")]
    fn check(
        &self,
        Parameters(AddRequest { a, .. }): Parameters<AddRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        if a > 0 {
            Ok(CallToolResult::success(vec![Content::text("ok")]))
        } else {
            Ok(CallToolResult::error(vec![Content::text("not positive")]))
        }
    }

    /// Looks a city up.
    #[mcp_tool(metrics)]
    #[tool]
    async fn city(&self) -> Result<String, ErrorData> {
        Err(CityError::UnknownCity.into())
    }

    /// Echoes, or fails with a message.
    #[mcp_tool(metrics)]
    #[tool]
    async fn echo(
        &self,
        Parameters(AddRequest { a, .. }): Parameters<AddRequest>,
    ) -> Result<String, String> {
        if a == 0 {
            Err("zero".into())
        } else {
            Ok(a.to_string())
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calculator {}

#[derive(Clone, Default)]
struct Client;
impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

fn args(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn rmcp_router_and_metrics() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    // Names and descriptions as rmcp sees them.
    let add = Calculator::add_tool_attr();
    assert_eq!(add.name, "add");
    assert_eq!(add.description.as_deref(), Some("Adds two integers."));
    let check = Calculator::check_tool_attr();
    assert_eq!(check.name, "check-positive");
    assert_eq!(
        check.description.as_deref(),
        Some("Checks that a number is positive.")
    );

    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = Calculator {
            tool_router: Calculator::tool_router(),
        }
        .serve(server_io)
        .await
        .unwrap();
        running.waiting().await.unwrap();
    });
    let client = Client.serve(client_io).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["add", "check-positive", "city", "echo"]);

    let r = client
        .call_tool(
            CallToolRequestParams::new("add")
                .with_arguments(args(serde_json::json!({"a": 2, "b": 3}))),
        )
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text().unwrap().text, "5");
    for a in [1, -1, -2] {
        let r = client
            .call_tool(
                CallToolRequestParams::new("check-positive")
                    .with_arguments(args(serde_json::json!({"a": a, "b": 0}))),
            )
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(a <= 0));
    }
    assert!(
        client
            .call_tool(CallToolRequestParams::new("city"))
            .await
            .is_err()
    );
    let r = client
        .call_tool(
            CallToolRequestParams::new("echo")
                .with_arguments(args(serde_json::json!({"a": 0, "b": 0}))),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    client.cancel().await.unwrap();
    server.await.unwrap();

    let m = Metrics::take(&snapshotter);
    assert_eq!(m.calls("add", "success", None), 1, "{m:?}");
    assert_eq!(m.calls("check-positive", "success", None), 1);
    assert_eq!(
        m.calls("check-positive", "tool_error", Some("tool_error")),
        2
    );
    assert_eq!(m.calls("city", "error", Some("-32602")), 1);
    assert_eq!(m.calls("echo", "tool_error", Some("tool_error")), 1);
    for tool in ["add", "check-positive", "city", "echo"] {
        assert_eq!(m.in_flight(tool), 0.0, "{tool}");
    }
}

#[test]
fn rmcp_error_data_kind_is_the_jsonrpc_code() {
    assert_eq!(ErrorData::invalid_params("x", None).error_kind(), "-32602");
    assert_eq!(ErrorData::internal_error("x", None).error_kind(), "-32603");
    assert_eq!(
        ErrorData::new(rmcp::model::ErrorCode(12345), "x", None).error_kind(),
        "_OTHER"
    );
}
