struct Server;
impl Server {
    #[mcp_metrics::mcp_tool(args(usr, self, user, user))]
    fn login(&self, user: String) -> usize { user.len() }
}
fn main() { Server.login(String::new()); }
