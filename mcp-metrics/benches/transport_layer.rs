//! What `TransportLayer` costs one request: the same in-process endpoint, bare and behind the
//! layer, recording into store atomics as with the exporter installed.
//!
//! ```sh
//! cargo bench -p mcp-metrics --features streamable-http --bench transport_layer
//! ```
//!
//! Each iteration builds a request, calls the endpoint, polls its answer and reads the whole body
//! (one frame of 97 bytes, as a small tool result on server-sent events), then drops it, which
//! is when the layer records. The endpoint answers at once, so the difference between the rows is
//! the layer: two clock reads, the method's label, one histogram series looked up and recorded
//! (and, for a refusal, the first bytes of the body classified and one counter).
//!
//! The difference is a few hundred instructions, below the timing noise of a shared machine;
//! count them with callgrind, one row at a time (`exchange` is never inlined):
//!
//! ```sh
//! valgrind --tool=callgrind --callgrind-out-file=cg.out \
//!     target/release/deps/transport_layer-<hash> --bench --profile-time 3 'behind the layer, 200'
//! callgrind_annotate --inclusive=yes --tree=caller cg.out | grep -B1 'transport_layer::exchange \['
//! ```
//!
//! The `<` line gives the calls (`(Nx)`) and the `*` line the instructions of all of them.

use bytes::Bytes;
use criterion::{Criterion, criterion_main};
use futures::FutureExt as _;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use mcp_metrics::store::{Counter, Gauge, Histogram, Store};
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use tower::{Service, ServiceExt as _};
use tower_layer::Layer as _;

/// A store that hands out fresh atomics: every series is registered once, so this is what a
/// record touches with the exporter installed.
struct Atomics;

impl Store for Atomics {
    fn histogram(&self, _: &metrics::Key) -> Option<Arc<Histogram>> {
        Some(Arc::new(Histogram::new(
            mcp_metrics::names::DEFAULT_DURATION_BUCKETS,
        )))
    }
    fn gauge(&self, _: &metrics::Key) -> Option<Arc<Gauge>> {
        Some(Arc::default())
    }
    fn counter(&self, _: &metrics::Key) -> Option<Arc<Counter>> {
        Some(Arc::default())
    }
}

const EVENT: &str = r#"data: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"42"}],"isError":false}}"#;

/// An endpoint that answers `status` with `body` at once.
fn endpoint(
    status: u16,
    body: &'static str,
) -> impl Service<Request<Full<Bytes>>, Response = Response<Full<Bytes>>, Error = Infallible> + Clone
{
    tower::service_fn(move |_request: Request<Full<Bytes>>| {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = http::StatusCode::from_u16(status).expect("a status");
        std::future::ready(Ok::<_, Infallible>(response))
    })
}

/// One request through `service`, its body read to the end and dropped. Never inlined, so that
/// under callgrind each row's exchanges are one function with a count of calls.
#[inline(never)]
fn exchange<S, B>(service: &mut S) -> usize
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let request = Request::post("/mcp")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("a request");
    let ready = service.ready().now_or_never().expect("ready at once");
    let response = ready
        .expect("infallible")
        .call(request)
        .now_or_never()
        .expect("answered at once")
        .expect("infallible");
    let body = response
        .into_body()
        .collect()
        .now_or_never()
        .expect("one frame")
        .expect("a body");
    body.to_bytes().len()
}

fn bench(c: &mut Criterion) {
    let _ = mcp_metrics::store::set_store(Arc::new(Atomics));
    let layer = mcp_metrics::rmcp::TransportLayer::new("/mcp");
    let mut group = c.benchmark_group("transport_layer");
    let mut bare = endpoint(200, EVENT);
    group.bench_function("bare endpoint, 200", |b| {
        b.iter(|| black_box(exchange(&mut bare)))
    });
    let mut layered = layer.layer(endpoint(200, EVENT));
    group.bench_function("behind the layer, 200", |b| {
        b.iter(|| black_box(exchange(&mut layered)))
    });
    let refusal = "fail to deserialize request body: expected value at line 1 column 1";
    let mut bare_refused = endpoint(415, refusal);
    group.bench_function("bare endpoint, 415", |b| {
        b.iter(|| black_box(exchange(&mut bare_refused)))
    });
    let mut refused = layer.layer(endpoint(415, refusal));
    group.bench_function("behind the layer, 415 parse_error", |b| {
        b.iter(|| black_box(exchange(&mut refused)))
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`.
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);
