//! The PrometheusRule of `deploy/kubernetes/` against the rule files of `deploy/prometheus/` it is
//! generated from: no drift (regenerated in memory and compared with the committed file, or
//! rewritten with `UPDATE=1`), the same rules once parsed, and `promtool check rules` on the rules
//! extracted from it.

use mcp_metrics_tests::deploy::{
    PROMETHEUS_RULE_FILE, REGENERATE_PROMETHEUS_RULE, deploy_dir, kubernetes_dir, prometheus_rule,
    rule_file_names, rules, yaml_document,
};
use mcp_metrics_tests::harness::which;
use std::collections::HashSet;
use std::process::Command;
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

#[test]
fn prometheus_rule_is_generated_from_the_rule_files() {
    let path = kubernetes_dir().join(PROMETHEUS_RULE_FILE);
    let generated = prometheus_rule();
    if std::env::var_os("UPDATE").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the PrometheusRule");
        eprintln!("rewrote {}", path.display());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the rule files in deploy/prometheus/: regenerate it with\n  {REGENERATE_PROMETHEUS_RULE}\nfirst differing line: {:?}",
        path.display(),
        committed
            .lines()
            .zip(generated.lines())
            .find(|(a, b)| a != b)
            .or_else(|| (committed.lines().count() != generated.lines().count())
                .then_some(("<line count>", "<line count>")))
    );
}

/// The committed PrometheusRule, parsed.
fn committed_rule() -> Yaml {
    yaml_document(&kubernetes_dir().join(PROMETHEUS_RULE_FILE))
}

#[test]
fn prometheus_rule_holds_exactly_the_rule_files_groups() {
    let rule = committed_rule();
    assert_eq!(
        rule["apiVersion"].as_str(),
        Some("monitoring.coreos.com/v1")
    );
    assert_eq!(rule["kind"].as_str(), Some("PrometheusRule"));
    assert!(rule["metadata"]["name"].as_str().is_some());
    let embedded = rule["spec"]["groups"].as_vec().expect("spec.groups");

    // Parsed by a YAML parser, the groups are those of the rule files, in order, equal in every
    // field (names, expressions, durations, labels, annotations).
    let mut expected = Vec::new();
    for file in rule_file_names() {
        let doc = yaml_document(&deploy_dir().join("prometheus").join(&file));
        expected.extend(doc["groups"].as_vec().expect("groups").iter().cloned());
    }
    assert_eq!(embedded.len(), expected.len(), "number of groups");
    for (got, want) in embedded.iter().zip(&expected) {
        assert!(
            got == want,
            "group {:?} of the PrometheusRule differs from the rule files: regenerate with\n  {REGENERATE_PROMETHEUS_RULE}",
            want["name"].as_str()
        );
    }

    // The operator refuses a PrometheusRule with two groups of the same name.
    let mut names = HashSet::new();
    for group in embedded {
        let name = group["name"].as_str().expect("group name");
        assert!(names.insert(name), "group {name} appears twice");
    }
    assert_eq!(
        embedded
            .iter()
            .map(|g| g["rules"].as_vec().map_or(0, Vec::len))
            .sum::<usize>(),
        rules().len()
    );
}

#[test]
fn rules_extracted_from_the_prometheus_rule_pass_promtool() {
    let promtool = which("promtool")
        .expect("`promtool` is not installed: `apt-get install -y prometheus` (.ci/run does it)");
    let rule = committed_rule();
    let mut file = Hash::new();
    file.insert(
        Yaml::String("groups".into()),
        rule["spec"]["groups"].clone(),
    );
    let mut text = String::new();
    YamlEmitter::new(&mut text)
        .dump(&Yaml::Hash(file))
        .expect("emit YAML");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheusrule-rules.yml");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("run promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool check rules failed:\n{report}"
    );
    assert!(
        report.contains(&format!("SUCCESS: {} rules found", rules().len())),
        "{report}"
    );
}
