//! Checks of what parses but cannot be instrumented. Every check reports, so one build shows every
//! mistake of an attribute at once.

use crate::attr::{Args, Objective};
use crate::model::ToolFn;
use syn::{Error, Ident};

/// Errors gathered by the checks, combined into one.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

pub(crate) fn check(args: &Args, f: &ToolFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    check_signature(args, f, &mut errors);
    check_span_options(args, &mut errors);
    check_recorded_params(args, f, &mut errors);
    if let Some(objective) = &args.objective {
        check_objective(objective, &mut errors);
    }
    errors.into_result()
}

fn check_signature(args: &Args, f: &ToolFn, errors: &mut Errors) {
    if let Some(constness) = &f.sig.constness {
        errors.push(Error::new_spanned(
            constness,
            "`#[mcp_tool]` cannot instrument a `const fn`: metrics and spans are recorded at run time",
        ));
    }
    if let Some(variadic) = &f.sig.variadic {
        errors.push(Error::new_spanned(
            variadic,
            "`#[mcp_tool]` cannot instrument a variadic function",
        ));
    }
    if let Some(name) = &args.name
        && name.value().trim().is_empty()
    {
        errors.push(Error::new_spanned(
            name,
            "the tool name must not be empty: `#[mcp_tool(name = \"my_tool\")]`",
        ));
    }
}

/// Span options need the span; objectives need the metrics.
fn check_span_options(args: &Args, errors: &mut Errors) {
    if !args.wants_trace() {
        let span_only = [
            args.args.as_ref().map(|a| a.keyword.span),
            args.skip.as_ref().map(|(k, _)| k.span),
            args.fields.as_ref().map(|(k, _)| k.span),
        ];
        for span in span_only.into_iter().flatten() {
            errors.push(Error::new(
                span,
                "this argument configures the span, which `#[mcp_tool(metrics)]` does not open: add `trace`",
            ));
        }
    }
    if !args.wants_metrics()
        && let Some(objective) = &args.objective
    {
        errors.push(Error::new(
            objective.keyword.span,
            "an objective is measured on the tool's metrics, which `#[mcp_tool(trace)]` does not \
             record: add `metrics`",
        ));
    }
}

/// `args`, `args(a, b)` and `skip(c)`: every name must be a parameter, and `skip` only narrows a
/// bare `args`.
fn check_recorded_params(args: &Args, f: &ToolFn, errors: &mut Errors) {
    let bound = f.bound_names();
    let check_names = |names: &[Ident], what: &str, errors: &mut Errors| {
        for (i, ident) in names.iter().enumerate() {
            if ident == "self" {
                errors.push(Error::new_spanned(
                    ident,
                    format!("`self` is never recorded on the span: remove it from `{what}(..)`"),
                ));
            } else if !bound.contains(&ident) {
                errors.push(Error::new_spanned(
                    ident,
                    format!("`{what}({ident})` names no parameter of this function"),
                ));
            } else if names[..i].contains(ident) {
                errors.push(Error::new_spanned(
                    ident,
                    format!("`{ident}` is listed twice in `{what}(..)`"),
                ));
            }
        }
    };
    if let Some(record) = &args.args {
        match &record.only {
            Some(only) if only.is_empty() => errors.push(Error::new(
                record.keyword.span,
                "`args()` records nothing: list the parameters to record, `args(a, b)`, or \
                 write `args` for all of them",
            )),
            Some(only) => check_names(only, "args", errors),
            None if bound.is_empty() => errors.push(Error::new(
                record.keyword.span,
                "`args` records nothing: this function has no named parameter",
            )),
            None => {}
        }
    }
    if let Some((skip, skipped)) = &args.skip {
        match args.args.as_ref().map(|a| &a.only) {
            None => errors.push(Error::new(
                skip.span,
                "no parameter is recorded on the span unless `args` asks for it, so there is \
                 nothing to skip: remove `skip(..)`, or record the others with `args, skip(..)`",
            )),
            Some(Some(_)) => errors.push(Error::new(
                skip.span,
                "`args(..)` already lists the parameters to record: remove `skip(..)`, or use a \
                 bare `args` with `skip(..)`",
            )),
            Some(None) => check_names(skipped, "skip", errors),
        }
    }
}

/// Targets strictly between 0 and 100 %, a positive threshold, and the two latency parts together.
fn check_objective(objective: &Objective, errors: &mut Errors) {
    let Objective {
        keyword,
        success,
        latency,
        latency_target,
    } = objective;
    for (key, target, example) in [
        ("success", success, "99.9"),
        ("latency_target", latency_target, "95"),
    ] {
        if let Some(target) = target
            && !(target.value > 0.0 && target.value < 100.0)
        {
            errors.push(Error::new_spanned(
                &target.tokens,
                format!(
                    "`{key}` is a percentage above 0 and below 100 (100 % leaves no error \
                     budget), such as `{key} = {example}`"
                ),
            ));
        }
    }
    if let Some(latency) = latency
        && !(latency.value > 0.0 && latency.value.is_finite())
    {
        errors.push(Error::new_spanned(
            &latency.tokens,
            "`latency` is a threshold in seconds above 0, such as `latency = 0.5`",
        ));
    }
    match (latency, latency_target) {
        (Some(latency), None) => errors.push(Error::new_spanned(
            &latency.tokens,
            "`latency` needs `latency_target`, the percentage of calls that must finish within it: \
             `objective(latency = 0.5, latency_target = 95)`",
        )),
        (None, Some(target)) => errors.push(Error::new_spanned(
            &target.tokens,
            "`latency_target` needs `latency`, the threshold in seconds: \
             `objective(latency = 0.5, latency_target = 95)`",
        )),
        (None, None) if success.is_none() => errors.push(Error::new(
            keyword.span,
            "an empty objective: declare `success = 99.9`, `latency = 0.5, latency_target = 95`, \
             or both",
        )),
        _ => {}
    }
}
