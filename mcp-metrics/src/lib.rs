//! Production observability for MCP servers, one attribute per tool.
//!
//! ```
//! use mcp_metrics::{ErrorKind, mcp_tool};
//!
//! #[derive(Debug, ErrorKind)]
//! enum WeatherError {
//!     UnknownCity,
//!     Upstream,
//! }
//!
//! /// Current temperature of a city.
//! #[mcp_tool]
//! async fn temperature(city: String) -> Result<f64, WeatherError> {
//!     if city.is_empty() {
//!         return Err(WeatherError::UnknownCity);
//!     }
//!     Ok(21.5)
//! }
//! ```
//!
//! Each call of `temperature` is timed and counted in
//! `mcp_tool_duration_seconds{tool="temperature", outcome, error_type, fault}` (its `_count` is the
//! number of calls), is tracked in `mcp_tool_calls_in_flight{tool}` and runs in a `tracing` span
//! with the OpenTelemetry GenAI attributes. Metrics go to the recorder installed with the
//! [`metrics`](https://docs.rs/metrics) crate; `mcp-metrics-exporter` installs one and hands its
//! store over ([`store::set_store`]), so that calls record straight into its atomics. With
//! another recorder, see [`use_global_recorder`]. Without a recorder nothing is recorded.
//!
//! Every metric is described once, in the [`catalog`]: Prometheus and OTLP names, kind, unit,
//! help text, labels and default buckets.
//!
//! # Features
//! - `metrics` (default): record metrics.
//! - `trace` (default): open spans.
//! - `rmcp` (default): understand rmcp's `CallToolResult` and `ErrorData` return values, and the
//!   [`rmcp`](mod@rmcp) integration module.
//! - `rmcp-client`: the [`rmcp::client`] instrumentation of rmcp's client side.
//! - `axum`: read the peer address axum records (`ConnectInfo<SocketAddr>`, from
//!   `into_make_service_with_connect_info`) for the server span's `client.address`.
//! - `otel`: continue a peer's trace from a message's `_meta` through the configured
//!   OpenTelemetry propagator, and put the context into `_meta` of the messages this side sends
//!   (through `tracing-opentelemetry`); exemplars on the duration histograms.
//!
//! With `default-features = false`, `#[mcp_tool]` emits the function unchanged and neither the
//! `metrics` nor the `tracing` crate is linked.

pub mod catalog;
pub mod names;
#[cfg(feature = "otel")]
pub mod otel;
#[cfg(feature = "rmcp")]
pub mod rmcp;
#[path = "record/store.rs"]
pub mod store;

mod error_kind;
mod helpers;
#[cfg(any(feature = "metrics", feature = "rmcp"))]
mod intern;
mod objective;
mod outcome;
#[cfg(feature = "trace")]
mod propagation;
#[cfg(feature = "metrics")]
mod record;
mod risk;

#[doc(hidden)]
#[path = "tool/mod.rs"]
pub mod __private;

pub use error_kind::{ErrorKind, jsonrpc_code_fault, jsonrpc_code_kind};
pub use helpers::PriceTable;
pub use objective::{Objective, ObjectiveError, objectives};
pub use outcome::{Fault, Outcome};
pub use risk::Risk;

/// Derives [`ErrorKind`](trait@ErrorKind): variant names in snake_case, or `#[error_kind("...")]`;
/// `#[error_kind(caller)]` (or `#[error_kind("...", caller)]`) makes a variant or a struct the
/// caller's fault.
pub use mcp_metrics_macros::ErrorKind;

/// Counts, times and traces a tool function.
///
/// ```
/// # use mcp_metrics::mcp_tool;
/// #[mcp_tool] // metrics and trace
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// #[mcp_tool(metrics, name = "sum")] // metrics only, under another tool name
/// fn add_up(values: Vec<i64>) -> i64 { values.iter().sum() }
///
/// #[mcp_tool(trace, args(user), fields(user.tier = "free"))] // records `user`, not `secret`
/// async fn login(user: String, secret: String) -> Result<(), std::io::Error> { Ok(()) }
///
/// #[mcp_tool(objective(success = 99.9, latency = 0.5, latency_target = 95))]
/// async fn search(query: String) -> Result<Vec<String>, std::io::Error> { Ok(vec![query]) }
/// ```
///
/// Arguments:
/// - `metrics`, `trace`: what to record; neither means both.
/// - `name = "..."`: the tool name; defaults to the `name` of an rmcp `#[tool(...)]` attribute on the
///   same function, else the function name.
/// - `args`, `args(a, b)`: record parameters on the span, with `Debug`. By default none is recorded
///   (tool arguments carry keys and personal data) and no parameter type needs `Debug`. `args`
///   records every name the parameters bind, destructured ones included (`Parameters(Req { city,
///   .. })` binds `city`), `self` excluded; `args(a, b)` only the names listed. Only what is
///   recorded needs `Debug`.
/// - `skip(a, ..)`: with a bare `args`, the names not to record. (`skip_all` is the default and
///   is rejected.)
/// - `fields(key = value, ..)`: more span fields, with `%` (Display) or `?` (Debug) as in `tracing`.
/// - `objective(success = 99.9, latency = 0.5, latency_target = 95)`: the tool's service-level
///   objective. `success` is the percentage of calls that must not fail by the server's fault;
///   `latency` a threshold in seconds, which must be a bucket bound of the duration histogram
///   (the exporter checks it at start-up); `latency_target` the percentage of calls that must
///   finish within it. Either part may be left out; `latency` and `latency_target` go together.
///   Percentages are above 0 and below 100. The objective is listed by [`objectives()`] from
///   start-up on, before any call; see [`Objective`].
///
/// The span is the tool execution span of the OpenTelemetry GenAI conventions: `execute_tool
/// {tool}`, kind INTERNAL, with `gen_ai.operation.name = "execute_tool"`, `gen_ai.tool.name`,
/// `gen_ai.tool.type = "function"`, and `error.type` with an ERROR status when the call fails. It
/// sits inside the server span `tools/call {tool}` of the request, which carries what only the
/// request knows (`mcp.method.name`, the JSON-RPC id, the session).
///
/// It works on sync and async functions and methods, generic functions and functions returning
/// `impl Trait`. Put it above rmcp's `#[tool]` attribute: rmcp then sees the same function, docs and
/// name. The outcome of a call is derived from its return value: `Err(e)` is an `error` of kind
/// [`e.error_kind()`](trait@ErrorKind) (or `_OTHER`) and fault [`e.fault()`](ErrorKind::fault),
/// `Err(String)` and a `CallToolResult` with `is_error: true` are a `tool_error`, a panic is a
/// `panic` and a future dropped before it completed is `cancelled`; anything else is a `success`.
pub use mcp_metrics_macros::mcp_tool;

/// Lets the instruments of this crate keep the `metrics` handles they register, for applications
/// that use another `metrics` recorder than `mcp-metrics-exporter` (which hands its store over
/// with [`store::set_store`] and needs no such call).
///
/// Call it once, after installing the global recorder (for example
/// `metrics_exporter_prometheus::PrometheusBuilder::install_recorder`), from a thread without a
/// local recorder. Each series is then registered once and recorded through its handle from then
/// on; local recorders (`metrics::with_local_recorder`) no longer see what was cached. Without
/// this call every record registers its series with the recorder of the moment: always correct,
/// but a map look-up in the recorder on every record.
#[cfg(feature = "metrics")]
pub fn use_global_recorder() {
    record::set_global_recorder();
}
