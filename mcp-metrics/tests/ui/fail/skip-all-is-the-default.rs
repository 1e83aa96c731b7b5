#[mcp_metrics::mcp_tool(trace, skip_all)]
fn tool(x: u8) -> u8 { x }
fn main() { tool(1); }
