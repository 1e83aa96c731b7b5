//! The recording helpers, through an in-memory recorder.
#![cfg(feature = "metrics")]

mod common;
use common::record;
use mcp_metrics::PriceTable;

#[test]
fn tokens_and_cost_from_a_price_table() {
    let prices = PriceTable::new().model("small-1", 0.5, 1.5);
    let (_, m) = record(|| {
        prices.record("small-1", 1_000, 200);
        prices.record("small-1", 1_000, 0);
        prices.record("someone-elses-model", 7, 3);
    });
    let tokens =
        |model, kind| m.counter("mcp_llm_tokens_total", &[("model", model), ("type", kind)]);
    assert_eq!(tokens("small-1", "prompt"), 2_000);
    assert_eq!(tokens("small-1", "completion"), 200);
    assert_eq!(tokens("_OTHER", "prompt"), 7);
    assert_eq!(tokens("_OTHER", "completion"), 3);
    assert_eq!(
        tokens("someone-elses-model", "prompt"),
        0,
        "unknown models are not labels"
    );
    // (2000 * 0.5 + 200 * 1.5) / 1e6 = 0.0013 currency units = 1300 millionths
    assert_eq!(
        m.counter("mcp_llm_cost_micros_total", &[("model", "small-1")]),
        1_300
    );
    assert_eq!(
        m.counter("mcp_llm_cost_micros_total", &[("model", "_OTHER")]),
        0
    );
}

#[test]
fn rate_limit_and_cache() {
    let (_, m) = record(|| {
        mcp_metrics::rate_limited!("per_user");
        mcp_metrics::rate_limited!("per_user");
        for hit in [true, false, true, true] {
            mcp_metrics::cache_lookup!("embeddings", hit);
        }
        mcp_metrics::llm_tokens!("m", 1, 2);
        mcp_metrics::llm_cost!("m", 0.25);
    });
    assert_eq!(
        m.counter("mcp_rate_limit_hits_total", &[("limiter", "per_user")]),
        2
    );
    assert_eq!(
        m.counter(
            "mcp_cache_requests_total",
            &[("cache", "embeddings"), ("result", "hit")]
        ),
        3
    );
    assert_eq!(
        m.counter(
            "mcp_cache_requests_total",
            &[("cache", "embeddings"), ("result", "miss")]
        ),
        1
    );
    assert_eq!(
        m.counter(
            "mcp_llm_tokens_total",
            &[("model", "m"), ("type", "completion")]
        ),
        2
    );
    assert_eq!(
        m.counter("mcp_llm_cost_micros_total", &[("model", "m")]),
        250_000
    );
}

#[cfg(feature = "rmcp")]
#[test]
fn notifications_and_registered_tools() {
    let (_, m) = record(|| {
        mcp_metrics::rmcp::notification_sent("notifications/progress");
        mcp_metrics::rmcp::notification_sent("notifications/progress");
        mcp_metrics::rmcp::set_registered_tools(4);
    });
    assert_eq!(
        m.counter(
            "mcp_server_notifications_sent_total",
            &[("method", "notifications/progress")]
        ),
        2
    );
    assert_eq!(m.gauge("mcp_registered_tools", &[]), 4.0);
}
