//! The audit-trail example (`cargo run -p mcp-metrics --example audit-trail -- FILE`): its JSON
//! lines file holds exactly one audit event per tool call, with the documented fields, the
//! redacted arguments, and nothing else. Each line's start time and duration are checked against
//! the clocks of the test, which times the example's whole run from outside.

use mcp_metrics_tests::harness::workspace_root;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

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

/// A call's start (`time`) and end (`time` + `duration_ms`), with the start truncated to the
/// millisecond as written.
fn call_span(line: &serde_json::Value) -> (SystemTime, Duration) {
    let time = line["time"].as_str().expect("time");
    let started = time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("time {time:?} is not RFC 3339: {e}"));
    let ms = line["duration_ms"]
        .as_f64()
        .expect("duration_ms is a number");
    assert!(ms > 0.0, "a call takes time: duration_ms {ms}");
    (started.into(), Duration::from_secs_f64(ms / 1e3))
}

/// The calls ran one after the other inside the example's run: each starts after the run began
/// and after the call before it ended, and ends before the run ended, so their durations add up
/// to less than the run. `time` is truncated to the millisecond: a call may have started up to
/// 1 ms after it says, never before.
fn check_call_times(
    lines: &[serde_json::Value],
    launched: SystemTime,
    exited: SystemTime,
    run: Duration,
) {
    let truncation = Duration::from_millis(1);
    let mut previous_end = launched;
    let mut total = Duration::ZERO;
    for (i, line) in lines.iter().enumerate() {
        let (started, duration) = call_span(line);
        assert!(
            started + truncation >= previous_end,
            "call {i} starts at {started:?}, before {previous_end:?}: {line}"
        );
        let end = started + duration;
        assert!(
            end <= exited,
            "call {i} ends at {end:?}, after the example exited at {exited:?}: {line}"
        );
        previous_end = end;
        total += duration;
    }
    assert!(
        total <= run,
        "the calls took {total:?} in all, longer than the example's run of {run:?}"
    );
}

#[test]
fn audit_example_writes_one_json_line_per_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let example = audit_example();
    let (launched, clock) = (SystemTime::now(), Instant::now());
    let out = Command::new(example)
        .arg(&file)
        .output()
        .expect("run the example");
    let (exited, run) = (SystemTime::now(), clock.elapsed());
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
        let time = line["time"].as_str().expect("time");
        assert_eq!(time.len(), "2026-07-28T12:34:56.789Z".len(), "{time}");
        assert!(time.ends_with('Z'));
        assert!(line["request_id"].is_string());
    }
    check_call_times(&lines, launched, exited, run);
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
