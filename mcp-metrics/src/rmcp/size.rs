//! Context cost: the serialised size of tool results and of the tool catalogue, and the number of
//! content blocks per result.
//!
//! Sizes are measured by serialising into a writer that only counts bytes, so nothing is
//! allocated and no JSON text is kept; the transport serialises the response once more when it
//! sends it (rmcp does not expose the encoded length of a response).

use serde_json::ser::Serializer;
use std::io;

/// An `io::Write` that counts the bytes written to it and keeps none.
#[derive(Debug, Default, Clone, Copy)]
pub struct ByteCounter(pub u64);

impl io::Write for ByteCounter {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0 += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length in bytes of the compact JSON serialisation of `value` (as `serde_json::to_vec`
/// would produce it), computed without allocating; `None` if it does not serialise.
///
/// ```
/// use mcp_metrics::rmcp::json_len;
/// let value = serde_json::json!({"content": [{"type": "text", "text": "é"}]});
/// assert_eq!(json_len(&value), Some(serde_json::to_vec(&value).unwrap().len() as u64));
/// ```
pub fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> Option<u64> {
    let mut counter = ByteCounter::default();
    value
        .serialize(&mut Serializer::new(&mut counter))
        .ok()
        .map(|()| counter.0)
}

/// Records `mcp_tool_result_bytes{tool}` and `mcp_tool_result_content_blocks{tool}` for a
/// completed tool result; returns the size.
#[cfg(feature = "metrics")]
pub(crate) fn record_tool_result(
    tool: &metrics::SharedString,
    result: &rmcp::model::CallToolResult,
) -> Option<u64> {
    use crate::names::{TOOL_RESULT_BYTES, TOOL_RESULT_CONTENT_BLOCKS, label};
    let bytes = json_len(result)?;
    metrics::histogram!(TOOL_RESULT_BYTES, label::TOOL => tool.clone()).record(bytes as f64);
    metrics::histogram!(TOOL_RESULT_CONTENT_BLOCKS, label::TOOL => tool.clone())
        .record(result.content.len() as f64);
    Some(bytes)
}

/// Sets `mcp_tools_list_bytes` from a complete `tools/list` answer.
#[cfg(feature = "metrics")]
pub(crate) fn record_tools_list(list: &rmcp::model::ListToolsResult) {
    if let Some(bytes) = json_len(list) {
        metrics::gauge!(crate::names::TOOLS_LIST_BYTES).set(bytes as f64);
    }
}

/// Records `mcp_server_request_bytes{method}` from an HTTP request's `Content-Length`.
#[cfg(feature = "metrics")]
pub(crate) fn record_request(method: &'static str, bytes: Option<u64>) {
    if let Some(bytes) = bytes {
        metrics::histogram!(crate::names::SERVER_REQUEST_BYTES, crate::names::label::METHOD => method)
            .record(bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::json_len;
    use rmcp::model::{CallToolResult, ContentBlock};

    #[test]
    fn counted_length_is_the_serialised_length() {
        let results = [
            CallToolResult::success(vec![ContentBlock::text("hello \"world\" ✓\n")]),
            CallToolResult::error(vec![
                ContentBlock::text("a"),
                ContentBlock::text("b".repeat(10_000)),
            ]),
            CallToolResult::success(vec![]),
        ];
        for r in &results {
            assert_eq!(
                json_len(r),
                Some(serde_json::to_vec(r).unwrap().len() as u64)
            );
        }
    }
}
