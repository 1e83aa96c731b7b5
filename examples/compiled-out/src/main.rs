//! The same annotations as the instrumented examples, built with `mcp-metrics` features off.
//!
//! ```sh
//! cargo run -p mcp-metrics-example-compiled-out
//! ```
//!
//! Build it on its own (`-p`): in a build of the whole workspace, Cargo unifies features and the
//! other examples switch metrics on.

use mcp_metrics::{ErrorKind, mcp_tool};
use std::future::Future as _;

/// Why a lookup failed.
#[derive(Debug, ErrorKind)]
enum LookupError {
    NotFound,
}

/// Adds two integers.
#[mcp_tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Looks a key up.
#[mcp_tool(metrics, name = "lookup")]
async fn lookup(key: &str) -> Result<&'static str, LookupError> {
    if key == "alpha" {
        Ok("first")
    } else {
        Err(LookupError::NotFound)
    }
}

fn main() {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let found = std::pin::pin!(lookup("alpha")).poll(&mut cx);
    let missing = std::pin::pin!(lookup("beta")).poll(&mut cx);
    println!("add(2, 3) = {}; lookup: {found:?}, {missing:?}", add(2, 3));
}
