//! Trace context across MCP messages, in both directions, and the ids a span lends to exemplars
//! and audit events.
//!
//! MCP carries the propagation fields (W3C `traceparent`, `tracestate`, `baggage`, or whatever
//! the configured propagator uses) unprefixed in a message's `params._meta`. Everything here goes
//! through the OpenTelemetry propagator installed with
//! [`opentelemetry::global::set_text_map_propagator`] (the `mcp-metrics-exporter` telemetry
//! pipeline installs the one `OTEL_PROPAGATORS` names): without one, the OpenTelemetry default
//! reads and writes nothing, so no context crosses a message.
//!
//! The trace context of the HTTP request that carried an MCP request is another context: one MCP
//! request can be retried over several HTTP requests, and one HTTP stream carries several MCP
//! requests. As the OpenTelemetry MCP conventions advise, it becomes a link of the request span
//! when `_meta` has a context too, and the parent otherwise (see `rmcp::span`).
//!
//! Without the `otel` feature nothing is read, written or linked.

use crate::store::Exemplar;

/// The ids of `span` for an exemplar, when it belongs to a sampled OpenTelemetry trace.
#[cfg(feature = "otel")]
pub(crate) fn exemplar(span: &tracing::Span) -> Option<Exemplar> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if span.is_none() {
        return None;
    }
    let cx = span.context();
    let otel_span = cx.span();
    let ids = otel_span.span_context();
    (ids.is_valid() && ids.is_sampled()).then(|| Exemplar {
        trace_id: u128::from_be_bytes(ids.trace_id().to_bytes()),
        span_id: u64::from_be_bytes(ids.span_id().to_bytes()),
    })
}

/// Without `otel`, spans have no OpenTelemetry ids.
#[cfg(all(feature = "trace", not(feature = "otel")))]
#[inline(always)]
pub(crate) fn exemplar(_: &tracing::Span) -> Option<Exemplar> {
    None
}

#[cfg(all(feature = "otel", feature = "rmcp-client"))]
pub use meta::with_current_context;
#[cfg(all(feature = "otel", feature = "rmcp"))]
pub(crate) use meta::{extract_headers, extract_meta, inject_meta};

#[cfg(all(feature = "otel", feature = "rmcp"))]
mod meta {
    use opentelemetry::Context;
    use opentelemetry::propagation::{Extractor, Injector};
    use opentelemetry::trace::TraceContextExt as _;
    use rmcp::model::JsonObject;
    #[cfg(feature = "rmcp-client")]
    use rmcp::model::RequestParamsMeta;
    use serde_json::Value;
    #[cfg(feature = "rmcp-client")]
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    /// Reads propagation fields from one or more `_meta` maps; the first map that has a key
    /// wins. Values that are not strings are ignored.
    struct MetaExtractor<'a>(&'a [&'a JsonObject]);

    impl Extractor for MetaExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find_map(|meta| meta.get(key).and_then(Value::as_str))
        }

        fn keys(&self) -> Vec<&str> {
            let mut keys: Vec<&str> = self
                .0
                .iter()
                .flat_map(|meta| meta.keys().map(String::as_str))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        }
    }

    /// Writes propagation fields into a `_meta` map as string values.
    struct MetaInjector<'a>(&'a mut JsonObject);

    impl Injector for MetaInjector<'_> {
        fn set(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), Value::String(value));
        }
    }

    /// Reads propagation fields from HTTP headers.
    struct HeaderExtractor<'a>(&'a http::HeaderMap);

    impl Extractor for HeaderExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key)?.to_str().ok()
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }

    /// A context through the global propagator, if it found a valid span context or baggage in
    /// `carrier` (and in nothing else: the context current here is not the peer's). A propagator
    /// that names no field reads nothing: OpenTelemetry's default, which answers any extraction
    /// with the current context, and the empty list of `OTEL_PROPAGATORS=none`.
    fn extract(carrier: &dyn Extractor) -> Option<Context> {
        use opentelemetry::baggage::BaggageExt as _;
        let cx = opentelemetry::global::get_text_map_propagator(|p| {
            p.fields()
                .next()
                .is_some()
                .then(|| p.extract_with_context(&Context::new(), carrier))
        })?;
        (cx.span().span_context().is_valid() || !cx.baggage().is_empty()).then_some(cx)
    }

    /// The context `metas` carry (the first map holding a key wins), if any.
    pub(crate) fn extract_meta(metas: &[&JsonObject]) -> Option<Context> {
        extract(&MetaExtractor(metas))
    }

    /// Writes the trace context and baggage of `cx` into `meta`.
    pub(crate) fn inject_meta(cx: &Context, meta: &mut JsonObject) {
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(cx, &mut MetaInjector(meta));
        });
    }

    /// The context HTTP headers carry, if any.
    pub(crate) fn extract_headers(headers: &http::HeaderMap) -> Option<Context> {
        extract(&HeaderExtractor(headers))
    }

    /// Puts the trace context and baggage of the current `tracing` span into the `_meta` of
    /// `params`, so that the client span of the request continues the caller's trace.
    ///
    /// An rmcp client sends its requests from a task of its own, where the caller's span is not
    /// current; this carries the caller's context to the instrumented transport, which makes it
    /// the parent of the client span and then replaces it on the wire with the client span's own
    /// context. Without it, every client span starts a trace.
    ///
    /// ```no_run
    /// # async fn run(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) -> Result<(), rmcp::ServiceError> {
    /// use mcp_metrics::rmcp::client::with_current_context;
    /// use rmcp::model::CallToolRequestParams;
    ///
    /// let params = with_current_context(CallToolRequestParams::new("add"));
    /// client.call_tool(params).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "rmcp-client")]
    pub fn with_current_context<P: RequestParamsMeta>(mut params: P) -> P {
        let cx = tracing::Span::current().context();
        inject_meta(&cx, &mut params.meta_or_default().0.0);
        params
    }
}
