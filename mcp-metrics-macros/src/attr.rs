//! Parsing of the `#[mcp_tool(...)]` arguments.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitStr, Token};

pub(crate) mod kw {
    syn::custom_keyword!(metrics);
    syn::custom_keyword!(trace);
    syn::custom_keyword!(name);
    syn::custom_keyword!(args);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(fields);
    syn::custom_keyword!(objective);
    syn::custom_keyword!(success);
    syn::custom_keyword!(latency);
    syn::custom_keyword!(latency_target);
}

/// The arguments as written, each kept with the tokens it came from for error spans.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) metrics: Option<kw::metrics>,
    pub(crate) trace: Option<kw::trace>,
    pub(crate) name: Option<LitStr>,
    pub(crate) args: Option<RecordArgs>,
    pub(crate) skip: Option<(kw::skip, Vec<Ident>)>,
    pub(crate) fields: Option<(kw::fields, Vec<Field>)>,
    pub(crate) objective: Option<Objective>,
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

/// `args` (every named parameter) or `args(a, b)` (only these): parameters recorded on the span.
pub(crate) struct RecordArgs {
    pub(crate) keyword: kw::args,
    /// `None` for a bare `args`.
    pub(crate) only: Option<Vec<Ident>>,
}

/// One `key = value` of `fields(...)`: the key is a dotted name or a string, the value an
/// expression, optionally behind `%` (Display) or `?` (Debug) as in `tracing`.
pub(crate) struct Field {
    pub(crate) key: FieldKey,
    pub(crate) sigil: Option<TokenStream>,
    pub(crate) value: Expr,
}

pub(crate) enum FieldKey {
    Dotted(Punctuated<Ident, Token![.]>),
    Str(LitStr),
}

/// `objective(success = .., latency = .., latency_target = ..)`, values as written.
pub(crate) struct Objective {
    pub(crate) keyword: kw::objective,
    pub(crate) success: Option<Number>,
    pub(crate) latency: Option<Number>,
    pub(crate) latency_target: Option<Number>,
}

/// A number literal with an optional leading minus, kept as written for exact decimal arithmetic.
pub(crate) struct Number {
    /// The tokens, for error spans.
    pub(crate) tokens: TokenStream,
    /// The decimal digits as written, sign included, without `_` separators.
    pub(crate) digits: String,
    pub(crate) value: f64,
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

fn duplicate(span: Span, what: &str, within: &str) -> syn::Error {
    syn::Error::new(span, format!("duplicate `{what}` argument in `{within}`"))
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, what: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(duplicate(span, what, "#[mcp_tool(...)]"));
    }
    *slot = Some(value);
    Ok(())
}

/// `(a, b, ..)`: identifiers, keywords such as `self` included.
fn ident_list(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
        &content,
        syn::ext::IdentExt::parse_any,
    )?;
    Ok(names.into_iter().collect())
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            if input.peek(kw::skip_all) {
                // Not in the lookahead, so that "expected one of" does not suggest it.
                let k: kw::skip_all = input.parse()?;
                return Err(syn::Error::new(
                    k.span,
                    "`skip_all` is the default: no parameter is recorded on the span unless \
                     `args` or `args(a, b)` asks for it; remove `skip_all`",
                ));
            }
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
            } else if lookahead.peek(kw::args) {
                let keyword: kw::args = input.parse()?;
                let only = if input.peek(syn::token::Paren) {
                    Some(ident_list(input)?)
                } else {
                    None
                };
                set_once(
                    &mut args.args,
                    RecordArgs { keyword, only },
                    keyword.span,
                    "args",
                )?;
            } else if lookahead.peek(kw::skip) {
                let k: kw::skip = input.parse()?;
                let names = ident_list(input)?;
                set_once(&mut args.skip, (k, names), k.span, "skip")?;
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
            } else if lookahead.peek(kw::objective) {
                let objective: Objective = input.parse()?;
                let span = objective.keyword.span;
                set_once(&mut args.objective, objective, span, "objective")?;
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

impl Parse for Objective {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword: kw::objective = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let mut objective = Objective {
            keyword,
            success: None,
            latency: None,
            latency_target: None,
        };
        while !content.is_empty() {
            let lookahead = content.lookahead1();
            let (slot, what, span, unit) = if lookahead.peek(kw::success) {
                let k: kw::success = content.parse()?;
                (&mut objective.success, "success", k.span, Unit::Percent)
            } else if lookahead.peek(kw::latency) {
                let k: kw::latency = content.parse()?;
                (&mut objective.latency, "latency", k.span, Unit::Seconds)
            } else if lookahead.peek(kw::latency_target) {
                let k: kw::latency_target = content.parse()?;
                (
                    &mut objective.latency_target,
                    "latency_target",
                    k.span,
                    Unit::Percent,
                )
            } else {
                return Err(lookahead.error());
            };
            content.parse::<Token![=]>()?;
            let number = Number::parse(&content, what, unit)?;
            if slot.is_some() {
                return Err(duplicate(span, what, "objective(...)"));
            }
            *slot = Some(number);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(objective)
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Percent,
    Seconds,
}

impl Number {
    fn parse(input: ParseStream<'_>, key: &str, unit: Unit) -> syn::Result<Self> {
        let example = match unit {
            Unit::Percent => format!("a percentage: `{key} = 99.9`"),
            Unit::Seconds => format!("a number of seconds: `{key} = 0.5`"),
        };
        let minus: Option<Token![-]> = input.parse()?;
        let lit: Lit = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), format!("expected {example}")))?;
        let (digits, suffix) = match &lit {
            Lit::Int(int) => (int.base10_digits().to_owned(), int.suffix().to_owned()),
            Lit::Float(float) => (float.base10_digits().to_owned(), float.suffix().to_owned()),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("expected {example}"),
                ));
            }
        };
        if !suffix.is_empty() {
            return Err(syn::Error::new_spanned(
                &lit,
                format!("expected {example}, without a suffix"),
            ));
        }
        let digits = match minus {
            Some(_) => format!("-{digits}"),
            None => digits,
        };
        let value = digits
            .parse::<f64>()
            .map_err(|_| syn::Error::new_spanned(&lit, format!("expected {example}")))?;
        let mut tokens = minus.to_token_stream();
        lit.to_tokens(&mut tokens);
        Ok(Number {
            tokens,
            digits,
            value,
        })
    }

    /// The value divided by 100, rounded once from the exact decimal (`99.9` → `0.999`, the same
    /// `f64` as the literal `0.999`, where `99.9 / 100.0` would not be).
    pub(crate) fn percent_as_ratio(&self) -> f64 {
        percent_digits_as_ratio(&self.digits)
    }
}

/// Shifts the decimal exponent of a number written in decimal by -2, then parses it.
pub(crate) fn percent_digits_as_ratio(digits: &str) -> f64 {
    let shifted = match digits.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let exponent: i64 = exponent.parse().unwrap_or(0);
            format!("{mantissa}e{}", exponent - 2)
        }
        None => format!("{digits}e-2"),
    };
    shifted.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::percent_digits_as_ratio;

    #[test]
    fn percentages_become_the_ratio_literal_of_the_same_decimal() {
        assert_eq!(percent_digits_as_ratio("99.9"), 0.999);
        assert_eq!(percent_digits_as_ratio("95"), 0.95);
        assert_eq!(percent_digits_as_ratio("99.99"), 0.9999);
        assert_eq!(percent_digits_as_ratio("9.99e1"), 0.999);
        assert_eq!(percent_digits_as_ratio("5E-1"), 0.005);
        // what plain division would give instead
        assert_ne!(99.9 / 100.0, 0.999);
    }
}
