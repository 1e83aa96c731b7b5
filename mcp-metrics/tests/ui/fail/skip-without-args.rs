#[mcp_metrics::mcp_tool(skip(password))]
fn login(user: String, password: String) -> bool { user.len() < password.len() }
fn main() { login(String::new(), String::new()); }
