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

mod args;
mod body;
mod events;
mod names;
mod path;
mod signature;

pub(crate) use args::looks_like_session;
use args::{all_params_bound, classify_args};
use body::{check_methods, mark_body};
use events::check_events;
use names::{
    event_enum_named_apart, pascal_to_snake, retype_session, type_stem, unraw, upper_camel,
};
use path::check_path;
use signature::{check_signature, require_shareable_error};

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
    /// `method = ..`: the runtime's `Methods` constants, or `None` for the
    /// default (`GET`).
    pub methods: Option<Vec<Ident>>,
    pub body_limit: Option<u64>,
    pub body_timeout_ms: Option<u64>,
    pub handler_grace_ms: Option<u64>,
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
    /// The argument that takes the request body.
    Body(BodyKind),
}

/// How a body extractor is checked where it is declared.
pub enum BodyKind {
    /// `Json<T>`: `T` must deserialize.
    Json(Box<Type>),
    /// `Form<T>`: `T` must deserialize.
    Form(Box<Type>),
    /// `Bytes` or `String`: any body.
    Raw,
    /// Marked `#[body]`: it must implement `FromBody`.
    Marked,
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
    let (mut args_out, args_ok) = classify_args(&mut func, &session, &params, errors);
    callable &= args_ok;
    callable &= args_out
        .iter()
        .filter(|a| matches!(a.kind, ArgKind::Session))
        .count()
        == 1;
    if let Some(path) = &args.path {
        // Its arguments cannot be matched to the path: not called, so that
        // the error is the only one.
        callable &= all_params_bound(path, &params, &args_out, &func, &session, errors);
    }
    let methods = check_methods(args.methods, errors);
    let get_only = methods
        .as_ref()
        .is_none_or(|methods| methods.iter().all(|m| m == "GET"));
    // After the path's checks: an argument meant for a path parameter is
    // reported there, not as a body.
    callable &= mark_body(&mut func, &mut args_out, get_only, callable, errors);
    let runtime = runtime_path(args.krate.as_ref(), errors);
    Route {
        methods,
        body_limit: args.body_limit.and_then(|lit| byte_size(&lit, errors)),
        body_timeout_ms: args.body_timeout.and_then(|lit| {
            let ms = duration_ms(&lit, errors)?;
            if ms == 0 {
                errors.push(syn::Error::new(
                    lit.span(),
                    "a zero body timeout refuses every body not already sent: give the time a \
                     client has to send it, such as \"10s\"",
                ));
                return None;
            }
            Some(ms)
        }),
        handler_grace_ms: args.handler_grace.and_then(|lit| duration_ms(&lit, errors)),
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

/// `"512KiB"`, `"4MiB"`, `"1GiB"`, `"100kB"`, `"2MB"` or `"4096B"` in bytes.
fn byte_size(lit: &LitStr, errors: &mut Errors) -> Option<u64> {
    const UNITS: &[(&str, u64)] = &[
        ("B", 1),
        ("KiB", 1 << 10),
        ("MiB", 1 << 20),
        ("GiB", 1 << 30),
        ("kB", 1_000),
        ("KB", 1_000),
        ("MB", 1_000_000),
        ("GB", 1_000_000_000),
    ];
    quantity(lit, UNITS, errors, |text| {
        format!(
            "cannot read \"{text}\" as a size: write a whole number and a unit, `B`, `KiB`, \
             `MiB`, `GiB` (or `kB`, `MB`, `GB`), such as \"4MiB\""
        )
    })
}

/// `"250ms"`, `"10s"`, `"5m"` or `"1h"` in milliseconds.
fn duration_ms(lit: &LitStr, errors: &mut Errors) -> Option<u64> {
    const UNITS: &[(&str, u64)] = &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];
    quantity(lit, UNITS, errors, |text| {
        format!(
            "cannot read \"{text}\" as a duration: write a whole number and a unit, `ms`, `s`, \
             `m` or `h`, such as \"10s\""
        )
    })
}

/// A whole number followed by one of `units`, in the smallest unit; an
/// error (`message` of the text) when it is not one, or overflows.
fn quantity(
    lit: &LitStr,
    units: &[(&str, u64)],
    errors: &mut Errors,
    message: impl FnOnce(&str) -> String,
) -> Option<u64> {
    let text = lit.value();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let factor = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, f)| f);
    let value = factor.and_then(|f| number.parse::<u64>().ok()?.checked_mul(f));
    if value.is_none() {
        errors.push(syn::Error::new(lit.span(), message(&text)));
    }
    value
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
}
