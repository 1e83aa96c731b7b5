//! metrics-exporter-prometheus as the global recorder, with `use_global_recorder`: call sites
//! keep the handles they registered at their first call, and the counts are exact.
#![cfg(feature = "metrics")]
//! One test in this binary, because the global recorder can be installed only once per process.

use mcp_metrics::{ErrorKind, mcp_tool};
use metrics_exporter_prometheus::PrometheusBuilder;

#[derive(Debug, ErrorKind)]
enum FetchError {
    #[error_kind("not_found")]
    Missing,
    Upstream,
}

#[mcp_tool(metrics)]
fn fetch(key: u8) -> Result<u8, FetchError> {
    match key {
        0 => Err(FetchError::Missing),
        1 => Err(FetchError::Upstream),
        k => Ok(k),
    }
}

#[mcp_tool(metrics)]
async fn wait(ms: u64) -> u64 {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    ms
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn handles_are_cached_from_the_prometheus_recorder() {
    let recorder = PrometheusBuilder::new()
        .set_buckets(mcp_metrics::names::DEFAULT_DURATION_BUCKETS)
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();
    mcp_metrics::use_global_recorder();

    for key in 2..12 {
        fetch(key).unwrap();
    }
    for _ in 0..3 {
        fetch(0).unwrap_err();
    }
    fetch(1).unwrap_err();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(wait(1).await, 1);
        // cancelled: dropped before it completes (a day, so that no stall lets it finish)
        let day = 86_400_000;
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), wait(day)).await;
    });

    // A local recorder does not see calls of a site that cached its handles (documented).
    let local = PrometheusBuilder::new().build_recorder();
    let local_handle = local.handle();
    metrics::with_local_recorder(&local, || fetch(5)).unwrap();
    assert!(!local_handle.render().contains("mcp_tool_duration_seconds"));

    let text = handle.render();
    let count = |labels: &str| {
        value(
            &text,
            &format!("mcp_tool_duration_seconds_count{{{labels}}}"),
        )
    };
    assert_eq!(
        count("tool=\"fetch\",risk=\"_unknown\",outcome=\"success\""),
        Some(11.0),
        "{text}"
    );
    assert_eq!(
        count(
            "tool=\"fetch\",risk=\"_unknown\",outcome=\"error\",error_type=\"not_found\",fault=\"server\""
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        count(
            "tool=\"fetch\",risk=\"_unknown\",outcome=\"error\",error_type=\"upstream\",fault=\"server\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count("tool=\"wait\",risk=\"_unknown\",outcome=\"success\""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count("tool=\"wait\",risk=\"_unknown\",outcome=\"cancelled\""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "mcp_tool_calls_in_flight{tool=\"fetch\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "mcp_tool_calls_in_flight{tool=\"wait\"}"),
        Some(0.0),
        "{text}"
    );
}
