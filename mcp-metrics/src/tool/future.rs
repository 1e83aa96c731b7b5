//! The future of an instrumented `async fn`: polls the body inside the span, classifies its output,
//! and tells a panic from a cancellation.

use super::Guard;
use super::guard::CallSpan;
use crate::Outcome;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Wraps the body of an instrumented `async fn`, pinned on the caller's stack.
///
/// The guard stays in place for the life of the future: it is finished where it is when the
/// body completes or panics, and dropped with the future, which records a cancellation if the
/// body never completed.
pub struct InstrumentedFuture<'a, F: Future, C, S: CallSpan> {
    inner: Pin<&'a mut F>,
    guard: Guard<S>,
    classify: C,
}

impl<'a, F, C, S> InstrumentedFuture<'a, F, C, S>
where
    F: Future,
    C: Fn(&F::Output) -> Outcome,
    S: CallSpan,
{
    /// Wraps `inner`; `classify` gives the outcome of its output.
    #[inline]
    pub fn new(inner: Pin<&'a mut F>, guard: Guard<S>, classify: C) -> Self {
        InstrumentedFuture {
            inner,
            guard,
            classify,
        }
    }
}

impl<F, C, S> Future for InstrumentedFuture<'_, F, C, S>
where
    F: Future,
    C: Fn(&F::Output) -> Outcome + Unpin,
    S: CallSpan + Unpin,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let polled = {
            let _entered = this.guard.span().enter();
            let inner = this.inner.as_mut();
            catch_unwind(AssertUnwindSafe(move || inner.poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                this.guard.record((this.classify)(&output));
                Poll::Ready(output)
            }
            Err(payload) => {
                this.guard.record(Outcome::Panic);
                resume_unwind(payload)
            }
        }
    }
}
