//! Generation of the instrumented function.

use crate::attr::{Args, Field, FieldKey};
use crate::model::ToolFn;
use crate::tool_attr::{self, Hints};
use crate::valid;
use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::{LitStr, ReturnType};

/// Entry point: one error path, and on error the function is emitted unchanged beside the error.
pub(crate) fn mcp_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    let built_with = Features {
        metrics: cfg!(feature = "metrics"),
        trace: cfg!(feature = "trace"),
    };
    expand_with(args, item, built_with)
}

/// `::core::option::Option::Some(value)` or `None`, as tokens.
fn option(value: Option<bool>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// What the facade was built with.
#[derive(Clone, Copy)]
pub(crate) struct Features {
    pub(crate) metrics: bool,
    pub(crate) trace: bool,
}

pub(crate) fn expand_with(args: TokenStream, item: TokenStream, features: Features) -> TokenStream {
    match try_expand(args, item.clone(), features) {
        Ok(tokens) => tokens,
        Err(err) => {
            let err = err.into_compile_error();
            quote!(#err #item)
        }
    }
}

fn try_expand(
    args: TokenStream,
    item: TokenStream,
    features: Features,
) -> syn::Result<TokenStream> {
    let f = ToolFn::parse(item)?;
    let args: Args = syn::parse2(args)?;
    // Checked whatever the features, so that a build with metrics compiled out accepts and
    // refuses the same code.
    let hints = match (
        valid::check(&args, &f),
        tool_attr::rmcp_tool_hints(&f.attrs),
    ) {
        (Ok(()), Ok(hints)) => hints,
        (Err(mut errors), Err(more)) => {
            errors.combine(more);
            return Err(errors);
        }
        (Err(errors), Ok(_)) | (Ok(()), Err(errors)) => return Err(errors),
    };
    let metrics = features.metrics && args.wants_metrics();
    let trace = features.trace && args.wants_trace();
    if !metrics && !trace {
        return Ok(f.into_tokens_unchanged());
    }
    let name = args
        .name
        .clone()
        .or_else(|| tool_attr::rmcp_tool_name(&f.attrs))
        .unwrap_or_else(|| LitStr::new(&f.sig.ident.unraw_string(), f.sig.ident.span()));
    let plan = Plan {
        args: &args,
        f: &f,
        name,
        hints,
        metrics,
        trace,
    };
    Ok(plan.emit())
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for syn::Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}

impl ToolFn {
    fn into_tokens_unchanged(self) -> TokenStream {
        let ToolFn {
            attrs,
            vis,
            sig,
            block,
        } = self;
        quote!(#(#attrs)* #vis #sig #block)
    }
}

struct Plan<'a> {
    args: &'a Args,
    f: &'a ToolFn,
    name: LitStr,
    /// The behaviour hints of the rmcp `#[tool]` beside the function: its risk class.
    hints: Hints,
    metrics: bool,
    trace: bool,
}

impl Plan<'_> {
    fn emit(&self) -> TokenStream {
        let ToolFn {
            attrs,
            vis,
            sig,
            block,
        } = self.f;
        let site = self.site();
        let guard = self.guard();
        let ret_ty = self.nameable_return_type();
        let body = if sig.asyncness.is_some() {
            let future = match &ret_ty {
                Some(ty) => {
                    quote!(::mcp_metrics::__private::typed_future::<#ty, _>(async move #block))
                }
                None => quote!(async move #block),
            };
            let param = match &ret_ty {
                Some(ty) => quote!(__mcp_ret: &#ty),
                None => quote!(__mcp_ret),
            };
            quote! {
                #site
                let __mcp_guard = #guard;
                let __mcp_future = ::core::pin::pin!(#future);
                ::mcp_metrics::__private::InstrumentedFuture::new(
                    __mcp_future,
                    __mcp_guard,
                    |#param| ::mcp_metrics::__private::classify!(__mcp_ret),
                )
                .await
            }
        } else {
            let (annotation, arrow) = match &ret_ty {
                Some(ty) => (quote!(: #ty), quote!(-> #ty)),
                None => (quote!(), quote!()),
            };
            let enter = if self.trace {
                quote!(let __mcp_entered = __mcp_guard.span().enter();)
            } else {
                quote!()
            };
            quote! {
                #site
                let __mcp_guard = #guard;
                let __mcp_ret #annotation = {
                    #enter
                    ::mcp_metrics::__private::call_once(move || #arrow #block)
                };
                __mcp_guard.finish(::mcp_metrics::__private::classify!(&__mcp_ret));
                __mcp_ret
            }
        };
        // The outer braces keep the span of the user's braces, so that the item still counts as the
        // user's own code for lints such as `dead_code`.
        let mut braced = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, body);
        braced.set_span(block.brace_token.span.join());
        quote! {
            #(#attrs)*
            #vis #sig #braced
        }
    }

    /// The per-call-site static holding the cached metric handles, the tool's name in the
    /// distributed slice of known tool names (so that the request layer labels it from start-up
    /// on), and the declared objective.
    fn site(&self) -> TokenStream {
        if !self.metrics {
            return quote!();
        }
        let name = &self.name;
        let objective = self.objective();
        let site = match self.hints {
            Hints::Declared {
                read_only,
                destructive,
            } => {
                let (read_only, destructive) = (option(read_only), option(destructive));
                quote! {
                    ::mcp_metrics::__private::CallSite::with_risk(
                        #name,
                        ::mcp_metrics::__private::Risk::from_hints(#read_only, #destructive),
                    )
                }
            }
            Hints::Unseen => quote!(::mcp_metrics::__private::CallSite::new(#name)),
        };
        quote! {
            static __MCP_SITE: ::mcp_metrics::__private::CallSite = #site;
            #[::mcp_metrics::__private::linkme::distributed_slice(::mcp_metrics::__private::TOOL_NAMES)]
            #[linkme(crate = ::mcp_metrics::__private::linkme)]
            static __MCP_TOOL_NAME: &str = #name;
            #objective
        }
    }

    /// The objective as an element of the distributed slice that `mcp_metrics::objectives()`
    /// reads: present at start-up, before any call. Values were checked by `valid`.
    fn objective(&self) -> TokenStream {
        let Some(objective) = &self.args.objective else {
            return quote!();
        };
        let name = &self.name;
        let none = quote!(::core::option::Option::None);
        let success = match &objective.success {
            Some(target) => {
                let ratio = Literal::f64_unsuffixed(target.percent_as_ratio());
                quote!(::core::option::Option::Some(#ratio))
            }
            None => none.clone(),
        };
        let latency = match (&objective.latency, &objective.latency_target) {
            (Some(threshold), Some(target)) => {
                let seconds = Literal::f64_unsuffixed(threshold.value);
                let ratio = Literal::f64_unsuffixed(target.percent_as_ratio());
                quote!(::core::option::Option::Some((#seconds, #ratio)))
            }
            _ => none,
        };
        quote! {
            #[::mcp_metrics::__private::linkme::distributed_slice(::mcp_metrics::__private::OBJECTIVES)]
            #[linkme(crate = ::mcp_metrics::__private::linkme)]
            static __MCP_OBJECTIVE: ::mcp_metrics::Objective =
                ::mcp_metrics::__private::declared_objective(#name, #success, #latency);
        }
    }

    fn guard(&self) -> TokenStream {
        let span = self.span();
        match (self.metrics, self.trace) {
            (true, true) => quote!(::mcp_metrics::__private::Guard::both(&__MCP_SITE, #span)),
            (true, false) => quote!(::mcp_metrics::__private::Guard::metrics(&__MCP_SITE)),
            _ => quote!(::mcp_metrics::__private::Guard::trace(#span)),
        }
    }

    /// The tool execution span of the OpenTelemetry GenAI conventions: `execute_tool {tool}`, kind
    /// INTERNAL, inside the server span `tools/call {tool}` of the request. What only the request
    /// knows (`mcp.method.name`, the JSON-RPC id, the session) stays on the server span.
    fn span(&self) -> TokenStream {
        if !self.trace {
            return quote!();
        }
        let name = &self.name;
        let span_name = LitStr::new(&format!("execute_tool {}", name.value()), name.span());
        let params = self.recorded_params().into_iter().map(|ident| {
            let key = LitStr::new(&ident.unraw_string(), ident.span());
            // Through `&dyn Debug`, so that a parameter without `Debug` is one error, at its name.
            quote_spanned! {ident.span()=>
                #key = ::mcp_metrics::__private::tracing::field::debug({
                    let __mcp_arg: &dyn ::core::fmt::Debug = &#ident;
                    __mcp_arg
                }),
            }
        });
        let fields = self.user_fields();
        quote! {
            ::mcp_metrics::__private::tracing::span!(
                target: ::core::module_path!(),
                ::mcp_metrics::__private::tracing::Level::INFO,
                #span_name,
                otel.kind = "internal",
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.name = #name,
                gen_ai.tool.type = "function",
                error.type = ::mcp_metrics::__private::tracing::field::Empty,
                otel.status_code = ::mcp_metrics::__private::tracing::field::Empty,
                #(#params)*
                #fields
            )
        }
    }

    /// Parameters recorded on the span with `Debug`: none unless `args` asks. `args(a, b)` names
    /// them; a bare `args` takes every name the parameters bind, minus `skip(..)`.
    fn recorded_params(&self) -> Vec<&syn::Ident> {
        let Some(record) = &self.args.args else {
            return Vec::new();
        };
        if let Some(only) = &record.only {
            return only.iter().collect();
        }
        let skipped: &[syn::Ident] = self.args.skip.as_ref().map_or(&[], |(_, v)| v);
        self.f
            .bound_names()
            .into_iter()
            .filter(|p| !skipped.contains(p))
            .collect()
    }

    fn user_fields(&self) -> TokenStream {
        let Some((_, fields)) = &self.args.fields else {
            return quote!();
        };
        let fields = fields.iter().map(|Field { key, sigil, value }| {
            let key = match key {
                FieldKey::Dotted(path) => path.to_token_stream(),
                FieldKey::Str(lit) => lit.to_token_stream(),
            };
            quote_spanned!(value_span(value)=> #key = #sigil #value,)
        });
        quote!(#(#fields)*)
    }

    /// The declared return type when it can be written in the body (no `impl Trait` in it).
    fn nameable_return_type(&self) -> Option<TokenStream> {
        match &self.f.sig.output {
            ReturnType::Default => Some(quote!(())),
            ReturnType::Type(_, ty) => {
                let tokens = ty.to_token_stream();
                (!mentions_impl(tokens.clone())).then_some(tokens)
            }
        }
    }
}

fn value_span(value: &syn::Expr) -> Span {
    syn::spanned::Spanned::span(value)
}

fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::{Features, expand_with};
    use proc_macro2::TokenStream;
    use quote::quote;

    const OFF: Features = Features {
        metrics: false,
        trace: false,
    };

    #[test]
    fn compiled_out_emits_the_function_unchanged() {
        let item = quote! {
            /// Docs.
            #[tool(name = "x", annotations(read_only_hint = true))]
            pub async fn tool<T: Clone>(&self, a: T) -> Result<T, E> where T: Send { let b = a?; Ok(b) }
        };
        for args in [
            quote!(),
            quote!(metrics),
            quote!(trace, name = "y", args, skip(a)),
            quote!(objective(
                success = 99.9,
                latency = 0.5,
                latency_target = 95
            )),
            quote!(metrics, name = "y", objective(success = 99)),
        ] {
            let out = expand_with(args, item.clone(), OFF);
            assert_eq!(out.to_string(), item.to_string());
        }
    }

    #[test]
    fn only_the_enabled_half_is_emitted() {
        let item = quote!(
            fn tool() -> u8 {
                1
            }
        );
        let metrics_only = expand_with(
            quote!(),
            item.clone(),
            Features {
                metrics: true,
                trace: false,
            },
        )
        .to_string();
        assert!(
            metrics_only.contains("CallSite") && !metrics_only.contains("tracing"),
            "{metrics_only}"
        );
        let trace_only = expand_with(
            quote!(),
            item.clone(),
            Features {
                metrics: false,
                trace: true,
            },
        )
        .to_string();
        assert!(
            !trace_only.contains("CallSite") && trace_only.contains("tracing"),
            "{trace_only}"
        );
        let metrics_arg_trace_feature = expand_with(
            quote!(metrics),
            item,
            Features {
                metrics: false,
                trace: true,
            },
        );
        assert!(!metrics_arg_trace_feature.to_string().contains("Guard"));
    }

    const BOTH: Features = Features {
        metrics: true,
        trace: true,
    };

    fn expand(args: TokenStream, item: TokenStream) -> String {
        let out = expand_with(args, item, BOTH).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        out
    }

    #[test]
    fn no_parameter_is_recorded_by_default() {
        let item = quote! {
            async fn tool(api_key: Secret, Parameters(Req { city }): Parameters<Req>) -> u8 { 1 }
        };
        let out = expand(quote!(), item.clone());
        assert!(out.contains("tracing :: span !"), "{out}");
        for absent in [
            "field :: debug",
            "\"api_key\"",
            "\"city\"",
            "& api_key",
            "& city",
        ] {
            assert!(!out.contains(absent), "{absent} in {out}");
        }
        let opted_in = expand(quote!(args(city)), item);
        assert!(
            opted_in.contains(
                "\"city\" = :: mcp_metrics :: __private :: tracing :: field :: debug \
                 ({ let __mcp_arg : & dyn :: core :: fmt :: Debug = & city ; __mcp_arg })"
            ),
            "{opted_in}"
        );
        assert!(!opted_in.contains("api_key ="), "{opted_in}");
    }

    #[test]
    fn the_site_carries_the_hints_of_the_rmcp_attribute() {
        let site = |attr: TokenStream| {
            let out = expand(quote!(metrics), quote!(#attr fn tool() {}));
            let start = out.find("static __MCP_SITE").expect("a site");
            out[start..out[start..].find(';').unwrap() + start]
                .trim_end()
                .to_owned()
        };
        assert_eq!(
            site(quote!()),
            "static __MCP_SITE : :: mcp_metrics :: __private :: CallSite = \
             :: mcp_metrics :: __private :: CallSite :: new (\"tool\")"
        );
        let risk = |attr| {
            let site = site(attr);
            let start = site.find("from_hints").expect("hints");
            site[start..].to_owned()
        };
        assert_eq!(
            risk(quote!(#[tool])),
            "from_hints (:: core :: option :: Option :: None , :: core :: option :: Option :: None) ,)"
        );
        assert_eq!(
            risk(quote!(#[rmcp::tool(annotations(read_only_hint, destructive_hint = "false"))])),
            "from_hints (:: core :: option :: Option :: Some (true) , \
             :: core :: option :: Option :: Some (false)) ,)"
        );
    }

    #[test]
    fn misused_hints_are_errors_whatever_the_features() {
        let item = quote! {
            #[tool(annotations(read_only_hint = 1))]
            fn tool() {}
        };
        for features in [OFF, BOTH] {
            let out = expand_with(quote!(), item.clone(), features).to_string();
            assert!(
                out.contains("compile_error") && out.ends_with(&item.to_string()),
                "{out}"
            );
        }
    }

    #[test]
    fn span_is_the_genai_tool_execution_span() {
        let out = expand(
            quote!(name = "search"),
            quote!(
                fn tool() {}
            ),
        );
        for present in [
            "\"execute_tool search\"",
            "otel . kind = \"internal\"",
            "gen_ai . operation . name = \"execute_tool\"",
            "gen_ai . tool . name = \"search\"",
            "gen_ai . tool . type = \"function\"",
        ] {
            assert!(out.contains(present), "{present} missing from {out}");
        }
        for absent in ["mcp . method . name", "tools/call", "otel . name"] {
            assert!(!out.contains(absent), "{absent} in {out}");
        }
    }

    #[test]
    fn objective_becomes_a_distributed_slice_element_with_ratios() {
        let item = quote!(
            fn tool() {}
        );
        let out = expand(
            quote!(objective(
                success = 99.9,
                latency = 0.25,
                latency_target = 95
            )),
            item.clone(),
        );
        assert!(
            out.contains("distributed_slice (:: mcp_metrics :: __private :: OBJECTIVES)"),
            "{out}"
        );
        assert!(
            out.contains("# [linkme (crate = :: mcp_metrics :: __private :: linkme)]"),
            "{out}"
        );
        assert!(
            out.contains(
                "declared_objective (\"tool\" , :: core :: option :: Option :: Some (0.999) , \
                 :: core :: option :: Option :: Some ((0.25 , 0.95)))"
            ),
            "{out}"
        );
        let trace_feature_only = expand_with(
            quote!(objective(success = 99)),
            item,
            Features {
                metrics: false,
                trace: true,
            },
        )
        .to_string();
        assert!(
            !trace_feature_only.contains("OBJECTIVES"),
            "{trace_feature_only}"
        );
    }

    #[test]
    fn misuse_still_emits_the_function() {
        let item = quote!(
            fn tool() -> u8 {
                1
            }
        );
        let out = expand_with(
            quote!(nonsense),
            item.clone(),
            Features {
                metrics: true,
                trace: true,
            },
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.ends_with(&item.to_string()), "{out}");
    }
}
