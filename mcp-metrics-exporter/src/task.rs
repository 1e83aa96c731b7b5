//! Background work of the exporter: [`BackgroundTask`], the one lifecycle of everything that
//! runs beside the server (the scrape listener and the export loop: a stop signal, a join
//! handle, detach, graceful shutdown, abort on drop), and the one export loop that push, OTLP
//! and stdout share: render off the async workers, send, then wait the interval, or back off
//! exponentially up to a cap while sends fail, with one log line per failed attempt and one on
//! recovery. The loop owns nothing that recording touches, so a slow or dead destination never
//! delays a tool call.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::registry::Registry;

/// Longest wait between two attempts while the destination keeps failing.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(300);

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

/// Completes when [`BackgroundTask::shutdown`] asks the task to stop. After
/// [`BackgroundTask::detach`] it never completes.
#[derive(Debug)]
pub(crate) struct StopSignal {
    receiver: oneshot::Receiver<()>,
    detached: bool,
}

impl Future for StopSignal {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.detached {
            return Poll::Pending;
        }
        match Pin::new(&mut self.receiver).poll(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(()),
            // The sender was dropped without a word: detached, so run on.
            Poll::Ready(Err(_)) => {
                self.detached = true;
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A running piece of the exporter: the standalone scrape listener or the export loop.
///
/// [`BackgroundTask::shutdown`] stops it gracefully (the listener finishes its scrapes, the
/// export loop makes its last export or deletes its Pushgateway group), dropping it stops it at
/// once, and [`BackgroundTask::detach`] lets it run for as long as the Tokio runtime does.
#[must_use = "dropping the task stops it; keep it, or call `.detach()`"]
pub(crate) struct BackgroundTask {
    name: &'static str,
    addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl BackgroundTask {
    /// Spawns `body` on `runtime`; the body ends when its [`StopSignal`] completes.
    pub(crate) fn spawn<F, Fut>(
        runtime: &tokio::runtime::Handle,
        name: &'static str,
        addr: Option<SocketAddr>,
        body: F,
    ) -> Self
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, receiver) = oneshot::channel();
        let task = runtime.spawn(body(StopSignal {
            receiver,
            detached: false,
        }));
        Self {
            name,
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The address a listener bound (useful after binding port 0); `None` for export loops.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Whether the task is still going (it only ends on shutdown, or if it failed).
    pub(crate) fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Lets the task run for as long as the Tokio runtime does, without a handle.
    pub(crate) fn detach(mut self) {
        // Dropping the sender without sending never completes the stop signal.
        self.stop.take();
        self.task.take();
    }

    /// Asks the task to stop, lets it finish its last step, and waits for it.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl std::fmt::Debug for BackgroundTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What runs: `listener`, `push`, `otlp` or `stdout`.
        f.debug_struct("BackgroundTask")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("running", &self.is_running())
            .finish()
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `500ms`, `1.6s`, `30s`, `2m30s`, `1h`: a delay for a log line.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 && !ms.is_multiple_of(1000) {
        return format!("{}s", ms as f64 / 1000.0);
    }
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// What an export loop does on a graceful shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnStop {
    /// One last export, so that the final counts get out.
    Export,
    /// Remove what was exported (the Pushgateway group of this instance).
    #[cfg_attr(not(feature = "push"), allow(dead_code))]
    Remove,
    /// Nothing.
    Nothing,
}

/// One destination of the export loop.
pub(crate) trait Sink: Send + Sync + 'static {
    /// Where data goes, for log lines: a URL or `standard output`.
    fn destination(&self) -> String;

    /// Renders the registry into one request body, compressed if configured. CPU work: the
    /// loop runs it on a blocking thread.
    fn render(&self, registry: &Registry) -> Vec<u8>;

    /// Sends one rendered body.
    fn send(&self, body: Vec<u8>) -> impl Future<Output = Result<(), String>> + Send;

    /// The last step on a graceful shutdown.
    fn on_stop(&self) -> OnStop {
        OnStop::Export
    }

    /// Removes what was exported; called on shutdown when [`Sink::on_stop`] says so.
    fn remove(&self) -> impl Future<Output = Result<(), String>> + Send {
        async { Ok(()) }
    }
}

/// Renders on a blocking thread, then sends.
async fn export_once<S: Sink>(sink: &Arc<S>, registry: &Registry) -> Result<(), String> {
    let (render_sink, registry) = (sink.clone(), registry.clone());
    let body = tokio::task::spawn_blocking(move || render_sink.render(&registry))
        .await
        .map_err(|e| format!("rendering failed: {e}"))?;
    sink.send(body).await
}

/// Starts the export loop of `sink` on `runtime`.
pub(crate) fn spawn_export<S: Sink>(
    runtime: &tokio::runtime::Handle,
    name: &'static str,
    registry: Registry,
    sink: S,
    interval: Duration,
) -> BackgroundTask {
    let sink = Arc::new(sink);
    BackgroundTask::spawn(runtime, name, None, move |stop| {
        export_loop(stop, sink, registry, interval)
    })
}

async fn export_loop<S: Sink>(
    mut stop: StopSignal,
    sink: Arc<S>,
    registry: Registry,
    interval: Duration,
) {
    let destination = sink.destination();
    let mut backoff = Backoff::new(interval, BACKOFF_CAP);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            () = tokio::time::sleep(backoff.delay()) => {}
        }
        match export_once(&sink, &registry).await {
            Ok(()) => {
                if backoff.failures() > 0 {
                    tracing::info!(
                        destination = %destination,
                        failures = backoff.failures(),
                        "metrics export to {destination} recovered after {} failed attempts",
                        backoff.failures()
                    );
                }
                backoff.succeeded();
            }
            Err(cause) => {
                backoff.failed();
                let retry_in = human(backoff.delay());
                tracing::warn!(
                    destination = %destination,
                    failures = backoff.failures(),
                    "metrics export to {destination} failed ({cause}); retrying in {retry_in}"
                );
            }
        }
    }
    let last = match sink.on_stop() {
        OnStop::Export => export_once(&sink, &registry).await,
        OnStop::Remove => sink.remove().await,
        OnStop::Nothing => Ok(()),
    };
    if let Err(cause) = last {
        tracing::warn!(
            destination = %destination,
            "final metrics export to {destination} failed ({cause})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
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

    #[test]
    fn delays_read_well() {
        let cases = [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1600), "1.6s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(150), "2m30s"),
            (Duration::from_secs(3600), "1h"),
        ];
        for (d, text) in cases {
            assert_eq!(human(d), text);
        }
    }

    #[test]
    fn an_interval_longer_than_the_cap_is_kept() {
        let mut b = Backoff::new(Duration::from_secs(600), Duration::from_secs(300));
        b.failed();
        assert_eq!(b.delay(), Duration::from_secs(600));
    }

    /// Counts sends and removals; fails while `fail` is set.
    #[derive(Default)]
    struct Counting {
        sends: AtomicUsize,
        removals: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
        on_stop: Mutex<Option<OnStop>>,
    }

    impl Sink for Arc<Counting> {
        fn destination(&self) -> String {
            "test://sink".into()
        }
        fn render(&self, _: &Registry) -> Vec<u8> {
            Vec::new()
        }
        fn send(&self, _: Vec<u8>) -> impl Future<Output = Result<(), String>> + Send {
            self.sends.fetch_add(1, Ordering::SeqCst);
            let fail = self.fail.load(Ordering::SeqCst);
            async move { if fail { Err("down".to_owned()) } else { Ok(()) } }
        }
        fn on_stop(&self) -> OnStop {
            self.on_stop.lock().unwrap().unwrap_or(OnStop::Export)
        }
        fn remove(&self) -> impl Future<Output = Result<(), String>> + Send {
            self.removals.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        }
    }

    fn start(sink: &Arc<Counting>) -> BackgroundTask {
        start_every(sink, Duration::from_millis(5))
    }

    fn start_every(sink: &Arc<Counting>, interval: Duration) -> BackgroundTask {
        spawn_export(
            &tokio::runtime::Handle::current(),
            "test",
            Registry::default(),
            sink.clone(),
            interval,
        )
    }

    /// Long enough that no periodic export happens while a test runs.
    const NEVER: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn a_detached_task_keeps_exporting() {
        let sink = Arc::new(Counting::default());
        start(&sink).detach();
        let sends_reach = |n: usize| {
            let sink = sink.clone();
            async move {
                while sink.sends.load(Ordering::SeqCst) < n {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        };
        let wait = Duration::from_secs(10);
        tokio::time::timeout(wait, sends_reach(2))
            .await
            .expect("two exports");
        let before = sink.sends.load(Ordering::SeqCst);
        tokio::time::timeout(wait, sends_reach(before + 1))
            .await
            .expect("exports go on without a handle");
    }

    #[tokio::test]
    async fn shutdown_exports_once_more_and_drop_stops() {
        let sink = Arc::new(Counting::default());
        let task = start_every(&sink, NEVER);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(task.is_running());
        assert!(format!("{task:?}").contains("name: \"test\""), "{task:?}");
        assert_eq!(task.local_addr(), None);
        assert_eq!(sink.sends.load(Ordering::SeqCst), 0);
        task.shutdown().await;
        assert_eq!(sink.sends.load(Ordering::SeqCst), 1, "one final export");

        let sink = Arc::new(Counting::default());
        sink.fail.store(true, Ordering::SeqCst);
        let task = start(&sink);
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(task);
        tokio::task::yield_now().await;
        let after_drop = sink.sends.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            sink.sends.load(Ordering::SeqCst),
            after_drop,
            "no export after drop"
        );
    }

    #[tokio::test]
    async fn shutdown_removes_instead_of_exporting_when_asked() {
        let sink = Arc::new(Counting::default());
        *sink.on_stop.lock().unwrap() = Some(OnStop::Remove);
        let task = start_every(&sink, NEVER);
        tokio::time::sleep(Duration::from_millis(30)).await;
        task.shutdown().await;
        assert_eq!(sink.sends.load(Ordering::SeqCst), 0);
        assert_eq!(sink.removals.load(Ordering::SeqCst), 1);
    }

    /// Renders only when the test lets it, so that an export is surely in flight.
    struct Gated {
        sends: AtomicUsize,
        entered: Mutex<std::sync::mpsc::Sender<()>>,
        release: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl Sink for Arc<Gated> {
        fn destination(&self) -> String {
            "test://gated".into()
        }
        fn render(&self, _: &Registry) -> Vec<u8> {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.release.lock().unwrap().recv();
            Vec::new()
        }
        fn send(&self, _: Vec<u8>) -> impl Future<Output = Result<(), String>> + Send {
            self.sends.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_during_an_export_finishes_it_then_exports_once_more() {
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let sink = Arc::new(Gated {
            sends: AtomicUsize::new(0),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        });
        let task = spawn_export(
            &tokio::runtime::Handle::current(),
            "test",
            Registry::default(),
            sink.clone(),
            Duration::from_millis(5),
        );
        // The first periodic export is rendering now.
        tokio::task::spawn_blocking(move || entered.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(sink.sends.load(Ordering::SeqCst), 0);
        // The first poll sends the stop signal; the export in flight still holds the loop.
        let mut shutdown = std::pin::pin!(task.shutdown());
        let pending =
            std::future::poll_fn(|cx| Poll::Ready(shutdown.as_mut().poll(cx).is_pending())).await;
        assert!(pending);
        release.send(()).unwrap();
        // The final export renders without waiting.
        drop(release);
        shutdown.await;
        assert_eq!(
            sink.sends.load(Ordering::SeqCst),
            2,
            "the export in flight and the final one"
        );
    }
}
