//! What the code `#[mcp_tool]` generates calls: the call guard, the instrumented future, return
//! value classification and the declarations gathered at start-up. Re-exported as
//! `mcp_metrics::__private`, which is not a stable API: it may change in any release.

pub mod classify;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod future;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod guard;
#[cfg(feature = "metrics")]
mod objective;

pub use crate::__classify as classify;
#[cfg(feature = "metrics")]
pub use crate::Risk;
#[cfg(feature = "metrics")]
pub use crate::record::CallSite;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use future::InstrumentedFuture;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use guard::{CallSpan, Guard, NoSpan};
#[cfg(feature = "metrics")]
pub use objective::{OBJECTIVES, TOOL_NAMES, declared_objective, linkme};
#[cfg(feature = "trace")]
pub use tracing;

/// Calls `f`: makes the body's closure `FnOnce`, so that it may return borrows of what it captured.
#[inline(always)]
pub fn call_once<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Gives the body's `async` block its declared output type, so that `?` inside it infers.
#[inline(always)]
pub fn typed_future<R, F: core::future::Future<Output = R>>(f: F) -> F {
    f
}

#[cfg(feature = "metrics")]
pub use crate::helpers::{record_cache_lookup, record_cost, record_rate_limited, record_tokens};
