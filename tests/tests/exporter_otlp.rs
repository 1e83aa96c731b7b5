//! OTLP/HTTP metrics against the test receiver, which decodes the protobuf body: the values of a
//! registry, and the example server driven by a real MCP client over streamable HTTP exporting
//! its metrics under the OpenTelemetry MCP semantic-convention names, units, attribute keys and
//! buckets, with a resource that tells replicas apart; an rmcp client wrapped by
//! `mcp_metrics::rmcp::client` exporting `mcp.client.*`; metrics and spans of one process under
//! one resource; and resource and propagator variables that cannot be used stopping the server at
//! start-up.
//!
//! The receiver (`mcp_metrics_tests::otlp`) stands in for an OpenTelemetry Collector, of which no
//! binary is available on this machine: it decodes each body with the OTLP proto definitions, so
//! the test sees exactly what a collector would receive.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_metrics::catalog::ADVISORY_DURATION_BUCKETS;
use mcp_metrics::names::DEFAULT_DURATION_BUCKETS;
use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics_exporter::telemetry::{LogFormat, TelemetryBuilder};
use mcp_metrics_exporter::{ExporterBuilder, build_info};
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually, example_bin};
use mcp_metrics_tests::otlp::{MetricsExport, Receiver, string_value};
use metrics::{counter, gauge, histogram, with_local_recorder};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, metric, number_data_point,
};
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

fn find<'a>(export: &'a MetricsExport, name: &str) -> &'a Metric {
    export.metric(name).unwrap_or_else(|| {
        let names: Vec<&str> = export.metrics().iter().map(|m| m.name.as_str()).collect();
        panic!("metric {name} missing from {names:?}")
    })
}

/// Attributes as a sorted map, for whole-set comparisons.
fn attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), string_value(attributes, &kv.key).unwrap()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn histogram_points(metric: &Metric) -> Vec<&HistogramDataPoint> {
    match &metric.data {
        Some(metric::Data::Histogram(h)) => {
            assert_eq!(
                h.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
            h.data_points.iter().collect()
        }
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

/// Histogram data points by their attributes, with their counts.
fn counts(metric: &Metric) -> BTreeMap<BTreeMap<String, String>, u64> {
    histogram_points(metric)
        .into_iter()
        .map(|p| (attributes(&p.attributes), p.count))
        .collect()
}

/// The value of the only data point of an up-down counter: a cumulative, non-monotonic sum.
fn up_down_value(metric: &Metric) -> f64 {
    let Some(metric::Data::Sum(s)) = &metric.data else {
        panic!("{} is not a sum", metric.name)
    };
    assert!(!s.is_monotonic, "{}", metric.name);
    assert_eq!(
        s.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(s.data_points.len(), 1, "{}", metric.name);
    match s.data_points[0].value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_export_decodes_to_the_recorded_values() {
    let receiver = Receiver::start();
    let endpoint = receiver.base_url();
    let exporter = ExporterBuilder::new()
        .env(&|name| match name {
            "MCP_METRICS_EXPORTER" => Some("otlp".into()),
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "OTEL_METRIC_EXPORT_INTERVAL" => Some("50".into()),
            "OTEL_SERVICE_NAME" => Some("otlp-test-service".into()),
            "OTEL_RESOURCE_ATTRIBUTES" => {
                Some("service.name=loses,deployment.environment.name=test,team=a%2Cb".into())
            }
            _ => None,
        })
        .expect("valid environment")
        .build_info(build_info!())
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    with_local_recorder(&registry, || {
        counter!("mcp_llm_tokens_total", "model" => "small-1", "type" => "prompt").increment(3);
        counter!("mcp_llm_tokens_total", "model" => "small-1", "type" => "completion").increment(1);
        // An application's own counter: its name stays, without `_total`.
        counter!("orders_total", "shop" => "north").increment(4);
        gauge!("mcp_tool_calls_in_flight", "tool" => "search").set(2.0);
        let h = histogram!("mcp_tool_duration_seconds", "tool" => "search", "outcome" => "success");
        for v in [0.0005, 0.003, 0.003, 0.7, 1000.0] {
            h.record(v);
        }
    });
    let handle = exporter.start().expect("otlp task starts");

    let mut waited = Duration::ZERO;
    let export = loop {
        if let Some(first) = receiver.metric_exports().into_iter().next() {
            break first;
        }
        assert!(
            waited < Duration::from_secs(10),
            "no export arrived in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    };
    assert_eq!(export.content_type, "application/x-protobuf");

    let resource = &export.resource().attributes;
    let resource_map = attributes(resource);
    assert_eq!(resource_map["service.name"], "otlp-test-service");
    assert_eq!(resource_map["service.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(resource_map["deployment.environment.name"], "test");
    assert_eq!(resource_map["team"], "a,b", "percent-decoded");
    let instance = &resource_map["service.instance.id"];
    assert_eq!(instance.len(), 36, "a UUID: {instance}");
    assert_eq!(resource.len(), 5, "{resource_map:?}");

    let tokens = find(&export, "mcp_metrics.llm.tokens");
    assert_eq!(tokens.unit, "{token}");
    let Some(metric::Data::Sum(sum)) = &tokens.data else {
        panic!("tokens is a Sum")
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let values: BTreeMap<_, _> = sum
        .data_points
        .iter()
        .map(|p| (attributes(&p.attributes), p.value))
        .collect();
    let int = |v| Some(number_data_point::Value::AsInt(v));
    assert_eq!(
        values,
        BTreeMap::from([
            (
                map(&[
                    ("gen_ai.request.model", "small-1"),
                    ("mcp_metrics.llm.token.type", "completion")
                ]),
                int(1)
            ),
            (
                map(&[
                    ("gen_ai.request.model", "small-1"),
                    ("mcp_metrics.llm.token.type", "prompt")
                ]),
                int(3)
            ),
        ])
    );
    let point = &sum.data_points[0];
    assert!(point.start_time_unix_nano > 0 && point.time_unix_nano >= point.start_time_unix_nano);
    let Some(metric::Data::Sum(orders)) = &find(&export, "orders").data else {
        panic!("orders is a Sum")
    };
    assert_eq!(
        attributes(&orders.data_points[0].attributes),
        map(&[("shop", "north")])
    );
    assert_eq!(orders.data_points[0].value, int(4));

    let in_flight = find(&export, "mcp_metrics.tool.calls_in_flight");
    assert_eq!(in_flight.unit, "{call}");
    assert_eq!(up_down_value(in_flight), 2.0);

    let duration = find(&export, "mcp_metrics.tool.duration");
    // Unit and HELP text come from the table and the descriptions registered at build time.
    assert_eq!(duration.unit, "s");
    assert!(!duration.description.is_empty());
    let points = histogram_points(duration);
    let point = points[0];
    assert_eq!(
        attributes(&point.attributes),
        map(&[
            ("gen_ai.tool.name", "search"),
            ("mcp_metrics.outcome", "success")
        ])
    );
    assert_eq!(point.explicit_bounds, DEFAULT_DURATION_BUCKETS);
    assert_eq!(point.count, 5);
    assert!((point.sum.expect("sum") - 1000.7065).abs() < 1e-9);
    // Per-bucket counts: (..0.001] 1, (0.001..0.005] 2, (0.5..1] 1, (300..+Inf) 1.
    let mut expected = vec![0u64; point.explicit_bounds.len() + 1];
    expected[0] = 1;
    expected[1] = 2;
    expected[8] = 1;
    expected[16] = 1;
    assert_eq!(point.bucket_counts, expected);

    let build = find(&export, "mcp_metrics.build_info");
    let Some(metric::Data::Gauge(build)) = &build.data else {
        panic!("build info is a gauge")
    };
    assert_eq!(
        attributes(&build.data_points[0].attributes),
        map(&[
            ("service.name", "mcp-metrics-tests"),
            ("service.version", env!("CARGO_PKG_VERSION"))
        ])
    );

    handle.shutdown().await;
}

/// Starts the example server exporting OTLP metrics (and spans) to `receiver` every 100 ms.
/// Metrics and spans configured from the same variables and build info leave under one resource:
/// the same `service.name`, `service.version`, `service.instance.id` and attributes (spans add
/// the SDK's `telemetry.sdk.*`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_spans_share_one_resource() {
    let receiver = Receiver::start();
    let base = receiver.base_url();
    let env = move |name: &str| match name {
        "MCP_METRICS_EXPORTER" => Some("otlp".into()),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(base.clone()),
        "OTEL_METRIC_EXPORT_INTERVAL" => Some("50".into()),
        "OTEL_RESOURCE_ATTRIBUTES" => Some("deployment.environment.name=test".into()),
        _ => None,
    };
    let exporter = ExporterBuilder::new()
        .env(&env)
        .expect("valid environment")
        .build_info(build_info!())
        .build()
        .expect("valid settings")
        .start()
        .expect("otlp task starts");
    let telemetry = TelemetryBuilder::new()
        .env(&env)
        .expect("valid environment")
        .build_info(build_info!())
        .log_format(LogFormat::None);
    tokio::task::spawn_blocking(move || {
        let (subscriber, telemetry) = telemetry.build().expect("pipeline builds");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("one span").in_scope(|| {});
        });
        telemetry.shutdown();
    })
    .await
    .expect("the pipeline thread");
    let metrics = tokio::task::spawn_blocking(move || {
        let export = eventually(Duration::from_secs(10), || {
            receiver.metric_exports().into_iter().next()
        })
        .expect("a metrics export");
        (export, receiver.trace_requests())
    });
    let (export, traces) = metrics.await.expect("the receiver");
    exporter.shutdown().await;

    let metrics_resource = attributes(&export.resource().attributes);
    assert_eq!(
        metrics_resource,
        map(&[
            ("service.name", "mcp-metrics-tests"),
            ("service.version", env!("CARGO_PKG_VERSION")),
            (
                "service.instance.id",
                &metrics_resource["service.instance.id"]
            ),
            ("deployment.environment.name", "test"),
        ])
    );
    assert_eq!(traces.len(), 1, "one batch of spans");
    let span_resource = traces[0].resource_spans[0]
        .resource
        .as_ref()
        .expect("spans have a resource");
    let mut span_resource = attributes(&span_resource.attributes);
    span_resource.retain(|key, _| !key.starts_with("telemetry.sdk."));
    assert_eq!(span_resource, metrics_resource);
}

fn otlp_example_server(receiver: &Receiver, extra: &[(&str, &str)]) -> ExampleServer {
    let metrics_url = receiver.metrics_url();
    let traces_url = receiver.traces_url();
    let mut env = vec![
        ("MCP_METRICS_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics_url.as_str()),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_url.as_str()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("RUST_LOG", "info,rmcp=warn"),
    ];
    env.extend_from_slice(extra);
    ExampleServer::start("http-server", &env)
}

/// The service.instance.id of an export's resource.
fn instance_id(export: &MetricsExport) -> String {
    string_value(&export.resource().attributes, "service.instance.id").expect("instance id")
}

#[test]
fn the_example_server_exports_semantic_convention_metrics() {
    let receiver = Receiver::start();
    let mut server = otlp_example_server(&receiver, &[]);
    let mut client = McpHttp::connect(&server.url("/mcp"));
    let tools = client.request("tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    for _ in 0..2 {
        let sum = client.call_tool("add", json!({"a": 2, "b": 3}));
        assert_eq!(sum["result"]["content"][0]["text"], "5", "{sum}");
    }
    let overflow = client.call_tool("add", json!({"a": i64::MAX, "b": 1}));
    assert_eq!(overflow["error"]["code"], -32602, "{overflow}");
    let missing = client.call_tool("lookup", json!({"key": "missing"}));
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    let unknown = client.call_tool("no_such_tool", json!({}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert_eq!(client.close(), 202, "the session is closed");

    // Cumulative exports: wait for the one that has seen the session end.
    let export = eventually(Duration::from_secs(20), || {
        receiver.metric_exports().into_iter().rev().find(|e| {
            e.metric("mcp.server.session.duration")
                .is_some_and(|m| counts(m).values().sum::<u64>() == 1)
        })
    })
    .unwrap_or_else(|| panic!("no export with the session's end"));
    assert!(server.proc.terminate(Duration::from_secs(10)));

    let names: Vec<&str> = export.metrics().iter().map(|m| m.name.as_str()).collect();
    // The conventions' own metrics keep their `mcp.` names; every other metric is in this
    // project's namespace, never in the one the conventions own.
    let conventional = [
        "mcp.server.operation.duration",
        "mcp.server.session.duration",
        "mcp.client.operation.duration",
        "mcp.client.session.duration",
        "http.server.request.duration",
    ];
    for name in &names {
        assert!(
            (conventional.contains(name) || name.starts_with("mcp_metrics."))
                && !name.contains("_seconds")
                && !name.ends_with("_total"),
            "{name} is not an OpenTelemetry name of the conventions or of ours: {names:?}"
        );
    }

    // The request layer, under the convention's name, unit, buckets and attributes, with the
    // exact count of every series.
    let operation = find(&export, "mcp.server.operation.duration");
    assert_eq!(operation.unit, "s");
    for point in histogram_points(operation) {
        assert_eq!(point.explicit_bounds, DEFAULT_DURATION_BUCKETS);
        assert!(
            ADVISORY_DURATION_BUCKETS
                .iter()
                .all(|b| point.explicit_bounds.contains(b)),
            "every advisory bound is a bound"
        );
        assert_eq!(point.bucket_counts.iter().sum::<u64>(), point.count);
    }
    let client_name = ("mcp_metrics.client.name", "_OTHER");
    let version = ("mcp.protocol.version", "2025-06-18");
    let tcp = ("network.transport", "tcp");
    let call = |tool: &str, rest: &[(&str, &str)]| {
        let mut pairs = vec![
            ("mcp.method.name", "tools/call"),
            ("gen_ai.operation.name", "execute_tool"),
            client_name,
            version,
            tcp,
        ];
        pairs.push(("gen_ai.tool.name", tool));
        // The example's tools have no annotations: destructive, by the MCP defaults.
        let risk = if tool == "_unknown" {
            "_unknown"
        } else {
            "destructive"
        };
        pairs.push(("mcp_metrics.tool.risk", risk));
        pairs.extend_from_slice(rest);
        map(&pairs)
    };
    let success = ("mcp_metrics.outcome", "success");
    // On the server side the conventions do not count -32602 (invalid params, an unknown tool)
    // as an error: the code stays in rpc.response.status_code, without error.type.
    let invalid_params = [
        ("mcp_metrics.outcome", "error"),
        ("rpc.response.status_code", "-32602"),
        ("mcp_metrics.fault", "client"),
    ];
    let expected = BTreeMap::from([
        (
            map(&[
                ("mcp.method.name", "initialize"),
                success,
                client_name,
                version,
                tcp,
            ]),
            1,
        ),
        (
            map(&[
                ("mcp.method.name", "notifications/initialized"),
                success,
                client_name,
                version,
                tcp,
            ]),
            1,
        ),
        (
            map(&[
                ("mcp.method.name", "tools/list"),
                success,
                client_name,
                version,
                tcp,
            ]),
            1,
        ),
        (call("add", &[success]), 2),
        (call("add", &invalid_params), 1),
        (
            call(
                "lookup",
                &[
                    ("mcp_metrics.outcome", "tool_error"),
                    ("error.type", "tool_error"),
                    ("mcp_metrics.fault", "client"),
                ],
            ),
            1,
        ),
        (call("_unknown", &invalid_params), 1),
    ]);
    assert_eq!(counts(operation), expected);

    let session = find(&export, "mcp.server.session.duration");
    assert_eq!(session.unit, "s");
    let ended = ("mcp_metrics.session.end_reason", "client_delete");
    assert_eq!(
        counts(session),
        BTreeMap::from([(map(&[client_name, ended]), 1)])
    );
    assert_eq!(
        histogram_points(session)[0].explicit_bounds,
        DEFAULT_DURATION_BUCKETS
    );
    assert_eq!(
        up_down_value(find(&export, "mcp_metrics.server.sessions_active")),
        0.0
    );

    // The tool layer, in our namespace, with the same attribute keys.
    let tool = find(&export, "mcp_metrics.tool.duration");
    assert_eq!(tool.unit, "s");
    let tool_counts = counts(tool);
    let destructive = ("mcp_metrics.tool.risk", "destructive");
    assert_eq!(
        tool_counts[&map(&[("gen_ai.tool.name", "add"), destructive, success])],
        2
    );
    assert_eq!(
        tool_counts[&map(&[
            ("gen_ai.tool.name", "add"),
            destructive,
            ("mcp_metrics.outcome", "error"),
            ("error.type", "-32602"),
            ("mcp_metrics.fault", "client"),
        ])],
        1
    );
    assert_eq!(tool_counts.values().sum::<u64>(), 4, "{tool_counts:?}");
    let in_flight = find(&export, "mcp_metrics.tool.calls_in_flight");
    let Some(metric::Data::Sum(g)) = &in_flight.data else {
        panic!("an up-down counter: a sum")
    };
    assert!(
        g.data_points
            .iter()
            .all(|p| p.value == Some(number_data_point::Value::AsDouble(0.0)))
    );
    let result_size = find(&export, "mcp_metrics.tool.result.size");
    assert_eq!(result_size.unit, "By");
    assert_eq!(find(&export, "mcp_metrics.registered_tools").unit, "{tool}");

    // One resource for both signals: the spans of this process carry the same instance id.
    let spans_resource = receiver
        .trace_requests()
        .into_iter()
        .find_map(|r| r.resource_spans.into_iter().next()?.resource)
        .expect("the server exported spans");
    assert_eq!(
        string_value(&spans_resource.attributes, "service.instance.id"),
        Some(instance_id(&export))
    );
    assert_eq!(
        string_value(&spans_resource.attributes, "service.name").as_deref(),
        Some("mcp-metrics-examples")
    );
}

#[test]
fn replicas_report_distinct_instances() {
    let receiver = Receiver::start();
    let mut a = otlp_example_server(&receiver, &[]);
    let mut b = otlp_example_server(&receiver, &[]);
    let mut pinned = otlp_example_server(
        &receiver,
        &[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.instance.id=replica-3,deployment.environment.name=stag%2Cing",
        )],
    );
    let instances = eventually(Duration::from_secs(20), || {
        let ids: std::collections::BTreeSet<String> =
            receiver.metric_exports().iter().map(instance_id).collect();
        (ids.len() == 3).then_some(ids)
    })
    .unwrap_or_else(|| panic!("three instances expected"));
    for server in [&mut a, &mut b, &mut pinned] {
        assert!(server.proc.terminate(Duration::from_secs(10)));
    }
    assert!(instances.contains("replica-3"), "{instances:?}");
    for id in instances.iter().filter(|id| *id != "replica-3") {
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }
    let exports = receiver.metric_exports();
    let of_pinned = exports
        .iter()
        .find(|e| instance_id(e) == "replica-3")
        .unwrap();
    let resource = attributes(&of_pinned.resource().attributes);
    assert_eq!(resource["deployment.environment.name"], "stag,ing");
    assert_eq!(resource["service.name"], "mcp-metrics-examples");
    // One service, three instances: a backend keeps three sets of cumulative series.
    for export in &exports {
        let service = string_value(&export.resource().attributes, "service.name");
        assert_eq!(service.as_deref(), Some("mcp-metrics-examples"));
    }
}

/// The arguments of a `tools/call`.
fn arguments(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().expect("an object").clone()
}

#[test]
fn client_metrics_leave_under_the_client_convention_names() {
    let receiver = Receiver::start();
    let mut server = ExampleServer::start("http-server", &[]);
    let endpoint = receiver.base_url();
    let exporter = ExporterBuilder::new()
        .env(&|name| match name {
            "MCP_METRICS_EXPORTER" => Some("otlp".into()),
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "OTEL_METRIC_EXPORT_INTERVAL" => Some("100".into()),
            "OTEL_SERVICE_NAME" => Some("rust-agent".into()),
            _ => None,
        })
        .expect("valid environment")
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    // One thread runs the client, rmcp's tasks and the export loop, so that the client's
    // measurements go to this exporter's registry without a global recorder.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = server.url("/mcp");
    let addr = server.addr;
    let export = with_local_recorder(&registry, || {
        runtime.block_on(async {
            let handle = exporter.start().expect("otlp task starts");
            let transport =
                InstrumentedTransport::new(StreamableHttpClientTransport::from_uri(url))
                    .over_http(addr.ip().to_string(), addr.port());
            let client = ().serve(transport).await.expect("initialize");
            client.list_all_tools().await.expect("tools/list");
            for _ in 0..2 {
                let add = CallToolRequestParams::new("add")
                    .with_arguments(arguments(json!({"a": 2, "b": 3})));
                let sum = client.call_tool(add).await.expect("add");
                assert_eq!(sum.content[0].as_text().unwrap().text, "5");
            }
            let overflow = CallToolRequestParams::new("add")
                .with_arguments(arguments(json!({"a": i64::MAX, "b": 1})));
            assert!(client.call_tool(overflow).await.is_err(), "-32602");
            let missing = CallToolRequestParams::new("lookup")
                .with_arguments(arguments(json!({"key": "missing"})));
            let missing = client.call_tool(missing).await.expect("a tool result");
            assert_eq!(missing.is_error, Some(true));
            client.cancel().await.expect("the client stops");
            let mut waited = Duration::ZERO;
            let export = loop {
                let ended = receiver.metric_exports().into_iter().rev().find(|e| {
                    e.metric("mcp.client.session.duration")
                        .is_some_and(|m| counts(m).values().sum::<u64>() == 1)
                });
                if let Some(export) = ended {
                    break export;
                }
                assert!(
                    waited < Duration::from_secs(20),
                    "no export with the session's end"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                waited += Duration::from_millis(50);
            };
            handle.shutdown().await;
            export
        })
    });
    assert!(server.proc.terminate(Duration::from_secs(10)));

    let resource = attributes(&export.resource().attributes);
    assert_eq!(resource["service.name"], "rust-agent");
    assert_eq!(resource["service.instance.id"].len(), 36, "{resource:?}");

    let operation = find(&export, "mcp.client.operation.duration");
    assert_eq!(operation.unit, "s");
    for point in histogram_points(operation) {
        assert_eq!(point.explicit_bounds, DEFAULT_DURATION_BUCKETS);
    }
    let call = |tool: &str, rest: &[(&str, &str)]| {
        let mut pairs = vec![
            ("mcp.method.name", "tools/call"),
            ("gen_ai.operation.name", "execute_tool"),
            ("gen_ai.tool.name", tool),
            VERSION,
            TCP,
        ];
        pairs.extend_from_slice(rest);
        map(&pairs)
    };
    // The negotiated version and the transport; `initialize` is sent before a version is agreed.
    const VERSION: (&str, &str) = ("mcp.protocol.version", "2025-11-25");
    const TCP: (&str, &str) = ("network.transport", "tcp");
    let success = ("mcp_metrics.outcome", "success");
    let expected = BTreeMap::from([
        (map(&[("mcp.method.name", "initialize"), success, TCP]), 1),
        (
            map(&[
                ("mcp.method.name", "notifications/initialized"),
                success,
                VERSION,
                TCP,
            ]),
            1,
        ),
        (
            map(&[("mcp.method.name", "tools/list"), success, VERSION, TCP]),
            1,
        ),
        (call("add", &[success]), 2),
        (
            call(
                "add",
                &[
                    ("mcp_metrics.outcome", "error"),
                    ("error.type", "-32602"),
                    ("rpc.response.status_code", "-32602"),
                ],
            ),
            1,
        ),
        (
            call(
                "lookup",
                &[
                    ("mcp_metrics.outcome", "tool_error"),
                    ("error.type", "tool_error"),
                ],
            ),
            1,
        ),
    ]);
    assert_eq!(counts(operation), expected);

    let session = find(&export, "mcp.client.session.duration");
    assert_eq!(session.unit, "s");
    assert_eq!(counts(session), BTreeMap::from([(BTreeMap::new(), 1)]));
}

/// Runs the example server with `env` and returns its exit status and standard error, for a
/// configuration it must refuse before it listens.
fn refused_start(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let out = std::process::Command::new(example_bin("http-server"))
        .env("MCP_BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the example server runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("listening"),
        "it must not listen: {stdout}"
    );
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_resource_attributes_and_propagators_are_configuration_errors() {
    let cases = [
        ("OTEL_RESOURCE_ATTRIBUTES", "team=a%2"),
        ("OTEL_RESOURCE_ATTRIBUTES", "region"),
        ("OTEL_PROPAGATORS", "tracecontext,b3"),
        ("OTEL_PROPAGATORS", "none,baggage"),
    ];
    for (variable, value) in cases {
        let (status, stderr) = refused_start(&[(variable, value)]);
        assert!(!status.success(), "{variable}={value} was accepted");
        assert!(
            stderr.contains(variable) && stderr.contains(value),
            "{variable}={value}: the error names the variable and its value: {stderr}"
        );
    }
}
