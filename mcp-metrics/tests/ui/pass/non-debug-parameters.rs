#![deny(warnings)]
// Under `trace`, no parameter is recorded unless asked for, so no parameter type needs `Debug`.
use mcp_metrics::mcp_tool;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::{ErrorData, tool, tool_router};

/// A request without `derive(Debug)`.
struct Request {
    key: String,
}

/// An rmcp request type without `derive(Debug)`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Search {
    query: String,
    api_key: String,
}

#[mcp_tool]
fn total(values: impl IntoIterator<Item = u8>) -> u32 {
    values.into_iter().map(u32::from).sum()
}

#[mcp_tool(trace)]
async fn login(request: Request) -> Result<usize, String> {
    Ok(request.key.len())
}

// `args(..)` asks for `Debug` of what it names only.
#[mcp_tool(args(attempt))]
fn retry(attempt: u8, request: Request) -> usize {
    request.key.len() + usize::from(attempt)
}

// A bare `args` with `skip(..)` asks for `Debug` of the others only.
#[mcp_tool(args, skip(request))]
fn retry_all(attempt: u8, request: Request) -> usize {
    request.key.len() + usize::from(attempt)
}

#[derive(Clone)]
struct Server {
    #[allow(dead_code)]
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Server {
    /// Searches.
    #[mcp_tool]
    #[tool]
    async fn search(&self, Parameters(search): Parameters<Search>) -> Result<String, ErrorData> {
        Ok(format!("{}{}", search.query, search.api_key.len()))
    }

    /// Searches, with the whole wrapper as the parameter.
    #[mcp_tool]
    #[tool]
    fn search_again(&self, params: Parameters<Search>) -> String {
        params.0.query
    }

    /// Records the query, and only the query.
    #[mcp_tool(args(query))]
    #[tool]
    fn search_logged(&self, Parameters(Search { query, api_key }): Parameters<Search>) -> String {
        format!("{query}{}", api_key.len())
    }
}

fn main() {
    let _ = total([1, 2]);
    let _ = login(Request { key: String::new() });
    let _ = retry(1, Request { key: String::new() });
    let _ = retry_all(1, Request { key: String::new() });
    let server = Server { tool_router: Server::tool_router() };
    let search = || Search { query: String::new(), api_key: String::new() };
    let _ = server.search(Parameters(search()));
    let _ = server.search_again(Parameters(search()));
    let _ = server.search_logged(Parameters(search()));
}
