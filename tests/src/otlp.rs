//! The OTLP/HTTP receiver of the tests: a collector stand-in on 127.0.0.1 that decodes what it
//! gets at `/v1/traces` and `/v1/metrics` with the OTLP proto definitions and keeps it for the
//! test, plus accessors for span and data-point attributes and an in-memory writer for JSON log
//! lines. It is a mock because no OpenTelemetry Collector binary is available on this machine;
//! it answers as a collector does (200, empty protobuf body) and keeps the decoded requests, so a
//! test sees exactly what a collector would receive. Every OTLP test uses this one receiver.

use axum::body::Bytes;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One metrics export as it arrived.
#[derive(Clone, Debug)]
pub struct MetricsExport {
    /// The `content-type` header of the request.
    pub content_type: String,
    /// The decoded body.
    pub request: ExportMetricsServiceRequest,
}

impl MetricsExport {
    /// The resource of the export (its first resource).
    pub fn resource(&self) -> &Resource {
        self.request.resource_metrics[0]
            .resource
            .as_ref()
            .expect("an export has a resource")
    }

    /// Every metric of the export.
    pub fn metrics(&self) -> Vec<&Metric> {
        self.request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .collect()
    }

    /// The metric called `name`, if the export has it.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics().into_iter().find(|m| m.name == name)
    }
}

#[derive(Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<MetricsExport>,
}

/// An OTLP/HTTP receiver on its own runtime thread, so that it serves whatever runtime (or none)
/// the test runs on; it stops when dropped.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Received>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// Binds a free port on 127.0.0.1 and starts serving.
    pub fn start() -> Self {
        let received: Arc<Mutex<Received>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (traces, metrics) = (received.clone(), received.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let ok = || {
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                };
                let app = axum::Router::new()
                    .route(
                        "/v1/traces",
                        axum::routing::post(move |body: Bytes| async move {
                            let request = ExportTraceServiceRequest::decode(body)
                                .expect("a valid OTLP protobuf body");
                            traces.lock().unwrap().traces.push(request);
                            ok()
                        }),
                    )
                    .route(
                        "/v1/metrics",
                        axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                            let request = ExportMetricsServiceRequest::decode(body)
                                .expect("a valid OTLP protobuf body");
                            let content_type = headers
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            metrics.lock().unwrap().metrics.push(MetricsExport {
                                content_type,
                                request,
                            });
                            ok()
                        }),
                    );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Receiver {
            addr,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://ADDR`, the value of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The traces endpoint.
    pub fn traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// The metrics endpoint.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/v1/metrics", self.addr)
    }

    /// Every span received so far, in the order they arrived.
    pub fn spans(&self) -> Vec<Span> {
        self.trace_requests()
            .into_iter()
            .flat_map(|r| r.resource_spans)
            .flat_map(|rs| rs.scope_spans)
            .flat_map(|ss| ss.spans)
            .collect()
    }

    /// Every traces export received so far.
    pub fn trace_requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.received.lock().unwrap().traces.clone()
    }

    /// Every metrics export received so far.
    pub fn metric_exports(&self) -> Vec<MetricsExport> {
        self.received.lock().unwrap().metrics.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The value of attribute `key` in `attributes`.
pub fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

/// A string attribute (integers in decimal, other types in their debug form).
pub fn string_value(attributes: &[KeyValue], key: &str) -> Option<String> {
    Some(match value(attributes, key)? {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        other => format!("{other:?}"),
    })
}

/// The attribute `key` of a span.
pub fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    value(&span.attributes, key)
}

/// A string attribute of a span (integers in decimal, other types in their debug form).
pub fn attr_str(span: &Span, key: &str) -> Option<String> {
    string_value(&span.attributes, key)
}

/// An integer attribute of a span.
pub fn attr_int(span: &Span, key: &str) -> Option<i64> {
    match attr(span, key)? {
        AnyValue::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// Every text an exported span carries: name, attribute keys and values, event names and
/// attributes, status message, trace state.
pub fn all_text(span: &Span) -> String {
    let mut out = format!(
        "{} {} {:?} ",
        span.name,
        span.trace_state,
        span.status.as_ref().map(|s| &s.message)
    );
    for kv in &span.attributes {
        out.push_str(&format!("{}={:?} ", kv.key, kv.value));
    }
    for event in &span.events {
        out.push_str(&format!("{} ", event.name));
        for kv in &event.attributes {
            out.push_str(&format!("{}={:?} ", kv.key, kv.value));
        }
    }
    out
}

/// Lowercase hex, as trace and span ids are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a span is of kind SERVER.
pub fn is_server(span: &Span) -> bool {
    span.kind == opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32
}

/// Log lines written by the JSON formatter, captured in memory.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The lines written so far, each parsed as JSON.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }
}
