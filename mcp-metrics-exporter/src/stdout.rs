//! Development exporter: prints the text format to standard output every interval.
//!
//! Never use it in an MCP server on the stdio transport: standard output is that server's
//! protocol channel, and metric text there corrupts the JSON-RPC stream.

use tokio::io::AsyncWriteExt as _;

use crate::registry::Registry;
use crate::task::{OnStop, Sink};

/// The stdout loop's destination.
#[derive(Debug)]
pub(crate) struct StdoutSink;

impl Sink for StdoutSink {
    fn destination(&self) -> String {
        "standard output".into()
    }

    fn render(&self, registry: &Registry) -> Vec<u8> {
        let mut text = registry.render_prometheus().into_bytes();
        text.push(b'\n');
        text
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        let mut out = tokio::io::stdout();
        out.write_all(&body).await.map_err(|e| e.to_string())?;
        out.flush().await.map_err(|e| e.to_string())
    }

    fn on_stop(&self) -> OnStop {
        OnStop::Nothing
    }
}
