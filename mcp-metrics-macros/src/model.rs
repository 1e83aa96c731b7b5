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

    /// Every name the parameters bind, in order, `self` excluded: plain parameters (`x: T`,
    /// `mut x: T`) and the names inside destructuring patterns (`Parameters(Req { city, .. }):
    /// Parameters<Req>` binds `city`). All of them are in scope before the body runs.
    pub(crate) fn bound_names(&self) -> Vec<&Ident> {
        let mut names = Vec::new();
        for arg in &self.sig.inputs {
            if let FnArg::Typed(pat) = arg {
                bindings(&pat.pat, &mut names);
            }
        }
        names
    }
}

/// Collects the names a pattern binds.
fn bindings<'a>(pat: &'a Pat, out: &mut Vec<&'a Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(&p.ident);
            if let Some((_, sub)) = &p.subpat {
                bindings(sub, out);
            }
        }
        Pat::Struct(p) => p.fields.iter().for_each(|f| bindings(&f.pat, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Tuple(p) => p.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Reference(p) => bindings(&p.pat, out),
        Pat::Paren(p) => bindings(&p.pat, out),
        Pat::Type(p) => bindings(&p.pat, out),
        // Every alternative binds the same names.
        Pat::Or(p) => {
            if let Some(first) = p.cases.first() {
                bindings(first, out);
            }
        }
        _ => {}
    }
}
