//! The environment variables of `mcp-metrics-exporter` are those its documentation lists: the
//! table of the crate docs and the README's table name exactly the variables that
//! `ExporterBuilder::env` and `TelemetryBuilder::env` look up, and each builder looks each one up
//! once.

use std::cell::RefCell;
use std::collections::BTreeSet;

use mcp_metrics_exporter::ExporterBuilder;
use mcp_metrics_exporter::telemetry::TelemetryBuilder;
use mcp_metrics_tests::harness::workspace_root;

/// The README rows of variables that the facade reads (`mcp_metrics::rmcp::Options::from_env`).
const FACADE: [&str; 2] = ["MCP_METRICS_CLIENT_NAMES", "MCP_METRICS_AUDIT"];

/// The names `apply` looks up, in order, through a lookup that finds none of them.
fn looked_up(apply: impl FnOnce(&dyn Fn(&str) -> Option<String>)) -> Vec<String> {
    let asked = RefCell::new(Vec::new());
    apply(&|name: &str| {
        asked.borrow_mut().push(name.to_owned());
        None
    });
    asked.into_inner()
}

fn metrics_variables() -> Vec<String> {
    looked_up(|lookup| {
        ExporterBuilder::new().env(lookup).expect("no variable set");
    })
}

fn traces_variables() -> Vec<String> {
    looked_up(|lookup| {
        TelemetryBuilder::new()
            .env(lookup)
            .expect("no variable set");
    })
}

/// `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]HEADERS` names the generic variable and the
/// signal-specific ones.
fn expand(name: &str) -> Vec<String> {
    let Some((prefix, rest)) = name.split_once("[{") else {
        return vec![name.to_owned()];
    };
    let (alternatives, suffix) = rest.split_once("}_]").expect("[{A,B}_] is closed");
    std::iter::once(format!("{prefix}{suffix}"))
        .chain(
            alternatives
                .split(',')
                .map(|a| format!("{prefix}{a}_{suffix}")),
        )
        .collect()
}

/// The names in the first column of the Markdown table headed `| variable | meaning | default |`.
fn documented(text: &str) -> BTreeSet<String> {
    let mut rows = text
        .lines()
        .skip_while(|l| !l.starts_with("| variable | meaning | default |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    let mut names = BTreeSet::new();
    for row in rows.by_ref() {
        let first = row.split(" | ").next().expect("a cell");
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 {
                names.extend(expand(part));
            }
        }
    }
    assert!(!names.is_empty(), "no variable table found");
    names
}

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).expect(path)
}

/// What the crate docs of `lib.rs` say, without the `//! ` of each line.
fn crate_docs() -> String {
    read("mcp-metrics-exporter/src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_builder_looks_each_variable_up_once() {
    for list in [metrics_variables(), traces_variables()] {
        let distinct: BTreeSet<&String> = list.iter().collect();
        assert_eq!(distinct.len(), list.len(), "{list:?}");
    }
}

#[test]
fn the_docs_list_exactly_the_variables_read() {
    let read_by_code: BTreeSet<String> = metrics_variables()
        .into_iter()
        .chain(traces_variables())
        .collect();
    for name in [
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_LOGS_EXPORTER",
        "OTEL_BLRP_MAX_QUEUE_SIZE",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    ] {
        assert!(read_by_code.contains(name), "{name}");
    }
    assert_eq!(documented(&crate_docs()), read_by_code, "the crate docs");
    let mut readme = documented(&read("README.md"));
    for name in FACADE {
        assert!(readme.remove(name), "{name} is in the README's table");
    }
    assert_eq!(readme, read_by_code, "the README");
}

#[test]
fn the_table_notation_expands() {
    assert_eq!(
        expand("OTEL_EXPORTER_OTLP_[{METRICS,TRACES}_]HEADERS"),
        [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
        ]
    );
    assert_eq!(
        expand("OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]TIMEOUT"),
        [
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"
        ]
    );
    assert_eq!(expand("RUST_LOG"), ["RUST_LOG"]);
}
