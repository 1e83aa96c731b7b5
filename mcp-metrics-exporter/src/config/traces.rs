//! What the tracing pipeline is configured with: where spans go (exporter, OTLP endpoint,
//! protocol and connection), which are sampled, the batch span processor and span limits,
//! propagators and baggage attributes, and the logs (format, filter, colour), collected by
//! `TelemetryBuilder` from code and from the variables of [`vars::TRACES`].

use std::time::Duration;

use crate::build_info::BuildInfo;
use crate::config::otlp::{self, OtlpProtocol};
use crate::config::outbound::Outbound;
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

/// The batch span processor, with the defaults of the OpenTelemetry SDK specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    /// `OTEL_BSP_SCHEDULE_DELAY`: time between two exports.
    pub(crate) schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT`: the longest one export may take.
    pub(crate) export_timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`: spans kept while they wait; later ones are dropped.
    pub(crate) max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, when set: spans of one export.
    pub(crate) max_export_batch_size: Option<usize>,
}

/// The specification's default of `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
const DEFAULT_BATCH_SIZE: usize = 512;

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            schedule_delay: Duration::from_millis(5000),
            export_timeout: Duration::from_millis(30_000),
            max_queue_size: 2048,
            max_export_batch_size: None,
        }
    }
}

impl BatchSettings {
    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        if let Some(delay) = env.parsed(vars::OTEL_BSP_SCHEDULE_DELAY, parse::millis)? {
            self.schedule_delay = delay;
        }
        if let Some(timeout) = env.parsed(vars::OTEL_BSP_EXPORT_TIMEOUT, parse::millis)? {
            self.export_timeout = timeout;
        }
        if let Some(size) = env.parsed(vars::OTEL_BSP_MAX_QUEUE_SIZE, parse::size)? {
            self.max_queue_size = size;
        }
        if let Some(size) = env.parsed(vars::OTEL_BSP_MAX_EXPORT_BATCH_SIZE, parse::size)? {
            self.max_export_batch_size = Some(size);
        }
        Ok(())
    }

    /// Spans of one export: the one set, else the default, no more than the queue holds.
    pub(crate) fn batch_size(&self) -> usize {
        self.max_export_batch_size
            .unwrap_or(DEFAULT_BATCH_SIZE)
            .min(self.max_queue_size)
    }

    /// A batch size that was set must fit in the queue, as the specification requires.
    fn validate(&self) -> Result<(), ConfigError> {
        match self.max_export_batch_size {
            Some(size) if size > self.max_queue_size => Err(ConfigError::new(
                vars::OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                &size.to_string(),
                format!(
                    "must not exceed the queue size ({}, {})",
                    self.max_queue_size,
                    vars::OTEL_BSP_MAX_QUEUE_SIZE
                ),
            )),
            _ => Ok(()),
        }
    }
}

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
    pub(crate) exporter: TracesExporter,
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: OtlpProtocol,
    pub(crate) outbound: Outbound,
    pub(crate) sampler: Sampler,
    pub(crate) batch: BatchSettings,
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
            exporter: TracesExporter::None,
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            outbound: Outbound::new(),
            sampler: Sampler::ParentBasedAlwaysOn,
            batch: BatchSettings::default(),
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
    /// Applies the variables of [`vars::TRACES`] that are set.
    pub(crate) fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        self.resource.apply_env(env)?;
        self.apply_export_env(env)?;
        self.sampler = sampler(env)?.unwrap_or(self.sampler);
        self.batch.apply_env(env)?;
        self.span_limits.apply_env(env)?;
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

    /// The exporter, the OTLP endpoint, protocol and connection.
    fn apply_export_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        let signal = &otlp::TRACES;
        if let Some((_, protocol)) = signal.protocol(env)? {
            self.protocol = protocol;
        }
        let endpoint = signal.endpoint(env, self.protocol)?;
        self.outbound = signal.outbound(env, std::mem::take(&mut self.outbound))?;
        let exporters = [
            ("otlp", TracesExporter::Otlp),
            ("console", TracesExporter::Stdout),
            ("stdout", TracesExporter::Stdout),
            ("none", TracesExporter::None),
        ];
        let chosen = env.parsed(vars::OTEL_TRACES_EXPORTER, |var, v| {
            parse::choice(var, v, &exporters)
        })?;
        match (chosen, endpoint) {
            (Some(exporter), endpoint) => {
                self.exporter = exporter;
                self.endpoint = endpoint.or(self.endpoint.take());
            }
            // An endpoint alone chooses OTLP.
            (None, Some(endpoint)) => {
                self.exporter = TracesExporter::Otlp;
                self.endpoint = Some(endpoint);
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// The OTLP endpoint: the one set, else the OpenTelemetry default of the protocol.
    pub(crate) fn otlp_endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| self.protocol.default_endpoint(&otlp::TRACES))
    }

    /// Checks what only makes sense once every setting is known.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.batch.validate()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<TraceSettings, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let mut settings = TraceSettings::default();
        let lookup = |name: &str| map.get(name).map(|v| (*v).to_owned());
        settings.apply_env(&Env::read(&lookup, vars::TRACES))?;
        settings.validate()?;
        Ok(settings)
    }

    #[test]
    fn an_endpoint_alone_chooses_otlp() {
        let s = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")]).unwrap();
        assert_eq!(s.exporter, TracesExporter::Otlp);
        assert_eq!(s.otlp_endpoint(), "http://127.0.0.1:4318/v1/traces");
        let s = settings(&[("OTEL_TRACES_EXPORTER", "none")]).unwrap();
        assert_eq!(s.exporter, TracesExporter::None);
        let s = settings(&[]).unwrap();
        assert_eq!(s.exporter, TracesExporter::None);
    }

    #[test]
    fn default_endpoints_follow_the_protocol() {
        let http = settings(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap();
        assert_eq!(http.otlp_endpoint(), "http://localhost:4318/v1/traces");
        let grpc = settings(&[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(grpc.protocol, OtlpProtocol::Grpc);
        assert_eq!(grpc.otlp_endpoint(), "http://localhost:4317");
        let grpc_base = settings(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ])
        .unwrap();
        assert_eq!(
            grpc_base.protocol,
            OtlpProtocol::Grpc,
            "the specific one wins"
        );
        assert_eq!(grpc_base.otlp_endpoint(), "https://collector:4317");
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
        assert_eq!(s.outbound.header_names(), ["api-key", "x-team"]);
        assert_eq!(s.outbound.headers["api-key"], "a=b");
        assert_eq!(s.outbound.timeout, Duration::from_millis(2500));
        assert_eq!(s.outbound.compression, crate::Compression::Gzip);
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

    #[test]
    fn the_batch_span_processor_follows_the_specification() {
        let defaults = settings(&[]).unwrap().batch;
        assert_eq!(defaults, BatchSettings::default());
        assert_eq!(defaults.schedule_delay, Duration::from_secs(5));
        assert_eq!(defaults.export_timeout, Duration::from_secs(30));
        assert_eq!(
            (defaults.max_queue_size, defaults.batch_size()),
            (2048, 512)
        );
        let set = settings(&[
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "4000"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"),
        ])
        .unwrap()
        .batch;
        assert_eq!(set.schedule_delay, Duration::from_millis(250));
        assert_eq!(set.export_timeout, Duration::from_millis(4000));
        assert_eq!((set.max_queue_size, set.batch_size()), (100, 10));
        // A queue smaller than the default batch: the default batch shrinks to fit.
        let small = settings(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")])
            .unwrap()
            .batch;
        assert_eq!(small.batch_size(), 100);
        // A batch set larger than the queue is a mistake.
        let err = settings(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
        assert!(err.reason.contains("OTEL_BSP_MAX_QUEUE_SIZE"), "{err}");
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
