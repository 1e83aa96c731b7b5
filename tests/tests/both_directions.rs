//! Requests in both directions between an rmcp client wrapped in `InstrumentedTransport` and the
//! example HTTP server (a separate process), both exporting spans to one OTLP/HTTP receiver on
//! 127.0.0.1:
//! - over a legacy session, `approve` asks the user with `elicitation/create` through the
//!   observed peer: the server's CLIENT span is a child of the request it handles, the client's
//!   SERVER span a child of that, all in the caller's trace; the server records the request in
//!   `mcp_client_operation_duration_seconds`, the client in
//!   `mcp_server_operation_duration_seconds`;
//! - on 2026-07-28, `confirm` asks with an `InputRequiredResult` and rmcp's client answers in the
//!   `inputResponses` of the retry;
//! - the client answers accept, decline and cancel once each in both styles, and both
//!   `mcp_*_elicitation_responses_total` counters are exact per action.

use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, Telemetry, TelemetryBuilder};
use mcp_metrics_tests::harness::{ExampleServer, eventually, get, sample};
use mcp_metrics_tests::otlp::{Receiver, descends_from, find, hex, names};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RoleClient};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, ServiceExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ACTIONS: [(ElicitationAction, &str); 3] = [
    (ElicitationAction::Accept, "accept"),
    (ElicitationAction::Decline, "decline"),
    (ElicitationAction::Cancel, "cancel"),
];

/// A client that answers each elicitation with the next action of its list, accepting with
/// `content`.
#[derive(Clone)]
struct Answering {
    actions: Arc<Mutex<VecDeque<ElicitationAction>>>,
    content: Value,
}

impl Answering {
    fn new(content: Value) -> Self {
        Answering {
            actions: Arc::new(Mutex::new(ACTIONS.iter().map(|(a, _)| a.clone()).collect())),
            content,
        }
    }
}

impl ClientHandler for Answering {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("answering-agent", "1.0"),
        )
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let action = self
            .actions
            .lock()
            .unwrap()
            .pop_front()
            .expect("one answer per elicitation");
        Ok(match action {
            ElicitationAction::Accept => {
                ElicitResult::new(ElicitationAction::Accept).with_content(self.content.clone())
            }
            other => ElicitResult::new(other),
        })
    }
}

fn call(tool: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(json!({"action": "ship"}).as_object().unwrap().clone())
}

fn text(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

fn client_telemetry(receiver: &Receiver) -> (tracing::subscriber::DefaultGuard, Telemetry) {
    let builder = TelemetryBuilder::new()
        .service_name("answering-agent")
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
async fn elicitations_are_traced_and_counted_on_both_sides() {
    // rmcp's HTTP client is reqwest, without a rustls provider of its own in this build.
    #[allow(deprecated)] // ring, the exporter's provider: rustls 0.23.48 deprecates it
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = Receiver::start();
    let (_default, telemetry) = client_telemetry(&receiver);
    let exporter = mcp_metrics_exporter::ExporterBuilder::new()
        .without_listener()
        .install()
        .expect("the only exporter of this test binary");
    let registry = exporter.registry().clone();
    let mut server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "prometheus"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.base_url()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("RUST_LOG", "info,rmcp=warn"),
        ],
    );
    let url = server.url("/mcp");
    let port = server.addr.port();
    let transport = || {
        InstrumentedTransport::new(StreamableHttpClientTransport::from_uri(url.clone()))
            .with_tool_names(["approve", "confirm"])
            .over_http("127.0.0.1", port)
    };

    // A legacy session: the server sends `elicitation/create` while it handles `approve`.
    let legacy = Answering::new(json!({"approve": true}))
        .serve(transport())
        .await
        .expect("initialize");
    for expected in ["ship: approved", "ship: declined", "ship: cancelled"] {
        let result = legacy.call_tool(call("approve")).await.expect("approve");
        assert_eq!(text(&result), expected);
    }
    legacy.cancel().await.unwrap();

    // 2026-07-28: `confirm` answers with an input request; rmcp's client retries with the answer.
    let modern = Answering::new(json!({"confirm": true}))
        .serve_with_lifecycle(
            transport(),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("discover");
    for expected in [
        "ship: confirmed",
        "ship: not confirmed",
        "ship: not confirmed",
    ] {
        let result = modern.call_tool(call("confirm")).await.expect("confirm");
        assert_eq!(text(&result), expected);
    }
    modern.cancel().await.unwrap();

    // The server's side: each answer once, by how it arrived.
    let (status, metrics) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200);
    for (_, action) in ACTIONS {
        let legacy = [("method", "elicitation/create"), ("action", action)];
        let retried = [
            ("method", "tools/call"),
            ("tool", "confirm"),
            ("action", action),
        ];
        for (labels, name) in [(&legacy[..], "legacy"), (&retried[..], "retried")] {
            let got = sample(&metrics, "mcp_server_elicitation_responses_total", labels);
            assert_eq!(got, Some(1.0), "server, {name}, {action}:\n{metrics}");
        }
    }
    // The peer knows the session's protocol version, not the transport it runs over.
    let sent = [
        ("method", "elicitation/create"),
        ("outcome", "success"),
        ("protocol_version", "2025-11-25"),
    ];
    assert_eq!(
        sample(
            &metrics,
            "mcp_client_operation_duration_seconds_count",
            &sent
        ),
        Some(3.0),
        "the server times the requests it sends:\n{metrics}"
    );

    // The client's side: what it sent, and the server's requests it answered.
    let mine = registry.render_prometheus();
    for (_, action) in ACTIONS {
        let legacy = [("method", "elicitation/create"), ("action", action)];
        let retried = [
            ("method", "tools/call"),
            ("tool", "confirm"),
            ("action", action),
        ];
        for (labels, name) in [(&legacy[..], "legacy"), (&retried[..], "retried")] {
            let got = sample(&mine, "mcp_client_elicitation_responses_total", labels);
            assert_eq!(got, Some(1.0), "client, {name}, {action}:\n{mine}");
        }
    }
    let answered = [
        ("method", "elicitation/create"),
        ("outcome", "success"),
        ("protocol_version", "2025-11-25"),
        ("network_transport", "tcp"),
    ];
    assert_eq!(
        sample(
            &mine,
            "mcp_server_operation_duration_seconds_count",
            &answered
        ),
        Some(3.0),
        "the client times the requests it answers:\n{mine}"
    );

    telemetry.shutdown();
    assert!(server.proc.terminate(Duration::from_secs(10)));
    let spans = eventually(Duration::from_secs(10), || {
        let spans = receiver.spans();
        (find(&spans, "tools/call approve", SpanKind::Server).len() == 3
            && find(&spans, "elicitation/create", SpanKind::Client).len() == 3)
            .then_some(spans)
    })
    .unwrap_or_else(|| panic!("spans missing: {:?}", names(&receiver.spans())));

    // One trace per call: client → server → server's request → client's handling of it.
    let answered = find(&spans, "elicitation/create", SpanKind::Server);
    assert_eq!(answered.len(), 3, "{:?}", names(&spans));
    for client_call in find(&spans, "tools/call approve", SpanKind::Client) {
        let in_trace = |s: &&Span| s.trace_id == client_call.trace_id;
        let handled: Vec<_> = find(&spans, "tools/call approve", SpanKind::Server)
            .into_iter()
            .filter(in_trace)
            .collect();
        assert_eq!(handled.len(), 1, "{:?}", names(&spans));
        assert_eq!(handled[0].parent_span_id, client_call.span_id);
        let asked: Vec<_> = find(&spans, "elicitation/create", SpanKind::Client)
            .into_iter()
            .filter(in_trace)
            .collect();
        assert_eq!(asked.len(), 1, "one elicitation per call");
        assert!(
            descends_from(&spans, asked[0], handled[0]),
            "the elicitation is sent while the call is handled"
        );
        let answer: Vec<_> = answered.iter().copied().filter(in_trace).collect();
        assert_eq!(answer.len(), 1, "the client continues the server's trace");
        assert_eq!(hex(&answer[0].parent_span_id), hex(&asked[0].span_id));
    }
}
