//! The OTLP exporters of the pipeline's signals (spans, log records), built from parsed settings:
//! HTTP/protobuf through [`OtlpHttpClient`], or gRPC over our channel, with the signal's TLS,
//! headers, timeout and compression.
//!
//! Spans over HTTP/protobuf leave through [`HttpSpanExporter`], which encodes them itself
//! ([`encode`](super::encode)); log records, and spans over gRPC, through opentelemetry-otlp.
//!
//! opentelemetry-otlp 0.33 builds the exporters, and its builders read the environment for every
//! setting they are not given. Here they are given the endpoint, the protocol, the timeout and a
//! gzip compression, so they read none of those variables; they still read
//! `OTEL_EXPORTER_OTLP_[{TRACES,LOGS}_]HEADERS` on every build and `…_COMPRESSION` when not given
//! one, and no builder setting stops that. What they make of them never reaches the wire: over
//! HTTP, [`OtlpHttpClient`] sends exactly the configured headers and does the compression itself
//! (opentelemetry-otlp's own gzip is not compiled in); over gRPC, an interceptor replaces the
//! request metadata with the configured headers. The one thing left to it is gRPC compression
//! when none is configured: opentelemetry-otlp then applies `…_COMPRESSION=gzip` from the process
//! environment, whatever the code set (tonic compresses per message, so no layer here can undo
//! it).

use http::HeaderMap;
use opentelemetry_http::{Bytes, HttpError, Request, Response};
use opentelemetry_otlp::{ExporterBuildError, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use crate::config::export::ExportSettings;
use crate::config::otlp::{OtlpProtocol, Signal};
use crate::config::outbound::{Compression, Outbound};
use crate::error::{ConfigError, Error};

/// An OTLP exporter of opentelemetry-otlp, and its two builders.
pub(crate) trait OtlpExporter: Sized {
    /// The builder over HTTP.
    type Http: WithExportConfig + WithHttpConfig;
    /// The builder over gRPC.
    #[cfg(feature = "telemetry-grpc")]
    type Grpc: WithExportConfig + opentelemetry_otlp::WithTonicConfig;
    /// A new builder over HTTP.
    fn http() -> Self::Http;
    /// Builds over HTTP.
    fn build_http(builder: Self::Http) -> Result<Self, ExporterBuildError>;
    /// A new builder over gRPC.
    #[cfg(feature = "telemetry-grpc")]
    fn grpc() -> Self::Grpc;
    /// Builds over gRPC.
    #[cfg(feature = "telemetry-grpc")]
    fn build_grpc(builder: Self::Grpc) -> Result<Self, ExporterBuildError>;
}

/// Implements [`OtlpExporter`] for an exporter type of opentelemetry-otlp and its builder.
macro_rules! otlp_exporter {
    ($exporter:ty, $builder:ident) => {
        impl OtlpExporter for $exporter {
            type Http = opentelemetry_otlp::$builder<opentelemetry_otlp::HttpExporterBuilderSet>;
            #[cfg(feature = "telemetry-grpc")]
            type Grpc = opentelemetry_otlp::$builder<opentelemetry_otlp::TonicExporterBuilderSet>;
            fn http() -> Self::Http {
                <$exporter>::builder().with_http()
            }
            fn build_http(builder: Self::Http) -> Result<Self, ExporterBuildError> {
                builder.build()
            }
            #[cfg(feature = "telemetry-grpc")]
            fn grpc() -> Self::Grpc {
                <$exporter>::builder().with_tonic()
            }
            #[cfg(feature = "telemetry-grpc")]
            fn build_grpc(builder: Self::Grpc) -> Result<Self, ExporterBuildError> {
                builder.build()
            }
        }
    };
}

otlp_exporter!(opentelemetry_otlp::SpanExporter, SpanExporterBuilder);
otlp_exporter!(opentelemetry_otlp::LogExporter, LogExporterBuilder);

/// The OTLP exporter of one signal, to its endpoint over its protocol, each request bounded by
/// the shorter of the OTLP timeout and the batch processor's export timeout (the SDK's
/// thread-based batch processors apply none themselves).
pub(crate) fn exporter<X: OtlpExporter, K>(settings: &ExportSettings<K>) -> Result<X, Error>
where
    K: crate::config::export::ExporterKind,
{
    let signal = settings.signal;
    let endpoint = settings.otlp_endpoint();
    let outbound = settings.outbound.clone().timeout(settings.export_timeout());
    let built = match settings.protocol {
        OtlpProtocol::HttpProtobuf => X::build_http(http(X::http(), signal, &endpoint, &outbound)?),
        #[cfg(feature = "telemetry-grpc")]
        OtlpProtocol::Grpc => X::build_grpc(grpc(X::grpc(), signal, &endpoint, &outbound)?),
        #[cfg(not(feature = "telemetry-grpc"))]
        OtlpProtocol::Grpc => {
            return Err(ConfigError::new(
                signal.protocol,
                "grpc",
                "this build has no gRPC transport: enable the `telemetry-grpc` feature",
            )
            .into());
        }
    };
    built.map_err(|e| ConfigError::new(signal.endpoint, &endpoint, e.to_string()).into())
}

/// The span exporter of `settings`: ours over HTTP/protobuf, opentelemetry-otlp's over gRPC.
pub(crate) fn span_exporter<K>(settings: &ExportSettings<K>) -> Result<SpanExporter, Error>
where
    K: crate::config::export::ExporterKind,
{
    match settings.protocol {
        OtlpProtocol::HttpProtobuf => {
            let endpoint = settings.otlp_endpoint();
            let outbound = settings.outbound.clone().timeout(settings.export_timeout());
            let uri = endpoint.parse::<http::Uri>().map_err(|e| {
                ConfigError::new(settings.signal.endpoint, &endpoint, e.to_string())
            })?;
            Ok(SpanExporter::Http(HttpSpanExporter {
                client: OtlpHttpClient::new(settings.signal, &outbound)?,
                endpoint: uri,
                resource: Vec::new(),
                schema_url: String::new(),
                buffer: std::sync::Mutex::new(Vec::new()),
            }))
        }
        OtlpProtocol::Grpc => Ok(SpanExporter::Otlp(exporter::<
            opentelemetry_otlp::SpanExporter,
            K,
        >(settings)?)),
    }
}

/// The span exporter of the OTLP signal.
#[derive(Debug)]
pub(crate) enum SpanExporter {
    /// HTTP/protobuf, encoded here.
    Http(HttpSpanExporter),
    /// gRPC, through opentelemetry-otlp.
    Otlp(opentelemetry_otlp::SpanExporter),
}

impl opentelemetry_sdk::trace::SpanExporter for SpanExporter {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        match self {
            SpanExporter::Http(http) => http.export(&batch).await,
            SpanExporter::Otlp(otlp) => otlp.export(batch).await,
        }
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        match self {
            SpanExporter::Http(_) => Ok(()),
            SpanExporter::Otlp(otlp) => otlp.shutdown_with_timeout(timeout),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match self {
            SpanExporter::Http(_) => Ok(()),
            SpanExporter::Otlp(otlp) => otlp.force_flush(),
        }
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        match self {
            SpanExporter::Http(http) => {
                http.resource = super::encode::resource(resource);
                http.schema_url = resource.schema_url().unwrap_or_default().to_owned();
            }
            SpanExporter::Otlp(otlp) => otlp.set_resource(resource),
        }
    }
}

/// Spans over OTLP/HTTP with protobuf, encoded by [`encode::spans`](super::encode::spans) into a
/// buffer reused from batch to batch and sent through [`OtlpHttpClient`].
#[derive(Debug)]
pub(crate) struct HttpSpanExporter {
    client: OtlpHttpClient,
    endpoint: http::Uri,
    /// The encoded body of the `Resource` message, set once by the tracer provider.
    resource: Vec<u8>,
    schema_url: String,
    buffer: std::sync::Mutex<Vec<u8>>,
}

impl HttpSpanExporter {
    async fn export(&self, batch: &[opentelemetry_sdk::trace::SpanData]) -> OTelSdkResult {
        let body = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            super::encode::spans(&mut buffer, &self.resource, &self.schema_url, batch);
            Bytes::copy_from_slice(&buffer)
        };
        let request = Request::post(self.endpoint.clone())
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        let response = opentelemetry_http::HttpClient::send_bytes(&self.client, request)
            .await
            .map_err(|e| OTelSdkError::InternalFailure(format!("OTLP span export: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(OTelSdkError::InternalFailure(format!(
                "OTLP span export: HTTP {}",
                response.status()
            )))
        }
    }
}

/// `builder` over HTTP/protobuf, sending through [`OtlpHttpClient`].
fn http<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    signal: &Signal,
    endpoint: &str,
    outbound: &Outbound,
) -> Result<B, ConfigError> {
    Ok(builder
        .with_http_client(OtlpHttpClient::new(signal, outbound)?)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(outbound.timeout))
}

/// `builder` over gRPC: our channel (TLS, timeout), the configured headers as the metadata of
/// every request, gzip when configured.
#[cfg(feature = "telemetry-grpc")]
fn grpc<B: WithExportConfig + opentelemetry_otlp::WithTonicConfig>(
    builder: B,
    signal: &Signal,
    endpoint: &str,
    outbound: &Outbound,
) -> Result<B, Error> {
    // The gRPC channel runs its connection on the Tokio runtime.
    tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let channel = crate::client::grpc_channel(signal.endpoint, endpoint, outbound)?;
    let metadata = tonic::metadata::MetadataMap::from_headers(outbound.headers.clone());
    let builder = builder
        .with_channel(channel)
        .with_timeout(outbound.timeout)
        .with_interceptor(move |mut request: tonic::Request<()>| {
            *request.metadata_mut() = metadata.clone();
            Ok(request)
        });
    Ok(match outbound.compression {
        Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        Compression::None => builder,
    })
}

/// The HTTP client of an OTLP exporter: a blocking reqwest client on the configured TLS (the
/// batch processors export from a thread of their own, outside any async runtime), which sends
/// exactly the configured headers and compresses as configured, whatever opentelemetry-otlp put
/// on the request.
#[derive(Debug)]
pub(crate) struct OtlpHttpClient {
    client: reqwest::blocking::Client,
    headers: HeaderMap,
    compression: Compression,
}

impl OtlpHttpClient {
    /// A client for `signal` (its endpoint variable names TLS errors).
    pub(crate) fn new(signal: &Signal, outbound: &Outbound) -> Result<Self, ConfigError> {
        Ok(Self {
            client: crate::client::blocking_client(signal.endpoint, outbound)?,
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
impl opentelemetry_http::HttpClient for OtlpHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = self.outgoing(request)?;
        self.client.send_bytes(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::otlp;

    fn client(compression: Compression) -> OtlpHttpClient {
        let outbound = Outbound::new()
            .header("api-key", "ours")
            .unwrap()
            .compression(compression);
        OtlpHttpClient::new(&otlp::TRACES, &outbound).unwrap()
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

    #[test]
    fn an_export_ends_within_the_shorter_timeout() {
        use crate::config::export::{self, ExportSettings};
        use crate::config::traces::TracesExporter;
        use std::time::Duration;
        let mut settings: ExportSettings<TracesExporter> =
            ExportSettings::new(&otlp::TRACES, &export::SPANS);
        assert_eq!(settings.export_timeout(), Duration::from_secs(10));
        settings.batch.export_timeout = Duration::from_secs(2);
        assert_eq!(settings.export_timeout(), Duration::from_secs(2));
    }
}
