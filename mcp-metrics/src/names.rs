//! Metric and label names, the stable contract with dashboards and alert rules.
//!
//! Counter names carry their `_total` suffix already; exporters must not add a second one.
//! Durations are in seconds and histogram names end in `_seconds`.

/// Duration of a tool function call in seconds, by `tool`, `outcome`, `error_type` and `fault`.
/// Its `_count` counts the calls: there is no separate call counter, which saves an atomic
/// operation on every call (OpenTelemetry's MCP conventions also have only the duration).
pub const TOOL_DURATION_SECONDS: &str = "mcp_tool_duration_seconds";
/// Tool function calls currently running, by `tool`.
pub const TOOL_CALLS_IN_FLIGHT: &str = "mcp_tool_calls_in_flight";
/// Duration of every MCP request handled by the server, by `method`, `tool` or `prompt`, and `error_type`.
pub const SERVER_OPERATION_DURATION_SECONDS: &str = "mcp_server_operation_duration_seconds";
/// Sessions currently open.
pub const SERVER_SESSIONS_ACTIVE: &str = "mcp_server_sessions_active";
/// Lifetime of closed sessions in seconds.
pub const SERVER_SESSION_DURATION_SECONDS: &str = "mcp_server_session_duration_seconds";
/// Duration of every MCP request (and notification) an rmcp client sends, until its answer
/// arrives, by `method`, `tool` or `prompt`, `outcome` and `error_type`. OpenTelemetry name:
/// `mcp.client.operation.duration`.
pub const CLIENT_OPERATION_DURATION_SECONDS: &str = "mcp_client_operation_duration_seconds";
/// Lifetime of an rmcp client's `initialize` sessions in seconds. OpenTelemetry name:
/// `mcp.client.session.duration`.
pub const CLIENT_SESSION_DURATION_SECONDS: &str = "mcp_client_session_duration_seconds";
/// Tools the server advertises.
pub const REGISTERED_TOOLS: &str = "mcp_registered_tools";
/// Constant 1 with the build's `service` and `version` as labels.
pub const BUILD_INFO: &str = "mcp_build_info";
/// Notifications sent to clients, by `method`.
pub const NOTIFICATIONS_SENT_TOTAL: &str = "mcp_server_notifications_sent_total";
/// LLM tokens used, by `model` and `type` (`prompt` or `completion`).
pub const LLM_TOKENS_TOTAL: &str = "mcp_llm_tokens_total";
/// Cost of LLM tokens from the configured price table, by `model`, in millionths of the table's
/// currency unit (counters count integers; divide by 1e6 in queries).
pub const LLM_COST_MICROS_TOTAL: &str = "mcp_llm_cost_micros_total";
/// Rate-limit hits, by `limiter`.
pub const RATE_LIMIT_HITS_TOTAL: &str = "mcp_rate_limit_hits_total";
/// Cache look-ups, by `cache` and `result` (`hit` or `miss`).
pub const CACHE_REQUESTS_TOTAL: &str = "mcp_cache_requests_total";
/// Series an exporter refused because a metric reached its series limit, by `metric`.
pub const DROPPED_SERIES_TOTAL: &str = "mcp_metrics_dropped_series_total";
/// Requests that retry after an `input_required` answer (they carry `requestState` or
/// `inputResponses`), by `method`, `tool` or `prompt`, and the `outcome` of the retry.
pub const SERVER_INPUT_RETRIES_TOTAL: &str = "mcp_server_input_retries_total";
/// Tasks created by tool calls that have not reached a terminal status, by `tool`.
pub const SERVER_TASKS_ACTIVE: &str = "mcp_server_tasks_active";
/// Time from a task's creation to its terminal status in seconds, by `tool` and `status`
/// (`completed`, `failed` or `cancelled`).
pub const SERVER_TASK_DURATION_SECONDS: &str = "mcp_server_task_duration_seconds";
/// `subscriptions/listen` streams open now.
pub const SERVER_SUBSCRIPTIONS_ACTIVE: &str = "mcp_server_subscriptions_active";
/// Size of the JSON `result` of a completed `tools/call` in bytes, by `tool`.
pub const TOOL_RESULT_BYTES: &str = "mcp_tool_result_bytes";
/// Content blocks in the result of a completed `tools/call`, by `tool`.
pub const TOOL_RESULT_CONTENT_BLOCKS: &str = "mcp_tool_result_content_blocks";
/// Size in bytes of the JSON `result` of the last complete `tools/list` answer: the tool catalogue
/// a model reads.
pub const TOOLS_LIST_BYTES: &str = "mcp_tools_list_bytes";
/// Size in bytes of request bodies received over HTTP, by `method`.
pub const SERVER_REQUEST_BYTES: &str = "mcp_server_request_bytes";
/// The service-level objectives of tools, one constant series per part, set once when the
/// exporter is built: `{tool, objective="success"}` is the share of calls that must not fail by
/// the server's fault; `{tool, objective="latency", le}` the share of calls that must finish
/// within `le` seconds, `le` spelled as the duration histogram's bucket label (see
/// [`objective`]).
pub const TOOL_OBJECTIVE_RATIO: &str = "mcp_tool_objective_ratio";

/// The label value of anything outside a bounded set: an error type without an
/// [`ErrorKind`](crate::ErrorKind), a JSON-RPC code the specifications do not define, a model
/// missing from the price table, a client name outside the allow-list. OpenTelemetry's
/// `error.type` advises this spelling.
pub const OTHER: &str = "_OTHER";

/// The `tool` or `prompt` label of a request naming something the server does not know, so that
/// a client cannot create series at will.
pub const UNKNOWN: &str = "_unknown";

/// Label names.
pub mod label {
    /// Tool name.
    pub const TOOL: &str = "tool";
    /// Prompt name.
    pub const PROMPT: &str = "prompt";
    /// Outcome class: see [`crate::Outcome`].
    pub const OUTCOME: &str = "outcome";
    /// Error kind; empty when the outcome is not an error.
    pub const ERROR_TYPE: &str = "error_type";
    /// MCP method name, such as `tools/call`.
    pub const METHOD: &str = "method";
    /// Whose fault a failure was: `client` or `server` (see [`crate::Fault`]).
    pub const FAULT: &str = "fault";
    /// The calling application, from `clientInfo.name`: normalised, and kept only if it is on the
    /// allow-list set at start-up, else `_OTHER` (`_unknown` when the client sent none).
    pub const CLIENT_NAME: &str = "client_name";
    /// Terminal status of a task: `completed`, `failed` or `cancelled`.
    pub const STATUS: &str = "status";
    /// The part of a tool's objective: [`objective::SUCCESS`](super::objective::SUCCESS) or
    /// [`objective::LATENCY`](super::objective::LATENCY).
    pub const OBJECTIVE: &str = "objective";
    /// Upper bound of a histogram bucket, in the metric's unit; on the latency part of an
    /// objective, its threshold.
    pub const LE: &str = "le";
}

/// Values of the `objective` label.
pub mod objective {
    /// The success part: the share of calls that must not fail by the server's fault.
    pub const SUCCESS: &str = "success";
    /// The latency part: the share of calls that must finish within the `le` threshold.
    pub const LATENCY: &str = "latency";
}

/// Default histogram buckets for durations in seconds: the OpenTelemetry MCP advice plus 1 ms and 5 ms.
pub const DEFAULT_DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Default histogram buckets for sizes in bytes (metric names ending in `_bytes`): powers of 4
/// from 64 B to 16 MiB.
pub const DEFAULT_BYTE_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

/// Default histogram buckets for small counts (metric names ending in `_blocks`, such as
/// [`TOOL_RESULT_CONTENT_BLOCKS`]): powers of 2 from 1 to 128.
pub const DEFAULT_COUNT_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
