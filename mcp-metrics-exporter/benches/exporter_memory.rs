//! Heap growth after 10 million histogram records, this crate's backend against
//! metrics-exporter-prometheus 0.18, measured with a counting global allocator.
//!
//! `cargo bench -p mcp-metrics-exporter --bench exporter_memory`

use std::hint::black_box;
use std::time::Instant;

use mcp_metrics::names::{DEFAULT_DURATION_BUCKETS, TOOL_DURATION_SECONDS};
use mcp_metrics_exporter::Registry;
use metrics::{Histogram, Recorder, histogram, with_local_recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

#[path = "support/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

const RECORDS: u64 = 10_000_000;

struct Measure {
    name: &'static str,
    growth: isize,
    peak_growth: isize,
    ns_per_record: f64,
}

/// Records `RECORDS` values into `h`, calling `upkeep` every `upkeep_every` records, and
/// measures live-heap growth at the end and at its peak.
fn measure(
    name: &'static str,
    h: &Histogram,
    upkeep_every: Option<u64>,
    upkeep: &dyn Fn(),
) -> Measure {
    let before = counting::restart_peak();
    let start = Instant::now();
    for i in 0..RECORDS {
        h.record(black_box((i % 1000) as f64 * 0.0007));
        if upkeep_every.is_some_and(|every| (i + 1) % every == 0) {
            upkeep();
        }
    }
    let elapsed = start.elapsed();
    Measure {
        name,
        growth: counting::live() - before,
        peak_growth: counting::peak() - before,
        ns_per_record: elapsed.as_nanos() as f64 / RECORDS as f64,
    }
}

fn theirs() -> (
    metrics_exporter_prometheus::PrometheusRecorder,
    PrometheusHandle,
) {
    let recorder = PrometheusBuilder::new()
        .set_buckets(DEFAULT_DURATION_BUCKETS)
        .expect("valid buckets")
        .build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

fn handle_of(recorder: &dyn Recorder) -> Histogram {
    with_local_recorder(
        recorder,
        || histogram!(TOOL_DURATION_SECONDS, "tool" => "t", "outcome" => "success"),
    )
}

/// Wall time per record and thread when two threads record `RECORDS / 2` values each into
/// the same series.
fn contended(h: &Histogram) -> f64 {
    let per_thread = RECORDS / 2;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2 {
            s.spawn(move || {
                for i in 0..per_thread {
                    h.record(black_box(((i + t) % 1000) as f64 * 0.0007));
                }
            });
        }
    });
    start.elapsed().as_nanos() as f64 / per_thread as f64
}

fn mib(bytes: isize) -> String {
    format!("{:.2} MiB ({bytes} B)", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then this
    // measurement is skipped. A filter that excludes this bench also means: do nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !args.is_empty() && !args.iter().any(|a| "exporter_memory".contains(a.as_str())) {
        return;
    }
    let mut results = Vec::new();

    let registry = Registry::default();
    let h = handle_of(&registry);
    results.push(measure("mcp-metrics-exporter", &h, None, &|| {}));
    assert!(registry.render_prometheus().contains(&format!(
        "_count{{outcome=\"success\",tool=\"t\"}} {RECORDS}"
    )));

    let (recorder, handle) = theirs();
    let h = handle_of(&recorder);
    results.push(measure(
        "metrics-exporter-prometheus, no upkeep (install_recorder)",
        &h,
        None,
        &|| {},
    ));
    drop((h, recorder, handle));

    let (recorder, handle) = theirs();
    let h = handle_of(&recorder);
    let upkeep = || handle.run_upkeep();
    results.push(measure(
        "metrics-exporter-prometheus, upkeep every 1M records",
        &h,
        Some(1_000_000),
        &upkeep,
    ));
    let text = handle.render();
    assert!(
        text.contains(&format!(
            "_count{{tool=\"t\",outcome=\"success\"}} {RECORDS}"
        )),
        "{text}"
    );

    let contention = [
        (
            "mcp-metrics-exporter",
            contended(&handle_of(&Registry::default())),
        ),
        ("metrics-exporter-prometheus", {
            let (recorder, _handle) = theirs();
            contended(&handle_of(&recorder))
        }),
    ];

    println!(
        "heap growth after {RECORDS} histogram records into one series (default duration buckets)"
    );
    println!("| backend | live heap growth | peak heap growth | ns/record (incl. loop) |");
    println!("|---|---|---|---|");
    for m in &results {
        println!(
            "| {} | {} | {} | {:.1} |",
            m.name,
            mib(m.growth),
            mib(m.peak_growth),
            m.ns_per_record
        );
    }
    println!();
    println!(
        "two threads recording into one series, {} records each",
        RECORDS / 2
    );
    println!("| backend | ns/record per thread (wall) |");
    println!("|---|---|");
    for (name, ns) in contention {
        println!("| {name} | {ns:.1} |");
    }
}
