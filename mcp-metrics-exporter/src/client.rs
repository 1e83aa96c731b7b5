//! The clients of the outbound connections, built from an [`Outbound`] when an exporter is
//! built: the async HTTP client of push and OTLP metrics (reqwest, with headers, timeout and
//! gzip), the blocking one of the OTLP span exporter, and the gRPC channel of OTLP spans, all on
//! the same rustls configuration. Problems with certificates or keys surface here, never at the
//! first export.

use std::fmt;
#[cfg(any(feature = "push", feature = "otlp"))]
use std::time::Duration;

#[cfg(any(feature = "push", feature = "otlp"))]
use http::Method;

#[cfg(any(feature = "push", feature = "otlp"))]
use crate::config::outbound::Compression;
use crate::config::outbound::Outbound;
use crate::error::ConfigError;

#[cfg(any(feature = "push", feature = "otlp"))]
/// How much of an error response body goes into the log.
const ERROR_BODY_LIMIT: usize = 200;
const USER_AGENT: &str = concat!("mcp-metrics-exporter/", env!("CARGO_PKG_VERSION"));

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
            headers: outbound.headers.clone(),
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
#[cfg(any(feature = "telemetry-grpc", feature = "otlp-grpc"))]
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
}
