//! The function's signature: what the runtime can call, and the error type
//! it can hand to the server's task.

use super::*;

/// Checks the parts of the signature the runtime cannot call otherwise.
pub(super) fn check_signature(func: &Func, errors: &mut Errors) -> bool {
    let sig = &func.sig;
    let mut ok = true;
    let mut fail = |span: Span, message: &str| {
        errors.push(syn::Error::new(span, message));
        ok = false;
    };
    // `const fn` is one mistake (the `async` was meant), one error.
    match (&sig.asyncness, &sig.constness) {
        (None, Some(constness)) => fail(
            constness.span,
            "an `#[sse]` handler is an `async fn`, not a `const fn`: write `async fn`",
        ),
        (None, None) => fail(
            sig.fn_token.span,
            "an `#[sse]` handler must be an `async fn`: write `async fn`",
        ),
        (Some(_), Some(constness)) => fail(
            constness.span,
            "an `#[sse]` handler cannot be `const`: it runs once per stream; remove the `const`",
        ),
        (Some(_), None) => {}
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        fail(
            sig.generics.span(),
            "an `#[sse]` handler cannot be generic: the server calls it with concrete types; \
             remove the generic parameters",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        fail(
            unsafety.span,
            "an `#[sse]` handler cannot be `unsafe`: the runtime calls it with no conditions to \
             uphold; remove the `unsafe` (and use an `unsafe` block inside if you need one)",
        );
    }
    if let Some(abi) = &sig.abi {
        fail(
            abi.span(),
            "an `#[sse]` handler cannot have an ABI: the runtime calls it as a Rust `async fn`; \
             remove the `extern`",
        );
    }
    if let Some(variadic) = &sig.variadic {
        fail(variadic.span(), "an `#[sse]` handler cannot be variadic");
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        if let Type::Never(never) = &**ty {
            fail(
                never.span(),
                "an `#[sse]` handler returns when its stream should end: return `()` or \
                 `Result<(), E>` instead of `!` (a handler that streams for ever loops on its \
                 sends, and `?` ends it when the client leaves)",
            );
        }
    }
    for arg in &sig.inputs {
        if let FnArg::Typed(arg) = arg {
            if let Type::ImplTrait(impl_trait) = &*arg.ty {
                fail(
                    impl_trait.impl_token.span,
                    "an `#[sse]` handler's argument needs a concrete type: the server takes each \
                     argument by its type; write the type itself, such as `Query<Filter>` or \
                     your extractor's type",
                );
            }
        }
    }
    ok
}

/// `-> Result<(), Box<dyn Error>>`: one error, and the body read with the
/// `Send + Sync` object the error suggests (what the body's `?` converts to
/// once it is fixed), so that the conversion's bounds are not reported three
/// times over.
pub(super) fn require_shareable_error(func: &mut Func, errors: &mut Errors) {
    let syn::ReturnType::Type(_, ty) = &mut func.sig.output else {
        return;
    };
    let Some(object) = error_object(ty) else {
        return;
    };
    let names: Vec<String> = object
        .bounds
        .iter()
        .filter_map(|bound| match bound {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        })
        .collect();
    let missing: Vec<&str> = ["Send", "Sync"]
        .into_iter()
        .filter(|marker| !names.iter().any(|name| name == marker))
        .collect();
    if !names.iter().any(|name| name == "Error") || missing.is_empty() {
        return;
    }
    let mut fixed = shown(&Type::TraitObject(object.clone()));
    for marker in &missing {
        fixed.push_str(" + ");
        fixed.push_str(marker);
    }
    errors.push(syn::Error::new_spanned(
        &*object,
        format!(
            "a handler's error is handed to the server's task, so it is `Send + Sync`: write \
             `Box<{fixed}>`"
        ),
    ));
    let span = object.span();
    object
        .bounds
        .extend(missing.into_iter().map(|marker| -> syn::TypeParamBound {
            let marker = Ident::new(marker, span);
            syn::parse_quote_spanned!(span=> ::core::marker::#marker)
        }));
}

/// The trait object in `Result<_, Box<dyn ..>>`, if the type is one.
fn error_object(ty: &mut Type) -> Option<&mut syn::TypeTraitObject> {
    let error = type_arguments(ty, "Result")?.nth(1)?;
    match type_arguments(error, "Box")?.next()? {
        Type::TraitObject(object) => Some(object),
        _ => None,
    }
}

/// The type arguments of `ty` if it is a path whose last segment is `name`
/// (`A` and `B` of `Result<A, B>` for `"Result"`).
fn type_arguments<'a>(ty: &'a mut Type, name: &str) -> Option<impl Iterator<Item = &'a mut Type>> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last_mut()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return None;
    };
    Some(args.args.iter_mut().filter_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }))
}
