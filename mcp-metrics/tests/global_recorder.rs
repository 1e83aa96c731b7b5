//! A global `metrics` recorder without `use_global_recorder`: every call registers its series
//! with the recorder of the moment, so a recorder installed after the first call sees the calls
//! that follow, and a local recorder still sees the calls made under it.
#![cfg(feature = "metrics")]
//! One test in this binary, because the global recorder can be installed only once per process.

mod common;
use common::Metrics;
use mcp_metrics::{ErrorKind, mcp_tool};
use metrics_util::debugging::DebuggingRecorder;

#[derive(Debug, ErrorKind)]
enum Many {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
}

#[mcp_tool(metrics)]
fn pick(i: usize) -> Result<(), Many> {
    use Many::*;
    let all = [A, B, C, D, E, F, G, H, I, J];
    match all.into_iter().nth(i) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[mcp_tool(metrics)]
fn maybe_panic(p: bool) {
    assert!(!p, "boom");
}

#[test]
fn global_recorder_installed_after_first_use() {
    // Before any recorder: calls work and record nothing anywhere.
    pick(100).unwrap();

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    for _ in 0..3 {
        pick(100).unwrap();
    }
    // 10 distinct error kinds: more than the per-site cache holds; all must still be counted.
    for round in 0..2 {
        for i in 0..10 {
            assert!(pick(i).is_err(), "round {round}");
        }
    }
    // Rare outcomes from another thread.
    std::thread::spawn(|| std::panic::catch_unwind(|| maybe_panic(true)).is_err())
        .join()
        .unwrap();
    maybe_panic(false);

    // A local recorder set while the global one is installed gets the calls made under it.
    let local = DebuggingRecorder::new();
    let local_snap = local.snapshotter();
    metrics::with_local_recorder(&local, || pick(100)).unwrap();

    let m = Metrics::take(&snapshotter);
    assert_eq!(m.calls("pick", "success", None), 3, "{m:?}");
    for kind in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        assert_eq!(
            m.calls("pick", "error", Some(kind)),
            2,
            "kind {kind}: {m:?}"
        );
    }
    assert_eq!(m.durations("pick", "error").len(), 20);
    assert_eq!(m.durations("pick", "success").len(), 3);
    assert_eq!(m.calls("maybe_panic", "panic", Some("panic")), 1);
    assert_eq!(m.calls("maybe_panic", "success", None), 1);
    assert_eq!(m.in_flight("pick"), 0.0);
    assert_eq!(m.in_flight("maybe_panic"), 0.0);

    let l = Metrics::take(&local_snap);
    assert_eq!(l.calls("pick", "success", None), 1);
}
