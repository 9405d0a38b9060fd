//! The methods a route answers, and the argument that takes the request's
//! body: at most one, and only on a route that some method with a body
//! opens.

use super::*;

/// What a stream can be opened with, as the runtime's `Methods` names them.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The methods `method = ..` lists, checked: each known and given once.
/// `None` when there is no key (the route answers `GET`).
pub(super) fn check_methods(lits: Option<Vec<LitStr>>, errors: &mut Errors) -> Option<Vec<Ident>> {
    let lits = lits?;
    let mut methods: Vec<Ident> = Vec::new();
    for lit in lits {
        let written = lit.value();
        let upper = written.to_ascii_uppercase();
        let Some(&known) = METHODS.iter().find(|&&m| m == upper) else {
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "unknown method {written:?}: a stream is opened with \"GET\", \"POST\", \
                     \"PUT\", \"PATCH\" or \"DELETE\""
                ),
            ));
            continue;
        };
        if written != known {
            errors.push(syn::Error::new(
                lit.span(),
                format!("methods are written in upper case: \"{known}\""),
            ));
        }
        if methods.iter().any(|m| m == known) {
            errors.push(syn::Error::new(
                lit.span(),
                format!("\"{known}\" is listed twice: give each method once"),
            ));
            continue;
        }
        methods.push(Ident::new(known, lit.span()));
    }
    Some(methods)
}

/// Marks the argument that takes the body (`Json<T>`, `Form<T>`, `Bytes`,
/// `String`, or one marked `#[body]`, whose mark is removed), and reports a
/// second one, or one on a route that only `GET` opens. `check` is false
/// when an earlier error already concerns the arguments.
pub(super) fn mark_body(
    func: &mut Func,
    args: &mut [Arg],
    get_only: bool,
    check: bool,
    errors: &mut Errors,
) -> bool {
    let mut ok = true;
    let mut taken: Option<String> = None;
    let inputs = func.sig.inputs.iter_mut().filter_map(|input| match input {
        FnArg::Typed(typed) => Some(typed),
        FnArg::Receiver(_) => None,
    });
    for (arg, typed) in args.iter_mut().zip(inputs) {
        let marked = take_body_mark(&mut typed.attrs);
        if !matches!(arg.kind, ArgKind::Extractor) {
            if let (Some(mark), true) = (marked, check) {
                errors.push(syn::Error::new(
                    mark,
                    "`#[body]` marks an extractor argument that takes the request body; this \
                     argument is not one: remove the `#[body]`",
                ));
                ok = false;
            }
            continue;
        }
        let kind = match marked {
            Some(_) => Some(BodyKind::Marked),
            None => body_kind(&arg.ty),
        };
        let Some(kind) = kind else { continue };
        let shown_ty = shown(&arg.ty);
        if check {
            if let Some(first) = &taken {
                errors.push(syn::Error::new(
                    arg.ty.span(),
                    format!(
                        "a request has one body, and `{first}` takes it already: remove this \
                         argument (to have the raw body as well, take `Bytes` alone and parse it \
                         in the handler)"
                    ),
                ));
                ok = false;
                continue;
            }
            if get_only {
                errors.push(syn::Error::new(
                    arg.ty.span(),
                    format!(
                        "this route answers only `GET`, whose requests have no body for \
                         `{shown_ty}` to read: open it with a method that sends one, \
                         `#[sse(\"/path\", method = \"POST\")]`"
                    ),
                ));
                ok = false;
                continue;
            }
        }
        taken = Some(shown_ty);
        arg.kind = ArgKind::Body(kind);
    }
    ok
}

/// Removes a `#[body]` from an argument's attributes; where it was.
fn take_body_mark(attrs: &mut Vec<syn::Attribute>) -> Option<Span> {
    let at = attrs.iter().position(|attr| attr.path().is_ident("body"))?;
    Some(attrs.remove(at).span())
}

/// Which body extractor `ty` is, by its last segment.
fn body_kind(ty: &Type) -> Option<BodyKind> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let inner = || match &last.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(inner) => Some(inner.clone()),
            _ => None,
        },
        _ => None,
    };
    match last.ident.to_string().as_str() {
        "Json" => inner().map(|t| BodyKind::Json(Box::new(t))),
        "Form" => inner().map(|t| BodyKind::Form(Box::new(t))),
        "Bytes" | "String" if last.arguments.is_empty() => Some(BodyKind::Raw),
        _ => None,
    }
}
