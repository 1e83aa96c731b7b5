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
//! | `OTEL_RESOURCE_ATTRIBUTES` | more resource attributes, `key=value,...`, values percent-decoded; `service.instance.id` defaults to a UUID drawn once per process, the same as the OTLP metrics' |
//! | `OTEL_PROPAGATORS` | `tracecontext,baggage` (default), `tracecontext`, `baggage` or `none`: installed as the global propagator by [`init`](TelemetryBuilder::init), so that `_meta` carries trace context and baggage both ways; `none` reads and writes no context; other names (`b3`, `jaeger`, …) are a configuration error |
//! | `MCP_TRACE_BAGGAGE_KEYS` | baggage keys whose values are copied onto every span as attributes (default none) |
//! | `MCP_LOG_FORMAT` | `text` (default), `json` or `off` |
//! | `RUST_LOG` | the log and span filter (default `info,rmcp=warn`: rmcp logs each request at `info`) |
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
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{Span as _, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanProcessor,
};
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub use json::JsonLogLayer;

/// The targets of the request spans that `mcp_metrics::rmcp` opens on servers and clients.
const REQUEST_SPAN_TARGETS: &str = "mcp_metrics::";

/// A layer that does nothing and wants nothing, so that it keeps no span alive.
fn nothing<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::layer::Identity::new()
        .with_filter(tracing_subscriber::filter::LevelFilter::OFF)
}

/// The OpenTelemetry layer, or nothing, above the log layer.
type OtelLayer = Box<
    dyn Layer<tracing_subscriber::layer::Layered<Box<dyn Layer<Registry> + Send + Sync>, Registry>>
        + Send
        + Sync,
>;

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

/// A trace-context format carried in HTTP headers and MCP `_meta`, as `OTEL_PROPAGATORS` names
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagator {
    /// W3C Trace Context: `traceparent` and `tracestate`.
    TraceContext,
    /// W3C Baggage: `baggage`.
    Baggage,
}

impl Propagator {
    /// The OpenTelemetry default, `tracecontext,baggage`.
    pub const DEFAULT: &'static [Propagator] = &[Propagator::TraceContext, Propagator::Baggage];

    /// Parses `OTEL_PROPAGATORS`: a comma-separated list of `tracecontext` and `baggage`, or
    /// `none` alone (no propagator).
    fn parse_list(value: &str) -> Result<Vec<Self>, ConfigError> {
        let bad = |reason: &str| ConfigError::new(vars::OTEL_PROPAGATORS, value, reason);
        let names: Vec<String> = value
            .split(',')
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        if names.iter().any(|n| n == "none") {
            return if names.len() == 1 {
                Ok(Vec::new())
            } else {
                Err(bad("`none` cannot be combined with other propagators"))
            };
        }
        let mut list = Vec::new();
        for name in &names {
            let p = match name.as_str() {
                "tracecontext" => Self::TraceContext,
                "baggage" => Self::Baggage,
                _ => {
                    return Err(bad(
                        "supported propagators are tracecontext, baggage and none",
                    ));
                }
            };
            if !list.contains(&p) {
                list.push(p);
            }
        }
        Ok(list)
    }

    fn to_sdk(self) -> Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync> {
        use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
        match self {
            Self::TraceContext => Box::new(TraceContextPropagator::new()),
            Self::Baggage => Box::new(BaggagePropagator::new()),
        }
    }
}

/// What `OTEL_PROPAGATORS=none` installs: a propagator that reads and writes nothing. It still
/// names the W3C fields, because `mcp-metrics` takes a global propagator that names no field for
/// "nothing configured" and then reads `traceparent` from `_meta` itself; `none` is an explicit
/// choice, so no caller's trace is continued and no context is sent.
#[derive(Debug)]
struct NoPropagation {
    fields: Vec<String>,
}

impl NoPropagation {
    fn new() -> Self {
        NoPropagation {
            fields: ["traceparent", "tracestate", "baggage"]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}

impl opentelemetry::propagation::TextMapPropagator for NoPropagation {
    fn inject_context(
        &self,
        _cx: &opentelemetry::Context,
        _injector: &mut dyn opentelemetry::propagation::Injector,
    ) {
    }

    fn extract_with_context(
        &self,
        cx: &opentelemetry::Context,
        _extractor: &dyn opentelemetry::propagation::Extractor,
    ) -> opentelemetry::Context {
        cx.clone()
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.fields)
    }
}

/// Installs `propagators` as OpenTelemetry's global text-map propagator; an empty list installs
/// [`NoPropagation`].
fn install_propagators(propagators: &[Propagator]) {
    use opentelemetry::propagation::TextMapCompositePropagator;
    if propagators.is_empty() {
        opentelemetry::global::set_text_map_propagator(NoPropagation::new());
    } else {
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(
            propagators.iter().map(|p| p.to_sdk()).collect(),
        ));
    }
}

/// Copies the values of the listed baggage keys of a span's parent context onto the span as
/// attributes of the same name.
#[derive(Debug)]
struct BaggageAttributes(Vec<opentelemetry::Key>);

impl SpanProcessor for BaggageAttributes {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        let baggage = cx.baggage();
        for key in &self.0 {
            if let Some(value) = baggage.get(key.as_str()) {
                span.set_attribute(opentelemetry::KeyValue::new(key.clone(), value.clone()));
            }
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(
        &self,
        _timeout: std::time::Duration,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
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

/// The filter when `RUST_LOG` is unset: `info`, but only warnings from rmcp, which logs every
/// request it serves at `info`.
pub const DEFAULT_FILTER: &str = "info,rmcp=warn";

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
    resource_attributes: Vec<(String, String)>,
    propagators: Vec<Propagator>,
    baggage_keys: Vec<String>,
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
    /// logs, filter [`DEFAULT_FILTER`], the `tracecontext` and `baggage` propagators.
    pub fn new(service_name: impl Into<String>) -> Self {
        TelemetryBuilder {
            service_name: service_name.into(),
            exporter: TracesExporter::None,
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            outbound: Outbound::new(),
            sampler: Sampler::ParentBasedAlwaysOn,
            log_format: LogFormat::Text,
            filter: DEFAULT_FILTER.into(),
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            no_color: false,
            ansi: None,
            resource_attributes: Vec::new(),
            propagators: Propagator::DEFAULT.to_vec(),
            baggage_keys: Vec::new(),
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
        let resource_attributes = match get(vars::OTEL_RESOURCE_ATTRIBUTES) {
            Some(v) => crate::resource::parse_attributes(&v)?,
            None => Vec::new(),
        };
        // `OTEL_SERVICE_NAME` wins over a `service.name` of `OTEL_RESOURCE_ATTRIBUTES`.
        let name = get(vars::OTEL_SERVICE_NAME)
            .map(|n| n.trim().to_owned())
            .or_else(|| {
                resource_attributes
                    .iter()
                    .find(|(k, _)| k == crate::resource::SERVICE_NAME)
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| service_name.into());
        let mut b = Self::new(name);
        b.resource_attributes = resource_attributes;
        if let Some(v) = get(vars::OTEL_PROPAGATORS) {
            b.propagators = Propagator::parse_list(&v)?;
        }
        if let Some(v) = get(vars::TRACE_BAGGAGE_KEYS) {
            b.baggage_keys = v
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
        }
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

    /// Chooses the propagators [`init`](Self::init) installs (default `tracecontext` and
    /// `baggage`; an empty list, as `OTEL_PROPAGATORS=none`, turns propagation off: no trace
    /// context is read from requests or written into them).
    pub fn propagators(mut self, propagators: &[Propagator]) -> Self {
        self.propagators = propagators.to_vec();
        self
    }

    /// Adds resource attributes of the spans (beside `service.name` and `service.instance.id`);
    /// a key set twice keeps its last value.
    pub fn resource_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        for (k, v) in attributes {
            let k = k.into();
            self.resource_attributes.retain(|(key, _)| *key != k);
            self.resource_attributes.push((k, v.into()));
        }
        self
    }

    /// Copies the values of these baggage keys onto every span as attributes of the same name,
    /// such as a tenant the caller put in the baggage. Baggage comes from the caller: list only
    /// keys whose values may be recorded.
    pub fn baggage_attributes<S: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = S>,
    ) -> Self {
        self.baggage_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Installs the configured propagators as OpenTelemetry's global text-map propagator (for
    /// an empty list, one that propagates nothing). [`init`](Self::init) calls it; call it
    /// yourself when you install the subscriber of [`build`](Self::build) in another way.
    pub fn install_propagators(&self) {
        install_propagators(&self.propagators);
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
        EnvFilter::try_new(&self.filter).map_err(|e| {
            ConfigError::new(vars::RUST_LOG, &self.filter, format!("not a filter: {e}"))
        })?;
        // `RUST_LOG` applies to each layer on its own rather than to the whole stack: the
        // registry then creates a span only if some layer wants it, and a span nobody reads
        // costs nothing.
        let env = || EnvFilter::new(&self.filter);
        // Boxed rather than optional: `Option` layers do not pass on the dispatch registration
        // that the JSON layer needs to find the OpenTelemetry ids.
        let logs: Box<dyn Layer<Registry> + Send + Sync> = match self.log_format {
            LogFormat::Off => nothing().boxed(),
            // The request spans of `mcp_metrics::rmcp` carry some twenty attributes for the
            // trace; a text log line would format them at every request, whether or not an
            // event is ever written inside. Text logs show the tool span and the application's
            // own spans.
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(ansi)
                .with_filter(env().and(tracing_subscriber::filter::filter_fn(|meta| {
                    !(meta.is_span() && meta.target().starts_with(REQUEST_SPAN_TARGETS))
                })))
                .boxed(),
            LogFormat::Json => JsonLogLayer::new(writer).with_filter(env()).boxed(),
        };
        // Spans become OpenTelemetry spans only where something reads them: an exporter, or
        // JSON logs, which carry the trace and span ids. Otherwise building them would cost a
        // fifth of a small server's CPU for ids nobody sees.
        let traced = self.exporter != TracesExporter::None || self.log_format == LogFormat::Json;
        let spans: OtelLayer = if traced {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("mcp-metrics"))
                .with_filter(env())
                .boxed()
        } else {
            nothing().boxed()
        };
        let subscriber = Registry::default().with(logs).with(spans);
        Ok((
            subscriber,
            Telemetry {
                provider: Some(provider),
            },
        ))
    }

    /// Builds the pipeline, installs it as the global `tracing` subscriber and installs the
    /// propagators ([`install_propagators`](Self::install_propagators)), through which
    /// `mcp-metrics` reads the trace context and baggage of a request's `_meta` and writes them
    /// into the requests of a client.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), and [`Error::SubscriberAlreadySet`].
    pub fn init(self) -> Result<Telemetry, Error> {
        let propagators = self.propagators.clone();
        let (subscriber, telemetry) = self.build()?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error::SubscriberAlreadySet)?;
        install_propagators(&propagators);
        Ok(telemetry)
    }

    /// The resource of the spans: `service.name`, `service.instance.id` (shared with the OTLP
    /// metrics), the configured attributes, and the SDK's `telemetry.sdk.*`.
    fn resource(&self) -> Resource {
        let attributes = crate::resource::attributes(
            Some(&self.service_name),
            &self.service_name,
            None,
            &self.resource_attributes,
        );
        Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attributes(
                attributes
                    .into_iter()
                    .map(|(k, v)| opentelemetry::KeyValue::new(k, v)),
            )
            .build()
    }

    fn provider(&self) -> Result<SdkTracerProvider, Error> {
        let mut builder = SdkTracerProvider::builder()
            .with_resource(self.resource())
            .with_sampler(self.sampler.to_sdk());
        if !self.baggage_keys.is_empty() {
            builder = builder.with_span_processor(BaggageAttributes(
                self.baggage_keys
                    .iter()
                    .map(|k| opentelemetry::Key::new(k.clone()))
                    .collect(),
            ));
        }
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
        let cases: [(&[(&str, &str)], &str); 13] = [
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
            (
                &[("OTEL_PROPAGATORS", "tracecontext,b3")],
                "OTEL_PROPAGATORS",
            ),
            (&[("OTEL_PROPAGATORS", "none,baggage")], "OTEL_PROPAGATORS"),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "team=a%2")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
        ];
        for (vars, variable) in cases {
            let err = from(vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().contains(variable));
        }
    }

    #[test]
    fn propagators_follow_otel_propagators() {
        use Propagator::{Baggage, TraceContext};
        /// The variables, and the propagators they choose.
        type Case = (
            &'static [(&'static str, &'static str)],
            &'static [Propagator],
        );
        let cases: [Case; 5] = [
            (&[], &[TraceContext, Baggage]),
            (&[("OTEL_PROPAGATORS", "tracecontext")], &[TraceContext]),
            (
                &[("OTEL_PROPAGATORS", " Baggage , tracecontext ")],
                &[Baggage, TraceContext],
            ),
            (&[("OTEL_PROPAGATORS", "baggage,baggage")], &[Baggage]),
            (&[("OTEL_PROPAGATORS", "none")], &[]),
        ];
        for (vars, expected) in cases {
            assert_eq!(from(vars).unwrap().propagators, expected, "{vars:?}");
        }
    }

    #[test]
    fn none_propagates_nothing_yet_names_the_w3c_fields() {
        use opentelemetry::propagation::TextMapPropagator as _;
        use opentelemetry::trace::TraceContextExt as _;
        use std::collections::HashMap;
        let none = NoPropagation::new();
        // Named, so that `mcp-metrics` does not fall back to reading `traceparent` itself.
        assert_eq!(
            none.fields().collect::<Vec<_>>(),
            ["traceparent", "tracestate", "baggage"]
        );
        let carrier: HashMap<String, String> = [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("baggage", "tenant=acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let cx = none.extract(&carrier);
        assert!(!cx.span().span_context().is_valid());
        assert_eq!(cx.baggage().len(), 0);
        let sdk = Propagator::TraceContext.to_sdk();
        let remote = sdk.extract(&carrier);
        assert!(remote.span().span_context().is_valid());
        let mut written = HashMap::new();
        none.inject_context(&remote, &mut written);
        assert!(written.is_empty(), "{written:?}");
    }

    #[test]
    fn the_resource_has_an_instance_id_and_the_configured_attributes() {
        let b = from(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr,team=a%2Cb"),
            ("MCP_TRACE_BAGGAGE_KEYS", "tenant, region"),
        ])
        .unwrap();
        assert_eq!(
            b.service_name, "attr",
            "OTEL_RESOURCE_ATTRIBUTES wins over code"
        );
        assert_eq!(b.baggage_keys, ["tenant", "region"]);
        let resource = b.resource();
        let get = |k: &'static str| resource.get(&opentelemetry::Key::from_static_str(k));
        assert_eq!(get("service.name").unwrap().as_str(), "attr");
        assert_eq!(get("team").unwrap().as_str(), "a,b");
        assert_eq!(
            get("service.instance.id").unwrap().as_str(),
            crate::resource::instance_id()
        );
        assert_eq!(get("telemetry.sdk.language").unwrap().as_str(), "rust");
        let named = from(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr"),
            ("OTEL_SERVICE_NAME", "env"),
        ])
        .unwrap();
        assert_eq!(named.service_name, "env", "OTEL_SERVICE_NAME wins");
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

    /// Whether the current span is an OpenTelemetry span, that is whether the pipeline has the
    /// OpenTelemetry layer.
    fn has_trace_id() -> bool {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        tracing::Span::current()
            .context()
            .span()
            .span_context()
            .is_valid()
    }

    /// Logs one event inside a request span and a tool span, as a tool call does; returns the
    /// log text and whether the spans were OpenTelemetry spans.
    fn one_call(builder: TelemetryBuilder) -> (String, bool, bool) {
        let logs = Captured::default();
        let writer = logs.clone();
        let (subscriber, telemetry) = builder.build_with_writer(move || writer.clone()).unwrap();
        let traced = tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!(
                target: "mcp_metrics::server",
                "mcp.server.request",
                mcp.method.name = "tools/call",
                jsonrpc.request.id = "7",
            );
            let request_disabled = request.is_disabled();
            let _request = request.enter();
            let tool = tracing::info_span!("execute_tool lookup", gen_ai.tool.name = "lookup");
            let _tool = tool.enter();
            tracing::info!(key = "k1", "looked up");
            (has_trace_id(), request_disabled)
        });
        telemetry.shutdown();
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        (text, traced.0, traced.1)
    }

    #[test]
    fn spans_are_opentelemetry_spans_only_where_something_reads_their_ids() {
        let (_, traced, request_disabled) = one_call(TelemetryBuilder::new("svc"));
        assert!(
            !traced,
            "no exporter and text logs: nothing reads a trace id"
        );
        assert!(
            request_disabled,
            "nothing reads the request span: it is never built"
        );
        let (_, traced, request_disabled) =
            one_call(TelemetryBuilder::new("svc").log_format(LogFormat::Off));
        assert!(!traced);
        assert!(request_disabled);
        let (json, traced, request_disabled) =
            one_call(TelemetryBuilder::new("svc").log_format(LogFormat::Json));
        assert!(traced, "JSON logs carry the trace id");
        assert!(!request_disabled);
        assert!(json.contains("\"trace_id\""), "{json}");
        let (_, traced, request_disabled) =
            one_call(TelemetryBuilder::new("svc").exporter(TracesExporter::Stdout));
        assert!(traced, "exported spans");
        assert!(!request_disabled);
    }

    #[test]
    fn text_logs_name_the_tool_but_not_the_request_span_fields() {
        let (text, _, _) = one_call(TelemetryBuilder::new("svc"));
        assert!(text.contains("looked up"), "{text}");
        assert!(text.contains("key=\"k1\""), "{text}");
        assert!(text.contains("execute_tool lookup"), "{text}");
        assert!(text.contains("gen_ai.tool.name=\"lookup\""), "{text}");
        assert!(!text.contains("jsonrpc.request.id"), "{text}");
        assert!(!text.contains("mcp.server.request"), "{text}");
    }

    #[test]
    fn the_default_filter_keeps_rmcp_warnings_only() {
        let logs = Captured::default();
        let writer = logs.clone();
        let (subscriber, telemetry) = TelemetryBuilder::new("svc")
            .build_with_writer(move || writer.clone())
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "rmcp::service", "request received");
            tracing::warn!(target: "rmcp::service", "transport closed");
            tracing::info!(target: "my_server", "ready");
        });
        telemetry.shutdown();
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("request received"), "{text}");
        assert!(text.contains("transport closed"), "{text}");
        assert!(text.contains("ready"), "{text}");
    }
}
