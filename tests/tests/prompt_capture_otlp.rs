//! Prompt variables and the client's view of tool calls on the request spans, exported over OTLP
//! to a receiver on 127.0.0.1, from an instrumented rmcp server and an instrumented rmcp client in
//! one process: without capture no `gen_ai.prompt.variable.*`, no `gen_ai.tool.call.*` and no
//! argument value on any span; with capture on the server (`Options::capture`) and on the client
//! (`InstrumentedTransport::with_capture`), each side's `prompts/get` span carries one
//! `gen_ai.prompt.variable.<name>` per argument, redacted and capped like tool arguments, and the
//! client's `tools/call` span the arguments and result.

use mcp_metrics::rmcp::client::InstrumentedTransport;
use mcp_metrics::rmcp::{Capture, Instrumented, Options};
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::otlp::{Receiver, all_text, attr_str};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, ListPromptsResult, ListToolsResult, PaginatedRequestParams,
    Prompt, PromptMessage, Role, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::{Value, json};

const SECRET: &str = "SECRET-51d0e2";
/// The cap of every captured value in this test, in bytes.
const CAP: usize = 64;

/// A server with one prompt and one tool, both of which repeat what they were given.
#[derive(Clone)]
struct Greeter;

impl ServerHandler for Greeter {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object"});
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "login",
            "Logs in",
            schema.as_object().unwrap().clone(),
        )]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        Ok(CallToolResponse::Complete(CallToolResult::success(vec![
            ContentBlock::text(arguments.to_string()),
        ])))
    }

    async fn list_prompts(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(vec![Prompt::new(
            "greet",
            Some("Greets a user"),
            None,
        )]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        Ok(GetPromptResponse::Complete(GetPromptResult::new(vec![
            PromptMessage::new(Role::User, ContentBlock::text(format!("hello {arguments}"))),
        ])))
    }
}

/// Replaces every string that holds a secret, wherever it is.
fn redact(value: &mut Value) {
    match value {
        Value::String(s) if s.contains("SECRET") => *s = "[redacted]".into(),
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(fields) => fields.values_mut().for_each(redact),
        _ => {}
    }
}

/// The arguments of both calls of a round.
fn arguments(user: &str) -> serde_json::Map<String, Value> {
    json!({
        "user_name": user,
        "api_key": SECRET,
        "notes": format!("{user}-{}", "x".repeat(1000)),
        "count": 3,
    })
    .as_object()
    .unwrap()
    .clone()
}

/// Serves `Greeter` with `server` options to a client capturing with `client`, over an in-memory
/// pipe, and gets the prompt and calls the tool once each as `user`.
async fn round(server: Options, client: Option<Capture>, user: &str) {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let serving = tokio::spawn(async move {
        let running = Instrumented::with_options(Greeter, server)
            .serve(server_io)
            .await
            .unwrap();
        running.waiting().await.unwrap();
    });
    let mut transport = InstrumentedTransport::new(client_io)
        .with_tool_names(["login"])
        .with_prompt_names(["greet"]);
    if let Some(capture) = client {
        transport = transport.with_capture(capture);
    }
    let client = ().serve(transport).await.unwrap();
    client
        .get_prompt(GetPromptRequestParams::new("greet").with_arguments(arguments(user)))
        .await
        .unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new("login").with_arguments(arguments(user)))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    client.cancel().await.unwrap();
    serving.await.unwrap();
}

fn capture() -> Capture {
    Capture::new().max_bytes(CAP).redact(redact)
}

/// The spans of `method` of `kind`.
fn spans_of<'a>(spans: &'a [Span], method: &str, kind: SpanKind) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.kind == kind as i32)
        .filter(|s| attr_str(s, "mcp.method.name").as_deref() == Some(method))
        .collect()
}

/// The `gen_ai.prompt.variable.*` attributes of `span`, by variable name.
fn variables(span: &Span) -> std::collections::BTreeMap<String, String> {
    span.attributes
        .iter()
        .filter_map(|a| {
            let name = a.key.strip_prefix("gen_ai.prompt.variable.")?;
            Some((name.to_owned(), attr_str(span, &a.key)?))
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn prompt_variables_and_client_calls_are_captured_only_when_asked() {
    let receiver = Receiver::start();
    let (subscriber, telemetry) = TelemetryBuilder::new()
        .service_name("prompt-capture")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::None)
        // rmcp logs whole messages at debug: it stays at info, as it must in production.
        .filter("debug,rmcp=info")
        .unwrap()
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);

    // Default options on both sides: nothing captured.
    round(Options::new(), None, "plain-user").await;
    // Capture on both sides, with redaction and a small cap.
    round(Options::new().capture(capture()), Some(capture()), "Alice").await;
    telemetry.shutdown();

    let spans = receiver.spans();
    for span in &spans {
        let text = all_text(span);
        assert!(!text.contains(SECRET), "a secret left the process: {text}");
        assert!(
            !text.contains("plain-user"),
            "an argument left the process without capture: {text}"
        );
    }

    for kind in [SpanKind::Server, SpanKind::Client] {
        let prompts = spans_of(&spans, "prompts/get", kind);
        assert_eq!(prompts.len(), 2, "{kind:?}: one per round");
        let captured: Vec<_> = prompts
            .iter()
            .map(|s| variables(s))
            .filter(|v| !v.is_empty())
            .collect();
        assert_eq!(captured.len(), 1, "{kind:?}: only the round with capture");
        let variables = &captured[0];
        assert_eq!(
            variables.keys().collect::<Vec<_>>(),
            ["api_key", "count", "notes", "user_name"],
            "{kind:?}"
        );
        assert_eq!(variables["user_name"], "Alice", "{kind:?}: a string as is");
        assert_eq!(variables["count"], "3", "{kind:?}: anything else as JSON");
        assert_eq!(variables["api_key"], "[redacted]", "{kind:?}");
        let notes = &variables["notes"];
        assert!(
            notes.len() <= CAP,
            "{kind:?}: capped: {} bytes",
            notes.len()
        );
        assert!(
            notes.starts_with("Alice-xxx") && notes.ends_with('…'),
            "{notes}"
        );
    }

    // The client's tool calls: arguments and result only under its own capture.
    let calls = spans_of(&spans, "tools/call", SpanKind::Client);
    assert_eq!(calls.len(), 2);
    let captured: Vec<_> = calls
        .iter()
        .filter_map(|s| Some((s, attr_str(s, "gen_ai.tool.call.arguments")?)))
        .collect();
    assert_eq!(captured.len(), 1, "only the round with capture");
    let (call, arguments) = &captured[0];
    assert!(arguments.len() <= CAP, "capped: {arguments}");
    assert!(arguments.ends_with('…'), "{arguments}");
    assert!(
        arguments.contains("\"api_key\":\"[redacted]\""),
        "{arguments}"
    );
    let result = attr_str(call, "gen_ai.tool.call.result").expect("the result is captured");
    assert!(result.len() <= CAP, "capped: {result}");
    assert!(result.starts_with("{\"content\":"), "{result}");
}
