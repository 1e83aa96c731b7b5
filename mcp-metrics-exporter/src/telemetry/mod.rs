//! The tracing pipeline of an MCP server, chosen at startup: spans exported over OTLP (or printed,
//! or only used for ids), and logs as text or as JSON lines that carry the current `trace_id` and
//! `span_id`.
//!
//! | variable | values |
//! |---|---|
//! | `OTEL_TRACES_EXPORTER` | `otlp` (default when an OTLP endpoint is set), `stdout`, `none` (default otherwise) |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the full URL of the traces endpoint |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL; `/v1/traces` is appended for HTTP |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` (default) or `grpc` (feature `otel-grpc`) |
//! | `OTEL_SERVICE_NAME` | the `service.name` resource attribute |
//! | `MCP_LOG_FORMAT` | `text` (default), `json` or `off` |
//! | `RUST_LOG` | the log and span filter (default `info`) |
//!
//! Spans leave through a batch processor with a bounded queue: when the collector is down, spans
//! are dropped past the queue and tool calls never wait for the exporter.
//!
//! ```no_run
//! # fn main() -> Result<(), mcp_metrics_exporter::Error> {
//! let telemetry = mcp_metrics_exporter::telemetry::TelemetryBuilder::from_env("my-server")?.init()?;
//! // ... serve MCP; request spans continue the client's trace from `_meta.traceparent` ...
//! telemetry.shutdown(); // flushes the spans still queued
//! # Ok(()) }
//! ```
//!
//! Logs go to standard error, which keeps standard output free for stdio MCP servers.

mod json;

use crate::{ConfigError, Error};
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
    /// gRPC (feature `otel-grpc`).
    Grpc,
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
    log_format: LogFormat,
    filter: String,
    max_queue_size: usize,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl TelemetryBuilder {
    /// Defaults: no span export, text logs, filter `info`.
    pub fn new(service_name: impl Into<String>) -> Self {
        TelemetryBuilder {
            service_name: service_name.into(),
            exporter: TracesExporter::None,
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            log_format: LogFormat::Text,
            filter: "info".into(),
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
        }
    }

    /// Reads the variables in the [module docs](self); `service_name` applies when
    /// `OTEL_SERVICE_NAME` is unset.
    pub fn from_env(service_name: impl Into<String>) -> Result<Self, ConfigError> {
        Self::from_lookup(service_name, &env)
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(
        service_name: impl Into<String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut b = Self::new(lookup("OTEL_SERVICE_NAME").unwrap_or_else(|| service_name.into()));
        let protocol = lookup("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| lookup("OTEL_EXPORTER_OTLP_PROTOCOL"));
        if let Some(p) = protocol {
            b.protocol = match p.trim() {
                "http/protobuf" => OtlpProtocol::HttpProtobuf,
                "grpc" => OtlpProtocol::Grpc,
                other => {
                    return Err(ConfigError::new(
                        "OTEL_EXPORTER_OTLP_PROTOCOL",
                        other,
                        "expected `http/protobuf` or `grpc`",
                    ));
                }
            };
        }
        b.endpoint = match (
            lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            lookup("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(full), _) => Some(check_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &full)?),
            (None, Some(base)) => {
                let base = check_url("OTEL_EXPORTER_OTLP_ENDPOINT", &base)?;
                Some(match b.protocol {
                    OtlpProtocol::HttpProtobuf => {
                        format!("{}/v1/traces", base.trim_end_matches('/'))
                    }
                    OtlpProtocol::Grpc => base,
                })
            }
            (None, None) => None,
        };
        b.exporter = match lookup("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
            Some("otlp") => {
                if b.endpoint.is_none() {
                    b.endpoint = Some("http://127.0.0.1:4318/v1/traces".into());
                }
                TracesExporter::Otlp
            }
            Some("stdout" | "console") => TracesExporter::Stdout,
            Some("none") => TracesExporter::None,
            None if b.endpoint.is_some() => TracesExporter::Otlp,
            None => TracesExporter::None,
            Some(other) => {
                return Err(ConfigError::new(
                    "OTEL_TRACES_EXPORTER",
                    other,
                    "expected `otlp`, `stdout` or `none`",
                ));
            }
        };
        if let Some(f) = lookup("MCP_LOG_FORMAT") {
            b.log_format = match f.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                "off" => LogFormat::Off,
                other => {
                    return Err(ConfigError::new(
                        "MCP_LOG_FORMAT",
                        other,
                        "expected `text`, `json` or `off`",
                    ));
                }
            };
        }
        if let Some(filter) = lookup("RUST_LOG") {
            EnvFilter::try_new(&filter)
                .map_err(|e| ConfigError::new("RUST_LOG", &filter, format!("not a filter: {e}")))?;
            b.filter = filter;
        }
        Ok(b)
    }

    /// Exports spans over OTLP to the full traces URL `endpoint`.
    pub fn otlp(mut self, endpoint: &str, protocol: OtlpProtocol) -> Result<Self, ConfigError> {
        self.endpoint = Some(check_url("otlp endpoint", endpoint)?);
        self.protocol = protocol;
        self.exporter = TracesExporter::Otlp;
        Ok(self)
    }

    /// Chooses where spans go.
    pub fn exporter(mut self, exporter: TracesExporter) -> Self {
        self.exporter = exporter;
        self
    }

    /// Chooses the log format.
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Sets the filter, in `RUST_LOG` syntax.
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

    /// Builds the subscriber, with logs written to standard error.
    pub fn build(self) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error> {
        self.build_with_writer(std::io::stderr)
    }

    /// Builds the subscriber, with logs written to `writer`.
    pub fn build_with_writer<W>(
        self,
        writer: W,
    ) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let provider = self.provider()?;
        let tracer = provider.tracer("mcp-metrics");
        // Boxed rather than optional: `Option` layers do not pass on the dispatch registration
        // that the JSON layer needs to find the OpenTelemetry ids.
        let logs: Box<dyn Layer<Registry> + Send + Sync> = match self.log_format {
            LogFormat::Off => tracing_subscriber::layer::Identity::new().boxed(),
            LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
            LogFormat::Json => JsonLogLayer::new(writer).boxed(),
        };
        let filter = EnvFilter::try_new(&self.filter).map_err(|e| {
            ConfigError::new("RUST_LOG", &self.filter, format!("not a filter: {e}"))
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
        let builder = SdkTracerProvider::builder().with_resource(resource);
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
            .unwrap_or_else(|| "http://127.0.0.1:4318/v1/traces".into());
        let built = match self.protocol {
            OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(endpoint.clone())
                .with_timeout(std::time::Duration::from_secs(5))
                .build(),
            #[cfg(feature = "otel-grpc")]
            OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_timeout(std::time::Duration::from_secs(5))
                .build(),
            #[cfg(not(feature = "otel-grpc"))]
            OtlpProtocol::Grpc => {
                return Err(ConfigError::new(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "grpc",
                    "this build has no gRPC transport: enable the `otel-grpc` feature",
                )
                .into());
            }
        };
        built.map_err(|e| {
            ConfigError::new(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                &endpoint,
                e.to_string(),
            )
            .into()
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

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment() {
        let b = TelemetryBuilder::from_lookup(
            "svc",
            &lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")]),
        )
        .unwrap();
        assert_eq!(b.exporter, TracesExporter::Otlp);
        assert_eq!(
            b.endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(b.service_name, "svc");
        let b = TelemetryBuilder::from_lookup(
            "svc",
            &lookup(&[
                ("OTEL_SERVICE_NAME", "named"),
                ("MCP_LOG_FORMAT", "json"),
                ("OTEL_TRACES_EXPORTER", "none"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (b.exporter, b.log_format, b.service_name.as_str()),
            (TracesExporter::None, LogFormat::Json, "named")
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (vars, variable) in [
            (
                &[("OTEL_TRACES_EXPORTER", "jaeger")][..],
                "OTEL_TRACES_EXPORTER",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")][..],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")][..],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (&[("MCP_LOG_FORMAT", "xml")][..], "MCP_LOG_FORMAT"),
        ] {
            let vars: &'static [(&'static str, &'static str)] =
                Box::leak(vars.to_vec().into_boxed_slice());
            let err = TelemetryBuilder::from_lookup("svc", &lookup(vars)).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().contains(variable));
        }
    }
}
