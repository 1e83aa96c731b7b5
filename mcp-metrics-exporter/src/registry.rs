//! The metric store: families by name, series by labels, the [`metrics::Recorder`] on top, and
//! the [`mcp_metrics::store::Store`] through which `mcp-metrics` instruments reach the atomics.
//!
//! Registration (the slow path) takes a lock, checks names, labels and limits, and hands out
//! `Arc`s to atomics (wrapped in `metrics` handles for the `Recorder`); recording takes no lock
//! and allocates nothing. Series are never removed, so a handle stays valid for the life of the
//! registry.
//!
//! Each family also caches what a render reads of it ([`FamilyView`]); a change to the family
//! (a new series, a description) retires the cache, and the next render builds a new one from
//! the retired one and the series added since.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use mcp_metrics::names;
use mcp_metrics::store::{
    Counter as AtomicCounter, Gauge as AtomicGauge, Histogram as AtomicHistogram,
};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use crate::histogram::Buckets;
use crate::render::FamilyView;
use crate::rules::{DEFAULT_SERIES_LIMIT, RegistryConfig};
use crate::sanitize;

/// The three kinds of metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// The storage behind one series.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Counter(Arc<AtomicCounter>),
    Gauge(Arc<AtomicGauge>),
    Histogram(Arc<AtomicHistogram>),
}

/// Sanitised label names with their values, sorted by name.
pub(crate) type Labels = Vec<(String, String)>;

/// One series: its storage.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) value: Value,
    /// How many series the family had before this one. Series are never removed, so a view
    /// built when the family had `n` series holds exactly those with `added < n`.
    pub(crate) added: usize,
}

/// All series of one metric name.
#[derive(Debug)]
pub(crate) struct Family {
    /// Name in the 0.0.4 text format; a counter's ends in `_total`.
    pub(crate) name: String,
    /// Name as registered through `metrics`.
    pub(crate) raw_name: String,
    pub(crate) kind: Kind,
    limit: usize,
    /// The buckets of every series of a histogram family, with their `le` values.
    pub(crate) buckets: Option<Buckets>,
    pub(crate) series: BTreeMap<Labels, Series>,
    /// What a render reads, built by the first render after the family last changed.
    pub(crate) view: OnceLock<Arc<FamilyView>>,
    /// The last view built, once the family has changed since: the next one is built from it.
    pub(crate) retired: Mutex<Option<Arc<FamilyView>>>,
}

impl Family {
    /// Adds a series.
    fn insert(&mut self, labels: Labels, value: Value) {
        let added = self.series.len();
        self.series.insert(labels, Series { value, added });
        self.retire_view();
    }

    /// Moves the current view aside: it no longer describes the family.
    fn retire_view(&mut self) {
        if let Some(view) = self.view.take() {
            *self
                .retired
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner) = Some(view);
        }
    }
}

/// HELP text and unit from a `describe_*` call.
#[derive(Debug, Clone)]
pub(crate) struct Description {
    pub(crate) help: SharedString,
    pub(crate) unit: Option<Unit>,
}

/// Why a registration was refused; the `reason` label of the dropped-series counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Refusal {
    SeriesLimit,
    KindConflict,
    NameCollision,
    InvalidLabels,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::SeriesLimit => "series_limit",
            Self::KindConflict => "kind_conflict",
            Self::NameCollision => "name_collision",
            Self::InvalidLabels => "invalid_labels",
        }
    }
}

/// Everything behind the lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Families by exposition name, so iteration is sorted.
    pub(crate) families: BTreeMap<String, Family>,
    /// Registered name → exposition name.
    by_raw: HashMap<String, String>,
    /// Every sample name a family can emit (`x_bucket`, `x_sum`, ...) → exposition name.
    claimed: HashMap<String, String>,
    /// Registered name → description.
    pub(crate) descriptions: HashMap<String, Description>,
    counters: HashMap<Key, Arc<AtomicCounter>>,
    gauges: HashMap<Key, Arc<AtomicGauge>>,
    histograms: HashMap<Key, Arc<AtomicHistogram>>,
    warned: HashSet<(String, Refusal)>,
}

#[derive(Debug)]
struct Inner {
    config: RegistryConfig,
    state: RwLock<State>,
    started: SystemTime,
    /// Size of the last rendering, to size the next buffer.
    render_hint: AtomicUsize,
}

/// The metric store and [`metrics::Recorder`] of this crate.
///
/// Cloning is cheap and every clone sees the same metrics.
///
/// ```
/// use mcp_metrics_exporter::Registry;
///
/// let registry = Registry::default();
/// metrics::with_local_recorder(&registry, || {
///     metrics::counter!("jobs_total", "queue" => "default").increment(2);
/// });
/// assert!(registry.render_prometheus().contains("jobs_total{queue=\"default\"} 2"));
/// ```
#[derive(Clone, Debug)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(RegistryConfig::default())
    }
}

impl Registry {
    /// An empty registry with these settings.
    pub fn new(config: RegistryConfig) -> Self {
        let mut state = State::default();
        let dropped_limit = config.series_limit.max(DEFAULT_SERIES_LIMIT);
        let name = names::DROPPED_SERIES_TOTAL;
        // The registry is empty, so this name cannot collide.
        let _ = state.family(Kind::Counter, name, dropped_limit, None);
        state.descriptions.insert(
            name.to_owned(),
            Description {
                help: "Series refused by the metrics exporter, by metric and reason \
                       (series_limit, kind_conflict, name_collision, invalid_labels)."
                    .into(),
                unit: None,
            },
        );
        let inner = Inner {
            config,
            state: RwLock::new(state),
            started: SystemTime::now(),
            render_hint: AtomicUsize::new(4096),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// When this registry was created: the start of every cumulative series.
    pub fn start_time(&self) -> SystemTime {
        self.inner.started
    }

    /// Number of series held, over all metrics.
    pub fn series_count(&self) -> usize {
        self.read().families.values().map(|f| f.series.len()).sum()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn render_hint(&self) -> usize {
        self.inner.render_hint.load(Ordering::Relaxed)
    }

    pub(crate) fn set_render_hint(&self, len: usize) {
        self.inner.render_hint.store(len, Ordering::Relaxed);
    }

    /// Describes one metric of the catalog: its help text and unit.
    pub(crate) fn describe_metric(&self, metric: &mcp_metrics::catalog::Metric) {
        let unit = match metric.unit {
            "s" => Some(Unit::Seconds),
            "By" => Some(Unit::Bytes),
            _ => None,
        };
        self.describe(metric.name, unit, SharedString::const_str(metric.help));
    }

    fn describe(&self, name: &str, unit: Option<Unit>, help: SharedString) {
        let mut state = self.write();
        // The first description of a name wins, as in the other `metrics` exporters.
        if state.descriptions.contains_key(name) {
            return;
        }
        state
            .descriptions
            .insert(name.to_owned(), Description { help, unit });
        // The family's view holds the HELP text it had.
        if let Some(exposed) = state.by_raw.get(name).cloned()
            && let Some(family) = state.families.get_mut(&exposed)
        {
            family.retire_view();
        }
    }

    /// Returns the storage of `key`, creating it if needed, or `None` when it is refused.
    fn register(&self, kind: Kind, key: &Key) -> Option<Value> {
        if let Some(value) = self.read().cached(kind, key) {
            return Some(value);
        }
        let (refusal, first) = {
            let mut state = self.write();
            if let Some(value) = state.cached(kind, key) {
                return Some(value);
            }
            match state.create(kind, key, &self.inner.config) {
                Ok(value) => {
                    state.cache(key, &value);
                    return Some(value);
                }
                Err(refusal) => (refusal, state.refuse(key.name(), refusal)),
            }
        };
        // Logged after the lock is released: a tracing layer may itself record metrics.
        if first {
            tracing::warn!(
                metric = key.name(),
                kind = kind.as_str(),
                reason = refusal.as_str(),
                "metrics exporter refused a series; further refusals of this metric are only counted in {}",
                names::DROPPED_SERIES_TOTAL,
            );
        }
        None
    }
}

impl State {
    fn cached(&self, kind: Kind, key: &Key) -> Option<Value> {
        match kind {
            Kind::Counter => self.counters.get(key).cloned().map(Value::Counter),
            Kind::Gauge => self.gauges.get(key).cloned().map(Value::Gauge),
            Kind::Histogram => self.histograms.get(key).cloned().map(Value::Histogram),
        }
    }

    fn cache(&mut self, key: &Key, value: &Value) {
        let key = key.clone();
        match value {
            Value::Counter(a) => drop(self.counters.insert(key, a.clone())),
            Value::Gauge(a) => drop(self.gauges.insert(key, a.clone())),
            Value::Histogram(a) => drop(self.histograms.insert(key, a.clone())),
        }
    }

    /// Finds or creates the family of `raw`, refusing a kind or name conflict.
    fn family(
        &mut self,
        kind: Kind,
        raw: &str,
        limit: usize,
        buckets: Option<Buckets>,
    ) -> Result<&mut Family, Refusal> {
        if let Some(name) = self.by_raw.get(raw) {
            let family = self.families.get_mut(name).ok_or(Refusal::NameCollision)?;
            return if family.kind == kind {
                Ok(family)
            } else {
                Err(Refusal::KindConflict)
            };
        }
        let name = exposition_name(kind, raw);
        let claims = sample_names(kind, &name);
        if claims.iter().any(|c| self.claimed.contains_key(c)) {
            return Err(Refusal::NameCollision);
        }
        for claim in claims {
            self.claimed.insert(claim, name.clone());
        }
        self.by_raw.insert(raw.to_owned(), name.clone());
        let family = Family {
            name: name.clone(),
            raw_name: raw.to_owned(),
            kind,
            limit,
            buckets,
            series: BTreeMap::new(),
            view: OnceLock::new(),
            retired: Mutex::new(None),
        };
        Ok(self.families.entry(name).or_insert(family))
    }

    fn create(&mut self, kind: Kind, key: &Key, config: &RegistryConfig) -> Result<Value, Refusal> {
        let labels = labels_of(kind, key)?;
        let name = key.name();
        let buckets = (kind == Kind::Histogram).then(|| config.buckets_for_name(name));
        let family = self.family(kind, name, config.limit_for(name), buckets)?;
        if let Some(series) = family.series.get(&labels) {
            return Ok(series.value.clone());
        }
        if family.series.len() >= family.limit {
            return Err(Refusal::SeriesLimit);
        }
        let value = match kind {
            Kind::Counter => Value::Counter(Arc::new(AtomicCounter::new())),
            Kind::Gauge => Value::Gauge(Arc::new(AtomicGauge::new())),
            Kind::Histogram => {
                let bounds = family.buckets.as_ref().map_or(&[][..], Buckets::bounds);
                Value::Histogram(Arc::new(if config.exponential {
                    AtomicHistogram::with_exponential(bounds)
                } else {
                    AtomicHistogram::new(bounds)
                }))
            }
        };
        family.insert(labels, value.clone());
        Ok(value)
    }

    /// Counts a refusal in the dropped-series counter and warns once per metric and reason.
    /// Returns whether this is the first refusal of `raw` for this reason.
    fn refuse(&mut self, raw: &str, refusal: Refusal) -> bool {
        let first = self.warned.insert((raw.to_owned(), refusal));
        let labels = vec![
            ("metric".to_owned(), raw.to_owned()),
            ("reason".to_owned(), refusal.as_str().to_owned()),
        ];
        let Some(name) = self.by_raw.get(names::DROPPED_SERIES_TOTAL) else {
            return first;
        };
        let Some(family) = self.families.get_mut(name) else {
            return first;
        };
        if let Some(series) = family.series.get(&labels) {
            if let Value::Counter(c) = &series.value {
                c.increment(1);
            }
            return first;
        }
        if family.series.len() < family.limit {
            let counter = AtomicCounter::new();
            counter.increment(1);
            family.insert(labels, Value::Counter(Arc::new(counter)));
        }
        first
    }
}

/// The name a family is exposed under in the 0.0.4 text format.
fn exposition_name(kind: Kind, raw: &str) -> String {
    let mut name = sanitize::metric_name(raw);
    if kind == Kind::Counter && !name.ends_with("_total") {
        name.push_str("_total");
    }
    name
}

/// Every name a family may emit in either text format, so that no two families overlap.
fn sample_names(kind: Kind, name: &str) -> Vec<String> {
    match kind {
        Kind::Counter => vec![name.to_owned(), name.trim_end_matches("_total").to_owned()],
        Kind::Gauge => vec![name.to_owned()],
        Kind::Histogram => ["", "_bucket", "_sum", "_count"]
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect(),
    }
}

/// Sanitised, sorted labels; refuses duplicates after sanitising and reserved names.
fn labels_of(kind: Kind, key: &Key) -> Result<Labels, Refusal> {
    let mut labels: Labels = key
        .labels()
        .map(|l| (sanitize::label_name(l.key()), l.value().to_owned()))
        .collect();
    labels.sort();
    let duplicate = labels.windows(2).any(|w| w[0].0 == w[1].0);
    let reserved = labels
        .iter()
        .any(|(n, _)| n.starts_with("__") || (kind == Kind::Histogram && n == "le"));
    if duplicate || reserved {
        Err(Refusal::InvalidLabels)
    } else {
        Ok(labels)
    }
}

impl Recorder for Registry {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit, description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        match self.register(Kind::Counter, key) {
            Some(Value::Counter(atomic)) => Counter::from_arc(atomic),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        match self.register(Kind::Gauge, key) {
            Some(Value::Gauge(atomic)) => Gauge::from_arc(atomic),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        match self.register(Kind::Histogram, key) {
            Some(Value::Histogram(h)) => Histogram::from_arc(h),
            _ => Histogram::noop(),
        }
    }
}

/// The store of every `mcp-metrics` instrument: the same series as the `Recorder` hands out,
/// without the `metrics` handle around them.
impl mcp_metrics::store::Store for Registry {
    fn histogram(&self, key: &Key) -> Option<Arc<AtomicHistogram>> {
        match self.register(Kind::Histogram, key) {
            Some(Value::Histogram(h)) => Some(h),
            _ => None,
        }
    }

    fn gauge(&self, key: &Key) -> Option<Arc<AtomicGauge>> {
        match self.register(Kind::Gauge, key) {
            Some(Value::Gauge(g)) => Some(g),
            _ => None,
        }
    }

    fn counter(&self, key: &Key) -> Option<Arc<AtomicCounter>> {
        match self.register(Kind::Counter, key) {
            Some(Value::Counter(c)) => Some(c),
            _ => None,
        }
    }
}
