//! What the metrics exporter is configured with: the exporter kind, the scrape listener and its
//! credentials, the series limit, the stdout interval, the Pushgateway and OTLP metrics, collected
//! by `ExporterBuilder` from code and from the variables of [`vars::METRICS`].

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

#[cfg(feature = "push")]
use http::Uri;

use crate::auth::Auth;
use crate::build_info::BuildInfo;
#[cfg(feature = "otlp")]
use crate::config::otlp::{self, HistogramAggregation, OtlpProtocol, Temporality};
#[cfg(any(feature = "push", feature = "otlp"))]
use crate::config::outbound::Outbound;
#[cfg(any(feature = "push", feature = "otlp"))]
use crate::config::resource::ResourceSettings;
use crate::config::{Env, parse, vars};
use crate::error::ConfigError;
use crate::rules::RegistryConfig;

/// Where metrics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExporterKind {
    /// Scraped over HTTP at `/metrics`.
    #[default]
    Prometheus,
    /// Pushed to a Prometheus Pushgateway (feature `push`).
    Push,
    /// Sent over OTLP/HTTP with protobuf (feature `otlp`).
    Otlp,
    /// Printed to standard output, for development. Not for stdio MCP servers.
    Stdout,
    /// Nothing is installed; recording stays a no-op.
    None,
}

impl ExporterKind {
    const ALL: [(&'static str, Self); 5] = [
        ("prometheus", Self::Prometheus),
        ("push", Self::Push),
        ("otlp", Self::Otlp),
        ("stdout", Self::Stdout),
        ("none", Self::None),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("", |(name, _)| name)
    }
}

impl std::str::FromStr for ExporterKind {
    type Err = ConfigError;

    /// Parses `prometheus`, `push`, `otlp`, `stdout` or `none` (any case); anything else is a
    /// [`ConfigError`] naming `MCP_METRICS_EXPORTER`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        parse::choice(vars::EXPORTER, value, &Self::ALL)
    }
}

impl fmt::Display for ExporterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Default scrape listener address.
pub(crate) const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);
/// Default interval of push and stdout.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// Pushgateway settings.
#[cfg(feature = "push")]
#[derive(Clone, Debug)]
pub(crate) struct PushSettings {
    pub(crate) url: Option<Uri>,
    pub(crate) interval: Duration,
    pub(crate) job: Option<String>,
    /// `None` means the host name, looked up at build time.
    pub(crate) instance: Option<String>,
    pub(crate) delete_on_shutdown: bool,
    pub(crate) outbound: Outbound,
}

#[cfg(feature = "push")]
impl Default for PushSettings {
    fn default() -> Self {
        Self {
            url: None,
            interval: DEFAULT_INTERVAL,
            job: None,
            instance: None,
            delete_on_shutdown: false,
            outbound: Outbound::default(),
        }
    }
}

/// OTLP metrics settings.
#[cfg(feature = "otlp")]
#[derive(Clone, Debug)]
pub(crate) struct OtlpSettings {
    /// The endpoint set in code or by a variable; else the default of the protocol.
    pub(crate) endpoint: Option<String>,
    pub(crate) interval: Duration,
    pub(crate) outbound: Outbound,
    /// The protocol variable and its value, checked once the exporter kind is known.
    pub(crate) protocol: Option<(&'static str, OtlpProtocol)>,
    pub(crate) temporality: Temporality,
    pub(crate) aggregation: HistogramAggregation,
}

#[cfg(feature = "otlp")]
impl Default for OtlpSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            interval: Duration::from_secs(60),
            outbound: Outbound::default(),
            protocol: None,
            temporality: Temporality::default(),
            aggregation: HistogramAggregation::default(),
        }
    }
}

#[cfg(feature = "otlp")]
impl OtlpSettings {
    /// The protocol: `http/protobuf` unless a variable chose `grpc`.
    pub(crate) fn protocol(&self) -> OtlpProtocol {
        self.protocol.map_or(OtlpProtocol::HttpProtobuf, |(_, p)| p)
    }

    /// The endpoint to send to: the one set, else the default of the protocol.
    pub(crate) fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| self.protocol().default_endpoint(&otlp::METRICS))
    }
}

/// Everything `ExporterBuilder` collects.
#[derive(Clone, Debug)]
pub(crate) struct MetricsSettings {
    pub(crate) kind: ExporterKind,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) auth: Option<Auth>,
    #[cfg(feature = "push")]
    pub(crate) push: PushSettings,
    #[cfg(feature = "otlp")]
    pub(crate) otlp: OtlpSettings,
    #[cfg(any(feature = "push", feature = "otlp"))]
    pub(crate) resource: ResourceSettings,
    pub(crate) stdout_interval: Duration,
    pub(crate) registry: RegistryConfig,
    pub(crate) build_info: Option<BuildInfo>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            kind: ExporterKind::default(),
            listen: Some(DEFAULT_LISTEN),
            auth: None,
            #[cfg(feature = "push")]
            push: PushSettings::default(),
            #[cfg(feature = "otlp")]
            otlp: OtlpSettings::default(),
            #[cfg(any(feature = "push", feature = "otlp"))]
            resource: ResourceSettings::default(),
            stdout_interval: DEFAULT_INTERVAL,
            registry: RegistryConfig::default(),
            build_info: None,
        }
    }
}

impl MetricsSettings {
    /// Applies the variables of [`vars::METRICS`] that are set.
    pub(crate) fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        if let Some(kind) = env.parsed(vars::EXPORTER, |_, v| v.parse())? {
            self.kind = kind;
        }
        if let Some(listen) = env.parsed(vars::LISTEN, parse::listen)? {
            self.listen = listen;
        }
        self.apply_auth_env(env)?;
        if let Some(interval) = env.parsed(vars::STDOUT_INTERVAL, parse::duration)? {
            self.stdout_interval = interval;
        }
        if let Some(limit) = env.parsed(vars::SERIES_LIMIT, parse::size)? {
            self.registry = std::mem::take(&mut self.registry).series_limit(limit);
        }
        #[cfg(any(feature = "push", feature = "otlp"))]
        self.resource.apply_env(env)?;
        #[cfg(feature = "push")]
        self.push.apply_env(env)?;
        #[cfg(feature = "otlp")]
        self.otlp.apply_env(env)?;
        Ok(())
    }

    fn apply_auth_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        match (env.get(vars::BASIC_AUTH), env.get(vars::BEARER_TOKEN)) {
            (Some(_), Some(token)) => Err(ConfigError::secret(
                vars::BEARER_TOKEN,
                token,
                format!("{} is set too; set only one of them", vars::BASIC_AUTH),
            )),
            (Some(basic), None) => {
                let (user, password) = parse::credentials(vars::BASIC_AUTH, basic)?;
                self.auth = Some(Auth::Basic { user, password });
                Ok(())
            }
            (None, Some(token)) => {
                self.auth = Some(Auth::Bearer(parse::token(vars::BEARER_TOKEN, token)?));
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Checks what only makes sense once every setting is known.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.validate_kind()?;
        let intervals = [
            #[cfg(feature = "push")]
            ("push_interval", self.push.interval),
            #[cfg(feature = "otlp")]
            ("otlp_interval", self.otlp.interval),
            ("stdout_interval", self.stdout_interval),
        ];
        for (name, interval) in intervals {
            if interval.is_zero() {
                return Err(ConfigError::new(
                    name,
                    "0s",
                    "the interval must be greater than zero",
                ));
            }
        }
        if let Some(Auth::Basic { user, .. }) = &self.auth
            && (user.contains(':') || user.is_empty())
        {
            return Err(ConfigError::new(
                "basic_auth",
                user,
                "the user name must be non-empty without ':'",
            ));
        }
        Ok(())
    }

    /// Checks that the chosen exporter is compiled in and has what it needs.
    fn validate_kind(&self) -> Result<(), ConfigError> {
        match self.kind {
            #[cfg(feature = "push")]
            ExporterKind::Push if self.push.url.is_none() => Err(ConfigError::new(
                vars::PUSH_URL,
                "",
                "required when MCP_METRICS_EXPORTER=push",
            )),
            #[cfg(not(feature = "push"))]
            ExporterKind::Push => Err(self.not_built("push")),
            #[cfg(all(feature = "otlp", not(feature = "otlp-grpc")))]
            ExporterKind::Otlp => match self.otlp.protocol {
                Some((var, OtlpProtocol::Grpc)) => Err(ConfigError::new(
                    var,
                    "grpc",
                    format!(
                        "this build sends OTLP metrics over http/protobuf only: enable the `otlp-grpc` feature of mcp-metrics-exporter, or set {}=http/protobuf",
                        vars::OTLP_METRICS_PROTOCOL
                    ),
                )),
                _ => Ok(()),
            },
            #[cfg(not(feature = "otlp"))]
            ExporterKind::Otlp => Err(self.not_built("otlp")),
            _ => Ok(()),
        }
    }

    /// The error for an exporter whose cargo feature this build lacks.
    #[cfg(not(all(feature = "push", feature = "otlp")))]
    fn not_built(&self, feature: &str) -> ConfigError {
        ConfigError::new(
            vars::EXPORTER,
            &self.kind.to_string(),
            format!(
                "this build has no {feature} exporter: enable the `{feature}` feature of mcp-metrics-exporter"
            ),
        )
    }

    /// The service name: see `ResourceSettings::service`.
    #[cfg(feature = "push")]
    pub(crate) fn service(&self) -> String {
        self.resource.service(self.build_info.as_ref()).to_owned()
    }

    /// The OTLP resource of the metrics.
    #[cfg(feature = "otlp")]
    pub(crate) fn otlp_resource(&self) -> Vec<(String, String)> {
        self.resource.attributes(self.build_info.as_ref())
    }

    /// The registry settings, with exponential buckets beside the explicit ones when OTLP
    /// exports histograms that way.
    pub(crate) fn registry_config(&self) -> RegistryConfig {
        let config = self.registry.clone();
        #[cfg(feature = "otlp")]
        if self.kind == ExporterKind::Otlp
            && self.otlp.aggregation == HistogramAggregation::Base2Exponential
        {
            return config.with_exponential();
        }
        config
    }
}

#[cfg(feature = "push")]
impl PushSettings {
    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        if let Some(url) = env.parsed(vars::PUSH_URL, parse::url)? {
            self.url = Some(url);
        }
        if let Some(interval) = env.parsed(vars::PUSH_INTERVAL, parse::duration)? {
            self.interval = interval;
        }
        if let Some(job) = env.get(vars::PUSH_JOB) {
            self.job = Some(job.to_owned());
        }
        if let Some(instance) = env.get(vars::PUSH_INSTANCE) {
            self.instance = Some(instance.to_owned());
        }
        if let Some(delete) = env.parsed(vars::PUSH_DELETE_ON_SHUTDOWN, parse::boolean)? {
            self.delete_on_shutdown = delete;
        }
        let outbound = &mut self.outbound;
        outbound.tls = crate::config::outbound::tls_files(
            std::mem::take(&mut outbound.tls),
            env.var(vars::PUSH_CA_CERTIFICATE),
            env.var(vars::PUSH_CLIENT_CERTIFICATE),
            env.var(vars::PUSH_CLIENT_KEY),
        )?;
        if let Some(headers) = env.parsed(vars::PUSH_HEADERS, parse::header_list)? {
            outbound.set_headers(headers);
        }
        let basic = env.parsed(
            vars::PUSH_BASIC_AUTH,
            crate::config::outbound::basic_auth_header,
        )?;
        if let Some(value) = basic {
            outbound.headers.insert(http::header::AUTHORIZATION, value);
        }
        if let Some(timeout) = env.parsed(vars::PUSH_TIMEOUT, parse::duration)? {
            outbound.timeout = timeout;
        }
        if let Some(compression) = env.parsed(
            vars::PUSH_COMPRESSION,
            crate::config::outbound::Compression::parse,
        )? {
            outbound.compression = compression;
        }
        Ok(())
    }
}

#[cfg(feature = "otlp")]
impl OtlpSettings {
    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        let signal = &otlp::METRICS;
        if let Some(interval) = env.parsed(vars::OTEL_METRIC_EXPORT_INTERVAL, parse::millis)? {
            self.interval = interval;
        }
        if let Some(protocol) = signal.protocol(env)? {
            self.protocol = Some(protocol);
        }
        if let Some(endpoint) = signal.endpoint(env, self.protocol())? {
            self.endpoint = Some(endpoint);
        }
        self.outbound = signal.outbound(env, std::mem::take(&mut self.outbound))?;
        let temporality = vars::OTLP_METRICS_TEMPORALITY_PREFERENCE;
        if let Some(t) = env.parsed(temporality, Temporality::parse)? {
            self.temporality = t;
        }
        let aggregation = vars::OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION;
        if let Some(a) = env.parsed(aggregation, HistogramAggregation::parse)? {
            self.aggregation = a;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<MetricsSettings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut settings = MetricsSettings::default();
        settings.apply_env(&Env::read(&|name| map.get(name).cloned(), vars::METRICS))?;
        settings.validate()?;
        Ok(settings)
    }

    fn error(pairs: &[(&str, &str)]) -> ConfigError {
        settings(pairs).expect_err("configuration must be refused")
    }

    #[test]
    fn defaults_without_variables() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.kind, ExporterKind::Prometheus);
        assert_eq!(s.listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(s.auth, None);
        #[cfg(feature = "otlp")]
        {
            assert_eq!(s.otlp.endpoint(), "http://localhost:4318/v1/metrics");
            assert_eq!(s.otlp.temporality, Temporality::Cumulative);
            assert_eq!(s.otlp.aggregation, HistogramAggregation::ExplicitBucket);
            assert_eq!(s.otlp.interval, Duration::from_secs(60));
            assert_eq!(s.otlp.outbound.timeout, Duration::from_secs(10));
        }
        #[cfg(feature = "push")]
        {
            assert_eq!(s.push.instance, None, "the host name is looked up at build");
            assert!(!s.push.delete_on_shutdown);
        }
    }

    #[test]
    fn exporter_kinds_parse_with_from_str() {
        assert_eq!(" PUSH ".parse::<ExporterKind>(), Ok(ExporterKind::Push));
        for (name, kind) in ExporterKind::ALL {
            assert_eq!(kind.to_string(), name);
            assert_eq!(name.parse::<ExporterKind>(), Ok(kind));
        }
        let err = "pushgateway".parse::<ExporterKind>().unwrap_err();
        assert_eq!(err.variable, vars::EXPORTER);
        assert_eq!(err.value, "pushgateway");
    }

    #[test]
    fn common_variables_are_read() {
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", " stdout "),
            ("MCP_METRICS_LISTEN", "[::1]:9000"),
            ("MCP_METRICS_BASIC_AUTH", "prom:pa:ss"),
            ("MCP_METRICS_SERIES_LIMIT", "42"),
            ("MCP_METRICS_STDOUT_INTERVAL", "2s"),
        ])
        .unwrap();
        assert_eq!(s.kind, ExporterKind::Stdout);
        assert_eq!(s.listen, Some("[::1]:9000".parse().unwrap()));
        assert_eq!(
            s.auth,
            Some(Auth::Basic {
                user: "prom".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(s.stdout_interval, Duration::from_secs(2));
        assert_eq!(s.registry.series_limit, 42);
        assert_eq!(
            settings(&[("MCP_METRICS_LISTEN", "none")]).unwrap().listen,
            None
        );
    }

    #[cfg(feature = "push")]
    #[test]
    fn push_variables_are_read() {
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", "push"),
            ("MCP_METRICS_PUSH_URL", "https://127.0.0.1:9091"),
            ("MCP_METRICS_PUSH_INTERVAL", "500ms"),
            ("MCP_METRICS_PUSH_JOB", "mcp"),
            ("MCP_METRICS_PUSH_INSTANCE", "host-1"),
            ("MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN", "TRUE"),
            ("MCP_METRICS_PUSH_HEADERS", "x-tenant=a%2Cb"),
            ("MCP_METRICS_PUSH_BASIC_AUTH", "user:pw"),
            ("MCP_METRICS_PUSH_TIMEOUT", "3s"),
            ("MCP_METRICS_PUSH_COMPRESSION", "gzip"),
            ("OTEL_SERVICE_NAME", "svc"),
        ])
        .unwrap();
        assert_eq!(s.kind, ExporterKind::Push);
        let p = &s.push;
        assert_eq!(p.url.as_ref().unwrap(), "https://127.0.0.1:9091/");
        assert_eq!(p.interval, Duration::from_millis(500));
        assert_eq!(
            (p.job.as_deref(), p.instance.as_deref()),
            (Some("mcp"), Some("host-1"))
        );
        assert!(p.delete_on_shutdown);
        assert_eq!(p.outbound.header_names(), ["x-tenant", "authorization"]);
        assert_eq!(p.outbound.headers["x-tenant"], "a,b");
        assert_eq!(p.outbound.headers["authorization"], "Basic dXNlcjpwdw==");
        assert_eq!(p.outbound.timeout, Duration::from_secs(3));
        assert_eq!(p.outbound.compression, crate::Compression::Gzip);
        assert_eq!(s.service(), "svc");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn otlp_variables_are_read_and_the_metrics_ones_win() {
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "2500"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=generic"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                "api-key=metrics,x-b=2",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=a%2Cb"),
        ])
        .unwrap();
        let o = &s.otlp;
        assert_eq!(o.endpoint(), "https://collector:4318/v1/metrics");
        assert_eq!(o.interval, Duration::from_millis(2500));
        assert_eq!(o.outbound.header_names(), ["api-key", "x-b"]);
        assert_eq!(o.outbound.headers["api-key"], "metrics");
        assert_eq!(o.outbound.timeout, Duration::from_millis(1500));
        assert_eq!(o.outbound.compression, crate::Compression::None);
        assert!(
            s.otlp_resource()
                .contains(&("team".to_owned(), "a,b".to_owned()))
        );

        let s = settings(&[
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://c:4318/custom",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318"),
        ])
        .unwrap();
        assert_eq!(s.otlp.endpoint(), "http://c:4318/custom");
    }

    #[cfg(all(feature = "otlp", not(feature = "otlp-grpc")))]
    #[test]
    fn otlp_metrics_over_grpc_without_the_feature_is_refused_only_when_chosen() {
        let grpc = [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        assert!(settings(&grpc).is_ok(), "pull mode sends no OTLP");
        let err = error(&[grpc[0], ("MCP_METRICS_EXPORTER", "otlp")]);
        assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert!(err.reason.contains("`otlp-grpc` feature"), "{err}");
        assert!(err.reason.contains("http/protobuf"), "{err}");
        let fixed = settings(&[
            grpc[0],
            ("MCP_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ]);
        assert!(fixed.is_ok());
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn otlp_metrics_over_grpc_default_to_port_4317_without_a_path() {
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(s.otlp.protocol(), OtlpProtocol::Grpc);
        assert_eq!(s.otlp.endpoint(), "http://localhost:4317");
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317/"),
        ])
        .unwrap();
        assert_eq!(s.otlp.endpoint(), "https://collector:4317");
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
        ])
        .unwrap();
        assert_eq!(
            s.otlp.endpoint(),
            "https://collector:4318/v1/metrics",
            "the metrics one wins"
        );
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn temporality_and_histogram_aggregation_are_read_in_any_case() {
        let s = settings(&[
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                " Delta ",
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
                "BASE2_EXPONENTIAL_BUCKET_HISTOGRAM",
            ),
        ])
        .unwrap();
        assert_eq!(s.otlp.temporality, Temporality::Delta);
        assert_eq!(s.otlp.aggregation, HistogramAggregation::Base2Exponential);
        assert!(
            !s.registry_config().exponential,
            "exponential buckets only when OTLP exports"
        );
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", "otlp"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "lowmemory",
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
                "base2_exponential_bucket_histogram",
            ),
        ])
        .unwrap();
        assert_eq!(s.otlp.temporality, Temporality::LowMemory);
        assert!(s.registry_config().exponential);
        let s = settings(&[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "cumulative",
        )])
        .unwrap();
        assert_eq!(s.otlp.temporality, Temporality::Cumulative);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let cases = [
            ("MCP_METRICS_EXPORTER", "prometheus2"),
            ("MCP_METRICS_LISTEN", "localhost"),
            ("MCP_METRICS_LISTEN", "off"),
            ("MCP_METRICS_STDOUT_INTERVAL", "-1s"),
            ("MCP_METRICS_SERIES_LIMIT", "0"),
            ("MCP_METRICS_SERIES_LIMIT", "many"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_URL", "ftp://gw:9091"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_INTERVAL", "15"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_INTERVAL", "0s"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_INTERVAL", "1 fortnight"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_TIMEOUT", "10"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN", "maybe"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN", "yes"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_COMPRESSION", "zstd"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_CA_CERTIFICATE", "/nonexistent/ca.pem"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://c"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
            #[cfg(feature = "otlp")]
            ("OTEL_METRIC_EXPORT_INTERVAL", "1s"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "brotli"),
            #[cfg(feature = "otlp")]
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "low_memory",
            ),
            #[cfg(feature = "otlp")]
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "deltas",
            ),
            #[cfg(feature = "otlp")]
            (
                "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
                "exponential",
            ),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
            #[cfg(feature = "otlp")]
            ("OTEL_RESOURCE_ATTRIBUTES", "team=a,b"),
        ];
        for (variable, value) in cases {
            let err = error(&[(variable, value)]);
            assert_eq!(
                (err.variable.as_str(), err.value.as_str()),
                (variable, value)
            );
            let message = err.to_string();
            assert!(
                message.contains(variable) && message.contains(value),
                "{message}"
            );
        }
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn a_client_certificate_needs_its_key() {
        let err = error(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/tmp/c.pem")]);
        assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
        assert!(err.reason.contains("CLIENT_KEY"), "{err}");
        let err = error(&[("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "/tmp/k.pem")]);
        assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY");
    }

    #[test]
    fn secrets_are_not_repeated_in_errors() {
        let mut cases = vec![
            ("MCP_METRICS_BASIC_AUTH", "onlyuser"),
            ("MCP_METRICS_BASIC_AUTH", ":pw"),
            ("MCP_METRICS_BEARER_TOKEN", "a b"),
        ];
        if cfg!(feature = "push") {
            cases.push(("MCP_METRICS_PUSH_BASIC_AUTH", "s3cret-no-colon"));
            cases.push(("MCP_METRICS_PUSH_HEADERS", "api-key s3cret"));
            cases.push(("MCP_METRICS_PUSH_URL", "http://u:s3cret@gw:9091"));
        }
        if cfg!(feature = "otlp") {
            cases.push(("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret,broken"));
        }
        for (variable, value) in cases {
            let err = error(&[(variable, value)]);
            assert_eq!(err.variable, variable);
            assert!(!err.to_string().contains(value), "{err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
            assert!(err.to_string().contains("<hidden"), "{err}");
        }
        let err = error(&[
            ("MCP_METRICS_BASIC_AUTH", "u:p"),
            ("MCP_METRICS_BEARER_TOKEN", "t"),
        ]);
        assert!(err.reason.contains("set only one"), "{err}");
    }

    #[cfg(feature = "push")]
    #[test]
    fn push_needs_a_url() {
        let err = error(&[("MCP_METRICS_EXPORTER", "push")]);
        assert_eq!(err.variable, "MCP_METRICS_PUSH_URL");
        assert!(err.to_string().contains("required"), "{err}");
    }

    #[cfg(not(feature = "push"))]
    #[test]
    fn push_without_the_feature_names_it() {
        let err = error(&[("MCP_METRICS_EXPORTER", "push")]);
        assert_eq!(err.variable, "MCP_METRICS_EXPORTER");
        assert!(err.reason.contains("`push` feature"), "{err}");
    }

    #[cfg(not(feature = "otlp"))]
    #[test]
    fn otlp_without_the_feature_names_it() {
        let err = error(&[("MCP_METRICS_EXPORTER", "otlp")]);
        assert_eq!(err.variable, "MCP_METRICS_EXPORTER");
        assert!(err.reason.contains("`otlp` feature"), "{err}");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let s = settings(&[("MCP_METRICS_EXPORTER", ""), ("MCP_METRICS_LISTEN", "  ")]).unwrap();
        assert_eq!(s.kind, ExporterKind::Prometheus);
        assert_eq!(s.listen, Some(DEFAULT_LISTEN));
    }
}
