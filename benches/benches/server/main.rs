//! What instrumentation costs a real server: the example MCP server under load, bare and in three
//! instrumented configurations, measured in one run on this machine.
//!
//! ```sh
//! cargo bench -p mcp-metrics-benches --bench server
//! cargo bench -p mcp-metrics-benches --bench server -- --seconds 10 --rounds 3 --connections 1,32,256
//! cargo bench -p mcp-metrics-benches --bench server -- --nagle   # TCP_NODELAY off in the servers
//! ```
//!
//! It builds the example server twice in release mode (`--no-default-features` for bare), starts
//! one process per configuration (and an OTLP/HTTP trace sink for each tracing one), then for each protocol style and
//! number of connections runs each configuration in turn: warm-up, then a fixed time measured.
//! The markdown report goes to standard output, progress to standard error.
//!
//! Options: `--seconds N` measured per cell (default 5), `--warm-up N` (default 1), `--rounds N`
//! (default 3), `--connections A,B,..` (default 1,32,256; one connection measures unloaded
//! latency), `--styles stateless,session`, `--configs bare,metrics,traces-100,traces-1`, `--nagle`,
//! `--rust-log FILTER` (the instrumented servers' `RUST_LOG`, default `info,rmcp=warn`: rmcp logs
//! three INFO lines per stateless request, and the bare server has no logger to compare with),
//! `--env NAME=VALUE` (more environment for every server, to try a setting; repeatable).
//!
//! ```sh
//! cargo bench -p mcp-metrics-benches --bench server -- --instructions
//! cargo bench -p mcp-metrics-benches --bench server -- --instructions --styles stateless --rows bare,metrics
//! ```
//!
//! `--instructions` counts user-space instructions per request under valgrind instead of timing
//! (see `instructions.rs`): each row of `instructions::ROWS` (`--rows bare,metrics,bare-logs,
//! metrics-logs,traces-off,traces-1,traces-100`) answers `--requests SHORT,LONG` (default
//! 200,1200) requests in two processes, and the difference is divided by `LONG - SHORT`.

mod histogram;
mod instructions;
mod load;
mod report;
mod servers;
mod sink;

use load::Style;
use report::{Context, Measurement};
use servers::{Config, Server};
use sink::Sink;
use std::time::Duration;

struct Options {
    measure: Duration,
    warm_up: Duration,
    rounds: usize,
    connections: Vec<usize>,
    styles: Vec<Style>,
    configs: Vec<Config>,
    nodelay: bool,
    rust_log: String,
    env: Vec<(String, String)>,
    /// `Some(rows)`: count instructions of these rows of `instructions::ROWS` instead of timing.
    instructions: Option<Vec<usize>>,
    /// Requests of the short and the long run of the instruction-count mode.
    requests: (u64, u64),
}

fn options() -> Options {
    let mut o = Options {
        measure: Duration::from_secs(5),
        warm_up: Duration::from_secs(1),
        rounds: 3,
        connections: vec![1, 32, 256],
        styles: vec![Style::Stateless, Style::Session],
        configs: Config::ALL.to_vec(),
        nodelay: true,
        rust_log: "info,rmcp=warn".to_owned(),
        env: Vec::new(),
        instructions: None,
        requests: (200, 1200),
    };
    let mut args = std::env::args().skip(1);
    let seconds = |v: Option<String>, name: &str| {
        let v: f64 = v
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number of seconds"));
        Duration::from_secs_f64(v)
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {} // passed by `cargo bench`
            "--seconds" => o.measure = seconds(args.next(), "--seconds"),
            "--warm-up" => o.warm_up = seconds(args.next(), "--warm-up"),
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds takes a number")
            }
            "--connections" => {
                o.connections = args
                    .next()
                    .expect("--connections takes a list")
                    .split(',')
                    .map(|c| c.trim().parse().expect("a number of connections"))
                    .collect()
            }
            "--styles" => {
                o.styles = args
                    .next()
                    .expect("--styles takes a list")
                    .split(',')
                    .map(|s| match s.trim() {
                        "stateless" => Style::Stateless,
                        "session" => Style::Session,
                        other => panic!("unknown style {other}: stateless or session"),
                    })
                    .collect()
            }
            "--configs" => {
                let list = args.next().expect("--configs takes a list");
                o.configs = list
                    .split(',')
                    .map(|c| {
                        Config::ALL
                            .into_iter()
                            .find(|k| k.key() == c.trim())
                            .unwrap_or_else(|| {
                                panic!(
                                    "unknown configuration {c}: bare, metrics, traces-100, traces-1"
                                )
                            })
                    })
                    .collect()
            }
            "--nagle" => o.nodelay = false,
            "--rust-log" => o.rust_log = args.next().expect("--rust-log takes a filter"),
            "--instructions" => {
                o.instructions
                    .get_or_insert_with(|| (0..instructions::ROWS.len()).collect());
            }
            "--rows" => {
                let list = args.next().expect("--rows takes a list");
                let rows = list
                    .split(',')
                    .map(|key| {
                        instructions::ROWS
                            .iter()
                            .position(|r| r.key == key.trim())
                            .unwrap_or_else(|| panic!("unknown row {key}; see instructions::ROWS"))
                    })
                    .collect();
                o.instructions = Some(rows);
            }
            "--requests" => {
                let list = args.next().expect("--requests takes SHORT,LONG");
                let (short, long) = list.split_once(',').expect("--requests takes SHORT,LONG");
                o.requests = (
                    short.trim().parse().expect("a number of requests"),
                    long.trim().parse().expect("a number of requests"),
                );
            }
            "--env" => {
                let pair = args.next().expect("--env takes NAME=VALUE");
                let (name, value) = pair.split_once('=').expect("--env takes NAME=VALUE");
                o.env.push((name.to_owned(), value.to_owned()));
            }
            other => {
                panic!("unknown option {other}; see the doc comment of benches/server/main.rs")
            }
        }
    }
    o
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Sums the `_count` of the tool duration histogram over all series: the tool calls the server
/// recorded.
fn recorded_tool_calls(exposition: &str) -> Option<f64> {
    let counts: Vec<f64> = exposition
        .lines()
        .filter(|l| l.starts_with("mcp_tool_duration_seconds_count{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

fn main() {
    let o = options();
    histogram::self_check();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Build first: compiling must not overlap any measurement.
    let needed: Vec<Config> = match &o.instructions {
        Some(rows) => rows.iter().map(|&r| instructions::ROWS[r].config).collect(),
        None => o.configs.clone(),
    };
    let bare_binary = needed
        .contains(&Config::Bare)
        .then(|| servers::build(false));
    let instrumented_binary = needed
        .iter()
        .any(|c| c.instrumented())
        .then(|| servers::build(true));
    let log_dir = servers::workspace_root().join("target/server-bench");
    std::fs::create_dir_all(&log_dir).expect("log directory");

    if let Some(rows) = &o.instructions {
        let binary = |config: Config| {
            if config.instrumented() {
                instrumented_binary.clone()
            } else {
                bare_binary.clone()
            }
            .expect("built above")
        };
        let (short, long) = o.requests;
        let counts = instructions::run(rows, &o.styles, short, long, binary, &log_dir);
        print!("{}", instructions::report(&counts, short, long));
        return;
    }

    let mut running: Vec<(Config, Server, Option<Sink>)> = Vec::new();
    for &config in &o.configs {
        let sink = config.exports_traces().then(Sink::start);
        let binary = if config.instrumented() {
            instrumented_binary.as_ref()
        } else {
            bare_binary.as_ref()
        }
        .expect("built above");
        let server = Server::start(
            binary,
            config,
            sink.as_ref().map(|s| s.addr),
            o.nodelay,
            &o.rust_log,
            &o.env,
            &log_dir,
        );
        eprintln!(
            "{}: pid {} on {} (log {})",
            config.name(),
            server.pid(),
            server.addr,
            server.log.display()
        );
        running.push((config, server, sink));
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("load generator runtime");
    let load_before = load_average();
    let mut measurements = Vec::new();
    let mut completed = vec![0u64; running.len()];
    let mut first_errors = Vec::new();
    let mut cell = 0;
    for round in 0..o.rounds {
        for &style in &o.styles {
            for &connections in &o.connections {
                // Rotate the order so that no configuration always runs first or last.
                for turn in 0..running.len() {
                    let index = (turn + cell) % running.len();
                    let (config, server, sink) = &running[index];
                    let mut marks = Vec::new();
                    let run = runtime.block_on(load::run(
                        server.addr,
                        style,
                        connections,
                        o.warm_up,
                        o.measure,
                        |_| {
                            marks.push((
                                std::time::Instant::now(),
                                server.cpu(),
                                servers::own_cpu(),
                                servers::machine_cpu(),
                                sink.as_ref().map(|s| (s.cpu(), s.received())),
                            ))
                        },
                    ));
                    let [
                        (t0, server0, own0, machine0, sink0),
                        (t1, server1, own1, machine1, sink1),
                    ] = marks[..]
                    else {
                        unreachable!("two marks: start and end of the measured time")
                    };
                    let (sink_cpu, spans) = match (sink0, sink1) {
                        (Some((c0, r0)), Some((c1, r1))) => (c1 - c0, Some((r1 - r0).spans)),
                        _ => (Duration::ZERO, None),
                    };
                    completed[index] += run.all_ok;
                    if let Some(e) = &run.first_error {
                        first_errors.push(format!(
                            "- {}, {}, {connections} connections: {e}",
                            config.name(),
                            style.name()
                        ));
                    }
                    let m = Measurement {
                        round,
                        style,
                        connections,
                        config: *config,
                        window: t1 - t0,
                        ok: run.ok,
                        errors: run.errors,
                        p50: run.histogram.quantile(0.50),
                        p99: run.histogram.quantile(0.99),
                        server_cpu: server1 - server0,
                        loadgen_cpu: (own1 - own0).saturating_sub(sink_cpu),
                        sink_cpu,
                        others_cpu: (machine1.busy - machine0.busy)
                            .saturating_sub(server1 - server0)
                            .saturating_sub(own1 - own0),
                        machine_idle: (machine1.idle - machine0.idle).as_secs_f64()
                            / ((machine1.idle - machine0.idle) + (machine1.busy - machine0.busy))
                                .as_secs_f64()
                                .max(1e-9),
                        spans,
                    };
                    eprintln!(
                        "round {} {} {:>3} conns {:<24} {:>8.0} req/s  p50 {:>8.3} ms  p99 {:>8.3} ms  server CPU {:>4.0} %  load gen CPU {:>3.0} %  others {:>3.0} %  errors {}",
                        round + 1,
                        style.name(),
                        connections,
                        config.name(),
                        m.per_second(),
                        m.p50.as_secs_f64() * 1e3,
                        m.p99.as_secs_f64() * 1e3,
                        m.server_cpu.as_secs_f64() / m.window.as_secs_f64() * 100.0,
                        m.loadgen_cpu.as_secs_f64() / m.window.as_secs_f64() * 100.0,
                        m.others_cpu.as_secs_f64() / m.window.as_secs_f64() * 100.0,
                        m.errors,
                    );
                    measurements.push(m);
                    // Let span export and session clean-up settle before the next server.
                    std::thread::sleep(Duration::from_millis(500));
                }
                cell += 1;
            }
        }
    }
    let load_after = load_average();

    let mut checks = Vec::new();
    for (index, (config, server, _)) in running.iter().enumerate() {
        if config.instrumented() {
            let recorded = runtime
                .block_on(load::get(server.addr, "/metrics"))
                .ok()
                .and_then(|body| recorded_tool_calls(&body));
            checks.push(format!(
                "- {}: `/metrics` counts {} tool calls (`mcp_tool_duration_seconds_count`), the load generator completed {}.",
                config.name(),
                recorded.map_or("no".to_owned(), |n| format!("{n:.0}")),
                completed[index],
            ));
        }
        let lines = server.log_lines();
        if lines > 0 {
            checks.push(format!(
                "- {}: {lines} lines on standard error ({}).",
                config.name(),
                server.log.display()
            ));
        }
    }
    checks.extend(first_errors.into_iter().take(8));

    let context = Context {
        cores,
        load_before,
        load_after,
        nodelay: o.nodelay,
        rust_log: o.rust_log.clone(),
        env: o.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        warm_up: o.warm_up,
        measure: o.measure,
        rounds: o.rounds,
        checks,
    };
    print!("{}", report::render(&measurements, &context));
}
