//! The annotated function, kept as the original syn nodes so that errors point at user tokens.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Attribute, Block, FnArg, Ident, Pat, Signature, Visibility};

pub(crate) struct ToolFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) block: Box<Block>,
}

impl ToolFn {
    pub(crate) fn parse(item: TokenStream) -> syn::Result<Self> {
        match syn::parse2::<syn::ItemFn>(item.clone()) {
            Ok(f) => Ok(ToolFn {
                attrs: f.attrs,
                vis: f.vis,
                sig: f.sig,
                block: f.block,
            }),
            Err(_) => {
                let span = match syn::parse2::<syn::Item>(item.clone()) {
                    Ok(item) => item.span(),
                    Err(_) => item.span(),
                };
                Err(syn::Error::new(
                    span,
                    "`#[mcp_tool]` applies to a function with a body, such as `fn my_tool(..) -> .. { .. }`",
                ))
            }
        }
    }

    /// Parameters bound to a plain name (`x: T`, `mut x: T`), in order, `self` excluded.
    pub(crate) fn named_params(&self) -> impl Iterator<Item = &Ident> {
        self.sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(pat) => match &*pat.pat {
                Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
    }

    /// Whether the function takes `self` in any form.
    pub(crate) fn has_receiver(&self) -> bool {
        self.sig.receiver().is_some()
    }
}
