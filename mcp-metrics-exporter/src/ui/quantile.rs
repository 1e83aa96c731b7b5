//! Quantiles from bucket counts, interpolated as Prometheus' `histogram_quantile` does for
//! classic histograms, so that the page and a PromQL query over the same buckets agree.

/// The `q` quantile of a histogram with upper `bounds` (the `+Inf` bucket implicit) and
/// per-bucket `counts` (not cumulative, `+Inf` last); `None` without observations.
///
/// The rank `q × count` is located in the first bucket whose cumulative count reaches it, and
/// the value interpolated linearly between that bucket's lower and upper bound. The lowest
/// bucket starts at 0 (or is its own bound when that is not positive); a rank in the `+Inf`
/// bucket answers the highest finite bound.
pub(crate) fn quantile(q: f64, bounds: &[f64], counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 || bounds.is_empty() || counts.len() != bounds.len() + 1 || q.is_nan() {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut below = 0u64;
    for (i, (&upper, &count)) in bounds.iter().zip(counts).enumerate() {
        if (below + count) as f64 >= rank {
            if i == 0 && upper <= 0.0 {
                return Some(upper);
            }
            let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
            let into = (rank - below as f64) / count as f64;
            return Some(lower + (upper - lower) * into);
        }
        below += count;
    }
    bounds.last().copied()
}

/// The lower and upper bound of the bucket a value `x` falls into (`value <= upper`): the lowest
/// bucket starts at minus infinity, the `+Inf` bucket ends there.
pub(crate) fn bucket_of(bounds: &[f64], x: f64) -> (f64, f64) {
    let i = bounds.partition_point(|b| *b < x);
    let lower = if i == 0 {
        f64::NEG_INFINITY
    } else {
        bounds[i - 1]
    };
    (lower, bounds.get(i).copied().unwrap_or(f64::INFINITY))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [f64; 4] = [0.1, 0.5, 1.0, 5.0];

    /// Expected values as Prometheus 2.42 evaluates them (`histogram_quantile` over the same
    /// cumulative buckets in a `promtool test rules` file).
    #[test]
    fn values_match_prometheus() {
        // Cumulative 10, 30, 60, 100, 100 (+Inf).
        let counts = [10, 20, 30, 40, 0];
        let cases = [
            (0.0, 0.0),
            (0.05, 0.05),
            (0.1, 0.1),
            (0.5, 0.8333333333333334),
            (0.9, 4.0),
            (0.95, 4.5),
            (0.99, 4.9),
            (1.0, 5.0),
        ];
        for (q, want) in cases {
            let got = quantile(q, &BOUNDS, &counts).unwrap();
            assert!((got - want).abs() < 1e-12, "q={q}: {got} != {want}");
        }
    }

    #[test]
    fn a_rank_in_the_inf_bucket_answers_the_highest_bound() {
        assert_eq!(quantile(0.99, &BOUNDS, &[1, 0, 0, 0, 9]), Some(5.0));
        assert_eq!(quantile(0.05, &BOUNDS, &[1, 0, 0, 0, 9]), Some(0.05));
    }

    #[test]
    fn empty_buckets_before_the_rank_are_skipped() {
        // Everything in (0.5, 1]: the median is the middle of that bucket.
        assert_eq!(quantile(0.5, &BOUNDS, &[0, 0, 4, 0, 0]), Some(0.75));
    }

    #[test]
    fn no_observations_is_no_value() {
        assert_eq!(quantile(0.5, &BOUNDS, &[0; 5]), None);
        assert_eq!(quantile(0.5, &[], &[3]), None);
        assert_eq!(quantile(f64::NAN, &BOUNDS, &[1; 5]), None);
    }

    #[test]
    fn buckets_hold_values_up_to_their_upper_bound() {
        assert_eq!(bucket_of(&BOUNDS, 0.05), (f64::NEG_INFINITY, 0.1));
        assert_eq!(bucket_of(&BOUNDS, 0.5), (0.1, 0.5));
        assert_eq!(bucket_of(&BOUNDS, 0.51), (0.5, 1.0));
        assert_eq!(bucket_of(&BOUNDS, 9.0), (5.0, f64::INFINITY));
    }

    #[test]
    fn a_non_positive_first_bound_is_its_own_value() {
        assert_eq!(quantile(0.5, &[-1.0, 1.0], &[4, 0, 0]), Some(-1.0));
    }
}
