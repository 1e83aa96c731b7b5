//! What the tracing pipeline is configured with: where spans go (exporter, OTLP endpoint,
//! protocol and connection, batch span processor), which are sampled, span limits, propagators
//! and baggage attributes, where log records go ([`logs`](super::logs)), and the logs on standard
//! error (format, filter, colour), collected by `TelemetryBuilder` from code and from the
//! variables of [`vars::TELEMETRY`].

use crate::build_info::BuildInfo;
use crate::config::export::{self, ExportSettings, ExporterKind};
use crate::config::logs::LogsExporter;
use crate::config::otlp;
use crate::config::resource::ResourceSettings;
use crate::config::{Env, parse, vars};
use crate::error::ConfigError;

/// Where spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracesExporter {
    /// OTLP to a collector.
    Otlp,
    /// Printed to standard output, for development (not for stdio MCP servers).
    Stdout,
    /// Nowhere; spans still get ids, so that logs carry them.
    None,
}

impl ExporterKind for TracesExporter {
    const VARIABLE: &'static str = vars::OTEL_TRACES_EXPORTER;
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("otlp", Self::Otlp),
        ("console", Self::Stdout),
        ("stdout", Self::Stdout),
        ("none", Self::None),
    ];
    const OTLP: Self = Self::Otlp;
    const NONE: Self = Self::None;
}

/// Which spans are recorded and exported, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// This share (0 to 1) of traces, decided from the trace id.
    TraceIdRatio(f64),
    /// The parent's decision; root spans always.
    ParentBasedAlwaysOn,
    /// The parent's decision; root spans never.
    ParentBasedAlwaysOff,
    /// The parent's decision; root spans at this ratio (e.g. `0.01` for 1 %).
    ParentBasedTraceIdRatio(f64),
}

/// A trace-context format carried in HTTP headers and MCP `_meta`, as `OTEL_PROPAGATORS` names
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagator {
    /// W3C Trace Context: `traceparent` and `tracestate`.
    TraceContext,
    /// W3C Baggage: `baggage`.
    Baggage,
}

impl Propagator {
    /// The OpenTelemetry default, `tracecontext,baggage`.
    pub const DEFAULT: &'static [Propagator] = &[Propagator::TraceContext, Propagator::Baggage];
}

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, with `trace_id` and `span_id` of the current span.
    Json,
    /// No logs.
    None,
}

/// The filter when `RUST_LOG` is unset: `info`, but only warnings from rmcp, which logs every
/// request it serves at `info`.
pub(crate) const DEFAULT_FILTER: &str = "info,rmcp=warn";

/// The span limits that are set (`OTEL_SPAN_*_COUNT_LIMIT`); the others keep the SDK's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpanLimitSettings {
    pub(crate) attributes: Option<u32>,
    pub(crate) events: Option<u32>,
    pub(crate) links: Option<u32>,
}

impl SpanLimitSettings {
    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        let limits = [
            (vars::OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, &mut self.attributes),
            (vars::OTEL_SPAN_EVENT_COUNT_LIMIT, &mut self.events),
            (vars::OTEL_SPAN_LINK_COUNT_LIMIT, &mut self.links),
        ];
        for (var, limit) in limits {
            if let Some(n) = env.parsed(var, parse::count)? {
                *limit = Some(n);
            }
        }
        Ok(())
    }
}

/// Everything `TelemetryBuilder` collects.
#[derive(Debug, Clone)]
pub(crate) struct TraceSettings {
    pub(crate) build_info: Option<BuildInfo>,
    pub(crate) resource: ResourceSettings,
    /// Where spans go.
    pub(crate) spans: ExportSettings<TracesExporter>,
    /// Where log records go.
    pub(crate) logs: ExportSettings<LogsExporter>,
    pub(crate) sampler: Sampler,
    pub(crate) span_limits: SpanLimitSettings,
    pub(crate) propagators: Vec<Propagator>,
    pub(crate) baggage_keys: Vec<String>,
    pub(crate) log_format: LogFormat,
    pub(crate) filter: String,
    pub(crate) no_color: bool,
}

impl Default for TraceSettings {
    fn default() -> Self {
        Self {
            build_info: None,
            resource: ResourceSettings::default(),
            spans: ExportSettings::new(&otlp::TRACES, &export::SPANS),
            logs: ExportSettings::new(&otlp::LOGS, &export::LOGS),
            sampler: Sampler::ParentBasedAlwaysOn,
            span_limits: SpanLimitSettings::default(),
            propagators: Propagator::DEFAULT.to_vec(),
            baggage_keys: Vec::new(),
            log_format: LogFormat::Text,
            filter: DEFAULT_FILTER.to_owned(),
            no_color: false,
        }
    }
}

impl TraceSettings {
    /// Applies the variables of [`vars::TELEMETRY`] that are set.
    pub(crate) fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        self.resource.apply_env(env)?;
        self.spans.apply_env(env)?;
        self.sampler = sampler(env)?.unwrap_or(self.sampler);
        self.span_limits.apply_env(env)?;
        self.logs.apply_env(env)?;
        if let Some(propagators) = env.parsed(vars::OTEL_PROPAGATORS, propagators)? {
            self.propagators = propagators;
        }
        if let Some(keys) = env.get(vars::TRACE_BAGGAGE_KEYS) {
            self.baggage_keys = parse::names(keys);
        }
        let formats = [
            ("text", LogFormat::Text),
            ("json", LogFormat::Json),
            ("none", LogFormat::None),
        ];
        if let Some(format) =
            env.parsed(vars::LOG_FORMAT, |var, v| parse::choice(var, v, &formats))?
        {
            self.log_format = format;
        }
        if let Some(filter) = env.parsed(vars::RUST_LOG, parse::filter)? {
            self.filter = filter;
        }
        self.no_color = env.get(vars::NO_COLOR).is_some();
        Ok(())
    }

    /// Checks what only makes sense once every setting is known.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.spans.batch.validate()?;
        self.logs.batch.validate()
    }

    /// The OpenTelemetry resource of the spans, the same as the OTLP metrics'.
    pub(crate) fn resource(&self) -> Vec<(String, String)> {
        self.resource.attributes(self.build_info.as_ref())
    }
}

/// `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG`, the ratio of the `traceidratio`
/// samplers (default 1; the others ignore it, as the specification says).
fn sampler(env: &Env) -> Result<Option<Sampler>, ConfigError> {
    #[derive(Clone, Copy)]
    enum Kind {
        Fixed(Sampler),
        Ratio(fn(f64) -> Sampler),
    }
    let kinds = [
        ("always_on", Kind::Fixed(Sampler::AlwaysOn)),
        ("always_off", Kind::Fixed(Sampler::AlwaysOff)),
        ("traceidratio", Kind::Ratio(Sampler::TraceIdRatio)),
        (
            "parentbased_always_on",
            Kind::Fixed(Sampler::ParentBasedAlwaysOn),
        ),
        (
            "parentbased_always_off",
            Kind::Fixed(Sampler::ParentBasedAlwaysOff),
        ),
        (
            "parentbased_traceidratio",
            Kind::Ratio(Sampler::ParentBasedTraceIdRatio),
        ),
    ];
    let Some(kind) = env.parsed(vars::OTEL_TRACES_SAMPLER, |var, v| {
        parse::choice(var, v, &kinds)
    })?
    else {
        return Ok(None);
    };
    Ok(Some(match kind {
        Kind::Fixed(sampler) => sampler,
        Kind::Ratio(sampler) => {
            let ratio = env.parsed(vars::OTEL_TRACES_SAMPLER_ARG, parse::ratio)?;
            sampler(ratio.unwrap_or(1.0))
        }
    }))
}

/// `OTEL_PROPAGATORS`: `tracecontext` and `baggage`, comma-separated, or `none` alone (no
/// propagator).
fn propagators(variable: &str, value: &str) -> Result<Vec<Propagator>, ConfigError> {
    let names = parse::names(value);
    if names.iter().any(|n| n.eq_ignore_ascii_case("none")) {
        return if names.len() == 1 {
            Ok(Vec::new())
        } else {
            Err(ConfigError::new(
                variable,
                value,
                "`none` cannot be combined with other propagators",
            ))
        };
    }
    let known = [
        ("tracecontext", Propagator::TraceContext),
        ("baggage", Propagator::Baggage),
    ];
    let mut list = Vec::new();
    for name in &names {
        let propagator = parse::choice(variable, name, &known)
            .map_err(|e| ConfigError::new(variable, value, format!("{}, or none", e.reason)))?;
        if !list.contains(&propagator) {
            list.push(propagator);
        }
    }
    Ok(list)
}

/// The settings of these variables, checked, for the tests of the configuration.
#[cfg(test)]
pub(crate) fn settings(pairs: &[(&str, &str)]) -> Result<TraceSettings, ConfigError> {
    let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
    let mut settings = TraceSettings::default();
    let lookup = |name: &str| map.get(name).map(|v| (*v).to_owned());
    settings.apply_env(&Env::read(&lookup, vars::TELEMETRY))?;
    settings.validate()?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::export::BatchSettings;
    use crate::config::otlp::OtlpProtocol;
    use std::time::Duration;

    #[test]
    fn an_endpoint_alone_chooses_otlp() {
        let s = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")]).unwrap();
        assert_eq!(s.spans.exporter, TracesExporter::Otlp);
        assert_eq!(s.spans.otlp_endpoint(), "http://127.0.0.1:4318/v1/traces");
        let s = settings(&[("OTEL_TRACES_EXPORTER", "none")]).unwrap();
        assert_eq!(s.spans.exporter, TracesExporter::None);
        let s = settings(&[]).unwrap();
        assert_eq!(s.spans.exporter, TracesExporter::None);
    }

    #[test]
    fn default_endpoints_follow_the_protocol() {
        let http = settings(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap();
        assert_eq!(
            http.spans.otlp_endpoint(),
            "http://localhost:4318/v1/traces"
        );
        let grpc = settings(&[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(grpc.spans.protocol, OtlpProtocol::Grpc);
        assert_eq!(grpc.spans.otlp_endpoint(), "http://localhost:4317");
        let grpc_base = settings(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ])
        .unwrap();
        assert_eq!(
            grpc_base.spans.protocol,
            OtlpProtocol::Grpc,
            "the specific one wins"
        );
        assert_eq!(grpc_base.spans.otlp_endpoint(), "https://collector:4317");
    }

    #[test]
    fn connection_variables_are_read_and_the_traces_ones_win() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=generic"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "api-key=a%3Db,x-team=obs",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ])
        .unwrap();
        assert_eq!(s.spans.outbound.header_names(), ["api-key", "x-team"]);
        assert_eq!(s.spans.outbound.headers["api-key"], "a=b");
        assert_eq!(s.spans.outbound.timeout, Duration::from_millis(2500));
        assert_eq!(s.spans.outbound.compression, crate::Compression::Gzip);
    }

    #[test]
    fn samplers_follow_the_specification() {
        let cases: [(&[(&str, &str)], Sampler); 7] = [
            (&[], Sampler::ParentBasedAlwaysOn),
            (&[("OTEL_TRACES_SAMPLER", "always_off")], Sampler::AlwaysOff),
            (&[("OTEL_TRACES_SAMPLER", "ALWAYS_ON")], Sampler::AlwaysOn),
            (
                &[("OTEL_TRACES_SAMPLER", "traceidratio")],
                Sampler::TraceIdRatio(1.0),
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
                ],
                Sampler::ParentBasedTraceIdRatio(0.01),
            ),
            (
                &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
                Sampler::ParentBasedAlwaysOff,
            ),
            (
                // A sampler without a ratio ignores the argument.
                &[
                    ("OTEL_TRACES_SAMPLER", "always_on"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
                ],
                Sampler::AlwaysOn,
            ),
        ];
        for (vars, sampler) in cases {
            assert_eq!(settings(vars).unwrap().sampler, sampler, "{vars:?}");
        }
    }

    /// The batch processor of spans (`OTEL_BSP_*`) or of log records (`OTEL_BLRP_*`).
    type Batch = fn(TraceSettings) -> BatchSettings;

    #[test]
    fn both_batch_processors_follow_the_specification() {
        let processors: [(&str, u64, Batch); 2] = [
            ("OTEL_BSP", 5000, |s| s.spans.batch),
            ("OTEL_BLRP", 1000, |s| s.logs.batch),
        ];
        for (prefix, delay, batch) in processors {
            let var = |name: &str| format!("{prefix}_{name}");
            let with = |pairs: &[(&str, &str)]| {
                let named: Vec<(String, &str)> = pairs.iter().map(|(k, v)| (var(k), *v)).collect();
                let borrowed: Vec<(&str, &str)> =
                    named.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                settings(&borrowed)
            };
            let defaults = batch(with(&[]).unwrap());
            assert_eq!(defaults.schedule_delay, Duration::from_millis(delay));
            assert_eq!(defaults.export_timeout, Duration::from_secs(30));
            assert_eq!(
                (defaults.max_queue_size, defaults.batch_size()),
                (2048, 512)
            );
            let set = batch(
                with(&[
                    ("SCHEDULE_DELAY", "250"),
                    ("EXPORT_TIMEOUT", "4000"),
                    ("MAX_QUEUE_SIZE", "100"),
                    ("MAX_EXPORT_BATCH_SIZE", "10"),
                ])
                .unwrap(),
            );
            assert_eq!(set.schedule_delay, Duration::from_millis(250));
            assert_eq!(set.export_timeout, Duration::from_millis(4000));
            assert_eq!((set.max_queue_size, set.batch_size()), (100, 10));
            // A queue smaller than the default batch: the default batch shrinks to fit.
            let small = batch(with(&[("MAX_QUEUE_SIZE", "100")]).unwrap());
            assert_eq!(small.batch_size(), 100);
            // A batch set larger than the queue is a mistake.
            let err =
                with(&[("MAX_QUEUE_SIZE", "100"), ("MAX_EXPORT_BATCH_SIZE", "200")]).unwrap_err();
            assert_eq!(err.variable, var("MAX_EXPORT_BATCH_SIZE"));
            assert!(err.reason.contains(&var("MAX_QUEUE_SIZE")), "{err}");
        }
        // Each processor reads its own variables only.
        let s = settings(&[("OTEL_BLRP_SCHEDULE_DELAY", "250")]).unwrap();
        assert_eq!(s.spans.batch, BatchSettings::new(&export::SPANS));
        assert_eq!(s.logs.batch.schedule_delay, Duration::from_millis(250));
    }

    #[test]
    fn span_limits_that_are_set() {
        let s = settings(&[
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "16"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "0"),
        ])
        .unwrap();
        assert_eq!(
            s.span_limits,
            SpanLimitSettings {
                attributes: Some(16),
                events: None,
                links: Some(0)
            }
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 21] = [
            (
                &[("OTEL_TRACES_EXPORTER", "jaeger")],
                "OTEL_TRACES_EXPORTER",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")],
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            ),
            (&[("MCP_LOG_FORMAT", "xml")], "MCP_LOG_FORMAT"),
            (&[("MCP_LOG_FORMAT", "off")], "MCP_LOG_FORMAT"),
            (
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "no-equals-sign")],
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "5s")],
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            ),
            (
                &[("OTEL_PROPAGATORS", "tracecontext,b3")],
                "OTEL_PROPAGATORS",
            ),
            (&[("OTEL_PROPAGATORS", "none,baggage")], "OTEL_PROPAGATORS"),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "team=a%2")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
            (
                &[("OTEL_BSP_SCHEDULE_DELAY", "5s")],
                "OTEL_BSP_SCHEDULE_DELAY",
            ),
            (
                &[("OTEL_BSP_EXPORT_TIMEOUT", "0")],
                "OTEL_BSP_EXPORT_TIMEOUT",
            ),
            (
                &[("OTEL_BSP_MAX_QUEUE_SIZE", "lots")],
                "OTEL_BSP_MAX_QUEUE_SIZE",
            ),
            (
                &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-1")],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            ),
            (
                &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "many")],
                "OTEL_SPAN_EVENT_COUNT_LIMIT",
            ),
            (&[("RUST_LOG", "info,[")], "RUST_LOG"),
            (
                &[(
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://u:pw@c/v1/traces",
                )],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            ),
        ];
        for (vars, variable) in cases {
            let err = settings(vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().contains(variable));
        }
    }

    #[test]
    fn propagators_follow_otel_propagators() {
        use Propagator::{Baggage, TraceContext};
        /// The variables, and the propagators they choose.
        type Case = (
            &'static [(&'static str, &'static str)],
            &'static [Propagator],
        );
        let cases: [Case; 5] = [
            (&[], &[TraceContext, Baggage]),
            (&[("OTEL_PROPAGATORS", "tracecontext")], &[TraceContext]),
            (
                &[("OTEL_PROPAGATORS", " Baggage , tracecontext ")],
                &[Baggage, TraceContext],
            ),
            (&[("OTEL_PROPAGATORS", "baggage,baggage")], &[Baggage]),
            (&[("OTEL_PROPAGATORS", "none")], &[]),
        ];
        for (vars, expected) in cases {
            assert_eq!(settings(vars).unwrap().propagators, expected, "{vars:?}");
        }
    }

    #[test]
    fn the_resource_names_the_service_once_for_every_signal() {
        let mut s = settings(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr,team=a%2Cb"),
            ("MCP_TRACE_BAGGAGE_KEYS", "tenant, region"),
        ])
        .unwrap();
        s.build_info = Some(BuildInfo::new("crate", "1.2.3"));
        assert_eq!(s.baggage_keys, ["tenant", "region"]);
        let resource = s.resource();
        let get = |k: &str| {
            resource
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("service.name"),
            Some("attr"),
            "the attributes win over the build info"
        );
        assert_eq!(get("service.version"), Some("1.2.3"));
        assert_eq!(get("team"), Some("a,b"));
        let named = settings(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr"),
            ("OTEL_SERVICE_NAME", "env"),
        ])
        .unwrap();
        assert_eq!(named.resource()[0].1, "env", "OTEL_SERVICE_NAME wins");
    }

    #[test]
    fn no_color_is_any_value() {
        assert!(settings(&[("NO_COLOR", "1")]).unwrap().no_color);
        assert!(!settings(&[]).unwrap().no_color);
    }
}
