//! Trace context from MCP `_meta`, so that a client's trace continues into the server.
//!
//! MCP carries the propagation fields (W3C `traceparent`, `tracestate`, `baggage`, or whatever the
//! configured propagator uses) unprefixed in a request's `params._meta`. The rmcp integration
//! extracts them through the OpenTelemetry propagator set with
//! [`opentelemetry::global::set_text_map_propagator`] and makes the result the parent of the
//! request span; with the `tracing-opentelemetry` layer installed, the server's spans then join
//! the client's trace and carry its baggage. When no propagator is configured (the OpenTelemetry
//! API's default is a no-op), the W3C `traceparent` and `tracestate` are read directly, as the
//! SDK's default `tracecontext` propagator would.
//!
//! The trace context of the HTTP request that carried an MCP request (its `traceparent` header)
//! is a different context: one MCP request can be retried over several HTTP requests and one HTTP
//! stream can carry several MCP requests. As the OpenTelemetry MCP conventions advise, it becomes
//! a span link of the request span when `_meta` also has a context, and the parent otherwise.

use opentelemetry::Context;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use std::str::FromStr;

/// Parses a W3C `traceparent` (version `00`): `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`,
/// lowercase, with non-zero ids. Anything else is `None`: an invalid header starts a new trace,
/// as the W3C specification asks.
///
/// ```
/// let cx = mcp_metrics::otel::parse_traceparent(
///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", None).unwrap();
/// assert_eq!(cx.trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
/// assert!(cx.is_sampled() && cx.is_remote());
/// assert!(mcp_metrics::otel::parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", None).is_none());
/// ```
pub fn parse_traceparent(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace_id, span_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || version != "00" {
        return None;
    }
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex(trace_id, 32) || !hex(span_id, 16) || !hex(flags, 2) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id)
        .ok()
        .filter(|t| *t != TraceId::INVALID)?;
    let span_id = SpanId::from_hex(span_id)
        .ok()
        .filter(|s| *s != SpanId::INVALID)?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()? & TraceFlags::SAMPLED.to_u8());
    let state = tracestate
        .and_then(|s| TraceState::from_str(s).ok())
        .unwrap_or_default();
    Some(SpanContext::new(trace_id, span_id, flags, true, state))
}

/// Makes the remote span of `traceparent`/`tracestate` the parent of `span`; does nothing when
/// the header is absent or invalid. Call it before the span is first entered.
pub fn set_remote_parent(
    span: &tracing::Span,
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if let Some(parent) = traceparent.and_then(|tp| parse_traceparent(tp, tracestate)) {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
    }
}

/// Reads propagation fields from an MCP `_meta` object: string values under their unprefixed keys.
#[cfg(feature = "rmcp")]
pub struct MetaExtractor<'a>(pub &'a serde_json::Map<String, serde_json::Value>);

#[cfg(feature = "rmcp")]
impl Extractor for MetaExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.as_str()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Reads propagation fields from HTTP headers.
#[cfg(feature = "rmcp")]
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

#[cfg(feature = "rmcp")]
impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.to_str().ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Extracts a context through the global propagator, or, when none is configured, from the W3C
/// `traceparent`/`tracestate` fields. `None` when the carrier has neither a valid remote span nor
/// baggage.
pub fn extract(carrier: &dyn Extractor) -> Option<Context> {
    use opentelemetry::baggage::BaggageExt as _;
    let configured = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator
            .fields()
            .next()
            .is_some()
            .then(|| propagator.extract_with_context(&Context::new(), carrier))
    });
    let cx = match configured {
        Some(cx) => cx,
        None => {
            let span = parse_traceparent(carrier.get("traceparent")?, carrier.get("tracestate"))?;
            Context::new().with_remote_span_context(span)
        }
    };
    (cx.span().span_context().is_valid() || !cx.baggage().is_empty()).then_some(cx)
}

/// Continues a client's trace on `span`, which must be a root span that has not been entered
/// yet: the context of `meta` becomes its parent; the context of `headers` (the HTTP request's)
/// and the ambient context (the current span, such as the transport's connection span) become
/// links. Without a `_meta` context, the HTTP context is the parent.
#[cfg(feature = "rmcp")]
pub fn continue_trace(
    span: &tracing::Span,
    meta: &serde_json::Map<String, serde_json::Value>,
    headers: Option<&http::HeaderMap>,
) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let ambient = tracing::Span::current().context();
    let ambient = ambient.span().span_context().clone();
    let from_meta = extract(&MetaExtractor(meta));
    let from_http = headers.and_then(|h| extract(&HeaderExtractor(h)));
    let link = match (from_meta, from_http) {
        (Some(parent), link) => {
            let _ = span.set_parent(parent);
            link
        }
        (None, Some(parent)) => {
            let _ = span.set_parent(parent);
            None
        }
        (None, None) => None,
    };
    if let Some(link) = link {
        span.add_link(link.span().span_context().clone());
    }
    // `add_link` ignores an invalid context.
    span.add_link(ambient);
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn strict_w3c_parsing() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cx = parse_traceparent(good, Some("vendor=abc")).expect("valid");
        assert_eq!(cx.span_id().to_string(), "00f067aa0ba902b7");
        assert_eq!(cx.trace_state().get("vendor"), Some("abc"));
        assert!(
            !parse_traceparent(&good.replace("-01", "-00"), None)
                .unwrap()
                .is_sampled()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
        ] {
            assert!(parse_traceparent(bad, None).is_none(), "{bad:?}");
        }
    }
}
