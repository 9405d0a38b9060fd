//! The arguments: the session, the path parameters and the extractors,
//! and every way the session can be mistyped.

use super::*;

/// Sorts the arguments into session, path parameters and extractors, and
/// reports a missing or foreign session type. A foreign session type is
/// replaced by this route's, so the body still type-checks against the right
/// one.
pub(super) fn classify_args(
    func: &mut Func,
    session: &Ident,
    params: &[String],
    errors: &mut Errors,
) -> (Vec<Arg>, bool) {
    let is_session = |ty: &Type| last_segment(ty).is_some_and(|seg| seg == session);
    let mut ok = true;
    // `&FeedSession`: the session is taken by value; read as if it were.
    for arg in func.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = arg else { continue };
        if let Type::Reference(reference) = &*typed.ty {
            if is_session(&reference.elem) {
                let (written, span) = match &reference.mutability {
                    Some(mutability) => (
                        "&mut",
                        reference
                            .and_token
                            .span
                            .join(mutability.span)
                            .unwrap_or(reference.and_token.span),
                    ),
                    None => ("&", reference.and_token.span),
                };
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "the session is taken by value: write `{session}`, without the `{written}`"
                    ),
                ));
                let span = typed.ty.span();
                *typed.ty = syn::parse_quote_spanned!(span=> #session);
            }
        }
    }
    let mut out = Vec::new();
    let mut found = func.sig.inputs.iter().filter(|arg| match arg {
        FnArg::Typed(typed) => is_session(&typed.ty),
        FnArg::Receiver(_) => false,
    });
    let has_session = found.next().is_some();
    if let Some(FnArg::Typed(second)) = found.next() {
        errors.push(syn::Error::new(
            second.ty.span(),
            format!("a handler takes one `{session}`; remove this one"),
        ));
    }
    let mut foreign_done = has_session;
    for arg in func.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = arg else { continue };
        let kind = if is_session(&typed.ty) {
            ArgKind::Session
        } else if !foreign_done && mentions_type(&typed.ty, session) {
            // `FeedSession<u8>`, `Arc<FeedSession>`, `Option<FeedSession>`.
            foreign_done = true;
            let span = typed.ty.span();
            match last_segment_ident(&typed.ty) == Some(session) {
                true => {
                    errors.push(syn::Error::new_spanned(
                        &typed.ty,
                        format!("`{session}` takes no generic arguments: write `{session}`"),
                    ));
                    *typed.ty = syn::parse_quote_spanned!(span=> #session);
                }
                // Kept, so the body type-checks as written, and not called.
                false => {
                    ok = false;
                    errors.push(syn::Error::new_spanned(
                        &typed.ty,
                        format!(
                            "the handler takes its session as it is: write `{session}`, not \
                             `{}`; a clone of the session shares its stream",
                            shown(&typed.ty)
                        ),
                    ));
                }
            }
            ArgKind::Session
        } else if !foreign_done && is_untyped_session(&typed.ty) {
            // The runtime's `Session`, as `handler(..)` takes: kept, so the
            // body still type-checks against the API it was written for,
            // and not called.
            foreign_done = true;
            ok = false;
            errors.push(syn::Error::new(
                typed.ty.span(),
                format!(
                    "an `#[sse]` route takes its own typed session: write `{session}`; it \
                     derefs to `Session`, and sends a raw `Event` with `send_event(event)`"
                ),
            ));
            ArgKind::Session
        } else if !foreign_done
            && last_segment(&typed.ty).is_some_and(|ty| {
                crate::parse::edit_distance(&ty.to_string(), &session.to_string()) <= 2
            })
        {
            // A misspelling of the session's name.
            foreign_done = true;
            let span = typed.ty.span();
            errors.push(syn::Error::new(
                span,
                format!(
                    "`{}` is not this route's session; did you mean `{session}`?",
                    shown(&typed.ty)
                ),
            ));
            *typed.ty = syn::parse_quote_spanned!(span=> #session);
            ArgKind::Session
        } else if !foreign_done && looks_like_session(&typed.ty) {
            foreign_done = true;
            errors.push(syn::Error::new(
                typed.ty.span(),
                format!(
                    "this is not the session of this route: `{}` takes `{session}`",
                    func.sig.ident
                ),
            ));
            let span = typed.ty.span();
            *typed.ty = syn::parse_quote_spanned!(span=> #session);
            ArgKind::Session
        } else {
            match &*typed.pat {
                Pat::Ident(ident) => match param_bound_by(&ident.ident, params) {
                    Some(name) => {
                        if let Some(extractor) = builtin_extractor(&typed.ty) {
                            ok = false;
                            errors.push(syn::Error::new(
                                typed.ty.span(),
                                format!(
                                "`{name}` has the name of the path parameter `{{{name}}}`, so it \
                                 is read from the path, but `{extractor}` is an extractor, not a \
                                 path value: rename the argument (such as `{name}_id` for the \
                                 path value, or another name for the `{extractor}`)"
                            ),
                            ));
                        }
                        if let Type::Reference(reference) = &*typed.ty {
                            // Parsed from the path into a value of its own.
                            let owned: Type = match &*reference.elem {
                                Type::Path(path) if path.path.is_ident("str") => {
                                    syn::parse_quote_spanned!(reference.elem.span()=> String)
                                }
                                other => other.clone(),
                            };
                            errors.push(syn::Error::new_spanned(
                                &typed.ty,
                                format!(
                                "a path parameter is parsed into a value the handler owns: write \
                                 `{}: {}`",
                                ident.ident,
                                shown(&owned)
                            ),
                            ));
                            *typed.ty = owned;
                        }
                        ArgKind::PathParam(name)
                    }
                    None => ArgKind::Extractor,
                },
                _ => ArgKind::Extractor,
            }
        };
        out.push(Arg {
            ty: (*typed.ty).clone(),
            kind,
        });
    }
    if !foreign_done {
        errors.push(syn::Error::new(
            func.sig.paren_token.span.join(),
            format!(
                "an `#[sse]` handler takes its session: add `session: {session}` to the arguments"
            ),
        ));
    }
    (out, ok)
}

/// Reports each parameter of `path` that no argument binds, naming the
/// argument that was probably meant for it; whether all are bound.
pub(super) fn all_params_bound(
    path: &LitStr,
    params: &[String],
    args: &[Arg],
    func: &Func,
    session: &Ident,
    errors: &mut Errors,
) -> bool {
    let mut all = true;
    for param in params {
        let bound = args
            .iter()
            .any(|a| matches!(&a.kind, ArgKind::PathParam(p) if p == param));
        if bound {
            continue;
        }
        all = false;
        let named = |kind: fn(&ArgKind) -> bool| {
            args.iter()
                .zip(&func.sig.inputs)
                .filter(move |(arg, _)| kind(&arg.kind))
                .filter_map(|(_, input)| arg_name(input))
        };
        let session_named_so =
            named(|kind| matches!(kind, ArgKind::Session)).any(|name| name == *param);
        // An extractor meant for it, by another spelling.
        let snake = pascal_to_snake(param);
        let meant = named(|kind| matches!(kind, ArgKind::Extractor))
            .find(|name| *name == snake || crate::parse::edit_distance(name, param) <= 2);
        let message = match (session_named_so, meant) {
            (true, _) => format!(
                "the path parameter `{{{param}}}` has the name of the session argument: rename \
                 one, such as `{{id}}` in the path, or `stream: {session}` for the session"
            ),
            (false, Some(name)) if name == snake => format!(
                "the path parameter `{{{param}}}` binds the argument of its name, and arguments \
                 are snake_case: write `{{{snake}}}` in the path, for `{name}`"
            ),
            (false, Some(name)) => format!(
                "the path parameter `{{{param}}}` has no argument of its name: rename the \
                 argument `{name}` to `{param}`, or the parameter to `{{{name}}}`"
            ),
            (false, None) => format!(
                "the path parameter `{{{param}}}` has no argument: add `{param}: T` to the \
                 function, with `T: FromStr` (such as `String` or `u64`)"
            ),
        };
        errors.push(syn::Error::new(path.span(), message));
    }
    all
}

/// The path parameter an argument named `ident` binds: the one of its
/// name (`type` for `r#type`), or, for a name with a leading `_` (an
/// argument the body does not use), the one without it.
pub(super) fn param_bound_by(ident: &Ident, params: &[String]) -> Option<String> {
    let name = unraw(ident);
    let is_param = |name: &str| params.iter().any(|param| param == name);
    match name.strip_prefix('_') {
        _ if is_param(&name) => Some(name),
        Some(used) if is_param(used) => Some(used.to_owned()),
        _ => None,
    }
}

/// The name an argument binds, if it is a plain name (`type` for `r#type`).
fn arg_name(arg: &FnArg) -> Option<String> {
    match arg {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(ident) => Some(unraw(&ident.ident)),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    }
}

/// The runtime's extractors, by the last segment of their type's path:
/// never path values.
pub(super) fn builtin_extractor(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    let name = path.path.segments.last()?.ident.to_string();
    ["LastEventId", "Query", "State", "PeerAddr"]
        .contains(&name.as_str())
        .then_some(name)
}

/// Whether the type names `session` anywhere in it.
pub(super) fn mentions_type(ty: &Type, session: &Ident) -> bool {
    crate::item::mentions(&ty.to_token_stream(), &session.to_string())
}

/// `Session` or a path ending in it (`sse_runtime::Session`): the runtime's
/// untyped session, which `route::handler` takes.
pub(super) fn is_untyped_session(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|ident| ident == "Session")
}

pub(crate) fn looks_like_session(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|ident| ident.to_string().ends_with("Session"))
}
