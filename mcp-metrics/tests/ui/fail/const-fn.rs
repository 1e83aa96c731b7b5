#[mcp_metrics::mcp_tool]
const fn tool() -> u8 { 1 }
fn main() { tool(); }
