//! The request spans of both sides, as the OpenTelemetry MCP conventions define them: kind SERVER
//! on the side that answers, CLIENT on the side that asks, named `{mcp.method.name} {target}`
//! where the target is a tool or prompt name the server is known to have, else
//! `{mcp.method.name}` alone, so that no peer chooses a span name.
//!
//! With `otel`, a request span is an OpenTelemetry span made through the global tracer provider,
//! and sampling is decided when it starts (head sampling: the parent's sampled flag from `_meta`,
//! else the configured sampler). An unsampled request gets a span that records nothing: no
//! attribute is built, while its ids still reach `_meta` of the messages it sends, log lines and
//! audit events. The handler runs with the span's context current, so `tracing` spans inside it
//! (the tool span) are its children. Without `otel`, the span is a `tracing` span; without
//! `trace`, there is none.

use super::operation::{Answer, Side, Target};
use std::net::SocketAddr;

/// Where the parent of a request span comes from.
#[derive(Default, Clone, Copy)]
pub(crate) enum Parent<'a> {
    /// A root.
    #[default]
    None,
    /// A request the server received: the context in its `_meta`, else its HTTP headers'.
    Received {
        meta: &'a rmcp::model::JsonObject,
        headers: Option<&'a http::HeaderMap>,
    },
    /// A request the client sends: the context its caller put in `_meta` (the request's own, then
    /// its params').
    Sent(&'a [&'a rmcp::model::JsonObject]),
    /// A request the server sends while it handles one: the context current in the handler (the
    /// span of the request being handled).
    Current,
}

/// What a request span starts with.
#[derive(Default)]
pub(crate) struct SpanStart<'a> {
    pub(crate) method: &'static str,
    pub(crate) target: Target,
    /// The name the peer sent, recorded only when it is known.
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
    pub(crate) parent: Parent<'a>,
}

impl SpanStart<'_> {
    /// The attributes known when the span starts, for a span that records.
    fn attributes(&self, mut each: impl FnMut(&'static str, Value<'_>)) {
        each("mcp.method.name", Value::Static(self.method));
        for (key, value) in [
            ("mcp.protocol.version", self.protocol_version),
            ("network.transport", self.transport),
            ("network.protocol.version", self.http_version),
        ] {
            if let Some(value) = value {
                each(key, Value::Static(value));
            }
        }
        if self.http_version.is_some() || self.transport == Some("tcp") {
            each("network.protocol.name", Value::Static("http"));
        }
        for (key, value) in [
            ("mcp.resource.uri", self.resource_uri),
            ("mcp_metrics.client.name", self.client.0),
            ("mcp_metrics.client.version", self.client.1),
            ("mcp.session.id", self.session_id),
        ] {
            if let Some(value) = value {
                each(key, Value::Text(value));
            }
        }
        if let Some(peer) = self.peer {
            each("client.address", Value::Owned(peer.ip().to_string()));
            each("client.port", Value::Int(i64::from(peer.port())));
        }
        if let Some((address, port)) = self.server {
            each("server.address", Value::Text(address));
            if let Some(port) = port {
                each("server.port", Value::Int(i64::from(port)));
            }
        }
        if let Some(id) = self.request_id {
            each("jsonrpc.request.id", Value::Owned(id.to_string()));
        }
    }
}

/// An attribute value, borrowed where it can be.
enum Value<'a> {
    Static(&'static str),
    Text(&'a str),
    Owned(String),
    Int(i64),
}

#[cfg(not(feature = "trace"))]
pub(crate) use none::RequestSpan;
#[cfg(feature = "otel")]
pub(crate) use otel::RequestSpan;
#[cfg(all(feature = "trace", not(feature = "otel")))]
pub(crate) use tracing_span::RequestSpan;

/// The attributes a target adds, and the span's name with it.
fn target_attributes(target: Target) -> Option<(&'static str, &'static str, bool)> {
    match target {
        Target::Tool(tool) => Some(("gen_ai.tool.name", tool, true)),
        Target::Prompt(prompt) => Some(("gen_ai.prompt.name", prompt, false)),
        Target::None => None,
    }
}

#[cfg(feature = "otel")]
mod otel {
    use super::{Answer, Parent, Side, SpanStart, Target, Value};
    use crate::store::Exemplar;
    use opentelemetry::trace::{
        FutureExt as _, Link, SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt as _,
    };
    use opentelemetry::{Context, KeyValue};

    /// An OpenTelemetry span, current in the context the request runs in.
    #[derive(Clone)]
    pub(crate) struct RequestSpan {
        cx: Context,
        method: &'static str,
        recording: bool,
        /// The caller's tool-execution span, when it stands for the request (see
        /// `rmcp::tool_span`): attributes and status go to it, its name and end stay the
        /// caller's.
        adopted: Option<tracing::Span>,
    }

    fn key_value(key: &'static str, value: Value<'_>) -> KeyValue {
        match value {
            Value::Static(v) => KeyValue::new(key, v),
            Value::Text(v) => KeyValue::new(key, v.to_owned()),
            Value::Owned(v) => KeyValue::new(key, v),
            Value::Int(v) => KeyValue::new(key, v),
        }
    }

    /// The parent context and the links of a span.
    fn parent(parent: Parent<'_>) -> (Context, Vec<Link>) {
        let ambient = Context::map_current(|cx| cx.span().span_context().clone());
        let mut links = Vec::new();
        let parent = match parent {
            Parent::None => Context::new(),
            Parent::Received { meta, headers } => {
                let from_meta = crate::propagation::extract_meta(&[meta]);
                let from_http = headers.and_then(crate::propagation::extract_headers);
                match (from_meta, from_http) {
                    (Some(parent), http) => {
                        if let Some(http) = http {
                            links.push(Link::with_context(http.span().span_context().clone()));
                        }
                        parent
                    }
                    (None, Some(http)) => http,
                    (None, None) => Context::new(),
                }
            }
            Parent::Sent(metas) => crate::propagation::extract_meta(metas).unwrap_or_default(),
            Parent::Current => Context::current(),
        };
        // The transport's connection span, current when the request arrived, is a link: it is
        // not the caller of the request.
        if ambient.is_valid() && ambient != *parent.span().span_context() {
            links.push(Link::with_context(ambient));
        }
        (parent, links)
    }

    impl RequestSpan {
        /// Starts the span of a request (or notification) on `side`, sampled as the configured
        /// sampler decides given its parent.
        pub(crate) fn start(side: Side, start: &SpanStart<'_>) -> Self {
            let (parent, links) = parent(start.parent);
            let kind = match side {
                Side::Server => SpanKind::Server,
                Side::Client => SpanKind::Client,
            };
            let builder = SpanBuilder::from_name(start.method)
                .with_kind(kind)
                .with_links(links);
            let span = crate::otel::start(builder, &parent);
            let cx = parent.with_span(span);
            let recording = cx.span().is_recording();
            let this = RequestSpan {
                cx,
                method: start.method,
                recording,
                adopted: None,
            };
            if recording {
                let span = this.cx.span();
                let mut attributes = Vec::with_capacity(16);
                start.attributes(|key, value| attributes.push(key_value(key, value)));
                span.set_attributes(attributes);
                if let Some(name) = start.name {
                    this.record_target(start.target, name);
                }
            }
            this
        }

        /// The caller's tool-execution span as the span of a request: it gets the attributes
        /// a request span starts with, and keeps its name.
        #[cfg(feature = "rmcp-client")]
        pub(crate) fn adopt(span: tracing::Span, start: &SpanStart<'_>) -> Self {
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            let cx = span.context();
            let recording = cx.span().span_context().is_sampled();
            let this = RequestSpan {
                cx,
                method: start.method,
                recording,
                adopted: Some(span),
            };
            if recording {
                start.attributes(|key, value| this.set(key_value(key, value)));
                if let Some(name) = start.name {
                    this.record_target(start.target, name);
                }
            }
            this
        }

        /// Sets an attribute on the span (the caller's, when it was handed over).
        fn set(&self, attribute: KeyValue) {
            match &self.adopted {
                Some(span) => {
                    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                    span.set_attribute(attribute.key, attribute.value);
                }
                None => self.cx.span().set_attribute(attribute),
            }
        }

        /// Names the span after its target and records the target's attribute, when the target
        /// is a known name.
        pub(crate) fn record_target(&self, target: Target, name: &str) {
            let Some(known) = target.known() else {
                return;
            };
            debug_assert_eq!(known, name);
            if !self.recording {
                return;
            }
            let Some((key, value, tool)) = super::target_attributes(target) else {
                return;
            };
            self.set(KeyValue::new(key, value));
            if tool {
                self.set(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            }
            if self.adopted.is_none() {
                self.cx
                    .span()
                    .update_name(format!("{} {known}", self.method));
            }
        }

        /// Records the name the peer sent for a target the server is not known to have, without
        /// naming the span after it: only under an opt-in capture, capped like arguments.
        pub(crate) fn record_unknown_name(&self, target: Target, name: &str) {
            if let (true, Some((key, _, _))) = (self.recording, super::target_attributes(target)) {
                self.set(KeyValue::new(key, name.to_owned()));
            }
        }

        /// Marks a retry of a multi-round-trip call.
        pub(crate) fn record_retry(&self) {
            if self.recording {
                self.set(KeyValue::new("mcp_metrics.mrtr.retry", true));
            }
        }

        /// Records captured tool-call arguments.
        pub(crate) fn record_arguments(&self, arguments: &str) {
            if self.recording {
                self.set(KeyValue::new(
                    "gen_ai.tool.call.arguments",
                    arguments.to_owned(),
                ));
            }
        }

        /// Records a text attribute whose key is made at run time (a captured prompt variable).
        pub(crate) fn record_text(&self, key: String, value: String) {
            if self.recording {
                self.set(KeyValue::new(key, value));
            }
        }

        /// Records a captured tool-call result.
        pub(crate) fn record_result(&self, result: &str) {
            if self.recording {
                self.set(KeyValue::new("gen_ai.tool.call.result", result.to_owned()));
            }
        }

        /// Whether this span records (it was sampled): what is worth computing for it.
        pub(crate) fn is_recording(&self) -> bool {
            self.recording
        }

        /// Ends the span with how the operation ended: `rpc.response.status_code` for a JSON-RPC
        /// error and, for an answer the conventions count as an error on `side`, `error.type`
        /// and the ERROR status with the error's message.
        pub(crate) fn finish(&self, side: Side, answer: &Answer<'_>) {
            if self.recording {
                if let Some(error) = answer.error {
                    self.set(KeyValue::new(
                        "rpc.response.status_code",
                        error.code.to_string(),
                    ));
                }
                if answer.is_error(side)
                    && let Some(error_type) = answer.outcome.error_type()
                {
                    self.set(KeyValue::new("error.type", error_type));
                    let status = Status::error(answer.error.map_or("", |e| e.message).to_owned());
                    match &self.adopted {
                        Some(span) => {
                            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                            span.set_status(status);
                        }
                        None => self.cx.span().set_status(status),
                    }
                }
            }
            // The caller ends a span it handed over.
            if self.adopted.is_none() {
                self.cx.span().end();
            }
        }

        /// The ids of this span for an exemplar, when it was sampled.
        pub(crate) fn exemplar(&self) -> Option<Exemplar> {
            let ids = self.cx.span().span_context().clone();
            (ids.is_valid() && ids.is_sampled()).then(|| Exemplar {
                trace_id: u128::from_be_bytes(ids.trace_id().to_bytes()),
                span_id: u64::from_be_bytes(ids.span_id().to_bytes()),
            })
        }

        /// The trace id, for audit events; sampled or not, it names the trace the logs belong to.
        pub(crate) fn trace_id(&self) -> Option<String> {
            let ids = self.cx.span().span_context().clone();
            ids.is_valid().then(|| ids.trace_id().to_string())
        }

        /// The span's context, as a link from another span.
        pub(crate) fn span_context(&self) -> SpanContext {
            self.cx.span().span_context().clone()
        }

        /// Links the span to `previous` (the round of a multi-round-trip call it retries).
        pub(crate) fn link(&self, previous: SpanContext) {
            if self.recording {
                match &self.adopted {
                    Some(span) => {
                        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                        span.add_link(previous);
                    }
                    None => self.cx.span().add_link(previous, Vec::new()),
                }
            }
        }

        /// Writes the span's context into `meta`, for the peer to continue.
        pub(crate) fn inject(&self, meta: &mut rmcp::model::JsonObject) {
            crate::propagation::inject_meta(&self.cx, meta);
        }

        /// Runs `future` with the span's context current.
        pub(crate) fn instrument<F: std::future::Future>(
            &self,
            future: F,
        ) -> opentelemetry::trace::WithContext<F> {
            future.with_context(self.cx.clone())
        }

        /// Runs `f` with the span's context current.
        pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
            let _current = self.cx.clone().attach();
            f()
        }
    }
}

#[cfg(all(feature = "trace", not(feature = "otel")))]
mod tracing_span {
    use super::{Answer, Side, SpanStart, Target, Value};
    use crate::store::Exemplar;

    /// A `tracing` span, for logs: without `otel` it has no OpenTelemetry ids.
    #[derive(Clone)]
    pub(crate) struct RequestSpan(tracing::Span, &'static str);

    /// Declares a request span with every attribute either side may record; fields recorded
    /// later start `Empty`, and only what is set is written.
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

    impl RequestSpan {
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
            let this = RequestSpan(span, start.method);
            if this.0.is_disabled() {
                return this;
            }
            start.attributes(|key, value| match value {
                Value::Static(v) => {
                    this.0.record(key, v);
                }
                Value::Text(v) => {
                    this.0.record(key, v);
                }
                Value::Owned(v) => {
                    this.0.record(key, v.as_str());
                }
                Value::Int(v) => {
                    this.0.record(key, v);
                }
            });
            if let Some(name) = start.name {
                this.record_target(start.target, name);
            }
            this
        }

        pub(crate) fn record_target(&self, target: Target, name: &str) {
            let Some(known) = target.known() else {
                return;
            };
            debug_assert_eq!(known, name);
            let Some((key, value, tool)) = super::target_attributes(target) else {
                return;
            };
            if self.0.is_disabled() {
                return;
            }
            self.0.record(key, value);
            if tool {
                self.0.record("gen_ai.operation.name", "execute_tool");
            }
            self.0.record(
                "otel.name",
                tracing::field::display(format_args!("{} {known}", self.1)),
            );
        }

        pub(crate) fn record_unknown_name(&self, target: Target, name: &str) {
            if let Some((key, _, _)) = super::target_attributes(target) {
                self.0.record(key, name);
            }
        }

        pub(crate) fn record_retry(&self) {
            self.0.record("mcp_metrics.mrtr.retry", true);
        }

        pub(crate) fn record_arguments(&self, arguments: &str) {
            self.0.record("gen_ai.tool.call.arguments", arguments);
        }

        pub(crate) fn record_result(&self, result: &str) {
            self.0.record("gen_ai.tool.call.result", result);
        }

        /// A `tracing` span declares its fields up front: a key made at run time is not recorded.
        pub(crate) fn record_text(&self, _: String, _: String) {}

        pub(crate) fn is_recording(&self) -> bool {
            !self.0.is_disabled()
        }

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

        pub(crate) fn exemplar(&self) -> Option<Exemplar> {
            None
        }

        pub(crate) fn trace_id(&self) -> Option<String> {
            None
        }

        pub(crate) fn instrument<F: std::future::Future>(
            &self,
            future: F,
        ) -> tracing::instrument::Instrumented<F> {
            tracing::Instrument::instrument(future, self.0.clone())
        }

        /// Runs `f` in the span.
        pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
            self.0.in_scope(f)
        }
    }
}

#[cfg(not(feature = "trace"))]
mod none {
    use super::{Answer, Side, SpanStart, Target};
    use crate::store::Exemplar;

    /// Without `trace`, no span.
    #[derive(Clone)]
    pub(crate) struct RequestSpan;

    impl RequestSpan {
        pub(crate) fn start(_: Side, _: &SpanStart<'_>) -> Self {
            RequestSpan
        }
        pub(crate) fn record_target(&self, _: Target, _: &str) {}
        pub(crate) fn record_unknown_name(&self, _: Target, _: &str) {}
        pub(crate) fn record_retry(&self) {}
        pub(crate) fn record_arguments(&self, _: &str) {}
        pub(crate) fn record_result(&self, _: &str) {}
        pub(crate) fn record_text(&self, _: String, _: String) {}
        pub(crate) fn is_recording(&self) -> bool {
            false
        }
        pub(crate) fn finish(&self, _: Side, _: &Answer<'_>) {}
        pub(crate) fn exemplar(&self) -> Option<Exemplar> {
            None
        }
        pub(crate) fn trace_id(&self) -> Option<String> {
            None
        }
        pub(crate) fn instrument<F>(&self, future: F) -> F {
            future
        }
        pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
            f()
        }
    }
}
