//! What a histogram record costs with explicit buckets alone (the default) and with base-2
//! exponential buckets beside them (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=
//! base2_exponential_bucket_histogram`), one thread, values spread over 0 to 0.7 s.
//!
//! `cargo bench -p mcp-metrics-exporter --bench histogram_layout` alternates the two layouts,
//! five rounds of ten million records each, and prints the wall time per record of each round.
//! With `RECORDS=n LAYOUT=explicit|exponential` the binary only makes `n` records into that
//! layout, for counting instructions: run it under `valgrind --tool=cachegrind` with two values
//! of `n`; the difference of the totals divided by the difference of `n` is the cost of one
//! record, without start-up.

use std::hint::black_box;
use std::time::Instant;

use mcp_metrics::names::DEFAULT_DURATION_BUCKETS;
use mcp_metrics::store::Histogram;

fn histogram(layout: &str) -> Histogram {
    match layout {
        "explicit" => Histogram::new(DEFAULT_DURATION_BUCKETS),
        "exponential" => Histogram::with_exponential(DEFAULT_DURATION_BUCKETS),
        other => panic!("LAYOUT is explicit or exponential, not {other}"),
    }
}

/// Records `n` values spread over the duration buckets.
fn record(h: &Histogram, n: u64) {
    for i in 0..n {
        h.record(black_box((i % 1000) as f64 * 0.0007));
    }
}

fn main() {
    if let Ok(records) = std::env::var("RECORDS") {
        let layout = std::env::var("LAYOUT").unwrap_or_else(|_| "explicit".into());
        let h = histogram(&layout);
        record(&h, records.parse().expect("RECORDS is a number"));
        assert!(h.count() > 0 || records == "0");
        return;
    }
    const N: u64 = 10_000_000;
    for round in 1..=5 {
        let mut line = format!("round {round}:");
        for layout in ["explicit", "exponential"] {
            let h = histogram(layout);
            let start = Instant::now();
            record(&h, N);
            let ns = start.elapsed().as_nanos() as f64 / N as f64;
            assert_eq!(h.count(), N);
            line.push_str(&format!(" {layout} {ns:.2} ns"));
        }
        println!("{line}");
    }
}
