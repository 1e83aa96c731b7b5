//! Exporters for `mcp-metrics`: a [`metrics::Recorder`] of its own and the ways out of it —
//! Prometheus pull, Pushgateway, OTLP/HTTP, stdout — plus, with the `telemetry` feature, the
//! tracing pipeline.
//!
//! # The backend
//!
//! [`Registry`] keeps counters as `AtomicU64`, gauges as `f64` bits in an `AtomicU64`, and
//! histograms as fixed buckets of atomic counters plus an atomic sum, so their memory does
//! not grow with the number of values recorded. Registration takes a lock once per series;
//! the `metrics` handles it returns record without locking or allocating. Each metric may
//! have at most 10000 series (configurable); past that, and for names that
//! collide after sanitising or change kind, the registry hands out a no-op handle and counts
//! the refusal in `mcp_metrics_dropped_series_total{metric, reason}`.
//!
//! Output is the Prometheus text format 0.0.4 (or OpenMetrics 1.0 when the scraper asks for
//! it): families sorted by name, series sorted by labels, one `# HELP` and `# TYPE` per
//! family, label values escaped. Rendering costs time per series, not per recorded value.
//!
//! # Choosing an exporter
//!
//! | `MCP_METRICS_EXPORTER` | what happens | feature |
//! |---|---|---|
//! | `prometheus` (default) | `GET /metrics` on `MCP_METRICS_LISTEN` (default `127.0.0.1:9464`, `none` for no listener), and [`ExporterHandle::router`] to merge into your own app | always |
//! | `push` | PUT to `MCP_METRICS_PUSH_URL`/metrics/job/`MCP_METRICS_PUSH_JOB`/instance/`MCP_METRICS_PUSH_INSTANCE` every `MCP_METRICS_PUSH_INTERVAL` (default `15s`); the instance defaults to the host name | `push` |
//! | `otlp` | POST protobuf to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`) every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60000); over gRPC with `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc` | `otlp`; gRPC: `otlp-grpc` |
//! | `stdout` | prints the text format every `MCP_METRICS_STDOUT_INTERVAL`; for development only | always |
//! | `none` | installs nothing; recording stays a no-op | always |
//!
//! Scrapes can require `MCP_METRICS_BASIC_AUTH=user:password` or `MCP_METRICS_BEARER_TOKEN`;
//! `MCP_METRICS_SERIES_LIMIT` sets the series limit. A bad value is an [`Error::Config`] that
//! names the variable and the value (secrets are shown by length only). The
//! [table below](#environment-variables) lists every variable.
//!
//! **Do not use `stdout` in an MCP server on the stdio transport:** standard output is that
//! server's JSON-RPC channel.
//!
//! # Push and OTLP: HTTPS, headers, timeout, gzip
//!
//! Push and OTLP run one export loop on a background task: render off the async workers, send,
//! wait the interval; while sends fail, back off exponentially up to 5 minutes with one log line
//! per failed attempt (`metrics export to https://… failed (certificate not trusted); retrying
//! in 30s`) and one line on recovery. An unreachable destination never blocks or fails a tool
//! call. [`ExporterHandle::shutdown`] exports once more, or, for push with
//! `MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN=true`, deletes this instance's group.
//!
//! Both speak HTTP and HTTPS (reqwest on rustls: the process's default rustls provider when the
//! application installed one, else ring). [`Outbound`] holds
//! what surrounds the URL, one [`TlsConfig`] type for every exporter, the OTLP trace and log
//! exporters of the `telemetry` module included:
//!
//! | setting | OTLP (`OTEL_EXPORTER_OTLP_[METRICS_]…`) | Pushgateway (`MCP_METRICS_PUSH_…`) |
//! |---|---|---|
//! | CA bundle (PEM; replaces the system roots) | `CERTIFICATE` | `CA_CERTIFICATE` |
//! | client certificate and key (mutual TLS) | `CLIENT_CERTIFICATE`, `CLIENT_KEY` | `CLIENT_CERTIFICATE`, `CLIENT_KEY` |
//! | extra headers, `k=v,k2=v2`, percent-decoded | `HEADERS` | `HEADERS`, and `BASIC_AUTH=user:password` |
//! | timeout per request | `TIMEOUT` (milliseconds, default 10000) | `TIMEOUT` (e.g. `10s`, the default) |
//! | body compression | `COMPRESSION=gzip` or `none` | `COMPRESSION=gzip` or `none` |
//!
//! Without a CA bundle the platform's trust store is used. Certificate and key files are read
//! when the exporter is built: a missing file, a file without a certificate or key, a key that
//! does not fit its certificate, or a malformed header list is a [`ConfigError`] naming the
//! variable, never a failure at the first export.
//!
//! # OTLP metrics: temporality, histograms, exemplars
//!
//! `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` ([`Temporality`]) makes counters and
//! histograms deltas under `delta` and `lowmemory`; calls in flight and active sessions, tasks
//! and subscriptions are up-down counters (non-monotonic sums, always cumulative); gauges set to
//! a value are OTLP gauges. A counter or histogram that did not change since the last delivered
//! export sends no delta point. `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`
//! ([`HistogramAggregation`]) `=base2_exponential_bucket_histogram` makes every histogram also
//! count its values in base-2 exponential buckets (scale 3, at most 160 buckets a point), sent
//! as OTLP exponential histograms, while `/metrics` keeps the explicit buckets. Every histogram
//! point carries the exemplars the store kept (trace and span ids, value, time).
//!
//! # Environment variables
//!
//! [`ExporterBuilder::from_env`] (metrics) and `telemetry::TelemetryBuilder::from_env` (spans
//! and logs) read these variables, each once; nothing else in this crate reads the environment.
//! The `OTEL_*` names and their meaning are those of the OpenTelemetry SDK specification. Where a
//! row names `[{METRICS,TRACES,LOGS}_]`, the signal-specific variable (`…_METRICS_…` for OTLP
//! metrics, `…_TRACES_…` for spans, `…_LOGS_…` for log records) wins over the generic one,
//! setting by setting. "Off" is spelled
//! `none`, booleans `true` or `false`; header and attribute lists are `key=value,key2=value2`
//! with percent-decoded values.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MCP_METRICS_EXPORTER` | `prometheus`, `push`, `otlp`, `stdout` or `none` | `prometheus` |
//! | `MCP_METRICS_LISTEN` | the standalone scrape listener, `IP:port`, or `none` | `127.0.0.1:9464` |
//! | `MCP_METRICS_BASIC_AUTH`, `MCP_METRICS_BEARER_TOKEN` | credentials required from scrapers (`user:password`; a token) | none |
//! | `MCP_METRICS_SERIES_LIMIT` | series per metric | 10000 |
//! | `MCP_METRICS_STDOUT_INTERVAL` | print interval of `stdout` (`500ms`, `15s`, `1m`) | `15s` |
//! | `MCP_METRICS_PUSH_URL` | Pushgateway base URL, `http://` or `https://` | required for `push` |
//! | `MCP_METRICS_PUSH_INTERVAL` | push interval | `15s` |
//! | `MCP_METRICS_PUSH_JOB`, `MCP_METRICS_PUSH_INSTANCE` | grouping key | the service name; the host name |
//! | `MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN` | `true`: a graceful shutdown deletes the group | `false` |
//! | `MCP_METRICS_PUSH_CA_CERTIFICATE` | CA bundle (PEM) that replaces the system roots | system roots |
//! | `MCP_METRICS_PUSH_CLIENT_CERTIFICATE`, `MCP_METRICS_PUSH_CLIENT_KEY` | mutual TLS (PEM; key PKCS#8, PKCS#1 or SEC1) | none |
//! | `MCP_METRICS_PUSH_BASIC_AUTH` | `user:password` sent to the gateway | none |
//! | `MCP_METRICS_PUSH_HEADERS` | extra headers | none |
//! | `MCP_METRICS_PUSH_TIMEOUT` | upper bound on one push | `10s` |
//! | `MCP_METRICS_PUSH_COMPRESSION` | `gzip` or `none` | `none` |
//! | `OTEL_SERVICE_NAME` | `service.name` of the resource; the default push `job` | `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else the `build_info!()` crate name |
//! | `OTEL_RESOURCE_ATTRIBUTES` | more resource attributes of metrics, spans and log records | none; `service.instance.id` is a UUID drawn once per process |
//! | `OTEL_METRIC_EXPORT_INTERVAL` | OTLP metrics interval, milliseconds | 60000 |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL of every signal; `/v1/metrics`, `/v1/traces`, `/v1/logs` appended over HTTP | `http://localhost:4318` (gRPC `http://localhost:4317`) |
//! | `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` | full URL of one signal, used as it is | |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]PROTOCOL` | `http/protobuf` or `grpc` (metrics: feature `otlp-grpc`; traces and logs: `telemetry-grpc`) | `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]CERTIFICATE` | CA bundle (PEM) that replaces the system roots | system roots |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]CLIENT_KEY` | mutual TLS (PEM) | none |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]HEADERS` | extra headers | none |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]TIMEOUT` | upper bound on one export, milliseconds | 10000 |
//! | `OTEL_EXPORTER_OTLP_[{METRICS,TRACES,LOGS}_]COMPRESSION` | `gzip` or `none` | `none` |
//! | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative`, `delta` or `lowmemory` | `cumulative` |
//! | `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION` | `explicit_bucket_histogram` or `base2_exponential_bucket_histogram` (OTLP only) | `explicit_bucket_histogram` |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console` (or `stdout`), `none` | `otlp` when an endpoint is set, else `none` |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`; the ratio of the `traceidratio` ones | `parentbased_always_on`; 1 |
//! | `OTEL_BSP_SCHEDULE_DELAY` | milliseconds between two span exports | 5000 |
//! | `OTEL_BSP_EXPORT_TIMEOUT` | upper bound on one span export, retries included, milliseconds (the shorter of it and the OTLP timeout applies) | 30000 |
//! | `OTEL_BSP_MAX_QUEUE_SIZE` | spans waiting for export; later ones are dropped | 2048 |
//! | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | spans of one export, at most the queue size | 512 |
//! | `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT` | attributes, events and links one span keeps | 128 |
//! | `OTEL_LOGS_EXPORTER` | where `tracing` events go as log records: `otlp`, `console`, `none` | `otlp` when an endpoint for logs is set (`OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT`), else `none` |
//! | `OTEL_BLRP_SCHEDULE_DELAY` | milliseconds between two log record exports | 1000 |
//! | `OTEL_BLRP_EXPORT_TIMEOUT` | upper bound on one log record export, retries included, milliseconds (the shorter of it and the OTLP timeout applies) | 30000 |
//! | `OTEL_BLRP_MAX_QUEUE_SIZE` | log records waiting for export; later ones are dropped | 2048 |
//! | `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` | log records of one export, at most the queue size | 512 |
//! | `OTEL_PROPAGATORS` | `tracecontext`, `baggage`, comma-separated, or `none` | `tracecontext,baggage` |
//! | `MCP_TRACE_BAGGAGE_KEYS` | baggage keys copied onto every span, comma-separated | none |
//! | `MCP_LOG_FORMAT` | `text`, `json` or `none` | `text` |
//! | `RUST_LOG` | filter of logs, spans and log records | `info,rmcp=warn` |
//! | `NO_COLOR` | any value: no colours in text logs (never used when standard error is not a terminal) | |
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `push` | yes | the Pushgateway exporter |
//! | `otlp` | yes | OTLP metrics over HTTP/protobuf |
//! | `telemetry` | no | the `telemetry` module: spans and log records over OTLP/HTTP, text or JSON logs with trace ids |
//! | `telemetry-grpc` | no | OTLP spans and log records over gRPC as well |
//! | `ui` | no | the live page `GET /metrics/ui` and its JSON `GET /metrics/ui.json` on [`router`], behind the same auth |
//!
//! With `default-features = false` the crate is pull-only: it compiles no HTTP client, no TLS
//! and no protobuf code. No feature of this crate changes what `#[mcp_tool]` emits; to continue
//! a client's trace from `_meta.traceparent`, enable `mcp-metrics/otel` in your own crate.
//!
//! # Objectives of tools
//!
//! [`ExporterBuilder::build`] collects the service-level objectives declared with
//! `#[mcp_tool(objective(...))]` and those added with [`ExporterBuilder::objective`] for tools
//! defined elsewhere, checks them (one per tool; a latency threshold must be a bucket bound of
//! `mcp_tool_duration_seconds`, else an [`Error`] names the tool and lists the bounds), and
//! exports each part once as a constant series:
//!
//! ```text
//! mcp_tool_objective_ratio{objective="success",tool="search"} 0.999
//! mcp_tool_objective_ratio{le="0.5",objective="latency",tool="search"} 0.95
//! ```
//!
//! It is an info-style metric joined in PromQL (`on (job, tool)`, and `on (job, tool, le)` for
//! the bucket of the threshold), not labels on the duration series: a call records exactly what
//! it did without objectives, changing an objective does not change the identity of any
//! duration series, and a tool without an objective has nothing to join, so the deploy bundle's
//! generic rules produce no series and no alert for it. `le` is spelled as in an OpenMetrics
//! scrape, which is how Prometheus stores the bucket's `le` (`1.0`, `0.5`).
//!
//! # Usage
//!
//! One call, configured from the environment, inside a Tokio runtime. Keep the returned
//! handle: dropping it stops the exporter (or call [`ExporterHandle::detach`]).
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mcp_metrics_exporter::Error> {
//! let exporter = mcp_metrics_exporter::install(mcp_metrics_exporter::build_info!())?;
//! // ... serve MCP ...
//! exporter.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Full control, with `/metrics` merged beside rmcp's `StreamableHttpService`:
//!
//! ```no_run
//! use mcp_metrics_exporter::{ExporterBuilder, ExporterKind, MetricMatcher, build_info};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = ExporterBuilder::from_env()?
//!     .exporter(ExporterKind::Prometheus)
//!     .without_listener()
//!     .bearer_token("scrape-secret")
//!     .buckets_for(MetricMatcher::Suffix("_bytes".into()), &[1e3, 1e4, 1e5, 1e6])?
//!     .series_limit(5_000)
//!     .build_info(build_info!())
//!     .install()?;
//! let app = axum::Router::new()
//!     // .nest_service("/mcp", streamable_http_service)
//!     .merge(exporter.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Without a global recorder, e.g. in tests:
//!
//! ```
//! use mcp_metrics_exporter::Registry;
//!
//! let registry = Registry::default();
//! metrics::with_local_recorder(&registry, || {
//!     metrics::histogram!("mcp_tool_duration_seconds", "tool" => "search").record(0.012);
//! });
//! let text = registry.render_prometheus();
//! assert!(text.contains("mcp_tool_duration_seconds_bucket{tool=\"search\",le=\"0.02\"} 1"));
//! assert!(text.contains("mcp_tool_duration_seconds_count{tool=\"search\"} 1"));
//! ```

mod auth;
mod build_info;
mod builder;
#[cfg(feature = "_client")]
mod client;
mod config;
mod error;
mod histogram;
mod http;
mod objectives;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "push")]
mod push;
mod registry;
mod render;
mod rules;
mod sanitize;
mod stdout;
mod task;
#[cfg(feature = "telemetry")]
pub mod telemetry;
#[cfg(feature = "_client")]
mod tls;
#[cfg(feature = "ui")]
mod ui;

pub use crate::auth::Auth;
pub use crate::build_info::BuildInfo;
pub use crate::builder::{Exporter, ExporterBuilder, ExporterHandle};
pub use crate::config::metrics::ExporterKind;
#[cfg(feature = "otlp")]
pub use crate::config::otlp::{HistogramAggregation, Temporality};
#[cfg(feature = "_client")]
pub use crate::config::outbound::{Compression, Outbound};
pub use crate::error::{ConfigError, Error};
pub use crate::histogram::Buckets;
pub use crate::http::{METRICS_PATH, router};
pub use crate::registry::Registry;
pub use crate::render::{Format, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
pub use crate::rules::{MetricMatcher, RegistryConfig};
#[cfg(feature = "_client")]
pub use crate::tls::TlsConfig;

/// Installs the exporter the environment chooses (see the
/// [variables](#environment-variables)) with `build_info` exported as `mcp_build_info`:
/// `install(build_info!())`.
///
/// # Errors
///
/// An [`Error`] for a bad variable, a port that cannot be bound, a missing Tokio runtime, or
/// a global recorder that is already installed.
pub fn install(build_info: BuildInfo) -> Result<ExporterHandle, Error> {
    ExporterBuilder::from_env()?
        .build_info(build_info)
        .install()
}
