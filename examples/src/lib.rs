//! The tools of the example servers: one of each outcome `#[mcp_tool]` tells apart, a tool that
//! asks the client for input (a multi-round-trip request, protocol 2026-07-28), one that asks
//! over a legacy session (`elicitation/create` through the observed peer) and a tool that runs as
//! a task (the tasks extension). `lookup` and `add` declare service-level objectives,
//! which the exporter exports as `mcp_tool_objective_ratio` for the deploy bundle's rules.

use mcp_metrics::{ErrorKind, PriceTable, mcp_tool};
use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolResponse, CallToolResult, CancelTaskParams, ContentBlock, CreateTaskResult,
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    GetTaskParams, GetTaskResult, InputRequest, InputRequests, InputRequiredResult, IntoContents,
    ProtocolVersion, RequestMetaObject, ServerCapabilities, ServerConfig, SubscriptionFilter,
    UpdateTaskParams,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::task_manager::{TaskExit, TaskFuture, TaskManager, TaskOptions};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddRequest {
    /// First addend.
    pub a: i64,
    /// Second addend.
    pub b: i64,
}

/// Arguments of `lookup`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LookupRequest {
    /// The key to look up: `alpha` and `beta` exist.
    pub key: String,
}

/// Arguments of `validate`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ValidateRequest {
    /// Text that must not be blank.
    pub text: String,
}

/// Arguments of `slow`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlowRequest {
    /// How long to work, in milliseconds (at most 5000).
    pub millis: u64,
}

/// Arguments of `summarize`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SummarizeRequest {
    /// The text to summarize.
    pub text: String,
}

/// Arguments of `confirm`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConfirmRequest {
    /// The action the user is asked to confirm.
    pub action: String,
}

/// Arguments of `approve`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ApproveRequest {
    /// The action the user is asked to approve.
    pub action: String,
}

/// Arguments of `report`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReportRequest {
    /// How the report ends: `complete`, `fail`, or `wait` (until the task is cancelled).
    pub ending: String,
    /// How long to work before ending, in milliseconds (at most 5000).
    #[serde(default)]
    pub millis: u64,
}

/// The key of the confirmation in `confirm`'s input requests.
const CONFIRMATION: &str = "confirmation";
/// The `requestState` of `confirm`'s second round.
const CONFIRM_STATE: &str = "awaiting-confirmation";

/// The tasks of every handler: rmcp serves each 2026-07-28 request with a fresh handler, so the
/// task store outlives them.
pub fn tasks() -> &'static TaskManager {
    static TASKS: OnceLock<TaskManager> = OnceLock::new();
    TASKS.get_or_init(TaskManager::new)
}

/// Whether a request declared the tasks extension in its `_meta` (protocol 2026-07-28).
fn declares_tasks(meta: &RequestMetaObject) -> bool {
    meta.client_capabilities()
        .is_some_and(|caps| caps.supports_tasks())
}

/// Prices of the (simulated) models `summarize` calls, per million prompt and completion tokens.
pub fn prices() -> &'static PriceTable {
    static PRICES: std::sync::OnceLock<PriceTable> = std::sync::OnceLock::new();
    PRICES.get_or_init(|| PriceTable::new().model("small-1", 0.15, 0.60))
}

/// Why `lookup` failed: each variant is an `error_type` label value.
#[derive(Debug, ErrorKind)]
pub enum LookupError {
    /// No such key.
    NotFound,
    /// The key is reserved.
    Forbidden,
}

impl IntoContents for LookupError {
    fn into_contents(self) -> Vec<ContentBlock> {
        let text = match self {
            LookupError::NotFound => "no such key",
            LookupError::Forbidden => "this key is reserved",
        };
        vec![ContentBlock::text(text)]
    }
}

/// The example tool server.
#[derive(Clone)]
pub struct Tools {
    tool_router: ToolRouter<Self>,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            tool_router: Self::tool_router(),
        }
    }
}

impl Tools {
    /// The number of tools the server offers.
    pub fn count(&self) -> usize {
        self.tool_router.list_all().len()
    }
}

#[tool_router]
impl Tools {
    /// Adds two integers.
    #[mcp_tool(objective(success = 99.0))]
    #[tool]
    async fn add(
        &self,
        Parameters(AddRequest { a, b }): Parameters<AddRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        let sum = a
            .checked_add(b)
            .ok_or_else(|| ErrorData::invalid_params("the sum overflows", None))?;
        Ok(CallToolResult::success(vec![ContentBlock::text(
            sum.to_string(),
        )]))
    }

    /// Looks a key up.
    #[mcp_tool(objective(success = 99.9, latency = 0.5, latency_target = 95))]
    #[tool]
    async fn lookup(
        &self,
        Parameters(LookupRequest { key }): Parameters<LookupRequest>,
    ) -> Result<String, LookupError> {
        match key.as_str() {
            "alpha" => Ok("first".into()),
            "beta" => Ok("second".into()),
            "root" => Err(LookupError::Forbidden),
            _ => Err(LookupError::NotFound),
        }
    }

    /// Checks that a text is not blank; a blank text is a tool error the model can read.
    #[mcp_tool]
    #[tool]
    fn validate(
        &self,
        Parameters(ValidateRequest { text }): Parameters<ValidateRequest>,
    ) -> CallToolResult {
        if text.trim().is_empty() {
            CallToolResult::error(vec![ContentBlock::text("the text is blank")])
        } else {
            CallToolResult::success(vec![ContentBlock::text("valid")])
        }
    }

    /// Works for the given number of milliseconds.
    #[mcp_tool]
    #[tool]
    async fn slow(&self, Parameters(SlowRequest { millis }): Parameters<SlowRequest>) -> String {
        let millis = millis.min(5_000);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        format!("worked {millis} ms")
    }

    /// Summarizes a text with a (simulated) LLM, recording its token usage and cost.
    #[mcp_tool]
    #[tool]
    async fn summarize(
        &self,
        Parameters(SummarizeRequest { text }): Parameters<SummarizeRequest>,
    ) -> String {
        let words: Vec<&str> = text.split_whitespace().collect();
        let summary = words.iter().take(5).copied().collect::<Vec<_>>().join(" ");
        // A real server would take these from the LLM's response.
        let (prompt_tokens, completion_tokens) = (
            words.len() as u64 * 4 / 3 + 20,
            summary.len() as u64 / 4 + 1,
        );
        prices().record("small-1", prompt_tokens, completion_tokens);
        summary
    }

    /// Always panics: shows how a crashing tool is counted.
    #[mcp_tool]
    #[tool]
    async fn crash(&self) -> String {
        panic!("the crash tool always panics")
    }

    /// Asks the user to confirm an action, then reports the answer. On protocol 2026-07-28 the
    /// first call answers with an input request (a multi-round-trip request); the client asks the
    /// user and calls again with the answer.
    #[mcp_tool]
    #[tool]
    async fn confirm(
        &self,
        Parameters(ConfirmRequest { action }): Parameters<ConfirmRequest>,
        RequestMetaObject(meta): RequestMetaObject,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, ErrorData> {
        let meta = RequestMetaObject(meta);
        let modern = meta
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        if !modern {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                "confirm needs protocol 2026-07-28, which can ask for input",
            )])
            .into());
        }
        let answer = responses.and_then(|mut r| r.remove(CONFIRMATION));
        match (answer, state.as_deref()) {
            (Some(answer), Some(CONFIRM_STATE)) => {
                let answer: ElicitResult = rmcp::serde_json::from_value(answer)
                    .map_err(|e| ErrorData::invalid_params(format!("bad answer: {e}"), None))?;
                let text = match answer.action {
                    ElicitationAction::Accept => format!("{action}: confirmed"),
                    _ => format!("{action}: not confirmed"),
                };
                Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
            }
            (Some(_), _) => Err(ErrorData::invalid_params(
                "the answer does not belong to this request",
                None,
            )),
            (None, _) => {
                let schema = ElicitationSchema::builder()
                    .required_bool("confirm")
                    .build()
                    .map_err(|e| ErrorData::internal_error(e, None))?;
                let ask = ElicitRequest::new(ElicitRequestParams::FormElicitationParams {
                    meta: None,
                    message: format!("Confirm: {action}?"),
                    requested_schema: schema,
                });
                let mut requests = InputRequests::new();
                requests.insert(CONFIRMATION.into(), InputRequest::Elicitation(ask));
                Ok(InputRequiredResult::new(Some(requests), Some(CONFIRM_STATE.into())).into())
            }
        }
    }

    /// Asks the user to approve an action with `elicitation/create`, then reports the answer: the
    /// legacy way to ask for input, in a session opened with `initialize` (up to protocol
    /// 2025-11-25).
    #[mcp_tool]
    #[tool]
    async fn approve(
        &self,
        Parameters(ApproveRequest { action }): Parameters<ApproveRequest>,
        context: RequestContext<RoleServer>,
    ) -> Result<String, ErrorData> {
        let schema = ElicitationSchema::builder()
            .required_bool("approve")
            .build()
            .map_err(|e| ErrorData::internal_error(e, None))?;
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: format!("Approve: {action}?"),
            requested_schema: schema,
        };
        let answer = elicit(&context.peer, params).await.map_err(|e| {
            ErrorData::internal_error(format!("the client did not answer: {e}"), None)
        })?;
        Ok(match answer.action {
            ElicitationAction::Accept => format!("{action}: approved"),
            ElicitationAction::Decline => format!("{action}: declined"),
            _ => format!("{action}: cancelled"),
        })
    }

    /// Writes a report. When the request declares the tasks extension, the report runs as a task
    /// the client polls (`tasks/get`) or cancels (`tasks/cancel`); otherwise it runs at once.
    #[mcp_tool]
    #[tool]
    async fn report(
        &self,
        Parameters(ReportRequest { ending, millis }): Parameters<ReportRequest>,
        RequestMetaObject(meta): RequestMetaObject,
    ) -> Result<CallToolResponse, ErrorData> {
        let millis = millis.min(5_000);
        let work = move |cancelled: Option<rmcp::task_manager::TaskContext>| async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            match ending.as_str() {
                "complete" => Ok(CallToolResult::success(vec![ContentBlock::text(format!(
                    "report written in {millis} ms"
                ))])),
                "fail" => Err(TaskExit::Error(ErrorData::internal_error(
                    "the report failed",
                    None,
                ))),
                "wait" => match cancelled {
                    Some(cx) => {
                        cx.cancelled().await;
                        Err(TaskExit::Cancelled)
                    }
                    None => Err(TaskExit::Cancelled),
                },
                other => Err(TaskExit::Error(ErrorData::invalid_params(
                    format!("unknown ending {other:?}"),
                    None,
                ))),
            }
        };
        if declares_tasks(&RequestMetaObject(meta)) {
            let options = TaskOptions::new().with_poll_interval_ms(20);
            let task = tasks().spawn(options, move |cx| {
                tracked("report", Box::pin(work(Some(cx))))
            });
            return Ok(CallToolResponse::Task(CreateTaskResult::new(task)));
        }
        match work(None).await {
            Ok(result) => Ok(result.into()),
            Err(TaskExit::Error(e)) => Err(e),
            Err(TaskExit::Cancelled) => Ok(CallToolResult::error(vec![ContentBlock::text(
                "a report that waits for cancellation needs the tasks extension",
            )])
            .into()),
        }
    }
}

/// Sends `elicitation/create` to the client: observed (a CLIENT span, its duration and the
/// answer's action) when the server is instrumented.
async fn elicit(
    peer: &rmcp::Peer<RoleServer>,
    params: ElicitRequestParams,
) -> Result<ElicitResult, rmcp::service::ServiceError> {
    #[cfg(feature = "instrumented")]
    {
        use mcp_metrics::rmcp::PeerExt as _;
        peer.observed().create_elicitation(params).await
    }
    #[cfg(not(feature = "instrumented"))]
    {
        let request = rmcp::model::ServerRequest::ElicitRequest(ElicitRequest::new(params));
        match peer.send_request(request).await? {
            rmcp::model::ClientResult::ElicitResult(result) => Ok(result),
            _ => Err(rmcp::service::ServiceError::UnexpectedResponse),
        }
    }
}

/// A task's operation, tracked in the task metrics when the server is instrumented: with
/// metrics compiled out, the facade has no rmcp integration to call.
fn tracked(tool: &'static str, future: TaskFuture) -> TaskFuture {
    #[cfg(feature = "instrumented")]
    return mcp_metrics::rmcp::track_task(tool, future);
    #[cfg(not(feature = "instrumented"))]
    {
        let _ = tool;
        future
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_tasks()
                .build(),
        )
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.supported_by(&self.get_info().capabilities))
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        Ok(GetTaskResult::new(tasks().get_task(&request.task_id)?))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        tasks().update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        tasks().cancel_task(&request.task_id)
    }
}
