//! Settings chosen per metric name: [`RegistryConfig`], the series limits and histogram buckets
//! of a registry, each kept as a table of rules (a matcher and a value) looked up by name with
//! exact names first and then the other rules in the order they were added, falling back to a
//! default where no rule matches.

use crate::error::Error;
use crate::histogram::Buckets;

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

/// Default number of series one metric may have before new ones are refused.
pub(crate) const DEFAULT_SERIES_LIMIT: usize = 10_000;

/// Settings of a [`Registry`](crate::Registry): series limits and histogram buckets.
#[derive(Clone, Debug)]
pub struct RegistryConfig {
    pub(crate) series_limit: usize,
    limits: RuleTable<usize>,
    buckets: RuleTable<Buckets>,
    default_buckets: Buckets,
    /// Whether histograms also keep exponential buckets (for OTLP's exponential aggregation).
    pub(crate) exponential: bool,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            series_limit: DEFAULT_SERIES_LIMIT,
            limits: RuleTable::default(),
            buckets: RuleTable::default(),
            default_buckets: Buckets::default_duration(),
            exponential: false,
        }
    }
}

impl RegistryConfig {
    /// Default settings: 10000 series per metric; byte buckets
    /// ([`mcp_metrics::names::DEFAULT_BYTE_BUCKETS`]) for histograms whose name ends in `_bytes`,
    /// count buckets ([`mcp_metrics::names::DEFAULT_COUNT_BUCKETS`]) for names ending in
    /// `_blocks`, token buckets ([`mcp_metrics::names::DEFAULT_TOKEN_BUCKETS`]) for names ending
    /// in `_tokens`, duration buckets ([`mcp_metrics::names::DEFAULT_DURATION_BUCKETS`]) for the
    /// others.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the series limit of every metric without a specific one.
    pub fn series_limit(mut self, limit: usize) -> Self {
        self.series_limit = limit;
        self
    }

    /// Sets the series limit of the metrics that `matcher` selects (first match wins).
    pub fn series_limit_for(mut self, matcher: MetricMatcher, limit: usize) -> Self {
        self.limits.push(matcher, limit);
        self
    }

    /// Sets the buckets of the histograms that `matcher` selects. An exact name wins over
    /// prefix and suffix matchers, which are tried in the order they were added.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] for an empty, unsorted, NaN or infinite bound list.
    pub fn buckets_for(mut self, matcher: MetricMatcher, bounds: &[f64]) -> Result<Self, Error> {
        self.buckets.push(matcher, Buckets::new(bounds)?);
        Ok(self)
    }

    /// Sets the buckets of histograms that no matcher selects and whose name ends in none of
    /// `_bytes`, `_blocks` and `_tokens`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] for an empty, unsorted, NaN or infinite bound list.
    pub fn default_buckets(mut self, bounds: &[f64]) -> Result<Self, Error> {
        self.default_buckets = Buckets::new(bounds)?;
        Ok(self)
    }

    /// Histograms also count their values in base-2 exponential buckets.
    #[cfg(feature = "otlp")]
    pub(crate) fn with_exponential(mut self) -> Self {
        self.exponential = true;
        self
    }

    /// The series limit of the metric `name`.
    pub(crate) fn limit_for(&self, name: &str) -> usize {
        self.limits.get(name).copied().unwrap_or(self.series_limit)
    }

    /// The buckets of the histogram `name`.
    pub(crate) fn buckets_for_name(&self, name: &str) -> Buckets {
        match self.buckets.get(name) {
            Some(buckets) => buckets.clone(),
            None if name.ends_with("_bytes") => Buckets::default_bytes(),
            None if name.ends_with("_blocks") => Buckets::default_counts(),
            None if name.ends_with("_tokens") => Buckets::default_tokens(),
            None => self.default_buckets.clone(),
        }
    }
}

/// Rules tried in turn for a metric name.
#[derive(Clone, Debug)]
pub(crate) struct RuleTable<T> {
    rules: Vec<(MetricMatcher, T)>,
}

impl<T> Default for RuleTable<T> {
    fn default() -> Self {
        Self { rules: Vec::new() }
    }
}

impl<T> RuleTable<T> {
    /// Adds a rule after those already there.
    pub(crate) fn push(&mut self, matcher: MetricMatcher, value: T) {
        self.rules.push((matcher, value));
    }

    /// The value for `name`: an exact rule wins over prefix and suffix rules, which are tried
    /// in the order they were added; `None` when no rule matches.
    pub(crate) fn get(&self, name: &str) -> Option<&T> {
        let exact = self
            .rules
            .iter()
            .find(|(m, _)| matches!(m, MetricMatcher::Exact(s) if s == name));
        exact
            .or_else(|| self.rules.iter().find(|(m, _)| m.matches(name)))
            .map(|(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_rules_win_then_the_first_match() {
        let mut rules = RuleTable::default();
        rules.push(MetricMatcher::Prefix("db_".into()), 1);
        rules.push(MetricMatcher::Exact("db_query".into()), 2);
        rules.push(MetricMatcher::Suffix("_bytes".into()), 3);
        rules.push(MetricMatcher::Suffix("_query".into()), 4);
        assert_eq!(rules.get("db_query"), Some(&2));
        assert_eq!(rules.get("db_other"), Some(&1));
        assert_eq!(rules.get("db_bytes"), Some(&1), "the earlier rule wins");
        assert_eq!(rules.get("body_bytes"), Some(&3));
        assert_eq!(rules.get("other"), None);
    }

    #[test]
    fn sizes_and_counts_get_their_own_default_buckets() {
        let config = RegistryConfig::default();
        let bounds = |name: &str| config.buckets_for_name(name).bounds().to_vec();
        assert_eq!(
            bounds("mcp_tool_result_bytes"),
            mcp_metrics::names::DEFAULT_BYTE_BUCKETS
        );
        assert_eq!(
            bounds(mcp_metrics::names::TOOL_RESULT_CONTENT_BLOCKS),
            mcp_metrics::names::DEFAULT_COUNT_BUCKETS
        );
        assert_eq!(
            bounds("mcp_tool_duration_seconds"),
            mcp_metrics::names::DEFAULT_DURATION_BUCKETS
        );
        assert_eq!(
            bounds(mcp_metrics::names::TOOL_RESULT_TOKENS),
            mcp_metrics::names::DEFAULT_TOKEN_BUCKETS
        );
        // Every histogram of the catalog gets the buckets the catalog declares for it.
        for metric in mcp_metrics::catalog::METRICS {
            if let Some(declared) = metric.buckets {
                assert_eq!(bounds(metric.name), declared, "{}", metric.name);
            }
        }
    }
}
