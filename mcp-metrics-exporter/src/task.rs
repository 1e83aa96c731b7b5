//! The periodic background loop shared by push, OTLP and stdout: fixed interval while
//! exports succeed, capped exponential backoff while they fail, failures logged at a bounded
//! rate. The loop owns nothing that recording touches, so a slow or dead destination never
//! delays a tool call.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest wait between two attempts while the destination keeps failing.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// Shortest time between two failure log lines of one exporter.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Delay before the next attempt: the interval after a success, doubling per failure up to
/// the cap (or the interval itself when it is longer than the cap).
#[derive(Debug)]
pub(crate) struct Backoff {
    interval: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(interval: Duration, cap: Duration) -> Self {
        Self {
            interval,
            cap: cap.max(interval),
            failures: 0,
        }
    }

    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
    }

    pub(crate) fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    pub(crate) fn delay(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX);
        self.interval.saturating_mul(factor).min(self.cap)
    }
}

/// Logs export failures at most once per period, counting the ones it held back.
#[derive(Debug)]
struct FailureLog {
    last: Option<Instant>,
    held_back: u64,
}

impl FailureLog {
    fn failed(&mut self, exporter: &'static str, error: &str, retry_in: Duration) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < LOG_EVERY)
        {
            self.held_back += 1;
            return;
        }
        tracing::warn!(
            exporter,
            error,
            retry_in_secs = retry_in.as_secs_f64(),
            failures_not_logged = self.held_back,
            "metrics export failed; recording goes on and the export will be retried"
        );
        self.last = Some(now);
        self.held_back = 0;
    }
}

/// A background exporter task, stopped by [`BackgroundTask::shutdown`] or on drop.
#[derive(Debug)]
pub(crate) struct BackgroundTask {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl BackgroundTask {
    /// Spawns the loop that calls `export` every `interval` on the current runtime. When
    /// `flush_on_stop` is set, a graceful shutdown makes one last attempt.
    pub(crate) fn spawn<F, Fut>(
        runtime: &tokio::runtime::Handle,
        exporter: &'static str,
        interval: Duration,
        flush_on_stop: bool,
        mut export: F,
    ) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            // Completes on a stop request; a dropped sender means detached, so never.
            let stop_requested = async {
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::pin!(stop_requested);
            let mut backoff = Backoff::new(interval, BACKOFF_CAP);
            let mut log = FailureLog {
                last: None,
                held_back: 0,
            };
            loop {
                tokio::select! {
                    () = tokio::time::sleep(backoff.delay()) => {}
                    () = &mut stop_requested => {
                        if flush_on_stop && let Err(error) = export().await {
                            tracing::warn!(exporter, %error, "final metrics export failed");
                        }
                        return;
                    }
                }
                match export().await {
                    Ok(()) => {
                        if backoff.failures() > 0 {
                            tracing::info!(
                                exporter,
                                failures = backoff.failures(),
                                "metrics export recovered"
                            );
                        }
                        backoff.succeeded();
                    }
                    Err(error) => {
                        backoff.failed();
                        log.failed(exporter, &error, backoff.delay());
                    }
                }
            }
        });
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Whether the loop is still going (it only ends on shutdown, or if it panicked).
    pub(crate) fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Lets the loop run for as long as the Tokio runtime does, without a handle.
    pub(crate) fn detach(mut self) {
        // Dropping the sender without sending never completes `stop_requested`.
        self.stop.take();
        self.task.take();
    }

    /// Asks the loop to stop (after a last export when configured) and waits for it.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(15), Duration::from_secs(100));
        assert_eq!(b.delay(), Duration::from_secs(15));
        let mut seen = Vec::new();
        for _ in 0..5 {
            b.failed();
            seen.push(b.delay().as_secs());
        }
        assert_eq!(seen, [30, 60, 100, 100, 100]);
        for _ in 0..100 {
            b.failed();
        }
        assert_eq!(b.delay(), Duration::from_secs(100));
        b.succeeded();
        assert_eq!(b.delay(), Duration::from_secs(15));
    }

    fn counting_task(flush_on_stop: bool, fail: bool) -> (BackgroundTask, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let runtime = tokio::runtime::Handle::current();
        let task = BackgroundTask::spawn(
            &runtime,
            "test",
            Duration::from_millis(5),
            flush_on_stop,
            move || {
                seen.fetch_add(1, Ordering::SeqCst);
                async move { if fail { Err("down".to_owned()) } else { Ok(()) } }
            },
        );
        (task, calls)
    }

    #[tokio::test]
    async fn a_detached_task_keeps_exporting() {
        let (task, calls) = counting_task(false, false);
        task.detach();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = calls.load(Ordering::SeqCst);
        assert!(before >= 2, "{before}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(calls.load(Ordering::SeqCst) > before);
    }

    #[tokio::test]
    async fn shutdown_flushes_once_and_drop_stops() {
        let (task, calls) = counting_task(true, false);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(task.is_running());
        let before = calls.load(Ordering::SeqCst);
        task.shutdown().await;
        assert_eq!(calls.load(Ordering::SeqCst), before + 1, "one final export");

        let (task, calls) = counting_task(false, true);
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(task);
        tokio::task::yield_now().await;
        let after_drop = calls.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            after_drop,
            "no export after drop"
        );
    }

    #[test]
    fn an_interval_longer_than_the_cap_is_kept() {
        let mut b = Backoff::new(Duration::from_secs(600), Duration::from_secs(300));
        b.failed();
        assert_eq!(b.delay(), Duration::from_secs(600));
    }
}
