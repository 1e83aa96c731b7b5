//! Metric and label names, the stable contract with dashboards and alert rules. Each constant is
//! the name of a metric of the [`catalog`], which describes it.
//!
//! Counter names carry their `_total` suffix already; exporters must not add a second one.
//! Durations are in seconds and histogram names end in `_seconds`.

use crate::catalog;

/// Duration of a tool function call in seconds, by `tool`, `outcome`, `error_type` and `fault`.
/// Its `_count` counts the calls: there is no separate call counter, which saves an atomic
/// operation on every call (OpenTelemetry's MCP conventions also have only the duration).
pub const TOOL_DURATION_SECONDS: &str = catalog::TOOL_DURATION.name;
/// Tool function calls currently running, by `tool`.
pub const TOOL_CALLS_IN_FLIGHT: &str = catalog::TOOL_CALLS_IN_FLIGHT.name;
/// Duration of every MCP request handled by the server, by `method`, `tool` or `prompt`, and `error_type`.
pub const SERVER_OPERATION_DURATION_SECONDS: &str = catalog::SERVER_OPERATION_DURATION.name;
/// Sessions currently open: legacy sessions whose handler is alive, by `client_name`.
pub const SERVER_SESSIONS_ACTIVE: &str = catalog::SERVER_SESSIONS_ACTIVE.name;
/// Lifetime of closed sessions in seconds, by `client_name` and `end_reason`.
pub const SERVER_SESSION_DURATION_SECONDS: &str = catalog::SERVER_SESSION_DURATION.name;
/// Duration of every MCP request (and notification) an rmcp client sends, until its answer
/// arrives, by `method`, `tool` or `prompt`, `outcome` and `error_type`. OpenTelemetry name:
/// `mcp.client.operation.duration`.
pub const CLIENT_OPERATION_DURATION_SECONDS: &str = catalog::CLIENT_OPERATION_DURATION.name;
/// Lifetime of an rmcp client's `initialize` sessions in seconds. OpenTelemetry name:
/// `mcp.client.session.duration`.
pub const CLIENT_SESSION_DURATION_SECONDS: &str = catalog::CLIENT_SESSION_DURATION.name;
/// Tools the server advertises.
pub const REGISTERED_TOOLS: &str = catalog::REGISTERED_TOOLS.name;
/// Constant 1 with the build's `service` and `version` as labels.
pub const BUILD_INFO: &str = catalog::BUILD_INFO.name;
/// Notifications sent to clients, by `method`.
pub const NOTIFICATIONS_SENT_TOTAL: &str = catalog::NOTIFICATIONS_SENT.name;
/// LLM tokens used, by `model` and `type` (`prompt` or `completion`).
pub const LLM_TOKENS_TOTAL: &str = catalog::LLM_TOKENS.name;
/// Cost of LLM tokens from the configured price table, by `model`, in millionths of the table's
/// currency unit (counters count integers; divide by 1e6 in queries).
pub const LLM_COST_MICROS_TOTAL: &str = catalog::LLM_COST_MICROS.name;
/// Rate-limit hits, by `limiter`.
pub const RATE_LIMIT_HITS_TOTAL: &str = catalog::RATE_LIMIT_HITS.name;
/// Cache look-ups, by `cache` and `result` (`hit` or `miss`).
pub const CACHE_REQUESTS_TOTAL: &str = catalog::CACHE_REQUESTS.name;
/// Series an exporter refused because a metric reached its series limit, by `metric`.
pub const DROPPED_SERIES_TOTAL: &str = catalog::DROPPED_SERIES.name;
/// Requests that retry after an `input_required` answer (they carry `requestState` or
/// `inputResponses`), by `method`, `tool` or `prompt`, and the `outcome` of the retry.
pub const SERVER_INPUT_RETRIES_TOTAL: &str = catalog::SERVER_INPUT_RETRIES.name;
/// Tasks created by tool calls that have not reached a terminal status, by `tool`.
pub const SERVER_TASKS_ACTIVE: &str = catalog::SERVER_TASKS_ACTIVE.name;
/// Time from a task's creation to its terminal status in seconds, by `tool` and `status`
/// (`completed`, `failed` or `cancelled`).
pub const SERVER_TASK_DURATION_SECONDS: &str = catalog::SERVER_TASK_DURATION.name;
/// `subscriptions/listen` streams open now.
pub const SERVER_SUBSCRIPTIONS_ACTIVE: &str = catalog::SERVER_SUBSCRIPTIONS_ACTIVE.name;
/// Size of the JSON `result` of a completed `tools/call` in bytes, by `tool`.
pub const TOOL_RESULT_BYTES: &str = catalog::TOOL_RESULT_BYTES.name;
/// Content blocks in the result of a completed `tools/call`, by `tool`.
pub const TOOL_RESULT_CONTENT_BLOCKS: &str = catalog::TOOL_RESULT_CONTENT_BLOCKS.name;
/// Tokens of the text content of a completed `tools/call` result under the `o200k_base`
/// encoding, by `tool`; recorded with the `tokens` feature only.
pub const TOOL_RESULT_TOKENS: &str = catalog::TOOL_RESULT_TOKENS.name;
/// Size in bytes of the JSON `result` of the last complete `tools/list` answer: the tool catalogue
/// a model reads.
pub const TOOLS_LIST_BYTES: &str = catalog::TOOLS_LIST_BYTES.name;
/// Size in bytes of request bodies received over HTTP, by `method`.
pub const SERVER_REQUEST_BYTES: &str = catalog::SERVER_REQUEST_BYTES.name;
/// The service-level objectives of tools, one constant series per part, set once when the
/// exporter is built: `{tool, objective="success"}` is the share of calls that must not fail by
/// the server's fault; `{tool, objective="latency", le}` the share of calls that must finish
/// within `le` seconds, `le` spelled as the duration histogram's bucket label (see
/// [`objective`]).
pub const TOOL_OBJECTIVE_RATIO: &str = catalog::TOOL_OBJECTIVE.name;
/// Duration of HTTP requests to the MCP endpoint in seconds, by `http_request_method`,
/// `http_response_status_code` and `http_route`: the OpenTelemetry HTTP conventions'
/// `http.server.request.duration`, recorded by the transport layer for every request, whether or
/// not a handler saw it.
pub const HTTP_SERVER_REQUEST_DURATION_SECONDS: &str = catalog::HTTP_SERVER_REQUEST_DURATION.name;
/// HTTP requests to the MCP endpoint the transport refused before any handler saw them, by
/// `refusal_reason` and `http_route`.
pub const SERVER_REFUSED_REQUESTS_TOTAL: &str = catalog::SERVER_REFUSED_REQUESTS.name;
/// Sessions the streamable HTTP session manager holds now, beside
/// [`SERVER_SESSIONS_ACTIVE`] (the sessions a handler still serves).
pub const SERVER_SESSIONS_HELD: &str = catalog::SERVER_SESSIONS_HELD.name;
/// 1 on the fingerprint of the catalogue the server lists now, 0 on earlier ones, by `kind`
/// (`tools`, `prompts`) and `fingerprint`.
pub const SERVER_CATALOGUE_INFO: &str = catalog::SERVER_CATALOGUE_INFO.name;
/// Complete list answers whose fingerprint differed from the one before, by `kind`.
pub const SERVER_CATALOGUE_CHANGES_TOTAL: &str = catalog::SERVER_CATALOGUE_CHANGES.name;
/// 1 on the fingerprint of the catalogue a server last listed to an rmcp client, by
/// `server_name`, `kind` and `fingerprint`.
pub const CLIENT_CATALOGUE_INFO: &str = catalog::CLIENT_CATALOGUE_INFO.name;
/// Catalogues that changed under a live rmcp client connection, by `server_name` and `kind`.
pub const CLIENT_CATALOGUE_CHANGES_TOTAL: &str = catalog::CLIENT_CATALOGUE_CHANGES.name;
/// Elicitation answers the server received, by `method` (`elicitation/create` through
/// [`ObservedPeer`](crate::rmcp::ObservedPeer), or the retried `tools/call`, `prompts/get` or
/// `resources/read` whose `inputResponses` carried them), `tool` or `prompt`, and `action`
/// (`accept`, `decline`, `cancel`).
pub const SERVER_ELICITATION_RESPONSES_TOTAL: &str = catalog::SERVER_ELICITATION_RESPONSES.name;
/// Elicitation answers an instrumented rmcp client sent, labelled as
/// [`SERVER_ELICITATION_RESPONSES_TOTAL`].
pub const CLIENT_ELICITATION_RESPONSES_TOTAL: &str = catalog::CLIENT_ELICITATION_RESPONSES.name;

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
    pub use crate::catalog::label::*;
}

/// Values of the `objective` label.
pub mod objective {
    /// The success part: the share of calls that must not fail by the server's fault.
    pub const SUCCESS: &str = "success";
    /// The latency part: the share of calls that must finish within the `le` threshold.
    pub const LATENCY: &str = "latency";
}

/// Default histogram buckets for durations in seconds: the OpenTelemetry MCP advice plus 1 ms and 5 ms.
pub const DEFAULT_DURATION_BUCKETS: &[f64] = catalog::DURATION_BUCKETS;

/// Default histogram buckets for sizes in bytes (metric names ending in `_bytes`): powers of 4
/// from 64 B to 16 MiB.
pub const DEFAULT_BYTE_BUCKETS: &[f64] = catalog::BYTE_BUCKETS;

/// Default histogram buckets for small counts (metric names ending in `_blocks`, such as
/// [`TOOL_RESULT_CONTENT_BLOCKS`]): powers of 2 from 1 to 128.
pub const DEFAULT_COUNT_BUCKETS: &[f64] = catalog::COUNT_BUCKETS;

/// Default histogram buckets for token counts (metric names ending in `_tokens`, such as
/// [`TOOL_RESULT_TOKENS`]): powers of 4 from 16 to 1,048,576.
pub const DEFAULT_TOKEN_BUCKETS: &[f64] = catalog::TOKEN_BUCKETS;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every metric of the catalog has its constant here, and every constant is a metric.
    #[test]
    fn the_constants_are_the_catalog() {
        let constants: BTreeSet<&str> = [
            TOOL_DURATION_SECONDS,
            TOOL_CALLS_IN_FLIGHT,
            SERVER_OPERATION_DURATION_SECONDS,
            SERVER_SESSIONS_ACTIVE,
            SERVER_SESSION_DURATION_SECONDS,
            CLIENT_OPERATION_DURATION_SECONDS,
            CLIENT_SESSION_DURATION_SECONDS,
            REGISTERED_TOOLS,
            BUILD_INFO,
            NOTIFICATIONS_SENT_TOTAL,
            LLM_TOKENS_TOTAL,
            LLM_COST_MICROS_TOTAL,
            RATE_LIMIT_HITS_TOTAL,
            CACHE_REQUESTS_TOTAL,
            DROPPED_SERIES_TOTAL,
            SERVER_INPUT_RETRIES_TOTAL,
            SERVER_TASKS_ACTIVE,
            SERVER_TASK_DURATION_SECONDS,
            SERVER_SUBSCRIPTIONS_ACTIVE,
            TOOL_RESULT_BYTES,
            TOOL_RESULT_CONTENT_BLOCKS,
            TOOL_RESULT_TOKENS,
            TOOLS_LIST_BYTES,
            SERVER_REQUEST_BYTES,
            TOOL_OBJECTIVE_RATIO,
            HTTP_SERVER_REQUEST_DURATION_SECONDS,
            SERVER_REFUSED_REQUESTS_TOTAL,
            SERVER_SESSIONS_HELD,
            SERVER_CATALOGUE_INFO,
            SERVER_CATALOGUE_CHANGES_TOTAL,
            CLIENT_CATALOGUE_INFO,
            CLIENT_CATALOGUE_CHANGES_TOTAL,
            SERVER_ELICITATION_RESPONSES_TOTAL,
            CLIENT_ELICITATION_RESPONSES_TOTAL,
        ]
        .into_iter()
        .collect();
        let declared = include_str!("names.rs")
            .lines()
            .filter(|l| l.starts_with("pub const ") && l.contains(": &str = catalog::"))
            .count();
        assert_eq!(
            constants.len(),
            declared,
            "a constant is missing from this test"
        );
        let catalog: BTreeSet<&str> = crate::catalog::METRICS.iter().map(|m| m.name).collect();
        assert_eq!(constants, catalog);
    }
}
