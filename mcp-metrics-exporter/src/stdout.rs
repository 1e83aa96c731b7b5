//! Development exporter: prints the text format to standard output every interval.
//!
//! Never use it in an MCP server on the stdio transport: standard output is that server's
//! protocol channel, and metric text there corrupts the JSON-RPC stream.

use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use crate::registry::Registry;
use crate::task::BackgroundTask;

/// Starts printing `registry` every `interval` on the current runtime.
pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    registry: Registry,
    interval: Duration,
) -> BackgroundTask {
    BackgroundTask::spawn(runtime, "stdout", interval, false, move || {
        let registry = registry.clone();
        async move {
            let text = tokio::task::spawn_blocking(move || registry.render_prometheus())
                .await
                .map_err(|e| format!("rendering failed: {e}"))?;
            let mut out = tokio::io::stdout();
            out.write_all(text.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            out.write_all(b"\n").await.map_err(|e| e.to_string())?;
            out.flush().await.map_err(|e| e.to_string())
        }
    })
}
