//! The spans' way out, built from parsed settings: the tracer provider (resource, sampler, span
//! limits, baggage attributes) and its batch span processor with the OTLP (HTTP/protobuf or
//! gRPC, see [`transport`](super::transport)) or stdout exporter; and the resource that log
//! records share with spans.

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter, SpanLimits,
};

use crate::config::export::BatchSettings;
use crate::config::traces::{Sampler, SpanLimitSettings, TraceSettings, TracesExporter};
use crate::error::Error;
use crate::telemetry::propagation::BaggageAttributes;
use crate::telemetry::transport;

/// The tracer provider of `settings`: its resource, sampler, span limits and span processors.
pub(crate) fn provider(settings: &TraceSettings) -> Result<SdkTracerProvider, Error> {
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource(settings))
        .with_sampler(sampler(settings.sampler))
        .with_span_limits(span_limits(settings.span_limits));
    if !settings.baggage_keys.is_empty() {
        builder = builder.with_span_processor(BaggageAttributes(
            settings
                .baggage_keys
                .iter()
                .map(|k| opentelemetry::Key::new(k.clone()))
                .collect(),
        ));
    }
    let spans = &settings.spans;
    let builder = match spans.exporter {
        TracesExporter::None => builder,
        TracesExporter::Stdout => builder.with_span_processor(batch_processor(
            opentelemetry_stdout::SpanExporter::default(),
            &spans.batch,
        )),
        TracesExporter::Otlp => builder.with_span_processor(batch_processor(
            transport::span_exporter(spans)?,
            &spans.batch,
        )),
    };
    Ok(builder.build())
}

/// The resource of spans and log records: the one the OTLP metrics have, and the SDK's
/// `telemetry.sdk.*`.
pub(crate) fn resource(settings: &TraceSettings) -> Resource {
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            settings
                .resource()
                .into_iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(k, v)),
        )
        .build()
}

fn sampler(sampler: Sampler) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as S;
    match sampler {
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
    }
}

/// The SDK's default limits with the ones that are set.
fn span_limits(set: SpanLimitSettings) -> SpanLimits {
    let mut limits = SpanLimits::default();
    if let Some(n) = set.attributes {
        limits.max_attributes_per_span = n;
    }
    if let Some(n) = set.events {
        limits.max_events_per_span = n;
    }
    if let Some(n) = set.links {
        limits.max_links_per_span = n;
    }
    limits
}

/// A batch span processor for `exporter` with every setting of `batch` (the SDK's defaults read
/// the environment on their own; each value they read is replaced here). Its export timeout
/// bounds the exporter's requests instead (see [`transport::exporter`]): the SDK's thread-based
/// processor does not apply one.
pub(crate) fn batch_processor<E>(exporter: E, batch: &BatchSettings) -> BatchSpanProcessor
where
    E: SpanExporter + 'static,
{
    let config = BatchConfigBuilder::default()
        .with_scheduled_delay(batch.schedule_delay)
        .with_max_queue_size(batch.max_queue_size)
        .with_max_export_batch_size(batch.batch_size())
        .build();
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::SpanData;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    /// An exporter that records batches, and blocks its first export until released.
    #[derive(Clone, Debug, Default)]
    struct Held {
        batches: Arc<Mutex<Vec<usize>>>,
        gate: Arc<(Mutex<(bool, bool)>, Condvar)>,
    }

    impl Held {
        /// Waits until the first export has started; panics after 30 s.
        fn wait_entered(&self) {
            let (lock, cv) = &*self.gate;
            let (gate, timeout) = cv
                .wait_timeout_while(
                    lock.lock().unwrap(),
                    Duration::from_secs(30),
                    |(entered, _)| !*entered,
                )
                .unwrap();
            assert!(gate.0 && !timeout.timed_out(), "no export started");
        }

        fn release(&self) {
            let (lock, cv) = &*self.gate;
            lock.lock().unwrap().1 = true;
            cv.notify_all();
        }

        /// The sizes of the batches exported so far.
        fn batches(&self) -> Vec<usize> {
            self.batches.lock().unwrap().clone()
        }

        /// Waits until `spans` spans were exported, or 30 s.
        fn wait_for_spans(&self, spans: usize) -> Vec<usize> {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let batches = self.batches();
                if batches.iter().sum::<usize>() >= spans || Instant::now() > deadline {
                    return batches;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    impl SpanExporter for Held {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let (lock, cv) = &*self.gate;
            let mut gate = lock.lock().unwrap();
            gate.0 = true;
            cv.notify_all();
            drop(cv.wait_while(gate, |(_, released)| !*released).unwrap());
            self.batches.lock().unwrap().push(batch.len());
            Ok(())
        }
    }

    fn spans(provider: &SdkTracerProvider, n: usize) {
        let tracer = provider.tracer("test");
        for _ in 0..n {
            tracer.in_span("s", |_| {});
        }
    }

    fn provider(exporter: &Held, batch: BatchSettings) -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_span_processor(batch_processor(exporter.clone(), &batch))
            .build()
    }

    const AN_HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_batch_size_sets_the_spans_of_one_export() {
        let held = Held::default();
        let batch = BatchSettings {
            schedule_delay: AN_HOUR,
            max_export_batch_size: Some(2),
            ..BatchSettings::new(&crate::config::export::SPANS)
        };
        let provider = provider(&held, batch);
        // A full batch leaves at once, an hour before the schedule; the exporter holds it while
        // three more spans wait.
        spans(&provider, 2);
        held.wait_entered();
        spans(&provider, 3);
        held.release();
        provider.force_flush().unwrap();
        assert_eq!(held.batches(), [2, 2, 1]);
    }

    #[test]
    fn the_schedule_delay_exports_a_partial_batch() {
        let held = Held::default();
        held.release();
        let batch = BatchSettings {
            schedule_delay: Duration::from_millis(20),
            ..BatchSettings::new(&crate::config::export::SPANS)
        };
        let provider = provider(&held, batch);
        spans(&provider, 1);
        // No flush: the delay alone sends it (the default would wait 5 s; the wait gives up
        // after 30).
        let started = Instant::now();
        assert_eq!(held.wait_for_spans(1), [1]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        drop(provider);
    }

    #[test]
    fn the_queue_size_bounds_the_spans_waiting() {
        let held = Held::default();
        let batch = BatchSettings {
            schedule_delay: AN_HOUR,
            max_queue_size: 2,
            max_export_batch_size: Some(1),
            ..BatchSettings::new(&crate::config::export::SPANS)
        };
        let provider = provider(&held, batch);
        spans(&provider, 1);
        // The exporter holds the first span; two of the next five fit in the queue.
        held.wait_entered();
        spans(&provider, 5);
        held.release();
        provider.force_flush().unwrap();
        assert_eq!(held.batches(), [1, 1, 1]);
    }

    #[test]
    fn span_limits_that_are_set_replace_the_defaults() {
        let limits = span_limits(SpanLimitSettings {
            attributes: Some(3),
            events: None,
            links: Some(0),
        });
        let defaults = SpanLimits::default();
        assert_eq!(limits.max_attributes_per_span, 3);
        assert_eq!(limits.max_events_per_span, defaults.max_events_per_span);
        assert_eq!(limits.max_links_per_span, 0);
    }
}
