//! What the live page reads from the registry: the tool and operation duration histograms added
//! up per tool and per client, the in-flight and session gauges, the tool histogram's exemplars,
//! the dropped-series counter and the build info.
//!
//! The series of the four families it adds up are resolved once into an [`Index`]: the storage
//! of each series with the row it adds to. A refresh then reads their atomics from a flat list,
//! without the registry's lock, label look-ups or string comparisons; the index is brought up to
//! date only when a family has gained series (series are never removed). The rest of the
//! registry is never walked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use mcp_metrics::Fault;
use mcp_metrics::names;
use mcp_metrics::names::label::{CLIENT_NAME, FAULT, TOOL};
use mcp_metrics::store::{Gauge, Histogram, StoredExemplar};

use crate::registry::{Family, Labels, State, Value};

/// Calls of one tool or requests of one client, added up over their series.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Totals {
    /// Per-bucket counts, not cumulative, `+Inf` last.
    pub(crate) buckets: Vec<u64>,
    /// Calls that failed by the server's fault (`fault="server"`).
    pub(crate) server: u64,
    /// Calls that failed by the caller's fault (`fault="client"`).
    pub(crate) client: u64,
}

impl Totals {
    /// Adds the series `h`, whose `fault` label is `fault`.
    fn add(&mut self, h: &Histogram, fault: Option<Fault>) {
        let mut count = 0;
        if self.buckets.is_empty() {
            self.buckets = vec![0; h.bounds().len() + 1];
        }
        for (total, n) in self.buckets.iter_mut().zip(h.bucket_counts()) {
            *total += n;
            count += n;
        }
        match fault {
            Some(Fault::Server) => self.server += count,
            Some(Fault::Client) => self.client += count,
            None => {}
        }
    }

    /// Every observation.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// What was added since `base` (nothing before means everything is new).
    pub(crate) fn since(&self, base: Option<&Totals>) -> Totals {
        let Some(base) = base else {
            return self.clone();
        };
        let bucket =
            |(i, n): (usize, &u64)| n.saturating_sub(base.buckets.get(i).copied().unwrap_or(0));
        Totals {
            buckets: self.buckets.iter().enumerate().map(bucket).collect(),
            server: self.server.saturating_sub(base.server),
            client: self.client.saturating_sub(base.client),
        }
    }
}

/// Rows of a table by name: a tool or a client.
pub(crate) type Rows<T> = BTreeMap<Arc<str>, T>;

/// The cumulative totals at one moment, the part of a reading the page's history keeps.
#[derive(Debug)]
pub(crate) struct Counts {
    /// When they were read.
    pub(crate) at: Instant,
    /// `mcp_tool_duration_seconds` by `tool`.
    pub(crate) tools: Rows<Totals>,
    /// `mcp_server_operation_duration_seconds` by `client_name`.
    pub(crate) clients: Rows<Totals>,
}

impl Counts {
    /// Nothing counted yet, as at the registry's start.
    pub(crate) fn empty(at: Instant) -> Self {
        Self {
            at,
            tools: Rows::new(),
            clients: Rows::new(),
        }
    }
}

/// The value of label `name`.
pub(crate) fn label<'a>(labels: &'a Labels, name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn fault_of(labels: &Labels) -> Option<Fault> {
    match label(labels, FAULT)? {
        f if f == Fault::Server.as_str() => Some(Fault::Server),
        f if f == Fault::Client.as_str() => Some(Fault::Client),
        _ => None,
    }
}

/// The storage of one kind of series.
trait Storage: Sized {
    fn of(value: &Value) -> Option<Self>;
}

impl Storage for Arc<Histogram> {
    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::Histogram(h) => Some(h.clone()),
            _ => None,
        }
    }
}

impl Storage for Arc<Gauge> {
    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::Gauge(g) => Some(g.clone()),
            _ => None,
        }
    }
}

/// One series of a family: its storage, the row it adds to, its labels and fault.
#[derive(Debug)]
struct Member<V> {
    value: V,
    row: usize,
    labels: Labels,
    fault: Option<Fault>,
}

/// The series of family `family` grouped by the value of label `by`.
#[derive(Debug)]
struct Grouped<V> {
    family: &'static str,
    by: &'static str,
    /// How many series the family had when the members were resolved.
    seen: usize,
    /// The rows, sorted by name.
    rows: Vec<Arc<str>>,
    members: Vec<Member<V>>,
    /// The family's bucket bounds (histograms).
    bounds: Arc<[f64]>,
}

impl<V: Storage> Grouped<V> {
    fn new(family: &'static str, by: &'static str) -> Self {
        Self {
            family,
            by,
            seen: 0,
            rows: Vec::new(),
            members: Vec::new(),
            bounds: Arc::new([]),
        }
    }

    /// Resolves the members again when the family has gained series.
    fn update(&mut self, state: &State) {
        let Some(family) = state.families.get(self.family) else {
            return;
        };
        if family.series.len() != self.seen {
            self.resolve(family);
        }
    }

    fn resolve(&mut self, family: &Family) {
        let keyed = family.series.iter().filter_map(|(labels, series)| {
            Some((label(labels, self.by)?, labels, V::of(&series.value)?))
        });
        let keyed: Vec<_> = keyed.collect();
        let mut rows: Vec<&str> = keyed.iter().map(|(key, ..)| *key).collect();
        rows.sort_unstable();
        rows.dedup();
        self.members = keyed
            .into_iter()
            .map(|(key, labels, value)| Member {
                row: rows.binary_search(&key).unwrap_or_default(),
                fault: fault_of(labels),
                labels: labels.clone(),
                value,
            })
            .collect();
        self.rows = rows.into_iter().map(Arc::from).collect();
        self.bounds = family
            .buckets
            .as_ref()
            .map_or(&[][..], |b| b.bounds())
            .into();
        self.seen = family.series.len();
    }

    /// Adds up the members of each row with `add`.
    fn sum<T: Default>(&self, add: impl Fn(&mut T, &Member<V>)) -> Rows<T> {
        let mut totals: Vec<T> = self.rows.iter().map(|_| T::default()).collect();
        for member in &self.members {
            add(&mut totals[member.row], member);
        }
        self.rows.iter().cloned().zip(totals).collect()
    }
}

/// The four families the page adds up, resolved.
#[derive(Debug)]
pub(crate) struct Index {
    tools: Grouped<Arc<Histogram>>,
    clients: Grouped<Arc<Histogram>>,
    in_flight: Grouped<Arc<Gauge>>,
    sessions: Grouped<Arc<Gauge>>,
}

impl Default for Index {
    fn default() -> Self {
        Self {
            tools: Grouped::new(names::TOOL_DURATION_SECONDS, TOOL),
            clients: Grouped::new(names::SERVER_OPERATION_DURATION_SECONDS, CLIENT_NAME),
            in_flight: Grouped::new(names::TOOL_CALLS_IN_FLIGHT, TOOL),
            sessions: Grouped::new(names::SERVER_SESSIONS_ACTIVE, CLIENT_NAME),
        }
    }
}

fn add_histogram(totals: &mut Totals, member: &Member<Arc<Histogram>>) {
    totals.add(&member.value, member.fault);
}

fn add_gauge(total: &mut f64, member: &Member<Arc<Gauge>>) {
    *total += member.value.value();
}

impl Index {
    /// Resolves the series the families gained since the last update.
    pub(crate) fn update(&mut self, state: &State) {
        self.tools.update(state);
        self.clients.update(state);
        self.in_flight.update(state);
        self.sessions.update(state);
    }

    /// Both duration histograms, added up now.
    pub(crate) fn counts(&self, at: Instant) -> Counts {
        Counts {
            at,
            tools: self.tools.sum(add_histogram),
            clients: self.clients.sum(add_histogram),
        }
    }

    /// Calls in flight by tool.
    pub(crate) fn in_flight(&self) -> Rows<f64> {
        self.in_flight.sum(add_gauge)
    }

    /// Open sessions by client.
    pub(crate) fn sessions(&self) -> Rows<f64> {
        self.sessions.sum(add_gauge)
    }

    /// The bucket bounds of the tool and of the operation histograms.
    pub(crate) fn bounds(&self) -> (&[f64], &[f64]) {
        (&self.tools.bounds, &self.clients.bounds)
    }

    /// The newest `limit` exemplars of the tool histogram for which `keep` holds, newest first.
    pub(crate) fn exemplars(
        &self,
        limit: usize,
        keep: impl Fn(&Labels, &StoredExemplar) -> bool,
    ) -> Vec<Traced<'_>> {
        let mut found = Vec::new();
        for member in &self.tools.members {
            let kept = member.value.exemplars().into_iter().flatten().flatten();
            let labels = &member.labels;
            found.extend(
                kept.filter(|e| keep(labels, e))
                    .map(|exemplar| Traced { labels, exemplar }),
            );
        }
        found.sort_by(|a, b| b.exemplar.timestamp.total_cmp(&a.exemplar.timestamp));
        found.truncate(limit);
        found
    }
}

/// An exemplar of `mcp_tool_duration_seconds` with the labels of its series.
#[derive(Debug)]
pub(crate) struct Traced<'a> {
    /// The labels of the series: `tool`, `outcome`, `error_type`, `fault`.
    pub(crate) labels: &'a Labels,
    /// The exemplar.
    pub(crate) exemplar: StoredExemplar,
}

/// What the page shows of the rest of the registry.
#[derive(Debug, Default)]
pub(crate) struct About {
    /// `service` and `version` of `mcp_build_info`.
    pub(crate) build: Option<(String, String)>,
    /// Series refused by the registry, over every metric and reason.
    pub(crate) dropped_series: u64,
}

impl About {
    pub(crate) fn read(state: &State) -> Self {
        let build = state.families.get(names::BUILD_INFO).and_then(|f| {
            let (labels, _) = f.series.iter().next()?;
            let get = |name| label(labels, name).unwrap_or_default().to_owned();
            Some((get("service"), get("version")))
        });
        let dropped = state.families.get(names::DROPPED_SERIES_TOTAL);
        let dropped_series = dropped
            .into_iter()
            .flat_map(|f| f.series.values())
            .map(|s| match &s.value {
                Value::Counter(c) => c.value(),
                _ => 0,
            })
            .sum();
        Self {
            build,
            dropped_series,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn registry() -> Registry {
        let registry = Registry::default();
        metrics::with_local_recorder(&registry, || {
            let tool = names::TOOL_DURATION_SECONDS;
            metrics::histogram!(tool, "tool" => "a", "outcome" => "success").record(0.003);
            metrics::histogram!(tool, "tool" => "a", "outcome" => "success").record(0.3);
            let failed = metrics::histogram!(tool, "tool" => "a", "outcome" => "error",
                "error_type" => "x", "fault" => "server");
            failed.record(0.004);
            metrics::histogram!(tool, "tool" => "b", "outcome" => "tool_error",
                "error_type" => "tool_error", "fault" => "client")
            .record(7.0);
            let ops = names::SERVER_OPERATION_DURATION_SECONDS;
            metrics::histogram!(ops, "method" => "initialize", "outcome" => "success",
                "client_name" => "cli")
            .record(0.001);
            metrics::gauge!(names::TOOL_CALLS_IN_FLIGHT, "tool" => "a").set(2.0);
            metrics::gauge!(names::SERVER_SESSIONS_ACTIVE, "client_name" => "cli").set(1.0);
        });
        registry
    }

    fn index(registry: &Registry) -> Index {
        let mut index = Index::default();
        index.update(&registry.read());
        index
    }

    #[test]
    fn histograms_add_up_per_tool_and_client_with_faults() {
        let registry = registry();
        let index = index(&registry);
        let counts = index.counts(Instant::now());
        let a = &counts.tools["a"];
        assert_eq!((a.count(), a.server, a.client), (3, 1, 0));
        assert_eq!(
            a.buckets[0..3],
            [0, 2, 0],
            "0.003 and 0.004 in (0.001, 0.005]"
        );
        let b = &counts.tools["b"];
        assert_eq!((b.count(), b.server, b.client), (1, 0, 1));
        assert_eq!(counts.clients["cli"].count(), 1);
        assert_eq!(index.in_flight()["a"], 2.0);
        assert_eq!(index.sessions()["cli"], 1.0);
        assert_eq!(index.bounds().0, names::DEFAULT_DURATION_BUCKETS);
        assert_eq!(About::read(&registry.read()).dropped_series, 0);
    }

    #[test]
    fn the_index_follows_new_series_and_reads_new_values_without_them() {
        let registry = registry();
        let mut index = index(&registry);
        metrics::with_local_recorder(&registry, || {
            let tool = names::TOOL_DURATION_SECONDS;
            metrics::histogram!(tool, "tool" => "a", "outcome" => "success").record(0.003);
        });
        assert_eq!(
            index.counts(Instant::now()).tools["a"].count(),
            4,
            "no update needed"
        );
        metrics::with_local_recorder(&registry, || {
            let tool = names::TOOL_DURATION_SECONDS;
            metrics::histogram!(tool, "tool" => "c", "outcome" => "success").record(0.003);
        });
        assert!(!index.counts(Instant::now()).tools.contains_key("c"));
        index.update(&registry.read());
        let counts = index.counts(Instant::now());
        let names: Vec<&str> = counts.tools.keys().map(|k| &**k).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(counts.tools["a"].count(), 4);
    }

    #[test]
    fn differences_never_go_below_zero() {
        let now = Totals {
            buckets: vec![3, 1],
            server: 2,
            client: 0,
        };
        let base = Totals {
            buckets: vec![1, 1],
            server: 1,
            client: 0,
        };
        let diff = Totals {
            buckets: vec![2, 0],
            server: 1,
            client: 0,
        };
        assert_eq!(now.since(Some(&base)), diff);
        assert_eq!(base.since(Some(&now)).count(), 0);
        assert_eq!(now.since(None), now);
    }
}
