#![forbid(unsafe_code)]
// A crate that forbids unsafe code can declare objectives: the linker sections that gather them
// come from `linkme`'s macros, not from the user's code.
#[mcp_metrics::mcp_tool(objective(success = 99.9))]
fn tool() {}
fn main() {
    tool();
    assert_eq!(mcp_metrics::objectives().count(), 1);
}
