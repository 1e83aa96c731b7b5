//! Access to the operations bundle in `deploy/`: paths, and the queries of the Grafana dashboard.

use serde_json::Value;
use std::path::PathBuf;

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
