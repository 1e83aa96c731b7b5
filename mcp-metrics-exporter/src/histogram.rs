//! Histogram bucket lists: validated bounds with their `le` label values formatted once.
//!
//! The histograms themselves are `mcp_metrics::store::Histogram`: one count and one sum per
//! bucket, so their memory depends on the number of buckets, never on the number of values
//! recorded, and recording takes no lock.

use std::sync::Arc;

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

    /// The default buckets for sizes: [`mcp_metrics::names::DEFAULT_BYTE_BUCKETS`].
    pub fn default_bytes() -> Self {
        Self::from_valid(mcp_metrics::names::DEFAULT_BYTE_BUCKETS)
    }

    /// The default buckets for small counts: [`mcp_metrics::names::DEFAULT_COUNT_BUCKETS`].
    pub fn default_counts() -> Self {
        Self::from_valid(mcp_metrics::names::DEFAULT_COUNT_BUCKETS)
    }

    /// The default buckets for token counts: [`mcp_metrics::names::DEFAULT_TOKEN_BUCKETS`].
    pub fn default_tokens() -> Self {
        Self::from_valid(mcp_metrics::names::DEFAULT_TOKEN_BUCKETS)
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
}
