//! Context cost: the serialised size of tool results and of the tool catalogue, and the number of
//! content blocks per result.
//!
//! Sizes are measured by serialising into a writer that only counts bytes, so nothing is
//! allocated and no JSON text is kept; the transport serialises the response once more when it
//! sends it (rmcp does not expose the encoded length of a response).

#[cfg(feature = "metrics")]
use super::json_len::json_len;

/// Records `mcp_tool_result_bytes{tool}` and `mcp_tool_result_content_blocks{tool}` for a
/// completed tool result.
#[cfg(feature = "metrics")]
pub(crate) fn record_tool_result(tool: &'static str, result: &rmcp::model::CallToolResult) {
    let Some(bytes) = json_len(result) else {
        return;
    };
    let key = instruments::One(label::TOOL, Str(tool));
    instruments::RESULT_BYTES.with(key, |h| h.record_plain(bytes as f64));
    instruments::RESULT_BLOCKS.with(key, |h| h.record_plain(result.content.len() as f64));
}

/// Sets `mcp_tools_list_bytes` and `mcp_registered_tools` from a complete `tools/list` answer.
#[cfg(feature = "metrics")]
pub(crate) fn record_tools_list(list: &rmcp::model::ListToolsResult) {
    if let Some(bytes) = json_len(list) {
        instruments::TOOLS_LIST_BYTES.with((), |g| g.set(bytes as f64));
    }
    set_registered_tools(list.tools.len());
}

/// Sets `mcp_registered_tools`.
#[cfg(feature = "metrics")]
pub(crate) fn set_registered_tools(count: usize) {
    instruments::REGISTERED_TOOLS.with((), |g| g.set(count as f64));
}

/// Records `mcp_server_request_bytes{method}` from an HTTP request's `Content-Length`.
#[cfg(feature = "metrics")]
pub(crate) fn record_request(method: &'static str, bytes: Option<u64>) {
    if let Some(bytes) = bytes {
        instruments::REQUEST_BYTES.with(instruments::One(label::METHOD, Str(method)), |h| {
            h.record_plain(bytes as f64)
        });
    }
}

#[cfg(feature = "metrics")]
use crate::{catalog::label, record::Str};

#[cfg(feature = "metrics")]
mod instruments {
    use crate::catalog;
    pub(super) use crate::record::family::One;
    use crate::record::{Family, GaugeHandle, HistogramHandle};

    pub(super) static RESULT_BYTES: Family<One, HistogramHandle> =
        Family::new(&catalog::TOOL_RESULT_BYTES);
    pub(super) static RESULT_BLOCKS: Family<One, HistogramHandle> =
        Family::new(&catalog::TOOL_RESULT_CONTENT_BLOCKS);
    pub(super) static REQUEST_BYTES: Family<One, HistogramHandle> =
        Family::new(&catalog::SERVER_REQUEST_BYTES);
    pub(super) static TOOLS_LIST_BYTES: Family<(), GaugeHandle> =
        Family::new(&catalog::TOOLS_LIST_BYTES);
    pub(super) static REGISTERED_TOOLS: Family<(), GaugeHandle> =
        Family::new(&catalog::REGISTERED_TOOLS);
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
