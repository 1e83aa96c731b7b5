//! The spans' way out, built from parsed settings: the tracer provider (resource, sampler, span
//! limits, baggage attributes) and its batch span processor with the OTLP (HTTP/protobuf or
//! gRPC) or stdout exporter.
//!
//! opentelemetry-otlp 0.33 builds the OTLP exporter, and its builders read the environment for
//! every setting they are not given. Here they are given the endpoint, the protocol, the timeout
//! and a gzip compression, so they read none of those variables; they still read
//! `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` on every build and `…_COMPRESSION` when not given one,
//! and no builder setting stops that. What they make of them never reaches the wire: over HTTP,
//! [`SpanHttpClient`] sends exactly the configured headers and does the compression itself
//! (opentelemetry-otlp's own gzip is not compiled in); over gRPC, an interceptor replaces the
//! request metadata with the configured headers. The one thing left to it is gRPC compression
//! when none is configured: opentelemetry-otlp then applies `…_COMPRESSION=gzip` from the process
//! environment, whatever the code set (tonic compresses per message, so no layer here can undo
//! it).

use std::time::Duration;

use http::HeaderMap;
use opentelemetry_http::{Bytes, HttpError, Request, Response};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter, SpanLimits,
};

use crate::config::otlp::OtlpProtocol;
use crate::config::outbound::{Compression, Outbound};
use crate::config::traces::{
    BatchSettings, Sampler, SpanLimitSettings, TraceSettings, TracesExporter,
};
use crate::config::vars;
use crate::error::{ConfigError, Error};
use crate::telemetry::propagation::BaggageAttributes;

/// The tracer provider of `settings`: its resource, sampler, span limits and span processors.
pub(crate) fn provider(settings: &TraceSettings) -> Result<SdkTracerProvider, Error> {
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource(settings))
        .with_sampler(sampler(settings.sampler))
        .with_span_limits(span_limits(settings.span_limits));
    if !settings.baggage_keys.is_empty() {
        builder = builder.with_span_processor(BaggageAttributes(
            settings
                .baggage_keys
                .iter()
                .map(|k| opentelemetry::Key::new(k.clone()))
                .collect(),
        ));
    }
    let builder = match settings.exporter {
        TracesExporter::None => builder,
        TracesExporter::Stdout => builder.with_span_processor(batch_processor(
            opentelemetry_stdout::SpanExporter::default(),
            &settings.batch,
        )),
        TracesExporter::Otlp => {
            builder.with_span_processor(batch_processor(otlp_exporter(settings)?, &settings.batch))
        }
    };
    Ok(builder.build())
}

/// The resource of the spans: the one the OTLP metrics have, and the SDK's `telemetry.sdk.*`.
fn resource(settings: &TraceSettings) -> Resource {
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            settings
                .resource()
                .into_iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(k, v)),
        )
        .build()
}

fn sampler(sampler: Sampler) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as S;
    match sampler {
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
    }
}

/// The SDK's default limits with the ones that are set.
fn span_limits(set: SpanLimitSettings) -> SpanLimits {
    let mut limits = SpanLimits::default();
    if let Some(n) = set.attributes {
        limits.max_attributes_per_span = n;
    }
    if let Some(n) = set.events {
        limits.max_events_per_span = n;
    }
    if let Some(n) = set.links {
        limits.max_links_per_span = n;
    }
    limits
}

/// A batch span processor for `exporter` with every setting of `batch` (the SDK's defaults read
/// the environment on their own; each value they read is replaced here). Its export timeout
/// bounds the exporter's requests instead (see [`export_timeout`]): the SDK's thread-based
/// processor does not apply one.
pub(crate) fn batch_processor<E>(exporter: E, batch: &BatchSettings) -> BatchSpanProcessor
where
    E: SpanExporter + 'static,
{
    let config = BatchConfigBuilder::default()
        .with_scheduled_delay(batch.schedule_delay)
        .with_max_queue_size(batch.max_queue_size)
        .with_max_export_batch_size(batch.batch_size())
        .build();
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}

/// How long one export may take, retries included: the OTLP timeout, and no longer than the
/// batch span processor's export timeout.
fn export_timeout(settings: &TraceSettings) -> Duration {
    settings.outbound.timeout.min(settings.batch.export_timeout)
}

/// What an opentelemetry-otlp builder returns.
type Built = Result<opentelemetry_otlp::SpanExporter, opentelemetry_otlp::ExporterBuildError>;

fn otlp_exporter(settings: &TraceSettings) -> Result<opentelemetry_otlp::SpanExporter, Error> {
    let endpoint = settings.otlp_endpoint();
    let outbound = settings.outbound.clone().timeout(export_timeout(settings));
    let built = match settings.protocol {
        OtlpProtocol::HttpProtobuf => http_exporter(&endpoint, &outbound)?,
        #[cfg(feature = "telemetry-grpc")]
        OtlpProtocol::Grpc => grpc_exporter(&endpoint, &outbound)?,
        #[cfg(not(feature = "telemetry-grpc"))]
        OtlpProtocol::Grpc => {
            return Err(ConfigError::new(
                vars::OTLP_TRACES_PROTOCOL,
                "grpc",
                "this build has no gRPC transport: enable the `telemetry-grpc` feature",
            )
            .into());
        }
    };
    built.map_err(|e| ConfigError::new(vars::OTLP_TRACES_ENDPOINT, &endpoint, e.to_string()).into())
}

/// The HTTP/protobuf exporter, sending through [`SpanHttpClient`].
fn http_exporter(endpoint: &str, outbound: &Outbound) -> Result<Built, ConfigError> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    Ok(opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(SpanHttpClient::new(outbound)?)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(outbound.timeout)
        .build())
}

/// The gRPC exporter: our channel (TLS, timeout), the configured headers as the metadata of
/// every request, gzip when configured.
#[cfg(feature = "telemetry-grpc")]
fn grpc_exporter(endpoint: &str, outbound: &Outbound) -> Result<Built, Error> {
    use opentelemetry_otlp::{WithExportConfig as _, WithTonicConfig as _};
    // The gRPC channel runs its connection on the Tokio runtime.
    tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let channel = crate::client::grpc_channel(vars::OTLP_TRACES_ENDPOINT, endpoint, outbound)?;
    let metadata = tonic::metadata::MetadataMap::from_headers(outbound.headers.clone());
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_channel(channel)
        .with_timeout(outbound.timeout)
        .with_interceptor(move |mut request: tonic::Request<()>| {
            *request.metadata_mut() = metadata.clone();
            Ok(request)
        });
    Ok(match outbound.compression {
        Compression::Gzip => builder
            .with_compression(opentelemetry_otlp::Compression::Gzip)
            .build(),
        Compression::None => builder.build(),
    })
}

/// The HTTP client of the OTLP span exporter: a blocking reqwest client on the configured TLS
/// (the batch span processor exports from a thread of its own, outside any async runtime),
/// which sends exactly the configured headers and compresses as configured, whatever
/// opentelemetry-otlp put on the request.
#[derive(Debug)]
struct SpanHttpClient {
    client: reqwest::blocking::Client,
    headers: HeaderMap,
    compression: Compression,
}

impl SpanHttpClient {
    fn new(outbound: &Outbound) -> Result<Self, ConfigError> {
        Ok(Self {
            client: crate::client::blocking_client(vars::OTLP_TRACES_ENDPOINT, outbound)?,
            headers: outbound.headers.clone(),
            compression: outbound.compression,
        })
    }

    /// `request` with its content type and an encoded body, and exactly our headers.
    fn outgoing(&self, request: Request<Bytes>) -> Result<Request<Bytes>, HttpError> {
        let (mut parts, body) = request.into_parts();
        let body = match parts.headers.get(http::header::CONTENT_ENCODING) {
            // Only when another crate of the program turned on opentelemetry-otlp's gzip and the
            // environment asks for it: decode, so that the configured compression decides.
            Some(encoding) if encoding == "gzip" => gunzip(&body)?,
            Some(encoding) => {
                return Err(format!("unexpected content encoding {encoding:?}").into());
            }
            None => body.to_vec(),
        };
        let content_type = parts.headers.remove(http::header::CONTENT_TYPE);
        parts.headers = self.headers.clone();
        if let Some(content_type) = content_type {
            parts
                .headers
                .insert(http::header::CONTENT_TYPE, content_type);
        }
        let body = match self.compression {
            Compression::None => body,
            Compression::Gzip => {
                parts.headers.insert(
                    http::header::CONTENT_ENCODING,
                    http::HeaderValue::from_static("gzip"),
                );
                crate::client::gzip(&body)
            }
        };
        Ok(Request::from_parts(parts, Bytes::from(body)))
    }
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, HttpError> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for SpanHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = self.outgoing(request)?;
        self.client.send_bytes(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::SpanData;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Instant;

    fn client(compression: Compression) -> SpanHttpClient {
        let outbound = Outbound::new()
            .header("api-key", "ours")
            .unwrap()
            .compression(compression);
        SpanHttpClient::new(&outbound).unwrap()
    }

    fn request(headers: &[(&str, &str)], body: Vec<u8>) -> Request<Bytes> {
        let mut builder = Request::post("http://collector/v1/traces");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Bytes::from(body)).unwrap()
    }

    #[test]
    fn requests_carry_exactly_the_configured_headers() {
        let theirs = request(
            &[
                ("content-type", "application/x-protobuf"),
                ("api-key", "from-the-environment"),
                ("user-agent", "OTel-OTLP-Exporter-Rust"),
                ("x-extra", "1"),
            ],
            b"spans".to_vec(),
        );
        let sent = client(Compression::None).outgoing(theirs).unwrap();
        let names: Vec<&str> = sent.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["api-key", "content-type"]);
        assert_eq!(sent.headers().get_all("api-key").iter().count(), 1);
        assert_eq!(sent.headers()["api-key"], "ours");
        assert_eq!(sent.body().as_ref(), b"spans");
    }

    #[test]
    fn the_configured_compression_decides() {
        let plain = request(&[], b"spans".repeat(50));
        let sent = client(Compression::Gzip).outgoing(plain).unwrap();
        assert_eq!(sent.headers()["content-encoding"], "gzip");
        assert_eq!(gunzip(sent.body()).unwrap(), b"spans".repeat(50));
        // A body compressed because of the environment leaves as configured: plain.
        let zipped = request(
            &[("content-encoding", "gzip")],
            crate::client::gzip(b"spans"),
        );
        let sent = client(Compression::None).outgoing(zipped).unwrap();
        assert!(sent.headers().get("content-encoding").is_none());
        assert_eq!(sent.body().as_ref(), b"spans");
    }

    /// An exporter that records batches, and blocks its first export until released.
    #[derive(Clone, Debug, Default)]
    struct Held {
        batches: Arc<Mutex<Vec<usize>>>,
        gate: Arc<(Mutex<(bool, bool)>, Condvar)>,
    }

    impl Held {
        /// Waits until the first export has started; panics after 30 s.
        fn wait_entered(&self) {
            let (lock, cv) = &*self.gate;
            let (gate, timeout) = cv
                .wait_timeout_while(
                    lock.lock().unwrap(),
                    Duration::from_secs(30),
                    |(entered, _)| !*entered,
                )
                .unwrap();
            assert!(gate.0 && !timeout.timed_out(), "no export started");
        }

        fn release(&self) {
            let (lock, cv) = &*self.gate;
            lock.lock().unwrap().1 = true;
            cv.notify_all();
        }

        /// The sizes of the batches exported so far.
        fn batches(&self) -> Vec<usize> {
            self.batches.lock().unwrap().clone()
        }

        /// Waits until `spans` spans were exported, or 30 s.
        fn wait_for_spans(&self, spans: usize) -> Vec<usize> {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let batches = self.batches();
                if batches.iter().sum::<usize>() >= spans || Instant::now() > deadline {
                    return batches;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    impl SpanExporter for Held {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let (lock, cv) = &*self.gate;
            let mut gate = lock.lock().unwrap();
            gate.0 = true;
            cv.notify_all();
            drop(cv.wait_while(gate, |(_, released)| !*released).unwrap());
            self.batches.lock().unwrap().push(batch.len());
            Ok(())
        }
    }

    fn spans(provider: &SdkTracerProvider, n: usize) {
        let tracer = provider.tracer("test");
        for _ in 0..n {
            tracer.in_span("s", |_| {});
        }
    }

    fn provider(exporter: &Held, batch: BatchSettings) -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_span_processor(batch_processor(exporter.clone(), &batch))
            .build()
    }

    const AN_HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_batch_size_sets_the_spans_of_one_export() {
        let held = Held::default();
        let batch = BatchSettings {
            schedule_delay: AN_HOUR,
            max_export_batch_size: Some(2),
            ..BatchSettings::default()
        };
        let provider = provider(&held, batch);
        // A full batch leaves at once, an hour before the schedule; the exporter holds it while
        // three more spans wait.
        spans(&provider, 2);
        held.wait_entered();
        spans(&provider, 3);
        held.release();
        provider.force_flush().unwrap();
        assert_eq!(held.batches(), [2, 2, 1]);
    }

    #[test]
    fn the_schedule_delay_exports_a_partial_batch() {
        let held = Held::default();
        held.release();
        let batch = BatchSettings {
            schedule_delay: Duration::from_millis(20),
            ..BatchSettings::default()
        };
        let provider = provider(&held, batch);
        spans(&provider, 1);
        // No flush: the delay alone sends it (the default would wait 5 s; the wait gives up
        // after 30).
        let started = Instant::now();
        assert_eq!(held.wait_for_spans(1), [1]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        drop(provider);
    }

    #[test]
    fn the_queue_size_bounds_the_spans_waiting() {
        let held = Held::default();
        let batch = BatchSettings {
            schedule_delay: AN_HOUR,
            max_queue_size: 2,
            max_export_batch_size: Some(1),
            ..BatchSettings::default()
        };
        let provider = provider(&held, batch);
        spans(&provider, 1);
        // The exporter holds the first span; two of the next five fit in the queue.
        held.wait_entered();
        spans(&provider, 5);
        held.release();
        provider.force_flush().unwrap();
        assert_eq!(held.batches(), [1, 1, 1]);
    }

    #[test]
    fn an_export_ends_within_the_shorter_timeout() {
        let mut settings = TraceSettings::default();
        assert_eq!(export_timeout(&settings), Duration::from_secs(10));
        settings.batch.export_timeout = Duration::from_secs(2);
        assert_eq!(export_timeout(&settings), Duration::from_secs(2));
    }

    #[test]
    fn span_limits_that_are_set_replace_the_defaults() {
        let limits = span_limits(SpanLimitSettings {
            attributes: Some(3),
            events: None,
            links: Some(0),
        });
        let defaults = SpanLimits::default();
        assert_eq!(limits.max_attributes_per_span, 3);
        assert_eq!(limits.max_events_per_span, defaults.max_events_per_span);
        assert_eq!(limits.max_links_per_span, 0);
    }
}
