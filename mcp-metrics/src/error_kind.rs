//! The error kind: a short, bounded name of what went wrong, and whose fault it was.

use crate::Fault;
use crate::names::OTHER;

/// The error kind of an error value: the `error_type` label of `mcp_tool_duration_seconds` and the
/// `error.type` attribute of the tool span.
///
/// The kind must come from a small fixed set (enum variants, error codes), never from data such as
/// a message or an identifier, so that it keeps the number of metric series bounded.
///
/// Derive it for enums: each variant's kind is its name in snake_case, or the string given with
/// `#[error_kind("...")]`. For a struct, the kind is the type name in snake_case.
///
/// ```
/// #[derive(Debug, mcp_metrics::ErrorKind)]
/// enum LookupError {
///     NotFound,
///     #[error_kind("upstream")]
///     Backend(String),
/// }
/// use mcp_metrics::ErrorKind as _;
/// assert_eq!(LookupError::NotFound.error_kind(), "not_found");
/// assert_eq!(LookupError::Backend("timeout".into()).error_kind(), "upstream");
/// ```
///
/// Errors of a type without this trait are still counted, with the kind `_OTHER`.
///
/// Every kind is the server's fault unless [`ErrorKind::fault`] says otherwise; derive it with
/// `#[error_kind(caller)]` on the variants that are the caller's mistakes (a missing record the
/// caller asked for, an argument that fails validation), so that they do not burn error budgets.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no error kind for the `error_type` label",
    label = "`{Self}` does not implement `mcp_metrics::ErrorKind`",
    note = "add `#[derive(mcp_metrics::ErrorKind)]` to the error enum, or implement the trait by hand"
)]
pub trait ErrorKind {
    /// The error kind: a short snake_case name from a fixed set.
    fn error_kind(&self) -> &'static str;

    /// Whose fault this error is: the `fault` label. The server's unless overridden.
    fn fault(&self) -> Fault {
        Fault::Server
    }
}

impl<T: ErrorKind + ?Sized> ErrorKind for &T {
    fn error_kind(&self) -> &'static str {
        (**self).error_kind()
    }
    fn fault(&self) -> Fault {
        (**self).fault()
    }
}

impl<T: ErrorKind + ?Sized> ErrorKind for Box<T> {
    fn error_kind(&self) -> &'static str {
        (**self).error_kind()
    }
    fn fault(&self) -> Fault {
        (**self).fault()
    }
}

impl<T: ErrorKind + ?Sized> ErrorKind for std::sync::Arc<T> {
    fn error_kind(&self) -> &'static str {
        (**self).error_kind()
    }
    fn fault(&self) -> Fault {
        (**self).fault()
    }
}

impl ErrorKind for std::io::Error {
    fn error_kind(&self) -> &'static str {
        use std::io::ErrorKind as K;
        match self.kind() {
            K::NotFound => "not_found",
            K::PermissionDenied => "permission_denied",
            K::ConnectionRefused => "connection_refused",
            K::ConnectionReset => "connection_reset",
            K::ConnectionAborted => "connection_aborted",
            K::NotConnected => "not_connected",
            K::AddrInUse => "addr_in_use",
            K::AddrNotAvailable => "addr_not_available",
            K::BrokenPipe => "broken_pipe",
            K::AlreadyExists => "already_exists",
            K::WouldBlock => "would_block",
            K::InvalidInput => "invalid_input",
            K::InvalidData => "invalid_data",
            K::TimedOut => "timed_out",
            K::WriteZero => "write_zero",
            K::Interrupted => "interrupted",
            K::Unsupported => "unsupported",
            K::UnexpectedEof => "unexpected_eof",
            K::OutOfMemory => "out_of_memory",
            _ => "io",
        }
    }
}

impl ErrorKind for core::fmt::Error {
    fn error_kind(&self) -> &'static str {
        "fmt"
    }
}

impl ErrorKind for core::convert::Infallible {
    fn error_kind(&self) -> &'static str {
        match *self {}
    }
}

/// JSON-RPC error codes as kinds: the code itself, as OpenTelemetry's MCP conventions record it.
#[cfg(feature = "rmcp")]
impl ErrorKind for rmcp::ErrorData {
    fn error_kind(&self) -> &'static str {
        jsonrpc_code_kind(self.code.0)
    }
    fn fault(&self) -> Fault {
        jsonrpc_code_fault(self.code.0)
    }
}

/// The `error_type` of a JSON-RPC error code: the code as text for the codes the MCP and JSON-RPC
/// specifications define, `_OTHER` for any other code (which keeps the label bounded).
pub fn jsonrpc_code_kind(code: i32) -> &'static str {
    match code {
        -32700 => "-32700",
        -32600 => "-32600",
        -32601 => "-32601",
        -32602 => "-32602",
        -32603 => "-32603",
        -32002 => "-32002",
        -32020 => "-32020",
        -32021 => "-32021",
        -32022 => "-32022",
        -32042 => "-32042",
        -32001 => "-32001",
        -32000 => "-32000",
        _ => OTHER,
    }
}

/// Whose fault a JSON-RPC error code is: the caller's for a malformed or invalid request, an
/// unknown method, invalid parameters (which includes an unknown tool or prompt), a missing
/// resource, a header that contradicts the body, an unsupported protocol version or a missing
/// client capability; the server's for every other code.
pub fn jsonrpc_code_fault(code: i32) -> Fault {
    match code {
        -32700 | -32600 | -32601 | -32602 | -32002 | -32020 | -32021 | -32022 => Fault::Client,
        _ => Fault::Server,
    }
}
