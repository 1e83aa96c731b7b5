//! How a tool call ended.

/// How a tool call ended: the `outcome` label of the tool metrics and the status of its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The function returned normally and not an error.
    Success,
    /// The function returned `Err`; the string is the error kind (see [`ErrorKind`](crate::ErrorKind)).
    Error(&'static str),
    /// The function returned a tool-level error: a `CallToolResult` with `is_error: true`, or
    /// `Err(String)`, which rmcp turns into such a result.
    ToolError,
    /// The function panicked.
    Panic,
    /// The future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// Every outcome class, in a fixed order.
    pub const CLASSES: [&'static str; 5] = ["success", "error", "tool_error", "panic", "cancelled"];

    /// The value of the `outcome` label.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error(_) => "error",
            Outcome::ToolError => "tool_error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The value of the `error_type` label and of the span's `error.type`, if the call failed.
    pub const fn error_type(&self) -> Option<&'static str> {
        match self {
            Outcome::Error(kind) => Some(kind),
            Outcome::ToolError => Some("tool_error"),
            Outcome::Panic => Some("panic"),
            Outcome::Success | Outcome::Cancelled => None,
        }
    }
}

impl core::fmt::Display for Outcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
