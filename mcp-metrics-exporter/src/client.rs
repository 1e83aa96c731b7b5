//! A small HTTP/1 client (hyper-util) for push and OTLP, with connect and request timeouts.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::ConfigError;

/// Upper bound on one export request, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an error response body goes into the log.
const ERROR_BODY_LIMIT: usize = 512;

#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends one request; any status outside 2xx is an error carrying the start of the body.
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &Uri,
        content_type: &str,
        body: Bytes,
    ) -> Result<(), String> {
        let request = Request::builder()
            .method(method)
            .uri(uri.clone())
            .header(http::header::CONTENT_TYPE, content_type)
            .header(
                http::header::USER_AGENT,
                concat!("mcp-metrics-exporter/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
            .map_err(|e| format!("cannot build request to {uri}: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if status.is_success() {
                Ok(())
            } else {
                let text =
                    String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_LIMIT)]).into_owned();
                Err(format!("{uri} answered {status}: {}", text.trim()))
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("{uri}: no answer within {REQUEST_TIMEOUT:?}")))
    }
}

/// Parses an `http://host[:port][/path]` URL. HTTPS is refused: this client speaks plain
/// HTTP only, so a TLS destination needs a local collector or proxy.
pub(crate) fn parse_http_url(variable: &str, value: &str) -> Result<Uri, ConfigError> {
    let trimmed = value.trim();
    let uri: Uri = trimmed
        .parse()
        .map_err(|e| ConfigError::new(variable, value, format!("not a URL ({e})")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(ConfigError::new(
                variable,
                value,
                "https is not supported; point it at a plain-HTTP collector or proxy (http://host:port)",
            ));
        }
        _ => return Err(ConfigError::new(variable, value, "expected an http:// URL")),
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(ConfigError::new(variable, value, "the URL has no host"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_with_a_host_are_accepted() {
        assert!(parse_http_url("V", "http://127.0.0.1:9091").is_ok());
        assert!(parse_http_url("V", "http://gw.local/base/").is_ok());
        for bad in [
            "https://gw:9091",
            "gw:9091",
            "ftp://x",
            "http://",
            "not a url",
            "http://h/?a=b",
        ] {
            let err = parse_http_url("V", bad).expect_err(bad);
            assert_eq!(err.variable, "V");
            assert_eq!(err.value, bad);
            assert!(
                err.to_string().contains("V") && err.to_string().contains(bad),
                "{err}"
            );
        }
    }
}
