#[mcp_metrics::mcp_tool(objective(latency = 0, latency_target = 95))]
fn zero() {}

#[mcp_metrics::mcp_tool(objective(latency = -0.5, latency_target = 95))]
fn negative() {}

#[mcp_metrics::mcp_tool(objective(latency = "0.5", latency_target = 95))]
fn string() {}

#[mcp_metrics::mcp_tool(objective(latency = 500ms, latency_target = 95))]
fn suffix() {}

fn main() {
    zero();
    negative();
    string();
    suffix();
}
