//! Trace context in MCP `_meta`: the configured OpenTelemetry propagator reads and writes the
//! `traceparent`, `tracestate` and `baggage` keys of a request's `params._meta` map, as the
//! OpenTelemetry MCP conventions (and SEP-414) ask.
//!
//! The propagator is the one installed with `opentelemetry::global::set_text_map_propagator`;
//! without one (OpenTelemetry's default is a no-op) nothing is written or read.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use rmcp::model::{JsonObject, RequestParamsMeta};
use serde_json::Value;

/// Writes propagation fields into a `_meta` map as string values.
pub struct MetaInjector<'a>(pub &'a mut JsonObject);

impl Injector for MetaInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), Value::String(value));
    }
}

/// Reads propagation fields from one or more `_meta` maps; the first map that has a key wins.
/// Values that are not strings are ignored.
pub struct MetaExtractor<'a>(pub &'a [&'a JsonObject]);

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

/// Writes the trace context and baggage of `cx` into `meta` through the global propagator.
pub fn inject(cx: &Context, meta: &mut JsonObject) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut MetaInjector(meta));
    });
}

/// Reads a trace context and baggage from `metas` (the first map holding a key wins) through the
/// global propagator. The result has no valid span context when no map carries one.
pub fn extract(metas: &[&JsonObject]) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&MetaExtractor(metas))
    })
}

/// Puts the trace context and baggage of the current `tracing` span into the `_meta` of `params`,
/// so that the client span of the request continues the caller's trace.
///
/// The client runs rmcp's requests on a task of its own, where the caller's span is not current;
/// this carries the caller's context to [`InstrumentedTransport`](super::InstrumentedTransport),
/// which makes it the parent of the client span and then replaces it on the wire with the client
/// span's own context. Without it, every client span starts a trace.
///
/// ```no_run
/// # async fn run(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) -> Result<(), rmcp::ServiceError> {
/// use mcp_metrics::rmcp::client::propagation::with_current_context;
/// use rmcp::model::CallToolRequestParams;
///
/// let params = with_current_context(CallToolRequestParams::new("add"));
/// client.call_tool(params).await?;
/// # Ok(()) }
/// ```
pub fn with_current_context<P: RequestParamsMeta>(mut params: P) -> P {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let cx = tracing::Span::current().context();
    inject(&cx, &mut params.meta_or_default().0.0);
    params
}
