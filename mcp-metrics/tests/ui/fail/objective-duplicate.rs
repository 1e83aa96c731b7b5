#[mcp_metrics::mcp_tool(objective(success = 99.9, success = 99))]
fn key_twice() {}

#[mcp_metrics::mcp_tool(objective(success = 99.9), objective(success = 99))]
fn objective_twice() {}

fn main() {
    key_twice();
    objective_twice();
}
