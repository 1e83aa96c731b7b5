//! Tool-call arguments and results on the request span, exported over OTLP to a receiver on
//! 127.0.0.1: no argument value appears in any exported span unless capture is configured, and
//! when it is, the redaction function is applied to arguments and results and the size cap holds.
//! Request spans are roots linked to the transport's span.

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::{Capture, Instrumented, Options};
use mcp_metrics_exporter::telemetry::{LogFormat, OtlpProtocol, TelemetryBuilder};
use mcp_metrics_tests::otlp::{Receiver, all_text, attr_str, is_server};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::CallToolRequestParams;
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const SECRET: &str = "SECRET-7f3a9c";

#[derive(Debug, Deserialize, JsonSchema)]
struct Login {
    user: String,
    api_key: String,
}

#[derive(Clone)]
struct Accounts {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Accounts {
    /// Logs a user in; the answer repeats the key, as careless tools do.
    #[mcp_tool]
    #[tool]
    async fn login(
        &self,
        Parameters(Login { user, api_key }): Parameters<Login>,
    ) -> Result<String, String> {
        if api_key.is_empty() {
            return Err("no key".into());
        }
        Ok(format!("{user} logged in with {api_key}"))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Accounts {}

/// Serves `Accounts` with `options` over an in-memory pipe and makes one call per user.
async fn call_as(options: Options, users: &[&str]) {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        let running = Instrumented::with_options(
            Accounts {
                tool_router: Accounts::tool_router(),
            },
            options,
        )
        .serve(server_io)
        .await
        .unwrap();
        running.waiting().await.unwrap();
    });
    let client = ().serve(client_io).await.unwrap();
    for user in users {
        let arguments = json!({"user": user, "api_key": SECRET});
        let r = client
            .call_tool(
                CallToolRequestParams::new("login")
                    .with_arguments(arguments.as_object().cloned().unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(false));
    }
    client.cancel().await.unwrap();
    server.await.unwrap();
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

#[tokio::test(flavor = "current_thread")]
async fn arguments_leave_the_process_only_when_captured_and_redacted() {
    let receiver = Receiver::start();
    let (subscriber, telemetry) = TelemetryBuilder::new()
        .service_name("capture")
        .otlp_endpoint(&receiver.traces_url(), OtlpProtocol::HttpProtobuf)
        .unwrap()
        .log_format(LogFormat::None)
        // Everything of ours at debug. rmcp itself logs whole requests and responses at debug
        // ("received request", "response message"), which the OTLP layer exports as span
        // events, so it stays at info, as it must in production.
        .filter("debug,rmcp=info")
        .unwrap()
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(subscriber);

    // Default options: nothing captured.
    call_as(Options::new(), &["plain-user"]).await;
    // Capture with redaction, and a small cap for a long argument.
    let long_user = format!("long-user-{}", "x".repeat(4000));
    let capture = Capture::new().max_bytes(256).redact(redact);
    call_as(
        Options::new().capture(capture),
        &["captured-user", &long_user],
    )
    .await;
    telemetry.shutdown();

    let spans = receiver.spans();
    assert!(spans.len() >= 4, "{}", spans.len());
    for span in &spans {
        let text = all_text(span);
        assert!(!text.contains(SECRET), "a secret left the process: {text}");
        assert!(
            !text.contains("plain-user"),
            "an argument left the process without capture: {text}"
        );
    }

    // Without a client context a request span is a root; rmcp's connection span, current when
    // the handler runs, is a link and not the parent.
    let connections: Vec<&[u8]> = spans
        .iter()
        .filter(|s| s.name == "serve_inner")
        .map(|s| s.span_id.as_slice())
        .collect();
    assert!(!connections.is_empty(), "rmcp's spans are enabled at info");
    for span in spans.iter().filter(|s| is_server(s)) {
        let parent = spans.iter().find(|s| s.span_id == span.parent_span_id);
        assert!(
            span.parent_span_id.is_empty(),
            "{} has a parent: {:?}; attributes {:?}",
            span.name,
            parent.map(|p| (&p.name, p.kind)),
            span.attributes.iter().map(|a| &a.key).collect::<Vec<_>>()
        );
        // `initialize` is answered before rmcp's service loop (and its span) starts.
        let links = usize::from(span.name != "initialize");
        assert_eq!(span.links.len(), links, "{}", span.name);
        for link in &span.links {
            assert!(connections.contains(&link.span_id.as_slice()));
        }
    }

    let captured: Vec<_> = spans
        .iter()
        .filter(|s| is_server(s))
        .filter_map(|s| Some((s, attr_str(s, "gen_ai.tool.call.arguments")?)))
        .collect();
    assert_eq!(captured.len(), 2, "one per call with capture");
    let (span, arguments) = captured
        .iter()
        .find(|(_, a)| a.contains("captured-user"))
        .expect("the captured call");
    let arguments: Value = serde_json::from_str(arguments).expect("arguments are JSON");
    assert_eq!(
        arguments,
        json!({"user": "captured-user", "api_key": "[redacted]"})
    );
    let result = attr_str(span, "gen_ai.tool.call.result").expect("the result is captured");
    let result: Value = serde_json::from_str(&result).expect("the result is JSON");
    assert_eq!(
        result["content"][0]["text"], "[redacted]",
        "the redaction function sees the result too"
    );

    let (_, long) = captured
        .iter()
        .find(|(_, a)| a.contains("long-user"))
        .expect("the long call");
    assert!(long.len() <= 256, "capped: {} bytes", long.len());
    assert!(long.ends_with('…'));
}
