//! The tracing pipeline configured from the process environment, which opentelemetry-otlp and the
//! OpenTelemetry SDK also read on their own: every variable takes effect as the exporter parsed
//! it, and what code sets replaces it. A header list the exporter refuses is an error naming the
//! variable; a valid one arrives exactly once on every request, over HTTP/protobuf and gRPC;
//! headers and compression set in code replace the environment's; the batch span processor
//! keeps `OTEL_BSP_MAX_QUEUE_SIZE`.
//!
//! This binary has one test, which sets the process environment before it starts any thread.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use mcp_metrics_exporter::Outbound;
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::harness::eventually;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

/// One request as it arrived: its headers, and the spans of its body.
#[derive(Clone, Debug)]
struct Arrived {
    headers: HeaderMap,
    spans: usize,
}

impl Arrived {
    /// Every value of header `name`.
    fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }
}

fn spans_of(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum()
}

/// A collector's HTTP and gRPC trace endpoints on 127.0.0.1 that keep what arrives; HTTP
/// requests are answered only once [`Collector::release`] was called.
#[derive(Clone)]
struct Collector {
    arrived: Arc<Mutex<Vec<Arrived>>>,
    released: tokio::sync::watch::Sender<bool>,
}

impl Collector {
    fn new() -> Self {
        Self {
            arrived: Arc::default(),
            released: tokio::sync::watch::Sender::new(true),
        }
    }

    fn hold(&self) {
        self.released.send_replace(false);
    }

    fn release(&self) {
        self.released.send_replace(true);
    }

    /// Takes what arrived so far.
    fn take(&self) -> Vec<Arrived> {
        std::mem::take(&mut *self.arrived.lock().unwrap())
    }

    /// Waits until `n` requests arrived (30 s at most).
    fn wait_for(&self, n: usize) {
        eventually(Duration::from_secs(30), || {
            (self.arrived.lock().unwrap().len() >= n).then_some(())
        })
        .unwrap_or_else(|| panic!("{n} requests did not arrive"));
    }

    fn http_app(&self) -> axum::Router {
        let collector = self.clone();
        axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                let body = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
                    let mut plain = Vec::new();
                    flate2::read::GzDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .expect("a gzip body");
                    plain
                } else {
                    body.to_vec()
                };
                let request = ExportTraceServiceRequest::decode(&body[..]).expect("OTLP protobuf");
                collector.arrived.lock().unwrap().push(Arrived {
                    headers,
                    spans: spans_of(&request),
                });
                let mut released = collector.released.subscribe();
                let _ = released.wait_for(|r| *r).await;
                ""
            }),
        )
    }

    fn grpc_app(&self) -> axum::Router {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let service = TraceServiceServer::new(GrpcCollector {
            collector: self.clone(),
            headers: seen.clone(),
        })
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let service = tower::ServiceBuilder::new()
            .map_request(move |request: axum::extract::Request| {
                seen.lock().unwrap().push(request.headers().clone());
                request
            })
            .service(service);
        axum::Router::new().route_service(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            service,
        )
    }
}

/// The gRPC side: the headers of each request, noted before tonic takes it, go with its spans.
#[derive(Clone)]
struct GrpcCollector {
    collector: Collector,
    headers: Arc<Mutex<Vec<HeaderMap>>>,
}

#[tonic::async_trait]
impl TraceService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = self.headers.lock().unwrap().remove(0);
        let spans = spans_of(request.get_ref());
        self.collector
            .arrived
            .lock()
            .unwrap()
            .push(Arrived { headers, spans });
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// A pipeline from `builder`, with the spans `emit` makes; shut down (flushed) at the end.
fn run(builder: TelemetryBuilder, emit: impl FnOnce()) {
    let (subscriber, telemetry) = builder
        .log_format(LogFormat::None)
        .build()
        .expect("pipeline builds");
    tracing::subscriber::with_default(subscriber, emit);
    telemetry.shutdown();
}

fn spans(n: usize) {
    for _ in 0..n {
        tracing::info_span!("span").in_scope(|| {});
    }
}

fn set(name: &str, value: &str) {
    // SAFETY: the only test of this binary sets the environment before it starts a thread.
    unsafe { std::env::set_var(name, value) };
}

#[test]
fn each_variable_takes_effect_once_as_parsed() {
    // A header list the exporter refuses stops the pipeline, naming the variable.
    set("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key s3cret");
    let err = TelemetryBuilder::from_env().expect_err("a malformed header list");
    assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let grpc = TcpListener::bind("127.0.0.1:0").unwrap();
    let (http_addr, grpc_addr): (SocketAddr, SocketAddr) =
        (http.local_addr().unwrap(), grpc.local_addr().unwrap());
    set(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        &format!("http://{http_addr}/v1/traces"),
    );
    set(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "x-probe=env,api-key=k%2F1",
    );
    set("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    // One span an export, exported at once; two wait while an export is under way.
    set("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1");
    set("OTEL_BSP_MAX_QUEUE_SIZE", "2");
    set("OTEL_BSP_SCHEDULE_DELAY", "3600000");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let collector = Collector::new();
    for (listener, app) in [(http, collector.http_app()), (grpc, collector.grpc_app())] {
        listener.set_nonblocking(true).unwrap();
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
    }
    let code_headers = || Outbound::new().header("x-probe", "code").unwrap();
    let grpc_url = format!("http://{grpc_addr}");
    let c = collector.clone();
    runtime
        .block_on(runtime.spawn_blocking(move || {
            // HTTP/protobuf from the environment: its headers once each, gzip, and a queue of
            // two while the collector holds the first export.
            c.hold();
            run(TelemetryBuilder::from_env().unwrap(), || {
                spans(1);
                c.wait_for(1);
                spans(5);
                c.release();
            });
            let arrived = c.take();
            let sizes: Vec<usize> = arrived.iter().map(|a| a.spans).collect();
            assert_eq!(
                sizes,
                [1, 1, 1],
                "the first span, then the two the queue held"
            );
            for a in &arrived {
                assert_eq!(a.values("x-probe"), ["env"], "{:?}", a.headers);
                assert_eq!(a.values("api-key"), ["k/1"], "{:?}", a.headers);
                assert_eq!(a.values("content-encoding"), ["gzip"], "{:?}", a.headers);
            }

            // Headers and compression set in code replace the environment's.
            run(
                TelemetryBuilder::from_env()
                    .unwrap()
                    .otlp_outbound(code_headers()),
                || spans(1),
            );
            let arrived = c.take();
            assert_eq!(arrived.len(), 1);
            let a = &arrived[0];
            assert_eq!(a.values("x-probe"), ["code"], "{:?}", a.headers);
            assert!(a.values("api-key").is_empty(), "{:?}", a.headers);
            assert!(a.values("content-encoding").is_empty(), "{:?}", a.headers);

            // gRPC: the environment's headers once each as metadata, or the code's instead.
            let grpc = || {
                TelemetryBuilder::from_env()
                    .unwrap()
                    .otlp_endpoint(&grpc_url, OtlpProtocol::Grpc)
                    .unwrap()
            };
            run(grpc(), || spans(1));
            run(grpc().otlp_outbound(code_headers()), || spans(1));
            let arrived = c.take();
            assert_eq!(arrived.len(), 2);
            assert_eq!(
                arrived[0].values("x-probe"),
                ["env"],
                "{:?}",
                arrived[0].headers
            );
            assert_eq!(arrived[0].values("api-key"), ["k/1"]);
            assert_eq!(
                arrived[1].values("x-probe"),
                ["code"],
                "{:?}",
                arrived[1].headers
            );
            assert!(arrived[1].values("api-key").is_empty());
        }))
        .expect("the checks");
}
