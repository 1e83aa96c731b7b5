//! Access to the operations bundle in `deploy/`: paths, the queries of the Grafana dashboard, the
//! rules of the Prometheus rule files, the Kubernetes PrometheusRule generated from them, and the
//! PromQL rewriting that makes rate expressions exactly checkable in end-to-end tests.

use crate::harness::Prometheus;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// `deploy/` in the workspace.
pub fn deploy_dir() -> PathBuf {
    crate::harness::workspace_root().join("deploy")
}

/// One query of a dashboard panel.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    /// The panel title.
    pub panel: String,
    /// The PromQL expression, with Grafana variables as written.
    pub expr: String,
}

impl PanelQuery {
    /// The expression with Grafana's variables replaced: every tool, and `rate_interval` for
    /// `$__rate_interval`.
    pub fn resolved(&self, rate_interval: &str) -> String {
        self.expr
            .replace("$__rate_interval", rate_interval)
            .replace("$tool", ".*")
    }
}

/// The dashboard JSON.
pub fn dashboard() -> Value {
    let path = deploy_dir().join("grafana/mcp-metrics-dashboard.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every target expression of every panel, in panel order.
pub fn dashboard_queries() -> Vec<PanelQuery> {
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().cloned().unwrap_or_default();
    panels
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_owned();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(move |t| {
                    Some(PanelQuery {
                        panel: title.clone(),
                        expr: t["expr"].as_str()?.to_owned(),
                    })
                })
        })
        .collect()
}

/// Every YAML document of the file at `path`.
pub fn yaml_documents(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// The single YAML document of the file at `path`.
pub fn yaml_document(path: &Path) -> Yaml {
    let mut docs = yaml_documents(path);
    assert_eq!(
        docs.len(),
        1,
        "{} must hold one YAML document",
        path.display()
    );
    docs.remove(0)
}

/// The rule files that `deploy/prometheus/prometheus.yml` loads, in its order, relative to
/// `deploy/prometheus/`.
pub fn rule_file_names() -> Vec<String> {
    let config = yaml_document(&deploy_dir().join("prometheus/prometheus.yml"));
    config["rule_files"]
        .as_vec()
        .expect("prometheus.yml lists rule_files")
        .iter()
        .map(|f| f.as_str().expect("a rule file name").to_owned())
        .collect()
}

/// The `job_name` of the bundle's scrape configuration (exactly one).
pub fn scrape_job_name() -> String {
    let config = yaml_document(&deploy_dir().join("prometheus/prometheus.yml"));
    let jobs = config["scrape_configs"].as_vec().expect("scrape_configs");
    assert_eq!(jobs.len(), 1, "the bundle scrapes one job");
    jobs[0]["job_name"].as_str().expect("job_name").to_owned()
}

/// A real Prometheus run from the bundle's `prometheus.yml` and rule files, scraping `target`
/// with the scrape password `password`. Only the target, the intervals (one second) and the
/// Alertmanager (none) are rewritten.
pub fn bundle_prometheus(target: SocketAddr, password: &str) -> Prometheus {
    let dir = deploy_dir().join("prometheus");
    let config = std::fs::read_to_string(dir.join("prometheus.yml"))
        .expect("read prometheus.yml")
        .replace("127.0.0.1:8080", &target.to_string())
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
        .replace(
            "        - targets: [\"127.0.0.1:9093\"]",
            "        - targets: []",
        );
    let mut files: Vec<(String, String)> = rule_file_names()
        .into_iter()
        .map(|f| {
            let body = std::fs::read_to_string(dir.join(&f)).expect("read a rule file");
            (f, body)
        })
        .collect();
    files.push(("metrics-password".into(), password.into()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    Prometheus::start(&config, &files)
}

/// One rule of a Prometheus rule file.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule file, relative to `deploy/prometheus/`.
    pub file: String,
    /// The group's name.
    pub group: String,
    /// The recorded series' name, for a recording rule.
    pub record: Option<String>,
    /// The alert's name, for an alerting rule.
    pub alert: Option<String>,
    /// The PromQL expression.
    pub expr: String,
    /// The alert's `for` duration, as written.
    pub for_: Option<String>,
}

/// Every rule of every rule file that `prometheus.yml` loads, in file and group order.
pub fn rules() -> Vec<Rule> {
    let mut out = Vec::new();
    for file in rule_file_names() {
        let doc = yaml_document(&deploy_dir().join("prometheus").join(&file));
        for group in doc["groups"].as_vec().expect("groups").iter() {
            let name = group["name"].as_str().expect("group name").to_owned();
            for rule in group["rules"].as_vec().expect("rules") {
                let text = |key: &str| rule[key].as_str().map(str::to_owned);
                out.push(Rule {
                    file: file.clone(),
                    group: name.clone(),
                    record: text("record"),
                    alert: text("alert"),
                    expr: text("expr").expect("every rule has an expr"),
                    for_: text("for"),
                });
            }
        }
    }
    out
}

/// Seconds of a Prometheus duration such as `2m`, `1h30m`, `90s` or `500ms`.
pub fn duration_seconds(text: &str) -> f64 {
    let mut total = 0.0;
    let mut rest = text.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits]
            .parse()
            .unwrap_or_else(|_| panic!("bad duration {text:?}"));
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += value
            * match &rest[..unit] {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                "w" => 604800.0,
                "y" => 31536000.0,
                u => panic!("bad unit {u:?} in duration {text:?}"),
            };
        rest = &rest[unit..];
    }
    total
}

/// `deploy/kubernetes/` in the workspace.
pub fn kubernetes_dir() -> PathBuf {
    deploy_dir().join("kubernetes")
}

/// The generated PrometheusRule's file name in `deploy/kubernetes/`.
pub const PROMETHEUS_RULE_FILE: &str = "prometheusrule.yaml";

/// The command that rewrites `deploy/kubernetes/prometheusrule.yaml` from the rule files.
pub const REGENERATE_PROMETHEUS_RULE: &str =
    "UPDATE=1 cargo test -p mcp-metrics-tests --test kubernetes_rules";

const PROMETHEUS_RULE_HEAD: &str = "\
# Prometheus Operator: the bundle's recording and alerting rules as a PrometheusRule.
#
# CHANGE: the labels must match the ruleSelector of your Prometheus resource (kube-prometheus-stack
# selects `release: <its release name>` by default); change them with a kustomize patch, since this
# file is generated.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mcp-server
  namespace: mcp
  labels:
    app.kubernetes.io/name: mcp-server
    app.kubernetes.io/part-of: mcp-metrics
    release: prometheus # CHANGE
spec:
  groups:
";

/// The PrometheusRule manifest, generated from the rule files that `prometheus.yml` loads.
///
/// Each rule file is embedded as text: its `groups:` list, indented under `spec.groups`, with its
/// comments. A YAML block keeps its meaning when all its lines are indented alike, so the rules
/// are the same, byte for byte, as in the rule files. A rule file whose only top-level key is not
/// `groups` is refused.
pub fn prometheus_rule() -> String {
    let files = rule_file_names();
    let mut out = format!(
        "# GENERATED from deploy/prometheus/{{{}}}.\n# Do not edit: change the rule files, then run\n#   {REGENERATE_PROMETHEUS_RULE}\n",
        files.join(",")
    );
    out.push_str(PROMETHEUS_RULE_HEAD);
    for file in &files {
        let path = deploy_dir().join("prometheus").join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push_str(&format!("    # ---- deploy/prometheus/{file}\n"));
        out.push_str(&embed_groups(file, &text));
    }
    out
}

/// The lines of a rule file's `groups:` list, indented by two more spaces, with the comments
/// before `groups:` indented as the list.
fn embed_groups(file: &str, text: &str) -> String {
    let mut out = String::new();
    let mut in_groups = false;
    for line in text.lines() {
        let top_level = !line.is_empty() && !line.starts_with([' ', '\t', '#']);
        if top_level {
            let key = line.split('#').next().unwrap_or_default().trim_end();
            assert!(
                key == "groups:" && !in_groups,
                "{file}: cannot embed `{line}`: a rule file for the PrometheusRule has `groups:` as its only top-level key"
            );
            in_groups = true;
            continue;
        }
        assert!(
            !line.starts_with('\t'),
            "{file}: a tab indents `{line}`; YAML indents with spaces"
        );
        if line.trim().is_empty() {
            out.push('\n');
        } else if in_groups {
            out.push_str(&format!("  {line}\n"));
        } else {
            out.push_str(&format!("    {}\n", line.trim_start()));
        }
    }
    assert!(in_groups, "{file} has no `groups:`");
    out
}

/// What a PromQL rewrite could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRewritable(pub String);

/// PromQL keywords that take a parenthesized list of label names.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
/// Other words that are not series names.
const NOT_SELECTORS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "atan2",
    "Inf",
    "NaN",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "limitk",
    "limit_ratio",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ident,
    Str,
    Num,
    /// `{...}` with its content.
    Matchers,
    /// `[...]` with its content.
    Range,
    Open,
    Close,
    Punct,
}

/// Splits a PromQL expression into tokens `(kind, start, end)`, whitespace left out.
fn tokens(expr: &str) -> Vec<(Tok, usize, usize)> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_string = |mut j: usize, quote: u8| {
        j += 1;
        while j < b.len() && b[j] != quote {
            j += if b[j] == b'\\' && quote != b'`' { 2 } else { 1 };
        }
        (j + 1).min(b.len())
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = skip_string(i, c);
                Tok::Str
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                i += 1;
                while i < b.len() && b[i] != close {
                    i = if matches!(b[i], b'"' | b'\'' | b'`') {
                        skip_string(i, b[i])
                    } else {
                        i + 1
                    };
                }
                i = (i + 1).min(b.len());
                if c == b'{' { Tok::Matchers } else { Tok::Range }
            }
            b'(' => {
                i += 1;
                Tok::Open
            }
            b')' => {
                i += 1;
                Tok::Close
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':')
                {
                    i += 1;
                }
                Tok::Ident
            }
            _ if c.is_ascii_digit() || c == b'.' => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'.'
                        || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                Tok::Num
            }
            _ => {
                i += 1;
                Tok::Punct
            }
        };
        out.push((kind, start, i));
    }
    out
}

/// A series selector in an expression: the name's span (empty for `{...}` alone) and the
/// matchers' span if any.
#[derive(Debug, Clone, Copy)]
struct Selector {
    name: Option<(usize, usize)>,
    matchers: Option<(usize, usize)>,
}

fn selectors_of(expr: &str) -> Vec<Selector> {
    let toks = tokens(expr);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (kind, s, e) = toks[i];
        let next = toks.get(i + 1).map(|t| t.0);
        match kind {
            Tok::Ident if LABEL_LIST_KEYWORDS.contains(&&expr[s..e]) && next == Some(Tok::Open) => {
                // Skip the label list.
                i += 2;
                while i < toks.len() && toks[i].0 != Tok::Close {
                    i += 1;
                }
            }
            Tok::Ident
                if LABEL_LIST_KEYWORDS.contains(&&expr[s..e])
                    || NOT_SELECTORS.contains(&&expr[s..e])
                    || next == Some(Tok::Open) => {}
            Tok::Ident => {
                let matchers =
                    (next == Some(Tok::Matchers)).then(|| (toks[i + 1].1, toks[i + 1].2));
                out.push(Selector {
                    name: Some((s, e)),
                    matchers,
                });
                if matchers.is_some() {
                    i += 1;
                }
            }
            Tok::Matchers => out.push(Selector {
                name: None,
                matchers: Some((s, e)),
            }),
            _ => {}
        }
        i += 1;
    }
    out
}

/// The series names an expression selects, in order of appearance.
pub fn selected_names(expr: &str) -> Vec<String> {
    selectors_of(expr)
        .iter()
        .filter_map(|s| s.name.map(|(a, b)| expr[a..b].to_owned()))
        .collect()
}

/// `expr` with every call of a range function over counters (`rate`, `irate`, `increase`)
/// replaced by its argument without the range: `rate(x[5m])` becomes `x`, the counter's value.
/// Evaluated once all traffic is in, with counters that started at zero, it is the total the
/// expression's rates are derived from. Fails when a range selector remains (a function over
/// gauges such as `min_over_time`, whose value over a window has no cumulative form).
pub fn cumulative(expr: &str) -> Result<String, NotRewritable> {
    let mut out = expr.to_owned();
    loop {
        let toks = tokens(&out);
        let call = toks.windows(2).position(|w| {
            w[0].0 == Tok::Ident
                && matches!(&out[w[0].1..w[0].2], "rate" | "irate" | "increase")
                && w[1].0 == Tok::Open
        });
        let Some(at) = call else { break };
        let mut depth = 0;
        let mut close = None;
        for (j, t) in toks.iter().enumerate().skip(at + 1) {
            match t.0 {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close =
            close.ok_or_else(|| NotRewritable(format!("unbalanced parentheses in {expr}")))?;
        let inner = &toks[at + 2..close];
        let range = inner
            .iter()
            .rposition(|t| t.0 == Tok::Range)
            .ok_or_else(|| NotRewritable(format!("no range in a rate of {expr}")))?;
        let (rs, re) = (inner[range].1, inner[range].2);
        let arg = format!("{}{}", &out[toks[at + 1].2..rs], &out[re..toks[close].1]);
        out = format!(
            "{}{}{}",
            &out[..toks[at].1],
            arg.trim(),
            &out[toks[close].2..]
        );
    }
    if tokens(&out).iter().any(|t| t.0 == Tok::Range) {
        return Err(NotRewritable(format!(
            "a range selector other than in rate/irate/increase remains in {out}"
        )));
    }
    Ok(out)
}

/// `expr` with every selector of a recorded series (a name in `recorded`, mapped to its rule's
/// expression) replaced by the cumulative form of that expression, in parentheses, recursively.
/// Fails when a recorded series is selected with matchers.
pub fn inline_recorded(
    expr: &str,
    recorded: &HashMap<String, String>,
) -> Result<String, NotRewritable> {
    let mut out = cumulative(expr)?;
    for _ in 0..16 {
        let sel = selectors_of(&out).into_iter().find(|s| {
            s.name
                .is_some_and(|(a, b)| recorded.contains_key(&out[a..b]))
        });
        let Some(sel) = sel else { return Ok(out) };
        let (a, b) = sel.name.expect("named");
        if sel.matchers.is_some() {
            return Err(NotRewritable(format!(
                "{} is selected with matchers in {expr}",
                &out[a..b]
            )));
        }
        let body = cumulative(&recorded[&out[a..b]])?;
        out = format!("{}({}){}", &out[..a], body.trim(), &out[b..]);
    }
    Err(NotRewritable(format!(
        "recorded series nest too deep in {expr}"
    )))
}

/// `expr` with the matcher `label="value"` added to every series selector.
pub fn restrict(expr: &str, label: &str, value: &str) -> String {
    let matcher = format!("{label}={}", serde_json::Value::from(value));
    let mut out = expr.to_owned();
    for sel in selectors_of(expr).into_iter().rev() {
        match (sel.name, sel.matchers) {
            (_, Some((a, b))) => {
                let inner = expr[a + 1..b - 1].trim();
                let body = if inner.is_empty() {
                    matcher.clone()
                } else {
                    format!("{matcher}, {inner}")
                };
                out.replace_range(a..b, &format!("{{{body}}}"));
            }
            (Some((_, b)), None) => out.insert_str(b, &format!("{{{matcher}}}")),
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_counters() {
        assert_eq!(
            cumulative("sum by (job, tool) (rate(x_count{fault=\"server\"}[5m])) / sum by (job, tool) (rate(x_count[5m]))").unwrap(),
            "sum by (job, tool) (x_count{fault=\"server\"}) / sum by (job, tool) (x_count)"
        );
        assert_eq!(
            cumulative("histogram_quantile(0.5, sum by (le) (irate(b[1m])))").unwrap(),
            "histogram_quantile(0.5, sum by (le) (b))"
        );
        assert_eq!(
            cumulative("sum(increase(d{m=\"a]b\"}[10m])) or vector(0)").unwrap(),
            "sum(d{m=\"a]b\"}) or vector(0)"
        );
        assert!(cumulative("min_over_time(g[10m]) > 0").is_err());
    }

    #[test]
    fn recorded_series_are_inlined() {
        let recorded = HashMap::from([
            (
                "a:rate5m".to_owned(),
                "sum by (job) (rate(a[5m]))".to_owned(),
            ),
            ("b:ratio".to_owned(), "a:rate5m / 2".to_owned()),
        ]);
        assert_eq!(
            inline_recorded("sum(b:ratio) / 0.005", &recorded).unwrap(),
            "sum(((sum by (job) (a)) / 2)) / 0.005"
        );
        assert!(inline_recorded("a:rate5m{job=\"x\"}", &recorded).is_err());
    }

    #[test]
    fn restriction_reaches_every_selector() {
        assert_eq!(
            restrict(
                "sum by (tool, error_type) (x{tool=~\".*\", outcome=\"e\"}) / ignoring (error_type) group_left sum by (tool) (y) or vector(0)",
                "instance",
                "h:1"
            ),
            "sum by (tool, error_type) (x{instance=\"h:1\", tool=~\".*\", outcome=\"e\"}) / ignoring (error_type) group_left sum by (tool) (y{instance=\"h:1\"}) or vector(0)"
        );
        assert_eq!(selected_names("max(m) + on (job) n{}"), ["m", "n"]);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("2m"), 120.0);
        assert_eq!(duration_seconds("1h30m"), 5400.0);
        assert_eq!(duration_seconds("500ms"), 0.5);
    }
}
