//! What `#[mcp_tool]` declares at start-up, in slices the linker gathers before any call: the
//! names of instrumented tools (the request layer's known tools) and the objectives of
//! `#[mcp_tool(objective(...))]` (listed by `mcp_metrics::objectives()`).

use crate::Objective;

pub use linkme;

/// The name of every tool instrumented with metrics.
#[linkme::distributed_slice]
pub static TOOL_NAMES: [&'static str];

/// Every declared objective. Generated code adds to it with
/// `#[distributed_slice(OBJECTIVES)] #[linkme(crate = ::mcp_metrics::__private::linkme)]`.
#[linkme::distributed_slice]
pub static OBJECTIVES: [Objective];

/// An objective whose values the macro has checked: ratios strictly between 0 and 1, a
/// threshold in seconds above 0.
pub const fn declared_objective(
    tool: &'static str,
    success: Option<f64>,
    latency: Option<(f64, f64)>,
) -> Objective {
    Objective::declared(tool, success, latency)
}
