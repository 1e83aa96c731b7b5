//! The audit trail routed to a JSON-lines file: one line per tool call.
//!
//! ```sh
//! cargo run -p mcp-metrics --example audit-trail -- audit.jsonl
//! ```
//!
//! Serves two tools with [`Instrumented`] (audit on, argument capture with a redaction function)
//! over an in-memory pipe, calls them with rmcp's own client, and writes the audit events, and
//! nothing else, to the file given as the first argument (default `audit.jsonl`). Ordinary logs
//! still go to standard error.

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::{AUDIT_TARGET, Capture, Instrumented, Options};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Mutex;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Arguments of `login`.
#[derive(Debug, Deserialize, JsonSchema)]
struct LoginRequest {
    /// The user.
    user: String,
    /// The password: the redaction function removes it from the audit trail.
    password: String,
}

#[derive(Clone)]
struct Accounts {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Accounts {
    /// Checks a password.
    #[mcp_tool]
    #[tool]
    async fn login(
        &self,
        Parameters(LoginRequest { user, password }): Parameters<LoginRequest>,
    ) -> Result<String, String> {
        if password == "open sesame" {
            Ok(format!("welcome, {user}"))
        } else {
            Err("wrong password".into())
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Accounts {}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "audit.jsonl".into());
    let file = std::fs::File::create(&path)?;
    // The audit target to the file as JSON lines; everything else (warnings) to standard error.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(Mutex::new(file))
                .with_filter(Targets::new().with_target(AUDIT_TARGET, LevelFilter::INFO)),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(
                    Targets::new()
                        .with_default(LevelFilter::WARN)
                        .with_target(AUDIT_TARGET, LevelFilter::OFF),
                ),
        )
        .init();

    let options = Options::new()
        .client_names(["audit-example"])
        .audit(true)
        .capture(Capture::new().result(false).redact(|arguments| {
            if let Some(password) = arguments.get_mut("password") {
                *password = "[redacted]".into();
            }
        }));
    let server = Instrumented::with_options(
        Accounts {
            tool_router: Accounts::tool_router(),
        },
        options,
    );
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(async move {
        let running = server.serve(server_io).await.map_err(|e| e.to_string())?;
        running.waiting().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    });
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("audit-example", "1.0"),
    )
    .serve(client_io)
    .await?;
    for (user, password) in [("ada", "open sesame"), ("eve", "guess")] {
        let arguments = serde_json::json!({"user": user, "password": password});
        let call = CallToolRequestParams::new("login")
            .with_arguments(arguments.as_object().cloned().unwrap_or_default());
        client.call_tool(call).await?;
    }
    // A tool the server does not have: a JSON-RPC error, audited as the caller's fault.
    let _ = client.call_tool(CallToolRequestParams::new("logout")).await;
    client.cancel().await?;
    serving.await??;
    println!("{path}");
    Ok(())
}
