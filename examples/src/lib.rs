//! The tools of the example servers: one of each outcome `#[mcp_tool]` tells apart.

use mcp_metrics::{ErrorKind, PriceTable, mcp_tool};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ContentBlock, IntoContents, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::time::Duration;

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddRequest {
    /// First addend.
    pub a: i64,
    /// Second addend.
    pub b: i64,
}

/// Arguments of `lookup`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LookupRequest {
    /// The key to look up: `alpha` and `beta` exist.
    pub key: String,
}

/// Arguments of `validate`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ValidateRequest {
    /// Text that must not be blank.
    pub text: String,
}

/// Arguments of `slow`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlowRequest {
    /// How long to work, in milliseconds (at most 5000).
    pub millis: u64,
}

/// Arguments of `summarize`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SummarizeRequest {
    /// The text to summarize.
    pub text: String,
}

/// Prices of the (simulated) models `summarize` calls, per million prompt and completion tokens.
pub fn prices() -> &'static PriceTable {
    static PRICES: std::sync::OnceLock<PriceTable> = std::sync::OnceLock::new();
    PRICES.get_or_init(|| PriceTable::new().model("small-1", 0.15, 0.60))
}

/// Why `lookup` failed: each variant is an `error_type` label value.
#[derive(Debug, ErrorKind)]
pub enum LookupError {
    /// No such key.
    NotFound,
    /// The key is reserved.
    Forbidden,
}

impl IntoContents for LookupError {
    fn into_contents(self) -> Vec<ContentBlock> {
        let text = match self {
            LookupError::NotFound => "no such key",
            LookupError::Forbidden => "this key is reserved",
        };
        vec![ContentBlock::text(text)]
    }
}

/// The example tool server.
#[derive(Clone)]
pub struct Tools {
    tool_router: ToolRouter<Self>,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            tool_router: Self::tool_router(),
        }
    }
}

impl Tools {
    /// The number of tools the server offers.
    pub fn count(&self) -> usize {
        self.tool_router.list_all().len()
    }
}

#[tool_router]
impl Tools {
    /// Adds two integers.
    #[mcp_tool]
    #[tool]
    async fn add(
        &self,
        Parameters(AddRequest { a, b }): Parameters<AddRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        let sum = a
            .checked_add(b)
            .ok_or_else(|| ErrorData::invalid_params("the sum overflows", None))?;
        Ok(CallToolResult::success(vec![ContentBlock::text(
            sum.to_string(),
        )]))
    }

    /// Looks a key up.
    #[mcp_tool]
    #[tool]
    async fn lookup(
        &self,
        Parameters(LookupRequest { key }): Parameters<LookupRequest>,
    ) -> Result<String, LookupError> {
        match key.as_str() {
            "alpha" => Ok("first".into()),
            "beta" => Ok("second".into()),
            "root" => Err(LookupError::Forbidden),
            _ => Err(LookupError::NotFound),
        }
    }

    /// Checks that a text is not blank; a blank text is a tool error the model can read.
    #[mcp_tool]
    #[tool]
    fn validate(
        &self,
        Parameters(ValidateRequest { text }): Parameters<ValidateRequest>,
    ) -> CallToolResult {
        if text.trim().is_empty() {
            CallToolResult::error(vec![ContentBlock::text("the text is blank")])
        } else {
            CallToolResult::success(vec![ContentBlock::text("valid")])
        }
    }

    /// Works for the given number of milliseconds.
    #[mcp_tool]
    #[tool]
    async fn slow(&self, Parameters(SlowRequest { millis }): Parameters<SlowRequest>) -> String {
        let millis = millis.min(5_000);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        format!("worked {millis} ms")
    }

    /// Summarizes a text with a (simulated) LLM, recording its token usage and cost.
    #[mcp_tool]
    #[tool]
    async fn summarize(
        &self,
        Parameters(SummarizeRequest { text }): Parameters<SummarizeRequest>,
    ) -> String {
        let words: Vec<&str> = text.split_whitespace().collect();
        let summary = words.iter().take(5).copied().collect::<Vec<_>>().join(" ");
        // A real server would take these from the LLM's response.
        #[cfg(feature = "instrumented")]
        let (prompt_tokens, completion_tokens) = (
            words.len() as u64 * 4 / 3 + 20,
            summary.len() as u64 / 4 + 1,
        );
        #[cfg(feature = "instrumented")]
        prices().record("small-1", prompt_tokens, completion_tokens);
        summary
    }

    /// Always panics: shows how a crashing tool is counted.
    #[mcp_tool]
    #[tool]
    async fn crash(&self) -> String {
        panic!("the crash tool always panics")
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}
