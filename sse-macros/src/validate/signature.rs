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
    if sig.asyncness.is_none() {
        fail(
            sig.fn_token.span,
            "an `#[sse]` handler must be an `async fn`: write `async fn`",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        fail(
            sig.generics.span(),
            "an `#[sse]` handler cannot be generic: the server calls it with concrete types; \
             remove the generic parameters",
        );
    }
    if let Some(constness) = &sig.constness {
        fail(
            constness.span,
            "an `#[sse]` handler cannot be `const`: it runs once per stream; remove the `const`",
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
    let Some((object, fixed)) = error_object_not_shareable(ty) else {
        return;
    };
    errors.push(syn::Error::new_spanned(
        object,
        format!(
            "a handler's error is handed to the server's task, so it is `Send + Sync`: write \
             `Box<{fixed}>`"
        ),
    ));
    let span = object.span();
    let missing: Vec<syn::TypeParamBound> = ["Send", "Sync"]
        .into_iter()
        .filter(|marker| !bound_names(object).iter().any(|name| name == marker))
        .map(|marker| {
            let marker = Ident::new(marker, span);
            syn::parse_quote_spanned!(span=> ::core::marker::#marker)
        })
        .collect();
    if let Some(object) = error_object_mut(ty) {
        object.bounds.extend(missing);
    }
}

/// The trait object in `Result<_, Box<dyn ..>>`, to change it.
pub(super) fn error_object_mut(ty: &mut Type) -> Option<&mut syn::TypeTraitObject> {
    fn last_argument(ty: &mut Type, at: usize) -> Option<&mut Type> {
        let Type::Path(path) = ty else { return None };
        let last = path.path.segments.last_mut()?;
        let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
            return None;
        };
        args.args
            .iter_mut()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .nth(at)
    }
    let boxed = last_argument(ty, 1)?;
    match last_argument(boxed, 0)? {
        Type::TraitObject(object) => Some(object),
        _ => None,
    }
}

/// The names of a trait object's trait bounds (`Error`, `Send`).
pub(super) fn bound_names(object: &syn::TypeTraitObject) -> Vec<String> {
    object
        .bounds
        .iter()
        .filter_map(|bound| match bound {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// In a return type `Result<_, Box<dyn Error ..>>`, a trait object that is
/// not `Send + Sync`: the object, and what it is with both added.
pub(super) fn error_object_not_shareable(ty: &Type) -> Option<(&syn::TypeTraitObject, String)> {
    let error = *type_arguments(ty, "Result")?.get(1)?;
    let Type::TraitObject(object) = *type_arguments(error, "Box")?.first()? else {
        return None;
    };
    let names = bound_names(object);
    if !names.iter().any(|name| name == "Error") {
        return None;
    }
    let mut fixed = shown(&Type::TraitObject(object.clone()));
    let mut complete = true;
    for marker in ["Send", "Sync"] {
        if !names.iter().any(|name| name == marker) {
            fixed.push_str(" + ");
            fixed.push_str(marker);
            complete = false;
        }
    }
    (!complete).then_some((object, fixed))
}

/// The type arguments of `ty` if it is a path whose last segment is `name`
/// (`Result<A, B>` for `"Result"`).
pub(super) fn type_arguments<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    (last.ident == name).then(|| {
        args.args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect()
    })
}
