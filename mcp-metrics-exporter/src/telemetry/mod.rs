//! The tracing pipeline of an MCP server, chosen at start-up: spans exported over OTLP (or
//! printed, or only used for ids), sampled as the OpenTelemetry specification defines; `tracing`
//! events exported over OTLP as log records (or printed); and logs on standard error as text or
//! as JSON lines that carry the current `trace_id` and `span_id`.
//!
//! [`TelemetryBuilder::from_env`] reads the variables of the
//! [crate's table](crate#environment-variables) that concern spans and logs: the OTLP variables
//! (`…_TRACES_…` and `…_LOGS_…` winning over the generic ones), `OTEL_TRACES_EXPORTER`,
//! `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`, `OTEL_SPAN_*_COUNT_LIMIT`,
//! `OTEL_LOGS_EXPORTER`, `OTEL_BLRP_*`, `OTEL_PROPAGATORS`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `MCP_TRACE_BAGGAGE_KEYS`, `MCP_LOG_FORMAT`, `RUST_LOG` and
//! `NO_COLOR`, each once; this module builds what they describe. HTTPS, the CA bundle, the client
//! certificate, headers, timeout and gzip apply to HTTP/protobuf and to gRPC alike, through the
//! same [`TlsConfig`](crate::TlsConfig) as the metrics exporters. Spans and log records have the
//! OTLP metrics' resource: pass the same [`build_info!()`](crate::build_info) to
//! [`TelemetryBuilder::build_info`].
//!
//! Spans and log records leave through batch processors with bounded queues: when the collector
//! is down, they are dropped past the queue and tool calls never wait for the exporter.
//!
//! # Log records
//!
//! With `OTEL_LOGS_EXPORTER=otlp` (the default once an OTLP endpoint for logs is set, as for
//! traces) every `tracing` event that `RUST_LOG` lets through becomes an OTLP log record:
//! severity, the message as body, the fields as attributes, the target as instrumentation
//! scope, and the trace and span id of the span it was emitted in. The audit trail of
//! `mcp_metrics::rmcp` (target `mcp_metrics::audit`) is exported this way too, one record per
//! tool call with the request's trace id. Events of the exporters' own HTTP and gRPC stack are
//! never exported, so that an export cannot feed itself. Log records need no span exporter: their
//! trace ids are those that spans would have.
//!
//! ```no_run
//! # fn main() -> Result<(), mcp_metrics_exporter::Error> {
//! use mcp_metrics_exporter::{build_info, telemetry::TelemetryBuilder};
//!
//! let telemetry = TelemetryBuilder::from_env()?.build_info(build_info!()).init()?;
//! // ... serve MCP; with `mcp-metrics/otel`, request spans continue the client's trace from
//! // `_meta.traceparent` ...
//! telemetry.shutdown(); // flushes the spans still queued
//! # Ok(()) }
//! ```
//!
//! Logs go to standard error, which keeps standard output free for stdio MCP servers. They carry
//! no colour escapes unless standard error is a terminal: MCP hosts write a stdio server's
//! standard error into log files.

mod encode;
mod json;
mod logs;
mod propagation;
mod spans;
mod text;
mod transport;

use std::io::IsTerminal as _;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layered, SubscriberExt as _};
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::build_info::BuildInfo;
use crate::config::outbound::Outbound;
use crate::config::traces::TraceSettings;
use crate::config::{Env, Lookup, parse, vars};
use crate::error::{ConfigError, Error};
use json::JsonLogLayer;
use logs::LogRecordLayer;

pub use crate::config::logs::LogsExporter;
pub use crate::config::otlp::OtlpProtocol;
pub use crate::config::traces::{LogFormat, Propagator, Sampler, TracesExporter};

/// The targets of the request spans that `mcp_metrics::rmcp` opens on servers and clients.
const REQUEST_SPAN_TARGETS: &str = "mcp_metrics::";

/// Whether the current OpenTelemetry context is a trace the sampler dropped: what is created in it
/// is dropped too, so it is not worth building.
fn in_unsampled_trace() -> bool {
    use opentelemetry::trace::TraceContextExt as _;
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let ids = span.span_context();
        ids.is_valid() && !ids.is_sampled()
    })
}

/// A layer that does nothing and wants nothing, so that it keeps no span alive.
fn nothing<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::layer::Identity::new()
        .with_filter(tracing_subscriber::filter::LevelFilter::OFF)
}

/// The registry with the layer of the logs on standard error.
type WithLogs = Layered<Box<dyn Layer<Registry> + Send + Sync>, Registry>;

/// The log record layer, or nothing, above the log layer.
type RecordLayer = Box<dyn Layer<WithLogs> + Send + Sync>;

/// The OpenTelemetry layer, or nothing, above the log record layer.
type OtelLayer = Box<dyn Layer<Layered<RecordLayer, WithLogs>> + Send + Sync>;

/// Configuration of the tracing pipeline.
///
/// Settings apply in call order, as those of [`ExporterBuilder`](crate::ExporterBuilder):
/// `from_env()` followed by setters lets code override the environment, and setters followed by
/// [`TelemetryBuilder::env`] let the environment win.
#[derive(Debug, Clone, Default)]
pub struct TelemetryBuilder {
    settings: TraceSettings,
    ansi: Option<bool>,
}

/// Whether text logs use colour: when forced, else only on a terminal without `NO_COLOR`.
fn use_colour(forced: Option<bool>, no_color: bool, is_terminal: bool) -> bool {
    forced.unwrap_or(!no_color && is_terminal)
}

impl TelemetryBuilder {
    /// Defaults: no span or log record export, parent-based sampling that records every root
    /// span, text logs filtered with `info,rmcp=warn`, the `tracecontext` and `baggage`
    /// propagators, the batch processors of the OpenTelemetry specification.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults, then the process environment (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable with a bad value, an unreadable certificate
    /// or key file, or a malformed header list.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new().env(&|name| std::env::var(name).ok())
    }

    /// Applies the variables that `lookup` returns, as [`from_env`](Self::from_env) does with
    /// the process environment: each variable is looked up once; empty values count as unset.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn env(mut self, lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        self.settings
            .apply_env(&Env::read(lookup, vars::TELEMETRY))?;
        Ok(self)
    }

    /// The service's name and version, pass [`build_info!()`](crate::build_info): the
    /// resource's `service.version`, and its `service.name` unless `OTEL_SERVICE_NAME`,
    /// [`service_name`](Self::service_name) or `OTEL_RESOURCE_ATTRIBUTES` names it.
    pub fn build_info(mut self, info: BuildInfo) -> Self {
        self.settings.build_info = Some(info);
        self
    }

    /// `service.name` of the resource, as `OTEL_SERVICE_NAME` sets it.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.settings.resource.service_name = Some(name.into());
        self
    }

    /// Exports spans over OTLP to the full traces URL `endpoint`: selects
    /// [`TracesExporter::Otlp`].
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `endpoint` is not an `http://` or `https://` URL with a host.
    pub fn otlp_endpoint(
        mut self,
        endpoint: &str,
        protocol: OtlpProtocol,
    ) -> Result<Self, ConfigError> {
        let url = parse::url("otlp_endpoint", endpoint)?.to_string();
        self.settings.spans.set_otlp(url, protocol);
        Ok(self)
    }

    /// TLS, headers, timeout and compression of the OTLP span export.
    pub fn otlp_outbound(mut self, outbound: Outbound) -> Self {
        self.settings.spans.outbound = outbound;
        self
    }

    /// Chooses where spans go.
    pub fn exporter(mut self, exporter: TracesExporter) -> Self {
        self.settings.spans.exporter = exporter;
        self
    }

    /// Exports log records over OTLP to the full logs URL `endpoint`: selects
    /// [`LogsExporter::Otlp`].
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `endpoint` is not an `http://` or `https://` URL with a host.
    pub fn logs_otlp_endpoint(
        mut self,
        endpoint: &str,
        protocol: OtlpProtocol,
    ) -> Result<Self, ConfigError> {
        let url = parse::url("logs_otlp_endpoint", endpoint)?.to_string();
        self.settings.logs.set_otlp(url, protocol);
        Ok(self)
    }

    /// TLS, headers, timeout and compression of the OTLP log record export.
    pub fn logs_otlp_outbound(mut self, outbound: Outbound) -> Self {
        self.settings.logs.outbound = outbound;
        self
    }

    /// Chooses where log records go.
    pub fn logs_exporter(mut self, exporter: LogsExporter) -> Self {
        self.settings.logs.exporter = exporter;
        self
    }

    /// Chooses which spans are recorded.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.settings.sampler = sampler;
        self
    }

    /// Sets the capacity of the span queue, as `OTEL_BSP_MAX_QUEUE_SIZE` does (spans past it
    /// are dropped while the exporter lags).
    pub fn max_queue_size(mut self, size: usize) -> Self {
        self.settings.spans.batch.max_queue_size = size.max(1);
        self
    }

    /// Chooses the log format.
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.settings.log_format = format;
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
        self.settings.filter = parse::filter("filter", filter)?;
        Ok(self)
    }

    /// Chooses the propagators [`init`](Self::init) installs (default `tracecontext` and
    /// `baggage`; an empty list, as `OTEL_PROPAGATORS=none`, turns propagation off: no trace
    /// context is read from requests or written into them).
    pub fn propagators(mut self, propagators: &[Propagator]) -> Self {
        self.settings.propagators = propagators.to_vec();
        self
    }

    /// Adds resource attributes of the spans, as `OTEL_RESOURCE_ATTRIBUTES` does; a key set
    /// twice keeps its last value.
    pub fn resource_attributes<K, V>(mut self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let own = &mut self.settings.resource.attributes;
        for (k, v) in attributes {
            let k = k.into();
            own.retain(|(key, _)| *key != k);
            own.push((k, v.into()));
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
        self.settings.baggage_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Installs the configured propagators as OpenTelemetry's global text-map propagator (for
    /// an empty list, one that propagates nothing). [`init`](Self::init) calls it; call it
    /// yourself when you install the subscriber of [`build`](Self::build) in another way.
    pub fn install_propagators(&self) {
        propagation::install(&self.settings.propagators);
    }

    /// Builds the subscriber, with logs written to standard error (in colour only when it is
    /// a terminal and `NO_COLOR` is unset).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for settings that do not fit together or a span exporter that cannot
    /// be set up; [`Error::NoRuntime`] for gRPC outside a Tokio runtime.
    pub fn build(self) -> Result<(impl tracing::Subscriber + Send + Sync, Telemetry), Error> {
        let ansi = use_colour(
            self.ansi,
            self.settings.no_color,
            std::io::stderr().is_terminal(),
        );
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
        let ansi = use_colour(self.ansi, self.settings.no_color, false);
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
        let settings = self.settings;
        settings.validate()?;
        crate::tls::install_default_provider();
        let provider = spans::provider(&settings)?;
        let logger = logs::provider(&settings)?;
        // `RUST_LOG` applies to each layer on its own rather than to the whole stack: the
        // registry then creates a span only if some layer wants it, and a span nobody reads
        // costs nothing. The filter was checked when it was set.
        let env = || EnvFilter::new(&settings.filter);
        // Boxed rather than optional: `Option` layers do not pass on the dispatch registration
        // that the JSON layer needs to find the OpenTelemetry ids.
        let logs: Box<dyn Layer<Registry> + Send + Sync> = match settings.log_format {
            LogFormat::None => nothing().boxed(),
            // The request spans of `mcp_metrics::rmcp` carry some twenty attributes for the
            // trace; a text log line would format them at every request, whether or not an
            // event is ever written inside. Text logs show the tool span and the application's
            // own spans.
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .fmt_fields(text::TextFields)
                .with_writer(writer)
                .with_ansi(ansi)
                .with_filter(env().and(tracing_subscriber::filter::filter_fn(|meta| {
                    !(meta.is_span() && meta.target().starts_with(REQUEST_SPAN_TARGETS))
                })))
                .boxed(),
            LogFormat::Json => JsonLogLayer::new(writer).with_filter(env()).boxed(),
        };
        let records: RecordLayer = match &logger {
            Some(logger) => LogRecordLayer::new(logger)
                .with_filter(env().and(tracing_subscriber::filter::filter_fn(|meta| {
                    logs::exportable(meta.target())
                })))
                .boxed(),
            None => nothing().boxed(),
        };
        // Spans become OpenTelemetry spans only where something reads them: an exporter, or
        // logs that carry the trace and span ids (JSON lines, log records). Otherwise building
        // them would cost a fifth of a small server's CPU for ids nobody sees.
        let traced = settings.spans.exporter != TracesExporter::None
            || settings.log_format == LogFormat::Json
            || logger.is_some();
        let spans: OtelLayer = if traced {
            // The request spans of `mcp_metrics::rmcp` are made with this tracer directly, their
            // sampling decided when a request starts. Inside an unsampled request no span is
            // built as an OpenTelemetry span: it would be dropped by the parent-based sampler
            // after all its attributes were recorded.
            let tracer = provider.tracer("mcp-metrics");
            // `busy_ns`, `idle_ns` and `target` are no convention's attributes: left out.
            tracing_opentelemetry::layer()
                .with_tracer(tracer.clone())
                .with_tracked_inactivity(false)
                .with_target(false)
                .with_filter(env().and(tracing_subscriber::filter::filter_fn(|_| {
                    !in_unsampled_trace()
                })))
                .and_then(mcp_metrics::otel::RequestTracer::new(tracer))
                .boxed()
        } else {
            nothing().boxed()
        };
        let subscriber = Registry::default().with(logs).with(records).with(spans);
        Ok((
            subscriber,
            Telemetry {
                provider: Some(provider),
                logger,
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
        let propagators = self.settings.propagators.clone();
        let (subscriber, telemetry) = self.build()?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error::SubscriberAlreadySet)?;
        propagation::install(&propagators);
        Ok(telemetry)
    }
}

/// The running pipeline: flushes and stops span and log record export on
/// [`shutdown`](Self::shutdown) or drop.
#[must_use = "dropping it stops span and log record export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    logger: Option<SdkLoggerProvider>,
}

impl Telemetry {
    /// Exports the spans and log records still queued and stops the exporters.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Exports the spans and log records queued so far, and waits for it.
    pub fn flush(&self) {
        if let Some(p) = &self.provider {
            let _ = p.force_flush();
        }
        if let Some(l) = &self.logger {
            let _ = l.force_flush();
        }
    }

    fn stop(&mut self) {
        if let Some(l) = self.logger.take() {
            let _ = l.shutdown();
        }
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
            .field("log_records", &self.logger.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn setters_after_the_environment_win_and_the_environment_after_setters() {
        let lookup = |name: &str| match name {
            "OTEL_SERVICE_NAME" => Some("from-env".to_owned()),
            "MCP_LOG_FORMAT" => Some("json".to_owned()),
            _ => None,
        };
        let b = TelemetryBuilder::new()
            .env(&lookup)
            .unwrap()
            .service_name("from-code");
        assert_eq!(b.settings.resource()[0].1, "from-code");
        assert_eq!(b.settings.log_format, LogFormat::Json);
        let b = TelemetryBuilder::new()
            .log_format(LogFormat::None)
            .env(&lookup)
            .unwrap();
        assert_eq!(b.settings.log_format, LogFormat::Json);
    }

    #[test]
    fn a_batch_larger_than_a_queue_set_in_code_is_refused_at_build() {
        let lookup =
            |name: &str| (name == "OTEL_BSP_MAX_EXPORT_BATCH_SIZE").then(|| "64".to_owned());
        let err = TelemetryBuilder::new()
            .env(&lookup)
            .unwrap()
            .max_queue_size(16)
            .build_with_writer(std::io::sink)
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
            "{err}"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(None, false, true));
        assert!(!use_colour(None, false, false), "not a terminal");
        assert!(!use_colour(None, true, true), "NO_COLOR");
        assert!(use_colour(Some(true), true, false), "forced");
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
        let (subscriber, telemetry) = TelemetryBuilder::new()
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
        let (_, traced, request_disabled) = one_call(TelemetryBuilder::new());
        assert!(
            !traced,
            "no exporter and text logs: nothing reads a trace id"
        );
        assert!(
            request_disabled,
            "nothing reads the request span: it is never built"
        );
        let (_, traced, request_disabled) =
            one_call(TelemetryBuilder::new().log_format(LogFormat::None));
        assert!(!traced);
        assert!(request_disabled);
        let (json, traced, request_disabled) =
            one_call(TelemetryBuilder::new().log_format(LogFormat::Json));
        assert!(traced, "JSON logs carry the trace id");
        assert!(!request_disabled);
        assert!(json.contains("\"trace_id\""), "{json}");
        let (_, traced, request_disabled) =
            one_call(TelemetryBuilder::new().exporter(TracesExporter::Stdout));
        assert!(traced, "exported spans");
        assert!(!request_disabled);
        // Nothing listens there: the records are dropped at shutdown.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let logs = TelemetryBuilder::new()
            .logs_otlp_endpoint(
                &format!("http://{closed}/v1/logs"),
                OtlpProtocol::HttpProtobuf,
            )
            .unwrap();
        let (_, traced, request_disabled) = one_call(logs);
        assert!(traced, "log records carry the trace id");
        assert!(!request_disabled);
    }

    /// Spans and events that `RUST_LOG` turns away are not created, whichever signals are on:
    /// the layer that carries the request spans' tracer wants nothing of its own.
    #[test]
    fn what_the_filter_turns_away_is_never_built() {
        let builders = [
            TelemetryBuilder::new(),
            TelemetryBuilder::new().log_format(LogFormat::Json),
            TelemetryBuilder::new().exporter(TracesExporter::Stdout),
        ];
        for builder in builders {
            let (subscriber, telemetry) = builder.build_with_writer(std::io::sink).unwrap();
            tracing::subscriber::with_default(subscriber, || {
                let quiet = tracing::info_span!(target: "rmcp::service", "serve_inner");
                assert!(
                    quiet.is_disabled(),
                    "an INFO span of rmcp under rmcp=warn was built"
                );
                assert!(!tracing::enabled!(target: "rmcp::service", tracing::Level::DEBUG));
                let wanted = tracing::info_span!(target: "my_server", "work");
                assert!(
                    !wanted.is_disabled(),
                    "an INFO span of the application was not built"
                );
            });
            telemetry.shutdown();
        }
    }

    #[test]
    fn text_logs_name_the_tool_but_not_the_request_span_fields() {
        let (text, _, _) = one_call(TelemetryBuilder::new());
        assert!(text.contains("looked up"), "{text}");
        assert!(text.contains("key=\"k1\""), "{text}");
        assert!(text.contains("execute_tool lookup"), "{text}");
        // The span's name says the tool; its conventions' attributes are not repeated.
        assert!(!text.contains("gen_ai.tool.name"), "{text}");
        assert!(!text.contains("jsonrpc.request.id"), "{text}");
        assert!(!text.contains("mcp.server.request"), "{text}");
    }

    #[test]
    fn the_default_filter_keeps_rmcp_warnings_only() {
        let logs = Captured::default();
        let writer = logs.clone();
        let (subscriber, telemetry) = TelemetryBuilder::new()
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
