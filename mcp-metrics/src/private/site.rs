//! The static that `#[mcp_tool]` emits at each function, and where its calls record.
//!
//! A call site records in one of three ways, chosen at its first call that finds one available:
//!
//! 1. **Store**: an exporter handed its registry to [`store::set_registry`] (the
//!    `mcp-metrics-exporter` install does). The site registers its series there once and then
//!    records straight into their atomics.
//! 2. **Global recorder**: the application called [`crate::use_global_recorder`] after
//!    installing another `metrics` recorder. The site registers `metrics` handles with it once
//!    and records through them.
//! 3. **Per call**: otherwise every call registers its series with whatever recorder
//!    `metrics::with_recorder` finds (a local recorder in a test, the global one, or the no-op
//!    recorder when there is none) and records through it. Nothing is cached, so a recorder
//!    installed later is picked up, and local recorders in tests see their calls.
//!
//! Each site keeps the series of `success` ready; the series of other outcomes are registered
//! when that outcome first happens.

use crate::names::{TOOL_CALLS_IN_FLIGHT, TOOL_DURATION_SECONDS, label};
use crate::store::{self, Exemplar};
use crate::{Fault, Outcome};
use metrics::{Key, Label};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Error kinds a site keeps a series for; calls with further kinds register theirs each time.
const ERROR_SLOTS: usize = 8;

/// Set by [`crate::use_global_recorder`].
static GLOBAL_RECORDER_INSTALLED: AtomicBool = AtomicBool::new(false);

pub(crate) fn cache_global_recorder_handles() {
    GLOBAL_RECORDER_INSTALLED.store(true, Ordering::Release);
}

/// The clock of call durations: a calibrated TSC read where the CPU has a stable one (quanta),
/// read directly rather than through quanta's per-thread mockable clock.
#[inline]
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// The static the macro emits at each annotated function.
pub struct CallSite {
    tool: &'static str,
    cached: OnceLock<Cached>,
    /// When this site last gave an exemplar, in clock nanoseconds (0: never).
    #[cfg(feature = "otel")]
    last_exemplar: std::sync::atomic::AtomicU64,
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

/// What a histogram handle of either kind does on a call.
trait Record {
    fn record(&self, seconds: f64, exemplar: Option<Exemplar>);
}

impl Record for Arc<store::Histogram> {
    #[inline]
    fn record(&self, seconds: f64, exemplar: Option<Exemplar>) {
        match exemplar {
            None => store::Histogram::record(self, seconds),
            Some(e) => self.record_with_exemplar(seconds, e),
        }
    }
}

impl Record for metrics::Histogram {
    #[inline]
    fn record(&self, seconds: f64, _: Option<Exemplar>) {
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
trait Backend: Sized {
    type Histogram: Record;
    type Gauge: InFlight;
    /// The backend of this kind in effect now.
    fn current() -> Option<Self>;
    fn histogram(&self, key: &Key) -> Self::Histogram;
    fn gauge(&self, key: &Key) -> Self::Gauge;
}

/// The store handed to [`store::set_registry`]. A series it refuses gets a detached one that
/// nobody reads.
struct StoreBackend(&'static dyn store::Registry);

impl Backend for StoreBackend {
    type Histogram = Arc<store::Histogram>;
    type Gauge = Arc<store::Gauge>;
    fn current() -> Option<Self> {
        store::registry().map(|r| StoreBackend(r.as_ref()))
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

impl Backend for RecorderBackend {
    type Histogram = metrics::Histogram;
    type Gauge = metrics::Gauge;
    fn current() -> Option<Self> {
        Some(RecorderBackend)
    }
    fn histogram(&self, key: &Key) -> Self::Histogram {
        metrics::with_recorder(|r| r.register_histogram(key, &metadata()))
    }
    fn gauge(&self, key: &Key) -> Self::Gauge {
        metrics::with_recorder(|r| r.register_gauge(key, &metadata()))
    }
}

fn metadata() -> metrics::Metadata<'static> {
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

impl CallSite {
    /// A call site for the tool `tool`.
    pub const fn new(tool: &'static str) -> Self {
        CallSite {
            tool,
            cached: OnceLock::new(),
            #[cfg(feature = "otel")]
            last_exemplar: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The tool name.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The key of the in-flight gauge.
    fn in_flight_key(&self) -> Key {
        Key::from_parts(
            TOOL_CALLS_IN_FLIGHT,
            vec![Label::from_static_parts(label::TOOL, self.tool)],
        )
    }

    /// The key of the duration histogram of `outcome`.
    fn duration_key(&self, outcome: Outcome) -> Key {
        let mut labels = vec![
            Label::from_static_parts(label::TOOL, self.tool),
            Label::from_static_parts(label::OUTCOME, outcome.as_str()),
        ];
        if let Some(error_type) = outcome.error_type() {
            labels.push(Label::from_static_parts(label::ERROR_TYPE, error_type));
        }
        if let Some(fault) = outcome.fault() {
            labels.push(Label::from_static_parts(label::FAULT, fault.as_str()));
        }
        Key::from_parts(TOOL_DURATION_SECONDS, labels)
    }

    fn series<B: Backend>(&self, backend: &B) -> Series<B::Histogram, B::Gauge> {
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
            start: clock().raw(),
        }
    }

    #[cold]
    fn start_uncached(&'static self) -> Target {
        if let Some(registry) = store::registry() {
            let backend = StoreBackend(registry.as_ref());
            let cached = self
                .cached
                .get_or_init(|| Cached::Store(self.series(&backend)));
            return self.start_cached(cached);
        }
        if GLOBAL_RECORDER_INSTALLED.load(Ordering::Acquire) {
            let cached = self
                .cached
                .get_or_init(|| Cached::Recorder(self.series(&RecorderBackend)));
            return self.start_cached(cached);
        }
        let in_flight = RecorderBackend.gauge(&self.in_flight_key());
        in_flight.up();
        Target::PerCall(self, in_flight)
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
    fn finish<B>(&self, site: &CallSite, outcome: Outcome, seconds: f64, e: Option<Exemplar>)
    where
        B: Backend<Histogram = H>,
    {
        match outcome {
            Outcome::Success => self.success.record(seconds, e),
            _ => self.finish_other::<B>(site, outcome, seconds, e),
        }
        self.in_flight.down();
    }

    /// Records an outcome other than success, registering its series on first use.
    #[cold]
    fn finish_other<B>(&self, site: &CallSite, outcome: Outcome, seconds: f64, e: Option<Exemplar>)
    where
        B: Backend<Histogram = H>,
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
                        return h.record(seconds, e);
                    }
                }
                // More kinds than slots: register (a map look-up in the backend) every time.
                return register().record(seconds, e);
            }
        };
        slot.record(seconds, e);
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

/// One call being recorded: where, and when it started (raw clock ticks).
pub(crate) struct Recording {
    target: Target,
    start: u64,
}

impl Recording {
    /// A call that records no metrics.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) const OFF: Recording = Recording {
        target: Target::Off,
        start: 0,
    };

    /// Records the end of the call. `exemplar` is asked, with the site and the clock's raw
    /// reading at the end, for the ids of the call's span when the store can keep an exemplar.
    #[inline(always)]
    pub(crate) fn finish(
        &self,
        outcome: Outcome,
        exemplar: impl FnOnce(&CallSite, u64) -> Option<Exemplar>,
    ) {
        let site = match &self.target {
            Target::Off => return,
            Target::Store(site, _) | Target::Recorder(site, _) | Target::PerCall(site, _) => site,
        };
        let clock = clock();
        let end = clock.raw();
        let seconds = clock.delta_as_nanos(self.start, end) as f64 * 1e-9;
        match &self.target {
            Target::Off => {}
            Target::Store(_, series) => {
                let e = exemplar(site, end);
                series.finish::<StoreBackend>(site, outcome, seconds, e);
            }
            Target::Recorder(_, series) => {
                series.finish::<RecorderBackend>(site, outcome, seconds, None);
            }
            Target::PerCall(_, in_flight) => {
                RecorderBackend
                    .histogram(&site.duration_key(outcome))
                    .record(seconds);
                in_flight.down();
            }
        }
    }
}

/// Exemplars per call site: at most one a second.
#[cfg(feature = "otel")]
const EXEMPLAR_INTERVAL_NS: u64 = 1_000_000_000;

#[cfg(feature = "otel")]
impl CallSite {
    /// Whether a second has passed since this site's last exemplar (a load, no write).
    #[inline]
    pub(crate) fn exemplar_due(&self, now_ns: u64) -> bool {
        let last = self.last_exemplar.load(Ordering::Relaxed);
        last == 0 || now_ns.saturating_sub(last) >= EXEMPLAR_INTERVAL_NS
    }

    /// Claims the site's exemplar for the coming second; false when another call just did.
    pub(crate) fn claim_exemplar(&self, now_ns: u64) -> bool {
        let last = self.last_exemplar.load(Ordering::Relaxed);
        (last == 0 || now_ns.saturating_sub(last) >= EXEMPLAR_INTERVAL_NS)
            && self
                .last_exemplar
                .compare_exchange(last, now_ns.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}
