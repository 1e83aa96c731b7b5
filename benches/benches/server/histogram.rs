//! Latency histogram of the load generator: log-linear buckets over nanoseconds, 64 buckets per
//! power of two (relative error under 1.6 %), fixed memory, recording is an index and an add.

use std::time::Duration;

/// Values below this are counted exactly, one bucket each.
const LINEAR: u64 = 128;
/// Buckets per power of two above `LINEAR`.
const PER_OCTAVE: u64 = 64;
/// Enough buckets for any `u64` nanoseconds.
const BUCKETS: usize = (LINEAR + (64 - 7) * PER_OCTAVE) as usize;

/// Counts of request latencies.
#[derive(Clone)]
pub(crate) struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

impl Histogram {
    pub(crate) fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
        }
    }

    fn index(nanos: u64) -> usize {
        if nanos < LINEAR {
            return nanos as usize;
        }
        let octave = 63 - u64::from(nanos.leading_zeros()); // >= 7
        let mantissa = nanos >> (octave - 6); // in [64, 128)
        (LINEAR + (octave - 7) * PER_OCTAVE + (mantissa - 64)) as usize
    }

    /// The largest value counted in bucket `index`.
    fn upper_bound(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let octave = (index - LINEAR) / PER_OCTAVE + 7;
        let mantissa = (index - LINEAR) % PER_OCTAVE + 64;
        let bound = (u128::from(mantissa) + 1) << (octave - 6);
        u64::try_from(bound - 1).unwrap_or(u64::MAX)
    }

    pub(crate) fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(nanos)] += 1;
        self.total += 1;
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
    }

    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    /// The latency at quantile `q` (0..=1): the upper bound of the bucket holding that rank.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(Self::upper_bound(index));
            }
        }
        Duration::from_nanos(u64::MAX)
    }
}

/// Checks the bucket arithmetic; the bench runs it before measuring (a `harness = false` target
/// has no test runner).
pub(crate) fn self_check() {
    for v in [
        0u64,
        1,
        127,
        128,
        129,
        1_000,
        43_210,
        2_000_000,
        1 << 40,
        u64::MAX,
    ] {
        let i = Histogram::index(v);
        assert!(i < BUCKETS, "{v}");
        assert!(Histogram::upper_bound(i) >= v, "{v}");
        if i > 0 {
            assert!(Histogram::upper_bound(i - 1) < v, "{v}");
        }
        assert!(Histogram::upper_bound(i) - v <= v / 64, "{v}");
    }
    let mut h = Histogram::new();
    for micros in 1..=1000 {
        h.record(Duration::from_micros(micros));
    }
    let p50 = h.quantile(0.5).as_nanos() as f64;
    let p99 = h.quantile(0.99).as_nanos() as f64;
    assert!((p50 / 500_000.0 - 1.0).abs() < 0.02, "{p50}");
    assert!((p99 / 990_000.0 - 1.0).abs() < 0.02, "{p99}");
    assert_eq!(h.count(), 1000);
}
