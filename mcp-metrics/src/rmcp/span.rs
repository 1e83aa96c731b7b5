//! The request spans of both sides, as the OpenTelemetry MCP conventions define them: kind SERVER
//! on the side that answers, CLIENT on the side that asks, named `{mcp.method.name} {target}`
//! where the target is a tool or prompt name the server is known to have, else
//! `{mcp.method.name}` alone, so that no peer chooses a span name. Without the `trace` feature a
//! span is nothing.

use super::operation::{Answer, Side, Target};
use crate::store::Exemplar;
use std::net::SocketAddr;

/// What a request span starts with.
#[derive(Default)]
pub(crate) struct SpanStart<'a> {
    pub(crate) method: &'static str,
    pub(crate) target: Target,
    /// The name the peer sent, recorded only when it is known or captured.
    pub(crate) name: Option<&'a str>,
    pub(crate) protocol_version: Option<&'static str>,
    /// `network.transport`: `tcp` or `pipe`.
    pub(crate) transport: Option<&'static str>,
    /// `network.protocol.version` of HTTP.
    pub(crate) http_version: Option<&'static str>,
    /// `client.address` and `client.port` (server side).
    pub(crate) peer: Option<SocketAddr>,
    /// `server.address` and `server.port` (client side).
    pub(crate) server: Option<(&'a str, Option<u16>)>,
    pub(crate) request_id: Option<&'a rmcp::model::RequestId>,
    pub(crate) resource_uri: Option<&'a str>,
    /// `mcp_metrics.client.name` and `.version` as sent (server side).
    pub(crate) client: (Option<&'a str>, Option<&'a str>),
    /// `mcp.session.id` of a legacy HTTP session (server side).
    pub(crate) session_id: Option<&'a str>,
}

/// The span of one request or notification.
#[cfg(feature = "trace")]
#[derive(Clone)]
pub(crate) struct RequestSpan(tracing::Span, &'static str);

/// Without `trace`, no span.
#[cfg(not(feature = "trace"))]
#[derive(Clone)]
pub(crate) struct RequestSpan;

/// Declares a request span with every attribute either side may record; fields recorded later
/// start `Empty`, and only what is set is exported.
#[cfg(feature = "trace")]
macro_rules! request_span {
    ($target:literal, $name:literal, $kind:literal, $method:expr) => {
        tracing::info_span!(
            target: $target,
            parent: None,
            $name,
            otel.name = $method,
            otel.kind = $kind,
            mcp.method.name = $method,
            gen_ai.tool.name = Empty,
            gen_ai.prompt.name = Empty,
            gen_ai.operation.name = Empty,
            jsonrpc.request.id = Empty,
            mcp.protocol.version = Empty,
            mcp.session.id = Empty,
            mcp.resource.uri = Empty,
            mcp_metrics.client.name = Empty,
            mcp_metrics.client.version = Empty,
            network.transport = Empty,
            network.protocol.name = Empty,
            network.protocol.version = Empty,
            client.address = Empty,
            client.port = Empty,
            server.address = Empty,
            server.port = Empty,
            rpc.response.status_code = Empty,
            error.type = Empty,
            otel.status_code = Empty,
            otel.status_description = Empty,
            gen_ai.tool.call.arguments = Empty,
            gen_ai.tool.call.result = Empty,
            mcp_metrics.mrtr.retry = Empty,
        )
    };
}

#[cfg(feature = "trace")]
impl RequestSpan {
    /// Opens the span of a request (or notification) on `side`. It has no parent of its own:
    /// the peer's context comes from `_meta` (see [`crate::propagation`]).
    pub(crate) fn start(side: Side, start: &SpanStart<'_>) -> Self {
        use tracing::field::Empty;
        let span = match side {
            Side::Server => request_span!(
                "mcp_metrics::server",
                "mcp.server.request",
                "server",
                start.method
            ),
            Side::Client => request_span!(
                "mcp_metrics::client",
                "mcp.client.request",
                "client",
                start.method
            ),
        };
        if span.is_disabled() {
            // No subscriber wants it: skip writing what nobody reads.
            return RequestSpan(span, start.method);
        }
        let this = RequestSpan(span, start.method);
        let span = &this.0;
        if let Some(name) = start.name {
            this.record_target(start.target, name);
        }
        let optional = [
            ("mcp.protocol.version", start.protocol_version),
            ("network.transport", start.transport),
            ("network.protocol.version", start.http_version),
            ("mcp.resource.uri", start.resource_uri),
            ("mcp_metrics.client.name", start.client.0),
            ("mcp_metrics.client.version", start.client.1),
            ("mcp.session.id", start.session_id),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                span.record(field, value);
            }
        }
        if start.http_version.is_some() || start.transport == Some("tcp") {
            span.record("network.protocol.name", "http");
        }
        if let Some(peer) = start.peer {
            span.record("client.address", peer.ip().to_string());
            span.record("client.port", i64::from(peer.port()));
        }
        if let Some((address, port)) = start.server {
            span.record("server.address", address);
            if let Some(port) = port {
                span.record("server.port", i64::from(port));
            }
        }
        if let Some(id) = start.request_id {
            span.record("jsonrpc.request.id", tracing::field::display(id));
        }
        this
    }

    /// Names the span after its target and records the target's attribute, when the target is
    /// a known name (`name` is what the peer sent; it is written only then).
    pub(crate) fn record_target(&self, target: Target, name: &str) {
        let Some(known) = target.known() else {
            return;
        };
        debug_assert_eq!(known, name);
        if self.0.is_disabled() {
            return;
        }
        match target {
            Target::Tool(tool) => {
                self.0.record("gen_ai.tool.name", tool);
                self.0.record("gen_ai.operation.name", "execute_tool");
            }
            Target::Prompt(prompt) => {
                self.0.record("gen_ai.prompt.name", prompt);
            }
            Target::None => return,
        }
        self.0.record(
            "otel.name",
            tracing::field::display(SpanName(self.1, known)),
        );
    }

    /// Records the name the peer sent for a target the server is not known to have, without
    /// naming the span after it: only under an opt-in capture, capped like arguments.
    pub(crate) fn record_unknown_name(&self, target: Target, name: &str) {
        match target {
            Target::Tool(_) => self.0.record("gen_ai.tool.name", name),
            Target::Prompt(_) => self.0.record("gen_ai.prompt.name", name),
            Target::None => return,
        };
    }

    /// Marks a retry of a multi-round-trip call.
    pub(crate) fn record_retry(&self) {
        self.0.record("mcp_metrics.mrtr.retry", true);
    }

    /// Records captured tool-call arguments.
    pub(crate) fn record_arguments(&self, arguments: &str) {
        self.0.record("gen_ai.tool.call.arguments", arguments);
    }

    /// Records a captured tool-call result.
    pub(crate) fn record_result(&self, result: &str) {
        self.0.record("gen_ai.tool.call.result", result);
    }

    /// Records how the operation ended: `rpc.response.status_code` for a JSON-RPC error, and for
    /// an answer the conventions count as an error on `side`, `error.type`, the ERROR status and
    /// the error's message as its description.
    pub(crate) fn finish(&self, side: Side, answer: &Answer<'_>) {
        if self.0.is_disabled() {
            return;
        }
        if let Some(error) = answer.error {
            self.0
                .record("rpc.response.status_code", error.code.to_string());
        }
        if answer.is_error(side)
            && let Some(error_type) = answer.outcome.error_type()
        {
            self.0.record("error.type", error_type);
            self.0.record("otel.status_code", "ERROR");
            if let Some(error) = answer.error {
                self.0.record("otel.status_description", error.message);
            }
        }
    }

    /// The ids of this span for an exemplar, when it belongs to a sampled trace.
    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        crate::propagation::exemplar(&self.0)
    }

    /// The trace id, for audit events.
    #[cfg(feature = "otel")]
    pub(crate) fn trace_id(&self) -> Option<String> {
        crate::propagation::trace_id(&self.0)
    }

    /// The trace id, for audit events: none without `otel`.
    #[cfg(not(feature = "otel"))]
    pub(crate) fn trace_id(&self) -> Option<String> {
        None
    }

    /// The `tracing` span.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.0
    }
}

/// The name of a request span with a known target, `{method} {target}`, written only if the
/// span is built.
#[cfg(feature = "trace")]
struct SpanName(&'static str, &'static str);

#[cfg(feature = "trace")]
impl std::fmt::Display for SpanName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

#[cfg(not(feature = "trace"))]
impl RequestSpan {
    pub(crate) fn start(_: Side, _: &SpanStart<'_>) -> Self {
        RequestSpan
    }
    pub(crate) fn record_target(&self, _: Target, _: &str) {}
    pub(crate) fn record_unknown_name(&self, _: Target, _: &str) {}
    pub(crate) fn record_retry(&self) {}
    pub(crate) fn record_arguments(&self, _: &str) {}
    pub(crate) fn record_result(&self, _: &str) {}
    pub(crate) fn finish(&self, _: Side, _: &Answer<'_>) {}
    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        None
    }
    pub(crate) fn trace_id(&self) -> Option<String> {
        None
    }
}
