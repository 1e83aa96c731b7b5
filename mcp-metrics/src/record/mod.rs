//! The recording core: where every instrument of this crate records, and the handles it keeps.
//!
//! An instrument records through handles registered once per label set, in one of three ways,
//! chosen when it first finds one available:
//!
//! 1. **Store**: an exporter handed its store to [`crate::store::set_store`] (the `mcp-metrics-exporter`
//!    install does). The handle is the store's own atomic series.
//! 2. **Global recorder**: the application called [`crate::use_global_recorder`] after installing
//!    another `metrics` recorder. The handle is a `metrics` handle registered with it.
//! 3. **Per call**: otherwise every record registers its series with whatever recorder
//!    `metrics::with_recorder` finds (a local recorder in a test, the global one, or the no-op
//!    recorder when there is none). Nothing is cached, so a recorder installed later is picked
//!    up and a handle taken before one exists never becomes a permanent no-op.
//!
//! Tool call sites ([`CallSite`]) keep their handles in the static the macro emits; every other
//! instrument is a [`Family`]: one metric of the [`catalog`](crate::catalog) and a map from a
//! compact key of label values (all `&'static str`, compared by address) to its handles. Looking
//! a series up hashes a few words and takes a read lock; no label list is built and nothing is
//! allocated unless the series is new.

// Without the request layer, some handle kinds are not used.
#![cfg_attr(not(feature = "rmcp"), allow(dead_code))]

pub(crate) mod family;
mod site;

pub(crate) use crate::intern::intern;
pub(crate) use family::{Family, LabelKey, Str};
pub use site::CallSite;
pub(crate) use site::Recording;

use crate::store::{self, Exemplar};
use metrics::Key;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by [`crate::use_global_recorder`].
static GLOBAL_RECORDER: AtomicBool = AtomicBool::new(false);

/// Where handles come from now.
#[derive(Clone, Copy)]
pub(crate) enum Backend {
    Store(&'static dyn store::Store),
    GlobalRecorder,
    PerCall,
}

impl Backend {
    /// The backend in effect now.
    #[inline]
    pub(crate) fn current() -> Backend {
        if let Some(store) = store::store() {
            return Backend::Store(store);
        }
        if GLOBAL_RECORDER.load(Ordering::Acquire) {
            return Backend::GlobalRecorder;
        }
        Backend::PerCall
    }

    /// Whether handles of this backend may be kept.
    pub(crate) fn caches(self) -> bool {
        !matches!(self, Backend::PerCall)
    }
}

pub(crate) fn set_global_recorder() {
    GLOBAL_RECORDER.store(true, Ordering::Release);
}

/// The clock of durations: a calibrated TSC read where the CPU has a stable one (quanta), read
/// directly rather than through quanta's per-thread mockable clock.
#[inline]
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A start time: raw clock ticks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Start(u64);

impl Start {
    /// A start that is never read (a recording that records nothing).
    pub(crate) const ZERO: Start = Start(0);

    /// Now.
    #[inline]
    pub(crate) fn now() -> Start {
        Start(clock().raw())
    }

    /// Seconds since the start, and the end as monotonic nanoseconds (for exemplar pacing).
    #[inline]
    pub(crate) fn elapsed(self) -> (f64, u64) {
        let clock = clock();
        let end = clock.raw();
        let seconds = clock.delta_as_nanos(self.0, end) as f64 * 1e-9;
        (seconds, clock.delta_as_nanos(0, end))
    }
}

fn metadata() -> metrics::Metadata<'static> {
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

/// A handle of one series, registered with a backend.
pub(crate) trait Handle: Sized {
    /// Registers `key` with `backend`; a series the store refuses gets a detached one that
    /// nobody reads.
    fn register(backend: Backend, key: &Key) -> Self;
}

/// A histogram series.
pub(crate) enum HistogramHandle {
    Store(Arc<store::Histogram>),
    Recorder(metrics::Histogram),
}

impl Handle for HistogramHandle {
    fn register(backend: Backend, key: &Key) -> Self {
        match backend {
            Backend::Store(store) => HistogramHandle::Store(
                store
                    .histogram(key)
                    .unwrap_or_else(|| Arc::new(store::Histogram::new(&[]))),
            ),
            _ => HistogramHandle::Recorder(metrics::with_recorder(|r| {
                r.register_histogram(key, &metadata())
            })),
        }
    }
}

impl HistogramHandle {
    /// Records `value`; with a store, `exemplar` is asked for the ids of a sampled span when the
    /// series may take an exemplar at `now_ns`.
    #[inline]
    pub(crate) fn record(
        &self,
        value: f64,
        now_ns: u64,
        exemplar: impl FnOnce() -> Option<Exemplar>,
    ) {
        match self {
            HistogramHandle::Store(h) => h.record_sampled(value, now_ns, exemplar),
            HistogramHandle::Recorder(h) => h.record(value),
        }
    }

    /// Records `value` without an exemplar.
    #[inline]
    pub(crate) fn record_plain(&self, value: f64) {
        match self {
            HistogramHandle::Store(h) => h.record(value),
            HistogramHandle::Recorder(h) => h.record(value),
        }
    }
}

/// A gauge series.
pub(crate) enum GaugeHandle {
    Store(Arc<store::Gauge>),
    Recorder(metrics::Gauge),
}

impl Handle for GaugeHandle {
    fn register(backend: Backend, key: &Key) -> Self {
        match backend {
            Backend::Store(store) => GaugeHandle::Store(store.gauge(key).unwrap_or_default()),
            _ => GaugeHandle::Recorder(metrics::with_recorder(|r| {
                r.register_gauge(key, &metadata())
            })),
        }
    }
}

impl GaugeHandle {
    /// Adds 1.
    #[inline]
    pub(crate) fn up(&self) {
        match self {
            GaugeHandle::Store(g) => g.increment_one(),
            GaugeHandle::Recorder(g) => g.increment(1.0),
        }
    }

    /// Subtracts 1.
    #[inline]
    pub(crate) fn down(&self) {
        match self {
            GaugeHandle::Store(g) => g.decrement_one(),
            GaugeHandle::Recorder(g) => g.decrement(1.0),
        }
    }

    /// Sets the value.
    pub(crate) fn set(&self, value: f64) {
        match self {
            GaugeHandle::Store(g) => g.set(value),
            GaugeHandle::Recorder(g) => g.set(value),
        }
    }
}

/// A counter series.
pub(crate) enum CounterHandle {
    Store(Arc<store::Counter>),
    Recorder(metrics::Counter),
}

impl Handle for CounterHandle {
    fn register(backend: Backend, key: &Key) -> Self {
        match backend {
            Backend::Store(store) => CounterHandle::Store(store.counter(key).unwrap_or_default()),
            _ => CounterHandle::Recorder(metrics::with_recorder(|r| {
                r.register_counter(key, &metadata())
            })),
        }
    }
}

impl CounterHandle {
    /// Adds `n`.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        match self {
            CounterHandle::Store(c) => c.increment(n),
            CounterHandle::Recorder(c) => c.increment(n),
        }
    }
}
