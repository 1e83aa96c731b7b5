#[mcp_metrics::mcp_tool]
struct Tool;
fn main() {}
