//! Trace context across processes: the global propagator installed from the configured
//! [`Propagator`]s (W3C Trace Context, W3C Baggage, or one that propagates nothing), and the span
//! processor that copies chosen baggage entries onto spans.

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::Span as _;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use crate::config::traces::Propagator;

fn to_sdk(propagator: Propagator) -> Box<dyn TextMapPropagator + Send + Sync> {
    use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
    match propagator {
        Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
        Propagator::Baggage => Box::new(BaggagePropagator::new()),
    }
}

/// Installs `propagators` as OpenTelemetry's global text-map propagator. An empty list
/// (`OTEL_PROPAGATORS=none`) reads and writes nothing, so no caller's trace is continued and no
/// context is sent.
pub(crate) fn install(propagators: &[Propagator]) {
    opentelemetry::global::set_text_map_propagator(propagator(propagators));
}

/// The propagator of `propagators`, each in turn.
fn propagator(propagators: &[Propagator]) -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(propagators.iter().copied().map(to_sdk).collect())
}

/// Copies the values of the listed baggage keys of a span's parent context onto the span as
/// attributes of the same name.
#[derive(Debug)]
pub(crate) struct BaggageAttributes(pub(crate) Vec<opentelemetry::Key>);

impl SpanProcessor for BaggageAttributes {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        let baggage = cx.baggage();
        for key in &self.0 {
            if let Some(value) = baggage.get(key.as_str()) {
                span.set_attribute(opentelemetry::KeyValue::new(key.clone(), value.clone()));
            }
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(
        &self,
        _timeout: std::time::Duration,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt as _;
    use std::collections::HashMap;

    #[test]
    fn none_propagates_nothing() {
        let none = propagator(&[]);
        let carrier: HashMap<String, String> = [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("baggage", "tenant=acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let cx = none.extract(&carrier);
        assert!(!cx.span().span_context().is_valid());
        assert_eq!(cx.baggage().len(), 0);
        let both = propagator(&[Propagator::TraceContext, Propagator::Baggage]);
        let remote = both.extract(&carrier);
        assert!(remote.span().span_context().is_valid());
        assert_eq!(remote.baggage().len(), 1);
        let mut written = HashMap::new();
        none.inject_context(&remote, &mut written);
        assert!(written.is_empty(), "{written:?}");
        both.inject_context(&remote, &mut written);
        assert!(written.contains_key("traceparent"), "{written:?}");
    }
}
