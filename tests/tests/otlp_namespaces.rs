//! Every name the project sends over OTLP is either one the OpenTelemetry semantic conventions
//! define or in the project's own namespace, `mcp_metrics.`: the example server exports metrics
//! and spans to the test receiver while a legacy session and a 2026-07-28 client drive every
//! outcome (success, tool error, a panicking tool, an unknown tool, a request for input and its
//! retry); each span attribute key, metric name, data-point attribute key and resource attribute
//! key that arrived is checked against the lists below. A key outside both fails with its name.

use std::collections::BTreeSet;
use std::time::Duration;

use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually, run_python};
use mcp_metrics_tests::otlp::Receiver;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use serde_json::json;

/// Attribute keys the conventions define, each with the file it was read from.
/// semantic-conventions-genai at the commits of `model/mcp/common.yaml`
/// 0e5e6a8d59d38c9c19556a5164a83cc11a7d53ff, `model/mcp/registry.yaml`
/// 4172e394d28f2d26ec4a4514a45f153580c68670, `model/mcp/spans.yaml`
/// 5c50d346f1c9e8f745889f7777a412991564b334 and `model/mcp/metrics.yaml`
/// 14567fad6858f82588325657c4bb262fafc885bd; the others from the core semantic-conventions
/// registry (`model/<namespace>/registry.yaml`).
const CONVENTION_KEYS: &[(&str, &str)] = &[
    ("mcp.method.name", "genai model/mcp/registry.yaml"),
    ("mcp.protocol.version", "genai model/mcp/registry.yaml"),
    ("mcp.resource.uri", "genai model/mcp/registry.yaml"),
    ("mcp.session.id", "genai model/mcp/registry.yaml"),
    ("gen_ai.tool.name", "genai model/gen-ai/registry.yaml"),
    ("gen_ai.prompt.name", "genai model/gen-ai/registry.yaml"),
    ("gen_ai.operation.name", "genai model/gen-ai/registry.yaml"),
    ("gen_ai.tool.type", "genai model/gen-ai/registry.yaml"),
    (
        "gen_ai.tool.call.arguments",
        "genai model/gen-ai/registry.yaml",
    ),
    (
        "gen_ai.tool.call.result",
        "genai model/gen-ai/registry.yaml",
    ),
    ("gen_ai.request.model", "genai model/gen-ai/registry.yaml"),
    ("jsonrpc.request.id", "core model/jsonrpc/registry.yaml"),
    ("rpc.response.status_code", "core model/rpc/registry.yaml"),
    ("error.type", "core model/error/registry.yaml"),
    ("network.transport", "core model/network/registry.yaml"),
    ("network.protocol.name", "core model/network/registry.yaml"),
    (
        "network.protocol.version",
        "core model/network/registry.yaml",
    ),
    ("client.address", "core model/client/registry.yaml"),
    ("client.port", "core model/client/registry.yaml"),
    ("server.address", "core model/server/registry.yaml"),
    ("server.port", "core model/server/registry.yaml"),
    ("http.request.method", "core model/http/registry.yaml"),
    ("http.response.status_code", "core model/http/registry.yaml"),
    ("http.route", "core model/http/registry.yaml"),
    ("code.file.path", "core model/code/registry.yaml"),
    ("code.line.number", "core model/code/registry.yaml"),
    ("code.module.name", "core model/code/registry.yaml"),
    ("code.function.name", "core model/code/registry.yaml"),
    ("thread.id", "core model/thread/registry.yaml"),
    ("thread.name", "core model/thread/registry.yaml"),
    ("service.name", "core model/service/registry.yaml"),
    ("service.version", "core model/service/registry.yaml"),
    ("service.instance.id", "core model/service/registry.yaml"),
    ("telemetry.sdk.name", "core model/telemetry/registry.yaml"),
    (
        "telemetry.sdk.language",
        "core model/telemetry/registry.yaml",
    ),
    (
        "telemetry.sdk.version",
        "core model/telemetry/registry.yaml",
    ),
];

/// Metric names the conventions define: the MCP ones (`model/mcp/metrics.yaml`) and the HTTP
/// server duration (core `model/http/metrics.yaml`).
const CONVENTION_METRICS: &[&str] = &[
    "mcp.server.operation.duration",
    "mcp.server.session.duration",
    "mcp.client.operation.duration",
    "mcp.client.session.duration",
    "http.server.request.duration",
];

/// The project's own namespace.
const OURS: &str = "mcp_metrics.";

fn keys(attributes: &[KeyValue], into: &mut BTreeSet<String>) {
    into.extend(attributes.iter().map(|kv| kv.key.clone()));
}

/// The keys and names of `names` that are neither the conventions' nor ours.
fn foreign<'a>(names: &'a BTreeSet<String>, convention: &[&str]) -> Vec<&'a str> {
    names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.starts_with(OURS) && !convention.contains(n))
        .collect()
}

#[test]
fn every_name_sent_over_otlp_is_the_conventions_or_ours() {
    let receiver = Receiver::start();
    let metrics_url = receiver.metrics_url();
    let traces_url = receiver.traces_url();
    let server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics_url.as_str()),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_url.as_str()),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("RUST_LOG", "info,rmcp=warn"),
        ],
    );
    let mut legacy = McpHttp::connect(&server.url("/mcp"));
    legacy.request("tools/list", json!({}));
    legacy.call_tool("add", json!({"a": 1, "b": 2}));
    legacy.call_tool("lookup", json!({"key": "missing"}));
    legacy.call_tool("crash", json!({}));
    legacy.call_tool("invented_by_a_model", json!({}));
    legacy.close();
    // 2026-07-28: discovery, `confirm` asks for input and is retried with the answer.
    let modern = run_python("modern_client.py", &[&server.url("/mcp")]);
    assert!(modern.is_object(), "{modern}");

    let wanted = ["mcp.server.operation.duration", "mcp_metrics.tool.duration"];
    let arrived = eventually(Duration::from_secs(30), || {
        let names: BTreeSet<String> = receiver
            .metric_exports()
            .iter()
            .flat_map(|e| &e.request.resource_metrics)
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| m.name.clone())
            .collect();
        let spans = receiver.spans();
        (wanted.iter().all(|w| names.contains(*w))
            && spans.iter().any(|s| s.name.starts_with("execute_tool")))
        .then_some(())
    });
    assert!(arrived.is_some(), "metrics and spans arrive");
    drop(server);

    let convention_keys: Vec<&str> = CONVENTION_KEYS.iter().map(|(k, _)| *k).collect();
    let (mut span_keys, mut metric_names, mut point_keys, mut resource_keys) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    for span in receiver.spans() {
        keys(&span.attributes, &mut span_keys);
    }
    for export in receiver.trace_requests() {
        for r in &export.resource_spans {
            keys(
                r.resource.as_ref().map_or(&[][..], |r| &r.attributes),
                &mut resource_keys,
            );
        }
    }
    for export in receiver.metric_exports() {
        for r in &export.request.resource_metrics {
            keys(
                r.resource.as_ref().map_or(&[][..], |r| &r.attributes),
                &mut resource_keys,
            );
            for metric in r.scope_metrics.iter().flat_map(|s| &s.metrics) {
                metric_names.insert(metric.name.clone());
                match &metric.data {
                    Some(Data::Sum(d)) => d
                        .data_points
                        .iter()
                        .for_each(|p| keys(&p.attributes, &mut point_keys)),
                    Some(Data::Gauge(d)) => d
                        .data_points
                        .iter()
                        .for_each(|p| keys(&p.attributes, &mut point_keys)),
                    Some(Data::Histogram(d)) => d
                        .data_points
                        .iter()
                        .for_each(|p| keys(&p.attributes, &mut point_keys)),
                    Some(Data::ExponentialHistogram(d)) => d
                        .data_points
                        .iter()
                        .for_each(|p| keys(&p.attributes, &mut point_keys)),
                    _ => {}
                }
            }
        }
    }
    // What a test that can fail must see: the conventions' keys and ours both arrived.
    for key in ["mcp.method.name", "gen_ai.tool.name", "mcp_metrics.outcome"] {
        assert!(point_keys.contains(key), "{key} in {point_keys:?}");
    }
    assert!(
        span_keys.contains("rpc.response.status_code"),
        "{span_keys:?}"
    );
    assert_eq!(
        foreign(&span_keys, &convention_keys),
        Vec::<&str>::new(),
        "span attributes"
    );
    assert_eq!(
        foreign(&point_keys, &convention_keys),
        Vec::<&str>::new(),
        "metric attributes"
    );
    assert_eq!(
        foreign(&metric_names, CONVENTION_METRICS),
        Vec::<&str>::new(),
        "metric names"
    );
    assert_eq!(
        foreign(&resource_keys, &convention_keys),
        Vec::<&str>::new(),
        "resource attributes"
    );
}
