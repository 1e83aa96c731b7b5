//! The agent's own tool-execution span as the client span of a `tools/call`: [`in_tool_span`]
//! hands the span current where a call is made to the client transport, which records the MCP
//! attributes, the outcome and the status on it instead of opening a CLIENT span of its own.
//!
//! The OpenTelemetry MCP conventions ask this of an instrumentation that knows the tool's
//! execution is traced already (by the agent's GenAI instrumentation, as an `execute_tool` span):
//! one span per tool execution, not two. The transport cannot see the caller's span (rmcp sends
//! from a task of its own), so the span waits here, keyed by its span id, until the transport
//! finds that id as the parent in the request's `_meta`; a span whose request never comes is
//! forgotten after 256 others.

use opentelemetry::trace::{SpanId, TraceContextExt as _};
use rmcp::model::{CallToolRequestParams, JsonObject};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The most handed-over spans waiting for their request at once.
pub(crate) const MAX_WAITING: usize = 256;

/// Spans waiting for their request, oldest first.
static WAITING: Mutex<VecDeque<(SpanId, tracing::Span)>> = Mutex::new(VecDeque::new());
/// How many spans wait: the transport looks no further while none does.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Like [`with_current_context`](crate::rmcp::client::with_current_context), for a tool call made inside a
/// span that already traces the tool's execution, such as the `execute_tool` span of the agent's
/// GenAI instrumentation: the instrumented client transport opens no CLIENT span for the call and
/// records on that span the MCP attributes (`mcp.method.name`, `jsonrpc.request.id`,
/// `mcp.protocol.version`, `network.*`, …), `error.type`, `rpc.response.status_code` and the
/// ERROR status of a failure. The span keeps its name and kind, and ending it stays the
/// caller's; the server's span becomes its child, and the call is still recorded in
/// `mcp_client_operation_duration_seconds`. Only the first round of a multi-round-trip call
/// uses the span; later rounds are CLIENT spans, its children.
///
/// Without a sampled `tracing` span current (with the OpenTelemetry layer), this is
/// `with_current_context`.
///
/// ```no_run
/// # async fn run(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) -> Result<(), rmcp::ServiceError> {
/// use mcp_metrics::rmcp::client::in_tool_span;
/// use rmcp::model::CallToolRequestParams;
/// use tracing::Instrument as _;
///
/// let span = tracing::info_span!("execute_tool", otel.name = "execute_tool add");
/// async { client.call_tool(in_tool_span(CallToolRequestParams::new("add"))).await }
///     .instrument(span)
///     .await?;
/// # Ok(()) }
/// ```
pub fn in_tool_span(params: CallToolRequestParams) -> CallToolRequestParams {
    let span = tracing::Span::current();
    let params = crate::propagation::with_current_context(params);
    let ids = span.context().span().span_context().clone();
    if ids.is_valid() && ids.is_sampled() {
        let mut waiting = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
        let forgotten = (waiting.len() >= MAX_WAITING).then(|| waiting.pop_front());
        waiting.push_back((ids.span_id(), span));
        COUNT.store(waiting.len(), Ordering::Relaxed);
        drop(waiting);
        // Dropped outside the lock: closing a span may export it.
        drop(forgotten);
    }
    params
}

/// The span handed over for the request whose `_meta` maps are `metas`, if its parent is one.
pub(crate) fn take(metas: &[&JsonObject]) -> Option<tracing::Span> {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let parent = crate::propagation::extract_meta(metas)?;
    let id = parent.span().span_context().span_id();
    let mut waiting = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
    let at = waiting.iter().position(|(waiting, _)| *waiting == id)?;
    let span = waiting.remove(at).map(|(_, span)| span);
    COUNT.store(waiting.len(), Ordering::Relaxed);
    span
}
