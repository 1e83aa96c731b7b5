//! The future of an instrumented `async fn`: polls the body inside the span, classifies its output,
//! and tells a panic from a cancellation.

use super::Guard;
use crate::Outcome;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Wraps the body of an instrumented `async fn`, pinned on the caller's stack.
pub struct InstrumentedFuture<'a, F: Future, C> {
    inner: Pin<&'a mut F>,
    guard: Option<Guard>,
    classify: Option<C>,
}

impl<'a, F, C> InstrumentedFuture<'a, F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> Outcome,
{
    /// Wraps `inner`; `classify` gives the outcome of its output.
    #[inline]
    pub fn new(inner: Pin<&'a mut F>, guard: Guard, classify: C) -> Self {
        InstrumentedFuture {
            inner,
            guard: Some(guard),
            classify: Some(classify),
        }
    }
}

impl<F, C> Future for InstrumentedFuture<'_, F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> Outcome + Unpin,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let polled = {
            #[cfg(feature = "trace")]
            let _entered = this.guard.as_ref().map(|g| g.span().enter());
            let inner = this.inner.as_mut();
            catch_unwind(AssertUnwindSafe(move || inner.poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                if let (Some(guard), Some(classify)) = (this.guard.take(), this.classify.take()) {
                    guard.finish(classify(&output));
                }
                Poll::Ready(output)
            }
            Err(payload) => {
                if let Some(mut guard) = this.guard.take() {
                    guard.record(Outcome::Panic);
                }
                resume_unwind(payload)
            }
        }
    }
}
