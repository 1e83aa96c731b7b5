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
//! | `mcp_client_catalogue_info` | `server_name`, `kind`, `fingerprint` | the fingerprint of the last complete `tools/list` or `prompts/list` answer (see [`fingerprint`](super::fingerprint)) |
//! | `mcp_client_catalogue_changes_total` | `server_name`, `kind` | complete lists whose fingerprint differs from the one before on the same connection: the catalogue changed under this client |
//!
//! `server_name` is the `serverInfo.name` of the `initialize` answer if it is on the allow-list
//! of [`InstrumentedTransport::with_server_names`], else `_OTHER`; `_unknown` before (or
//! without) an `initialize`.
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
//! any other name is `_unknown`, and the span is then named after the method alone. `prompt`
//! works the same way with `prompts/list`. So a server can create at most a bounded number of
//! series and span names, and arguments, session ids and server-supplied text never become
//! labels.
//!
//! With the `trace` feature every request and notification runs in a client span, kind CLIENT,
//! named `{mcp.method.name} {target}`, with the OpenTelemetry MCP attributes; with `otel` the
//! span's trace context and baggage go into the request's `params._meta` through the configured
//! propagator, and the span of a retry that carries a `requestState` links to the span of the
//! round that asked for input, so the rounds of one call show as such.
//!
//! The transport also sees the requests the server sends (`elicitation/create`,
//! `sampling/createMessage`, `roots/list`, `ping`) and the client's answers: each is a SERVER
//! span, its parent the server's CLIENT span from `_meta`, timed from arrival to answer in
//! `mcp_server_operation_duration_seconds` (without `client_name`); the server's notifications
//! get a span and a sample as they arrive. Every elicitation answer the client sends is counted
//! in `mcp_client_elicitation_responses_total{method, tool|prompt, action}`: answers to
//! `elicitation/create` and the elicitations in the `inputResponses` of a retry. With
//! [`InstrumentedTransport::with_capture`] the spans record, redacted and capped, the arguments
//! and result of `tools/call` and the prompt variables of `prompts/get`.
//!
//! [`InstrumentedTransport::new`] takes anything rmcp accepts as a client transport (a
//! transport, a child process, a byte stream, a `(read, write)` pair) and is itself accepted
//! wherever rmcp takes one:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_metrics::rmcp::client::InstrumentedTransport;
//! use rmcp::ServiceExt;
//! use rmcp::model::CallToolRequestParams;
//!
//! let (read, write) = (tokio::io::stdin(), tokio::io::stdout());
//! let transport = InstrumentedTransport::new((read, write)).with_tool_names(["add"]).over_stdio();
//! let client = ().serve(transport).await?;
//! client.call_tool(CallToolRequestParams::new("add")).await?;
//! client.cancel().await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "otel")]
pub use super::tool_span::in_tool_span;
#[cfg(feature = "otel")]
pub use crate::propagation::with_current_context;

use super::fingerprint::{self, Catalogue, Seen};
use super::labels::{self, Names};
use super::operation::{Answer, Operation, Side, Target};
use super::span::{Parent, RequestSpan, SpanStart};
use crate::Outcome;
use crate::names::{OTHER, UNKNOWN};
use rmcp::RoleClient;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, ClientResult, GetMeta, JsonRpcMessage,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::RequestHandle;
use rmcp::transport::{IntoTransport, Transport};
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// A client transport that records `mcp_client_operation_duration_seconds` and
/// `mcp_client_session_duration_seconds`, opens a client span per message and propagates its
/// context, then passes every message on unchanged apart from the trace context in `_meta`. See
/// the [module docs](self).
pub struct InstrumentedTransport<T> {
    inner: T,
    state: State,
}

impl<T> InstrumentedTransport<T> {
    /// Wraps `transport`: anything rmcp accepts as a client transport.
    pub fn new(transport: T) -> Self {
        InstrumentedTransport {
            inner: transport,
            state: State::default(),
        }
    }

    /// Tool names to use as the `tool` label besides those the server lists.
    pub fn with_tool_names<I: IntoIterator<Item = S>, S: AsRef<str>>(self, names: I) -> Self {
        let names: Vec<S> = names.into_iter().collect();
        self.state.tools.learn(names.iter().map(AsRef::as_ref));
        self
    }

    /// Prompt names to use as the `prompt` label besides those the server lists.
    pub fn with_prompt_names<I: IntoIterator<Item = S>, S: AsRef<str>>(self, names: I) -> Self {
        let names: Vec<S> = names.into_iter().collect();
        self.state.prompts.learn(names.iter().map(AsRef::as_ref));
        self
    }

    /// Server names to use as the `server_name` label of the catalogue metrics, as the server
    /// gives it in `serverInfo.name`; any other name is `_OTHER`.
    pub fn with_server_names<I: IntoIterator<Item = S>, S: AsRef<str>>(self, names: I) -> Self {
        let names: Vec<S> = names.into_iter().collect();
        self.state.servers.learn(names.iter().map(AsRef::as_ref));
        self
    }

    /// Describes the connection on the spans as streamable HTTP to `address:port`:
    /// `server.address`, `server.port`, `network.transport = tcp`, `network.protocol.name = http`.
    pub fn over_http(mut self, address: impl Into<String>, port: u16) -> Self {
        self.state.network = Network {
            transport: Some("tcp"),
            address: Some(address.into()),
            port: Some(port),
        };
        self
    }

    /// Describes the connection on the spans as standard input and output of a process:
    /// `network.transport = pipe`.
    pub fn over_stdio(mut self) -> Self {
        self.state.network = Network {
            transport: Some("pipe"),
            ..Network::default()
        };
        self
    }

    /// Captures what the client sends and gets on its spans, under `capture`'s redaction and cap:
    /// `gen_ai.tool.call.arguments` and `gen_ai.tool.call.result` on `tools/call`,
    /// `gen_ai.prompt.variable.<name>` on `prompts/get`. Off unless called.
    pub fn with_capture(mut self, capture: super::Capture) -> Self {
        self.state.capture = Some(capture);
        self
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }
}

/// Marks the [`IntoTransport`] implementation of [`InstrumentedTransport`], whose own marker is
/// `A`; rmcp picks it like its own adapters. Not named by user code.
#[doc(hidden)]
pub struct TransportAdapterInstrumented<A>(PhantomData<fn() -> A>);

impl<T, E, A> IntoTransport<RoleClient, E, TransportAdapterInstrumented<A>>
    for InstrumentedTransport<T>
where
    T: IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    fn into_transport(self) -> impl Transport<RoleClient, Error = E> + 'static {
        Wrapped {
            inner: self.inner.into_transport(),
            state: Arc::new(Mutex::new(self.state)),
        }
    }
}

/// The transport rmcp drives.
struct Wrapped<T> {
    inner: T,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for Wrapped<T> {
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
                Sent::Notification(op) => {
                    op.finish(Answer::of(if result.is_ok() {
                        Outcome::Success
                    } else {
                        TRANSPORT_ERROR
                    }));
                }
                Sent::Request(key) if result.is_err() => {
                    let op = lock(&state).pending.remove(&key);
                    if let Some(op) = op {
                        op.finish(Answer::of(TRANSPORT_ERROR));
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

impl<T> Drop for Wrapped<T> {
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

/// How the client reaches the server, for the span attributes.
#[derive(Default, Clone)]
struct Network {
    transport: Option<&'static str>,
    address: Option<String>,
    port: Option<u16>,
}

#[derive(Default)]
struct State {
    pending: HashMap<IdKey, Operation>,
    /// Requests the server sent, until the client answers them.
    incoming: HashMap<IdKey, Operation>,
    capture: Option<super::Capture>,
    tools: Names,
    prompts: Names,
    network: Network,
    /// The protocol version a legacy `initialize` agreed on.
    protocol_version: Option<&'static str>,
    /// When the `initialize` session began.
    session_start: Option<Instant>,
    /// The allow-list of server names.
    servers: Names,
    /// The server's `server_name` label, once it named itself in `initialize`.
    server: Option<&'static str>,
    /// List requests that asked for the first page, by id: only complete lists are fingerprinted.
    first_pages: std::collections::HashSet<IdKey>,
    /// The fingerprints of the server's tools and prompts on this connection.
    catalogues: [Seen; 2],
    /// The client spans of rounds answered with an `InputRequiredResult`, by the `requestState`
    /// the retry will carry: the retry's span links to the round before it.
    #[cfg(feature = "otel")]
    rounds: HashMap<String, opentelemetry::trace::SpanContext>,
}

/// The most unanswered `input_required` rounds remembered for linking their retries.
#[cfg(feature = "otel")]
const MAX_OPEN_ROUNDS: usize = 256;

impl State {
    /// The span of a message this client sends, its parent the context its caller left in
    /// `_meta`.
    fn span(
        &self,
        method: &'static str,
        target: Target,
        name: Option<&str>,
        request: Option<&rmcp::model::ClientJsonRpcMessage>,
        id: Option<&rmcp::model::RequestId>,
        protocol_version: Option<&'static str>,
    ) -> RequestSpan {
        let (resource_uri, metas) = match request {
            Some(JsonRpcMessage::Request(r)) => {
                (resource_uri(&r.request), caller_metas(&r.request))
            }
            _ => (None, Vec::new()),
        };
        let start = SpanStart {
            method,
            target,
            name: name.filter(|_| target.known().is_some()),
            protocol_version,
            transport: self.network.transport,
            server: self
                .network
                .address
                .as_deref()
                .map(|a| (a, self.network.port)),
            request_id: id,
            resource_uri,
            parent: Parent::Sent(&metas),
            ..SpanStart::default()
        };
        // A tool call made in the caller's own tool-execution span, handed over for it.
        #[cfg(feature = "otel")]
        if method == "tools/call"
            && let Some(span) = super::tool_span::take(&metas)
        {
            return RequestSpan::adopt(span, &start);
        }
        RequestSpan::start(Side::Client, &start)
    }

    fn on_send(&mut self, item: &mut ClientJsonRpcMessage) -> Sent {
        let (method, target, name, id, version) = match &*item {
            JsonRpcMessage::Request(request) => {
                let method = labels::method(request.request.method());
                // A subscription stream stays open as long as the client listens: not an
                // operation.
                if method == "subscriptions/listen" {
                    return Sent::Other;
                }
                let (target, name) = match &request.request {
                    ClientRequest::CallToolRequest(r) => (
                        Target::Tool(self.tools.label(&r.params.name)),
                        Some(&*r.params.name),
                    ),
                    ClientRequest::GetPromptRequest(r) => (
                        Target::Prompt(self.prompts.label(&r.params.name)),
                        Some(r.params.name.as_str()),
                    ),
                    _ => (Target::None, None),
                };
                let version = request
                    .request
                    .get_meta()
                    .protocol_version()
                    .map(|v| labels::protocol_version(v.as_str()))
                    .or(self.protocol_version);
                (method, target, name, Some(request.id.clone()), version)
            }
            JsonRpcMessage::Notification(notification) => {
                let method = notification_method(&notification.notification);
                (method, Target::None, None, None, self.protocol_version)
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => {
                self.on_answer(item);
                return Sent::Other;
            }
        };
        let span = self.span(method, target, name, Some(item), id.as_ref(), version);
        match item {
            JsonRpcMessage::Request(request) => {
                #[cfg(feature = "otel")]
                {
                    if let Some(previous) =
                        request_state(&request.request).and_then(|s| self.rounds.remove(s))
                    {
                        span.link(previous);
                    }
                    span.inject(&mut request.request.get_meta_mut().0.0);
                }
                self.on_request(&request.request, method, target, &span);
                let key = IdKey::from(&request.id);
                if first_page(&request.request) {
                    self.first_pages.insert(key.clone());
                }
                self.pending.insert(
                    key.clone(),
                    Operation::start(Side::Client, method, target, span)
                        .with_network(version, self.network.transport),
                );
                Sent::Request(key)
            }
            JsonRpcMessage::Notification(notification) => {
                let notification = &mut notification.notification;
                if let ClientNotification::CancelledNotification(cancelled) = &*notification
                    && let Some(id) = &cancelled.params.request_id
                    && let Some(op) = self.pending.remove(&IdKey::from(id))
                {
                    let reason = cancelled.params.reason.as_deref();
                    let timed_out = reason
                        == Some(RequestHandle::<RoleClient>::REQUEST_TIMEOUT_REASON)
                        || reason
                            == Some(RequestHandle::<RoleClient>::REQUEST_MAX_TOTAL_TIMEOUT_REASON);
                    op.finish(Answer::of(if timed_out {
                        TIMEOUT
                    } else {
                        Outcome::Cancelled
                    }));
                }
                #[cfg(feature = "otel")]
                span.inject(&mut notification.get_meta_mut().0.0);
                Sent::Notification(
                    Operation::start(Side::Client, method, Target::None, span)
                        .with_network(version, self.network.transport),
                )
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => Sent::Other,
        }
    }

    fn on_receive(&mut self, message: &ServerJsonRpcMessage) {
        match message {
            JsonRpcMessage::Response(response) => {
                let key = IdKey::from(&response.id);
                let first_page = self.first_pages.remove(&key);
                let Some(op) = self.pending.remove(&key) else {
                    return;
                };
                let outcome = match (&response.result, op.method()) {
                    (ServerResult::CallToolResult(r), _) if r.is_error == Some(true) => {
                        Outcome::ToolError
                    }
                    (ServerResult::CallToolResult(r), _) => {
                        if let Some(capture) = &self.capture
                            && capture.wants_result()
                            && op.span.is_recording()
                        {
                            let value = serde_json::to_value(r).unwrap_or_default();
                            op.span.record_result(&capture.render(value));
                        }
                        Outcome::Success
                    }
                    (ServerResult::InputRequiredResult(_result), _) => {
                        #[cfg(feature = "otel")]
                        if let Some(state) = &_result.request_state
                            && self.rounds.len() < MAX_OPEN_ROUNDS
                        {
                            self.rounds.insert(state.clone(), op.span.span_context());
                        }
                        Outcome::InputRequired
                    }
                    (ServerResult::CreateTaskResult(_), "tools/call") => Outcome::TaskCreated,
                    (ServerResult::ListToolsResult(list), "tools/list") => {
                        self.tools.learn(list.tools.iter().map(|t| &*t.name));
                        if first_page && list.next_cursor.is_none() {
                            self.listed(Catalogue::Tools, fingerprint::tools(&list.tools));
                        }
                        Outcome::Success
                    }
                    (ServerResult::ListPromptsResult(list), "prompts/list") => {
                        self.prompts
                            .learn(list.prompts.iter().map(|p| p.name.as_str()));
                        if first_page && list.next_cursor.is_none() {
                            self.listed(Catalogue::Prompts, fingerprint::prompts(&list.prompts));
                        }
                        Outcome::Success
                    }
                    (ServerResult::InitializeResult(init), "initialize") => {
                        if init.protocol_version.has_initialize() && self.session_start.is_none() {
                            self.session_start = Some(Instant::now());
                        }
                        self.protocol_version =
                            Some(labels::protocol_version(init.protocol_version.as_str()));
                        self.server =
                            Some(self.servers.get(&init.server_info.name).unwrap_or(OTHER));
                        Outcome::Success
                    }
                    _ => Outcome::Success,
                };
                op.finish(Answer::of(outcome));
            }
            JsonRpcMessage::Error(error) => {
                let Some(op) = error
                    .id
                    .as_ref()
                    .and_then(|id| self.pending.remove(&IdKey::from(id)))
                else {
                    return;
                };
                op.finish(Answer::error(error.error.code.0, &error.error.message));
            }
            JsonRpcMessage::Request(request) => {
                let method = super::peer::request_method(&request.request);
                let meta = &request.request.get_meta().0.0;
                let span = self.received_span(method, meta, Some(&request.id));
                let op = Operation::start(Side::Server, method, Target::None, span)
                    .with_network(self.protocol_version, self.network.transport);
                if let Some(earlier) = self.incoming.insert(IdKey::from(&request.id), op) {
                    earlier.finish(Answer::of(Outcome::Cancelled));
                }
            }
            JsonRpcMessage::Notification(notification) => {
                let notification = &notification.notification;
                let method = super::peer::notification_method(notification);
                let span = self.received_span(method, &notification.get_meta().0.0, None);
                Operation::start(Side::Server, method, Target::None, span)
                    .with_network(self.protocol_version, self.network.transport)
                    .finish(Answer::of(Outcome::Success));
            }
        }
    }

    /// The SERVER span of a request or notification the server sent, its parent the context in
    /// its `_meta`.
    fn received_span(
        &self,
        method: &'static str,
        meta: &rmcp::model::JsonObject,
        id: Option<&rmcp::model::RequestId>,
    ) -> RequestSpan {
        RequestSpan::start(
            Side::Server,
            &SpanStart {
                method,
                protocol_version: self.protocol_version,
                transport: self.network.transport,
                request_id: id,
                parent: Parent::Received {
                    meta,
                    headers: None,
                },
                ..SpanStart::default()
            },
        )
    }

    /// The client answers a request the server sent: its operation ends, and an answer to an
    /// elicitation is counted by its action.
    fn on_answer(&mut self, item: &ClientJsonRpcMessage) {
        let (id, answer) = match item {
            JsonRpcMessage::Response(response) => {
                if let ClientResult::ElicitResult(result) = &response.result {
                    super::peer::count(
                        Side::Client,
                        super::peer::ELICITATION_CREATE,
                        Target::None,
                        super::peer::action_label(&result.action),
                    );
                }
                (&response.id, Answer::of(Outcome::Success))
            }
            JsonRpcMessage::Error(error) => match &error.id {
                Some(id) => (id, Answer::error(error.error.code.0, &error.error.message)),
                None => return,
            },
            _ => return,
        };
        if let Some(op) = self.incoming.remove(&IdKey::from(id)) {
            op.finish(answer);
        }
    }

    /// What a request tells before it is sent: the elicitation answers a retry carries, and the
    /// captured arguments.
    fn on_request(
        &self,
        request: &ClientRequest,
        method: &'static str,
        target: Target,
        span: &RequestSpan,
    ) {
        let (responses, arguments) = match request {
            ClientRequest::CallToolRequest(r) => (
                r.params.input_responses.as_ref(),
                r.params.arguments.as_ref(),
            ),
            ClientRequest::GetPromptRequest(r) => (r.params.input_responses.as_ref(), None),
            ClientRequest::ReadResourceRequest(r) => (r.params.input_responses.as_ref(), None),
            _ => (None, None),
        };
        if let Some(responses) = responses {
            super::peer::count_input_responses(Side::Client, method, target, responses);
        }
        let Some(capture) = self.capture.as_ref() else {
            return;
        };
        if let Some(arguments) = arguments
            && capture.wants_arguments()
            && span.is_recording()
        {
            span.record_arguments(&capture.render(serde_json::Value::Object(arguments.clone())));
        }
        if let ClientRequest::GetPromptRequest(r) = request
            && let Some(arguments) = &r.params.arguments
        {
            capture.record_prompt_variables(span, arguments);
        }
    }

    /// The server listed a complete catalogue with fingerprint `fp`.
    fn listed(&mut self, kind: Catalogue, fp: fingerprint::Fingerprint) {
        if let Some(change) = self.catalogues[kind as usize].see(fp) {
            fingerprint::client_listed(self.server.unwrap_or(UNKNOWN), kind, &change);
        }
    }

    /// The connection is over: requests still waiting end with `outcome`, and so does the session.
    fn end(&mut self, outcome: Outcome) {
        for (_, op) in self.pending.drain().chain(self.incoming.drain()) {
            op.finish(Answer::of(outcome));
        }
        if let Some(start) = self.session_start.take() {
            #[cfg(feature = "metrics")]
            {
                use crate::record::{Family, HistogramHandle};
                static SESSIONS: Family<(), HistogramHandle> =
                    Family::new(&crate::catalog::CLIENT_SESSION_DURATION);
                SESSIONS.with((), |h| h.record_plain(start.elapsed().as_secs_f64()));
            }
            #[cfg(not(feature = "metrics"))]
            let _ = start;
        }
    }
}

fn notification_method(notification: &ClientNotification) -> &'static str {
    match notification {
        ClientNotification::CancelledNotification(_) => "notifications/cancelled",
        ClientNotification::ProgressNotification(_) => "notifications/progress",
        ClientNotification::InitializedNotification(_) => "notifications/initialized",
        ClientNotification::RootsListChangedNotification(_) => "notifications/roots/list_changed",
        ClientNotification::CustomNotification(n) => labels::method(&n.method),
        _ => crate::names::OTHER,
    }
}

/// Whether `request` asks for the first page of the tool or prompt list.
fn first_page(request: &ClientRequest) -> bool {
    let params = match request {
        ClientRequest::ListToolsRequest(r) => r.params.as_ref(),
        ClientRequest::ListPromptsRequest(r) => r.params.as_ref(),
        _ => return false,
    };
    params.is_none_or(|p| p.cursor.is_none())
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

/// The `_meta` maps the caller may have left a context in: the request's own, then its typed
/// params' (rmcp keeps its own additions, such as the progress token, in the request's
/// extensions).
fn caller_metas(request: &ClientRequest) -> Vec<&rmcp::model::JsonObject> {
    let mut metas = vec![&request.get_meta().0.0];
    if let Some(meta) = params_meta(request) {
        metas.push(&meta.0.0);
    }
    metas
}

/// The `_meta` the caller put in the typed params of a request.
fn params_meta(request: &ClientRequest) -> Option<&rmcp::model::RequestMetaObject> {
    use rmcp::model::RequestParamsMeta as _;
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
}
