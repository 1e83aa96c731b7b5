//! The request layer of `Instrumented` with rmcp's own client over an in-memory pipe, in both
//! protocol styles: the outcome the client received, whose fault each failure was, answers rmcp
//! refuses to send, multi-round-trip retries, and the context-cost metrics.
#![cfg(all(feature = "metrics", feature = "rmcp"))]

use mcp_metrics::rmcp::{Instrumented, Options};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use rmcp::model::*;
use rmcp::service::{PeerRequestOptions, RequestContext, RoleServer};
use rmcp::{ClientLifecycleMode, ClientServiceExt, ErrorData, ServerHandler, ServiceExt};
use std::sync::Arc;

/// A handler with one tool per way of answering.
#[derive(Clone)]
struct Answers;

const TOOLS: [&str; 7] = ["ok", "broken", "invalid", "panics", "asks", "task", "big"];

impl ServerHandler for Answers {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        TOOLS
            .contains(&name)
            .then(|| Tool::new(name.to_owned(), "test tool", Arc::new(JsonObject::new())))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            TOOLS.iter().filter_map(|t| self.get_tool(t)).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        match &*request.name {
            "ok" => Ok(CallToolResult::success(vec![ContentBlock::text("fine")]).into()),
            "big" => Ok(CallToolResult::success(vec![
                ContentBlock::text("a".repeat(10_000)),
                ContentBlock::text("b"),
                ContentBlock::text("c"),
            ])
            .into()),
            "broken" => Err(ErrorData::internal_error("the database is down", None)),
            "invalid" => Err(ErrorData::invalid_params("n must be positive", None)),
            "panics" => panic!("the handler panics"),
            "asks" if request.request_state.is_some() => {
                Ok(CallToolResult::success(vec![ContentBlock::text("thanks")]).into())
            }
            "asks" => Ok(InputRequiredResult::from_request_state("round-2").into()),
            "task" => Ok(CallToolResponse::Task(CreateTaskResult::new(Task::new(
                "t-1",
                TaskStatus::Working,
                "2026-07-28T00:00:00Z",
                "2026-07-28T00:00:00Z",
            )))),
            _ => Err(ErrorData::invalid_params("no such tool", None)),
        }
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Err(ErrorData::resource_not_found(
            format!("no resource {}", request.uri),
            None,
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if request.request_state.is_some() {
            Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, "hello")]).into())
        } else {
            Ok(InputRequiredResult::from_request_state("prompt-2").into())
        }
    }
}

fn served(options: Options) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<()>) {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let serving = tokio::spawn(async move {
        let running = Instrumented::with_options(Answers, options)
            .serve(server_io)
            .await
            .unwrap();
        running.waiting().await.unwrap();
    });
    (client_io, serving)
}

fn call(name: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_owned())
}

/// The count of one operation series, 0 when absent.
fn ops(snapshot: &Snapshot, labels: &[(&str, &str)]) -> usize {
    snapshot
        .histogram("mcp_server_operation_duration_seconds", labels)
        .len()
}

/// Name, sorted labels and value of one series.
type Series = (String, Vec<(String, String)>, DebugValue);

/// The recorded series (the operation histogram without its network labels), and each
/// operation series' method, `protocol_version` and `network_transport`.
struct Snapshot(Vec<Series>, Vec<(String, String, String)>);

/// The network labels of the operation histogram, checked on their own.
const NETWORK: [&str; 2] = ["protocol_version", "network_transport"];

impl Snapshot {
    fn take(snapshotter: &Snapshotter) -> Self {
        let mut network = Vec::new();
        let series = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let (_, key) = key.into_parts();
                let mut labels: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                labels.sort();
                if key.name() == "mcp_server_operation_duration_seconds" {
                    let get = |k: &str| {
                        labels
                            .iter()
                            .find(|(l, _)| l == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let entry = (get("method"), get(NETWORK[0]), get(NETWORK[1]));
                    if !network.contains(&entry) {
                        network.push(entry);
                    }
                    labels.retain(|(l, _)| !NETWORK.contains(&l.as_str()));
                }
                (key.name().to_owned(), labels, value)
            })
            .collect();
        Snapshot(series, network)
    }

    /// Asserts that every operation carries `version` and `transport`.
    fn assert_network(&self, version: &str, transport: &str) {
        for (method, v, t) in &self.1 {
            assert_eq!((v.as_str(), t.as_str()), (version, transport), "{method}");
        }
        assert!(!self.1.is_empty());
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        let mut want: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        want.sort();
        self.0
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| v)
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Histogram(v)) => v.iter().map(|x| x.into_inner()).collect(),
            _ => Vec::new(),
        }
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(v)) => *v,
            _ => 0,
        }
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Gauge(v)) => Some(v.into_inner()),
            _ => None,
        }
    }
}

/// Runs `f` on a current-thread runtime under a fresh local recorder, returns what it recorded.
fn recorded<F: std::future::Future<Output = ()>>(f: F) -> Snapshot {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || rt.block_on(f));
    Snapshot::take(&snapshotter)
}

fn tool_call<'a>(
    tool: &'a str,
    outcome: &'a str,
    error: Option<(&'a str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    // The handler's definitions have no annotations: destructive, by the specification's defaults.
    let risk = if tool == "_unknown" {
        "_unknown"
    } else {
        "destructive"
    };
    let mut labels = vec![
        ("method", "tools/call"),
        ("tool", tool),
        ("risk", risk),
        ("outcome", outcome),
        ("client_name", "tester"),
    ];
    if let Some((error_type, fault)) = error {
        labels.push(("error_type", error_type));
        labels.push(("fault", fault));
    }
    labels
}

#[test]
fn legacy_session_outcomes_and_faults() {
    let m = recorded(async {
        let (client_io, serving) = served(Options::new().client_names(["tester"]));
        let client = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("Tester", "1"),
        )
        .with_protocol_version(ProtocolVersion::V_2025_06_18)
        .serve(client_io)
        .await
        .unwrap();
        assert_eq!(client.list_all_tools().await.unwrap().len(), TOOLS.len());
        client.call_tool(call("ok")).await.unwrap();
        client.call_tool(call("big")).await.unwrap();
        for (tool, code) in [
            ("broken", -32603),
            ("invalid", -32602),
            ("panics", -32603),
            // rmcp refuses an InputRequiredResult before 2026-07-28.
            ("asks", -32600),
            ("nope", -32602),
        ] {
            match client.call_tool(call(tool)).await {
                Err(rmcp::ServiceError::McpError(e)) => assert_eq!(e.code.0, code, "{tool}"),
                other => panic!("{tool}: {other:?}"),
            }
        }
        let read = client
            .read_resource(ReadResourceRequestParams::new("file:///missing"))
            .await;
        assert!(read.is_err());
        let custom = client
            .send_request(ClientRequest::CustomRequest(CustomRequest::new(
                "vendor/unknown",
                None,
            )))
            .await;
        assert!(custom.is_err());
        client.cancel().await.unwrap();
        serving.await.unwrap();
    });

    m.assert_network("2025-06-18", "pipe");
    assert_eq!(ops(&m, &tool_call("ok", "success", None)), 1);
    assert_eq!(
        ops(
            &m,
            &tool_call("broken", "error", Some(("-32603", "server")))
        ),
        1
    );
    assert_eq!(
        ops(
            &m,
            &tool_call("panics", "error", Some(("-32603", "server")))
        ),
        1
    );
    assert_eq!(
        ops(
            &m,
            &tool_call("invalid", "error", Some(("-32602", "client")))
        ),
        1
    );
    assert_eq!(
        ops(
            &m,
            &tool_call("_unknown", "error", Some(("-32602", "client")))
        ),
        1
    );
    assert_eq!(
        ops(&m, &tool_call("asks", "error", Some(("-32600", "server")))),
        1,
        "an answer rmcp refuses is the server's fault"
    );
    let read = [
        ("method", "resources/read"),
        ("outcome", "error"),
        ("error_type", "-32002"),
        ("fault", "client"),
        ("client_name", "tester"),
    ];
    assert_eq!(ops(&m, &read), 1);
    let custom = [
        ("method", "_OTHER"),
        ("outcome", "error"),
        ("error_type", "-32601"),
        ("fault", "client"),
        ("client_name", "tester"),
    ];
    assert_eq!(
        ops(&m, &custom),
        1,
        "unknown methods are the caller's fault"
    );

    // Sizes: the JSON result of each completed call, its content blocks, the catalogue.
    let ok = m.histogram("mcp_tool_result_bytes", &[("tool", "ok")]);
    let expected = serde_json::to_vec(&CallToolResult::success(vec![ContentBlock::text("fine")]))
        .unwrap()
        .len();
    assert_eq!(ok, vec![expected as f64]);
    let big = m.histogram("mcp_tool_result_bytes", &[("tool", "big")]);
    assert!(big[0] > 10_000.0 && big[0] < 10_200.0, "{big:?}");
    assert_eq!(
        m.histogram("mcp_tool_result_content_blocks", &[("tool", "big")]),
        vec![3.0]
    );
    assert!(
        m.histogram("mcp_tool_result_bytes", &[("tool", "broken")])
            .is_empty(),
        "no result, no size"
    );
    let list = m
        .gauge("mcp_tools_list_bytes", &[])
        .expect("the catalogue size");
    let expected = serde_json::to_vec(&ListToolsResult::with_all_items(
        TOOLS.iter().filter_map(|t| Answers.get_tool(t)).collect(),
    ))
    .unwrap()
    .len();
    assert_eq!(list, expected as f64);
    assert_eq!(
        m.gauge("mcp_registered_tools", &[]),
        Some(TOOLS.len() as f64)
    );
    assert_eq!(
        m.gauge("mcp_server_sessions_active", &[("client_name", "tester")]),
        Some(0.0)
    );
    assert_eq!(
        m.histogram(
            "mcp_server_session_duration_seconds",
            &[
                ("client_name", "tester"),
                ("end_reason", "transport_closed")
            ]
        )
        .len(),
        1
    );
}

#[test]
fn stateless_outcomes_rounds_and_refusals() {
    let m = recorded(async {
        let (client_io, serving) = served(Options::new().client_names(["tester"]));
        let client = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("tester", "2"),
        )
        .serve_with_lifecycle(
            client_io,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
        // Two rounds: input_required, then the retry with requestState.
        let done = client.call_tool(call("asks")).await.unwrap();
        assert_eq!(done.content[0].as_text().unwrap().text, "thanks");
        let prompt = client
            .get_prompt(GetPromptRequestParams::new("greeting"))
            .await
            .unwrap();
        assert_eq!(prompt.messages.len(), 1);
        // The tools are listed first, so that the refused call below carries the name of a tool
        // the server is known to have, whichever test of this file ran first.
        client.list_all_tools().await.unwrap();
        // A task for a client that did not declare the tasks extension: rmcp refuses it.
        match client.call_tool_once(call("task")).await {
            Err(rmcp::ServiceError::McpError(e)) => assert_eq!(e.code.0, -32021),
            other => panic!("{other:?}"),
        }
        // A missing resource is -32602 on 2026-07-28.
        match client
            .read_resource(ReadResourceRequestParams::new("file:///missing"))
            .await
        {
            Err(rmcp::ServiceError::McpError(e)) => assert_eq!(e.code.0, -32602),
            other => panic!("{other:?}"),
        }
        // A request without clientInfo.
        let mut meta = RequestMetaObject::new();
        meta.insert(
            "io.modelcontextprotocol/clientInfo".into(),
            serde_json::Value::Null,
        );
        client
            .send_request_with_option(
                ClientRequest::CallToolRequest(CallToolRequest::new(call("ok"))),
                PeerRequestOptions::no_options().with_meta(meta),
            )
            .await
            .unwrap()
            .await_response()
            .await
            .unwrap();
        client.cancel().await.unwrap();
        serving.await.unwrap();
    });

    m.assert_network("2026-07-28", "pipe");
    assert_eq!(ops(&m, &tool_call("asks", "input_required", None)), 1);
    assert_eq!(ops(&m, &tool_call("asks", "success", None)), 1);
    let retry = [
        ("method", "tools/call"),
        ("tool", "asks"),
        ("outcome", "success"),
    ];
    assert_eq!(m.counter("mcp_server_input_retries_total", &retry), 1);
    let prompt = |outcome| {
        [
            ("method", "prompts/get"),
            ("prompt", "greeting"),
            ("outcome", outcome),
            ("client_name", "tester"),
        ]
    };
    assert_eq!(ops(&m, &prompt("input_required")), 1);
    assert_eq!(ops(&m, &prompt("success")), 1);
    let retry = [
        ("method", "prompts/get"),
        ("prompt", "greeting"),
        ("outcome", "success"),
    ];
    assert_eq!(m.counter("mcp_server_input_retries_total", &retry), 1);
    assert_eq!(
        ops(&m, &tool_call("task", "error", Some(("-32021", "server")))),
        1
    );
    let read = [
        ("method", "resources/read"),
        ("outcome", "error"),
        ("error_type", "-32602"),
        ("fault", "client"),
        ("client_name", "tester"),
    ];
    assert_eq!(ops(&m, &read), 1);
    let anonymous = [
        ("method", "tools/call"),
        ("tool", "ok"),
        ("risk", "destructive"),
        ("outcome", "success"),
        ("client_name", "_unknown"),
    ];
    assert_eq!(ops(&m, &anonymous), 1, "no name is _unknown");
    assert_eq!(
        ops(
            &m,
            &[
                ("method", "server/discover"),
                ("outcome", "success"),
                ("client_name", "tester")
            ]
        ),
        1
    );
    assert!(
        m.gauge("mcp_server_sessions_active", &[("client_name", "tester")])
            .is_none(),
        "no session on 2026-07-28"
    );
}
