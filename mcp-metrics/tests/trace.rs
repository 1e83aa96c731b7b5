//! `#[mcp_tool(trace)]`: span name, OpenTelemetry MCP attributes, recorded error type and status.
#![cfg(feature = "trace")]

use mcp_metrics::{ErrorKind, mcp_tool};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Debug, Clone, Default)]
struct SpanData {
    name: String,
    fields: BTreeMap<String, String>,
    parent: Option<String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<BTreeMap<u64, SpanData>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> Layer<S>
    for Capture
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut data = SpanData {
            name: attrs.metadata().name().to_owned(),
            ..Default::default()
        };
        attrs.record(&mut Fields(&mut data.fields));
        data.parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.name().to_owned());
        self.0.lock().unwrap().insert(id.into_u64(), data);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(d) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut d.fields));
        }
    }
}

impl Capture {
    fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().values().cloned().collect()
    }
    fn run<T>(f: impl FnOnce() -> T) -> (T, Vec<SpanData>) {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        let out = tracing::subscriber::with_default(subscriber, f);
        (out, capture.spans())
    }
}

#[derive(Debug, ErrorKind)]
enum WeatherError {
    UnknownCity,
}

#[mcp_tool(trace)]
fn weather(city: String, days: u8) -> Result<String, WeatherError> {
    tracing::info_span!("inner").in_scope(|| ());
    if city.is_empty() {
        Err(WeatherError::UnknownCity)
    } else {
        Ok(format!("{city}: sunny for {days}"))
    }
}

#[mcp_tool(trace, name = "secret_login", skip(password), fields(user.tier = "gold", attempt = %1 + 1))]
async fn login(user: String, password: String) -> Result<(), String> {
    let _ = password;
    if user == "eve" {
        Err("denied".into())
    } else {
        Ok(())
    }
}

#[mcp_tool(trace, skip_all)]
fn crash(_x: u8) {
    panic!("no");
}

fn only<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "spans named {name:?} in {spans:?}");
    found[0]
}

#[test]
fn span_has_semantic_convention_attributes() {
    let (_, spans) = Capture::run(|| weather("Paris".into(), 3));
    let s = only(&spans, "tools/call weather");
    assert_eq!(s.fields["mcp.method.name"], "tools/call");
    assert_eq!(s.fields["gen_ai.tool.name"], "weather");
    assert_eq!(s.fields["gen_ai.operation.name"], "execute_tool");
    assert_eq!(s.fields["otel.name"], "tools/call weather");
    assert_eq!(s.fields["city"], "\"Paris\"");
    assert_eq!(s.fields["days"], "3");
    assert!(!s.fields.contains_key("error.type"));
    assert!(!s.fields.contains_key("otel.status_code"));
    // the body runs inside the span
    assert_eq!(
        only(&spans, "inner").parent.as_deref(),
        Some("tools/call weather")
    );
}

#[test]
fn error_sets_error_type_and_status() {
    let (_, spans) = Capture::run(|| weather(String::new(), 1));
    let s = only(&spans, "tools/call weather");
    assert_eq!(s.fields["error.type"], "unknown_city");
    assert_eq!(s.fields["otel.status_code"], "ERROR");
}

#[test]
fn async_name_skip_fields_and_tool_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, spans) =
        Capture::run(|| rt.block_on(async { login("eve".into(), "hunter2".into()).await }));
    let s = only(&spans, "tools/call secret_login");
    assert_eq!(s.fields["gen_ai.tool.name"], "secret_login");
    assert_eq!(s.fields["user"], "\"eve\"");
    assert!(!s.fields.contains_key("password"), "{s:?}");
    assert_eq!(s.fields["user.tier"], "gold");
    assert_eq!(s.fields["attempt"], "2");
    assert_eq!(s.fields["error.type"], "tool_error");
}

#[test]
fn panic_is_recorded_on_the_span() {
    let (_, spans) = Capture::run(|| std::panic::catch_unwind(|| crash(1)));
    let s = only(&spans, "tools/call crash");
    assert!(!s.fields.contains_key("_x"));
    assert_eq!(s.fields["error.type"], "panic");
    assert_eq!(s.fields["otel.status_code"], "ERROR");
}
