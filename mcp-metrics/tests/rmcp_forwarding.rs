//! Every method of rmcp's `ServerHandler` reaches the wrapped handler through `Instrumented`: a
//! handler that overrides each of them sees each request and notification a real rmcp client
//! sends through the wrapper, and the wrapper records each request in the operation histogram.
#![cfg(all(feature = "metrics", feature = "rmcp"))]
#![allow(deprecated)] // logging/setLevel is still a method rmcp serves

use mcp_metrics::rmcp::Instrumented;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rmcp::model::*;
use rmcp::service::{NotificationContext, RequestContext, RoleServer, SubscriptionContext};
use rmcp::{ClientLifecycleMode, ClientServiceExt, ErrorData, ServerHandler, ServiceExt};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// The methods the handler saw, by name.
type Seen = Arc<Mutex<Vec<&'static str>>>;

/// A handler that overrides every method rmcp gives a default body, records that it ran, and
/// answers each request with an error carrying its own name: an answer the client can only get
/// from this handler.
#[derive(Clone)]
struct Every(Seen);

impl Every {
    fn saw(&self, name: &'static str) -> ErrorData {
        self.0.lock().unwrap().push(name);
        ErrorData::internal_error(name, None)
    }
}

impl ServerHandler for Every {
    fn get_info(&self) -> ServerConfig {
        self.0.lock().unwrap().push("get_info");
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_completions()
                .enable_logging()
                .enable_tasks()
                .enable_skills_with_directory_read()
                .build(),
        )
    }

    async fn ping(&self, _: RequestContext<RoleServer>) -> Result<(), ErrorData> {
        Err(self.saw("ping"))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        self.0.lock().unwrap().push("initialize");
        context.peer.set_peer_info(request.clone());
        Ok(InitializeResult::new(self.get_info().capabilities)
            .with_protocol_version(request.protocol_version))
    }

    fn negotiate_initialize(
        &self,
        _: &InitializeRequestParams,
    ) -> Result<InitializeResult, ErrorData> {
        Err(self.saw("negotiate_initialize"))
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.0.lock().unwrap().push("supported_protocol_versions");
        Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
    }

    async fn discover(&self, _: RequestContext<RoleServer>) -> Result<DiscoverResult, ErrorData> {
        self.0.lock().unwrap().push("discover");
        Ok(DiscoverResult::new(
            vec![ProtocolVersion::V_2026_07_28],
            self.get_info().capabilities,
        ))
    }

    async fn complete(
        &self,
        _: CompleteRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Err(self.saw("complete"))
    }

    async fn set_level(
        &self,
        _: SetLevelRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Err(self.saw("set_level"))
    }

    async fn get_prompt(
        &self,
        _: GetPromptRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Err(self.saw("get_prompt"))
    }

    async fn list_prompts(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Err(self.saw("list_prompts"))
    }

    async fn list_resources(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Err(self.saw("list_resources"))
    }

    async fn list_resource_templates(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Err(self.saw("list_resource_templates"))
    }

    async fn read_resource(
        &self,
        _: ReadResourceRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Err(self.saw("read_resource"))
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.0.lock().unwrap().push("accepted_subscription_filter");
        Some(requested.clone())
    }

    async fn listen(&self, _: SubscriptionContext) -> Result<(), ErrorData> {
        Err(self.saw("listen"))
    }

    async fn subscribe(
        &self,
        _: SubscribeRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Err(self.saw("subscribe"))
    }

    async fn unsubscribe(
        &self,
        _: UnsubscribeRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Err(self.saw("unsubscribe"))
    }

    async fn call_tool(
        &self,
        _: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Err(self.saw("call_tool"))
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Err(self.saw("list_tools"))
    }

    fn get_tool(&self, _: &str) -> Option<Tool> {
        self.0.lock().unwrap().push("get_tool");
        None
    }

    async fn on_custom_request(
        &self,
        _: CustomRequest,
        _: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(self.saw("on_custom_request"))
    }

    async fn on_cancelled(
        &self,
        _: CancelledNotificationParam,
        _: NotificationContext<RoleServer>,
    ) {
        self.saw("on_cancelled");
    }

    async fn on_progress(&self, _: ProgressNotificationParam, _: NotificationContext<RoleServer>) {
        self.saw("on_progress");
    }

    async fn on_initialized(&self, _: NotificationContext<RoleServer>) {
        self.saw("on_initialized");
    }

    async fn on_roots_list_changed(&self, _: NotificationContext<RoleServer>) {
        self.saw("on_roots_list_changed");
    }

    async fn on_custom_notification(
        &self,
        _: CustomNotification,
        _: NotificationContext<RoleServer>,
    ) {
        self.saw("on_custom_notification");
    }

    async fn get_task(
        &self,
        _: GetTaskParams,
        _: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        Err(self.saw("get_task"))
    }

    async fn update_task(
        &self,
        _: UpdateTaskParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Err(self.saw("update_task"))
    }

    async fn cancel_task(
        &self,
        _: CancelTaskParams,
        _: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Err(self.saw("cancel_task"))
    }

    async fn list_skills(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        Err(self.saw("list_skills"))
    }

    async fn get_skill(
        &self,
        _: GetSkillRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        Err(self.saw("get_skill"))
    }

    async fn read_resource_directory(
        &self,
        _: ReadResourceDirectoryRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, ErrorData> {
        Err(self.saw("read_resource_directory"))
    }
}

/// Requests of a legacy session, as JSON, with the method of the handler each must reach.
const LEGACY_REQUESTS: &[(&str, &str, &str)] = &[
    ("ping", "null", "ping"),
    (
        "completion/complete",
        r#"{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":"b"}}"#,
        "complete",
    ),
    ("logging/setLevel", r#"{"level":"info"}"#, "set_level"),
    ("prompts/get", r#"{"name":"p"}"#, "get_prompt"),
    ("prompts/list", "{}", "list_prompts"),
    ("resources/list", "{}", "list_resources"),
    ("resources/templates/list", "{}", "list_resource_templates"),
    ("resources/read", r#"{"uri":"file:///x"}"#, "read_resource"),
    ("resources/subscribe", r#"{"uri":"file:///x"}"#, "subscribe"),
    (
        "resources/unsubscribe",
        r#"{"uri":"file:///x"}"#,
        "unsubscribe",
    ),
    ("tools/call", r#"{"name":"t"}"#, "call_tool"),
    ("tools/list", "{}", "list_tools"),
    ("vendor/custom", "{}", "on_custom_request"),
    ("tasks/get", r#"{"taskId":"t"}"#, "get_task"),
    (
        "tasks/update",
        r#"{"taskId":"t","inputResponses":{}}"#,
        "update_task",
    ),
    ("tasks/cancel", r#"{"taskId":"t"}"#, "cancel_task"),
    ("skills/list", "{}", "list_skills"),
    (
        "skills/get",
        r#"{"uri":"skill://docs/writing/SKILL.md"}"#,
        "get_skill",
    ),
    (
        "resources/directory/read",
        r#"{"uri":"skill://docs/writing/"}"#,
        "read_resource_directory",
    ),
];

/// Notifications of a legacy session, with the method of the handler each must reach.
const NOTIFICATIONS: &[(&str, &str, &str)] = &[
    (
        "notifications/cancelled",
        r#"{"requestId":999}"#,
        "on_cancelled",
    ),
    (
        "notifications/progress",
        r#"{"progressToken":1,"progress":0.5}"#,
        "on_progress",
    ),
    (
        "notifications/roots/list_changed",
        "null",
        "on_roots_list_changed",
    ),
    ("vendor/event", "{}", "on_custom_notification"),
];

fn message<T: serde::de::DeserializeOwned>(method: &str, params: &str) -> T {
    let params: serde_json::Value = serde_json::from_str(params).unwrap();
    let mut json = serde_json::json!({ "method": method });
    if !params.is_null() {
        json["params"] = params;
    }
    serde_json::from_value(json).unwrap_or_else(|e| panic!("{method}: {e}"))
}

#[test]
fn every_method_reaches_the_wrapped_handler() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let seen: Seen = Arc::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handler = Every(seen.clone());
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            // A legacy session: `initialize`, then every request and notification.
            let (server_io, client_io) = tokio::io::duplex(1 << 20);
            let served = Instrumented::new(handler.clone());
            let serving = tokio::spawn(async move {
                let running = served.serve(server_io).await.unwrap();
                running.waiting().await.unwrap();
            });
            let capabilities = ClientCapabilities::builder().enable_tasks().build();
            let client = ClientConfig::new(capabilities, Implementation::new("forwarding", "1"))
                .with_protocol_version(ProtocolVersion::V_2025_11_25)
                .serve(client_io)
                .await
                .unwrap();
            for (method, params, reached) in LEGACY_REQUESTS {
                match client.send_request(message(method, params)).await {
                    Err(rmcp::ServiceError::McpError(e)) => {
                        assert_eq!(e.message, *reached, "{method} reached another method")
                    }
                    other => panic!("{method}: {other:?}"),
                }
            }
            for (method, params, _) in NOTIFICATIONS {
                client
                    .send_notification(message(method, params))
                    .await
                    .unwrap();
            }
            // A ping after the notifications: answered once they were handled in order.
            let _ = client.send_request(message("ping", "null")).await;
            client.cancel().await.unwrap();
            serving.await.unwrap();

            // A 2026-07-28 client: `server/discover` and a subscription stream.
            let (server_io, client_io) = tokio::io::duplex(1 << 20);
            let served = Instrumented::new(handler.clone());
            let serving = tokio::spawn(async move {
                let running = served.serve(server_io).await.unwrap();
                let _ = running.waiting().await;
            });
            let client = ClientConfig::new(
                ClientCapabilities::default(),
                Implementation::new("forwarding", "1"),
            )
            .serve_with_lifecycle(
                client_io,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .unwrap();
            let listen = client
                .send_request(message(
                    "subscriptions/listen",
                    r#"{"notifications":{"toolsListChanged":true}}"#,
                ))
                .await;
            assert!(
                listen.is_err(),
                "the handler answered the stream with an error"
            );
            client.cancel().await.unwrap();
            serving.abort();
        });
    });
    let wrapper = Instrumented::new(handler);
    let _ = wrapper.get_tool("t");
    let _ = wrapper.negotiate_initialize(&InitializeRequestParams::default());

    let seen = seen.lock().unwrap().clone();
    for method in mcp_metrics_forwarded() {
        assert!(
            seen.contains(method),
            "{method} never reached the handler: {seen:?}"
        );
    }
    // Each request of the legacy session is in the operation histogram under its method.
    let snapshot = snapshotter.snapshot().into_vec();
    for (method, _, _) in LEGACY_REQUESTS {
        let label = if method.starts_with("vendor/") {
            "_OTHER"
        } else {
            method
        };
        let counted = snapshot.iter().any(|(key, _, _, value)| {
            let key = key.key();
            key.name() == "mcp_server_operation_duration_seconds"
                && key
                    .labels()
                    .any(|l| l.key() == "method" && l.value() == label)
                && matches!(value, DebugValue::Histogram(v) if !v.is_empty())
        });
        assert!(counted, "{method} was not counted");
    }
}

/// The methods of rmcp's `ServerHandler` that carry a default body, which this test overrides.
fn mcp_metrics_forwarded() -> &'static [&'static str] {
    &[
        "ping",
        "initialize",
        "discover",
        "complete",
        "set_level",
        "get_prompt",
        "list_prompts",
        "list_resources",
        "list_resource_templates",
        "read_resource",
        "accepted_subscription_filter",
        "listen",
        "subscribe",
        "unsubscribe",
        "call_tool",
        "list_tools",
        "get_tool",
        "on_custom_request",
        "on_cancelled",
        "on_progress",
        "on_initialized",
        "on_roots_list_changed",
        "on_custom_notification",
        "get_task",
        "update_task",
        "cancel_task",
        "list_skills",
        "get_skill",
        "read_resource_directory",
        "negotiate_initialize",
        "supported_protocol_versions",
        "get_info",
    ]
}
