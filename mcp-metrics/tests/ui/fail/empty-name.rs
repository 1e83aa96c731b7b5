#[mcp_metrics::mcp_tool(name = "")]
fn tool() {}
fn main() { tool() }
