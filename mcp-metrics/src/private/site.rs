//! Per-call-site metric handles, registered once with the global recorder.
//!
//! A handle taken from the no-op recorder stays a no-op forever, so handles are cached only once
//! the global recorder is known: its address is learnt by looking at the recorder from a thread
//! that has no local recorder. Calls made under a local recorder (`metrics::with_local_recorder`)
//! register their handles with it on every call instead, which keeps tests with local recorders
//! correct. Without any recorder, a call records nothing and costs one thread-local read.

use crate::Outcome;
use crate::names::{TOOL_CALLS_IN_FLIGHT, TOOL_CALLS_TOTAL, TOOL_DURATION_SECONDS, label};
use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// Address of the global recorder once it has been seen; 0 before.
static GLOBAL_RECORDER: AtomicUsize = AtomicUsize::new(0);
/// Milliseconds since [`epoch`] of the last look for the global recorder.
static LAST_PROBE_MS: AtomicU64 = AtomicU64::new(u64::MAX);
const PROBE_INTERVAL_MS: u64 = 100;
const ERROR_SLOTS: usize = 8;

/// The clock of call durations: a calibrated TSC read where the CPU has a stable one (quanta),
/// read directly rather than through quanta's per-thread mockable clock.
#[inline]
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

fn recorder_addr(r: &dyn Recorder) -> usize {
    (r as *const dyn Recorder).cast::<()>() as usize
}

fn epoch() -> &'static Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now)
}

/// Looks for the global recorder from a fresh thread (which has no local recorder), at most once
/// per [`PROBE_INTERVAL_MS`], until it is found.
#[cold]
fn probe_global() -> usize {
    let now = epoch().elapsed().as_millis() as u64;
    let last = LAST_PROBE_MS.load(Ordering::Relaxed);
    if last != u64::MAX && now.saturating_sub(last) < PROBE_INTERVAL_MS {
        return 0;
    }
    if LAST_PROBE_MS
        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return 0;
    }
    let found = std::thread::scope(|s| {
        s.spawn(|| {
            metrics::with_recorder(|r| {
                if size_of_val(r) == 0 {
                    0
                } else {
                    recorder_addr(r)
                }
            })
        })
        .join()
        .unwrap_or(0)
    });
    if found != 0 {
        GLOBAL_RECORDER.store(found, Ordering::Release);
    }
    found
}

/// Runs `f` with the global recorder, from this thread if no local recorder hides it here, else
/// from a scoped thread. Only used to register a handle the first time an outcome occurs.
#[cold]
fn with_global<T: Send>(f: impl Fn(&dyn Recorder) -> T + Sync) -> T {
    let global = GLOBAL_RECORDER.load(Ordering::Acquire);
    let here = metrics::with_recorder(|r| (recorder_addr(r) == global).then(|| f(r)));
    match here {
        Some(v) => v,
        None => std::thread::scope(|s| {
            s.spawn(|| metrics::with_recorder(&f))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
    }
}

/// The static the macro emits at each annotated function.
pub struct CallSite {
    tool: &'static str,
    labels: [Label; 1],
    cached: OnceLock<SiteHandles>,
    /// When this site last gave an exemplar, in clock nanoseconds.
    #[cfg(feature = "otel")]
    last_exemplar: AtomicU64,
}

pub(crate) struct SiteHandles {
    in_flight: Gauge,
    success: (Counter, Histogram),
    /// Counter and histogram of tool_error, panic and cancelled, registered when first seen.
    rare: [OnceLock<(Counter, Histogram)>; 3],
    error_duration: OnceLock<Histogram>,
    error_counters: [OnceLock<(&'static str, Counter)>; ERROR_SLOTS],
}

/// Where a call records.
pub(crate) enum Handles {
    /// No recorder: nothing is recorded.
    Off,
    /// The global recorder, through this site's cached handles.
    Global(&'static CallSite, &'static SiteHandles),
    /// A local recorder: the in-flight gauge taken at the start; the rest is registered at the end.
    Local(&'static CallSite, Gauge),
}

impl CallSite {
    /// A call site for the tool `tool`.
    pub const fn new(tool: &'static str) -> Self {
        CallSite {
            tool,
            labels: [Label::from_static_parts(label::TOOL, tool)],
            cached: OnceLock::new(),
            #[cfg(feature = "otel")]
            last_exemplar: AtomicU64::new(0),
        }
    }

    /// The tool name.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    fn key(
        &'static self,
        name: &'static str,
        outcome: Option<&'static str>,
        error_type: Option<&'static str>,
    ) -> Key {
        if outcome.is_none() {
            return Key::from_static_parts(name, &self.labels);
        }
        let mut labels = vec![Label::from_static_parts(label::TOOL, self.tool)];
        if let Some(o) = outcome {
            labels.push(Label::from_static_parts(label::OUTCOME, o));
        }
        if let Some(e) = error_type {
            labels.push(Label::from_static_parts(label::ERROR_TYPE, e));
        }
        Key::from_parts(name, labels)
    }

    fn counter(&'static self, r: &dyn Recorder, outcome: Outcome) -> Counter {
        let key = self.key(
            TOOL_CALLS_TOTAL,
            Some(outcome.as_str()),
            outcome.error_type(),
        );
        r.register_counter(&key, &metadata())
    }

    fn histogram(&'static self, r: &dyn Recorder, outcome: Outcome) -> Histogram {
        let key = self.key(TOOL_DURATION_SECONDS, Some(outcome.as_str()), None);
        r.register_histogram(&key, &metadata())
    }

    fn gauge(&'static self, r: &dyn Recorder) -> Gauge {
        r.register_gauge(&self.key(TOOL_CALLS_IN_FLIGHT, None, None), &metadata())
    }

    /// Picks the handles for a call starting now.
    #[inline]
    pub(crate) fn handles(&'static self) -> Handles {
        metrics::with_recorder(|r| {
            let addr = recorder_addr(r);
            if addr == GLOBAL_RECORDER.load(Ordering::Relaxed) {
                return Handles::Global(self, self.cached.get_or_init(|| self.register(r)));
            }
            self.handles_slow(r, addr)
        })
    }

    #[cold]
    fn handles_slow(&'static self, r: &dyn Recorder, addr: usize) -> Handles {
        if size_of_val(r) == 0 {
            return Handles::Off;
        }
        if GLOBAL_RECORDER.load(Ordering::Acquire) == 0 && probe_global() == addr {
            return Handles::Global(self, self.cached.get_or_init(|| self.register(r)));
        }
        Handles::Local(self, self.gauge(r))
    }

    fn register(&'static self, r: &dyn Recorder) -> SiteHandles {
        clock(); // calibrate once here, not inside a timed call
        SiteHandles {
            in_flight: self.gauge(r),
            success: (
                self.counter(r, Outcome::Success),
                self.histogram(r, Outcome::Success),
            ),
            rare: Default::default(),
            error_duration: OnceLock::new(),
            error_counters: Default::default(),
        }
    }
}

fn metadata() -> metrics::Metadata<'static> {
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

impl SiteHandles {
    fn error_counter(&self, site: &'static CallSite, kind: &'static str) -> Counter {
        for slot in &self.error_counters {
            let (k, c) = slot.get_or_init(|| {
                (
                    kind,
                    with_global(|r| site.counter(r, Outcome::server_error(kind))),
                )
            });
            if core::ptr::eq(*k, kind) || *k == kind {
                return c.clone();
            }
        }
        with_global(|r| site.counter(r, Outcome::server_error(kind)))
    }
}

/// Exemplars per call site: at most one a second.
#[cfg(feature = "otel")]
const EXEMPLAR_INTERVAL_NS: u64 = 1_000_000_000;

impl Handles {
    /// Whether this call may give an exemplar: claims the site's slot for the next second.
    #[cfg(feature = "otel")]
    #[inline]
    pub(crate) fn exemplar_due(&self, now_ns: u64) -> bool {
        let site = match self {
            Handles::Off => return false,
            Handles::Global(site, _) | Handles::Local(site, _) => site,
        };
        let last = site.last_exemplar.load(Ordering::Relaxed);
        (last == 0 || now_ns.saturating_sub(last) >= EXEMPLAR_INTERVAL_NS)
            && site
                .last_exemplar
                .compare_exchange(last, now_ns.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Counts the call in flight; false when nothing is recorded.
    #[inline]
    pub(crate) fn start(&self) -> bool {
        match self {
            Handles::Off => return false,
            Handles::Global(_, h) => h.in_flight.increment(1.0),
            Handles::Local(_, g) => g.increment(1.0),
        }
        true
    }

    #[inline]
    pub(crate) fn finish(&self, outcome: Outcome, seconds: f64) {
        match self {
            Handles::Off => {}
            Handles::Global(site, h) => {
                match outcome {
                    Outcome::Success => {
                        h.success.0.increment(1);
                        h.success.1.record(seconds);
                    }
                    Outcome::Error { kind, .. } => Self::error(site, h, kind, seconds),
                    _ => Self::rare(site, h, outcome, seconds),
                }
                h.in_flight.decrement(1.0);
            }
            Handles::Local(site, g) => {
                metrics::with_recorder(|r| {
                    site.counter(r, outcome).increment(1);
                    site.histogram(r, outcome).record(seconds);
                });
                g.decrement(1.0);
            }
        }
    }

    #[cold]
    fn error(site: &'static CallSite, h: &SiteHandles, kind: &'static str, seconds: f64) {
        h.error_counter(site, kind).increment(1);
        h.error_duration
            .get_or_init(|| with_global(|r| site.histogram(r, Outcome::server_error(kind))))
            .record(seconds);
    }

    #[cold]
    fn rare(site: &'static CallSite, h: &SiteHandles, outcome: Outcome, seconds: f64) {
        let i = match outcome {
            Outcome::ToolError => 0,
            Outcome::Panic => 1,
            _ => 2,
        };
        let (c, hist) = h.rare[i].get_or_init(|| {
            with_global(|r| (site.counter(r, outcome), site.histogram(r, outcome)))
        });
        c.increment(1);
        hist.record(seconds);
    }
}
