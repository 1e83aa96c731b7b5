//! Support code for what the macros generate. Not a stable API: it may change in any release.

pub mod classify;
mod exemplar;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod future;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod guard;
#[cfg(feature = "metrics")]
mod objective;
#[cfg(feature = "metrics")]
mod site;

pub use crate::__classify as classify;
pub use exemplar::{Exemplar, current_exemplar, with_exemplar};
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use future::InstrumentedFuture;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use guard::Guard;
#[cfg(feature = "metrics")]
pub use objective::{OBJECTIVES, declared_objective, linkme};
#[cfg(feature = "metrics")]
pub use site::CallSite;
#[cfg(feature = "trace")]
pub use tracing;

/// Calls `f`: makes the body's closure `FnOnce`, so that it may return borrows of what it captured.
#[inline(always)]
pub fn call_once<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Gives the body's `async` block its declared output type, so that `?` inside it infers.
#[inline(always)]
pub fn typed_future<R, F: core::future::Future<Output = R>>(f: F) -> F {
    f
}

/// Adds 1 to the counter `name` with `labels` (helpers; not a hot path).
pub fn record_counter(name: &'static str, labels: &[(&'static str, &'static str)]) {
    #[cfg(feature = "metrics")]
    {
        let labels: Vec<metrics::Label> = labels
            .iter()
            .map(|(k, v)| metrics::Label::from_static_parts(k, v))
            .collect();
        metrics::counter!(name, labels).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (name, labels);
}

/// Counts prompt and completion tokens of `model`.
pub fn record_tokens(model: &str, prompt: u64, completion: u64) {
    #[cfg(feature = "metrics")]
    {
        use crate::names::LLM_TOKENS_TOTAL;
        let model = model.to_owned();
        metrics::counter!(LLM_TOKENS_TOTAL, "model" => model.clone(), "type" => "prompt")
            .increment(prompt);
        metrics::counter!(LLM_TOKENS_TOTAL, "model" => model, "type" => "completion")
            .increment(completion);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (model, prompt, completion);
}

/// Adds `cost` to the cost counter of `model`.
pub fn record_cost(model: &str, cost: f64) {
    #[cfg(feature = "metrics")]
    {
        // Counters count integers: the cost is kept in millionths of the currency unit.
        let micros = (cost * 1_000_000.0).round();
        if micros.is_finite() && micros > 0.0 {
            metrics::counter!(crate::names::LLM_COST_TOTAL, "model" => model.to_owned())
                .increment(micros as u64);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (model, cost);
}
