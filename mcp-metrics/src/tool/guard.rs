//! The RAII guard of one call: started before the body runs, finished with the body's outcome.
//! Dropped without finishing, it records the call as panicked (while unwinding) or cancelled.
//!
//! A guard holds the call's metrics [`Recording`] and its span. The span's type is a parameter:
//! a `tracing::Span` for `#[mcp_tool(trace)]`, and [`NoSpan`] (which takes no room and does
//! nothing) for `#[mcp_tool(metrics)]`, so that a metrics-only guard is small and free of span
//! code. With the `metrics` feature off, a stand-in [`Recording`] that does nothing takes the
//! real one's place.

use crate::Outcome;
use crate::store::Exemplar;

#[cfg(feature = "metrics")]
use crate::record::{CallSite, Recording};
#[cfg(not(feature = "metrics"))]
use standin::Recording;

/// Records one call. Built by the code `#[mcp_tool]` generates.
pub struct Guard<S: CallSpan = NoSpan> {
    recording: Recording,
    span: S,
    done: bool,
}

/// The span of a call, as the guard and the instrumented future use it.
pub trait CallSpan {
    /// What entering the span returns; leaving it when dropped.
    type Entered<'a>
    where
        Self: 'a;

    /// Enters the span for the time the returned value lives.
    fn enter(&self) -> Self::Entered<'_>;

    /// Marks the span of a call that failed with `error_type`.
    fn mark_failed(&self, error_type: &'static str);

    /// The ids of this span for an exemplar of the call's duration, when it is sampled.
    fn exemplar(&self) -> Option<Exemplar>;
}

/// The span of a call that has none: `#[mcp_tool(metrics)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSpan;

impl CallSpan for NoSpan {
    type Entered<'a> = ();

    #[inline(always)]
    fn enter(&self) {}

    #[inline(always)]
    fn mark_failed(&self, _: &'static str) {}

    #[inline(always)]
    fn exemplar(&self) -> Option<Exemplar> {
        None
    }
}

#[cfg(feature = "trace")]
impl CallSpan for tracing::Span {
    type Entered<'a> = tracing::span::Entered<'a>;

    #[inline]
    fn enter(&self) -> tracing::span::Entered<'_> {
        tracing::Span::enter(self)
    }

    #[cold]
    fn mark_failed(&self, error_type: &'static str) {
        self.record("error.type", error_type);
        self.record("otel.status_code", "ERROR");
    }

    #[inline]
    fn exemplar(&self) -> Option<Exemplar> {
        crate::propagation::exemplar(self)
    }
}

#[cfg(all(feature = "metrics", feature = "trace"))]
impl Guard<tracing::Span> {
    /// Starts a call with metrics and a span.
    #[inline]
    pub fn both(site: &'static CallSite, span: tracing::Span) -> Self {
        Self::start(site.start(), span)
    }
}

#[cfg(feature = "metrics")]
impl Guard<NoSpan> {
    /// Starts a call with metrics only.
    #[inline]
    pub fn metrics(site: &'static CallSite) -> Self {
        Self::start(site.start(), NoSpan)
    }
}

#[cfg(feature = "trace")]
impl Guard<tracing::Span> {
    /// Starts a call with a span only.
    #[inline]
    pub fn trace(span: tracing::Span) -> Self {
        Self::start(Recording::OFF, span)
    }
}

impl<S: CallSpan> Guard<S> {
    #[inline]
    fn start(recording: Recording, span: S) -> Self {
        Guard {
            recording,
            span,
            done: false,
        }
    }

    /// The call's span.
    #[inline]
    pub fn span(&self) -> &S {
        &self.span
    }

    /// Ends the call with the outcome of its return value.
    #[inline(always)]
    pub fn finish(mut self, outcome: Outcome) {
        self.record(outcome);
    }

    // Inlined into the caller, where the outcome is usually a constant `Success`: passing it
    // through memory to an outlined function costs a store-forwarding stall.
    #[inline(always)]
    pub(crate) fn record(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        let span = &self.span;
        self.recording.finish(outcome, || span.exemplar());
        if let Some(error_type) = outcome.error_type() {
            span.mark_failed(error_type);
        }
    }
}

impl<S: CallSpan> Drop for Guard<S> {
    fn drop(&mut self) {
        if !self.done {
            let outcome = if std::thread::panicking() {
                Outcome::Panic
            } else {
                Outcome::Cancelled
            };
            self.record(outcome);
        }
    }
}

/// What a guard holds in place of a recording when metrics are off.
#[cfg(not(feature = "metrics"))]
mod standin {
    #![allow(unreachable_pub)]
    use crate::Outcome;
    use crate::store::Exemplar;

    /// No recording: metrics are off.
    pub struct Recording;

    impl Recording {
        pub const OFF: Recording = Recording;

        #[inline(always)]
        pub fn finish(&self, _: Outcome, _: impl FnOnce() -> Option<Exemplar>) {}
    }
}
