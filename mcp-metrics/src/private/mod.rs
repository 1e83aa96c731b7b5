//! Support code for what the macros generate. Not a stable API: it may change in any release.

pub mod classify;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod future;
#[cfg(any(feature = "metrics", feature = "trace"))]
mod guard;
#[cfg(feature = "metrics")]
mod site;

pub use crate::__classify as classify;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use future::InstrumentedFuture;
#[cfg(any(feature = "metrics", feature = "trace"))]
pub use guard::Guard;
#[cfg(feature = "metrics")]
pub use site::CallSite;
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
