//! Integration with the official Rust MCP SDK, `rmcp`: the server side.
//!
//! [`Instrumented`] wraps a [`ServerHandler`](::rmcp::ServerHandler) and observes every MCP request
//! and notification the server answers, in both protocol styles: sessions opened with
//! `initialize` (revisions up to 2025-11-25) and the stateless 2026-07-28 revision, where every
//! request carries its protocol version and client in `_meta`.
//!
//! | metric | owner | what it says |
//! |---|---|---|
//! | `mcp_tool_duration_seconds`, `mcp_tool_calls_in_flight` | `#[mcp_tool]` | what the tool *function* did |
//! | `mcp_server_operation_duration_seconds{method, tool/prompt, risk, outcome, error_type, fault, client_name, protocol_version, network_transport}` | [`Instrumented`] | what the *client* asked and got, for every request and notification |
//! | `mcp_server_input_retries_total{method, tool/prompt, outcome}` | [`Instrumented`] | rounds of multi-round-trip requests after the first |
//! | `mcp_server_sessions_active{client_name}`, `mcp_server_session_duration_seconds{client_name, end_reason}` | [`Instrumented`] | legacy sessions, from a successful `initialize` to the end of the session |
//! | `mcp_server_subscriptions_active` | [`Instrumented`] | open `subscriptions/listen` streams |
//! | `mcp_tool_result_bytes{tool}`, `mcp_tool_result_content_blocks{tool}`, `mcp_tools_list_bytes` | [`Instrumented`] | context cost: what results and the catalogue put in the model's context |
//! | `mcp_tool_result_tokens{tool}` | [`Instrumented`] (feature `tokens`) | context cost in tokens of the text of each result (`result_tokens`) |
//! | `mcp_server_request_bytes{method}` | [`Instrumented`] | request bodies received over HTTP |
//! | `mcp_registered_tools` | [`Instrumented`] | tools in the last complete `tools/list` answer |
//! | `mcp_server_catalogue_info{kind, fingerprint}`, `mcp_server_catalogue_changes_total{kind}` | [`Instrumented`], [`set_tool_catalogue`], [`set_prompt_catalogue`] | the [`fingerprint`] of the tools and prompts the server lists, and how often it changed |
//! | `mcp_server_tasks_active{tool}`, `mcp_server_task_duration_seconds{tool, status}` | [`track_task`] | tasks, from creation to their terminal status |
//! | `http_server_request_duration_seconds{http_request_method, http_response_status_code, http_route}`, `mcp_server_refused_requests_total{refusal_reason, http_route}` | `TransportLayer` (feature `streamable-http`) | every HTTP request to the endpoint, and those rmcp's transport answers before any handler |
//! | `mcp_server_sessions_held` | `InstrumentedSessions` (feature `streamable-http`) | sessions the session manager holds, beside the live ones |
//! | `mcp_client_operation_duration_seconds{method, outcome, error_type}` | [`ObservedPeer`] | requests and notifications the server sends to the client (`elicitation/create`, `sampling/createMessage`, `roots/list`, `notifications/*`) |
//! | `mcp_server_elicitation_responses_total{method, tool/prompt, action}` | [`ObservedPeer`], [`Instrumented`] | elicitation answers: to `elicitation/create`, and in the `inputResponses` of retried requests |
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
//! With the streamable HTTP transport, build one `Instrumented` per handler in the service
//! factory, with [`Options`] built once:
//! `StreamableHttpService::new(move || Ok(Instrumented::with_options(server.clone(), options.clone())), ..)`.
//! rmcp calls the factory once per legacy session and once per 2026-07-28 request. A session ends
//! when rmcp drops its handler: after the client's `DELETE`, after the session expires, or when a
//! stdio connection closes.
//!
//! # Outcomes
//!
//! The request-layer `outcome` is what the client received: `success`; `error` (a JSON-RPC error,
//! `error_type` its code, including a panic of the handler, which is answered with `-32603`);
//! `tool_error` (a result with `isError: true`); `input_required` (an `InputRequiredResult`, on
//! 2026-07-28); `task_created` (a `CreateTaskResult`); `cancelled` (the request was dropped
//! before it completed). Where rmcp refuses a handler's answer (an `InputRequiredResult` for a
//! client on an older revision, a task for a client that did not declare the tasks extension)
//! the outcome is the error the client receives, as the server's fault.
//!
//! # Whose fault
//!
//! `fault` is set on `error` and `tool_error`: `client` for parse errors, invalid requests,
//! unknown methods, invalid parameters (which includes unknown tools and prompts and arguments
//! that do not deserialize), missing resources, unsupported protocol versions, missing client
//! capabilities ([`jsonrpc_code_fault`](crate::jsonrpc_code_fault)) and every `tool_error` (the
//! model reads the message and can correct its call); `server` for everything else, including
//! internal errors and panics. Error budgets should count `fault="server"` only.
//!
//! # Multi round-trip requests
//!
//! A `tools/call`, `prompts/get` or `resources/read` answered with an `InputRequiredResult` counts
//! with `outcome="input_required"`. The client fulfils the input requests and sends the request
//! again with `requestState` and `inputResponses`; each such retry is a request of its own in the
//! operation histogram, is counted once more in `mcp_server_input_retries_total` by its outcome,
//! and its span has `mcp_metrics.mrtr.retry = true`. Logical calls are
//! `operation_count - retries`; calls that needed input are the first rounds answered with
//! `input_required`: `count{outcome="input_required"} - retries{outcome="input_required"}`.
//!
//! # Client attribution
//!
//! The client is read from each request's `_meta` (`io.modelcontextprotocol/clientInfo`) on
//! 2026-07-28 and from `initialize` on earlier revisions. Its name becomes the `client_name` label
//! only if it is on the allow-list of [`Options::client_names`] (normalised with
//! [`normalize_client_name`]); every other name is `_OTHER`, a missing one `_unknown`. The name
//! and version as sent go on the span (`mcp_metrics.client.name`, `mcp_metrics.client.version`).
//!
//! # Audit trail
//!
//! With [`Options::audit`], every `tools/call` emits one `tracing` event with target
//! [`AUDIT_TARGET`] (`mcp_metrics::audit`), level INFO, message `tool call`, and the fields `time`
//! (RFC 3339, UTC, when the call arrived), `tool`, `outcome`, `error_type`, `fault`,
//! `duration_ms`, `request_id`, `session_id` (legacy HTTP sessions), `client_name`,
//! `client_version`, `protocol_version`, `trace_id` (feature `otel`) and, only when argument
//! capture is configured, `arguments` (redacted and capped). Route the target with your
//! subscriber, for example to a JSON-lines file with `tracing-subscriber`'s JSON formatter.
//!
//! # Argument capture
//!
//! Off by default. With [`Options::capture`] the request span of a `tools/call` records
//! `gen_ai.tool.call.arguments` and, for successful calls, `gen_ai.tool.call.result`, as JSON
//! passed through the [`Capture`]'s redaction function and cut to its size cap.

// Builds with only some of the features use only some of the request layer (the client side, the
// metrics, the spans); the full build uses all of it.
#![cfg_attr(
    not(all(feature = "metrics", feature = "trace", feature = "rmcp-client")),
    allow(dead_code)
)]

mod audit;
mod capture;
mod context;
pub mod fingerprint;
mod json_len;
mod labels;
mod operation;
mod options;
mod peer;
mod server;
mod session;
mod size;
mod span;
mod tasks;
#[cfg(feature = "tokens")]
mod tokens;
#[cfg(all(feature = "otel", feature = "rmcp-client"))]
mod tool_span;

#[cfg(feature = "rmcp-client")]
pub mod client;
#[cfg(feature = "streamable-http")]
pub mod transport;

pub use audit::AUDIT_TARGET;
pub use capture::{Capture, DEFAULT_CAPTURE_BYTES};
pub use context::normalize_client_name;
pub use labels::MAX_NAMES;
pub use options::{EnvError, Options};
pub use peer::{ObservedPeer, PeerExt};
pub use server::Instrumented;
pub use session::SessionEnd;
#[cfg(feature = "streamable-http")]
pub use session::{InstrumentedSessions, SessionTransport};
pub use tasks::track_task;
#[cfg(feature = "tokens")]
pub use tokens::result_tokens;
#[cfg(feature = "streamable-http")]
pub use transport::{Refusal, TransportLayer};

/// Counts a notification sent to clients in `mcp_server_notifications_sent_total{method}`.
///
/// `method` is the notification's method name, such as `notifications/progress`; a name the
/// specification does not define is counted as `_OTHER`.
pub fn notification_sent(method: &str) {
    #[cfg(feature = "metrics")]
    {
        use crate::record::{CounterHandle, Family, Str, family::One};
        static SENT: Family<One, CounterHandle> = Family::new(&crate::catalog::NOTIFICATIONS_SENT);
        let method = labels::method(method);
        SENT.with(One(crate::catalog::label::METHOD, Str(method)), |c| {
            c.add(1)
        });
    }
    #[cfg(not(feature = "metrics"))]
    let _ = method;
}

/// Sets `mcp_registered_tools`, for servers that know their tool count before any `tools/list`.
pub fn set_registered_tools(count: usize) {
    #[cfg(feature = "metrics")]
    size::set_registered_tools(count);
    #[cfg(not(feature = "metrics"))]
    let _ = count;
}

/// Exports the fingerprint of the tool catalogue in `mcp_server_catalogue_info{kind="tools"}`
/// before any client lists it, as the answers to `tools/list` will later.
///
/// rmcp asks a handler for its list only with a client's request context, so call this at
/// start-up with what the handler will list, for example
/// `set_tool_catalogue(&Server::tool_router().list_all())`: a replica then exports its
/// fingerprint from its first scrape, and replicas serving different catalogues are seen before
/// any client connects.
pub fn set_tool_catalogue(tools: &[rmcp::model::Tool]) {
    fingerprint::server_listed(fingerprint::Catalogue::Tools, fingerprint::tools(tools));
}

/// Exports the fingerprint of the prompt catalogue, as [`set_tool_catalogue`] does for tools
/// (for example with `Server::prompt_router().list_all()`).
pub fn set_prompt_catalogue(prompts: &[rmcp::model::Prompt]) {
    fingerprint::server_listed(
        fingerprint::Catalogue::Prompts,
        fingerprint::prompts(prompts),
    );
}

#[cfg(test)]
mod tests {
    /// The methods of the `ServerHandler` of the rmcp this crate is built with, read from its
    /// source: `Instrumented` must forward every one, or a method rmcp added would answer with
    /// its default body instead of the wrapped handler.
    #[test]
    fn every_server_handler_method_is_forwarded() {
        let source = rmcp_source("src/handler/server.rs");
        let declared = declared_methods(&source, "macro_rules! server_handler_methods");
        let mut forwarded = super::server::FORWARDED.to_vec();
        forwarded.sort_unstable();
        assert_eq!(
            forwarded, declared,
            "Instrumented forwards exactly rmcp's ServerHandler methods"
        );
    }

    /// The sorted names of the `fn`s declared in `source` from `from` to the first line that is
    /// a lone `}`.
    pub(super) fn declared_methods<'a>(source: &'a str, from: &str) -> Vec<&'a str> {
        let start = source
            .find(from)
            .unwrap_or_else(|| panic!("rmcp declares {from}"));
        let body = &source[start..];
        let end = body.find("\n}\n").expect("the end of the declaration");
        let mut declared: Vec<&str> = body[..end]
            .lines()
            .filter_map(|l| l.trim().strip_prefix("fn "))
            .filter_map(|l| l.split(['(', '<']).next())
            .collect();
        declared.sort_unstable();
        declared.dedup();
        declared
    }

    /// A file of the rmcp package this crate is built with.
    pub(super) fn rmcp_source(path: &str) -> String {
        let rustc = std::process::Command::new("rustc")
            .arg("-vV")
            .output()
            .expect("rustc -vV runs");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
            .expect("rustc names its host");
        let metadata = std::process::Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            metadata.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&metadata.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&metadata.stdout).expect("cargo metadata prints JSON");
        let manifest = json["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .filter(|p| p["name"] == "rmcp")
            .filter_map(|p| p["manifest_path"].as_str())
            .next()
            .expect("rmcp is a dependency");
        let dir = std::path::Path::new(manifest)
            .parent()
            .expect("a package directory");
        std::fs::read_to_string(dir.join(path)).expect("rmcp's source is readable")
    }
}
