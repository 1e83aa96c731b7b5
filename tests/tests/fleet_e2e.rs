//! A fleet on one machine: three replicas of the example server, scraped by one real Prometheus
//! (Debian package) configured from `deploy/prometheus/` (its job name, basic auth and rule files;
//! only the targets, the password file and the intervals are rewritten, and Alertmanager is left
//! out). The Python MCP client (PyPI `mcp`) sends a known, different number of calls per tool and
//! outcome to each replica.
//!
//! What is exact, and how:
//! 1. **Each replica against the calls made to it.** Its own `/metrics` (read directly, with the
//!    scrape credentials) holds exactly the calls the test made: `mcp_tool_duration_seconds_count`
//!    per tool, outcome, error type and fault (every other series of it 0), `_bucket{le="+Inf"}`
//!    equal to the count, `tools/call` requests per tool, one `initialize` and one `tools/list`,
//!    nothing in flight, no session open, the listed tools registered.
//! 2. **Prometheus against the replicas.** Every recording rule and every dashboard query is
//!    evaluated in its *cumulative form*: recorded series it selects are replaced by their rules'
//!    expressions, and `rate(x[w])`, `irate(x[w])`, `increase(x[w])` by `x` itself. Once the
//!    traffic has stopped and every target was scraped after it, the cumulative form is what the
//!    expression's rates are derived from: totals instead of per-second rates, ratios of totals,
//!    quantiles of all calls. It is evaluated on the real Prometheus and on a reference Prometheus
//!    that scrapes frozen copies of the replicas' `/metrics` from step 1 under the same `job` and
//!    `instance` labels, and the two result vectors must be equal: label sets exactly, values
//!    exactly (counts) or within 1e-9 relative (float sums of durations, whose order of addition
//!    may differ). Both fleet-wide (summed over instances by the expressions' own aggregations)
//!    and per instance (every selector restricted to `instance="..."`). Through step 1 this makes
//!    every count-based expression exact against the calls the test made; expressions over
//!    latencies are exact against the latencies the replicas measured. Where the reference shows
//!    that an expression is additive over instances, the fleet-wide value on the real Prometheus
//!    must also equal the sum of its per-instance values. The fleet's call totals per tool and
//!    outcome are also checked directly against the test's own counts.
//! 3. **Recording rules as stored.** Each recorded series exists with the label sets of its
//!    cumulative form (rates themselves are not exact: extrapolation over the window).
//! 4. **A replica dies.** One replica is killed with SIGKILL. The bundle's target-down alert (the
//!    alerting rule that selects `up`) fires for that instance after its `for` duration, and not
//!    for the others; the other two keep `up` = 1 and their per-instance values stay exactly those
//!    of step 2, and the fleet-wide values are exactly those of the two survivors.
//!
//! An expression must return data wherever every metric it reads has series in the fleet (a
//! metric the example server never records, such as dropped series, leaves an expression
//! compared but allowed to be empty on both sides). An expression whose cumulative form would
//! keep a range selector (a window function over gauges) is only checked for returning data:
//! today the 30-day budget rules of the tools and of the service (`sum_over_time` over recorded
//! 5-minute rates) and the panel that shows them, whose values the promtool unit tests in
//! `deploy/prometheus/tests/` check instead.
//! Duration: about 3 minutes, most of it the alert's `for: 2m`
//! (`cargo test -p mcp-metrics-tests --test fleet_e2e`, once the examples are built).

use mcp_metrics_tests::deploy::{
    NotRewritable, dashboard_queries, deploy_dir, duration_seconds, inline_recorded, restrict,
    rule_file_names, rules, scrape_job_name, selected_names, yaml_document,
};
use mcp_metrics_tests::harness::{
    ExampleServer, Prometheus, eventually, get, sample, workspace_root,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

const USER: &str = "prometheus";
const PASSWORD: &str = "fleet-s3cret";
const WAIT: Duration = Duration::from_secs(30);

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

/// The bundle's prometheus.yml with the fleet as targets and one-second intervals.
fn prometheus_config(targets: &[SocketAddr]) -> (String, String) {
    let mut config = yaml_document(&deploy_dir().join("prometheus/prometheus.yml"));
    let key = |k: &str| Yaml::String(k.into());
    let global = config["global"].as_mut_hash().expect("global");
    global.insert(key("scrape_interval"), key("1s"));
    global.insert(key("evaluation_interval"), key("1s"));
    // No Alertmanager here: alerts are read from Prometheus itself.
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

fn vector(prom: &Prometheus, expr: &str) -> Vector {
    vector_at(prom, expr, None)
}

fn vector_at(prom: &Prometheus, expr: &str, time: Option<f64>) -> Vector {
    prom.query_at(expr, time)
        .into_iter()
        .map(|(labels, v)| {
            let sorted: BTreeMap<String, Value> = labels.into_iter().collect();
            (serde_json::to_string(&sorted).unwrap(), v)
        })
        .collect()
}

/// A Prometheus queried at one fixed time, so that a slow scrape between two queries cannot
/// take an instance out of one of them: every query of a comparison sees the same samples.
#[derive(Clone, Copy)]
struct At<'a> {
    prom: &'a Prometheus,
    time: f64,
}

impl<'a> At<'a> {
    /// A time at which the last scrape of every instance in `up` succeeded and every instance
    /// in `down` was down, far enough in the past that no scrape begun before it is still
    /// being ingested.
    fn settled(prom: &'a Prometheus, job: &str, up: &[String], down: &[String]) -> Self {
        let settled = eventually(WAIT, || {
            let time = unix_now();
            std::thread::sleep(Duration::from_secs(3));
            let states = vector_at(prom, &format!(r#"up{{job="{job}"}}"#), Some(time));
            let state = |instance: &str| {
                states
                    .iter()
                    .find(|(k, _)| k.contains(&format!("\"instance\":\"{instance}\"")))
                    .map(|(_, v)| *v)
            };
            let ok = up.iter().all(|i| state(i) == Some(1.0))
                && down.iter().all(|i| state(i).is_none_or(|v| v == 0.0));
            ok.then_some(time)
        });
        let time = settled.expect("the fleet's scrapes never settled");
        At { prom, time }
    }

    fn vector(&self, expr: &str) -> Vector {
        vector_at(self.prom, expr, Some(self.time))
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

/// Compares every cumulative expression on `real` and `reference`, fleet-wide and for each of
/// `instances`; returns the per-instance vectors of the real Prometheus, by expression.
fn compare(
    real: At<'_>,
    reference: At<'_>,
    checked: &[Checked],
    instances: &[String],
) -> Vec<Vec<Vector>> {
    let mut per_instance = Vec::new();
    for c in checked {
        let Ok(cumulative) = &c.cumulative else {
            per_instance.push(Vec::new());
            continue;
        };
        let fleet = real.vector(cumulative);
        let expected = reference.vector(cumulative);
        let has_data = selected_names(cumulative)
            .iter()
            .all(|name| !reference.vector(&format!("count({name})")).is_empty());
        if has_data {
            assert!(
                !expected.is_empty(),
                "{}: no result for {cumulative}",
                c.source
            );
        } else {
            eprintln!(
                "{}: a metric it reads has no series in this fleet",
                c.source
            );
        }
        assert!(
            same_vector(&fleet, &expected),
            "{}: fleet-wide {cumulative}\n  prometheus: {fleet:?}\n  expected:   {expected:?}",
            c.source
        );
        let mut real_parts = Vec::new();
        let mut ref_parts = Vec::new();
        for instance in instances {
            let restricted = restrict(cumulative, "instance", instance);
            let got = real.vector(&restricted);
            let want = reference.vector(&restricted);
            assert!(
                same_vector(&got, &want),
                "{}: on {instance}: {restricted}\n  prometheus: {got:?}\n  expected:   {want:?}",
                c.source
            );
            real_parts.push(got);
            ref_parts.push(want);
        }
        if same_vector(&sum_vectors(&ref_parts), &expected) {
            assert!(
                same_vector(&sum_vectors(&real_parts), &fleet),
                "{}: the fleet-wide value is not the sum of the instances' values",
                c.source
            );
        }
        per_instance.push(real_parts);
    }
    per_instance
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

    // The real Prometheus, from the bundle's configuration and rule files.
    let (config, password_file) = prometheus_config(&addrs);
    let mut files: Vec<(String, String)> = rule_file_names()
        .into_iter()
        .map(|f| {
            let body = std::fs::read_to_string(deploy_dir().join("prometheus").join(&f)).unwrap();
            (f, body)
        })
        .collect();
    files.push((password_file, PASSWORD.to_owned()));
    let file_refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let real = Prometheus::start(&config, &file_refs);
    for instance in &instances {
        let up = format!(r#"up{{job="{job}",instance="{instance}"}}"#);
        assert!(real.wait_for(&up, 1.0, WAIT), "{up}");
    }

    // Traffic: one session per replica, the replicas in parallel.
    let clients: Vec<_> = replicas
        .iter()
        .zip(PLAN)
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

    // 1. Each replica's own exposition against the calls made to it.
    let basic = format!("Basic {}", base64(&auth));
    let scrape = |addr: &SocketAddr| {
        let (status, text) = get(
            &format!("http://{addr}/metrics"),
            &[("Authorization", &basic)],
        );
        assert_eq!(status, 200);
        text
    };
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
        let mut expected: BTreeMap<Labels, f64> = BTreeMap::new();
        let mut per_tool: BTreeMap<&str, f64> = BTreeMap::new();
        for (case, n) in cases.iter().zip(counts) {
            *expected.entry(series_key(case)).or_default() += f64::from(n);
            *per_tool.entry(case.tool).or_default() += f64::from(n);
        }
        let mut found: BTreeMap<Labels, f64> = BTreeMap::new();
        let mut requests: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (name, labels, value) in series(&text) {
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
            assert_eq!(got, 1.0, "{addr}: {method}");
        }
        assert_eq!(
            sample(&text, "mcp_registered_tools", &[]),
            Some(listed_tools as f64)
        );
    }

    // Frozen copies, once Prometheus has scraped every replica after the traffic, and they no
    // longer change.
    let snapshot_time = unix_now();
    let snapshots: Vec<String> = addrs.iter().map(scrape).collect();
    for instance in &instances {
        let fresh =
            format!(r#"timestamp(up{{job="{job}",instance="{instance}"}}) > {snapshot_time}"#);
        assert!(real.wait_value(&fresh, WAIT).is_some(), "{fresh}");
    }
    assert_eq!(
        snapshots,
        addrs.iter().map(scrape).collect::<Vec<_>>(),
        "the replicas are idle"
    );
    // One evaluation of every rule group after that scrape.
    std::thread::sleep(Duration::from_secs(2));

    // The reference Prometheus scrapes the copies under the same job and instance labels.
    let served = Snapshots::serve(snapshots.into_iter().map(Some).collect());
    let mut reference_config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {job}\n    static_configs:\n"
    );
    for (i, instance) in instances.iter().enumerate() {
        reference_config.push_str(&format!(
            "      - targets: [\"{}\"]\n        labels: {{instance: \"{instance}\", __metrics_path__: /r{i}}}\n",
            served.addr
        ));
    }
    let reference = Prometheus::start(&reference_config, &[]);
    for instance in &instances {
        let ready = format!(r#"count(mcp_build_info{{instance="{instance}"}})"#);
        assert!(reference.wait_for(&ready, 1.0, WAIT), "{ready}");
    }

    // 2. Every recording rule and dashboard query, fleet-wide and per instance.
    let checked = checked_expressions();
    assert!(checked.iter().any(|c| c.cumulative.is_ok()));
    let before = compare(
        At::settled(&real, &job, &instances, &[]),
        At::settled(&reference, &job, &instances, &[]),
        &checked,
        &instances,
    );
    eprintln!(
        "{} of {} expressions compared exactly, fleet-wide and on each of {} instances",
        checked.iter().filter(|c| c.cumulative.is_ok()).count(),
        checked.len(),
        instances.len()
    );
    for c in &checked {
        match &c.cumulative {
            Ok(_) => {}
            Err(why) => {
                eprintln!("{}: checked for data only: {}", c.source, why.0);
                let exists = selected_names(&c.expr)
                    .iter()
                    .all(|name| !real.query(&format!("count({name})")).is_empty());
                assert!(
                    !exists || !real.query(&c.expr).is_empty(),
                    "{}: no data",
                    c.source
                );
            }
        }
    }
    // The fleet's calls per tool and outcome, straight from the test's own counts.
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
        assert!(
            real.wait_for(&expr, *want, WAIT),
            "{expr} never reached {want}"
        );
    }

    // 3. The recorded series, as Prometheus stores them, have the label sets of the totals.
    for (c, rule) in checked
        .iter()
        .zip(rules().iter().filter(|r| r.record.is_some()))
    {
        let Ok(cumulative) = &c.cumulative else {
            continue;
        };
        let name = rule.record.as_deref().unwrap();
        let want: Vec<String> = vector(&real, cumulative).into_keys().collect();
        let got = eventually(WAIT, || {
            let got: Vec<String> = vector(&real, name)
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
            "recorded {name}: want the label sets {want:?}"
        );
    }
    eprintln!("fleet checked after {:?}", started.elapsed());

    // 4. One replica dies.
    let dead = 2;
    let mut replicas = replicas;
    // The alert's pending time cannot start before the kill.
    let killed_at = Instant::now();
    replicas[dead].proc.kill();
    served.bodies.lock().unwrap()[dead] = None;
    let alert = rules()
        .into_iter()
        .find(|r| r.alert.is_some() && selected_names(&r.expr).iter().any(|n| n == "up"))
        .expect("an alerting rule on `up`");
    let name = alert.alert.clone().unwrap();
    let hold = alert.for_.as_deref().map_or(0.0, duration_seconds);
    let down = format!(r#"up{{job="{job}",instance="{}"}}"#, instances[dead]);
    assert!(real.wait_for(&down, 0.0, WAIT), "{down}");
    let firing = format!(r#"ALERTS{{alertname="{name}",alertstate="firing"}}"#);
    let fired = eventually(Duration::from_secs_f64(hold + 60.0), || {
        let v = vector(&real, &firing);
        (!v.is_empty()).then_some(v)
    })
    .unwrap_or_else(|| panic!("{name} did not fire within its `for: {hold}s` and a minute"));
    assert!(
        killed_at.elapsed().as_secs_f64() >= hold - 2.0,
        "{name} fired before its `for` duration"
    );
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(
        fired
            .keys()
            .next()
            .unwrap()
            .contains(&format!("\"{}\"", instances[dead])),
        "{fired:?}"
    );

    // The survivors are up and report exactly what they did; the fleet is the two of them.
    let survivors: Vec<String> = instances
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != dead)
        .map(|(_, s)| s.clone())
        .collect();
    for instance in &survivors {
        let up = format!(r#"up{{job="{job}",instance="{instance}"}}"#);
        assert!(real.wait_for(&up, 1.0, WAIT), "{up}");
    }
    let ref_down = format!(r#"up{{instance="{}"}}"#, instances[dead]);
    assert!(reference.wait_for(&ref_down, 0.0, WAIT), "{ref_down}");
    let gone = [instances[dead].clone()];
    let after = compare(
        At::settled(&real, &job, &survivors, &gone),
        At::settled(&reference, &job, &survivors, &gone),
        &checked,
        &survivors,
    );
    for ((c, b), a) in checked.iter().zip(&before).zip(&after) {
        for (i, survivor) in (0..3).filter(|i| *i != dead).enumerate() {
            if let (Some(b), Some(a)) = (b.get(survivor), a.get(i)) {
                assert!(
                    same_vector(a, b),
                    "{}: {} changed after another replica died",
                    c.source,
                    instances[survivor]
                );
            }
        }
    }
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
