#[mcp_metrics::mcp_tool(metrics, trace, metrics)]
fn tool() {}
fn main() { tool() }
