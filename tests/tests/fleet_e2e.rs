//! A fleet on one machine, observed by the two engines of `deploy/`: three replicas of the example
//! server, scraped by one real Prometheus (Debian package) configured from `deploy/prometheus/`
//! (its job name, basic auth and rule files; only the targets, the password file and the
//! intervals are rewritten, and Alertmanager is left out), and at the same time by the scale-out
//! bundle of `deploy/victoriametrics/`: vmagent with the bundle's scrape configuration
//! (remote-writing to a real VictoriaMetrics), vmalert evaluating the same rule files against it
//! and sending alerts to a real Alertmanager configured from `deploy/alertmanager/` (Debian
//! packages `victoria-metrics` and `prometheus-alertmanager`, started with the command lines of
//! `deploy/victoriametrics/compose.yaml`; only addresses, data paths and intervals differ). The
//! Python MCP client (PyPI `mcp`) sends a known, different number of calls per tool and outcome
//! to each replica, in two sessions (see [`load`]).
//!
//! What is exact, and how:
//! 1. **Each replica against the calls made to it.** Its own `/metrics` (read directly, with the
//!    scrape credentials) holds exactly the calls the test made: `mcp_tool_duration_seconds_count`
//!    per tool, outcome, error type and fault (every other series of it 0), `_bucket{le="+Inf"}`
//!    equal to the count, `tools/call` requests per tool, one `initialize` and one `tools/list`
//!    per session, nothing in flight, no session open, the listed tools registered.
//! 2. **Both engines against the replicas.** Every recording rule and every dashboard query is
//!    evaluated in its *cumulative form*: recorded series it selects are replaced by their rules'
//!    expressions, and `rate(x[w])`, `irate(x[w])`, `increase(x[w])` by `x` itself. Once the
//!    traffic has stopped and every target was scraped after it, the cumulative form is what the
//!    expression's rates are derived from: totals instead of per-second rates, ratios of totals,
//!    quantiles of all calls. It is evaluated at one settled time on the real Prometheus, on
//!    VictoriaMetrics, and on a reference Prometheus that scrapes frozen copies of the replicas'
//!    `/metrics` from step 1 under the same `job` and `instance` labels. Prometheus must equal
//!    the reference: label sets exactly, values exactly (counts) or within 1e-9 relative (float
//!    sums of durations, whose order of addition may differ). VictoriaMetrics must equal
//!    Prometheus the same way, less the series whose value is NaN (0/0, a ratio without calls),
//!    which MetricsQL leaves out of its results. Both fleet-wide (summed over instances by the
//!    expressions' own aggregations) and per instance (every selector restricted to
//!    `instance="..."`). Through step 1 this makes every count-based expression exact against the
//!    calls the test made; expressions over latencies are exact against the latencies the
//!    replicas measured. Where the reference shows that an expression is additive over instances,
//!    the fleet-wide value on the real Prometheus must also equal the sum of its per-instance
//!    values. The fleet's call totals per tool and outcome are also checked directly against the
//!    test's own counts.
//! 3. **Recording rules as stored.** Each recorded series exists, in Prometheus (its own rule
//!    evaluation) and in VictoriaMetrics (written by vmalert), with the label sets of its
//!    cumulative form on that engine (rates themselves are not exact: extrapolation over the
//!    window, which MetricsQL does not do).
//! 4. **A replica dies.** One replica is killed with SIGKILL. The bundle's target-down alert (the
//!    alerting rule that selects `up`) fires for that instance after its `for` duration, and not
//!    for the others, in Prometheus and in vmalert, and vmalert's alert reaches Alertmanager with
//!    the label set of Prometheus's; the other two keep `up` = 1 and their per-instance values stay
//!    exactly those of step 2, and the fleet-wide values are exactly those of the two survivors,
//!    on both engines.
//!
//! Nothing is allowed to return no data unnoticed; data means a value that is not NaN. An
//! expression must return data unless it reads a metric listed in [`UNRECORDED`] (metrics the
//! example fleet never records; each is checked to have no series, so the list cannot go stale).
//! An expression whose cumulative form would keep a range selector (a window function over
//! gauges) is listed in [`DATA_ONLY`] and must return data on both engines: today the 30-day budget rules of the tools and of the service
//! (`sum_over_time` over recorded 5-minute rates) and the panel that shows them, whose values the
//! promtool unit tests in `deploy/prometheus/tests/` check instead.
//! Both engines load a copy of the rule files in which the target-down alert holds for
//! [`HOLD_SECONDS`] instead of its `for` in `deploy/` (minutes): the test then waits seconds for
//! it, and the bundle's own `for` is what the promtool unit tests of `deploy/prometheus/tests/`
//! hold it to. Nothing else in the copies differs.
//! Duration: about a minute (`cargo test -p mcp-metrics-tests --test fleet_e2e`, once the
//! examples are built).

use mcp_metrics_tests::deploy::{
    NotRewritable, dashboard_queries, deploy_dir, duration_seconds, inline_recorded, restrict,
    rule_file_names, rules, scrape_job_name, selected_names, yaml_document,
};
use mcp_metrics_tests::harness::{
    ExampleServer, Prometheus, QueryApi, ScaleOut, eventually, get, sample, workspace_root,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

const USER: &str = "prometheus";
const PASSWORD: &str = "fleet-s3cret";
const WAIT: Duration = Duration::from_secs(30);

/// The rules and panels whose cumulative form would keep a range selector over gauges, checked
/// for returning data only (on both engines): the 30-day `sum_over_time` of recorded rates.
/// Every other rule and panel is compared exactly; the test fails if this list and the
/// expressions that cannot be compared differ.
const DATA_ONLY: &[&str] = &[
    "recording rule tool:mcp_tool_error_budget_burn:rate30d",
    "recording rule tool:mcp_tool_error_budget_remaining:ratio30d",
    "recording rule tool:mcp_tool_latency_objective_compliance:ratio_rate30d",
    "recording rule tool:mcp_tool_latency_budget_remaining:ratio30d",
    "recording rule slo:mcp_server_failures:ratio_rate30d",
    "recording rule slo:mcp_server_error_budget_remaining:ratio30d",
    "panel \"Error budget remaining per tool (30 days)\"",
];

/// Metrics the example fleet never records, so an expression reading one may return nothing:
/// the legacy client retries nothing (input requests are a 2026-07-28 feature), the example
/// creates no tasks and no subscriptions, and no series limit is reached. Each is checked to have
/// no series; an expression reading none of them must return data.
const UNRECORDED: &[&str] = &[
    "mcp_server_input_retries_total",
    "mcp_server_tasks_active",
    "mcp_server_task_duration_seconds_bucket",
    "mcp_server_subscriptions_active",
    "mcp_metrics_dropped_series_total",
];

/// One kind of call: the tool, its arguments, and the labels `#[mcp_tool]` records it under.
struct Case {
    tool: &'static str,
    arguments: Value,
    labels: &'static [(&'static str, &'static str)],
}

fn cases() -> Vec<Case> {
    let success: &[(&str, &str)] = &[("outcome", "success")];
    vec![
        Case {
            tool: "add",
            arguments: json!({"a": 2, "b": 3}),
            labels: success,
        },
        Case {
            tool: "lookup",
            arguments: json!({"key": "alpha"}),
            labels: success,
        },
        Case {
            tool: "lookup",
            arguments: json!({"key": "missing"}),
            labels: &[
                ("outcome", "error"),
                ("error_type", "not_found"),
                ("fault", "server"),
            ],
        },
        Case {
            tool: "validate",
            arguments: json!({"text": "fine"}),
            labels: success,
        },
        Case {
            tool: "validate",
            arguments: json!({"text": "  "}),
            labels: &[
                ("outcome", "tool_error"),
                ("error_type", "tool_error"),
                ("fault", "client"),
            ],
        },
        Case {
            tool: "crash",
            arguments: json!({}),
            labels: &[
                ("outcome", "panic"),
                ("error_type", "panic"),
                ("fault", "server"),
            ],
        },
        Case {
            tool: "slow",
            arguments: json!({"millis": 20}),
            labels: success,
        },
        Case {
            tool: "summarize",
            arguments: json!({"text": "a text long enough to need a summary by the model"}),
            labels: success,
        },
    ]
}

/// Sessions per replica: the two rounds of [`load`].
const SESSIONS: f64 = 2.0;

/// Calls per case (in `cases()` order) for each replica: different on every replica.
const PLAN: [[u32; 8]; 3] = [
    [4, 1, 2, 1, 3, 1, 1, 1],
    [2, 3, 0, 2, 1, 2, 2, 0],
    [6, 0, 1, 0, 2, 0, 1, 2],
];

/// The full label set of a case's tool-layer series, sorted.
fn series_key(case: &Case) -> Labels {
    let mut key: Vec<(String, String)> = case
        .labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    key.push(("tool".into(), case.tool.into()));
    // The example's tools have no annotations: destructive, by the MCP defaults.
    key.push(("risk".into(), "destructive".into()));
    key.sort();
    key
}

fn python() -> PathBuf {
    let path = std::env::var_os("MCP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with the `mcp` package at {}: run `bash .ci/run`, or set MCP_TEST_PYTHON",
        path.display()
    );
    path
}

/// One MCP session on `url` with the Python client, making `calls`; returns the client's report.
fn run_client(url: &str, calls: &[Value]) -> Value {
    let out = Command::new(python())
        .arg(workspace_root().join("tests/python/client.py"))
        .arg(url)
        .arg(Value::from(calls.to_vec()).to_string())
        .output()
        .expect("run the Python client");
    assert!(
        out.status.success(),
        "client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

/// A scrape configuration of the bundle (`prometheus/prometheus.yml`, `victoriametrics/vmagent.yml`)
/// with the fleet as targets, one-second intervals and no Alertmanager (alerts are read from the
/// engines themselves); also the name of its password file.
fn fleet_config(file: &Path, targets: &[SocketAddr]) -> (String, String) {
    let mut config = yaml_document(&deploy_dir().join(file));
    let key = |k: &str| Yaml::String(k.into());
    let global = config["global"].as_mut_hash().expect("global");
    for interval in ["scrape_interval", "evaluation_interval"] {
        if global.contains_key(&key(interval)) {
            global.insert(key(interval), key("1s"));
        }
    }
    config.as_mut_hash().unwrap().remove(&key("alerting"));
    let job = &mut config["scrape_configs"][0];
    let password_file = job["basic_auth"]["password_file"]
        .as_str()
        .expect("the bundle scrapes with basic auth from a password file")
        .to_owned();
    assert_eq!(job["basic_auth"]["username"].as_str(), Some(USER));
    let mut static_config = Hash::new();
    static_config.insert(
        key("targets"),
        Yaml::Array(targets.iter().map(|a| key(&a.to_string())).collect()),
    );
    job.as_mut_hash().unwrap().insert(
        key("static_configs"),
        Yaml::Array(vec![Yaml::Hash(static_config)]),
    );
    let mut text = String::new();
    YamlEmitter::new(&mut text).dump(&config).expect("emit");
    (text, password_file)
}

/// Serves frozen copies of the replicas' expositions at `/r0`, `/r1`, ...; a copy set to `None`
/// answers 503, as a dead target fails its scrape.
struct Snapshots {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Option<String>>>>,
    stop: Arc<AtomicBool>,
}

impl Snapshots {
    fn serve(bodies: Vec<Option<String>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(bodies));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, st) = (bodies.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let request = String::from_utf8_lossy(&request);
                let path = request.split_whitespace().nth(1).unwrap_or_default();
                let body = path
                    .strip_prefix("/r")
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| b.lock().unwrap().get(i).cloned().flatten());
                let response = match body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                };
                let _ = conn.write_all(response.as_bytes());
            }
        });
        Snapshots { addr, bodies, stop }
    }
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sorted label pairs of a series.
type Labels = Vec<(String, String)>;

/// A query result as label set (JSON, sorted) → value.
type Vector = BTreeMap<String, f64>;

/// One expression's vectors on each instance: Prometheus's, then VictoriaMetrics'.
type PerInstance = [Vec<Vector>; 2];

fn vector(api: QueryApi, expr: &str) -> Vector {
    vector_at(api, expr, None)
}

fn vector_at(api: QueryApi, expr: &str, time: Option<f64>) -> Vector {
    api.query_at(expr, time)
        .into_iter()
        .map(|(labels, v)| {
            let sorted: BTreeMap<String, Value> = labels.into_iter().collect();
            (serde_json::to_string(&sorted).unwrap(), v)
        })
        .collect()
}

/// A time at which, on every one of `apis`, the last scrape of every instance in `up` succeeded
/// and every instance in `down` was down, far enough in the past that no scrape begun before it
/// is still being ingested (or remote-written). Queried at that one time, a slow scrape between
/// two queries cannot take an instance out of one of them: every query of a comparison sees the
/// same samples, on every engine.
fn settled(apis: &[QueryApi], job: &str, up: &[String], down: &[String]) -> f64 {
    let settled = eventually(WAIT, || {
        let time = unix_now();
        std::thread::sleep(Duration::from_secs(3));
        let ok = apis.iter().all(|api| {
            let states = vector_at(*api, &format!(r#"up{{job="{job}"}}"#), Some(time));
            let state = |instance: &str| {
                states
                    .iter()
                    .find(|(k, _)| k.contains(&format!("\"instance\":\"{instance}\"")))
                    .map(|(_, v)| *v)
            };
            up.iter().all(|i| state(i) == Some(1.0))
                && down.iter().all(|i| state(i).is_none_or(|v| v == 0.0))
        });
        ok.then_some(time)
    });
    settled.expect("the fleet's scrapes never settled")
}

/// The engines compared, each queried at one settled time: the real Prometheus, VictoriaMetrics
/// (fed by vmagent, its recorded series by vmalert) and the reference Prometheus.
#[derive(Clone, Copy)]
struct Engines {
    prometheus: QueryApi,
    victoria: QueryApi,
    reference: QueryApi,
    time: f64,
}

impl Engines {
    /// The engines at a time when every instance in `up` is up and every one in `down` down.
    fn settled(apis: [QueryApi; 3], job: &str, up: &[String], down: &[String]) -> Self {
        let time = settled(&apis, job, up, down);
        let [prometheus, victoria, reference] = apis;
        Engines {
            prometheus,
            victoria,
            reference,
            time,
        }
    }

    /// `expr` on Prometheus, on VictoriaMetrics and on the reference.
    fn vectors(&self, expr: &str) -> [Vector; 3] {
        [self.prometheus, self.victoria, self.reference]
            .map(|api| vector_at(api, expr, Some(self.time)))
    }
}

fn same_value(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn same_vector(a: &Vector, b: &Vector) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && same_value(*va, *vb))
}

/// `v` without its NaN values: what MetricsQL returns where PromQL returns NaN.
fn without_nan(v: &Vector) -> Vector {
    v.iter()
        .filter(|(_, x)| !x.is_nan())
        .map(|(k, x)| (k.clone(), *x))
        .collect()
}

/// The sum of per-instance vectors, by label set.
fn sum_vectors<'a>(parts: impl IntoIterator<Item = &'a Vector>) -> Vector {
    let mut out = Vector::new();
    for part in parts {
        for (k, v) in part {
            *out.entry(k.clone()).or_insert(0.0) += v;
        }
    }
    out
}

/// An expression to check: where it comes from, as written, and its cumulative form.
struct Checked {
    source: String,
    expr: String,
    cumulative: Result<String, NotRewritable>,
}

fn checked_expressions() -> Vec<Checked> {
    let rules = rules();
    let recorded: HashMap<String, String> = rules
        .iter()
        .filter_map(|r| Some((r.record.clone()?, r.expr.clone())))
        .collect();
    let mut out: Vec<Checked> = rules
        .iter()
        .filter(|r| r.record.is_some())
        .map(|r| Checked {
            source: format!("recording rule {}", r.record.as_deref().unwrap()),
            expr: r.expr.clone(),
            cumulative: inline_recorded(&r.expr, &recorded),
        })
        .collect();
    for q in dashboard_queries() {
        let expr = q.resolved("1m");
        out.push(Checked {
            source: format!("panel {:?}", q.panel),
            cumulative: inline_recorded(&expr, &recorded),
            expr,
        });
    }
    out
}

/// Compares every cumulative expression on the engines, fleet-wide and for each of
/// `instances`: Prometheus against the reference, VictoriaMetrics against Prometheus. Returns the
/// per-instance vectors of Prometheus and of VictoriaMetrics, by expression.
fn compare(e: Engines, checked: &[Checked], instances: &[String]) -> Vec<PerInstance> {
    let mut per_instance = Vec::new();
    for c in checked {
        let Ok(cumulative) = &c.cumulative else {
            per_instance.push([Vec::new(), Vec::new()]);
            continue;
        };
        let [fleet, victoria, expected] = e.vectors(cumulative);
        let unrecorded = selected_names(cumulative)
            .into_iter()
            .any(|name| UNRECORDED.contains(&name.as_str()));
        assert!(
            unrecorded || !without_nan(&expected).is_empty(),
            "{}: no data (nothing, or only NaN) for {cumulative}",
            c.source
        );
        assert_same(c, "fleet-wide", cumulative, [&fleet, &victoria, &expected]);
        let mut parts = [Vec::new(), Vec::new()];
        let mut ref_parts = Vec::new();
        for instance in instances {
            let restricted = restrict(cumulative, "instance", instance);
            let [got, victoria, want] = e.vectors(&restricted);
            assert_same(c, instance, &restricted, [&got, &victoria, &want]);
            parts[0].push(got);
            parts[1].push(victoria);
            ref_parts.push(want);
        }
        if same_vector(&sum_vectors(&ref_parts), &expected) {
            assert!(
                same_vector(&sum_vectors(&parts[0]), &fleet),
                "{}: the fleet-wide value is not the sum of the instances' values",
                c.source
            );
        }
        per_instance.push(parts);
    }
    per_instance
}

/// Prometheus equals the reference, and VictoriaMetrics equals Prometheus less its NaN values.
fn assert_same(c: &Checked, scope: &str, expr: &str, vectors: [&Vector; 3]) {
    let [prometheus, victoria, reference] = vectors;
    assert!(
        same_vector(prometheus, reference),
        "{}: {scope}: {expr}\n  prometheus: {prometheus:?}\n  expected:   {reference:?}",
        c.source
    );
    assert!(
        same_vector(victoria, &without_nan(prometheus)),
        "{}: {scope}: {expr}\n  victoriametrics: {victoria:?}\n  prometheus:      {prometheus:?}",
        c.source
    );
}

/// The expressions that cannot be compared are exactly [`DATA_ONLY`], and each returns data on
/// every engine (vmalert's recorded series arrive by remote write, a few evaluations after
/// Prometheus has its own).
fn check_data_only(checked: &[Checked], engines: &[(&str, QueryApi)]) {
    let not_comparable: BTreeSet<&str> = checked
        .iter()
        .filter(|c| c.cumulative.is_err())
        .map(|c| c.source.as_str())
        .collect();
    assert_eq!(
        not_comparable,
        DATA_ONLY.iter().copied().collect::<BTreeSet<_>>(),
        "DATA_ONLY must list exactly the expressions that cannot be compared"
    );
    for c in checked {
        let Err(why) = &c.cumulative else { continue };
        eprintln!("{}: checked for data only: {}", c.source, why.0);
        for (engine, api) in engines {
            let data = eventually(WAIT, || {
                let values = api.query(&c.expr);
                values.iter().any(|(_, v)| !v.is_nan()).then_some(values)
            });
            assert!(
                data.is_some(),
                "{}: no data on {engine} (nothing, or only NaN): {}",
                c.source,
                c.expr
            );
        }
    }
}

/// Each recorded series, as `api` stores it, has the label sets of its rule's cumulative form
/// on that engine.
fn check_recorded(engine: &str, api: QueryApi, checked: &[Checked]) {
    for (c, rule) in checked
        .iter()
        .zip(rules().iter().filter(|r| r.record.is_some()))
    {
        let Ok(cumulative) = &c.cumulative else {
            continue;
        };
        let name = rule.record.as_deref().unwrap();
        let want: Vec<String> = vector(api, cumulative).into_keys().collect();
        let got = eventually(WAIT, || {
            let got: Vec<String> = vector(api, name)
                .into_keys()
                .map(|k| {
                    let mut labels: BTreeMap<String, Value> = serde_json::from_str(&k).unwrap();
                    labels.remove("__name__");
                    serde_json::to_string(&labels).unwrap()
                })
                .collect();
            (got == want).then_some(got)
        });
        assert!(
            got.is_some(),
            "{engine}: recorded {name}: want the label sets {want:?}, have {:?}",
            vector(api, name).into_keys().collect::<Vec<_>>()
        );
    }
}

/// A replica's `/metrics`, read with the scrape credentials.
fn scrape(addr: &SocketAddr) -> String {
    let basic = format!("Basic {}", base64(&format!("{USER}:{PASSWORD}")));
    let (status, text) = get(
        &format!("http://{addr}/metrics"),
        &[("Authorization", &basic)],
    );
    assert_eq!(status, 200);
    text
}

/// Step 1: each replica's own exposition holds exactly the calls made to it, once its session
/// is closed.
fn check_replicas(addrs: &[SocketAddr], cases: &[Case], listed_tools: usize) {
    // Every session closed: the sessions gauge (one series per client name) is 0 everywhere.
    let settled = |text: &String| {
        let sessions: Vec<f64> = series(text)
            .into_iter()
            .filter(|(name, _, _)| name == "mcp_server_sessions_active")
            .map(|(_, _, value)| value)
            .collect();
        !sessions.is_empty() && sessions.iter().all(|v| *v == 0.0)
    };
    for (addr, counts) in addrs.iter().zip(PLAN) {
        let text =
            eventually(WAIT, || Some(scrape(addr)).filter(settled)).expect("the session is closed");
        check_exposition(addr, &text, cases, counts, listed_tools);
    }
}

/// One replica's exposition against the calls `counts` made to it.
fn check_exposition(
    addr: &SocketAddr,
    text: &str,
    cases: &[Case],
    counts: [u32; 8],
    listed_tools: usize,
) {
    let mut expected: BTreeMap<Labels, f64> = BTreeMap::new();
    let mut per_tool: BTreeMap<&str, f64> = BTreeMap::new();
    for (case, n) in cases.iter().zip(counts) {
        *expected.entry(series_key(case)).or_default() += f64::from(n);
        *per_tool.entry(case.tool).or_default() += f64::from(n);
    }
    let mut found: BTreeMap<Labels, f64> = BTreeMap::new();
    let mut requests: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (name, labels, value) in series(text) {
        match name.as_str() {
            "mcp_tool_duration_seconds_count" => {
                found.insert(labels, value);
            }
            "mcp_tool_duration_seconds_bucket"
                if labels.contains(&("le".into(), "+Inf".into())) =>
            {
                let key: Vec<_> = labels.into_iter().filter(|(k, _)| k != "le").collect();
                let want = expected.get(&key).copied().unwrap_or(0.0);
                assert_eq!(value, want, "{addr}: +Inf bucket of {key:?}");
            }
            "mcp_server_operation_duration_seconds_count" => {
                let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone());
                let key = (
                    get("method").unwrap_or_default(),
                    get("tool").unwrap_or_default(),
                );
                *requests.entry(key).or_default() += value;
            }
            "mcp_tool_calls_in_flight" | "mcp_server_sessions_active" => {
                assert_eq!(value, 0.0, "{addr}: {name}{labels:?}");
            }
            _ => {}
        }
    }
    for (key, want) in &expected {
        assert_eq!(
            found.get(key).copied().unwrap_or(0.0),
            *want,
            "{addr}: calls {key:?}"
        );
    }
    for (key, got) in &found {
        assert_eq!(
            *got,
            expected.get(key).copied().unwrap_or(0.0),
            "{addr}: calls {key:?}"
        );
    }
    for (tool, n) in &per_tool {
        let key = ("tools/call".to_owned(), (*tool).to_owned());
        assert_eq!(
            requests.get(&key).copied().unwrap_or(0.0),
            *n,
            "{addr}: requests of {tool}"
        );
    }
    for method in ["initialize", "tools/list"] {
        let got: f64 = requests
            .iter()
            .filter(|((m, _), _)| m == method)
            .map(|(_, v)| v)
            .sum();
        assert_eq!(got, SESSIONS, "{addr}: {method}");
    }
    assert_eq!(
        sample(text, "mcp_registered_tools", &[]),
        Some(listed_tools as f64)
    );
}

/// Traffic in two rounds of one session per replica (the replicas in parallel): first one call
/// of every case a replica gets, then, once every engine has scraped every replica after that,
/// the other calls. A series appears with its first call, so its first scraped value has no
/// earlier sample: `rate()` and `increase()` count only what a series gains after it, on either
/// engine. The second round gives the recorded rates real values. Returns the number of tools
/// the clients listed.
fn load(
    replicas: &[ExampleServer],
    cases: &[Case],
    engines: &[(&str, QueryApi)],
    job: &str,
) -> usize {
    let first = PLAN.map(|counts| counts.map(|n| n.min(1)));
    let listed_tools = session_round(replicas, cases, first);
    let created = unix_now();
    let instances: Vec<String> = replicas.iter().map(|r| r.addr.to_string()).collect();
    wait_scraped_after(engines, job, &instances, created);
    let rest = PLAN.map(|counts| counts.map(|n| n.saturating_sub(1)));
    assert_eq!(session_round(replicas, cases, rest), listed_tools);
    listed_tools
}

/// One session per replica making `plan`'s calls, the replicas in parallel; returns the number
/// of tools the clients listed.
fn session_round(replicas: &[ExampleServer], cases: &[Case], plan: [[u32; 8]; 3]) -> usize {
    let clients: Vec<_> = replicas
        .iter()
        .zip(plan)
        .map(|(replica, counts)| {
            let mut calls = Vec::new();
            for (case, n) in cases.iter().zip(counts) {
                for _ in 0..n {
                    calls.push(json!({"tool": case.tool, "arguments": case.arguments}));
                }
            }
            let url = replica.url("/mcp");
            std::thread::spawn(move || (calls.len(), run_client(&url, &calls)))
        })
        .collect();
    let mut listed_tools = 0;
    for client in clients {
        let (n, report) = client.join().expect("client thread");
        assert_eq!(
            report["calls"].as_array().map(Vec::len),
            Some(n),
            "{report}"
        );
        listed_tools = report["tools"].as_array().map_or(0, Vec::len);
    }
    listed_tools
}

/// How long the target-down alert holds in the engines' copy of the rule files.
const HOLD_SECONDS: u64 = 15;

/// The bundle's rule files (name, body), with the target-down alert's `for` set to
/// [`HOLD_SECONDS`].
fn rule_files() -> Vec<(String, String)> {
    let (name, hold) = target_down_rule();
    assert!(
        hold > HOLD_SECONDS as f64,
        "{name} holds {hold}s in deploy/: no shorter copy needed"
    );
    let mut rewritten = 0;
    let files: Vec<(String, String)> = rule_file_names()
        .into_iter()
        .map(|f| {
            let body = std::fs::read_to_string(deploy_dir().join("prometheus").join(&f)).unwrap();
            let mut out = String::new();
            let mut in_alert = false;
            for line in body.split_inclusive('\n') {
                let trimmed = line.trim_start();
                if let Some(alert) = trimmed.strip_prefix("- alert:") {
                    in_alert = alert.trim() == name;
                } else if in_alert && trimmed.starts_with("for:") {
                    let indent = &line[..line.len() - trimmed.len()];
                    out.push_str(&format!("{indent}for: {HOLD_SECONDS}s\n"));
                    rewritten += 1;
                    in_alert = false;
                    continue;
                }
                out.push_str(line);
            }
            (f, out)
        })
        .collect();
    assert_eq!(rewritten, 1, "the `for` of {name} in the rule files");
    files
}

/// The real Prometheus, from the bundle's configuration and rule files.
fn start_prometheus(targets: &[SocketAddr]) -> Prometheus {
    let (config, password_file) = fleet_config(Path::new("prometheus/prometheus.yml"), targets);
    let mut files = rule_files();
    files.push((password_file, PASSWORD.to_owned()));
    let file_refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    Prometheus::start(&config, &file_refs)
}

/// The scale-out bundle, from its compose file and vmagent's scrape configuration; rules every
/// second, as the real Prometheus, from the same copy of the rule files (in the order of the
/// compose file's `-rule` flags).
fn start_scale_out(targets: &[SocketAddr], rules_dir: &Path) -> ScaleOut {
    let (config, password_file) = fleet_config(Path::new("victoriametrics/vmagent.yml"), targets);
    let compose =
        std::fs::read_to_string(deploy_dir().join("victoriametrics/compose.yaml")).unwrap();
    let mut paths = Vec::new();
    for (name, body) in rule_files() {
        assert!(
            compose.contains(&format!("-rule=/etc/vmalert/{name}")),
            "vmalert loads {name}"
        );
        let path = rules_dir.join(&name);
        std::fs::write(&path, body).unwrap();
        let at = compose.find(&format!("-rule=/etc/vmalert/{name}")).unwrap();
        paths.push((at, path.display().to_string()));
    }
    paths.sort();
    let rules: Vec<String> = paths.into_iter().map(|(_, p)| p).collect();
    let rules = rules.join(",");
    ScaleOut::start(
        &config,
        &[(&password_file, PASSWORD)],
        &[
            ("vmalert", "evaluationInterval", "1s"),
            ("vmalert", "remoteWrite.flushInterval", "1s"),
            ("vmalert", "rule", &rules),
        ],
    )
}

/// The reference Prometheus: it scrapes `served` under the fleet's job and instance labels.
fn start_reference(served: &Snapshots, job: &str, instances: &[String]) -> Prometheus {
    let mut config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {job}\n    static_configs:\n"
    );
    for (i, instance) in instances.iter().enumerate() {
        config.push_str(&format!(
            "      - targets: [\"{}\"]\n        labels: {{instance: \"{instance}\", __metrics_path__: /r{i}}}\n",
            served.addr
        ));
    }
    let reference = Prometheus::start(&config, &[]);
    for instance in instances {
        let ready = format!(r#"count(mcp_build_info{{instance="{instance}"}})"#);
        assert!(reference.wait_for(&ready, 1.0, WAIT), "{ready}");
    }
    reference
}

/// The alerting rule on `up`: its name and its `for` in seconds.
fn target_down_rule() -> (String, f64) {
    let alert = rules()
        .into_iter()
        .find(|r| r.alert.is_some() && selected_names(&r.expr).iter().any(|n| n == "up"))
        .expect("an alerting rule on `up`");
    let hold = alert.for_.as_deref().map_or(0.0, duration_seconds);
    (alert.alert.unwrap(), hold)
}

/// Sorted string labels of a JSON object, less `skip`.
fn string_labels(labels: &Value, skip: &[&str]) -> BTreeMap<String, String> {
    labels
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// An alert of `for: hold` seconds that fires now has waited that long since `killed_at`.
fn assert_held(name: &str, hold: f64, killed_at: Instant) {
    assert!(
        killed_at.elapsed().as_secs_f64() >= hold - 2.0,
        "{name} fired before its `for` duration"
    );
}

/// Waits until `name` fires on Prometheus, then checks that it fires once, for `dead`; returns
/// its labels.
fn prometheus_alert(
    real: QueryApi,
    (name, hold): (&str, f64),
    killed_at: Instant,
    dead: &str,
) -> BTreeMap<String, String> {
    let firing = format!(r#"ALERTS{{alertname="{name}",alertstate="firing"}}"#);
    let fired = eventually(Duration::from_secs_f64(hold + 60.0), || {
        let v = real.query(&firing);
        (!v.is_empty()).then_some(v)
    })
    .unwrap_or_else(|| panic!("{name} did not fire within its `for: {hold}s` and a minute"));
    assert_held(name, hold, killed_at);
    assert_eq!(fired.len(), 1, "{fired:?}");
    let labels = string_labels(
        &Value::Object(fired[0].0.clone()),
        &["__name__", "alertstate"],
    );
    assert_eq!(
        labels.get("instance").map(String::as_str),
        Some(dead),
        "{fired:?}"
    );
    labels
}

/// Waits until `name` fires in vmalert, then checks that vmalert has it once, with `labels`
/// (those of Prometheus's alert), and that Alertmanager received it from vmalert with them.
fn vmalert_alert(
    scale_out: &ScaleOut,
    (name, hold): (&str, f64),
    killed_at: Instant,
    labels: &BTreeMap<String, String>,
) {
    let vmalert = scale_out.addr("vmalert");
    let alerts = || -> Vec<Value> {
        let (status, body) = get(&format!("http://{vmalert}/api/v1/alerts"), &[]);
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        let all = body["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        all.into_iter().filter(|a| a["name"] == name).collect()
    };
    let fired = eventually(Duration::from_secs_f64(hold + 60.0), || {
        let a = alerts();
        a.iter().any(|a| a["state"] == "firing").then_some(a)
    })
    .unwrap_or_else(|| {
        panic!(
            "vmalert: {name} did not fire within its `for: {hold}s` and a minute\n{}",
            scale_out.log("vmalert")
        )
    });
    assert_held(name, hold, killed_at);
    assert_eq!(fired.len(), 1, "vmalert: {fired:?}");
    assert_eq!(
        &string_labels(&fired[0]["labels"], &[]),
        labels,
        "vmalert: {fired:?}"
    );

    let alertmanager = scale_out.addr("alertmanager");
    let received = eventually(WAIT, || {
        let (status, body) = get(&format!("http://{alertmanager}/api/v2/alerts"), &[]);
        assert_eq!(status, 200, "{body}");
        let all: Vec<Value> = serde_json::from_str(&body).expect("JSON");
        let ours: Vec<Value> = all
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == name)
            .collect();
        (!ours.is_empty()).then_some(ours)
    })
    .unwrap_or_else(|| panic!("Alertmanager never received {name}"));
    assert_eq!(received.len(), 1, "Alertmanager: {received:?}");
    assert_eq!(
        &string_labels(&received[0]["labels"], &[]),
        labels,
        "Alertmanager: {received:?}"
    );
    let source = received[0]["generatorURL"].as_str().unwrap_or_default();
    assert!(
        source.starts_with(&format!("http://{vmalert}/")),
        "Alertmanager's {name} comes from vmalert: {source}"
    );
}

/// Waits until `up` of each of `instances` is `want` on every engine.
fn wait_up(engines: &[(&str, QueryApi)], job: &str, instances: &[String], want: f64) {
    for instance in instances {
        let up = format!(r#"up{{job="{job}",instance="{instance}"}}"#);
        for (engine, api) in engines {
            assert!(
                api.wait_for(&up, want, WAIT),
                "{engine}: {up} is not {want}"
            );
        }
    }
}

/// Waits until every engine has a scrape of each of `instances` begun after `time`.
fn wait_scraped_after(engines: &[(&str, QueryApi)], job: &str, instances: &[String], time: f64) {
    for instance in instances {
        let fresh = format!(r#"timestamp(up{{job="{job}",instance="{instance}"}}) > {time}"#);
        for (engine, api) in engines {
            assert!(api.wait_value(&fresh, WAIT).is_some(), "{engine}: {fresh}");
        }
    }
}

/// The fleet's calls per tool and outcome on every engine, straight from the test's own counts.
fn check_fleet_totals(cases: &[Case], engines: &[(&str, QueryApi)], job: &str) {
    let mut fleet: BTreeMap<(String, String), f64> = BTreeMap::new();
    for counts in PLAN {
        for (case, n) in cases.iter().zip(counts) {
            let outcome = case.labels.iter().find(|(k, _)| *k == "outcome").unwrap().1;
            *fleet.entry((case.tool.into(), outcome.into())).or_default() += f64::from(n);
        }
    }
    for ((tool, outcome), want) in &fleet {
        let expr = format!(
            r#"sum(mcp_tool_duration_seconds_count{{job="{job}",tool="{tool}",outcome="{outcome}"}})"#
        );
        for (engine, api) in engines {
            assert!(
                api.wait_for(&expr, *want, WAIT),
                "{engine}: {expr} never reached {want}"
            );
        }
    }
}

/// Each survivor's per-instance values, on both engines, are the same after replica `dead`
/// died as before.
fn assert_unchanged(
    checked: &[Checked],
    (before, after): (&[PerInstance], &[PerInstance]),
    instances: &[String],
    dead: usize,
) {
    for ((c, b), a) in checked.iter().zip(before).zip(after) {
        let survivors = (0..instances.len()).filter(|i| *i != dead);
        for (i, survivor) in survivors.enumerate() {
            for (engine, (b, a)) in ["prometheus", "victoriametrics"]
                .iter()
                .zip(b.iter().zip(a))
            {
                if let (Some(b), Some(a)) = (b.get(survivor), a.get(i)) {
                    assert!(
                        same_vector(a, b),
                        "{engine}: {}: {} changed after another replica died",
                        c.source,
                        instances[survivor]
                    );
                }
            }
        }
    }
}

#[test]
fn a_fleet_of_three_reports_exactly_and_survives_a_dead_replica() {
    let started = Instant::now();
    let cases = cases();
    let auth = format!("{USER}:{PASSWORD}");
    let replicas: Vec<ExampleServer> = (0..3)
        .map(|_| ExampleServer::start("http-server", &[("MCP_METRICS_BASIC_AUTH", &auth)]))
        .collect();
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let instances: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    let job = scrape_job_name();

    let real = start_prometheus(&addrs);
    let rules_dir = tempfile::tempdir().unwrap();
    let scale_out = start_scale_out(&addrs, rules_dir.path());
    let victoria = scale_out.victoria_metrics();
    let engines = [("prometheus", real.api()), ("victoriametrics", victoria)];
    wait_up(&engines, &job, &instances, 1.0);

    let listed_tools = load(&replicas, &cases, &engines, &job);

    // 1. Each replica's own exposition against the calls made to it.
    check_replicas(&addrs, &cases, listed_tools);
    let snapshot_time = unix_now();
    let snapshots: Vec<String> = addrs.iter().map(scrape).collect();

    // Frozen copies, once both engines have every replica's scrape after the traffic, and the
    // replicas no longer change.
    wait_scraped_after(&engines, &job, &instances, snapshot_time);
    assert_eq!(
        snapshots,
        addrs.iter().map(scrape).collect::<Vec<_>>(),
        "the replicas are idle"
    );
    let served = Snapshots::serve(snapshots.into_iter().map(Some).collect());
    let reference = start_reference(&served, &job, &instances);

    // 2. Every recording rule and dashboard query, fleet-wide and per instance, on both engines.
    let checked = checked_expressions();
    for name in UNRECORDED {
        assert!(
            reference.query(&format!("count({name})")).is_empty(),
            "{name} has series: take it off UNRECORDED"
        );
    }
    let before = compare(
        Engines::settled(
            [real.api(), victoria, reference.api()],
            &job,
            &instances,
            &[],
        ),
        &checked,
        &instances,
    );
    eprintln!(
        "{} of {} expressions compared exactly, fleet-wide and on each of {} instances",
        checked.iter().filter(|c| c.cumulative.is_ok()).count(),
        checked.len(),
        instances.len()
    );
    check_data_only(&checked, &engines);
    check_fleet_totals(&cases, &engines, &job);

    // 3. The recorded series, as each engine stores them, have the label sets of the totals.
    for (engine, api) in engines {
        check_recorded(engine, api, &checked);
    }
    eprintln!("fleet checked after {:?}", started.elapsed());

    // 4. One replica dies.
    let dead = 2;
    let mut replicas = replicas;
    // The alert's pending time cannot start before the kill.
    let killed_at = Instant::now();
    replicas[dead].proc.kill();
    served.bodies.lock().unwrap()[dead] = None;
    let (name, _) = target_down_rule();
    let hold = HOLD_SECONDS as f64;
    wait_up(&engines, &job, &instances[dead..=dead], 0.0);
    let labels = prometheus_alert(real.api(), (&name, hold), killed_at, &instances[dead]);
    vmalert_alert(&scale_out, (&name, hold), killed_at, &labels);

    // The survivors are up and report exactly what they did; the fleet is the two of them.
    let survivors: Vec<String> = instances
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != dead)
        .map(|(_, s)| s.clone())
        .collect();
    wait_up(&engines, &job, &survivors, 1.0);
    let ref_down = format!(r#"up{{instance="{}"}}"#, instances[dead]);
    assert!(reference.wait_for(&ref_down, 0.0, WAIT), "{ref_down}");
    let gone = [instances[dead].clone()];
    let after = compare(
        Engines::settled(
            [real.api(), victoria, reference.api()],
            &job,
            &survivors,
            &gone,
        ),
        &checked,
        &survivors,
    );
    assert_unchanged(&checked, (&before, &after), &instances, dead);
    eprintln!("fleet test took {:?}", started.elapsed());
}

/// Every sample of a text exposition: name, sorted labels, value.
fn series(text: &str) -> Vec<(String, Labels, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, rest) = series.split_once('{').unwrap_or((series, "}"));
            let mut labels: Vec<(String, String)> = rest
                .trim_end_matches('}')
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once("=\"")?;
                    Some((
                        k.trim_start_matches(',').to_owned(),
                        v.trim_end_matches('"').to_owned(),
                    ))
                })
                .collect();
            labels.sort();
            Some((name.to_owned(), labels, value.parse().ok()?))
        })
        .collect()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Standard base64 of `text`.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}
