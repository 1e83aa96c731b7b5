//! OTLP metrics as each backend asks for them, end to end: the example server, driven by an MCP
//! client over streamable HTTP with its spans sampled, exports the same load with each
//! temporality preference (`cumulative`, `delta`, `lowmemory`), each histogram aggregation
//! (explicit, base-2 exponential) and each protocol (HTTP/protobuf, gRPC) to the shared test
//! receiver. What the receiver reconstructs (deltas summed over exports, cumulative points as
//! last sent, exponential buckets counted up to each power-of-two bound) equals the Prometheus
//! scrape of the same process; gRPC and HTTP deliver the same series and counts; and histogram
//! points carry exemplars with the trace and span ids of sampled request spans.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mcp_metrics::catalog::{self, Metric as CatalogMetric};
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, eventually, get, split_labels};
use mcp_metrics_tests::otlp::{MetricsExport, Receiver, hex, string_value};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, metric, number_data_point,
};
use serde_json::json;

/// A series: its Prometheus sample name and labels (`le` as a parsed number, printed again).
type Key = (String, BTreeMap<String, String>);
/// Every sample of a process.
type Samples = BTreeMap<Key, f64>;

/// One export configuration.
struct Setup {
    protocol: &'static str,
    temporality: &'static str,
    aggregation: &'static str,
}

impl Setup {
    fn exponential(&self) -> bool {
        self.aggregation == "base2_exponential_bucket_histogram"
    }

    fn grpc(&self) -> bool {
        self.protocol == "grpc"
    }

    /// Whether counters and histograms leave as deltas (`delta` and `lowmemory`).
    fn delta(&self) -> bool {
        self.temporality != "cumulative"
    }
}

/// What a run leaves to check.
struct Run {
    /// The exports up to the one that made the reconstruction equal the scrape.
    exports: Vec<MetricsExport>,
    /// Two exports that came after it, with no new load.
    later: Vec<MetricsExport>,
    reconstructed: Samples,
    /// `trace id, span id` of every span the server exported.
    spans: BTreeSet<(String, String)>,
}

/// Starts the example server with `setup`, drives the same load through it, and waits until
/// what the receiver reconstructs equals the scrape of `/metrics`.
fn run(setup: &Setup) -> Run {
    let receiver = Receiver::start();
    let base = receiver.base_url();
    let metrics_endpoint = if setup.grpc() {
        base.clone()
    } else {
        receiver.metrics_url()
    };
    let traces_url = receiver.traces_url();
    let env = [
        ("MCP_METRICS_EXPORTER", "otlp"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            metrics_endpoint.as_str(),
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", setup.protocol),
        ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            setup.temporality,
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            setup.aggregation,
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_url.as_str()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        // Spans are kept at `info`: the filter of the text log decides for both.
        ("RUST_LOG", "info,rmcp=warn"),
    ];
    let server = ExampleServer::start("http-server", &env);
    load(&server);

    let mut last = (Samples::new(), Samples::new());
    let converged = eventually(Duration::from_secs(30), || {
        let (status, text) = get(&server.url("/metrics"), &[]);
        assert_eq!(status, 200);
        let scraped = comparable(scrape(&text), setup);
        let exports = receiver.metric_exports();
        let reconstructed = comparable(reconstruct(&exports), setup);
        if same(&scraped, &reconstructed) && !scraped.is_empty() {
            return Some((exports, reconstructed));
        }
        last = (scraped, reconstructed);
        None
    });
    let Some((exports, reconstructed)) = converged else {
        panic!(
            "what the receiver reconstructs never equalled the scrape:\n{}",
            differences(&last.0, &last.1)
        )
    };
    let later = eventually(Duration::from_secs(10), || {
        let all = receiver.metric_exports();
        (all.len() >= exports.len() + 2).then(|| all[exports.len()..].to_vec())
    })
    .expect("exports go on");
    let spans = receiver
        .spans()
        .iter()
        .map(|s| (hex(&s.trace_id), hex(&s.span_id)))
        .collect();
    Run {
        exports,
        later,
        reconstructed,
        spans,
    }
}

/// A session with successes, a tool error, a caller's error, a call over half a second, then
/// a second session; both closed.
fn load(server: &ExampleServer) {
    let mut client = McpHttp::connect(&server.url("/mcp"));
    let tools = client.request("tools/list", json!({}));
    assert!(tools["result"]["tools"].is_array(), "{tools}");
    for a in 0..3 {
        let sum = client.call_tool("add", json!({"a": a, "b": 1}));
        assert!(sum.get("result").is_some(), "{sum}");
    }
    let missing = client.call_tool("lookup", json!({"key": "missing"}));
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    let unknown = client.call_tool("no_such_tool", json!({}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let slow = client.call_tool("slow", json!({"millis": 600}));
    assert!(slow.get("result").is_some(), "{slow}");
    assert_eq!(client.close(), 202);
    let mut second = McpHttp::connect(&server.url("/mcp"));
    second.call_tool("add", json!({"a": 40, "b": 2}));
    assert_eq!(second.close(), 202);
}

/// Parses a text exposition into samples.
fn scrape(text: &str) -> Samples {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, split_labels(rest.trim_end_matches('}'))),
                None => (series, Vec::new()),
            };
            let labels = labels
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == "le" {
                        le(v.parse().expect("a bound"))
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect();
            let value = value.parse().expect("a number");
            ((name.to_owned(), labels), value)
        })
        .collect()
}

fn le(bound: f64) -> String {
    if bound.is_infinite() {
        "+Inf".to_owned()
    } else {
        bound.to_string()
    }
}

/// The samples both sides can be compared on: zero values dropped (a delta series that never
/// changed sends nothing) and, for exponential histograms, only the bucket bounds that are
/// powers of two (where exponential buckets have a boundary).
fn comparable(samples: Samples, setup: &Setup) -> Samples {
    samples
        .into_iter()
        .filter(|((name, labels), value)| {
            let power_of_two = labels
                .get("le")
                .is_none_or(|b| b == "+Inf" || b.parse::<f64>().unwrap().log2().fract() == 0.0);
            *value != 0.0 && (!setup.exponential() || !name.ends_with("_bucket") || power_of_two)
        })
        .collect()
}

/// The samples the exports add up to: delta points summed over every export, cumulative ones
/// and gauges as last sent.
fn reconstruct(exports: &[MetricsExport]) -> Samples {
    let mut samples = Samples::new();
    for export in exports {
        for metric in export.metrics() {
            let naming = catalog::METRICS.iter().find(|m| m.otlp == metric.name);
            let (delta, points) = points(metric, naming);
            for (key, value) in points {
                if delta {
                    *samples.entry(key).or_default() += value;
                } else {
                    samples.insert(key, value);
                }
            }
        }
    }
    samples
}

fn is_delta(temporality: i32) -> bool {
    temporality == AggregationTemporality::Delta as i32
}

/// The samples of one metric's points, and whether they are deltas.
fn points(metric: &Metric, naming: Option<&CatalogMetric>) -> (bool, Vec<(Key, f64)>) {
    let name = naming.map_or(metric.name.as_str(), |m| m.name);
    let number = |p: &NumberDataPoint| {
        let value = match p.value {
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            Some(number_data_point::Value::AsDouble(v)) => v,
            None => panic!("a point without a value"),
        };
        ((name.to_owned(), labels(&p.attributes, naming)), value)
    };
    match metric.data.as_ref().expect("data") {
        metric::Data::Sum(s) => (
            is_delta(s.aggregation_temporality),
            s.data_points.iter().map(number).collect(),
        ),
        metric::Data::Gauge(g) => (false, g.data_points.iter().map(number).collect()),
        metric::Data::Histogram(h) => (
            is_delta(h.aggregation_temporality),
            h.data_points
                .iter()
                .flat_map(|p| explicit(name, p, naming))
                .collect(),
        ),
        metric::Data::ExponentialHistogram(h) => (
            is_delta(h.aggregation_temporality),
            h.data_points
                .iter()
                .flat_map(|p| exponential(name, p, naming))
                .collect(),
        ),
        metric::Data::Summary(_) => panic!("no summaries are sent"),
    }
}

/// `_count`, `_sum` and one `_bucket` per `le`, counted up to it.
fn histogram(
    name: &str,
    labels: BTreeMap<String, String>,
    count: u64,
    sum: f64,
    le: impl Iterator<Item = (f64, u64)>,
) -> Vec<(Key, f64)> {
    let mut out = vec![
        ((format!("{name}_count"), labels.clone()), count as f64),
        ((format!("{name}_sum"), labels.clone()), sum),
    ];
    for (bound, below) in le {
        let mut with_le = labels.clone();
        with_le.insert("le".into(), self::le(bound));
        out.push(((format!("{name}_bucket"), with_le), below as f64));
    }
    out
}

fn explicit(name: &str, p: &HistogramDataPoint, naming: Option<&CatalogMetric>) -> Vec<(Key, f64)> {
    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
    assert_eq!(p.count, p.bucket_counts.iter().sum::<u64>());
    let bounds = p.explicit_bounds.iter().copied().chain([f64::INFINITY]);
    let below = p.bucket_counts.iter().scan(0, |total, c| {
        *total += c;
        Some(*total)
    });
    let le = bounds.zip(below);
    histogram(
        name,
        labels(&p.attributes, naming),
        p.count,
        p.sum.unwrap(),
        le,
    )
}

fn exponential(
    name: &str,
    p: &ExponentialHistogramDataPoint,
    naming: Option<&CatalogMetric>,
) -> Vec<(Key, f64)> {
    let positive = p.positive.clone().unwrap_or_default();
    let negative = p.negative.clone().unwrap_or_default();
    assert!(negative.bucket_counts.is_empty(), "no negative values");
    assert_eq!(
        p.count,
        p.zero_count + positive.bucket_counts.iter().sum::<u64>()
    );
    assert!((1..=3).contains(&p.scale), "scale {}", p.scale);
    assert!(positive.bucket_counts.len() <= 160);
    // 2^k closes bucket k * 2^scale - 1.
    let below = |bound: f64| {
        let last = (bound.log2() as i32) * (1 << p.scale) - 1;
        let counted = positive
            .bucket_counts
            .iter()
            .enumerate()
            .filter(|(i, _)| positive.offset + *i as i32 <= last)
            .map(|(_, c)| c)
            .sum::<u64>();
        p.zero_count + counted
    };
    let bounds = naming
        .and_then(|m| m.buckets)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|b| b.log2().fract() == 0.0);
    let le = bounds
        .map(|b| (b, below(b)))
        .chain([(f64::INFINITY, p.count)]);
    histogram(
        name,
        labels(&p.attributes, naming),
        p.count,
        p.sum.unwrap(),
        le,
    )
}

/// The Prometheus labels of OTLP attributes: each key back to the label the catalog maps to
/// it; `rpc.response.status_code` is the `error_type` of a JSON-RPC error, and the derived
/// `gen_ai.operation.name` has no label.
fn labels(attributes: &[KeyValue], naming: Option<&CatalogMetric>) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter(|kv| kv.key != "gen_ai.operation.name")
        .map(|kv| {
            let value = string_value(attributes, &kv.key).expect("a string attribute");
            let label = match naming {
                _ if kv.key == "rpc.response.status_code" => "error_type",
                Some(m) => m
                    .labels
                    .iter()
                    .find(|l| m.attribute(l) == kv.key)
                    .copied()
                    .unwrap_or(&kv.key),
                None => &kv.key,
            };
            (label.to_owned(), value)
        })
        .collect()
}

/// Each sample that differs, for a failure message.
fn differences(scraped: &Samples, reconstructed: &Samples) -> String {
    let keys: BTreeSet<&Key> = scraped.keys().chain(reconstructed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (scraped.get(k), reconstructed.get(k));
            (!close(a, b)).then(|| format!("{k:?}: scraped {a:?}, reconstructed {b:?}\n"))
        })
        .collect()
}

fn close(a: Option<&f64>, b: Option<&f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        _ => false,
    }
}

/// Samples are equal when their keys are and their values are within float rounding (a sum
/// of deltas adds up the sum in another order).
fn same(a: &Samples, b: &Samples) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| close(Some(v), b.get(k)))
}

/// The exemplars of every histogram point of every export.
fn exemplars(exports: &[MetricsExport]) -> Vec<Exemplar> {
    exports
        .iter()
        .flat_map(MetricsExport::metrics)
        .flat_map(|m| match m.data.clone() {
            Some(metric::Data::Histogram(h)) => h
                .data_points
                .into_iter()
                .flat_map(|p| p.exemplars)
                .collect(),
            Some(metric::Data::ExponentialHistogram(h)) => h
                .data_points
                .into_iter()
                .flat_map(|p| p.exemplars)
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Each sum and histogram has the temporality and aggregation `setup` asks for; returns the
/// number of counter and histogram points.
fn shapes(exports: &[MetricsExport], setup: &Setup) -> usize {
    let mut changing = 0;
    for metric in exports.iter().flat_map(MetricsExport::metrics) {
        let (temporality, points) = match metric.data.as_ref().expect("data") {
            metric::Data::Sum(s) if !s.is_monotonic => {
                let cumulative = AggregationTemporality::Cumulative as i32;
                assert_eq!(s.aggregation_temporality, cumulative, "{}", metric.name);
                continue;
            }
            metric::Data::Sum(s) => (s.aggregation_temporality, s.data_points.len()),
            metric::Data::Histogram(h) => {
                assert!(!setup.exponential(), "{} is explicit", metric.name);
                (h.aggregation_temporality, h.data_points.len())
            }
            metric::Data::ExponentialHistogram(h) => {
                assert!(setup.exponential(), "{} is exponential", metric.name);
                (h.aggregation_temporality, h.data_points.len())
            }
            _ => continue,
        };
        assert_eq!(is_delta(temporality), setup.delta(), "{}", metric.name);
        changing += points;
    }
    changing
}

/// Every check of one configuration; returns the run for comparisons across configurations.
fn check(setup: &Setup) -> Run {
    let run = run(setup);
    assert!(shapes(&run.exports, setup) > 0);
    let later = shapes(&run.later, setup);
    if setup.delta() {
        assert_eq!(
            later, 0,
            "a counter or histogram that did not change sends nothing"
        );
    } else {
        assert!(later > 0, "cumulative points are sent every time");
    }
    let in_flight = run
        .later
        .iter()
        .filter_map(|e| e.metric("mcp_metrics.tool.calls_in_flight"))
        .count();
    // Once per export: the exports that arrived after convergence are at least two, more when
    // the machine was slow to look.
    assert!(run.later.len() >= 2);
    assert_eq!(
        in_flight,
        run.later.len(),
        "up-down counters are sent every time"
    );
    let content_type = if setup.grpc() {
        "application/grpc"
    } else {
        "application/x-protobuf"
    };
    assert!(run.exports.iter().all(|e| e.content_type == content_type));
    let tool_calls = run
        .reconstructed
        .iter()
        .filter(|((name, _), _)| name == "mcp_tool_duration_seconds_count")
        .map(|(_, v)| v)
        .sum::<f64>();
    assert_eq!(tool_calls, 6.0, "six calls reach a tool function");
    let sent = exemplars(&run.exports);
    assert!(!sent.is_empty(), "histogram points carry exemplars");
    for e in &sent {
        let ids = (hex(&e.trace_id), hex(&e.span_id));
        assert!(
            run.spans.contains(&ids),
            "exemplar {ids:?} names a span the server exported"
        );
        assert!(e.time_unix_nano > 0 && e.value.is_some());
    }
    run
}

/// The series and counts of a run, without what depends on how long calls took.
fn counts(run: &Run) -> Samples {
    run.reconstructed
        .iter()
        .filter(|((name, _), _)| !name.ends_with("_sum") && !name.ends_with("_bucket"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

const EXPLICIT: &str = "explicit_bucket_histogram";
const EXPONENTIAL: &str = "base2_exponential_bucket_histogram";

#[test]
fn cumulative_explicit_over_http_and_grpc_deliver_the_same_data() {
    let http = check(&Setup {
        protocol: "http/protobuf",
        temporality: "cumulative",
        aggregation: EXPLICIT,
    });
    let grpc = check(&Setup {
        protocol: "grpc",
        temporality: "cumulative",
        aggregation: EXPLICIT,
    });
    assert!(
        same(&counts(&http), &counts(&grpc)),
        "{}",
        differences(&counts(&http), &counts(&grpc))
    );
}

#[test]
fn delta_exponential_over_http_adds_up_to_the_scrape() {
    check(&Setup {
        protocol: "http/protobuf",
        temporality: "delta",
        aggregation: EXPONENTIAL,
    });
}

#[test]
fn delta_explicit_over_http_adds_up_to_the_scrape() {
    check(&Setup {
        protocol: "http/protobuf",
        temporality: "delta",
        aggregation: EXPLICIT,
    });
}

#[test]
fn lowmemory_explicit_over_grpc_adds_up_to_the_scrape() {
    check(&Setup {
        protocol: "grpc",
        temporality: "lowmemory",
        aggregation: EXPLICIT,
    });
}

#[test]
fn cumulative_exponential_over_grpc_equals_the_scrape() {
    check(&Setup {
        protocol: "grpc",
        temporality: "cumulative",
        aggregation: EXPONENTIAL,
    });
}
