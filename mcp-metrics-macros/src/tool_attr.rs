//! Reads what an rmcp `#[tool(...)]` attribute on the same function declares: the tool name and
//! the two behaviour hints of its annotations that give the tool's risk class. The rest of the
//! attribute is rmcp's to check; the hints are read as rmcp reads them, and a hint written in a
//! form rmcp would not accept is an error here too, so that the class is never guessed.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Error, Expr, Lit, LitStr, Meta, Token};

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

/// What the tool's definition says of its behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hints {
    /// No `#[tool]` beside the function: the macro does not see the definition.
    Unseen,
    /// The `readOnlyHint` and `destructiveHint` that rmcp builds into the definition (`None` for
    /// a hint left out, and for both when there are no annotations).
    Declared {
        read_only: Option<bool>,
        destructive: Option<bool>,
    },
}

/// The hints of `#[tool(annotations(read_only_hint = .., destructive_hint = ..))]`. rmcp accepts
/// `key = true`, `key = "true"` and a bare `key` (true); anything else, a repeated hint or a
/// repeated or malformed `annotations`, is an error at the offending tokens.
pub(crate) fn rmcp_tool_hints(attrs: &[Attribute]) -> syn::Result<Hints> {
    let Some(attr) = rmcp_tool(attrs) else {
        return Ok(Hints::Unseen);
    };
    let mut hints = Hints::Declared {
        read_only: None,
        destructive: None,
    };
    let Meta::List(list) = &attr.meta else {
        return Ok(hints);
    };
    let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
    let mut seen = false;
    for i in entry_starts(&tokens) {
        match &tokens[i] {
            TokenTree::Ident(key) if key == "annotations" => {}
            _ => continue,
        }
        if std::mem::replace(&mut seen, true) {
            return Err(Error::new(
                tokens[i].span(),
                "`annotations` is given twice: write one `annotations(...)` in `#[tool(...)]`",
            ));
        }
        hints = match tokens.get(i + 1) {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
                hints_in(group.stream())?
            }
            _ => {
                return Err(Error::new(
                    tokens[i].span(),
                    "expected a list of hints: `#[tool(annotations(read_only_hint = true))]`",
                ));
            }
        };
    }
    Ok(hints)
}

/// The two hints among the entries of `annotations(...)`.
fn hints_in(tokens: TokenStream) -> syn::Result<Hints> {
    let entries = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let (mut read_only, mut destructive) = (None, None);
    let mut errors: Option<Error> = None;
    for entry in &entries {
        let path = entry.path();
        let (slot, key) = if path.is_ident("read_only_hint") {
            (&mut read_only, "read_only_hint")
        } else if path.is_ident("destructive_hint") {
            (&mut destructive, "destructive_hint")
        } else {
            // `title` and the other hints do not change the class; rmcp checks them.
            continue;
        };
        let value = if slot.is_some() {
            Err(Error::new_spanned(
                path,
                format!("`{key}` is given twice in `annotations(...)`"),
            ))
        } else {
            hint_value(entry, key)
        };
        match value {
            Ok(value) => *slot = Some(value),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(Hints::Declared {
            read_only,
            destructive,
        }),
    }
}

/// The value of one hint, in the forms rmcp accepts.
fn hint_value(entry: &Meta, key: &str) -> syn::Result<bool> {
    let expected = || format!("expected `true` or `false`: `annotations({key} = true)`");
    match entry {
        Meta::Path(_) => Ok(true),
        Meta::NameValue(nv) => {
            bool_of(&nv.value).ok_or_else(|| Error::new_spanned(&nv.value, expected()))
        }
        Meta::List(list) => Err(Error::new_spanned(list, expected())),
    }
}

/// `true`, `false`, `"true"` or `"false"`, through the invisible groups of `macro_rules!`.
fn bool_of(value: &Expr) -> Option<bool> {
    match value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Bool(b) => Some(b.value),
            Lit::Str(s) => s.value().parse().ok(),
            _ => None,
        },
        Expr::Group(group) => bool_of(&group.expr),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(attr: TokenStream) -> syn::Result<Hints> {
        let f: syn::ItemFn = syn::parse2(quote::quote!(#attr fn f() {})).unwrap();
        rmcp_tool_hints(&f.attrs)
    }

    fn declared(read_only: Option<bool>, destructive: Option<bool>) -> Hints {
        Hints::Declared {
            read_only,
            destructive,
        }
    }

    #[test]
    fn hints_are_read_in_every_form_rmcp_accepts() {
        use quote::quote;
        let cases = [
            (quote!(#[doc = "x"]), Hints::Unseen),
            (quote!(#[tool]), declared(None, None)),
            (quote!(#[tool(name = "x")]), declared(None, None)),
            (
                quote!(#[rmcp::tool(annotations(read_only_hint = true))]),
                declared(Some(true), None),
            ),
            (
                quote!(#[tool(annotations(read_only_hint))]),
                declared(Some(true), None),
            ),
            (
                quote!(#[tool(name = "x", annotations(title = "T", destructive_hint = "false"))]),
                declared(None, Some(false)),
            ),
            (
                quote!(#[tool(annotations(idempotent_hint, destructive_hint = true, read_only_hint = false))]),
                declared(Some(false), Some(true)),
            ),
            // A `name` or `annotations` inside another entry's value is not the entry's.
            (
                quote!(#[tool(description = "annotations", meta = m(annotations(read_only_hint)))]),
                declared(None, None),
            ),
        ];
        for (attr, expected) in cases {
            assert_eq!(hints(attr.clone()).unwrap(), expected, "{attr}");
        }
    }

    #[test]
    fn misused_hints_are_errors() {
        use quote::quote;
        let cases = [
            (
                quote!(#[tool(annotations(read_only_hint = 1))]),
                "expected `true` or `false`: `annotations(read_only_hint = true)`",
            ),
            (
                quote!(#[tool(annotations(destructive_hint = "maybe"))]),
                "expected `true` or `false`: `annotations(destructive_hint = true)`",
            ),
            (
                quote!(#[tool(annotations(destructive_hint = FLAG))]),
                "expected `true` or `false`: `annotations(destructive_hint = true)`",
            ),
            (
                quote!(#[tool(annotations(read_only_hint(true)))]),
                "expected `true` or `false`: `annotations(read_only_hint = true)`",
            ),
            (
                quote!(#[tool(annotations(read_only_hint, read_only_hint = false))]),
                "`read_only_hint` is given twice in `annotations(...)`",
            ),
            (
                quote!(#[tool(annotations(), annotations(read_only_hint))]),
                "`annotations` is given twice: write one `annotations(...)` in `#[tool(...)]`",
            ),
            (
                quote!(#[tool(annotations = true)]),
                "expected a list of hints: `#[tool(annotations(read_only_hint = true))]`",
            ),
            (
                quote!(#[tool(annotations)]),
                "expected a list of hints: `#[tool(annotations(read_only_hint = true))]`",
            ),
        ];
        for (attr, expected) in cases {
            let err = hints(attr.clone()).expect_err(&attr.to_string());
            assert_eq!(err.to_string(), expected, "{attr}");
        }
    }
}
