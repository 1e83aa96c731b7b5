//! Checks of what parses but cannot be instrumented.

use crate::attr::Args;
use crate::model::ToolFn;
use syn::Error;

pub(crate) fn check(args: &Args, f: &ToolFn) -> syn::Result<()> {
    let mut errors: Option<Error> = None;
    let mut push = |e: Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    if let Some(constness) = &f.sig.constness {
        push(Error::new_spanned(
            constness,
            "`#[mcp_tool]` cannot instrument a `const fn`: metrics and spans are recorded at run time",
        ));
    }
    if let Some(variadic) = &f.sig.variadic {
        push(Error::new_spanned(
            variadic,
            "`#[mcp_tool]` cannot instrument a variadic function",
        ));
    }
    if let Some(name) = &args.name
        && name.value().trim().is_empty()
    {
        push(Error::new_spanned(
            name,
            "the tool name must not be empty: `#[mcp_tool(name = \"my_tool\")]`",
        ));
    }
    if let (Some((skip, _)), Some(_)) = (&args.skip, &args.skip_all) {
        push(Error::new(
            skip.span,
            "`skip(..)` and `skip_all` exclude each other: keep one of them",
        ));
    }
    if !args.wants_trace() {
        let span_only = [
            args.skip.as_ref().map(|(k, _)| k.span),
            args.skip_all.as_ref().map(|k| k.span),
            args.fields.as_ref().map(|(k, _)| k.span),
        ];
        for span in span_only.into_iter().flatten() {
            push(Error::new(
                span,
                "this argument configures the span, which `#[mcp_tool(metrics)]` does not open: add `trace`",
            ));
        }
    }
    if let Some((_, skipped)) = &args.skip {
        for ident in skipped {
            let known =
                f.named_params().any(|p| p == ident) || (ident == "self" && f.has_receiver());
            if !known {
                push(Error::new_spanned(
                    ident,
                    format!("`skip({ident})` names no parameter of this function"),
                ));
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
