//! The example HTTP server asks the official Python MCP client for input, in both protocol
//! styles, and exports its spans to an OTLP/HTTP receiver on 127.0.0.1:
//! - over a legacy session, `approve` sends `elicitation/create` through the observed peer: the
//!   request is a CLIENT span in the trace of the `tools/call` it serves, a descendant of its
//!   SERVER span, and the `traceparent` the Python client receives in `_meta` names that CLIENT
//!   span;
//! - on 2026-07-28, `confirm` answers with an input request and the Python client answers in the
//!   `inputResponses` of the retry;
//! - the client answers accept, decline and cancel once each in both styles, and
//!   `mcp_server_elicitation_responses_total` counts each exactly once, by how it arrived.

use mcp_metrics_tests::harness::{ExampleServer, eventually, get, run_python, sample};
use mcp_metrics_tests::otlp::{Receiver, attr_str, descends_from, find, hex};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::json;
use std::time::Duration;

const ACTIONS: [&str; 3] = ["accept", "decline", "cancel"];

#[test]
fn python_client_answers_elicitations_in_both_styles() {
    let receiver = Receiver::start();
    let mut server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "prometheus"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.base_url()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("RUST_LOG", "info,rmcp=warn"),
        ],
    );
    let report = run_python("elicit_client.py", &[&server.url("/mcp")]);

    // What the client saw: its answers decided each call.
    assert_eq!(
        report["approved"],
        json!(["ship: approved", "ship: declined", "ship: cancelled"]),
        "{report}"
    );
    assert_eq!(report["asked"], json!([true, true, true]), "{report}");
    assert_eq!(
        report["confirmed"],
        json!([
            "ship: confirmed",
            "ship: not confirmed",
            "ship: not confirmed"
        ]),
        "{report}"
    );

    // Each answer once, by how it arrived: to `elicitation/create`, or in a retried call.
    let (status, metrics) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200);
    for action in ACTIONS {
        let legacy = [("method", "elicitation/create"), ("action", action)];
        let retried = [
            ("method", "tools/call"),
            ("tool", "confirm"),
            ("action", action),
        ];
        for (labels, style) in [(&legacy[..], "legacy"), (&retried[..], "retried")] {
            let got = sample(&metrics, "mcp_server_elicitation_responses_total", labels);
            assert_eq!(got, Some(1.0), "{style}, {action}:\n{metrics}");
        }
    }
    assert_eq!(
        sample(
            &metrics,
            "mcp_client_operation_duration_seconds_count",
            &[
                ("method", "elicitation/create"),
                ("outcome", "success"),
                ("protocol_version", "2025-11-25"),
            ]
        ),
        Some(3.0),
        "the server times the requests it sends:\n{metrics}"
    );

    let spans = eventually(Duration::from_secs(10), || {
        let spans = receiver.spans();
        (find(&spans, "tools/call approve", SpanKind::Server).len() == 3
            && find(&spans, "elicitation/create", SpanKind::Client).len() == 3)
            .then_some(spans)
    })
    .unwrap_or_else(|| {
        let names: Vec<_> = receiver.spans().into_iter().map(|s| s.name).collect();
        panic!("spans missing: {names:?}")
    });
    assert!(server.proc.terminate(Duration::from_secs(10)));

    // The server's request shares the trace of the call it serves, and is what the client got.
    let calls = find(&spans, "tools/call approve", SpanKind::Server);
    let asked = find(&spans, "elicitation/create", SpanKind::Client);
    let traceparents = report["traceparents"].as_array().expect("traceparents");
    assert_eq!(traceparents.len(), 3, "{report}");
    for traceparent in traceparents {
        let traceparent = traceparent.as_str().expect("the server sent a traceparent");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        let (trace_id, span_id) = (parts[1], parts[2]);
        let request = asked
            .iter()
            .find(|s| hex(&s.span_id) == span_id)
            .unwrap_or_else(|| panic!("no CLIENT span {span_id} of {traceparent}"));
        assert_eq!(hex(&request.trace_id), trace_id);
        assert_eq!(
            attr_str(request, "mcp.method.name").as_deref(),
            Some("elicitation/create")
        );
        assert_eq!(
            attr_str(request, "mcp.protocol.version").as_deref(),
            Some("2025-11-25")
        );
        let call: Vec<_> = calls
            .iter()
            .filter(|c| c.trace_id == request.trace_id)
            .collect();
        assert_eq!(call.len(), 1, "one call in the trace of {traceparent}");
        assert!(
            descends_from(&spans, request, call[0]),
            "the elicitation is sent while the call is handled"
        );
        let in_trace = asked
            .iter()
            .filter(|s| s.trace_id == request.trace_id)
            .count();
        assert_eq!(in_trace, 1, "one elicitation per call");
    }
}
