//! Per-call cost of a tool function: bare, a hand-written floor, `#[mcp_tool]` and peers, in one run.
//!
//! `cargo bench -p mcp-metrics-benches --bench overhead` measures the instrumented variants;
//! `cargo bench -p mcp-metrics-benches --bench overhead --no-default-features` builds the same
//! functions with `#[mcp_tool]` compiled out and measures them next to the bare function.

// `criterion_group!` and `criterion_main!` generate functions without docs.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct NoError;

#[inline(never)]
fn bare(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
async fn bare_async(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
#[mcp_metrics::mcp_tool(metrics)]
fn tool_metrics(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
#[mcp_metrics::mcp_tool(metrics)]
async fn tool_metrics_async(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
#[mcp_metrics::mcp_tool(metrics, trace)]
fn tool_metrics_trace(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
#[mcp_metrics::mcp_tool(metrics, trace)]
async fn tool_metrics_trace_async(x: u64) -> Result<u64, NoError> {
    Ok(black_box(x).wrapping_mul(3))
}

/// Polls a future that completes without waiting, with no runtime around it.
fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the benchmarked futures never wait"),
    }
}

#[cfg(feature = "instrumented")]
mod peers {
    use super::*;
    use autometrics::autometrics;
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

    /// The atomics a recorded call needs, laid out as the store lays them out: the in-flight
    /// gauge, and one bucket's count and sum side by side.
    static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);
    #[repr(align(16))]
    struct Bucket {
        count: AtomicU64,
        sum: AtomicU64,
    }
    static BUCKET: Bucket = Bucket {
        count: AtomicU64::new(0),
        sum: AtomicU64::new(0),
    };

    fn clock() -> &'static quanta::Clock {
        static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
        CLOCK.get_or_init(quanta::Clock::new)
    }

    /// The same work as a recorded call, written by hand: two clock reads and the four atomic
    /// read-modify-writes of the metric surface (in-flight up, the bucket's count, the bucket's
    /// `f64` sum by compare-and-swap, in-flight down), into a fixed bucket (no bucket search).
    #[inline(never)]
    pub(super) fn floor_same_work(x: u64) -> Result<u64, NoError> {
        let clock = clock();
        IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
        let start = clock.raw();
        let r = Ok(black_box(x).wrapping_mul(3));
        let seconds = clock.delta_as_nanos(start, clock.raw()) as f64 * 1e-9;
        BUCKET.count.fetch_add(1, Ordering::Relaxed);
        let mut current = BUCKET.sum.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + seconds).to_bits();
            match BUCKET.sum.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
        r
    }

    /// The usual hand-written code: `metrics` macros with labels on every call.
    #[inline(never)]
    pub(super) fn hand_macros(x: u64) -> Result<u64, NoError> {
        let start = std::time::Instant::now();
        let r = Ok(black_box(x).wrapping_mul(3));
        metrics::counter!("hand_calls_total", "tool" => "hand", "outcome" => "success")
            .increment(1);
        metrics::histogram!("hand_duration_seconds", "tool" => "hand", "outcome" => "success")
            .record(start.elapsed().as_secs_f64());
        r
    }

    #[inline(never)]
    #[autometrics]
    pub(super) fn autometrics_fn(x: u64) -> Result<u64, String> {
        Ok(black_box(x).wrapping_mul(3))
    }
}

/// Installs the exporter as an application does: its registry becomes the global `metrics`
/// recorder and the store `#[mcp_tool]` call sites record into.
#[cfg(feature = "instrumented")]
fn install_recorder() {
    let handle = mcp_metrics_exporter::ExporterBuilder::new()
        .without_listener()
        .install()
        .expect("no recorder installed before");
    // No listener or task runs; the registry lives as long as the process.
    std::mem::forget(handle);
}

fn sync_calls(c: &mut Criterion) {
    #[cfg(feature = "instrumented")]
    install_recorder();
    let mut g = c.benchmark_group("sync");
    g.bench_function("bare", |b| b.iter(|| bare(black_box(7))));
    #[cfg(feature = "instrumented")]
    {
        g.bench_function("floor_same_work", |b| {
            b.iter(|| peers::floor_same_work(black_box(7)))
        });
        g.bench_function("mcp_tool_metrics", |b| {
            b.iter(|| tool_metrics(black_box(7)))
        });
        g.bench_function("mcp_tool_metrics_trace_no_subscriber", |b| {
            b.iter(|| tool_metrics_trace(black_box(7)))
        });
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            g.bench_function("mcp_tool_metrics_trace_subscriber", |b| {
                b.iter(|| tool_metrics_trace(black_box(7)))
            });
        });
        g.bench_function("hand_written_metrics_macros", |b| {
            b.iter(|| peers::hand_macros(black_box(7)))
        });
        g.bench_function("autometrics", |b| {
            b.iter(|| peers::autometrics_fn(black_box(7)))
        });
    }
    #[cfg(not(feature = "instrumented"))]
    {
        g.bench_function("mcp_tool_compiled_out", |b| {
            b.iter(|| tool_metrics_trace(black_box(7)))
        });
        g.bench_function("mcp_tool_metrics_compiled_out", |b| {
            b.iter(|| tool_metrics(black_box(7)))
        });
    }
    g.finish();
}

fn async_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("async");
    g.bench_function("bare", |b| b.iter(|| run(bare_async(black_box(7)))));
    #[cfg(feature = "instrumented")]
    {
        g.bench_function("mcp_tool_metrics", |b| {
            b.iter(|| run(tool_metrics_async(black_box(7))))
        });
        g.bench_function("mcp_tool_metrics_trace_no_subscriber", |b| {
            b.iter(|| run(tool_metrics_trace_async(black_box(7))))
        });
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            g.bench_function("mcp_tool_metrics_trace_subscriber", |b| {
                b.iter(|| run(tool_metrics_trace_async(black_box(7))))
            });
        });
    }
    #[cfg(not(feature = "instrumented"))]
    {
        g.bench_function("mcp_tool_compiled_out", |b| {
            b.iter(|| run(tool_metrics_trace_async(black_box(7))))
        });
        g.bench_function("mcp_tool_metrics_compiled_out", |b| {
            b.iter(|| run(tool_metrics_async(black_box(7))))
        });
    }
    g.finish();
}

/// Time per call with two threads calling the same tool at once.
fn contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("two_threads");
    let per_thread = |f: fn(u64) -> Result<u64, NoError>| {
        move |iters: u64| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(move || {
                        for i in 0..iters {
                            let _ = black_box(f(black_box(i)));
                        }
                    });
                }
            });
            // Wall time per call per thread: equal to the single-thread cost when nothing is shared.
            start.elapsed()
        }
    };
    g.bench_function("bare", |b| b.iter_custom(per_thread(bare)));
    #[cfg(feature = "instrumented")]
    {
        g.bench_function("floor_same_work", |b| {
            b.iter_custom(per_thread(peers::floor_same_work))
        });
        g.bench_function("mcp_tool_metrics", |b| {
            b.iter_custom(per_thread(tool_metrics))
        });
        g.bench_function("hand_written_metrics_macros", |b| {
            b.iter_custom(per_thread(peers::hand_macros))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = sync_calls, async_calls, contention
}
criterion_main!(benches);
