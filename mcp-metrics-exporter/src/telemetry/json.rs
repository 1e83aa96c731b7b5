//! JSON log lines that carry the OpenTelemetry ids of the current span.

use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use std::io::Write as _;
use std::sync::OnceLock;
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Writes each event as one JSON object a line: `timestamp`, `level`, `target`, `message`, the
/// event's fields, `span` (the current span's name) and, inside a trace, `trace_id` and `span_id`
/// in the lowercase hex that OTLP exports and W3C `traceparent` uses.
pub(crate) struct JsonLogLayer<W> {
    writer: W,
    dispatch: OnceLock<WeakDispatch>,
}

impl<W> JsonLogLayer<W> {
    /// Writes lines to `writer`.
    pub(crate) fn new(writer: W) -> Self {
        JsonLogLayer {
            writer,
            dispatch: OnceLock::new(),
        }
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

impl<S, W> Layer<S> for JsonLogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        let mut timestamp = String::new();
        if SystemTime
            .format_time(&mut Writer::new(&mut timestamp))
            .is_ok()
        {
            line.insert("timestamp".into(), timestamp.into());
        }
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        event.record(&mut Fields(&mut line));
        // The ids of the event's span if it is an OpenTelemetry span, else of the current
        // OpenTelemetry context: a request span of `mcp_metrics::rmcp`, or a span inside an
        // unsampled request, which is not one.
        let mut ids = None;
        if let Some(span) = ctx.event_span(event) {
            line.insert("span".into(), span.name().into());
            let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
            let cx = dispatch.and_then(|d| tracing_opentelemetry::get_otel_context(&span.id(), &d));
            ids = cx
                .map(|cx| cx.span().span_context().clone())
                .filter(|ids| ids.is_valid());
        }
        let ids = ids.or_else(|| {
            opentelemetry::Context::map_current(|cx| {
                let ids = cx.span().span_context().clone();
                ids.is_valid().then_some(ids)
            })
        });
        if let Some(ids) = ids {
            line.insert("trace_id".into(), ids.trace_id().to_string().into());
            line.insert("span_id".into(), ids.span_id().to_string().into());
        }
        if let Ok(mut text) = serde_json::to_vec(&line) {
            text.push(b'\n');
            let _ = self
                .writer
                .make_writer_for(event.metadata())
                .write_all(&text);
        }
    }
}
