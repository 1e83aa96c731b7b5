//! The base-2 exponential layout a [`Histogram`](super::Histogram) may keep beside its explicit
//! buckets, for exporters that send OpenTelemetry exponential histograms.
//!
//! Values are counted at one fixed scale, [`SCALE`] (8 buckets per power of two, each 9 % wide,
//! so a percentile read from the buckets is within 4.5 % of the value). Bucket `i` holds the
//! values in `(2^(i/8), 2^((i+1)/8)]`, the mapping OpenTelemetry defines, exact at powers of two:
//! the index comes from the value's exponent bits and a comparison of its mantissa bits with
//! the bounds inside a power of two (one table load and one comparison), with no logarithm and
//! no rounding.
//!
//! The buckets cover `(2^-40, 2^40]` by absolute value (about 9.1e-13 to 1.1e12: picoseconds to
//! weeks, bytes to a terabyte), in chunks of 64 counters allocated when a value first falls into
//! them, so memory follows the range of values actually seen (a series of latencies between a
//! millisecond and ten seconds holds three chunks, 1.5 KiB) and is at most 10 KiB per series,
//! whatever the number of records. A value whose absolute value is at most `2^-40`, zero
//! included, is counted in the zero bucket ([`ZERO_THRESHOLD`]); one above `2^40` in the
//! highest bucket (its count stays exact, its bound understates it). A record is lock-free: one
//! `fetch_add` on the bucket's counter.
//!
//! The scale is fixed rather than rescaled as values arrive (as the OpenTelemetry SDKs do): a
//! rescale moves every count, which cannot be done under concurrent records without a lock or a
//! window in which records are lost. Instead [`ExponentialSnapshot::fitted`] lowers the scale of
//! a reading until its populated range fits the bucket limit of the export (160 by default),
//! which gives the same scale and counts as an SDK that started at [`SCALE`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The scale values are counted at: `2^SCALE` buckets per power of two.
const SCALE: i32 = 3;
/// Values whose absolute value is at most this (`2^-40`) are counted in the zero bucket.
const ZERO_THRESHOLD: f64 = 1.0 / (1u64 << 40) as f64;
/// The lowest bucket index at [`SCALE`]: `(2^-40, 2^(-40 + 1/8)]`.
const MIN_INDEX: i32 = -40 << SCALE;
/// The highest bucket index at [`SCALE`]: `(2^(40 - 1/8), 2^40]`, and every value above.
const MAX_INDEX: i32 = (40 << SCALE) - 1;
/// Counters per chunk.
const CHUNK: usize = 64;
/// Chunks per sign.
const CHUNKS: usize = (MAX_INDEX - MIN_INDEX + 1) as usize / CHUNK;

/// The mantissa bits of `2^(k/8)` for `k` in `1..8`: the bounds inside one power of two.
const BOUNDS: [u64; 7] = [
    0x1_72b8_3c7d_517b,
    0x3_06fe_0a31_b715,
    0x4_bfda_d536_2a27,
    0x6_a09e_667f_3bcd,
    0x8_ace5_422a_a0db,
    0xa_e89f_995a_d3ad,
    0xd_5818_dcfb_a487,
];
const MANTISSA: u64 = (1 << 52) - 1;
/// The top bits of a mantissa that pick its slot in [`SLOTS`]: a sixteenth of a power of two,
/// narrower than the gap between two bounds, so a slot holds at most one bound.
const SLOT_SHIFT: u32 = 48;

/// For each sixteenth of a power of two: how many bounds lie below it, and the bound inside it
/// (`u64::MAX` when there is none). An index then costs one load and one comparison.
const SLOTS: [(i32, u64); 16] = {
    let mut slots = [(0, u64::MAX); 16];
    let mut slot = 0;
    while slot < 16 {
        let (start, end) = ((slot as u64) << SLOT_SHIFT, (slot as u64 + 1) << SLOT_SHIFT);
        let mut k = 0;
        while k < BOUNDS.len() {
            if BOUNDS[k] < start {
                slots[slot].0 += 1;
            } else if BOUNDS[k] < end {
                slots[slot].1 = BOUNDS[k];
            }
            k += 1;
        }
        slot += 1;
    }
    slots
};

/// The bucket index of a positive value at [`SCALE`], from its bits; the upper bound of a
/// bucket is inclusive, so an exact power of two `2^e` is the last value of bucket `8e - 1`.
/// Subnormals give indices far below [`MIN_INDEX`], infinity one far above [`MAX_INDEX`].
#[inline]
fn index(value: f64) -> i32 {
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mantissa = bits & MANTISSA;
    if mantissa == 0 {
        return (exponent << SCALE) - 1;
    }
    let (below, bound) = SLOTS[(mantissa >> SLOT_SHIFT) as usize];
    (exponent << SCALE) + below + i32::from(bound < mantissa)
}

/// 64 counters, allocated at the first value that falls into them.
type Chunk = OnceLock<Box<[AtomicU64; CHUNK]>>;

/// The buckets of one sign.
#[derive(Debug)]
struct Side {
    chunks: [Chunk; CHUNKS],
}

impl Side {
    fn new() -> Self {
        Self {
            chunks: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    #[inline]
    fn add(&self, index: i32, count: u64) {
        let position = (index.clamp(MIN_INDEX, MAX_INDEX) - MIN_INDEX) as usize;
        let chunk = self.chunks[position / CHUNK]
            .get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU64::new(0))));
        chunk[position % CHUNK].fetch_add(count, Ordering::Relaxed);
    }

    /// The populated buckets, from the first to the last that has a count.
    fn read(&self) -> ExponentialBuckets {
        let mut counts = Vec::new();
        let mut offset = 0;
        for (c, chunk) in self.chunks.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (i, slot) in chunk.iter().enumerate() {
                let count = slot.load(Ordering::Relaxed);
                if count == 0 && counts.is_empty() {
                    continue;
                }
                let index = MIN_INDEX + (c * CHUNK + i) as i32;
                if counts.is_empty() {
                    offset = index;
                }
                counts.resize((index - offset) as usize, 0);
                counts.push(count);
            }
        }
        ExponentialBuckets { offset, counts }.trimmed()
    }
}

/// The exponential buckets of a histogram: a zero bucket and both signs.
#[derive(Debug)]
pub(super) struct Exponential {
    zero: AtomicU64,
    positive: Side,
    negative: Side,
}

impl Exponential {
    pub(super) fn new() -> Self {
        Self {
            zero: AtomicU64::new(0),
            positive: Side::new(),
            negative: Side::new(),
        }
    }

    /// Counts `value` (not NaN) `count` times.
    #[inline]
    pub(super) fn record(&self, value: f64, count: u64) {
        let i = index(value.abs());
        if i < MIN_INDEX {
            self.zero.fetch_add(count, Ordering::Relaxed);
        } else if value > 0.0 {
            self.positive.add(i, count);
        } else {
            self.negative.add(i, count);
        }
    }

    pub(super) fn read(&self) -> ExponentialSnapshot {
        ExponentialSnapshot {
            scale: SCALE,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: self.zero.load(Ordering::Relaxed),
            positive: self.positive.read(),
            negative: self.negative.read(),
        }
    }
}

/// Counts of consecutive exponential buckets: `counts[i]` is the count of bucket `offset + i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExponentialBuckets {
    /// The index of the first bucket.
    pub offset: i32,
    /// The counts, from bucket `offset` on.
    pub counts: Vec<u64>,
}

impl ExponentialBuckets {
    /// The sum of the counts.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The count of bucket `index`.
    pub fn get(&self, index: i32) -> u64 {
        usize::try_from(index - self.offset)
            .ok()
            .and_then(|i| self.counts.get(i).copied())
            .unwrap_or(0)
    }

    /// Without zero counts at either end (offset 0 when nothing is left).
    fn trimmed(mut self) -> Self {
        let Some(first) = self.counts.iter().position(|c| *c != 0) else {
            return Self::default();
        };
        let last = self.counts.iter().rposition(|c| *c != 0).unwrap_or(first);
        self.counts.truncate(last + 1);
        self.counts.drain(..first);
        self.offset += first as i32;
        self
    }

    /// The counts recorded since `earlier`, a reading of the same buckets at the same scale.
    pub fn since(&self, earlier: &Self) -> Self {
        let counts = (0..self.counts.len() as i32)
            .map(|i| {
                let index = self.offset + i;
                self.get(index).saturating_sub(earlier.get(index))
            })
            .collect();
        Self {
            offset: self.offset,
            counts,
        }
        .trimmed()
    }

    /// How many buckets the populated range spans once the scale is lowered by `by`.
    fn span(&self, by: u32) -> usize {
        if self.counts.is_empty() {
            return 0;
        }
        let last = self.offset + self.counts.len() as i32 - 1;
        ((last >> by) - (self.offset >> by) + 1) as usize
    }

    /// The same counts at a scale lowered by `by`: bucket `i` becomes bucket `i >> by`.
    fn downscaled(&self, by: u32) -> Self {
        if self.counts.is_empty() {
            return Self::default();
        }
        let offset = self.offset >> by;
        let mut counts = vec![0; self.span(by)];
        for (i, count) in self.counts.iter().enumerate() {
            counts[(((self.offset + i as i32) >> by) - offset) as usize] += count;
        }
        Self { offset, counts }
    }
}

/// A reading of the exponential buckets of a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialSnapshot {
    /// The scale: bucket `i` holds `(2^(i/2^scale), 2^((i+1)/2^scale)]` by absolute value.
    pub scale: i32,
    /// The zero bucket holds the values whose absolute value is at most this.
    pub zero_threshold: f64,
    /// The values in the zero bucket.
    pub zero_count: u64,
    /// The buckets of positive values.
    pub positive: ExponentialBuckets,
    /// The buckets of negative values, by absolute value.
    pub negative: ExponentialBuckets,
}

impl ExponentialSnapshot {
    /// The number of values counted.
    pub fn count(&self) -> u64 {
        self.zero_count + self.positive.total() + self.negative.total()
    }

    /// The values counted since `earlier`, a reading of the same histogram.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            zero_count: self.zero_count.saturating_sub(earlier.zero_count),
            positive: self.positive.since(&earlier.positive),
            negative: self.negative.since(&earlier.negative),
            ..*self
        }
    }

    /// The same counts at the highest scale (at most this one's) at which the populated range
    /// of each sign spans at most `max_buckets` buckets (at least 2), as an OpenTelemetry SDK
    /// with that maximum size reports them.
    pub fn fitted(&self, max_buckets: usize) -> Self {
        let max_buckets = max_buckets.max(2);
        let by = (0..32u32)
            .find(|by| self.positive.span(*by).max(self.negative.span(*by)) <= max_buckets)
            .unwrap_or(31);
        Self {
            scale: self.scale - by as i32,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            positive: self.positive.downscaled(by),
            negative: self.negative.downscaled(by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index by the definition, with a logarithm, for values away from bucket bounds.
    fn by_log(value: f64) -> i32 {
        ((value.log2() * f64::from(1 << SCALE)).ceil() as i32) - 1
    }

    #[test]
    fn the_bounds_are_the_powers_of_two_to_the_eighths() {
        for (k, bound) in BOUNDS.iter().enumerate() {
            let exact = ((k + 1) as f64 / 8.0).exp2();
            assert_eq!(exact.to_bits() & MANTISSA, *bound, "2^({}/8)", k + 1);
        }
    }

    #[test]
    fn each_slot_holds_at_most_one_bound_and_counts_those_below() {
        let mut seen = 0;
        for (slot, (below, bound)) in SLOTS.iter().enumerate() {
            assert_eq!(*below, seen, "slot {slot}");
            if *bound != u64::MAX {
                assert_eq!(bound >> SLOT_SHIFT, slot as u64);
                seen += 1;
            }
        }
        assert_eq!(seen, BOUNDS.len() as i32);
    }

    #[test]
    fn powers_of_two_close_their_bucket() {
        for e in -40..=40 {
            let power = f64::from(e).exp2();
            assert_eq!(index(power), e * 8 - 1, "2^{e}");
            assert_eq!(index(power.next_up()), e * 8, "just above 2^{e}");
            assert_eq!(index(power.next_down()), e * 8 - 1, "just below 2^{e}");
        }
        assert_eq!(index(1.0), -1);
        assert_eq!(index(2.0), 7);
        assert_eq!(index(0.5), -9);
    }

    #[test]
    fn eighth_powers_close_their_bucket_too() {
        for k in 1..8 {
            let bound = (f64::from(k) / 8.0).exp2();
            assert_eq!(
                index(bound),
                k - 1,
                "2^({k}/8) is the top of bucket {}",
                k - 1
            );
            assert_eq!(index(bound.next_up()), k);
            assert_eq!(index(bound * 1024.0), 80 + k - 1, "and in every octave");
        }
    }

    #[test]
    fn indices_match_the_logarithm_between_bounds() {
        let mut v = 1.3e-9;
        while v < 1e9 {
            assert_eq!(index(v), by_log(v), "{v}");
            v *= 1.0371;
        }
    }

    #[test]
    fn zero_tiny_and_huge_values_have_their_place() {
        let h = Exponential::new();
        for v in [
            0.0,
            -0.0,
            ZERO_THRESHOLD,
            -ZERO_THRESHOLD,
            1e-300,
            f64::MIN_POSITIVE / 2.0,
        ] {
            h.record(v, 1);
        }
        let r = h.read();
        assert_eq!(r.zero_count, 6, "zero and |v| <= 2^-40 count as zero");
        assert_eq!(r.count(), 6);
        h.record(ZERO_THRESHOLD.next_up(), 1);
        assert_eq!(h.read().positive.offset, MIN_INDEX, "the lowest bucket");
        h.record(1e15, 2);
        h.record(f64::INFINITY, 1);
        h.record((40.0f64).exp2(), 1);
        let r = h.read();
        assert_eq!(
            r.positive.get(MAX_INDEX),
            4,
            "above 2^40: the highest bucket"
        );
        assert_eq!(r.count(), 6 + 1 + 4);
        h.record(-3.0, 5);
        let r = h.read();
        assert_eq!(
            (r.negative.offset, r.negative.counts.clone()),
            (index(3.0), vec![5])
        );
    }

    #[test]
    fn readings_keep_only_the_populated_range() {
        let h = Exponential::new();
        for v in [0.001, 0.002, 0.002, 7.0] {
            h.record(v, 1);
        }
        let r = h.read();
        assert_eq!(r.positive.offset, index(0.001));
        assert_eq!(
            r.positive.counts.len() as i32,
            index(7.0) - index(0.001) + 1
        );
        assert_eq!(r.positive.get(index(0.002)), 2);
        assert_eq!(r.positive.total(), 4);
        assert_eq!(r.negative, ExponentialBuckets::default());
    }

    #[test]
    fn fitting_lowers_the_scale_like_an_sdk() {
        let h = Exponential::new();
        h.record(1e-3, 1);
        h.record(1e3, 3);
        let r = h.read();
        // 2^-10 .. 2^10: 160 buckets at scale 3 do not fit 20 ...
        let fitted = r.fitted(20);
        assert_eq!(fitted.scale, 0, "one bucket per power of two");
        assert_eq!(fitted.positive.offset, index(1e-3) >> 3);
        assert_eq!(fitted.positive.get(index(1e3) >> 3), 3);
        assert!(fitted.positive.counts.len() <= 20);
        assert_eq!(fitted.count(), 4);
        // ... and are kept as they are when they fit.
        assert_eq!(r.fitted(160), r);
        // At scale 0, 1000 is in (2^9, 2^10]: index 9.
        assert_eq!(
            fitted.positive.offset + fitted.positive.counts.len() as i32 - 1,
            9
        );
    }

    #[test]
    fn differences_of_readings_count_what_came_between() {
        let h = Exponential::new();
        h.record(0.5, 1);
        h.record(3.0, 2);
        let before = h.read();
        h.record(3.0, 1);
        h.record(100.0, 4);
        h.record(0.0, 2);
        let delta = h.read().since(&before);
        assert_eq!(delta.zero_count, 2);
        assert_eq!(
            delta.positive.offset,
            index(3.0),
            "trimmed: 0.5 did not change"
        );
        assert_eq!(delta.positive.get(index(3.0)), 1);
        assert_eq!(delta.positive.get(index(100.0)), 4);
        assert_eq!(delta.count(), 7);
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let h = Exponential::new();
        std::thread::scope(|s| {
            for t in 0..2 {
                let h = &h;
                s.spawn(move || {
                    for i in 0..50_000 {
                        h.record(f64::from(i % 1000 + t) * 1e-3, 1);
                    }
                });
            }
        });
        assert_eq!(h.read().count(), 100_000);
    }
}
