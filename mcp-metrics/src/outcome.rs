//! How a call ended, and whose fault a failure was: the `outcome` and `fault` labels.

/// Who caused a failure: the `fault` label. Error budgets burn on [`Fault::Server`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The caller's mistake: a malformed request, an unknown tool or method, invalid arguments,
    /// or an error kind marked as the caller's (`#[error_kind(caller)]`).
    Client,
    /// The server failed: any other error, and every panic.
    Server,
}

impl Fault {
    /// The value of the `fault` label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fault::Client => "client",
            Fault::Server => "server",
        }
    }
}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call ended: the `outcome` label of the tool metrics and the status of its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The function returned normally and not an error.
    Success,
    /// The function returned `Err`.
    Error {
        /// The error kind (see [`ErrorKind`](crate::ErrorKind)): the `error_type` label.
        kind: &'static str,
        /// Whose fault it was (see [`ErrorKind::fault`](crate::ErrorKind::fault)).
        fault: Fault,
    },
    /// The function returned a tool-level error: a `CallToolResult` with `is_error: true`, or
    /// `Err(String)`, which rmcp turns into such a result. The model reads it and can correct
    /// its request, so it counts as the caller's fault.
    ToolError,
    /// The function asked the client for input before it can complete (an MCP
    /// `InputRequiredResult`): neither a success nor a failure.
    InputRequired,
    /// The function created a task that completes later (the MCP tasks extension).
    TaskCreated,
    /// The function panicked.
    Panic,
    /// The future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// Every outcome class, in a fixed order.
    pub const CLASSES: [&'static str; 7] = [
        "success",
        "error",
        "tool_error",
        "input_required",
        "task_created",
        "panic",
        "cancelled",
    ];

    /// An error of `kind` that is the server's fault.
    pub const fn server_error(kind: &'static str) -> Self {
        Outcome::Error {
            kind,
            fault: Fault::Server,
        }
    }

    /// The value of the `outcome` label.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error { .. } => "error",
            Outcome::ToolError => "tool_error",
            Outcome::InputRequired => "input_required",
            Outcome::TaskCreated => "task_created",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The value of the `error_type` label and of the span's `error.type`, if the call failed.
    pub const fn error_type(&self) -> Option<&'static str> {
        match self {
            Outcome::Error { kind, .. } => Some(kind),
            Outcome::ToolError => Some("tool_error"),
            Outcome::Panic => Some("panic"),
            Outcome::Success
            | Outcome::InputRequired
            | Outcome::TaskCreated
            | Outcome::Cancelled => None,
        }
    }

    /// The value of the `fault` label, if the call failed.
    pub const fn fault(&self) -> Option<Fault> {
        match self {
            Outcome::Error { fault, .. } => Some(*fault),
            Outcome::ToolError => Some(Fault::Client),
            Outcome::Panic => Some(Fault::Server),
            Outcome::Success
            | Outcome::InputRequired
            | Outcome::TaskCreated
            | Outcome::Cancelled => None,
        }
    }
}

impl core::fmt::Display for Outcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
