#[mcp_metrics::mcp_tool(objective(sucess = 99.9))]
fn tool() {}
fn main() { tool() }
