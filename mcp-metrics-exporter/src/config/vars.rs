//! The names of the environment variables, and the lists of those each builder reads: [`METRICS`]
//! for `ExporterBuilder::env`, [`TELEMETRY`] for `TelemetryBuilder::env`. Their meaning is the
//! table of the crate docs; the `OTEL_*` ones are those of the OpenTelemetry SDK specification.

// A build without `push`, `otlp` or `telemetry` does not read the variables of that feature.
#![cfg_attr(
    not(all(feature = "push", feature = "otlp", feature = "telemetry")),
    allow(dead_code)
)]

/// `prometheus`, `push`, `otlp`, `stdout` or `none`.
pub(crate) const EXPORTER: &str = "MCP_METRICS_EXPORTER";
/// The standalone scrape listener, `IP:port` or `none`.
pub(crate) const LISTEN: &str = "MCP_METRICS_LISTEN";
/// `user:password` required from scrapers.
pub(crate) const BASIC_AUTH: &str = "MCP_METRICS_BASIC_AUTH";
/// Bearer token required from scrapers.
pub(crate) const BEARER_TOKEN: &str = "MCP_METRICS_BEARER_TOKEN";
/// Series limit of every metric.
pub(crate) const SERIES_LIMIT: &str = "MCP_METRICS_SERIES_LIMIT";
/// Print interval of the stdout exporter.
pub(crate) const STDOUT_INTERVAL: &str = "MCP_METRICS_STDOUT_INTERVAL";

/// Pushgateway base URL.
pub(crate) const PUSH_URL: &str = "MCP_METRICS_PUSH_URL";
/// Push interval.
pub(crate) const PUSH_INTERVAL: &str = "MCP_METRICS_PUSH_INTERVAL";
/// Pushgateway `job`.
pub(crate) const PUSH_JOB: &str = "MCP_METRICS_PUSH_JOB";
/// Pushgateway `instance`.
pub(crate) const PUSH_INSTANCE: &str = "MCP_METRICS_PUSH_INSTANCE";
/// Whether a graceful shutdown deletes the group.
pub(crate) const PUSH_DELETE_ON_SHUTDOWN: &str = "MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN";
/// CA bundle of the Pushgateway's certificate.
pub(crate) const PUSH_CA_CERTIFICATE: &str = "MCP_METRICS_PUSH_CA_CERTIFICATE";
/// Client certificate presented to the Pushgateway.
pub(crate) const PUSH_CLIENT_CERTIFICATE: &str = "MCP_METRICS_PUSH_CLIENT_CERTIFICATE";
/// Key of [`PUSH_CLIENT_CERTIFICATE`].
pub(crate) const PUSH_CLIENT_KEY: &str = "MCP_METRICS_PUSH_CLIENT_KEY";
/// `user:password` sent to the Pushgateway.
pub(crate) const PUSH_BASIC_AUTH: &str = "MCP_METRICS_PUSH_BASIC_AUTH";
/// Extra headers of every push.
pub(crate) const PUSH_HEADERS: &str = "MCP_METRICS_PUSH_HEADERS";
/// Upper bound on one push.
pub(crate) const PUSH_TIMEOUT: &str = "MCP_METRICS_PUSH_TIMEOUT";
/// Compression of push bodies.
pub(crate) const PUSH_COMPRESSION: &str = "MCP_METRICS_PUSH_COMPRESSION";

/// `service.name` of the resource.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// More attributes of the resource.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// OTLP metrics export interval in milliseconds.
pub(crate) const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// OTLP base URL of every signal.
pub(crate) const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// CA bundle of the collector's certificate.
pub(crate) const OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// Client certificate (mutual TLS).
pub(crate) const OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// Client key (mutual TLS).
pub(crate) const OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// Extra headers.
pub(crate) const OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Upper bound on one export in milliseconds.
pub(crate) const OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `gzip` or `none`.
pub(crate) const OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `http/protobuf` or `grpc`.
pub(crate) const OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";

/// Full OTLP metrics URL.
pub(crate) const OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// [`OTLP_CERTIFICATE`] for metrics.
pub(crate) const OTLP_METRICS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE";
/// [`OTLP_CLIENT_CERTIFICATE`] for metrics.
pub(crate) const OTLP_METRICS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";
/// [`OTLP_CLIENT_KEY`] for metrics.
pub(crate) const OTLP_METRICS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY";
/// [`OTLP_HEADERS`] for metrics.
pub(crate) const OTLP_METRICS_HEADERS: &str = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
/// [`OTLP_TIMEOUT`] for metrics.
pub(crate) const OTLP_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
/// [`OTLP_COMPRESSION`] for metrics.
pub(crate) const OTLP_METRICS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION";
/// [`OTLP_PROTOCOL`] for metrics.
pub(crate) const OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// `cumulative`, `delta` or `lowmemory`.
pub(crate) const OTLP_METRICS_TEMPORALITY_PREFERENCE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
/// `explicit_bucket_histogram` or `base2_exponential_bucket_histogram`.
pub(crate) const OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: &str =
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION";

/// Full OTLP traces URL.
pub(crate) const OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// [`OTLP_CERTIFICATE`] for traces.
pub(crate) const OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// [`OTLP_CLIENT_CERTIFICATE`] for traces.
pub(crate) const OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
/// [`OTLP_CLIENT_KEY`] for traces.
pub(crate) const OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// [`OTLP_HEADERS`] for traces.
pub(crate) const OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// [`OTLP_TIMEOUT`] for traces.
pub(crate) const OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// [`OTLP_COMPRESSION`] for traces.
pub(crate) const OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// [`OTLP_PROTOCOL`] for traces.
pub(crate) const OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

/// Full OTLP logs URL.
pub(crate) const OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// [`OTLP_CERTIFICATE`] for logs.
pub(crate) const OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// [`OTLP_CLIENT_CERTIFICATE`] for logs.
pub(crate) const OTLP_LOGS_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
/// [`OTLP_CLIENT_KEY`] for logs.
pub(crate) const OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
/// [`OTLP_HEADERS`] for logs.
pub(crate) const OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
/// [`OTLP_TIMEOUT`] for logs.
pub(crate) const OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// [`OTLP_COMPRESSION`] for logs.
pub(crate) const OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// [`OTLP_PROTOCOL`] for logs.
pub(crate) const OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";

/// `otlp`, `console`/`stdout` or `none`.
pub(crate) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// The sampler.
pub(crate) const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The ratio of the `traceidratio` samplers.
pub(crate) const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Propagators, comma-separated, or `none`.
pub(crate) const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Milliseconds between two exports of the batch span processor.
pub(crate) const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Longest time one export of the batch span processor may take, in milliseconds.
pub(crate) const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Spans the batch span processor keeps before it drops new ones.
pub(crate) const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Spans of one export.
pub(crate) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Attributes one span keeps.
pub(crate) const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// Events one span keeps.
pub(crate) const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// Links one span keeps.
pub(crate) const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// `otlp`, `console` or `none`.
pub(crate) const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// Milliseconds between two exports of the batch log record processor.
pub(crate) const OTEL_BLRP_SCHEDULE_DELAY: &str = "OTEL_BLRP_SCHEDULE_DELAY";
/// Longest time one export of the batch log record processor may take, in milliseconds.
pub(crate) const OTEL_BLRP_EXPORT_TIMEOUT: &str = "OTEL_BLRP_EXPORT_TIMEOUT";
/// Log records the batch log record processor keeps before it drops new ones.
pub(crate) const OTEL_BLRP_MAX_QUEUE_SIZE: &str = "OTEL_BLRP_MAX_QUEUE_SIZE";
/// Log records of one export.
pub(crate) const OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE";
/// Baggage keys copied onto spans.
pub(crate) const TRACE_BAGGAGE_KEYS: &str = "MCP_TRACE_BAGGAGE_KEYS";
/// `text`, `json` or `none`.
pub(crate) const LOG_FORMAT: &str = "MCP_LOG_FORMAT";
/// The log and span filter.
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// Any non-empty value: no colours in text logs.
pub(crate) const NO_COLOR: &str = "NO_COLOR";

/// Every variable `ExporterBuilder::env` reads, once each, in this build.
pub(crate) const METRICS: &[&str] = &[
    EXPORTER,
    LISTEN,
    BASIC_AUTH,
    BEARER_TOKEN,
    SERIES_LIMIT,
    STDOUT_INTERVAL,
    #[cfg(any(feature = "push", feature = "otlp"))]
    OTEL_SERVICE_NAME,
    #[cfg(any(feature = "push", feature = "otlp"))]
    OTEL_RESOURCE_ATTRIBUTES,
    #[cfg(feature = "push")]
    PUSH_URL,
    #[cfg(feature = "push")]
    PUSH_INTERVAL,
    #[cfg(feature = "push")]
    PUSH_JOB,
    #[cfg(feature = "push")]
    PUSH_INSTANCE,
    #[cfg(feature = "push")]
    PUSH_DELETE_ON_SHUTDOWN,
    #[cfg(feature = "push")]
    PUSH_CA_CERTIFICATE,
    #[cfg(feature = "push")]
    PUSH_CLIENT_CERTIFICATE,
    #[cfg(feature = "push")]
    PUSH_CLIENT_KEY,
    #[cfg(feature = "push")]
    PUSH_BASIC_AUTH,
    #[cfg(feature = "push")]
    PUSH_HEADERS,
    #[cfg(feature = "push")]
    PUSH_TIMEOUT,
    #[cfg(feature = "push")]
    PUSH_COMPRESSION,
    #[cfg(feature = "otlp")]
    OTEL_METRIC_EXPORT_INTERVAL,
    #[cfg(feature = "otlp")]
    OTLP_ENDPOINT,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_ENDPOINT,
    #[cfg(feature = "otlp")]
    OTLP_PROTOCOL,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_PROTOCOL,
    #[cfg(feature = "otlp")]
    OTLP_CERTIFICATE,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_CERTIFICATE,
    #[cfg(feature = "otlp")]
    OTLP_CLIENT_CERTIFICATE,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_CLIENT_CERTIFICATE,
    #[cfg(feature = "otlp")]
    OTLP_CLIENT_KEY,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_CLIENT_KEY,
    #[cfg(feature = "otlp")]
    OTLP_HEADERS,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_HEADERS,
    #[cfg(feature = "otlp")]
    OTLP_TIMEOUT,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_TIMEOUT,
    #[cfg(feature = "otlp")]
    OTLP_COMPRESSION,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_COMPRESSION,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_TEMPORALITY_PREFERENCE,
    #[cfg(feature = "otlp")]
    OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION,
];

/// Every variable `TelemetryBuilder::env` reads, once each.
#[cfg(feature = "telemetry")]
pub(crate) const TELEMETRY: &[&str] = &[
    OTEL_SERVICE_NAME,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_TRACES_EXPORTER,
    OTLP_ENDPOINT,
    OTLP_TRACES_ENDPOINT,
    OTLP_PROTOCOL,
    OTLP_TRACES_PROTOCOL,
    OTLP_CERTIFICATE,
    OTLP_TRACES_CERTIFICATE,
    OTLP_CLIENT_CERTIFICATE,
    OTLP_TRACES_CLIENT_CERTIFICATE,
    OTLP_CLIENT_KEY,
    OTLP_TRACES_CLIENT_KEY,
    OTLP_HEADERS,
    OTLP_TRACES_HEADERS,
    OTLP_TIMEOUT,
    OTLP_TRACES_TIMEOUT,
    OTLP_COMPRESSION,
    OTLP_TRACES_COMPRESSION,
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
    OTEL_PROPAGATORS,
    OTEL_BSP_SCHEDULE_DELAY,
    OTEL_BSP_EXPORT_TIMEOUT,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
    OTEL_SPAN_EVENT_COUNT_LIMIT,
    OTEL_SPAN_LINK_COUNT_LIMIT,
    OTEL_LOGS_EXPORTER,
    OTLP_LOGS_ENDPOINT,
    OTLP_LOGS_PROTOCOL,
    OTLP_LOGS_CERTIFICATE,
    OTLP_LOGS_CLIENT_CERTIFICATE,
    OTLP_LOGS_CLIENT_KEY,
    OTLP_LOGS_HEADERS,
    OTLP_LOGS_TIMEOUT,
    OTLP_LOGS_COMPRESSION,
    OTEL_BLRP_SCHEDULE_DELAY,
    OTEL_BLRP_EXPORT_TIMEOUT,
    OTEL_BLRP_MAX_QUEUE_SIZE,
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    TRACE_BAGGAGE_KEYS,
    LOG_FORMAT,
    RUST_LOG,
    NO_COLOR,
];
