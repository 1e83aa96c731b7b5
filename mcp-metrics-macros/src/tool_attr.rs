//! Reads what an rmcp `#[tool(...)]` attribute on the same function declares: the tool name and
//! the behaviour hints of its annotations.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Attribute, LitStr, Meta};

/// The rmcp `#[tool]` (or `#[rmcp::tool(...)]`) attribute, if any.
fn rmcp_tool(attrs: &[Attribute]) -> Option<&Attribute> {
    attrs.iter().find(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "tool")
    })
}

/// The `name = "..."` of a `#[tool(...)]` (or `#[rmcp::tool(...)]`) attribute, if any.
pub(crate) fn rmcp_tool_name(attrs: &[Attribute]) -> Option<LitStr> {
    match &rmcp_tool(attrs)?.meta {
        Meta::List(list) => name_in(list.tokens.clone()),
        _ => None,
    }
}

/// The `readOnlyHint` and `destructiveHint` that rmcp builds into the tool's definition from
/// `#[tool(annotations(read_only_hint = .., destructive_hint = ..))]` (`None` for a hint left
/// out); `None` when the function has no `#[tool]` attribute, so its definition is unseen.
pub(crate) fn rmcp_tool_hints(attrs: &[Attribute]) -> Option<(Option<bool>, Option<bool>)> {
    let Meta::List(list) = &rmcp_tool(attrs)?.meta else {
        return Some((None, None));
    };
    let annotations = group_in(list.tokens.clone(), "annotations");
    let hint = |key| {
        annotations
            .clone()
            .and_then(|tokens| value_in(tokens, key))
            .and_then(|value| match value {
                TokenTree::Ident(b) if b == "true" => Some(true),
                TokenTree::Ident(b) if b == "false" => Some(false),
                _ => None,
            })
    };
    Some((hint("read_only_hint"), hint("destructive_hint")))
}

/// The tokens of `key(...)` among the top-level entries.
fn group_in(tokens: TokenStream, key: &str) -> Option<TokenStream> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    entry_starts(&tokens).find_map(|i| match (&tokens[i], tokens.get(i + 1)) {
        (TokenTree::Ident(ident), Some(TokenTree::Group(group))) if ident == key => {
            Some(group.stream())
        }
        _ => None,
    })
}

/// The single token after `key =` among the top-level entries.
fn value_in(tokens: TokenStream, key: &str) -> Option<TokenTree> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    entry_starts(&tokens).find_map(|i| match (&tokens[i], tokens.get(i + 1)) {
        (TokenTree::Ident(ident), Some(TokenTree::Punct(eq)))
            if ident == key && eq.as_char() == '=' =>
        {
            tokens.get(i + 2).cloned()
        }
        _ => None,
    })
}

/// The index of the first token of each comma-separated entry.
fn entry_starts(tokens: &[TokenTree]) -> impl Iterator<Item = usize> + '_ {
    (0..tokens.len())
        .filter(|&i| i == 0 || matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ','))
}

/// Finds `name = "..."` among the top-level comma-separated entries of the attribute's arguments,
/// without interpreting the other entries (their syntax belongs to rmcp).
fn name_in(tokens: TokenStream) -> Option<LitStr> {
    match value_in(tokens, "name")? {
        lit @ TokenTree::Literal(_) => syn::parse2::<LitStr>(lit.into()).ok(),
        _ => None,
    }
}
