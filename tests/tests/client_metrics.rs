//! The rmcp client wrapper counted by the exporter's registry, against an rmcp server in the same
//! process: exact counts per method, tool or prompt and outcome, for a session opened with
//! `initialize` and for the stateless 2026-07-28 protocol with a multi round-trip call; a JSON-RPC
//! error, unknown tools and prompts, a tool error, a timeout, a cancellation, and the session
//! duration.

use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics_exporter::Registry;
use mcp_metrics_tests::harness::{sample, split_labels};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, ClientRequest,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult, InputRequiredResult,
    ListPromptsResult, ListToolsResult, PaginatedRequestParams, Prompt, PromptMessage,
    ProtocolVersion, Role, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{PeerRequestOptions, RequestContext, RoleServer};
use rmcp::{
    ClientLifecycleMode, ClientServiceExt, ErrorData, ServerHandler, ServiceError, ServiceExt,
};
use std::time::Duration;

const OPERATION: &str = "mcp_client_operation_duration_seconds_count";
const SESSION: &str = "mcp_client_session_duration_seconds_count";

/// A server with one tool per outcome.
#[derive(Clone)]
struct TestServer;

fn tool(name: &'static str) -> Tool {
    let schema = serde_json::json!({"type": "object"});
    Tool::new(name, name, schema.as_object().unwrap().clone())
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            ["add", "tool_error", "fail", "confirm", "sleep"]
                .into_iter()
                .map(tool)
                .collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = |t: &str| vec![ContentBlock::text(t)];
        Ok(CallToolResponse::Complete(match &*request.name {
            "add" => CallToolResult::success(text("3")),
            "tool_error" => CallToolResult::error(text("bad input")),
            "fail" => return Err(ErrorData::internal_error("the tool broke", None)),
            // Asks once for another round, then completes.
            "confirm" => match request.request_state {
                None => {
                    return Ok(CallToolResponse::InputRequired(
                        InputRequiredResult::from_request_state("asked-once"),
                    ));
                }
                Some(_) => CallToolResult::success(text("confirmed")),
            },
            "sleep" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                CallToolResult::success(text("late"))
            }
            _ => return Err(ErrorData::invalid_params("no such tool", None)),
        }))
    }

    async fn list_prompts(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(vec![Prompt::new(
            "greet",
            Some("Greets"),
            None,
        )]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        match request.name.as_str() {
            "greet" => Ok(GetPromptResponse::Complete(GetPromptResult::new(vec![
                PromptMessage::new(Role::User, ContentBlock::text("hello")),
            ]))),
            _ => Err(ErrorData::invalid_params("no such prompt", None)),
        }
    }
}

/// The network labels, checked on their own by [`protocol_versions`].
const NETWORK: [&str; 2] = ["protocol_version", "network_transport"];

/// The count of the operation series with exactly `labels`, apart from the network labels.
fn count(text: &str, labels: &[(&str, &str)]) -> f64 {
    let rest: String = text
        .lines()
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let body = series.strip_prefix(OPERATION)?.strip_prefix('{')?;
            let kept: Vec<String> = split_labels(body.strip_suffix('}')?)
                .into_iter()
                .filter(|(k, _)| !NETWORK.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            Some(format!("{OPERATION}{{{}}} {value}\n", kept.join(",")))
        })
        .collect();
    sample(&rest, OPERATION, labels).unwrap_or(0.0)
}

/// Each method's `(protocol_version, network_transport)` pairs, as the operation series carry
/// them (empty where a series has none).
fn protocol_versions(text: &str) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut out = std::collections::BTreeMap::<String, Vec<(String, String)>>::new();
    for line in text.lines() {
        let Some(body) = line.split_once(' ').and_then(|(s, _)| {
            s.strip_prefix(OPERATION)?
                .strip_prefix('{')?
                .strip_suffix('}')
        }) else {
            continue;
        };
        let labels = split_labels(body);
        let get = |key: &str| {
            labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let pair = (get(NETWORK[0]), get(NETWORK[1]));
        let pairs = out.entry(get("method")).or_default();
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    out
}

/// Asserts that every method but `initialize` (sent before a version is agreed) carries
/// `version` and no transport (an in-process duplex stream is neither HTTP nor standard I/O).
fn assert_versions(text: &str, version: &str) {
    for (method, pairs) in protocol_versions(text) {
        let want = if method == "initialize" { "" } else { version };
        assert_eq!(pairs, [(want.to_owned(), String::new())], "{method}");
    }
}

/// Every client series, for failure messages.
fn client_series(text: &str) -> String {
    text.lines()
        .filter(|l| l.starts_with("mcp_client_") && l.contains("_count"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &'static str,
) -> Result<CallToolResult, ServiceError> {
    client.call_tool(CallToolRequestParams::new(name)).await
}

#[tokio::test(flavor = "current_thread")]
async fn initialize_session_counts_every_outcome() {
    let registry = Registry::default();
    let _recorder = metrics::set_default_local_recorder(&registry);
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = TestServer.serve(server_io).await.unwrap();
        let _ = running.waiting().await;
    });
    let client =
        ().serve(InstrumentedTransport::new(client_io).with_tool_names(["allowed"]))
            .await
            .unwrap();

    // Before `tools/list`, the server has not named `add`: it is `_unknown`.
    assert!(call(&client, "add").await.is_ok());
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 5);
    for _ in 0..2 {
        assert!(call(&client, "add").await.is_ok());
    }
    assert_eq!(
        call(&client, "tool_error").await.unwrap().is_error,
        Some(true)
    );
    assert!(
        matches!(call(&client, "fail").await, Err(ServiceError::McpError(e)) if e.code.0 == -32603)
    );
    assert!(call(&client, "no_such_tool").await.is_err());
    assert!(call(&client, "allowed").await.is_err());
    client.list_all_prompts().await.unwrap();
    client
        .get_prompt(GetPromptRequestParams::new("greet"))
        .await
        .unwrap();
    assert!(
        client
            .get_prompt(GetPromptRequestParams::new("a prompt nobody listed"))
            .await
            .is_err()
    );

    // A request rmcp gives up on after its timeout, and one the caller cancels.
    let sleep = || {
        ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new("sleep")))
    };
    let timed = client
        .peer()
        .send_request_with_option(
            sleep(),
            PeerRequestOptions::with_timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap();
    assert!(matches!(
        timed.await_response().await,
        Err(ServiceError::Timeout { .. })
    ));
    let cancelled = client
        .peer()
        .send_request_with_option(sleep(), PeerRequestOptions::no_options())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    cancelled
        .cancel(Some("the caller changed its mind".into()))
        .await
        .unwrap();
    client
        .peer()
        .send_request(ClientRequest::PingRequest(Default::default()))
        .await
        .unwrap();
    // Closing the client ends its session; the server may still be finishing the cancelled calls.
    client.cancel().await.unwrap();
    server.abort();

    let text = registry.render_prometheus();
    let all = client_series(&text);
    assert_versions(&text, "2025-11-25");
    let call_of = |tool: &str, outcome: &str| {
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", tool),
                ("outcome", outcome),
            ],
        )
    };
    let failed_call = |tool: &str, error_type: &str| {
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", tool),
                ("outcome", "error"),
                ("error_type", error_type),
            ],
        )
    };
    assert_eq!(
        count(&text, &[("method", "initialize"), ("outcome", "success")]),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "notifications/initialized"),
                ("outcome", "success")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(&text, &[("method", "tools/list"), ("outcome", "success")]),
        1.0,
        "{all}"
    );
    assert_eq!(call_of("add", "success"), 2.0, "{all}");
    assert_eq!(call_of("_unknown", "success"), 1.0, "{all}");
    assert_eq!(
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", "tool_error"),
                ("outcome", "tool_error"),
                ("error_type", "tool_error")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(failed_call("fail", "-32603"), 1.0, "{all}");
    assert_eq!(failed_call("_unknown", "-32602"), 1.0, "{all}");
    assert_eq!(failed_call("allowed", "-32602"), 1.0, "{all}");
    assert_eq!(failed_call("sleep", "timeout"), 1.0, "{all}");
    assert_eq!(call_of("sleep", "cancelled"), 1.0, "{all}");
    assert_eq!(
        count(&text, &[("method", "prompts/list"), ("outcome", "success")]),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "prompts/get"),
                ("prompt", "greet"),
                ("outcome", "success")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "prompts/get"),
                ("prompt", "_unknown"),
                ("outcome", "error"),
                ("error_type", "-32602")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "notifications/cancelled"),
                ("outcome", "success")
            ]
        ),
        2.0,
        "{all}"
    );
    assert_eq!(
        count(&text, &[("method", "ping"), ("outcome", "success")]),
        1.0,
        "{all}"
    );
    // Nothing else: every request above is in exactly one of these series.
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with(OPERATION))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(total, 18.0, "{all}");
    assert!(
        !text.contains("no_such_tool") && !text.contains("nobody"),
        "{all}"
    );
    assert_eq!(sample(&text, SESSION, &[]), Some(1.0), "{all}");
}

#[tokio::test(flavor = "current_thread")]
async fn stateless_protocol_counts_each_round_of_a_call() {
    let registry = Registry::default();
    let _recorder = metrics::set_default_local_recorder(&registry);
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = TestServer.serve(server_io).await.unwrap();
        let _ = running.waiting().await;
    });
    let client = ()
        .serve_with_lifecycle(
            InstrumentedTransport::new(client_io),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    client.list_all_tools().await.unwrap();
    // rmcp drives both rounds of `confirm`: each is a request on the wire.
    let result = call(&client, "confirm").await.unwrap();
    assert_ne!(result.is_error, Some(true));
    assert_eq!(
        result.content[0].as_text().map(|t| t.text.as_str()),
        Some("confirmed")
    );
    assert!(call(&client, "add").await.is_ok());
    client.cancel().await.unwrap();
    server.await.unwrap();

    let text = registry.render_prometheus();
    let all = client_series(&text);
    assert_versions(&text, "2026-07-28");
    assert_eq!(
        count(
            &text,
            &[("method", "server/discover"), ("outcome", "success")]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", "confirm"),
                ("outcome", "input_required")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", "confirm"),
                ("outcome", "success")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", "add"),
                ("outcome", "success")
            ]
        ),
        1.0,
        "{all}"
    );
    assert!(!text.contains("method=\"initialize\""), "{all}");
    // No `initialize`, no session.
    assert_eq!(sample(&text, SESSION, &[]), None, "{all}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_lost_mid_call_is_a_transport_error() {
    let registry = Registry::default();
    let _recorder = metrics::set_default_local_recorder(&registry);
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = TestServer.serve(server_io).await.unwrap();
        let _ = running.waiting().await;
    });
    let client =
        ().serve(InstrumentedTransport::new(client_io).with_tool_names(["sleep"]))
            .await
            .unwrap();
    let pending = tokio::spawn({
        let peer = client.peer().clone();
        async move { peer.call_tool(CallToolRequestParams::new("sleep")).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The server goes away while `sleep` runs: its end of the connection closes.
    server.abort();
    let _ = server.await;
    assert!(pending.await.unwrap().is_err());
    let _ = client.cancel().await;

    let text = registry.render_prometheus();
    let all = client_series(&text);
    assert_versions(&text, "2025-11-25");
    assert_eq!(
        count(
            &text,
            &[
                ("method", "tools/call"),
                ("tool", "sleep"),
                ("outcome", "error"),
                ("error_type", "transport")
            ]
        ),
        1.0,
        "{all}"
    );
    assert_eq!(sample(&text, SESSION, &[]), Some(1.0), "{all}");
}
