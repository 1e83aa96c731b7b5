#![deny(warnings)]
// Objectives in every accepted spelling, on functions and methods.
use mcp_metrics::mcp_tool;

#[mcp_tool(objective(success = 99.9))]
fn a() {}

#[mcp_tool(metrics, objective(latency = 0.5, latency_target = 95))]
async fn b() {}

#[mcp_tool(name = "c", objective(latency_target = 99.5, latency = 1, success = 99,))]
fn c() -> Result<(), std::io::Error> { Ok(()) }

#[mcp_tool(objective(success = 9_9.5e0, latency = 2.5e-1, latency_target = 90))]
fn d() {}

struct S;
impl S {
    #[mcp_tool(objective(success = 99.99))]
    fn e<T: Default>(&self) -> T { T::default() }
}

fn main() {
    a();
    let _ = b();
    let _ = c();
    d();
    let _: u8 = S.e();
    assert_eq!(mcp_metrics::objectives().count(), 5);
}
