//! Classification of a return value into an [`Outcome`] at the call site, where the concrete type
//! is known.
//!
//! Two traits say what a value means: [`OkOutcome`] for a value a tool returns (rmcp's results
//! can be tool errors, input requests or tasks) and [`ErrOutcome`] for an `Err` value (an
//! [`ErrorKind`], or a string that rmcp turns into a tool error). Which of them a return type
//! has is only known at the call site, so `classify!` uses autoref specialisation: method
//! resolution on `&&&&&&Probe(&value)` picks the first of the six traits below whose impl
//! applies, from the most informed (`Result` with both sides known) to the least (any value is
//! a success).

use crate::names::OTHER;
use crate::{ErrorKind, Outcome};

/// Wraps a reference to the returned value for classification.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// How an `Err` value classifies: [`ErrorKind`] types are errors of their kind and fault;
/// strings are tool errors, because rmcp turns `Err(String)` into a result with `is_error: true`.
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

/// How a returned value classifies when it carries an outcome of its own: rmcp's tool results.
pub trait OkOutcome {
    /// The outcome of returning this value (as `Ok` or on its own).
    fn ok_outcome(&self) -> Outcome;
}

#[cfg(feature = "rmcp")]
mod rmcp_values {
    use super::OkOutcome;
    use crate::Outcome;
    use rmcp::model::{CallToolResponse, CallToolResult, CreateTaskResult, InputRequiredResult};

    impl OkOutcome for CallToolResult {
        fn ok_outcome(&self) -> Outcome {
            if self.is_error == Some(true) {
                Outcome::ToolError
            } else {
                Outcome::Success
            }
        }
    }

    impl OkOutcome for InputRequiredResult {
        fn ok_outcome(&self) -> Outcome {
            Outcome::InputRequired
        }
    }

    impl OkOutcome for CreateTaskResult {
        fn ok_outcome(&self) -> Outcome {
            Outcome::TaskCreated
        }
    }

    impl OkOutcome for CallToolResponse {
        fn ok_outcome(&self) -> Outcome {
            match self {
                CallToolResponse::Complete(result) => result.ok_outcome(),
                CallToolResponse::InputRequired(_) => Outcome::InputRequired,
                CallToolResponse::Task(_) => Outcome::TaskCreated,
                // A kind of response this version does not know: the call did not fail.
                _ => Outcome::Success,
            }
        }
    }
}

macro_rules! specialisation_level {
    ($(#[$m:meta])* $trait:ident) => {
        $(#[$m])*
        pub trait $trait {
            /// The outcome of this return value.
            fn __mcp_outcome(&self) -> Outcome;
        }
    };
}

specialisation_level!(
    /// `Result<T, E>` where both `T` ([`OkOutcome`]) and `E` ([`ErrOutcome`]) classify.
    ResultOfKnownValueAndError
);
specialisation_level!(
    /// `Result<T, E>` where `E` classifies: `Ok` is a success.
    ResultOfKnownError
);
specialisation_level!(
    /// `Result<T, E>` where `T` classifies: `Err` is a server error of kind `_OTHER`.
    ResultOfKnownValue
);
specialisation_level!(
    /// Any `Result`: `Ok` is a success, `Err` a server error of kind `_OTHER`.
    AnyResult
);
specialisation_level!(
    /// A value that classifies on its own ([`OkOutcome`]).
    KnownValue
);
specialisation_level!(
    /// Anything else: the call succeeded.
    AnyValue
);

impl<T: OkOutcome, E: ErrOutcome> ResultOfKnownValueAndError for &&&&&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(value) => value.ok_outcome(),
            Err(e) => e.err_outcome(),
        }
    }
}

impl<T, E: ErrOutcome> ResultOfKnownError for &&&&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(e) => e.err_outcome(),
        }
    }
}

impl<T: OkOutcome, E> ResultOfKnownValue for &&&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(value) => value.ok_outcome(),
            Err(_) => Outcome::server_error(OTHER),
        }
    }
}

impl<T, E> AnyResult for &&Probe<'_, Result<T, E>> {
    fn __mcp_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::server_error(OTHER),
        }
    }
}

impl<T: OkOutcome> KnownValue for &Probe<'_, T> {
    fn __mcp_outcome(&self) -> Outcome {
        self.0.ok_outcome()
    }
}

impl<T: ?Sized> AnyValue for Probe<'_, T> {
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
            AnyResult as _, AnyValue as _, KnownValue as _, ResultOfKnownError as _,
            ResultOfKnownValue as _, ResultOfKnownValueAndError as _,
        };
        (&&&&&&$crate::__private::classify::Probe($value)).__mcp_outcome()
    }};
}
