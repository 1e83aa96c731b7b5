//! Each outcome class, for sync and async functions, through an in-memory local recorder.
#![cfg(feature = "metrics")]

mod common;
use common::{record, record_async};
use mcp_metrics::{ErrorKind, mcp_tool};

#[derive(Debug, ErrorKind)]
enum LookupError {
    NotFound,
    #[allow(dead_code)]
    PermissionDenied {
        user: String,
    },
    #[error_kind("upstream")]
    Backend(#[allow(dead_code)] u16),
}

#[derive(Debug)]
struct Opaque;

#[mcp_tool(metrics)]
fn lookup(key: u32) -> Result<&'static str, LookupError> {
    match key {
        0 => Err(LookupError::NotFound),
        1 => Err(LookupError::Backend(503)),
        _ => Ok("value"),
    }
}

#[mcp_tool(metrics)]
async fn lookup_async(key: u32) -> Result<&'static str, LookupError> {
    tokio::task::yield_now().await;
    lookup(key)
}

#[mcp_tool(metrics)]
fn opaque(fail: bool) -> Result<u8, Opaque> {
    if fail { Err(Opaque) } else { Ok(1) }
}

#[mcp_tool(metrics)]
fn stringly(fail: bool) -> Result<String, String> {
    if fail {
        Err("bad input".to_owned())
    } else {
        Ok("ok".to_owned())
    }
}

#[mcp_tool(metrics)]
async fn stringly_async(fail: bool) -> Result<String, String> {
    if fail {
        Err("bad input".to_owned())
    } else {
        Ok("ok".to_owned())
    }
}

#[mcp_tool(metrics)]
fn plain(x: u64) -> u64 {
    x * 2
}

#[mcp_tool(metrics)]
fn unit() {}

#[test]
fn success_and_error_kinds_sync() {
    let (out, m) = record(|| (lookup(7), lookup(0), lookup(0), lookup(1)));
    assert_eq!(out.0.unwrap(), "value");
    assert!(matches!(out.1, Err(LookupError::NotFound)));
    assert_eq!(m.calls("lookup", "success", None), 1);
    assert_eq!(m.calls("lookup", "error", Some("not_found")), 2);
    assert_eq!(m.calls("lookup", "error", Some("upstream")), 1);
    assert_eq!(m.all_calls("lookup"), 4);
    assert_eq!(m.durations("lookup", "success").len(), 1);
    assert_eq!(m.durations("lookup", "error").len(), 3);
    assert!(
        m.durations("lookup", "error")
            .iter()
            .all(|s| *s >= 0.0 && *s < 1.0)
    );
    assert_eq!(m.in_flight("lookup"), 0.0);
}

#[test]
fn success_and_error_kinds_async() {
    let (out, m) = record_async(async { (lookup_async(7).await, lookup_async(0).await) });
    assert!(out.0.is_ok() && out.1.is_err());
    assert_eq!(m.calls("lookup_async", "success", None), 1);
    assert_eq!(m.calls("lookup_async", "error", Some("not_found")), 1);
    assert_eq!(m.in_flight("lookup_async"), 0.0);
    // the inner sync call is a tool of its own
    assert_eq!(m.all_calls("lookup"), 2);
}

#[test]
fn error_without_kind_is_other() {
    let (_, m) = record(|| (opaque(true), opaque(false)));
    assert_eq!(m.calls("opaque", "error", Some("_OTHER")), 1);
    assert_eq!(m.calls("opaque", "success", None), 1);
}

#[test]
fn err_string_is_tool_error() {
    let (_, m) = record(|| (stringly(true), stringly(false)));
    assert_eq!(m.calls("stringly", "tool_error", Some("tool_error")), 1);
    assert_eq!(m.calls("stringly", "success", None), 1);
    let (_, m) = record_async(async { stringly_async(true).await });
    assert_eq!(
        m.calls("stringly_async", "tool_error", Some("tool_error")),
        1
    );
    assert_eq!(m.durations("stringly_async", "tool_error").len(), 1);
}

#[test]
fn non_result_returns_are_success() {
    let (out, m) = record(|| {
        unit();
        plain(21)
    });
    assert_eq!(out, 42);
    assert_eq!(m.calls("plain", "success", None), 1);
    assert_eq!(m.calls("unit", "success", None), 1);
}

#[test]
fn nothing_recorded_without_recorder() {
    // No recorder at all: the call still works.
    assert_eq!(plain(2), 4);
}

#[test]
fn error_kind_derive_values() {
    assert_eq!(LookupError::NotFound.error_kind(), "not_found");
    assert_eq!(
        LookupError::PermissionDenied { user: "a".into() }.error_kind(),
        "permission_denied"
    );
    assert_eq!(LookupError::Backend(1).error_kind(), "upstream");
    #[derive(ErrorKind)]
    struct RateLimitedError;
    assert_eq!(RateLimitedError.error_kind(), "rate_limited_error");
}

#[test]
fn io_errors_have_kinds() {
    #[mcp_tool(metrics)]
    fn read() -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::NotFound))
    }
    let (_, m) = record(read);
    assert_eq!(m.calls("read", "error", Some("not_found")), 1);
}

#[cfg(feature = "rmcp")]
mod rmcp_results {
    use super::common::record;
    use mcp_metrics::mcp_tool;
    use rmcp::ErrorData;
    use rmcp::model::{
        CallToolResponse, CallToolResult, ContentBlock, CreateTaskResult, InputRequiredResult,
        Task, TaskStatus,
    };

    fn task() -> CreateTaskResult {
        CreateTaskResult::new(Task::new(
            "t-1",
            TaskStatus::Working,
            "2026-07-28T00:00:00Z",
            "2026-07-28T00:00:00Z",
        ))
    }

    #[mcp_tool(metrics)]
    fn respond(kind: u8) -> Result<CallToolResponse, ErrorData> {
        Ok(match kind {
            0 => CallToolResult::success(vec![ContentBlock::text("done")]).into(),
            1 => CallToolResult::error(vec![ContentBlock::text("bad")]).into(),
            2 => InputRequiredResult::from_request_state("round-1").into(),
            _ => CallToolResponse::Task(task()),
        })
    }

    #[mcp_tool(metrics)]
    fn ask() -> InputRequiredResult {
        InputRequiredResult::from_request_state("state")
    }

    #[mcp_tool(metrics)]
    async fn start_task(fail: bool) -> Result<CreateTaskResult, ErrorData> {
        if fail {
            Err(ErrorData::invalid_params("no such input", None))
        } else {
            Ok(task())
        }
    }

    #[test]
    fn responses_of_the_current_protocol_have_their_own_outcomes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (_, m) = record(|| {
            for kind in 0..4 {
                respond(kind).unwrap();
            }
            ask();
            rt.block_on(async {
                start_task(false).await.unwrap();
                start_task(true).await.unwrap_err();
            });
        });
        assert_eq!(m.calls("respond", "success", None), 1);
        assert_eq!(
            m.calls_with_fault("respond", "tool_error", Some("tool_error"), "client"),
            1
        );
        assert_eq!(m.calls("respond", "input_required", None), 1);
        assert_eq!(m.calls("respond", "task_created", None), 1);
        assert_eq!(m.calls("ask", "input_required", None), 1);
        assert_eq!(m.calls("start_task", "task_created", None), 1);
        assert_eq!(
            m.calls_with_fault("start_task", "error", Some("-32602"), "client"),
            1
        );
        assert_eq!(m.all_calls("respond"), 4);
        // Neither an input request nor a task creation is a failure: no fault label.
        for labels in m.series_of("respond") {
            let outcome = &labels.iter().find(|(k, _)| k == "outcome").unwrap().1;
            let has_fault = labels.iter().any(|(k, _)| k == "fault");
            assert_eq!(has_fault, outcome == "tool_error", "{labels:?}");
        }
    }
}
