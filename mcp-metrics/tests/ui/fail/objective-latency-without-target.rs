#[mcp_metrics::mcp_tool(objective(success = 99.9, latency = 0.5))]
fn threshold_only() {}

#[mcp_metrics::mcp_tool(objective(latency_target = 95))]
fn target_only() {}

#[mcp_metrics::mcp_tool(objective())]
fn empty() {}

fn main() {
    threshold_only();
    target_only();
    empty();
}
