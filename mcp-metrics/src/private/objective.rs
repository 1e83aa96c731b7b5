//! The objectives `#[mcp_tool(objective(...))]` declares: one element per tool in a slice that the
//! linker gathers, so that `mcp_metrics::objectives()` sees them before any call.

use crate::Objective;

pub use linkme;

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
