//! `#[derive(ErrorKind)]`: the error kind of an enum is its variant name in snake_case,
//! of a struct its type name in snake_case; `#[error_kind("...")]` on a variant or the type overrides it.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

pub(crate) fn error_kind(input: TokenStream) -> TokenStream {
    match try_derive(input) {
        Ok(tokens) => tokens,
        Err(err) => err.into_compile_error(),
    }
}

fn try_derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Enum(data) => {
            if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("error_kind")) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "on an enum, put `#[error_kind(\"...\")]` on the variants, not on the enum",
                ));
            }
            let arms = data
                .variants
                .iter()
                .map(|v| {
                    let kind = kind_of(&v.attrs, &v.ident.to_string())?;
                    let vi = &v.ident;
                    let pat = match &v.fields {
                        Fields::Named(_) => quote!(Self::#vi { .. }),
                        Fields::Unnamed(_) => quote!(Self::#vi(..)),
                        Fields::Unit => quote!(Self::#vi),
                    };
                    Ok(quote!(#pat => #kind,))
                })
                .collect::<syn::Result<Vec<_>>>()?;
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Struct(_) => {
            let kind = kind_of(&input.attrs, &ident.to_string())?;
            quote!(#kind)
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(ErrorKind)]` supports enums and structs, not unions",
            ));
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::mcp_metrics::ErrorKind for #ident #ty_generics #where_clause {
            fn error_kind(&self) -> &'static str {
                #body
            }
        }
    })
}

/// The kind from `#[error_kind("...")]`, else the snake_case of `default`.
fn kind_of(attrs: &[Attribute], default: &str) -> syn::Result<LitStr> {
    let mut found: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_kind")) {
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "duplicate `#[error_kind(...)]` attribute",
            ));
        }
        let lit: LitStr = attr.parse_args().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a string literal: `#[error_kind(\"not_found\")]`",
            )
        })?;
        if lit.value().is_empty() {
            return Err(syn::Error::new_spanned(
                &lit,
                "the error kind must not be empty",
            ));
        }
        found = Some(lit);
    }
    Ok(found.unwrap_or_else(|| {
        let name = default.strip_prefix("r#").unwrap_or(default);
        LitStr::new(&name.to_snake_case(), proc_macro2::Span::call_site())
    }))
}
