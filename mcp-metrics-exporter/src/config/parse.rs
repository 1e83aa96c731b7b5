//! One parser per kind of configuration value. Each takes the variable (or builder setting) the
//! value came from, ignores surrounding spaces, and returns a [`ConfigError`] that names the
//! variable and the value; secrets (credentials, tokens, header lists) are shown by their length
//! only, and no message repeats a part of one.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::ConfigError;

/// One of a fixed set of names, in any case: `options` pairs each name with its value.
pub(crate) fn choice<T: Copy>(
    variable: &str,
    value: &str,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    let wanted = value.trim();
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
            ConfigError::new(
                variable,
                value,
                format!("expected one of {}", names.join(", ")),
            )
        })
}

/// `true` or `false`, in any case.
#[cfg(feature = "push")]
pub(crate) fn boolean(variable: &str, value: &str) -> Result<bool, ConfigError> {
    choice(variable, value, &[("true", true), ("false", false)])
}

/// A whole number greater than zero.
pub(crate) fn positive(variable: &str, value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(ConfigError::new(
            variable,
            value,
            "expected a whole number greater than zero",
        )),
        Ok(n) => Ok(n),
    }
}

/// A whole number greater than zero, as a size.
pub(crate) fn size(variable: &str, value: &str) -> Result<usize, ConfigError> {
    positive(variable, value).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// A whole number, zero included, such as a limit on the attributes of a span.
#[cfg(feature = "telemetry")]
pub(crate) fn count(variable: &str, value: &str) -> Result<u32, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(variable, value, "expected a whole number, 0 or more"))
}

/// A ratio from 0 to 1, such as `0.01`.
#[cfg(feature = "telemetry")]
pub(crate) fn ratio(variable: &str, value: &str) -> Result<f64, ConfigError> {
    match value.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(ConfigError::new(
            variable,
            value,
            "expected a ratio from 0 to 1, such as 0.01",
        )),
    }
}

/// A duration with its unit, as our own variables give them: `500ms`, `15s`, `2m`, `1h`;
/// greater than zero.
pub(crate) fn duration(variable: &str, value: &str) -> Result<Duration, ConfigError> {
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
        return Err(bad("the duration must be greater than zero"));
    }
    Ok(duration)
}

/// Whole milliseconds greater than zero, as the OpenTelemetry variables give durations.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) fn millis(variable: &str, value: &str) -> Result<Duration, ConfigError> {
    positive(variable, value)
        .map(Duration::from_millis)
        .map_err(|e| ConfigError {
            reason: "expected whole milliseconds greater than zero, such as 10000".into(),
            ..e
        })
}

/// A listen address, `IP:port`, or `none` for no listener.
pub(crate) fn listen(variable: &str, value: &str) -> Result<Option<SocketAddr>, ConfigError> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        ConfigError::new(
            variable,
            value,
            "expected IP:port such as 127.0.0.1:9464 or [::1]:9464, or none",
        )
    })
}

/// An `http://` or `https://` URL with a host, without credentials or a query string.
#[cfg(feature = "_client")]
pub(crate) fn url(variable: &str, value: &str) -> Result<http::Uri, ConfigError> {
    let trimmed = value.trim();
    let authority = trimmed
        .split_once("://")
        .map_or(trimmed, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return Err(ConfigError::secret(
            variable,
            value,
            "credentials in the URL are not supported: use the basic-auth or headers setting",
        ));
    }
    let uri: http::Uri = trimmed
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
    if uri.query().is_some() {
        return Err(ConfigError::new(
            variable,
            value,
            "the URL must not have a query string",
        ));
    }
    Ok(uri)
}

/// Credentials, `user:password`: neither part empty, the password may contain `:`. A secret.
pub(crate) fn credentials(variable: &str, value: &str) -> Result<(String, String), ConfigError> {
    let bad = |reason: &str| ConfigError::secret(variable, value, reason);
    let (user, password) = value
        .split_once(':')
        .ok_or_else(|| bad("expected user:password"))?;
    if user.is_empty() {
        return Err(bad("the user name before ':' is empty"));
    }
    if password.is_empty() {
        return Err(bad("the password after ':' is empty"));
    }
    Ok((user.to_owned(), password.to_owned()))
}

/// A bearer token: not empty, without white space. A secret.
pub(crate) fn token(variable: &str, value: &str) -> Result<String, ConfigError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(ConfigError::secret(
            variable,
            value,
            "a token must be non-empty without spaces",
        ));
    }
    Ok(value.to_owned())
}

/// Names separated by commas, each trimmed; empty ones are skipped.
#[cfg(feature = "telemetry")]
pub(crate) fn names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A `key=value` list such as `OTEL_RESOURCE_ATTRIBUTES`: members separated by commas, with
/// optional spaces around them, keys HTTP tokens, values percent-decoded as UTF-8 (the W3C
/// Baggage format without properties). Empty members are skipped; a later duplicate key wins.
///
/// The specification lets an SDK discard a malformed value; here it is an error, like every
/// other bad variable, so that a typo shows at start-up rather than as missing attributes.
#[cfg(feature = "_client")]
pub(crate) fn key_values(
    variable: &str,
    value: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    key_value_list(value).map_err(|reason| ConfigError::new(variable, value, reason))
}

/// A header list such as `OTEL_EXPORTER_OTLP_HEADERS`: a [`key_values`] list of HTTP header
/// names and values. Values are secrets: an error shows the list by its length and names the
/// entry and its key only.
#[cfg(feature = "_client")]
pub(crate) fn header_list(
    variable: &str,
    value: &str,
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, ConfigError> {
    key_value_list(value)
        .and_then(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| header_pair(k, v))
                .collect::<Result<_, _>>()
        })
        .map_err(|reason| ConfigError::secret(variable, value, reason))
}

/// One header, its value a secret: an error names the header only.
#[cfg(feature = "_client")]
pub(crate) fn header(
    setting: &str,
    name: &str,
    value: &str,
) -> Result<(http::HeaderName, http::HeaderValue), ConfigError> {
    header_pair(name, value).map_err(|reason| ConfigError::secret(setting, value, reason))
}

#[cfg(feature = "_client")]
fn header_pair(name: &str, value: &str) -> Result<(http::HeaderName, http::HeaderValue), String> {
    let name = http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))?;
    let mut value = http::HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of header {name} is not a valid HTTP header value"))?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// The members of a `key=value` list, or why it is malformed; no message repeats a value.
#[cfg(feature = "_client")]
fn key_value_list(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (index, member) in value.split(',').enumerate() {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        let entry = index + 1;
        let (key, raw) = member.split_once('=').ok_or_else(|| {
            format!("entry {entry} has no '=': expected key=value pairs separated by commas")
        })?;
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(is_token_byte) {
            return Err(format!(
                "entry {entry}: {key:?} is not a valid key (letters, digits and !#$%&'*+-.^_`|~ only)"
            ));
        }
        let decoded = percent_decode(raw.trim()).map_err(|reason| format!("`{key}`: {reason}"))?;
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), decoded));
    }
    Ok(out)
}

/// A byte of an HTTP token (RFC 9110 `tchar`), which is what a W3C Baggage key is.
#[cfg(feature = "_client")]
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits, or bytes that are not UTF-8, are
/// an error.
#[cfg(feature = "_client")]
fn percent_decode(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let escape = bytes.get(i + 1..i + 3);
            if !escape.is_some_and(|e| e.iter().all(u8::is_ascii_hexdigit)) {
                return Err("`%` must start a two-digit hex escape such as %2C".into());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| "the decoded value is not UTF-8".into())
}

/// A `RUST_LOG` filter.
#[cfg(feature = "telemetry")]
pub(crate) fn filter(variable: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    tracing_subscriber::EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|e| ConfigError::new(variable, value, format!("not a filter: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_ignore_case_and_list_the_options() {
        let options = [("gzip", 1), ("none", 0)];
        assert_eq!(choice("V", " GZIP ", &options), Ok(1));
        let err = choice("V", "zstd", &options).unwrap_err();
        assert_eq!((err.variable.as_str(), err.value.as_str()), ("V", "zstd"));
        assert_eq!(err.reason, "expected one of gzip, none");
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(positive("V", " 42 "), Ok(42));
        for bad in ["0", "-1", "1.5", "many", ""] {
            assert_eq!(positive("V", bad).unwrap_err().value, bad);
        }
        assert_eq!(duration("V", "500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("V", "2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("V", "1h"), Ok(Duration::from_secs(3600)));
        for bad in ["15", "0s", "-1s", "1 fortnight", "s"] {
            let err = duration("V", bad).unwrap_err();
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn listen_addresses_or_none() {
        assert_eq!(
            listen("V", "[::1]:9000"),
            Ok(Some("[::1]:9000".parse().unwrap()))
        );
        assert_eq!(listen("V", " None "), Ok(None));
        assert!(listen("V", "off").is_err(), "`none` is the one spelling");
        assert!(listen("V", "localhost").is_err());
    }

    #[test]
    fn credentials_and_tokens_are_secrets() {
        assert_eq!(
            credentials("V", "prom:pa:ss"),
            Ok(("prom".into(), "pa:ss".into()))
        );
        for bad in ["s3cret-no-colon", ":s3cret", "s3cret:"] {
            let err = credentials("V", bad).unwrap_err();
            assert!(!err.to_string().contains("s3cret"), "{err}");
            assert!(err.value.starts_with("<hidden"), "{err}");
        }
        let err = token("V", "s3cret token").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[cfg(feature = "_client")]
    #[test]
    fn urls_are_http_with_a_host_and_nothing_secret() {
        assert_eq!(
            url("V", " https://gw:9091 ").unwrap().to_string(),
            "https://gw:9091/"
        );
        for bad in ["ftp://gw", "gw:9091", "http://gw/?a=1", "http://"] {
            assert_eq!(url("V", bad).unwrap_err().value, bad, "{bad}");
        }
        let err = url("V", "http://u:s3cret@gw:9091").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[cfg(feature = "_client")]
    #[test]
    fn key_value_lists_are_percent_decoded_and_the_last_key_wins() {
        let parsed = key_values(
            "V",
            " deployment.environment.name=prod , team=a%2Cb%3Dc,note=caf%C3%A9 x,, k8s.pod.name=p-1 ",
        )
        .unwrap();
        let expected: Vec<(String, String)> = [
            ("deployment.environment.name", "prod"),
            ("team", "a,b=c"),
            ("note", "café x"),
            ("k8s.pod.name", "p-1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        assert_eq!(parsed, expected);
        assert_eq!(
            key_values("V", "a=1,b=2,a=3").unwrap(),
            [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(key_values("V", "empty=").unwrap()[0].1, "");
        for bad in [
            "novalue",
            "=v",
            "a b=1",
            "k=%zz",
            "k=50%",
            "k=%C3",
            "k=1,broken",
        ] {
            let err = key_values("OTEL_RESOURCE_ATTRIBUTES", bad).unwrap_err();
            assert_eq!(
                (err.variable.as_str(), err.value.as_str()),
                ("OTEL_RESOURCE_ATTRIBUTES", bad)
            );
        }
    }

    #[cfg(feature = "_client")]
    #[test]
    fn header_lists_are_sensitive_and_never_echo_a_value() {
        let headers = header_list("V", " api-key = a%20b%2Cc , x-tenant=t1,, X-Empty= ").unwrap();
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
        for bad in [
            "novalue-s3cret",
            "=s3cret",
            "bad key=s3cret",
            "k=%FFs3cret",
            "k=line%0As3cret",
            "api-key s3cret",
        ] {
            let err = header_list("OTEL_EXPORTER_OTLP_HEADERS", bad).expect_err(bad);
            let message = err.to_string();
            assert!(message.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
            assert!(message.contains("<hidden,"), "{message}");
        }
    }
}
