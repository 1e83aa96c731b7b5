//! The deploy bundle against real traffic: the http-server example under load, a real Prometheus
//! with the bundle's scrape config (basic auth) and rules, and every dashboard query evaluated
//! through the HTTP API: each returns data. The load uses both protocol styles: legacy sessions
//! over every outcome, and 2026-07-28 requests with rmcp's client for what only that revision has
//! (multi-round-trip requests, tasks, subscriptions).

use mcp_metrics_tests::deploy::{bundle_prometheus, dashboard_queries};
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, GetTaskParams, Implementation, ProtocolVersion,
    SubscriptionFilter,
};
use rmcp::service::{RequestContext, RoleClient};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// One session's worth of calls covering every outcome.
fn session(url: &str, round: u64) {
    let mut c = McpHttp::connect(url);
    c.call_tool("add", json!({"a": round as i64, "b": 1}));
    c.call_tool(
        "lookup",
        json!({"key": if round.is_multiple_of(2) { "alpha" } else { "missing" }}),
    );
    c.call_tool(
        "validate",
        json!({"text": if round.is_multiple_of(3) { " " } else { "ok" }}),
    );
    c.call_tool(
        "summarize",
        json!({"text": "a fairly long text that needs a short summary for the model"}),
    );
    c.call_tool("slow", json!({"millis": 20}));
    if round.is_multiple_of(5) {
        c.call_tool("crash", json!({}));
    }
    c.close();
}

/// A 2026-07-28 client that declares the tasks extension and accepts every confirmation.
#[derive(Clone)]
struct Modern;

impl ClientHandler for Modern {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder()
                .enable_tasks()
                .enable_elicitation()
                .build(),
            Implementation::new("deploy-e2e", "1.0"),
        )
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true})))
    }
}

fn call(tool: &str, arguments: serde_json::Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

/// What only protocol 2026-07-28 has: the tool catalogue, a multi-round-trip request (its retry),
/// a task that completes, and a subscription stream opened and closed.
async fn modern_round(url: &str) {
    let client = Modern
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_uri(url.to_owned()),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover");
    client.list_all_tools().await.expect("tools/list");
    client
        .call_tool(call("confirm", json!({"action": "deploy"})))
        .await
        .expect("confirm, answered and retried");
    let created = client
        .call_tool_once(call("report", json!({"ending": "complete", "millis": 5})))
        .await
        .expect("report as a task");
    let CallToolResponse::Task(created) = created else {
        panic!("expected a task, got {created:?}");
    };
    for _ in 0..100 {
        let got = client
            .peer()
            .get_task(GetTaskParams::new(created.task.task_id.clone()))
            .await
            .expect("tasks/get");
        if got.task.status().is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut subscription = client
        .peer()
        .listen(SubscriptionFilter::builder().tools_list_changed().build())
        .await
        .expect("subscriptions/listen");
    subscription.cancel().await.expect("end the subscription");
    client.cancel().await.expect("close the client");
}

#[test]
fn dashboard_queries_return_data_from_a_loaded_server() {
    let server = ExampleServer::start(
        "http-server",
        &[("MCP_METRICS_BASIC_AUTH", "prometheus:s3cret")],
    );
    let url = server.url("/mcp");

    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, rounds, url) = (stop.clone(), rounds.clone(), url.clone());
        std::thread::spawn(move || {
            // rmcp's HTTP client is reqwest, built here without a rustls provider of its own.
            #[allow(deprecated)] // ring, the exporter's provider: rustls 0.23.48 deprecates it
            let _ = rustls::crypto::ring::default_provider().install_default();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for rmcp's client");
            // Bounded: at most 2 minutes of load, stopped earlier by the test.
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                let round = rounds.fetch_add(1, Ordering::Relaxed);
                session(&url, round);
                runtime.block_on(modern_round(&url));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    let prom = bundle_prometheus(server.addr, "s3cret");

    assert!(prom.wait_for(r#"up{job="mcp-server"}"#, 1.0, Duration::from_secs(30)));
    // Enough scrapes for rates over the interval below.
    std::thread::sleep(Duration::from_secs(8));

    let queries = dashboard_queries();
    assert!(queries.len() >= 12);
    for q in &queries {
        let expr = q.resolved("10s");
        let data = eventually(Duration::from_secs(30), || {
            let result = prom.query(&expr);
            result.iter().any(|(_, v)| v.is_finite()).then_some(result)
        });
        assert!(data.is_some(), "panel {:?}: no data for {expr}", q.panel);
    }
    // The alert rules evaluate on real data: the crashing tool raises its alert.
    let firing = eventually(Duration::from_secs(30), || {
        let r = prom.query(r#"ALERTS{alertname="McpToolPanics",tool="crash",alertstate="firing"}"#);
        (!r.is_empty()).then_some(r)
    });
    assert!(firing.is_some(), "McpToolPanics did not fire");

    stop.store(true, Ordering::Relaxed);
    load.join().expect("the load thread ran without failing");
    assert!(rounds.load(Ordering::Relaxed) > 5);
}
