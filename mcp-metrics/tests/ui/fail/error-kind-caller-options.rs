#[derive(Debug, mcp_metrics::ErrorKind)]
enum E {
    #[error_kind(caller, caller)]
    A,
    #[error_kind("b", "bee")]
    B,
    #[error_kind(client)]
    C,
    #[error_kind("d")]
    #[error_kind(caller, 7)]
    D,
    #[error_kind()]
    F,
}
fn main() {}
