#![deny(warnings)]
#[mcp_metrics::mcp_tool]
fn unit_tool() {}
#[mcp_metrics::mcp_tool]
async fn async_unit_tool() {}
fn main() {
    unit_tool();
    let _ = async_unit_tool();
}
