//! The example tools over stdio, with metrics on a listener of their own.
//!
//! ```sh
//! MCP_METRICS_LISTEN=127.0.0.1:9464 cargo run -p mcp-metrics-examples --bin stdio-server
//! ```
//!
//! Standard output is the MCP channel here, so logs go to standard error and the exporter must not
//! be `stdout`. Metrics are served on `MCP_METRICS_LISTEN` (default `127.0.0.1:9464`). Without the
//! `instrumented` feature the same tools are served with `#[mcp_tool]` compiled out and no metrics.

use mcp_metrics_examples::Tools;
use rmcp::ServiceExt;

#[cfg(feature = "instrumented")]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use mcp_metrics::rmcp::Instrumented;
    use mcp_metrics_exporter::telemetry::TelemetryBuilder;
    use mcp_metrics_exporter::{ExporterBuilder, ExporterKind, build_info};

    // Spans and log records (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set) and logs on standard
    // error.
    let telemetry = TelemetryBuilder::from_env()?
        .build_info(build_info!())
        .init()?;
    let exporter = ExporterBuilder::from_env()?
        .build_info(build_info!())
        .build()?;
    if exporter.kind() == ExporterKind::Stdout {
        return Err(
            "MCP_METRICS_EXPORTER=stdout would write into the MCP channel of a stdio server".into(),
        );
    }
    let exporter = exporter.install()?;
    if let Some(addr) = exporter.listen_addr() {
        eprintln!("metrics on http://{addr}/metrics");
    }
    let tools = Tools::default();
    mcp_metrics::rmcp::set_registered_tools(tools.count());
    let running = Instrumented::new(tools)
        .serve(rmcp::transport::stdio())
        .await?;
    running.waiting().await?;
    exporter.shutdown().await;
    telemetry.shutdown();
    Ok(())
}

#[cfg(not(feature = "instrumented"))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let running = Tools::default().serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
