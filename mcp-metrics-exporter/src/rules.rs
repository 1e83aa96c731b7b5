//! Settings chosen per metric name: a table of rules, each a matcher and a value, looked up by
//! name with exact names first and then the other rules in the order they were added.
//!
//! The registry keeps two, histogram buckets and series limits, and falls back to its defaults
//! where no rule matches.

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
}
