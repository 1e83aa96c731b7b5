//! The instrumented `ServerHandler`.
#![allow(deprecated)] // rmcp marks some methods of the specification deprecated; they are still served.

use rmcp::model::*;
use rmcp::service::{
    MaybeSendFuture, NotificationContext, RequestContext, RoleServer, SubscriptionContext,
};
use rmcp::{ErrorData as McpError, ServerHandler};
use std::borrow::Cow;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A [`ServerHandler`] that records `mcp_server_operation_duration_seconds` for every request and
/// the session metrics, then answers exactly as the handler it wraps. See the [module docs](super).
pub struct Instrumented<H> {
    inner: H,
    extra_tools: Arc<HashSet<String>>,
    session_start: Mutex<Option<Instant>>,
}

impl<H: ServerHandler> Instrumented<H> {
    /// Wraps `inner`.
    pub fn new(inner: H) -> Self {
        Instrumented {
            inner,
            extra_tools: Arc::default(),
            session_start: Mutex::new(None),
        }
    }

    /// Tool names to use as the `tool` label besides those `inner.get_tool` knows (it knows all the
    /// tools of a `#[tool_handler]`). Any other requested name is labelled `_unknown`, so that a
    /// client cannot create series at will.
    pub fn with_tool_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.extra_tools = Arc::new(names.into_iter().map(Into::into).collect());
        self
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    fn tool_label(&self, name: &str) -> String {
        if self.extra_tools.contains(name) || self.inner.get_tool(name).is_some() {
            name.to_owned()
        } else {
            crate::names::UNKNOWN.to_owned()
        }
    }

    fn session_started(&self) {
        let mut start = self.session_start.lock().unwrap_or_else(|p| p.into_inner());
        if start.is_none() {
            *start = Some(Instant::now());
            #[cfg(feature = "metrics")]
            metrics::gauge!(crate::names::SERVER_SESSIONS_ACTIVE).increment(1.0);
        }
    }
}

impl<H> Drop for Instrumented<H> {
    fn drop(&mut self) {
        let start = self
            .session_start
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(_start) = start {
            #[cfg(feature = "metrics")]
            {
                metrics::gauge!(crate::names::SERVER_SESSIONS_ACTIVE).decrement(1.0);
                metrics::histogram!(crate::names::SERVER_SESSION_DURATION_SECONDS)
                    .record(_start.elapsed().as_secs_f64());
            }
        }
    }
}

/// What a request was about, for the `tool` / `prompt` label.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
enum Target {
    None,
    Tool(String),
    /// A prompt name, used as the label only if the request succeeded.
    Prompt(String),
}

/// Records one request when dropped: with its result's error type, or `cancelled` if the
/// request's future was dropped before it completed.
#[cfg_attr(not(all(feature = "metrics", feature = "trace")), allow(dead_code))]
struct Operation {
    method: &'static str,
    target: Target,
    start: Instant,
    error_type: Option<&'static str>,
    finished: bool,
    span: RequestSpan,
}

impl Operation {
    fn start(method: &'static str, target: Target, span: RequestSpan) -> Self {
        Operation {
            method,
            target,
            start: Instant::now(),
            error_type: None,
            finished: false,
            span,
        }
    }
}

/// The server span of a request (with the `trace` feature).
#[cfg(feature = "trace")]
type RequestSpan = tracing::Span;
#[cfg(not(feature = "trace"))]
type RequestSpan = ();

/// Opens the server span of a request, following the OpenTelemetry MCP semantic conventions:
/// named `{mcp.method.name} {target}`, parented by the client's `_meta.traceparent` (feature `otel`).
#[cfg(feature = "trace")]
fn request_span(
    method: &'static str,
    target: Option<(&'static str, &str)>,
    context: &RequestContext<RoleServer>,
) -> RequestSpan {
    use tracing::field::Empty;
    let name = match target {
        Some((_, t)) => format!("{method} {t}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "mcp.server.request",
        otel.name = %name,
        otel.kind = "server",
        mcp.method.name = method,
        gen_ai.tool.name = Empty,
        gen_ai.prompt.name = Empty,
        gen_ai.operation.name = Empty,
        jsonrpc.request.id = %context.id,
        mcp.protocol.version = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    match target {
        Some(("tool", t)) => {
            span.record("gen_ai.tool.name", t);
            span.record("gen_ai.operation.name", "execute_tool");
        }
        Some((_, t)) => {
            span.record("gen_ai.prompt.name", t);
        }
        None => {}
    }
    if let Some(version) = context.meta.protocol_version() {
        span.record("mcp.protocol.version", version.as_str());
    }
    #[cfg(feature = "otel")]
    crate::otel::set_remote_parent(
        &span,
        context.meta.get_traceparent(),
        context.meta.get_tracestate(),
    );
    span
}

#[cfg(not(feature = "trace"))]
fn request_span(
    _: &'static str,
    _: Option<(&'static str, &str)>,
    _: &RequestContext<RoleServer>,
) -> RequestSpan {
}

impl Drop for Operation {
    fn drop(&mut self) {
        let error_type = if self.finished {
            self.error_type
        } else {
            Some("cancelled")
        };
        #[cfg(feature = "trace")]
        if let Some(e) = error_type {
            self.span.record("error.type", e);
            self.span.record("otel.status_code", "ERROR");
        }
        #[cfg(feature = "metrics")]
        {
            use crate::names::label;
            let mut labels = vec![metrics::Label::new(label::METHOD, self.method)];
            match std::mem::replace(&mut self.target, Target::None) {
                Target::None => {}
                Target::Tool(name) => labels.push(metrics::Label::new(label::TOOL, name)),
                Target::Prompt(name) => {
                    let name = if error_type.is_none() {
                        name
                    } else {
                        crate::names::UNKNOWN.to_owned()
                    };
                    labels.push(metrics::Label::new(label::PROMPT, name));
                }
            }
            if let Some(e) = error_type {
                labels.push(metrics::Label::new(label::ERROR_TYPE, e));
            }
            metrics::histogram!(crate::names::SERVER_OPERATION_DURATION_SECONDS, labels)
                .record(self.start.elapsed().as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (error_type, self.start, self.method);
    }
}

fn no_result_error<T>(_: &T) -> Option<&'static str> {
    None
}

fn call_tool_error(response: &CallToolResponse) -> Option<&'static str> {
    match response {
        CallToolResponse::Complete(r) if r.is_error == Some(true) => Some("tool_error"),
        _ => None,
    }
}

/// Runs one request: times it, and turns a panic of the handler into a JSON-RPC internal error,
/// so that the client gets an answer instead of waiting for one that never comes.
async fn observe<T>(
    method: &'static str,
    target: Target,
    span: RequestSpan,
    future: impl Future<Output = Result<T, McpError>>,
    result_error: fn(&T) -> Option<&'static str>,
) -> Result<T, McpError> {
    #[cfg(feature = "trace")]
    let future = tracing::Instrument::instrument(future, span.clone());
    let mut op = Operation::start(method, target, span);
    let mut future = std::pin::pin!(future);
    let result = std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => {
                #[cfg(feature = "trace")]
                tracing::error!(
                    method,
                    "the handler panicked; answering with an internal error"
                );
                std::task::Poll::Ready(Err(McpError::internal_error(
                    "the server failed to handle the request",
                    None,
                )))
            }
        }
    })
    .await;
    op.error_type = match &result {
        Ok(value) => result_error(value),
        Err(e) => Some(crate::jsonrpc_code_kind(e.code.0)),
    };
    op.finished = true;
    result
}

/// Delegates a request method to the inner handler through [`observe`].
macro_rules! observed {
    ($name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $method:literal) => {
        fn $name(
            &self,
            $($arg: $ty,)*
            context: RequestContext<RoleServer>,
        ) -> impl Future<Output = Result<$out, McpError>> + MaybeSendFuture + '_ {
            let span = request_span($method, None, &context);
            observe($method, Target::None, span, self.inner.$name($($arg,)* context), no_result_error)
        }
    };
}

/// Delegates a notification or plain method to the inner handler.
macro_rules! delegated {
    ($name:ident($($arg:ident: $ty:ty),*) -> $out:ty) => {
        fn $name(&self, $($arg: $ty),*) -> impl Future<Output = $out> + MaybeSendFuture + '_ {
            self.inner.$name($($arg),*)
        }
    };
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
    observed!(read_resource(request: ReadResourceRequestParams) -> ReadResourceResponse, "resources/read");
    observed!(subscribe(request: SubscribeRequestParams) -> (), "resources/subscribe");
    observed!(unsubscribe(request: UnsubscribeRequestParams) -> (), "resources/unsubscribe");
    observed!(get_task(request: GetTaskParams) -> GetTaskResult, "tasks/get");
    observed!(update_task(request: UpdateTaskParams) -> (), "tasks/update");
    observed!(cancel_task(request: CancelTaskParams) -> (), "tasks/cancel");
    observed!(list_skills(request: Option<PaginatedRequestParams>) -> ListSkillsResult, "skills/list");
    observed!(get_skill(request: GetSkillRequestParams) -> GetSkillResult, "skills/get");
    observed!(
        read_resource_directory(request: ReadResourceDirectoryRequestParams) -> ReadResourceDirectoryResult,
        "resources/directory/read"
    );
    delegated!(listen(context: SubscriptionContext) -> Result<(), McpError>);
    delegated!(on_cancelled(notification: CancelledNotificationParam, context: NotificationContext<RoleServer>) -> ());
    delegated!(on_progress(notification: ProgressNotificationParam, context: NotificationContext<RoleServer>) -> ());
    delegated!(on_initialized(context: NotificationContext<RoleServer>) -> ());
    delegated!(on_roots_list_changed(context: NotificationContext<RoleServer>) -> ());
    delegated!(on_custom_notification(notification: CustomNotification, context: NotificationContext<RoleServer>) -> ());

    fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<InitializeResult, McpError>> + MaybeSendFuture + '_ {
        let span = request_span("initialize", None, &context);
        let answer = observe(
            "initialize",
            Target::None,
            span,
            self.inner.initialize(request, context),
            no_result_error,
        );
        async move {
            let result = answer.await;
            if result.is_ok() {
                self.session_started();
            }
            result
        }
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        let target = Target::Tool(self.tool_label(&request.name));
        let span = request_span("tools/call", Some(("tool", &request.name)), &context);
        observe(
            "tools/call",
            target,
            span,
            self.inner.call_tool(request, context),
            call_tool_error,
        )
    }

    fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, McpError>> + MaybeSendFuture + '_ {
        let first_page = request.as_ref().is_none_or(|r| r.cursor.is_none());
        let span = request_span("tools/list", None, &context);
        let answer = observe(
            "tools/list",
            Target::None,
            span,
            self.inner.list_tools(request, context),
            no_result_error,
        );
        async move {
            let result = answer.await;
            if let Ok(list) = &result
                && first_page
                && list.next_cursor.is_none()
            {
                super::set_registered_tools(list.tools.len());
            }
            result
        }
    }

    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        let target = Target::Prompt(request.name.to_string());
        let span = request_span("prompts/get", Some(("prompt", &request.name)), &context);
        observe(
            "prompts/get",
            target,
            span,
            self.inner.get_prompt(request, context),
            no_result_error,
        )
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        let span = request_span(crate::names::OTHER, None, &context);
        observe(
            crate::names::OTHER,
            Target::None,
            span,
            self.inner.on_custom_request(request, context),
            no_result_error,
        )
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
