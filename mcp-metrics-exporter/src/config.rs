//! Settings and their environment variables: [`vars`] names every variable that the exporter
//! and the tracing pipeline read, and [`Settings`] is what the builder collects from the
//! environment and from code. Values are checked (and certificate files read) as they are
//! applied, so a bad one is a [`ConfigError`] naming its variable at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

#[cfg(any(feature = "push", feature = "otlp"))]
use http::Uri;

use crate::auth::Auth;
use crate::build_info::BuildInfo;
#[cfg(feature = "_client")]
use crate::client::{Outbound, TlsConfig, parse_header_list};
use crate::error::{ConfigError, hidden};
use crate::rules::RegistryConfig;

/// Names of the environment variables read by
/// [`ExporterBuilder::from_env`](crate::ExporterBuilder::from_env) and, with the `telemetry`
/// feature, by `telemetry::TelemetryBuilder::from_env`. The `OTEL_*` names and their meaning are
/// those of the OpenTelemetry SDK specification; where a signal-specific variable
/// (`…_METRICS_…`, `…_TRACES_…`) and the generic one are both set, the specific one wins.
pub mod vars {
    /// `prometheus` (default), `push`, `otlp`, `stdout` or `none`.
    pub const EXPORTER: &str = "MCP_METRICS_EXPORTER";
    /// Address of the standalone scrape listener, `IP:port` (default `127.0.0.1:9464`), or `off`.
    pub const LISTEN: &str = "MCP_METRICS_LISTEN";
    /// `user:password` required from scrapers.
    pub const BASIC_AUTH: &str = "MCP_METRICS_BASIC_AUTH";
    /// Bearer token required from scrapers.
    pub const BEARER_TOKEN: &str = "MCP_METRICS_BEARER_TOKEN";
    /// Series limit of every metric (default 10000).
    pub const SERIES_LIMIT: &str = "MCP_METRICS_SERIES_LIMIT";
    /// Print interval of the stdout exporter (default `15s`).
    pub const STDOUT_INTERVAL: &str = "MCP_METRICS_STDOUT_INTERVAL";

    /// Pushgateway base URL, `http://host:port` or `https://host:port`.
    pub const PUSH_URL: &str = "MCP_METRICS_PUSH_URL";
    /// Push interval such as `15s`, `500ms`, `1m` (default `15s`).
    pub const PUSH_INTERVAL: &str = "MCP_METRICS_PUSH_INTERVAL";
    /// Pushgateway `job` (default: the service name).
    pub const PUSH_JOB: &str = "MCP_METRICS_PUSH_JOB";
    /// Pushgateway `instance` (default: the host name), so that replicas keep one group each.
    pub const PUSH_INSTANCE: &str = "MCP_METRICS_PUSH_INSTANCE";
    /// `true` deletes this instance's group from the Pushgateway on a graceful shutdown
    /// (default `false`: the last push stays).
    pub const PUSH_DELETE_ON_SHUTDOWN: &str = "MCP_METRICS_PUSH_DELETE_ON_SHUTDOWN";
    /// PEM file of the CA certificates that the Pushgateway's certificate must chain to
    /// (replaces the system roots).
    pub const PUSH_CA_CERTIFICATE: &str = "MCP_METRICS_PUSH_CA_CERTIFICATE";
    /// PEM file of the client certificate chain presented to the Pushgateway (mutual TLS).
    pub const PUSH_CLIENT_CERTIFICATE: &str = "MCP_METRICS_PUSH_CLIENT_CERTIFICATE";
    /// PEM file of the private key of [`PUSH_CLIENT_CERTIFICATE`].
    pub const PUSH_CLIENT_KEY: &str = "MCP_METRICS_PUSH_CLIENT_KEY";
    /// `user:password` sent to the Pushgateway with HTTP basic auth.
    pub const PUSH_BASIC_AUTH: &str = "MCP_METRICS_PUSH_BASIC_AUTH";
    /// Extra headers of every push, `key=value,key2=value2` (percent-decoded, as
    /// `OTEL_EXPORTER_OTLP_HEADERS`).
    pub const PUSH_HEADERS: &str = "MCP_METRICS_PUSH_HEADERS";
    /// Upper bound on one push such as `10s` (default `10s`).
    pub const PUSH_TIMEOUT: &str = "MCP_METRICS_PUSH_TIMEOUT";
    /// `gzip` or `none` (default): compression of push bodies.
    pub const PUSH_COMPRESSION: &str = "MCP_METRICS_PUSH_COMPRESSION";

    /// `service.name` of the OTLP resource (wins over a `service.name` in
    /// [`OTEL_RESOURCE_ATTRIBUTES`]).
    pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    /// More attributes of the OTLP resource of metrics and spans, `key=value,key2=value2`,
    /// values percent-decoded, such as `deployment.environment.name=prod,service.instance.id=pod-1`.
    /// `service.instance.id` defaults to a UUID drawn once per process.
    pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
    /// Propagators installed by the tracing pipeline, comma-separated: `tracecontext`,
    /// `baggage` (default: both) or `none`.
    pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
    /// OTLP metrics export interval in milliseconds (default 60000).
    pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

    /// OTLP base URL of every signal; `/v1/metrics` or `/v1/traces` is appended for HTTP.
    pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// PEM file of the CA certificates that the collector's certificate must chain to
    /// (replaces the system roots).
    pub const OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
    /// PEM file of the client certificate chain (mutual TLS).
    pub const OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
    /// PEM file of the client's private key (mutual TLS).
    pub const OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
    /// Extra headers, `key=value,key2=value2`, keys and values percent-decoded.
    pub const OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    /// Upper bound on one export in milliseconds (default 10000).
    pub const OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
    /// `gzip` or `none` (default).
    pub const OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
    /// `http/protobuf` (default) or `grpc` (traces only, feature `telemetry-grpc`).
    pub const OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// Full OTLP metrics URL, used as is.
    pub const OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    /// [`OTLP_CERTIFICATE`] for metrics.
    pub const OTLP_METRICS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE";
    /// [`OTLP_CLIENT_CERTIFICATE`] for metrics.
    pub const OTLP_METRICS_CLIENT_CERTIFICATE: &str =
        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";
    /// [`OTLP_CLIENT_KEY`] for metrics.
    pub const OTLP_METRICS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY";
    /// [`OTLP_HEADERS`] for metrics.
    pub const OTLP_METRICS_HEADERS: &str = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
    /// [`OTLP_TIMEOUT`] for metrics.
    pub const OTLP_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
    /// [`OTLP_COMPRESSION`] for metrics.
    pub const OTLP_METRICS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION";
    /// [`OTLP_PROTOCOL`] for metrics: only `http/protobuf` is supported.
    pub const OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";

    /// Full OTLP traces URL, used as is.
    pub const OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    /// [`OTLP_CERTIFICATE`] for traces.
    pub const OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
    /// [`OTLP_CLIENT_CERTIFICATE`] for traces.
    pub const OTLP_TRACES_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
    /// [`OTLP_CLIENT_KEY`] for traces.
    pub const OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
    /// [`OTLP_HEADERS`] for traces.
    pub const OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
    /// [`OTLP_TIMEOUT`] for traces.
    pub const OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
    /// [`OTLP_COMPRESSION`] for traces.
    pub const OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
    /// [`OTLP_PROTOCOL`] for traces.
    pub const OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

    /// `otlp`, `console`/`stdout` or `none` (tracing pipeline).
    pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
    /// `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default),
    /// `parentbased_always_off` or `parentbased_traceidratio`.
    pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
    /// The ratio of the `traceidratio` samplers, `0` to `1` (default `1`).
    pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
    /// `text` (default), `json` or `off`: the log format of the tracing pipeline.
    pub const LOG_FORMAT: &str = "MCP_LOG_FORMAT";
    /// The log and span filter of the tracing pipeline (default `info,rmcp=warn`).
    pub const RUST_LOG: &str = "RUST_LOG";
    /// Any non-empty value turns colours off in text logs (they are also off whenever
    /// standard error is not a terminal).
    pub const NO_COLOR: &str = "NO_COLOR";
    /// Baggage keys, comma-separated, whose values the tracing pipeline copies onto every span
    /// as attributes of the same name (default: none; baggage comes from the caller, so only the
    /// keys listed are recorded).
    pub const TRACE_BAGGAGE_KEYS: &str = "MCP_TRACE_BAGGAGE_KEYS";
}

/// The variables of one OTLP signal, as the OpenTelemetry specification names them.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
#[derive(Debug)]
pub(crate) struct OtlpVars {
    pub(crate) certificate: &'static str,
    pub(crate) client_certificate: &'static str,
    pub(crate) client_key: &'static str,
    pub(crate) headers: &'static str,
    pub(crate) timeout: &'static str,
    pub(crate) compression: &'static str,
}

/// The generic variables, which apply to every signal.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) const OTLP_GENERIC: OtlpVars = OtlpVars {
    certificate: vars::OTLP_CERTIFICATE,
    client_certificate: vars::OTLP_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_CLIENT_KEY,
    headers: vars::OTLP_HEADERS,
    timeout: vars::OTLP_TIMEOUT,
    compression: vars::OTLP_COMPRESSION,
};

/// The metrics-specific variables.
#[cfg(feature = "otlp")]
pub(crate) const OTLP_METRICS: OtlpVars = OtlpVars {
    certificate: vars::OTLP_METRICS_CERTIFICATE,
    client_certificate: vars::OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_METRICS_CLIENT_KEY,
    headers: vars::OTLP_METRICS_HEADERS,
    timeout: vars::OTLP_METRICS_TIMEOUT,
    compression: vars::OTLP_METRICS_COMPRESSION,
};

/// The traces-specific variables.
#[cfg(feature = "telemetry")]
pub(crate) const OTLP_TRACES: OtlpVars = OtlpVars {
    certificate: vars::OTLP_TRACES_CERTIFICATE,
    client_certificate: vars::OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: vars::OTLP_TRACES_CLIENT_KEY,
    headers: vars::OTLP_TRACES_HEADERS,
    timeout: vars::OTLP_TRACES_TIMEOUT,
    compression: vars::OTLP_TRACES_COMPRESSION,
};

/// A variable lookup in which empty values count as unset.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The value of the signal-specific variable, else of the generic one, with the name of the
/// variable it came from.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) fn pick(
    get: Lookup<'_>,
    specific: &'static str,
    generic: &'static str,
) -> Option<(&'static str, String)> {
    get(specific)
        .map(|v| (specific, v))
        .or_else(|| get(generic).map(|v| (generic, v)))
}

/// Applies the OTLP connection variables of `signal` (certificates, headers, timeout,
/// compression) to `outbound`.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) fn apply_otlp_outbound(
    get: Lookup<'_>,
    signal: &OtlpVars,
    mut outbound: Outbound,
) -> Result<Outbound, ConfigError> {
    let g = &OTLP_GENERIC;
    outbound.tls = apply_tls(
        outbound.tls,
        pick(get, signal.certificate, g.certificate),
        pick(get, signal.client_certificate, g.client_certificate),
        pick(get, signal.client_key, g.client_key),
    )?;
    if let Some((var, value)) = pick(get, signal.headers, g.headers) {
        outbound.headers = parse_header_list(var, &value)?;
    }
    if let Some((var, value)) = pick(get, signal.timeout, g.timeout) {
        outbound.timeout = Duration::from_millis(parse_positive(var, &value)?);
    }
    if let Some((var, value)) = pick(get, signal.compression, g.compression) {
        outbound.compression = value
            .parse()
            .map_err(|reason: String| ConfigError::new(var, &value, reason))?;
    }
    Ok(outbound)
}

/// Reads the CA bundle and the client certificate and key named by these variables.
#[cfg(feature = "_client")]
fn apply_tls(
    mut tls: TlsConfig,
    ca: Option<(&'static str, String)>,
    certificate: Option<(&'static str, String)>,
    key: Option<(&'static str, String)>,
) -> Result<TlsConfig, ConfigError> {
    use std::path::Path;
    if let Some((var, path)) = ca {
        tls = tls.ca_file_for(var, Path::new(path.trim()))?;
    }
    match (certificate, key) {
        (Some((cert_var, cert)), Some((key_var, key))) => tls.identity_files_for(
            (cert_var, Path::new(cert.trim())),
            (key_var, Path::new(key.trim())),
        ),
        (Some((var, value)), None) => Err(ConfigError::new(
            var,
            &value,
            "a client certificate needs its private key: set the matching CLIENT_KEY variable too",
        )),
        (None, Some((var, value))) => Err(ConfigError::new(
            var,
            &value,
            "a client key needs its certificate: set the matching CLIENT_CERTIFICATE variable too",
        )),
        (None, None) => Ok(tls),
    }
}

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

impl std::str::FromStr for ExporterKind {
    type Err = ConfigError;

    /// Parses `prometheus`, `push`, `otlp`, `stdout` or `none` (any case); anything else is a
    /// [`ConfigError`] naming [`vars::EXPORTER`].
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "prometheus" => Ok(Self::Prometheus),
            "push" => Ok(Self::Push),
            "otlp" => Ok(Self::Otlp),
            "stdout" => Ok(Self::Stdout),
            "none" => Ok(Self::None),
            _ => Err(ConfigError::new(
                vars::EXPORTER,
                value,
                "expected one of prometheus, push, otlp, stdout, none",
            )),
        }
    }
}

impl fmt::Display for ExporterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Prometheus => "prometheus",
            Self::Push => "push",
            Self::Otlp => "otlp",
            Self::Stdout => "stdout",
            Self::None => "none",
        })
    }
}

/// Default scrape listener address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);
/// The OpenTelemetry default of the OTLP/HTTP metrics endpoint.
#[cfg(feature = "otlp")]
const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318/v1/metrics";

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

/// OTLP metrics settings.
#[cfg(feature = "otlp")]
#[derive(Clone, Debug)]
pub(crate) struct OtlpSettings {
    pub(crate) endpoint: Uri,
    pub(crate) interval: Duration,
    pub(crate) outbound: Outbound,
    /// The protocol variable and its value, checked once the exporter kind is known.
    pub(crate) protocol: Option<(&'static str, String)>,
    /// The attributes of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) resource_attributes: Vec<(String, String)>,
}

/// Everything the builder collects.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) kind: ExporterKind,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) auth: Option<Auth>,
    #[cfg(feature = "push")]
    pub(crate) push: PushSettings,
    #[cfg(feature = "otlp")]
    pub(crate) otlp: OtlpSettings,
    pub(crate) service_name: Option<String>,
    pub(crate) stdout_interval: Duration,
    pub(crate) registry: RegistryConfig,
    pub(crate) build_info: Option<BuildInfo>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            kind: ExporterKind::default(),
            listen: Some(DEFAULT_LISTEN),
            auth: None,
            #[cfg(feature = "push")]
            push: PushSettings {
                url: None,
                interval: Duration::from_secs(15),
                job: None,
                instance: None,
                delete_on_shutdown: false,
                outbound: Outbound::default(),
            },
            #[cfg(feature = "otlp")]
            otlp: OtlpSettings {
                endpoint: Uri::from_static(DEFAULT_OTLP_ENDPOINT),
                interval: Duration::from_secs(60),
                outbound: Outbound::default(),
                protocol: None,
                resource_attributes: Vec::new(),
            },
            service_name: None,
            stdout_interval: Duration::from_secs(15),
            registry: RegistryConfig::default(),
            build_info: None,
        }
    }
}

/// Parses an `http://` or `https://` URL with a host and without a query string.
#[cfg(any(feature = "push", feature = "otlp"))]
pub(crate) fn parse_url(variable: &str, value: &str) -> Result<Uri, ConfigError> {
    let trimmed = value.trim();
    let uri: Uri = trimmed
        .parse()
        .map_err(|e| ConfigError::new(variable, value, format!("not a URL ({e})")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(ConfigError::new(
            variable,
            value,
            "expected an http:// or https:// URL",
        ));
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(ConfigError::new(variable, value, "the URL has no host"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ConfigError::new(
            variable,
            &hidden(value),
            "credentials in the URL are not supported: use the basic-auth or headers setting",
        ));
    }
    if uri.query().is_some() {
        return Err(ConfigError::new(
            variable,
            value,
            "the URL must not have a query string",
        ));
    }
    Ok(uri)
}

/// Parses `500ms`, `15s`, `2m` or `1h`; zero is refused.
pub(crate) fn parse_duration(variable: &str, value: &str) -> Result<Duration, ConfigError> {
    let text = value.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = |reason: &str| ConfigError::new(variable, value, reason);
    let number: u64 = digits
        .parse()
        .map_err(|_| bad("expected a whole number with a unit, such as 15s, 500ms, 2m or 1h"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        "" => return Err(bad("missing unit: write e.g. 15s, 500ms, 2m or 1h")),
        _ => return Err(bad("unknown unit: use ms, s, m or h")),
    };
    if duration.is_zero() {
        return Err(bad("the interval must be greater than zero"));
    }
    Ok(duration)
}

/// Parses a whole number greater than zero.
pub(crate) fn parse_positive(variable: &str, value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(ConfigError::new(
            variable,
            value,
            "expected a whole number greater than zero",
        )),
        Ok(n) => Ok(n),
    }
}

/// Parses `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
#[cfg(feature = "push")]
fn parse_bool(variable: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(variable, value, "expected true or false")),
    }
}

fn parse_listen(value: &str) -> Result<Option<SocketAddr>, ConfigError> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        ConfigError::new(
            vars::LISTEN,
            value,
            "expected IP:port such as 127.0.0.1:9464 or [::1]:9464, or off",
        )
    })
}

fn parse_basic_auth(value: &str) -> Result<Auth, ConfigError> {
    let bad = |reason: &str| ConfigError::new(vars::BASIC_AUTH, &hidden(value), reason);
    let (user, password) = value
        .split_once(':')
        .ok_or_else(|| bad("expected user:password"))?;
    if user.is_empty() {
        return Err(bad("the user name before ':' is empty"));
    }
    if password.is_empty() {
        return Err(bad("the password after ':' is empty"));
    }
    Ok(Auth::Basic {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

fn parse_bearer(value: &str) -> Result<Auth, ConfigError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(ConfigError::new(
            vars::BEARER_TOKEN,
            &hidden(value),
            "a token must be non-empty without spaces",
        ));
    }
    Ok(Auth::Bearer(value.to_owned()))
}

impl Settings {
    /// Applies the variables `lookup` knows; empty values count as unset.
    pub(crate) fn apply_env(&mut self, lookup: Lookup<'_>) -> Result<(), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(vars::EXPORTER) {
            self.kind = v.parse()?;
        }
        if let Some(v) = get(vars::LISTEN) {
            self.listen = parse_listen(&v)?;
        }
        match (get(vars::BASIC_AUTH), get(vars::BEARER_TOKEN)) {
            (Some(_), Some(token)) => {
                return Err(ConfigError::new(
                    vars::BEARER_TOKEN,
                    &hidden(&token),
                    format!("{} is set too; set only one of them", vars::BASIC_AUTH),
                ));
            }
            (Some(basic), None) => self.auth = Some(parse_basic_auth(&basic)?),
            (None, Some(token)) => self.auth = Some(parse_bearer(&token)?),
            (None, None) => {}
        }
        if let Some(v) = get(vars::STDOUT_INTERVAL) {
            self.stdout_interval = parse_duration(vars::STDOUT_INTERVAL, &v)?;
        }
        if let Some(v) = get(vars::SERIES_LIMIT) {
            let limit = parse_positive(vars::SERIES_LIMIT, &v)?;
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            self.registry = std::mem::take(&mut self.registry).series_limit(limit);
        }
        if let Some(v) = get(vars::OTEL_SERVICE_NAME) {
            self.service_name = Some(v.trim().to_owned());
        }
        #[cfg(feature = "push")]
        self.apply_push_env(&get)?;
        #[cfg(feature = "otlp")]
        self.apply_otlp_env(&get)?;
        Ok(())
    }

    #[cfg(feature = "push")]
    fn apply_push_env(&mut self, get: Lookup<'_>) -> Result<(), ConfigError> {
        let push = &mut self.push;
        if let Some(v) = get(vars::PUSH_URL) {
            push.url = Some(parse_url(vars::PUSH_URL, &v)?);
        }
        if let Some(v) = get(vars::PUSH_INTERVAL) {
            push.interval = parse_duration(vars::PUSH_INTERVAL, &v)?;
        }
        if let Some(v) = get(vars::PUSH_JOB) {
            push.job = Some(v.trim().to_owned());
        }
        if let Some(v) = get(vars::PUSH_INSTANCE) {
            push.instance = Some(v.trim().to_owned());
        }
        if let Some(v) = get(vars::PUSH_DELETE_ON_SHUTDOWN) {
            push.delete_on_shutdown = parse_bool(vars::PUSH_DELETE_ON_SHUTDOWN, &v)?;
        }
        let with_name = |name: &'static str| get(name).map(|v| (name, v));
        let outbound = &mut push.outbound;
        outbound.tls = apply_tls(
            std::mem::take(&mut outbound.tls),
            with_name(vars::PUSH_CA_CERTIFICATE),
            with_name(vars::PUSH_CLIENT_CERTIFICATE),
            with_name(vars::PUSH_CLIENT_KEY),
        )?;
        if let Some(v) = get(vars::PUSH_HEADERS) {
            outbound.headers = parse_header_list(vars::PUSH_HEADERS, &v)?;
        }
        if let Some(v) = get(vars::PUSH_BASIC_AUTH) {
            let value = crate::client::parse_basic_auth_header(vars::PUSH_BASIC_AUTH, &v)?;
            outbound
                .headers
                .retain(|(n, _)| n != http::header::AUTHORIZATION);
            outbound.headers.push((http::header::AUTHORIZATION, value));
        }
        if let Some(v) = get(vars::PUSH_TIMEOUT) {
            outbound.timeout = parse_duration(vars::PUSH_TIMEOUT, &v)?;
        }
        if let Some(v) = get(vars::PUSH_COMPRESSION) {
            outbound.compression = v
                .parse()
                .map_err(|reason: String| ConfigError::new(vars::PUSH_COMPRESSION, &v, reason))?;
        }
        Ok(())
    }

    #[cfg(feature = "otlp")]
    fn apply_otlp_env(&mut self, get: Lookup<'_>) -> Result<(), ConfigError> {
        let otlp = &mut self.otlp;
        if let Some(v) = get(vars::OTLP_METRICS_ENDPOINT) {
            otlp.endpoint = parse_url(vars::OTLP_METRICS_ENDPOINT, &v)?;
        } else if let Some(v) = get(vars::OTLP_ENDPOINT) {
            let base = parse_url(vars::OTLP_ENDPOINT, &v)?;
            let full = format!("{}/v1/metrics", base.to_string().trim_end_matches('/'));
            otlp.endpoint = parse_url(vars::OTLP_ENDPOINT, &full)?;
        }
        if let Some(v) = get(vars::OTEL_METRIC_EXPORT_INTERVAL) {
            otlp.interval =
                Duration::from_millis(parse_positive(vars::OTEL_METRIC_EXPORT_INTERVAL, &v)?);
        }
        if let Some(found) = pick(get, vars::OTLP_METRICS_PROTOCOL, vars::OTLP_PROTOCOL) {
            otlp.protocol = Some(found);
        }
        otlp.outbound =
            apply_otlp_outbound(get, &OTLP_METRICS, std::mem::take(&mut otlp.outbound))?;
        if let Some(v) = get(vars::OTEL_RESOURCE_ATTRIBUTES) {
            otlp.resource_attributes = crate::resource::parse_attributes(&v)?;
        }
        Ok(())
    }

    /// The OTLP resource of the metrics: `service.name` (`OTEL_SERVICE_NAME` or code, else
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the build info's service), `service.version`,
    /// `service.instance.id` and the other resource attributes.
    #[cfg(feature = "otlp")]
    pub(crate) fn otlp_resource(&self) -> Vec<(String, String)> {
        let default = self
            .build_info
            .as_ref()
            .map_or("unknown_service", |b| b.service.as_str());
        crate::resource::attributes(
            self.service_name.as_deref(),
            default,
            self.build_info.as_ref().map(|b| b.version.as_str()),
            &self.otlp.resource_attributes,
        )
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
        let missing = |feature: &str| {
            ConfigError::new(
                vars::EXPORTER,
                &self.kind.to_string(),
                format!(
                    "this build has no {feature} exporter: enable the `{feature}` feature of mcp-metrics-exporter"
                ),
            )
        };
        match self.kind {
            #[cfg(feature = "push")]
            ExporterKind::Push if self.push.url.is_none() => Err(ConfigError::new(
                vars::PUSH_URL,
                "",
                "required when MCP_METRICS_EXPORTER=push",
            )),
            #[cfg(not(feature = "push"))]
            ExporterKind::Push => Err(missing("push")),
            #[cfg(feature = "otlp")]
            ExporterKind::Otlp => match &self.otlp.protocol {
                Some((_, p)) if p.trim() == "http/protobuf" => Ok(()),
                Some((var, p)) => Err(ConfigError::new(
                    var,
                    p,
                    format!(
                        "OTLP metrics are sent over http/protobuf only; set {}=http/protobuf (traces may still use grpc)",
                        vars::OTLP_METRICS_PROTOCOL
                    ),
                )),
                None => Ok(()),
            },
            #[cfg(not(feature = "otlp"))]
            ExporterKind::Otlp => Err(missing("otlp")),
            _ => {
                let _ = missing;
                Ok(())
            }
        }
    }

    /// The service name: `OTEL_SERVICE_NAME`, else the build info's, else `unknown_service`.
    #[cfg(feature = "push")]
    pub(crate) fn service(&self) -> String {
        self.service_name
            .clone()
            .or_else(|| self.build_info.as_ref().map(|b| b.service.clone()))
            .unwrap_or_else(|| "unknown_service".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut settings = Settings::default();
        settings.apply_env(&|name| map.get(name).cloned())?;
        settings.validate()?;
        Ok(settings)
    }

    fn error(vars: &[(&str, &str)]) -> ConfigError {
        settings(vars).expect_err("configuration must be refused")
    }

    #[test]
    fn defaults_without_variables() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.kind, ExporterKind::Prometheus);
        assert_eq!(s.listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(s.auth, None);
        #[cfg(feature = "otlp")]
        {
            assert_eq!(s.otlp.endpoint, "http://localhost:4318/v1/metrics");
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
        for kind in [
            ExporterKind::Prometheus,
            ExporterKind::Push,
            ExporterKind::Otlp,
            ExporterKind::Stdout,
            ExporterKind::None,
        ] {
            assert_eq!(kind.to_string().parse::<ExporterKind>(), Ok(kind));
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
            ("OTEL_SERVICE_NAME", "svc"),
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
        assert_eq!(s.service_name.as_deref(), Some("svc"));
        assert_eq!(s.stdout_interval, Duration::from_secs(2));
        assert_eq!(
            settings(&[("MCP_METRICS_LISTEN", "off")]).unwrap().listen,
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
        assert_eq!(p.outbound.headers[0].1, "a,b");
        assert_eq!(p.outbound.headers[1].1, "Basic dXNlcjpwdw==");
        assert_eq!(p.outbound.timeout, Duration::from_secs(3));
        assert_eq!(p.outbound.compression, crate::Compression::Gzip);
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
        ])
        .unwrap();
        let o = &s.otlp;
        assert_eq!(o.endpoint, "https://collector:4318/v1/metrics");
        assert_eq!(o.interval, Duration::from_millis(2500));
        assert_eq!(o.outbound.header_names(), ["api-key", "x-b"]);
        assert_eq!(o.outbound.headers[0].1, "metrics");
        assert_eq!(o.outbound.timeout, Duration::from_millis(1500));
        assert_eq!(o.outbound.compression, crate::Compression::None);

        let s = settings(&[
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://c:4318/custom",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318"),
        ])
        .unwrap();
        assert_eq!(s.otlp.endpoint, "http://c:4318/custom");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn otlp_metrics_over_grpc_is_refused_only_when_chosen() {
        let grpc = [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        assert!(settings(&grpc).is_ok(), "pull mode ignores the protocol");
        let err = error(&[grpc[0], ("MCP_METRICS_EXPORTER", "otlp")]);
        assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert!(err.reason.contains("http/protobuf"), "{err}");
        let fixed = settings(&[
            grpc[0],
            ("MCP_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        ]);
        assert!(fixed.is_ok());
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let cases = [
            ("MCP_METRICS_EXPORTER", "prometheus2"),
            ("MCP_METRICS_LISTEN", "localhost"),
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
            ("MCP_METRICS_PUSH_COMPRESSION", "zstd"),
            #[cfg(feature = "push")]
            ("MCP_METRICS_PUSH_CA_CERTIFICATE", "/nonexistent/ca.pem"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://c"),
            #[cfg(feature = "otlp")]
            ("OTEL_METRIC_EXPORT_INTERVAL", "1s"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            #[cfg(feature = "otlp")]
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "brotli"),
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

    #[test]
    fn empty_variables_count_as_unset() {
        let s = settings(&[("MCP_METRICS_EXPORTER", ""), ("MCP_METRICS_LISTEN", "  ")]).unwrap();
        assert_eq!(s.kind, ExporterKind::Prometheus);
        assert_eq!(s.listen, Some(DEFAULT_LISTEN));
    }
}
