#[mcp_metrics::mcp_tool(metrics, args, skip(x), fields(a = 1))]
fn tool(x: u8, y: u8) -> u8 { x + y }
fn main() { tool(1, 2); }
