//! Settings and their environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use http::Uri;

use crate::auth::Auth;
use crate::build_info::BuildInfo;
use crate::client::parse_http_url;
use crate::error::ConfigError;
use crate::rules::RegistryConfig;

/// Names of the environment variables read by [`ExporterBuilder::from_env`](crate::ExporterBuilder::from_env).
pub mod vars {
    /// `prometheus` (default), `push`, `otlp`, `stdout` or `none`.
    pub const EXPORTER: &str = "MCP_METRICS_EXPORTER";
    /// Address of the standalone scrape listener, `IP:port` (default `127.0.0.1:9464`), or `off`.
    pub const LISTEN: &str = "MCP_METRICS_LISTEN";
    /// `user:password` required from scrapers.
    pub const BASIC_AUTH: &str = "MCP_METRICS_BASIC_AUTH";
    /// Bearer token required from scrapers.
    pub const BEARER_TOKEN: &str = "MCP_METRICS_BEARER_TOKEN";
    /// Pushgateway base URL, `http://host:port`.
    pub const PUSH_URL: &str = "MCP_METRICS_PUSH_URL";
    /// Push interval such as `15s`, `500ms`, `1m` (default `15s`).
    pub const PUSH_INTERVAL: &str = "MCP_METRICS_PUSH_INTERVAL";
    /// Pushgateway `job` (default: the service name).
    pub const PUSH_JOB: &str = "MCP_METRICS_PUSH_JOB";
    /// Pushgateway `instance` (default: none).
    pub const PUSH_INSTANCE: &str = "MCP_METRICS_PUSH_INSTANCE";
    /// Print interval of the stdout exporter (default `15s`).
    pub const STDOUT_INTERVAL: &str = "MCP_METRICS_STDOUT_INTERVAL";
    /// Series limit of every metric (default 10000).
    pub const SERIES_LIMIT: &str = "MCP_METRICS_SERIES_LIMIT";
    /// Full OTLP/HTTP metrics URL, used as is.
    pub const OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    /// OTLP/HTTP base URL; `/v1/metrics` is appended.
    pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// `service.name` of the OTLP resource.
    pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    /// OTLP export interval in milliseconds (default 60000).
    pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
}

/// Where metrics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExporterKind {
    /// Scraped over HTTP at `/metrics`.
    #[default]
    Prometheus,
    /// Pushed to a Prometheus Pushgateway.
    Push,
    /// Sent over OTLP/HTTP with protobuf.
    Otlp,
    /// Printed to standard output, for development. Not for stdio MCP servers.
    Stdout,
    /// Nothing is installed; recording stays a no-op.
    None,
}

impl ExporterKind {
    /// Parses `prometheus`, `push`, `otlp`, `stdout` or `none` (any case).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming [`vars::EXPORTER`] for any other value.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
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
const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318/v1/metrics";

/// Everything the builder collects.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) kind: ExporterKind,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) auth: Option<Auth>,
    pub(crate) push_url: Option<Uri>,
    pub(crate) push_interval: Duration,
    pub(crate) push_job: Option<String>,
    pub(crate) push_instance: Option<String>,
    pub(crate) otlp_endpoint: Uri,
    pub(crate) otlp_interval: Duration,
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
            push_url: None,
            push_interval: Duration::from_secs(15),
            push_job: None,
            push_instance: None,
            otlp_endpoint: Uri::from_static(DEFAULT_OTLP_ENDPOINT),
            otlp_interval: Duration::from_secs(60),
            service_name: None,
            stdout_interval: Duration::from_secs(15),
            registry: RegistryConfig::default(),
            build_info: None,
        }
    }
}

/// Shows a secret's length only.
fn hidden(secret: &str) -> String {
    format!("<hidden, {} characters>", secret.chars().count())
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

fn parse_positive(variable: &str, value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(ConfigError::new(
            variable,
            value,
            "expected a whole number greater than zero",
        )),
        Ok(n) => Ok(n),
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
    pub(crate) fn apply_env(
        &mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(vars::EXPORTER) {
            self.kind = ExporterKind::parse(&v)?;
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
        if let Some(v) = get(vars::PUSH_URL) {
            self.push_url = Some(parse_http_url(vars::PUSH_URL, &v)?);
        }
        if let Some(v) = get(vars::PUSH_INTERVAL) {
            self.push_interval = parse_duration(vars::PUSH_INTERVAL, &v)?;
        }
        if let Some(v) = get(vars::PUSH_JOB) {
            self.push_job = Some(v.trim().to_owned());
        }
        if let Some(v) = get(vars::PUSH_INSTANCE) {
            self.push_instance = Some(v.trim().to_owned());
        }
        if let Some(v) = get(vars::STDOUT_INTERVAL) {
            self.stdout_interval = parse_duration(vars::STDOUT_INTERVAL, &v)?;
        }
        if let Some(v) = get(vars::SERIES_LIMIT) {
            let limit = parse_positive(vars::SERIES_LIMIT, &v)?;
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            self.registry = std::mem::take(&mut self.registry).series_limit(limit);
        }
        self.apply_otel_env(&get)
    }

    fn apply_otel_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get(vars::OTLP_METRICS_ENDPOINT) {
            self.otlp_endpoint = parse_http_url(vars::OTLP_METRICS_ENDPOINT, &v)?;
        } else if let Some(v) = get(vars::OTLP_ENDPOINT) {
            let base = parse_http_url(vars::OTLP_ENDPOINT, &v)?;
            let full = format!("{}/v1/metrics", base.to_string().trim_end_matches('/'));
            self.otlp_endpoint = parse_http_url(vars::OTLP_ENDPOINT, &full)?;
        }
        if let Some(v) = get(vars::OTEL_SERVICE_NAME) {
            self.service_name = Some(v.trim().to_owned());
        }
        if let Some(v) = get(vars::OTEL_METRIC_EXPORT_INTERVAL) {
            self.otlp_interval =
                Duration::from_millis(parse_positive(vars::OTEL_METRIC_EXPORT_INTERVAL, &v)?);
        }
        Ok(())
    }

    /// Checks what only makes sense once every setting is known.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.kind == ExporterKind::Push && self.push_url.is_none() {
            return Err(ConfigError::new(
                vars::PUSH_URL,
                "",
                "required when MCP_METRICS_EXPORTER=push",
            ));
        }
        let intervals = [
            ("push_interval", self.push_interval),
            ("otlp_interval", self.otlp_interval),
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

    /// The service name: `OTEL_SERVICE_NAME`, else the build info's, else `unknown_service`.
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
        assert_eq!(s.otlp_endpoint, "http://localhost:4318/v1/metrics");
        assert_eq!(s.otlp_interval, Duration::from_secs(60));
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("MCP_METRICS_EXPORTER", " PUSH "),
            ("MCP_METRICS_LISTEN", "[::1]:9000"),
            ("MCP_METRICS_BASIC_AUTH", "prom:pa:ss"),
            ("MCP_METRICS_PUSH_URL", "http://127.0.0.1:9091"),
            ("MCP_METRICS_PUSH_INTERVAL", "500ms"),
            ("MCP_METRICS_PUSH_JOB", "mcp"),
            ("MCP_METRICS_PUSH_INSTANCE", "host-1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_SERVICE_NAME", "svc"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "2500"),
            ("MCP_METRICS_SERIES_LIMIT", "42"),
        ])
        .unwrap();
        assert_eq!(s.kind, ExporterKind::Push);
        assert_eq!(s.listen, Some("[::1]:9000".parse().unwrap()));
        assert_eq!(
            s.auth,
            Some(Auth::Basic {
                user: "prom".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(s.push_url.unwrap(), "http://127.0.0.1:9091/");
        assert_eq!(s.push_interval, Duration::from_millis(500));
        assert_eq!(
            (s.push_job.as_deref(), s.push_instance.as_deref()),
            (Some("mcp"), Some("host-1"))
        );
        assert_eq!(s.otlp_endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(s.service_name.as_deref(), Some("svc"));
        assert_eq!(s.otlp_interval, Duration::from_millis(2500));
        assert_eq!(
            settings(&[("MCP_METRICS_LISTEN", "off")]).unwrap().listen,
            None
        );
    }

    #[test]
    fn the_metrics_endpoint_wins_and_is_used_as_is() {
        let s = settings(&[
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://c:4318/custom",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318"),
        ])
        .unwrap();
        assert_eq!(s.otlp_endpoint, "http://c:4318/custom");
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let cases = [
            ("MCP_METRICS_EXPORTER", "prometheus2"),
            ("MCP_METRICS_LISTEN", "localhost"),
            ("MCP_METRICS_PUSH_URL", "https://gw:9091"),
            ("MCP_METRICS_PUSH_INTERVAL", "15"),
            ("MCP_METRICS_PUSH_INTERVAL", "0s"),
            ("MCP_METRICS_PUSH_INTERVAL", "1 fortnight"),
            ("MCP_METRICS_STDOUT_INTERVAL", "-1s"),
            ("MCP_METRICS_SERIES_LIMIT", "0"),
            ("MCP_METRICS_SERIES_LIMIT", "many"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://c"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1s"),
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

    #[test]
    fn secrets_are_not_repeated_in_errors() {
        for (variable, value) in [
            ("MCP_METRICS_BASIC_AUTH", "onlyuser"),
            ("MCP_METRICS_BASIC_AUTH", ":pw"),
            ("MCP_METRICS_BEARER_TOKEN", "a b"),
        ] {
            let err = error(&[(variable, value)]);
            assert_eq!(err.variable, variable);
            assert!(!err.to_string().contains(value), "{err}");
            assert!(err.to_string().contains("<hidden"), "{err}");
        }
        let err = error(&[
            ("MCP_METRICS_BASIC_AUTH", "u:p"),
            ("MCP_METRICS_BEARER_TOKEN", "t"),
        ]);
        assert!(err.reason.contains("set only one"), "{err}");
    }

    #[test]
    fn push_needs_a_url() {
        let err = error(&[("MCP_METRICS_EXPORTER", "push")]);
        assert_eq!(err.variable, "MCP_METRICS_PUSH_URL");
        assert!(err.to_string().contains("required"), "{err}");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let s = settings(&[("MCP_METRICS_EXPORTER", ""), ("MCP_METRICS_LISTEN", "  ")]).unwrap();
        assert_eq!(s.kind, ExporterKind::Prometheus);
        assert_eq!(s.listen, Some(DEFAULT_LISTEN));
    }
}
