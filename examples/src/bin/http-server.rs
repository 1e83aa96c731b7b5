//! A streamable-HTTP MCP server with `/mcp`, `/metrics` and the live page `/metrics/ui` on one
//! axum router.
//!
//! ```sh
//! cargo run -p mcp-metrics-examples --bin http-server
//! cargo run -p mcp-metrics-examples --bin http-server --no-default-features  # compiled out
//! ```
//!
//! Listens on `MCP_BIND` (default `127.0.0.1:8080`; port 0 picks a free port) and prints
//! `listening on http://ADDR` first. The exporter is configured from the environment
//! (`MCP_METRICS_*`, see `mcp-metrics-exporter`); `/metrics` and the live page `/metrics/ui` (the
//! exporter's `ui` feature) are served on the same router, behind the same credentials.
//! `MCP_ALLOWED_HOSTS` (comma-separated) replaces the loopback names accepted in `Host` headers,
//! `MCP_SESSION_KEEP_ALIVE` (seconds, default 300) is how long a legacy session may idle before
//! rmcp ends it, and `MCP_MAX_BODY_BYTES` (default 4 MiB) the largest request body rmcp reads.
//!
//! Instrumented, `/mcp` sits behind `TransportLayer` (every HTTP request, and what rmcp's
//! transport refuses before any handler) and its sessions behind `InstrumentedSessions` (the
//! sessions rmcp holds, and how each ended).
//!
//! Without the `instrumented` feature the same tools are served on `/mcp`, with `#[mcp_tool]`
//! compiled out, no `Instrumented` wrapper, no exporter, no `/metrics` and no page.
//!
//! Accepted sockets get `TCP_NODELAY`: a response on a server-sent-events stream is written in
//! several small pieces, and with Nagle's algorithm on each answer waits for the client's delayed
//! acknowledgement (tens of milliseconds). `MCP_TCP_NODELAY=0` leaves Nagle's algorithm on, only
//! to measure what that costs.

#[cfg(feature = "instrumented")]
use mcp_metrics::rmcp::{Instrumented, InstrumentedSessions, TransportLayer};
use mcp_metrics_examples::Tools;
#[cfg(feature = "instrumented")]
use mcp_metrics_exporter::{ExporterBuilder, build_info, telemetry::TelemetryBuilder};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans and log records (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set) and logs on standard
    // error; metrics with `/metrics` on the MCP router, so no listener of their own.
    #[cfg(feature = "instrumented")]
    let telemetry = TelemetryBuilder::from_env()?
        .build_info(build_info!())
        .init()?;
    // Compiled out, the server still logs as any server does: rmcp's own events, through a plain
    // `tracing-subscriber` text logger on standard error filtered by `RUST_LOG`.
    #[cfg(not(feature = "instrumented"))]
    plain_logs();
    #[cfg(feature = "instrumented")]
    let exporter = ExporterBuilder::from_env()?
        .without_listener()
        .build_info(build_info!())
        .install()?;
    // Built once: building the tool router validates every tool name into hash maps, a sixth of a
    // bare server's CPU if done for each stateless request. Each handler gets a clone.
    let tools = Tools::default();
    #[cfg(feature = "instrumented")]
    mcp_metrics::rmcp::set_registered_tools(tools.count());

    let bind: SocketAddr = std::env::var("MCP_BIND")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()
        .map_err(|e| format!("MCP_BIND: {e}"))?;
    let nodelay = std::env::var("MCP_TCP_NODELAY").map_or(true, |v| v != "0" && v != "false");

    let shutdown = tokio_util::sync::CancellationToken::new();
    // Client-name allow-list and audit trail from MCP_METRICS_CLIENT_NAMES / MCP_METRICS_AUDIT.
    #[cfg(feature = "instrumented")]
    let options = mcp_metrics::rmcp::Options::from_env()?;
    #[cfg(not(feature = "instrumented"))]
    let options = ();
    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(shutdown.child_token());
    // rmcp answers only requests whose Host is a loopback name; behind a load balancer or a
    // Kubernetes Service, list the names clients use: `MCP_ALLOWED_HOSTS=mcp-server,mcp-server.mcp.svc`.
    let allowed_hosts: Vec<String> = std::env::var("MCP_ALLOWED_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect();
    if !allowed_hosts.is_empty() {
        config = config.with_allowed_hosts(allowed_hosts);
    }
    if let Some(bytes) = env_number("MCP_MAX_BODY_BYTES")? {
        config = config.with_max_request_body_bytes(bytes as usize);
    }
    let mut local = LocalSessionManager::default();
    if let Some(seconds) = env_number("MCP_SESSION_KEEP_ALIVE")? {
        local.session_config.keep_alive = Some(std::time::Duration::from_secs_f64(seconds));
    }
    let mcp = StreamableHttpService::new(
        move || Ok(handler(tools.clone(), &options)),
        Arc::new(sessions(local)),
        config,
    );
    // Every HTTP request to /mcp, and what rmcp answers before any handler, by reason.
    #[cfg(feature = "instrumented")]
    let mcp = tower_layer::Layer::layer(&TransportLayer::new("/mcp"), mcp);
    let app = axum::Router::new().nest_service("/mcp", mcp);
    #[cfg(feature = "instrumented")]
    let app = app.merge(exporter.router());

    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    if cfg!(feature = "instrumented") {
        eprintln!(
            "MCP endpoint http://{addr}/mcp, metrics http://{addr}/metrics, live page http://{addr}/metrics/ui"
        );
    } else {
        eprintln!("MCP endpoint http://{addr}/mcp (metrics compiled out)");
    }

    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(move |tcp| {
        if let Err(e) = tcp.set_nodelay(nodelay) {
            eprintln!("TCP_NODELAY on an accepted socket: {e}");
        }
    });
    // The peer address of each request, for the `client.address` span attribute.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        wait_for_signal().await;
        shutdown.cancel();
    })
    .await?;
    #[cfg(feature = "instrumented")]
    {
        exporter.shutdown().await;
        telemetry.shutdown();
    }
    Ok(())
}

/// The MCP handler of one session (or of one stateless request): the tools, wrapped for
/// per-request metrics and spans when instrumented.
#[cfg(feature = "instrumented")]
fn handler(tools: Tools, options: &mcp_metrics::rmcp::Options) -> Instrumented<Tools> {
    Instrumented::with_options(tools, options.clone())
}

/// The session manager: rmcp's, wrapped to export the sessions it holds and how each ended.
#[cfg(feature = "instrumented")]
fn sessions(local: LocalSessionManager) -> InstrumentedSessions {
    InstrumentedSessions::new(local)
}

/// The session manager: rmcp's.
#[cfg(not(feature = "instrumented"))]
fn sessions(local: LocalSessionManager) -> LocalSessionManager {
    local
}

/// A positive number from the environment variable `name`, if it is set.
fn env_number(name: &str) -> Result<Option<f64>, String> {
    let Ok(value) = std::env::var(name) else {
        return Ok(None);
    };
    match value.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(Some(n)),
        _ => Err(format!("{name}={value:?}: expected a positive number")),
    }
}

/// The MCP handler of one session (or of one stateless request): the bare tools.
#[cfg(not(feature = "instrumented"))]
fn handler(tools: Tools, _: &()) -> Tools {
    tools
}

/// Text logs on standard error, filtered by `RUST_LOG` (default `info,rmcp=warn`, as the
/// instrumented build's pipeline), for the build without instrumentation.
#[cfg(not(feature = "instrumented"))]
fn plain_logs() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
