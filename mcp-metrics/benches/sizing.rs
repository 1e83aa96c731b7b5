//! The cost of measuring context size: `json_len` (serialising into a byte counter) against the
//! serialisation the transport does anyway (`serde_json::to_vec`), for tool results and a tool
//! catalogue of typical sizes; with the `tokens` feature, also the `o200k_base` token count of the
//! same results (`result_tokens`), and once the time of the first count, which builds the encoder.
//!
//! ```sh
//! cargo bench -p mcp-metrics --bench sizing
//! cargo bench -p mcp-metrics --bench sizing --features tokens
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
#[allow(unreachable_pub, dead_code)]
#[path = "../src/rmcp/json_len.rs"]
mod json_len;

use json_len::json_len;
use rmcp::model::{CallToolResult, ContentBlock, ListToolsResult, Tool};
use std::hint::black_box;
use std::sync::Arc;

fn result_of(bytes: usize) -> CallToolResult {
    // Prose-like text with quotes and a non-ASCII character, so that escaping is exercised.
    let line = "The \"quick\" brown fox jumps over the lazy dog — again.\n";
    let text: String = line.chars().cycle().take(bytes).collect();
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn catalogue(tools: usize) -> ListToolsResult {
    let schema: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city to look up"},
                "units": {"type": "string", "enum": ["metric", "imperial"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 14}
            },
            "required": ["city"]
        }))
        .expect("schema");
    let schema = Arc::new(schema);
    let tools = (0..tools)
        .map(|i| {
            Tool::new(
                format!("tool_{i}"),
                "Looks up the weather forecast of a city for the next days.",
                schema.clone(),
            )
        })
        .collect();
    ListToolsResult::with_all_items(tools)
}

/// The first count builds the shared encoder: timed once, printed with each size's token count.
#[cfg(feature = "tokens")]
fn first_count() {
    let started = std::time::Instant::now();
    let tokens = mcp_metrics::rmcp::result_tokens(&result_of(100));
    println!(
        "first result_tokens (builds the o200k_base encoder): {:.1} ms, {tokens:?} tokens",
        started.elapsed().as_secs_f64() * 1e3
    );
    for bytes in [100usize, 4 << 10, 64 << 10] {
        let tokens = mcp_metrics::rmcp::result_tokens(&result_of(bytes));
        println!("{bytes} bytes of text: {tokens:?} tokens");
    }
}

fn bench(c: &mut Criterion) {
    #[cfg(feature = "tokens")]
    first_count();
    let mut group = c.benchmark_group("tool_result");
    for bytes in [100usize, 4 << 10, 64 << 10] {
        let result = result_of(bytes);
        let size = serde_json::to_vec(&result).expect("serialises").len() as u64;
        group.throughput(Throughput::Bytes(size));
        group.bench_with_input(BenchmarkId::new("json_len", bytes), &result, |b, r| {
            b.iter(|| json_len(black_box(r)))
        });
        group.bench_with_input(BenchmarkId::new("to_vec", bytes), &result, |b, r| {
            b.iter(|| serde_json::to_vec(black_box(r)).map(|v| v.len()))
        });
        #[cfg(feature = "tokens")]
        group.bench_with_input(BenchmarkId::new("result_tokens", bytes), &result, |b, r| {
            b.iter(|| mcp_metrics::rmcp::result_tokens(black_box(r)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("tools_list");
    for tools in [10usize, 100] {
        let list = catalogue(tools);
        group.bench_with_input(BenchmarkId::new("json_len", tools), &list, |b, l| {
            b.iter(|| json_len(black_box(l)))
        });
        group.bench_with_input(BenchmarkId::new("to_vec", tools), &list, |b, l| {
            b.iter(|| serde_json::to_vec(black_box(l)).map(|v| v.len()))
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`.
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);
