//! The client side of rmcp: [`InstrumentedTransport`] wraps the transport of an rmcp client and
//! observes every JSON-RPC message the client sends and every answer it gets.
//!
//! rmcp sends a client's requests from a task of its own, through its transport; a
//! `ClientHandler` only sees the requests the *server* sends. The transport is the one place that
//! sees every request on the wire, including `initialize` or `server/discover`, each round of a
//! multi round-trip (`input_required`) call that rmcp drives on its own, and requests sent with
//! `Peer::send_request`. Answers that rmcp serves from its response cache never reach the wire and
//! are not counted.
//!
//! | metric | labels | what it says |
//! |---|---|---|
//! | `mcp_client_operation_duration_seconds` | `method`, `tool` or `prompt`, `outcome`, `error_type` | from sending a request (or notification) until its answer arrives (or it is written) |
//! | `mcp_client_session_duration_seconds` | | sessions opened with `initialize`, until the transport closes |
//!
//! `outcome` is one of `success`, `error` (a JSON-RPC error, a timeout, or a broken transport),
//! `tool_error` (a tool result with `isError`), `input_required` (a round answered with an
//! `InputRequiredResult`), `task_created` and `cancelled`. `error_type` is set on failures only:
//! the JSON-RPC code (`-32602`, …, `_OTHER` for codes no specification defines), `tool_error`,
//! `timeout` (rmcp cancelled the request after its timeout) or `transport` (the message could not
//! be sent, or the connection closed before the answer came).
//!
//! The `tool` label is the tool's name only if the server listed it in a `tools/list` answer seen
//! by this transport, or it is in the allow-list of [`InstrumentedTransport::with_tool_names`];
//! any other name is `_unknown`. `prompt` works the same way with `prompts/list`. So a server can
//! create at most a bounded number of series, and arguments, session ids and server-supplied
//! text never become labels.
//!
//! With the `trace` feature every request and notification runs in a client span, kind CLIENT,
//! named `{mcp.method.name} {target}`, with the OpenTelemetry MCP attributes; with `otel` the
//! span's trace context and baggage go into the request's `params._meta` through the configured
//! propagator (module `propagation`, with the `otel` feature), and the span of a retry that
//! carries a `requestState` links to the span of the round that asked for input, so the rounds of
//! one call show as such.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_metrics::rmcp::client::instrument;
//! use rmcp::ServiceExt;
//! use rmcp::model::CallToolRequestParams;
//!
//! let (read, write) = (tokio::io::stdin(), tokio::io::stdout());
//! let transport = instrument((read, write)).with_tool_names(["add"]).over_stdio();
//! let client = ().serve(transport).await?;
//! client.call_tool(CallToolRequestParams::new("add")).await?;
//! client.cancel().await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "otel")]
pub mod propagation;
#[cfg(feature = "otel")]
pub use propagation::with_current_context;

use rmcp::RoleClient;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, GetMeta, JsonRpcMessage,
    RequestMetaObject, RequestParamsMeta, ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::RequestHandle;
use rmcp::transport::{IntoTransport, Transport};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::Outcome;
use crate::names::{OTHER, UNKNOWN};

/// The most tool (and, apart, prompt) names learned from the server's lists; names past it are
/// labelled `_unknown`.
pub const MAX_LEARNED_NAMES: usize = 1000;

/// Method names of client requests, as `&'static str` for the `method` label.
const METHODS: &[&str] = &[
    "ping",
    "initialize",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "subscriptions/listen",
    "resources/subscribe",
    "resources/unsubscribe",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

/// Wraps `transport` (anything rmcp accepts as a client transport: a transport, a child process,
/// a byte stream or a `(read, write)` pair) in an [`InstrumentedTransport`].
pub fn instrument<T, E, A>(
    transport: T,
) -> InstrumentedTransport<impl Transport<RoleClient, Error = E> + 'static>
where
    T: IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    InstrumentedTransport::new(transport.into_transport())
}

/// A client transport that records `mcp_client_operation_duration_seconds` and
/// `mcp_client_session_duration_seconds`, opens a client span per message and propagates its
/// context, then passes every message on unchanged apart from the trace context in `_meta`. See
/// the [module docs](self).
pub struct InstrumentedTransport<T> {
    inner: T,
    state: Arc<Mutex<State>>,
}

impl<T: Transport<RoleClient>> InstrumentedTransport<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        InstrumentedTransport {
            inner,
            state: Arc::default(),
        }
    }

    /// Tool names to use as the `tool` label besides those the server lists.
    pub fn with_tool_names<I: IntoIterator<Item = S>, S: Into<String>>(self, names: I) -> Self {
        self.lock()
            .tools
            .allowed
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Prompt names to use as the `prompt` label besides those the server lists.
    pub fn with_prompt_names<I: IntoIterator<Item = S>, S: Into<String>>(self, names: I) -> Self {
        self.lock()
            .prompts
            .allowed
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Describes the connection on the spans as streamable HTTP to `address:port`:
    /// `server.address`, `server.port`, `network.transport = tcp`, `network.protocol.name = http`.
    pub fn over_http(self, address: impl Into<String>, port: u16) -> Self {
        {
            let mut state = self.lock();
            state.network = Network {
                transport: Some("tcp"),
                protocol: Some("http"),
                address: Some(address.into()),
                port: Some(port),
            };
        }
        self
    }

    /// Describes the connection on the spans as standard input and output of a process:
    /// `network.transport = pipe`.
    pub fn over_stdio(self) -> Self {
        self.lock().network = Network {
            transport: Some("pipe"),
            ..Network::default()
        };
        self
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for InstrumentedTransport<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        mut item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = lock(&self.state).on_send(&mut item);
        let send = self.inner.send(item);
        let state = self.state.clone();
        async move {
            let result = send.await;
            match sent {
                Sent::Notification(op) => op.finish(if result.is_ok() {
                    Outcome::Success
                } else {
                    TRANSPORT_ERROR
                }),
                Sent::Request(key) if result.is_err() => {
                    let op = lock(&state).pending.remove(&key);
                    if let Some(op) = op {
                        op.finish(TRANSPORT_ERROR);
                    }
                }
                Sent::Request(_) | Sent::Other => {}
            }
            result
        }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        let message = self.inner.receive().await;
        let mut state = lock(&self.state);
        match &message {
            Some(message) => state.on_receive(message),
            None => state.end(TRANSPORT_ERROR),
        }
        message
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        let result = self.inner.close().await;
        lock(&self.state).end(Outcome::Cancelled);
        result
    }
}

impl<T> Drop for InstrumentedTransport<T> {
    fn drop(&mut self) {
        lock(&self.state).end(Outcome::Cancelled);
    }
}

/// A request whose transport failed or closed before its answer came.
const TRANSPORT_ERROR: Outcome = Outcome::server_error("transport");
/// A request rmcp cancelled because its timeout passed.
const TIMEOUT: Outcome = Outcome::server_error("timeout");

/// What `send` must finish once the message is written.
enum Sent {
    Notification(Operation),
    Request(IdKey),
    Other,
}

/// A request id as the server may echo it: numeric ids also match their decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdKey {
    Number(i64),
    String(Arc<str>),
}

impl From<&rmcp::model::RequestId> for IdKey {
    fn from(id: &rmcp::model::RequestId) -> Self {
        match id {
            rmcp::model::NumberOrString::Number(n) => IdKey::Number(*n),
            rmcp::model::NumberOrString::String(s) => match s.parse() {
                Ok(n) => IdKey::Number(n),
                Err(_) => IdKey::String(s.clone()),
            },
        }
    }
}

/// Names that may become label values: an allow-list and the names the server listed.
#[derive(Default)]
struct Names {
    allowed: HashSet<String>,
    learned: HashSet<String>,
}

impl Names {
    fn label(&self, name: &str) -> String {
        if self.allowed.contains(name) || self.learned.contains(name) {
            name.to_owned()
        } else {
            UNKNOWN.to_owned()
        }
    }

    fn learn<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            if self.learned.len() >= MAX_LEARNED_NAMES {
                return;
            }
            if is_label_safe(name) && !self.learned.contains(name) {
                self.learned.insert(name.to_owned());
            }
        }
    }
}

/// A name the MCP naming rules allow (1 to 128 of `A-Z a-z 0-9 _ - . /`).
fn is_label_safe(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

/// How the client reaches the server, for the span attributes.
#[derive(Default, Clone)]
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
struct Network {
    transport: Option<&'static str>,
    protocol: Option<&'static str>,
    address: Option<String>,
    port: Option<u16>,
}

#[derive(Default)]
struct State {
    pending: HashMap<IdKey, Operation>,
    tools: Names,
    prompts: Names,
    network: Network,
    /// The protocol version a legacy `initialize` agreed on.
    protocol_version: Option<String>,
    /// When the `initialize` session began.
    session_start: Option<Instant>,
    /// The client spans of rounds answered with an `InputRequiredResult`, by the `requestState`
    /// the retry will carry: the retry's span links to the round before it.
    #[cfg(feature = "otel")]
    rounds: HashMap<String, opentelemetry::trace::SpanContext>,
}

/// The most unanswered `input_required` rounds remembered for linking their retries.
#[cfg(feature = "otel")]
const MAX_OPEN_ROUNDS: usize = 256;

impl State {
    #[cfg_attr(not(feature = "trace"), allow(clippy::let_unit_value))]
    fn on_send(&mut self, item: &mut ClientJsonRpcMessage) -> Sent {
        match item {
            JsonRpcMessage::Request(request) => {
                let method = request_method(&request.request);
                // A subscription stream stays open as long as the client listens: not an operation.
                if method == "subscriptions/listen" {
                    return Sent::Other;
                }
                let target = match &request.request {
                    ClientRequest::CallToolRequest(r) => {
                        Target::Tool(r.params.name.to_string(), self.tools.label(&r.params.name))
                    }
                    ClientRequest::GetPromptRequest(r) => {
                        Target::Prompt(r.params.name.clone(), self.prompts.label(&r.params.name))
                    }
                    _ => Target::None,
                };
                let version = request
                    .request
                    .get_meta()
                    .protocol_version()
                    .map(|v| v.as_str().to_owned())
                    .or_else(|| self.protocol_version.clone());
                let span = client_span(
                    method,
                    &target,
                    Some(&request.id),
                    version.as_deref(),
                    resource_uri(&request.request),
                    &self.network,
                );
                #[cfg(feature = "otel")]
                {
                    if let Some(previous) =
                        request_state(&request.request).and_then(|s| self.rounds.remove(s))
                    {
                        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                        span.add_link(previous);
                    }
                    continue_and_inject(&span, &mut request.request);
                }
                let key = IdKey::from(&request.id);
                self.pending
                    .insert(key.clone(), Operation::start(method, target, span));
                Sent::Request(key)
            }
            JsonRpcMessage::Notification(notification) => {
                let notification = &mut notification.notification;
                if let ClientNotification::CancelledNotification(cancelled) = &*notification
                    && let Some(id) = &cancelled.params.request_id
                    && let Some(op) = self.pending.remove(&IdKey::from(id))
                {
                    let reason = cancelled.params.reason.as_deref();
                    op.finish(
                        if reason == Some(RequestHandle::<RoleClient>::REQUEST_TIMEOUT_REASON)
                            || reason
                                == Some(
                                    RequestHandle::<RoleClient>::REQUEST_MAX_TOTAL_TIMEOUT_REASON,
                                )
                        {
                            TIMEOUT
                        } else {
                            Outcome::Cancelled
                        },
                    );
                }
                let method = notification_method(notification);
                let span = client_span(
                    method,
                    &Target::None,
                    None,
                    self.protocol_version.as_deref(),
                    None,
                    &self.network,
                );
                #[cfg(feature = "otel")]
                {
                    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                    let meta = &mut notification.get_meta_mut().0.0;
                    propagation::inject(&span.context(), meta);
                }
                Sent::Notification(Operation::start(method, Target::None, span))
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => Sent::Other,
        }
    }

    fn on_receive(&mut self, message: &ServerJsonRpcMessage) {
        match message {
            JsonRpcMessage::Response(response) => {
                let Some(op) = self.pending.remove(&IdKey::from(&response.id)) else {
                    return;
                };
                let outcome = match (&response.result, op.method) {
                    (ServerResult::CallToolResult(r), _) if r.is_error == Some(true) => {
                        Outcome::ToolError
                    }
                    (ServerResult::InputRequiredResult(_result), _) => {
                        #[cfg(feature = "otel")]
                        if let Some(state) = &_result.request_state
                            && self.rounds.len() < MAX_OPEN_ROUNDS
                        {
                            use opentelemetry::trace::TraceContextExt as _;
                            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
                            let cx = op.span.context();
                            self.rounds
                                .insert(state.clone(), cx.span().span_context().clone());
                        }
                        Outcome::InputRequired
                    }
                    (ServerResult::CreateTaskResult(_), "tools/call") => Outcome::TaskCreated,
                    (ServerResult::ListToolsResult(list), "tools/list") => {
                        self.tools.learn(list.tools.iter().map(|t| &*t.name));
                        Outcome::Success
                    }
                    (ServerResult::ListPromptsResult(list), "prompts/list") => {
                        self.prompts
                            .learn(list.prompts.iter().map(|p| p.name.as_str()));
                        Outcome::Success
                    }
                    (ServerResult::InitializeResult(init), "initialize") => {
                        let version = init.protocol_version.as_str().to_owned();
                        #[cfg(feature = "trace")]
                        op.span.record("mcp.protocol.version", version.as_str());
                        if init.protocol_version.has_initialize() && self.session_start.is_none() {
                            self.session_start = Some(Instant::now());
                        }
                        self.protocol_version = Some(version);
                        Outcome::Success
                    }
                    _ => Outcome::Success,
                };
                op.finish(outcome);
            }
            JsonRpcMessage::Error(error) => {
                let Some(op) = error
                    .id
                    .as_ref()
                    .and_then(|id| self.pending.remove(&IdKey::from(id)))
                else {
                    return;
                };
                let code = error.error.code.0;
                #[cfg(feature = "trace")]
                {
                    op.span
                        .record("rpc.response.status_code", code.to_string().as_str());
                    op.span
                        .record("otel.status_description", &*error.error.message);
                }
                op.finish(Outcome::Error {
                    kind: crate::jsonrpc_code_kind(code),
                    fault: crate::jsonrpc_code_fault(code),
                });
            }
            JsonRpcMessage::Request(_) | JsonRpcMessage::Notification(_) => {}
        }
    }

    /// The connection is over: requests still waiting end with `outcome`, and so does the session.
    fn end(&mut self, outcome: Outcome) {
        for (_, op) in self.pending.drain() {
            op.finish(outcome);
        }
        if let Some(_start) = self.session_start.take() {
            #[cfg(feature = "metrics")]
            metrics::histogram!(crate::names::CLIENT_SESSION_DURATION_SECONDS)
                .record(_start.elapsed().as_secs_f64());
        }
    }
}

fn request_method(request: &ClientRequest) -> &'static str {
    let method = request.method();
    if matches!(request, ClientRequest::CustomRequest(_)) {
        return OTHER;
    }
    METHODS
        .iter()
        .copied()
        .find(|m| *m == method)
        .unwrap_or(OTHER)
}

fn notification_method(notification: &ClientNotification) -> &'static str {
    match notification {
        ClientNotification::CancelledNotification(_) => "notifications/cancelled",
        ClientNotification::ProgressNotification(_) => "notifications/progress",
        ClientNotification::InitializedNotification(_) => "notifications/initialized",
        ClientNotification::RootsListChangedNotification(_) => "notifications/roots/list_changed",
        _ => OTHER,
    }
}

/// The `requestState` a retry of a multi round-trip request carries.
#[cfg(feature = "otel")]
fn request_state(request: &ClientRequest) -> Option<&str> {
    match request {
        ClientRequest::CallToolRequest(r) => r.params.request_state.as_deref(),
        ClientRequest::GetPromptRequest(r) => r.params.request_state.as_deref(),
        ClientRequest::ReadResourceRequest(r) => r.params.request_state.as_deref(),
        _ => None,
    }
}

/// The resource a request names, for `mcp.resource.uri` (on spans only).
fn resource_uri(request: &ClientRequest) -> Option<&str> {
    match request {
        ClientRequest::ReadResourceRequest(r) => Some(&r.params.uri),
        ClientRequest::SubscribeRequest(r) => Some(&r.params.uri),
        ClientRequest::UnsubscribeRequest(r) => Some(&r.params.uri),
        _ => None,
    }
}

/// The `_meta` the caller put in the typed params of a request (rmcp keeps its own additions,
/// such as the progress token, in the request's extensions).
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
fn params_meta(request: &ClientRequest) -> Option<&RequestMetaObject> {
    match request {
        ClientRequest::CallToolRequest(r) => r.params.meta(),
        ClientRequest::GetPromptRequest(r) => r.params.meta(),
        ClientRequest::ReadResourceRequest(r) => r.params.meta(),
        ClientRequest::CompleteRequest(r) => r.params.meta(),
        ClientRequest::SetLevelRequest(r) => r.params.meta(),
        ClientRequest::SubscribeRequest(r) => r.params.meta(),
        ClientRequest::UnsubscribeRequest(r) => r.params.meta(),
        ClientRequest::GetTaskRequest(r) => r.params.meta(),
        ClientRequest::UpdateTaskRequest(r) => r.params.meta(),
        ClientRequest::CancelTaskRequest(r) => r.params.meta(),
        ClientRequest::GetSkillRequest(r) => r.params.meta(),
        ClientRequest::ReadResourceDirectoryRequest(r) => r.params.meta(),
        ClientRequest::ListToolsRequest(r) => r.params.as_ref()?.meta(),
        ClientRequest::ListPromptsRequest(r) => r.params.as_ref()?.meta(),
        ClientRequest::ListResourcesRequest(r) => r.params.as_ref()?.meta(),
        ClientRequest::ListResourceTemplatesRequest(r) => r.params.as_ref()?.meta(),
        ClientRequest::ListSkillsRequest(r) => r.params.as_ref()?.meta(),
        _ => None,
    }
}

/// Makes the context the caller left in the request's `_meta` the parent of the client span,
/// then writes the client span's context in its place.
#[cfg(feature = "otel")]
fn continue_and_inject(span: &tracing::Span, request: &mut ClientRequest) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let parent = {
        let mut metas: Vec<&rmcp::model::JsonObject> = vec![&request.get_meta().0.0];
        if let Some(meta) = params_meta(request) {
            metas.push(&meta.0.0);
        }
        propagation::extract(&metas)
    };
    let _ = span.set_parent(parent);
    propagation::inject(&span.context(), &mut request.get_meta_mut().0.0);
}

/// What a request was about: the name on the span, and the label value.
#[cfg_attr(not(all(feature = "metrics", feature = "trace")), allow(dead_code))]
enum Target {
    None,
    Tool(String, String),
    Prompt(String, String),
}

/// The client span of a message (with the `trace` feature).
#[cfg(feature = "trace")]
type ClientSpan = tracing::Span;
#[cfg(not(feature = "trace"))]
type ClientSpan = ();

/// Opens the client span of a request or notification, following the OpenTelemetry MCP
/// semantic conventions. It has no parent of its own: the caller's context, if any, comes from
/// `_meta` (rmcp's own task is never the caller's).
#[cfg(feature = "trace")]
fn client_span(
    method: &'static str,
    target: &Target,
    id: Option<&rmcp::model::RequestId>,
    protocol_version: Option<&str>,
    resource_uri: Option<&str>,
    network: &Network,
) -> ClientSpan {
    use tracing::field::Empty;
    let name = match target {
        Target::Tool(name, _) | Target::Prompt(name, _) => Some(name.as_str()),
        Target::None => None,
    };
    let span = tracing::info_span!(
        parent: None,
        "mcp.client.request",
        otel.name = %super::SpanName(method, name),
        otel.kind = "client",
        mcp.method.name = method,
        gen_ai.tool.name = Empty,
        gen_ai.prompt.name = Empty,
        gen_ai.operation.name = Empty,
        jsonrpc.request.id = Empty,
        mcp.protocol.version = protocol_version,
        mcp.resource.uri = resource_uri,
        network.transport = network.transport,
        network.protocol.name = network.protocol,
        server.address = network.address.as_deref(),
        server.port = network.port,
        error.type = Empty,
        rpc.response.status_code = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    match target {
        Target::Tool(name, _) => {
            span.record("gen_ai.tool.name", name.as_str());
            span.record("gen_ai.operation.name", "execute_tool");
        }
        Target::Prompt(name, _) => {
            span.record("gen_ai.prompt.name", name.as_str());
        }
        Target::None => {}
    }
    if let Some(id) = id {
        span.record("jsonrpc.request.id", tracing::field::display(id));
    }
    span
}

#[cfg(not(feature = "trace"))]
fn client_span(
    _: &'static str,
    _: &Target,
    _: Option<&rmcp::model::RequestId>,
    _: Option<&str>,
    _: Option<&str>,
    _: &Network,
) -> ClientSpan {
}

/// One message on its way: timed from `send` to its answer, recorded once.
#[cfg_attr(not(all(feature = "metrics", feature = "trace")), allow(dead_code))]
struct Operation {
    method: &'static str,
    target: Target,
    start: Instant,
    span: ClientSpan,
}

impl Operation {
    fn start(method: &'static str, target: Target, span: ClientSpan) -> Self {
        Operation {
            method,
            target,
            start: Instant::now(),
            span,
        }
    }

    fn finish(self, outcome: Outcome) {
        let error_type = outcome.error_type();
        #[cfg(feature = "trace")]
        if let Some(e) = error_type {
            self.span.record("error.type", e);
            self.span.record("otel.status_code", "ERROR");
        }
        #[cfg(feature = "metrics")]
        {
            use crate::names::label;
            let mut labels = Vec::with_capacity(4);
            labels.push(metrics::Label::new(label::METHOD, self.method));
            match self.target {
                Target::None => {}
                Target::Tool(_, label) => labels.push(metrics::Label::new(label::TOOL, label)),
                Target::Prompt(_, label) => labels.push(metrics::Label::new(label::PROMPT, label)),
            }
            labels.push(metrics::Label::new(label::OUTCOME, outcome.as_str()));
            if let Some(e) = error_type {
                labels.push(metrics::Label::new(label::ERROR_TYPE, e));
            }
            metrics::histogram!(crate::names::CLIENT_OPERATION_DURATION_SECONDS, labels)
                .record(self.start.elapsed().as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (error_type, self.start, self.method);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_match_their_string_form() {
        use rmcp::model::NumberOrString;
        assert_eq!(
            IdKey::from(&NumberOrString::Number(7)),
            IdKey::from(&NumberOrString::String("7".into()))
        );
        assert_ne!(
            IdKey::from(&NumberOrString::Number(7)),
            IdKey::from(&NumberOrString::String("x7".into()))
        );
    }

    #[test]
    fn only_listed_or_allowed_names_become_labels() {
        let mut names = Names::default();
        names.allowed.insert("allowed".into());
        names.learn(["listed", "bad name\"", ""]);
        assert_eq!(names.label("allowed"), "allowed");
        assert_eq!(names.label("listed"), "listed");
        assert_eq!(names.label("bad name\""), UNKNOWN);
        assert_eq!(names.label("other"), UNKNOWN);
        let many: Vec<String> = (0..2 * MAX_LEARNED_NAMES)
            .map(|i| format!("t{i}"))
            .collect();
        names.learn(many.iter().map(String::as_str));
        assert_eq!(names.learned.len(), MAX_LEARNED_NAMES);
    }
}
