//! The one table of every metric this crate and its exporter record: Prometheus name, OTLP name,
//! kind, unit, help text, labels and default buckets. Names, descriptions, OTLP naming, bucket
//! defaults and the exporter's families all read it; nothing describes a metric a second time.
//!
//! On OTLP, the four metrics the OpenTelemetry MCP semantic conventions define keep their
//! convention name and attributes. Every other metric and attribute lives in this project's own
//! namespace, `mcp_metrics.`, so that a later version of the conventions cannot give one of our
//! names another meaning.

/// What kind of instrument a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A monotonic counter (Prometheus name ends in `_total`; OTLP sum, monotonic).
    Counter,
    /// A value that goes up and down (OTLP gauge, or a non-monotonic sum for in-flight counts).
    Gauge,
    /// A distribution with buckets.
    Histogram,
}

/// One metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    /// The Prometheus name (a counter's ends in `_total`).
    pub name: &'static str,
    /// The OTLP name.
    pub otlp: &'static str,
    /// The instrument.
    pub kind: Kind,
    /// The unit, in UCUM (`s`, `By`, `1`, `{call}`).
    pub unit: &'static str,
    /// The `# HELP` text and OTLP description.
    pub help: &'static str,
    /// The labels a series may carry, in the order they are documented.
    pub labels: &'static [&'static str],
    /// The default bucket bounds of a histogram, without `+Inf`.
    pub buckets: Option<&'static [f64]>,
    /// Whether an OpenTelemetry semantic convention defines this metric: the MCP conventions,
    /// or the HTTP conventions for `http.server.request.duration`.
    pub convention: bool,
}

impl Metric {
    /// The OTLP attribute key of `label`: the convention's key where one exists, else ours; a
    /// label this table does not know keeps its name.
    ///
    /// ```
    /// use mcp_metrics::catalog;
    /// assert_eq!(catalog::SERVER_OPERATION_DURATION.attribute("tool"), "gen_ai.tool.name");
    /// assert_eq!(catalog::SERVER_OPERATION_DURATION.attribute("fault"), "mcp_metrics.fault");
    /// ```
    pub fn attribute<'a>(&self, label: &'a str) -> &'a str {
        ATTRIBUTES
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(label, |(_, key)| key)
    }

    /// Whether this is one of the two operation histograms, whose data points also carry
    /// `gen_ai.operation.name` (on `tools/call`) and `rpc.response.status_code` (on JSON-RPC
    /// errors).
    pub fn is_operation(&self) -> bool {
        self.name == SERVER_OPERATION_DURATION.name || self.name == CLIENT_OPERATION_DURATION.name
    }

    /// The OTLP attributes of a series with `labels`, as the conventions define them: each label
    /// under its attribute key and, on the operation histograms, `gen_ai.operation.name =
    /// "execute_tool"` on `tools/call` and `rpc.response.status_code` for a JSON-RPC error. On
    /// the server side the codes that say the caller sent something the server could not serve
    /// (`-32700`, `-32600`, `-32601`, `-32602`, `-32002`) are not errors: they keep
    /// `rpc.response.status_code` but get no `error.type` (the Prometheus `fault` label tells
    /// the same story as `client`).
    ///
    /// ```
    /// let m = mcp_metrics::catalog::SERVER_OPERATION_DURATION;
    /// let unknown_tool = [("method", "tools/call"), ("outcome", "error"), ("error_type", "-32602")];
    /// assert_eq!(
    ///     m.otlp_attributes(&unknown_tool),
    ///     [
    ///         ("mcp.method.name", "tools/call"),
    ///         ("mcp_metrics.outcome", "error"),
    ///         ("gen_ai.operation.name", "execute_tool"),
    ///         ("rpc.response.status_code", "-32602"),
    ///     ]
    /// );
    /// ```
    pub fn otlp_attributes<'a>(&self, labels: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::with_capacity(labels.len() + 2);
        let mut code = None;
        for &(label, value) in labels {
            if label == label::ERROR_TYPE
                && self.is_operation()
                && let Ok(parsed) = value.parse::<i64>()
            {
                code = Some(value);
                if self.name == SERVER_OPERATION_DURATION.name && !is_server_side_error(parsed) {
                    continue;
                }
            }
            out.push((self.attribute(label), value));
        }
        if self.is_operation()
            && labels
                .iter()
                .any(|&(l, v)| l == label::METHOD && v == "tools/call")
        {
            out.push((attr::GEN_AI_OPERATION_NAME, "execute_tool"));
        }
        if let Some(code) = code {
            out.push((attr::RPC_RESPONSE_STATUS_CODE, code));
        }
        out
    }
}

/// Label names.
pub mod label {
    /// Tool name.
    pub const TOOL: &str = "tool";
    /// Prompt name.
    pub const PROMPT: &str = "prompt";
    /// Outcome class: see [`crate::Outcome`].
    pub const OUTCOME: &str = "outcome";
    /// Error kind; absent when the outcome is not a failure.
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
    /// The part of a tool's objective: `success` or `latency`.
    pub const OBJECTIVE: &str = "objective";
    /// Upper bound of a histogram bucket, in the metric's unit; on the latency part of an
    /// objective, its threshold.
    pub const LE: &str = "le";
    /// The HTTP request method: one of the methods of RFC 9110 and `PATCH`, else `_OTHER`.
    pub const HTTP_REQUEST_METHOD: &str = "http_request_method";
    /// The HTTP status code of the response.
    pub const HTTP_RESPONSE_STATUS_CODE: &str = "http_response_status_code";
    /// The route the MCP endpoint is mounted on, such as `/mcp`, set in code.
    pub const HTTP_ROUTE: &str = "http_route";
    /// Why the transport refused a request before any handler saw it, such as `body_too_large`.
    pub const REFUSAL_REASON: &str = "refusal_reason";
    /// How a session ended: `client_delete`, `idle_timeout`, `transport_closed` or
    /// `server_shutdown`.
    pub const END_REASON: &str = "end_reason";
    /// The MCP protocol version of a request: a version rmcp knows, else `_OTHER`.
    pub const PROTOCOL_VERSION: &str = "protocol_version";
    /// `tcp` for HTTP, `pipe` for standard input and output.
    pub const NETWORK_TRANSPORT: &str = "network_transport";
    /// What a catalogue lists: `tools` or `prompts`.
    pub const KIND: &str = "kind";
    /// A catalogue's fingerprint: 16 hex digits of the SHA-256 of its canonical JSON.
    pub const FINGERPRINT: &str = "fingerprint";
    /// The server a client talks to, from `serverInfo.name`: kept only if it is on the client's
    /// allow-list, else `_OTHER` (`_unknown` before the server named itself).
    pub const SERVER_NAME: &str = "server_name";
    /// The risk class of a tool from its annotations: `read_only`, `additive`, `destructive`,
    /// or `_unknown` while its definition has not been seen (see [`crate::Risk`]).
    pub const RISK: &str = "risk";
    /// What the user did with an elicitation: `accept`, `decline` or `cancel`, else `_OTHER`.
    pub const ACTION: &str = "action";
}

/// Attribute keys used on OTLP metrics and spans.
pub mod attr {
    /// `mcp.method.name` (conventions).
    pub const MCP_METHOD_NAME: &str = "mcp.method.name";
    /// `gen_ai.tool.name` (conventions).
    pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
    /// `gen_ai.prompt.name` (conventions).
    pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
    /// `gen_ai.operation.name` (conventions): `execute_tool` on tool calls.
    pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
    /// `error.type` (conventions).
    pub const ERROR_TYPE: &str = "error.type";
    /// `rpc.response.status_code` (conventions): the JSON-RPC error code.
    pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";
    /// `gen_ai.request.model` (conventions): the model of a token count or cost.
    pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
    /// `service.name` (resource conventions), on the build info.
    pub const SERVICE_NAME: &str = "service.name";
    /// `service.version` (resource conventions), on the build info.
    pub const SERVICE_VERSION: &str = "service.version";
    /// Our outcome class.
    pub const OUTCOME: &str = "mcp_metrics.outcome";
    /// Our fault class.
    pub const FAULT: &str = "mcp_metrics.fault";
    /// The allow-listed client name (the label), or the name as sent (on spans).
    pub const CLIENT_NAME: &str = "mcp_metrics.client.name";
    /// The client version as sent, on spans.
    pub const CLIENT_VERSION: &str = "mcp_metrics.client.version";
    /// A task's terminal status.
    pub const TASK_STATUS: &str = "mcp_metrics.task.status";
    /// `success` or `latency`, on the objective gauge.
    pub const OBJECTIVE_KIND: &str = "mcp_metrics.objective.kind";
    /// The latency threshold in seconds, on the objective gauge.
    pub const OBJECTIVE_THRESHOLD: &str = "mcp_metrics.objective.threshold";
    /// `prompt` or `completion`, on the token counter.
    pub const LLM_TOKEN_TYPE: &str = "mcp_metrics.llm.token.type";
    /// The rate limiter.
    pub const RATE_LIMITER: &str = "mcp_metrics.rate_limit.limiter";
    /// The cache.
    pub const CACHE_NAME: &str = "mcp_metrics.cache.name";
    /// `hit` or `miss`.
    pub const CACHE_RESULT: &str = "mcp_metrics.cache.result";
    /// The metric whose series was refused.
    pub const DROPPED_METRIC: &str = "mcp_metrics.dropped.metric";
    /// Why a series was refused.
    pub const DROPPED_REASON: &str = "mcp_metrics.dropped.reason";
    /// Whether a request retries a multi-round-trip call, on spans.
    pub const MRTR_RETRY: &str = "mcp_metrics.mrtr.retry";
    /// `http.request.method` (HTTP conventions).
    pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
    /// `http.response.status_code` (HTTP conventions).
    pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
    /// `http.route` (HTTP conventions).
    pub const HTTP_ROUTE: &str = "http.route";
    /// Why the transport refused a request.
    pub const REFUSAL_REASON: &str = "mcp_metrics.refusal.reason";
    /// How a session ended.
    pub const SESSION_END_REASON: &str = "mcp_metrics.session.end_reason";
    /// `mcp.protocol.version` (conventions).
    pub const MCP_PROTOCOL_VERSION: &str = "mcp.protocol.version";
    /// `network.transport` (conventions).
    pub const NETWORK_TRANSPORT: &str = "network.transport";
    /// What a catalogue lists.
    pub const CATALOGUE_KIND: &str = "mcp_metrics.catalogue.kind";
    /// A catalogue's fingerprint.
    pub const CATALOGUE_FINGERPRINT: &str = "mcp_metrics.catalogue.fingerprint";
    /// The allow-listed server name, on the client side.
    pub const SERVER_NAME: &str = "mcp_metrics.server.name";
    /// The risk class of a tool (the conventions define none).
    pub const TOOL_RISK: &str = "mcp_metrics.tool.risk";
    /// What the user did with an elicitation.
    pub const ELICITATION_ACTION: &str = "mcp_metrics.elicitation.action";
}

/// The attribute key of each label, on every metric that has it.
pub const ATTRIBUTES: &[(&str, &str)] = &[
    (label::METHOD, attr::MCP_METHOD_NAME),
    (label::TOOL, attr::GEN_AI_TOOL_NAME),
    (label::PROMPT, attr::GEN_AI_PROMPT_NAME),
    (label::ERROR_TYPE, attr::ERROR_TYPE),
    (label::OUTCOME, attr::OUTCOME),
    (label::FAULT, attr::FAULT),
    (label::CLIENT_NAME, attr::CLIENT_NAME),
    (label::STATUS, attr::TASK_STATUS),
    (label::OBJECTIVE, attr::OBJECTIVE_KIND),
    (label::LE, attr::OBJECTIVE_THRESHOLD),
    ("service", attr::SERVICE_NAME),
    ("version", attr::SERVICE_VERSION),
    ("model", attr::GEN_AI_REQUEST_MODEL),
    ("type", attr::LLM_TOKEN_TYPE),
    ("limiter", attr::RATE_LIMITER),
    ("cache", attr::CACHE_NAME),
    ("result", attr::CACHE_RESULT),
    ("metric", attr::DROPPED_METRIC),
    ("reason", attr::DROPPED_REASON),
    (label::HTTP_REQUEST_METHOD, attr::HTTP_REQUEST_METHOD),
    (
        label::HTTP_RESPONSE_STATUS_CODE,
        attr::HTTP_RESPONSE_STATUS_CODE,
    ),
    (label::HTTP_ROUTE, attr::HTTP_ROUTE),
    (label::REFUSAL_REASON, attr::REFUSAL_REASON),
    (label::END_REASON, attr::SESSION_END_REASON),
    (label::PROTOCOL_VERSION, attr::MCP_PROTOCOL_VERSION),
    (label::NETWORK_TRANSPORT, attr::NETWORK_TRANSPORT),
    (label::KIND, attr::CATALOGUE_KIND),
    (label::FINGERPRINT, attr::CATALOGUE_FINGERPRINT),
    (label::SERVER_NAME, attr::SERVER_NAME),
    (label::RISK, attr::TOOL_RISK),
    (label::ACTION, attr::ELICITATION_ACTION),
];

/// Default buckets for durations in seconds: the OpenTelemetry MCP advice plus 1 ms and 5 ms.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The bucket advice of the OpenTelemetry MCP conventions for their duration histograms.
pub const ADVISORY_DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Default buckets for sizes in bytes: powers of 4 from 64 B to 16 MiB.
pub const BYTE_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

/// Default buckets for small counts: powers of 2 from 1 to 128.
pub const COUNT_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// Default buckets for token counts: powers of 4 from 16 to 1,048,576, the largest context
/// windows.
pub const TOKEN_BUCKETS: &[f64] = &[
    16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];

use label::*;

const fn histogram(
    name: &'static str,
    otlp: &'static str,
    unit: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    buckets: &'static [f64],
) -> Metric {
    Metric {
        name,
        otlp,
        kind: Kind::Histogram,
        unit,
        help,
        labels,
        buckets: Some(buckets),
        convention: false,
    }
}

const fn scalar(
    kind: Kind,
    name: &'static str,
    otlp: &'static str,
    unit: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> Metric {
    Metric {
        name,
        otlp,
        kind,
        unit,
        help,
        labels,
        buckets: None,
        convention: false,
    }
}

const fn convention(metric: Metric) -> Metric {
    Metric {
        convention: true,
        ..metric
    }
}

/// `mcp_tool_duration_seconds`: what the tool *function* did.
pub const TOOL_DURATION: Metric = histogram(
    "mcp_tool_duration_seconds",
    "mcp_metrics.tool.duration",
    "s",
    "Duration of tool function calls by tool, risk, outcome, error type and fault; its count counts the calls.",
    &[TOOL, RISK, OUTCOME, ERROR_TYPE, FAULT],
    DURATION_BUCKETS,
);
/// `mcp_tool_calls_in_flight`.
pub const TOOL_CALLS_IN_FLIGHT: Metric = scalar(
    Kind::Gauge,
    "mcp_tool_calls_in_flight",
    "mcp_metrics.tool.calls_in_flight",
    "{call}",
    "Tool function calls running now.",
    &[TOOL],
);
/// `mcp_server_operation_duration_seconds`: what the client asked and got.
pub const SERVER_OPERATION_DURATION: Metric = convention(histogram(
    "mcp_server_operation_duration_seconds",
    "mcp.server.operation.duration",
    "s",
    "Duration of MCP requests and notifications handled by the server, by method, tool (with its risk) or prompt, outcome, error type, fault, client, protocol version and transport.",
    &[
        METHOD,
        TOOL,
        RISK,
        PROMPT,
        OUTCOME,
        ERROR_TYPE,
        FAULT,
        CLIENT_NAME,
        PROTOCOL_VERSION,
        NETWORK_TRANSPORT,
    ],
    DURATION_BUCKETS,
));
/// `mcp_server_session_duration_seconds`.
pub const SERVER_SESSION_DURATION: Metric = convention(histogram(
    "mcp_server_session_duration_seconds",
    "mcp.server.session.duration",
    "s",
    "Lifetime of closed MCP sessions, by client and how the session ended.",
    &[CLIENT_NAME, END_REASON],
    DURATION_BUCKETS,
));
/// `mcp_server_sessions_active`.
pub const SERVER_SESSIONS_ACTIVE: Metric = scalar(
    Kind::Gauge,
    "mcp_server_sessions_active",
    "mcp_metrics.server.sessions_active",
    "{session}",
    "MCP sessions open now, by client.",
    &[CLIENT_NAME],
);
/// `mcp_client_operation_duration_seconds`.
pub const CLIENT_OPERATION_DURATION: Metric = convention(histogram(
    "mcp_client_operation_duration_seconds",
    "mcp.client.operation.duration",
    "s",
    "Duration of MCP requests and notifications sent by the client until the answer arrived, by method, tool or prompt, outcome, error type, protocol version and transport.",
    &[
        METHOD,
        TOOL,
        PROMPT,
        OUTCOME,
        ERROR_TYPE,
        PROTOCOL_VERSION,
        NETWORK_TRANSPORT,
    ],
    DURATION_BUCKETS,
));
/// `mcp_client_session_duration_seconds`.
pub const CLIENT_SESSION_DURATION: Metric = convention(histogram(
    "mcp_client_session_duration_seconds",
    "mcp.client.session.duration",
    "s",
    "Lifetime of the client's closed MCP sessions.",
    &[],
    DURATION_BUCKETS,
));
/// `mcp_server_input_retries_total`.
pub const SERVER_INPUT_RETRIES: Metric = scalar(
    Kind::Counter,
    "mcp_server_input_retries_total",
    "mcp_metrics.server.input_retries",
    "{request}",
    "Requests retried after an input_required answer, by method, tool or prompt, and outcome.",
    &[METHOD, TOOL, PROMPT, OUTCOME],
);
/// `mcp_server_tasks_active`.
pub const SERVER_TASKS_ACTIVE: Metric = scalar(
    Kind::Gauge,
    "mcp_server_tasks_active",
    "mcp_metrics.server.tasks_active",
    "{task}",
    "Tasks created by tool calls that have not reached a terminal status, by tool.",
    &[TOOL],
);
/// `mcp_server_task_duration_seconds`.
pub const SERVER_TASK_DURATION: Metric = histogram(
    "mcp_server_task_duration_seconds",
    "mcp_metrics.server.task.duration",
    "s",
    "Time from a task's creation to its terminal status, by tool and status.",
    &[TOOL, STATUS],
    DURATION_BUCKETS,
);
/// `mcp_server_subscriptions_active`.
pub const SERVER_SUBSCRIPTIONS_ACTIVE: Metric = scalar(
    Kind::Gauge,
    "mcp_server_subscriptions_active",
    "mcp_metrics.server.subscriptions_active",
    "{subscription}",
    "subscriptions/listen streams open now.",
    &[],
);
/// `mcp_tool_result_bytes`.
pub const TOOL_RESULT_BYTES: Metric = histogram(
    "mcp_tool_result_bytes",
    "mcp_metrics.tool.result.size",
    "By",
    "Size of the JSON result of completed tool calls, by tool.",
    &[TOOL],
    BYTE_BUCKETS,
);
/// `mcp_tool_result_content_blocks`.
pub const TOOL_RESULT_CONTENT_BLOCKS: Metric = histogram(
    "mcp_tool_result_content_blocks",
    "mcp_metrics.tool.result.content_blocks",
    "{block}",
    "Content blocks in the result of completed tool calls, by tool.",
    &[TOOL],
    COUNT_BUCKETS,
);
/// `mcp_tool_result_tokens`: recorded with the `tokens` feature only.
pub const TOOL_RESULT_TOKENS: Metric = histogram(
    "mcp_tool_result_tokens",
    "mcp_metrics.tool.result.tokens",
    "{token}",
    "Tokens of the text content of completed tool results under the o200k_base encoding, by tool.",
    &[TOOL],
    TOKEN_BUCKETS,
);
/// `mcp_tools_list_bytes`.
pub const TOOLS_LIST_BYTES: Metric = scalar(
    Kind::Gauge,
    "mcp_tools_list_bytes",
    "mcp_metrics.tools_list.size",
    "By",
    "Size of the JSON result of the last complete tools/list answer: the catalogue a model reads.",
    &[],
);
/// `mcp_server_request_bytes`.
pub const SERVER_REQUEST_BYTES: Metric = histogram(
    "mcp_server_request_bytes",
    "mcp_metrics.server.request.size",
    "By",
    "Size of request bodies received over HTTP, by method.",
    &[METHOD],
    BYTE_BUCKETS,
);
/// `mcp_registered_tools`.
pub const REGISTERED_TOOLS: Metric = scalar(
    Kind::Gauge,
    "mcp_registered_tools",
    "mcp_metrics.registered_tools",
    "{tool}",
    "Tools the server advertises.",
    &[],
);
/// `mcp_server_notifications_sent_total`.
pub const NOTIFICATIONS_SENT: Metric = scalar(
    Kind::Counter,
    "mcp_server_notifications_sent_total",
    "mcp_metrics.server.notifications_sent",
    "{notification}",
    "Notifications sent to clients, by method.",
    &[METHOD],
);
/// `mcp_build_info`.
pub const BUILD_INFO: Metric = scalar(
    Kind::Gauge,
    "mcp_build_info",
    "mcp_metrics.build_info",
    "1",
    "Constant 1 labelled with the service's name and version.",
    &["service", "version"],
);
/// `mcp_tool_objective_ratio`.
pub const TOOL_OBJECTIVE: Metric = scalar(
    Kind::Gauge,
    "mcp_tool_objective_ratio",
    "mcp_metrics.tool.objective",
    "1",
    "Service-level objective of a tool: the share of calls that must not fail by the server's fault (objective=success), or finish within le seconds (objective=latency).",
    &[TOOL, OBJECTIVE, LE],
);
/// `mcp_llm_tokens_total`.
pub const LLM_TOKENS: Metric = scalar(
    Kind::Counter,
    "mcp_llm_tokens_total",
    "mcp_metrics.llm.tokens",
    "{token}",
    "LLM tokens used, by model and type.",
    &["model", "type"],
);
/// `mcp_llm_cost_micros_total`.
pub const LLM_COST_MICROS: Metric = scalar(
    Kind::Counter,
    "mcp_llm_cost_micros_total",
    "mcp_metrics.llm.cost_micros",
    "{micro_currency_unit}",
    "Cost of LLM tokens, by model, in millionths of the price table's currency unit.",
    &["model"],
);
/// `mcp_rate_limit_hits_total`.
pub const RATE_LIMIT_HITS: Metric = scalar(
    Kind::Counter,
    "mcp_rate_limit_hits_total",
    "mcp_metrics.rate_limit.hits",
    "{hit}",
    "Requests refused by a rate limiter, by limiter.",
    &["limiter"],
);
/// `mcp_cache_requests_total`.
pub const CACHE_REQUESTS: Metric = scalar(
    Kind::Counter,
    "mcp_cache_requests_total",
    "mcp_metrics.cache.requests",
    "{request}",
    "Cache look-ups by cache and result.",
    &["cache", "result"],
);
/// `mcp_metrics_dropped_series_total`.
pub const DROPPED_SERIES: Metric = scalar(
    Kind::Counter,
    "mcp_metrics_dropped_series_total",
    "mcp_metrics.dropped_series",
    "{series}",
    "Series the exporter refused, by metric and reason.",
    &["metric", "reason"],
);

/// `http_server_request_duration_seconds`: every HTTP request to the MCP endpoint, as the
/// OpenTelemetry HTTP conventions define `http.server.request.duration`.
pub const HTTP_SERVER_REQUEST_DURATION: Metric = convention(histogram(
    "http_server_request_duration_seconds",
    "http.server.request.duration",
    "s",
    "Duration of HTTP requests to the MCP endpoint until the response was sent, by method, status code and route.",
    &[HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE],
    DURATION_BUCKETS,
));
/// `mcp_server_refused_requests_total`: what the transport answered before any handler.
pub const SERVER_REFUSED_REQUESTS: Metric = scalar(
    Kind::Counter,
    "mcp_server_refused_requests_total",
    "mcp_metrics.server.refused_requests",
    "{request}",
    "HTTP requests to the MCP endpoint that the transport refused before any handler saw them, by reason and route.",
    &[REFUSAL_REASON, HTTP_ROUTE],
);
/// `mcp_server_sessions_held`.
pub const SERVER_SESSIONS_HELD: Metric = scalar(
    Kind::Gauge,
    "mcp_server_sessions_held",
    "mcp_metrics.server.sessions_held",
    "{session}",
    "Sessions the streamable HTTP session manager holds now, whether or not a handler still serves them.",
    &[],
);
/// `mcp_server_catalogue_info`: what the server offers, as a fingerprint.
pub const SERVER_CATALOGUE_INFO: Metric = scalar(
    Kind::Gauge,
    "mcp_server_catalogue_info",
    "mcp_metrics.server.catalogue.info",
    "1",
    "1 on the fingerprint of the tool or prompt catalogue the server lists now, 0 on those it listed before, by kind.",
    &[KIND, FINGERPRINT],
);
/// `mcp_server_catalogue_changes_total`.
pub const SERVER_CATALOGUE_CHANGES: Metric = scalar(
    Kind::Counter,
    "mcp_server_catalogue_changes_total",
    "mcp_metrics.server.catalogue.changes",
    "{change}",
    "Complete tools/list or prompts/list answers whose fingerprint differed from the one before, by kind.",
    &[KIND],
);
/// `mcp_client_catalogue_info`: what each server a client talks to offers, as a fingerprint.
pub const CLIENT_CATALOGUE_INFO: Metric = scalar(
    Kind::Gauge,
    "mcp_client_catalogue_info",
    "mcp_metrics.client.catalogue.info",
    "1",
    "1 on the fingerprint of the catalogue a server last listed to the client, 0 on those it listed before, by server and kind.",
    &[SERVER_NAME, KIND, FINGERPRINT],
);
/// `mcp_client_catalogue_changes_total`: catalogues that changed under a live connection.
pub const CLIENT_CATALOGUE_CHANGES: Metric = scalar(
    Kind::Counter,
    "mcp_client_catalogue_changes_total",
    "mcp_metrics.client.catalogue.changes",
    "{change}",
    "Catalogues a server listed with another fingerprint than before on the same client connection, by server and kind.",
    &[SERVER_NAME, KIND],
);
/// `mcp_server_elicitation_responses_total`: the answers to the server's elicitations.
pub const SERVER_ELICITATION_RESPONSES: Metric = scalar(
    Kind::Counter,
    "mcp_server_elicitation_responses_total",
    "mcp_metrics.server.elicitation_responses",
    "{response}",
    "Elicitation answers the server received, by method (elicitation/create, or the retried request that carried them), tool or prompt, and action.",
    &[METHOD, TOOL, PROMPT, ACTION],
);
/// `mcp_client_elicitation_responses_total`: the client's answers to elicitations.
pub const CLIENT_ELICITATION_RESPONSES: Metric = scalar(
    Kind::Counter,
    "mcp_client_elicitation_responses_total",
    "mcp_metrics.client.elicitation_responses",
    "{response}",
    "Elicitation answers the client sent, by method (elicitation/create, or the retried request that carried them), tool or prompt, and action.",
    &[METHOD, TOOL, PROMPT, ACTION],
);

/// Every metric.
pub const METRICS: &[Metric] = &[
    TOOL_DURATION,
    TOOL_CALLS_IN_FLIGHT,
    SERVER_OPERATION_DURATION,
    SERVER_SESSION_DURATION,
    SERVER_SESSIONS_ACTIVE,
    CLIENT_OPERATION_DURATION,
    CLIENT_SESSION_DURATION,
    SERVER_INPUT_RETRIES,
    SERVER_TASKS_ACTIVE,
    SERVER_TASK_DURATION,
    SERVER_SUBSCRIPTIONS_ACTIVE,
    TOOL_RESULT_BYTES,
    TOOL_RESULT_CONTENT_BLOCKS,
    TOOL_RESULT_TOKENS,
    TOOLS_LIST_BYTES,
    SERVER_REQUEST_BYTES,
    REGISTERED_TOOLS,
    NOTIFICATIONS_SENT,
    BUILD_INFO,
    TOOL_OBJECTIVE,
    LLM_TOKENS,
    LLM_COST_MICROS,
    RATE_LIMIT_HITS,
    CACHE_REQUESTS,
    DROPPED_SERIES,
    HTTP_SERVER_REQUEST_DURATION,
    SERVER_REFUSED_REQUESTS,
    SERVER_SESSIONS_HELD,
    SERVER_CATALOGUE_INFO,
    SERVER_CATALOGUE_CHANGES,
    CLIENT_CATALOGUE_INFO,
    CLIENT_CATALOGUE_CHANGES,
    SERVER_ELICITATION_RESPONSES,
    CLIENT_ELICITATION_RESPONSES,
];

/// The metric called `name` (its Prometheus name), if it is one of ours.
///
/// ```
/// let m = mcp_metrics::catalog::find("mcp_server_operation_duration_seconds").unwrap();
/// assert_eq!((m.otlp, m.unit), ("mcp.server.operation.duration", "s"));
/// ```
pub fn find(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// The OTLP name of any metric: ours from the table; another keeps its name, without the
/// `_total` suffix of a counter.
///
/// ```
/// use mcp_metrics::catalog::otlp_name;
/// assert_eq!(otlp_name("mcp_llm_tokens_total", true), "mcp_metrics.llm.tokens");
/// assert_eq!(otlp_name("orders_total", true), "orders");
/// assert_eq!(otlp_name("queue_depth", false), "queue_depth");
/// ```
pub fn otlp_name(name: &str, counter: bool) -> &str {
    match find(name) {
        Some(m) => m.otlp,
        None if counter => name
            .strip_suffix("_total")
            .filter(|base| !base.is_empty())
            .unwrap_or(name),
        None => name,
    }
}

/// Whether the OpenTelemetry MCP conventions count a JSON-RPC error code as an error on the
/// server side: every code but those saying the caller sent a request the server could not serve
/// (`-32700` parse error, `-32600` invalid request, `-32601` method not found, `-32602` invalid
/// parameters, which includes an unknown tool, and `-32002` resource not found). Such answers
/// keep `rpc.response.status_code` but get neither `error.type` nor an ERROR span status. The
/// client side counts every code as an error.
pub(crate) fn is_server_side_error(code: i64) -> bool {
    !matches!(code, -32700 | -32600 | -32601 | -32602 | -32002)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_well_formed() {
        let prometheus: BTreeSet<&str> = METRICS.iter().map(|m| m.name).collect();
        assert_eq!(prometheus.len(), METRICS.len(), "a name is listed twice");
        let otlp: BTreeSet<&str> = METRICS.iter().map(|m| m.otlp).collect();
        assert_eq!(otlp.len(), METRICS.len(), "two metrics share an OTLP name");
        for m in METRICS {
            // Ours start with `mcp_`; the one HTTP convention metric keeps its own name.
            let prefix = if m.otlp.starts_with("http.") {
                "http_"
            } else {
                "mcp_"
            };
            assert!(m.name.starts_with(prefix), "{}", m.name);
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            assert_eq!(m.kind == Kind::Histogram, m.buckets.is_some(), "{}", m.name);
            // The OpenTelemetry instrument name syntax, in our namespace unless a convention.
            assert!(m.otlp.len() <= 255, "{}", m.otlp);
            assert!(
                m.otlp
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b)),
                "{}",
                m.otlp
            );
            let namespace: &[&str] = if m.convention {
                &["mcp.", "http."]
            } else {
                &["mcp_metrics."]
            };
            assert!(
                namespace.iter().any(|n| m.otlp.starts_with(n)),
                "{}",
                m.otlp
            );
            assert!(!m.otlp.ends_with("_total") && !m.otlp.ends_with("_seconds"));
            for (suffix, unit) in [("_seconds", "s"), ("_bytes", "By"), ("_ratio", "1")] {
                if m.name.ends_with(suffix) {
                    assert_eq!(m.unit, unit, "{}", m.name);
                }
            }
            assert!(!m.help.is_empty() && m.help.ends_with('.'), "{}", m.name);
            for label in m.labels {
                assert_ne!(m.attribute(label), *label, "{} has no attribute", label);
            }
        }
    }

    #[test]
    fn attributes_are_conventions_or_ours() {
        for (_, key) in ATTRIBUTES {
            let conventional = [
                "mcp.method.name",
                "gen_ai.tool.name",
                "gen_ai.prompt.name",
                "error.type",
                "gen_ai.request.model",
                "service.name",
                "service.version",
                "http.request.method",
                "http.response.status_code",
                "http.route",
                "mcp.protocol.version",
                "network.transport",
            ];
            assert!(
                conventional.contains(key) || key.starts_with("mcp_metrics."),
                "{key}"
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
                "mcp.server.operation.duration",
                "mcp.server.session.duration",
                "mcp.client.operation.duration",
                "mcp.client.session.duration",
                "http.server.request.duration",
            ]
        );
        for bound in ADVISORY_DURATION_BUCKETS {
            assert!(DURATION_BUCKETS.contains(bound), "{bound}");
        }
    }

    #[test]
    fn otlp_attributes_follow_the_conventions() {
        let op = SERVER_OPERATION_DURATION;
        let internal = [
            ("method", "tools/list"),
            ("outcome", "error"),
            ("error_type", "-32603"),
            ("fault", "server"),
        ];
        assert_eq!(
            op.otlp_attributes(&internal),
            [
                ("mcp.method.name", "tools/list"),
                ("mcp_metrics.outcome", "error"),
                ("error.type", "-32603"),
                ("mcp_metrics.fault", "server"),
                ("rpc.response.status_code", "-32603"),
            ]
        );
        for caller in ["-32700", "-32600", "-32601", "-32602", "-32002"] {
            let attributes = op.otlp_attributes(&[("error_type", caller)]);
            assert_eq!(
                attributes,
                [("rpc.response.status_code", caller)],
                "{caller}"
            );
        }
        // The client side counts every JSON-RPC error code as an error.
        let client = CLIENT_OPERATION_DURATION.otlp_attributes(&[("error_type", "-32602")]);
        assert_eq!(
            client,
            [
                ("error.type", "-32602"),
                ("rpc.response.status_code", "-32602")
            ]
        );
        // Tool errors are errors on both sides, without a status code.
        let tool_error =
            op.otlp_attributes(&[("method", "tools/call"), ("error_type", "tool_error")]);
        assert_eq!(
            tool_error,
            [
                ("mcp.method.name", "tools/call"),
                ("error.type", "tool_error"),
                ("gen_ai.operation.name", "execute_tool"),
            ]
        );
        // Not an operation histogram: labels are renamed, nothing is derived.
        let tool = TOOL_DURATION.otlp_attributes(&[("tool", "add"), ("error_type", "-32602")]);
        assert_eq!(
            tool,
            [("gen_ai.tool.name", "add"), ("error.type", "-32602")]
        );
        assert_eq!(
            TOOL_DURATION.otlp_attributes(&[("custom", "x")]),
            [("custom", "x")]
        );
    }
}
