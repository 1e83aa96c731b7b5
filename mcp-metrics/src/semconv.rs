//! The OpenTelemetry side of the metric names: for every metric of [`names`](crate::names), the
//! name, unit and attribute keys it carries over OTLP, following the OpenTelemetry semantic
//! conventions for MCP (semantic-conventions-genai, `docs/gen-ai/mcp.md`) where they define the
//! metric. This table is the one place where the Prometheus names meet the OpenTelemetry names:
//! exporters look names up here, and the README's mapping table is written from it.
//!
//! | Prometheus name | OTLP name | unit |
//! |---|---|---|
//! | `mcp_server_operation_duration_seconds` | `mcp.server.operation.duration` (convention) | `s` |
//! | `mcp_server_session_duration_seconds` | `mcp.server.session.duration` (convention) | `s` |
//! | `mcp_client_operation_duration_seconds` | `mcp.client.operation.duration` (convention) | `s` |
//! | `mcp_client_session_duration_seconds` | `mcp.client.session.duration` (convention) | `s` |
//! | `mcp_tool_duration_seconds` | `mcp.tool.duration` | `s` |
//! | `mcp_tool_calls_in_flight` | `mcp.tool.calls_in_flight` | `{call}` |
//! | … | see [`METRICS`] | |
//!
//! Rules:
//! - A metric the conventions define keeps their name, unit and advisory buckets
//!   ([`ADVISORY_DURATION_BUCKETS`], a subset of the default buckets, so the exported bounds
//!   include every advisory bound).
//! - Our other metrics get a dotted name in the `mcp.` namespace: the Prometheus name without its
//!   unit suffix (`_seconds`, `_bytes`, `_ratio`: the unit goes into the metric's unit field) and without
//!   `_total`, with a dot where the Prometheus name moves from one namespace to the next
//!   (`mcp_server_task_duration_seconds` → `mcp.server.task.duration`) and underscores kept
//!   inside a component (`mcp_tool_calls_in_flight` → `mcp.tool.calls_in_flight`). Byte sizes
//!   end in `.size`, as in the OpenTelemetry HTTP conventions. Counts carry a UCUM annotation as
//!   unit (`{call}`).
//! - A label with a convention attribute of the same meaning takes its key on every metric:
//!   `method` → `mcp.method.name`, `tool` → `gen_ai.tool.name`, `prompt` → `gen_ai.prompt.name`,
//!   `error_type` → `error.type`. Our other labels get a key in the `mcp.` namespace
//!   ([`LABELS`], and per metric [`OtlpMetric::labels`]).
//! - The operation histograms also carry what the conventions derive from those labels:
//!   `gen_ai.operation.name = "execute_tool"` on `tools/call`, and `rpc.response.status_code`
//!   (the JSON-RPC error code) on a JSON-RPC error.
//! - A metric outside this table (an application's own) keeps its name and labels; a counter
//!   loses its `_total` suffix, which OTLP names do not carry (Prometheus adds it back when it
//!   ingests OTLP).

use crate::names::{self, label};

/// `mcp.server.operation.duration`: MCP request or notification duration as observed on the
/// receiver, a histogram in seconds.
pub const MCP_SERVER_OPERATION_DURATION: &str = "mcp.server.operation.duration";
/// `mcp.server.session.duration`: the duration of the MCP session as observed on the server.
pub const MCP_SERVER_SESSION_DURATION: &str = "mcp.server.session.duration";
/// `mcp.client.operation.duration`: MCP request or notification duration as observed on the
/// sender.
pub const MCP_CLIENT_OPERATION_DURATION: &str = "mcp.client.operation.duration";
/// `mcp.client.session.duration`: the duration of the MCP session as observed on the client.
pub const MCP_CLIENT_SESSION_DURATION: &str = "mcp.client.session.duration";

/// The explicit bucket boundaries the conventions advise for the four MCP duration histograms.
/// [`names::DEFAULT_DURATION_BUCKETS`] holds every one of them (and 1 ms and 5 ms below).
pub const ADVISORY_DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Attribute keys of the metrics on OTLP.
pub mod attr {
    /// The MCP method (convention), from the `method` label.
    pub const MCP_METHOD_NAME: &str = "mcp.method.name";
    /// The tool name (convention), from the `tool` label.
    pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
    /// The prompt name (convention), from the `prompt` label.
    pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
    /// The error class (convention): the JSON-RPC code as a string, `tool_error`, or the error
    /// kind; from the `error_type` label, present only when the operation failed.
    pub const ERROR_TYPE: &str = "error.type";
    /// The JSON-RPC error code of a failed operation (convention), derived from `error_type`.
    pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";
    /// `execute_tool` on `tools/call` operations (convention), derived from `method`.
    pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
    /// Our outcome class ([`Outcome`](crate::Outcome)), from the `outcome` label.
    pub const MCP_OUTCOME: &str = "mcp.outcome";
    /// Whose fault a failure was ([`Fault`](crate::Fault)), from the `fault` label.
    pub const MCP_FAULT: &str = "mcp.fault";
    /// The allow-listed calling application, from the `client_name` label.
    pub const MCP_CLIENT_NAME: &str = "mcp.client.name";
    /// A task's terminal status, from the `status` label.
    pub const MCP_TASK_STATUS: &str = "mcp.task.status";
    /// The model a token count or cost belongs to, from the `model` label.
    pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
    /// `prompt` or `completion`, from the `type` label of the token counter.
    pub const MCP_LLM_TOKEN_TYPE: &str = "mcp.llm.token.type";
    /// The rate limiter, from the `limiter` label.
    pub const MCP_RATE_LIMIT_LIMITER: &str = "mcp.rate_limit.limiter";
    /// The cache, from the `cache` label.
    pub const MCP_CACHE_NAME: &str = "mcp.cache.name";
    /// `hit` or `miss`, from the `result` label of the cache counter.
    pub const MCP_CACHE_RESULT: &str = "mcp.cache.result";
    /// The metric whose series was refused, from the `metric` label.
    pub const MCP_METRICS_METRIC: &str = "mcp.metrics.metric";
    /// Why a series was refused, from the `reason` label.
    pub const MCP_METRICS_REASON: &str = "mcp.metrics.reason";
    /// `success` or `latency`, from the `objective` label of the objective gauge.
    pub const MCP_OBJECTIVE_KIND: &str = "mcp.objective.kind";
    /// The latency threshold in seconds of a latency objective, from the `le` label of the
    /// objective gauge.
    pub const MCP_OBJECTIVE_THRESHOLD: &str = "mcp.objective.threshold";
    /// The service of the build info, from its `service` label.
    pub const SERVICE_NAME: &str = "service.name";
    /// The version of the build info, from its `version` label.
    pub const SERVICE_VERSION: &str = "service.version";
}

/// Attribute keys of the labels of [`names::label`], on every metric of [`METRICS`].
pub const LABELS: &[(&str, &str)] = &[
    (label::METHOD, attr::MCP_METHOD_NAME),
    (label::TOOL, attr::GEN_AI_TOOL_NAME),
    (label::PROMPT, attr::GEN_AI_PROMPT_NAME),
    (label::ERROR_TYPE, attr::ERROR_TYPE),
    (label::OUTCOME, attr::MCP_OUTCOME),
    (label::FAULT, attr::MCP_FAULT),
    (label::CLIENT_NAME, attr::MCP_CLIENT_NAME),
    (label::STATUS, attr::MCP_TASK_STATUS),
];

/// How one metric is exported over OTLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtlpMetric {
    /// The Prometheus name, a constant of [`names`].
    pub prometheus: &'static str,
    /// The OTLP name.
    pub otlp: &'static str,
    /// The UCUM unit.
    pub unit: &'static str,
    /// Labels of this metric only (beyond [`LABELS`]) and their attribute keys.
    pub labels: &'static [(&'static str, &'static str)],
    /// Whether the OpenTelemetry MCP conventions define this metric.
    pub convention: bool,
    /// Whether it is an operation histogram, which also carries `gen_ai.operation.name` and
    /// `rpc.response.status_code`.
    pub operation: bool,
}

const fn ours(prometheus: &'static str, otlp: &'static str, unit: &'static str) -> OtlpMetric {
    OtlpMetric {
        prometheus,
        otlp,
        unit,
        labels: &[],
        convention: false,
        operation: false,
    }
}

const fn convention(prometheus: &'static str, otlp: &'static str, operation: bool) -> OtlpMetric {
    OtlpMetric {
        prometheus,
        otlp,
        unit: "s",
        labels: &[],
        convention: true,
        operation,
    }
}

const fn with_labels(
    metric: OtlpMetric,
    labels: &'static [(&'static str, &'static str)],
) -> OtlpMetric {
    OtlpMetric { labels, ..metric }
}

/// Every metric of [`names`], with its OTLP name, unit and attribute keys.
pub const METRICS: &[OtlpMetric] = &[
    convention(
        names::SERVER_OPERATION_DURATION_SECONDS,
        MCP_SERVER_OPERATION_DURATION,
        true,
    ),
    convention(
        names::SERVER_SESSION_DURATION_SECONDS,
        MCP_SERVER_SESSION_DURATION,
        false,
    ),
    convention(
        names::CLIENT_OPERATION_DURATION_SECONDS,
        MCP_CLIENT_OPERATION_DURATION,
        true,
    ),
    convention(
        names::CLIENT_SESSION_DURATION_SECONDS,
        MCP_CLIENT_SESSION_DURATION,
        false,
    ),
    ours(names::TOOL_DURATION_SECONDS, "mcp.tool.duration", "s"),
    ours(
        names::TOOL_CALLS_IN_FLIGHT,
        "mcp.tool.calls_in_flight",
        "{call}",
    ),
    ours(
        names::SERVER_SESSIONS_ACTIVE,
        "mcp.server.sessions_active",
        "{session}",
    ),
    ours(
        names::SERVER_INPUT_RETRIES_TOTAL,
        "mcp.server.input_retries",
        "{request}",
    ),
    ours(
        names::SERVER_TASKS_ACTIVE,
        "mcp.server.tasks_active",
        "{task}",
    ),
    ours(
        names::SERVER_TASK_DURATION_SECONDS,
        "mcp.server.task.duration",
        "s",
    ),
    ours(
        names::SERVER_SUBSCRIPTIONS_ACTIVE,
        "mcp.server.subscriptions_active",
        "{subscription}",
    ),
    ours(names::TOOL_RESULT_BYTES, "mcp.tool.result.size", "By"),
    ours(
        names::TOOL_RESULT_CONTENT_BLOCKS,
        "mcp.tool.result.content_blocks",
        "{block}",
    ),
    ours(names::TOOLS_LIST_BYTES, "mcp.tools_list.size", "By"),
    ours(names::SERVER_REQUEST_BYTES, "mcp.server.request.size", "By"),
    ours(names::REGISTERED_TOOLS, "mcp.registered_tools", "{tool}"),
    with_labels(
        ours(names::TOOL_OBJECTIVE_RATIO, "mcp.tool.objective", "1"),
        &[
            (label::OBJECTIVE, attr::MCP_OBJECTIVE_KIND),
            (label::LE, attr::MCP_OBJECTIVE_THRESHOLD),
        ],
    ),
    with_labels(
        ours(names::BUILD_INFO, "mcp.build_info", ""),
        &[
            ("service", attr::SERVICE_NAME),
            ("version", attr::SERVICE_VERSION),
        ],
    ),
    ours(
        names::NOTIFICATIONS_SENT_TOTAL,
        "mcp.server.notifications_sent",
        "{notification}",
    ),
    with_labels(
        ours(names::LLM_TOKENS_TOTAL, "mcp.llm.tokens", "{token}"),
        &[
            ("model", attr::GEN_AI_REQUEST_MODEL),
            ("type", attr::MCP_LLM_TOKEN_TYPE),
        ],
    ),
    with_labels(
        ours(
            names::LLM_COST_MICROS_TOTAL,
            "mcp.llm.cost_micros",
            "{micro_currency_unit}",
        ),
        &[("model", attr::GEN_AI_REQUEST_MODEL)],
    ),
    with_labels(
        ours(names::RATE_LIMIT_HITS_TOTAL, "mcp.rate_limit.hits", "{hit}"),
        &[("limiter", attr::MCP_RATE_LIMIT_LIMITER)],
    ),
    with_labels(
        ours(
            names::CACHE_REQUESTS_TOTAL,
            "mcp.cache.requests",
            "{request}",
        ),
        &[
            ("cache", attr::MCP_CACHE_NAME),
            ("result", attr::MCP_CACHE_RESULT),
        ],
    ),
    with_labels(
        ours(
            names::DROPPED_SERIES_TOTAL,
            "mcp.metrics.dropped_series",
            "{series}",
        ),
        &[
            ("metric", attr::MCP_METRICS_METRIC),
            ("reason", attr::MCP_METRICS_REASON),
        ],
    ),
];

/// The OTLP naming of the metric called `prometheus` in the Prometheus exposition, if it is one
/// of ours.
///
/// ```
/// let m = mcp_metrics::semconv::metric("mcp_server_operation_duration_seconds").unwrap();
/// assert_eq!((m.otlp, m.unit), ("mcp.server.operation.duration", "s"));
/// assert_eq!(m.attribute("tool"), "gen_ai.tool.name");
/// ```
pub fn metric(prometheus: &str) -> Option<&'static OtlpMetric> {
    METRICS.iter().find(|m| m.prometheus == prometheus)
}

/// The OTLP name of any metric: ours from [`METRICS`]; another keeps its name, without the
/// `_total` suffix of a counter.
///
/// ```
/// use mcp_metrics::semconv::otlp_name;
/// assert_eq!(otlp_name("mcp_llm_tokens_total", true), "mcp.llm.tokens");
/// assert_eq!(otlp_name("orders_total", true), "orders");
/// assert_eq!(otlp_name("queue_depth", false), "queue_depth");
/// ```
pub fn otlp_name(prometheus: &str, counter: bool) -> &str {
    match metric(prometheus) {
        Some(m) => m.otlp,
        None if counter => prometheus
            .strip_suffix("_total")
            .filter(|base| !base.is_empty())
            .unwrap_or(prometheus),
        None => prometheus,
    }
}

impl OtlpMetric {
    /// The attribute key of `label` on this metric; a label the table does not know keeps its
    /// name.
    pub fn attribute<'a>(&self, label: &'a str) -> &'a str {
        self.labels
            .iter()
            .chain(LABELS)
            .find(|(l, _)| *l == label)
            .map_or(label, |(_, key)| key)
    }

    /// The attributes the conventions derive from a data point's labels (`get` returns a
    /// label's value): on an operation histogram, `gen_ai.operation.name = "execute_tool"` for
    /// `tools/call`, and `rpc.response.status_code` (the JSON-RPC code) for an `error` outcome
    /// whose `error_type` is a code.
    ///
    /// ```
    /// let m = mcp_metrics::semconv::metric("mcp_server_operation_duration_seconds").unwrap();
    /// let labels = [("method", "tools/call"), ("outcome", "error"), ("error_type", "-32602")];
    /// let get = |k: &str| labels.iter().find(|(l, _)| *l == k).map(|(_, v)| *v);
    /// assert_eq!(
    ///     m.derived_attributes(&get),
    ///     [("gen_ai.operation.name", "execute_tool"), ("rpc.response.status_code", "-32602")]
    /// );
    /// ```
    pub fn derived_attributes<'a>(
        &self,
        get: &dyn Fn(&str) -> Option<&'a str>,
    ) -> Vec<(&'static str, &'a str)> {
        let mut out = Vec::new();
        if !self.operation {
            return out;
        }
        if get(label::METHOD) == Some("tools/call") {
            out.push((attr::GEN_AI_OPERATION_NAME, "execute_tool"));
        }
        let failed = get(label::OUTCOME) == Some("error");
        if let Some(code) = get(label::ERROR_TYPE).filter(|c| failed && c.parse::<i64>().is_ok()) {
            out.push((attr::RPC_RESPONSE_STATUS_CODE, code));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The metric names declared in `names.rs`, read from its source.
    fn declared() -> BTreeSet<&'static str> {
        include_str!("names.rs")
            .lines()
            .filter_map(|l| {
                let value = l.trim().strip_prefix("pub const ")?.split_once("= \"")?.1;
                let value = value.strip_suffix("\";")?;
                value.starts_with("mcp_").then_some(value)
            })
            .collect()
    }

    #[test]
    fn every_metric_has_exactly_one_otlp_name() {
        let mapped: BTreeSet<&str> = METRICS.iter().map(|m| m.prometheus).collect();
        assert_eq!(mapped.len(), METRICS.len(), "a metric is listed twice");
        assert_eq!(mapped, declared(), "names.rs and the OTLP table differ");
        let otlp: BTreeSet<&str> = METRICS.iter().map(|m| m.otlp).collect();
        assert_eq!(otlp.len(), METRICS.len(), "two metrics share an OTLP name");
    }

    #[test]
    fn otlp_names_follow_the_rules() {
        for m in METRICS {
            // The OpenTelemetry instrument name syntax.
            assert!(
                m.otlp.len() <= 255 && m.otlp.starts_with("mcp."),
                "{}",
                m.otlp
            );
            assert!(
                m.otlp
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b)),
                "{}",
                m.otlp
            );
            assert!(!m.otlp.ends_with("_total") && !m.otlp.ends_with("_seconds"));
            let unit_suffix = [("_seconds", "s"), ("_bytes", "By"), ("_ratio", "1")]
                .into_iter()
                .find(|(suffix, _)| m.prometheus.ends_with(suffix));
            if let Some((_, unit)) = unit_suffix {
                assert_eq!(m.unit, unit, "{}", m.prometheus);
            }
            // Dotted and without unit or `_total`, the name is the Prometheus name.
            let plain = m
                .prometheus
                .trim_end_matches("_total")
                .trim_end_matches("_seconds")
                .trim_end_matches("_ratio");
            let dotted = m.otlp.replace('.', "_");
            assert!(
                plain == dotted || m.unit == "By",
                "{} -> {}",
                m.prometheus,
                m.otlp
            );
        }
    }

    #[test]
    fn the_convention_metrics_keep_their_names_and_buckets() {
        let conventional: Vec<&str> = METRICS
            .iter()
            .filter(|m| m.convention)
            .map(|m| m.otlp)
            .collect();
        assert_eq!(
            conventional,
            [
                MCP_SERVER_OPERATION_DURATION,
                MCP_SERVER_SESSION_DURATION,
                MCP_CLIENT_OPERATION_DURATION,
                MCP_CLIENT_SESSION_DURATION
            ]
        );
        for bound in ADVISORY_DURATION_BUCKETS {
            assert!(names::DEFAULT_DURATION_BUCKETS.contains(bound), "{bound}");
        }
    }

    #[test]
    fn labels_map_to_convention_attributes() {
        let op = metric(names::CLIENT_OPERATION_DURATION_SECONDS).unwrap();
        for (label, key) in [
            ("method", "mcp.method.name"),
            ("tool", "gen_ai.tool.name"),
            ("prompt", "gen_ai.prompt.name"),
            ("error_type", "error.type"),
            ("outcome", "mcp.outcome"),
            ("something_else", "something_else"),
        ] {
            assert_eq!(op.attribute(label), key);
        }
        let tokens = metric(names::LLM_TOKENS_TOTAL).unwrap();
        assert_eq!(tokens.attribute("model"), "gen_ai.request.model");
        assert_eq!(tokens.attribute("tool"), "gen_ai.tool.name");
    }

    #[test]
    fn status_codes_only_for_json_rpc_errors_of_operations() {
        let get = |labels: &'static [(&'static str, &'static str)]| {
            move |k: &str| labels.iter().find(|(l, _)| *l == k).map(|(_, v)| *v)
        };
        let op = metric(names::SERVER_OPERATION_DURATION_SECONDS).unwrap();
        let tool_error = get(&[
            ("method", "tools/call"),
            ("outcome", "tool_error"),
            ("error_type", "tool_error"),
        ]);
        assert_eq!(
            op.derived_attributes(&tool_error),
            [("gen_ai.operation.name", "execute_tool")]
        );
        let other = get(&[
            ("method", "prompts/get"),
            ("outcome", "error"),
            ("error_type", "_OTHER"),
        ]);
        assert!(op.derived_attributes(&other).is_empty());
        let listed = get(&[
            ("method", "tools/list"),
            ("outcome", "error"),
            ("error_type", "-32603"),
        ]);
        assert_eq!(
            op.derived_attributes(&listed),
            [("rpc.response.status_code", "-32603")]
        );
        let tool = metric(names::TOOL_DURATION_SECONDS).unwrap();
        let failed = get(&[("outcome", "error"), ("error_type", "-32602")]);
        assert!(tool.derived_attributes(&failed).is_empty());
    }
}
