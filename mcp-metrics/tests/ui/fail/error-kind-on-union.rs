#[derive(mcp_metrics::ErrorKind)]
union U { a: u8 }
fn main() {}
