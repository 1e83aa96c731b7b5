//! `#[mcp_tool(trace)]`: the `execute_tool {tool}` span of the OpenTelemetry GenAI conventions,
//! parameters recorded only when `args` asks, recorded error type and status.
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

/// A value that must not reach the tracing backend.
#[derive(Debug)]
struct ApiKey(&'static str);

#[mcp_tool(trace)]
fn weather(city: String, days: u8, key: ApiKey) -> Result<String, WeatherError> {
    tracing::info_span!("inner").in_scope(|| ());
    assert!(!key.0.is_empty());
    if city.is_empty() {
        Err(WeatherError::UnknownCity)
    } else {
        Ok(format!("{city}: sunny for {days}"))
    }
}

#[mcp_tool(trace, name = "secret_login", args, skip(password), fields(user.tier = "gold", attempt = %1 + 1))]
async fn login(user: String, password: String) -> Result<(), String> {
    let _ = password;
    if user == "eve" {
        Err("denied".into())
    } else {
        Ok(())
    }
}

#[derive(Debug)]
struct Request {
    city: String,
    key: ApiKey,
}

/// Destructured parameters, as rmcp tools take `Parameters(T { .. })`: `args(..)` names the
/// bindings; the rest stays out.
#[mcp_tool(trace, args(city, r#type))]
fn forecast((Request { city, key }, r#type): (Request, u8)) -> String {
    let _ = key;
    format!("{city} {type}", type = r#type)
}

/// A bare `args` records every name the parameters bind.
#[mcp_tool(trace, args)]
fn everything(Request { city, key }: Request, days: u8) -> String {
    let _ = key;
    format!("{city} {days}")
}

#[mcp_tool(trace)]
fn crash(_x: u8) {
    panic!("no");
}

fn only<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "spans named {name:?} in {spans:?}");
    found[0]
}

#[test]
fn span_follows_the_genai_execute_tool_convention() {
    let (_, spans) = Capture::run(|| weather("Paris".into(), 3, ApiKey("sk-secret")));
    assert_eq!(spans.len(), 2, "{spans:?}");
    let s = only(&spans, "execute_tool weather");
    let expected: BTreeMap<String, String> = [
        ("otel.kind", "internal"),
        ("gen_ai.operation.name", "execute_tool"),
        ("gen_ai.tool.name", "weather"),
        ("gen_ai.tool.type", "function"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    // Exactly these: no parameter, and nothing of the server span (`mcp.method.name`).
    assert_eq!(s.fields, expected);
    // the body runs inside the span
    assert_eq!(
        only(&spans, "inner").parent.as_deref(),
        Some("execute_tool weather")
    );
}

#[test]
fn no_parameter_value_reaches_the_span_by_default() {
    let (_, spans) = Capture::run(|| weather("Paris".into(), 3, ApiKey("sk-secret")));
    for span in &spans {
        for (key, value) in &span.fields {
            assert!(
                !value.contains("sk-secret") && !value.contains("Paris"),
                "{key} = {value} on {span:?}"
            );
        }
    }
}

#[test]
fn error_sets_error_type_and_status() {
    let (_, spans) = Capture::run(|| weather(String::new(), 1, ApiKey("k")));
    let s = only(&spans, "execute_tool weather");
    assert_eq!(s.fields["error.type"], "unknown_city");
    assert_eq!(s.fields["otel.status_code"], "ERROR");
}

#[test]
fn async_name_args_skip_fields_and_tool_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, spans) =
        Capture::run(|| rt.block_on(async { login("eve".into(), "hunter2".into()).await }));
    let s = only(&spans, "execute_tool secret_login");
    assert_eq!(s.fields["gen_ai.tool.name"], "secret_login");
    assert_eq!(s.fields["user"], "\"eve\"");
    assert!(!s.fields.contains_key("password"), "{s:?}");
    assert!(!s.fields.values().any(|v| v.contains("hunter2")), "{s:?}");
    assert_eq!(s.fields["user.tier"], "gold");
    assert_eq!(s.fields["attempt"], "2");
    assert_eq!(s.fields["error.type"], "tool_error");
}

#[test]
fn args_list_records_only_the_named_bindings() {
    let request = Request {
        city: "Oslo".into(),
        key: ApiKey("sk-secret"),
    };
    let (out, spans) = Capture::run(|| forecast((request, 7)));
    assert_eq!(out, "Oslo 7");
    let s = only(&spans, "execute_tool forecast");
    assert_eq!(s.fields["city"], "\"Oslo\"");
    assert_eq!(s.fields["type"], "7");
    assert!(!s.fields.contains_key("key"), "{s:?}");
    assert!(!s.fields.values().any(|v| v.contains("sk-secret")), "{s:?}");
}

#[test]
fn bare_args_records_every_binding() {
    let request = Request {
        city: "Rome".into(),
        key: ApiKey("sk-public"),
    };
    let (_, spans) = Capture::run(|| everything(request, 2));
    let s = only(&spans, "execute_tool everything");
    assert_eq!(s.fields["city"], "\"Rome\"");
    assert_eq!(s.fields["key"], "ApiKey(\"sk-public\")");
    assert_eq!(s.fields["days"], "2");
}

#[test]
fn panic_is_recorded_on_the_span() {
    let (_, spans) = Capture::run(|| std::panic::catch_unwind(|| crash(1)));
    let s = only(&spans, "execute_tool crash");
    assert!(!s.fields.contains_key("_x"));
    assert_eq!(s.fields["error.type"], "panic");
    assert_eq!(s.fields["otel.status_code"], "ERROR");
}
