//! Recording helpers for what MCP servers that call LLMs, rate-limit or cache need.
//!
//! They are `macro_rules!` macros with bounded labels; with the `metrics` feature off they expand
//! to nothing that records or names this crate's internals (their arguments are still evaluated
//! once, for side effects and type checks).

use crate::names::OTHER;
use std::collections::HashMap;

/// Prices per million tokens, by model, in one currency unit of your choice.
///
/// ```
/// use mcp_metrics::PriceTable;
/// let prices = PriceTable::new().model("small-1", 0.15, 0.60).model("large-2", 3.0, 15.0);
/// assert_eq!(prices.cost("small-1", 1_000_000, 500_000), Some(0.45));
/// assert_eq!(prices.cost("unknown", 10, 10), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    models: HashMap<String, (f64, f64)>,
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the prices of `model`: per million prompt tokens and per million
    /// completion tokens.
    pub fn model(
        mut self,
        model: impl Into<String>,
        prompt_per_million: f64,
        completion_per_million: f64,
    ) -> Self {
        self.models
            .insert(model.into(), (prompt_per_million, completion_per_million));
        self
    }

    /// The cost of a number of tokens, or `None` for a model without prices.
    pub fn cost(&self, model: &str, prompt_tokens: u64, completion_tokens: u64) -> Option<f64> {
        let (p, c) = self.models.get(model)?;
        Some((prompt_tokens as f64 * p + completion_tokens as f64 * c) / 1_000_000.0)
    }

    /// The model's name if the table knows it, else [`OTHER`](crate::names::OTHER): the `model`
    /// label to use.
    pub fn label<'a>(&'a self, model: &'a str) -> &'a str {
        match self.models.get_key_value(model) {
            Some((name, _)) => name,
            None => OTHER,
        }
    }

    /// Records `mcp_llm_tokens_total{model, type}` and `mcp_llm_cost_micros_total{model}` for one LLM
    /// response. Models missing from the table are counted as `_OTHER`, without cost.
    pub fn record(&self, model: &str, prompt_tokens: u64, completion_tokens: u64) {
        let label = self.label(model);
        crate::llm_tokens!(label, prompt_tokens, completion_tokens);
        if let Some(cost) = self.cost(model, prompt_tokens, completion_tokens) {
            crate::llm_cost!(label, cost);
        }
    }
}

/// Counts LLM tokens in `mcp_llm_tokens_total{model, type}`, `type` being `prompt` and `completion`.
///
/// `model` must come from a fixed set (see [`PriceTable::label`]).
/// ```
/// mcp_metrics::llm_tokens!("small-1", 120, 40);
/// ```
#[macro_export]
macro_rules! llm_tokens {
    ($model:expr, $prompt:expr, $completion:expr $(,)?) => {{
        let (model, prompt, completion): (&str, u64, u64) = ($model, $prompt, $completion);
        $crate::__if_metrics! { $crate::__private::record_tokens(model, prompt, completion); }
        let _ = (model, prompt, completion);
    }};
}

/// Adds to `mcp_llm_cost_micros_total{model}`.
#[macro_export]
macro_rules! llm_cost {
    ($model:expr, $cost:expr $(,)?) => {{
        let (model, cost): (&str, f64) = ($model, $cost);
        $crate::__if_metrics! { $crate::__private::record_cost(model, cost); }
        let _ = (model, cost);
    }};
}

/// Counts a request refused by the rate limiter `limiter` in `mcp_rate_limit_hits_total{limiter}`.
/// ```
/// mcp_metrics::rate_limited!("per_user");
/// ```
#[macro_export]
macro_rules! rate_limited {
    ($limiter:expr $(,)?) => {{
        let limiter: &'static str = $limiter;
        $crate::__if_metrics! { $crate::__private::record_rate_limited(limiter); }
        let _ = limiter;
    }};
}

/// Counts a cache look-up in `mcp_cache_requests_total{cache, result}`, `result` being `hit` or `miss`.
/// ```
/// let hit = true;
/// mcp_metrics::cache_lookup!("embeddings", hit);
/// ```
#[macro_export]
macro_rules! cache_lookup {
    ($cache:expr, $hit:expr $(,)?) => {{
        let (cache, hit): (&'static str, bool) = ($cache, $hit);
        $crate::__if_metrics! { $crate::__private::record_cache_lookup(cache, hit); }
        let _ = (cache, hit);
    }};
}

/// Emits its input with the `metrics` feature, nothing without: the recording helpers use it
/// so that a compiled-out build names no recording code.
#[cfg(feature = "metrics")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_metrics {
    ($($code:tt)*) => { $($code)* };
}

/// Emits its input with the `metrics` feature, nothing without.
#[cfg(not(feature = "metrics"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_metrics {
    ($($code:tt)*) => {};
}

/// The instruments of the helpers: counters keyed by their label values.
#[cfg(feature = "metrics")]
mod instruments {
    use crate::catalog;
    use crate::record::family::One;
    use crate::record::{CounterHandle, Family, LabelKey, Str, family, intern};
    use metrics::Label;

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Tokens {
        model: Str,
        kind: Str,
    }

    impl LabelKey for Tokens {
        fn labels(&self) -> Vec<Label> {
            family::labels([("model", Some(self.model)), ("type", Some(self.kind))])
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Lookup {
        cache: Str,
        result: Str,
    }

    impl LabelKey for Lookup {
        fn labels(&self) -> Vec<Label> {
            family::labels([("cache", Some(self.cache)), ("result", Some(self.result))])
        }
    }

    static TOKENS: Family<Tokens, CounterHandle> = Family::new(&catalog::LLM_TOKENS);
    static COST: Family<One, CounterHandle> = Family::new(&catalog::LLM_COST_MICROS);
    static RATE_LIMITS: Family<One, CounterHandle> = Family::new(&catalog::RATE_LIMIT_HITS);
    static CACHE: Family<Lookup, CounterHandle> = Family::new(&catalog::CACHE_REQUESTS);

    /// Counts prompt and completion tokens of `model`.
    pub fn record_tokens(model: &str, prompt: u64, completion: u64) {
        let model = Str(intern(model));
        for (kind, n) in [("prompt", prompt), ("completion", completion)] {
            TOKENS.with(
                Tokens {
                    model,
                    kind: Str(kind),
                },
                |c| c.add(n),
            );
        }
    }

    /// Adds `cost` to the cost counter of `model`.
    pub fn record_cost(model: &str, cost: f64) {
        // Counters count integers: the cost is kept in millionths of the currency unit.
        let micros = (cost * 1_000_000.0).round();
        if micros.is_finite() && micros > 0.0 {
            COST.with(One("model", Str(intern(model))), |c| c.add(micros as u64));
        }
    }

    /// Counts a refusal of `limiter`.
    pub fn record_rate_limited(limiter: &'static str) {
        RATE_LIMITS.with(One("limiter", Str(limiter)), |c| c.add(1));
    }

    /// Counts a look-up in `cache`.
    pub fn record_cache_lookup(cache: &'static str, hit: bool) {
        let result = Str(if hit { "hit" } else { "miss" });
        CACHE.with(
            Lookup {
                cache: Str(cache),
                result,
            },
            |c| c.add(1),
        );
    }
}

#[cfg(feature = "metrics")]
pub use instruments::{record_cache_lookup, record_cost, record_rate_limited, record_tokens};
