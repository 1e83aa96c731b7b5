//! Context cost in tokens (feature `tokens`): `mcp_tool_result_tokens{tool}`, the tokens the text
//! of a completed tool result adds to a model's context.
//!
//! Counted with the `o200k_base` byte-pair encoding of current OpenAI models (through
//! `tiktoken-rs`), the most widely used public tokenizer; other models' tokenizers (Anthropic's
//! is not public) give other counts for the same text, so the number is an estimate of the
//! context cost, comparable between tools and over time. The ordinary encoder is used: special
//! tokens in the text (`<|endoftext|>`) count as the plain text they are. Only the text content
//! blocks are counted, each on its own: not images, audio, embedded resources (text resources
//! included), resource links, annotations or `_meta`, nor `structuredContent` apart from the text
//! form a tool returns beside it (rmcp's `CallToolResult::structured` does); nor the message
//! framing a client adds around a result.
//!
//! The encoder is built once, on the first result with text, and shared by every thread: that
//! first count takes a quarter of a second (`BENCHMARKS.md`); call [`result_tokens`] once at
//! start-up to take it there. Counting allocates the token list of each block, and runs at 5 to 6
//! tokens a microsecond, 40 to 80 times the cost of measuring `mcp_tool_result_bytes`.

use rmcp::model::{CallToolResult, ContentBlock};
use std::sync::OnceLock;
use tiktoken_rs::CoreBPE;

/// The `o200k_base` encoder, built on first use: `None` if it could not be built (its tables are
/// compiled in, so only a broken build of `tiktoken-rs` could fail; nothing is counted then).
fn encoder() -> Option<&'static CoreBPE> {
    static ENCODER: OnceLock<Option<CoreBPE>> = OnceLock::new();
    ENCODER
        .get_or_init(|| tiktoken_rs::o200k_base().ok())
        .as_ref()
}

/// The tokens of the text content blocks of `result` under the `o200k_base` encoding, without
/// special tokens: what `mcp_tool_result_tokens` records (see the [module](self) for what is not
/// counted). `None` only if the encoder could not be built. A result without text is 0 tokens and
/// does not build the encoder.
///
/// ```
/// use rmcp::model::{CallToolResult, ContentBlock};
/// let result = CallToolResult::success(vec![ContentBlock::text("hello world")]);
/// assert_eq!(mcp_metrics::rmcp::result_tokens(&result), Some(2));
/// ```
pub fn result_tokens(result: &CallToolResult) -> Option<usize> {
    let mut texts = result
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.text.as_str()),
            _ => None,
        })
        .peekable();
    if texts.peek().is_none() {
        return Some(0);
    }
    let encoder = encoder()?;
    Some(texts.map(|text| encoder.encode_ordinary(text).len()).sum())
}

/// Records `mcp_tool_result_tokens{tool}` for a completed tool result.
pub(crate) fn record_tool_result(tool: &'static str, result: &CallToolResult) {
    if let Some(tokens) = result_tokens(result) {
        let key = One(label::TOOL, Str(tool));
        RESULT_TOKENS.with(key, |h| h.record_plain(tokens as f64));
    }
}

use crate::catalog::{self, label};
use crate::record::family::One;
use crate::record::{Family, HistogramHandle, Str};

static RESULT_TOKENS: Family<One, HistogramHandle> = Family::new(&catalog::TOOL_RESULT_TOKENS);

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{ContentBlock, Resource};

    #[test]
    fn only_text_blocks_count_each_on_its_own() {
        let text = |t: &str| ContentBlock::text(t);
        // "hello world" is [24912, 2375] under o200k_base.
        let tokens = |blocks| result_tokens(&CallToolResult::success(blocks));
        assert_eq!(tokens(vec![text("hello world")]), Some(2));
        assert_eq!(tokens(vec![]), Some(0));
        assert_eq!(
            tokens(vec![
                text("hello world"),
                ContentBlock::image("aGVsbG8gd29ybGQ=", "image/png"),
                ContentBlock::embedded_text("file:///a", "hello world"),
                ContentBlock::ResourceLink(Resource::new("file:///b", "b")),
                text("hello world"),
            ]),
            Some(4)
        );
        // Special tokens are ordinary text: more than the one token they would be.
        assert!(tokens(vec![text("<|endoftext|>")]).unwrap() > 1);
        let structured = CallToolResult::structured(serde_json::json!({"a": "hello world"}));
        assert_eq!(
            result_tokens(&structured),
            tokens(vec![text(r#"{"a":"hello world"}"#)]),
            "the text form of structured content, once"
        );
    }
}
