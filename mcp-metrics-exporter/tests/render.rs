//! Behaviour of the registry as seen through its rendered output, through the public API.

use metrics::{
    Unit, counter, describe_counter, describe_histogram, gauge, histogram, with_local_recorder,
};

use mcp_metrics_exporter::{Format, MetricMatcher, Registry, RegistryConfig};

fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

fn dropped(text: &str, metric: &str, reason: &str) -> Option<u64> {
    let prefix =
        format!("mcp_metrics_dropped_series_total{{metric=\"{metric}\",reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|v| v.parse().unwrap())
}

#[test]
fn families_and_series_are_sorted() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("zeta_total", "tool" => "b").increment(1);
        gauge!("alpha").set(1.0);
        counter!("zeta_total", "tool" => "a").increment(2);
        counter!("middle_total", "outcome" => "x", "tool" => "b").increment(1);
        counter!("middle_total", "tool" => "a", "outcome" => "y").increment(1);
    });
    let text = registry.render_prometheus();
    let samples: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        samples,
        [
            "alpha 1",
            "middle_total{outcome=\"x\",tool=\"b\"} 1",
            "middle_total{outcome=\"y\",tool=\"a\"} 1",
            "zeta_total{tool=\"a\"} 2",
            "zeta_total{tool=\"b\"} 1",
        ]
    );
}

#[test]
fn hostile_label_values_are_escaped() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("calls_total", "tool" => "say \"hi\"\\n\nnew line, ünïcødé → 🙂").increment(1);
    });
    let text = registry.render_prometheus();
    let expected = "calls_total{tool=\"say \\\"hi\\\"\\\\n\\nnew line, ünïcødé → 🙂\"} 1";
    assert!(text.lines().any(|l| l == expected), "{text}");
    assert_eq!(
        text.lines().count(),
        3,
        "a newline in a value must not break the line: {text}"
    );
}

#[test]
fn help_and_type_appear_once_per_family() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        describe_counter!("requests", "Requests \\ served\nper tool.");
        for tool in ["a", "b", "c"] {
            counter!("requests", "tool" => tool).increment(1);
            histogram!("latency_seconds", "tool" => tool).record(0.1);
        }
    });
    let text = registry.render_prometheus();
    assert_eq!(
        lines_starting(&text, "# HELP requests_total"),
        ["# HELP requests_total Requests \\\\ served\\nper tool."]
    );
    assert_eq!(
        lines_starting(&text, "# TYPE requests_total"),
        ["# TYPE requests_total counter"]
    );
    assert_eq!(lines_starting(&text, "# HELP latency_seconds").len(), 1);
    assert_eq!(
        lines_starting(&text, "# TYPE latency_seconds"),
        ["# TYPE latency_seconds histogram"]
    );
    assert_eq!(lines_starting(&text, "# HELP").len(), 2);
    assert!(
        text.contains(
            "# HELP latency_seconds Metric latency_seconds (no description registered).\n"
        ),
        "{text}"
    );
}

#[test]
fn total_is_added_to_counters_only_when_missing() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("calls_total").increment(1);
        counter!("bare").increment(2);
        gauge!("gauge_total").set(3.0);
    });
    let text = registry.render_prometheus();
    assert!(text.contains("\ncalls_total 1\n"), "{text}");
    assert!(!text.contains("_total_total"), "{text}");
    assert!(
        text.contains("# TYPE bare_total counter\nbare_total 2\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE gauge_total gauge\ngauge_total 3\n"),
        "gauges keep their name: {text}"
    );
}

#[test]
fn names_colliding_after_sanitising_are_refused_not_merged() {
    let registry = Registry::default();
    let (first, second) = with_local_recorder(&registry, || {
        (
            counter!("mcp.calls", "tool" => "a"),
            counter!("mcp-calls", "tool" => "a"),
        )
    });
    first.increment(1);
    second.increment(100);
    let text = registry.render_prometheus();
    assert!(
        text.contains("\nmcp_calls_total{tool=\"a\"} 1\n"),
        "second name must not merge: {text}"
    );
    assert_eq!(
        dropped(&text, "mcp-calls", "name_collision"),
        Some(1),
        "{text}"
    );
    assert_eq!(lines_starting(&text, "# TYPE mcp_calls_total").len(), 1);
}

#[test]
fn one_name_with_two_kinds_is_refused() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("jobs").increment(5);
        gauge!("jobs").set(9.0);
        gauge!("jobs").set(10.0);
        // A gauge whose name is a histogram's `_count` sample would also clash.
        histogram!("work_seconds").record(1.0);
        gauge!("work_seconds_count").set(1.0);
    });
    let text = registry.render_prometheus();
    assert!(text.contains("\njobs_total 5\n"), "{text}");
    assert!(
        !text.contains("jobs 9") && !text.contains("jobs 10"),
        "{text}"
    );
    assert_eq!(
        dropped(&text, "jobs", "kind_conflict"),
        Some(2),
        "each refused registration counts: {text}"
    );
    assert_eq!(
        dropped(&text, "work_seconds_count", "name_collision"),
        Some(1),
        "{text}"
    );
    assert!(!text.contains("# TYPE work_seconds_count gauge"), "{text}");
}

#[test]
fn series_past_the_limit_are_dropped_and_counted() {
    let config = RegistryConfig::new()
        .series_limit(3)
        .series_limit_for(MetricMatcher::Exact("wide_total".into()), 5);
    let registry = Registry::new(config);
    with_local_recorder(&registry, || {
        for i in 0..10 {
            counter!("narrow_total", "i" => i.to_string()).increment(1);
            counter!("wide_total", "i" => i.to_string()).increment(1);
        }
        // An existing series is still handed out past the limit.
        counter!("narrow_total", "i" => "0").increment(1);
    });
    let text = registry.render_prometheus();
    assert_eq!(lines_starting(&text, "narrow_total{").len(), 3, "{text}");
    assert_eq!(lines_starting(&text, "wide_total{").len(), 5, "{text}");
    assert!(text.contains("narrow_total{i=\"0\"} 2"), "{text}");
    assert_eq!(
        dropped(&text, "narrow_total", "series_limit"),
        Some(7),
        "{text}"
    );
    assert_eq!(
        dropped(&text, "wide_total", "series_limit"),
        Some(5),
        "{text}"
    );
    assert!(
        text.contains("# TYPE mcp_metrics_dropped_series_total counter"),
        "{text}"
    );
    assert_eq!(registry.series_count(), 3 + 5 + 2);
}

#[test]
fn invalid_label_sets_are_refused() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("a_total", "error.type" => "x", "error_type" => "y").increment(1);
        histogram!("h_seconds", "le" => "1").record(1.0);
        gauge!("g", "__name__" => "x").set(1.0);
    });
    let text = registry.render_prometheus();
    assert_eq!(
        dropped(&text, "a_total", "invalid_labels"),
        Some(1),
        "{text}"
    );
    assert_eq!(
        dropped(&text, "h_seconds", "invalid_labels"),
        Some(1),
        "{text}"
    );
    assert_eq!(dropped(&text, "g", "invalid_labels"), Some(1), "{text}");
    assert_eq!(
        registry.series_count(),
        3,
        "only the dropped counter's series: {text}"
    );
}

#[test]
fn histograms_render_cumulative_buckets_sum_and_count() {
    let config = RegistryConfig::new()
        .buckets_for(MetricMatcher::Suffix("_bytes".into()), &[10.0, 100.0])
        .unwrap();
    let registry = Registry::new(config);
    with_local_recorder(&registry, || {
        let h = histogram!("body_bytes", "route" => "x");
        for v in [5.0, 10.0, 50.0, 500.0, 1000.0] {
            h.record(v);
        }
        histogram!("lat_seconds").record(0.3);
    });
    let text = registry.render_prometheus();
    let expected = "body_bytes_bucket{route=\"x\",le=\"10\"} 2\n\
                    body_bytes_bucket{route=\"x\",le=\"100\"} 3\n\
                    body_bytes_bucket{route=\"x\",le=\"+Inf\"} 5\n\
                    body_bytes_sum{route=\"x\"} 1565\n\
                    body_bytes_count{route=\"x\"} 5\n";
    assert!(text.contains(expected), "{text}");
    assert!(
        text.contains("lat_seconds_bucket{le=\"0.2\"} 0\nlat_seconds_bucket{le=\"0.5\"} 1\n"),
        "{text}"
    );
    assert_eq!(
        lines_starting(&text, "lat_seconds_bucket").len(),
        mcp_metrics::names::DEFAULT_DURATION_BUCKETS.len() + 1
    );
}

#[test]
fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        describe_histogram!("lat_seconds", Unit::Seconds, "Say \"when\".");
        counter!("calls_total").increment(1);
        histogram!("lat_seconds").record(1.0);
    });
    let text = registry.render_openmetrics();
    assert!(
        text.contains("# TYPE calls counter\ncalls_total 1\n"),
        "{text}"
    );
    assert!(text.contains("# HELP lat_seconds Say \\\"when\\\".\n# TYPE lat_seconds histogram\n# UNIT lat_seconds seconds\n"), "{text}");
    assert!(
        text.contains("lat_seconds_bucket{le=\"1.0\"} 1\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1);
}

/// The series of a rendered text without their values: name and labels of each sample line,
/// and the comment lines as they are.
fn series_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| {
            if l.starts_with('#') {
                l
            } else {
                l.rsplit_once(' ').map_or(l, |(series, _)| series)
            }
        })
        .collect()
}

#[test]
fn a_histogram_renders_the_same_lines_after_one_value_or_100_000() {
    let render_after = |values: u32| {
        let registry = Registry::default();
        let h = with_local_recorder(&registry, || histogram!("lat_seconds"));
        for _ in 0..values {
            h.record(0.05);
        }
        registry.render_prometheus()
    };
    let (one, many) = (render_after(1), render_after(100_000));
    assert!(many.contains("lat_seconds_count 100000\n"), "{many}");
    // HELP and TYPE, one line per bucket and `+Inf`, then `_sum` and `_count`.
    assert_eq!(
        many.lines().count(),
        2 + mcp_metrics::names::DEFAULT_DURATION_BUCKETS.len() + 1 + 2,
        "{many}"
    );
    assert_eq!(series_lines(&one), series_lines(&many));
}

#[test]
fn handles_record_from_many_threads() {
    let registry = Registry::default();
    let (c, g, h) = with_local_recorder(&registry, || {
        (counter!("n_total"), gauge!("g"), histogram!("h_seconds"))
    });
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    c.increment(1);
                    g.increment(1.0);
                    h.record(0.5);
                }
            });
        }
    });
    let text = registry.render_prometheus();
    assert!(text.contains("\nn_total 40000\n"), "{text}");
    assert!(text.contains("\ng 40000\n"), "{text}");
    assert!(
        text.contains(
            "\nh_seconds_sum 20000\n\nh_seconds_count 40000\n"
                .replace("\n\n", "\n")
                .as_str()
        ),
        "{text}"
    );
}

#[test]
fn registering_again_returns_the_same_series() {
    let registry = Registry::default();
    with_local_recorder(&registry, || {
        counter!("x_total", "a" => "1", "b" => "2").increment(1);
        counter!("x_total", "b" => "2", "a" => "1").increment(1);
        counter!("x_total", "a" => "1", "b" => "2").increment(1);
    });
    assert!(
        registry
            .render_prometheus()
            .contains("x_total{a=\"1\",b=\"2\"} 3")
    );
    assert_eq!(registry.series_count(), 1);
}

#[test]
fn the_first_refusal_of_a_metric_is_logged_once() {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let registry = Registry::default();
    tracing::subscriber::with_default(subscriber, || {
        with_local_recorder(&registry, || {
            counter!("jobs").increment(1);
            for _ in 0..3 {
                gauge!("jobs").set(1.0);
            }
        });
    });
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains("WARN") && log.contains("metric=\"jobs\"") && log.contains("kind_conflict"),
        "{log}"
    );
    assert_eq!(
        dropped(&registry.render_prometheus(), "jobs", "kind_conflict"),
        Some(3)
    );
}

#[test]
fn accept_headers_pick_the_format() {
    let cases = [
        (None, Format::Prometheus),
        (Some("text/plain"), Format::Prometheus),
        (Some("*/*"), Format::Prometheus),
        // What Prometheus 2.x sends by default.
        (
            Some(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            ),
            Format::OpenMetrics,
        ),
        (Some("application/openmetrics-text"), Format::OpenMetrics),
        (
            Some("application/openmetrics-text; version=0.0.1"),
            Format::Prometheus,
        ),
        (Some("application/openmetrics-text;q=0"), Format::Prometheus),
        (
            Some("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
            Format::Prometheus,
        ),
    ];
    for (accept, expected) in cases {
        assert_eq!(Format::from_accept(accept), expected, "{accept:?}");
    }
}

/// A registry with every kind of family and every spelling that needs care: sanitised names,
/// escaped label values and HELP text, units, label-less series, special and extreme floats,
/// custom buckets, a refused series and OpenMetrics exemplars.
fn varied_registry() -> Registry {
    use mcp_metrics::store::{Exemplar, Store as _};
    let config = RegistryConfig::new()
        .series_limit_for(MetricMatcher::Exact("limited_total".into()), 1)
        .buckets_for(MetricMatcher::Suffix("_bytes".into()), &[100.0, 1e4, 1e6])
        .unwrap();
    let registry = Registry::new(config);
    with_local_recorder(&registry, || {
        describe_counter!("mcp.calls", "Calls \"served\" \\ per tool\nand outcome.");
        describe_histogram!("request_seconds", Unit::Seconds, "Request latency.");
        describe_histogram!("body_bytes", Unit::Bytes, "Body sizes.");
        for (tool, outcome, n) in [("b", "ok", 3), ("a", "ok", 1), ("a", "error", 2)] {
            counter!("mcp.calls", "tool" => tool, "outcome" => outcome).increment(n);
        }
        counter!("mcp.calls", "tool" => "q\"uote\\back\nline→🙂", "outcome" => "ok").increment(7);
        counter!("bare").absolute(u64::MAX);
        for (i, v) in [
            1.0,
            -2.5,
            0.1 + 0.2,
            1e300,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            123_456_789.012_345,
        ]
        .into_iter()
        .enumerate()
        {
            gauge!("values", "i" => i.to_string()).set(v);
        }
        gauge!("in_flight").increment(3.0);
        let h = histogram!("request_seconds", "route" => "/x");
        for v in [0.0004, 0.003, 0.07, 0.07, 1.5, 400.0] {
            h.record(v);
        }
        histogram!("request_seconds").record(0.25);
        let body = histogram!("body_bytes", "route" => "/y");
        for v in [5.0, 100.0, 5e3, 7e5, 3e9] {
            body.record(v);
        }
        // A kind conflict and a series limit: counted in the dropped-series counter.
        gauge!("bare").set(1.0);
        for i in 0..3 {
            counter!("limited_total", "i" => i.to_string()).increment(1);
        }
    });
    let key = metrics::Key::from_parts("request_seconds", vec![metrics::Label::new("route", "/e")]);
    let h = registry.histogram(&key).unwrap();
    h.record_with_exemplar(
        0.3,
        Exemplar {
            trace_id: 0x0af7651916cd43dd8448eb211c80319c,
            span_id: 0xb7ad6b7169203331,
        },
    );
    h.record(20.0);
    registry
}

/// Replaces each exemplar's timestamp, the time of recording, with `T`.
fn without_exemplar_time(text: &str) -> String {
    text.lines()
        .map(|l| match l.rfind(' ') {
            Some(i) if l.contains(" # {trace_id=") => format!("{} T\n", &l[..i]),
            _ => format!("{l}\n"),
        })
        .collect()
}

/// Compares `text` with the file `tests/golden/{name}`; with `MCP_METRICS_BLESS=1` in the
/// environment, writes the file instead (for a deliberate change of the output).
fn assert_golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = without_exemplar_time(text);
    if std::env::var_os("MCP_METRICS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    if text != expected {
        let line = text
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(text.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from {path:?} at line {}:\n got: {:?}\nwant: {:?}\n\nwhole output:\n{text}",
            line + 1,
            text.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

#[test]
fn output_is_byte_identical_to_the_golden_files() {
    let registry = varied_registry();
    assert_golden("varied.prom", &registry.render_prometheus());
    assert_golden("varied.om", &registry.render_openmetrics());
}

#[test]
fn a_description_given_after_a_render_is_in_the_next_render() {
    let registry = Registry::default();
    with_local_recorder(&registry, || counter!("jobs_total").increment(1));
    let before = registry.render_prometheus();
    assert!(before.contains("# HELP jobs_total Metric jobs_total (no description registered).\n"));
    with_local_recorder(&registry, || describe_counter!("jobs_total", "Jobs done."));
    let after = registry.render_prometheus();
    assert!(after.contains("# HELP jobs_total Jobs done.\n"), "{after}");
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Registers `series` (metric, tool) pairs, each counter incremented by its index.
fn register(registry: &Registry, series: &[(usize, u64)]) {
    with_local_recorder(registry, || {
        for &(metric, tool) in series {
            let tool = format!("t{tool}");
            match metric {
                0 => counter!("calls_total", "tool" => tool).absolute(7),
                1 => gauge!("in_flight", "tool" => tool).set(2.5),
                _ => histogram!("latency_seconds", "tool" => tool).record(0.3),
            }
        }
    });
}

#[test]
fn series_added_between_renders_are_rendered_as_by_a_fresh_registry() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let registry = Registry::default();
    let mut all = Vec::new();
    for round in 0..40 {
        // A few new series per round, in random order, some into families rendered before.
        let new: Vec<(usize, u64)> = (0..1 + rng.below(6))
            .map(|_| (rng.below(3) as usize, rng.below(1_000)))
            .collect();
        register(&registry, &new);
        all.extend(new);
        let fresh = Registry::default();
        register(&fresh, &all);
        assert_eq!(
            registry.render_prometheus(),
            fresh.render_prometheus(),
            "round {round}"
        );
        assert_eq!(
            registry.render_openmetrics(),
            fresh.render_openmetrics(),
            "round {round}"
        );
    }
}

#[test]
fn renders_during_registrations_are_sorted_and_complete() {
    let registry = Registry::default();
    let tools = 2_000;
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..tools {
                register(&registry, &[(0, (i * 7_919) % tools)]);
            }
        });
        let mut renders = 0;
        while !writer.is_finished() || renders == 0 {
            let text = registry.render_prometheus();
            let tools: Vec<u64> = text
                .lines()
                .filter_map(|l| l.strip_prefix("calls_total{tool=\"t"))
                .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
                .collect();
            let names: Vec<String> = tools.iter().map(|t| format!("t{t}")).collect();
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "series out of order or repeated in render {renders}"
            );
            renders += 1;
        }
    });
    let text = registry.render_prometheus();
    assert_eq!(lines_starting(&text, "calls_total{").len(), tools as usize);
}
