//! OTLP metrics over HTTP/protobuf: a snapshot of the registry as an
//! `ExportMetricsServiceRequest` (cumulative temporality, explicit-bounds histograms), POSTed
//! to `/v1/metrics` every interval over HTTP or HTTPS, gzip-compressed if configured.
//!
//! Metrics leave under their OpenTelemetry names: the names, units and attribute keys of
//! [`mcp_metrics::catalog`] (the MCP semantic conventions where they define the metric, the
//! `mcp_metrics.` namespace otherwise), so that a backend aggregates them with the metrics of
//! other MCP SDKs. The Prometheus exposition keeps the names of [`mcp_metrics::names`].

use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use mcp_metrics::catalog::{self, Metric as CatalogMetric};
use metrics::Unit;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use crate::client::HttpClient;
use crate::config::metrics::OtlpSettings;
use crate::config::vars;
use crate::error::ConfigError;
use crate::registry::{Family, Kind, Labels, Registry, Value};
use crate::task::Sink;

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

/// The attributes of a data point: as the catalog maps our metrics' labels; metrics outside the
/// catalog keep their labels.
fn attributes(naming: Option<&CatalogMetric>, labels: &Labels) -> Vec<KeyValue> {
    let Some(naming) = naming else {
        return labels.iter().map(|(k, v)| string_kv(k, v)).collect();
    };
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    naming
        .otlp_attributes(&pairs)
        .into_iter()
        .map(|(k, v)| string_kv(k, v))
        .collect()
}

/// The UCUM unit OTLP expects for a `metrics` unit.
fn ucum(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "1",
        Unit::Percent => "%",
        Unit::Seconds => "s",
        Unit::Milliseconds => "ms",
        Unit::Microseconds => "us",
        Unit::Nanoseconds => "ns",
        Unit::Tebibytes => "TiBy",
        Unit::Gibibytes => "GiBy",
        Unit::Mebibytes => "MiBy",
        Unit::Kibibytes => "KiBy",
        Unit::Bytes => "By",
        Unit::TerabitsPerSecond => "Tbit/s",
        Unit::GigabitsPerSecond => "Gbit/s",
        Unit::MegabitsPerSecond => "Mbit/s",
        Unit::KilobitsPerSecond => "kbit/s",
        Unit::BitsPerSecond => "bit/s",
        Unit::CountPerSecond => "1/s",
    }
}

fn data(family: &Family, naming: Option<&CatalogMetric>, start: u64, now: u64) -> metric::Data {
    let number = |labels: &Labels, value| NumberDataPoint {
        attributes: attributes(naming, labels),
        start_time_unix_nano: start,
        time_unix_nano: now,
        value: Some(value),
        ..Default::default()
    };
    let cumulative = AggregationTemporality::Cumulative as i32;
    match family.kind {
        Kind::Counter => metric::Data::Sum(Sum {
            data_points: family
                .series
                .iter()
                .filter_map(|(labels, s)| match &s.value {
                    Value::Counter(c) => {
                        let v = i64::try_from(c.value()).unwrap_or(i64::MAX);
                        Some(number(labels, number_data_point::Value::AsInt(v)))
                    }
                    _ => None,
                })
                .collect(),
            aggregation_temporality: cumulative,
            is_monotonic: true,
        }),
        Kind::Gauge => metric::Data::Gauge(Gauge {
            data_points: family
                .series
                .iter()
                .filter_map(|(labels, s)| match &s.value {
                    Value::Gauge(g) => {
                        let v = g.value();
                        Some(number(labels, number_data_point::Value::AsDouble(v)))
                    }
                    _ => None,
                })
                .collect(),
        }),
        Kind::Histogram => metric::Data::Histogram(Histogram {
            data_points: family
                .series
                .iter()
                .filter_map(|(labels, s)| match &s.value {
                    Value::Histogram(h) => {
                        let bucket_counts: Vec<u64> = h.bucket_counts().collect();
                        Some(HistogramDataPoint {
                            attributes: attributes(naming, labels),
                            start_time_unix_nano: start,
                            time_unix_nano: now,
                            count: bucket_counts.iter().sum(),
                            sum: Some(h.sum()),
                            bucket_counts,
                            explicit_bounds: h.bounds().to_vec(),
                            ..Default::default()
                        })
                    }
                    _ => None,
                })
                .collect(),
            aggregation_temporality: cumulative,
        }),
    }
}

/// A snapshot of every series as one OTLP export request.
pub(crate) fn snapshot(
    registry: &Registry,
    resource: &[(String, String)],
) -> ExportMetricsServiceRequest {
    let start = unix_nanos(registry.start_time());
    let now = unix_nanos(SystemTime::now());
    let metrics = {
        let state = registry.read();
        state
            .families
            .values()
            .filter(|f| !f.series.is_empty())
            .map(|family| {
                let description = state.descriptions.get(&family.raw_name);
                let naming = catalog::find(&family.raw_name);
                let unit = match naming {
                    Some(n) => n.unit,
                    None => description
                        .and_then(|d| d.unit)
                        .map(ucum)
                        .unwrap_or_default(),
                };
                Metric {
                    name: catalog::otlp_name(&family.raw_name, family.kind == Kind::Counter)
                        .to_owned(),
                    description: description.map(|d| d.help.to_string()).unwrap_or_default(),
                    unit: unit.to_owned(),
                    data: Some(data(family, naming, start, now)),
                    ..Default::default()
                }
            })
            .collect()
    };
    let scope = InstrumentationScope {
        name: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource.iter().map(|(k, v)| string_kv(k, v)).collect(),
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The OTLP loop's destination: a collector's `/v1/metrics` endpoint.
#[derive(Debug)]
pub(crate) struct OtlpSink {
    endpoint: reqwest::Url,
    client: HttpClient,
    /// Resource attributes, `service.name` first.
    resource: Vec<(String, String)>,
}

impl OtlpSink {
    /// Checks the settings and builds the client.
    pub(crate) fn new(
        settings: &OtlpSettings,
        resource: Vec<(String, String)>,
    ) -> Result<Self, ConfigError> {
        let shown = &settings.endpoint;
        let endpoint = reqwest::Url::parse(shown)
            .map_err(|e| ConfigError::new(vars::OTLP_METRICS_ENDPOINT, shown, e.to_string()))?;
        let client = HttpClient::new(vars::OTLP_METRICS_ENDPOINT, &settings.outbound)?;
        Ok(Self {
            endpoint,
            client,
            resource,
        })
    }
}

impl Sink for OtlpSink {
    fn destination(&self) -> String {
        self.endpoint.to_string()
    }

    fn render(&self, registry: &Registry) -> Vec<u8> {
        self.client
            .encode(snapshot(registry, &self.resource).encode_to_vec())
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        self.client
            .send(
                Method::POST,
                &self.endpoint,
                Some("application/x-protobuf"),
                body,
            )
            .await
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_maps_kinds_to_otlp_data() {
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            metrics::describe_histogram!("lat_seconds", Unit::Seconds, "Latency.");
            metrics::counter!("calls_total", "tool" => "a").increment(7);
            metrics::gauge!("busy").set(2.5);
            metrics::histogram!("lat_seconds").record(0.003);
        });
        let request = snapshot(&registry, &[("service.name".into(), "svc".into())]);
        let decoded =
            ExportMetricsServiceRequest::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, request);
        let rm = &decoded.resource_metrics[0];
        assert_eq!(
            rm.resource.as_ref().unwrap().attributes[0].key,
            "service.name"
        );
        let metrics = &rm.scope_metrics[0].metrics;
        let names: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
        // Outside the table, names stay, but OTLP names do not end in `_total`.
        assert_eq!(names, ["busy", "calls", "lat_seconds"]);
        let Some(metric::Data::Sum(sum)) = &metrics[1].data else {
            panic!("counter must be a Sum")
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        assert_eq!(
            sum.data_points[0].value,
            Some(number_data_point::Value::AsInt(7))
        );
        assert_eq!(sum.data_points[0].attributes, vec![string_kv("tool", "a")]);
        let Some(metric::Data::Histogram(h)) = &metrics[2].data else {
            panic!("histogram expected")
        };
        assert_eq!(metrics[2].unit, "s");
        assert_eq!(metrics[2].description, "Latency.");
        let point = &h.data_points[0];
        assert_eq!(point.count, 1);
        assert_eq!(
            point.explicit_bounds,
            mcp_metrics::names::DEFAULT_DURATION_BUCKETS
        );
        assert_eq!(point.bucket_counts.len(), point.explicit_bounds.len() + 1);
        assert_eq!(point.bucket_counts[1], 1, "0.003 falls in (0.001, 0.005]");
    }

    fn keys(attributes: &[KeyValue]) -> Vec<(&str, &str)> {
        attributes
            .iter()
            .map(
                |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::StringValue(s)) => (kv.key.as_str(), s.as_str()),
                    other => panic!("not a string: {other:?}"),
                },
            )
            .collect()
    }

    #[test]
    fn our_metrics_leave_under_their_semantic_convention_names() {
        use mcp_metrics::names;
        let registry = Registry::default();
        crate::builder::describe_catalog(&registry);
        metrics::with_local_recorder(&registry, || {
            metrics::histogram!(
                names::SERVER_OPERATION_DURATION_SECONDS,
                "method" => "tools/call",
                "tool" => "search",
                "outcome" => "error",
                "error_type" => "-32602",
                "fault" => "client",
                "client_name" => "_OTHER"
            )
            .record(0.2);
            metrics::counter!(names::LLM_TOKENS_TOTAL, "model" => "m", "type" => "prompt")
                .increment(5);
            metrics::gauge!(names::TOOL_CALLS_IN_FLIGHT, "tool" => "search").set(1.0);
        });
        let request = snapshot(&registry, &[]);
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        let named = |name: &str| {
            metrics
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        let op = named("mcp.server.operation.duration");
        assert_eq!(op.unit, "s");
        let Some(metric::Data::Histogram(h)) = &op.data else {
            panic!("histogram expected")
        };
        assert_eq!(
            keys(&h.data_points[0].attributes),
            [
                ("mcp_metrics.client.name", "_OTHER"),
                ("mcp_metrics.fault", "client"),
                ("mcp.method.name", "tools/call"),
                ("mcp_metrics.outcome", "error"),
                ("gen_ai.tool.name", "search"),
                ("gen_ai.operation.name", "execute_tool"),
                ("rpc.response.status_code", "-32602"),
            ],
            "-32602 is the caller's: no error.type on the server side"
        );
        let tokens = named("mcp_metrics.llm.tokens");
        assert_eq!(tokens.unit, "{token}");
        let Some(metric::Data::Sum(sum)) = &tokens.data else {
            panic!("sum expected")
        };
        assert_eq!(
            keys(&sum.data_points[0].attributes),
            [
                ("gen_ai.request.model", "m"),
                ("mcp_metrics.llm.token.type", "prompt")
            ]
        );
        assert_eq!(named("mcp_metrics.tool.calls_in_flight").unit, "{call}");
        assert!(
            metrics.iter().all(|m| !m.name.contains("_seconds")),
            "no Prometheus name leaves over OTLP"
        );
    }
}
