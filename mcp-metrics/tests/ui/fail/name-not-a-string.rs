#[mcp_metrics::mcp_tool(name = weather)]
fn tool() {}
fn main() { tool() }
