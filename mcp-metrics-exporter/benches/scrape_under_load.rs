//! Scrapes of a big registry while two threads record: how long a scrape takes, how much it
//! slows the recording threads down, whether it makes a new series wait, and what the registry
//! keeps in memory per series.
//!
//! `cargo bench -p mcp-metrics-exporter --bench scrape_under_load`
//!
//! The registry holds 100,000 series: 90,000 counters and 10,000 duration histograms (16
//! buckets each). Two threads record tool-call durations through the store, as `#[mcp_tool]`
//! call sites do, each into a histogram of its own: two threads recording into one series
//! would mostly measure the transfers of its cache lines between the cores, a cost that a
//! scrape lowers by taking one of the cores away. Each round measures three windows of the
//! same length:
//!
//! - **quiet**: recording, no scrapes;
//! - **back to back**: recording while a third thread renders the text format without pause,
//!   the worst case for the recorders;
//! - **every 1 s**: recording while the third thread renders once a second, the most
//!   aggressive interval a Prometheus is usually configured with (its default is 15 s).
//!
//! During both scraping windows a fourth thread registers a new series every 20 ms and times
//! each registration: a registration that must wait for a render shows up there.
//!
//! Recording speed is reported per second of wall time and per second of the recording
//! threads' own CPU time. On a machine with two cores, three busy threads share two cores, so
//! back-to-back scrapes take a third of the recorders' CPU whatever a render costs; the
//! per-CPU-second figure shows what is left: interference through locks and cache lines.
//!
//! Options: `--rounds N` (default 5; 0 for renders alone only), `--seconds S` per window
//! (default 4), `--renders N` alone (default 30), `--changed-renders N` alone, each after a new
//! series (default 30).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mcp_metrics::names::TOOL_DURATION_SECONDS;
use mcp_metrics::store::{Histogram, Store as _};
use mcp_metrics_exporter::{Registry, RegistryConfig};
use metrics::{Key, Label, counter, histogram, with_local_recorder};

#[path = "support/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

const COUNTERS: usize = 90_000;
const HISTOGRAMS: usize = 10_000;
const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
const REGISTER_EVERY: Duration = Duration::from_millis(20);

struct Options {
    rounds: usize,
    window: Duration,
    renders: usize,
    changed_renders: usize,
}

impl Options {
    fn from_args() -> Self {
        let mut options = Options {
            rounds: 5,
            window: Duration::from_secs(4),
            renders: 30,
            changed_renders: 30,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || -> u64 {
                let v = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
                v.parse()
                    .unwrap_or_else(|_| panic!("{arg}: not a number: {v}"))
            };
            match arg.as_str() {
                "--rounds" => options.rounds = value() as usize,
                "--seconds" => options.window = Duration::from_secs(value()),
                "--renders" => options.renders = value() as usize,
                "--changed-renders" => options.changed_renders = value() as usize,
                // `cargo bench` passes `--bench`.
                "--bench" => {}
                other => panic!(
                    "unknown option {other}; known: --rounds N, --seconds S, --renders N, --changed-renders N"
                ),
            }
        }
        options
    }
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs no other state.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn fill(registry: &Registry) {
    with_local_recorder(registry, || {
        for i in 0..COUNTERS {
            counter!("mcp_requests_total", "tool" => format!("tool_{:05}", i / 9), "outcome" => format!("o{}", i % 9))
                .increment(i as u64);
        }
        for i in 0..HISTOGRAMS {
            let h = histogram!(TOOL_DURATION_SECONDS, "tool" => format!("tool_{:05}", i / 2), "outcome" => if i % 2 == 0 { "success" } else { "cancelled" });
            for v in [0.003, 0.07, 1.5] {
                h.record(v);
            }
        }
    });
}

/// Heap bytes per series: of the filled registry, and what the first render leaves behind
/// (caches), without its output.
fn memory_per_series() -> (Registry, f64, f64) {
    let before = counting::live();
    let registry = Registry::new(RegistryConfig::new().series_limit(1_000_000));
    fill(&registry);
    let filled = counting::live();
    drop(black_box(registry.render_prometheus()));
    let rendered = counting::live();
    let series = registry.series_count() as f64;
    let per = |bytes: isize| bytes as f64 / series;
    (registry, per(filled - before), per(rendered - filled))
}

/// What the recording threads did in one window.
#[derive(Clone, Copy)]
struct Recorded {
    records: u64,
    wall: Duration,
    cpu: Duration,
}

impl Recorded {
    fn per_wall(&self) -> f64 {
        self.records as f64 / self.wall.as_secs_f64() / 1e6
    }

    fn per_cpu(&self) -> f64 {
        self.records as f64 / self.cpu.as_secs_f64() / 1e6
    }
}

/// The two series the recording threads record into, one each.
type Hot = [Arc<Histogram>; 2];

/// Records from two threads for `window`, each into its series of `hot`.
fn record(hot: &Hot, window: Duration) -> Recorded {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let (h, stop) = (&hot[t as usize], &stop);
                s.spawn(move || {
                    let cpu = thread_cpu_time();
                    let start = Instant::now();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for i in 0..1_000u64 {
                            h.record(black_box(((i + t) % 200) as f64 * 0.0001));
                        }
                        n += 1_000;
                    }
                    (n, start.elapsed(), thread_cpu_time() - cpu)
                })
            })
            .collect();
        std::thread::sleep(window);
        stop.store(true, Ordering::Relaxed);
        let mut all = Recorded {
            records: 0,
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
        };
        for t in threads {
            let (n, wall, cpu) = t.join().expect("recorder");
            all.records += n;
            all.wall = all.wall.max(wall);
            all.cpu += cpu;
        }
        all
    })
}

/// How a window scrapes.
#[derive(Clone, Copy, PartialEq)]
enum Schedule {
    BackToBack,
    Every(Duration),
}

/// Wall time and CPU time of one render.
#[derive(Clone, Copy)]
struct RenderTime {
    wall: Duration,
    cpu: Duration,
}

/// Renders the registry once, timed.
fn timed_render(registry: &Registry) -> RenderTime {
    let (cpu, start) = (thread_cpu_time(), Instant::now());
    black_box(registry.render_prometheus());
    RenderTime {
        wall: start.elapsed(),
        cpu: thread_cpu_time() - cpu,
    }
}

/// Render times and registration times of one scraping window.
#[derive(Default)]
struct Scraped {
    renders: Vec<RenderTime>,
    registrations: Vec<Duration>,
}

/// Records for `window` while a thread scrapes on `schedule` and another registers a new
/// series every [`REGISTER_EVERY`].
fn record_while_scraping(
    registry: &Registry,
    hot: &Hot,
    window: Duration,
    schedule: Schedule,
    next_probe: &mut usize,
) -> (Recorded, Scraped) {
    let running = AtomicBool::new(true);
    let first_probe = *next_probe;
    let (recorded, renders, (registrations, last_probe)) = std::thread::scope(|s| {
        let scraper = s.spawn(|| {
            let mut times = Vec::new();
            while running.load(Ordering::Relaxed) {
                let time = timed_render(registry);
                times.push(time);
                if let Schedule::Every(interval) = schedule {
                    sleep_while(&running, interval.saturating_sub(time.wall));
                }
            }
            times
        });
        let prober = s.spawn(|| {
            let mut times = Vec::new();
            let mut i = first_probe;
            while running.load(Ordering::Relaxed) {
                let key = Key::from_parts("probe", vec![Label::new("i", i.to_string())]);
                let start = Instant::now();
                black_box(registry.gauge(&key).expect("a probe series"));
                times.push(start.elapsed());
                i += 1;
                sleep_while(&running, REGISTER_EVERY);
            }
            (times, i)
        });
        let recorded = record(hot, window);
        running.store(false, Ordering::Relaxed);
        let scraped = scraper.join().expect("scraper");
        (recorded, scraped, prober.join().expect("prober"))
    });
    *next_probe = last_probe;
    let scraped = Scraped {
        renders,
        registrations,
    };
    (recorded, scraped)
}

/// Sleeps for `d`, waking early once `running` is cleared.
fn sleep_while(running: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while running.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(10)));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// `12.3 ms`, or `45 µs` below a millisecond.
fn ms(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// `count | p50 | p99 | max` of `times`, in milliseconds.
fn summary(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "{} | {} | {} | {}",
        times.len(),
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.99)),
        ms(*times.last().expect("samples")),
    )
}

fn time_row(name: &str, times: &mut [Duration]) {
    if !times.is_empty() {
        println!("| {name} | {} |", summary(times));
    }
}

fn render_row(name: &str, times: &[RenderTime]) {
    if times.is_empty() {
        return;
    }
    let mut wall: Vec<Duration> = times.iter().map(|t| t.wall).collect();
    let mut cpu: Vec<Duration> = times.iter().map(|t| t.cpu).collect();
    cpu.sort();
    println!(
        "| {name} | {} | {} | {} |",
        summary(&mut wall),
        ms(percentile(&cpu, 0.5)),
        ms(percentile(&cpu, 0.99)),
    );
}

/// Renders alone: `options.renders` renders of the unchanged registry, and
/// `options.changed_renders` renders each after a new series in the biggest family.
fn alone(registry: &Registry, options: &Options) -> (Vec<RenderTime>, Vec<RenderTime>) {
    let time = || timed_render(registry);
    let unchanged = (0..options.renders).map(|_| time()).collect();
    let after_new_series = (0..options.changed_renders)
        .map(|i| {
            with_local_recorder(registry, || {
                counter!("mcp_requests_total", "tool" => "new", "outcome" => i.to_string())
                    .increment(1);
            });
            time()
        })
        .collect();
    (unchanged, after_new_series)
}

fn main() {
    let options = Options::from_args();
    let load_before = load_average();
    let (registry, registry_bytes, cache_bytes) = memory_per_series();
    assert_eq!(registry.series_count(), COUNTERS + HISTOGRAMS);
    let hot = ["success", "cancelled"].map(|outcome| {
        let labels = vec![
            Label::new("tool", "tool_00000"),
            Label::new("outcome", outcome),
        ];
        let key = Key::from_parts(TOOL_DURATION_SECONDS, labels);
        registry.histogram(&key).expect("a filled series")
    });
    let bytes = registry.render_prometheus().len();

    let (unchanged, after_new_series) = alone(&registry, &options);

    let mut quiet = Vec::new();
    let mut busy: [(Vec<Recorded>, Scraped); 2] = Default::default();
    let schedules = [Schedule::BackToBack, Schedule::Every(SCRAPE_INTERVAL)];
    let mut next_probe = 0;
    for _ in 0..options.rounds {
        quiet.push(record(&hot, options.window));
        for (schedule, (recorded, scraped)) in schedules.iter().zip(&mut busy) {
            let (r, s) =
                record_while_scraping(&registry, &hot, options.window, *schedule, &mut next_probe);
            recorded.push(r);
            scraped.renders.extend(s.renders);
            scraped.registrations.extend(s.registrations);
        }
    }
    report(
        &options,
        bytes,
        (registry_bytes, cache_bytes),
        (&unchanged, &after_new_series),
        &quiet,
        &mut busy,
    );
    println!(
        "\nload average before: {load_before}; after: {}",
        load_average()
    );
}

fn report(
    options: &Options,
    bytes: usize,
    (registry_bytes, cache_bytes): (f64, f64),
    (unchanged, after_new_series): (&[RenderTime], &[RenderTime]),
    quiet: &[Recorded],
    busy: &mut [(Vec<Recorded>, Scraped); 2],
) {
    println!(
        "registry: {} series ({COUNTERS} counters, {HISTOGRAMS} histograms of 16 buckets), {:.1} MiB of text",
        COUNTERS + HISTOGRAMS,
        bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "heap per series: {registry_bytes:.0} B after filling, {cache_bytes:+.0} B kept by the first render"
    );
    println!(
        "{} rounds of {} s windows; medians over rounds\n",
        options.rounds,
        options.window.as_secs()
    );
    println!("| scrape | renders | p50 | p99 | max | p50 CPU | p99 CPU |");
    println!("|---|---|---|---|---|---|---|");
    render_row("alone", unchanged);
    render_row("alone, each after a new series", after_new_series);
    let names = ["back to back", "every 1 s"];
    for (name, (_, scraped)) in names.iter().zip(busy.iter_mut()) {
        render_row(
            &format!("{name}, while two threads record"),
            &scraped.renders,
        );
    }
    println!("\n| new series registered during scrapes | registrations | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, (_, scraped)) in names.iter().zip(busy.iter_mut()) {
        time_row(name, &mut scraped.registrations);
    }
    if quiet.is_empty() {
        return;
    }
    println!(
        "\n| recording, two threads, a series each | M records/s (wall) | M records per CPU-second | × quiet (wall) | × quiet (CPU) |"
    );
    println!("|---|---|---|---|---|");
    let column = |rs: &[Recorded], f: fn(&Recorded) -> f64| {
        median(&mut rs.iter().map(f).collect::<Vec<_>>())
    };
    println!(
        "| quiet | {:.1} | {:.1} | | |",
        column(quiet, Recorded::per_wall),
        column(quiet, Recorded::per_cpu)
    );
    let mut per_round = Vec::new();
    for (name, (recorded, _)) in names.iter().zip(busy.iter()) {
        let ratios = |f: fn(&Recorded) -> f64| -> Vec<f64> {
            recorded
                .iter()
                .zip(quiet)
                .map(|(b, q)| f(b) / f(q))
                .collect()
        };
        let (mut wall, mut cpu) = (ratios(Recorded::per_wall), ratios(Recorded::per_cpu));
        per_round.push(format!("scrapes {name}: wall {wall:.3?}, CPU {cpu:.3?}"));
        println!(
            "| scrapes {name} | {:.1} | {:.1} | {:.3} | {:.3} |",
            column(recorded, Recorded::per_wall),
            column(recorded, Recorded::per_cpu),
            median(&mut wall),
            median(&mut cpu),
        );
    }
    println!("\n× quiet per round (each scraping window against the quiet window of its round):");
    for line in per_round {
        println!("- {line}");
    }
}
