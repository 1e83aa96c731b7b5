//! The server wrapper: [`Instrumented`] answers exactly as the handler it wraps, and runs every
//! request and notification through one path: read what the request is about, open the server
//! span, call the handler (a panic becomes a JSON-RPC internal error), classify what the client
//! receives, finish the [`Operation`].
//!
//! rmcp's `StreamableHttpService` accepts a `ServerHandler`, not a `Service<RoleServer>`, so the
//! wrapper is a `ServerHandler` that forwards each method of the trait. A test holds the list of
//! forwarded methods to the methods of the `ServerHandler` of the rmcp this crate is built with,
//! and another calls each of them through the wrapper: a method rmcp adds fails the first test
//! instead of answering with its default body behind the user's back.
#![allow(deprecated)] // rmcp marks some methods of the specification deprecated; they are still served.

use super::capture::Capture;
use super::context::{self, Parts, RequestInfo};
use super::labels::{Definition, server_tools};
use super::operation::{Answer, Operation, Side, Target};
use super::options::Options;
use super::session::Session;
use super::span::{Parent, RequestSpan, SpanStart};
use crate::{Outcome, Risk};
use rmcp::model::*;
use rmcp::service::{
    MaybeSendFuture, NotificationContext, RequestContext, RoleServer, SubscriptionContext,
};
use rmcp::{ErrorData as McpError, ServerHandler};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::SystemTime;

/// A [`ServerHandler`] that records every request the server answers, then answers exactly as the
/// handler it wraps. See the [module docs](super).
pub struct Instrumented<H> {
    inner: H,
    options: Options,
    session: Session,
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
            session: Session::default(),
        }
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Starts the record of one request.
    fn begin(&self, request: Request<'_>, context: &RequestContext<RoleServer>) -> Call {
        let parts = Parts::of_request(context);
        let mut call = self.start(&request, &parts, Some(&context.id));
        call.client_tasks = context::client_supports_tasks(context);
        call
    }

    /// Starts the record of one request or notification.
    fn start(&self, request: &Request<'_>, parts: &Parts<'_>, id: Option<&RequestId>) -> Call {
        let info = parts.info();
        let session = self.session.client();
        let (client_name, client_version) = parts.client(session);
        let settings = self.options.get();
        let capture = settings.capture.as_ref();
        let (target, definition, learn) = request.target();
        // The name the client sent names the span only when the server is known to have it.
        let name = request.name.filter(|_| target.known().is_some());
        let span = RequestSpan::start(
            Side::Server,
            &SpanStart {
                method: request.method,
                target,
                name,
                protocol_version: info.protocol_version,
                transport: Some(info.transport()),
                http_version: info.http_version,
                peer: info.peer,
                request_id: id,
                resource_uri: request.resource_uri,
                client: (client_name, client_version),
                session_id: parts.session_id(),
                parent: Parent::Received {
                    meta: parts.meta,
                    headers: parts.http().map(|p| &p.headers),
                },
                ..SpanStart::default()
            },
        );
        if target.known().is_none()
            && let (Some(capture), Some(name)) = (capture, request.name)
        {
            span.record_unknown_name(target, capture.cap(name));
        }
        let mut op = Operation::start(Side::Server, request.method, target, span)
            .with_client(self.options.client_label(client_name))
            .with_network(info.protocol_version, Some(info.transport()));
        if request.kind == Kind::Tool {
            op.set_risk(self.risk(request.name, definition));
        }
        op.set_retry(request.retry);
        if let Some(responses) = request.input_responses {
            super::peer::count_input_responses(Side::Server, request.method, target, responses);
        }
        // Rendered only where it is written: a span that records, or an audit event.
        let arguments = capture
            .filter(|c| c.wants_arguments() && (op.span.is_recording() || settings.audit))
            .zip(request.arguments)
            .map(|(c, a)| c.render(serde_json::Value::Object(a.clone())));
        if let Some(arguments) = &arguments {
            op.span.record_arguments(arguments);
        }
        if let (Some(capture), Some(variables)) = (capture, request.prompt_arguments) {
            capture.record_prompt_variables(&op.span, variables);
        }
        let audit = (settings.audit && request.method == "tools/call").then(|| {
            Box::new(Audit {
                tool: request
                    .name
                    .map(|n| context::cap(n, 128).to_owned())
                    .unwrap_or_default(),
                request_id: id.map(ToString::to_string).unwrap_or_default(),
                started: SystemTime::now(),
                session_id: parts.session_id().map(str::to_owned),
                client_name: client_name.map(str::to_owned),
                client_version: client_version.map(str::to_owned),
                arguments,
            })
        });
        Call {
            op: Some(op),
            learn: learn.map(|(kind, name)| (kind, name.into())),
            first_page: request.first_page,
            info,
            client_tasks: false,
            capture: capture.filter(|c| c.wants_result()).cloned(),
            audit,
        }
    }

    /// The risk class of a call to a tool: from the definition kept with its name; for a known
    /// name whose definition is unseen, from the handler's `get_tool`, asked once per name.
    fn risk(&self, name: Option<&str>, definition: Option<Definition>) -> Risk {
        match (definition, name) {
            (Some(Definition::Unseen), Some(name)) => {
                let tool = self.inner.get_tool(name);
                server_tools().define(name, tool.as_ref().map(Risk::of_tool))
            }
            (Some(definition), _) => definition.risk(),
            (None, _) => Risk::Unknown,
        }
    }

    /// Starts the record of a notification from the client.
    fn notification(
        &self,
        method: &'static str,
        context: &NotificationContext<RoleServer>,
    ) -> Call {
        self.start(
            &Request::plain(method),
            &Parts::of_notification(context),
            None,
        )
    }
}

/// Every method of rmcp's `ServerHandler` that [`Instrumented`] forwards to the wrapped handler.
#[cfg(test)]
pub(crate) const FORWARDED: &[&str] = &[
    "ping",
    "discover",
    "complete",
    "set_level",
    "list_prompts",
    "list_resources",
    "list_resource_templates",
    "get_task",
    "update_task",
    "cancel_task",
    "list_skills",
    "get_skill",
    "read_resource_directory",
    "subscribe",
    "unsubscribe",
    "on_cancelled",
    "on_progress",
    "on_initialized",
    "on_roots_list_changed",
    "on_custom_notification",
    "initialize",
    "call_tool",
    "list_tools",
    "get_prompt",
    "read_resource",
    "listen",
    "on_custom_request",
    "negotiate_initialize",
    "supported_protocol_versions",
    "accepted_subscription_filter",
    "get_tool",
    "get_info",
];

/// What a request is about, read from its parameters before they go to the handler.
#[derive(Default)]
struct Request<'a> {
    method: &'static str,
    /// A tool or a prompt, named by `name`.
    kind: Kind,
    name: Option<&'a str>,
    /// Whether it retries a multi-round-trip call (carries `requestState` or `inputResponses`).
    retry: bool,
    /// The answers a retry carries, whose elicitations are counted by action.
    input_responses: Option<&'a InputResponses>,
    /// The arguments of a `prompts/get`, for capture.
    prompt_arguments: Option<&'a JsonObject>,
    resource_uri: Option<&'a str>,
    /// The arguments of a `tools/call`, for capture.
    arguments: Option<&'a JsonObject>,
    /// Whether a list request asks for the first page.
    first_page: bool,
}

/// What a request's name names.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    None,
    Tool,
    Prompt,
}

impl<'a> Request<'a> {
    fn plain(method: &'static str) -> Self {
        Request {
            method,
            ..Request::default()
        }
    }

    /// The label of the target, what its definition says, and the name to learn if the answer
    /// shows the server has it.
    fn target(&self) -> (Target, Option<Definition>, Option<(Kind, &'a str)>) {
        let (names, wrap): (_, fn(&'static str) -> Target) = match self.kind {
            Kind::None => return (Target::None, None, None),
            Kind::Tool => (server_tools(), Target::Tool),
            Kind::Prompt => (super::labels::server_prompts(), Target::Prompt),
        };
        let name = self.name.unwrap_or_default();
        match names.known(name) {
            Some(known) => (wrap(known.label), Some(known.definition), None),
            None => (wrap(crate::names::UNKNOWN), None, Some((self.kind, name))),
        }
    }
}

/// What the audit event of a tool call needs beyond the operation.
struct Audit {
    tool: String,
    request_id: String,
    started: SystemTime,
    session_id: Option<String>,
    client_name: Option<String>,
    client_version: Option<String>,
    arguments: Option<String>,
}

/// One request in progress: finished once with what the client receives, or as `cancelled` if
/// its future is dropped first.
struct Call {
    op: Option<Operation>,
    /// A name the server was not known to have: learned if the answer shows it has.
    learn: Option<(Kind, Box<str>)>,
    first_page: bool,
    info: RequestInfo,
    /// Whether the client declared the tasks extension.
    client_tasks: bool,
    /// Result capture, for tool calls.
    capture: Option<Capture>,
    audit: Option<Box<Audit>>,
}

impl Call {
    /// Runs the handler's future in the request span, classifies its answer and finishes. A
    /// panic of the handler becomes a JSON-RPC internal error, so that the client gets an
    /// answer instead of waiting for one that never comes.
    ///
    /// A future written out rather than an `async fn`: rmcp moves the future of every request a
    /// few times before it runs, and an `async fn` would hold the handler's future twice (as its
    /// argument and in its span), doubling what each move copies.
    fn run<T: Answered>(
        self,
        future: impl Future<Output = Result<T, McpError>>,
    ) -> impl Future<Output = Result<T, McpError>> {
        let future = match &self.op {
            Some(op) => op.span.instrument(future),
            None => unreachable!("a call is run once, before it finishes"),
        };
        Running {
            future,
            call: Some(self),
        }
    }

    /// Finishes with the answer the client receives for `result`.
    fn answered<T: Answered>(mut self, result: &Result<T, McpError>) {
        match result {
            Ok(value) => {
                let answer = value.answer(&mut self);
                self.finish(answer);
            }
            Err(error) => {
                let answer = self.failed(error);
                self.finish(answer);
            }
        }
    }

    /// The answer to an error, as the client receives it: rmcp answers a missing resource with
    /// `-32602` on 2026-07-28 and later.
    fn failed<'e>(&self, error: &'e McpError) -> Answer<'e> {
        let mut code = error.code.0;
        if code == ErrorCode::RESOURCE_NOT_FOUND.0 && self.info.has_input_required() {
            code = ErrorCode::INVALID_PARAMS.0;
        }
        Answer::error(code, &error.message)
    }

    /// A result rmcp refuses to send and answers with `code` instead: the handler's fault.
    fn refused(code: ErrorCode, message: &'static str) -> Answer<'static> {
        Answer {
            outcome: Outcome::server_error(crate::jsonrpc_code_kind(code.0)),
            error: Some(super::operation::ErrorAnswer {
                code: code.0,
                message,
            }),
        }
    }

    /// The answer to an `InputRequiredResult`, which rmcp sends only on 2026-07-28 and later.
    fn input_required(&self) -> Answer<'static> {
        if self.info.has_input_required() {
            Answer::of(Outcome::InputRequired)
        } else {
            Self::refused(
                ErrorCode::INVALID_REQUEST,
                "InputRequiredResult requires negotiated protocol version 2026-07-28 or newer",
            )
        }
    }

    /// The tool label of the call, once classified.
    fn tool(&self) -> Option<&'static str> {
        match self.op.as_ref()?.target() {
            Target::Tool(t) => Some(t),
            _ => None,
        }
    }

    /// Records the end: learns the target's name if the answer was not an error, finishes the
    /// operation, emits the audit event and records the request's size.
    fn finish(&mut self, answer: Answer<'_>) {
        let Some(mut op) = self.op.take() else {
            return;
        };
        if let Some((kind, name)) = self.learn.take()
            && answer.error.is_none()
            && answer.outcome != Outcome::Cancelled
        {
            match kind {
                Kind::Tool => learn_tool(&mut op, &name),
                Kind::Prompt => {
                    let label = super::labels::server_prompts().learn_one(&name);
                    op.set_target(Target::Prompt(label), &name);
                }
                Kind::None => unreachable!("only tools and prompts are learned"),
            }
        }
        #[cfg(feature = "metrics")]
        let method = op.method();
        // The audit event is emitted in the request span, which it keeps open until then.
        let request = self.audit.as_ref().map(|_| op.span.clone());
        let trace_id = request.as_ref().and_then(RequestSpan::trace_id);
        let duration = op.finish(answer);
        if let (Some(audit), Some(request)) = (self.audit.take(), request) {
            let outcome = answer.outcome;
            super::audit::emit(&super::audit::AuditRecord {
                request: &request,
                started: audit.started,
                tool: &audit.tool,
                outcome: outcome.as_str(),
                error_type: outcome.error_type(),
                fault: outcome.fault().map(crate::Fault::as_str),
                duration,
                request_id: &audit.request_id,
                session_id: audit.session_id.as_deref(),
                client_name: audit.client_name.as_deref(),
                client_version: audit.client_version.as_deref(),
                protocol_version: self.info.protocol_version,
                trace_id: trace_id.as_deref(),
                arguments: audit.arguments.as_deref(),
            });
        }
        #[cfg(feature = "metrics")]
        super::size::record_request(method, self.info.body_bytes);
    }
}

pin_project_lite::pin_project! {
    /// The handler's future of one request, in the request span, and the call it finishes. The
    /// future is dropped before the call: a request dropped unfinished ends as `cancelled`
    /// after its handler's future is gone.
    struct Running<F> {
        #[pin]
        future: F,
        call: Option<Call>,
    }
}

impl<T: Answered, F: Future<Output = Result<T, McpError>>> Future for Running<F> {
    type Output = Result<T, McpError>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this.future.as_mut();
        let result =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(result)) => result,
                Err(_) => {
                    #[cfg(feature = "trace")]
                    tracing::error!("the handler panicked; answering with an internal error");
                    Err(McpError::internal_error(
                        "the server failed to handle the request",
                        None,
                    ))
                }
            };
        if let Some(call) = this.call.take() {
            call.answered(&result);
        }
        Poll::Ready(result)
    }
}

/// Learns the tool `name` that an answer shows the server has, and labels `op` with it and its
/// risk class.
fn learn_tool(op: &mut Operation, name: &str) {
    let tools = server_tools();
    op.set_target(Target::Tool(tools.learn_one(name)), name);
    op.set_risk(
        tools
            .known(name)
            .map_or(Risk::Unknown, |k| k.definition.risk()),
    );
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(Answer::of(Outcome::Cancelled));
    }
}

/// What a successful result tells about the request: its outcome as the client receives it,
/// and what the wrapper learns from it.
trait Answered {
    fn answer(&self, _call: &mut Call) -> Answer<'static> {
        Answer::of(Outcome::Success)
    }
}

macro_rules! successes {
    ($($ty:ty),* $(,)?) => { $(impl Answered for $ty {})* };
}

successes!(
    (),
    DiscoverResult,
    CompleteResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    GetTaskResult,
    ListSkillsResult,
    GetSkillResult,
    InitializeResult,
    CustomResult,
);

impl Answered for CallToolResponse {
    fn answer(&self, call: &mut Call) -> Answer<'static> {
        match self {
            CallToolResponse::Complete(result) => {
                let failed = result.is_error == Some(true);
                // A result (not a JSON-RPC error) shows the call reached a tool: its label is
                // final before the sizes are recorded under it.
                if let Some((Kind::Tool, name)) = &call.learn {
                    if let Some(op) = call.op.as_mut() {
                        learn_tool(op, name);
                    }
                    call.learn = None;
                }
                #[cfg(feature = "metrics")]
                if let Some(tool) = call.tool() {
                    super::size::record_tool_result(tool, result);
                    #[cfg(feature = "tokens")]
                    super::tokens::record_tool_result(tool, result);
                }
                if let (Some(capture), Some(op)) = (&call.capture, &call.op)
                    && !failed
                    && op.span.is_recording()
                {
                    let value = serde_json::to_value(result).unwrap_or_default();
                    op.span.record_result(&capture.render(value));
                }
                Answer::of(if failed {
                    Outcome::ToolError
                } else {
                    Outcome::Success
                })
            }
            CallToolResponse::InputRequired(_) => call.input_required(),
            CallToolResponse::Task(_) if call.client_tasks => Answer::of(Outcome::TaskCreated),
            CallToolResponse::Task(_) => Call::refused(
                ErrorCode(-32021),
                "a task was created for a client that did not declare the tasks extension",
            ),
            _ => Answer::of(Outcome::Success),
        }
    }
}

impl Answered for ListToolsResult {
    fn answer(&self, call: &mut Call) -> Answer<'static> {
        server_tools().learn_defined(
            self.tools
                .iter()
                .map(|t| (&*t.name, Some(Risk::of_tool(t)))),
        );
        if call.first_page && self.next_cursor.is_none() {
            #[cfg(feature = "metrics")]
            super::size::record_tools_list(self);
            super::set_tool_catalogue(&self.tools);
        }
        Answer::of(Outcome::Success)
    }
}

impl Answered for ListPromptsResult {
    fn answer(&self, call: &mut Call) -> Answer<'static> {
        super::labels::server_prompts().learn(self.prompts.iter().map(|p| p.name.as_str()));
        if call.first_page && self.next_cursor.is_none() {
            super::set_prompt_catalogue(&self.prompts);
        }
        Answer::of(Outcome::Success)
    }
}

impl Answered for GetPromptResponse {
    fn answer(&self, call: &mut Call) -> Answer<'static> {
        match self {
            GetPromptResponse::InputRequired(_) => call.input_required(),
            _ => Answer::of(Outcome::Success),
        }
    }
}

impl Answered for ReadResourceResponse {
    fn answer(&self, call: &mut Call) -> Answer<'static> {
        match self {
            ReadResourceResponse::InputRequired(_) => call.input_required(),
            _ => Answer::of(Outcome::Success),
        }
    }
}

/// Forwards request methods that need nothing beyond their method name.
macro_rules! forward_requests {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $method:literal;)*) => {$(
        fn $name(
            &self,
            $($arg: $ty,)*
            context: RequestContext<RoleServer>,
        ) -> impl Future<Output = Result<$out, McpError>> + MaybeSendFuture + '_ {
            let call = self.begin(Request::plain($method), &context);
            call.run(self.inner.$name($($arg,)* context))
        }
    )*};
}

/// Runs a notification's handling as a successful operation.
async fn notified(call: Call, handled: impl Future<Output = ()>) {
    let _ = call
        .run(async move {
            handled.await;
            Ok::<(), McpError>(())
        })
        .await;
}

/// Forwards notifications, each observed as a successful operation.
macro_rules! forward_notifications {
    ($($name:ident($($arg:ident: $ty:ty),*) = $method:literal;)*) => {$(
        fn $name(
            &self,
            $($arg: $ty,)*
            context: NotificationContext<RoleServer>,
        ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
            let call = self.notification($method, &context);
            let handled = self.inner.$name($($arg,)* context);
            notified(call, handled)
        }
    )*};
}

impl<H: ServerHandler> ServerHandler for Instrumented<H> {
    forward_requests! {
        ping() -> () = "ping";
        discover() -> DiscoverResult = "server/discover";
        complete(request: CompleteRequestParams) -> CompleteResult = "completion/complete";
        set_level(request: SetLevelRequestParams) -> () = "logging/setLevel";
        list_resources(request: Option<PaginatedRequestParams>) -> ListResourcesResult = "resources/list";
        list_resource_templates(request: Option<PaginatedRequestParams>) -> ListResourceTemplatesResult = "resources/templates/list";
        get_task(request: GetTaskParams) -> GetTaskResult = "tasks/get";
        update_task(request: UpdateTaskParams) -> () = "tasks/update";
        cancel_task(request: CancelTaskParams) -> () = "tasks/cancel";
        list_skills(request: Option<PaginatedRequestParams>) -> ListSkillsResult = "skills/list";
        get_skill(request: GetSkillRequestParams) -> GetSkillResult = "skills/get";
        read_resource_directory(request: ReadResourceDirectoryRequestParams) -> ReadResourceDirectoryResult = "resources/directory/read";
    }

    forward_notifications! {
        on_cancelled(notification: CancelledNotificationParam) = "notifications/cancelled";
        on_progress(notification: ProgressNotificationParam) = "notifications/progress";
        on_initialized() = "notifications/initialized";
        on_roots_list_changed() = "notifications/roots/list_changed";
    }

    fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        let call = self.notification(super::labels::method(&notification.method), &context);
        let handled = self.inner.on_custom_notification(notification, context);
        notified(call, handled)
    }

    fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<InitializeResult, McpError>> + MaybeSendFuture + '_ {
        self.session
            .initializing(context::session_client(&request), &context.extensions);
        let client = self
            .options
            .client_label(Some(request.client_info.name.as_str()));
        let call = self.begin(Request::plain("initialize"), &context);
        let answer = call.run(self.inner.initialize(request, context));
        async move {
            let result = answer.await;
            if result.is_ok() {
                self.session.opened(client);
            }
            result
        }
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "tools/call",
                kind: Kind::Tool,
                name: Some(&request.name),
                retry: request.request_state.is_some() || request.input_responses.is_some(),
                input_responses: request.input_responses.as_ref(),
                arguments: request.arguments.as_ref(),
                ..Request::default()
            },
            &context,
        );
        // A name not known yet: once the handler has answered, its definition is asked for, so
        // that the first call of the tool already carries its risk class.
        let unseen = call
            .learn
            .as_ref()
            .filter(|_| server_tools().has_room())
            .map(|(_, name)| name.clone());
        let answered = self.inner.call_tool(request, context);
        call.run(async move {
            let result = answered.await;
            // Any answer but an error shows the server has the tool: a result, a request for
            // input (the first round of a multi-round-trip call), a task.
            if let (Ok(_), Some(name)) = (&result, unseen)
                && let Some(tool) = self.inner.get_tool(&name)
            {
                server_tools().learn_defined([(&*tool.name, Some(Risk::of_tool(&tool)))]);
            }
            result
        })
    }

    fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "tools/list",
                first_page: request.as_ref().is_none_or(|r| r.cursor.is_none()),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.list_tools(request, context))
    }

    fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListPromptsResult, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "prompts/list",
                first_page: request.as_ref().is_none_or(|r| r.cursor.is_none()),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.list_prompts(request, context))
    }

    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "prompts/get",
                kind: Kind::Prompt,
                name: Some(&request.name),
                retry: request.request_state.is_some() || request.input_responses.is_some(),
                input_responses: request.input_responses.as_ref(),
                prompt_arguments: request.arguments.as_ref(),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.get_prompt(request, context))
    }

    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceResponse, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "resources/read",
                retry: request.request_state.is_some() || request.input_responses.is_some(),
                input_responses: request.input_responses.as_ref(),
                resource_uri: Some(&request.uri),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.read_resource(request, context))
    }

    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "resources/subscribe",
                resource_uri: Some(&request.uri),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.subscribe(request, context))
    }

    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request {
                method: "resources/unsubscribe",
                resource_uri: Some(&request.uri),
                ..Request::default()
            },
            &context,
        );
        call.run(self.inner.unsubscribe(request, context))
    }

    /// A `subscriptions/listen` stream: counted in `mcp_server_subscriptions_active` while open,
    /// traced with a server span, never timed in the operation histogram.
    fn listen(
        &self,
        context: SubscriptionContext,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let guard = super::tasks::SubscriptionGuard::open();
        let span = {
            let request = context.request_context();
            let parts = Parts::of_request(request);
            let info = parts.info();
            RequestSpan::start(
                Side::Server,
                &SpanStart {
                    method: "subscriptions/listen",
                    protocol_version: info.protocol_version,
                    transport: Some(info.transport()),
                    http_version: info.http_version,
                    peer: info.peer,
                    request_id: Some(&request.id),
                    parent: Parent::Received {
                        meta: parts.meta,
                        headers: parts.http().map(|p| &p.headers),
                    },
                    ..SpanStart::default()
                },
            )
        };
        let stream = span.instrument(self.inner.listen(context));
        async move {
            let _guard = guard;
            let result = stream.await;
            let answer = match &result {
                Ok(()) => Answer::of(Outcome::Success),
                Err(e) => Answer::error(e.code.0, &e.message),
            };
            span.finish(Side::Server, &answer);
            result
        }
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        let call = self.begin(
            Request::plain(super::labels::method(&request.method)),
            &context,
        );
        call.run(self.inner.on_custom_request(request, context))
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
