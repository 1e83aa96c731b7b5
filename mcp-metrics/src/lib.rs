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
//! registry over ([`store::set_registry`]), so that calls record straight into its atomics. With
//! another recorder, see [`use_global_recorder`]. Without a recorder nothing is recorded.
//!
//! # Features
//! - `metrics` (default): record metrics.
//! - `trace` (default): open spans.
//! - `rmcp` (default): understand rmcp's `CallToolResult` and `ErrorData` return values, and the
//!   [`rmcp`](mod@rmcp) integration module.
//! - `rmcp-client`: the [`rmcp::client`] instrumentation of rmcp's client side.
//! - `axum`: read the peer address axum records (`ConnectInfo<SocketAddr>`, from
//!   `into_make_service_with_connect_info`) for the server span's `client.address`.
//! - `otel`: continue a client's trace from the request's `_meta.traceparent`, through
//!   `tracing-opentelemetry`.
//!
//! With `default-features = false`, `#[mcp_tool]` emits the function unchanged and neither the
//! `metrics` nor the `tracing` crate is linked.

pub mod names;
#[cfg(feature = "otel")]
pub mod otel;
#[cfg(feature = "rmcp")]
pub mod rmcp;
pub mod semconv;

pub mod store;

mod error_kind;
mod helpers;
mod objective;
mod outcome;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use error_kind::{ErrorKind, jsonrpc_code_fault, jsonrpc_code_kind};
pub use helpers::PriceTable;
pub use objective::{Objective, ObjectiveError, objectives};
pub use outcome::{Fault, Outcome};

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

/// Lets `#[mcp_tool]` call sites keep the `metrics` handles they register, for applications that
/// use another `metrics` recorder than `mcp-metrics-exporter` (which hands its registry over with
/// [`store::set_registry`] and needs no such call).
///
/// Call it once, after installing the global recorder (for example
/// `metrics_exporter_prometheus::PrometheusBuilder::install_recorder`), from a thread without a
/// local recorder. Each call site then registers its handles at its first call and records
/// through them from then on; local recorders (`metrics::with_local_recorder`) no longer see the
/// calls of a site that has cached its handles. Without this call every tool call registers its
/// series with the recorder of the moment: always correct, but a map look-up in the recorder on
/// every call.
#[cfg(feature = "metrics")]
pub fn use_global_recorder() {
    __private::cache_global_recorder_handles();
}

/// Registers the descriptions (`# HELP`) and units of every metric of this crate with the installed
/// recorder. Exporters call it when they install theirs.
#[cfg(feature = "metrics")]
pub fn describe() {
    use metrics::Unit;
    use names::*;
    metrics::describe_histogram!(
        TOOL_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of tool function calls by tool, outcome, error type and fault; its count counts the calls."
    );
    metrics::describe_gauge!(
        TOOL_CALLS_IN_FLIGHT,
        Unit::Count,
        "Tool function calls running now."
    );
    metrics::describe_histogram!(
        CLIENT_OPERATION_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of MCP requests sent by the client, by method, tool or prompt, outcome and error type."
    );
    metrics::describe_histogram!(
        CLIENT_SESSION_DURATION_SECONDS,
        Unit::Seconds,
        "Lifetime of the client's closed MCP sessions."
    );
    metrics::describe_histogram!(
        SERVER_OPERATION_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of MCP requests handled by the server, by method, tool or prompt, and error type."
    );
    metrics::describe_gauge!(
        SERVER_SESSIONS_ACTIVE,
        Unit::Count,
        "MCP sessions open now."
    );
    metrics::describe_histogram!(
        SERVER_SESSION_DURATION_SECONDS,
        Unit::Seconds,
        "Lifetime of closed MCP sessions."
    );
    metrics::describe_gauge!(
        REGISTERED_TOOLS,
        Unit::Count,
        "Tools the server advertises."
    );
    metrics::describe_gauge!(
        BUILD_INFO,
        "Constant 1 labelled with the service's name and version."
    );
    metrics::describe_counter!(
        NOTIFICATIONS_SENT_TOTAL,
        Unit::Count,
        "Notifications sent to clients, by method."
    );
    metrics::describe_counter!(
        LLM_TOKENS_TOTAL,
        Unit::Count,
        "LLM tokens used, by model and type."
    );
    metrics::describe_counter!(
        LLM_COST_MICROS_TOTAL,
        "Cost of LLM tokens, by model, in millionths of the price table's currency unit."
    );
    metrics::describe_counter!(
        RATE_LIMIT_HITS_TOTAL,
        Unit::Count,
        "Requests refused by a rate limiter."
    );
    metrics::describe_counter!(
        CACHE_REQUESTS_TOTAL,
        Unit::Count,
        "Cache look-ups by cache and result."
    );
    metrics::describe_gauge!(
        TOOL_OBJECTIVE_RATIO,
        "Service-level objective of a tool: the share of calls that must not fail by the server's fault (objective=success), or finish within le seconds (objective=latency)."
    );
    metrics::describe_counter!(
        DROPPED_SERIES_TOTAL,
        Unit::Count,
        "Series refused by the exporter's series limit."
    );
    #[cfg(feature = "rmcp")]
    rmcp::describe();
}
