#![deny(unused_qualifications, unused_variables, unused_imports, warnings)]
// A user module named like our crate and like `core` must not change what the generated code means.
mod mcp_metrics {}
mod core {}
mod tracing {}
mod metrics {}

#[::mcp_metrics::mcp_tool]
fn add(a: i64, b: i64) -> i64 { a + b }

#[::mcp_metrics::mcp_tool(metrics)]
async fn later(x: u8) -> Result<u8, String> { Ok(x) }

#[::mcp_metrics::mcp_tool(objective(success = 99.9, latency = 0.5, latency_target = 95))]
fn with_objective(r#type: u8) -> u8 { r#type }

#[::mcp_metrics::mcp_tool(objective(success = 99))]
fn with_objective_in_the_same_module() {}

struct S;
impl S {
    #[::mcp_metrics::mcp_tool(trace, name = "s_get", args(key))]
    fn get(&self, key: &str) -> Option<usize> { Some(key.len()) }

    #[::mcp_metrics::mcp_tool(args, objective(success = 99.5))]
    fn put(&self, key: &str, r#type: u8) -> usize { key.len() + usize::from(r#type) }
}

fn main() {
    let _ = add(1, 2);
    let _ = later(1);
    let _ = S.get("x");
    let _ = S.put("x", 1);
    let _ = with_objective(1);
    with_objective_in_the_same_module();
}
