//! A recorder without state of its own (a zero-sized type that counts into statics) is a
//! recorder like any other: calls record into it, as a local recorder and as the global one.
#![cfg(feature = "metrics")]

use mcp_metrics::mcp_tool;
use metrics::{
    Counter, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static DURATIONS: AtomicU64 = AtomicU64::new(0);
static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);
static IN_FLIGHT_CHANGES: AtomicU64 = AtomicU64::new(0);

/// Counts every duration recorded and follows the in-flight gauge, in statics.
struct Counting;

struct Durations;
impl HistogramFn for Durations {
    fn record(&self, _: f64) {
        DURATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

struct InFlight;
impl GaugeFn for InFlight {
    fn increment(&self, value: f64) {
        IN_FLIGHT.fetch_add(value as i64, Ordering::SeqCst);
        IN_FLIGHT_CHANGES.fetch_add(1, Ordering::SeqCst);
    }
    fn decrement(&self, value: f64) {
        IN_FLIGHT.fetch_sub(value as i64, Ordering::SeqCst);
        IN_FLIGHT_CHANGES.fetch_add(1, Ordering::SeqCst);
    }
    fn set(&self, _: f64) {}
}

impl Recorder for Counting {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        assert_eq!(key.name(), "mcp_tool_calls_in_flight");
        Gauge::from_arc(Arc::new(InFlight))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        assert_eq!(key.name(), "mcp_tool_duration_seconds");
        Histogram::from_arc(Arc::new(Durations))
    }
}

#[mcp_tool(metrics)]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[test]
fn a_zero_sized_recorder_records_locally_and_globally() {
    assert_eq!(std::mem::size_of::<Counting>(), 0);
    metrics::with_local_recorder(&Counting, || {
        assert_eq!(add(1, 2), 3);
        assert_eq!(add(2, 3), 5);
    });
    assert_eq!(DURATIONS.load(Ordering::SeqCst), 2);
    assert_eq!(IN_FLIGHT_CHANGES.load(Ordering::SeqCst), 4);

    metrics::set_global_recorder(Counting).unwrap();
    for i in 0..3 {
        add(i, i);
    }
    assert_eq!(DURATIONS.load(Ordering::SeqCst), 5);
    assert_eq!(IN_FLIGHT_CHANGES.load(Ordering::SeqCst), 10);
    assert_eq!(IN_FLIGHT.load(Ordering::SeqCst), 0);
}
