//! A real Prometheus (Debian package `prometheus`) scrapes this process's exporter on 127.0.0.1,
//! with and without basic auth, and its HTTP API returns exactly the counts the calls produced.

use mcp_metrics::{ErrorKind, mcp_tool};
use mcp_metrics_exporter::{ExporterBuilder, ExporterKind, build_info, router};
use mcp_metrics_tests::harness::Prometheus;
use std::time::Duration;

#[derive(Debug, ErrorKind)]
enum LookupError {
    NotFound,
    #[allow(dead_code)]
    Backend,
}

#[mcp_tool(metrics)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[mcp_tool(metrics)]
fn lookup(key: &str) -> Result<&'static str, LookupError> {
    if key == "known" {
        Ok("value")
    } else {
        Err(LookupError::NotFound)
    }
}

#[mcp_tool(metrics, name = "validate")]
fn validate(input: &str) -> Result<(), String> {
    if input.is_empty() {
        Err("empty input".into())
    } else {
        Ok(())
    }
}

#[mcp_tool(metrics)]
fn crash() {
    panic!("crash tool");
}

#[mcp_tool(metrics)]
async fn wait_forever() {
    std::future::pending::<()>().await;
}

fn make_calls() {
    for i in 0..5 {
        assert_eq!(add(i, 1), i + 1);
    }
    for key in ["known", "missing", "known", "missing", "missing"] {
        let _ = lookup(key);
    }
    for input in ["", "", "", "", "ok"] {
        let _ = validate(input);
    }
    assert!(std::panic::catch_unwind(crash).is_err());
}

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_exact_counts_with_and_without_auth() {
    let exporter = ExporterBuilder::new()
        .exporter(ExporterKind::Prometheus)
        .listen("127.0.0.1:0".parse().unwrap())
        .basic_auth("scraper", "s3cret \"quoted\"")
        .build_info(build_info!())
        .install()
        .expect("install the exporter");
    let with_auth = exporter.listen_addr().expect("listener");
    // The same registry, served without auth on a second listener.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("second listener");
    let without_auth = listener.local_addr().expect("a listener has an address");
    let app = router(exporter.registry().clone(), None);
    let open = tokio::spawn(async move { axum::serve(listener, app).await });

    make_calls();
    for _ in 0..2 {
        let cancelled = tokio::time::timeout(Duration::from_millis(10), wait_forever()).await;
        assert!(cancelled.is_err());
    }

    let config = format!(
        r#"
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: auth
    static_configs: [{{ targets: ["{with_auth}"] }}]
    basic_auth:
      username: scraper
      password_file: password.txt
  - job_name: open
    static_configs: [{{ targets: ["{without_auth}"] }}]
  - job_name: wrong_password
    static_configs: [{{ targets: ["{with_auth}"] }}]
    basic_auth:
      username: scraper
      password: wrong
  - job_name: no_credentials
    static_configs: [{{ targets: ["{with_auth}"] }}]
"#
    );
    let prom = tokio::task::spawn_blocking(move || {
        Prometheus::start(&config, &[("password.txt", "s3cret \"quoted\"")])
    })
    .await
    .unwrap();

    let checks = tokio::task::spawn_blocking(move || {
        let value = |expr: &str| {
            prom.wait_value(expr, WAIT)
                .unwrap_or_else(|| panic!("no single value for {expr}"))
        };
        for (job, up) in [
            ("auth", 1.0),
            ("open", 1.0),
            ("wrong_password", 0.0),
            ("no_credentials", 0.0),
        ] {
            let expr = format!(r#"up{{job="{job}"}}"#);
            assert!(prom.wait_for(&expr, up, WAIT), "{expr} never became {up}");
        }
        for job in ["auth", "open"] {
            let exact = |expr: String, want: f64| assert_eq!(value(&expr), want, "{expr}");
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="add",outcome="success"}}"#
                ),
                5.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="lookup",outcome="success"}}"#
                ),
                2.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="lookup",outcome="error",error_type="not_found",fault="server"}}"#
                ),
                3.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="validate",outcome="tool_error",error_type="tool_error",fault="client"}}"#
                ),
                4.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="validate",outcome="success"}}"#
                ),
                1.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="crash",outcome="panic",fault="server"}}"#
                ),
                1.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="wait_forever",outcome="cancelled"}}"#
                ),
                2.0,
            );
            exact(
                format!(r#"sum(mcp_tool_duration_seconds_count{{job="{job}"}})"#),
                18.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_count{{job="{job}",tool="lookup",outcome="error"}}"#
                ),
                3.0,
            );
            exact(
                format!(
                    r#"mcp_tool_duration_seconds_bucket{{job="{job}",tool="add",outcome="success",le="+Inf"}}"#
                ),
                5.0,
            );
            exact(
                format!(r#"sum(mcp_tool_calls_in_flight{{job="{job}"}})"#),
                0.0,
            );
            exact(
                format!(r#"count(mcp_build_info{{job="{job}",service="mcp-metrics-tests"}})"#),
                1.0,
            );
        }
        // A histogram quantile over our buckets is computable.
        let p95 = value(
            r#"histogram_quantile(0.95, sum by (le) (mcp_tool_duration_seconds_bucket{job="open"}))"#,
        );
        assert!(p95.is_finite() && p95 > 0.0, "p95 {p95}");
    });
    checks.await.expect("checks against prometheus");
    open.abort();
    exporter.shutdown().await;
}
