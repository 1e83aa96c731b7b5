//! `#[derive(ErrorKind)]`: the error kind of an enum is its variant name in snake_case, of a struct
//! its type name in snake_case; `#[error_kind("...")]` on a variant or the struct overrides it, and
//! `#[error_kind(caller)]` makes it the caller's fault. On a mistake the derive still emits an impl
//! beside the error, so that the uses of the type do not fail too.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::ParseStream;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr};

mod kw {
    syn::custom_keyword!(caller);
}

pub(crate) fn error_kind(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.into_compile_error(),
    };
    match try_derive(&input) {
        Ok(tokens) => tokens,
        Err(err) => {
            let err = err.into_compile_error();
            let fallback = fallback(&input);
            quote!(#err #fallback)
        }
    }
}

/// The impl emitted beside a compile error: the type still implements the trait, so the only
/// error shown is the one in the derive.
fn fallback(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::mcp_metrics::ErrorKind for #ident #ty_generics #where_clause {
            fn error_kind(&self) -> &'static str {
                ::core::unreachable!()
            }
        }
    }
}

/// What `#[error_kind(...)]` attributes on one variant or struct say.
struct Options {
    kind: LitStr,
    caller: bool,
}

/// Errors of every variant, combined, so that one build shows them all.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

fn try_derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let fault = |caller: bool| {
        if caller {
            quote!(::mcp_metrics::Fault::Client)
        } else {
            quote!(::mcp_metrics::Fault::Server)
        }
    };
    let (kind_body, fault_body) = match &input.data {
        Data::Enum(data) => {
            if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("error_kind")) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "on an enum, put `#[error_kind(..)]` on the variants, not on the enum",
                ));
            }
            let mut errors = Errors::default();
            let mut kind_arms = Vec::new();
            let mut fault_arms = Vec::new();
            let mut any_caller = false;
            for v in &data.variants {
                let options = match options_of(&v.attrs, &v.ident) {
                    Ok(options) => options,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let vi = &v.ident;
                let pat = match &v.fields {
                    Fields::Named(_) => quote!(Self::#vi { .. }),
                    Fields::Unnamed(_) => quote!(Self::#vi(..)),
                    Fields::Unit => quote!(Self::#vi),
                };
                let kind = &options.kind;
                kind_arms.push(quote!(#pat => #kind,));
                let fault = fault(options.caller);
                fault_arms.push(quote!(#pat => #fault,));
                any_caller |= options.caller;
            }
            if let Some(err) = errors.0 {
                return Err(err);
            }
            if data.variants.is_empty() {
                (quote!(match *self {}), None)
            } else {
                let fault_body = any_caller.then(|| quote!(match self { #(#fault_arms)* }));
                (quote!(match self { #(#kind_arms)* }), fault_body)
            }
        }
        Data::Struct(_) => {
            let options = options_of(&input.attrs, ident)?;
            let kind = options.kind;
            (quote!(#kind), options.caller.then(|| fault(true)))
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(ErrorKind)]` supports enums and structs, not unions",
            ));
        }
    };
    let fault_fn = fault_body.map(|body| {
        quote! {
            fn fault(&self) -> ::mcp_metrics::Fault {
                #body
            }
        }
    });
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::mcp_metrics::ErrorKind for #ident #ty_generics #where_clause {
            fn error_kind(&self) -> &'static str {
                #kind_body
            }
            #fault_fn
        }
    })
}

/// The options of the `#[error_kind(...)]` attributes of one variant or struct named `ident`: the
/// kind (a string, else `ident` in snake_case) and `caller`.
fn options_of(attrs: &[Attribute], ident: &Ident) -> syn::Result<Options> {
    let mut kind: Option<LitStr> = None;
    let mut caller: Option<kw::caller> = None;
    let mut errors = Errors::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_kind")) {
        let parsed = attr
            .parse_args_with(|input: ParseStream<'_>| parse_options(input, &mut kind, &mut caller));
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    if let Some(err) = errors.0 {
        return Err(err);
    }
    let kind = kind.unwrap_or_else(|| {
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        LitStr::new(&name.to_snake_case(), proc_macro2::Span::call_site())
    });
    Ok(Options {
        kind,
        caller: caller.is_some(),
    })
}

/// `"kind"`, `caller`, or both, in any order, each at most once.
fn parse_options(
    input: ParseStream<'_>,
    kind: &mut Option<LitStr>,
    caller: &mut Option<kw::caller>,
) -> syn::Result<()> {
    if input.is_empty() {
        return Err(syn::Error::new(
            input.span(),
            "expected the kind, `caller`, or both: `#[error_kind(\"not_found\", caller)]`",
        ));
    }
    while !input.is_empty() {
        let lookahead = input.lookahead1();
        if lookahead.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if kind.is_some() {
                return Err(syn::Error::new_spanned(
                    &lit,
                    "duplicate error kind: give one string per variant",
                ));
            }
            if lit.value().is_empty() {
                return Err(syn::Error::new_spanned(
                    &lit,
                    "the error kind must not be empty",
                ));
            }
            *kind = Some(lit);
        } else if lookahead.peek(kw::caller) {
            let k: kw::caller = input.parse()?;
            if caller.is_some() {
                return Err(syn::Error::new(
                    k.span,
                    "duplicate `caller` in `#[error_kind(...)]`",
                ));
            }
            *caller = Some(k);
        } else if input.peek(Ident) {
            let other: Ident = input.parse()?;
            return Err(syn::Error::new_spanned(
                &other,
                format!(
                    "unknown option `{other}`: write the kind as a string, \
                     `#[error_kind(\"{other}\")]`, or mark the caller's fault with `caller`"
                ),
            ));
        } else {
            return Err(lookahead.error());
        }
        if input.is_empty() {
            break;
        }
        input.parse::<syn::Token![,]>()?;
    }
    Ok(())
}
