//! `#[mcp_tool(objective(...))]`: every declared objective is listed by `mcp_metrics::objectives()`
//! at start-up, before any call (`slow_only` and `convert` are never called), with the
//! percentages as ratios.
#![cfg(feature = "metrics")]

use mcp_metrics::{Objective, mcp_tool, objectives};

#[mcp_tool(objective(success = 99.9, latency = 0.5, latency_target = 95))]
async fn search(query: String) -> Result<Vec<String>, std::io::Error> {
    Ok(vec![query])
}

#[mcp_tool(metrics, name = "batch", objective(success = 99))]
fn run_batch(jobs: u32) -> u32 {
    jobs
}

/// Never called anywhere.
#[allow(dead_code)]
#[mcp_tool(objective(latency_target = 99.5, latency = 2.5))]
fn slow_only() {}

struct Server;

#[allow(dead_code)]
impl Server {
    /// A generic method that is never instantiated still declares its objective.
    #[mcp_tool(name = "convert", objective(success = 99.95))]
    fn convert<T: Into<u64>>(&self, value: T) -> u64 {
        value.into()
    }
}

#[mcp_tool]
fn no_objective() {}

fn declared(tool: &str) -> Vec<&'static Objective> {
    objectives().filter(|o| o.tool() == tool).collect()
}

#[test]
fn declared_objectives_are_listed_without_any_call() {
    let search = declared("search");
    assert_eq!(search.len(), 1, "{:?}", objectives().collect::<Vec<_>>());
    let search = search[0];
    assert_eq!(search.success_ratio(), Some(0.999));
    assert_eq!(search.latency_threshold_seconds(), Some(0.5));
    assert_eq!(search.latency_ratio(), Some(0.95));
    assert_eq!(search.validate(), Ok(()));

    let batch = declared("batch");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].success_ratio(), Some(0.99));
    assert_eq!(batch[0].latency_threshold_seconds(), None);
    assert_eq!(batch[0].latency_ratio(), None);

    let slow = declared("slow_only");
    assert_eq!(slow.len(), 1);
    assert_eq!(slow[0].success_ratio(), None);
    assert_eq!(slow[0].latency_threshold_seconds(), Some(2.5));
    assert_eq!(slow[0].latency_ratio(), Some(0.995));

    let convert = declared("convert");
    assert_eq!(convert.len(), 1);
    assert_eq!(convert[0].success_ratio(), Some(0.9995));

    assert!(declared("no_objective").is_empty());
    assert_eq!(objectives().count(), 4);
}

#[test]
fn declared_and_built_objectives_compare_equal() {
    let built = Objective::new("search")
        .success(99.9)
        .unwrap()
        .latency(0.5, 95.0)
        .unwrap();
    assert_eq!(declared("search"), [&built]);
}

#[test]
fn the_tools_still_work() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(search("q".into())).unwrap(), ["q"]);
    assert_eq!(run_batch(3), 3);
    no_objective();
}
