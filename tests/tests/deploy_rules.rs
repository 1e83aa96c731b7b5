//! The operations bundle checked by the real tools: `promtool check config`, `promtool check
//! rules`, `promtool test rules` (a unit test for every alert), `amtool check-config`, and the
//! dashboard's structure and PromQL.

use mcp_metrics_tests::deploy::{dashboard, dashboard_queries, deploy_dir};
use mcp_metrics_tests::harness::which;
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
    assert!(
        out.contains("SUCCESS: 13 rules found") && out.contains("SUCCESS: 8 rules found"),
        "{out}"
    );
}

#[test]
fn every_alert_has_firing_and_quiet_unit_tests() {
    let promtool = tool("promtool", "prometheus");
    let out = run(Command::new(&promtool)
        .current_dir(deploy_dir().join("prometheus"))
        .args(["test", "rules", "tests/alerts-test.yml"]));
    assert!(out.contains("SUCCESS"), "{out}");

    let rules = std::fs::read_to_string(deploy_dir().join("prometheus/alert-rules.yml")).unwrap();
    let tests =
        std::fs::read_to_string(deploy_dir().join("prometheus/tests/alerts-test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(alerts.len(), 8, "{alerts:?}");
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
        "Error ratio by error type",
        "Latency p50 / p95 / p99",
        "Calls in flight",
        "Active sessions",
        "LLM tokens per second",
        "LLM cost per hour",
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
