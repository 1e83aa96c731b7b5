//! The operations bundle checked by the real tools: `promtool check config`, `promtool check
//! rules`, `promtool test rules` (every test file; an alert that fires and one that stays quiet
//! for every alert), `amtool check-config`, and the dashboard's structure and PromQL. Also: the
//! input series of the unit tests carry exactly the label sets the code records, and the
//! objective rules are generic (no tool named in any rule; every per-tool objective series joins
//! on the exported objectives).

use mcp_metrics::{Outcome, Risk, jsonrpc_code_fault};
use mcp_metrics_tests::deploy::{
    dashboard, dashboard_queries, deploy_dir, rules, selected_names, yaml_document,
};
use mcp_metrics_tests::harness::which;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str, package: &str) -> std::path::PathBuf {
    which(name).unwrap_or_else(|| {
        panic!("`{name}` is not installed: `apt-get install -y {package}` (.ci/run does it)")
    })
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn prometheus_config_and_rules_are_valid() {
    let promtool = tool("promtool", "prometheus");
    let dir = tempfile::tempdir().unwrap();
    for file in ["prometheus.yml", "recording-rules.yml", "alert-rules.yml"] {
        std::fs::copy(
            deploy_dir().join("prometheus").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("metrics-password"), "secret\n").unwrap();
    let out = run(Command::new(&promtool).current_dir(dir.path()).args([
        "check",
        "config",
        "prometheus.yml",
    ]));
    assert!(out.contains("SUCCESS: 2 rule files found"), "{out}");
    let out = run(Command::new(&promtool)
        .current_dir(deploy_dir().join("prometheus"))
        .args(["check", "rules", "recording-rules.yml", "alert-rules.yml"]));
    // promtool finds every rule the files hold.
    let rules = rules();
    for file in ["recording-rules.yml", "alert-rules.yml"] {
        let n = rules.iter().filter(|r| r.file == file).count();
        assert!(n > 0, "{file} has no rule");
        let checked = out
            .split("Checking ")
            .find(|part| part.starts_with(file))
            .unwrap_or_default();
        assert!(
            checked.contains(&format!("SUCCESS: {n} rules found")),
            "{file}: {n} rules expected in\n{out}"
        );
    }
}

/// The unit test files in `deploy/prometheus/tests/`.
fn test_files() -> Vec<PathBuf> {
    let dir = deploy_dir().join("prometheus/tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
}

#[test]
fn every_alert_has_firing_and_quiet_unit_tests() {
    let promtool = tool("promtool", "prometheus");
    let files = test_files();
    let mut cmd = Command::new(&promtool);
    cmd.current_dir(deploy_dir().join("prometheus"))
        .args(["test", "rules"])
        .args(&files);
    let out = run(&mut cmd);
    assert_eq!(
        out.matches("SUCCESS").count(),
        files.len(),
        "every test file passes:\n{out}"
    );

    let rules = std::fs::read_to_string(deploy_dir().join("prometheus/alert-rules.yml")).unwrap();
    let tests: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(alerts.len(), 17, "{alerts:?}");
    for alert in alerts {
        let blocks: Vec<&str> = tests
            .split("- eval_time:")
            .filter(|b| b.contains(&format!("alertname: {alert}\n")))
            .collect();
        assert!(
            blocks.iter().any(|b| b.contains("exp_alerts: []")),
            "{alert} has no test where it stays quiet"
        );
        assert!(
            blocks.iter().any(|b| b.contains("exp_labels:")),
            "{alert} has no test where it fires"
        );
    }
}

#[test]
fn alertmanager_config_is_valid() {
    let amtool = tool("amtool", "prometheus-alertmanager");
    let path = deploy_dir().join("alertmanager/alertmanager.yml");
    let out = run(Command::new(amtool).arg("check-config").arg(path));
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn dashboard_panels_have_a_datasource_and_valid_queries() {
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10);
    for p in panels {
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "panel {}",
            p["title"]
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
        for t in targets {
            assert!(
                !t["expr"].as_str().unwrap_or_default().trim().is_empty(),
                "empty query in {}",
                p["title"]
            );
        }
    }
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Tool calls per second",
        "Error ratio by error type and fault",
        "Latency p50 / p95 / p99",
        "Calls in flight",
        "Error budget remaining per tool (30 days)",
        "Error budget burn rate per tool",
        "Latency objective compliance",
        "Service error budget burn rate",
        "Caller vs server errors",
        "Requests by client",
        "Active sessions by client",
        "Tasks active",
        "Task duration p95 by status",
        "Open subscriptions",
        "Result size p95 by tool",
        "Tool catalogue size",
        "Multi-round-trip requests",
        "LLM tokens per second",
        "LLM cost per hour",
        "Requests refused before any handler",
        "Sessions held vs served",
        "Unknown tool calls by client",
        "Catalogue fingerprints",
        "Catalogue changes",
        "Requests by protocol version",
    ] {
        assert!(
            titles.contains(&wanted),
            "no panel {wanted:?} in {titles:?}"
        );
    }

    // Every query parses as PromQL: promtool checks them as recording rules.
    let queries = dashboard_queries();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, q) in queries.iter().enumerate() {
        let expr = q.resolved("1m").replace('\'', "''");
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: '{expr}'\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard-rules.yml");
    std::fs::write(&file, rules).unwrap();
    let out = run(Command::new(tool("promtool", "prometheus"))
        .args(["check", "rules"])
        .arg(&file));
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{out}"
    );
}

/// A series of a promtool input: its name and labels.
fn parse_series(text: &str) -> (String, BTreeMap<String, String>) {
    let (name, rest) = text.split_once('{').unwrap_or((text, "}"));
    let body = rest.trim_end().strip_suffix('}').expect("a closing brace");
    let mut labels = BTreeMap::new();
    for pair in body.split("\",").filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once("=\"")
            .unwrap_or_else(|| panic!("label {pair:?}"));
        let v = v.trim_end_matches('"');
        assert!(
            labels.insert(k.trim().to_owned(), v.to_owned()).is_none(),
            "{text}: label {k} twice"
        );
    }
    (name.to_owned(), labels)
}

/// What the code records with these labels, or why it never would.
fn check_recorded_labels(name: &str, l: &BTreeMap<String, String>) -> Result<(), String> {
    let get = |k: &str| l.get(k).map(String::as_str);
    let has_only = |allowed: &[&str]| match l
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && !["job", "instance"].contains(&k.as_str()))
    {
        Some(k) => Err(format!("label {k} is never recorded on {name}")),
        None => Ok(()),
    };
    let tool_layer = name.starts_with("mcp_tool_duration_seconds");
    let request_layer = name == "mcp_server_operation_duration_seconds_count";
    if tool_layer || request_layer {
        let outcome = get("outcome").ok_or("no outcome")?;
        if !Outcome::CLASSES.contains(&outcome) {
            return Err(format!("unknown outcome {outcome}"));
        }
        let failed = matches!(outcome, "error" | "tool_error" | "panic");
        if failed != l.contains_key("error_type") || failed != l.contains_key("fault") {
            return Err(format!(
                "error_type and fault are recorded exactly on error, tool_error and panic, not on {outcome}"
            ));
        }
        match (outcome, get("error_type"), get("fault")) {
            ("tool_error", Some("tool_error"), Some("client")) => {}
            ("tool_error", ..) => return Err("a tool error is error_type=tool_error, fault=client".into()),
            ("panic", Some("panic"), Some("server")) if tool_layer => {}
            ("panic", ..) => {
                return Err("panics are error_type=panic, fault=server, at the tool layer only (the request layer answers -32603)".into())
            }
            _ => {}
        }
        if let (Some(code), Some(fault)) = (get("error_type"), get("fault"))
            && let Ok(code) = code.parse::<i32>()
        {
            let want = jsonrpc_code_fault(code).as_str();
            if fault != want {
                return Err(format!("JSON-RPC error {code} is fault={want}"));
            }
        }
        // Every tool call carries the risk class of its tool; nothing else does.
        let tool_call = tool_layer || get("method") == Some("tools/call");
        match get("risk") {
            Some(risk) if !Risk::ALL.iter().any(|r| r.as_str() == risk) => {
                return Err(format!("unknown risk {risk}"));
            }
            Some(_) if !tool_call => return Err("risk is recorded on tool calls only".into()),
            None if tool_call => return Err("a tool call without risk".into()),
            _ => {}
        }
        if request_layer && get("tool") == Some("_unknown") && get("risk") != Some("_unknown") {
            return Err("an unknown tool has an unknown risk".into());
        }
        if tool_layer {
            let le = name.ends_with("_bucket");
            let mut allowed = vec!["tool", "risk", "outcome", "error_type", "fault"];
            if le {
                allowed.push("le");
                get("le").ok_or("a bucket without le")?;
            }
            has_only(&allowed)?;
            get("tool").ok_or("no tool")?;
        } else {
            has_only(&[
                "method",
                "tool",
                "risk",
                "prompt",
                "outcome",
                "error_type",
                "fault",
                "client_name",
                "protocol_version",
                "network_transport",
            ])?;
            get("method").ok_or("no method")?;
            if let Some(transport) = get("network_transport")
                && !["tcp", "pipe"].contains(&transport)
            {
                return Err(format!("network_transport is tcp or pipe, not {transport}"));
            }
            get("client_name").ok_or("no client_name")?;
            if get("method") == Some("tools/call") && get("tool").is_none() {
                return Err("a tools/call without tool".into());
            }
        }
    }
    match name {
        "mcp_server_input_retries_total" => {
            has_only(&["method", "tool", "prompt", "outcome"])?;
            get("outcome").ok_or("no outcome")?;
        }
        "mcp_tool_objective_ratio" => {
            has_only(&["tool", "objective", "le"])?;
            match (get("objective"), get("le")) {
                (Some("success"), None) => {}
                (Some("latency"), Some(le)) => {
                    let bound: f64 = le.parse().map_err(|_| format!("le {le}"))?;
                    let mut spelled = bound.to_string();
                    if !spelled.contains('.') {
                        spelled.push_str(".0");
                    }
                    if le != spelled {
                        return Err(format!("the exporter spells le {bound} as {spelled:?}"));
                    }
                }
                _ => {
                    return Err("objective=success without le, or objective=latency with le".into());
                }
            }
        }
        "mcp_tool_calls_in_flight" | "mcp_server_tasks_active" => has_only(&["tool"])?,
        "mcp_server_refused_requests_total" => {
            has_only(&["refusal_reason", "http_route"])?;
            let reason = get("refusal_reason").ok_or("no refusal_reason")?;
            if !mcp_metrics::rmcp::Refusal::ALL
                .iter()
                .any(|r| r.as_str() == reason)
            {
                return Err(format!("unknown refusal_reason {reason}"));
            }
            get("http_route").ok_or("no http_route")?;
        }
        "http_server_request_duration_seconds_count" => {
            has_only(&[
                "http_request_method",
                "http_response_status_code",
                "http_route",
            ])?;
            get("http_request_method").ok_or("no http_request_method")?;
            get("http_route").ok_or("no http_route")?;
        }
        "mcp_server_catalogue_info" | "mcp_client_catalogue_info" => {
            has_only(&["server_name", "kind", "fingerprint"])?;
            catalogue_kind(get("kind"))?;
            let fp = get("fingerprint").ok_or("no fingerprint")?;
            if fp != "_OTHER" && !(fp.len() == 16 && fp.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(format!("fingerprint {fp} is not 16 hex digits"));
            }
            if name.starts_with("mcp_client") != l.contains_key("server_name") {
                return Err("server_name is recorded on the client side only".into());
            }
        }
        "mcp_server_catalogue_changes_total" => {
            has_only(&["kind"])?;
            catalogue_kind(get("kind"))?;
        }
        "mcp_client_catalogue_changes_total" => {
            has_only(&["server_name", "kind"])?;
            catalogue_kind(get("kind"))?;
            get("server_name").ok_or("no server_name")?;
        }
        "mcp_server_task_duration_seconds_count" => {
            has_only(&["tool", "status"])?;
            if !matches!(get("status"), Some("completed" | "failed" | "cancelled")) {
                return Err("status is completed, failed or cancelled".into());
            }
        }
        _ => {}
    }
    Ok(())
}

/// The `kind` of a catalogue metric.
fn catalogue_kind(kind: Option<&str>) -> Result<(), String> {
    match kind {
        Some("tools" | "prompts") => Ok(()),
        other => Err(format!("kind {other:?} is tools or prompts")),
    }
}

#[test]
fn unit_test_inputs_carry_the_label_sets_the_code_records() {
    let mut checked = 0;
    for file in test_files() {
        let doc = yaml_document(&file);
        for test in doc["tests"].as_vec().expect("tests") {
            for input in test["input_series"].as_vec().into_iter().flatten() {
                let series = input["series"].as_str().expect("series");
                let (name, labels) = parse_series(series);
                if let Err(why) = check_recorded_labels(&name, &labels) {
                    panic!("{}: {series}: {why}", file.display());
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
    // The check itself tells the code's label sets from others.
    for (bad, why) in [
        (
            r#"mcp_server_operation_duration_seconds_count{job="j",method="tools/call",tool="t",risk="destructive",outcome="error",error_type="-32602",fault="server",client_name="_OTHER"}"#,
            "-32602 is the caller's",
        ),
        (
            r#"mcp_tool_duration_seconds_count{job="j",tool="t",risk="read_only",outcome="success",fault="server"}"#,
            "no fault on success",
        ),
        (
            r#"mcp_server_operation_duration_seconds_count{job="j",method="tools/call",tool="t",risk="destructive",outcome="panic",error_type="panic",fault="server",client_name="_OTHER"}"#,
            "no panic outcome at the request layer",
        ),
        (
            r#"mcp_tool_duration_seconds_count{job="j",tool="t",outcome="success"}"#,
            "every tool call carries its risk",
        ),
        (
            r#"mcp_server_operation_duration_seconds_count{job="j",method="tools/call",tool="t",risk="dangerous",outcome="success",client_name="_OTHER"}"#,
            "risk is one of the classes",
        ),
        (
            r#"mcp_server_operation_duration_seconds_count{job="j",method="tools/list",risk="read_only",outcome="success",client_name="_OTHER"}"#,
            "risk is on tool calls only",
        ),
        (
            r#"mcp_tool_objective_ratio{job="j",tool="t",objective="latency",le="1"}"#,
            "le is spelled 1.0",
        ),
        (
            r#"mcp_server_catalogue_info{job="j",kind="tools",fingerprint="v1"}"#,
            "a fingerprint is 16 hex digits",
        ),
        (
            r#"mcp_server_catalogue_changes_total{job="j",kind="resources"}"#,
            "catalogues are tools or prompts",
        ),
    ] {
        let (name, labels) = parse_series(bad);
        assert!(check_recorded_labels(&name, &labels).is_err(), "{why}");
    }
}

#[test]
fn objective_rules_are_generic() {
    let rules = rules();
    let recorded: HashMap<String, String> = rules
        .iter()
        .filter_map(|r| Some((r.record.clone()?, r.expr.clone())))
        .collect();
    // Whether `expr` reads the exported objectives, directly or through recorded series.
    fn reads_objectives(expr: &str, recorded: &HashMap<String, String>, depth: usize) -> bool {
        depth < 16
            && selected_names(expr).iter().any(|n| {
                n == "mcp_tool_objective_ratio"
                    || recorded
                        .get(n)
                        .is_some_and(|e| reads_objectives(e, recorded, depth + 1))
            })
    }
    for rule in &rules {
        let name = rule.record.as_deref().or(rule.alert.as_deref()).unwrap();
        // Nobody edits the rules per tool. `_unknown` is no tool: it is the label of the calls
        // for tools the server does not have.
        let expr = rule.expr.replace("tool=\"_unknown\"", "");
        assert!(
            !expr.contains("tool=\"") && !expr.contains("tool=~"),
            "{name} names a tool: {}",
            rule.expr
        );
        let per_tool_objective = rule.group == "mcp-objectives"
            || [
                "McpToolErrorBudgetFastBurn",
                "McpToolErrorBudgetSlowBurn",
                "McpToolLatencyObjectiveMissed",
            ]
            .contains(&name);
        if per_tool_objective {
            assert!(
                reads_objectives(&rule.expr, &recorded, 0),
                "{name} does not join on mcp_tool_objective_ratio, so a tool without an objective could get it"
            );
        }
    }
    assert!(rules.iter().filter(|r| r.group == "mcp-objectives").count() >= 10);
}
