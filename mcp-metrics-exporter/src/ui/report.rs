//! The document `GET /metrics/ui.json` answers: per tool and per client the rates, failure
//! ratios by fault and latency quantiles over the window, with the gauges and the newest slow or
//! failed calls, computed from the registry and the page's history.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mcp_metrics::names::label;
use serde::Serialize;

use super::history::Baseline;
use super::quantile::{bucket_of, quantile};
use super::read::{self, About, Counts, Index, Rows, Totals, Traced};

/// How many slow or failed calls the document lists.
pub(crate) const RECENT_CALLS: usize = 20;

/// The whole document.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// `service` and `version` of `mcp_build_info`, when exported.
    pub(crate) service: Option<String>,
    pub(crate) version: Option<String>,
    /// When the registry was read, in seconds since the Unix epoch.
    pub(crate) time: f64,
    /// Seconds since the registry was created.
    pub(crate) uptime_seconds: f64,
    /// The span rates and quantiles are taken over, in seconds.
    pub(crate) window_seconds: f64,
    /// Whether that span starts at the registry's creation.
    pub(crate) window_from_start: bool,
    /// Every tool together.
    pub(crate) total: Stats,
    /// Calls in flight over every tool.
    pub(crate) in_flight: f64,
    /// Open sessions over every client.
    pub(crate) sessions: f64,
    /// Series the registry refused: calls on them are counted nowhere.
    pub(crate) dropped_series: u64,
    /// Per tool, by name.
    pub(crate) tools: Vec<ToolRow>,
    /// Per client, by name.
    pub(crate) clients: Vec<ClientRow>,
    /// The newest slow or failed calls with a trace, newest first.
    pub(crate) recent: Vec<RecentCall>,
}

/// Calls of a tool (or requests of a client): the count since the start, and over the window
/// the rate, the failure ratios by fault and the latency quantiles (`None` without calls).
#[derive(Debug, Default, Serialize)]
pub(crate) struct Stats {
    pub(crate) calls: u64,
    pub(crate) per_second: Option<f64>,
    pub(crate) server_error_ratio: Option<f64>,
    pub(crate) client_error_ratio: Option<f64>,
    pub(crate) p50: Option<f64>,
    pub(crate) p95: Option<f64>,
    pub(crate) p99: Option<f64>,
}

/// One tool.
#[derive(Debug, Serialize)]
pub(crate) struct ToolRow {
    pub(crate) tool: String,
    #[serde(flatten)]
    pub(crate) stats: Stats,
    pub(crate) in_flight: f64,
}

/// One client (`client_name` of the request layer).
#[derive(Debug, Serialize)]
pub(crate) struct ClientRow {
    pub(crate) client_name: String,
    #[serde(flatten)]
    pub(crate) stats: Stats,
    pub(crate) sessions: f64,
}

/// A call kept as an exemplar of the tool histogram.
#[derive(Debug, Serialize)]
pub(crate) struct RecentCall {
    /// When it ended, in seconds since the Unix epoch.
    pub(crate) time: f64,
    pub(crate) tool: String,
    pub(crate) outcome: String,
    pub(crate) error_type: Option<String>,
    pub(crate) fault: Option<String>,
    /// How long it took.
    pub(crate) seconds: f64,
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    /// `failed` (it has a fault) or `slow` (in its tool's p95 bucket or above, and above its
    /// median's bucket).
    pub(crate) reason: &'static str,
}

/// Stats of `now` over the window since `base`, `seconds` long, with buckets `bounds`.
fn stats(now: &Totals, base: Option<&Totals>, bounds: &[f64], seconds: f64) -> Stats {
    let window = now.since(base);
    let calls = window.count();
    let ratio = |n: u64| (calls > 0).then(|| n as f64 / calls as f64);
    Stats {
        calls: now.count(),
        per_second: (seconds > 0.0).then(|| calls as f64 / seconds),
        server_error_ratio: ratio(window.server),
        client_error_ratio: ratio(window.client),
        p50: quantile(0.5, bounds, &window.buckets),
        p95: quantile(0.95, bounds, &window.buckets),
        p99: quantile(0.99, bounds, &window.buckets),
    }
}

/// Adds `totals` up into one.
fn sum<'a>(totals: impl Iterator<Item = &'a Totals>) -> Totals {
    let mut out = Totals::default();
    for t in totals {
        out.buckets
            .resize(out.buckets.len().max(t.buckets.len()), 0);
        out.buckets
            .iter_mut()
            .zip(&t.buckets)
            .for_each(|(o, n)| *o += n);
        out.server += t.server;
        out.client += t.client;
    }
    out
}

/// Stats per key of `now.keys ∪ extra`, over the window since `base`.
fn rows<'a>(
    now: &'a Rows<Totals>,
    base: &'a Rows<Totals>,
    extra: impl Iterator<Item = &'a Arc<str>>,
    bounds: &'a [f64],
    seconds: f64,
) -> impl Iterator<Item = (String, Stats)> + 'a {
    let keys: BTreeSet<&Arc<str>> = now.keys().chain(extra).collect();
    keys.into_iter().map(move |key| {
        let stats = match now.get(key) {
            Some(totals) => stats(totals, base.get(key), bounds, seconds),
            None => Stats::default(),
        };
        (key.to_string(), stats)
    })
}

impl Report {
    /// Builds the document from the families in `index`, read into `now`, against `base`.
    pub(crate) fn build(
        index: &Index,
        now: &Counts,
        base: &Baseline,
        about: About,
        started: Instant,
    ) -> Self {
        let seconds = now
            .at
            .saturating_duration_since(base.counts.at)
            .as_secs_f64();
        let (tool_bounds, client_bounds) = index.bounds();
        let in_flight = index.in_flight();
        let sessions = index.sessions();
        let tools: Vec<ToolRow> = rows(
            &now.tools,
            &base.counts.tools,
            in_flight.keys(),
            tool_bounds,
            seconds,
        )
        .map(|(tool, stats)| ToolRow {
            in_flight: in_flight.get(tool.as_str()).copied().unwrap_or(0.0),
            tool,
            stats,
        })
        .collect();
        let clients = rows(
            &now.clients,
            &base.counts.clients,
            sessions.keys(),
            client_bounds,
            seconds,
        )
        .map(|(client_name, stats)| ClientRow {
            sessions: sessions.get(client_name.as_str()).copied().unwrap_or(0.0),
            client_name,
            stats,
        })
        .collect();
        let total = sum(now.tools.values());
        let total_base = sum(base.counts.tools.values());
        let slow = SlowerThan::new(&tools, now, tool_bounds);
        let recent = index.exemplars(RECENT_CALLS, |labels, e| {
            read::label(labels, label::FAULT).is_some()
                || slow.is_slow(read::label(labels, label::TOOL), e.value)
        });
        let (service, version) = about.build.unzip();
        Self {
            service,
            version,
            time: unix_seconds(SystemTime::now()),
            uptime_seconds: now.at.saturating_duration_since(started).as_secs_f64(),
            window_seconds: seconds,
            window_from_start: base.from_start,
            total: stats(&total, Some(&total_base), tool_bounds, seconds),
            in_flight: in_flight.values().sum(),
            sessions: sessions.values().sum(),
            dropped_series: about.dropped_series,
            tools,
            clients,
            recent: recent.into_iter().map(RecentCall::from).collect(),
        }
    }
}

/// Per tool, the duration above which a call is slow: in the bucket of the tool's p95 or a
/// higher one, and above the bucket of its median, over the window (since the start when the
/// window saw no call). Bucket-wise, because the interpolated p95 can lie above every call in
/// its bucket; and a tool whose calls all share one bucket has no slow call.
struct SlowerThan<'a>(BTreeMap<&'a str, f64>);

impl<'a> SlowerThan<'a> {
    fn new(tools: &'a [ToolRow], now: &Counts, bounds: &[f64]) -> Self {
        let threshold = |row: &'a ToolRow| {
            let since_start = |q| quantile(q, bounds, &now.tools.get(row.tool.as_str())?.buckets);
            let p50 = row.stats.p50.or_else(|| since_start(0.5))?;
            let p95 = row.stats.p95.or_else(|| since_start(0.95))?;
            let above = bucket_of(bounds, p95).0.max(bucket_of(bounds, p50).1);
            Some((row.tool.as_str(), above))
        };
        Self(tools.iter().filter_map(threshold).collect())
    }

    fn is_slow(&self, tool: Option<&str>, seconds: f64) -> bool {
        tool.and_then(|t| self.0.get(t))
            .is_some_and(|above| seconds > *above)
    }
}

impl From<Traced<'_>> for RecentCall {
    fn from(traced: Traced<'_>) -> Self {
        let get = |name| read::label(traced.labels, name).map(str::to_owned);
        let e = traced.exemplar;
        let fault = get(label::FAULT);
        Self {
            time: e.timestamp,
            tool: get(label::TOOL).unwrap_or_default(),
            outcome: get(label::OUTCOME).unwrap_or_default(),
            error_type: get(label::ERROR_TYPE),
            reason: if fault.is_some() { "failed" } else { "slow" },
            fault,
            seconds: e.value,
            trace_id: format!("{:032x}", e.exemplar.trace_id),
            span_id: format!("{:016x}", e.exemplar.span_id),
        }
    }
}

/// `time` in seconds since the Unix epoch.
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use mcp_metrics::names;
    use mcp_metrics::store::{Exemplar, Store as _};
    use metrics::{Key, Label};

    use super::*;
    use crate::registry::Registry;
    use crate::rules::RegistryConfig;

    fn tool_series(
        registry: &Registry,
        labels: &[(&str, &str)],
    ) -> Arc<mcp_metrics::store::Histogram> {
        let labels: Vec<Label> = labels
            .iter()
            .map(|(k, v)| Label::new(k.to_string(), v.to_string()))
            .collect();
        let key = Key::from_parts(names::TOOL_DURATION_SECONDS, labels);
        registry.histogram(&key).expect("a series")
    }

    fn traced(id: u128) -> Exemplar {
        Exemplar {
            trace_id: id,
            span_id: id as u64,
        }
    }

    /// Tool `a`: eight fast successes, a server-fault failure and a slow success, each of the
    /// last two with an exemplar; a fast success with an exemplar; tool `b`: one tool error.
    fn registry() -> Registry {
        let registry = Registry::default();
        let ok = tool_series(&registry, &[("tool", "a"), ("outcome", "success")]);
        let failed = tool_series(
            &registry,
            &[
                ("tool", "a"),
                ("outcome", "error"),
                ("error_type", "x"),
                ("fault", "server"),
            ],
        );
        for _ in 0..7 {
            ok.record(0.003);
        }
        ok.record_with_exemplar(0.003, traced(3));
        failed.record_with_exemplar(0.3, traced(1));
        ok.record_with_exemplar(0.45, traced(2));
        let tool_error = [
            ("tool", "b"),
            ("outcome", "tool_error"),
            ("error_type", "tool_error"),
            ("fault", "client"),
        ];
        tool_series(&registry, &tool_error).record(7.0);
        metrics::with_local_recorder(&registry, || {
            let ops = names::SERVER_OPERATION_DURATION_SECONDS;
            metrics::histogram!(ops, "method" => "tools/call", "outcome" => "success", "client_name" => "cli").record(0.004);
            metrics::gauge!(names::TOOL_CALLS_IN_FLIGHT, "tool" => "a").set(2.0);
            metrics::gauge!(names::TOOL_CALLS_IN_FLIGHT, "tool" => "idle").set(0.0);
            metrics::gauge!(names::SERVER_SESSIONS_ACTIVE, "client_name" => "cli").set(1.0);
        });
        registry
    }

    fn index(registry: &Registry) -> (Index, About) {
        let mut index = Index::default();
        let state = registry.read();
        index.update(&state);
        (index, About::read(&state))
    }

    /// The document of `registry` read 10 s after an empty baseline.
    fn document(registry: &Registry) -> Report {
        let start = Instant::now();
        let (index, about) = index(registry);
        let now = index.counts(start + Duration::from_secs(10));
        let base = Baseline {
            counts: Arc::new(Counts::empty(start)),
            from_start: true,
        };
        Report::build(&index, &now, &base, about, start)
    }

    fn close(got: Option<f64>, want: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() < 1e-9)
    }

    #[test]
    fn tools_get_rates_failure_ratios_and_interpolated_quantiles() {
        let report = document(&registry());
        assert_eq!(report.window_seconds, 10.0);
        let names: Vec<&str> = report.tools.iter().map(|t| t.tool.as_str()).collect();
        assert_eq!(
            names,
            ["a", "b", "idle"],
            "a tool only in the gauge is listed too"
        );
        let a = &report.tools[0];
        assert_eq!((a.stats.calls, a.in_flight), (10, 2.0));
        assert!(close(a.stats.per_second, 1.0));
        assert!(close(a.stats.server_error_ratio, 0.1) && close(a.stats.client_error_ratio, 0.0));
        // Eight in (0.001, 0.005], two in (0.2, 0.5].
        assert!(
            close(a.stats.p50, 0.001 + 0.004 * 5.0 / 8.0),
            "{:?}",
            a.stats.p50
        );
        assert!(
            close(a.stats.p95, 0.2 + 0.3 * 1.5 / 2.0),
            "{:?}",
            a.stats.p95
        );
        let b = &report.tools[1].stats;
        assert!(close(b.client_error_ratio, 1.0) && close(b.p99, 10.0 - 5.0 * 0.01));
        let idle = &report.tools[2].stats;
        assert_eq!((idle.calls, idle.per_second, idle.p50), (0, None, None));
        assert_eq!(
            (report.total.calls, report.in_flight, report.sessions),
            (11, 2.0, 1.0)
        );
        let cli = &report.clients[0];
        assert_eq!(
            (cli.client_name.as_str(), cli.stats.calls, cli.sessions),
            ("cli", 1, 1.0)
        );
    }

    #[test]
    fn failed_calls_and_calls_slower_than_their_tools_p95_are_listed_newest_first() {
        let report = document(&registry());
        let listed: BTreeSet<(&str, &str, &str)> = report
            .recent
            .iter()
            .map(|r| (r.trace_id.as_str(), r.reason, r.outcome.as_str()))
            .collect();
        let id = |n: u128| format!("{n:032x}");
        let (one, two) = (id(1), id(2));
        let want = BTreeSet::from([
            (one.as_str(), "failed", "error"),
            (two.as_str(), "slow", "success"),
        ]);
        assert_eq!(listed, want, "the fast success (trace 3) is not listed");
        assert!(report.recent.windows(2).all(|w| w[0].time >= w[1].time));
        let failed = report.recent.iter().find(|r| r.reason == "failed").unwrap();
        assert_eq!(
            (failed.fault.as_deref(), failed.error_type.as_deref()),
            (Some("server"), Some("x"))
        );
        assert_eq!(
            (failed.seconds, failed.span_id.as_str()),
            (0.3, "0000000000000001")
        );
    }

    #[test]
    fn slow_means_the_tail_buckets_even_below_the_interpolated_p95() {
        let registry = Registry::default();
        // Two calls of 1 ms and one of 400 ms: the interpolated p95 is 455 ms, above every call.
        let spread = tool_series(&registry, &[("tool", "spread"), ("outcome", "success")]);
        spread.record(0.001);
        spread.record(0.001);
        spread.record_with_exemplar(0.4, traced(7));
        // Every call in one bucket: none is slow, however the exemplar compares with the p95.
        let flat = tool_series(&registry, &[("tool", "flat"), ("outcome", "success")]);
        flat.record(0.0001);
        flat.record_with_exemplar(0.0009, traced(8));
        let report = document(&registry);
        let spread_p95 = report
            .tools
            .iter()
            .find(|t| t.tool == "spread")
            .unwrap()
            .stats
            .p95;
        assert!(spread_p95.unwrap() > 0.4);
        let listed: Vec<&str> = report.recent.iter().map(|r| r.trace_id.as_str()).collect();
        assert_eq!(listed, [format!("{:032x}", 7)]);
    }

    #[test]
    fn a_window_after_the_calls_has_rates_of_zero_and_no_quantiles() {
        let (index, about) = index(&registry());
        let start = Instant::now();
        let before = Arc::new(index.counts(start));
        let now = index.counts(start + Duration::from_secs(30));
        let base = Baseline {
            counts: before,
            from_start: false,
        };
        let report = Report::build(&index, &now, &base, about, start);
        let a = &report.tools[0].stats;
        assert_eq!(
            (a.calls, a.per_second, a.p95, a.server_error_ratio),
            (10, Some(0.0), None, None)
        );
        assert!(!report.window_from_start);
    }

    #[test]
    fn refused_series_are_counted_and_odd_label_values_survive_the_json() {
        let registry = Registry::new(RegistryConfig::default().series_limit(1));
        let odd = "<img src=x onerror=alert(1)>\"\\\n\u{1f642}";
        tool_series(&registry, &[("tool", odd), ("outcome", "success")]).record(0.01);
        let key = Key::from_parts(
            names::TOOL_DURATION_SECONDS,
            vec![Label::new("tool", "other")],
        );
        assert!(registry.histogram(&key).is_none(), "past the series limit");
        let json = serde_json::to_string(&document(&registry)).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["dropped_series"], 1);
        assert_eq!(parsed["tools"][0]["tool"], odd);
        assert_eq!(parsed["tools"][0]["calls"], 1);
        assert!(parsed["tools"][0]["p50"].is_f64() && parsed["total"]["per_second"].is_f64());
    }
}
