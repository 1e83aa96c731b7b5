// One mistake in the derive is the only error: the type still implements `ErrorKind`, so the
// tools returning it and the trait calls compile.
use mcp_metrics::{ErrorKind, mcp_tool};

#[derive(Debug, ErrorKind)]
enum LookupError {
    #[error_kind(not_found)]
    NotFound,
}

#[mcp_tool]
fn lookup(key: String) -> Result<String, LookupError> {
    if key.is_empty() { Err(LookupError::NotFound) } else { Ok(key) }
}

fn kind_of(e: &impl ErrorKind) -> &'static str {
    e.error_kind()
}

fn main() {
    let _ = lookup(String::new());
    let _ = kind_of(&LookupError::NotFound);
}
