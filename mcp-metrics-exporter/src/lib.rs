//! Exporters for `mcp-metrics`: a [`metrics::Recorder`] of its own and the ways out of it —
//! Prometheus pull, Pushgateway, OTLP/HTTP, stdout.
//!
//! # The backend
//!
//! [`Registry`] keeps counters as `AtomicU64`, gauges as `f64` bits in an `AtomicU64`, and
//! histograms as fixed buckets of atomic counters plus an atomic sum, so their memory does
//! not grow with the number of values recorded. Registration takes a lock once per series;
//! the `metrics` handles it returns record without locking or allocating. Each metric may
//! have at most [`DEFAULT_SERIES_LIMIT`] series (configurable); past that, and for names that
//! collide after sanitising or change kind, the registry hands out a no-op handle and counts
//! the refusal in `mcp_metrics_dropped_series_total{metric, reason}`.
//!
//! Output is the Prometheus text format 0.0.4 (or OpenMetrics 1.0 when the scraper asks for
//! it): families sorted by name, series sorted by labels, one `# HELP` and `# TYPE` per
//! family, label values escaped. Rendering costs time per series, not per recorded value.
//!
//! # Choosing an exporter
//!
//! | `MCP_METRICS_EXPORTER` | what happens |
//! |---|---|
//! | `prometheus` (default) | `GET /metrics` on `MCP_METRICS_LISTEN` (default `127.0.0.1:9464`, `off` for none), and [`ExporterHandle::router`] to merge into your own app |
//! | `push` | PUT to `MCP_METRICS_PUSH_URL`/metrics/job/`MCP_METRICS_PUSH_JOB`\[/instance/`MCP_METRICS_PUSH_INSTANCE`\] every `MCP_METRICS_PUSH_INTERVAL` (default `15s`) |
//! | `otlp` | POST protobuf to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`) every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60000) |
//! | `stdout` | prints the text format every `MCP_METRICS_STDOUT_INTERVAL`; for development only |
//! | `none` | installs nothing; recording stays a no-op |
//!
//! Scrapes can require `MCP_METRICS_BASIC_AUTH=user:password` or `MCP_METRICS_BEARER_TOKEN`;
//! `MCP_METRICS_SERIES_LIMIT` sets the series limit. A bad value is an [`Error::Config`] that
//! names the variable and the value (secrets are shown by length only). [`vars`] lists them.
//!
//! **Do not use `stdout` in an MCP server on the stdio transport:** standard output is that
//! server's JSON-RPC channel. Push and OTLP run on a background task with capped exponential
//! backoff; an unreachable destination never blocks or fails a tool call. They speak plain
//! HTTP only (no TLS): point them at a local collector or gateway.
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
mod gauge;
mod histogram;
mod http;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "push")]
mod push;
mod registry;
mod render;
mod sanitize;
mod stdout;
mod task;
#[cfg(feature = "telemetry")]
pub mod telemetry;

pub use crate::auth::Auth;
pub use crate::build_info::BuildInfo;
pub use crate::builder::{Exporter, ExporterBuilder, ExporterHandle};
#[cfg(feature = "_client")]
pub use crate::client::{Compression, DEFAULT_TIMEOUT, Outbound, TlsConfig};
pub use crate::config::{DEFAULT_LISTEN, ExporterKind, vars};
pub use crate::error::{ConfigError, Error};
pub use crate::histogram::{Buckets, MetricMatcher};
pub use crate::http::{METRICS_PATH, router};
pub use crate::registry::{DEFAULT_SERIES_LIMIT, Registry, RegistryConfig};
pub use crate::render::{Format, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
pub use crate::task::BackgroundTask;

/// Installs the exporter the environment chooses (see [`vars`]) with `build_info` exported as
/// `mcp_build_info`: `install(build_info!())`.
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

#[cfg(test)]
mod render_tests;
