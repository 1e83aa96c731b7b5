//! The live page `/metrics/ui` of the example server in headless Chromium, under load from the
//! official Python MCP client. What the page renders is what a scrape of `/metrics` taken at the
//! same moment says: counts and gauges exactly; ratios, rates and quantiles to the digits shown,
//! quantiles also inside the bucket PromQL's `histogram_quantile` interpolates in; its slow and
//! failed calls are exemplars of that scrape. A wrong password gets 401 on the page and on its
//! JSON, the JSON stays whole past the series limit, and label values reach the page as text,
//! never as markup.
//!
//! `UPDATE=1 cargo test -p mcp-metrics-tests --test live_page` also writes the README's
//! screenshot, `docs/live-page.png`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use mcp_metrics_tests::harness::{
    ExampleServer, McpHttp, agent, eventually, run_python, split_labels, which, workspace_root,
};
use serde_json::{Value, json};

const USER: &str = "ui";
const PASSWORD: &str = "s3cret";
/// The families the page reads.
const FAMILIES: [&str; 4] = [
    "mcp_tool_duration_seconds",
    "mcp_tool_calls_in_flight",
    "mcp_server_operation_duration_seconds",
    "mcp_server_sessions_active",
];
/// Calls held in flight while the page and the scrapes are read.
const HELD: usize = 3;
/// The `client_name` of the sessions holding them.
const HOLDER: &str = "_OTHER";

// ---------------------------------------------------------------------------------------------
// Chromium

fn chromium_path() -> PathBuf {
    let installed = PathBuf::from("/usr/bin/chromium");
    if installed.exists() {
        return installed;
    }
    which("chromium").expect(
        "`chromium` is not installed: `apt-get install -y chromium` (.ci/run does it when missing)",
    )
}

/// Runs headless Chromium on `url` with a fresh profile, off the network, and returns what it
/// prints (the page's DOM with `--dump-dom`). Virtual time runs the page's timers for 3 s of
/// page time, advancing only while no fetch is pending, so the page has refreshed from its
/// JSON at least once before the dump, however slow the machine.
fn chromium(url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("a profile directory");
    let log = profile.path().join("stderr.log");
    let mut child = Command::new(chromium_path())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("data").display()
        ))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("a log file"))
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let exited = eventually(Duration::from_secs(120), || child.try_wait().ok().flatten());
    let Some(status) = exited else {
        let _ = child.kill();
        panic!(
            "chromium did not finish: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };
    assert!(
        status.success(),
        "chromium failed ({status}): {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    reader.join().expect("stdout reader")
}

/// The page's address with the credentials in it: Chromium answers the page's basic-auth
/// challenge with them, and sends them again with the page's own requests.
fn page_url(server: &ExampleServer) -> String {
    format!("http://{USER}:{PASSWORD}@{}/metrics/ui", server.addr)
}

// ---------------------------------------------------------------------------------------------
// The dumped page

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Rows of a table, by their `data-key`: each cell's text by its `data-k`.
type Rows = BTreeMap<String, BTreeMap<String, String>>;

/// The rows of table `id`.
fn table(dom: &str, id: &str) -> Rows {
    let start = dom
        .find(&format!("<table id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table {id} in {dom}"));
    let end = start + dom[start..].find("</table>").expect("the table's end");
    let mut rows = BTreeMap::new();
    for row in dom[start..end].split("<tr data-key=\"").skip(1) {
        let (key, rest) = row.split_once('"').expect("a quoted key");
        let mut cells = BTreeMap::new();
        for cell in rest.split("<td data-k=\"").skip(1) {
            let (field, rest) = cell.split_once('"').expect("a quoted field");
            let text = rest
                .split_once('>')
                .and_then(|(_, t)| t.split_once("</td>"));
            let text = text.expect("a cell's text").0;
            cells.insert(field.to_owned(), unescape(text));
        }
        rows.insert(unescape(key), cells);
    }
    rows
}

/// The text of the element with `id` (one without child elements).
fn text_of(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let text = &dom[at..][dom[at..].find('>').expect("the tag's end") + 1..];
    unescape(&text[..text.find('<').expect("the element's end")])
}

/// A number as the page shows it: its value and half a unit of its last digit.
#[derive(Debug, Clone, Copy)]
struct Shown {
    value: f64,
    slack: f64,
}

fn shown(text: &str) -> Option<Shown> {
    if text == "–" {
        return None;
    }
    let (number, scale) = match text.rsplit_once(' ') {
        Some((n, "%")) => (n, 0.01),
        Some((n, "ms")) => (n, 0.001),
        Some((n, "s")) => (n, 1.0),
        _ => (text, 1.0),
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let value: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"));
    Some(Shown {
        value: value * scale,
        slack: 0.5 * 10f64.powi(-decimals) * scale,
    })
}

/// Asserts that `text` shows `want` to its digits (`–` for none).
fn assert_shows(text: &str, want: Option<f64>, what: &str) {
    match (shown(text), want) {
        (None, None) => {}
        (Some(s), Some(w)) => assert!(
            (s.value - w).abs() <= s.slack + 1e-9 * w.abs(),
            "{what}: the page shows {text}, the scrape says {w}"
        ),
        _ => panic!("{what}: the page shows {text:?}, the scrape says {want:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The scrape

type LabelSet = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: LabelSet,
    value: f64,
    /// An OpenMetrics exemplar's labels and value.
    exemplar: Option<(LabelSet, f64)>,
}

fn label_set(body: &str) -> LabelSet {
    split_labels(body).into_iter().collect()
}

fn number(text: &str) -> f64 {
    match text {
        "+Inf" => f64::INFINITY,
        _ => text
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {text}")),
    }
}

/// The samples of an OpenMetrics exposition.
fn samples(exposition: &str) -> Vec<Sample> {
    let parse = |line: &str| {
        let (sample, exemplar) = match line.split_once(" # ") {
            Some((s, e)) => (s, Some(e)),
            None => (line, None),
        };
        let (series, value) = sample.rsplit_once(' ')?;
        let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
        let exemplar = exemplar.and_then(|e| {
            let (labels, rest) = e.strip_prefix('{')?.split_once("} ")?;
            Some((label_set(labels), number(rest.split(' ').next()?)))
        });
        Some(Sample {
            name: name.to_owned(),
            labels: label_set(labels.strip_suffix('}')?),
            value: number(value),
            exemplar,
        })
    };
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(parse)
        .collect()
}

/// A histogram family added up by one label, as `sum by (label, le)` would.
#[derive(Debug, Default)]
struct Group {
    /// Cumulative counts by upper bound, `+Inf` last.
    buckets: Vec<(f64, f64)>,
    count: f64,
    server: f64,
    client: f64,
}

fn groups(samples: &[Sample], family: &str, by: &str) -> BTreeMap<String, Group> {
    let mut out: BTreeMap<String, Group> = BTreeMap::new();
    let (count, bucket) = (format!("{family}_count"), format!("{family}_bucket"));
    for s in samples
        .iter()
        .filter(|s| s.name == count || s.name == bucket)
    {
        let Some(key) = s.labels.get(by) else {
            continue;
        };
        let group = out.entry(key.clone()).or_default();
        if s.name == count {
            group.count += s.value;
            match s.labels.get("fault").map(String::as_str) {
                Some("server") => group.server += s.value,
                Some("client") => group.client += s.value,
                _ => {}
            }
        } else {
            let le = number(&s.labels["le"]);
            match group.buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, n)) => *n += s.value,
                None => group.buckets.push((le, s.value)),
            }
        }
    }
    for group in out.values_mut() {
        group.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// Gauges of `family` added up by one label.
fn gauges(samples: &[Sample], family: &str, by: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name == family) {
        if let Some(key) = s.labels.get(by) {
            *out.entry(key.clone()).or_default() += s.value;
        }
    }
    out
}

/// PromQL's `histogram_quantile` over cumulative buckets, with the bucket the rank falls in.
fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<(f64, (f64, f64))> {
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    let rank = q * total;
    let b = buckets.iter().position(|(_, n)| *n >= rank)?;
    if b == buckets.len() - 1 {
        let highest = buckets[b - 1].0;
        return Some((highest, (highest, f64::INFINITY)));
    }
    let (start, below) = if b == 0 { (0.0, 0.0) } else { buckets[b - 1] };
    let (end, upto) = buckets[b];
    Some((
        start + (end - start) * (rank - below) / (upto - below),
        (start, end),
    ))
}

// ---------------------------------------------------------------------------------------------
// The server and its load

fn basic(user: &str, password: &str) -> String {
    let creds = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(creds)
    )
}

/// GET `path` of `server` with an `Authorization` header, if any; status and body.
fn fetch(server: &ExampleServer, path: &str, auth: Option<&str>, accept: &str) -> (u16, String) {
    let mut request = agent().get(server.url(path)).header("accept", accept);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let mut response = request.call().expect("GET");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// The lines of the page's families in an OpenMetrics scrape.
fn scrape(server: &ExampleServer) -> String {
    let accept = "application/openmetrics-text; version=1.0.0";
    let (status, text) = fetch(server, "/metrics", Some(&basic(USER, PASSWORD)), accept);
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| FAMILIES.iter().any(|f| l.starts_with(f)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// One call of each failure first, so that each claims its tool's exemplar (one a second per
/// tool), and a slow call first among `slow`'s; then ordinary traffic.
fn load_script() -> Value {
    let mut calls = vec![
        json!({"tool": "slow", "arguments": {"millis": 400}}),
        json!({"tool": "lookup", "arguments": {"key": "missing"}}),
        json!({"tool": "crash", "arguments": {}}),
        json!({"tool": "validate", "arguments": {"text": "  "}}),
        json!({"tool": "no_such_tool", "arguments": {}}),
    ];
    for i in 0..30 {
        calls.push(json!({"tool": "add", "arguments": {"a": i, "b": 1}}));
    }
    for _ in 0..10 {
        calls.push(json!({"tool": "lookup", "arguments": {"key": "alpha"}}));
        calls.push(json!({"tool": "slow", "arguments": {"millis": 2}}));
    }
    for millis in [15, 30, 60, 120] {
        calls.push(json!({"tool": "slow", "arguments": {"millis": millis}}));
    }
    Value::Array(calls)
}

/// Sessions each holding a `slow` call of 5 s, the longest the tool takes. They come from the
/// harness's own client, which starts in no time, so that all are in flight together for
/// nearly the whole 5 s; it is not on the client allow-list (`_OTHER`).
fn hold(server: &ExampleServer) -> Vec<JoinHandle<()>> {
    (0..HELD)
        .map(|_| {
            let url = server.url("/mcp");
            std::thread::spawn(move || {
                let mut client = McpHttp::connect(&url);
                let answer = client.call_tool("slow", json!({"millis": 5000}));
                assert!(answer.get("result").is_some(), "{answer}");
                client.close();
            })
        })
        .collect()
}

/// What the page showed, and the scrape taken around it.
struct Observed {
    dom: String,
    scrape: Vec<Sample>,
    /// Bounds of the page's window, the time since the server's start, as the test saw it.
    window: (f64, f64),
}

/// Loads the server, holds calls in flight and reads the page between two identical scrapes;
/// `None` when a held call ended while the page was read.
fn observe(server: &ExampleServer, before_start: Instant, ready: Instant) -> Option<Observed> {
    let mut held = hold(server);
    let auth = basic(USER, PASSWORD);
    let holding = eventually(Duration::from_secs(60), || {
        let text = fetch(server, "/metrics", Some(&auth), "text/plain").1;
        let all = samples(&text);
        let in_flight = gauges(&all, "mcp_tool_calls_in_flight", "tool");
        let sessions = gauges(&all, "mcp_server_sessions_active", "client_name");
        let held = HELD as f64;
        (in_flight.get("slow") == Some(&held) && sessions.get(HOLDER) == Some(&held)).then_some(())
    });
    assert!(holding.is_some(), "the held calls never were all in flight");
    let first_read = ready.elapsed().as_secs_f64();
    let before = scrape(server);
    let dom = chromium(&page_url(server), &["--dump-dom"]);
    let after = scrape(server);
    let last_read = before_start.elapsed().as_secs_f64();
    if std::env::var_os("UPDATE").is_some() {
        let png = workspace_root().join("docs/live-page.png");
        std::fs::create_dir_all(png.parent().expect("docs")).expect("docs/");
        let shot = format!("--screenshot={}", png.display());
        chromium(&page_url(server), &[&shot, "--window-size=1200,1000"]);
    }
    for holder in held.drain(..) {
        holder.join().expect("a holding client");
    }
    (before == after).then(|| Observed {
        dom,
        scrape: samples(&before),
        window: (first_read, last_read),
    })
}

fn start_server(env: &[(&str, &str)]) -> ExampleServer {
    let mut all = vec![
        ("MCP_METRICS_CLIENT_NAMES", "mcp,python-modern"),
        // JSON logs make the spans OpenTelemetry spans, whose ids the exemplars carry.
        ("MCP_LOG_FORMAT", "json"),
        ("RUST_LOG", "info,rmcp=warn"),
    ];
    all.extend_from_slice(env);
    ExampleServer::start("http-server", &all)
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn the_page_shows_what_a_scrape_taken_at_the_same_moment_shows() {
    let observed = (1..=3).find_map(|_| {
        let before_start = Instant::now();
        let server = start_server(&[("MCP_METRICS_BASIC_AUTH", &format!("{USER}:{PASSWORD}"))]);
        let ready = Instant::now();
        let url = server.url("/mcp");
        run_python("client.py", &[&url, &load_script().to_string()]);
        let modern = run_python("modern_client.py", &[&url]);
        assert_eq!(modern["confirmed"], "ship: confirmed");
        observe(&server, before_start, ready)
    });
    let Observed {
        dom,
        scrape,
        window,
    } = observed.expect("three times a held call ended while the page was read");
    assert_eq!(
        dom.split("data-window=\"")
            .nth(1)
            .and_then(|r| r.split('"').next()),
        Some("start"),
        "the first refreshes of a fresh server count from its start"
    );
    let mut rates = check_tools(&dom, &scrape);
    rates.extend(check_clients(&dom, &scrape));
    rates.push(check_summary(&dom, &scrape));
    check_window(rates, window);
    check_recent_calls(&dom, &scrape);
}

/// Checks the row of one tool or client against its group of the scrape; returns the rate shown
/// with the number of calls in the window (all of them: the window starts at the start).
fn check_row(row: &BTreeMap<String, String>, group: &Group, what: &str) -> (Shown, f64) {
    assert_eq!(row["calls"], group.count.to_string(), "{what}: calls");
    let ratio = |n: f64| (group.count > 0.0).then(|| n / group.count);
    assert_shows(
        &row["server-errors"],
        ratio(group.server),
        &format!("{what}: server errors"),
    );
    assert_shows(
        &row["client-errors"],
        ratio(group.client),
        &format!("{what}: client errors"),
    );
    for (field, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let want = histogram_quantile(q, &group.buckets);
        assert_shows(&row[field], want.map(|w| w.0), &format!("{what}: {field}"));
        if let (Some(s), Some((_, (lower, upper)))) = (shown(&row[field]), want) {
            assert!(
                lower - s.slack <= s.value && s.value <= upper + s.slack,
                "{what}: {field} {} outside its bucket ({lower}, {upper}]",
                row[field]
            );
        }
    }
    let rate = shown(&row["per-second"]).unwrap_or_else(|| panic!("{what}: no rate"));
    (rate, group.count)
}

/// A table of the page and where its rows come from: a histogram family and a gauge family
/// grouped by one label, the gauge shown in cell `gauge_cell`.
struct Source {
    table: &'static str,
    histograms: &'static str,
    gauges: &'static str,
    by: &'static str,
    gauge_cell: &'static str,
}

const TOOLS: Source = Source {
    table: "tools",
    histograms: "mcp_tool_duration_seconds",
    gauges: "mcp_tool_calls_in_flight",
    by: "tool",
    gauge_cell: "in-flight",
};

const CLIENTS: Source = Source {
    table: "clients",
    histograms: "mcp_server_operation_duration_seconds",
    gauges: "mcp_server_sessions_active",
    by: "client_name",
    gauge_cell: "sessions",
};

/// Checks every row of a table against the scrape; returns the rows, and each row's rate shown
/// with its number of calls.
fn check_table(dom: &str, scrape: &[Sample], source: &Source) -> (Rows, Vec<(Shown, f64)>) {
    let rows = table(dom, source.table);
    let groups = groups(scrape, source.histograms, source.by);
    let gauges = gauges(scrape, source.gauges, source.by);
    let names: BTreeSet<&String> = groups.keys().chain(gauges.keys()).collect();
    let shown: BTreeSet<&String> = rows.keys().collect();
    assert_eq!(
        shown, names,
        "one row of {} per {}",
        source.table, source.by
    );
    let none = Group::default();
    let mut rates = Vec::new();
    for (name, row) in &rows {
        rates.push(check_row(row, groups.get(name).unwrap_or(&none), name));
        let gauge = gauges.get(name).copied().unwrap_or(0.0);
        assert_eq!(
            row[source.gauge_cell],
            gauge.to_string(),
            "{name}: {}",
            source.gauge_cell
        );
    }
    (rows, rates)
}

fn check_tools(dom: &str, scrape: &[Sample]) -> Vec<(Shown, f64)> {
    let (rows, rates) = check_table(dom, scrape, &TOOLS);
    // 30 calls of the legacy client, 1 of the 2026-07-28 one.
    assert_eq!(rows["add"]["calls"], "31");
    assert_eq!(rows["crash"]["server-errors"], "100.00 %");
    assert_eq!(rows["slow"]["in-flight"], HELD.to_string());
    rates
}

fn check_clients(dom: &str, scrape: &[Sample]) -> Vec<(Shown, f64)> {
    let (rows, rates) = check_table(dom, scrape, &CLIENTS);
    assert!(rows.contains_key("mcp") && rows.contains_key("python-modern"));
    assert_eq!(rows[HOLDER]["sessions"], HELD.to_string());
    rates
}

/// Every rate shown is calls over one window, which lies between the first and the last moment
/// the page could have read the registry, counted from the server's start.
fn check_window(rates: Vec<(Shown, f64)>, (earliest, latest): (f64, f64)) {
    let (mut low, mut high) = (earliest, latest);
    for (rate, calls) in rates.into_iter().filter(|(_, calls)| *calls > 0.0) {
        low = low.max(calls / (rate.value + rate.slack));
        if rate.value > rate.slack {
            high = high.min(calls / (rate.value - rate.slack));
        }
    }
    assert!(
        low <= high,
        "no one window of {earliest:.2}–{latest:.2} s gives every rate shown ({low:.3} > {high:.3})"
    );
}

/// Checks the summary cards; returns the rate of every tool call shown with their number.
fn check_summary(dom: &str, scrape: &[Sample]) -> (Shown, f64) {
    let in_flight: f64 = gauges(scrape, "mcp_tool_calls_in_flight", "tool")
        .values()
        .sum();
    let sessions: f64 = gauges(scrape, "mcp_server_sessions_active", "client_name")
        .values()
        .sum();
    assert_eq!(text_of(dom, "in-flight"), in_flight.to_string());
    assert_eq!(text_of(dom, "sessions"), sessions.to_string());
    let tools = groups(scrape, "mcp_tool_duration_seconds", "tool");
    let calls: f64 = tools.values().map(|g| g.count).sum();
    let server: f64 = tools.values().map(|g| g.server).sum();
    assert_shows(
        &text_of(dom, "server-errors"),
        Some(server / calls),
        "server errors",
    );
    let tag = &dom[dom.find("<p id=\"dropped\"").expect("#dropped")..];
    assert!(
        tag[..tag.find('>').expect("a tag")].contains(" hidden"),
        "no series was dropped"
    );
    let rate = shown(&text_of(dom, "calls-per-second")).expect("a rate of every tool call");
    (rate, calls)
}

fn check_recent_calls(dom: &str, scrape: &[Sample]) {
    let rows = table(dom, "recent");
    let exemplars: BTreeMap<String, (&Sample, f64)> = scrape
        .iter()
        .filter(|s| s.name == "mcp_tool_duration_seconds_bucket")
        .filter_map(|s| {
            let (labels, value) = s.exemplar.as_ref()?;
            Some((labels.get("trace_id")?.clone(), (s, *value)))
        })
        .collect();
    for (trace_id, row) in &rows {
        let (sample, value) = exemplars
            .get(trace_id)
            .unwrap_or_else(|| panic!("{trace_id} is no exemplar of the scrape"));
        let label = |name: &str| sample.labels.get(name).cloned().unwrap_or_default();
        assert_eq!(row["tool"], label("tool"), "{trace_id}");
        assert_eq!(row["outcome"], label("outcome"), "{trace_id}");
        assert_eq!(row["fault"], label("fault"), "{trace_id}");
        assert_eq!(
            row["span-id"],
            sample.exemplar.as_ref().unwrap().0["span_id"]
        );
        assert_shows(&row["seconds"], Some(*value), trace_id);
        let failed = sample.labels.contains_key("fault");
        assert_eq!(
            row["reason"],
            if failed { "failed" } else { "slow" },
            "{trace_id}"
        );
        assert_ne!(
            row["tool"], "add",
            "every call of add shares one bucket: none is slow"
        );
    }
    for (trace_id, (sample, value)) in &exemplars {
        if sample.labels.contains_key("fault") || (sample.labels["tool"] == "slow" && *value >= 0.4)
        {
            assert!(
                rows.contains_key(trace_id),
                "{trace_id} ({:?}) is not listed",
                sample.labels
            );
        }
    }
    let reasons: BTreeSet<(&str, &str)> = rows
        .values()
        .map(|r| (r["tool"].as_str(), r["reason"].as_str()))
        .collect();
    for expected in [
        ("crash", "failed"),
        ("lookup", "failed"),
        ("validate", "failed"),
        ("slow", "slow"),
    ] {
        assert!(
            reasons.contains(&expected),
            "{expected:?} missing from {reasons:?}"
        );
    }
}

#[test]
fn a_wrong_password_gets_401_on_the_page_and_its_json() {
    let server = start_server(&[("MCP_METRICS_BASIC_AUTH", &format!("{USER}:{PASSWORD}"))]);
    let wrong = [
        None,
        Some(basic(USER, "nope")),
        Some(basic("prom", PASSWORD)),
    ];
    for path in ["/metrics", "/metrics/ui", "/metrics/ui.json"] {
        for auth in &wrong {
            let (status, body) = fetch(&server, path, auth.as_deref(), "*/*");
            assert_eq!(status, 401, "{path} with {auth:?}");
            assert_eq!(body, "unauthorized\n", "{path}: nothing else is told");
        }
        let (status, _) = fetch(&server, path, Some(&basic(USER, PASSWORD)), "*/*");
        assert_eq!(status, 200, "{path}");
    }
    // A browser with the wrong password gets the challenge and renders nothing of the page.
    let url = format!("http://{USER}:nope@{}/metrics/ui", server.addr);
    let dom = chromium(&url, &["--dump-dom"]);
    assert!(!dom.contains("id=\"tools\""), "{dom}");
}

#[test]
fn the_json_stays_whole_past_the_series_limit() {
    let server = start_server(&[("MCP_METRICS_SERIES_LIMIT", "3")]);
    let url = server.url("/mcp");
    run_python("client.py", &[&url, &load_script().to_string()]);
    let (status, body) = fetch(&server, "/metrics/ui.json", None, "application/json");
    assert_eq!(status, 200);
    let data: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let text = fetch(&server, "/metrics", None, "text/plain").1;
    let all = samples(&text);
    let dropped: f64 = all
        .iter()
        .filter(|s| s.name == "mcp_metrics_dropped_series_total")
        .map(|s| s.value)
        .sum();
    assert!(
        dropped > 0.0,
        "the load makes more than 3 series of a metric"
    );
    assert_eq!(data["dropped_series"].as_f64(), Some(dropped));
    let tools = groups(&all, "mcp_tool_duration_seconds", "tool");
    let rows = data["tools"].as_array().expect("tools");
    for row in rows.iter().filter(|r| r["calls"] != 0) {
        let tool = row["tool"].as_str().expect("a name");
        assert_eq!(row["calls"].as_f64(), Some(tools[tool].count), "{tool}");
        for field in ["per_second", "server_error_ratio", "p50", "p95", "p99"] {
            assert!(
                row[field].as_f64().is_some_and(f64::is_finite),
                "{tool}.{field}: {row}"
            );
        }
    }
    let listed: BTreeSet<&str> = rows.iter().filter_map(|r| r["tool"].as_str()).collect();
    assert!(
        tools.keys().all(|t| listed.contains(t.as_str())),
        "{listed:?}"
    );
}

/// Label values hostile to HTML, served by the exporter's router in this process.
#[test]
fn label_values_reach_the_page_as_text() {
    use mcp_metrics_exporter::{Registry, router};
    let tool = "<img src=x onerror=\"document.title='owned'\">";
    let client = "</td><b id=\"injected\">&amp;</b>";
    let registry = Registry::default();
    metrics::with_local_recorder(&registry, || {
        let labels = [("tool", tool), ("outcome", "error"), ("fault", "server")];
        metrics::histogram!("mcp_tool_duration_seconds", &labels).record(0.01);
        let labels = [("method", "tools/call"), ("client_name", client)];
        metrics::histogram!("mcp_server_operation_duration_seconds", &labels).record(0.01);
    });
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    runtime.spawn(async move { axum::serve(listener, router(registry, None)).await });
    let dom = chromium(&format!("http://{addr}/metrics/ui"), &["--dump-dom"]);
    let tools = table(&dom, "tools");
    assert_eq!(tools.keys().collect::<Vec<_>>(), [tool]);
    assert_eq!(tools[tool]["name"], tool);
    assert_eq!(table(&dom, "clients")[client]["name"], client);
    assert!(!dom.contains("<img") && !dom.contains("<b id="), "{dom}");
    assert!(!dom.contains("owned</title>"));
}
