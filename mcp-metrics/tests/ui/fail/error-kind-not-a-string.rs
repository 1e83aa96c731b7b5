#[derive(mcp_metrics::ErrorKind)]
enum E { #[error_kind(not_found)] A }
fn main() {}
