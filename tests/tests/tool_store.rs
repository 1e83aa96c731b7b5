//! `#[mcp_tool]` with the exporter installed: call sites record straight into the exporter's
//! registry (the store handed over by `install`), every outcome and fault is counted exactly,
//! and exemplars come from sampled spans only.
//!
//! The global recorder can be installed once per process, so the tests of this binary share one
//! exporter.

use mcp_metrics::{ErrorKind, mcp_tool};
use mcp_metrics_exporter::{ExporterBuilder, ExporterHandle, ExporterKind, Registry};
use mcp_metrics_tests::harness::sample;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tracing_subscriber::layer::SubscriberExt as _;

fn exporter() -> &'static Registry {
    static HANDLE: OnceLock<ExporterHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            ExporterBuilder::new()
                .exporter(ExporterKind::Prometheus)
                .without_listener()
                .install()
                .expect("the exporter installs")
        })
        .registry()
}

#[derive(Debug, ErrorKind)]
enum FindError {
    #[allow(dead_code)]
    Broken,
}

#[mcp_tool(metrics)]
fn find(key: u32) -> Result<u32, FindError> {
    if key == 0 {
        Err(FindError::Broken)
    } else {
        Ok(key)
    }
}

#[mcp_tool(metrics)]
fn validate(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("empty".into())
    } else {
        Ok(())
    }
}

#[mcp_tool(metrics)]
fn crash() {
    panic!("crash");
}

#[test]
fn calls_record_into_the_installed_registry() {
    let registry = exporter();
    for key in 1..=7 {
        find(key).unwrap();
    }
    find(0).unwrap_err();
    validate("").unwrap_err();
    validate("ok").unwrap();
    std::thread::spawn(crash).join().unwrap_err();
    // Under a local recorder the calls still go to the store (documented).
    let local = Registry::default();
    metrics::with_local_recorder(&local, || find(9)).unwrap();
    assert!(
        !local
            .render_prometheus()
            .contains("mcp_tool_duration_seconds")
    );

    let text = registry.render_prometheus();
    // No rmcp `#[tool]` beside these functions: the macro saw no definition, the risk is unknown.
    let count = |labels: &[(&str, &str)]| {
        let labels = [labels, &[("risk", "_unknown")]].concat();
        sample(&text, "mcp_tool_duration_seconds_count", &labels)
    };
    assert_eq!(
        count(&[("tool", "find"), ("outcome", "success")]),
        Some(8.0),
        "{text}"
    );
    assert_eq!(
        count(&[
            ("tool", "find"),
            ("outcome", "error"),
            ("error_type", "broken"),
            ("fault", "server")
        ]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(&[
            ("tool", "validate"),
            ("outcome", "tool_error"),
            ("error_type", "tool_error"),
            ("fault", "client")
        ]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(&[
            ("tool", "crash"),
            ("outcome", "panic"),
            ("error_type", "panic"),
            ("fault", "server")
        ]),
        Some(1.0),
        "{text}"
    );
    for tool in ["find", "validate", "crash"] {
        assert_eq!(
            sample(&text, "mcp_tool_calls_in_flight", &[("tool", tool)]),
            Some(0.0),
            "{text}"
        );
    }
    assert!(!text.contains("mcp_tool_calls_total"), "{text}");
}

/// Samples a span when the flag is set.
#[derive(Debug, Clone)]
struct Flag(Arc<AtomicBool>);

impl ShouldSample for Flag {
    fn should_sample(
        &self,
        _: Option<&opentelemetry::Context>,
        _: opentelemetry::trace::TraceId,
        _: &str,
        _: &opentelemetry::trace::SpanKind,
        _: &[opentelemetry::KeyValue],
        _: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        let decision = if self.0.load(Ordering::SeqCst) {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

/// The ids of the span of the last `traced` call, as the tool saw them.
static LAST_SPAN: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);

#[mcp_tool]
fn traced(x: u64) -> u64 {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let cx = tracing::Span::current().context();
    let ids = cx.span().span_context().clone();
    *LAST_SPAN.lock().unwrap() = Some((ids.trace_id().to_string(), ids.span_id().to_string()));
    x + 1
}

#[test]
fn an_unsampled_call_does_not_use_up_the_exemplar_of_its_second() {
    let registry = exporter();
    let sampled = Arc::new(AtomicBool::new(false));
    let provider = SdkTracerProvider::builder()
        .with_sampler(Flag(sampled.clone()))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        // The first call of the second is not sampled: it must leave the exemplar slot free.
        traced(1);
        let before = registry.render_openmetrics();
        assert!(
            !before
                .lines()
                .any(|l| l.starts_with("mcp_tool_duration_seconds_bucket{")
                    && l.contains("tool=\"traced\"")
                    && l.contains("trace_id")),
            "an unsampled call gave an exemplar: {before}"
        );
        // The next one, sampled, within the same second, gives the exemplar.
        sampled.store(true, Ordering::SeqCst);
        traced(2);
    });
    let (trace_id, span_id) = LAST_SPAN.lock().unwrap().clone().expect("traced ran");
    let text = registry.render_openmetrics();
    let with_exemplar: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("mcp_tool_duration_seconds_bucket{")
                && l.contains("tool=\"traced\"")
                && l.contains(" # {trace_id=\"")
        })
        .collect();
    assert_eq!(with_exemplar.len(), 1, "{text}");
    let ids = format!("# {{trace_id=\"{trace_id}\",span_id=\"{span_id}\"}}");
    assert!(
        with_exemplar[0].contains(&ids),
        "the exemplar is the sampled call's span {ids}: {}",
        with_exemplar[0]
    );
}
