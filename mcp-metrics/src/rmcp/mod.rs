//! Integration with the official Rust MCP SDK, `rmcp`.
//!
//! [`Instrumented`] wraps a [`ServerHandler`](::rmcp::ServerHandler) and observes every MCP request the server answers:
//!
//! | metric | owner | what it says |
//! |---|---|---|
//! | `mcp_tool_duration_seconds`, `mcp_tool_calls_in_flight` | `#[mcp_tool]` | what the tool *function* did |
//! | `mcp_server_operation_duration_seconds{method, tool/prompt, error_type}` | [`Instrumented`] | what the *client* asked and got, for every method |
//! | `mcp_server_sessions_active`, `mcp_server_session_duration_seconds` | [`Instrumented`] | sessions, from a successful `initialize` to the end of the session |
//! | `mcp_registered_tools` | [`Instrumented`] | tools in the last complete `tools/list` answer |
//!
//! The two layers never count the same thing twice: a `tools/call` for an unknown tool or with
//! arguments that do not deserialize fails in rmcp's router before the tool function runs, so it
//! appears only in `mcp_server_operation_duration_seconds` (with `error_type="-32602"`); a call that
//! reaches the function appears in both, once as a request and once as a function call.
//!
//! ```no_run
//! # #[derive(Clone)] struct MyServer;
//! # impl rmcp::ServerHandler for MyServer {}
//! use mcp_metrics::rmcp::Instrumented;
//! use rmcp::ServiceExt;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let running = Instrumented::new(MyServer).serve(rmcp::transport::stdio()).await?;
//! running.waiting().await?;
//! # Ok(()) }
//! ```
//!
//! With the streamable HTTP transport, build one `Instrumented` per session in the service
//! factory: `StreamableHttpService::new(move || Ok(Instrumented::new(server.clone())), ..)`.
//! A session ends when rmcp drops its handler: after the client's `DELETE`, after the session
//! expires, or when a stdio connection closes.

#[cfg(feature = "rmcp-client")]
pub mod client;
mod handler;

pub use handler::Instrumented;

/// Counts a notification sent to clients in `mcp_server_notifications_sent_total{method}`.
///
/// `method` is the notification's method name, such as `notifications/progress`.
pub fn notification_sent(method: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(crate::names::NOTIFICATIONS_SENT_TOTAL, crate::names::label::METHOD => method).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = method;
}

/// Sets `mcp_registered_tools`, for servers that know their tool count before any `tools/list`.
pub fn set_registered_tools(count: usize) {
    #[cfg(feature = "metrics")]
    metrics::gauge!(crate::names::REGISTERED_TOOLS).set(count as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = count;
}
