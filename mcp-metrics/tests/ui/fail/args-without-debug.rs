struct Secret(String);

#[mcp_metrics::mcp_tool(args(secret))]
fn listed(secret: Secret) -> usize { secret.0.len() }

#[mcp_metrics::mcp_tool(args)]
fn all(count: u8, secret: Secret) -> usize { secret.0.len() + usize::from(count) }

fn main() {
    listed(Secret(String::new()));
    all(1, Secret(String::new()));
}
