//! An in-memory recorder for behaviour tests.
#![allow(dead_code, unreachable_pub)]

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Runs `f` with a fresh local recorder and returns what it recorded.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Metrics) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let out = metrics::with_local_recorder(&recorder, f);
    (out, Metrics::take(&snapshotter))
}

/// Runs a future to completion on a current-thread runtime under a fresh local recorder.
pub fn record_async<F: std::future::Future>(f: F) -> (F::Output, Metrics) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    record(|| rt.block_on(f))
}

/// A snapshot of recorded values, keyed by name and sorted labels.
#[derive(Debug)]
pub struct Metrics(Vec<Entry>);

/// Kind, name, sorted labels and value of one series.
type Entry = (MetricKind, String, Vec<(String, String)>, DebugValue);

impl Metrics {
    pub fn take(s: &Snapshotter) -> Self {
        let mut v = Vec::new();
        for (ck, _unit, _desc, value) in s.snapshot().into_vec() {
            let (kind, key) = ck.into_parts();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            v.push((kind, key.name().to_owned(), labels, value));
        }
        Metrics(v)
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        let mut want: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        want.sort();
        self.0
            .iter()
            .find(|(_, n, l, _)| n == name && *l == want)
            .map(|(_, _, _, v)| v)
    }

    /// The value of a counter, or 0 when it was never registered.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(v)) => *v,
            None => 0,
            Some(other) => panic!("{name} is not a counter: {other:?}"),
        }
    }

    /// The value of a gauge; panics when it was never registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.find(name, labels) {
            Some(DebugValue::Gauge(v)) => v.into_inner(),
            other => panic!("{name}{labels:?} is not a registered gauge: {other:?}"),
        }
    }

    /// Whether any series of `name` was registered, whatever its labels.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(_, n, _, _)| n == name)
    }

    /// The samples of a histogram (empty when never registered).
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Histogram(v)) => v.iter().map(|x| x.into_inner()).collect(),
            None => Vec::new(),
            Some(other) => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    /// The label sets of the duration series of `tool`.
    pub fn series_of(&self, tool: &str) -> Vec<Vec<(String, String)>> {
        self.0
            .iter()
            .filter(|(_, n, l, _)| {
                n == "mcp_tool_duration_seconds" && l.iter().any(|(k, v)| k == "tool" && v == tool)
            })
            .map(|(_, _, l, _)| l.clone())
            .collect()
    }

    /// Calls of `tool` with `outcome` (and `error_type` when given, none when not), whatever
    /// the fault: the number of durations recorded in that series.
    pub fn calls(&self, tool: &str, outcome: &str, error_type: Option<&str>) -> u64 {
        self.calls_where(tool, outcome, error_type, None)
    }

    /// Calls as [`Metrics::calls`], of the given fault (`client` or `server`).
    pub fn calls_with_fault(
        &self,
        tool: &str,
        outcome: &str,
        error_type: Option<&str>,
        fault: &str,
    ) -> u64 {
        self.calls_where(tool, outcome, error_type, Some(fault))
    }

    fn calls_where(
        &self,
        tool: &str,
        outcome: &str,
        error_type: Option<&str>,
        fault: Option<&str>,
    ) -> u64 {
        let value = |labels: &[(String, String)], key: &str| {
            labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        self.0
            .iter()
            .filter(|(_, n, l, _)| {
                n == "mcp_tool_duration_seconds"
                    && value(l, "tool").as_deref() == Some(tool)
                    && value(l, "outcome").as_deref() == Some(outcome)
                    && value(l, "error_type").as_deref() == error_type
                    && fault.is_none_or(|f| value(l, "fault").as_deref() == Some(f))
            })
            .map(|(_, _, _, v)| match v {
                DebugValue::Histogram(samples) => samples.len() as u64,
                other => panic!("mcp_tool_duration_seconds is not a histogram: {other:?}"),
            })
            .sum()
    }

    /// Total calls of `tool`, whatever the outcome.
    pub fn all_calls(&self, tool: &str) -> u64 {
        self.0
            .iter()
            .filter(|(_, n, l, _)| {
                n == "mcp_tool_duration_seconds" && l.iter().any(|(k, v)| k == "tool" && v == tool)
            })
            .map(|(_, _, _, v)| match v {
                DebugValue::Histogram(samples) => samples.len() as u64,
                _ => 0,
            })
            .sum()
    }

    pub fn in_flight(&self, tool: &str) -> f64 {
        self.gauge("mcp_tool_calls_in_flight", &[("tool", tool)])
    }

    /// The durations recorded for `tool` with `outcome`, whatever the error type and fault.
    pub fn durations(&self, tool: &str, outcome: &str) -> Vec<f64> {
        self.0
            .iter()
            .filter(|(_, n, l, _)| {
                n == "mcp_tool_duration_seconds"
                    && l.iter().any(|(k, v)| k == "tool" && v == tool)
                    && l.iter().any(|(k, v)| k == "outcome" && v == outcome)
            })
            .flat_map(|(_, _, _, v)| match v {
                DebugValue::Histogram(samples) => samples.iter().map(|x| x.into_inner()).collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}
