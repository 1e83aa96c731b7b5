#[mcp_metrics::mcp_tool(args())]
fn empty_list(x: u8) -> u8 { x }

#[mcp_metrics::mcp_tool(args)]
fn no_parameter() {}

struct S;
impl S {
    #[mcp_metrics::mcp_tool(args)]
    fn only_self(&self, _: u8) {}
}

fn main() {
    empty_list(1);
    no_parameter();
    S.only_self(1);
}
