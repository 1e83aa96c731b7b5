//! Objectives end to end: the http-server example, whose `lookup` (99.9 % success, 95 % within
//! 0.5 s) and `add` (99 % success) declare objectives, scraped by a real Prometheus (Debian
//! package) with the deploy bundle's configuration and rule files. Prometheus stores the exported
//! objectives; the generic per-tool rules return values for those two tools, exact against the
//! calls made in their cumulative form, and nothing for any other tool, not even `crash`, whose
//! every call fails by the server's fault; the fast-burn alert goes off for `lookup` only.

use mcp_metrics_tests::deploy::{bundle_prometheus, inline_recorded, rules};
use mcp_metrics_tests::harness::{ExampleServer, McpHttp, Prometheus, eventually};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const ADDS: u32 = 7;
const FOUND: u32 = 6;
const MISSING: u32 = 4;
const BLANK: u32 = 3;
const CRASHES: u32 = 2;

fn label<'a>(labels: &'a Map<String, Value>, name: &str) -> &'a str {
    labels.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The value of each series of `expr` by its `tool` label.
fn by_tool(prom: &Prometheus, expr: &str) -> BTreeMap<String, f64> {
    prom.query(expr)
        .into_iter()
        .map(|(labels, v)| (label(&labels, "tool").to_owned(), v))
        .collect()
}

fn tools(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn objectives_reach_prometheus_and_only_their_tools_get_objective_series() {
    let server = ExampleServer::start(
        "http-server",
        &[("MCP_METRICS_BASIC_AUTH", "prometheus:objective-s3cret")],
    );

    let prom = bundle_prometheus(server.addr, "objective-s3cret");
    assert!(prom.wait_for(r#"up{job="mcp-server"}"#, 1.0, WAIT));
    // Calls while Prometheus scrapes, in two rounds: the first creates every series, so that
    // the rates see the increase of the second (a series' first sample is not an increase).
    std::thread::sleep(Duration::from_secs(2));
    let mut client = McpHttp::connect(&server.url("/mcp"));
    let mut calls = |round: &[u32; 5]| {
        let [adds, found, missing, blank, crashes] = *round;
        for i in 0..adds {
            let r = client.call_tool("add", json!({"a": i, "b": 1}));
            assert!(r.get("result").is_some(), "{r}");
        }
        for _ in 0..found {
            client.call_tool("lookup", json!({"key": "alpha"}));
        }
        for _ in 0..missing {
            client.call_tool("lookup", json!({"key": "missing"}));
        }
        for _ in 0..blank {
            client.call_tool("validate", json!({"text": " "}));
        }
        for _ in 0..crashes {
            client.call_tool("crash", json!({}));
        }
    };
    calls(&[1; 5]);
    // Prometheus has the first round before the second starts.
    for (tool, n) in [("add", 1), ("lookup", 2), ("validate", 1), ("crash", 1)] {
        let total =
            format!(r#"sum(mcp_tool_duration_seconds_count{{job="mcp-server",tool="{tool}"}})"#);
        assert!(
            prom.wait_for(&total, n.into(), WAIT),
            "{total} never reached {n}"
        );
    }
    calls(&[ADDS - 1, FOUND - 1, MISSING - 1, BLANK - 1, CRASHES - 1]);
    client.close();
    for (tool, n) in [
        ("add", ADDS),
        ("lookup", FOUND + MISSING),
        ("validate", BLANK),
        ("crash", CRASHES),
    ] {
        let total =
            format!(r#"sum(mcp_tool_duration_seconds_count{{job="mcp-server",tool="{tool}"}})"#);
        assert!(
            eventually(WAIT, || (prom.query(&total).first()?.1 == f64::from(n))
                .then_some(()))
            .is_some(),
            "{total} never reached {n}"
        );
    }

    // The objectives as Prometheus stores them: `le` as the duration buckets spell it.
    let objectives = eventually(WAIT, || {
        let r = prom.query(r#"mcp_tool_objective_ratio{job="mcp-server"}"#);
        (r.len() == 3).then_some(r)
    })
    .expect("three objective series");
    let mut found: Vec<(String, String, String, f64)> = objectives
        .iter()
        .map(|(l, v)| {
            (
                label(l, "tool").to_owned(),
                label(l, "objective").to_owned(),
                label(l, "le").to_owned(),
                *v,
            )
        })
        .collect();
    found.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        found,
        [
            ("add".into(), "success".into(), String::new(), 0.99),
            ("lookup".into(), "latency".into(), "0.5".into(), 0.95),
            ("lookup".into(), "success".into(), String::new(), 0.999),
        ]
    );
    let bucket = r#"count(mcp_tool_duration_seconds_bucket{job="mcp-server",tool="lookup"} and on (job, tool, le) mcp_tool_objective_ratio{objective="latency"})"#;
    assert_eq!(
        prom.wait_value(bucket, WAIT),
        Some(2.0),
        "the objective's le selects lookup's bucket (one per outcome)"
    );

    // Every per-tool objective rule: values for the tools with an objective part it needs, none
    // for any other tool.
    let with_success = tools(&["add", "lookup"]);
    let with_latency = tools(&["lookup"]);
    let rules = rules();
    let objective_rules: Vec<&str> = rules
        .iter()
        .filter(|r| r.group == "mcp-objectives")
        .filter_map(|r| r.record.as_deref())
        .collect();
    assert!(objective_rules.len() >= 10, "{objective_rules:?}");
    for name in &objective_rules {
        let want = if name.contains("latency") || name.contains("fast_calls") {
            &with_latency
        } else {
            &with_success
        };
        let got = eventually(WAIT, || {
            let got: BTreeSet<String> = by_tool(&prom, name).into_keys().collect();
            (&got == want).then_some(got)
        });
        assert!(
            got.is_some(),
            "{name}: want series for {want:?}, got {:?}",
            by_tool(&prom, name)
        );
    }

    // Exact against the calls, in cumulative form (counters instead of their rates).
    let recorded: HashMap<String, String> = rules
        .iter()
        .filter_map(|r| Some((r.record.clone()?, r.expr.clone())))
        .collect();
    let exact = |name: &str| {
        let cumulative = inline_recorded(&recorded[name], &recorded)
            .unwrap_or_else(|e| panic!("{name}: {}", e.0));
        by_tool(&prom, &cumulative)
    };
    let lookup_failures = f64::from(MISSING) / f64::from(FOUND + MISSING);
    let burn = exact("tool:mcp_tool_error_budget_burn:rate5m");
    assert_eq!(burn.len(), 2, "{burn:?}");
    assert_eq!(burn["add"], 0.0);
    let want = lookup_failures / (1.0 - 0.999);
    assert!(
        (burn["lookup"] - want).abs() <= 1e-9 * want,
        "{burn:?}, want {want}"
    );
    let compliance = exact("tool:mcp_tool_latency_objective_compliance:ratio_rate5m");
    assert_eq!(compliance, BTreeMap::from([("lookup".to_owned(), 1.0)]));

    // As recorded: add has all of its budget, lookup has overspent it; lookup's calls are fast.
    // (Until the rules have seen the calls, a window without calls leaves the budgets whole.)
    let budget = eventually(WAIT, || {
        let r = by_tool(&prom, "tool:mcp_tool_error_budget_remaining:ratio30d");
        (r.keys().eq(with_success.iter()) && r["lookup"] < 0.0).then_some(r)
    })
    .expect("lookup's budget is overspent");
    assert_eq!(budget["add"], 1.0, "{budget:?}");
    let latency = by_tool(&prom, "tool:mcp_tool_latency_budget_remaining:ratio30d");
    assert_eq!(latency, BTreeMap::from([("lookup".to_owned(), 1.0)]));
    let rate = by_tool(&prom, "tool:mcp_tool_error_budget_burn:rate5m");
    assert_eq!(
        rate["add"], 0.0,
        "no failures: a burn rate of 0, not an absent series"
    );

    // lookup fails 40 % of its calls by the server's fault: the fast burn goes off (pending for
    // its `for`, then firing). crash fails all of its calls and has no objective: never.
    let alerts = r#"ALERTS{alertname=~"McpToolErrorBudget.*|McpToolLatencyObjectiveMissed"}"#;
    let fast = eventually(WAIT, || {
        let r = prom.query(alerts);
        r.iter()
            .any(|(l, _)| label(l, "alertname") == "McpToolErrorBudgetFastBurn")
            .then_some(r)
    })
    .expect("McpToolErrorBudgetFastBurn for lookup");
    for (labels, _) in &fast {
        assert_eq!(label(labels, "tool"), "lookup", "{labels:?}");
    }
    let panics = prom.wait_value(
        r#"sum(mcp_tool_duration_seconds_count{job="mcp-server",tool="crash",fault="server"})"#,
        WAIT,
    );
    assert_eq!(panics, Some(f64::from(CRASHES)));
}
