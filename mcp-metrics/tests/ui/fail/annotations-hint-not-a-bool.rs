use rmcp::tool;

#[mcp_metrics::mcp_tool(metrics)]
#[tool(annotations(read_only_hint = 1, destructive_hint = maybe))]
fn delete() -> String {
    String::new()
}

fn main() {
    let _ = delete();
}
