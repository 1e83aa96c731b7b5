//! The cost of a catalogue fingerprint: `fingerprint::tools` (canonical JSON into SHA-256) for a
//! 50-tool catalogue, against the serialisation of the same `tools/list` answer that the
//! transport does anyway (`serde_json::to_vec`). Paid once per complete list answer, never per
//! tool call.
//!
//! ```sh
//! cargo bench -p mcp-metrics --bench fingerprint
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use mcp_metrics::rmcp::fingerprint;
use rmcp::model::{ListToolsResult, Tool, ToolAnnotations};
use std::hint::black_box;
use std::sync::Arc;

/// `tools` tools with schemas of a few typed, described properties, like a real server's.
fn catalogue(tools: usize) -> Vec<Tool> {
    (0..tools)
        .map(|i| {
            let schema: serde_json::Map<String, serde_json::Value> =
                serde_json::from_value(serde_json::json!({
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "The city to look up"},
                        "units": {"type": "string", "enum": ["metric", "imperial"]},
                        "days": {"type": "integer", "minimum": 1, "maximum": 14},
                        "detail": {"type": "boolean", "default": false}
                    },
                    "required": ["city"]
                }))
                .expect("schema");
            Tool::new(
                format!("tool_{i:02}"),
                format!("Looks up the weather forecast of a city for the next days ({i})."),
                Arc::new(schema),
            )
            .annotate(ToolAnnotations::new().read_only(true))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalogue");
    for tools in [10usize, 50] {
        let list = catalogue(tools);
        let answer = ListToolsResult::with_all_items(list.clone());
        let bytes = serde_json::to_vec(&answer).expect("serialises").len() as u64;
        group.throughput(Throughput::Bytes(bytes));
        group.bench_with_input(BenchmarkId::new("fingerprint", tools), &list, |b, l| {
            b.iter(|| fingerprint::tools(black_box(l)))
        });
        group.bench_with_input(BenchmarkId::new("to_vec", tools), &answer, |b, a| {
            b.iter(|| serde_json::to_vec(black_box(a)).map(|v| v.len()))
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`.
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);
