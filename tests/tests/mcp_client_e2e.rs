//! The http-server example driven by the real Python MCP client (PyPI `mcp`), then scraped:
//! exact counts per tool and outcome from both layers, with the caller's client name and whose
//! fault each failure was; sessions and in-flight back to 0.

use mcp_metrics_tests::harness::{
    ExampleServer, eventually, get, sample, with_example_risk, workspace_root,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn python() -> PathBuf {
    let path = std::env::var_os("MCP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with the `mcp` package at {}: run `bash .ci/run`, or set MCP_TEST_PYTHON",
        path.display()
    );
    path
}

fn run_client(url: &str, calls: &Value) -> Value {
    run_script("client.py", &[url, &calls.to_string()])
}

fn run_script(script: &str, args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(workspace_root().join("tests/python").join(script))
        .args(args)
        .output()
        .expect("run the Python client");
    assert!(
        out.status.success(),
        "client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

#[test]
fn python_client_calls_are_counted_exactly() {
    let server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "prometheus"),
            ("MCP_METRICS_CLIENT_NAMES", "mcp"),
        ],
    );
    let calls = json!([
        {"tool": "add", "arguments": {"a": 2, "b": 3}},
        {"tool": "add", "arguments": {"a": -1, "b": 1}},
        {"tool": "lookup", "arguments": {"key": "alpha"}},
        {"tool": "lookup", "arguments": {"key": "missing"}},
        {"tool": "lookup", "arguments": {"key": "root"}},
        {"tool": "validate", "arguments": {"text": "   "}},
        {"tool": "validate", "arguments": {"text": "fine"}},
        {"tool": "slow", "arguments": {"millis": 30}},
        {"tool": "crash", "arguments": {}},
        {"tool": "no_such_tool", "arguments": {}},
        {"tool": "add", "arguments": {"a": "not a number", "b": 1}}
    ]);
    let report = run_client(&server.url("/mcp"), &calls);

    // What the client saw.
    assert_eq!(
        report["tools"],
        json!([
            "add",
            "approve",
            "confirm",
            "crash",
            "lookup",
            "report",
            "slow",
            "summarize",
            "validate"
        ])
    );
    let seen = report["calls"].as_array().expect("calls");
    assert_eq!(seen.len(), 11);
    assert_eq!(
        seen[0],
        json!({"tool": "add", "is_error": false, "text": "5"})
    );
    assert_eq!(seen[3]["is_error"], json!(true));
    assert_eq!(seen[5]["is_error"], json!(true));
    assert_eq!(
        seen[8]["error_code"],
        json!(-32603),
        "a panicking tool still gets an answer"
    );
    assert_eq!(seen[9]["error_code"], json!(-32602));
    assert_eq!(seen[10]["is_error"], json!(true));

    // The client closed its session: the gauge is back to 0 once the server drops it.
    let text = eventually(Duration::from_secs(10), || {
        let (status, text) = get(&server.url("/metrics"), &[]);
        assert_eq!(status, 200);
        let labels = [("client_name", "mcp")];
        (sample(&text, "mcp_server_sessions_active", &labels) == Some(0.0)).then_some(text)
    })
    .expect("mcp_server_sessions_active back to 0");
    let v =
        |name: &str, labels: &[(&str, &str)]| sample(&text, name, &with_example_risk(name, labels));

    // The function layer, `#[mcp_tool]`.
    let calls_total = "mcp_tool_duration_seconds_count";
    assert_eq!(
        v(calls_total, &[("tool", "add"), ("outcome", "success")]),
        Some(2.0)
    );
    assert_eq!(
        v(calls_total, &[("tool", "lookup"), ("outcome", "success")]),
        Some(1.0)
    );
    let err = |kind| {
        [
            ("tool", "lookup"),
            ("outcome", "error"),
            ("error_type", kind),
            ("fault", "server"),
        ]
    };
    assert_eq!(v(calls_total, &err("not_found")), Some(1.0));
    assert_eq!(v(calls_total, &err("forbidden")), Some(1.0));
    let tool_error = [
        ("tool", "validate"),
        ("outcome", "tool_error"),
        ("error_type", "tool_error"),
        ("fault", "client"),
    ];
    assert_eq!(v(calls_total, &tool_error), Some(1.0));
    assert_eq!(
        v(calls_total, &[("tool", "validate"), ("outcome", "success")]),
        Some(1.0)
    );
    assert_eq!(
        v(calls_total, &[("tool", "slow"), ("outcome", "success")]),
        Some(1.0)
    );
    let panic = [
        ("tool", "crash"),
        ("outcome", "panic"),
        ("error_type", "panic"),
        ("fault", "server"),
    ];
    assert_eq!(v(calls_total, &panic), Some(1.0));
    // Neither the unknown tool nor the bad arguments reached a function.
    let function_calls: f64 = text
        .lines()
        .filter(|l| l.starts_with("mcp_tool_duration_seconds_count{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(function_calls, 9.0, "{text}");
    for tool in ["add", "lookup", "validate", "slow", "crash"] {
        assert_eq!(
            v("mcp_tool_calls_in_flight", &[("tool", tool)]),
            Some(0.0),
            "{tool}"
        );
    }
    let slow = [("tool", "slow"), ("outcome", "success")];
    assert!(v("mcp_tool_duration_seconds_sum", &slow).expect("slow sum") >= 0.03);

    // The request layer, `Instrumented`: what the client got, whose fault, which client (the
    // Python SDK's `mcp`, on the allow-list).
    let ops = "mcp_server_operation_duration_seconds_count";
    let call = |tool, outcome, error: Option<(&'static str, &'static str)>| {
        let mut labels = vec![
            ("method", "tools/call"),
            ("tool", tool),
            ("outcome", outcome),
            ("client_name", "mcp"),
            ("protocol_version", "2025-11-25"),
            ("network_transport", "tcp"),
        ];
        if let Some((error_type, fault)) = error {
            labels.push(("error_type", error_type));
            labels.push(("fault", fault));
        }
        v(ops, &labels)
    };
    let tool_error = Some(("tool_error", "client"));
    assert_eq!(call("add", "success", None), Some(2.0));
    assert_eq!(
        call("add", "tool_error", tool_error),
        Some(1.0),
        "bad arguments are a tool error in rmcp"
    );
    assert_eq!(call("lookup", "tool_error", tool_error), Some(2.0));
    assert_eq!(call("lookup", "success", None), Some(1.0));
    assert_eq!(call("validate", "tool_error", tool_error), Some(1.0));
    assert_eq!(
        call("crash", "error", Some(("-32603", "server"))),
        Some(1.0),
        "a panic is the server's fault"
    );
    assert_eq!(
        call("_unknown", "error", Some(("-32602", "client"))),
        Some(1.0),
        "the unknown name is not a label, and the caller's fault"
    );
    assert!(!text.contains("no_such_tool"));
    let method = |m| {
        v(
            ops,
            &[
                ("method", m),
                ("outcome", "success"),
                ("client_name", "mcp"),
                ("protocol_version", "2025-11-25"),
                ("network_transport", "tcp"),
            ],
        )
    };
    assert_eq!(method("initialize"), Some(1.0));
    assert_eq!(method("notifications/initialized"), Some(1.0));
    assert_eq!(method("tools/list"), Some(1.0));
    assert_eq!(
        v(
            "mcp_server_session_duration_seconds_count",
            &[("client_name", "mcp"), ("end_reason", "client_delete")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("mcp_server_sessions_active", &[("client_name", "mcp")]),
        Some(0.0)
    );
    assert_eq!(v("mcp_registered_tools", &[]), Some(9.0));

    // The server shuts down cleanly on SIGTERM.
    let mut server = server;
    assert!(
        server.proc.terminate(Duration::from_secs(10)),
        "the server stops on SIGTERM"
    );
}

/// The Python SDK at 2026-07-28: no session, the client named in each request's `_meta`, a
/// multi-round-trip request answered and retried.
#[test]
fn python_client_at_2026_07_28_is_attributed_per_request() {
    let server = ExampleServer::start(
        "http-server",
        &[
            ("MCP_METRICS_EXPORTER", "prometheus"),
            ("MCP_METRICS_CLIENT_NAMES", "python-modern"),
        ],
    );
    let report = run_script("modern_client.py", &[&server.url("/mcp")]);
    assert_eq!(
        report,
        json!({"protocol": "2026-07-28", "sum": "42", "asked": true, "confirmed": "ship: confirmed"})
    );
    let (status, text) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200);
    let ops = |method: &str, tool: Option<&str>, outcome: &str| {
        let mut labels = vec![
            ("method", method),
            ("outcome", outcome),
            ("client_name", "python-modern"),
            ("protocol_version", "2026-07-28"),
            ("network_transport", "tcp"),
        ];
        if let Some(tool) = tool {
            labels.push(("tool", tool));
        }
        let name = "mcp_server_operation_duration_seconds_count";
        sample(&text, name, &with_example_risk(name, &labels))
    };
    assert_eq!(ops("server/discover", None, "success"), Some(1.0));
    assert_eq!(ops("tools/call", Some("add"), "success"), Some(1.0));
    assert_eq!(
        ops("tools/call", Some("confirm"), "input_required"),
        Some(1.0)
    );
    assert_eq!(ops("tools/call", Some("confirm"), "success"), Some(1.0));
    let retry = [
        ("method", "tools/call"),
        ("tool", "confirm"),
        ("outcome", "success"),
    ];
    assert_eq!(
        sample(&text, "mcp_server_input_retries_total", &retry),
        Some(1.0)
    );
    assert!(
        !text.contains("mcp_server_sessions_active{"),
        "no session at 2026-07-28:\n{text}"
    );
}
