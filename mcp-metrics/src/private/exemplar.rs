//! Exemplars: the trace of one call, handed from the tool guard to the exporter's histogram.
//!
//! While a guard records a call's duration, it may put the ids of the call's span here (at most
//! once a second per tool); a histogram that supports exemplars reads them during `record`.

use std::cell::Cell;

/// The OpenTelemetry ids of the span a recorded value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exemplar {
    /// The trace id.
    pub trace_id: u128,
    /// The span id.
    pub span_id: u64,
}

thread_local! {
    static CURRENT: Cell<Option<Exemplar>> = const { Cell::new(None) };
}

/// Runs `f` with `exemplar` readable through [`current_exemplar`].
pub fn with_exemplar<R>(exemplar: Option<Exemplar>, f: impl FnOnce() -> R) -> R {
    if exemplar.is_none() {
        return f();
    }
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(None));
        }
    }
    CURRENT.with(|c| c.set(exemplar));
    let _reset = Reset;
    f()
}

/// The exemplar of the value being recorded on this thread, if any.
#[inline]
pub fn current_exemplar() -> Option<Exemplar> {
    CURRENT.with(Cell::get)
}
