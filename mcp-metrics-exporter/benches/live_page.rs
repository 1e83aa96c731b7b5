//! What one refresh of the live page costs the server, against one scrape of the same registry,
//! through the exporter's router as a browser and Prometheus reach it.
//!
//! `cargo bench -p mcp-metrics-exporter --features ui --bench live_page`
//!
//! Registries of 1,000 and 100,000 series. The page reads four families: tool and operation
//! histograms (five outcomes per tool or client) with their in-flight and session gauges. At
//! 1,000 series they are a small server's (10 tools, 2 clients); at 100,000 either a tenth of
//! the registry (1,500 tools, 200 clients: the share of histograms in `scrape_under_load`) or a
//! small server's again (50 tools, 10 clients) beside many series of other metrics. The rest are
//! counters of another metric. Refreshes and scrapes alternate, so that both see the same
//! machine; each is one GET through the router, as a browser or Prometheus makes it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt as _;
use mcp_metrics::names::{
    SERVER_OPERATION_DURATION_SECONDS, SERVER_SESSIONS_ACTIVE, TOOL_CALLS_IN_FLIGHT,
    TOOL_DURATION_SECONDS,
};
use mcp_metrics_exporter::{Registry, RegistryConfig, router};
use metrics::{counter, gauge, histogram, with_local_recorder};
use tower::ServiceExt as _;

const OUTCOMES: [&str; 5] = ["success", "error", "tool_error", "panic", "cancelled"];

/// Histogram series of the page's families: a tool histogram per tool and outcome with its
/// in-flight gauge, and an operation histogram per client and outcome with its session gauge.
fn fill_page_families(tools: usize, clients: usize) {
    for i in 0..tools * OUTCOMES.len() {
        let (tool, outcome) = (format!("tool_{:05}", i / 5), OUTCOMES[i % 5]);
        let h = histogram!(TOOL_DURATION_SECONDS, "tool" => tool.clone(), "outcome" => outcome);
        for v in [0.003, 0.07, 1.5] {
            h.record(v);
        }
        gauge!(TOOL_CALLS_IN_FLIGHT, "tool" => tool).set(1.0);
    }
    for i in 0..clients * OUTCOMES.len() {
        let (client, outcome) = (format!("client_{:03}", i / 5), OUTCOMES[i % 5]);
        let h = histogram!(SERVER_OPERATION_DURATION_SECONDS, "method" => "tools/call",
            "client_name" => client.clone(), "outcome" => outcome);
        h.record(0.01);
        gauge!(SERVER_SESSIONS_ACTIVE, "client_name" => client).set(2.0);
    }
}

/// A registry of `series` series: the page's families for `tools` tools and `clients` clients,
/// and counters of another metric for the rest.
fn registry(series: usize, tools: usize, clients: usize) -> Registry {
    let registry = Registry::new(RegistryConfig::new().series_limit(1_000_000));
    with_local_recorder(&registry, || {
        fill_page_families(tools, clients);
        for i in 0..series.saturating_sub(registry.series_count()) {
            counter!("app_requests_total", "route" => format!("r{i:06}")).increment(1);
        }
    });
    registry
}

/// Time and body size of one GET of `path`.
async fn get(app: &Router, path: &str) -> (Duration, usize) {
    let start = Instant::now();
    let request = Request::builder()
        .uri(path)
        .body(Body::empty())
        .expect("a request");
    let response = app.clone().oneshot(request).await.expect("a response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (start.elapsed(), black_box(body).len())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn measure(name: &str, registry: Registry, rounds: usize) {
    let series = registry.series_count();
    let app = router(registry, None);
    let (mut refresh, mut scrape) = (Vec::new(), Vec::new());
    let (mut json_bytes, mut text_bytes) = (0, 0);
    for _ in 0..rounds {
        let (t, n) = get(&app, "/metrics/ui.json").await;
        refresh.push(t);
        json_bytes = n;
        let (t, n) = get(&app, "/metrics").await;
        scrape.push(t);
        text_bytes = n;
    }
    let (r, s) = (median(&mut refresh), median(&mut scrape));
    println!(
        "| {name} | {series} | {:.3} ms | {:.1} KiB | {:.3} ms | {:.1} KiB | {:.3} |",
        ms(r),
        json_bytes as f64 / 1024.0,
        ms(s),
        text_bytes as f64 / 1024.0,
        r.as_secs_f64() / s.as_secs_f64(),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "| registry | series | refresh (ui.json) | JSON | scrape (/metrics) | text | refresh / scrape |"
    );
    println!("|---|---|---|---|---|---|---|");
    runtime.block_on(async {
        measure("10 tools, 2 clients", registry(1_000, 10, 2), 200).await;
        measure(
            "1,500 tools, 200 clients",
            registry(100_000, 1_500, 200),
            20,
        )
        .await;
        measure("50 tools, 10 clients", registry(100_000, 50, 10), 20).await;
    });
}
