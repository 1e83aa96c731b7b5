//! Support code for what the macros generate. Not a stable API: it may change in any release.

pub mod classify;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod future;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod guard;
#[cfg(feature = "metrics")]
mod objective;
#[cfg(feature = "metrics")]
mod site;

pub use crate::__classify as classify;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use future::InstrumentedFuture;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use guard::{CallSpan, Guard, NoSpan};
#[cfg(feature = "metrics")]
pub use objective::{OBJECTIVES, declared_objective, linkme};
#[cfg(feature = "metrics")]
pub use site::CallSite;
#[cfg(feature = "metrics")]
pub(crate) use site::cache_global_recorder_handles;
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
#[cfg(feature = "metrics")]
pub fn record_counter(name: &'static str, labels: &[(&'static str, &'static str)]) {
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(k, v)| metrics::Label::from_static_parts(k, v))
        .collect();
    metrics::counter!(name, labels).increment(1);
}

/// Counts prompt and completion tokens of `model`.
#[cfg(feature = "metrics")]
pub fn record_tokens(model: &str, prompt: u64, completion: u64) {
    use crate::names::LLM_TOKENS_TOTAL;
    let model = model.to_owned();
    metrics::counter!(LLM_TOKENS_TOTAL, "model" => model.clone(), "type" => "prompt")
        .increment(prompt);
    metrics::counter!(LLM_TOKENS_TOTAL, "model" => model, "type" => "completion")
        .increment(completion);
}

/// Adds `cost` to the cost counter of `model`.
#[cfg(feature = "metrics")]
pub fn record_cost(model: &str, cost: f64) {
    // Counters count integers: the cost is kept in millionths of the currency unit.
    let micros = (cost * 1_000_000.0).round();
    if micros.is_finite() && micros > 0.0 {
        metrics::counter!(crate::names::LLM_COST_MICROS_TOTAL, "model" => model.to_owned())
            .increment(micros as u64);
    }
}
