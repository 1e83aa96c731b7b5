//! What surrounds the URL of an outbound connection (push, OTLP metrics, OTLP traces):
//! [`Outbound`] with its TLS configuration, extra headers, timeout and [`Compression`], and the
//! TLS files named by variables. The clients built from it are in `client`.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::parse;
use crate::error::ConfigError;
use crate::tls::TlsConfig;

/// Default upper bound on one export request, connection included (the OpenTelemetry default).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Body compression of export requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Bodies are sent as they are.
    #[default]
    None,
    /// Bodies are gzip-compressed and sent with `Content-Encoding: gzip`.
    Gzip,
}

impl Compression {
    /// Parses `gzip` or `none`, the values of `OTEL_EXPORTER_OTLP_COMPRESSION`.
    pub(crate) fn parse(variable: &str, value: &str) -> Result<Self, ConfigError> {
        parse::choice(
            variable,
            value,
            &[("gzip", Self::Gzip), ("none", Self::None)],
        )
    }
}

/// Everything about an exporter's outbound connection besides its URL: TLS, extra headers, a
/// timeout per request and body compression.
///
/// ```
/// use mcp_metrics_exporter::{Compression, Outbound, TlsConfig};
/// use std::time::Duration;
///
/// let outbound = Outbound::new()
///     .tls(TlsConfig::new())
///     .header("x-api-key", "secret")?
///     .timeout(Duration::from_secs(5))
///     .compression(Compression::Gzip);
/// assert_eq!(outbound.header_names(), ["x-api-key"]);
/// // Header values never show in debug output.
/// assert!(!format!("{outbound:?}").contains("secret"));
/// # Ok::<(), mcp_metrics_exporter::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Outbound {
    pub(crate) tls: TlsConfig,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
}

impl Default for Outbound {
    fn default() -> Self {
        Self {
            tls: TlsConfig::default(),
            headers: HeaderMap::new(),
            timeout: DEFAULT_TIMEOUT,
            compression: Compression::None,
        }
    }
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: <hidden, {} bytes>", value.len()))
            .collect();
        f.debug_struct("Outbound")
            .field("tls", &self.tls)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .finish()
    }
}

impl Outbound {
    /// Platform roots, no extra headers, a 10 s timeout, no compression.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the TLS configuration.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Sends this header with every request, in place of any earlier value of the same name
    /// (the value is treated as a secret).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the header when the name or value is not valid in HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ConfigError> {
        let (name, value) = parse::header("header", name, value)?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Sends `Authorization: Basic …` with these credentials.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.headers.insert(
            http::header::AUTHORIZATION,
            basic_auth_value(user, password),
        );
        self
    }

    /// Upper bound on one request, connection and TLS handshake included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Compression of request bodies.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The names of the extra headers, in order (values are secrets and are not shown).
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.keys().map(HeaderName::as_str).collect()
    }

    /// Replaces the extra headers with those of a header list variable.
    pub(crate) fn set_headers(&mut self, headers: Vec<(HeaderName, HeaderValue)>) {
        self.headers = headers.into_iter().collect();
    }
}

fn basic_auth_value(user: &str, password: &str) -> HeaderValue {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// `user:password` credentials as the value of an `Authorization: Basic` header.
#[cfg(feature = "push")]
pub(crate) fn basic_auth_header(variable: &str, value: &str) -> Result<HeaderValue, ConfigError> {
    let (user, password) = parse::credentials(variable, value)?;
    Ok(basic_auth_value(&user, &password))
}

/// A variable and its value, such as `("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem")`.
pub(crate) type Named<'a> = Option<(&'static str, &'a str)>;

/// Reads the CA bundle and the client certificate and key named by these variables into `tls`.
/// A certificate without its key, or a key without its certificate, is an error.
pub(crate) fn tls_files(
    mut tls: TlsConfig,
    ca: Named<'_>,
    certificate: Named<'_>,
    key: Named<'_>,
) -> Result<TlsConfig, ConfigError> {
    if let Some((var, path)) = ca {
        tls = tls.ca_file_for(var, Path::new(path))?;
    }
    match (certificate, key) {
        (Some((cert_var, cert)), Some((key_var, key))) => {
            tls.identity_files_for((cert_var, Path::new(cert)), (key_var, Path::new(key)))
        }
        (Some((var, value)), None) => Err(ConfigError::new(
            var,
            value,
            "a client certificate needs its private key: set the matching CLIENT_KEY variable too",
        )),
        (None, Some((var, value))) => Err(ConfigError::new(
            var,
            value,
            "a client key needs its certificate: set the matching CLIENT_CERTIFICATE variable too",
        )),
        (None, None) => Ok(tls),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_parses_the_specified_values() {
        assert_eq!(Compression::parse("V", "gzip"), Ok(Compression::Gzip));
        assert_eq!(Compression::parse("V", " NONE "), Ok(Compression::None));
        assert_eq!(Compression::parse("V", "zstd").unwrap_err().variable, "V");
    }

    #[test]
    fn a_header_set_twice_is_sent_once_with_its_last_value() {
        let outbound = Outbound::new()
            .header("authorization", "Bearer s3cret")
            .unwrap()
            .basic_auth("u", "pw-123")
            .header("X-Tenant", "a")
            .unwrap()
            .header("x-tenant", "b")
            .unwrap();
        assert_eq!(outbound.header_names(), ["authorization", "x-tenant"]);
        assert_eq!(outbound.headers.get_all("x-tenant").iter().count(), 1);
        assert_eq!(outbound.headers["x-tenant"], "b");
        assert_eq!(outbound.headers["authorization"], "Basic dTpwdy0xMjM=");
        let shown = format!("{outbound:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pw-123"),
            "{shown}"
        );
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let cert = Some(("CERT_VAR", "/tmp/c.pem"));
        let key = Some(("KEY_VAR", "/tmp/k.pem"));
        let err = tls_files(TlsConfig::new(), None, cert, None).unwrap_err();
        assert_eq!(err.variable, "CERT_VAR");
        assert!(err.reason.contains("CLIENT_KEY"), "{err}");
        let err = tls_files(TlsConfig::new(), None, None, key).unwrap_err();
        assert_eq!(err.variable, "KEY_VAR");
    }
}
