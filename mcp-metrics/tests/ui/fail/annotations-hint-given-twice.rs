use rmcp::tool;

#[mcp_metrics::mcp_tool(metrics)]
#[tool(annotations(read_only_hint = true, read_only_hint = false))]
fn read() -> String {
    String::new()
}

fn main() {
    let _ = read();
}
