//! OTLP metrics: a snapshot of the registry as an `ExportMetricsServiceRequest`, sent every
//! interval over HTTP/protobuf (POST to `/v1/metrics`, HTTP or HTTPS, gzip-compressed if
//! configured) or over gRPC (feature `otlp-grpc`, [`grpc`]). Sums and histograms are cumulative
//! or delta as `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` says, histograms explicit or
//! base-2 exponential as `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION` says, each
//! histogram point with the exemplars the store kept ([`points`]).
//!
//! Delta readings advance only when an export is delivered: an export that fails is not lost,
//! the next one covers its interval too (a collector that took an export but whose answer never
//! arrived then counts that interval twice, the price of losing nothing).
//!
//! Metrics leave under their OpenTelemetry names: the names, units and attribute keys of
//! [`mcp_metrics::catalog`] (the MCP semantic conventions where they define the metric, the
//! `mcp_metrics.` namespace otherwise), so that a backend aggregates them with the metrics of
//! other MCP SDKs. The Prometheus exposition keeps the names of [`mcp_metrics::names`].

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use mcp_metrics::catalog::{self, Metric as CatalogMetric};
use metrics::Unit;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use crate::client::HttpClient;
use crate::config::metrics::OtlpSettings;
use crate::config::otlp::{HistogramAggregation, OtlpProtocol, Temporality};
use crate::config::vars;
use crate::error::ConfigError;
use crate::registry::{Kind, Labels, Registry};
use crate::task::Sink;

#[cfg(feature = "otlp-grpc")]
mod grpc;
mod points;

use points::{Points, Readings};

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

/// What the last delivered export left for the next one.
#[derive(Debug, Default, Clone)]
struct Delivered {
    /// When it was taken (0: none yet).
    time: u64,
    readings: Readings,
}

/// How metrics are exported: the temporality and the histogram aggregation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shape {
    pub(crate) temporality: Temporality,
    pub(crate) aggregation: HistogramAggregation,
}

/// A snapshot of every series as one OTLP export request, with the readings it was made from.
fn snapshot(
    registry: &Registry,
    resource: &[(String, String)],
    shape: Shape,
    delivered: &Delivered,
) -> (ExportMetricsServiceRequest, Delivered) {
    let start = unix_nanos(registry.start_time());
    let now = unix_nanos(SystemTime::now());
    let mut points = Points {
        temporality: shape.temporality,
        aggregation: shape.aggregation,
        start,
        last: if delivered.time == 0 {
            start
        } else {
            delivered.time
        },
        now,
        previous: &delivered.readings,
        next: Readings::default(),
    };
    let metrics = {
        let state = registry.read();
        state
            .families
            .values()
            .filter(|f| !f.series.is_empty())
            .filter_map(|family| {
                let description = state.descriptions.get(&family.raw_name);
                let naming = catalog::find(&family.raw_name);
                let unit = match naming {
                    Some(n) => n.unit,
                    None => description
                        .and_then(|d| d.unit)
                        .map(ucum)
                        .unwrap_or_default(),
                };
                Some(Metric {
                    name: catalog::otlp_name(&family.raw_name, family.kind == Kind::Counter)
                        .to_owned(),
                    description: description.map(|d| d.help.to_string()).unwrap_or_default(),
                    unit: unit.to_owned(),
                    data: Some(points.data(family, naming)?),
                    ..Default::default()
                })
            })
            .collect()
    };
    let scope = InstrumentationScope {
        name: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    };
    let request = ExportMetricsServiceRequest {
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
    };
    let next = Delivered {
        time: now,
        readings: points.next,
    };
    (request, next)
}

/// How exports travel.
#[derive(Debug)]
enum Transport {
    Http {
        endpoint: reqwest::Url,
        client: HttpClient,
    },
    #[cfg(feature = "otlp-grpc")]
    Grpc(grpc::Grpc),
}

/// The OTLP loop's destination: a collector's `/v1/metrics` endpoint, or its gRPC service.
#[derive(Debug)]
pub(crate) struct OtlpSink {
    destination: String,
    transport: Transport,
    /// Resource attributes, `service.name` first.
    resource: Vec<(String, String)>,
    shape: Shape,
    /// The last delivered export, and the one rendered and not yet delivered.
    state: Mutex<(Delivered, Option<Delivered>)>,
}

impl OtlpSink {
    /// Checks the settings and builds the client.
    pub(crate) fn new(
        settings: &OtlpSettings,
        resource: Vec<(String, String)>,
    ) -> Result<Self, ConfigError> {
        let shown = settings.endpoint();
        let transport = match settings.protocol() {
            OtlpProtocol::HttpProtobuf => Transport::Http {
                endpoint: reqwest::Url::parse(&shown).map_err(|e| {
                    ConfigError::new(vars::OTLP_METRICS_ENDPOINT, &shown, e.to_string())
                })?,
                client: HttpClient::new(vars::OTLP_METRICS_ENDPOINT, &settings.outbound)?,
            },
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => Transport::Grpc(grpc::Grpc::new(&shown, &settings.outbound)?),
            // Refused by `MetricsSettings::validate` without the feature.
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => {
                return Err(ConfigError::new(
                    vars::OTLP_METRICS_PROTOCOL,
                    "grpc",
                    "this build has no gRPC transport: enable the `otlp-grpc` feature",
                ));
            }
        };
        Ok(Self {
            destination: shown,
            transport,
            resource,
            shape: Shape {
                temporality: settings.temporality,
                aggregation: settings.aggregation,
            },
            state: Mutex::default(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, (Delivered, Option<Delivered>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Sink for OtlpSink {
    fn destination(&self) -> String {
        self.destination.clone()
    }

    fn render(&self, registry: &Registry) -> Vec<u8> {
        let mut state = self.state();
        let (request, next) = snapshot(registry, &self.resource, self.shape, &state.0);
        if self.shape.temporality.delta() {
            state.1 = Some(next);
        }
        drop(state);
        let body = request.encode_to_vec();
        match &self.transport {
            Transport::Http { client, .. } => client.encode(body),
            // gRPC compresses per message.
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(_) => body,
        }
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        let sent = match &self.transport {
            Transport::Http { endpoint, client } => client
                .send(Method::POST, endpoint, Some("application/x-protobuf"), body)
                .await
                .map_err(|e| e.to_string()),
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(grpc) => grpc.send(&body).await,
        };
        let mut state = self.state();
        let rendered = state.1.take();
        if let (Ok(()), Some(delivered)) = (&sent, rendered) {
            state.0 = delivered;
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_metrics::store::{Exemplar, Histogram as AtomicHistogram};
    use opentelemetry_proto::tonic::metrics::v1::{
        AggregationTemporality, exemplar, metric, number_data_point,
    };
    use std::sync::Arc;

    /// One cumulative snapshot with explicit buckets, the default shape.
    fn cumulative(
        registry: &Registry,
        resource: &[(String, String)],
    ) -> ExportMetricsServiceRequest {
        snapshot(registry, resource, Shape::default(), &Delivered::default()).0
    }

    #[test]
    fn snapshot_maps_kinds_to_otlp_data() {
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            metrics::describe_histogram!("lat_seconds", Unit::Seconds, "Latency.");
            metrics::counter!("calls_total", "tool" => "a").increment(7);
            metrics::gauge!("busy").set(2.5);
            metrics::histogram!("lat_seconds").record(0.003);
        });
        let request = cumulative(&registry, &[("service.name".into(), "svc".into())]);
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
        let request = cumulative(&registry, &[]);
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
        let in_flight = named("mcp_metrics.tool.calls_in_flight");
        assert_eq!(in_flight.unit, "{call}");
        let Some(metric::Data::Sum(sum)) = &in_flight.data else {
            panic!("calls in flight are an up-down counter: a sum")
        };
        assert!(!sum.is_monotonic);
        assert!(
            metrics.iter().all(|m| !m.name.contains("_seconds")),
            "no Prometheus name leaves over OTLP"
        );
    }

    /// A registry with one counter, one up-down counter, one gauge and one histogram with an
    /// exemplar, keeping exponential buckets.
    fn recorded() -> (Registry, Arc<AtomicHistogram>) {
        let registry = Registry::new(crate::RegistryConfig::default().with_exponential());
        crate::builder::describe_catalog(&registry);
        metrics::with_local_recorder(&registry, || {
            metrics::counter!("calls_total").increment(3);
            metrics::gauge!(mcp_metrics::names::TOOL_CALLS_IN_FLIGHT, "tool" => "t").set(2.0);
            metrics::gauge!("temperature").set(21.5);
        });
        let h = mcp_metrics::store::Store::histogram(
            &registry,
            &metrics::Key::from_name("lat_seconds"),
        )
        .unwrap();
        h.record(0.25);
        h.record_with_exemplar(
            3.0,
            Exemplar {
                trace_id: 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10,
                span_id: 0x1112_1314_1516_1718,
            },
        );
        (registry, h)
    }

    fn shape(temporality: Temporality, aggregation: HistogramAggregation) -> Shape {
        Shape {
            temporality,
            aggregation,
        }
    }

    fn data<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a metric::Data> {
        request.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.data.as_ref())
    }

    fn sum_of(request: &ExportMetricsServiceRequest, name: &str) -> Option<(i32, bool, f64, u64)> {
        let Some(metric::Data::Sum(sum)) = data(request, name) else {
            return None;
        };
        let point = &sum.data_points[0];
        let value = match point.value {
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            Some(number_data_point::Value::AsDouble(v)) => v,
            None => f64::NAN,
        };
        Some((
            sum.aggregation_temporality,
            sum.is_monotonic,
            value,
            point.start_time_unix_nano,
        ))
    }

    const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
    const DELTA: i32 = AggregationTemporality::Delta as i32;

    #[test]
    fn each_preference_gives_each_kind_its_temporality() {
        let (registry, _) = recorded();
        let start = unix_nanos(registry.start_time());
        for (temporality, want) in [
            (Temporality::Cumulative, CUMULATIVE),
            (Temporality::Delta, DELTA),
            (Temporality::LowMemory, DELTA),
        ] {
            let shape = shape(temporality, HistogramAggregation::ExplicitBucket);
            let (request, _) = snapshot(&registry, &[], shape, &Delivered::default());
            let counter = sum_of(&request, "calls").unwrap();
            assert_eq!(
                (counter.0, counter.1, counter.2),
                (want, true, 3.0),
                "{temporality:?}"
            );
            let in_flight = sum_of(&request, "mcp_metrics.tool.calls_in_flight").unwrap();
            assert_eq!(
                (in_flight.0, in_flight.1, in_flight.2, in_flight.3),
                (CUMULATIVE, false, 2.0, start),
                "up-down counters stay cumulative under {temporality:?}"
            );
            let Some(metric::Data::Gauge(g)) = data(&request, "temperature") else {
                panic!("a gauge set to a value stays a gauge")
            };
            assert_eq!(g.data_points.len(), 1);
            let Some(metric::Data::Histogram(h)) = data(&request, "lat_seconds") else {
                panic!("explicit histogram")
            };
            assert_eq!(h.aggregation_temporality, want, "{temporality:?}");
        }
    }

    #[test]
    fn deltas_cover_the_time_since_the_last_delivered_export_and_skip_what_did_not_change() {
        let (registry, h) = recorded();
        let start = unix_nanos(registry.start_time());
        let delta = shape(Temporality::Delta, HistogramAggregation::ExplicitBucket);
        let (first, delivered) = snapshot(&registry, &[], delta, &Delivered::default());
        assert_eq!(
            sum_of(&first, "calls").unwrap().3,
            start,
            "the first delta starts at the start"
        );
        metrics::with_local_recorder(&registry, || metrics::counter!("calls_total").increment(4));
        let (second, _) = snapshot(&registry, &[], delta, &delivered);
        let (temporality, _, value, from) = sum_of(&second, "calls").unwrap();
        assert_eq!((temporality, value, from), (DELTA, 4.0, delivered.time));
        assert!(
            data(&second, "lat_seconds").is_none(),
            "a histogram without new values sends no point under delta"
        );
        assert!(sum_of(&second, "mcp_metrics.tool.calls_in_flight").is_some());
        assert!(
            data(&second, "temperature").is_some(),
            "gauges are always sent"
        );
        h.record(0.5);
        let (third, _) = snapshot(&registry, &[], delta, &delivered);
        let Some(metric::Data::Histogram(hist)) = data(&third, "lat_seconds") else {
            panic!("the histogram changed")
        };
        let point = &hist.data_points[0];
        assert_eq!((point.count, point.sum), (1, Some(0.5)));
        assert!(
            point.exemplars.is_empty(),
            "no exemplar since the last export"
        );
        // Cumulative: everything, every time, from the start.
        let cumulative = shape(
            Temporality::Cumulative,
            HistogramAggregation::ExplicitBucket,
        );
        let (all, _) = snapshot(&registry, &[], cumulative, &delivered);
        assert_eq!(sum_of(&all, "calls").unwrap().2, 7.0);
        assert_eq!(sum_of(&all, "calls").unwrap().3, start);
    }

    #[test]
    fn a_failed_delivery_is_covered_by_the_next_export() {
        let (registry, _) = recorded();
        let settings = OtlpSettings {
            temporality: Temporality::Delta,
            ..OtlpSettings::default()
        };
        let sink = OtlpSink::new(&settings, Vec::new()).unwrap();
        let decode = |body: Vec<u8>| ExportMetricsServiceRequest::decode(&body[..]).unwrap();
        let first = decode(sink.render(&registry));
        assert_eq!(sum_of(&first, "calls").unwrap().2, 3.0);
        // Not delivered: the readings stay where they were.
        sink.state().1.take();
        metrics::with_local_recorder(&registry, || metrics::counter!("calls_total").increment(1));
        let second = decode(sink.render(&registry));
        assert_eq!(
            sum_of(&second, "calls").unwrap().2,
            4.0,
            "3 undelivered + 1"
        );
        // Delivered: the next delta starts from it.
        let delivered = sink.state().1.take().unwrap();
        sink.state().0 = delivered;
        metrics::with_local_recorder(&registry, || metrics::counter!("calls_total").increment(2));
        let third = decode(sink.render(&registry));
        assert_eq!(sum_of(&third, "calls").unwrap().2, 2.0);
    }

    #[test]
    fn exponential_points_carry_the_buckets_sum_and_exemplars() {
        let (registry, h) = recorded();
        for temporality in [Temporality::Cumulative, Temporality::Delta] {
            let shape = shape(temporality, HistogramAggregation::Base2Exponential);
            let (request, _) = snapshot(&registry, &[], shape, &Delivered::default());
            let Some(metric::Data::ExponentialHistogram(e)) = data(&request, "lat_seconds") else {
                panic!("exponential histogram expected")
            };
            let point = &e.data_points[0];
            assert_eq!((point.count, point.sum, point.scale), (2, Some(3.25), 3));
            assert_eq!(point.zero_count, 0);
            let positive = point.positive.as_ref().unwrap();
            // 0.25 = 2^-2 closes bucket -17; 3.0 is in (2^(12/8), 2^(13/8)]: bucket 12.
            assert_eq!(positive.offset, -17);
            assert_eq!(positive.bucket_counts.len(), 30);
            assert_eq!(
                (positive.bucket_counts[0], positive.bucket_counts[29]),
                (1, 1)
            );
            let exemplar = &point.exemplars[0];
            assert_eq!(exemplar.trace_id, (1..=16).collect::<Vec<u8>>());
            assert_eq!(exemplar.span_id, (0x11..=0x18).collect::<Vec<u8>>());
            assert_eq!(exemplar.value, Some(exemplar::Value::AsDouble(3.0)));
            assert!(exemplar.time_unix_nano > 0);
        }
        assert_eq!(h.count(), 2);
        let explicit = cumulative(&registry, &[]);
        let Some(metric::Data::Histogram(hist)) = data(&explicit, "lat_seconds") else {
            panic!("explicit histogram")
        };
        let point = &hist.data_points[0];
        assert_eq!(
            point.exemplars.len(),
            1,
            "explicit points carry exemplars too"
        );
        let bucket = point
            .explicit_bounds
            .iter()
            .position(|b| *b >= 3.0)
            .unwrap();
        assert_eq!(point.bucket_counts[bucket], 1);
    }
}
