//! Prometheus Pushgateway: PUT the text format to `{url}/metrics/job/{job}/instance/{instance}`
//! every interval, the instance being the host name unless configured, so that replicas never
//! overwrite each other's group; optionally DELETE the group on a graceful shutdown.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use http::{Method, Uri};

use crate::client::HttpClient;
use crate::config::metrics::PushSettings;
use crate::config::vars;
use crate::error::ConfigError;
use crate::registry::Registry;
use crate::render::PROMETHEUS_CONTENT_TYPE;
use crate::task::{OnStop, Sink};

/// Appends `/{label}/{value}` to `path`, switching to the gateway's `{label}@base64/{value}`
/// form when the value is empty or has a character that is not safe in a path segment.
fn push_segment(path: &mut String, label: &str, value: &str) {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    path.push('/');
    path.push_str(label);
    if plain {
        path.push('/');
        path.push_str(value);
    } else {
        path.push_str("@base64/");
        let encoded = URL_SAFE.encode(value);
        path.push_str(if encoded.is_empty() { "=" } else { &encoded });
    }
}

/// The grouping-key URL of the Pushgateway API.
pub(crate) fn push_url(base: &Uri, job: &str, instance: &str) -> Result<Uri, String> {
    let mut path = base.path().trim_end_matches('/').to_owned();
    path.push_str("/metrics");
    push_segment(&mut path, "job", job);
    push_segment(&mut path, "instance", instance);
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(
        path.parse()
            .map_err(|e| format!("bad push path {path:?}: {e}"))?,
    );
    Uri::from_parts(parts).map_err(|e| format!("bad push URL: {e}"))
}

/// The default `instance`: the host name (the pod name in Kubernetes), so that replicas
/// push to groups of their own.
pub(crate) fn host_name() -> String {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy();
    let name = name.trim();
    if name.is_empty() {
        "unknown_host".to_owned()
    } else {
        name.to_owned()
    }
}

/// The push loop's destination: one grouping key of one Pushgateway.
#[derive(Debug)]
pub(crate) struct PushSink {
    url: reqwest::Url,
    client: HttpClient,
    delete_on_shutdown: bool,
}

impl PushSink {
    /// Checks the settings and builds the client; `job` defaults to `service`.
    pub(crate) fn new(settings: &PushSettings, service: String) -> Result<Self, ConfigError> {
        let base = settings
            .url
            .as_ref()
            .ok_or_else(|| ConfigError::new(vars::PUSH_URL, "", "no Pushgateway URL set"))?;
        let job = settings.job.clone().unwrap_or(service);
        let instance = settings.instance.clone().unwrap_or_else(host_name);
        let url = push_url(base, &job, &instance)
            .map_err(|reason| ConfigError::new(vars::PUSH_URL, &base.to_string(), reason))?;
        let url = reqwest::Url::parse(&url.to_string())
            .map_err(|e| ConfigError::new(vars::PUSH_URL, &base.to_string(), e.to_string()))?;
        let client = HttpClient::new(vars::PUSH_URL, &settings.outbound)?;
        Ok(Self {
            url,
            client,
            delete_on_shutdown: settings.delete_on_shutdown,
        })
    }
}

impl Sink for PushSink {
    fn destination(&self) -> String {
        self.url.to_string()
    }

    fn render(&self, registry: &Registry) -> Vec<u8> {
        self.client
            .encode(registry.render_prometheus().into_bytes())
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        self.client
            .send(Method::PUT, &self.url, Some(PROMETHEUS_CONTENT_TYPE), body)
            .await
            .map_err(|e| e.to_string())
    }

    fn on_stop(&self) -> OnStop {
        if self.delete_on_shutdown {
            OnStop::Remove
        } else {
            OnStop::Export
        }
    }

    async fn remove(&self) -> Result<(), String> {
        self.client
            .send(Method::DELETE, &self.url, None, Vec::new())
            .await
            .map_err(|e| format!("deleting the group: {e}"))?;
        tracing::info!(url = %self.url, "deleted this instance's group from the Pushgateway");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::outbound::Outbound;
    use std::time::Duration;

    fn url(base: &str, job: &str, instance: &str) -> String {
        push_url(&base.parse().unwrap(), job, instance)
            .unwrap()
            .to_string()
    }

    #[test]
    fn grouping_keys_go_into_the_path() {
        assert_eq!(
            url("http://gw:9091/", "mcp", "a-1"),
            "http://gw:9091/metrics/job/mcp/instance/a-1"
        );
        assert_eq!(
            url("https://gw/prefix/", "j", "i"),
            "https://gw/prefix/metrics/job/j/instance/i"
        );
    }

    #[test]
    fn unsafe_values_are_base64_encoded() {
        assert_eq!(
            url("http://gw", "a/b", "i"),
            "http://gw/metrics/job@base64/YS9i/instance/i"
        );
        assert_eq!(
            url("http://gw", "j", ""),
            "http://gw/metrics/job/j/instance@base64/="
        );
        assert_eq!(
            url("http://gw", "j", "host:1"),
            "http://gw/metrics/job/j/instance@base64/aG9zdDox"
        );
    }

    fn settings(instance: Option<&str>) -> PushSettings {
        PushSettings {
            url: Some("http://gw:9091".parse().unwrap()),
            interval: Duration::from_secs(15),
            job: None,
            instance: instance.map(str::to_owned),
            delete_on_shutdown: false,
            outbound: Outbound::new(),
        }
    }

    #[test]
    fn the_default_instance_is_the_host_name() {
        let host = host_name();
        assert!(!host.is_empty());
        let sink = PushSink::new(&settings(None), "svc".into()).unwrap();
        let expected = url("http://gw:9091", "svc", &host);
        assert_eq!(sink.destination(), expected);
        let sink = PushSink::new(&settings(Some("replica-2")), "svc".into()).unwrap();
        assert_eq!(
            sink.destination(),
            "http://gw:9091/metrics/job/svc/instance/replica-2"
        );
    }
}
