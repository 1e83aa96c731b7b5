#[mcp_metrics::mcp_tool(metrics, label = "x")]
fn tool() {}
fn main() { tool() }
