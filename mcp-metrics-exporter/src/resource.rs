//! The OpenTelemetry resource of this process, the same for OTLP metrics and spans:
//! `service.name`, `service.version`, `service.instance.id` and the attributes of
//! `OTEL_RESOURCE_ATTRIBUTES`.
//!
//! `service.instance.id` defaults to a random UUID (version 4) drawn once per process, as the
//! OpenTelemetry resource conventions recommend: it must be unique per instance of a service, and
//! a host name is not (several stdio servers run on one desktop, several containers can share a
//! host name); replicas that reported the same identity would overwrite each other's cumulative
//! series once a backend merges them. Set `OTEL_RESOURCE_ATTRIBUTES=service.instance.id=...` for
//! a stable one, such as the pod name.

use std::sync::OnceLock;

use crate::config::vars;
use crate::error::ConfigError;

/// `service.name`.
pub(crate) const SERVICE_NAME: &str = "service.name";
/// `service.version`.
pub(crate) const SERVICE_VERSION: &str = "service.version";
/// `service.instance.id`.
pub(crate) const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// The `service.instance.id` of this process when none is configured: a UUID drawn on first use.
pub(crate) fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// Parses `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, with optional
/// spaces around them, values percent-decoded as UTF-8 (the W3C Baggage format without
/// properties). Empty members are skipped; a later duplicate key wins.
///
/// The specification lets an SDK discard a malformed value; here it is a [`ConfigError`], like
/// every other bad variable, so that a typo shows at start-up rather than as missing attributes.
pub(crate) fn parse_attributes(value: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let bad = |reason: String| ConfigError::new(vars::OTEL_RESOURCE_ATTRIBUTES, value, reason);
    let mut out: Vec<(String, String)> = Vec::new();
    for member in value.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let (key, raw) = member
            .split_once('=')
            .ok_or_else(|| bad(format!("`{member}` is not key=value")))?;
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(is_token_byte) {
            return Err(bad(format!(
                "`{key}` is not a valid key (letters, digits and !#$%&'*+-.^_`|~ only)"
            )));
        }
        let decoded =
            percent_decode(raw.trim()).map_err(|reason| bad(format!("`{key}`: {reason}")))?;
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), decoded));
    }
    Ok(out)
}

/// A byte of an HTTP token (RFC 7230 `tchar`), which is what a W3C Baggage key is.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits, or bytes that are not UTF-8,
/// are an error.
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

/// The resource attributes, `service.name` first: `service_name` (set by `OTEL_SERVICE_NAME` or
/// in code) wins over a `service.name` in `from_env` (`OTEL_RESOURCE_ATTRIBUTES`), which wins over
/// `default_service`; `from_env` wins over `version` for `service.version` and over the process's
/// UUID for `service.instance.id`; its other attributes follow in their order.
pub(crate) fn attributes(
    service_name: Option<&str>,
    default_service: &str,
    version: Option<&str>,
    from_env: &[(String, String)],
) -> Vec<(String, String)> {
    let env = |key| find(from_env, key);
    let name = service_name
        .or_else(|| env(SERVICE_NAME))
        .unwrap_or(default_service);
    let mut out = vec![(SERVICE_NAME.to_owned(), name.to_owned())];
    if let Some(version) = env(SERVICE_VERSION).or(version) {
        out.push((SERVICE_VERSION.to_owned(), version.to_owned()));
    }
    let instance = env(SERVICE_INSTANCE_ID).unwrap_or(instance_id());
    out.push((SERVICE_INSTANCE_ID.to_owned(), instance.to_owned()));
    out.extend(
        from_env
            .iter()
            .filter(|(k, _)| {
                ![SERVICE_NAME, SERVICE_VERSION, SERVICE_INSTANCE_ID].contains(&k.as_str())
            })
            .cloned(),
    );
    out
}

fn find<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn resource_attributes_are_percent_decoded() {
        let parsed = parse_attributes(
            " deployment.environment.name=prod , team=a%2Cb%3Dc,note=caf%C3%A9 x,, k8s.pod.name=p-1 ",
        )
        .unwrap();
        assert_eq!(
            parsed,
            pairs(&[
                ("deployment.environment.name", "prod"),
                ("team", "a,b=c"),
                ("note", "café x"),
                ("k8s.pod.name", "p-1"),
            ])
        );
        assert_eq!(
            parse_attributes("a=1,b=2,a=3").unwrap(),
            pairs(&[("b", "2"), ("a", "3")]),
            "a later key wins"
        );
        assert_eq!(parse_attributes("empty=").unwrap(), pairs(&[("empty", "")]));
        assert!(parse_attributes("").unwrap().is_empty());
    }

    #[test]
    fn malformed_resource_attributes_name_the_variable() {
        for bad in [
            "novalue",
            "=v",
            "a b=1",
            "k=%zz",
            "k=50%",
            "k=%C3",
            "k=1,broken",
        ] {
            let err = parse_attributes(bad).unwrap_err();
            assert_eq!(err.variable, "OTEL_RESOURCE_ATTRIBUTES", "{bad}");
            assert_eq!(err.value, bad);
            assert!(
                err.to_string().contains("OTEL_RESOURCE_ATTRIBUTES"),
                "{err}"
            );
        }
    }

    #[test]
    fn service_name_precedence_and_instance_id() {
        let env = pairs(&[
            ("service.name", "from-attributes"),
            ("service.version", "9.9.9"),
            ("region", "eu"),
        ]);
        let a = attributes(
            Some("from-otel-service-name"),
            "default",
            Some("1.0.0"),
            &env,
        );
        assert_eq!(
            a[0],
            ("service.name".into(), "from-otel-service-name".into())
        );
        assert_eq!(a[1], ("service.version".into(), "9.9.9".into()));
        assert_eq!(a[2].0, "service.instance.id");
        assert_eq!(a[3], ("region".into(), "eu".into()));
        assert_eq!(a.len(), 4);
        let a = attributes(None, "default", Some("1.0.0"), &env);
        assert_eq!(a[0].1, "from-attributes");
        let a = attributes(None, "default", Some("1.0.0"), &[]);
        assert_eq!((a[0].1.as_str(), a[1].1.as_str()), ("default", "1.0.0"));
        // One UUID per process, shared by every signal.
        let id = &a[2].1;
        assert_eq!(id, instance_id());
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        let pinned = attributes(None, "d", None, &pairs(&[("service.instance.id", "pod-7")]));
        assert_eq!(pinned[1], ("service.instance.id".into(), "pod-7".into()));
    }
}
