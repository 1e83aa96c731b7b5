//! Requests and notifications the server sends to its client (`elicitation/create`,
//! `sampling/createMessage`, `roots/list`, `ping`, `notifications/*`), observed through
//! [`ObservedPeer`], and the elicitation answers both sides count.
//!
//! rmcp's [`Peer`] is a concrete type the server cannot wrap from outside, so the observation is
//! an extension: `context.peer.observed()` borrows the peer and offers the peer's own
//! server-to-client methods, each through one generic path ([`ObservedPeer::send_request`],
//! [`ObservedPeer::send_notification`]). As the OpenTelemetry MCP conventions ask, each message is
//! a CLIENT span on the server, a child of the context current where it is sent (inside a
//! handler of [`Instrumented`](super::Instrumented), the span of the request being handled), with
//! its context injected into the message's `_meta` so that the client's SERVER span continues the
//! trace; its duration goes to `mcp_client_operation_duration_seconds`.
//!
//! ```no_run
//! use mcp_metrics::rmcp::PeerExt as _;
//! use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
//! use rmcp::service::{RequestContext, RoleServer};
//!
//! async fn ask(context: &RequestContext<RoleServer>) -> Result<bool, Box<dyn std::error::Error>> {
//!     let schema = ElicitationSchema::builder().required_bool("confirm").build()?;
//!     let params = ElicitRequestParams::FormElicitationParams {
//!         meta: None,
//!         message: "Ship it?".into(),
//!         requested_schema: schema,
//!     };
//!     let answer = context.peer.observed().create_elicitation(params).await?;
//!     Ok(answer.action == ElicitationAction::Accept)
//! }
//! ```
//!
//! Protocol 2026-07-28 has no server-to-client requests (rmcp refuses them): a tool asks for input
//! with an `InputRequiredResult` instead, and the answers arrive in the `inputResponses` of the
//! retried request, which [`Instrumented`](super::Instrumented) counts.
//!
//! # Elicitation answers
//!
//! `mcp_server_elicitation_responses_total{method, tool|prompt, action}` counts each answer the
//! server receives: `method="elicitation/create"` for an answer to a request sent through
//! [`ObservedPeer`] (without `tool` or `prompt`: the peer does not know which request it serves),
//! and the retried method with its `tool` or `prompt` label for every elicitation answer in the
//! `inputResponses` of a retried `tools/call`, `prompts/get` or `resources/read`.
//! `mcp_client_elicitation_responses_total` counts the same on an instrumented client, from what
//! it sends. `action` is `accept`, `decline` or `cancel`, anything else `_OTHER`.
#![allow(deprecated)] // rmcp marks sampling, roots and logging deprecated; they are still sent.

use super::operation::{Answer, Operation, Side, Target};
use super::span::{Parent, RequestSpan, SpanStart};
use crate::Outcome;
use rmcp::model::{
    CancelledNotification, CancelledNotificationParam, ClientResult, CreateMessageRequest,
    CreateMessageRequestParams, CreateMessageResult, ElicitRequest, ElicitRequestParams,
    ElicitResult, ElicitationAction, GetMeta, InputResponses, ListRootsRequest, ListRootsResult,
    LoggingMessageNotification, LoggingMessageNotificationParam, PingRequest, ProgressNotification,
    ProgressNotificationParam, PromptListChangedNotification, ResourceListChangedNotification,
    ResourceUpdatedNotification, ResourceUpdatedNotificationParam, ServerNotification,
    ServerRequest, ToolListChangedNotification,
};
use rmcp::service::{Peer, RoleServer, ServiceError};

mod sealed {
    pub trait Sealed {}
    impl Sealed for rmcp::service::Peer<rmcp::service::RoleServer> {}
}

/// Observes what a server sends to its client: `peer.observed()`. See the [module docs](self).
pub trait PeerExt: sealed::Sealed {
    /// The peer, with every request and notification sent through the result observed.
    fn observed(&self) -> ObservedPeer<'_>;
}

impl PeerExt for Peer<RoleServer> {
    fn observed(&self) -> ObservedPeer<'_> {
        ObservedPeer { peer: self }
    }
}

/// A server's [`Peer`] whose requests and notifications open CLIENT spans and record
/// `mcp_client_operation_duration_seconds`. Made by [`PeerExt::observed`].
#[derive(Clone, Copy)]
pub struct ObservedPeer<'a> {
    peer: &'a Peer<RoleServer>,
}

impl std::fmt::Debug for ObservedPeer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedPeer").finish_non_exhaustive()
    }
}

/// An operation finished as `cancelled` if the future sending it is dropped first.
struct Pending(Option<Operation>);

impl Pending {
    fn finish(mut self, answer: Answer<'_>) {
        if let Some(op) = self.0.take() {
            op.finish(answer);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(op) = self.0.take() {
            op.finish(Answer::of(Outcome::Cancelled));
        }
    }
}

impl<'a> ObservedPeer<'a> {
    /// The peer itself, for what is not a message to the client.
    pub fn peer(&self) -> &'a Peer<RoleServer> {
        self.peer
    }

    /// Starts the CLIENT span and the timer of a message to the client.
    fn start(&self, method: &'static str, meta: &mut rmcp::model::JsonObject) -> Pending {
        let info = self.peer.peer_info();
        let protocol_version = info
            .as_ref()
            .map(|i| super::labels::protocol_version(i.protocol_version.as_str()));
        let span = RequestSpan::start(
            Side::Client,
            &SpanStart {
                method,
                protocol_version,
                parent: Parent::Current,
                ..SpanStart::default()
            },
        );
        #[cfg(feature = "otel")]
        span.inject(meta);
        #[cfg(not(feature = "otel"))]
        let _ = meta;
        // The peer knows the session's protocol version, not the transport under it.
        Pending(Some(
            Operation::start(Side::Client, method, Target::None, span)
                .with_network(protocol_version, None),
        ))
    }

    /// Sends any request to the client, observed: the one path every typed request takes. An
    /// answer to `elicitation/create` is counted by its action.
    pub async fn send_request(
        &self,
        mut request: ServerRequest,
    ) -> Result<ClientResult, ServiceError> {
        let method = request_method(&request);
        let pending = self.start(method, &mut request.get_meta_mut().0.0);
        let result = self.peer.send_request(request).await;
        match &result {
            Ok(answer) => {
                if let ClientResult::ElicitResult(elicited) = answer {
                    count(
                        Side::Server,
                        ELICITATION_CREATE,
                        Target::None,
                        action_label(&elicited.action),
                    );
                }
                pending.finish(Answer::of(Outcome::Success));
            }
            Err(error) => pending.finish(failure(error)),
        }
        result
    }

    /// Sends any notification to the client, observed; also counted in
    /// `mcp_server_notifications_sent_total`.
    pub async fn send_notification(
        &self,
        mut notification: ServerNotification,
    ) -> Result<(), ServiceError> {
        let method = notification_method(&notification);
        let pending = self.start(method, &mut notification.get_meta_mut().0.0);
        super::notification_sent(method);
        let result = self.peer.send_notification(notification).await;
        match &result {
            Ok(()) => pending.finish(Answer::of(Outcome::Success)),
            Err(error) => pending.finish(failure(error)),
        }
        result
    }

    /// `elicitation/create`: asks the user for input (sessions up to protocol 2025-11-25).
    pub async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, ServiceError> {
        match self
            .send_request(ServerRequest::ElicitRequest(ElicitRequest::new(params)))
            .await?
        {
            ClientResult::ElicitResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `sampling/createMessage`: asks the client's model for a completion, after the checks
    /// rmcp's own `create_message` makes.
    pub async fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, ServiceError> {
        if (params.tools.is_some() || params.tool_choice.is_some())
            && !self.peer.supports_sampling_tools()
        {
            return Err(ServiceError::McpError(rmcp::ErrorData::invalid_params(
                "tools or toolChoice provided but client does not support sampling tools capability",
                None,
            )));
        }
        params
            .validate()
            .map_err(|e| ServiceError::McpError(rmcp::ErrorData::invalid_params(e, None)))?;
        let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(params));
        match self.send_request(request).await? {
            ClientResult::CreateMessageResult(result) => Ok(*result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `roots/list`: the client's roots.
    pub async fn list_roots(&self) -> Result<ListRootsResult, ServiceError> {
        let request = ServerRequest::ListRootsRequest(ListRootsRequest::default());
        match self.send_request(request).await? {
            ClientResult::ListRootsResult(result) => Ok(result),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `ping`.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        match self
            .send_request(ServerRequest::PingRequest(PingRequest::default()))
            .await?
        {
            ClientResult::EmptyResult(_) => Ok(()),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
}

/// The typed notifications, each through [`ObservedPeer::send_notification`].
macro_rules! notifications {
    ($($(#[$doc:meta])* $name:ident($($param:ident: $Param:ty)?) = $Not:ident $make:expr;)*) => {
        impl ObservedPeer<'_> {$(
            $(#[$doc])*
            pub async fn $name(&self $(, $param: $Param)?) -> Result<(), ServiceError> {
                self.send_notification(ServerNotification::$Not($make)).await
            }
        )*}
    };
}

notifications! {
    /// `notifications/cancelled`.
    notify_cancelled(params: CancelledNotificationParam) = CancelledNotification CancelledNotification::new(params);
    /// `notifications/progress`.
    notify_progress(params: ProgressNotificationParam) = ProgressNotification ProgressNotification::new(params);
    /// `notifications/message`.
    notify_logging_message(params: LoggingMessageNotificationParam) = LoggingMessageNotification LoggingMessageNotification::new(params);
    /// `notifications/resources/updated`.
    notify_resource_updated(params: ResourceUpdatedNotificationParam) = ResourceUpdatedNotification ResourceUpdatedNotification::new(params);
    /// `notifications/resources/list_changed`.
    notify_resource_list_changed() = ResourceListChangedNotification ResourceListChangedNotification::default();
    /// `notifications/tools/list_changed`.
    notify_tool_list_changed() = ToolListChangedNotification ToolListChangedNotification::default();
    /// `notifications/prompts/list_changed`.
    notify_prompt_list_changed() = PromptListChangedNotification PromptListChangedNotification::default();
}

/// The method of a request a server sends.
pub(crate) fn request_method(request: &ServerRequest) -> &'static str {
    match request {
        ServerRequest::PingRequest(_) => super::labels::method("ping"),
        ServerRequest::CreateMessageRequest(_) => super::labels::method("sampling/createMessage"),
        ServerRequest::ListRootsRequest(_) => super::labels::method("roots/list"),
        ServerRequest::ElicitRequest(_) => ELICITATION_CREATE,
        ServerRequest::CustomRequest(r) => super::labels::method(&r.method),
        _ => crate::names::OTHER,
    }
}

/// The method of a notification a server sends.
pub(crate) fn notification_method(notification: &ServerNotification) -> &'static str {
    let name = match notification {
        ServerNotification::CancelledNotification(_) => "notifications/cancelled",
        ServerNotification::ProgressNotification(_) => "notifications/progress",
        ServerNotification::LoggingMessageNotification(_) => "notifications/message",
        ServerNotification::ResourceUpdatedNotification(_) => "notifications/resources/updated",
        ServerNotification::ResourceListChangedNotification(_) => {
            "notifications/resources/list_changed"
        }
        ServerNotification::ToolListChangedNotification(_) => "notifications/tools/list_changed",
        ServerNotification::PromptListChangedNotification(_) => {
            "notifications/prompts/list_changed"
        }
        ServerNotification::SubscriptionsAcknowledgedNotification(_) => {
            "notifications/subscriptions/acknowledged"
        }
        ServerNotification::CustomNotification(n) => &n.method,
        _ => crate::names::OTHER,
    };
    super::labels::method(name)
}

/// How a request the peer could not complete ended.
fn failure(error: &ServiceError) -> Answer<'_> {
    match error {
        ServiceError::McpError(e) => Answer::error(e.code.0, &e.message),
        ServiceError::Timeout { .. } => Answer::of(Outcome::server_error("timeout")),
        ServiceError::Cancelled { .. } => Answer::of(Outcome::Cancelled),
        ServiceError::TransportSend(_) | ServiceError::TransportClosed => {
            Answer::of(Outcome::server_error("transport"))
        }
        _ => Answer::of(Outcome::server_error(crate::names::OTHER)),
    }
}

/// The `method` label of a legacy elicitation.
pub(crate) const ELICITATION_CREATE: &str = "elicitation/create";

/// The values of the `action` label.
const ACTIONS: [&str; 3] = ["accept", "decline", "cancel"];

/// The `action` label of a typed answer.
pub(crate) fn action_label(action: &ElicitationAction) -> &'static str {
    match action {
        ElicitationAction::Accept => ACTIONS[0],
        ElicitationAction::Decline => ACTIONS[1],
        ElicitationAction::Cancel => ACTIONS[2],
        _ => crate::names::OTHER,
    }
}

/// The `action` label of an answer as JSON text.
fn action_text_label(action: &str) -> &'static str {
    ACTIONS
        .iter()
        .copied()
        .find(|a| *a == action)
        .unwrap_or(crate::names::OTHER)
}

/// Counts the elicitation answers among the `inputResponses` of a retried request: those that
/// carry an `action` (sampling and roots answers have none).
pub(crate) fn count_input_responses(
    side: Side,
    method: &'static str,
    target: Target,
    responses: &InputResponses,
) {
    for response in responses.values() {
        if let Some(action) = response.get("action").and_then(serde_json::Value::as_str) {
            count(side, method, target, action_text_label(action));
        }
    }
}

/// Counts one elicitation answer on `side`.
pub(crate) fn count(side: Side, method: &'static str, target: Target, action: &'static str) {
    #[cfg(feature = "metrics")]
    instruments::count(side, method, target, action);
    #[cfg(not(feature = "metrics"))]
    let _ = (side, method, target, action);
}

#[cfg(feature = "metrics")]
mod instruments {
    use super::{Side, Target};
    use crate::catalog::{self, label};
    use crate::record::{CounterHandle, Family, LabelKey, Str, family};
    use metrics::Label;

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Key {
        method: Str,
        tool: Option<Str>,
        prompt: Option<Str>,
        action: Str,
    }

    impl LabelKey for Key {
        fn labels(&self) -> Vec<Label> {
            family::labels([
                (label::METHOD, Some(self.method)),
                (label::TOOL, self.tool),
                (label::PROMPT, self.prompt),
                (label::ACTION, Some(self.action)),
            ])
        }
    }

    static SERVER: Family<Key, CounterHandle> = Family::new(&catalog::SERVER_ELICITATION_RESPONSES);
    static CLIENT: Family<Key, CounterHandle> = Family::new(&catalog::CLIENT_ELICITATION_RESPONSES);

    pub(super) fn count(side: Side, method: &'static str, target: Target, action: &'static str) {
        let (tool, prompt) = match target {
            Target::None => (None, None),
            Target::Tool(t) => (Some(Str(t)), None),
            Target::Prompt(p) => (None, Some(Str(p))),
        };
        let key = Key {
            method: Str(method),
            tool,
            prompt,
            action: Str(action),
        };
        let family = match side {
            Side::Server => &SERVER,
            Side::Client => &CLIENT,
        };
        family.with(key, |c| c.add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_bounded() {
        assert_eq!(action_label(&ElicitationAction::Decline), "decline");
        assert_eq!(action_text_label("cancel"), "cancel");
        assert_eq!(action_text_label("hack\"me"), crate::names::OTHER);
    }
}
