//! A gauge that takes whole-number increments with one atomic add.
//!
//! `metrics` gauges are `f64`. An `f64` in an atomic needs a compare-and-swap loop for every
//! increment, which retries under contention; an in-flight gauge moves up and down on every call.
//! Whole-number increments (the common case) therefore go to an integer counterpart with
//! `fetch_add`; other changes go to the `f64` part, and the value is the sum of both.

use metrics::GaugeFn;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Largest whole increment kept in the integer part (exact in `f64`).
const MAX_WHOLE: f64 = (1u64 << 53) as f64;

/// Adds `delta` to the `f64` whose bits are in `atomic`, with a compare-and-swap loop.
pub(crate) fn add_f64(atomic: &AtomicU64, delta: f64) {
    let mut current = atomic.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match atomic.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

#[derive(Debug)]
pub(crate) struct AtomicGauge {
    /// The value last set plus non-integral changes, as `f64` bits.
    base: AtomicU64,
    /// Whole-number increments since the last set.
    whole: AtomicI64,
}

impl AtomicGauge {
    pub(crate) fn new() -> Self {
        AtomicGauge {
            base: AtomicU64::new(0f64.to_bits()),
            whole: AtomicI64::new(0),
        }
    }

    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.base.load(Ordering::Acquire))
            + self.whole.load(Ordering::Acquire) as f64
    }

    fn add(&self, delta: f64) {
        if delta.fract() == 0.0 && delta.abs() < MAX_WHOLE {
            self.whole.fetch_add(delta as i64, Ordering::AcqRel);
            return;
        }
        add_f64(&self.base, delta);
    }
}

impl GaugeFn for AtomicGauge {
    fn increment(&self, value: f64) {
        self.add(value);
    }

    fn decrement(&self, value: f64) {
        self.add(-value);
    }

    fn set(&self, value: f64) {
        // Increments racing with `set` either land before it (and are cleared) or after it.
        self.whole.swap(0, Ordering::AcqRel);
        self.base.store(value.to_bits(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_fractional_changes_add_up() {
        let g = AtomicGauge::new();
        g.increment(1.0);
        g.increment(2.0);
        g.decrement(1.0);
        assert_eq!(g.value(), 2.0);
        g.increment(0.25);
        assert_eq!(g.value(), 2.25);
        g.set(-7.5);
        assert_eq!(g.value(), -7.5);
        g.increment(1e300);
        assert_eq!(g.value(), 1e300);
    }

    #[test]
    fn concurrent_increments_are_not_lost() {
        let g = std::sync::Arc::new(AtomicGauge::new());
        std::thread::scope(|s| {
            for _ in 0..2 {
                let g = g.clone();
                s.spawn(move || {
                    for _ in 0..100_000 {
                        g.increment(1.0);
                        g.decrement(1.0);
                        g.increment(1.0);
                    }
                });
            }
        });
        assert_eq!(g.value(), 200_000.0);
    }
}
