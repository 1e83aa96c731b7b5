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

/// The `tool` or `prompt` label of a request naming something the server does not know.
pub const UNKNOWN_TARGET: &str = "_unknown";

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
            UNKNOWN_TARGET.to_owned()
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
enum Target {
    None,
    Tool(String),
    /// A prompt name, used as the label only if the request succeeded.
    Prompt(String),
}

/// Records one request when dropped: with its result's error type, or `cancelled` if the
/// request's future was dropped before it completed.
struct Operation {
    method: &'static str,
    target: Target,
    start: Instant,
    error_type: Option<&'static str>,
    finished: bool,
}

impl Operation {
    fn start(method: &'static str, target: Target) -> Self {
        Operation {
            method,
            target,
            start: Instant::now(),
            error_type: None,
            finished: false,
        }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        let error_type = if self.finished {
            self.error_type
        } else {
            Some("cancelled")
        };
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
                        UNKNOWN_TARGET.to_owned()
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
    future: impl Future<Output = Result<T, McpError>>,
    result_error: fn(&T) -> Option<&'static str>,
) -> Result<T, McpError> {
    let mut op = Operation::start(method, target);
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
            observe($method, Target::None, self.inner.$name($($arg,)* context), no_result_error)
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
        let answer = observe(
            "initialize",
            Target::None,
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
        observe(
            "tools/call",
            target,
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
        let answer = observe(
            "tools/list",
            Target::None,
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
        observe(
            "prompts/get",
            target,
            self.inner.get_prompt(request, context),
            no_result_error,
        )
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        observe(
            crate::OTHER_ERROR_KIND,
            Target::None,
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
