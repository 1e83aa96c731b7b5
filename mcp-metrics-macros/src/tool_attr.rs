//! Reads the tool name from an rmcp `#[tool(name = "...")]` attribute on the same function.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Attribute, LitStr, Meta};

/// The `name = "..."` of a `#[tool(...)]` (or `#[rmcp::tool(...)]`) attribute, if any.
pub(crate) fn rmcp_tool_name(attrs: &[Attribute]) -> Option<LitStr> {
    attrs.iter().find_map(|attr| {
        let is_tool = attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "tool");
        match &attr.meta {
            Meta::List(list) if is_tool => name_in(list.tokens.clone()),
            _ => None,
        }
    })
}

/// Finds `name = "..."` among the top-level comma-separated entries of the attribute's arguments,
/// without interpreting the other entries (their syntax belongs to rmcp).
fn name_in(tokens: TokenStream) -> Option<LitStr> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut at_entry_start = true;
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Ident(ident) if at_entry_start && ident == "name" => {
                if let (Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(lit))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                    && eq.as_char() == '='
                {
                    return syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()).ok();
                }
                at_entry_start = false;
            }
            TokenTree::Punct(p) if p.as_char() == ',' => at_entry_start = true,
            _ => at_entry_start = false,
        }
    }
    None
}
