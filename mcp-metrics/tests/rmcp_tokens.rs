//! `mcp_tool_result_tokens`: the `o200k_base` tokens of the text of each tool result, recorded by
//! `Instrumented` with the `tokens` feature and absent without it. Run both ways:
//! `cargo test -p mcp-metrics --test rmcp_tokens` (off) and with `--features tokens` (on).
#![cfg(all(feature = "metrics", feature = "rmcp"))]

mod common;

use mcp_metrics::rmcp::Instrumented;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, ContentBlock};
use rmcp::{ClientHandler, ServerHandler, ServiceExt, tool, tool_handler, tool_router};

#[derive(Clone)]
struct Tools {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Tools {
    /// "hello world" is [24912, 2375] under o200k_base: 2 tokens.
    #[tool]
    fn greet(&self) -> String {
        "hello world".into()
    }

    /// Two text blocks, each counted, and an image, not counted.
    #[tool]
    fn mixed(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("hello world"),
            ContentBlock::image("aGVsbG8gd29ybGQ=", "image/png"),
            ContentBlock::text("hello world"),
        ])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {}

#[derive(Clone, Default)]
struct Client;
impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

#[test]
fn text_tokens_of_each_result_with_the_feature_only() {
    let ((), metrics) = common::record_async(async {
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(async move {
            let tools = Tools {
                tool_router: Tools::tool_router(),
            };
            let running = Instrumented::new(tools).serve(server_io).await.unwrap();
            running.waiting().await.unwrap();
        });
        let client = Client.serve(client_io).await.unwrap();
        for tool in ["greet", "mixed", "greet"] {
            client
                .call_tool(CallToolRequestParams::new(tool))
                .await
                .unwrap();
        }
        client.cancel().await.unwrap();
        server.await.unwrap();
    });
    // The sizes are recorded either way: the results did reach the context-cost code.
    let greet = [("tool", "greet")];
    assert_eq!(metrics.histogram("mcp_tool_result_bytes", &greet).len(), 2);
    let tokens =
        |tool| metrics.histogram(mcp_metrics::names::TOOL_RESULT_TOKENS, &[("tool", tool)]);
    if cfg!(feature = "tokens") {
        assert_eq!(tokens("greet"), [2.0, 2.0]);
        assert_eq!(tokens("mixed"), [4.0]);
    } else {
        assert!(
            !metrics.has(mcp_metrics::names::TOOL_RESULT_TOKENS),
            "{metrics:?}"
        );
    }
}
