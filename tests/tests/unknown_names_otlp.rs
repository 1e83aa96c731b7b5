//! No client-chosen string reaches a span name, a span attribute or a metric label: 1,000
//! `tools/call` requests for random tool names that do not exist and 50 `prompts/get` for random
//! prompts, from rmcp's client wrapped in `InstrumentedTransport` to an `Instrumented` server in
//! the same process (so both sides' spans reach one OTLP receiver and both sides' metrics one
//! registry). Trace backends index span names as operations, so one name per method is what
//! keeps a client from flooding that index.

use std::collections::BTreeSet;

use mcp_metrics::rmcp::Instrumented;
use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics_exporter::Registry;
use mcp_metrics_exporter::telemetry::{OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::harness::split_labels;
use mcp_metrics_tests::otlp::{Receiver, all_text, is_server};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use rmcp::model::{CallToolRequestParams, GetPromptRequestParams};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};

const TOOL_CALLS: usize = 1_000;
const PROMPT_GETS: usize = 50;

#[derive(Clone)]
struct OneTool {
    tool_router: rmcp::handler::server::router::tool::ToolRouter<Self>,
}

#[tool_router]
impl OneTool {
    /// The only tool there is.
    #[tool]
    async fn known(&self) -> String {
        "known".to_owned()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for OneTool {}

/// `count` distinct names no server has, from a seeded xorshift (the names differ in every
/// position a backend could key on: prefix, length and characters).
fn invented(count: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let word = next();
            format!(
                "{}-{:x}{}",
                ["drop_table", "exfil", "Run.Shell", "tool/evil"][i % 4],
                word,
                "z".repeat((word % 7) as usize)
            )
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_thousand_invented_names_give_one_span_name_and_one_label() {
    let receiver = Receiver::start();
    let (subscriber, telemetry) = TelemetryBuilder::new()
        .service_name("unknown-names")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .filter("info,rmcp=off")
        .unwrap()
        .build_with_writer(std::io::sink)
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    let registry = Registry::default();
    let _recorder = metrics::set_default_local_recorder(&registry);

    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = Instrumented::new(OneTool {
            tool_router: OneTool::tool_router(),
        })
        .serve(server_io)
        .await
        .unwrap();
        let _ = running.waiting().await;
    });
    let client = ().serve(InstrumentedTransport::new(client_io)).await.unwrap();
    let tools = invented(TOOL_CALLS, 0x9e37_79b9_7f4a_7c15);
    let prompts = invented(PROMPT_GETS, 0x2545_f491_4f6c_dd1d);
    for name in &tools {
        let answer = client
            .call_tool(CallToolRequestParams::new(name.clone()))
            .await;
        assert!(answer.is_err(), "{name} does not exist");
    }
    for name in &prompts {
        let answer = client
            .get_prompt(GetPromptRequestParams::new(name.clone()))
            .await;
        assert!(answer.is_err(), "{name} does not exist");
    }
    client.cancel().await.unwrap();
    server.await.unwrap();
    telemetry.shutdown();

    let spans = receiver.spans();
    let names = |server: bool, method: &str| -> (BTreeSet<String>, usize) {
        let of_method: Vec<_> = spans
            .iter()
            .filter(|s| {
                let kind = if server {
                    is_server(s)
                } else {
                    s.kind == SpanKind::Client as i32
                };
                kind && s.attributes.iter().any(|kv| {
                    kv.key == "mcp.method.name" && format!("{:?}", kv.value).contains(method)
                })
            })
            .collect();
        (
            of_method.iter().map(|s| s.name.clone()).collect(),
            of_method.len(),
        )
    };
    let one = |name: &str| BTreeSet::from([name.to_owned()]);
    assert_eq!(names(true, "tools/call"), (one("tools/call"), TOOL_CALLS));
    assert_eq!(names(false, "tools/call"), (one("tools/call"), TOOL_CALLS));
    assert_eq!(
        names(true, "prompts/get"),
        (one("prompts/get"), PROMPT_GETS)
    );
    assert_eq!(
        names(false, "prompts/get"),
        (one("prompts/get"), PROMPT_GETS)
    );

    // Not in any span's name, attribute, event or status either (argument capture is off).
    let sent: Vec<&String> = tools.iter().chain(&prompts).collect();
    for span in &spans {
        let text = all_text(span);
        if let Some(name) = sent.iter().find(|n| text.contains(n.as_str())) {
            panic!("{name} leaked into a span: {text}");
        }
    }

    // One `_unknown` series per side and outcome, whatever the names.
    let scrape = registry.render_prometheus();
    for name in &sent {
        assert!(
            !scrape.contains(name.as_str()),
            "{name} leaked into a label"
        );
    }
    let targets = |metric: &str, key: &str| -> BTreeSet<String> {
        scrape
            .lines()
            .filter_map(|l| l.strip_prefix(metric)?.strip_prefix('{'))
            .filter_map(|rest| rest.split_once('}'))
            .flat_map(|(labels, _)| split_labels(labels))
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect()
    };
    for metric in [
        "mcp_server_operation_duration_seconds_count",
        "mcp_client_operation_duration_seconds_count",
    ] {
        assert_eq!(targets(metric, "tool"), one("_unknown"), "{metric}");
        assert_eq!(targets(metric, "prompt"), one("_unknown"), "{metric}");
    }
}
