//! Tasks (the MCP tasks extension) and subscription streams: `mcp_server_tasks_active{tool}`,
//! `mcp_server_task_duration_seconds{tool, status}` and `mcp_server_subscriptions_active`.
//!
//! rmcp's [`TaskManager`](rmcp::task_manager::TaskManager) runs a task's operation as a future
//! and settles the task when that future returns: `Ok` is `completed`,
//! `Err(TaskExit::Cancelled)` is `cancelled`, `Err(TaskExit::Error(_))` is `failed`. It has no
//! callback, so the seam is the future itself: [`track_task`] wraps it and records the task's
//! life from creation to that terminal status. When the manager aborts an operation (its TTL
//! elapsed, which rmcp reports as `failed`, or `shutdown`), the wrapped future is dropped and the
//! task counts as `failed`.

use rmcp::task_manager::{TaskExit, TaskFuture};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// Tracks a task's operation: counts it in `mcp_server_tasks_active{tool}` until it settles, then
/// records `mcp_server_task_duration_seconds{tool, status}`. Wrap the future you hand to
/// [`TaskManager::spawn`](rmcp::task_manager::TaskManager::spawn); the gauge starts when this is
/// called, which is when the task is created.
///
/// `tool` is the label: the name of the tool that created the task (a name from code, so that
/// the label stays bounded).
///
/// ```no_run
/// use rmcp::model::{CallToolResult, ContentBlock, CreateTaskResult};
/// use rmcp::task_manager::{TaskManager, TaskOptions};
/// # fn f(tasks: &TaskManager) -> CreateTaskResult {
/// let task = tasks.spawn(TaskOptions::new(), |_cx| {
///     mcp_metrics::rmcp::track_task("report", Box::pin(async move {
///         Ok(CallToolResult::success(vec![ContentBlock::text("done")]))
///     }))
/// });
/// CreateTaskResult::new(task)
/// # }
/// ```
pub fn track_task(tool: &'static str, future: TaskFuture) -> TaskFuture {
    Box::pin(Tracked {
        future,
        guard: TaskGuard::start(tool),
    })
}

struct Tracked {
    future: TaskFuture,
    guard: TaskGuard,
}

impl Future for Tracked {
    type Output = <TaskFuture as Future>::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let poll = self.future.as_mut().poll(cx);
        if let Poll::Ready(result) = &poll {
            let status = match result {
                Ok(_) => "completed",
                Err(TaskExit::Cancelled) => "cancelled",
                Err(TaskExit::Error(_)) => "failed",
            };
            self.guard.finish(status);
        }
        poll
    }
}

/// Counts a task as active until it finishes or is dropped.
struct TaskGuard {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    tool: &'static str,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    start: Instant,
    done: bool,
}

impl TaskGuard {
    fn start(tool: &'static str) -> Self {
        #[cfg(feature = "metrics")]
        instruments::ACTIVE.with(instruments::tool(tool), |g| g.up());
        TaskGuard {
            tool,
            start: Instant::now(),
            done: false,
        }
    }

    fn finish(&mut self, status: &'static str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        #[cfg(feature = "metrics")]
        {
            instruments::ACTIVE.with(instruments::tool(self.tool), |g| g.down());
            let key = instruments::Status(self.tool, status);
            let seconds = self.start.elapsed().as_secs_f64();
            instruments::DURATION.with(key, |h| h.record_plain(seconds));
        }
        #[cfg(not(feature = "metrics"))]
        let _ = status;
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.finish("failed");
    }
}

/// Counts one open `subscriptions/listen` stream in `mcp_server_subscriptions_active` while it
/// lives.
pub(crate) struct SubscriptionGuard(());

impl SubscriptionGuard {
    pub(crate) fn open() -> Self {
        #[cfg(feature = "metrics")]
        instruments::SUBSCRIPTIONS.with((), |g| g.up());
        SubscriptionGuard(())
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        instruments::SUBSCRIPTIONS.with((), |g| g.down());
    }
}

#[cfg(feature = "metrics")]
mod instruments {
    use crate::catalog::{self, label};
    use crate::record::family::One;
    use crate::record::{Family, GaugeHandle, HistogramHandle, LabelKey, Str, family};

    pub(super) fn tool(tool: &'static str) -> One {
        One(label::TOOL, Str(tool))
    }

    /// A task's tool and terminal status.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) struct Status(pub(super) &'static str, pub(super) &'static str);

    impl LabelKey for Status {
        fn labels(&self) -> Vec<metrics::Label> {
            family::labels([
                (label::TOOL, Some(Str(self.0))),
                (label::STATUS, Some(Str(self.1))),
            ])
        }
    }

    pub(super) static ACTIVE: Family<One, GaugeHandle> = Family::new(&catalog::SERVER_TASKS_ACTIVE);
    pub(super) static DURATION: Family<Status, HistogramHandle> =
        Family::new(&catalog::SERVER_TASK_DURATION);
    pub(super) static SUBSCRIPTIONS: Family<(), GaugeHandle> =
        Family::new(&catalog::SERVER_SUBSCRIPTIONS_ACTIVE);
}
