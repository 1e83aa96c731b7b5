//! The audit trail: one `tracing` event per tool call, with target [`AUDIT_TARGET`], emitted in
//! the call's request span (so that JSON logs and OpenTelemetry log records carry its trace and
//! span id) when [`Options::audit`](super::Options::audit) is on. Without the `trace` feature
//! nothing is emitted.
#![cfg_attr(not(feature = "trace"), allow(dead_code))]

use std::time::{Duration, SystemTime};

use super::span::RequestSpan;

/// The target of audit events. Route it with the subscriber you already use, for example to a
/// JSON-lines file:
///
/// ```no_run
/// use tracing_subscriber::{filter::Targets, prelude::*};
/// let file = std::fs::File::create("audit.jsonl").unwrap();
/// tracing_subscriber::registry()
///     .with(
///         tracing_subscriber::fmt::layer()
///             .json()
///             .flatten_event(true)
///             .with_writer(std::sync::Mutex::new(file))
///             .with_filter(Targets::new().with_target(mcp_metrics::rmcp::AUDIT_TARGET, tracing::Level::INFO)),
///     )
///     .init();
/// ```
pub const AUDIT_TARGET: &str = "mcp_metrics::audit";

/// What an audit event says about one tool call.
pub(crate) struct AuditRecord<'a> {
    /// The span of the request, in which the event is emitted.
    pub(crate) request: &'a RequestSpan,
    pub(crate) started: SystemTime,
    pub(crate) tool: &'a str,
    pub(crate) outcome: &'static str,
    pub(crate) error_type: Option<&'static str>,
    pub(crate) fault: Option<&'static str>,
    pub(crate) duration: Duration,
    pub(crate) request_id: &'a str,
    pub(crate) session_id: Option<&'a str>,
    pub(crate) client_name: Option<&'a str>,
    pub(crate) client_version: Option<&'a str>,
    pub(crate) protocol_version: Option<&'a str>,
    pub(crate) trace_id: Option<&'a str>,
    pub(crate) arguments: Option<&'a str>,
}

/// Emits the audit event of a tool call.
#[cfg(feature = "trace")]
pub(crate) fn emit(record: &AuditRecord<'_>) {
    record.request.in_scope(|| event(record));
}

#[cfg(feature = "trace")]
fn event(record: &AuditRecord<'_>) {
    tracing::event!(
        target: AUDIT_TARGET,
        tracing::Level::INFO,
        time = %humantime::format_rfc3339_millis(record.started),
        tool = record.tool,
        outcome = record.outcome,
        error_type = record.error_type,
        fault = record.fault,
        duration_ms = record.duration.as_secs_f64() * 1e3,
        request_id = record.request_id,
        session_id = record.session_id,
        client_name = record.client_name,
        client_version = record.client_version,
        protocol_version = record.protocol_version,
        trace_id = record.trace_id,
        arguments = record.arguments,
        "tool call"
    );
}

#[cfg(not(feature = "trace"))]
pub(crate) fn emit(record: &AuditRecord<'_>) {
    let _ = record;
}

#[cfg(all(test, feature = "trace"))]
mod tests {
    use std::time::{Duration, SystemTime};

    #[test]
    fn times_are_rfc3339_in_utc_with_milliseconds() {
        let t = |s: u64, ms: u64| {
            humantime::format_rfc3339_millis(
                SystemTime::UNIX_EPOCH + Duration::from_millis(s * 1000 + ms),
            )
            .to_string()
        };
        assert_eq!(t(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(t(1_785_242_096, 789), "2026-07-28T12:34:56.789Z");
        assert_eq!(t(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
    }
}
