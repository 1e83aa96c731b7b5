//! Parsing of the `#[mcp_tool(...)]` arguments.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

mod kw {
    syn::custom_keyword!(metrics);
    syn::custom_keyword!(trace);
    syn::custom_keyword!(name);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(fields);
}

/// The arguments as written, each kept with the tokens it came from for error spans.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) metrics: Option<kw::metrics>,
    pub(crate) trace: Option<kw::trace>,
    pub(crate) name: Option<LitStr>,
    pub(crate) skip: Option<(kw::skip, Vec<Ident>)>,
    pub(crate) skip_all: Option<kw::skip_all>,
    pub(crate) fields: Option<(kw::fields, Vec<Field>)>,
}

impl Args {
    /// Neither `metrics` nor `trace` written means both.
    pub(crate) fn wants_metrics(&self) -> bool {
        self.metrics.is_some() || self.trace.is_none()
    }

    /// Neither `metrics` nor `trace` written means both.
    pub(crate) fn wants_trace(&self) -> bool {
        self.trace.is_some() || self.metrics.is_none()
    }
}

/// One `key = value` of `fields(...)`: the key is a dotted name or a string, the value an
/// expression, optionally behind `%` (Display) or `?` (Debug) as in `tracing`.
pub(crate) struct Field {
    pub(crate) key: FieldKey,
    pub(crate) sigil: Option<proc_macro2::TokenStream>,
    pub(crate) value: Expr,
}

pub(crate) enum FieldKey {
    Dotted(Punctuated<Ident, Token![.]>),
    Str(LitStr),
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = if input.peek(LitStr) {
            FieldKey::Str(input.parse()?)
        } else {
            FieldKey::Dotted(Punctuated::parse_separated_nonempty_with(
                input,
                syn::ext::IdentExt::parse_any,
            )?)
        };
        input.parse::<Token![=]>()?;
        let sigil = if input.peek(Token![%]) {
            let t: Token![%] = input.parse()?;
            Some(quote::quote!(#t))
        } else if input.peek(Token![?]) {
            let t: Token![?] = input.parse()?;
            Some(quote::quote!(#t))
        } else {
            None
        };
        let value = input.parse()?;
        Ok(Field { key, sigil, value })
    }
}

fn duplicate(span: Span, what: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!("duplicate `{what}` argument in `#[mcp_tool(...)]`"),
    )
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, what: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(duplicate(span, what));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::metrics) {
                let k: kw::metrics = input.parse()?;
                set_once(&mut args.metrics, k, k.span, "metrics")?;
            } else if lookahead.peek(kw::trace) {
                let k: kw::trace = input.parse()?;
                set_once(&mut args.trace, k, k.span, "trace")?;
            } else if lookahead.peek(kw::name) {
                let k: kw::name = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected a string literal: `#[mcp_tool(name = \"my_tool\")]`",
                    )
                })?;
                set_once(&mut args.name, value, k.span, "name")?;
            } else if lookahead.peek(kw::skip_all) {
                let k: kw::skip_all = input.parse()?;
                set_once(&mut args.skip_all, k, k.span, "skip_all")?;
            } else if lookahead.peek(kw::skip) {
                let k: kw::skip = input.parse()?;
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &content,
                    syn::ext::IdentExt::parse_any,
                )?;
                set_once(
                    &mut args.skip,
                    (k, names.into_iter().collect()),
                    k.span,
                    "skip",
                )?;
            } else if lookahead.peek(kw::fields) {
                let k: kw::fields = input.parse()?;
                let content;
                syn::parenthesized!(content in input);
                let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
                set_once(
                    &mut args.fields,
                    (k, fields.into_iter().collect()),
                    k.span,
                    "fields",
                )?;
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
