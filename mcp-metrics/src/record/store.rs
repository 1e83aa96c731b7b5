//! The atomic storage every instrument of this crate records into, and the contract through
//! which an exporter hands it out.
//!
//! An exporter that keeps its series in these types (as `mcp-metrics-exporter` does) hands its
//! store to [`set_store`] when it installs. From then on, every instrument (tool call sites, the
//! request layer, the client, tasks, sessions, the helpers) registers each of its series once and
//! records straight into the atomics: no `metrics` handle, no dynamic call, no lock and no
//! allocation on a call.
//!
//! - [`Histogram`]: fixed buckets, each with its count and the sum of its values side by side,
//!   so that a record touches one cache line; the sum is an `f64`, exact to `f64` precision for
//!   any value range and any number of records, and it never decreases while values are not
//!   negative. It keeps the last exemplar of each bucket, at most one a second per series.
//!   It may also count its values in base-2 exponential buckets ([`Histogram::with_exponential`],
//!   the layout of `exponential.rs`), for exporters that send OpenTelemetry exponential
//!   histograms; the explicit buckets stay, for the Prometheus exposition and objectives.
//! - [`Gauge`]: whole-number changes (a call in flight) take one `fetch_add`; other changes go to
//!   an `f64` part.
//! - [`Counter`]: one `fetch_add`.
//! - [`Store`]: what an exporter implements so that instruments can find their series.

#[cfg(feature = "metrics")]
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

#[path = "exponential.rs"]
mod exponential;
pub use exponential::{ExponentialBuckets, ExponentialSnapshot};

/// Adds `delta` to the `f64` whose bits are in `atomic`, with a compare-and-swap loop.
#[inline]
fn add_f64(atomic: &AtomicU64, delta: f64) {
    let mut current = atomic.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match atomic.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// The OpenTelemetry ids of the sampled span a recorded value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exemplar {
    /// The trace id.
    pub trace_id: u128,
    /// The span id.
    pub span_id: u64,
}

/// The last exemplar of a bucket, with the value it came with and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredExemplar {
    /// The ids of the span.
    pub exemplar: Exemplar,
    /// The recorded value.
    pub value: f64,
    /// When it was recorded, in seconds since the Unix epoch.
    pub timestamp: f64,
}

/// Exemplars per series: at most one a second.
const EXEMPLAR_INTERVAL_NS: u64 = 1_000_000_000;

/// Bucket lists up to this length are searched linearly, longer ones by bisection.
const LINEAR_SEARCH_MAX: usize = 32;

/// One bucket: how many values fell into it and their sum (as `f64` bits), on one cache line.
#[derive(Debug, Default)]
#[repr(align(16))]
struct Bucket {
    count: AtomicU64,
    sum: AtomicU64,
}

/// A histogram with fixed buckets.
///
/// ```
/// use mcp_metrics::store::Histogram;
///
/// let h = Histogram::new(&[1e3, 1e4, 1e5, 1e6]);
/// for _ in 0..40_000 {
///     h.record(999_999.0);
/// }
/// assert_eq!(h.sum(), 39_999_960_000.0);
/// assert_eq!(h.bucket_counts().collect::<Vec<_>>(), [0, 0, 0, 40_000, 0]);
/// ```
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds, without the implicit `+Inf`.
    bounds: Box<[f64]>,
    /// One per bound, then the `+Inf` bucket. Counts are per bucket, not cumulative.
    buckets: Box<[Bucket]>,
    /// The last exemplar of each bucket, allocated when the first one arrives.
    exemplars: OnceLock<Mutex<Box<[Option<StoredExemplar>]>>>,
    /// When the last exemplar was taken, in nanoseconds of the caller's monotonic clock (0:
    /// never).
    last_exemplar: AtomicU64,
    /// The exponential buckets, when the histogram keeps them.
    exponential: Option<Box<exponential::Exponential>>,
}

impl Histogram {
    /// A histogram with these upper bounds; the `+Inf` bucket is implicit. The bounds must be
    /// finite and strictly increasing (exporters check them when they read their configuration).
    pub fn new(bounds: &[f64]) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
        Histogram {
            bounds: bounds.into(),
            buckets: (0..=bounds.len()).map(|_| Bucket::default()).collect(),
            exemplars: OnceLock::new(),
            last_exemplar: AtomicU64::new(0),
            exponential: None,
        }
    }

    /// A histogram with these upper bounds that also counts every value in base-2 exponential
    /// buckets (8 per power of two, see [`ExponentialSnapshot`]), read with
    /// [`Histogram::exponential`]. A record then costs one more `fetch_add`; memory grows with
    /// the range of values seen, by 512 bytes per 8 powers of two, up to 10 KiB.
    ///
    /// ```
    /// use mcp_metrics::store::Histogram;
    ///
    /// let h = Histogram::with_exponential(&[0.1, 1.0]);
    /// h.record(0.75);
    /// h.record(1.0);
    /// let e = h.exponential().unwrap();
    /// assert_eq!((e.scale, e.count()), (3, 2));
    /// // 1.0 closes bucket -1: (2^(-1/8), 1]; 0.75 is in (2^(-4/8), 2^(-3/8)].
    /// assert_eq!((e.positive.offset, e.positive.counts), (-4, vec![1, 0, 0, 1]));
    /// assert_eq!(h.bucket_counts().collect::<Vec<_>>(), [0, 2, 0]);
    /// ```
    pub fn with_exponential(bounds: &[f64]) -> Self {
        Histogram {
            exponential: Some(Box::new(exponential::Exponential::new())),
            ..Self::new(bounds)
        }
    }

    /// A reading of the exponential buckets, if this histogram keeps them.
    pub fn exponential(&self) -> Option<ExponentialSnapshot> {
        self.exponential
            .as_deref()
            .map(exponential::Exponential::read)
    }

    /// The index of the first bucket whose bound is at least `value`, the `+Inf` bucket if none.
    ///
    /// A linear scan, as the Prometheus Go client does for short bucket lists: each step is a
    /// predictable branch, where a binary search is a chain of dependent loads and compares that
    /// costs more than the atomics of a record for the usual 10 to 20 buckets.
    #[inline]
    fn index(&self, value: f64) -> usize {
        if self.bounds.len() > LINEAR_SEARCH_MAX {
            return self.bounds.partition_point(|b| *b < value);
        }
        self.bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len())
    }

    /// Records one value. A NaN is ignored.
    #[inline]
    pub fn record(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        self.add(value, 1);
    }

    /// Records `count` times the same value.
    pub fn record_many(&self, value: f64, count: u64) {
        if value.is_nan() || count == 0 {
            return;
        }
        self.add(value, count);
    }

    /// Records one value and keeps `exemplar` as its bucket's latest exemplar.
    pub fn record_with_exemplar(&self, value: f64, exemplar: Exemplar) {
        if value.is_nan() {
            return;
        }
        let index = self.add(value, 1);
        let slots = self
            .exemplars
            .get_or_init(|| Mutex::new(vec![None; self.buckets.len()].into_boxed_slice()));
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        slots.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(StoredExemplar {
            exemplar,
            value,
            timestamp,
        });
    }

    /// Whether an exemplar may be taken at `now_ns` (a monotonic clock in nanoseconds): at most
    /// one a second per series. One load, no write: call it before computing an exemplar.
    #[inline]
    pub fn exemplar_due(&self, now_ns: u64) -> bool {
        let last = self.last_exemplar.load(Ordering::Relaxed);
        last == 0 || now_ns.saturating_sub(last) >= EXEMPLAR_INTERVAL_NS
    }

    /// Records one value, with `exemplar` as its bucket's latest exemplar if one is due at
    /// `now_ns` and `exemplar` gives one (it is asked only then, and the slot is claimed only
    /// once it has: an unsampled call leaves it to the next).
    #[inline]
    pub fn record_sampled(
        &self,
        value: f64,
        now_ns: u64,
        exemplar: impl FnOnce() -> Option<Exemplar>,
    ) {
        if self.exemplar_due(now_ns)
            && let Some(e) = exemplar()
            && self.claim_exemplar(now_ns)
        {
            self.record_with_exemplar(value, e);
        } else {
            self.record(value);
        }
    }

    /// Claims the series' exemplar for the coming second; false when another call just did.
    fn claim_exemplar(&self, now_ns: u64) -> bool {
        let last = self.last_exemplar.load(Ordering::Relaxed);
        (last == 0 || now_ns.saturating_sub(last) >= EXEMPLAR_INTERVAL_NS)
            && self
                .last_exemplar
                .compare_exchange(last, now_ns.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Counts `value` (not NaN) `count` times; returns the index of its explicit bucket.
    #[inline]
    fn add(&self, value: f64, count: u64) -> usize {
        let index = self.index(value);
        let bucket = &self.buckets[index];
        bucket.count.fetch_add(count, Ordering::Relaxed);
        let sum = if count == 1 {
            value
        } else {
            value * count as f64
        };
        add_f64(&bucket.sum, sum);
        if let Some(exponential) = &self.exponential {
            exponential.record(value, count);
        }
        index
    }

    /// The upper bounds, without the implicit `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Per-bucket counts, the `+Inf` bucket last. Not cumulative.
    pub fn bucket_counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets.iter().map(|b| b.count.load(Ordering::Relaxed))
    }

    /// The sum of every value recorded.
    pub fn sum(&self) -> f64 {
        self.buckets
            .iter()
            .map(|b| f64::from_bits(b.sum.load(Ordering::Relaxed)))
            .sum()
    }

    /// The number of values recorded.
    pub fn count(&self) -> u64 {
        self.bucket_counts().sum()
    }

    /// The latest exemplar of each bucket, the `+Inf` bucket last; `None` before any exemplar.
    pub fn exemplars(&self) -> Option<Vec<Option<StoredExemplar>>> {
        let slots = self.exemplars.get()?;
        Some(slots.lock().unwrap_or_else(|p| p.into_inner()).to_vec())
    }
}

/// Largest whole change kept in the integer part of a [`Gauge`] (exact in `f64`).
const MAX_WHOLE: f64 = (1u64 << 53) as f64;

/// A gauge. Whole-number increments and decrements take one `fetch_add` on an integer part;
/// other changes go to an `f64` part, and the value is the sum of both.
#[derive(Debug)]
pub struct Gauge {
    /// The value last set plus fractional changes, as `f64` bits.
    base: AtomicU64,
    /// Whole-number changes since the last set.
    whole: AtomicI64,
}

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

impl Gauge {
    /// A gauge at 0.
    pub const fn new() -> Self {
        Gauge {
            base: AtomicU64::new(0),
            whole: AtomicI64::new(0),
        }
    }

    /// Adds 1.
    #[inline]
    pub fn increment_one(&self) {
        self.whole.fetch_add(1, Ordering::Relaxed);
    }

    /// Subtracts 1.
    #[inline]
    pub fn decrement_one(&self) {
        self.whole.fetch_sub(1, Ordering::Relaxed);
    }

    /// Adds `delta` (which may be negative).
    pub fn add(&self, delta: f64) {
        if delta.fract() == 0.0 && delta.abs() < MAX_WHOLE {
            self.whole.fetch_add(delta as i64, Ordering::Relaxed);
        } else {
            add_f64(&self.base, delta);
        }
    }

    /// Sets the value. Increments racing with it land either before it (and are cleared) or
    /// after it.
    pub fn set(&self, value: f64) {
        self.whole.swap(0, Ordering::AcqRel);
        self.base.store(value.to_bits(), Ordering::Release);
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        f64::from_bits(self.base.load(Ordering::Acquire))
            + self.whole.load(Ordering::Acquire) as f64
    }
}

/// A monotonic counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at 0.
    pub const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    /// Adds `n`.
    #[inline]
    pub fn increment(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets the value, if it is higher (a counter never goes down).
    pub fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }

    /// The current value.
    pub fn value(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(feature = "metrics")]
impl metrics::CounterFn for Counter {
    fn increment(&self, value: u64) {
        Counter::increment(self, value);
    }

    fn absolute(&self, value: u64) {
        Counter::absolute(self, value);
    }
}

#[cfg(feature = "metrics")]
impl metrics::HistogramFn for Histogram {
    fn record(&self, value: f64) {
        Histogram::record(self, value);
    }

    fn record_many(&self, value: f64, count: usize) {
        Histogram::record_many(self, value, count as u64);
    }
}

#[cfg(feature = "metrics")]
impl metrics::GaugeFn for Gauge {
    fn increment(&self, value: f64) {
        self.add(value);
    }

    fn decrement(&self, value: f64) {
        self.add(-value);
    }

    fn set(&self, value: f64) {
        Gauge::set(self, value);
    }
}

/// A metric store whose series are [`Histogram`]s, [`Gauge`]s and [`Counter`]s, so that
/// instruments can record into them directly. Hand it to [`set_store`].
///
/// Each method registers the series of `key` if it does not exist yet and returns it; `None`
/// means the store refuses the series (a series limit, a name collision), and the instrument
/// then records nothing for it.
#[cfg(feature = "metrics")]
pub trait Store: Send + Sync + 'static {
    /// The histogram of `key`.
    fn histogram(&self, key: &metrics::Key) -> Option<Arc<Histogram>>;
    /// The gauge of `key`.
    fn gauge(&self, key: &metrics::Key) -> Option<Arc<Gauge>>;
    /// The counter of `key`.
    fn counter(&self, key: &metrics::Key) -> Option<Arc<Counter>>;
}

#[cfg(feature = "metrics")]
static STORE: OnceLock<Arc<dyn Store>> = OnceLock::new();

/// Makes `store` the store of every instrument of this crate in this process: instruments
/// register their series there on their next use and record into its atomics from then on.
///
/// Exporters call it when they install themselves as the global `metrics` recorder (the
/// `install` of `mcp-metrics-exporter` does); `store` should be that same recorder, so that the
/// metrics of this crate appear beside the others. It can be set once.
///
/// # Errors
///
/// Gives `store` back when a store was set before.
#[cfg(feature = "metrics")]
pub fn set_store(store: Arc<dyn Store>) -> Result<(), Arc<dyn Store>> {
    STORE.set(store)
}

/// The store set with [`set_store`], if any.
#[cfg(feature = "metrics")]
pub(crate) fn store() -> Option<&'static dyn Store> {
    STORE.get().map(|s| &**s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact sum of `values` (each rounded to a millionth), as a reference.
    fn reference(values: &[f64]) -> f64 {
        let micros: i128 = values.iter().map(|v| (v * 1e6).round() as i128).sum();
        micros as f64 / 1e6
    }

    /// A small deterministic generator (xorshift), so that failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn float(&mut self, max: f64) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 * max
        }
    }

    #[test]
    fn values_land_in_the_first_bucket_they_fit() {
        let h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 2.0, 3.0, f64::NAN] {
            h.record(v);
        }
        h.record_many(10.0, 4);
        assert_eq!(h.bucket_counts().collect::<Vec<_>>(), vec![2, 2, 5]);
        assert_eq!(h.count(), 9);
        assert_eq!(h.sum(), 0.5 + 1.0 + 1.5 + 2.0 + 3.0 + 40.0);
    }

    #[test]
    fn the_byte_sum_that_used_to_wrap_is_exact() {
        // 40,000 records of 999,999 with byte buckets: 39,999,960,000.
        let h = Histogram::new(&[1e3, 1e4, 1e5, 1e6]);
        for _ in 0..40_000 {
            h.record(999_999.0);
        }
        assert_eq!(h.sum(), 39_999_960_000.0);
    }

    #[test]
    fn a_terabyte_in_total_is_exact() {
        let h = Histogram::new(&[1e3, 1e4, 1e5, 1e6, 1e7]);
        for _ in 0..1_000_000 {
            h.record(1e6);
        }
        assert_eq!(h.sum(), 1e12);
        assert_eq!(h.count(), 1_000_000);
    }

    #[test]
    fn a_billion_one_second_records_are_exact() {
        // The default duration buckets; 1e9 single records, as a busy server makes them.
        let h = Histogram::new(crate::names::DEFAULT_DURATION_BUCKETS);
        let mut last = 0.0;
        for chunk in 0..1_000 {
            for _ in 0..1_000_000 {
                h.record(1.0);
            }
            let sum = h.sum();
            assert!(
                sum >= last,
                "the sum went down at chunk {chunk}: {last} -> {sum}"
            );
            last = sum;
        }
        assert_eq!(h.sum(), 1e9);
        assert_eq!(h.count(), 1_000_000_000);
    }

    #[test]
    fn sums_match_a_reference_for_random_values_and_layouts() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..200 {
            // A random layout: 1 to 20 strictly increasing bounds on a random scale.
            let scale = 10f64.powi((rng.next() % 19) as i32 - 9);
            let mut bounds = Vec::new();
            let mut b = 0.0;
            for _ in 0..1 + rng.next() % 20 {
                b += rng.float(10.0 * scale) + scale * 1e-3;
                bounds.push(b);
            }
            let h = Histogram::new(&bounds);
            // Values from far below the first bound to far above the last, rounded to a
            // millionth so that the reference is exact in integers.
            let max = b * 10f64.powi((rng.next() % 6) as i32);
            let values: Vec<f64> = (0..1 + rng.next() % 5_000)
                .map(|_| (rng.float(max) * 1e6).round() / 1e6)
                .collect();
            let mut last = 0.0;
            for v in &values {
                h.record(*v);
                let sum = h.sum();
                assert!(sum >= last, "case {case}: the sum went down");
                last = sum;
            }
            let want = reference(&values);
            // Naive f64 summation: relative error at most n * epsilon.
            let tolerance = want.abs() * values.len() as f64 * f64::EPSILON + 1e-9;
            assert!(
                (h.sum() - want).abs() <= tolerance,
                "case {case}: {} vs {want} (bounds {bounds:?})",
                h.sum()
            );
            assert_eq!(h.count(), values.len() as u64, "case {case}");
        }
    }

    #[test]
    fn exemplars_are_kept_per_bucket() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.record(0.5);
        assert!(h.exemplars().is_none(), "no storage until one arrives");
        let e = Exemplar {
            trace_id: 0xabc,
            span_id: 0x12,
        };
        h.record_with_exemplar(1.5, e);
        h.record(1.7); // without an exemplar: the bucket keeps the one it had
        let all = h.exemplars().unwrap();
        assert_eq!(all[0], None);
        let kept = all[1].expect("bucket le=2 has an exemplar");
        assert_eq!((kept.exemplar, kept.value), (e, 1.5));
        assert_eq!(all[2], None);
        assert_eq!(h.bucket_counts().collect::<Vec<_>>(), vec![1, 2, 0]);
    }

    #[test]
    fn gauge_whole_and_fractional_changes_add_up() {
        let g = Gauge::new();
        g.increment_one();
        g.add(2.0);
        g.decrement_one();
        assert_eq!(g.value(), 2.0);
        g.add(0.25);
        assert_eq!(g.value(), 2.25);
        g.set(-7.5);
        assert_eq!(g.value(), -7.5);
        g.add(1e300);
        assert_eq!(g.value(), 1e300);
    }

    #[test]
    fn concurrent_records_are_not_lost() {
        let h = Histogram::new(&[1.0]);
        let g = Gauge::new();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..100_000 {
                        g.increment_one();
                        h.record(0.5);
                        g.decrement_one();
                    }
                });
            }
        });
        assert_eq!(h.count(), 200_000);
        assert_eq!(h.sum(), 100_000.0);
        assert_eq!(g.value(), 0.0);
    }
}
