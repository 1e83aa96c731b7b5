//! The instrumented `ServerHandler`: one server span and one `mcp_server_operation_duration_seconds`
//! sample per request, legacy sessions, sizes, MRTR rounds, subscriptions and the audit trail.
#![allow(deprecated)] // rmcp marks some methods of the specification deprecated; they are still served.

use super::context::{self, Label, RequestInfo, SessionClient};
use super::options::Options;
use crate::{Fault, Outcome};
use rmcp::model::*;
use rmcp::service::{
    MaybeSendFuture, NotificationContext, RequestContext, RoleServer, SubscriptionContext,
};
use rmcp::{ErrorData as McpError, ServerHandler};
use std::borrow::Cow;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime};

/// A [`ServerHandler`] that records every request the server answers, then answers exactly as the
/// handler it wraps. See the [module docs](super).
pub struct Instrumented<H> {
    inner: H,
    options: Options,
    /// The client, from `initialize` (legacy sessions only).
    session_client: OnceLock<SessionClient>,
    /// The open session: its start and its `client_name` label.
    session: Mutex<Option<(Instant, Label)>>,
}

impl<H: ServerHandler> Instrumented<H> {
    /// Wraps `inner` with the default [`Options`].
    pub fn new(inner: H) -> Self {
        Self::with_options(inner, Options::default())
    }

    /// Wraps `inner` with `options`, typically built once at start-up and cloned into each handler.
    pub fn with_options(inner: H, options: Options) -> Self {
        Instrumented {
            inner,
            options,
            session_client: OnceLock::new(),
            session: Mutex::new(None),
        }
    }

    /// Tool names to use as the `tool` label besides those `inner.get_tool` knows (see
    /// [`Options::tool_names`]).
    pub fn with_tool_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.options = std::mem::take(&mut self.options).tool_names(names);
        self
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn tool_label(&self, name: &str) -> String {
        if self.options.get().tool_names.contains(name) || self.inner.get_tool(name).is_some() {
            name.to_owned()
        } else {
            crate::names::UNKNOWN.to_owned()
        }
    }

    fn session_client(&self) -> &SessionClient {
        static NONE: OnceLock<SessionClient> = OnceLock::new();
        self.session_client
            .get()
            .unwrap_or_else(|| NONE.get_or_init(SessionClient::default))
    }

    /// Starts the record of one request.
    fn start(
        &self,
        method: &'static str,
        target: Target,
        span_target: Option<(TargetKind, &str)>,
        context: &RequestContext<RoleServer>,
    ) -> Operation {
        let info = RequestInfo::read(context, self.session_client());
        let client = self.options.client_label(info.client_name.as_deref());
        let span = request_span(method, span_target, &info, Some(context));
        Operation {
            method,
            target,
            start: Instant::now(),
            client,
            retry: None,
            outcome: None,
            status_code: None,
            error_message: None,
            audit: None,
            info,
            span,
        }
    }

    fn session_started(&self, client: Option<&str>) {
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        if session.is_none() {
            let label = self.options.client_label(client);
            #[cfg(feature = "metrics")]
            metrics::gauge!(
                crate::names::SERVER_SESSIONS_ACTIVE,
                crate::names::label::CLIENT_NAME => label.clone()
            )
            .increment(1.0);
            *session = Some((Instant::now(), label));
        }
    }
}

impl<H> Drop for Instrumented<H> {
    fn drop(&mut self) {
        let session = self
            .session
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((_start, _label)) = session {
            #[cfg(feature = "metrics")]
            {
                use crate::names::{
                    SERVER_SESSION_DURATION_SECONDS, SERVER_SESSIONS_ACTIVE, label,
                };
                metrics::gauge!(SERVER_SESSIONS_ACTIVE, label::CLIENT_NAME => _label.clone())
                    .decrement(1.0);
                metrics::histogram!(SERVER_SESSION_DURATION_SECONDS, label::CLIENT_NAME => _label)
                    .record(_start.elapsed().as_secs_f64());
            }
        }
    }
}

/// What a request was about, for the `tool` / `prompt` label.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
enum Target {
    None,
    /// The tool label: a known tool name or `_unknown`.
    Tool(String),
    /// A prompt name, used as the label only if the request did not fail.
    Prompt(String),
}

/// Whether a span target names a tool or a prompt.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
enum TargetKind {
    Tool,
    Prompt,
}

/// What the audit event of a tool call needs beyond the operation.
struct AuditState {
    tool: String,
    request_id: String,
    started: SystemTime,
    arguments: Option<String>,
}

/// Records one request when dropped: with its outcome, or `cancelled` if the request's future was
/// dropped before it completed.
#[cfg_attr(not(all(feature = "metrics", feature = "trace")), allow(dead_code))]
struct Operation {
    method: &'static str,
    target: Target,
    start: Instant,
    info: RequestInfo,
    client: Label,
    /// `Some` for a request that may be a retry after `input_required`: whether it is one.
    retry: Option<bool>,
    /// `None` until the request completes.
    outcome: Option<Outcome>,
    /// The JSON-RPC error code of a failed request.
    status_code: Option<i32>,
    /// The JSON-RPC error message of a failed request.
    error_message: Option<String>,
    audit: Option<Box<AuditState>>,
    span: RequestSpan,
}

impl Operation {
    /// Marks the request as one that may follow an `input_required` answer, and whether it does.
    fn round(&mut self, retry: bool) {
        self.retry = Some(retry);
        #[cfg(feature = "trace")]
        if retry {
            self.span.record("mcp_metrics.mrtr.retry", true);
        }
    }

    /// The outcome of an error answer, as the client receives it.
    fn failed(&mut self, error: &McpError) -> Outcome {
        let mut code = error.code.0;
        // rmcp answers a missing resource with -32602 on 2026-07-28 and later.
        if code == ErrorCode::RESOURCE_NOT_FOUND.0 && self.info.has_input_required() {
            code = ErrorCode::INVALID_PARAMS.0;
        }
        self.status_code = Some(code);
        self.error_message = Some(error.message.to_string());
        Outcome::Error {
            kind: crate::jsonrpc_code_kind(code),
            fault: crate::jsonrpc_code_fault(code),
        }
    }

    /// A result rmcp refuses to send and answers with `code` instead: the handler's fault.
    fn refused(&mut self, code: ErrorCode, message: &str) -> Outcome {
        self.status_code = Some(code.0);
        self.error_message = Some(message.to_owned());
        Outcome::server_error(crate::jsonrpc_code_kind(code.0))
    }

    /// The outcome of an `InputRequiredResult`, which rmcp sends only on 2026-07-28 and later.
    fn input_required(&mut self) -> Outcome {
        if self.info.has_input_required() {
            Outcome::InputRequired
        } else {
            self.refused(
                ErrorCode::INVALID_REQUEST,
                "InputRequiredResult requires negotiated protocol version 2026-07-28 or newer",
            )
        }
    }
}

/// The server span of a request (with the `trace` feature).
#[cfg(feature = "trace")]
type RequestSpan = tracing::Span;
/// Without the `trace` feature there is no span.
#[cfg(not(feature = "trace"))]
#[derive(Clone, Copy)]
struct RequestSpan;

/// Opens the server span of a request or notification, following the OpenTelemetry MCP semantic
/// conventions: named `{mcp.method.name} {target}`, kind SERVER, parented by the client's context
/// from `_meta` (feature `otel`).
#[cfg(feature = "trace")]
fn request_span(
    method: &str,
    target: Option<(TargetKind, &str)>,
    info: &RequestInfo,
    context: Option<&RequestContext<RoleServer>>,
) -> RequestSpan {
    use tracing::field::Empty;
    // A root: its parent comes from the client's context (`otel`), never from the transport's
    // span that happens to be current; that one becomes a link.
    let span = tracing::info_span!(
        target: "mcp_metrics::server",
        parent: None,
        "mcp.server.request",
        otel.name = %super::SpanName(method, target.map(|(_, t)| t)),
        otel.kind = "server",
        mcp.method.name = method,
        gen_ai.tool.name = Empty,
        gen_ai.prompt.name = Empty,
        gen_ai.operation.name = Empty,
        jsonrpc.request.id = Empty,
        mcp.protocol.version = info.protocol_version.as_deref(),
        mcp.session.id = info.session_id.as_deref(),
        mcp.resource.uri = Empty,
        mcp.client.name = info.client_name.as_deref(),
        mcp.client.version = info.client_version.as_deref(),
        network.transport = if info.http { "tcp" } else { "pipe" },
        network.protocol.name = info.http.then_some("http"),
        network.protocol.version = info.http_version,
        client.address = Empty,
        client.port = Empty,
        rpc.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
        mcp_metrics.mrtr.retry = Empty,
    );
    if span.is_disabled() {
        // No subscriber wants it: skip formatting what nobody reads.
        return span;
    }
    match target {
        Some((TargetKind::Tool, t)) => {
            span.record("gen_ai.tool.name", t);
            span.record("gen_ai.operation.name", "execute_tool");
        }
        Some((TargetKind::Prompt, t)) => {
            span.record("gen_ai.prompt.name", t);
        }
        None => {}
    }
    if let Some(peer) = info.peer {
        span.record("client.address", peer.ip().to_string());
        span.record("client.port", i64::from(peer.port()));
    }
    if let Some(context) = context {
        span.record("jsonrpc.request.id", context.id.to_string());
        #[cfg(feature = "otel")]
        crate::otel::continue_trace(
            &span,
            &context.meta.0.0,
            context::http_parts(context).map(|p| &p.headers),
        );
    }
    span
}

#[cfg(not(feature = "trace"))]
fn request_span(
    _: &str,
    _: Option<(TargetKind, &str)>,
    _: &RequestInfo,
    _: Option<&RequestContext<RoleServer>>,
) -> RequestSpan {
    RequestSpan
}

impl Drop for Operation {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Cancelled);
        let fault = outcome.fault().map(Fault::as_str);
        #[cfg(feature = "trace")]
        {
            if let Some(code) = self.status_code {
                self.span
                    .record("rpc.response.status_code", code.to_string());
            }
            if let Some(e) = outcome.error_type() {
                self.span.record("error.type", e);
                self.span.record("otel.status_code", "ERROR");
            }
            if let Some(message) = &self.error_message {
                self.span
                    .record("otel.status_description", message.as_str());
            }
        }
        if let Some(audit) = self.audit.take() {
            let trace_id = trace_id(&self.span);
            super::audit::emit(&super::audit::AuditRecord {
                started: audit.started,
                tool: &audit.tool,
                outcome: outcome.as_str(),
                error_type: outcome.error_type(),
                fault,
                duration: self.start.elapsed(),
                request_id: &audit.request_id,
                session_id: self.info.session_id.as_deref(),
                client_name: self.info.client_name.as_deref(),
                client_version: self.info.client_version.as_deref(),
                protocol_version: self.info.protocol_version.as_deref(),
                trace_id: trace_id.as_deref(),
                arguments: audit.arguments.as_deref(),
            });
        }
        #[cfg(feature = "metrics")]
        {
            use crate::names::{
                SERVER_INPUT_RETRIES_TOTAL, SERVER_OPERATION_DURATION_SECONDS, label,
            };
            let mut labels = Vec::with_capacity(6);
            labels.push(metrics::Label::new(label::METHOD, self.method));
            match std::mem::replace(&mut self.target, Target::None) {
                Target::None => {}
                Target::Tool(name) => labels.push(metrics::Label::new(label::TOOL, name)),
                Target::Prompt(name) => {
                    let name = if matches!(outcome, Outcome::Error { .. }) {
                        crate::names::UNKNOWN.to_owned()
                    } else {
                        name
                    };
                    labels.push(metrics::Label::new(label::PROMPT, name));
                }
            }
            if self.retry == Some(true) {
                let mut retry_labels = labels.clone();
                retry_labels.push(metrics::Label::new(label::OUTCOME, outcome.as_str()));
                metrics::counter!(SERVER_INPUT_RETRIES_TOTAL, retry_labels).increment(1);
            }
            labels.push(metrics::Label::new(label::OUTCOME, outcome.as_str()));
            if let Some(e) = outcome.error_type() {
                labels.push(metrics::Label::new(label::ERROR_TYPE, e));
            }
            if let Some(f) = fault {
                labels.push(metrics::Label::new(label::FAULT, f));
            }
            labels.push(metrics::Label::new(label::CLIENT_NAME, self.client.clone()));
            metrics::histogram!(SERVER_OPERATION_DURATION_SECONDS, labels)
                .record(self.start.elapsed().as_secs_f64());
            super::size::record_request(self.method, self.info.body_bytes);
        }
    }
}

/// The trace id of a span, as 32 hex digits, when it belongs to an OpenTelemetry trace.
#[cfg(feature = "otel")]
fn trace_id(span: &RequestSpan) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let cx = span.context();
    let span_context = cx.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[cfg(not(feature = "otel"))]
fn trace_id(_: &RequestSpan) -> Option<String> {
    None
}

/// Runs one request: times it, classifies its answer, and turns a panic of the handler into a
/// JSON-RPC internal error, so that the client gets an answer instead of waiting for one that
/// never comes.
async fn observe<T>(
    mut op: Operation,
    future: impl Future<Output = Result<T, McpError>>,
    classify: impl FnOnce(&T, &mut Operation) -> Outcome,
) -> Result<T, McpError> {
    #[cfg(feature = "trace")]
    let future = tracing::Instrument::instrument(future, op.span.clone());
    let mut future = std::pin::pin!(future);
    let method = op.method;
    let result = std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => {
                #[cfg(feature = "trace")]
                tracing::error!(
                    method,
                    "the handler panicked; answering with an internal error"
                );
                let _ = method;
                std::task::Poll::Ready(Err(McpError::internal_error(
                    "the server failed to handle the request",
                    None,
                )))
            }
        }
    })
    .await;
    let outcome = match &result {
        Ok(value) => classify(value, &mut op),
        Err(e) => op.failed(e),
    };
    op.outcome = Some(outcome);
    result
}

fn success<T>(_: &T, _: &mut Operation) -> Outcome {
    Outcome::Success
}

/// Delegates a request method to the inner handler through [`observe`].
macro_rules! observed {
    ($name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $method:literal) => {
        fn $name(
            &self,
            $($arg: $ty,)*
            context: RequestContext<RoleServer>,
        ) -> impl Future<Output = Result<$out, McpError>> + MaybeSendFuture + '_ {
            let op = self.start($method, Target::None, None, &context);
            observe(op, self.inner.$name($($arg,)* context), success)
        }
    };
}

/// Delegates a notification to the inner handler, recording it as a successful operation.
macro_rules! notified {
    ($name:ident($($arg:ident: $ty:ty),*), $method:literal) => {
        fn $name(
            &self,
            $($arg: $ty,)*
            context: NotificationContext<RoleServer>,
        ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
            let info = RequestInfo::read_notification(&context, self.session_client());
            let op = Operation {
                method: $method,
                target: Target::None,
                start: Instant::now(),
                client: self.options.client_label(info.client_name.as_deref()),
                retry: None,
                outcome: None,
                status_code: None,
                error_message: None,
                audit: None,
                span: notification_span($method, &info, &context),
                info,
            };
            let answer = observe(op, async move {
                self.inner.$name($($arg,)* context).await;
                Ok(())
            }, success);
            async move {
                let _ = answer.await;
            }
        }
    };
}

#[cfg(feature = "trace")]
fn notification_span(
    method: &'static str,
    info: &RequestInfo,
    context: &NotificationContext<RoleServer>,
) -> RequestSpan {
    let span = request_span(method, None, info, None);
    #[cfg(feature = "otel")]
    crate::otel::continue_trace(
        &span,
        &context.meta.0.0,
        context
            .extensions
            .get::<http::request::Parts>()
            .map(|p| &p.headers),
    );
    #[cfg(not(feature = "otel"))]
    let _ = context;
    span
}

#[cfg(not(feature = "trace"))]
fn notification_span(
    _: &'static str,
    _: &RequestInfo,
    _: &NotificationContext<RoleServer>,
) -> RequestSpan {
    RequestSpan
}

impl<H: ServerHandler> ServerHandler for Instrumented<H> {
    observed!(ping() -> (), "ping");
    observed!(discover() -> DiscoverResult, "server/discover");
    observed!(complete(request: CompleteRequestParams) -> CompleteResult, "completion/complete");
    observed!(set_level(request: SetLevelRequestParams) -> (), "logging/setLevel");
    observed!(list_prompts(request: Option<PaginatedRequestParams>) -> ListPromptsResult, "prompts/list");
    observed!(list_resources(request: Option<PaginatedRequestParams>) -> ListResourcesResult, "resources/list");
    observed!(
        list_resource_templates(request: Option<PaginatedRequestParams>) -> ListResourceTemplatesResult,
        "resources/templates/list"
    );
    observed!(get_task(request: GetTaskParams) -> GetTaskResult, "tasks/get");
    observed!(update_task(request: UpdateTaskParams) -> (), "tasks/update");
    observed!(cancel_task(request: CancelTaskParams) -> (), "tasks/cancel");
    observed!(list_skills(request: Option<PaginatedRequestParams>) -> ListSkillsResult, "skills/list");
    observed!(get_skill(request: GetSkillRequestParams) -> GetSkillResult, "skills/get");
    observed!(
        read_resource_directory(request: ReadResourceDirectoryRequestParams) -> ReadResourceDirectoryResult,
        "resources/directory/read"
    );
    notified!(on_cancelled(notification: CancelledNotificationParam), "notifications/cancelled");
    notified!(on_progress(notification: ProgressNotificationParam), "notifications/progress");
    notified!(on_initialized(), "notifications/initialized");
    notified!(on_roots_list_changed(), "notifications/roots/list_changed");

    fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_custom_notification(notification, context)
    }

    fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<InitializeResult, McpError>> + MaybeSendFuture + '_ {
        let client = context::session_client(&request);
        let client_name = client.name.clone();
        let _ = self.session_client.set(client);
        let op = self.start("initialize", Target::None, None, &context);
        let answer = observe(op, self.inner.initialize(request, context), success);
        async move {
            let result = answer.await;
            if result.is_ok() {
                self.session_started(client_name.as_deref());
            }
            result
        }
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        let tool = self.tool_label(&request.name);
        #[cfg(feature = "metrics")]
        let tool_label = metrics::SharedString::from(tool.clone());
        let client_tasks = context::client_supports_tasks(&context);
        let mut op = self.start(
            "tools/call",
            Target::Tool(tool),
            Some((TargetKind::Tool, &request.name)),
            &context,
        );
        op.round(request.request_state.is_some() || request.input_responses.is_some());
        let capture = self.options.get().capture.clone();
        let arguments = capture
            .as_ref()
            .filter(|c| c.wants_arguments())
            .zip(request.arguments.as_ref())
            .map(|(c, a)| c.render(serde_json::Value::Object(a.clone())));
        #[cfg(feature = "trace")]
        if let Some(arguments) = &arguments {
            op.span
                .record("gen_ai.tool.call.arguments", arguments.as_str());
        }
        if self.options.get().audit {
            op.audit = Some(Box::new(AuditState {
                tool: context::cap(&request.name, 128).to_owned(),
                request_id: context.id.to_string(),
                started: SystemTime::now(),
                arguments,
            }));
        }
        let answer = self.inner.call_tool(request, context);
        observe(op, answer, move |response, op| match response {
            CallToolResponse::Complete(result) => {
                #[cfg(feature = "metrics")]
                super::size::record_tool_result(&tool_label, result);
                let failed = result.is_error == Some(true);
                #[cfg(feature = "trace")]
                if let Some(capture) = capture.as_ref().filter(|c| c.wants_result() && !failed) {
                    let value = serde_json::to_value(result).unwrap_or_default();
                    op.span
                        .record("gen_ai.tool.call.result", capture.render(value).as_str());
                }
                let _ = &capture;
                if failed {
                    Outcome::ToolError
                } else {
                    Outcome::Success
                }
            }
            CallToolResponse::InputRequired(_) => op.input_required(),
            CallToolResponse::Task(_) if client_tasks => Outcome::TaskCreated,
            CallToolResponse::Task(_) => op.refused(
                ErrorCode(-32021),
                "a task was created for a client that did not declare the tasks extension",
            ),
            _ => Outcome::Success,
        })
    }

    fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, McpError>> + MaybeSendFuture + '_ {
        let first_page = request.as_ref().is_none_or(|r| r.cursor.is_none());
        let op = self.start("tools/list", Target::None, None, &context);
        observe(
            op,
            self.inner.list_tools(request, context),
            move |list, _| {
                if first_page && list.next_cursor.is_none() {
                    super::set_registered_tools(list.tools.len());
                    #[cfg(feature = "metrics")]
                    super::size::record_tools_list(list);
                }
                Outcome::Success
            },
        )
    }

    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        let mut op = self.start(
            "prompts/get",
            Target::Prompt(request.name.to_string()),
            Some((TargetKind::Prompt, &request.name)),
            &context,
        );
        op.round(request.request_state.is_some() || request.input_responses.is_some());
        observe(
            op,
            self.inner.get_prompt(request, context),
            |response, op| match response {
                GetPromptResponse::InputRequired(_) => op.input_required(),
                _ => Outcome::Success,
            },
        )
    }

    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceResponse, McpError>> + MaybeSendFuture + '_ {
        let mut op = self.start("resources/read", Target::None, None, &context);
        op.round(request.request_state.is_some() || request.input_responses.is_some());
        #[cfg(feature = "trace")]
        op.span.record("mcp.resource.uri", request.uri.as_str());
        observe(
            op,
            self.inner.read_resource(request, context),
            |response, op| match response {
                ReadResourceResponse::InputRequired(_) => op.input_required(),
                _ => Outcome::Success,
            },
        )
    }

    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let op = self.start("resources/subscribe", Target::None, None, &context);
        #[cfg(feature = "trace")]
        op.span.record("mcp.resource.uri", request.uri.as_str());
        observe(op, self.inner.subscribe(request, context), success)
    }

    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let op = self.start("resources/unsubscribe", Target::None, None, &context);
        #[cfg(feature = "trace")]
        op.span.record("mcp.resource.uri", request.uri.as_str());
        observe(op, self.inner.unsubscribe(request, context), success)
    }

    /// A `subscriptions/listen` stream: counted in `mcp_server_subscriptions_active` while open,
    /// traced with a server span, never timed in the operation histogram.
    fn listen(
        &self,
        context: SubscriptionContext,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let guard = super::tasks::SubscriptionGuard::open();
        #[cfg(feature = "trace")]
        let span = {
            let request = context.request_context();
            let info = RequestInfo::read(request, self.session_client());
            request_span("subscriptions/listen", None, &info, Some(request))
        };
        let stream = self.inner.listen(context);
        #[cfg(feature = "trace")]
        let stream = tracing::Instrument::instrument(stream, span);
        async move {
            let _guard = guard;
            stream.await
        }
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        let op = self.start(crate::names::OTHER, Target::None, None, &context);
        observe(op, self.inner.on_custom_request(request, context), success)
    }

    fn negotiate_initialize(
        &self,
        request: &InitializeRequestParams,
    ) -> Result<InitializeResult, McpError> {
        self.inner.negotiate_initialize(request)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }
}
