//! The report: medians over rounds as a markdown table, the ratios to the bare server, the
//! targets met or missed, and flags for results that point at a problem rather than a cost.

use crate::load::Style;
use crate::servers::Config;
use std::fmt::Write as _;
use std::time::Duration;

/// For a tool that does no work, a latency above this is a stall (Nagle's algorithm and delayed
/// acknowledgements, a lock, a timer), not instrumentation cost: flagged for the p99 of one
/// connection, and for the p50 of any number of connections when the server was not busy (with
/// many connections a closed loop's latency is connections / throughput, and a busy server
/// explains it by queueing).
const STALL: Duration = Duration::from_millis(10);

/// A machine idle for more than this share could have run the server: a slow answer then is a
/// stall, not contention.
const IDLE: f64 = 0.25;

/// A server using less than this share of a core is nearly idle, even on a busy machine.
const NEARLY_IDLE: f64 = 0.25;

/// Other processes using more than this share of a core make a cell's numbers unreliable.
const CONTENDED: f64 = 0.25;

/// Fewer connections than this measure latency rather than throughput: no target verdict.
const LOADED: usize = 8;

/// One configuration measured once in one cell (style and connections) of one round.
pub(crate) struct Measurement {
    pub(crate) round: usize,
    pub(crate) style: Style,
    pub(crate) connections: usize,
    pub(crate) config: Config,
    pub(crate) window: Duration,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) server_cpu: Duration,
    pub(crate) loadgen_cpu: Duration,
    pub(crate) sink_cpu: Duration,
    /// CPU that processes other than the server and this one used meanwhile.
    pub(crate) others_cpu: Duration,
    /// Share of the machine's CPU time that was idle.
    pub(crate) machine_idle: f64,
    pub(crate) spans: Option<u64>,
}

impl Measurement {
    pub(crate) fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    fn share_of_core(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() / self.window.as_secs_f64()
    }
}

/// Run parameters printed above the table.
pub(crate) struct Context {
    pub(crate) cores: usize,
    pub(crate) load_before: String,
    pub(crate) load_after: String,
    pub(crate) nodelay: bool,
    pub(crate) rust_log: String,
    pub(crate) env: Vec<String>,
    pub(crate) warm_up: Duration,
    pub(crate) measure: Duration,
    pub(crate) rounds: usize,
    pub(crate) checks: Vec<String>,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn millis(seconds: f64) -> String {
    let ms = seconds * 1e3;
    if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// The medians of one configuration in one cell, and its ratios to bare from the same rounds.
struct Row {
    per_second: f64,
    p50: f64,
    p99: f64,
    server_cpu: f64,
    cpu_per_request: f64,
    loadgen_cpu: f64,
    sink_cpu: f64,
    others_cpu: f64,
    machine_idle: f64,
    spans_per_request: Option<f64>,
    errors: u64,
    /// Throughput, p99 and server CPU per request, each over bare's.
    vs_bare: Option<(f64, f64, f64)>,
}

fn row(all: &[Measurement], style: Style, connections: usize, config: Config) -> Option<Row> {
    let mine: Vec<&Measurement> = all
        .iter()
        .filter(|m| m.style == style && m.connections == connections && m.config == config)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let of = |f: &dyn Fn(&Measurement) -> f64| median(mine.iter().map(|m| f(m)).collect());
    let cpu_per_request = |m: &Measurement| m.server_cpu.as_secs_f64() / m.ok.max(1) as f64;
    let ratios: Vec<(f64, f64, f64)> = mine
        .iter()
        .filter_map(|m| {
            let bare = all.iter().find(|b| {
                b.round == m.round
                    && b.style == style
                    && b.connections == connections
                    && b.config == Config::Bare
            })?;
            Some((
                m.per_second() / bare.per_second(),
                m.p99.as_secs_f64() / bare.p99.as_secs_f64(),
                cpu_per_request(m) / cpu_per_request(bare),
            ))
        })
        .collect();
    let vs_bare = (!ratios.is_empty() && config != Config::Bare).then(|| {
        (
            median(ratios.iter().map(|r| r.0).collect()),
            median(ratios.iter().map(|r| r.1).collect()),
            median(ratios.iter().map(|r| r.2).collect()),
        )
    });
    Some(Row {
        per_second: of(&|m| m.per_second()),
        p50: of(&|m| m.p50.as_secs_f64()),
        p99: of(&|m| m.p99.as_secs_f64()),
        server_cpu: of(&|m| m.share_of_core(m.server_cpu)),
        cpu_per_request: of(&|m| cpu_per_request(m)),
        loadgen_cpu: of(&|m| m.share_of_core(m.loadgen_cpu)),
        sink_cpu: of(&|m| m.share_of_core(m.sink_cpu)),
        others_cpu: of(&|m| m.share_of_core(m.others_cpu)),
        machine_idle: of(&|m| m.machine_idle),
        spans_per_request: mine[0]
            .spans
            .map(|_| of(&|m| m.spans.unwrap_or(0) as f64 / m.ok.max(1) as f64)),
        errors: mine.iter().map(|m| m.errors).sum(),
        vs_bare,
    })
}

/// The markdown report.
pub(crate) fn render(all: &[Measurement], context: &Context) -> String {
    let mut out = String::new();
    let mut cells: Vec<(Style, usize)> = Vec::new();
    for m in all {
        if !cells.contains(&(m.style, m.connections)) {
            cells.push((m.style, m.connections));
        }
    }
    let _ = writeln!(
        out,
        "Machine: {} cores; load average before `{}`, after `{}`. TCP_NODELAY on the server's \
         accepted sockets: {}. `RUST_LOG` of the instrumented servers: `{}`.{} Per cell: {} s warm-up, {} s measured; {} round(s), configurations \
         in a rotating order; medians over rounds, ratios are medians of the per-round ratios to \
         bare. CPU is a share of one core over the measured time (the server and the load \
         generator share the machine); other processes' CPU is what the rest of the machine \
         used meanwhile, and where it is high the row measured contention.\n",
        context.cores,
        context.load_before,
        context.load_after,
        if context.nodelay { "on" } else { "OFF" },
        context.rust_log,
        if context.env.is_empty() {
            String::new()
        } else {
            format!(" Extra environment: `{}`.", context.env.join(" "))
        },
        context.warm_up.as_secs_f64(),
        context.measure.as_secs_f64(),
        context.rounds,
    );
    let _ = writeln!(
        out,
        "| requests | conns | server | req/s | × bare | p50 | p99 | p99 × bare | server CPU | server CPU per request | × bare | load generator CPU | OTLP sink CPU | other processes' CPU | machine idle | spans per request | errors |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut verdicts = Vec::new();
    let mut flags = Vec::new();
    let mut contended = Vec::new();
    let mut rows = 0;
    for &(style, connections) in &cells {
        for config in Config::ALL {
            let Some(r) = row(all, style, connections, config) else {
                continue;
            };
            rows += 1;
            let (ratio, p99_ratio, cpu_ratio) = match r.vs_bare {
                Some((t, p, c)) => (format!("{t:.3}"), format!("{p:.2}"), format!("{c:.2}")),
                None => (String::new(), String::new(), String::new()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {:.1} µs | {} | {} | {} | {} | {} | {} | {} |",
                style.name(),
                connections,
                config.name(),
                r.per_second,
                ratio,
                millis(r.p50),
                millis(r.p99),
                p99_ratio,
                percent(r.server_cpu),
                r.cpu_per_request * 1e6,
                cpu_ratio,
                percent(r.loadgen_cpu),
                if config.exports_traces() {
                    percent(r.sink_cpu)
                } else {
                    String::new()
                },
                percent(r.others_cpu),
                percent(r.machine_idle),
                r.spans_per_request
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_default(),
                r.errors,
            );
            let cell = match connections {
                1 => format!("{}, 1 connection", style.name()),
                n => format!("{}, {n} connections", style.name()),
            };
            if let Some((t, p, _)) = r.vs_bare.filter(|_| connections >= LOADED) {
                match config {
                    Config::Metrics => verdicts.push(format!(
                        "- {cell}, metrics only: throughput {:.1} % of bare (target ≥ 98 %: {}), \
                         p99 {p:.2} × bare (target ≤ 1.05: {})",
                        t * 100.0,
                        met(t >= 0.98),
                        met(p <= 1.05),
                    )),
                    Config::TracesOnePercent => verdicts.push(format!(
                        "- {cell}, metrics + 1 % traces: throughput {:.1} % of bare (target ≥ 95 %: {})",
                        t * 100.0,
                        met(t >= 0.95),
                    )),
                    _ => {}
                }
            }
            let stall = STALL.as_secs_f64();
            let waiting = if connections == 1 && r.p99 > stall {
                Some(format!("p99 {} on one connection", millis(r.p99)))
            } else if r.p50 > stall
                && (r.server_cpu < NEARLY_IDLE || (r.server_cpu < 0.5 && r.machine_idle > IDLE))
            {
                Some(format!(
                    "p50 {} while the server used {} of a core ({} of the machine idle)",
                    millis(r.p50),
                    percent(r.server_cpu),
                    percent(r.machine_idle)
                ))
            } else {
                None
            };
            if let Some(waiting) = waiting {
                flags.push(format!(
                    "- **{cell}, {}: {waiting}, for a tool that does no work.** Clients wait while \
                     the server idles: look for a stall such as Nagle's algorithm holding small \
                     writes until the client's delayed ACK (is TCP_NODELAY set on accepted \
                     sockets?), a lock or a timer.",
                    config.name(),
                ));
            }
            if r.loadgen_cpu > 0.8 {
                flags.push(format!(
                    "- {cell}, {}: the load generator used {} of a core and may be the bottleneck.",
                    config.name(),
                    percent(r.loadgen_cpu),
                ));
            }
            if r.others_cpu > CONTENDED {
                contended.push(format!("{cell}, {}", config.name()));
            }
            if r.errors > 0 {
                flags.push(format!(
                    "- {cell}, {}: {} failed requests.",
                    config.name(),
                    r.errors
                ));
            }
        }
    }
    if !verdicts.is_empty() {
        let _ = writeln!(out, "\nTargets:\n{}", verdicts.join("\n"));
    }
    if !context.checks.is_empty() {
        let _ = writeln!(out, "\nChecks:\n{}", context.checks.join("\n"));
    }
    if !contended.is_empty() {
        flags.push(format!(
            "- Other processes used more than {} of a core (median) while measuring {} of {} rows: \
             those numbers are contended; rerun on a quiet machine.{}",
            percent(CONTENDED),
            contended.len(),
            rows,
            if contended.len() == rows {
                String::new()
            } else {
                format!(" ({})", contended.join("; "))
            }
        ));
    }
    if !all.iter().any(|m| m.connections == 1) {
        flags.push(
            "- No one-connection cell was run: the unloaded stall check did not run (`--connections 1,..`)."
                .to_owned(),
        );
    }
    if flags.is_empty() {
        let _ = writeln!(
            out,
            "\nFlags: none (no stall above {} ms, no errors, load generator below 80 % of a core).",
            STALL.as_millis()
        );
    } else {
        let _ = writeln!(out, "\nFlags:\n{}", flags.join("\n"));
    }
    out
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}
