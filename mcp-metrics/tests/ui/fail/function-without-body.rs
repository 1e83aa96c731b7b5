trait Tools {
    #[mcp_metrics::mcp_tool]
    fn tool(&self);
}
fn main() {}
