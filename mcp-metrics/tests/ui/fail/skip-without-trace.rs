#[mcp_metrics::mcp_tool(metrics, skip_all)]
fn tool(x: u8) -> u8 { x }
fn main() { tool(1); }
