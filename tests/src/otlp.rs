//! The OTLP receiver of the tests: a collector stand-in on 127.0.0.1, over plain HTTP or HTTPS
//! (any rustls server configuration, so with or without client-certificate checks), that takes
//! OTLP/HTTP at `/v1/traces`, `/v1/metrics` and `/v1/logs`, OTLP/gRPC traces, metrics and logs
//! (the generated `TraceService`, `MetricsService` and `LogsService` servers of
//! opentelemetry-proto), and Pushgateway pushes at `/metrics/job/...`. It keeps every request as
//! it arrived (headers, body as sent), the decoded exports, and every failed TLS handshake; plus
//! accessors for span, log record and data-point attributes and an in-memory writer for JSON log
//! lines. It is a mock because no OpenTelemetry Collector binary is available on this
//! machine, and a real Pushgateway does not show the requests it got; it answers as they do
//! (OTLP: 200 and an empty protobuf body; push: 200), so a test sees exactly what a collector
//! would receive. Every OTLP test uses this one receiver.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One metrics export as it arrived, over HTTP or gRPC.
#[derive(Clone, Debug)]
pub struct MetricsExport {
    /// The `content-type` header of the request (`application/grpc` for gRPC).
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

/// One HTTP request as the receiver saw it, whatever its path.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// Its method.
    pub method: Method,
    /// Its path and query.
    pub uri: Uri,
    /// Its headers.
    pub headers: HeaderMap,
    /// The body as it arrived on the wire.
    pub raw: Bytes,
}

impl HttpRequest {
    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, gunzipped when it arrived with `Content-Encoding: gzip`.
    ///
    /// # Panics
    /// When such a body is not gzip.
    pub fn body(&self) -> Vec<u8> {
        decoded_body(&self.headers, &self.raw).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// `raw` as sent before its `Content-Encoding` (gzip or none).
fn decoded_body(headers: &HeaderMap, raw: &[u8]) -> Result<Vec<u8>, String> {
    if headers.get("content-encoding").is_none_or(|v| v != "gzip") {
        return Ok(raw.to_vec());
    }
    if !raw.starts_with(b"\x1f\x8b") {
        return Err("a gzip body starts with the gzip magic".into());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw)
        .read_to_end(&mut out)
        .map_err(|e| format!("the body does not decode as gzip: {e}"))?;
    Ok(out)
}

#[derive(Default)]
struct Received {
    requests: Vec<HttpRequest>,
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<MetricsExport>,
    logs: Vec<ExportLogsServiceRequest>,
    failed_handshakes: Vec<String>,
}

type Shared = Arc<Mutex<Received>>;

/// An OTLP receiver on its own runtime thread, so that it serves whatever runtime (or none) the
/// test runs on; it stops when dropped.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    scheme: &'static str,
    received: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// Binds a free port on 127.0.0.1 and serves plain HTTP (HTTP/1.1, and HTTP/2 for gRPC).
    pub fn start() -> Self {
        Self::serve(None)
    }

    /// Binds a free port on 127.0.0.1 and serves HTTPS with `config` (its certificate and its
    /// client-certificate policy), HTTP/2 or HTTP/1.1 as the client offers by ALPN. A handshake
    /// that fails is kept with its error (see [`Receiver::failed_handshakes`]).
    pub fn start_tls(mut config: rustls::ServerConfig) -> Self {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self::serve(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }

    fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let received: Shared = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = received.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                accept(listener, tls, app(shared.clone()), shared, stopped).await;
            });
        });
        Receiver {
            addr,
            scheme,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://ADDR` (`https://` over TLS), the value of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The traces endpoint.
    pub fn traces_url(&self) -> String {
        self.url("/v1/traces")
    }

    /// The metrics endpoint.
    pub fn metrics_url(&self) -> String {
        self.url("/v1/metrics")
    }

    /// The logs endpoint.
    pub fn logs_url(&self) -> String {
        self.url("/v1/logs")
    }

    /// The base URL + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
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

    /// Every traces export received so far, over HTTP or gRPC.
    pub fn trace_requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.received.lock().unwrap().traces.clone()
    }

    /// Every logs export received so far, over HTTP or gRPC.
    pub fn log_requests(&self) -> Vec<ExportLogsServiceRequest> {
        self.received.lock().unwrap().logs.clone()
    }

    /// Every log record received so far, in the order they arrived, each with the name of its
    /// instrumentation scope (the `tracing` target of a Rust event).
    pub fn log_records(&self) -> Vec<(String, LogRecord)> {
        self.log_requests()
            .into_iter()
            .flat_map(|r| r.resource_logs)
            .flat_map(|rl| rl.scope_logs)
            .flat_map(|sl| {
                let scope = sl.scope.map(|s| s.name).unwrap_or_default();
                sl.log_records.into_iter().map(move |r| (scope.clone(), r))
            })
            .collect()
    }

    /// Every metrics export received so far, over HTTP or gRPC, in the order they arrived.
    pub fn metric_exports(&self) -> Vec<MetricsExport> {
        self.received.lock().unwrap().metrics.clone()
    }

    /// Every HTTP request received so far, whatever its path, as it arrived.
    pub fn http_requests(&self) -> Vec<HttpRequest> {
        self.received.lock().unwrap().requests.clone()
    }

    /// The error of every TLS handshake that failed so far.
    pub fn failed_handshakes(&self) -> Vec<String> {
        self.received.lock().unwrap().failed_handshakes.clone()
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

/// The routes: OTLP/HTTP, OTLP/gRPC traces, metrics and logs, and Pushgateway pushes, each
/// request kept first.
fn app(received: Shared) -> Router {
    let grpc = TraceServiceServer::new(GrpcTraces(received.clone()))
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    let grpc_metrics = MetricsServiceServer::new(GrpcMetrics(received.clone()))
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    let grpc_logs = LogsServiceServer::new(GrpcLogs(received.clone()))
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    let pushed = || async { StatusCode::OK };
    Router::new()
        .route("/v1/traces", axum::routing::post(http_traces))
        .route("/v1/metrics", axum::routing::post(http_metrics))
        .route("/v1/logs", axum::routing::post(http_logs))
        .route(
            "/metrics/job/{*grouping}",
            axum::routing::put(pushed).post(pushed),
        )
        .route_service(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            grpc,
        )
        .route_service(
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            grpc_logs,
        )
        .route_service(
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            grpc_metrics,
        )
        .layer(axum::middleware::from_fn_with_state(received.clone(), keep))
        .with_state(received)
}

/// Keeps the request as it arrived, then hands it on.
async fn keep(
    State(received): State<Shared>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(raw) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    received.lock().unwrap().requests.push(HttpRequest {
        method: parts.method.clone(),
        uri: parts.uri.clone(),
        headers: parts.headers.clone(),
        raw: raw.clone(),
    });
    next.run(axum::extract::Request::from_parts(parts, Body::from(raw)))
        .await
}

/// What a collector answers an export it took: 200 and an empty protobuf message.
fn exported() -> Response {
    (
        [("content-type", "application/x-protobuf")],
        Vec::<u8>::new(),
    )
        .into_response()
}

/// The body of an OTLP/HTTP export decoded, or the 400 a collector answers to a bad one.
fn decode<M: prost::Message + Default>(headers: &HeaderMap, raw: &[u8]) -> Result<M, Response> {
    decoded_body(headers, raw)
        .and_then(|body| M::decode(body.as_slice()).map_err(|e| e.to_string()))
        .map_err(|e| (StatusCode::BAD_REQUEST, e).into_response())
}

/// Decodes an OTLP/HTTP export and keeps it with `keep`, or answers 400.
fn take<M: prost::Message + Default>(
    received: &Shared,
    headers: &HeaderMap,
    raw: &[u8],
    keep: impl FnOnce(&mut Received, M),
) -> Response {
    match decode(headers, raw) {
        Ok(request) => {
            keep(&mut received.lock().unwrap(), request);
            exported()
        }
        Err(bad) => bad,
    }
}

async fn http_traces(State(received): State<Shared>, headers: HeaderMap, raw: Bytes) -> Response {
    take(&received, &headers, &raw, |r, request| {
        r.traces.push(request)
    })
}

async fn http_logs(State(received): State<Shared>, headers: HeaderMap, raw: Bytes) -> Response {
    take(&received, &headers, &raw, |r, request| r.logs.push(request))
}

async fn http_metrics(State(received): State<Shared>, headers: HeaderMap, raw: Bytes) -> Response {
    match decode(&headers, &raw) {
        Ok(request) => {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            received.lock().unwrap().metrics.push(MetricsExport {
                content_type,
                request,
            });
            exported()
        }
        Err(bad) => bad,
    }
}

/// The gRPC trace service: keeps each export with the others.
struct GrpcTraces(Shared);

#[tonic::async_trait]
impl TraceService for GrpcTraces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().traces.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The gRPC logs service: keeps each export with the others.
struct GrpcLogs(Shared);

#[tonic::async_trait]
impl LogsService for GrpcLogs {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().logs.push(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// The gRPC metrics service: keeps each export with those that came over HTTP.
struct GrpcMetrics(Shared);

#[tonic::async_trait]
impl MetricsService for GrpcMetrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().metrics.push(MetricsExport {
            content_type: "application/grpc".to_owned(),
            request: request.into_inner(),
        });
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Accepts connections until `stopped`, each served on a task of its own.
async fn accept(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    received: Shared,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
            _ = &mut stopped => return,
        };
        let (tls, app, received) = (tls.clone(), app.clone(), received.clone());
        tokio::spawn(async move {
            let Some(acceptor) = tls else {
                return serve_connection(tcp, app).await;
            };
            match acceptor.accept(tcp).await {
                Ok(stream) => serve_connection(stream, app).await,
                Err(e) => received
                    .lock()
                    .unwrap()
                    .failed_handshakes
                    .push(e.to_string()),
            }
        });
    }
}

/// Serves HTTP/1.1 or HTTP/2 on one connection until the client closes it.
async fn serve_connection<I>(io: I, app: Router)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(app);
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
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

/// The spans named `name` of kind `kind`.
pub fn find<'a>(spans: &'a [Span], name: &str, kind: SpanKind) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.name == name && s.kind == kind as i32)
        .collect()
}

/// Name and kind of each span, for messages.
pub fn names(spans: &[Span]) -> Vec<String> {
    spans
        .iter()
        .map(|s| format!("{} ({})", s.name, s.kind))
        .collect()
}

/// Whether `ancestor` is `span`'s parent or a parent of its parent, within `spans`.
pub fn descends_from(spans: &[Span], span: &Span, ancestor: &Span) -> bool {
    let mut parent = span.parent_span_id.clone();
    while !parent.is_empty() {
        if parent == ancestor.span_id {
            return true;
        }
        parent = match spans.iter().find(|s| s.span_id == parent) {
            Some(s) => s.parent_span_id.clone(),
            None => return false,
        };
    }
    false
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

/// The body of a log record, when it is a string.
pub fn body_str(record: &LogRecord) -> Option<&str> {
    match record.body.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s),
        _ => None,
    }
}

/// Lowercase hex, as trace and span ids are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a span is of kind SERVER.
pub fn is_server(span: &Span) -> bool {
    span.kind == SpanKind::Server as i32
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

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    use prost::Message as _;
    use std::io::Write as _;

    fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
        let mut request = crate::harness::agent().post(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request
            .send(body)
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        response.status().as_u16()
    }

    #[test]
    fn exports_are_kept_as_sent_and_decoded_and_bad_ones_refused() {
        let receiver = Receiver::start();
        let export = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "gzipped".into(),
                        ..Span::default()
                    }],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&export.encode_to_vec()).unwrap();
        let gzipped = gzip.finish().unwrap();
        let protobuf = ("content-type", "application/x-protobuf");
        let url = receiver.traces_url();
        assert_eq!(
            post(&url, &[protobuf, ("content-encoding", "gzip")], &gzipped),
            200
        );
        assert_eq!(
            post(&url, &[protobuf, ("content-encoding", "gzip")], b"\x08"),
            400
        );
        assert_eq!(post(&url, &[protobuf], b"\xff\xff"), 400);
        assert_eq!(
            post(&receiver.url("/metrics/job/j/instance/i"), &[], b"up 1\n"),
            200
        );
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "my_server".into(),
                        ..InstrumentationScope::default()
                    }),
                    log_records: vec![LogRecord {
                        severity_text: "INFO".into(),
                        ..LogRecord::default()
                    }],
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        };
        assert_eq!(
            post(&receiver.logs_url(), &[protobuf], &logs.encode_to_vec()),
            200
        );
        assert_eq!(post(&receiver.url("/v1/profiles"), &[protobuf], b""), 404);

        assert_eq!(receiver.trace_requests(), [export]);
        let records = receiver.log_records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0, "my_server");
        assert_eq!(records[0].1.severity_text, "INFO");
        let requests = receiver.http_requests();
        assert_eq!(requests.len(), 6, "{requests:?}");
        assert_eq!(requests[0].raw, gzipped, "kept as sent");
        assert_eq!(requests[0].header("content-encoding"), Some("gzip"));
        assert_eq!(requests[3].uri.path(), "/metrics/job/j/instance/i");
        assert_eq!(requests[3].body(), b"up 1\n");
        assert!(receiver.failed_handshakes().is_empty());
    }
}
