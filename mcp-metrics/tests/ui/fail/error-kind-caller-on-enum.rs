#[derive(Debug, mcp_metrics::ErrorKind)]
#[error_kind(caller)]
enum E {
    A,
}
fn main() {
    use mcp_metrics::ErrorKind as _;
    let _ = E::A.fault();
}
