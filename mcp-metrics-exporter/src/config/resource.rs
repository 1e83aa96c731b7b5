//! The OpenTelemetry resource of this process, one for OTLP metrics and spans: `service.name`,
//! `service.version`, `service.instance.id` and the attributes of `OTEL_RESOURCE_ATTRIBUTES`.
//! The service name is also the Pushgateway's default `job`.
//!
//! `service.instance.id` defaults to a random UUID (version 4) drawn once per process, as the
//! OpenTelemetry resource conventions recommend: it must be unique per instance of a service, and
//! a host name is not (several stdio servers run on one desktop, several containers can share a
//! host name); replicas that reported the same identity would overwrite each other's cumulative
//! series once a backend merges them. Set `OTEL_RESOURCE_ATTRIBUTES=service.instance.id=...` for
//! a stable one, such as the pod name.

use crate::build_info::BuildInfo;
use crate::config::{Env, parse, vars};
use crate::error::ConfigError;

/// `service.name`.
pub(crate) const SERVICE_NAME: &str = "service.name";
/// `service.version`.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) const SERVICE_VERSION: &str = "service.version";
/// `service.instance.id`.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) const SERVICE_INSTANCE_ID: &str = "service.instance.id";
/// The service name when nothing names one, as the OpenTelemetry specification spells it.
const UNKNOWN_SERVICE: &str = "unknown_service";

/// What the resource is made of besides the build info: the service name set in code or by
/// `OTEL_SERVICE_NAME`, and the attributes of `OTEL_RESOURCE_ATTRIBUTES`.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceSettings {
    /// `OTEL_SERVICE_NAME`, or the builder's `service_name`.
    pub(crate) service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, in order.
    pub(crate) attributes: Vec<(String, String)>,
}

impl ResourceSettings {
    /// Applies `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        if let Some(name) = env.get(vars::OTEL_SERVICE_NAME) {
            self.service_name = Some(name.to_owned());
        }
        if let Some(attributes) = env.parsed(vars::OTEL_RESOURCE_ATTRIBUTES, parse::key_values)? {
            self.attributes = attributes;
        }
        Ok(())
    }

    /// The service name: the one set in code or by `OTEL_SERVICE_NAME`, else `service.name` of
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the build info's, else `unknown_service`.
    pub(crate) fn service<'a>(&'a self, build_info: Option<&'a BuildInfo>) -> &'a str {
        self.service_name
            .as_deref()
            .or_else(|| self.attribute(SERVICE_NAME))
            .or(build_info.map(|b| b.service.as_str()))
            .unwrap_or(UNKNOWN_SERVICE)
    }

    /// The resource attributes, `service.name` first, then `service.version` (from
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the build info), `service.instance.id` (from
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the process's UUID), then the other attributes of
    /// `OTEL_RESOURCE_ATTRIBUTES` in their order.
    #[cfg(any(feature = "otlp", feature = "telemetry"))]
    pub(crate) fn attributes(&self, build_info: Option<&BuildInfo>) -> Vec<(String, String)> {
        let mut out = vec![(SERVICE_NAME.to_owned(), self.service(build_info).to_owned())];
        let version = self
            .attribute(SERVICE_VERSION)
            .or(build_info.map(|b| b.version.as_str()));
        if let Some(version) = version {
            out.push((SERVICE_VERSION.to_owned(), version.to_owned()));
        }
        let instance = self.attribute(SERVICE_INSTANCE_ID).unwrap_or(instance_id());
        out.push((SERVICE_INSTANCE_ID.to_owned(), instance.to_owned()));
        let own = [SERVICE_NAME, SERVICE_VERSION, SERVICE_INSTANCE_ID];
        out.extend(
            self.attributes
                .iter()
                .filter(|(k, _)| !own.contains(&k.as_str()))
                .cloned(),
        );
        out
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The `service.instance.id` of this process when none is configured: a UUID drawn on first use.
#[cfg(any(feature = "otlp", feature = "telemetry"))]
pub(crate) fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
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
    fn the_service_name_set_wins_then_the_attributes_then_the_build_info() {
        let info = BuildInfo::new("crate-name", "1.0.0");
        let mut r = ResourceSettings {
            service_name: Some("set".into()),
            attributes: pairs(&[("service.name", "from-attributes")]),
        };
        assert_eq!(r.service(Some(&info)), "set");
        r.service_name = None;
        assert_eq!(r.service(Some(&info)), "from-attributes");
        r.attributes.clear();
        assert_eq!(r.service(Some(&info)), "crate-name");
        assert_eq!(r.service(None), "unknown_service");
    }

    #[cfg(any(feature = "otlp", feature = "telemetry"))]
    #[test]
    fn attributes_carry_the_version_and_one_instance_id_per_process() {
        let info = BuildInfo::new("svc", "1.0.0");
        let r = ResourceSettings {
            service_name: None,
            attributes: pairs(&[("service.version", "9.9.9"), ("region", "eu")]),
        };
        let a = r.attributes(Some(&info));
        assert_eq!(a[0], ("service.name".into(), "svc".into()));
        assert_eq!(a[1], ("service.version".into(), "9.9.9".into()));
        assert_eq!(a[2], ("service.instance.id".into(), instance_id().into()));
        assert_eq!(a[3], ("region".into(), "eu".into()));
        assert_eq!(a.len(), 4);
        let plain = ResourceSettings::default().attributes(Some(&info));
        assert_eq!(plain[1], ("service.version".into(), "1.0.0".into()));
        assert_eq!(
            plain[2].1,
            instance_id(),
            "one UUID per process, for every signal"
        );
        let id = uuid::Uuid::parse_str(instance_id()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        let pinned = ResourceSettings {
            attributes: pairs(&[("service.instance.id", "pod-7")]),
            ..Default::default()
        };
        assert_eq!(
            pinned.attributes(None)[1],
            ("service.instance.id".into(), "pod-7".into())
        );
    }
}
