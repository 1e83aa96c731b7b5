//! OTLP/HTTP exporter against a small local receiver that decodes the protobuf body.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use mcp_metrics_exporter::{ExporterBuilder, build_info};
use metrics::{counter, gauge, histogram, with_local_recorder};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, metric, number_data_point,
};
use prost::Message as _;
use tokio::sync::mpsc;

type Received = (String, Bytes);

async fn receiver() -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<Received>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel::<Received>();
    let app = Router::new()
        .route(
            "/v1/metrics",
            post(
                |State(tx): State<mpsc::UnboundedSender<Received>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send((content_type, body));
                    ""
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, rx, stop)
}

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn find<'a>(metrics: &'a [Metric], name: &str) -> &'a Metric {
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_export_decodes_to_the_recorded_values() {
    let (addr, mut received, stop) = receiver().await;
    let exporter = ExporterBuilder::new()
        .env(&|name| match name {
            "MCP_METRICS_EXPORTER" => Some("otlp".into()),
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(format!("http://{addr}")),
            "OTEL_METRIC_EXPORT_INTERVAL" => Some("50".into()),
            "OTEL_SERVICE_NAME" => Some("otlp-test-service".into()),
            _ => None,
        })
        .expect("valid environment")
        .build_info(build_info!())
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    with_local_recorder(&registry, || {
        counter!("mcp_tool_calls_total", "tool" => "search", "outcome" => "success").increment(3);
        counter!("mcp_tool_calls_total", "tool" => "fetch", "outcome" => "error", "error_type" => "not_found")
            .increment(1);
        gauge!("mcp_tool_calls_in_flight", "tool" => "search").set(2.0);
        let h = histogram!("mcp_tool_duration_seconds", "tool" => "search", "outcome" => "success");
        for v in [0.0005, 0.003, 0.003, 0.7, 1000.0] {
            h.record(v);
        }
    });
    let handle = exporter.start().expect("otlp task starts");

    let (content_type, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("an export arrives in time")
        .expect("receiver is open");
    assert_eq!(content_type, "application/x-protobuf");
    let request =
        ExportMetricsServiceRequest::decode(body).expect("body is an ExportMetricsServiceRequest");

    let resource_metrics = &request.resource_metrics[0];
    let resource = resource_metrics.resource.as_ref().expect("resource");
    assert_eq!(
        string_attr(&resource.attributes, "service.name"),
        Some("otlp-test-service")
    );
    assert_eq!(
        string_attr(&resource.attributes, "service.version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let metrics = &resource_metrics.scope_metrics[0].metrics;

    let Some(metric::Data::Sum(calls)) = &find(metrics, "mcp_tool_calls_total").data else {
        panic!("calls is a Sum")
    };
    assert!(calls.is_monotonic);
    assert_eq!(
        calls.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(calls.data_points.len(), 2);
    let fetch = calls
        .data_points
        .iter()
        .find(|p| string_attr(&p.attributes, "tool") == Some("fetch"))
        .expect("fetch");
    assert_eq!(
        string_attr(&fetch.attributes, "error_type"),
        Some("not_found")
    );
    assert_eq!(fetch.value, Some(number_data_point::Value::AsInt(1)));
    let search = calls
        .data_points
        .iter()
        .find(|p| string_attr(&p.attributes, "tool") == Some("search"))
        .expect("search");
    assert_eq!(search.value, Some(number_data_point::Value::AsInt(3)));
    assert!(
        search.start_time_unix_nano > 0 && search.time_unix_nano >= search.start_time_unix_nano
    );

    let Some(metric::Data::Gauge(in_flight)) = &find(metrics, "mcp_tool_calls_in_flight").data
    else {
        panic!("gauge")
    };
    assert_eq!(
        in_flight.data_points[0].value,
        Some(number_data_point::Value::AsDouble(2.0))
    );

    let duration = find(metrics, "mcp_tool_duration_seconds");
    // Unit and HELP text come from the descriptions registered at build time.
    assert_eq!(duration.unit, "s");
    assert!(!duration.description.is_empty());
    let Some(metric::Data::Histogram(h)) = &duration.data else {
        panic!("histogram")
    };
    assert_eq!(
        h.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let point = &h.data_points[0];
    assert_eq!(
        point.explicit_bounds,
        mcp_metrics::names::DEFAULT_DURATION_BUCKETS
    );
    assert_eq!(point.count, 5);
    assert!((point.sum.expect("sum") - 1000.7065).abs() < 1e-9);
    // Per-bucket counts: (..0.001] 1, (0.001..0.005] 2, (0.5..1] 1, (300..+Inf) 1.
    let mut expected = vec![0u64; point.explicit_bounds.len() + 1];
    expected[0] = 1;
    expected[1] = 2;
    expected[8] = 1;
    expected[16] = 1;
    assert_eq!(point.bucket_counts, expected);

    let build = find(metrics, "mcp_build_info");
    let Some(metric::Data::Gauge(build)) = &build.data else {
        panic!("build info is a gauge")
    };
    assert_eq!(
        string_attr(&build.data_points[0].attributes, "service"),
        Some("mcp-metrics-tests")
    );

    handle.shutdown().await;
    let _ = stop.send(());
}
