//! The RAII guard of one call: started before the body runs, finished with the body's outcome.
//! Dropped without finishing, it records the call as panicked (while unwinding) or cancelled.

use crate::Outcome;

/// Records one call. Built by the code `#[mcp_tool]` generates.
pub struct Guard {
    #[cfg(feature = "metrics")]
    handles: super::site::Handles,
    #[cfg(feature = "metrics")]
    start: Option<u64>,
    #[cfg(feature = "trace")]
    span: tracing::Span,
    done: bool,
}

impl Guard {
    /// Starts a call with metrics and a span.
    #[cfg(all(feature = "metrics", feature = "trace"))]
    #[inline]
    pub fn both(site: &'static super::CallSite, span: tracing::Span) -> Self {
        Self::start(site.handles(), span)
    }

    /// Starts a call with metrics only.
    #[cfg(feature = "metrics")]
    #[inline]
    pub fn metrics(site: &'static super::CallSite) -> Self {
        #[cfg(feature = "trace")]
        return Self::start(site.handles(), tracing::Span::none());
        #[cfg(not(feature = "trace"))]
        return Self::start(site.handles());
    }

    /// Starts a call with a span only.
    #[cfg(feature = "trace")]
    #[inline]
    pub fn trace(span: tracing::Span) -> Self {
        #[cfg(feature = "metrics")]
        return Self::start(super::site::Handles::Off, span);
        #[cfg(not(feature = "metrics"))]
        return Self::start(span);
    }

    #[inline]
    fn start(
        #[cfg(feature = "metrics")] handles: super::site::Handles,
        #[cfg(feature = "trace")] span: tracing::Span,
    ) -> Self {
        #[cfg(feature = "metrics")]
        let start = handles.start().then(|| super::site::clock().raw());
        Guard {
            #[cfg(feature = "metrics")]
            handles,
            #[cfg(feature = "metrics")]
            start,
            #[cfg(feature = "trace")]
            span,
            done: false,
        }
    }

    /// The call's span.
    #[cfg(feature = "trace")]
    #[inline]
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Ends the call with the outcome of its return value.
    #[inline]
    pub fn finish(mut self, outcome: Outcome) {
        self.record(outcome);
    }

    #[inline]
    pub(crate) fn record(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        #[cfg(feature = "metrics")]
        {
            if let Some(start) = self.start {
                let clock = super::site::clock();
                let end = clock.raw();
                let seconds = clock.delta_as_nanos(start, end) as f64 * 1e-9;
                #[cfg(feature = "otel")]
                let exemplar = self.exemplar(clock.delta_as_nanos(0, end));
                #[cfg(not(feature = "otel"))]
                let exemplar = None;
                super::with_exemplar(exemplar, || self.handles.finish(outcome, seconds));
            }
        }
        #[cfg(feature = "trace")]
        if let Some(error_type) = outcome.error_type() {
            self.span.record("error.type", error_type);
            self.span.record("otel.status_code", "ERROR");
        }
    }
}

#[cfg(all(feature = "metrics", feature = "otel"))]
impl Guard {
    /// The ids of this call's span, if it is sampled and the site is due for an exemplar.
    fn exemplar(&self, now_ns: u64) -> Option<super::Exemplar> {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        if self.span.is_none() || !self.handles.exemplar_due(now_ns) {
            return None;
        }
        let cx = self.span.context();
        let span = cx.span();
        let ids = span.span_context();
        (ids.is_valid() && ids.is_sampled()).then(|| super::Exemplar {
            trace_id: u128::from_be_bytes(ids.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(ids.span_id().to_bytes()),
        })
    }
}

impl Drop for Guard {
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
