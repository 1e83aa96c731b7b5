//! Classification of a return value into an [`Outcome`] at the call site, where the concrete type
//! is known: method resolution on `&&&&&&Probe(&value)` picks the first level that applies.

use crate::names::OTHER;
use crate::{ErrorKind, Outcome};

/// Wraps a reference to the returned value for classification.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// How an `Err` value classifies: [`ErrorKind`] types are errors of their kind; strings are
/// tool errors, because rmcp turns `Err(String)` into a result with `is_error: true`.
pub trait ErrOutcome {
    /// The outcome of returning this value as `Err`.
    fn err_outcome(&self) -> Outcome;
}

impl<E: ErrorKind> ErrOutcome for E {
    fn err_outcome(&self) -> Outcome {
        Outcome::Error {
            kind: self.error_kind(),
            fault: self.fault(),
        }
    }
}

impl ErrOutcome for String {
    fn err_outcome(&self) -> Outcome {
        Outcome::ToolError
    }
}

impl ErrOutcome for &str {
    fn err_outcome(&self) -> Outcome {
        Outcome::ToolError
    }
}

impl ErrOutcome for std::borrow::Cow<'_, str> {
    fn err_outcome(&self) -> Outcome {
        Outcome::ToolError
    }
}

#[cfg(feature = "rmcp")]
fn call_tool_result(r: &rmcp::model::CallToolResult) -> Outcome {
    if r.is_error == Some(true) {
        Outcome::ToolError
    } else {
        Outcome::Success
    }
}

macro_rules! level {
    ($(#[$m:meta])* $trait:ident, $($r:tt)*) => {
        $(#[$m])*
        pub trait $trait {
            /// The outcome of this return value.
            fn __mcp_outcome(&self) -> Outcome;
        }
    };
}

level!(
    /// `Result<CallToolResult, E>` with a classifiable `E`.
    Level1,
);
level!(
    /// `Result<T, E>` with a classifiable `E`.
    Level2,
);
level!(
    /// `Result<CallToolResult, E>` with any `E`.
    Level3,
);
level!(
    /// `Result<T, E>` with any `E`.
    Level4,
);
level!(
    /// `CallToolResult`.
    Level5,
);
level!(
    /// Anything else: the call succeeded.
    Level6,
);

#[cfg(feature = "rmcp")]
impl<E: ErrOutcome> Level1 for &&&&&Probe<'_, Result<rmcp::model::CallToolResult, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(r) => call_tool_result(r),
            Err(e) => e.err_outcome(),
        }
    }
}

impl<T, E: ErrOutcome> Level2 for &&&&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(e) => e.err_outcome(),
        }
    }
}

#[cfg(feature = "rmcp")]
impl<E> Level3 for &&&Probe<'_, Result<rmcp::model::CallToolResult, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(r) => call_tool_result(r),
            Err(_) => Outcome::server_error(OTHER),
        }
    }
}

impl<T, E> Level4 for &&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::server_error(OTHER),
        }
    }
}

#[cfg(feature = "rmcp")]
impl Level5 for &Probe<'_, rmcp::model::CallToolResult> {
    fn __mcp_outcome(&self) -> Outcome {
        call_tool_result(self.0)
    }
}

impl<T: ?Sized> Level6 for Probe<'_, T> {
    fn __mcp_outcome(&self) -> Outcome {
        Outcome::Success
    }
}

/// Classifies a reference to a returned value into an [`Outcome`].
#[macro_export]
#[doc(hidden)]
macro_rules! __classify {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::classify::{
            Level1 as _, Level2 as _, Level3 as _, Level4 as _, Level5 as _, Level6 as _,
        };
        (&&&&&&$crate::__private::classify::Probe($value)).__mcp_outcome()
    }};
}
