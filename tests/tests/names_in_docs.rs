//! Every metric name the documentation, the deploy bundle and the HELP texts mention is one the
//! code exports, and every metric the code names has a HELP text: a renamed metric cannot leave
//! a stale name behind in a doc comment, the README, a rule or a dashboard.

use mcp_metrics_tests::harness::workspace_root;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The metric names of the catalog, which `mcp_metrics::names` holds as constants.
fn declared_names() -> BTreeSet<String> {
    mcp_metrics::catalog::METRICS
        .iter()
        .map(|m| m.name.to_owned())
        .collect()
}

/// Words of `text` that look like metric names: `mcp_` and lowercase letters, digits and `_`,
/// not part of a longer identifier, a path (`mcp_metrics::`), a recording rule name
/// (`tool:mcp_..:rate5m`) or a file name.
fn metric_like_words(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find("mcp_") {
        let start = i + found;
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'_')
        {
            end += 1;
        }
        let before = start.checked_sub(1).map(|p| bytes[p]);
        let after = bytes.get(end).copied();
        let joined_before =
            before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
        let joined_after = matches!(after, Some(b':' | b'-' | b'.' | b'!'))
            || after.is_some_and(|b| b.is_ascii_uppercase());
        if !joined_before && !joined_after {
            words.push(text[start..end].to_owned());
        }
        i = end.max(start + 1);
    }
    words
}

/// Crate and item names that are not metrics.
const NOT_METRICS: [&str; 8] = [
    "mcp_metrics",
    "mcp_metrics_exporter",
    "mcp_metrics_macros",
    "mcp_metrics_tests",
    "mcp_metrics_examples",
    "mcp_metrics_benches",
    "mcp_tool",
    "mcp_metrics_dashboard",
];

fn known(word: &str, names: &BTreeSet<String>) -> bool {
    if NOT_METRICS.contains(&word) || names.contains(word) {
        return true;
    }
    // A family written as a prefix, such as `mcp_tool_*`.
    if word.ends_with('_') && names.iter().any(|n| n.starts_with(word)) {
        return true;
    }
    ["_bucket", "_sum", "_count"].iter().any(|suffix| {
        word.strip_suffix(suffix)
            .is_some_and(|base| names.contains(base))
    })
}

fn files_under(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("ui") {
                files_under(&path, extensions, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
}

/// The documentation of the workspace: README, the deploy bundle, and the doc comments of the
/// library crates.
fn documentation() -> Vec<(PathBuf, String)> {
    let root = workspace_root();
    let mut docs = vec![root.join("README.md")];
    files_under(&root.join("deploy"), &["yml", "yaml", "json"], &mut docs);
    let mut out: Vec<(PathBuf, String)> = docs
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect();
    let mut sources = Vec::new();
    for krate in [
        "mcp-metrics/src",
        "mcp-metrics-exporter/src",
        "mcp-metrics-macros/src",
    ] {
        files_under(&root.join(krate), &["rs"], &mut sources);
    }
    for path in sources {
        let text = std::fs::read_to_string(&path).expect("source");
        let comments: String = text
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("///") || l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        out.push((path, comments));
    }
    out
}

#[test]
fn documented_metric_names_exist() {
    let names = declared_names();
    assert!(names.contains("mcp_tool_duration_seconds"), "{names:?}");
    let mut stale = Vec::new();
    for (path, text) in documentation() {
        for word in metric_like_words(&text) {
            if !known(&word, &names) {
                stale.push(format!("{}: {word}", path.display()));
            }
        }
    }
    stale.sort();
    stale.dedup();
    assert!(
        stale.is_empty(),
        "names no metric has:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_scanner_finds_names() {
    let words = metric_like_words(
        "see `mcp_llm_cost_total{model}` and rate(mcp_tool_duration_seconds_count[5m]); \
         not mcp_metrics::names, tool:mcp_tool_failures:ratio_rate5m, MCP_METRICS_LISTEN, \
         mcp-metrics-dashboard.json",
    );
    assert_eq!(
        words,
        ["mcp_llm_cost_total", "mcp_tool_duration_seconds_count"]
    );
    let names = declared_names();
    assert!(known("mcp_server_", &names), "a prefix of names");
    assert!(!known("mcp_nothing_", &names));
    assert!(!known("mcp_llm_cost_total", &names));
    assert!(known("mcp_tool_duration_seconds_count", &names));
}

#[test]
fn every_metric_has_help_text() {
    use mcp_metrics::catalog::{Kind, METRICS};
    let exporter = mcp_metrics_exporter::ExporterBuilder::new()
        .without_listener()
        .build()
        .expect("the default exporter builds");
    let registry = exporter.registry();
    metrics::with_local_recorder(registry, || {
        for metric in METRICS {
            // One series of each, of its kind, so that the family renders.
            match metric.kind {
                Kind::Counter => metrics::counter!(metric.name).increment(1),
                Kind::Histogram => metrics::histogram!(metric.name).record(1.0),
                Kind::Gauge => metrics::gauge!(metric.name).set(1.0),
            }
        }
    });
    let text = registry.render_prometheus();
    let missing: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("# HELP ") && l.contains("(no description registered)"))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics without HELP text:\n{}",
        missing.join("\n")
    );
}

/// The README's table of OTLP names lists every metric of the catalog once, with its OTLP name,
/// its unit and the OTLP key of each of its labels.
#[test]
fn the_otlp_table_lists_every_metric() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let start = readme
        .find("| Prometheus name | OTLP name | unit |")
        .expect("the README's table of OTLP names");
    let mut rows = std::collections::BTreeMap::new();
    for line in readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`');
        assert!(
            rows.insert(name, cells.clone()).is_none(),
            "{name} has two rows"
        );
    }
    let mut wrong = Vec::new();
    for metric in mcp_metrics::catalog::METRICS {
        let Some(cells) = rows.remove(metric.name) else {
            wrong.push(format!("{}: no row", metric.name));
            continue;
        };
        if !cells[1].starts_with(&format!("`{}`", metric.otlp)) {
            wrong.push(format!("{}: OTLP name {}", metric.name, metric.otlp));
        }
        if cells[2] != format!("`{}`", metric.unit) {
            wrong.push(format!("{}: unit {}", metric.name, metric.unit));
        }
        for label in metric.labels {
            let key = metric.attribute(label);
            if !cells[3].contains(&format!("`{key}`")) {
                wrong.push(format!("{}: attribute {key}", metric.name));
            }
        }
    }
    for name in rows.keys() {
        wrong.push(format!("{name}: a row but no metric"));
    }
    assert!(
        wrong.is_empty(),
        "the README's OTLP table:\n{}",
        wrong.join("\n")
    );
}
