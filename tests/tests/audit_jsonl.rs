//! The audit-trail example (`cargo run -p mcp-metrics --example audit-trail -- FILE`): its JSON
//! lines file holds exactly one audit event per tool call, with the documented fields, the
//! redacted arguments, and nothing else.

use mcp_metrics_tests::harness::workspace_root;
use std::path::PathBuf;
use std::process::Command;

fn audit_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "-p", "mcp-metrics", "--example", "audit-trail"])
        .output()
        .expect("cargo build starts");
    assert!(
        out.status.success(),
        "building the example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join("examples").join("audit-trail")
}

#[test]
fn audit_example_writes_one_json_line_per_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let out = Command::new(audit_example())
        .arg(&file)
        .output()
        .expect("run the example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        file.display().to_string()
    );

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("open sesame"), "no password: {text}");
    assert!(!text.contains("guess"), "no password: {text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    for line in &lines {
        assert_eq!(line["target"], "mcp_metrics::audit");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "tool call");
        assert_eq!(line["client_name"], "audit-example");
        assert_eq!(line["client_version"], "1.0");
        assert_eq!(line["protocol_version"], "2025-11-25");
        assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
        let time = line["time"].as_str().expect("time");
        assert_eq!(time.len(), "2026-07-28T12:34:56.789Z".len(), "{time}");
        assert!(time.ends_with('Z'));
        assert!(line["request_id"].is_string());
    }
    let fields = |i: usize| {
        let l = &lines[i];
        (
            l["tool"].as_str().unwrap_or_default(),
            l["outcome"].as_str().unwrap_or_default(),
            l["error_type"].as_str(),
            l["fault"].as_str(),
        )
    };
    assert_eq!(fields(0), ("login", "success", None, None));
    assert_eq!(
        fields(1),
        ("login", "tool_error", Some("tool_error"), Some("client"))
    );
    assert_eq!(
        fields(2),
        ("logout", "error", Some("-32602"), Some("client"))
    );
    let arguments: serde_json::Value =
        serde_json::from_str(lines[0]["arguments"].as_str().expect("captured arguments")).unwrap();
    assert_eq!(
        arguments,
        serde_json::json!({"user": "ada", "password": "[redacted]"})
    );
    assert!(
        lines[2].get("arguments").is_none(),
        "a call without arguments has none"
    );
}
