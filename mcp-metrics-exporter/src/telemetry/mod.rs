//! The tracing pipeline of an MCP server, chosen at startup: spans exported over OTLP (or printed,
//! or only used for ids), sampled as the OpenTelemetry specification defines, and logs as text or
//! as JSON lines that carry the current `trace_id` and `span_id`.
//!
//! | variable | values |
//! |---|---|
//! | `OTEL_TRACES_EXPORTER` | `otlp` (default when an OTLP endpoint is set), `console`/`stdout`, `none` (default otherwise) |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the full URL of the traces endpoint |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL; `/v1/traces` is appended for HTTP, used as is for gRPC |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` | `http/protobuf` (default; endpoint `http://localhost:4318/v1/traces`) or `grpc` (feature `telemetry-grpc`; endpoint `http://localhost:4317`) |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` | PEM CA bundle that replaces the system roots |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE`, `…_CLIENT_KEY` | PEM client certificate and key (mutual TLS) |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` | `key=value,key2=value2`, percent-decoded |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` | milliseconds per export (default 10000) |
//! | `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION` | `gzip` or `none` (default) |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default), `parentbased_always_off`, `parentbased_traceidratio`; the ratio (default 1) |
//! | `OTEL_SERVICE_NAME` | the `service.name` resource attribute |
//! | `MCP_LOG_FORMAT` | `text` (default), `json` or `off` |
//! | `RUST_LOG` | the log and span filter (default `info`) |
//! | `NO_COLOR` | no colours in text logs (they are only used when standard error is a terminal) |
//!
//! The signal-specific `…_TRACES_…` variable wins over the generic one. HTTPS, the CA bundle,
//! the client certificate, headers, timeout and gzip apply to HTTP/protobuf and to gRPC alike,
//! through the same [`TlsConfig`](crate::TlsConfig) as the metrics exporters.
//!
//! Spans leave through a batch processor with a bounded queue: when the collector is down, spans
//! are dropped past the queue and tool calls never wait for the exporter.
//!
//! ```no_run
//! # fn main() -> Result<(), mcp_metrics_exporter::Error> {
//! let telemetry = mcp_metrics_exporter::telemetry::TelemetryBuilder::from_env("my-server")?.init()?;
//! // ... serve MCP; with `mcp-metrics/otel`, request spans continue the client's trace from
//! // `_meta.traceparent` ...
//! telemetry.shutdown(); // flushes the spans still queued
//! # Ok(()) }
//! ```
//!
//! Logs go to standard error, which keeps standard output free for stdio MCP servers. They carry
//! no colour escapes unless standard error is a terminal: MCP hosts write a stdio server's
//! standard error into log files.

mod json;

use std::io::IsTerminal as _;

use crate::client::Outbound;
use crate::config::{OTLP_TRACES, apply_otlp_outbound, pick, vars};
use crate::{Compression, ConfigError, Error};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub use json::JsonLogLayer;

/// Where spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracesExporter {
    /// OTLP to a collector.
    Otlp,
    /// Printed to standard output, for development (not for stdio MCP servers).
    Stdout,
    /// Nowhere; spans still get ids, so that logs carry them.
    None,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP, to `/v1/traces`.
    HttpProtobuf,
    /// gRPC (feature `telemetry-grpc`).
    Grpc,
}

impl OtlpProtocol {
    /// The OpenTelemetry default endpoint of the traces signal over this protocol.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Self::HttpProtobuf => "http://localhost:4318/v1/traces",
            Self::Grpc => "http://localhost:4317",
        }
    }
}

/// Which spans are recorded and exported, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// This share (0 to 1) of traces, decided from the trace id.
    TraceIdRatio(f64),
    /// The parent's decision; root spans always.
    ParentBasedAlwaysOn,
    /// The parent's decision; root spans never.
    ParentBasedAlwaysOff,
    /// The parent's decision; root spans at this ratio (e.g. `0.01` for 1 %).
    ParentBasedTraceIdRatio(f64),
}

impl Sampler {
    fn to_sdk(self) -> opentelemetry_sdk::trace::Sampler {
        use opentelemetry_sdk::trace::Sampler as S;
        match self {
            Self::AlwaysOn => S::AlwaysOn,
            Self::AlwaysOff => S::AlwaysOff,
            Self::TraceIdRatio(r) => S::TraceIdRatioBased(r),
            Self::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
            Self::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
            Self::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
        }
    }

    /// Reads `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
    fn from_vars(name: &str, arg: Option<&str>) -> Result<Self, ConfigError> {
        let ratio = || -> Result<f64, ConfigError> {
            let Some(arg) = arg else { return Ok(1.0) };
            match arg.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(ConfigError::new(
                    vars::OTEL_TRACES_SAMPLER_ARG,
                    arg,
                    "expected a ratio from 0 to 1, such as 0.01",
                )),
            }
        };
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "always_on" => Self::AlwaysOn,
            "always_off" => Self::AlwaysOff,
            "traceidratio" => Self::TraceIdRatio(ratio()?),
            "parentbased_always_on" => Self::ParentBasedAlwaysOn,
            "parentbased_always_off" => Self::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => Self::ParentBasedTraceIdRatio(ratio()?),
            _ => {
                return Err(ConfigError::new(
                    vars::OTEL_TRACES_SAMPLER,
                    name,
                    "expected always_on, always_off, traceidratio, parentbased_always_on, \
                     parentbased_always_off or parentbased_traceidratio",
                ));
            }
        })
    }
}

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, with `trace_id` and `span_id` of the current span.
    Json,
    /// No logs.
    Off,
}

/// Default capacity of the span queue.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 2048;

/// Configuration of the tracing pipeline.
#[derive(Debug, Clone)]
pub struct TelemetryBuilder {
    service_name: String,
    exporter: TracesExporter,
    endpoint: Option<String>,
    protocol: OtlpProtocol,
    outbound: Outbound,
    sampler: Sampler,
    log_format: LogFormat,
    filter: String,
    max_queue_size: usize,
    no_color: bool,
    ansi: Option<bool>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Whether text logs use colour: when forced, else only on a terminal without `NO_COLOR`.
fn use_colour(forced: Option<bool>, no_color: bool, is_terminal: bool) -> bool {
    forced.unwrap_or(!no_color && is_terminal)
}

impl TelemetryBuilder {
    /// Defaults: no span export, parent-based sampling that records every root span, text
    /// logs, filter `info`.
    pub fn new(service_name: impl Into<String>) -> Self {
        TelemetryBuilder {
            service_name: service_name.into(),
            exporter: TracesExporter::None,
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            outbound: Outbound::new(),
            sampler: Sampler::ParentBasedAlwaysOn,
            log_format: LogFormat::Text,
            filter: "info".into(),
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            no_color: false,
            ansi: None,
        }
    }

    /// Reads the variables in the [module docs](self); `service_name` applies when
    /// `OTEL_SERVICE_NAME` is unset.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable with a bad value, an unreadable certificate
    /// or key file, or a malformed header list.
    pub fn from_env(service_name: impl Into<String>) -> Result<Self, ConfigError> {
        Self::from_lookup(service_name, &env)
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup`. Empty values
    /// count as unset.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(
        service_name: impl Into<String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = Self::new(get(vars::OTEL_SERVICE_NAME).unwrap_or_else(|| service_name.into()));
        if let Some((var, p)) = pick(&get, vars::OTLP_TRACES_PROTOCOL, vars::OTLP_PROTOCOL) {
            b.protocol = match p.trim() {
                "http/protobuf" => OtlpProtocol::HttpProtobuf,
                "grpc" => OtlpProtocol::Grpc,
                _ => {
                    return Err(ConfigError::new(
                        var,
                        &p,
                        "expected `http/protobuf` or `grpc`",
                    ));
                }
            };
        }
        b.endpoint = match (get(vars::OTLP_TRACES_ENDPOINT), get(vars::OTLP_ENDPOINT)) {
            (Some(full), _) => Some(check_url(vars::OTLP_TRACES_ENDPOINT, &full)?),
            (None, Some(base)) => {
                let base = check_url(vars::OTLP_ENDPOINT, &base)?;
                Some(match b.protocol {
                    OtlpProtocol::HttpProtobuf => {
                        format!("{}/v1/traces", base.trim_end_matches('/'))
                    }
                    OtlpProtocol::Grpc => base,
                })
            }
            (None, None) => None,
        };
        b.outbound = apply_otlp_outbound(&get, &OTLP_TRACES, Outbound::new())?;
        b.exporter = match get(vars::OTEL_TRACES_EXPORTER).as_deref().map(str::trim) {
            Some("otlp") => TracesExporter::Otlp,
            Some("stdout" | "console") => TracesExporter::Stdout,
            Some("none") => TracesExporter::None,
            None if b.endpoint.is_some() => TracesExporter::Otlp,
            None => TracesExporter::None,
            Some(other) => {
                return Err(ConfigError::new(
                    vars::OTEL_TRACES_EXPORTER,
                    other,
                    "expected `otlp`, `console`, `stdout` or `none`",
                ));
            }
        };
        if b.exporter == TracesExporter::Otlp && b.endpoint.is_none() {
            b.endpoint = Some(b.protocol.default_endpoint().to_owned());
        }
        if let Some(name) = get(vars::OTEL_TRACES_SAMPLER) {
            let arg = get(vars::OTEL_TRACES_SAMPLER_ARG);
            b.sampler = Sampler::from_vars(&name, arg.as_deref())?;
        }
        if let Some(f) = get(vars::LOG_FORMAT) {
            b.log_format = match f.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                "off" => LogFormat::Off,
                other => {
                    return Err(ConfigError::new(
                        vars::LOG_FORMAT,
                        other,
                        "expected `text`, `json` or `off`",
                    ));
                }
            };
        }
        if let Some(filter) = get(vars::RUST_LOG) {
            EnvFilter::try_new(&filter).map_err(|e| {
                ConfigError::new(vars::RUST_LOG, &filter, format!("not a filter: {e}"))
            })?;
            b.filter = filter;
        }
        b.no_color = get(vars::NO_COLOR).is_some();
        Ok(b)
    }

    /// Exports spans over OTLP to the full traces URL `endpoint`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `endpoint` is not an `http://` or `https://` URL with a host.
    pub fn otlp(mut self, endpoint: &str, protocol: OtlpProtocol) -> Result<Self, ConfigError> {
        self.endpoint = Some(check_url("otlp endpoint", endpoint)?);
        self.protocol = protocol;
        self.exporter = TracesExporter::Otlp;
        Ok(self)
    }

    /// TLS, headers, timeout and compression of the OTLP span export.
    pub fn outbound(mut self, outbound: Outbound) -> Self {
        self.outbound = outbound;
        self
    }

    /// Chooses where spans go.
    pub fn exporter(mut self, exporter: TracesExporter) -> Self {
        self.exporter = exporter;
        self
    }

    /// Chooses which spans are recorded.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// Chooses the log format.
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Forces colours in text logs on or off (by default: only when standard error is a
    /// terminal and `NO_COLOR` is unset; never for [`build_with_writer`](Self::build_with_writer)).
    pub fn ansi(mut self, ansi: bool) -> Self {
        self.ansi = Some(ansi);
        self
    }

    /// Sets the filter, in `RUST_LOG` syntax.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `filter` is not a valid filter.
    pub fn filter(mut self, filter: &str) -> Result<Self, ConfigError> {
        EnvFilter::try_new(filter)
            .map_err(|e| ConfigError::new("filter", filter, format!("not a filter: {e}")))?;
        self.filter = filter.to_owned();
        Ok(self)
    }

    /// Sets the capacity of the span queue (spans past it are dropped while the exporter lags).
    pub fn max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// Builds the subscriber, with logs written to standard error (in colour only when it is
    /// a terminal and `NO_COLOR` is unset).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a span exporter that cannot be set up; [`Error::NoRuntime`] for
    /// gRPC outside a Tokio runtime.
    pub fn build(self) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error> {
        let ansi = use_colour(self.ansi, self.no_color, std::io::stderr().is_terminal());
        self.build_inner(std::io::stderr, ansi)
    }

    /// Builds the subscriber, with logs written to `writer` (without colours unless forced
    /// with [`ansi`](Self::ansi)).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub fn build_with_writer<W>(
        self,
        writer: W,
    ) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let ansi = use_colour(self.ansi, self.no_color, false);
        self.build_inner(writer, ansi)
    }

    fn build_inner<W>(
        self,
        writer: W,
        ansi: bool,
    ) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        crate::client::install_default_provider();
        let provider = self.provider()?;
        let tracer = provider.tracer("mcp-metrics");
        // Boxed rather than optional: `Option` layers do not pass on the dispatch registration
        // that the JSON layer needs to find the OpenTelemetry ids.
        let logs: Box<dyn Layer<Registry> + Send + Sync> = match self.log_format {
            LogFormat::Off => tracing_subscriber::layer::Identity::new().boxed(),
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(ansi)
                .boxed(),
            LogFormat::Json => JsonLogLayer::new(writer).boxed(),
        };
        let filter = EnvFilter::try_new(&self.filter).map_err(|e| {
            ConfigError::new(vars::RUST_LOG, &self.filter, format!("not a filter: {e}"))
        })?;
        let subscriber = Registry::default()
            .with(logs)
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .with(filter);
        Ok((
            subscriber,
            Telemetry {
                provider: Some(provider),
            },
        ))
    }

    /// Builds the pipeline and installs it as the global `tracing` subscriber.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), and [`Error::SubscriberAlreadySet`].
    pub fn init(self) -> Result<Telemetry, Error> {
        let (subscriber, telemetry) = self.build()?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error::SubscriberAlreadySet)?;
        Ok(telemetry)
    }

    fn provider(&self) -> Result<SdkTracerProvider, Error> {
        let resource = Resource::builder()
            .with_service_name(self.service_name.clone())
            .build();
        let builder = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(self.sampler.to_sdk());
        let batch = || {
            BatchConfigBuilder::default()
                .with_max_queue_size(self.max_queue_size)
                .build()
        };
        let builder = match self.exporter {
            TracesExporter::None => builder,
            TracesExporter::Stdout => builder.with_span_processor(
                BatchSpanProcessor::builder(opentelemetry_stdout::SpanExporter::default())
                    .with_batch_config(batch())
                    .build(),
            ),
            TracesExporter::Otlp => {
                let exporter = self.otlp_exporter()?;
                builder.with_span_processor(
                    BatchSpanProcessor::builder(exporter)
                        .with_batch_config(batch())
                        .build(),
                )
            }
        };
        Ok(builder.build())
    }

    fn otlp_exporter(&self) -> Result<opentelemetry_otlp::SpanExporter, Error> {
        use opentelemetry_otlp::WithExportConfig as _;
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| self.protocol.default_endpoint().to_owned());
        let gzip = self.outbound.compression == Compression::Gzip;
        let built = match self.protocol {
            OtlpProtocol::HttpProtobuf => {
                use opentelemetry_otlp::WithHttpConfig as _;
                let client =
                    crate::client::blocking_client(vars::OTLP_TRACES_ENDPOINT, &self.outbound)?;
                let headers = self
                    .outbound
                    .headers
                    .iter()
                    .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_owned())))
                    .collect();
                let builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(endpoint.clone())
                    .with_timeout(self.outbound.timeout)
                    .with_headers(headers);
                if gzip {
                    builder
                        .with_compression(opentelemetry_otlp::Compression::Gzip)
                        .build()
                } else {
                    builder.build()
                }
            }
            #[cfg(feature = "telemetry-grpc")]
            OtlpProtocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig as _;
                // The gRPC channel runs its connection on the Tokio runtime.
                tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
                let channel = crate::client::grpc_channel(
                    vars::OTLP_TRACES_ENDPOINT,
                    &endpoint,
                    &self.outbound,
                )?;
                let headers: http::HeaderMap = self.outbound.headers.iter().cloned().collect();
                let builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_channel(channel)
                    .with_metadata(tonic::metadata::MetadataMap::from_headers(headers))
                    .with_timeout(self.outbound.timeout);
                if gzip {
                    builder
                        .with_compression(opentelemetry_otlp::Compression::Gzip)
                        .build()
                } else {
                    builder.build()
                }
            }
            #[cfg(not(feature = "telemetry-grpc"))]
            OtlpProtocol::Grpc => {
                return Err(ConfigError::new(
                    vars::OTLP_PROTOCOL,
                    "grpc",
                    "this build has no gRPC transport: enable the `telemetry-grpc` feature",
                )
                .into());
            }
        };
        built.map_err(|e| {
            ConfigError::new(vars::OTLP_TRACES_ENDPOINT, &endpoint, e.to_string()).into()
        })
    }
}

fn check_url(variable: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let uri: http::Uri = value
        .parse()
        .map_err(|e| ConfigError::new(variable, value, format!("not a URL: {e}")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(value.to_owned()),
        _ => Err(ConfigError::new(
            variable,
            value,
            "expected an http:// or https:// URL with a host",
        )),
    }
}

/// The running pipeline: flushes and stops span export on [`shutdown`](Self::shutdown) or drop.
#[must_use = "dropping it stops span export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still queued and stops the exporter.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Exports the spans queued so far, and waits for it.
    pub fn flush(&self) {
        if let Some(p) = &self.provider {
            let _ = p.force_flush();
        }
    }

    fn stop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("running", &self.provider.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn from(vars: &[(&str, &str)]) -> Result<TelemetryBuilder, ConfigError> {
        TelemetryBuilder::from_lookup("svc", &lookup(vars))
    }

    #[test]
    fn environment() {
        let b = from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")]).unwrap();
        assert_eq!(b.exporter, TracesExporter::Otlp);
        assert_eq!(
            b.endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(b.service_name, "svc");
        assert_eq!(b.sampler, Sampler::ParentBasedAlwaysOn);
        let b = from(&[
            ("OTEL_SERVICE_NAME", "named"),
            ("MCP_LOG_FORMAT", "json"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ])
        .unwrap();
        assert_eq!(
            (b.exporter, b.log_format, b.service_name.as_str()),
            (TracesExporter::None, LogFormat::Json, "named")
        );
    }

    #[test]
    fn default_endpoints_follow_the_protocol() {
        let http = from(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap();
        assert_eq!(
            http.endpoint.as_deref(),
            Some("http://localhost:4318/v1/traces")
        );
        let grpc = from(&[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(grpc.protocol, OtlpProtocol::Grpc);
        assert_eq!(grpc.endpoint.as_deref(), Some("http://localhost:4317"));
        let grpc_base = from(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ])
        .unwrap();
        assert_eq!(
            grpc_base.protocol,
            OtlpProtocol::Grpc,
            "the specific one wins"
        );
        assert_eq!(
            grpc_base.endpoint.as_deref(),
            Some("https://collector:4317")
        );
    }

    #[test]
    fn connection_variables_are_read_and_the_traces_ones_win() {
        let b = from(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=generic"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "api-key=a%3Db,x-team=obs",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ])
        .unwrap();
        assert_eq!(b.outbound.header_names(), ["api-key", "x-team"]);
        assert_eq!(b.outbound.headers[0].1, "a=b");
        assert_eq!(b.outbound.timeout, std::time::Duration::from_millis(2500));
        assert_eq!(b.outbound.compression, Compression::Gzip);
    }

    #[test]
    fn samplers_follow_the_specification() {
        let cases: [(&[(&str, &str)], Sampler); 6] = [
            (&[], Sampler::ParentBasedAlwaysOn),
            (&[("OTEL_TRACES_SAMPLER", "always_off")], Sampler::AlwaysOff),
            (&[("OTEL_TRACES_SAMPLER", "ALWAYS_ON")], Sampler::AlwaysOn),
            (
                &[("OTEL_TRACES_SAMPLER", "traceidratio")],
                Sampler::TraceIdRatio(1.0),
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
                ],
                Sampler::ParentBasedTraceIdRatio(0.01),
            ),
            (
                &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
                Sampler::ParentBasedAlwaysOff,
            ),
        ];
        for (vars, sampler) in cases {
            assert_eq!(from(vars).unwrap().sampler, sampler, "{vars:?}");
        }
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 10] = [
            (
                &[("OTEL_TRACES_EXPORTER", "jaeger")],
                "OTEL_TRACES_EXPORTER",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")],
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            ),
            (&[("MCP_LOG_FORMAT", "xml")], "MCP_LOG_FORMAT"),
            (
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "no-equals-sign")],
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "5s")],
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            ),
        ];
        for (vars, variable) in cases {
            let err = from(vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().contains(variable));
        }
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(None, false, true));
        assert!(!use_colour(None, false, false), "not a terminal");
        assert!(!use_colour(None, true, true), "NO_COLOR");
        assert!(use_colour(Some(true), true, false), "forced");
        assert!(from(&[("NO_COLOR", "1")]).unwrap().no_color);
        assert!(!from(&[]).unwrap().no_color);
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_logs_to_a_file_carry_no_escape_codes() {
        let logs = Captured::default();
        let writer = logs.clone();
        let (subscriber, telemetry) = TelemetryBuilder::new("svc")
            .build_with_writer(move || writer.clone())
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(attempt = 3, "export failed");
        });
        telemetry.shutdown();
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("export failed"), "{text}");
        assert!(text.contains("attempt=3"), "{text}");
        assert!(!text.contains('\x1b'), "ANSI escapes in {text:?}");
    }
}
