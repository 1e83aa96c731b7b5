//! The log records' way out: `tracing` events become OpenTelemetry log records, which leave
//! through a batch log record processor (`OTEL_BLRP_*`) with the OTLP (HTTP/protobuf or gRPC, see
//! [`transport`](super::transport)) or stdout exporter, under the resource of the spans.
//!
//! The bridge is opentelemetry-appender-tracing's, the OpenTelemetry project's own: it maps the
//! level to the severity number and text, the message to the body, the other fields to
//! attributes (with their types) and the target to the record's target, which OTLP exports as the
//! name of the instrumentation scope. The SDK's logger takes the trace and span id from the
//! current OpenTelemetry context, which the OpenTelemetry span layer activates whenever a span is
//! entered. [`LogRecordLayer`] adds what that misses: an event given its parent explicitly
//! (`parent: &span`) gets the ids of that span, and a root event (`parent: None`) none.
//!
//! Events of the crates on the export path itself (opentelemetry's, hyper, h2, tonic, tower,
//! reqwest, rustls) never become log records, whatever `RUST_LOG` says: exporting a record would
//! log, and that log would be exported in turn. They still go to standard error.

use std::sync::OnceLock;

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogExporter, SdkLogger, SdkLoggerProvider,
};
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::export::BatchSettings;
use crate::config::logs::LogsExporter;
use crate::config::traces::TraceSettings;
use crate::error::Error;
use crate::telemetry::{spans, transport};

/// The crates on the export path, whose events are not exported as log records.
const EXPORT_PATH: &[&str] = &[
    "h2",
    "hyper",
    "hyper_rustls",
    "hyper_util",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tonic",
    "tower",
];

/// Whether an event of `target` may become a log record: not from the export path.
pub(crate) fn exportable(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    !(krate.starts_with("opentelemetry") || EXPORT_PATH.contains(&krate))
}

/// The logger provider of `settings`, when log records go somewhere.
pub(crate) fn provider(settings: &TraceSettings) -> Result<Option<SdkLoggerProvider>, Error> {
    let logs = &settings.logs;
    let processor = match logs.exporter {
        LogsExporter::None => return Ok(None),
        LogsExporter::Stdout => {
            batch_processor(opentelemetry_stdout::LogExporter::default(), &logs.batch)
        }
        LogsExporter::Otlp => batch_processor(
            transport::exporter::<opentelemetry_otlp::LogExporter, _>(logs)?,
            &logs.batch,
        ),
    };
    Ok(Some(
        SdkLoggerProvider::builder()
            .with_resource(spans::resource(settings))
            .with_log_processor(processor)
            .build(),
    ))
}

/// A batch log record processor for `exporter` with every setting of `batch` (the SDK's defaults
/// read the environment on their own; each value they read is replaced here). Its export
/// timeout bounds the exporter's requests instead, as for spans.
fn batch_processor<E: LogExporter + 'static>(
    exporter: E,
    batch: &BatchSettings,
) -> BatchLogProcessor {
    let config = BatchConfigBuilder::default()
        .with_scheduled_delay(batch.schedule_delay)
        .with_max_queue_size(batch.max_queue_size)
        .with_max_export_batch_size(batch.batch_size())
        .build();
    BatchLogProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}

/// Turns `tracing` events into log records of `provider`, each with the trace and span id of the
/// span it was emitted in (see the [module docs](self)).
pub(crate) struct LogRecordLayer {
    bridge: OpenTelemetryTracingBridge<SdkLoggerProvider, SdkLogger>,
    dispatch: OnceLock<WeakDispatch>,
}

impl LogRecordLayer {
    /// Emits through the logger of `provider`.
    pub(crate) fn new(provider: &SdkLoggerProvider) -> Self {
        Self {
            bridge: OpenTelemetryTracingBridge::new(provider),
            dispatch: OnceLock::new(),
        }
    }

    /// The OpenTelemetry context of the span `event` names as its parent: empty for a root
    /// event or a span without one.
    fn explicit_parent<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> opentelemetry::Context
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
        ctx.event_span(event)
            .zip(dispatch)
            .and_then(|(span, dispatch)| {
                tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)
            })
            .unwrap_or_default()
    }
}

impl<S> Layer<S> for LogRecordLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.is_contextual() {
            // The entered span's context is the current one.
            return self.bridge.on_event(event, ctx);
        }
        let _parent = self.explicit_parent(event, &ctx).attach();
        self.bridge.on_event(event, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::{AnyValue, Severity};
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::logs::{LogBatch, SdkLogRecord};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use std::sync::{Arc, Mutex};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Keeps every record exported.
    #[derive(Clone, Debug, Default)]
    struct Kept(Arc<Mutex<Vec<SdkLogRecord>>>);

    impl LogExporter for Kept {
        async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            let mut kept = self.0.lock().unwrap();
            kept.extend(batch.iter().map(|(record, _)| record.clone()));
            Ok(())
        }
    }

    /// The trace and span id of `span`, as hex.
    fn ids(span: &tracing::Span) -> (String, String) {
        let cx = span.context();
        let ids = cx.span().span_context().clone();
        (ids.trace_id().to_string(), ids.span_id().to_string())
    }

    /// The trace and span id of `record`, as hex.
    fn record_ids(record: &SdkLogRecord) -> Option<(String, String)> {
        record
            .trace_context()
            .map(|t| (t.trace_id.to_string(), t.span_id.to_string()))
    }

    fn body(record: &SdkLogRecord) -> String {
        match record.body() {
            Some(AnyValue::String(s)) => s.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn records_carry_the_ids_of_the_span_they_were_emitted_in() {
        let kept = Kept::default();
        let logger = SdkLoggerProvider::builder()
            .with_simple_exporter(kept.clone())
            .build();
        let tracer = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::Registry::default()
            .with(LogRecordLayer::new(&logger))
            .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("test")));
        let (request, other) = tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request");
            let other = tracing::info_span!("other");
            let _other = other.enter();
            tracing::warn!(
                attempt = 3_i64,
                ratio = 0.5,
                tool = "add",
                "in the current span"
            );
            tracing::info!(parent: &request, "given its parent");
            tracing::info!(parent: None, "a root event");
            (ids(&request), ids(&other))
        });
        assert_ne!(request.0, other.0, "two traces");
        let records = kept.0.lock().unwrap().clone();
        let bodies: Vec<String> = records.iter().map(body).collect();
        assert_eq!(
            bodies,
            ["in the current span", "given its parent", "a root event"]
        );
        assert_eq!(record_ids(&records[0]), Some(other));
        assert_eq!(record_ids(&records[1]), Some(request));
        assert_eq!(record_ids(&records[2]), None);
        let first = &records[0];
        assert_eq!(first.severity_number(), Some(Severity::Warn));
        assert_eq!(first.severity_text(), Some("WARN"));
        assert_eq!(first.target().map(|t| t.as_ref()), Some(module_path!()));
        let attributes: Vec<(String, AnyValue)> = first
            .attributes_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert_eq!(
            attributes,
            [
                ("attempt".to_owned(), AnyValue::Int(3)),
                ("ratio".to_owned(), AnyValue::Double(0.5)),
                ("tool".to_owned(), AnyValue::String("add".into())),
            ]
        );
    }

    #[test]
    fn the_export_path_is_not_exported() {
        for target in [
            "opentelemetry_sdk",
            "opentelemetry-otlp",
            "opentelemetry_otlp::exporter::http",
            "hyper_util::client::legacy::pool",
            "h2::codec",
            "tonic::transport",
            "tower::buffer",
            "reqwest::blocking::wait",
            "rustls::client::hs",
        ] {
            assert!(!exportable(target), "{target}");
        }
        for target in [
            "my_server",
            "mcp_metrics::audit",
            "h2o::tool",
            "towering",
            "rmcp::service",
        ] {
            assert!(exportable(target), "{target}");
        }
    }
}
