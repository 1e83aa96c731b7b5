//! Fixed-bucket histograms made of atomics, and the per-metric bucket configuration.
//!
//! A histogram is one counter per bucket plus a running sum: its memory depends on the number
//! of buckets, never on the number of values recorded, and recording takes no lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use metrics::HistogramFn;

use crate::error::Error;
use crate::sanitize::push_le;

/// A validated list of histogram bucket upper bounds: finite, strictly increasing, not empty.
///
/// The `+Inf` bucket is implicit and always present.
#[derive(Clone, Debug)]
pub struct Buckets(Arc<BucketsInner>);

#[derive(Debug)]
struct BucketsInner {
    bounds: Box<[f64]>,
    /// `le` label values for the 0.0.4 format, `+Inf` last, formatted once.
    le: Box<[Box<str>]>,
    /// `le` label values for OpenMetrics (canonical floats such as `1.0`).
    le_openmetrics: Box<[Box<str>]>,
}

impl PartialEq for Buckets {
    fn eq(&self, other: &Self) -> bool {
        self.bounds() == other.bounds()
    }
}

impl Buckets {
    /// Checks `bounds` and keeps them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] when the list is empty, holds a NaN or an infinity, or is not
    /// strictly increasing.
    pub fn new(bounds: &[f64]) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidBuckets {
            bounds: bounds.to_vec(),
            reason: reason.to_owned(),
        };
        if bounds.is_empty() {
            return Err(invalid("the list is empty"));
        }
        if bounds.iter().any(|b| b.is_nan()) {
            return Err(invalid("a bound is NaN"));
        }
        if bounds.iter().any(|b| b.is_infinite()) {
            return Err(invalid("a bound is infinite (the +Inf bucket is implicit)"));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid("bounds must be strictly increasing"));
        }
        Ok(Self::from_valid(bounds))
    }

    fn from_valid(bounds: &[f64]) -> Self {
        let le = |openmetrics: bool| -> Box<[Box<str>]> {
            let all = bounds.iter().copied().chain([f64::INFINITY]);
            all.map(|b| {
                let mut text = String::new();
                push_le(&mut text, b, openmetrics);
                text.into_boxed_str()
            })
            .collect()
        };
        Self(Arc::new(BucketsInner {
            bounds: bounds.into(),
            le: le(false),
            le_openmetrics: le(true),
        }))
    }

    /// The upper bounds, without the implicit `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.0.bounds
    }

    /// The `le` label values, `+Inf` last, in the 0.0.4 or the OpenMetrics spelling.
    pub(crate) fn le(&self, openmetrics: bool) -> &[Box<str>] {
        if openmetrics {
            &self.0.le_openmetrics
        } else {
            &self.0.le
        }
    }

    /// The default buckets for durations: [`mcp_metrics::names::DEFAULT_DURATION_BUCKETS`].
    pub fn default_duration() -> Self {
        Self::from_valid(mcp_metrics::names::DEFAULT_DURATION_BUCKETS)
    }
}

/// Selects metrics by their registered name, for bucket and series-limit settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricMatcher {
    /// The name equals this string.
    Exact(String),
    /// The name starts with this string.
    Prefix(String),
    /// The name ends with this string.
    Suffix(String),
}

impl MetricMatcher {
    /// Whether `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(s) => name == s,
            Self::Prefix(s) => name.starts_with(s.as_str()),
            Self::Suffix(s) => name.ends_with(s.as_str()),
        }
    }
}

/// Bucket settings: rules tried in order (exact names first), then the default.
#[derive(Clone, Debug)]
pub(crate) struct BucketRules {
    rules: Vec<(MetricMatcher, Buckets)>,
    default: Buckets,
}

impl Default for BucketRules {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            default: Buckets::default_duration(),
        }
    }
}

impl BucketRules {
    pub(crate) fn push(&mut self, matcher: MetricMatcher, buckets: Buckets) {
        self.rules.push((matcher, buckets));
    }

    pub(crate) fn set_default(&mut self, buckets: Buckets) {
        self.default = buckets;
    }

    /// The buckets for the metric `name`: an exact rule wins over prefix and suffix rules,
    /// which are tried in the order they were added.
    pub(crate) fn for_name(&self, name: &str) -> &Buckets {
        let exact = self
            .rules
            .iter()
            .find(|(m, _)| matches!(m, MetricMatcher::Exact(s) if s == name));
        exact
            .or_else(|| self.rules.iter().find(|(m, _)| m.matches(name)))
            .map_or(&self.default, |(_, b)| b)
    }
}

/// Units of the fixed-point part of the sum: billionths (nanoseconds for a histogram of seconds).
const FIXED_SCALE: f64 = 1e9;
/// Values at or above this go to the `f64` part of the sum (keeps the fixed part far from overflow).
const FIXED_MAX: f64 = 1e6;
/// Smallest first bound for which billionths are precise enough (a thousandth of the bound).
const FIXED_MIN_BOUND: f64 = 1e-6;

/// A histogram with fixed buckets: one atomic counter per bucket and an atomic sum.
///
/// The sum has a fixed-point part in billionths, added with one `fetch_add`, for histograms whose
/// buckets start at or above a microsecond-scale bound (durations in seconds), and an `f64` part
/// updated by compare-and-swap for everything else. A compare-and-swap retries under contention;
/// the fixed-point add does not.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    buckets: Buckets,
    /// Per-bucket (not cumulative) counts; the last slot is the `+Inf` bucket.
    counts: Box<[AtomicU64]>,
    /// The `f64` part of the sum, as bits.
    sum: AtomicU64,
    /// The fixed-point part of the sum, in billionths.
    fixed_sum: AtomicU64,
    fixed: bool,
    /// The last exemplar of each bucket, allocated when the first one arrives.
    exemplars: OnceLock<Mutex<Box<[Option<StoredExemplar>]>>>,
}

/// An exemplar as rendered in OpenMetrics: the ids, the value and when it was recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StoredExemplar {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) value: f64,
    /// Seconds since the Unix epoch.
    pub(crate) timestamp: f64,
}

impl AtomicHistogram {
    pub(crate) fn new(buckets: &Buckets) -> Self {
        let counts = (0..=buckets.bounds().len())
            .map(|_| AtomicU64::new(0))
            .collect();
        Self {
            buckets: buckets.clone(),
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
            fixed_sum: AtomicU64::new(0),
            fixed: buckets
                .bounds()
                .first()
                .is_some_and(|b| *b >= FIXED_MIN_BOUND),
            exemplars: OnceLock::new(),
        }
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        self.buckets.bounds()
    }

    pub(crate) fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    /// Per-bucket counts, the `+Inf` bucket last. Not cumulative.
    pub(crate) fn bucket_counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed))
    }

    /// The last exemplar of each bucket, the `+Inf` bucket last; `None` where there is none.
    pub(crate) fn exemplars(&self) -> Option<Vec<Option<StoredExemplar>>> {
        let slots = self.exemplars.get()?;
        Some(slots.lock().unwrap_or_else(|p| p.into_inner()).to_vec())
    }

    #[cold]
    fn keep_exemplar(&self, index: usize, e: mcp_metrics::__private::Exemplar, value: f64) {
        let slots = self
            .exemplars
            .get_or_init(|| Mutex::new(vec![None; self.counts.len()].into_boxed_slice()));
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let stored = StoredExemplar {
            trace_id: e.trace_id,
            span_id: e.span_id,
            value,
            timestamp,
        };
        slots.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(stored);
    }

    pub(crate) fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
            + self.fixed_sum.load(Ordering::Relaxed) as f64 / FIXED_SCALE
    }

    fn add(&self, value: f64, count: u64) {
        if value.is_nan() || count == 0 {
            return;
        }
        // First bound >= value, i.e. the first bucket with `value <= le`.
        let index = self.bounds().partition_point(|b| *b < value);
        self.counts[index].fetch_add(count, Ordering::Relaxed);
        if let Some(e) = mcp_metrics::__private::current_exemplar() {
            self.keep_exemplar(index, e, value);
        }
        let delta = if count == 1 {
            value
        } else {
            value * count as f64
        };
        if self.fixed && (0.0..FIXED_MAX).contains(&delta) {
            self.fixed_sum
                .fetch_add((delta * FIXED_SCALE).round() as u64, Ordering::Relaxed);
            return;
        }
        crate::gauge::add_f64(&self.sum, delta);
    }
}

impl HistogramFn for AtomicHistogram {
    fn record(&self, value: f64) {
        self.add(value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.add(value, count as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bucket_lists_are_rejected() {
        for bad in [
            &[][..],
            &[1.0, f64::NAN],
            &[2.0, 1.0],
            &[1.0, 1.0],
            &[1.0, f64::INFINITY],
        ] {
            let err = Buckets::new(bad).expect_err("must be rejected");
            assert!(matches!(err, Error::InvalidBuckets { .. }), "{err}");
        }
        assert_eq!(Buckets::new(&[0.5, 1.0]).unwrap().bounds(), &[0.5, 1.0]);
    }

    #[test]
    fn values_land_in_the_first_bucket_they_fit() {
        let h = AtomicHistogram::new(&Buckets::new(&[1.0, 2.0]).unwrap());
        for v in [0.5, 1.0, 1.5, 2.0, 3.0, f64::NAN] {
            h.record(v);
        }
        h.record_many(10.0, 4);
        assert_eq!(h.bucket_counts().collect::<Vec<_>>(), vec![2, 2, 5]);
        assert_eq!(h.sum(), 0.5 + 1.0 + 1.5 + 2.0 + 3.0 + 40.0);
    }

    #[test]
    fn exemplars_are_kept_per_bucket() {
        let h = AtomicHistogram::new(&Buckets::new(&[1.0, 2.0]).unwrap());
        h.record(0.5);
        assert!(
            h.exemplars().is_none(),
            "no storage until an exemplar arrives"
        );
        let e = mcp_metrics::__private::Exemplar {
            trace_id: 0xabc,
            span_id: 0x12,
        };
        mcp_metrics::__private::with_exemplar(Some(e), || h.record(1.5));
        h.record(1.7); // without an exemplar: the bucket keeps the last one it had
        let all = h.exemplars().unwrap();
        assert_eq!(all[0], None);
        let kept = all[1].expect("bucket le=2 has an exemplar");
        assert_eq!(
            (kept.trace_id, kept.span_id, kept.value),
            (0xabc, 0x12, 1.5)
        );
        assert_eq!(all[2], None);
        assert_eq!(h.bucket_counts().collect::<Vec<_>>(), vec![1, 2, 0]);
    }

    #[test]
    fn sums_keep_their_precision() {
        // duration buckets: the fixed-point part, exact to a billionth per record
        let h = AtomicHistogram::new(&Buckets::default_duration());
        for _ in 0..3 {
            h.record(0.000_123_456_789);
        }
        h.record(2e6); // above the fixed-point range
        h.record(-1.0); // negative values too
        assert!(
            (h.sum() - (3.0 * 0.000_123_456_789 + 2e6 - 1.0)).abs() < 1e-9,
            "{}",
            h.sum()
        );
        // buckets below a microsecond: plain f64 sums
        let tiny = AtomicHistogram::new(&Buckets::new(&[1e-12, 1e-9]).unwrap());
        tiny.record(3e-13);
        tiny.record(3e-13);
        assert_eq!(tiny.sum(), 6e-13);
    }

    #[test]
    fn exact_rules_win_over_prefix_rules() {
        let mut rules = BucketRules::default();
        rules.push(
            MetricMatcher::Prefix("db_".into()),
            Buckets::new(&[1.0]).unwrap(),
        );
        rules.push(
            MetricMatcher::Exact("db_query".into()),
            Buckets::new(&[2.0]).unwrap(),
        );
        rules.push(
            MetricMatcher::Suffix("_bytes".into()),
            Buckets::new(&[3.0]).unwrap(),
        );
        assert_eq!(rules.for_name("db_query").bounds(), &[2.0]);
        assert_eq!(rules.for_name("db_other").bounds(), &[1.0]);
        assert_eq!(rules.for_name("body_bytes").bounds(), &[3.0]);
        assert_eq!(
            rules.for_name("other").bounds(),
            mcp_metrics::names::DEFAULT_DURATION_BUCKETS
        );
    }
}
