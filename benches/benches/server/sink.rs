//! The OTLP/HTTP trace sink: a loopback listener on a thread of its own that accepts
//! `POST /v1/traces`, counts the export requests and the spans in them, and discards them.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// What a sink received so far.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    spans: AtomicU64,
    bytes: AtomicU64,
    bad: AtomicU64,
}

/// A snapshot of the counts.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Received {
    pub(crate) requests: u64,
    pub(crate) spans: u64,
    pub(crate) bytes: u64,
    pub(crate) bad: u64,
}

impl std::ops::Sub for Received {
    type Output = Received;
    fn sub(self, earlier: Received) -> Received {
        Received {
            requests: self.requests - earlier.requests,
            spans: self.spans - earlier.spans,
            bytes: self.bytes - earlier.bytes,
            bad: self.bad - earlier.bad,
        }
    }
}

/// A running sink; its thread ends with the process.
pub(crate) struct Sink {
    pub(crate) addr: SocketAddr,
    counts: Arc<Counts>,
    tid: i32,
}

impl Sink {
    /// Starts a sink on 127.0.0.1, port chosen by the system.
    pub(crate) fn start() -> Sink {
        let counts = Arc::new(Counts::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = counts.clone();
        std::thread::Builder::new()
            .name("otlp-sink".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("sink runtime");
                runtime.block_on(serve(shared, tx));
            })
            .expect("sink thread");
        let (addr, tid) = rx.recv().expect("the sink's address");
        Sink { addr, counts, tid }
    }

    pub(crate) fn received(&self) -> Received {
        Received {
            requests: self.counts.requests.load(Relaxed),
            spans: self.counts.spans.load(Relaxed),
            bytes: self.counts.bytes.load(Relaxed),
            bad: self.counts.bad.load(Relaxed),
        }
    }

    /// CPU time of the sink's thread so far.
    pub(crate) fn cpu(&self) -> Duration {
        super::servers::thread_cpu(self.tid)
    }
}

async fn serve(counts: Arc<Counts>, ready: std::sync::mpsc::Sender<(SocketAddr, i32)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the sink");
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    ready
        .send((listener.local_addr().expect("sink address"), tid))
        .expect("the bench waits for the sink");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let counts = counts.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| receive(counts.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn receive(
    counts: Arc<Counts>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path_ok = req.uri().path().ends_with("/v1/traces");
    let body = req.into_body().collect().await?.to_bytes();
    counts.requests.fetch_add(1, Relaxed);
    counts.bytes.fetch_add(body.len() as u64, Relaxed);
    let spans = ExportTraceServiceRequest::decode(body)
        .ok()
        .filter(|_| path_ok)
        .map(|r| {
            r.resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len() as u64)
                .sum::<u64>()
        });
    let status = match spans {
        Some(n) => {
            counts.spans.fetch_add(n, Relaxed);
            StatusCode::OK
        }
        None => {
            counts.bad.fetch_add(1, Relaxed);
            StatusCode::BAD_REQUEST
        }
    };
    // An empty ExportTraceServiceResponse is zero bytes of protobuf.
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::new()))
        .expect("a valid response"))
}
