//! The OpenTelemetry tracer that the request spans of [`rmcp`](mod@crate::rmcp) are made with, and
//! the `tracing` layer that carries it.
//!
//! Request spans are OpenTelemetry spans made directly, so that sampling is decided when a request
//! starts and an unsampled request builds no span data. They need a tracer: the one a
//! [`RequestTracer`] layer in the current `tracing` subscriber carries (the `telemetry` pipeline of
//! `mcp-metrics-exporter` adds it), else the tracer of the global tracer provider
//! ([`opentelemetry::global::set_tracer_provider`]). Either way the request spans go where the
//! application's other spans go.

#[cfg(feature = "rmcp")]
use opentelemetry::Context;
#[cfg(feature = "rmcp")]
use opentelemetry::global::BoxedSpan;
use opentelemetry::global::BoxedTracer;
#[cfg(feature = "rmcp")]
use opentelemetry::trace::SpanBuilder;
use opentelemetry::trace::Tracer;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{Filtered, LevelFilter};

/// What carries the OpenTelemetry tracer of the request spans in a `tracing` subscriber, so that
/// they follow the subscriber they run under (a test's thread-local one included).
///
/// [`RequestTracer::new`] gives a layer that is filtered off: it wants no span and no event, so
/// adding it never makes the registry build a span that every other layer's filter turned away.
///
/// ```no_run
/// use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::SubscriberExt as _;
/// # fn f(provider: opentelemetry_sdk::trace::SdkTracerProvider) {
/// let tracer = provider.tracer("my-server");
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_opentelemetry::layer().with_tracer(tracer.clone()))
///     .with(mcp_metrics::otel::RequestTracer::new(tracer));
/// # let _ = subscriber;
/// # }
/// ```
pub struct RequestTracer {
    #[cfg_attr(not(feature = "rmcp"), allow(dead_code))]
    tracer: BoxedTracer,
}

impl RequestTracer {
    /// A layer that carries `tracer`, filtered off. An unfiltered layer would be a global filter
    /// that enables everything: beside layers with their own filters, the registry would then
    /// build, enter and close every span those filters turn away (a library's `INFO` spans under
    /// `RUST_LOG=info,library=warn`, at every request).
    pub fn new<T, S>(tracer: T) -> Filtered<RequestTracer, LevelFilter, S>
    where
        T: Tracer + Send + Sync + 'static,
        T::Span: Send + Sync + 'static,
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        RequestTracer {
            tracer: BoxedTracer::new(Box::new(tracer)),
        }
        .with_filter(LevelFilter::OFF)
    }
}

impl std::fmt::Debug for RequestTracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTracer").finish_non_exhaustive()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RequestTracer {}

/// Starts a span with the tracer of the current subscriber's [`RequestTracer`], else of the
/// global tracer provider.
#[cfg(feature = "rmcp")]
pub(crate) fn start(builder: SpanBuilder, parent: &Context) -> BoxedSpan {
    let mut builder = Some(builder);
    let carried = tracing::dispatcher::get_default(|dispatch| {
        let tracer = dispatch.downcast_ref::<RequestTracer>()?;
        Some(tracer.tracer.build_with_context(builder.take()?, parent))
    });
    match (carried, builder) {
        (Some(span), _) => span,
        (None, Some(builder)) => {
            opentelemetry::global::tracer("mcp-metrics").build_with_context(builder, parent)
        }
        (None, None) => unreachable!("the builder is used at most once"),
    }
}
