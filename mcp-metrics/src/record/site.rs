//! The static that `#[mcp_tool]` emits at each function, and where its calls record.
//!
//! A call site records through the backend of the [recording core](super), chosen at its first
//! call that finds a store or a global recorder (until then, every call registers with the
//! recorder of the moment). Each site keeps the series of `success` ready in its static; the
//! series of other outcomes are registered when that outcome first happens. Monomorphic per
//! backend, so that a call makes no dynamic handle call.

use super::{Backend, clock};
use crate::catalog::{TOOL_CALLS_IN_FLIGHT, TOOL_DURATION, label};
use crate::store::{self, Exemplar};
use crate::{Fault, Outcome};
use metrics::{Key, Label};
use std::sync::{Arc, OnceLock};

/// Error kinds a site keeps a series for; calls with further kinds register theirs each time.
const ERROR_SLOTS: usize = 8;

/// The static the macro emits at each annotated function.
pub struct CallSite {
    tool: &'static str,
    risk: crate::Risk,
    cached: OnceLock<Cached>,
}

/// The series of a site, registered once.
enum Cached {
    Store(Series<Arc<store::Histogram>, Arc<store::Gauge>>),
    Recorder(Series<metrics::Histogram, metrics::Gauge>),
}

/// The duration histogram of each outcome of one tool, and its in-flight gauge.
struct Series<H, G> {
    in_flight: G,
    success: H,
    tool_error: OnceLock<H>,
    input_required: OnceLock<H>,
    task_created: OnceLock<H>,
    panic: OnceLock<H>,
    cancelled: OnceLock<H>,
    errors: [OnceLock<(&'static str, Fault, H)>; ERROR_SLOTS],
}

/// What a histogram handle of either kind does on a call: records the duration and, in a
/// store, asks for an exemplar when one is due at `now_ns`.
trait Record {
    fn record(&self, seconds: f64, now_ns: u64, exemplar: impl FnOnce() -> Option<Exemplar>);
}

impl Record for Arc<store::Histogram> {
    #[inline]
    fn record(&self, seconds: f64, now_ns: u64, exemplar: impl FnOnce() -> Option<Exemplar>) {
        self.record_sampled(seconds, now_ns, exemplar);
    }
}

impl Record for metrics::Histogram {
    #[inline]
    fn record(&self, seconds: f64, _: u64, _: impl FnOnce() -> Option<Exemplar>) {
        metrics::Histogram::record(self, seconds);
    }
}

/// What an in-flight gauge handle of either kind does on a call.
trait InFlight {
    fn up(&self);
    fn down(&self);
}

impl InFlight for Arc<store::Gauge> {
    #[inline]
    fn up(&self) {
        self.increment_one();
    }
    #[inline]
    fn down(&self) {
        self.decrement_one();
    }
}

impl InFlight for metrics::Gauge {
    #[inline]
    fn up(&self) {
        self.increment(1.0);
    }
    #[inline]
    fn down(&self) {
        self.decrement(1.0);
    }
}

/// Registers the series of a site with one kind of backend.
trait SiteBackend: Sized {
    type Histogram: Record;
    type Gauge: InFlight;
    /// The backend of this kind in effect now.
    fn current() -> Option<Self>;
    fn histogram(&self, key: &Key) -> Self::Histogram;
    fn gauge(&self, key: &Key) -> Self::Gauge;
}

/// The store handed to [`store::set_store`]. A series it refuses gets a detached one that
/// nobody reads.
struct StoreBackend(&'static dyn store::Store);

impl SiteBackend for StoreBackend {
    type Histogram = Arc<store::Histogram>;
    type Gauge = Arc<store::Gauge>;
    fn current() -> Option<Self> {
        store::store().map(StoreBackend)
    }
    fn histogram(&self, key: &Key) -> Self::Histogram {
        self.0
            .histogram(key)
            .unwrap_or_else(|| Arc::new(store::Histogram::new(&[])))
    }
    fn gauge(&self, key: &Key) -> Self::Gauge {
        self.0.gauge(key).unwrap_or_default()
    }
}

/// The recorder `metrics::with_recorder` finds.
struct RecorderBackend;

impl SiteBackend for RecorderBackend {
    type Histogram = metrics::Histogram;
    type Gauge = metrics::Gauge;
    fn current() -> Option<Self> {
        Some(RecorderBackend)
    }
    fn histogram(&self, key: &Key) -> Self::Histogram {
        metrics::with_recorder(|r| r.register_histogram(key, &super::metadata()))
    }
    fn gauge(&self, key: &Key) -> Self::Gauge {
        metrics::with_recorder(|r| r.register_gauge(key, &super::metadata()))
    }
}

impl CallSite {
    /// A call site for the tool `tool`, whose definition the macro did not see: its risk is
    /// `_unknown`.
    pub const fn new(tool: &'static str) -> Self {
        Self::with_risk(tool, crate::Risk::Unknown)
    }

    /// A call site for the tool `tool` of risk class `risk`, read by the macro from the
    /// annotations of the rmcp `#[tool]` attribute beside it.
    pub const fn with_risk(tool: &'static str, risk: crate::Risk) -> Self {
        CallSite {
            tool,
            risk,
            cached: OnceLock::new(),
        }
    }

    /// The tool name.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The key of the in-flight gauge.
    fn in_flight_key(&self) -> Key {
        Key::from_parts(
            TOOL_CALLS_IN_FLIGHT.name,
            vec![Label::from_static_parts(label::TOOL, self.tool)],
        )
    }

    /// The key of the duration histogram of `outcome`.
    fn duration_key(&self, outcome: Outcome) -> Key {
        let mut labels = vec![
            Label::from_static_parts(label::TOOL, self.tool),
            Label::from_static_parts(label::RISK, self.risk.as_str()),
            Label::from_static_parts(label::OUTCOME, outcome.as_str()),
        ];
        if let Some(error_type) = outcome.error_type() {
            labels.push(Label::from_static_parts(label::ERROR_TYPE, error_type));
        }
        if let Some(fault) = outcome.fault() {
            labels.push(Label::from_static_parts(label::FAULT, fault.as_str()));
        }
        Key::from_parts(TOOL_DURATION.name, labels)
    }

    fn series<B: SiteBackend>(&self, backend: &B) -> Series<B::Histogram, B::Gauge> {
        clock(); // calibrate once here, not inside a timed call
        Series {
            in_flight: backend.gauge(&self.in_flight_key()),
            success: backend.histogram(&self.duration_key(Outcome::Success)),
            tool_error: OnceLock::new(),
            input_required: OnceLock::new(),
            task_created: OnceLock::new(),
            panic: OnceLock::new(),
            cancelled: OnceLock::new(),
            errors: Default::default(),
        }
    }

    /// Starts recording a call: counts it in flight and reads the clock.
    #[inline]
    pub(crate) fn start(&'static self) -> Recording {
        let target = match self.cached.get() {
            Some(Cached::Store(series)) => {
                series.in_flight.up();
                Target::Store(self, series)
            }
            Some(Cached::Recorder(series)) => {
                series.in_flight.up();
                Target::Recorder(self, series)
            }
            None => self.start_uncached(),
        };
        Recording {
            target,
            start: super::Start::now(),
        }
    }

    #[cold]
    fn start_uncached(&'static self) -> Target {
        let cached = match Backend::current() {
            Backend::Store(store) => self
                .cached
                .get_or_init(|| Cached::Store(self.series(&StoreBackend(store)))),
            Backend::GlobalRecorder => self
                .cached
                .get_or_init(|| Cached::Recorder(self.series(&RecorderBackend))),
            Backend::PerCall => {
                let in_flight = RecorderBackend.gauge(&self.in_flight_key());
                in_flight.up();
                return Target::PerCall(self, in_flight);
            }
        };
        self.start_cached(cached)
    }

    fn start_cached(&'static self, cached: &'static Cached) -> Target {
        match cached {
            Cached::Store(series) => {
                series.in_flight.up();
                Target::Store(self, series)
            }
            Cached::Recorder(series) => {
                series.in_flight.up();
                Target::Recorder(self, series)
            }
        }
    }
}

impl<H: Record, G: InFlight> Series<H, G> {
    /// Records a finished call and takes it out of flight.
    #[inline(always)]
    fn finish<B>(
        &self,
        site: &CallSite,
        outcome: Outcome,
        seconds: f64,
        now_ns: u64,
        e: impl FnOnce() -> Option<Exemplar>,
    ) where
        B: SiteBackend<Histogram = H>,
    {
        match outcome {
            Outcome::Success => self.success.record(seconds, now_ns, e),
            _ => self.finish_other::<B>(site, outcome, seconds, now_ns, e),
        }
        self.in_flight.down();
    }

    /// Records an outcome other than success, registering its series on first use.
    #[cold]
    fn finish_other<B>(
        &self,
        site: &CallSite,
        outcome: Outcome,
        seconds: f64,
        now_ns: u64,
        e: impl FnOnce() -> Option<Exemplar>,
    ) where
        B: SiteBackend<Histogram = H>,
    {
        let Some(backend) = B::current() else {
            return;
        };
        let register = || backend.histogram(&site.duration_key(outcome));
        let slot = match outcome {
            Outcome::Success => &self.success,
            Outcome::ToolError => self.tool_error.get_or_init(register),
            Outcome::InputRequired => self.input_required.get_or_init(register),
            Outcome::TaskCreated => self.task_created.get_or_init(register),
            Outcome::Panic => self.panic.get_or_init(register),
            Outcome::Cancelled => self.cancelled.get_or_init(register),
            Outcome::Error { kind, fault } => {
                for slot in &self.errors {
                    let (k, f, h) = slot.get_or_init(|| (kind, fault, register()));
                    if (*k == kind) && *f == fault {
                        return h.record(seconds, now_ns, e);
                    }
                }
                // More kinds than slots: register (a map look-up in the backend) every time.
                return register().record(seconds, now_ns, e);
            }
        };
        slot.record(seconds, now_ns, e);
    }
}

/// Where one call records.
enum Target {
    /// Nothing is recorded: the call only has a span (`#[mcp_tool(trace)]`).
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    Off,
    Store(
        &'static CallSite,
        &'static Series<Arc<store::Histogram>, Arc<store::Gauge>>,
    ),
    Recorder(
        &'static CallSite,
        &'static Series<metrics::Histogram, metrics::Gauge>,
    ),
    /// Registered with the recorder of the moment; the in-flight gauge taken at the start.
    PerCall(&'static CallSite, metrics::Gauge),
}

/// One call being recorded: where, and when it started.
pub(crate) struct Recording {
    target: Target,
    start: super::Start,
}

impl Recording {
    /// A call that records no metrics.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) const OFF: Recording = Recording {
        target: Target::Off,
        start: super::Start::ZERO,
    };

    /// Records the end of the call. `exemplar` is asked for the ids of the call's span when the
    /// store can keep an exemplar.
    #[inline(always)]
    pub(crate) fn finish(&self, outcome: Outcome, exemplar: impl FnOnce() -> Option<Exemplar>) {
        if let Target::Off = self.target {
            return;
        }
        let (seconds, now_ns) = self.start.elapsed();
        match &self.target {
            Target::Off => {}
            Target::Store(site, series) => {
                series.finish::<StoreBackend>(site, outcome, seconds, now_ns, exemplar);
            }
            Target::Recorder(site, series) => {
                series.finish::<RecorderBackend>(site, outcome, seconds, now_ns, || None);
            }
            Target::PerCall(site, in_flight) => {
                RecorderBackend
                    .histogram(&site.duration_key(outcome))
                    .record(seconds);
                in_flight.down();
            }
        }
    }
}
