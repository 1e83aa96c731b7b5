//! The instruction-count mode: user-space instructions per request under valgrind's cachegrind,
//! deterministic where wall time on a shared machine is not.
//!
//! Each configuration runs twice under `valgrind --tool=cachegrind --cache-sim=no`, once answering
//! `short` and once `long` requests sent one after another on one keep-alive connection, and
//! stops on SIGTERM (the example server shuts down gracefully, so cachegrind writes its totals).
//! Start-up, the first requests and shutdown are the same in both runs, so the difference of
//! the two totals divided by `long - short` is what one request costs, in every thread of the
//! server.

use crate::load::{self, Style};
use crate::servers::{Config, Server};
use crate::sink::Sink;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One row of the instruction-count table: a build, its environment, and the row it is compared
/// with.
#[derive(Clone, Copy)]
pub(crate) struct Row {
    /// The name `--rows` takes.
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    pub(crate) config: Config,
    /// `RUST_LOG` of the server.
    pub(crate) rust_log: &'static str,
    /// More environment: the log format and the span sampler.
    pub(crate) env: &'static [(&'static str, &'static str)],
    /// The index of the row this one is divided by; `None` for a baseline.
    pub(crate) baseline: Option<usize>,
}

/// The rows: bare and instrumented with no log output, bare and instrumented with the same text
/// logs, and span export sampled at none, 1 % and every request.
pub(crate) const ROWS: &[Row] = &[
    Row {
        key: "bare",
        name: "bare, no logs",
        config: Config::Bare,
        rust_log: "off",
        env: &[],
        baseline: None,
    },
    Row {
        key: "metrics",
        name: "metrics, no logs",
        config: Config::Metrics,
        rust_log: "off",
        env: &[("MCP_LOG_FORMAT", "none")],
        baseline: Some(0),
    },
    Row {
        key: "bare-logs",
        name: "bare, text logs",
        config: Config::Bare,
        rust_log: "info,rmcp=warn",
        env: &[],
        baseline: None,
    },
    Row {
        key: "metrics-logs",
        name: "metrics, text logs",
        config: Config::Metrics,
        rust_log: "info,rmcp=warn",
        env: &[],
        baseline: Some(2),
    },
    Row {
        key: "traces-off",
        name: "OTLP spans, sampler always_off",
        config: Config::TracesAll,
        rust_log: "info,rmcp=warn",
        env: &[("OTEL_TRACES_SAMPLER", "always_off")],
        baseline: Some(2),
    },
    Row {
        key: "traces-1",
        name: "OTLP spans, 1 % sampled",
        config: Config::TracesOnePercent,
        rust_log: "info,rmcp=warn",
        env: &[],
        baseline: Some(2),
    },
    Row {
        key: "traces-100",
        name: "OTLP spans, every request sampled",
        config: Config::TracesAll,
        rust_log: "info,rmcp=warn",
        env: &[],
        baseline: Some(2),
    },
];

/// Instructions per request of one row and one protocol style.
pub(crate) struct Count {
    pub(crate) row: usize,
    pub(crate) style: Style,
    pub(crate) per_request: f64,
}

/// Runs every row of `rows` (indices into [`ROWS`]) in `styles`.
pub(crate) fn run(
    rows: &[usize],
    styles: &[Style],
    short: u64,
    long: u64,
    binary: impl Fn(Config) -> PathBuf,
    out_dir: &Path,
) -> Vec<Count> {
    assert!(long > short, "the long run must have more requests");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut counts = Vec::new();
    for &style in styles {
        for &index in rows {
            let row = ROWS[index];
            let totals = [short, long].map(|requests| {
                let total = measure(&runtime, row, style, requests, &binary(row.config), out_dir);
                eprintln!(
                    "{:<36} {:<22} {requests:>5} requests: {total} instructions",
                    row.name,
                    style.name()
                );
                total
            });
            counts.push(Count {
                row: index,
                style,
                per_request: (totals[1] as f64 - totals[0] as f64) / (long - short) as f64,
            });
        }
    }
    counts
}

/// Total instructions of one server process that answered `requests` requests.
fn measure(
    runtime: &tokio::runtime::Runtime,
    row: Row,
    style: Style,
    requests: u64,
    binary: &Path,
    out_dir: &Path,
) -> u64 {
    let slug: String = row
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let out = out_dir.join(format!("{slug}-{}-{requests}.cachegrind", style.key()));
    let _ = std::fs::remove_file(&out);
    let sink = row.config.exports_traces().then(Sink::start);
    let env: Vec<(String, String)> = row
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let server = Server::start_under_valgrind(
        binary,
        row.config,
        sink.as_ref().map(|s| s.addr),
        row.rust_log,
        &env,
        out_dir,
        &out,
    );
    runtime
        .block_on(load::sequential(server.addr, style, requests))
        .unwrap_or_else(|e| panic!("{}: {e}; see {}", row.name, server.log.display()));
    server.terminate();
    read_total(&out)
}

/// The `summary:` line of a cachegrind output file: instructions executed.
fn read_total(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (did valgrind run?)", path.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{}: no summary line", path.display()))
}

/// The markdown table of `counts`.
pub(crate) fn report(counts: &[Count], short: u64, long: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Instructions per request: (total after {long} requests - total after {short}) / {}, user space, every thread of the server, `valgrind --tool=cachegrind --cache-sim=no`.\n",
        long - short
    );
    let _ = writeln!(
        out,
        "| requests | configuration | instructions per request | × baseline | baseline |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---|");
    for count in counts {
        let row = ROWS[count.row];
        let base = row.baseline.and_then(|b| {
            counts
                .iter()
                .find(|c| c.row == b && c.style == count.style)
                .map(|c| (ROWS[b].name, c.per_request))
        });
        let (ratio, base_name) = match base {
            Some((name, per_request)) => (format!("{:.3}", count.per_request / per_request), name),
            None => (String::new(), ""),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {ratio} | {base_name} |",
            count.style.name(),
            row.name,
            count.per_request
        );
    }
    out
}
