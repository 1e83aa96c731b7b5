#[mcp_metrics::mcp_tool(trace, objective(success = 99.9))]
fn tool() {}
fn main() { tool() }
