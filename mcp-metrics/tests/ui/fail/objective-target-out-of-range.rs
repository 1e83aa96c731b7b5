#[mcp_metrics::mcp_tool(objective(success = 100))]
fn no_budget() {}

#[mcp_metrics::mcp_tool(objective(success = 0, latency = 0.5, latency_target = 100.5))]
fn out_of_range() {}

#[mcp_metrics::mcp_tool(objective(success = -5))]
fn negative() {}

fn main() {
    no_budget();
    out_of_range();
    negative();
}
