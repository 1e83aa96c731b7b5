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

struct S;
impl S {
    #[::mcp_metrics::mcp_tool(trace, name = "s_get", skip(self))]
    fn get(&self, key: &str) -> Option<usize> { Some(key.len()) }
}

fn main() {
    let _ = add(1, 2);
    let _ = later(1);
    let _ = S.get("x");
}
