//! Phase 1: the attribute's tokens into [`Args`], recovering after each bad
//! item so that every mistake is reported once and the rest still counts.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token, Type};

use crate::Errors;

/// The keys the attribute accepts, in the order error messages list them.
pub const KEYS: &str = "`method`, `serializer`, `events`, `heartbeat`, `retry`, `compression`, \
     `body_limit`, `body_timeout`, `handler_grace` and `crate`";

/// What the attribute says, before any meaning is checked.
#[derive(Default)]
pub struct Args {
    pub path: Option<LitStr>,
    pub serializer: Option<syn::Path>,
    pub events: Option<Vec<EventDecl>>,
    pub heartbeat: Option<LitStr>,
    pub retry: Option<LitStr>,
    pub compression: Option<LitStr>,
    /// `method = "POST"` or `method = ["GET", "POST"]`, as written.
    pub methods: Option<Vec<LitStr>>,
    pub body_limit: Option<LitStr>,
    pub body_timeout: Option<LitStr>,
    pub handler_grace: Option<LitStr>,
    /// `crate = "path"`: where the runtime is, for a renamed dependency.
    pub krate: Option<LitStr>,
    /// Whether `path` was read from a mistake (`path = "/x"`, an unquoted
    /// `/x`) that is already reported: checked without adding errors.
    pub path_recovered: bool,
    /// Mistakes reported and read as what they meant (a misspelled key as
    /// the key, `path = "/x"` as the path).
    recovered: Vec<syn::Error>,
}

/// One entry of `events(...)`: a type and, optionally, its event name.
pub struct EventDecl {
    pub ty: Type,
    pub name: Option<LitStr>,
}

impl syn::parse::Parse for EventDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let ty: Type = input.parse()?;
        if !input.peek(Token![=]) {
            return Ok(Self { ty, name: None });
        }
        input.parse::<Token![=]>()?;
        if !input.peek(LitStr) {
            return Err(input.error("an event name is a string literal: `Customer = \"customer\"`"));
        }
        Ok(Self {
            ty,
            name: Some(input.parse()?),
        })
    }
}

impl Args {
    /// Parses the attribute's arguments. Never fails: each bad item becomes an
    /// error in `errors` and is skipped.
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = Args::default();
        let parser = |input: ParseStream| {
            let mut first = true;
            while !input.is_empty() {
                if let Err(err) = args.item(input, first) {
                    errors.push(err);
                    skip_to_comma(input);
                }
                first = false;
                if input.is_empty() {
                    break;
                }
                if let Err(err) = input.parse::<Token![,]>() {
                    errors.push(err);
                    skip_to_comma(input);
                    let _ = input.parse::<Option<Token![,]>>();
                }
            }
            Ok(())
        };
        if let Err(err) = parser.parse2(tokens) {
            errors.push(err);
        }
        for err in std::mem::take(&mut args.recovered) {
            errors.push(err);
        }
        args
    }

    fn item(&mut self, input: ParseStream, first: bool) -> syn::Result<()> {
        if input.peek(LitStr) {
            let path: LitStr = input.parse()?;
            if self.path.is_some() {
                return Err(syn::Error::new(
                    path.span(),
                    "a route has one path: remove this one, and mount the function at another \
                     path with `.route_at(\"/path\", function)` where you register it",
                ));
            }
            if !first {
                return Err(syn::Error::new(
                    path.span(),
                    "the path comes first: `#[sse(\"/path\", ...)]`",
                ));
            }
            self.path = Some(path);
            return Ok(());
        }
        if first && input.peek(Token![/]) {
            return self.unquoted_path(input);
        }
        if first && input.peek(syn::LitByteStr) {
            return self.byte_string_path(input);
        }
        if first && !input.peek2(Token![=]) && !input.peek2(syn::token::Paren) {
            if let Ok(path) = input.fork().parse::<syn::Path>() {
                if path
                    .get_ident()
                    .is_none_or(|ident| closest_key(&ident.to_string()).is_none())
                {
                    // Reported, and the route given a path of no consequence
                    // (the crate does not build), so that registering it
                    // adds no second error.
                    self.recovered.push(path_not_literal(input, &path));
                    self.path = Some(LitStr::new("/", Spanned::span(&path)));
                    self.path_recovered = true;
                    return Ok(());
                }
            }
        }
        let key: Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|_| {
            input.error(format!(
                "expected the path (a string literal such as \"/events\") or a key: {KEYS}"
            ))
        })?;
        let name = key.to_string();
        let known = match name.as_str() {
            "path" => {
                let error = |path: &str| {
                    syn::Error::new(
                        key.span(),
                        format!(
                            "the path has no key: write it first, as a string, \
                             `#[sse(\"{path}\", ...)]`"
                        ),
                    )
                };
                // Read as the path, when there is none, so that this is the
                // only error (where the route is registered, too).
                if input.peek(Token![=]) && input.peek2(LitStr) && self.path.is_none() {
                    input.parse::<Token![=]>()?;
                    let path: LitStr = input.parse()?;
                    self.recovered.push(error(&path.value()));
                    self.path = Some(path);
                    self.path_recovered = true;
                    return Ok(());
                }
                return Err(error("/events"));
            }
            "serializer" | "crate" | "heartbeat" | "retry" | "compression" | "events"
            | "method" | "body_limit" | "body_timeout" | "handler_grace" => name.as_str(),
            // The plural reads naturally for a list: taken as the key.
            "methods" => {
                self.recovered.push(syn::Error::new(
                    key.span(),
                    "the key is `method`, for one or several: `method = [\"GET\", \"POST\"]`",
                ));
                "method"
            }
            other => match closest_key(other) {
                // Reported, then read as the key it misspells, so that the
                // misspelling is the only error.
                Some(meant) => {
                    let err = syn::Error::new(
                        key.span(),
                        format!("unknown key `{other}`; did you mean `{meant}`?"),
                    );
                    self.recovered.push(err);
                    meant
                }
                None => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown key `{other}`; the keys are {KEYS}"),
                    ))
                }
            },
        };
        match known {
            "serializer" => {
                let value = value_of(input, &key, "serializer = Json", |input| input.parse())?;
                set_once(&mut self.serializer, value, &key)
            }
            "crate" => {
                let value = value_of(input, &key, "crate = \"::sse\"", parse_lit_str)?;
                set_once(&mut self.krate, value, &key)
            }
            "heartbeat" => {
                let value = value_of(input, &key, "heartbeat = \"10s\"", parse_lit_str)?;
                set_once(&mut self.heartbeat, value, &key)
            }
            "retry" => {
                let value = value_of(input, &key, "retry = \"3s\"", parse_lit_str)?;
                set_once(&mut self.retry, value, &key)
            }
            "compression" => {
                let value = value_of(input, &key, "compression = \"gzip\"", parse_lit_str)?;
                set_once(&mut self.compression, value, &key)
            }
            "method" => {
                let value = value_of(input, &key, "method = \"POST\"", parse_methods)?;
                set_once(&mut self.methods, value, &key)
            }
            "body_limit" => {
                let value = value_of(input, &key, "body_limit = \"4MiB\"", parse_lit_str)?;
                set_once(&mut self.body_limit, value, &key)
            }
            "body_timeout" => {
                let value = value_of(input, &key, "body_timeout = \"10s\"", parse_lit_str)?;
                set_once(&mut self.body_timeout, value, &key)
            }
            "handler_grace" => {
                let value = value_of(input, &key, "handler_grace = \"0s\"", parse_lit_str)?;
                set_once(&mut self.handler_grace, value, &key)
            }
            "events" => {
                if !input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        key.span(),
                        "`events` lists the event types: `events(Customer = \"customer\", Product)`",
                    ));
                }
                let content;
                syn::parenthesized!(content in input);
                let decls = Punctuated::<EventDecl, Token![,]>::parse_terminated(&content);
                if decls.is_err() {
                    // Consume the rest so that syn adds no second error for it.
                    let _ = content.parse::<TokenStream>();
                }
                let decls: Vec<EventDecl> = decls?.into_iter().collect();
                if decls.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`events()` is empty: list the types this route sends, \
                         `events(Customer = \"customer\")`, or remove it to send any type \
                         the serializer encodes",
                    ));
                }
                set_once(&mut self.events, decls, &key)
            }
            other => Err(syn::Error::new(
                key.span(),
                format!("unknown key `{other}`; the keys are {KEYS}"),
            )),
        }
    }
}

impl Args {
    /// `#[sse(/rooms/{room})]`: one error, and the path read as the string it
    /// should be.
    fn unquoted_path(&mut self, input: ParseStream) -> syn::Result<()> {
        let mut tokens = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            tokens.extend([input.parse::<proc_macro2::TokenTree>()?]);
        }
        let text: String = tokens
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let span = tokens.span();
        self.recovered.push(syn::Error::new_spanned(
            &tokens,
            format!("the path is a string literal: `#[sse(\"{text}\")]`"),
        ));
        self.path = Some(LitStr::new(&text, span));
        self.path_recovered = true;
        Ok(())
    }

    /// `#[sse(b"/events")]`: one error, and the path read as the string it
    /// spells.
    fn byte_string_path(&mut self, input: ParseStream) -> syn::Result<()> {
        let bytes: syn::LitByteStr = input.parse()?;
        let Ok(text) = String::from_utf8(bytes.value()) else {
            return Err(syn::Error::new(
                bytes.span(),
                "the path is a string literal, such as \"/events\"",
            ));
        };
        self.recovered.push(syn::Error::new(
            bytes.span(),
            format!("the path is a string literal, not a byte string: `#[sse({text:?})]`"),
        ));
        self.path = Some(LitStr::new(&text, bytes.span()));
        self.path_recovered = true;
        Ok(())
    }
}

/// `#[sse(EVENTS_PATH)]` or `#[sse(concat!(..))]`: an attribute reads
/// tokens, before any constant has a value or any macro expands, so the path
/// is spelled out, or given where the route is mounted.
fn path_not_literal(input: ParseStream, path: &syn::Path) -> syn::Error {
    let mut name = quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "");
    let _ = input.parse::<syn::Path>();
    let mut tokens = quote::ToTokens::to_token_stream(path);
    if let Ok(bang) = input.parse::<Token![!]>() {
        tokens.extend(quote::ToTokens::to_token_stream(&bang));
        if let Ok(group) = input.parse::<proc_macro2::Group>() {
            tokens.extend([proc_macro2::TokenTree::Group(group)]);
        }
        name.push_str("!(..)");
    }
    syn::Error::new_spanned(
        tokens,
        format!(
            "the path is a string literal: an attribute reads its tokens before `{name}` has a \
             value; write it out, `#[sse(\"/events\")]`, or leave it out and mount the function \
             with `.route_at({name}, function)` where you register it"
        ),
    )
}

/// The key `name` is one or two edits away from, if any: a misspelling.
fn closest_key(name: &str) -> Option<&'static str> {
    const ALL: [&str; 10] = [
        "method",
        "serializer",
        "events",
        "heartbeat",
        "retry",
        "compression",
        "body_limit",
        "body_timeout",
        "handler_grace",
        "crate",
    ];
    ALL.into_iter()
        .map(|key| (edit_distance(name, key), key))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, key)| key)
}

/// Levenshtein distance, for the few short words of the attribute.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Parses `= value` after `key`, with an error naming the form expected.
fn value_of<T>(
    input: ParseStream,
    key: &Ident,
    example: &str,
    parse: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> syn::Result<T> {
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` takes a value: `{example}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    parse(input).map_err(|err| syn::Error::new(err.span(), format!("expected `{example}`")))
}

fn parse_lit_str(input: ParseStream) -> syn::Result<LitStr> {
    input.parse()
}

/// `"POST"`, or `["GET", "POST"]`: the strings as written, checked later.
fn parse_methods(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    if input.peek(LitStr) {
        return Ok(vec![input.parse()?]);
    }
    let content;
    syn::bracketed!(content in input);
    let methods = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
    if methods.is_empty() {
        return Err(content.error("list at least one method: `method = [\"GET\", \"POST\"]`"));
    }
    Ok(methods.into_iter().collect())
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate key `{key}`: give it once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Skips tokens up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',') {
                return Ok(((), rest));
            }
            rest = next;
        }
        Ok(((), rest))
    });
}
