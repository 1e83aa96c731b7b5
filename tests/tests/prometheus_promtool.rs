//! The real `promtool check metrics` accepts what the exporter renders: many tools, every
//! outcome, hostile label values, histograms, refused series and build info.
//!
//! promtool must be installed (Debian package `prometheus`); this test fails without it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use mcp_metrics::names;
use mcp_metrics_exporter::{ExporterBuilder, ExporterKind, MetricMatcher, Registry, build_info};
use metrics::{
    Unit, counter, describe_counter, describe_histogram, gauge, histogram, with_local_recorder,
};

/// Outcome, error type and fault of each duration series.
const OUTCOMES: [(&str, Option<&str>, Option<&str>); 9] = [
    ("success", None, None),
    ("error", Some("not_found"), Some("client")),
    ("error", Some("-32602"), Some("client")),
    ("error", Some("_OTHER"), Some("server")),
    ("tool_error", Some("tool_error"), Some("client")),
    ("input_required", None, None),
    ("task_created", None, None),
    ("panic", Some("panic"), Some("server")),
    ("cancelled", None, None),
];

/// A counter of server requests, to check counters next to the tool histograms.
const REQUESTS_TOTAL: &str = "mcp_requests_total";

const HOSTILE: [&str; 6] = [
    "quote\"inside",
    "back\\slash",
    "new\nline",
    "ünïcødé ✓ 工具 🙂",
    "trailing backslash \\",
    "{braces}, commas=\"x\"",
];

fn promtool() -> String {
    let candidates = [
        std::env::var("PROMTOOL").ok(),
        Some("/usr/bin/promtool".to_owned()),
        Some("promtool".to_owned()),
    ];
    for candidate in candidates.into_iter().flatten() {
        if Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate;
        }
    }
    panic!("promtool not found: install the Debian package `prometheus` (CI installs it)");
}

fn check_metrics(text: &str) -> (bool, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

fn record_server_traffic(registry: &Registry) {
    with_local_recorder(registry, || {
        describe_counter!(REQUESTS_TOTAL, "Requests, by tool and outcome.");
        describe_histogram!(
            names::TOOL_DURATION_SECONDS,
            Unit::Seconds,
            "Duration of a tool call."
        );
        let tools: Vec<String> = (0..60)
            .map(|i| format!("tool_{i:02}"))
            .chain(HOSTILE.map(str::to_owned))
            .collect();
        for (i, tool) in tools.iter().enumerate() {
            for (outcome, error_type, fault) in OUTCOMES {
                counter!(REQUESTS_TOTAL, "tool" => tool.clone(), "outcome" => outcome)
                    .increment(i as u64 + 1);
                let duration = match (error_type, fault) {
                    (Some(kind), Some(fault)) => {
                        histogram!(names::TOOL_DURATION_SECONDS, "tool" => tool.clone(), "outcome" => outcome, "error_type" => kind, "fault" => fault)
                    }
                    _ => {
                        histogram!(names::TOOL_DURATION_SECONDS, "tool" => tool.clone(), "outcome" => outcome)
                    }
                };
                duration.record(0.0005 * (i + 1) as f64);
                duration.record(400.0);
            }
            gauge!(names::TOOL_CALLS_IN_FLIGHT, "tool" => tool.clone()).set(0.0);
        }
        gauge!(names::SERVER_SESSIONS_ACTIVE).set(3.0);
        gauge!("weird name.with-dash:colon").set(f64::NAN);
        gauge!("negative_infinity").set(f64::NEG_INFINITY);
        counter!(names::LLM_TOKENS_TOTAL, "model" => "m\"1", "type" => "prompt").increment(12);
        // Past the limit of this metric, refused and counted in the dropped-series counter.
        for i in 0..20 {
            counter!("mcp_cache_requests_total", "cache" => format!("c{i}"), "result" => "hit")
                .increment(1);
        }
        // Two kinds for one name, and two names sanitising to one: refused, never merged.
        gauge!(REQUESTS_TOTAL).set(1.0);
        counter!("mcp.requests_total").increment(1);
    });
}

#[test]
fn promtool_accepts_a_busy_registry() {
    let exporter = ExporterBuilder::new()
        .exporter(ExporterKind::None)
        .series_limit_for(MetricMatcher::Exact("mcp_cache_requests_total".into()), 5)
        .build_info(build_info!())
        .build()
        .expect("valid settings");
    let registry = exporter.registry().clone();
    record_server_traffic(&registry);
    let text = registry.render_prometheus();

    let (ok, report) = check_metrics(&text);
    assert!(
        ok,
        "promtool rejected the output:\n{report}\n--- output ---\n{text}"
    );

    // The check saw what we meant it to see.
    assert!(
        text.contains("mcp_build_info{service=\"mcp-metrics-tests\",version=\""),
        "{text}"
    );
    assert!(text.contains("tool=\"quote\\\"inside\""), "{text}");
    assert!(text.contains("tool=\"new\\nline\""), "{text}");
    assert!(text.contains("tool=\"ünïcødé ✓ 工具 🙂\""), "{text}");
    assert!(text.contains("mcp_metrics_dropped_series_total{metric=\"mcp_cache_requests_total\",reason=\"series_limit\"} 15"));
    assert!(text.contains("mcp_metrics_dropped_series_total{metric=\"mcp.requests_total\",reason=\"name_collision\"} 1"));
    assert!(text.contains(
        "mcp_metrics_dropped_series_total{metric=\"mcp_requests_total\",reason=\"kind_conflict\"} 1"
    ));
    assert!(text.contains("weird_name_with_dash_colon NaN"), "{text}");
    assert_eq!(text.matches("# TYPE mcp_requests_total counter").count(), 1);
    let calls = text
        .lines()
        .filter(|l| l.starts_with("mcp_requests_total{"))
        .count();
    let outcomes: std::collections::HashSet<&str> = OUTCOMES.iter().map(|o| o.0).collect();
    assert_eq!(calls, (60 + HOSTILE.len()) * outcomes.len());
    let durations = text
        .lines()
        .filter(|l| l.starts_with("mcp_tool_duration_seconds_count{"))
        .count();
    assert_eq!(durations, (60 + HOSTILE.len()) * OUTCOMES.len());
}

#[test]
fn promtool_rejects_broken_text() {
    // Guards the check above: promtool must really be judging the input.
    let (ok, report) = check_metrics("# TYPE x counter\nx{a=\"unterminated} 1\n");
    assert!(!ok, "promtool accepted broken input: {report}");
}
