//! Phase 2: what the attribute and the function mean, checked. Every problem
//! becomes one error on the user's token; the model is still complete enough
//! to expand, so that one mistake does not cascade.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, LitStr, Pat, Type};

use crate::item::Func;
use crate::parse::{Args, EventDecl};
use crate::Errors;

/// Everything the expansion needs.
pub struct Route {
    pub func: Func,
    /// The paths of a second `#[sse]` removed from the function (reported),
    /// so that the import it was written through still counts as used.
    pub dropped_sse: Vec<syn::Path>,
    /// `<PascalCase>Route`, the type of the route value.
    pub route: Ident,
    /// `<PascalCase>Session`, the typed session.
    pub session: Ident,
    /// `<PascalCase>Event`, the enum of the declared event types.
    pub event_enum: Ident,
    pub path: Option<LitStr>,
    pub serializer: Serializer,
    pub events: Option<Vec<Event>>,
    pub heartbeat: Heartbeat,
    pub retry_ms: Option<u64>,
    /// `compression = "..."`: the runtime's `Compression` variant, or
    /// `None` to inherit the server's.
    pub compression: Option<Ident>,
    /// The runtime crate's path: `::sse_runtime`, or what `crate = "..."`
    /// names for a renamed dependency.
    pub runtime: syn::Path,
    /// Whether `crate = "..."` named it (a path the compiler has yet to
    /// resolve), rather than the crate's manifest.
    pub runtime_named: bool,
    pub args: Vec<Arg>,
    /// Whether the handler can be called as declared; when it cannot (an error
    /// was reported), the route is generated without calling it.
    pub callable: bool,
}

pub struct Event {
    pub ty: Type,
    pub name: Option<LitStr>,
    /// Its variant in the generated `<PascalCase>Event` enum: the type's
    /// name; `None` when that was reported as an error.
    pub variant: Option<Ident>,
}

impl Event {
    /// The name clients see: `message` when none is declared.
    pub fn wire_name(&self) -> String {
        self.name
            .as_ref()
            .map_or_else(|| "message".to_owned(), LitStr::value)
    }
}

pub enum Heartbeat {
    Inherit,
    Off,
    Every(u64),
}

pub struct Arg {
    pub ty: Type,
    pub kind: ArgKind,
}

pub enum ArgKind {
    Session,
    PathParam(String),
    Extractor,
}

/// The largest retry clients can wait: 2³¹−1 ms (JavaScript timers overflow
/// beyond it), as `sse_runtime::event::MAX_RETRY`.
const MAX_RETRY_MS: u64 = i32::MAX as u64;

pub fn route(args: Args, mut func: Func, errors: &mut Errors) -> Route {
    let dropped_sse = drop_second_sse(&mut func, errors);
    let name = &func.sig.ident;
    let [route_ty, session, event_enum] = match type_stem(name) {
        Ok(stem) => ["Route", "Session", "Event"].map(|kind| format!("{stem}{kind}")),
        Err(unsure) => {
            errors.push(unsure.error(name));
            // Names no other function's route can have, so that this one
            // error is the only one; the session argument is given its.
            let hidden = ["route", "session", "event"]
                .map(|kind| format!("__sse_{kind}_of_{}", unraw(name)));
            retype_session(&mut func, &hidden[1]);
            hidden
        }
    }
    .map(|ty| Ident::new(&ty, func.sig.ident.span()));
    let event_enum = event_enum_named_apart(&args, &func.sig.ident, event_enum, errors);
    let reported = errors.len();
    // A path read from a mistake already reported is checked quietly.
    let mut quiet = Errors::default();
    let params = match &args.path {
        Some(path) if args.path_recovered => check_path(path, &mut quiet),
        Some(path) => check_path(path, errors),
        None => Vec::new(),
    };
    // With a broken path, arguments cannot be matched to parameters: do not
    // call the handler, so that the path error is the only one.
    let mut callable = errors.len() == reported && quiet.is_empty();
    require_shareable_error(&mut func, errors);
    callable &= check_signature(&func, errors);
    let (args_out, args_ok) = classify_args(&mut func, &session, &params, errors);
    callable &= args_ok;
    callable &= args_out
        .iter()
        .filter(|a| matches!(a.kind, ArgKind::Session))
        .count()
        == 1;
    if let Some(path) = &args.path {
        for param in &params {
            let bound = args_out
                .iter()
                .any(|a| matches!(&a.kind, ArgKind::PathParam(p) if p == param));
            if !bound {
                let session_named_so = args_out.iter().zip(&func.sig.inputs).any(|(arg, input)| {
                    matches!(arg.kind, ArgKind::Session)
                        && arg_name(input).as_deref() == Some(param.as_str())
                });
                // An argument meant for it, by another spelling.
                let meant = args_out
                    .iter()
                    .zip(&func.sig.inputs)
                    .find_map(|(arg, input)| {
                        let name = arg_name(input)?;
                        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
                        let close = name == pascal_to_snake(param)
                            || crate::parse::edit_distance(&name, param) <= 2;
                        (matches!(arg.kind, ArgKind::Extractor) && close).then_some(name)
                    });
                let snake = pascal_to_snake(param);
                let message = match (session_named_so, meant) {
                    (true, _) => format!(
                        "the path parameter `{{{param}}}` has the name of the session argument: \
                         rename one, such as `{{id}}` in the path, or `stream: {session}` for the \
                         session"
                    ),
                    (false, Some(name)) if name == snake => format!(
                        "the path parameter `{{{param}}}` binds the argument of its name, and \
                         arguments are snake_case: write `{{{snake}}}` in the path, for `{name}`"
                    ),
                    (false, Some(name)) => format!(
                        "the path parameter `{{{param}}}` has no argument of its name: rename \
                         the argument `{name}` to `{param}`, or the parameter to `{{{name}}}`"
                    ),
                    (false, None) => format!(
                        "the path parameter `{{{param}}}` has no argument: add `{param}: T` to the \
                         function, with `T: FromStr` (such as `String` or `u64`)"
                    ),
                };
                errors.push(syn::Error::new(path.span(), message));
                // Its arguments cannot be matched to the path: not called,
                // so that this is the only error.
                callable = false;
            }
        }
    }
    let runtime = runtime_path(args.krate.as_ref(), errors);
    Route {
        dropped_sse,
        runtime_named: args.krate.is_some(),
        runtime,
        route: route_ty,
        session,
        event_enum,
        path: args.path,
        serializer: Serializer::named(args.serializer),
        events: args.events.map(|decls| check_events(decls, errors)),
        heartbeat: args
            .heartbeat
            .map_or(Heartbeat::Inherit, |lit| heartbeat(&lit, errors)),
        retry_ms: args.retry.and_then(|lit| retry(&lit, errors)),
        compression: args.compression.and_then(|lit| compression(&lit, errors)),
        args: args_out,
        callable,
        func,
    }
}

/// The route's event enum's name, unless a declared type has it (`struct
/// ChatEvent` in `events(ChatEvent)` of `fn chat`): then that is one error,
/// on the type, and the enum is generated under a hidden name, so that the
/// two definitions are not reported over and over.
fn event_enum_named_apart(
    args: &Args,
    name: &Ident,
    event_enum: Ident,
    errors: &mut Errors,
) -> Ident {
    let declared = args.events.iter().flatten().find(|decl| {
        matches!(&decl.ty, Type::Path(path) if path.qself.is_none()
            && path.path.segments.last().is_some_and(|seg| seg.ident == event_enum))
    });
    let Some(declared) = declared else {
        return event_enum;
    };
    let stem = event_enum.to_string();
    let stem = stem.strip_suffix("Event").unwrap_or(&stem);
    errors.push(syn::Error::new_spanned(
        &declared.ty,
        format!(
            "`{event_enum}` is the name `#[sse]` gives the event enum of `{name}` (one variant per \
             declared type, for the typed client): rename this type, such as `{stem}Message`, or \
             the function"
        ),
    ));
    Ident::new(
        &format!("__sse_event_of_{}", unraw(name)),
        event_enum.span(),
    )
}

/// The stem of a route's type names: its function's name in UpperCamelCase,
/// leading underscores kept (`my_feed` → `MyFeed`, `_draft` → `_Draft`).
///
/// A name is refused when the stem does not convert back to it (`my__feed`,
/// `myFeed`, `feed_2`, `feed_`): each has the stem of another name (`my_feed`,
/// `feed2`, `feed`), so two routes could get the same types, which the
/// compiler would report as a dozen duplicate definitions. Names that convert
/// back never share a stem.
fn type_stem(name: &Ident) -> Result<String, NotSnakeCase> {
    let name = unraw(name);
    let stem = upper_camel(&name);
    let rest = name.trim_start_matches('_');
    let underscores = &name[..name.len() - rest.len()];
    let back = pascal_to_snake(&stem[underscores.len()..]);
    if back == rest && stem.len() > underscores.len() {
        Ok(stem)
    } else {
        Err(NotSnakeCase {
            stem,
            suggestion: format!("{underscores}{back}"),
        })
    }
}

/// `my_feed` → `MyFeed`, `u32` → `U32`, `_draft` → `_Draft`: each word
/// capitalized, the `_`s between words dropped, leading ones kept (so that
/// the result is an identifier, and a lint-clean type name).
fn upper_camel(name: &str) -> String {
    let rest = name.trim_start_matches('_');
    let words = rest.split('_').filter(|word| !word.is_empty()).map(|word| {
        let mut chars = word.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(chars).collect::<String>()
        })
    });
    name[..name.len() - rest.len()]
        .chars()
        .chain(words.flat_map(|w| w.chars().collect::<Vec<_>>()))
        .collect()
}

/// A function name [`type_stem`] refuses: the stem it would have, and the
/// name that has that stem.
struct NotSnakeCase {
    stem: String,
    suggestion: String,
}

impl NotSnakeCase {
    fn error(&self, name: &Ident) -> syn::Error {
        let Self { stem, suggestion } = self;
        let rule = "name it in snake_case: lower-case words, each starting with a letter, \
                    one `_` between two";
        // `type_` has the stem of `r#type`.
        let other = [suggestion.clone(), format!("r#{suggestion}")]
            .into_iter()
            .find(|other| syn::parse_str::<Ident>(other).is_ok() && name != other);
        let message = match other {
            Some(other) => format!(
                "`#[sse]` names the route's types after its function, and `{name}` would get \
                 `{stem}Route` and `{stem}Session`, the types of a function `{other}`: {rule}"
            ),
            None => format!(
                "`#[sse]` names the route's types after its function, and `{name}` does not \
                 convert to a type name and back: {rule}"
            ),
        };
        syn::Error::new(name.span(), message)
    }
}

/// The name as written, without `r#`.
fn unraw(name: &Ident) -> String {
    let name = name.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// Types the first argument that looks like a session (`...Session`) as
/// `session`: the route's own, when the name it would have was refused.
fn retype_session(func: &mut Func, session: &str) {
    for arg in func.sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = arg {
            if looks_like_session(&typed.ty) {
                let session = Ident::new(session, typed.ty.span());
                *typed.ty = syn::parse_quote!(#session);
                return;
            }
        }
    }
}

/// A second `#[sse]` on the same function is one error, and is removed so
/// that it does not expand again on the generated handler.
fn drop_second_sse(func: &mut Func, errors: &mut Errors) -> Vec<syn::Path> {
    let is_sse = |attr: &syn::Attribute| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "sse")
    };
    if let Some(again) = func.attrs.iter().find(|attr| is_sse(attr)) {
        errors.push(syn::Error::new_spanned(
            again,
            "`#[sse]` is given twice: a function is one route; remove this one, and mount the \
             function at another path with `.route_at(\"/path\", function)`",
        ));
    }
    let (dropped, kept) = std::mem::take(&mut func.attrs)
        .into_iter()
        .partition(is_sse);
    func.attrs = kept;
    dropped
        .into_iter()
        .map(|attr: syn::Attribute| attr.path().clone())
        .collect()
}

/// Checks the path and returns its parameter names.
fn check_path(lit: &LitStr, errors: &mut Errors) -> Vec<String> {
    let path = lit.value();
    let fail = |errors: &mut Errors, message: String| {
        errors.push(syn::Error::new(lit.span(), message));
        Vec::new()
    };
    if !path.starts_with('/') {
        return fail(errors, format!("a path starts with `/`: \"/{path}\""));
    }
    if path.contains("{r#") || path.contains("{*r#") {
        let fixed = path.replace("{r#", "{").replace("{*r#", "{*");
        fail(
            errors,
            format!(
                "a path parameter is named without `r#`: write \"{fixed}\"; a parameter binds \
                 the argument of its name, and `r#type` is named `type`"
            ),
        );
        return check_path(&LitStr::new(&fixed, lit.span()), &mut Errors::default());
    }
    if let Some((route, query)) = path.split_once('?') {
        fail(
            errors,
            format!(
                "a route's path has no query string: write \"{route}\" and read `?{query}` with a \
                 `Query<T>` argument"
            ),
        );
        // Read on as the path it should be, so that this is the only error.
        return check_path(&LitStr::new(route, lit.span()), errors);
    }
    if let Some((route, fragment)) = path.split_once('#') {
        fail(
            errors,
            format!(
                "a route's path has no fragment: a client never sends `#{fragment}` to the \
                 server; write \"{route}\""
            ),
        );
        return check_path(&LitStr::new(route, lit.span()), errors);
    }
    if let Some(c) = path.chars().find(|&c| never_in_a_request_path(c)) {
        let encoded: String = path
            .chars()
            .map(|c| match never_in_a_request_path(c) {
                true => format!("%{:02X}", c as u32),
                false => c.to_string(),
            })
            .collect();
        let what = match c {
            ' ' => "a space".to_owned(),
            c if c.is_ascii_control() => format!("the control character {c:?}"),
            c => format!("`{c}`"),
        };
        fail(
            errors,
            format!(
                "a request's path never has {what}: clients send it percent-encoded, and routes \
                 match the path as sent; write \"{encoded}\""
            ),
        );
        return check_path(&LitStr::new(&encoded, lit.span()), errors);
    }
    // Other routers' parameter syntax, which this one would take as text.
    for segment in path.split('/') {
        let (sigil, name) = match segment.chars().next() {
            Some(':') => (':', &segment[1..]),
            Some('*') => ('*', &segment[1..]),
            _ => continue,
        };
        let written = match sigil {
            ':' => format!("{{{name}}}"),
            _ => format!("{{*{name}}}"),
        };
        let fixed = path.replacen(segment, &written, 1);
        fail(
            errors,
            format!(
                "`{segment}` would match only the text `{segment}`: path parameters are written \
                 `{written}`, as in \"{fixed}\""
            ),
        );
        // Read on as the path it should be (every such segment rewritten),
        // so that its parameters still bind and this is the only error.
        let rewritten: Vec<String> = path
            .split('/')
            .map(|segment| match segment.chars().next() {
                Some(':') => format!("{{{}}}", &segment[1..]),
                Some('*') => format!("{{*{}}}", &segment[1..]),
                _ => segment.to_owned(),
            })
            .collect();
        let mut quiet = Errors::default();
        return check_path(&LitStr::new(&rewritten.join("/"), lit.span()), &mut quiet);
    }
    let mut params: Vec<String> = Vec::new();
    let mut rest = path.as_str();
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return fail(errors, format!("unbalanced `}}` in the path \"{path}\""));
        }
        let after = &rest[open + 1..];
        let Some(close) = after
            .find(['{', '}'])
            .filter(|&i| after.as_bytes()[i] == b'}')
        else {
            return fail(
                errors,
                format!("unbalanced `{{` in the path \"{path}\": close it with `}}`"),
            );
        };
        let name = &after[..close];
        let ident = name.strip_prefix('*').unwrap_or(name);
        // A keyword binds the raw identifier (`{type}`, `r#type`).
        let raw = format!("r#{ident}");
        if syn::parse_str::<Ident>(ident).is_err() && syn::parse_str::<Ident>(&raw).is_err() {
            return fail(
                errors,
                format!(
                    "the path parameter `{{{name}}}` is not a Rust identifier; a parameter binds to \
                     the argument of the same name"
                ),
            );
        }
        if params.iter().any(|p| p == ident) {
            return fail(
                errors,
                format!(
                    "the path parameter `{{{ident}}}` appears twice; give each a distinct name"
                ),
            );
        }
        params.push(ident.to_owned());
        rest = &after[close + 1..];
    }
    if let Err(err) = matchit::Router::new().insert(path.as_str(), ()) {
        return fail(errors, format!("invalid path \"{path}\": {err}"));
    }
    params
}

/// A character no request's path has as it is sent: the ones `http::Uri`
/// (hyper's, and the fast path's, parser) refuses in a path. (`?` and `#`
/// end a path; they are reported as a query string and a fragment.)
fn never_in_a_request_path(c: char) -> bool {
    c.is_ascii_control() || matches!(c, ' ' | '<' | '>' | '`')
}

/// Checks the parts of the signature the runtime cannot call otherwise.
fn check_signature(func: &Func, errors: &mut Errors) -> bool {
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
fn require_shareable_error(func: &mut Func, errors: &mut Errors) {
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
fn error_object_mut(ty: &mut Type) -> Option<&mut syn::TypeTraitObject> {
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
fn bound_names(object: &syn::TypeTraitObject) -> Vec<String> {
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
fn error_object_not_shareable(ty: &Type) -> Option<(&syn::TypeTraitObject, String)> {
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
fn type_arguments<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
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

/// Sorts the arguments into session, path parameters and extractors, and
/// reports a missing or foreign session type. A foreign session type is
/// replaced by this route's, so the body still type-checks against the right
/// one.
fn classify_args(
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
                Pat::Ident(ident) if param_bound_by(&ident.ident, params).is_some() => {
                    let name = param_bound_by(&ident.ident, params).unwrap_or_default();
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

/// The path parameter an argument named `ident` binds: the one of its
/// name (`type` for `r#type`), or, for a name with a leading `_` (an
/// argument the body does not use), the one without it.
fn param_bound_by(ident: &Ident, params: &[String]) -> Option<String> {
    let name = unraw(ident);
    let is_param = |name: &str| params.iter().any(|param| param == name);
    match name.strip_prefix('_') {
        _ if is_param(&name) => Some(name),
        Some(used) if is_param(used) => Some(used.to_owned()),
        _ => None,
    }
}

/// The name an argument binds, if it is a plain name.
fn arg_name(arg: &FnArg) -> Option<String> {
    match arg {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(ident) => Some(ident.ident.to_string()),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    }
}

/// The runtime's extractors, by the last segment of their type's path:
/// never path values.
fn builtin_extractor(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    let name = path.path.segments.last()?.ident.to_string();
    ["LastEventId", "Query", "State", "PeerAddr"]
        .contains(&name.as_str())
        .then_some(name)
}

/// Whether the type names `session` anywhere in it.
fn mentions_type(ty: &Type, session: &Ident) -> bool {
    crate::item::mentions(&ty.to_token_stream(), &session.to_string())
}

/// The last segment's name of a path type, with or without generic
/// arguments.
fn last_segment_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().map(|seg| &seg.ident),
        _ => None,
    }
}

fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .filter(|seg| seg.arguments.is_empty())
            .map(|seg| &seg.ident),
        _ => None,
    }
}

/// `Session` or a path ending in it (`sse_runtime::Session`): the runtime's
/// untyped session, which `route::handler` takes.
fn is_untyped_session(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|ident| ident == "Session")
}

pub fn looks_like_session(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|ident| ident.to_string().ends_with("Session"))
}

/// The runtime's path: `crate = "..."` parsed as a path, or `::sse_runtime`.
/// A value that is not a path is one error, and the default stands in.
pub fn runtime_path(krate: Option<&LitStr>, errors: &mut Errors) -> syn::Path {
    let default = default_runtime_path;
    let Some(lit) = krate else {
        return default();
    };
    match lit.parse::<syn::Path>() {
        Ok(path) => path,
        Err(_) => {
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "`crate` takes the path of the sse-runtime dependency as you named it, such as \
                     `crate = \"::sse\"` for `sse = {{ package = \"sse-runtime\" }}`; {:?} is not a path",
                    lit.value()
                ),
            ));
            default()
        }
    }
}

/// Where the runtime is when the attribute does not say: under the name
/// the crate being compiled gives the `sse-runtime` dependency in its
/// manifest (`sse = { package = "sse-runtime" }` makes it `::sse`), read as
/// serde's and tokio's macros do; `::sse_runtime` otherwise (the runtime
/// names itself that way too, in its own tests and docs).
pub fn default_runtime_path() -> syn::Path {
    manifest_runtime_path().unwrap_or_else(|| syn::parse_quote!(::sse_runtime))
}

/// The runtime as the crate's manifest names it, if it is a dependency of
/// the crate being compiled.
pub fn manifest_runtime_path() -> Option<syn::Path> {
    use proc_macro_crate::{crate_name, FoundCrate};
    match crate_name("sse-runtime") {
        Ok(FoundCrate::Name(name)) if name != "sse_runtime" => {
            let ident = Ident::new(&name, Span::call_site());
            Some(syn::parse_quote!(::#ident))
        }
        Ok(_) => Some(syn::parse_quote!(::sse_runtime)),
        Err(_) => None,
    }
}

/// The route's serializer as the attribute names it.
pub enum Serializer {
    /// No `serializer` key: the runtime's `Text`.
    Default,
    /// `Text` or `Json` as a bare name: what it means where the attribute
    /// is (a serializer of the user's own by that name), or else the
    /// runtime's.
    Builtin(Ident),
    /// Any other path: the user's own serializer type.
    User(syn::Path),
}

impl Serializer {
    fn named(path: Option<syn::Path>) -> Self {
        match path {
            None => Self::Default,
            Some(path) => match path.get_ident() {
                Some(ident) if ident == "Json" || ident == "Text" => Self::Builtin(ident.clone()),
                _ => Self::User(path),
            },
        }
    }

    /// The name shown in generated docs.
    pub fn shown(&self) -> String {
        match self {
            Self::Default => "Text".to_owned(),
            Self::Builtin(ident) => ident.to_string(),
            Self::User(path) => path
                .segments
                .last()
                .map_or_else(String::new, |s| s.ident.to_string()),
        }
    }
}

fn check_events(decls: Vec<EventDecl>, errors: &mut Errors) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    for EventDecl { ty, name } in decls {
        let key = shown(&ty);
        if events.iter().any(|e| shown(&e.ty) == key) {
            errors.push(syn::Error::new_spanned(
                &ty,
                format!("`{key}` is declared twice in `events(...)`; list each type once"),
            ));
            continue;
        }
        let variant = variant_name(&ty, &events, errors);
        // A bad name is reported, and the type stays declared without one (or
        // out of the decoding), so that its sends add no errors of their own.
        let name = name.filter(|lit| event_name_ok(lit, errors));
        let event = Event { ty, name, variant };
        let wire = event.wire_name();
        if let Some(other) = events.iter().find(|e| e.wire_name() == wire) {
            let fix = match &event.name {
                Some(_) => "give each type its own name".to_owned(),
                None => format!(
                    "name it: `{key} = \"{}\"`",
                    event
                        .variant
                        .as_ref()
                        .map_or_else(|| "event".to_owned(), |v| pascal_to_snake(&v.to_string()))
                ),
            };
            let message = format!(
                "`{key}` and `{}` would both be sent as \"{wire}\" events, so clients could not \
                 tell them apart; {fix}",
                shown(&other.ty)
            );
            errors.push(match &event.name {
                Some(lit) => syn::Error::new(lit.span(), message),
                None => syn::Error::new_spanned(&event.ty, message),
            });
        }
        events.push(event);
    }
    events
}

fn event_name_ok(lit: &LitStr, errors: &mut Errors) -> bool {
    let value = lit.value();
    let problem = if value.contains(['\r', '\n']) {
        "an event name cannot contain a line break (CR or LF)"
    } else if value.is_empty() {
        "an empty event name is the default `message`: leave the name out"
    } else {
        return true;
    };
    errors.push(syn::Error::new(lit.span(), problem));
    false
}

/// The variant of a declared type in the generated enum: the last segment of
/// its path, in upper camel case (`Customer`, `model::Product` → `Product`,
/// `Vec<Item>` → `Vec`, `u32` → `U32`).
fn variant_name(ty: &Type, events: &[Event], errors: &mut Errors) -> Option<Ident> {
    let Type::Path(path) = ty else {
        errors.push(syn::Error::new_spanned(
            ty,
            "an event type must be a named type, such as a struct or a type alias: \
             `type Note = &'static str;` then `events(Note)`",
        ));
        return None;
    };
    // Upper camel case, so that `u32` becomes `U32` and the enum stays lint-clean.
    let last = &path.path.segments.last()?.ident;
    let variant = Ident::new(&upper_camel(&unraw(last)), last.span());
    if let Some(other) = events.iter().find(|e| e.variant.as_ref() == Some(&variant)) {
        errors.push(syn::Error::new_spanned(
            ty,
            format!(
                "`{}` and `{}` would both be the variant `{variant}` of the route's event enum; \
                 declare one through a type alias with another name",
                shown(ty),
                shown(&other.ty)
            ),
        ));
        return None;
    }
    Some(variant)
}

/// A type as written, without the spaces token printing adds (`v1::Customer`,
/// `Vec<u8>`).
pub fn shown(ty: &Type) -> String {
    let printed = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(printed.len());
    let mut chars = printed.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let joins = |c: char| matches!(c, ':' | '<' | '>' | '&' | ',');
        // Keep a space only between two word-like tokens, or after a comma.
        if c == ' ' && (out.ends_with(joins) || next.is_some_and(joins)) {
            if out.ends_with(',') {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `ProductUpdate` → `product_update`, for suggesting an event name.
fn pascal_to_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn heartbeat(lit: &LitStr, errors: &mut Errors) -> Heartbeat {
    if lit.value() == "off" {
        return Heartbeat::Off;
    }
    match duration_ms(lit, errors) {
        Some(0) => {
            errors.push(syn::Error::new(
                lit.span(),
                "a zero heartbeat period would never stop sending: use `heartbeat = \"off\"` to \
                 switch heartbeats off",
            ));
            Heartbeat::Inherit
        }
        Some(ms) => Heartbeat::Every(ms),
        None => Heartbeat::Inherit,
    }
}

/// `"gzip"` or `"off"`, as the runtime's `Compression` variant.
fn compression(lit: &LitStr, errors: &mut Errors) -> Option<Ident> {
    let variant = match lit.value().as_str() {
        "gzip" => "Gzip",
        "off" => "Off",
        other => {
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "unknown compression {other:?}: use `compression = \"gzip\"`, or \
                     `compression = \"off\"` for none whatever the server's default"
                ),
            ));
            return None;
        }
    };
    Some(Ident::new(variant, lit.span()))
}

fn retry(lit: &LitStr, errors: &mut Errors) -> Option<u64> {
    let ms = duration_ms(lit, errors)?;
    if ms > MAX_RETRY_MS {
        errors.push(syn::Error::new(
            lit.span(),
            format!("a retry of {ms} ms is more than clients can wait (at most {MAX_RETRY_MS} ms)"),
        ));
        return None;
    }
    Some(ms)
}

/// `"250ms"`, `"10s"`, `"5m"` or `"1h"` in milliseconds.
fn duration_ms(lit: &LitStr, errors: &mut Errors) -> Option<u64> {
    let text = lit.value();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let factor = match unit {
        "ms" => Some(1),
        "s" => Some(1_000),
        "m" => Some(60_000),
        "h" => Some(3_600_000),
        _ => None,
    };
    let ms = factor.and_then(|f| number.parse::<u64>().ok()?.checked_mul(f));
    if ms.is_none() {
        errors.push(syn::Error::new(
            lit.span(),
            format!(
                "cannot read \"{text}\" as a duration: write a whole number and a unit, `ms`, `s`, \
                 `m` or `h`, such as \"10s\""
            ),
        ));
    }
    ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_shown_as_written() {
        for written in [
            "v1::Customer",
            "Vec<u8>",
            "&'static str",
            "HashMap<String, Vec<u8>>",
            "::std::string::String",
            "Box<dyn Error>",
        ] {
            let ty: Type = syn::parse_str(written).unwrap();
            assert_eq!(shown(&ty), written);
        }
    }

    #[test]
    fn snake_case_suggestions() {
        assert_eq!(pascal_to_snake("ProductUpdate"), "product_update");
        assert_eq!(pascal_to_snake("U32"), "u32");
    }

    /// The characters refused in a path are exactly those `http::Uri`
    /// refuses in one (which is what hyper and the fast path parse requests
    /// with).
    #[test]
    fn never_in_a_request_path_is_what_http_refuses() {
        for byte in 0u8..0x80 {
            let c = char::from(byte);
            if c == '?' || c == '#' {
                continue;
            }
            let path = format!("/a{c}b");
            let kept = http::Uri::try_from(path.as_str()).is_ok_and(|uri| uri.path() == path);
            assert_eq!(never_in_a_request_path(c), !kept, "{c:?}");
        }
    }

    #[test]
    fn type_stems() {
        let stem = |s: &str| type_stem(&syn::parse_str::<Ident>(s).unwrap());
        let ok = |s: &str| stem(s).unwrap_or_else(|e| panic!("{s}: {}", e.stem));
        assert_eq!(ok("events"), "Events");
        assert_eq!(ok("my_feed"), "MyFeed");
        assert_eq!(ok("feed2"), "Feed2");
        assert_eq!(ok("feed_v2"), "FeedV2");
        assert_eq!(ok("a1_b"), "A1B");
        assert_eq!(ok("_draft_feed"), "_DraftFeed");
        assert_eq!(ok("r#match"), "Match");
        assert_eq!(ok("événements_du_jour"), "ÉvénementsDuJour");
        let refused = |s: &str| {
            let e = stem(s).err().unwrap();
            (e.stem, e.suggestion)
        };
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(refused("my__feed"), pair("MyFeed", "my_feed"));
        assert_eq!(refused("myFeed"), pair("MyFeed", "my_feed"));
        assert_eq!(refused("MyFeed"), pair("MyFeed", "my_feed"));
        assert_eq!(refused("feed_2"), pair("Feed2", "feed2"));
        assert_eq!(refused("feed_"), pair("Feed", "feed"));
        assert_eq!(refused("type_"), pair("Type", "type"));
        assert_eq!(ok("_2"), "_2");
    }

    /// No two names that are accepted share a stem: over every name of up
    /// to four characters from a small alphabet that covers the cases.
    #[test]
    fn accepted_names_never_share_a_stem() {
        let alphabet = ['a', 'b', 'A', '_', '1'];
        let mut names = vec![String::new()];
        let mut seen = std::collections::HashMap::new();
        for _ in 0..4 {
            names = names
                .iter()
                .flat_map(|name| alphabet.iter().map(move |c| format!("{name}{c}")))
                .collect();
            for name in &names {
                let Ok(ident) = syn::parse_str::<Ident>(name) else {
                    continue;
                };
                if let Ok(stem) = type_stem(&ident) {
                    if let Some(other) = seen.insert(stem.clone(), name.clone()) {
                        panic!("`{name}` and `{other}` both make `{stem}`");
                    }
                }
            }
        }
        assert!(seen.len() > 50, "{}", seen.len());
    }

    #[test]
    fn durations() {
        let mut errors = Errors::default();
        let ms =
            |s: &str, errors: &mut Errors| duration_ms(&LitStr::new(s, Span::call_site()), errors);
        assert_eq!(ms("250ms", &mut errors), Some(250));
        assert_eq!(ms("10s", &mut errors), Some(10_000));
        assert_eq!(ms("2m", &mut errors), Some(120_000));
        assert_eq!(ms("1h", &mut errors), Some(3_600_000));
        assert!(errors.is_empty());
        for bad in ["10", "s", "1.5s", "10 s", "-1s", "99999999999999999999h"] {
            assert_eq!(ms(bad, &mut errors), None, "{bad}");
        }
        assert_eq!(errors.len(), 6);
    }

    #[test]
    fn paths() {
        let mut errors = Errors::default();
        let params =
            |s: &str, errors: &mut Errors| check_path(&LitStr::new(s, Span::call_site()), errors);
        assert_eq!(
            params("/rooms/{room}/users/{user}", &mut errors),
            ["room", "user"]
        );
        assert_eq!(params("/files/{*rest}", &mut errors), ["rest"]);
        assert!(errors.is_empty());
        for bad in [
            "events", "/a/{x", "/a/x}", "/a/{}", "/a/{a-b}", "/{x}/{x}", "/{*a}/b",
        ] {
            assert!(params(bad, &mut errors).is_empty(), "{bad}");
        }
        assert_eq!(errors.len(), 7);
    }
}
