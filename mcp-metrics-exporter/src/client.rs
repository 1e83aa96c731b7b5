//! Outbound connections of push, OTLP metrics and the OTLP trace exporter: one TLS
//! configuration ([`TlsConfig`]: rustls with the ring provider, the platform's roots or a CA
//! bundle, an optional client certificate), the options around it ([`Outbound`]: headers,
//! timeout, gzip), and the HTTP client built from both (reqwest). Problems with certificates,
//! keys or headers surface here, when the exporter is built, never at the first export.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[cfg(any(feature = "push", feature = "otlp"))]
use http::Method;
use http::{HeaderName, HeaderValue};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{ConfigError, hidden};

/// Default upper bound on one export request, connection included (the OpenTelemetry default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
#[cfg(any(feature = "push", feature = "otlp"))]
/// How much of an error response body goes into the log.
const ERROR_BODY_LIMIT: usize = 200;
const USER_AGENT: &str = concat!("mcp-metrics-exporter/", env!("CARGO_PKG_VERSION"));

/// The ring provider: rustls' cryptography without building aws-lc.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes the ring provider the process's default rustls provider, unless the application
/// installed one. reqwest is built here without a provider of its own (to avoid aws-lc), and
/// Cargo unifies that choice with every other reqwest in the program: a client built elsewhere
/// without a default provider would panic. Called when an exporter or the tracing pipeline is
/// built, which is at start-up.
pub(crate) fn install_default_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only if another thread installed one meanwhile, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[derive(Clone)]
struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

/// How an exporter verifies the server and proves its own identity over TLS. One type for the
/// Pushgateway, OTLP metrics and OTLP traces (HTTP and gRPC).
///
/// By default the server certificate is checked against the platform's trust store (on Linux
/// the system CA bundle, honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`). A CA bundle set with
/// [`TlsConfig::ca_certificate_file`] replaces those roots, as the OpenTelemetry SDKs do with
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`. A client certificate and key enable mutual TLS.
///
/// Every file is read and checked when it is set, so a bad path or PEM file is a
/// [`ConfigError`] at start-up.
#[derive(Clone, Default)]
pub struct TlsConfig {
    roots: Option<Vec<CertificateDer<'static>>>,
    identity: Option<ClientIdentity>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field(
                "roots",
                &match &self.roots {
                    Some(roots) => format!("{} CA certificate(s)", roots.len()),
                    None => "platform".to_owned(),
                },
            )
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| {
        ConfigError::new(
            setting,
            &path.display().to_string(),
            format!("cannot read the file: {e}"),
        )
    })
}

fn parse_certificates(
    setting: &str,
    shown: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ConfigError::new(setting, shown, format!("not a PEM certificate file: {e}"))
        })?;
    if certs.is_empty() {
        return Err(ConfigError::new(
            setting,
            shown,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
        ));
    }
    Ok(certs)
}

impl TlsConfig {
    /// The platform's trust store, no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts only the CA certificates in the PEM file at `path` (one or more certificates).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the file cannot be read or holds no usable certificate.
    pub fn ca_certificate_file(self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        self.ca_file_for("ca_certificate", path.as_ref())
    }

    /// Trusts only the CA certificates in `pem`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `pem` holds no usable certificate.
    pub fn ca_certificate_pem(self, pem: &[u8]) -> Result<Self, ConfigError> {
        self.ca_pem_for("ca_certificate", "<PEM>", pem)
    }

    /// Presents the certificate chain and private key in these PEM files (mutual TLS).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when a file cannot be read, holds no certificate or key, or the key
    /// does not belong to the certificate.
    pub fn client_identity_files(
        self,
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, ConfigError> {
        self.identity_files_for(
            ("client_certificate", certificate.as_ref()),
            ("client_key", key.as_ref()),
        )
    }

    /// Presents the certificate chain and private key in `certificate` and `key` (PEM).
    ///
    /// # Errors
    ///
    /// As [`TlsConfig::client_identity_files`].
    pub fn client_identity_pem(self, certificate: &[u8], key: &[u8]) -> Result<Self, ConfigError> {
        self.identity_pem_for(
            ("client_certificate", "<PEM>", certificate),
            ("client_key", "<PEM>", key),
        )
    }

    /// Whether a CA bundle replaces the platform's roots.
    pub fn has_ca_certificates(&self) -> bool {
        self.roots.is_some()
    }

    /// Whether a client certificate is presented.
    pub fn has_client_identity(&self) -> bool {
        self.identity.is_some()
    }

    pub(crate) fn ca_file_for(self, setting: &str, path: &Path) -> Result<Self, ConfigError> {
        let pem = read_file(setting, path)?;
        self.ca_pem_for(setting, &path.display().to_string(), &pem)
    }

    fn ca_pem_for(mut self, setting: &str, shown: &str, pem: &[u8]) -> Result<Self, ConfigError> {
        let certs = parse_certificates(setting, shown, pem)?;
        let mut store = rustls::RootCertStore::empty();
        for cert in &certs {
            store.add(cert.clone()).map_err(|e| {
                ConfigError::new(setting, shown, format!("not a usable CA certificate: {e}"))
            })?;
        }
        self.roots = Some(certs);
        Ok(self)
    }

    pub(crate) fn identity_files_for(
        self,
        (cert_setting, cert_path): (&str, &Path),
        (key_setting, key_path): (&str, &Path),
    ) -> Result<Self, ConfigError> {
        let cert = read_file(cert_setting, cert_path)?;
        let key = read_file(key_setting, key_path)?;
        self.identity_pem_for(
            (cert_setting, &cert_path.display().to_string(), &cert),
            (key_setting, &key_path.display().to_string(), &key),
        )
    }

    fn identity_pem_for(
        mut self,
        (cert_setting, cert_shown, cert): (&str, &str, &[u8]),
        (key_setting, key_shown, key): (&str, &str, &[u8]),
    ) -> Result<Self, ConfigError> {
        let chain = parse_certificates(cert_setting, cert_shown, cert)?;
        // The key's bytes never go into an error: only its file name.
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
            ConfigError::new(
                key_setting,
                key_shown,
                format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1) in the file: {e}"),
            )
        })?;
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider()).map_err(
            |e| {
                ConfigError::new(
                    key_setting,
                    key_shown,
                    format!("the key does not fit the certificate in {cert_setting}: {e}"),
                )
            },
        )?;
        self.identity = Some(ClientIdentity {
            chain,
            key: Arc::new(key),
        });
        Ok(self)
    }

    /// The rustls configuration, offering `alpn` protocols.
    pub(crate) fn rustls_config(
        &self,
        alpn: &[&[u8]],
    ) -> Result<rustls::ClientConfig, rustls::Error> {
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.roots {
            Some(certs) => {
                let mut store = rustls::RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone())?;
                }
                builder.with_root_certificates(store)
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(
                    rustls_platform_verifier::Verifier::new(provider())?,
                )),
        };
        let mut config = match &self.identity {
            Some(identity) => {
                builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// Body compression of export requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Bodies are sent as they are.
    #[default]
    None,
    /// Bodies are gzip-compressed and sent with `Content-Encoding: gzip`.
    Gzip,
}

impl std::str::FromStr for Compression {
    type Err = String;

    /// Parses `gzip` or `none` (any case), the values of `OTEL_EXPORTER_OTLP_COMPRESSION`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" => Ok(Self::Gzip),
            "none" => Ok(Self::None),
            _ => Err("expected gzip or none".to_owned()),
        }
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
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
}

impl Default for Outbound {
    fn default() -> Self {
        Self {
            tls: TlsConfig::default(),
            headers: Vec::new(),
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

    /// Adds a header to every request (its value is treated as a secret).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the header when the name or value is not valid in HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ConfigError> {
        self.headers.push(header_pair("header", name, value)?);
        Ok(self)
    }

    /// Sends `Authorization: Basic …` with these credentials.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.headers
            .retain(|(n, _)| n != http::header::AUTHORIZATION);
        self.headers.push((
            http::header::AUTHORIZATION,
            basic_auth_value(user, password),
        ));
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
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
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

#[cfg(feature = "push")]
/// Parses `user:password` into an `Authorization` header value.
pub(crate) fn parse_basic_auth_header(
    variable: &str,
    value: &str,
) -> Result<HeaderValue, ConfigError> {
    let bad = |reason: &str| ConfigError::new(variable, &hidden(value), reason);
    let (user, password) = value
        .split_once(':')
        .ok_or_else(|| bad("expected user:password"))?;
    if user.is_empty() {
        return Err(bad("the user name before ':' is empty"));
    }
    Ok(basic_auth_value(user, password))
}

fn header_pair(
    setting: &str,
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        ConfigError::new(
            setting,
            &hidden(value),
            format!("{name:?} is not a valid HTTP header name"),
        )
    })?;
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
        ConfigError::new(
            setting,
            &hidden(value),
            format!("the value of header {name} is not a valid HTTP header value"),
        )
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// Parses a header list in the format of `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs
/// separated by commas, with keys and values percent-decoded and surrounding spaces trimmed.
/// Values are secrets: an error shows the list by length and names the offending key only.
pub(crate) fn parse_header_list(
    variable: &str,
    list: &str,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    let bad = |reason: String| ConfigError::new(variable, &hidden(list), reason);
    let decode = |part: &str, what: &str, index: usize| {
        percent_encoding::percent_decode_str(part.trim())
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                bad(format!(
                    "the {what} of entry {} is not valid percent-encoded UTF-8",
                    index + 1
                ))
            })
    };
    let mut headers = Vec::new();
    for (index, entry) in list.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = entry.split_once('=') else {
            return Err(bad(format!(
                "entry {} has no '=': expected key=value pairs separated by commas",
                index + 1
            )));
        };
        let key = decode(key, "key", index)?;
        let value = decode(value, "value", index)?;
        if key.is_empty() {
            return Err(bad(format!("entry {} has an empty key", index + 1)));
        }
        let pair = header_pair(variable, &key, &value).map_err(|e| bad(e.reason))?;
        headers.push(pair);
    }
    Ok(headers)
}

#[cfg(any(feature = "push", feature = "otlp"))]
/// Why one request failed, in a few words for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError(pub(crate) String);

#[cfg(any(feature = "push", feature = "otlp"))]
impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(any(feature = "push", feature = "otlp"))]
/// Finds the most telling cause in an error chain: a TLS error, a refused connection, a
/// timeout.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    let no_answer = || format!("no answer within {}", crate::task::human(timeout));
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return describe_tls(tls);
        }
        innermost = e.to_string();
        next = e.source();
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::TimedOut => return no_answer(),
                _ => {}
            }
            // An I/O error hides what it wraps from `source()`.
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
            }
        }
    }
    if error.is_timeout() {
        return no_answer();
    }
    innermost
}

#[cfg(any(feature = "push", feature = "otlp"))]
pub(crate) fn describe_tls(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::InvalidCertificate(C::UnknownIssuer) => "certificate not trusted".into(),
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "certificate does not match the host name".into()
        }
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "certificate expired".into()
        }
        E::AlertReceived(
            alert @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::HandshakeFailure
            | A::CertificateUnknown),
        ) => format!(
            "the server refused the TLS handshake ({alert:?}): check the client certificate"
        ),
        other => format!("TLS error: {other}"),
    }
}

#[cfg(any(feature = "push", feature = "otlp"))]
/// The client of one exporter: a reqwest client on the exporter's TLS configuration, with its
/// headers, timeout and compression.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    headers: http::HeaderMap,
    timeout: Duration,
    compression: Compression,
}

/// Maps a failure to build the TLS configuration to the setting that holds it.
fn tls_error(setting: &str, error: impl fmt::Display) -> ConfigError {
    ConfigError::new(
        setting,
        "",
        format!("cannot set up TLS with this configuration: {error}"),
    )
}

#[cfg(any(feature = "push", feature = "otlp"))]
impl HttpClient {
    /// Builds the client; `setting` names the configuration in errors.
    pub(crate) fn new(setting: &str, outbound: &Outbound) -> Result<Self, ConfigError> {
        let tls = outbound
            .tls
            .rustls_config(&[b"http/1.1"])
            .map_err(|e| tls_error(setting, e))?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(outbound.timeout)
            .connect_timeout(outbound.timeout)
            .tcp_nodelay(true)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| tls_error(setting, e))?;
        Ok(Self {
            client,
            headers: outbound.headers.iter().cloned().collect(),
            timeout: outbound.timeout,
            compression: outbound.compression,
        })
    }

    /// Compresses a body as configured (CPU work: call it off the async workers).
    pub(crate) fn encode(&self, body: Vec<u8>) -> Vec<u8> {
        match self.compression {
            Compression::None => body,
            Compression::Gzip => gzip(&body),
        }
    }

    /// Sends one request with a body from [`HttpClient::encode`]; any status outside 2xx is an
    /// error carrying the start of the answer.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &reqwest::Url,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    ) -> Result<(), SendError> {
        let mut request = self
            .client
            .request(method, url.clone())
            .headers(self.headers.clone());
        if let Some(content_type) = content_type {
            request = request.header(http::header::CONTENT_TYPE, content_type);
            if self.compression == Compression::Gzip {
                request = request.header(http::header::CONTENT_ENCODING, "gzip");
            }
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError(describe(&e, self.timeout)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.trim().chars().take(ERROR_BODY_LIMIT).collect();
        Err(SendError(if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        }))
    }
}

#[cfg(any(feature = "push", feature = "otlp"))]
/// Gzip-compresses `body`.
pub(crate) fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// The blocking client the OpenTelemetry span exporter sends with, on the same TLS settings.
#[cfg(feature = "telemetry")]
pub(crate) fn blocking_client(
    setting: &str,
    outbound: &Outbound,
) -> Result<reqwest::blocking::Client, ConfigError> {
    let tls = outbound
        .tls
        .rustls_config(&[b"http/1.1"])
        .map_err(|e| tls_error(setting, e))?;
    let timeout = outbound.timeout;
    // The blocking client owns a runtime of its own: build it off any async context.
    std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .user_agent(USER_AGENT)
            .build()
    })
    .join()
    .map_err(|_| tls_error(setting, "building the HTTP client panicked"))?
    .map_err(|e| tls_error(setting, e))
}

/// A lazily connecting gRPC channel to `endpoint` over the same TLS settings (HTTP/2 by ALPN
/// for `https://`, cleartext HTTP/2 for `http://`).
#[cfg(feature = "telemetry-grpc")]
pub(crate) fn grpc_channel(
    setting: &str,
    endpoint: &str,
    outbound: &Outbound,
) -> Result<tonic::transport::Channel, ConfigError> {
    // The connector offers `h2` by ALPN itself.
    let tls = outbound
        .tls
        .rustls_config(&[])
        .map_err(|e| tls_error(setting, e))?;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(outbound.timeout));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http2()
        .wrap_connector(http);
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| ConfigError::new(setting, endpoint, format!("not a gRPC endpoint: {e}")))?
        .timeout(outbound.timeout)
        .user_agent(USER_AGENT)
        .map_err(|e| ConfigError::new(setting, endpoint, e.to_string()))?;
    Ok(endpoint.connect_with_connector_lazy(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_are_percent_decoded() {
        let headers =
            parse_header_list("V", " api-key = a%20b%2Cc , x-tenant=t1,, X-Empty= ").unwrap();
        let shown: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            shown,
            [
                ("api-key".to_owned(), "a b,c".to_owned()),
                ("x-tenant".to_owned(), "t1".to_owned()),
                ("x-empty".to_owned(), String::new()),
            ]
        );
        assert!(headers.iter().all(|(_, v)| v.is_sensitive()));
    }

    #[test]
    fn malformed_header_lists_name_the_variable_and_hide_values() {
        for bad in [
            "novalue",
            "=secret",
            "bad key=secret",
            "k=%FFsecret",
            "k=line\nbreak",
        ] {
            let err = parse_header_list("OTEL_EXPORTER_OTLP_HEADERS", bad).expect_err(bad);
            assert_eq!(err.variable, "OTEL_EXPORTER_OTLP_HEADERS");
            let message = err.to_string();
            assert!(message.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{message}");
            assert!(!message.contains("secret"), "{message}");
            assert!(message.contains("<hidden,"), "{message}");
        }
    }

    #[test]
    fn compression_parses_the_specified_values() {
        assert_eq!("gzip".parse(), Ok(Compression::Gzip));
        assert_eq!(" NONE ".parse(), Ok(Compression::None));
        assert!("zstd".parse::<Compression>().is_err());
    }

    #[cfg(any(feature = "push", feature = "otlp"))]
    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let body = b"metric 1\n".repeat(100);
        let packed = gzip(&body);
        assert!(packed.len() < body.len());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, body);
    }

    #[test]
    fn bad_pem_files_are_config_errors() {
        let dir = std::env::temp_dir().join(format!("mcp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let err = TlsConfig::new()
            .ca_file_for("CA_VAR", &junk)
            .expect_err("junk");
        assert_eq!(err.variable, "CA_VAR");
        assert!(err.reason.contains("no PEM certificate"), "{err}");
        let missing = dir.join("missing.pem");
        let err = TlsConfig::new()
            .ca_file_for("CA_VAR", &missing)
            .expect_err("missing");
        assert!(err.reason.contains("cannot read"), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn debug_output_hides_header_values() {
        let outbound = Outbound::new()
            .header("authorization", "Bearer s3cret")
            .unwrap()
            .basic_auth("u", "pw-123");
        let shown = format!("{outbound:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pw-123"),
            "{shown}"
        );
        assert_eq!(outbound.header_names(), ["authorization"]);
    }
}
