//! Render time and histogram record cost: this crate's backend against
//! metrics-exporter-prometheus 0.18, in one run.
//!
//! `cargo bench -p mcp-metrics-exporter --bench exporter`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_main};
use mcp_metrics::names::{DEFAULT_DURATION_BUCKETS, TOOL_DURATION_SECONDS};
use mcp_metrics_exporter::{Registry, RegistryConfig};
use metrics::{Recorder, counter, histogram, with_local_recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

const OUTCOMES: [&str; 5] = ["success", "error", "tool_error", "panic", "cancelled"];

fn ours() -> Registry {
    Registry::new(RegistryConfig::new().series_limit(1_000_000))
}

fn theirs() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new()
        .set_buckets(DEFAULT_DURATION_BUCKETS)
        .expect("valid buckets")
        .build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// A counter named like the request counters of an MCP server.
const CALLS_TOTAL: &str = "mcp_calls_total";

/// `series` counter series of a calls counter, each incremented once.
fn fill_counters(recorder: &dyn Recorder, series: usize) {
    with_local_recorder(recorder, || {
        for i in 0..series {
            let tool = format!("tool_{:06}", i / OUTCOMES.len());
            counter!(CALLS_TOTAL, "tool" => tool, "outcome" => OUTCOMES[i % OUTCOMES.len()])
                .increment(i as u64);
        }
    });
}

/// `series` histogram series of the tool-duration metric, each with a few values.
fn fill_histograms(recorder: &dyn Recorder, series: usize) {
    with_local_recorder(recorder, || {
        for i in 0..series {
            let tool = format!("tool_{:06}", i / OUTCOMES.len());
            let h = histogram!(TOOL_DURATION_SECONDS, "tool" => tool, "outcome" => OUTCOMES[i % OUTCOMES.len()]);
            for v in [0.003, 0.07, 1.5] {
                h.record(v);
            }
        }
    });
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for (kind, sizes) in [
        ("counters", &[1_000usize, 10_000, 100_000][..]),
        ("histograms", &[1_000, 10_000][..]),
    ] {
        let fill: fn(&dyn Recorder, usize) = if kind == "counters" {
            fill_counters
        } else {
            fill_histograms
        };
        for &n in sizes {
            let registry = ours();
            fill(&registry, n);
            assert_eq!(registry.series_count(), n);
            group.bench_with_input(
                BenchmarkId::new(format!("{kind}/mcp-metrics-exporter"), n),
                &n,
                |b, _| {
                    b.iter(|| black_box(registry.render_prometheus()));
                },
            );
            drop(registry);

            let (recorder, handle) = theirs();
            fill(&recorder, n);
            // In production the exporter's upkeep task drains histogram samples every 5 s.
            handle.run_upkeep();
            group.bench_with_input(
                BenchmarkId::new(format!("{kind}/metrics-exporter-prometheus"), n),
                &n,
                |b, _| {
                    b.iter(|| black_box(handle.render()));
                },
            );
        }
    }
    group.finish();
}

/// Values spread over the default buckets.
fn value(i: u64) -> f64 {
    (i % 1000) as f64 * 0.0007
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram_record");
    group.measurement_time(Duration::from_secs(3));

    let registry = ours();
    let h = with_local_recorder(
        &registry,
        || histogram!(TOOL_DURATION_SECONDS, "tool" => "t", "outcome" => "success"),
    );
    let mut i = 0u64;
    group.bench_function("mcp-metrics-exporter", |b| {
        b.iter(|| {
            i += 1;
            h.record(black_box(value(i)));
        });
    });

    let (recorder, handle) = theirs();
    let h = with_local_recorder(
        &recorder,
        || histogram!(TOOL_DURATION_SECONDS, "tool" => "t", "outcome" => "success"),
    );
    group.bench_function("metrics-exporter-prometheus", |b| {
        // Upkeep drains the raw samples between batches, outside the timed section, as its
        // background task would; without it memory grows with every record.
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let batch = (iters - done).min(100_000);
                let start = Instant::now();
                for j in 0..batch {
                    h.record(black_box(value(done + j)));
                }
                elapsed += start.elapsed();
                done += batch;
                handle.run_upkeep();
            }
            elapsed
        });
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`.
    criterion::criterion_group!(benches, super::render, super::record);
}
criterion_main!(group::benches);
