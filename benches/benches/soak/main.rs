//! A soak of the example server under mixed valid and hostile traffic: memory and the series
//! count must stay flat after warm-up, every valid call must be counted exactly, and the scrape
//! must answer throughout. Minutes long; CI does not run it.
//!
//! ```sh
//! cargo bench -p mcp-metrics-benches --bench soak
//! cargo bench -p mcp-metrics-benches --bench soak -- --requests 1000000 --connections 32 --png docs/soak.png
//! ```
//!
//! It builds the example server in release mode and starts it with a 16 KiB body limit, a 2 s
//! session keep-alive and four client names on the allow-list, then sends `--requests` requests
//! (default 1,000,000) over `--connections` keep-alive HTTP/1.1 connections (default 32), mixed
//! by request number (see `load::Kind`): 70 % valid `tools/call`s from 50 rotating client names,
//! 15 % calls of 10,000 distinct unknown tools, malformed JSON, 10,000 distinct bad `Host`s,
//! oversized bodies, bad protocol versions, unknown sessions, and legacy sessions of which half
//! are deleted and half idle out. Once a second it reads the server's resident memory from
//! `/proc/PID/status` and scrapes `/metrics` (time, series). At the end it compares the scrape
//! with what the load generator saw answered, prints a markdown report and draws memory and
//! series over the requests sent into a PNG (`--png PATH`, relative to the workspace root; default
//! `target/soak.png`).

mod font;
mod load;
mod plot;
mod scrape;
// The server bench's build of the example server; the soak uses nothing else of it.
#[allow(dead_code)]
#[path = "../server/servers.rs"]
mod servers;

use load::{Kind, Tally};
use scrape::{Sample, Server};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Options {
    requests: u64,
    connections: usize,
    png: PathBuf,
}

fn options() -> Options {
    let mut o = Options {
        requests: 1_000_000,
        connections: 32,
        png: servers::workspace_root().join("target/soak.png"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} takes a value"));
        match arg.as_str() {
            "--requests" => o.requests = value().parse().expect("--requests N"),
            "--connections" => o.connections = value().parse().expect("--connections N"),
            // cargo bench runs this in the package's directory: a relative path is the workspace's.
            "--png" => o.png = servers::workspace_root().join(value()),
            // What cargo bench passes to every bench binary.
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    o
}

fn main() {
    let options = options();
    let server = Server::start();
    eprintln!("server {} (pid {})", server.addr, server.pid);
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (tally, stop, addr, pid) = (tally.clone(), stop.clone(), server.addr, server.pid);
        std::thread::spawn(move || scrape::sample_every_second(addr, pid, &tally, &stop))
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(load::run(
        server.addr,
        options.connections,
        options.requests,
        next,
        tally.clone(),
    ));
    let elapsed = started.elapsed();
    // Long enough for the sessions left open to idle out (keep-alive 2 s).
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("the sampler");
    let last = scrape::get(server.addr, "/metrics").expect("the last scrape");
    let report = Report {
        options: &options,
        tally: &tally,
        samples: &samples,
        elapsed,
        exposition: &last.0,
    };
    report.print();
    plot::draw(&options.png, &samples, options.requests / 10).expect("the plot");
    eprintln!("plot: {}", options.png.display());
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "the soak failed: {}",
        failures.join("; ")
    );
}

/// What the run showed.
struct Report<'a> {
    options: &'a Options,
    tally: &'a Tally,
    samples: &'a [Sample],
    elapsed: Duration,
    exposition: &'a str,
}

impl Report<'_> {
    fn print(&self) {
        self.print_traffic();
        self.print_counts();
        self.print_flatness();
    }

    fn print_traffic(&self) {
        let t = self.tally;
        let done = t.done.load(Ordering::Relaxed);
        println!(
            "{} requests over {} connections in {:.1} s ({:.0} requests/s); {} DELETEs; {} answers not as expected; {} reconnections\n",
            done,
            self.options.connections,
            self.elapsed.as_secs_f64(),
            done as f64 / self.elapsed.as_secs_f64(),
            t.deletes.load(Ordering::Relaxed),
            t.wrong.load(Ordering::Relaxed),
            t.reconnects.load(Ordering::Relaxed),
        );
    }

    /// What must be counted exactly: the name of a row, how many the load generator saw
    /// answered as expected, how many the last scrape counted, and the series it read.
    fn count_rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = Kind::ALL.iter().map(|&kind| self.kind_row(kind)).collect();
        let valid = self.tally.ok(Kind::Valid);
        rows.push(self.row(
            "valid calls, request layer (all client names)",
            valid,
            OPERATION,
            &[("tool", "add"), ("outcome", "success")],
        ));
        let sessions = self.tally.ok(Kind::Session);
        let deletes = self.tally.deletes.load(Ordering::Relaxed);
        for (end, want) in [
            ("client_delete", deletes),
            ("idle_timeout", sessions - deletes),
        ] {
            let name = format!("sessions ended: {end}");
            rows.push(self.row(&name, want, SESSION, &[("end_reason", end)]));
        }
        for gauge in ["mcp_server_sessions_held", "mcp_server_sessions_active"] {
            rows.push(self.row("sessions at the end", 0, gauge, &[]));
        }
        rows
    }

    /// The row of requests of `kind`.
    fn kind_row(&self, kind: Kind) -> Row {
        let ok = self.tally.ok(kind);
        match kind {
            Kind::Valid => self.row(
                kind.name(),
                ok,
                "mcp_tool_duration_seconds_count",
                &[("tool", "add"), ("outcome", "success")],
            ),
            Kind::UnknownTool => self.row(
                kind.name(),
                ok,
                OPERATION,
                &[("tool", "_unknown"), ("error_type", "-32602")],
            ),
            Kind::Session => self.row(kind.name(), ok, OPERATION, &[("method", "initialize")]),
            _ => {
                let reason = kind.refusal().expect("a refusal");
                self.row(
                    kind.name(),
                    ok,
                    "mcp_server_refused_requests_total",
                    &[("refusal_reason", reason)],
                )
            }
        }
    }

    /// A row: `want` against the sum of the samples of `metric` with `labels` in the scrape.
    fn row(&self, name: &str, want: u64, metric: &str, labels: &[(&str, &str)]) -> Row {
        let counted = scrape::sum(self.exposition, metric, labels);
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let series = if selector.is_empty() {
            metric.to_owned()
        } else {
            format!("{metric}{{{}}}", selector.join(","))
        };
        Row {
            name: name.to_owned(),
            want,
            counted,
            series,
        }
    }

    fn print_counts(&self) {
        println!("| requests | answered as expected | counted in the scrape | series |");
        println!("|---|---:|---:|---|");
        for row in self.count_rows() {
            println!(
                "| {} | {} | {} | `{}` |",
                row.name, row.want, row.counted, row.series
            );
        }
        println!();
    }

    /// Samples after warm-up (the first tenth of the requests).
    fn after_warm_up(&self) -> &[Sample] {
        let warm = self.options.requests / 10;
        let from = self
            .samples
            .iter()
            .position(|s| s.requests >= warm)
            .unwrap_or(0);
        &self.samples[from..]
    }

    fn print_flatness(&self) {
        let after = self.after_warm_up();
        let rss: Vec<f64> = after.iter().map(|s| s.rss_kib as f64 / 1024.0).collect();
        let series: Vec<f64> = after.iter().map(|s| s.series as f64).collect();
        let (min, max) = min_max(&rss);
        let slope = self.memory_trend();
        let (smin, smax) = min_max(&series);
        let scrapes = self.samples.len();
        let failed = self.samples.iter().filter(|s| !s.scrape_ok).count();
        let worst = self
            .samples
            .iter()
            .map(|s| s.scrape_ms)
            .fold(0.0_f64, f64::max);
        let mut ms: Vec<f64> = self.samples.iter().map(|s| s.scrape_ms).collect();
        ms.sort_by(f64::total_cmp);
        let median = ms.get(ms.len() / 2).copied().unwrap_or(0.0);
        println!(
            "| after warm-up (the first {} requests) | value |",
            self.options.requests / 10
        );
        println!("|---|---:|");
        println!(
            "| resident memory at the end of warm-up | {:.1} MiB |",
            rss.first().unwrap_or(&0.0)
        );
        println!("| resident memory, min / max | {min:.1} / {max:.1} MiB |");
        println!(
            "| resident memory at the end | {:.1} MiB |",
            rss.last().unwrap_or(&0.0)
        );
        println!(
            "| resident memory trend (least squares; flat up to {MEMORY_TREND_LIMIT:+.2}) | {slope:+.3} MiB per 100,000 requests |"
        );
        println!("| series in the scrape, min / max | {smin} / {smax} |");
        println!("| scrapes answered | {} of {scrapes} |", scrapes - failed);
        println!("| scrape time, median / max | {median:.1} / {worst:.1} ms |\n");
    }

    /// The least-squares slope of resident memory after warm-up, in MiB per 100,000 requests.
    fn memory_trend(&self) -> f64 {
        slope_per_100k(self.after_warm_up(), |s| s.rss_kib as f64 / 1024.0)
    }

    /// The checks the run failed, by name; empty when it passed.
    fn failures(&self) -> Vec<&'static str> {
        let counts_exact = self
            .count_rows()
            .iter()
            .all(|row| row.want as f64 == row.counted);
        let after = self.after_warm_up();
        let series: Vec<f64> = after.iter().map(|s| s.series as f64).collect();
        let (smin, smax) = min_max(&series);
        let checks = [
            ("a count differs from the scrape", counts_exact),
            (
                "resident memory grew after warm-up",
                self.memory_trend() <= MEMORY_TREND_LIMIT,
            ),
            ("the series changed after warm-up", smin == smax),
            ("a scrape failed", self.samples.iter().all(|s| s.scrape_ok)),
            (
                "an answer was not as expected",
                self.tally.wrong.load(Ordering::Relaxed) == 0,
            ),
        ];
        checks
            .into_iter()
            .filter_map(|(failure, ok)| (!ok).then_some(failure))
            .collect()
    }
}

/// The `_count` of the request layer's histogram and of the sessions' durations.
const OPERATION: &str = "mcp_server_operation_duration_seconds_count";
const SESSION: &str = "mcp_server_session_duration_seconds_count";

/// The largest growth of resident memory after warm-up that still counts as flat, in MiB per
/// 100,000 requests: about 2.6 bytes per request. Resident memory moves by a megabyte or two as
/// the allocator settles, so the check needs the default million requests: a run of 200,000
/// measured +0.79 MiB per 100,000 over its last 180,000 requests.
const MEMORY_TREND_LIMIT: f64 = 0.25;

/// One line of the table of counts.
struct Row {
    name: String,
    want: u64,
    counted: f64,
    series: String,
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// The least-squares slope of `y` against the requests sent, per 100,000 requests.
fn slope_per_100k(samples: &[Sample], y: impl Fn(&Sample) -> f64) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let x = |s: &Sample| s.requests as f64 / 100_000.0;
    let mx = samples.iter().map(x).sum::<f64>() / n;
    let my = samples.iter().map(&y).sum::<f64>() / n;
    let cov: f64 = samples.iter().map(|s| (x(s) - mx) * (y(s) - my)).sum();
    let var: f64 = samples.iter().map(|s| (x(s) - mx).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var }
}
