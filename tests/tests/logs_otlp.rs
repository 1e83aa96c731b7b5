//! `tracing` events exported as OTLP log records, received by the shared OTLP receiver
//! (`mcp_metrics_tests::otlp`, a stand-in for an OpenTelemetry Collector, of which no binary is
//! available here) and decoded with the OTLP proto definitions:
//!
//! - the example server, called by the official Python SDK client: one audit record per tool
//!   call, in the trace the client sent in `_meta`, with the span id of the server span, the
//!   audit fields as attributes and nothing of the arguments (the example configures no capture);
//!   the resource of its spans;
//! - an rmcp server in this process, over OTLP/HTTP and over OTLP/gRPC: a tool's own event with
//!   the ids of the tool span, the audit record with the captured (redacted) arguments, and the
//!   same records through both transports;
//! - a bad `OTEL_BLRP_*` or logs endpoint stops the example server with an error naming it.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use mcp_metrics::mcp_tool;
use mcp_metrics::rmcp::{Capture, Instrumented, Options};
use mcp_metrics_exporter::telemetry::TelemetryBuilder;
use mcp_metrics_tests::harness::{ExampleServer, eventually, example_bin, python_script};
use mcp_metrics_tests::otlp::{Captured, Receiver, body_str, hex, is_server, string_value, value};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientConfig, RequestMetaObject};
use rmcp::{ClientHandler, ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

/// The scope of audit records: the target of audit events.
const AUDIT: &str = "mcp_metrics::audit";

/// The attributes every audit record has.
const AUDIT_FIELDS: [&str; 7] = [
    "time",
    "tool",
    "outcome",
    "duration_ms",
    "request_id",
    "protocol_version",
    "trace_id",
];

/// Every text a log record carries: body and attribute values.
fn all_text(record: &LogRecord) -> String {
    let mut out = format!("{:?} ", record.body);
    for kv in &record.attributes {
        out.push_str(&format!("{}={:?} ", kv.key, kv.value));
    }
    out
}

/// The string attribute `key` of a record.
fn attr(record: &LogRecord, key: &str) -> Option<String> {
    string_value(&record.attributes, key)
}

/// Checks what every audit record says: severity, body, the fields, and the trace id attribute
/// that repeats the record's own.
fn check_audit(record: &LogRecord) {
    assert_eq!(record.severity_text, "INFO");
    assert_eq!(record.severity_number, 9, "SEVERITY_NUMBER_INFO");
    assert_eq!(body_str(record), Some("tool call"));
    for field in AUDIT_FIELDS {
        assert!(attr(record, field).is_some(), "{field}: {record:?}");
    }
    assert!(
        matches!(
            value(&record.attributes, "duration_ms"),
            Some(AnyValue::DoubleValue(ms)) if *ms > 0.0
        ),
        "{record:?}"
    );
    assert_eq!(attr(record, "trace_id"), Some(hex(&record.trace_id)));
    assert_eq!(record.span_id.len(), 8, "{record:?}");
}

/// The example server's resource attributes, as a map.
fn resource_of(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| Some((kv.key.clone(), string_value(attributes, &kv.key)?)))
        .collect()
}

#[test]
fn the_example_server_exports_each_tool_call_in_the_callers_trace() {
    let receiver = Receiver::start();
    let base = receiver.base_url();
    let mut server = ExampleServer::start(
        "http-server",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
            ("OTEL_SERVICE_NAME", "logs-e2e"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
            ("MCP_METRICS_AUDIT", "true"),
            ("RUST_LOG", "info,rmcp=warn"),
            ("MCP_LOG_FORMAT", "none"),
        ],
    );
    let script = serde_json::json!([
        {"tool": "add", "arguments": {"a": 2, "b": 40}},
        {"tool": "lookup", "arguments": {"key": "root-secret-key"}},
    ]);
    let out = python_script("client.py", &[&server.url("/mcp"), &script.to_string()])
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.traces_url())
        .output()
        .expect("the Python client runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The records of both calls, however the batches fall.
    let audit = eventually(Duration::from_secs(15), || {
        let audit: Vec<LogRecord> = receiver
            .log_records()
            .into_iter()
            .filter(|(scope, _)| scope == AUDIT)
            .map(|(_, record)| record)
            .collect();
        (audit.len() >= 2).then_some(audit)
    })
    .expect("two audit records");
    assert!(server.proc.terminate(Duration::from_secs(10)));
    assert_eq!(audit.len(), 2, "one record per tool call: {audit:?}");

    let spans = receiver.spans();
    for (record, tool, outcome) in [
        (&audit[0], "add", "success"),
        (&audit[1], "lookup", "tool_error"),
    ] {
        check_audit(record);
        assert_eq!(attr(record, "tool").as_deref(), Some(tool));
        assert_eq!(attr(record, "outcome").as_deref(), Some(outcome));
        assert!(attr(record, "client_name").is_some(), "{record:?}");
        // Nothing of the arguments without capture.
        assert_eq!(attr(record, "arguments"), None);
        assert!(!all_text(record).contains("root-secret-key"), "{record:?}");
        for argument in ["a", "b", "key"] {
            assert_eq!(attr(record, argument), None, "{record:?}");
        }
        // The client's span of this call, and the server span that continued its trace.
        let client = spans
            .iter()
            .find(|s| s.name == format!("MCP send tools/call {tool}"))
            .unwrap_or_else(|| panic!("the client span of {tool}"));
        assert_eq!(record.trace_id, client.trace_id, "the caller's trace");
        let server_span: &Span = spans
            .iter()
            .find(|s| is_server(s) && s.name == format!("tools/call {tool}"))
            .unwrap_or_else(|| panic!("the server span of {tool}"));
        assert_eq!(server_span.parent_span_id, client.span_id);
        assert_eq!(
            record.span_id, server_span.span_id,
            "emitted in the request span"
        );
    }
    assert_eq!(attr(&audit[1], "fault").as_deref(), Some("client"));

    // The resource of the records is that of the server's spans.
    let log_resource = receiver.log_requests()[0].resource_logs[0]
        .resource
        .clone()
        .expect("a resource");
    let server_resource = receiver
        .trace_requests()
        .into_iter()
        .flat_map(|r| r.resource_spans)
        .find_map(|rs| {
            let resource = rs.resource?;
            (string_value(&resource.attributes, "service.name").as_deref() == Some("logs-e2e"))
                .then_some(resource)
        })
        .expect("the server's spans");
    let logs = resource_of(&log_resource.attributes);
    assert_eq!(
        logs.get("service.name").map(String::as_str),
        Some("logs-e2e")
    );
    assert!(logs.contains_key("service.instance.id"), "{logs:?}");
    assert_eq!(logs, resource_of(&server_resource.attributes));
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Div {
    a: i64,
    b: i64,
    /// Captured, but redacted.
    note: String,
}

#[derive(Clone)]
struct Calc {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Calc {
    /// Divides.
    #[mcp_tool]
    #[tool]
    async fn divide(
        &self,
        Parameters(Div { a, b, note }): Parameters<Div>,
    ) -> Result<String, ErrorData> {
        let _ = note;
        tracing::info!(a, b, "dividing");
        if b == 0 {
            return Err(ErrorData::invalid_params("division by zero", None));
        }
        Ok((a / b).to_string())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calc {}

#[derive(Clone)]
struct Client;
impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

/// The trace ids the two calls continue.
const TRACES: [&str; 2] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "0af7651916cd43dd8448eb211c80319c",
];

/// The divisors of the two calls: the second is refused.
const DIVISORS: [i64; 2] = [5, 0];

/// The crates of the export path, which log at `trace` while they export.
const EXPORT_PATH: [&str; 5] = ["h2", "hyper", "tonic", "tower", "opentelemetry"];

/// Whether `target` is of a crate of the export path.
fn of_export_path(target: &str) -> bool {
    EXPORT_PATH.iter().any(|c| target.starts_with(c))
}

/// What one run received and logged.
struct Run {
    records: Vec<(String, LogRecord)>,
    spans: Vec<Span>,
    /// The targets of the JSON log lines written.
    logged: Vec<String>,
}

/// Serves `Calc` with the audit trail and capture, under a pipeline that exports traces and logs
/// to a receiver over `protocol` and logs the export path at `trace`, calls `divide` twice (the
/// second divides by zero), each in a trace of [`TRACES`], and returns what was received.
async fn calls_over(protocol: &str) -> Run {
    let receiver = Receiver::start();
    let base = receiver.base_url();
    let filter = format!(
        "info,rmcp=warn,{}",
        EXPORT_PATH.map(|c| format!("{c}=trace")).join(",")
    );
    let lookup = |name: &str| {
        let value = match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => base.as_str(),
            "OTEL_EXPORTER_OTLP_PROTOCOL" => protocol,
            "OTEL_LOGS_EXPORTER" => "otlp",
            "OTEL_BLRP_SCHEDULE_DELAY" => "100",
            "MCP_LOG_FORMAT" => "json",
            "RUST_LOG" => filter.as_str(),
            _ => return None,
        };
        Some(value.to_owned())
    };
    let builder = TelemetryBuilder::new()
        .service_name("logs-in-process")
        .env(&lookup)
        .expect("valid variables");
    builder.install_propagators();
    let lines = Captured::default();
    let writer = lines.clone();
    let (subscriber, telemetry) = builder
        .build_with_writer(move || writer.clone())
        .expect("the pipeline builds");
    let default = tracing::subscriber::set_default(subscriber);
    let options = Options::new()
        .audit(true)
        .capture(Capture::new().redact(|v| {
            if let Some(note) = v.get_mut("note") {
                *note = "[redacted]".into();
            }
        }));
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let calc = Calc {
            tool_router: Calc::tool_router(),
        };
        let s = Instrumented::with_options(calc, options)
            .serve(server_io)
            .await
            .unwrap();
        s.waiting().await.unwrap();
    });
    let client = Client.serve(client_io).await.unwrap();
    for (trace, b) in TRACES.iter().zip(DIVISORS) {
        let mut params = CallToolRequestParams::new("divide").with_arguments(
            serde_json::json!({"a": 10, "b": b, "note": "s3cret-note"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let mut meta = RequestMetaObject::new();
        meta.set_traceparent(format!("00-{trace}-00f067aa0ba902b7-01"));
        params.meta = Some(meta);
        assert_eq!(client.call_tool(params).await.is_ok(), b != 0);
    }
    client.cancel().await.unwrap();
    server.await.unwrap();
    drop(default);
    // Off this thread, which drives the gRPC connection while the pipeline flushes.
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .expect("the pipeline shuts down");
    Run {
        records: receiver.log_records(),
        spans: receiver.spans(),
        logged: lines
            .lines()
            .iter()
            .filter_map(|l| Some(l["target"].as_str()?.to_owned()))
            .collect(),
    }
}

/// What two transports must deliver alike, in any order (records are grouped by scope): scope,
/// severity, body, trace id, and the attributes but the start time and duration of a call.
fn comparable(records: &[(String, LogRecord)]) -> Vec<String> {
    let mut comparable: Vec<String> = records
        .iter()
        .map(|(scope, r)| {
            let attributes: Vec<String> = r
                .attributes
                .iter()
                .filter(|kv| kv.key != "time" && kv.key != "duration_ms")
                .map(|kv| format!("{}={:?}", kv.key, kv.value))
                .collect();
            format!(
                "{scope} {} {} {:?} {} [{}]",
                r.severity_number,
                r.severity_text,
                body_str(r),
                hex(&r.trace_id),
                attributes.join(", ")
            )
        })
        .collect();
    comparable.sort();
    comparable
}

/// Checks the records of one run: the tool's event in the tool span, the audit record in the
/// request span with the redacted arguments, nothing of the export path.
fn check_in_process(run: &Run) {
    let (records, spans) = (&run.records, &run.spans);
    let dividing: Vec<&LogRecord> = records
        .iter()
        .filter(|(_, r)| body_str(r) == Some("dividing"))
        .map(|(_, r)| r)
        .collect();
    let audit: Vec<&LogRecord> = records
        .iter()
        .filter(|(scope, _)| scope == AUDIT)
        .map(|(_, r)| r)
        .collect();
    assert_eq!((dividing.len(), audit.len()), (2, 2), "{records:?}");
    for (i, trace) in TRACES.iter().enumerate() {
        let in_trace = |s: &&Span| hex(&s.trace_id) == *trace;
        let tool = spans
            .iter()
            .filter(in_trace)
            .find(|s| s.name == "execute_tool divide")
            .expect("the tool span");
        let request = spans
            .iter()
            .filter(in_trace)
            .find(|s| is_server(s))
            .expect("the request span");
        let event = dividing[i];
        assert_eq!(hex(&event.trace_id), *trace);
        assert_eq!(
            event.span_id, tool.span_id,
            "the event of the tool, in its span"
        );
        assert_eq!(
            value(&event.attributes, "b"),
            Some(&AnyValue::IntValue(DIVISORS[i]))
        );
        assert_eq!(event.severity_number, 9);
        let record = audit[i];
        check_audit(record);
        assert_eq!(hex(&record.trace_id), *trace);
        assert_eq!(record.span_id, request.span_id);
        let arguments: serde_json::Value =
            serde_json::from_str(&attr(record, "arguments").expect("captured arguments")).unwrap();
        assert_eq!(
            arguments,
            serde_json::json!({"a": 10, "b": DIVISORS[i], "note": "[redacted]"})
        );
        assert!(!all_text(record).contains("s3cret"), "{record:?}");
    }
    assert_eq!(attr(audit[1], "error_type").as_deref(), Some("-32602"));
    // The export path logs to standard error, but is never exported.
    let scopes: Vec<&str> = records.iter().map(|(s, _)| s.as_str()).collect();
    assert!(!scopes.iter().any(|s| of_export_path(s)), "{scopes:?}");
    assert!(
        run.logged.iter().any(|t| t.as_str() == AUDIT),
        "{:?}",
        run.logged
    );
}

#[tokio::test(flavor = "current_thread")]
async fn http_and_grpc_deliver_the_same_records_with_the_ids_of_their_spans() {
    let http = calls_over("http/protobuf").await;
    check_in_process(&http);
    let grpc = calls_over("grpc").await;
    check_in_process(&grpc);
    // The gRPC exporter runs on this thread's runtime, where its connection logs.
    assert!(
        grpc.logged.iter().any(|t| of_export_path(t)),
        "{:?}",
        grpc.logged
    );
    assert_eq!(comparable(&http.records), comparable(&grpc.records));
}

/// The example server's first line on standard error when it refuses `var=value`.
fn refused(var: &str, value: &str) -> String {
    let out = std::process::Command::new(example_bin("http-server"))
        .env("MCP_BIND", "127.0.0.1:0")
        .env(var, value)
        .stdin(Stdio::null())
        .output()
        .expect("the example starts");
    assert!(!out.status.success(), "{var}={value} was accepted");
    assert!(out.stdout.is_empty(), "it never listened");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_logs_variable_stops_the_server_with_its_name() {
    for (var, value) in [
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "lots"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "1s"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4318"),
        ("OTEL_LOGS_EXPORTER", "syslog"),
    ] {
        let error = refused(var, value);
        assert!(error.contains(var), "{var}: {error}");
        assert!(error.contains(value), "{var}: {error}");
    }
}
