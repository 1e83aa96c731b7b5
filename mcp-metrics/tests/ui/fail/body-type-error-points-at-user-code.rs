#[mcp_metrics::mcp_tool]
fn tool() -> Result<u8, String> {
    Ok("not a number")
}
fn main() { let _ = tool(); }
