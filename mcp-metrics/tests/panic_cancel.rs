//! Panics and cancelled futures: each call is counted once and the in-flight gauge returns to 0.
#![cfg(feature = "metrics")]

mod common;
use common::{record, record_async};
use mcp_metrics::mcp_tool;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[mcp_tool(metrics)]
fn crash(really: bool) -> Result<u8, String> {
    if really {
        panic!("tool crashed");
    }
    Ok(1)
}

#[mcp_tool(metrics)]
async fn crash_async(really: bool) -> u8 {
    tokio::task::yield_now().await;
    if really {
        panic!("async tool crashed");
    }
    1
}

#[mcp_tool(metrics)]
async fn forever() -> u8 {
    std::future::pending::<()>().await;
    0
}

#[test]
fn sync_panic_is_counted_once() {
    let (results, m) = record(|| {
        let a = catch_unwind(|| crash(true));
        let b = catch_unwind(|| crash(false));
        (a.is_err(), b.is_ok())
    });
    assert_eq!(results, (true, true));
    assert_eq!(m.calls("crash", "panic", Some("panic")), 1);
    assert_eq!(m.calls("crash", "success", None), 1);
    assert_eq!(m.all_calls("crash"), 2);
    assert_eq!(m.durations("crash", "panic").len(), 1);
    assert_eq!(m.in_flight("crash"), 0.0);
}

#[test]
fn async_panic_is_a_panic_not_a_cancellation() {
    let (result, m) = record_async(async {
        let fut = AssertUnwindSafe(crash_async(true));
        futures::FutureExt::catch_unwind(fut).await
    });
    assert!(result.is_err());
    assert_eq!(m.calls("crash_async", "panic", Some("panic")), 1);
    assert_eq!(m.calls("crash_async", "cancelled", None), 0);
    assert_eq!(m.all_calls("crash_async"), 1);
    assert_eq!(m.in_flight("crash_async"), 0.0);
}

#[test]
fn dropped_future_is_cancelled() {
    let (_, m) = record(|| {
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut fut = pin!(forever());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        } // dropped while pending
        // dropped before the first poll: the body never started, nothing is counted
        drop(forever());
    });
    assert_eq!(m.calls("forever", "cancelled", None), 1);
    assert_eq!(m.all_calls("forever"), 1);
    assert_eq!(m.durations("forever", "cancelled").len(), 1);
    assert_eq!(m.in_flight("forever"), 0.0);
}

#[test]
fn in_flight_counts_running_calls() {
    let (_, m) = record(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let mut a = Box::pin(forever());
        let mut b = Box::pin(forever());
        assert!(matches!(a.as_mut().poll(&mut cx), Poll::Pending));
        assert!(matches!(b.as_mut().poll(&mut cx), Poll::Pending));
        (a, b)
    });
    assert_eq!(m.in_flight("forever"), 2.0);
}

#[test]
fn timeout_cancels_on_a_runtime() {
    let (res, m) = record_async(async {
        tokio::time::timeout(std::time::Duration::from_millis(5), forever()).await
    });
    assert!(res.is_err());
    assert_eq!(m.calls("forever", "cancelled", None), 1);
    assert_eq!(m.in_flight("forever"), 0.0);
}
