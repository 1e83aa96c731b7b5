//! Access to the operations bundle in `deploy/`: paths, the queries of the Grafana dashboard, the
//! rules of the Prometheus rule files, the Kubernetes PrometheusRule generated from them, and the
//! PromQL rewriting that makes rate expressions exactly checkable in end-to-end tests, done on the
//! syntax tree of the `promql-parser` crate and printed back with it.

use crate::harness::Prometheus;
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, ParenExpr, VectorSelector};
use serde_json::Value;
use std::collections::HashMap;
use std::convert::Infallible;
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

/// `expr` parsed as PromQL (promql-parser, whose printed form parses back to the same tree).
fn parse(expr: &str) -> Result<Expr, NotRewritable> {
    parser::parse(expr).map_err(|e| NotRewritable(format!("not PromQL: {expr}: {e}")))
}

/// `expr` parsed, for the rewrites that cannot fail on valid PromQL; panics naming it otherwise.
fn parse_valid(expr: &str) -> Expr {
    parse(expr).unwrap_or_else(|e| panic!("{}", e.0))
}

/// The direct subexpressions of `expr`, in the order they are written.
fn children(expr: &mut Expr) -> Vec<&mut Expr> {
    match expr {
        Expr::Aggregate(a) => a
            .param
            .iter_mut()
            .map(|p| &mut **p)
            .chain([&mut *a.expr])
            .collect(),
        Expr::Unary(u) => vec![&mut *u.expr],
        Expr::Binary(b) => vec![&mut *b.lhs, &mut *b.rhs],
        Expr::Paren(p) => vec![&mut *p.expr],
        Expr::Subquery(s) => vec![&mut *s.expr],
        Expr::Call(c) => c.args.args.iter_mut().map(|a| &mut **a).collect(),
        _ => Vec::new(),
    }
}

/// Calls `f` on `expr`, then on every subexpression of what `f` left there, in the order they
/// are written; stops at the first error.
fn visit<E>(expr: &mut Expr, f: &mut impl FnMut(&mut Expr) -> Result<(), E>) -> Result<(), E> {
    f(expr)?;
    children(expr)
        .into_iter()
        .try_for_each(|child| visit(child, f))
}

/// The series selector of a vector or range selector.
fn selector(expr: &mut Expr) -> Option<&mut VectorSelector> {
    match expr {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(ms) => Some(&mut ms.vs),
        _ => None,
    }
}

/// The series names an expression selects, in order of appearance.
///
/// # Panics
/// When `expr` is not PromQL.
pub fn selected_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(()) = visit(&mut parse_valid(expr), &mut |e| {
        names.extend(selector(e).and_then(|vs| vs.name.clone()));
        Ok::<_, Infallible>(())
    });
    names
}

/// `expr` with every call of a range function over counters (`rate`, `irate`, `increase`)
/// replaced by its argument without the range: `rate(x[5m])` becomes `x`, the counter's value.
/// Evaluated once all traffic is in, with counters that started at zero, it is the total the
/// expression's rates are derived from. Fails when a range remains (a function over gauges such
/// as `min_over_time`, whose value over a window has no cumulative form, or a subquery).
pub fn cumulative(expr: &str) -> Result<String, NotRewritable> {
    cumulative_tree(expr).map(|tree| tree.to_string())
}

/// The tree of `expr` in its cumulative form (see [`cumulative`]).
fn cumulative_tree(expr: &str) -> Result<Expr, NotRewritable> {
    let mut tree = parse(expr)?;
    // Visited before its argument: a range the call holds is gone before it would be seen.
    visit(&mut tree, &mut |e| match e {
        Expr::Call(call) if matches!(call.func.name, "rate" | "irate" | "increase") => {
            if let [arg] = call.args.args.as_slice()
                && let Expr::MatrixSelector(ms) = &**arg
            {
                *e = Expr::VectorSelector(ms.vs.clone());
            }
            Ok(())
        }
        Expr::MatrixSelector(_) | Expr::Subquery(_) => Err(NotRewritable(format!(
            "a range other than in rate/irate/increase remains: {e} in {expr}"
        ))),
        _ => Ok(()),
    })?;
    Ok(tree)
}

/// How deep recorded series may select recorded series.
const MAX_RECORDED_DEPTH: usize = 16;

/// `expr` with every selector of a recorded series (a name in `recorded`, mapped to its rule's
/// expression) replaced by the cumulative form of that expression, in parentheses, recursively.
/// Fails when a recorded series is selected with matchers or a time modifier.
pub fn inline_recorded(
    expr: &str,
    recorded: &HashMap<String, String>,
) -> Result<String, NotRewritable> {
    let mut tree = cumulative_tree(expr)?;
    inline(&mut tree, recorded, 0)?;
    Ok(tree.to_string())
}

/// Replaces the selectors of recorded series in `tree`, `depth` rules down.
fn inline(
    tree: &mut Expr,
    recorded: &HashMap<String, String>,
    depth: usize,
) -> Result<(), NotRewritable> {
    visit(tree, &mut |e| {
        let Expr::VectorSelector(vs) = e else {
            return Ok(());
        };
        let Some(rule) = vs.name.as_ref().and_then(|n| recorded.get(n)) else {
            return Ok(());
        };
        let plain = vs.matchers.matchers.is_empty()
            && vs.matchers.or_matchers.is_empty()
            && vs.offset.is_none()
            && vs.at.is_none();
        if !plain {
            return Err(NotRewritable(format!(
                "{vs} selects a recorded series with matchers or a time modifier"
            )));
        }
        if depth == MAX_RECORDED_DEPTH {
            return Err(NotRewritable(format!(
                "recorded series nest too deep at {vs}"
            )));
        }
        let mut body = cumulative_tree(rule)?;
        inline(&mut body, recorded, depth + 1)?;
        *e = Expr::Paren(ParenExpr {
            expr: Box::new(body),
        });
        Ok(())
    })
}

/// `expr` with the matcher `label="value"` added to every series selector (to each alternative
/// of a selector with `or`).
///
/// # Panics
/// When `expr` is not PromQL.
pub fn restrict(expr: &str, label: &str, value: &str) -> String {
    let mut tree = parse_valid(expr);
    let matcher = Matcher::new(MatchOp::Equal, label, value);
    let Ok(()) = visit(&mut tree, &mut |e| {
        if let Some(vs) = selector(e) {
            let matchers = &mut vs.matchers;
            if matchers.or_matchers.is_empty() {
                matchers.matchers.push(matcher.clone());
            } else {
                matchers
                    .or_matchers
                    .iter_mut()
                    .for_each(|group| group.push(matcher.clone()));
            }
        }
        Ok::<_, Infallible>(())
    });
    tree.to_string()
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
            "sum by (tool, error_type) (x{instance=\"h:1\",outcome=\"e\",tool=~\".*\"}) / ignoring (error_type) group_left () sum by (tool) (y{instance=\"h:1\"}) or vector(0)"
        );
        assert_eq!(
            restrict("rate({a=\"1\" or b=\"2\"}[5m])", "instance", "h:1"),
            "rate({a=\"1\", instance=\"h:1\" or b=\"2\", instance=\"h:1\"}[5m])"
        );
        assert_eq!(
            selected_names("max(m) + on (job) n{} and topk(scalar(k), rate(r[1m]))"),
            ["m", "n", "k", "r"]
        );
    }

    #[test]
    fn ranges_without_a_cumulative_form_are_refused() {
        for expr in [
            "min_over_time(g[10m]) > 0",
            "rate(x[5m:1m])",
            "max_over_time(rate(x[1m])[5m:])",
            "sum(",
        ] {
            assert!(cumulative(expr).is_err(), "{expr}");
        }
        let recorded = HashMap::from([("loop".to_owned(), "loop + 1".to_owned())]);
        let err = inline_recorded("loop", &recorded).unwrap_err();
        assert!(err.0.contains("too deep"), "{err:?}");
    }

    /// `tree` with the matchers of each selector in one order: the printer sorts them.
    fn sorted_matchers(mut tree: Expr) -> Expr {
        let Ok(()) = visit(&mut tree, &mut |e| {
            if let Some(vs) = selector(e) {
                vs.matchers.matchers.sort_by_key(|m| m.to_string());
            }
            Ok::<_, Infallible>(())
        });
        tree
    }

    /// The rewrites print trees back as PromQL: every expression of the bundle, printed, parses
    /// back to the tree it was printed from, and prints the same again.
    #[test]
    fn every_bundle_expression_prints_back_to_the_same_tree() {
        let exprs: Vec<String> = rules()
            .into_iter()
            .map(|r| r.expr)
            .chain(dashboard_queries().iter().map(|q| q.resolved("1m")))
            .collect();
        assert!(exprs.len() > 50, "{}", exprs.len());
        for expr in &exprs {
            let tree = parse_valid(expr);
            let printed = tree.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("{expr} printed as {}", e.0));
            assert_eq!(again.to_string(), printed, "{expr}");
            assert_eq!(
                sorted_matchers(again),
                sorted_matchers(tree),
                "{expr} printed as {printed}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("2m"), 120.0);
        assert_eq!(duration_seconds("1h30m"), 5400.0);
        assert_eq!(duration_seconds("500ms"), 0.5);
    }
}
