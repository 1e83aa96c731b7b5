//! Procedural macros of [`mcp-metrics`](https://docs.rs/mcp-metrics).
//!
//! Depend on `mcp-metrics` and use the macros through its re-exports; the code these macros generate
//! names `::mcp_metrics` paths and does not work without it.

mod attr;
mod derive;
mod expand;
mod model;
mod tool_attr;
mod valid;

use proc_macro::TokenStream;

/// Counts, times and traces a tool function. See `mcp_metrics::mcp_tool` for the documentation.
#[proc_macro_attribute]
pub fn mcp_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::mcp_tool(args.into(), item.into()).into()
}

/// Implements `mcp_metrics::ErrorKind`. See `mcp_metrics::ErrorKind` for the documentation.
#[proc_macro_derive(ErrorKind, attributes(error_kind))]
pub fn derive_error_kind(input: TokenStream) -> TokenStream {
    derive::error_kind(input.into()).into()
}
