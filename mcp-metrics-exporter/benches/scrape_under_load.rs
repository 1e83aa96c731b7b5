//! A scrape of a big registry while two threads record: how long the scrape takes, and how much
//! it slows the recording threads down.
//!
//! `cargo bench -p mcp-metrics-exporter --bench scrape_under_load`
//!
//! The registry holds 100,000 series: 90,000 counters and 10,000 duration histograms (16
//! buckets each). Two threads record tool-call durations into the store, as `#[mcp_tool]` call
//! sites do, for a fixed time without scrapes and then with a third thread rendering the text
//! format back to back. Recording speed is reported per second of wall time and per second of
//! the recording threads' own CPU time: on a machine with fewer free cores than threads, the
//! scraping thread takes CPU time from the recorders, which lowers the first figure but not the
//! second; what the second measures is interference (locks, cache lines) only.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mcp_metrics::names::TOOL_DURATION_SECONDS;
use mcp_metrics::store::{Histogram, Store as _};
use mcp_metrics_exporter::{Registry, RegistryConfig};
use metrics::{Key, Label, counter, histogram, with_local_recorder};

const COUNTERS: usize = 90_000;
const HISTOGRAMS: usize = 10_000;
const WINDOW: Duration = Duration::from_secs(4);

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

/// Records into `h` from two threads until `stop`; returns records, wall time and CPU time.
fn record(h: &Arc<Histogram>, stop: &AtomicBool) -> (u64, Duration, Duration) {
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let h = h.clone();
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
        std::thread::sleep(WINDOW);
        stop.store(true, Ordering::Relaxed);
        threads
            .into_iter()
            .map(|t| t.join().expect("recorder"))
            .fold((0, Duration::ZERO, Duration::ZERO), |a, b| {
                (a.0 + b.0, a.1.max(b.1), a.2 + b.2)
            })
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let registry = Registry::new(RegistryConfig::new().series_limit(1_000_000));
    fill(&registry);
    assert_eq!(registry.series_count(), COUNTERS + HISTOGRAMS);
    let key = Key::from_parts(
        TOOL_DURATION_SECONDS,
        vec![Label::new("tool", "hot"), Label::new("outcome", "success")],
    );
    let hot = registry.histogram(&key).expect("the hot series");

    // Scrapes alone.
    let mut alone = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        black_box(registry.render_prometheus());
        alone.push(start.elapsed());
    }
    alone.sort();

    // Recording alone.
    let stop = AtomicBool::new(false);
    let (quiet_n, quiet_wall, quiet_cpu) = record(&hot, &stop);

    // Recording while a third thread scrapes back to back.
    let stop = AtomicBool::new(false);
    let scraping = AtomicBool::new(true);
    let (busy, busy_scrapes) = std::thread::scope(|s| {
        let scraper = s.spawn(|| {
            let mut times = Vec::new();
            while scraping.load(Ordering::Relaxed) {
                let start = Instant::now();
                let text = registry.render_prometheus();
                times.push(start.elapsed());
                black_box(text);
            }
            times
        });
        let busy = record(&hot, &stop);
        scraping.store(false, Ordering::Relaxed);
        (busy, scraper.join().expect("scraper"))
    });
    let (busy_n, busy_wall, busy_cpu) = busy;
    let mut busy_scrapes = busy_scrapes;
    busy_scrapes.sort();

    let per = |n: u64, d: Duration| n as f64 / d.as_secs_f64() / 1e6;
    let bytes = registry.render_prometheus().len();
    println!(
        "registry: {} series ({COUNTERS} counters, {HISTOGRAMS} histograms of 16 buckets), {:.1} MiB of text\n",
        registry.series_count(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    println!("| scrape | renders | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, times) in [
        ("alone", &alone),
        ("while two threads record", &busy_scrapes),
    ] {
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            times.len(),
            percentile(times, 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.99).as_secs_f64() * 1e3,
            times.last().expect("renders").as_secs_f64() * 1e3,
        );
    }
    println!();
    println!(
        "| recording, two threads | records | M records/s (wall) | M records per CPU-second |"
    );
    println!("|---|---|---|---|");
    println!(
        "| without scrapes | {quiet_n} | {:.2} | {:.2} |",
        per(quiet_n, quiet_wall),
        per(quiet_n, quiet_cpu)
    );
    println!(
        "| during scrapes | {busy_n} | {:.2} | {:.2} |",
        per(busy_n, busy_wall),
        per(busy_n, busy_cpu)
    );
    println!(
        "\nduring scrapes / without: {:.3} per wall second, {:.3} per CPU-second",
        per(busy_n, busy_wall) / per(quiet_n, quiet_wall),
        per(busy_n, busy_cpu) / per(quiet_n, quiet_cpu)
    );
}
