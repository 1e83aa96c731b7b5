#![deny(dead_code)]
#[mcp_metrics::mcp_tool]
fn never_called() -> u8 { 1 }
fn main() {}
