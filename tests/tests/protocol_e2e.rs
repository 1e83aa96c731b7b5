//! The http-server example driven by rmcp's own client over streamable HTTP, in both protocol
//! styles side by side: the stateless 2026-07-28 revision (`server/discover`, `_meta` on every
//! request, multi-round-trip requests, tasks, subscriptions) and a legacy 2025-11-25 session
//! opened with `initialize`. Every count of the request layer is exact per outcome, and every
//! gauge returns to 0.

use mcp_metrics_tests::harness::{
    ExampleServer, eventually, get, sample, split_labels, with_example_risk,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities, ClientConfig,
    ContentBlock, ElicitRequestParams, ElicitResult, ElicitationAction, GetTaskParams,
    Implementation, ProtocolVersion, SubscriptionFilter, TaskPayload, TaskStatus,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, ServiceExt};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// A client that declares the tasks extension and accepts every confirmation.
#[derive(Clone)]
struct Modern;

impl ClientHandler for Modern {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder()
                .enable_tasks()
                .enable_elicitation()
                .build(),
            Implementation::new("E2E Modern", "2.0.1"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        assert!(matches!(
            request,
            ElicitRequestParams::FormElicitationParams { .. }
        ));
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true})))
    }
}

async fn create_task(client: &RunningService<RoleClient, Modern>, ending: &str) -> String {
    let created = client
        .call_tool_once(call("report", json!({"ending": ending, "millis": 20})))
        .await
        .unwrap();
    match created {
        CallToolResponse::Task(t) => t.task.task_id,
        other => panic!("expected a task, got {other:?}"),
    }
}

fn call(tool: &str, arguments: serde_json::Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

fn text(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

/// The labels of the operations' network, checked apart from the others.
const NETWORK: [&str; 2] = ["protocol_version", "network_transport"];

/// One sample of the scraped exposition, 0 when absent.
struct Scrape(String);

impl Scrape {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        sample(&self.0, name, labels).unwrap_or(0.0)
    }

    /// `mcp_server_operation_duration_seconds_count` of one series, apart from its
    /// `protocol_version` and `network_transport` (checked by [`Scrape::networks`]).
    fn ops(&self, client: &str, method: &str, extra: &[(&str, &str)]) -> f64 {
        let mut labels = vec![("method", method), ("client_name", client)];
        labels.extend_from_slice(extra);
        let labels = with_example_risk("mcp_server_operation_duration_seconds", &labels);
        let network = |l: &(String, String)| NETWORK.contains(&l.0.as_str());
        self.0
            .lines()
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let body = series
                    .strip_prefix("mcp_server_operation_duration_seconds_count{")?
                    .strip_suffix('}')?;
                let mut found: Vec<(String, String)> = split_labels(body);
                found.retain(|l| !network(l));
                found.sort();
                let mut want: Vec<(String, String)> = labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                want.sort();
                (found == want).then(|| value.parse::<f64>().ok()).flatten()
            })
            .sum()
    }

    /// The `(protocol_version, network_transport)` pairs of `client`'s operations.
    fn networks(&self, client: &str) -> BTreeSet<(String, String)> {
        self.0
            .lines()
            .filter_map(|line| {
                let body = line
                    .split_once(' ')?
                    .0
                    .strip_prefix("mcp_server_operation_duration_seconds_count{")?
                    .strip_suffix('}')?;
                let labels = split_labels(body);
                let get = |k: &str| {
                    labels
                        .iter()
                        .find(|(l, _)| l == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                (get("client_name") == client).then(|| (get(NETWORK[0]), get(NETWORK[1])))
            })
            .collect()
    }

    /// The sum of every series of `name` whose labels include `with`.
    fn total(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.0
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| {
                with.iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            })
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    }
}

fn scrape(server: &ExampleServer) -> Scrape {
    let (status, text) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200);
    Scrape(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocol_styles_are_counted_exactly() {
    // rmcp's HTTP client is reqwest, which this build has without a rustls provider of its own
    // (the exporter's choice); the exporter installs ring when it is built, and this process
    // builds none.
    #[allow(deprecated)] // ring, the exporter's provider: rustls 0.23.48 deprecates it
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "prometheus"),
            ("MCP_METRICS_CLIENT_NAMES", "e2e-modern,e2e-legacy"),
        ],
    );
    let url = server.url("/mcp");

    // ---- 2026-07-28: no initialize; every request carries _meta.
    let modern = Modern
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_uri(url.clone()),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("discover");
    let tools = modern.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), 9);
    for (a, b, sum) in [(2, 3, "5"), (-1, 1, "0")] {
        let r = modern
            .call_tool(call("add", json!({"a": a, "b": b})))
            .await
            .unwrap();
        assert_eq!(text(&r.content), sum);
    }
    let r = modern
        .call_tool(call("lookup", json!({"key": "missing"})))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let crash = modern.call_tool(call("crash", json!({}))).await;
    assert!(crash.is_err(), "a panicking tool is a JSON-RPC error");
    let unknown = modern.call_tool(call("no_such_tool", json!({}))).await;
    assert!(unknown.is_err());

    // A multi-round-trip request driven by the client: input_required, then the retry.
    let r = modern
        .call_tool(call("confirm", json!({"action": "deploy"})))
        .await
        .expect("confirm");
    assert_eq!(text(&r.content), "deploy: confirmed");
    // A first round the client abandons.
    let first = modern
        .call_tool_once(call("confirm", json!({"action": "drop tables"})))
        .await
        .unwrap();
    assert!(matches!(first, CallToolResponse::InputRequired(_)));

    // Tasks: one completes, one fails, one is cancelled.
    let mut polls = 0;
    let completed = create_task(&modern, "complete").await;
    let failed = create_task(&modern, "fail").await;
    let waiting = create_task(&modern, "wait").await;
    modern
        .peer()
        .cancel_task(CancelTaskParams::new(waiting.clone()))
        .await
        .expect("tasks/cancel");
    for (id, want) in [
        (&completed, TaskStatus::Completed),
        (&failed, TaskStatus::Failed),
        (&waiting, TaskStatus::Cancelled),
    ] {
        let task = loop {
            polls += 1;
            let got = modern
                .peer()
                .get_task(GetTaskParams::new(id.clone()))
                .await
                .expect("tasks/get");
            if got.task.status().is_terminal() {
                break got.task;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(task.status(), want, "{id}");
        if let TaskPayload::Completed { result } = &task.payload {
            assert_eq!(result["content"][0]["text"], "report written in 20 ms");
        }
    }

    // A subscription stream: counted while open, never timed as a request.
    let mut subscription = modern
        .peer()
        .listen(SubscriptionFilter::builder().tools_list_changed().build())
        .await
        .expect("subscriptions/listen");
    let open = eventually(Duration::from_secs(10), || {
        (scrape(&server).get("mcp_server_subscriptions_active", &[]) == 1.0).then_some(())
    });
    assert!(open.is_some(), "one subscription open");
    subscription
        .cancel()
        .await
        .expect("cancel the subscription");
    modern.cancel().await.expect("close the modern client");

    // ---- 2025-11-25: a session opened with initialize.
    let legacy = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("e2e-legacy", "1.0"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
    .serve(StreamableHttpClientTransport::from_uri(url.clone()))
    .await
    .expect("initialize");
    let r = legacy
        .call_tool(call("add", json!({"a": 1, "b": 1})))
        .await
        .unwrap();
    assert_eq!(text(&r.content), "2");
    let r = legacy
        .call_tool(call("confirm", json!({"action": "deploy"})))
        .await
        .unwrap();
    assert_eq!(
        r.is_error,
        Some(true),
        "no input requests before 2026-07-28"
    );
    let r = legacy
        .call_tool(call("report", json!({"ending": "complete", "millis": 1})))
        .await
        .unwrap();
    assert_eq!(text(&r.content), "report written in 1 ms");
    let during = scrape(&server);
    assert_eq!(
        during.get(
            "mcp_server_sessions_active",
            &[("client_name", "e2e-legacy")]
        ),
        1.0
    );
    legacy.cancel().await.expect("close the session");

    // Gauges back to 0: the session closed, the tasks settled, the subscription ended.
    let m = eventually(Duration::from_secs(10), || {
        let m = scrape(&server);
        (m.get(
            "mcp_server_sessions_active",
            &[("client_name", "e2e-legacy")],
        ) == 0.0
            && m.get("mcp_server_subscriptions_active", &[]) == 0.0)
            .then_some(m)
    })
    .expect("sessions and subscriptions back to 0");
    assert_eq!(m.get("mcp_server_tasks_active", &[("tool", "report")]), 0.0);
    for tool in ["add", "lookup", "crash", "confirm", "report"] {
        assert_eq!(
            m.get("mcp_tool_calls_in_flight", &[("tool", tool)]),
            0.0,
            "{tool}"
        );
    }

    if std::env::var_os("SHOW_METRICS").is_some() {
        eprintln!("{}", m.0);
    }
    // The 2026-07-28 client: its name normalised onto the allow-list, every outcome exact.
    let c = "e2e-modern";
    let modern = ("2026-07-28".to_owned(), "tcp".to_owned());
    assert_eq!(m.networks(c), BTreeSet::from([modern]));
    let tool = |t: &'static str, outcome: &'static str| vec![("tool", t), ("outcome", outcome)];
    assert_eq!(m.ops(c, "server/discover", &[("outcome", "success")]), 1.0);
    assert_eq!(m.ops(c, "tools/list", &[("outcome", "success")]), 1.0);
    assert_eq!(m.ops(c, "tools/call", &tool("add", "success")), 2.0);
    let tool_error = [
        ("tool", "lookup"),
        ("outcome", "tool_error"),
        ("error_type", "tool_error"),
        ("fault", "client"),
    ];
    assert_eq!(m.ops(c, "tools/call", &tool_error), 1.0);
    let panic = [
        ("tool", "crash"),
        ("outcome", "error"),
        ("error_type", "-32603"),
        ("fault", "server"),
    ];
    assert_eq!(m.ops(c, "tools/call", &panic), 1.0);
    let unknown = [
        ("tool", "_unknown"),
        ("outcome", "error"),
        ("error_type", "-32602"),
        ("fault", "client"),
    ];
    assert_eq!(m.ops(c, "tools/call", &unknown), 1.0);
    assert!(!m.0.contains("no_such_tool"));
    assert_eq!(
        m.ops(c, "tools/call", &tool("confirm", "input_required")),
        2.0
    );
    assert_eq!(m.ops(c, "tools/call", &tool("confirm", "success")), 1.0);
    let retries = "mcp_server_input_retries_total";
    let retry = [
        ("method", "tools/call"),
        ("tool", "confirm"),
        ("outcome", "success"),
    ];
    assert_eq!(m.get(retries, &retry), 1.0);
    assert_eq!(
        m.total(retries, &[]),
        1.0,
        "only the second round is a retry"
    );
    assert_eq!(m.ops(c, "tools/call", &tool("report", "task_created")), 3.0);
    assert_eq!(
        m.ops(c, "tasks/get", &[("outcome", "success")]),
        f64::from(polls)
    );
    assert_eq!(m.ops(c, "tasks/cancel", &[("outcome", "success")]), 1.0);
    let task = "mcp_server_task_duration_seconds_count";
    for status in ["completed", "failed", "cancelled"] {
        assert_eq!(
            m.get(task, &[("tool", "report"), ("status", status)]),
            1.0,
            "{status}"
        );
    }
    assert!(
        m.get(
            "mcp_server_task_duration_seconds_sum",
            &[("tool", "report"), ("status", "completed")]
        ) >= 0.02
    );
    assert_eq!(
        m.total(
            "mcp_server_operation_duration_seconds_count",
            &[("method", "subscriptions/listen")]
        ),
        0.0,
        "a subscription stream is not a slow request"
    );

    // The legacy session: client from initialize, same labels.
    let c = "e2e-legacy";
    assert_eq!(m.ops(c, "initialize", &[("outcome", "success")]), 1.0);
    assert_eq!(
        m.ops(c, "notifications/initialized", &[("outcome", "success")]),
        1.0
    );
    assert_eq!(m.ops(c, "tools/call", &tool("add", "success")), 1.0);
    let legacy_confirm = [
        ("tool", "confirm"),
        ("outcome", "tool_error"),
        ("error_type", "tool_error"),
        ("fault", "client"),
    ];
    assert_eq!(m.ops(c, "tools/call", &legacy_confirm), 1.0);
    assert_eq!(m.ops(c, "tools/call", &tool("report", "success")), 1.0);
    assert_eq!(
        m.get(
            "mcp_server_session_duration_seconds_count",
            &[("client_name", c), ("end_reason", "client_delete")]
        ),
        1.0
    );
    assert_eq!(
        m.total(
            "mcp_server_sessions_active",
            &[("client_name", "e2e-modern")]
        ),
        0.0,
        "2026-07-28 is stateless: no session"
    );

    // The tool layer (`#[mcp_tool]`) sees the same rounds as the request layer: an input
    // request and a created task are outcomes of their own, never errors.
    let calls = |tool: &str, outcome: &str| {
        m.total(
            "mcp_tool_duration_seconds_count",
            &[("tool", tool), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("confirm", "input_required"), 2.0);
    assert_eq!(calls("confirm", "success"), 1.0);
    assert_eq!(calls("confirm", "tool_error"), 1.0, "the legacy session");
    assert_eq!(calls("report", "task_created"), 3.0);
    assert_eq!(calls("report", "success"), 1.0, "the legacy session");
    assert_eq!(calls("confirm", "error") + calls("report", "error"), 0.0);

    // Context cost: one size per completed result, the catalogue's size.
    assert_eq!(
        m.get("mcp_tool_result_bytes_count", &[("tool", "add")]),
        3.0
    );
    assert!(m.get("mcp_tool_result_bytes_sum", &[("tool", "add")]) > 3.0 * 20.0);
    assert_eq!(
        m.get("mcp_tool_result_content_blocks_sum", &[("tool", "add")]),
        3.0
    );
    let catalogue = m.get("mcp_tools_list_bytes", &[]);
    assert!(catalogue > 1000.0, "{catalogue}");
    // 11 calls of the modern client (the confirmation took two rounds), 3 of the legacy one.
    assert_eq!(
        m.get(
            "mcp_server_request_bytes_count",
            &[("method", "tools/call")]
        ),
        14.0
    );

    let mut server = server;
    assert!(server.proc.terminate(Duration::from_secs(10)));
}
