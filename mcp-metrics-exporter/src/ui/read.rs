//! What the live page reads from the registry: the tool and operation duration histograms added
//! up per tool and per client, the in-flight and session gauges, the tool histogram's exemplars,
//! the dropped-series counter and the build info. It looks these few families up by name and
//! never walks the rest of the registry.

use std::collections::BTreeMap;
use std::time::Instant;

use mcp_metrics::Fault;
use mcp_metrics::names;
use mcp_metrics::names::label::{CLIENT_NAME, FAULT, TOOL};
use mcp_metrics::store::{Histogram, StoredExemplar};

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
    fn add(&mut self, h: &Histogram, fault: Option<&str>) {
        let mut count = 0;
        if self.buckets.is_empty() {
            self.buckets = vec![0; h.bounds().len() + 1];
        }
        for (total, n) in self.buckets.iter_mut().zip(h.bucket_counts()) {
            *total += n;
            count += n;
        }
        if fault == Some(Fault::Server.as_str()) {
            self.server += count;
        } else if fault == Some(Fault::Client.as_str()) {
            self.client += count;
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

/// The cumulative totals at one moment, the part of a reading the page's history keeps.
#[derive(Debug)]
pub(crate) struct Counts {
    /// When they were read.
    pub(crate) at: Instant,
    /// `mcp_tool_duration_seconds` by `tool`.
    pub(crate) tools: BTreeMap<String, Totals>,
    /// `mcp_server_operation_duration_seconds` by `client_name`.
    pub(crate) clients: BTreeMap<String, Totals>,
}

impl Counts {
    /// Nothing counted yet, as at the registry's start.
    pub(crate) fn empty(at: Instant) -> Self {
        Self {
            at,
            tools: BTreeMap::new(),
            clients: BTreeMap::new(),
        }
    }

    /// Reads both duration histograms of `state`.
    pub(crate) fn read(state: &State, at: Instant) -> Self {
        Self {
            at,
            tools: totals_by(state, names::TOOL_DURATION_SECONDS, TOOL),
            clients: totals_by(state, names::SERVER_OPERATION_DURATION_SECONDS, CLIENT_NAME),
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

fn family<'a>(state: &'a State, name: &str) -> Option<&'a Family> {
    state.families.get(name)
}

/// The upper bounds of histogram family `name`, empty when it has no series yet.
pub(crate) fn bounds<'a>(state: &'a State, name: &str) -> &'a [f64] {
    family(state, name)
        .and_then(|f| f.buckets.as_ref())
        .map_or(&[], |b| b.bounds())
}

/// The histograms of family `name` added up by the value of label `by`.
fn totals_by(state: &State, name: &str, by: &str) -> BTreeMap<String, Totals> {
    let mut out: BTreeMap<&str, Totals> = BTreeMap::new();
    for (labels, series) in family(state, name).into_iter().flat_map(|f| &f.series) {
        if let (Value::Histogram(h), Some(key)) = (&series.value, label(labels, by)) {
            let fault = label(labels, FAULT);
            out.entry(key).or_default().add(h, fault);
        }
    }
    out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The gauges of family `name` added up by the value of label `by`.
pub(crate) fn gauges_by(state: &State, name: &str, by: &str) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<&str, f64> = BTreeMap::new();
    for (labels, series) in family(state, name).into_iter().flat_map(|f| &f.series) {
        if let (Value::Gauge(g), Some(key)) = (&series.value, label(labels, by)) {
            *out.entry(key).or_default() += g.value();
        }
    }
    out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Series refused by the registry, over every metric and reason.
pub(crate) fn dropped_series(state: &State) -> u64 {
    let series = family(state, names::DROPPED_SERIES_TOTAL)
        .into_iter()
        .flat_map(|f| f.series.values());
    series
        .map(|s| match &s.value {
            Value::Counter(c) => c.load(std::sync::atomic::Ordering::Relaxed),
            _ => 0,
        })
        .sum()
}

/// The `service` and `version` labels of `mcp_build_info`.
pub(crate) fn build_info(state: &State) -> Option<(String, String)> {
    let (labels, _) = family(state, names::BUILD_INFO)?.series.iter().next()?;
    let get = |name| label(labels, name).unwrap_or_default().to_owned();
    Some((get("service"), get("version")))
}

/// An exemplar of `mcp_tool_duration_seconds` with the labels of its series.
#[derive(Debug)]
pub(crate) struct Traced<'a> {
    /// The labels of the series: `tool`, `outcome`, `error_type`, `fault`.
    pub(crate) labels: &'a Labels,
    /// The exemplar.
    pub(crate) exemplar: StoredExemplar,
}

/// The newest `limit` exemplars of the tool histogram for which `keep` holds, newest first.
pub(crate) fn exemplars<'a>(
    state: &'a State,
    limit: usize,
    keep: impl Fn(&Labels, &StoredExemplar) -> bool,
) -> Vec<Traced<'a>> {
    let mut found = Vec::new();
    for (labels, series) in family(state, names::TOOL_DURATION_SECONDS)
        .into_iter()
        .flat_map(|f| &f.series)
    {
        let Value::Histogram(h) = &series.value else {
            continue;
        };
        let kept = h.exemplars().into_iter().flatten().flatten();
        found.extend(
            kept.filter(|e| keep(labels, e))
                .map(|exemplar| Traced { labels, exemplar }),
        );
    }
    found.sort_by(|a, b| b.exemplar.timestamp.total_cmp(&a.exemplar.timestamp));
    found.truncate(limit);
    found
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

    #[test]
    fn histograms_add_up_per_tool_and_client_with_faults() {
        let registry = registry();
        let state = registry.read();
        let counts = Counts::read(&state, Instant::now());
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
        assert_eq!(
            gauges_by(&state, names::TOOL_CALLS_IN_FLIGHT, "tool")["a"],
            2.0
        );
        assert_eq!(
            gauges_by(&state, names::SERVER_SESSIONS_ACTIVE, "client_name")["cli"],
            1.0
        );
        assert_eq!(
            bounds(&state, names::TOOL_DURATION_SECONDS),
            names::DEFAULT_DURATION_BUCKETS
        );
        assert_eq!(dropped_series(&state), 0);
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
        assert_eq!(
            now.since(Some(&base)),
            Totals {
                buckets: vec![2, 0],
                server: 1,
                client: 0
            }
        );
        assert_eq!(base.since(Some(&now)).count(), 0);
        assert_eq!(now.since(None), now);
    }
}
