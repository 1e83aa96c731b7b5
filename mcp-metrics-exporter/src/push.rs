//! Prometheus Pushgateway: PUT the text format to `{url}/metrics/job/{job}[/instance/{instance}]`
//! every interval.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use bytes::Bytes;
use http::{Method, Uri};

use crate::client::HttpClient;
use crate::registry::Registry;
use crate::render::PROMETHEUS_CONTENT_TYPE;
use crate::task::BackgroundTask;

/// Where and how often to push.
#[derive(Clone, Debug)]
pub(crate) struct PushTarget {
    pub(crate) url: Uri,
    pub(crate) interval: Duration,
    pub(crate) job: String,
    pub(crate) instance: Option<String>,
}

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
pub(crate) fn push_url(base: &Uri, job: &str, instance: Option<&str>) -> Result<Uri, String> {
    let mut path = base.path().trim_end_matches('/').to_owned();
    path.push_str("/metrics");
    push_segment(&mut path, "job", job);
    if let Some(instance) = instance {
        push_segment(&mut path, "instance", instance);
    }
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(
        path.parse()
            .map_err(|e| format!("bad push path {path:?}: {e}"))?,
    );
    Uri::from_parts(parts).map_err(|e| format!("bad push URL: {e}"))
}

/// Starts pushing `registry` to `target` on the current runtime.
pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    registry: Registry,
    target: PushTarget,
) -> Result<BackgroundTask, String> {
    let url = push_url(&target.url, &target.job, target.instance.as_deref())?;
    let client = HttpClient::new();
    tracing::info!(%url, interval_secs = target.interval.as_secs_f64(), "pushing metrics to a Pushgateway");
    Ok(BackgroundTask::spawn(
        runtime,
        "push",
        target.interval,
        true,
        move || {
            let registry = registry.clone();
            let client = client.clone();
            let url = url.clone();
            async move {
                let body = tokio::task::spawn_blocking(move || registry.render_prometheus())
                    .await
                    .map_err(|e| format!("rendering failed: {e}"))?;
                client
                    .send(
                        Method::PUT,
                        &url,
                        PROMETHEUS_CONTENT_TYPE,
                        Bytes::from(body),
                    )
                    .await
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: &str, job: &str, instance: Option<&str>) -> String {
        push_url(&base.parse().unwrap(), job, instance)
            .unwrap()
            .to_string()
    }

    #[test]
    fn grouping_keys_go_into_the_path() {
        assert_eq!(
            url("http://gw:9091", "mcp", None),
            "http://gw:9091/metrics/job/mcp"
        );
        assert_eq!(
            url("http://gw:9091/", "mcp", Some("a-1")),
            "http://gw:9091/metrics/job/mcp/instance/a-1"
        );
        assert_eq!(
            url("http://gw/prefix/", "j", None),
            "http://gw/prefix/metrics/job/j"
        );
    }

    #[test]
    fn unsafe_values_are_base64_encoded() {
        assert_eq!(
            url("http://gw", "a/b", None),
            "http://gw/metrics/job@base64/YS9i"
        );
        assert_eq!(
            url("http://gw", "j", Some("")),
            "http://gw/metrics/job/j/instance@base64/="
        );
        assert_eq!(
            url("http://gw", "j", Some("host:1")),
            "http://gw/metrics/job/j/instance@base64/aG9zdDox"
        );
    }
}
