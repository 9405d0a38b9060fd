//! Phase 3: the route value, its typed session, and their impls.
//!
//! Generated code names the runtime only through `<runtime>::__private::...`
//! paths, made by [`runtime_at`] (`::sse_runtime`, or the `crate = "..."` path of a
//! renamed dependency; a hidden module, so the public API can move without
//! breaking generated code), is wrapped by [`carried`] in one attribute that
//! expands to it, and lands each trait check on the user's token
//! with `quote_spanned!`, so a type error points at the attribute or the
//! signature, not into generated code.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Attribute;

use crate::item::Func;
use crate::validate::{ArgKind, BodyKind, Heartbeat, Route, Serializer};

/// `<runtime>::__private`, every token spanned at `span`: how generated
/// code names the runtime (the one place that writes its path), so that an
/// error in it points at the user's token, as `quote_spanned!` would. A
/// runtime named by `crate = ".."` is named through the alias
/// [`runtime_import`] makes.
fn runtime_at(route: &Route, span: Span) -> TokenStream {
    let runtime = match runtime_alias(route) {
        Some(alias) => quote!(#alias),
        None => {
            let path = &route.runtime;
            quote!(#path)
        }
    };
    quote!(#runtime::__private)
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The name generated code gives a runtime named by `crate = ".."`, one per
/// route (a module's routes have distinct function names), spanned on the
/// attribute's value.
fn runtime_alias(route: &Route) -> Option<syn::Ident> {
    route.runtime_named.then(|| {
        let mut alias = format_ident!("__sse_runtime_of_{}", route.func.sig.ident);
        alias.set_span(route.runtime.span());
        alias
    })
}

/// `use <crate = ..> as <alias>;`: the one place a runtime path the user
/// wrote is resolved. A path that does not resolve is one error, on the
/// attribute's `crate` value; the compiler reports nothing more of the
/// paths that go through the alias, and the items still exist (for the
/// code that registers the route).
fn runtime_import(route: &Route) -> TokenStream {
    let Some(alias) = runtime_alias(route) else {
        return TokenStream::new();
    };
    let runtime = &route.runtime;
    quote_spanned! {alias.span()=>
        #[allow(unused_imports)]
        use #runtime as #alias;
    }
}

/// The path of the route's serializer type. A bare `Json` or `Text` is
/// written as the user wrote it, so that it means what it means in their
/// scope: their own serializer of that name, or else the runtime's, which
/// [`builtin_fallback`] brings in under an import that any item of theirs
/// shadows.
fn serializer(route: &Route) -> TokenStream {
    match &route.serializer {
        Serializer::Default => {
            let rt = runtime_at(route, Span::call_site());
            quote!(#rt::Text)
        }
        Serializer::Builtin(ident) => quote!(#ident),
        Serializer::User(path) => quote!(#path),
    }
}

/// A glob import of the runtime's `Json` and `Text`, where the attribute
/// names one bare: a glob is shadowed by any item or import of the same
/// name in the user's scope, so their own `Json` wins.
fn builtin_fallback(route: &Route) -> TokenStream {
    match &route.serializer {
        Serializer::Builtin(ident) => {
            let rt = runtime_at(route, ident.span());
            quote! {
                #[allow(unused_imports)]
                use #rt::serializers::*;
            }
        }
        _ => TokenStream::new(),
    }
}

/// Checks, on the attribute's token, that the serializer is one, whether
/// or not anything is ever sent: a statement of the `send` body, which is
/// type-checked whether or not it is called (and where a name that does
/// not resolve is the same error as in its signature, reported once).
fn serializer_check(route: &Route) -> TokenStream {
    let span = match &route.serializer {
        Serializer::Default => return TokenStream::new(),
        Serializer::Builtin(ident) => ident.span(),
        Serializer::User(path) => path.span(),
    };
    let rt = runtime_at(route, span);
    let serializer = serializer(route);
    quote_spanned! {span=>
        let _ = #rt::assert_format::<#serializer>;
    }
}

/// Why a function `#[sse]` is on cannot be a route, known from the function
/// alone.
pub enum Misplaced {
    /// It has no body: a trait's function.
    Bodiless,
    /// It takes `self` or names `Self`: an `impl`'s or a trait's.
    Method,
}

/// A function that cannot be a route: one error, and the function emitted
/// as it was, with any `...Session` argument typed as the runtime's
/// `Session`, so that the name that now exists nowhere is not a second error.
/// Nothing else is emitted: in an `impl` block or a trait, a struct would be
/// an error of its own.
pub fn misplaced(mut func: Func, why: Misplaced) -> TokenStream {
    let message = match why {
        Misplaced::Bodiless => {
            "`#[sse]` goes on a free `async fn` with a body, not on a trait's function: a route \
             is one function; declare it outside the trait (it may call the trait's methods)"
        }
        Misplaced::Method => {
            "`#[sse]` goes on a free `async fn`, not on a method: a route is one function; \
             declare it outside the `impl` or trait, without `self` (it may call the type's \
             methods)"
        }
    };
    let err = syn::Error::new(func.sig.fn_token.span, message);
    let runtime = crate::validate::default_runtime_path();
    for arg in func.sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(arg) = arg {
            if crate::validate::looks_like_session(&arg.ty) {
                *arg.ty = syn::parse_quote!(#runtime::Session);
            }
        }
    }
    // Without `self`: a free function that takes it is an error of its own
    // (where a method's callers are the user's to change); a body that uses
    // it is not emitted (it would be an error without the receiver).
    let receiver = func.sig.receiver().is_some();
    func.sig.inputs = std::mem::take(&mut func.sig.inputs)
        .into_iter()
        .filter(|arg| matches!(arg, syn::FnArg::Typed(_)))
        .collect();
    let Func {
        attrs,
        vis,
        sig,
        body,
    } = func;
    let (body, unused) = match receiver && crate::item::mentions(&body, "self") {
        true => (
            quote!({ ::core::unreachable!() }),
            quote!(#[allow(unused_variables)]),
        ),
        false => (body, quote!()),
    };
    let mut out = err.to_compile_error();
    out.extend(quote!(#(#attrs)* #unused #vis #sig #body));
    out
}

/// `items` as the arguments of the runtime's `__emit` attribute on a
/// placeholder struct, which expands to them. At a module's level (or in a
/// block) that is the items; in an `impl` block, where a free function
/// without `self` cannot be told from an associated one, the struct is the
/// compiler's one error ("struct is not supported in `impl`s ... move it
/// out to a nearby module scope", on the attribute) and nothing else is
/// expanded, where the items themselves would be an error per kind of item
/// and one more for each name they define.
///
/// The attribute is named through the runtime the crate's manifest names
/// when there is one (so that a `crate = ".."` that does not resolve is
/// the alias import's one error, not the carrier's, which would take the
/// items with it), else through `crate = ".."` (a runtime reached through
/// another crate).
pub fn carried(route: &Route, items: TokenStream) -> TokenStream {
    let runtime = match crate::validate::manifest_runtime_path() {
        Some(path) => path,
        None => route.runtime.clone(),
    };
    quote! {
        #[#runtime::__private::__emit(#items)]
        struct __SseRoute;
    }
}

/// Where each attribute of the user's function goes: `cfg` on every
/// generated item (the route exists exactly when the function would);
/// docs and `deprecated` on the route function users name (`.route(feed)`
/// warns, the definition does not); everything else (`tracing::instrument`,
/// lint levels, `inline`, ...) on the handler, which keeps the user's name
/// (and is hidden from the docs: the route function is what users see).
struct Placed<'a> {
    cfgs: Vec<&'a Attribute>,
    on_route_fn: Vec<&'a Attribute>,
    on_handler: Vec<&'a Attribute>,
}

fn place(attrs: &[Attribute]) -> Placed<'_> {
    let mut placed = Placed {
        cfgs: Vec::new(),
        on_route_fn: Vec::new(),
        on_handler: Vec::new(),
    };
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("cfg") {
            placed.cfgs.push(attr);
        } else if path.is_ident("doc") || path.is_ident("deprecated") {
            placed.on_route_fn.push(attr);
        } else {
            placed.on_handler.push(attr);
        }
    }
    placed
}

/// `items` with `prefix` (attributes) in front of each top-level item.
/// Generated items end with a brace group or a `;` at the top level;
/// attributes are bracket groups, so they stay with the item they precede.
fn each_item(items: TokenStream, prefix: &TokenStream) -> TokenStream {
    if prefix.is_empty() {
        return items;
    }
    let mut out = TokenStream::new();
    let mut item = TokenStream::new();
    for token in items {
        let ends = match &token {
            proc_macro2::TokenTree::Group(group) => {
                group.delimiter() == proc_macro2::Delimiter::Brace
            }
            proc_macro2::TokenTree::Punct(punct) => punct.as_char() == ';',
            _ => false,
        };
        item.extend([token]);
        if ends {
            out.extend(prefix.clone());
            out.extend(std::mem::take(&mut item));
        }
    }
    out.extend(item);
    out
}

pub fn route(route: &Route) -> TokenStream {
    let name = &route.func.sig.ident;
    let vis = &route.func.vis;
    let Placed {
        cfgs,
        on_route_fn: docs,
        on_handler: attrs,
    } = place(&route.func.attrs);
    let route_doc = format!("The route declared by `#[sse]` on [`{name}`].");
    let path_doc = match &route.path {
        Some(path) => format!("Served at `{}`.", path.value()),
        None => "Mounted with `Server::route_at`.".to_owned(),
    };
    let route_ty = &route.route;
    let session = session(route);
    let route_impl = route_impl(route);
    let events = event_impls(route);
    let event_enum = event_enum(route);
    // The handler keeps the user's name (a span of `#[instrument]` is named
    // after it), as an associated function of the route type.
    let mut handler_sig = route.func.sig.clone();
    // Reported by validation if present; left out so that it is the only error.
    handler_sig.abi = None;
    handler_sig.constness = None;
    // `unsafe` stays: the body may rely on it, and a handler reported as
    // unsafe is never called.
    let body = &route.func.body;
    // A body that does not parse is the compiler's to report, once: kept
    // for the IDE (completion after `session.`), but as a value thrown
    // away, so that what the compiler recovers from it is no second error.
    let body = match syn::parse2::<syn::Block>(body.clone()) {
        Ok(_) => body.clone(),
        Err(_) => quote!({
            let _ = #body;
            ::core::unreachable!()
        }),
    };
    // A handler that is never called (its signature was reported) would be
    // dead code on top of the error.
    let unused = (!route.callable).then(|| quote!(#[allow(dead_code)]));
    // A route never registered is reported once, on the route function, as
    // any unused function is: a handler that is called is used from here,
    // whatever the route's fate (an `allow` would clash with a crate's
    // `forbid(dead_code)`).
    let handler_fn = &route.func.sig.ident;
    let handler_used = route
        .callable
        .then(|| quote!(const _: () = { let _ = #route_ty::#handler_fn; };));
    let fallback = builtin_fallback(route);
    // Spanned on the user's tokens, so that an unregistered route is the
    // compiler's "function `feed` is never used", as any function would be
    // (it skips what a macro wrote); the handler is then used by the route.
    let fn_token = route.func.sig.fn_token;
    let route_fn_item =
        quote_spanned!(name.span()=> #vis #fn_token #name() -> #route_ty { #route_ty });
    // The route function carries the user's docs: lints about docs stay on.
    let route_fn = quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #path_doc]
        #[doc = ""]
        #[doc = "Register it with `Server::route` (or `route_at`); generated by `#[sse]`."]
        #[allow(
            clippy::must_use_candidate,
            clippy::single_call_fn,
            clippy::missing_inline_in_public_items,
            clippy::missing_const_for_fn
        )]
        #route_fn_item
    };
    let dropped_sse = &route.dropped_sse;
    let import = runtime_import(route);
    let generated = quote! {
        #import
        #fallback
        #(use #dropped_sse as _;)*

        #[doc = #route_doc]
        #[derive(Clone, Copy, Debug, Default)]
        // The names of a route whose function's name was refused are `__sse_..._of_<fn>`.
        #[allow(non_camel_case_types)]
        #vis struct #route_ty;

        #route_impl
        #session
        #events
        #event_enum
    };
    // Code the user did not write raises none of the lints they may turn on
    // (`clippy::pedantic`, `nursery`, `restriction`: `question_mark_used` on
    // an extraction, `exhaustive_structs` on the session, ...). The user's
    // body is in the handler, which is not covered.
    let generated = each_item(
        generated,
        &quote!(#[allow(clippy::pedantic, clippy::nursery, clippy::restriction)]),
    );
    let handler = quote! {
        impl #route_ty {
            #(#attrs)*
            // Documented by the route function (`missing_docs` asks for
            // docs there, once).
            #[doc(hidden)]
            // `async` is what the route requires, even of a body that never
            // awaits; the route calls it, once.
            #[allow(clippy::too_many_arguments, clippy::unused_async, clippy::single_call_fn)]
            #unused
            #handler_sig #body
        }
    };
    each_item(
        quote!(#route_fn #generated #handler #handler_used),
        &quote!(#(#cfgs)*),
    )
}

fn session(route: &Route) -> TokenStream {
    let rt = runtime_at(route, Span::call_site());
    let fn_name = &route.func.sig.ident;
    let name = &route.route;
    let vis = &route.func.vis;
    let session = &route.session;
    let serializer = serializer(route);
    let check = serializer_check(route);
    let doc = format!(
        "The session of the [`{fn_name}`] route, generated by `#[sse]`: `send` accepts {}; \
         everything else of [`sse_runtime::Session`] is available through `Deref`.",
        match &route.events {
            Some(events) => format!(
                "only its declared event types ({})",
                events
                    .iter()
                    .map(|e| format!("`{}`", crate::validate::shown(&e.ty)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!(
                "any type its serializer (`{}`) can encode",
                route.serializer.shown()
            ),
        }
    );
    let send = match &route.events {
        Some(_) => quote! {
            /// Sends a value of one of this route's declared event types, with its
            /// event name. Set the id or retry on the returned future before
            /// awaiting it.
            pub fn send<__T>(&self, __sse_value: __T)
                -> #rt::SendDeclared<'_, #name, __T>
            where
                __T: #rt::EventOf<#name>,
            {
                #rt::send_declared::<#name, __T>(&self.inner, __sse_value)
            }
        },
        None => quote! {
            /// Sends a value as an event's data, encoded by this route's
            /// serializer. Set the event name, id or retry on the returned
            /// future before awaiting it.
            pub fn send<__T>(&self, __sse_value: __T) -> #rt::SendValue<'_, #serializer, __T>
            where
                #serializer: #rt::Serializer<__T>,
            {
                #check
                self.inner.send_value(<#serializer as ::core::default::Default>::default(), __sse_value)
            }
        },
    };
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug)]
        #[allow(non_camel_case_types)]
        #vis struct #session {
            inner: #rt::Session,
        }

        impl #session {
            #send

            /// Sends a raw event, for anything the declared types do not cover.
            pub fn send_event(&self, __sse_event: #rt::Event) -> #rt::SendEvent<'_> {
                self.inner.send(__sse_event)
            }
        }

        impl #rt::SessionOf<#name> for #session {
            fn session(&self) -> &#rt::Session {
                &self.inner
            }
        }

        impl ::core::ops::Deref for #session {
            type Target = #rt::Session;

            fn deref(&self) -> &#rt::Session {
                &self.inner
            }
        }
    }
}

fn route_impl(route: &Route) -> TokenStream {
    let rt = runtime_at(route, Span::call_site());
    let name = &route.route;
    let handler = &route.func.sig.ident;
    let session = &route.session;
    let options = options(route);
    let start = if route.callable {
        let bindings: Vec<_> = (0..route.args.len())
            .map(|i| format_ident!("__sse_arg{}", i))
            .collect();
        let extractions = route.args.iter().zip(&bindings).map(|(arg, binding)| {
            let ty = &arg.ty;
            let span = ty.span();
            match &arg.kind {
                ArgKind::Session => quote!(),
                ArgKind::PathParam(param) => {
                    let rt = runtime_at(route, span);
                    quote_spanned! {span=>
                        let #binding: #ty = #rt::path_param::<#ty>(__sse_request, #param)?;
                    }
                }
                ArgKind::Extractor => {
                    let rt = runtime_at(route, span);
                    quote_spanned! {span=>
                        let #binding: #ty = #rt::refusal(
                            <#ty as #rt::FromRequest<__S>>::from_request(__sse_request, &*__sse_state).await,
                        )?;
                    }
                }
                // Extracted once the body is read, below.
                ArgKind::Body(_) => quote!(),
            }
        });
        // `Json<T>` and `Form<T>` are read through a call spanned on `T`,
        // so that a `T` that does not deserialize is one error there.
        let body_extraction = route.args.iter().zip(&bindings).find_map(|(arg, binding)| {
            let ArgKind::Body(kind) = &arg.kind else {
                return None;
            };
            let ty = &arg.ty;
            Some(match kind {
                BodyKind::Json(inner) | BodyKind::Form(inner) => {
                    let span = inner.span();
                    let rt = runtime_at(route, span);
                    let read = match kind {
                        BodyKind::Json(_) => quote_spanned!(span=> <#inner as #rt::JsonBody>::json_body),
                        _ => quote_spanned!(span=> <#inner as #rt::FormBody>::form_body),
                    };
                    quote_spanned! {span=>
                        let #binding: #ty = #read(__sse_request, &__sse_body)?;
                    }
                }
                BodyKind::Raw | BodyKind::Marked => {
                    let span = ty.span();
                    let rt = runtime_at(route, span);
                    quote_spanned! {span=>
                        let #binding: #ty = #rt::refusal(
                            <#ty as #rt::FromBody<__S>>::from_body(__sse_request, __sse_body, &*__sse_state).await,
                        )?;
                    }
                }
            })
        });
        let session_binding = route
            .args
            .iter()
            .zip(&bindings)
            .find(|(arg, _)| matches!(arg.kind, ArgKind::Session))
            .map(|(_, binding)| quote!(let #binding = #session { inner: __sse_session };));
        let output_span = match &route.func.sig.output {
            syn::ReturnType::Default => name.span(),
            syn::ReturnType::Type(_, ty) => ty.span(),
        };
        let rt_out = runtime_at(route, output_span);
        let finish = quote_spanned! {output_span=>
            #rt_out::HandlerOutput::into_result(__sse_running.await)
        };
        let boxed = quote_spanned! {name.span()=>
            ::std::boxed::Box::pin(async move {
                let __sse_running = #name::#handler(#(#bindings),*);
                #finish
            })
        };
        // The future outlives the borrow of the state: it shares it, when
        // an extractor needs it.
        let take_state = (extractors(route).next().is_some() || body_extraction.is_some())
            .then(|| quote!(let __sse_state = ::std::sync::Arc::clone(__sse_state);));
        let started = match &body_extraction {
            None => quote! {
                #session_binding
                let __sse_running: #rt::HandlerFuture = #boxed;
                ::core::result::Result::Ok(#rt::Started::Handler(__sse_running))
            },
            // The head was accepted: the router reads the body, then the
            // body extractor runs and the handler starts.
            Some(body_extraction) => quote! {
                let __sse_then: #rt::BodyThen = ::std::boxed::Box::new(
                    move |__sse_body: #rt::Bytes| -> #rt::StartFuture {
                        ::std::boxed::Box::pin(async move {
                            let __sse_request = __sse_session.request();
                            #body_extraction
                            #session_binding
                            let __sse_running: #rt::HandlerFuture = #boxed;
                            ::core::result::Result::Ok(#rt::Started::Handler(__sse_running))
                        })
                    },
                );
                ::core::result::Result::Ok(#rt::Started::Body(__sse_then))
            },
        };
        quote! {
            #take_state
            ::std::boxed::Box::pin(async move {
                let __sse_request = __sse_session.request();
                #(#extractions)*
                #started
            })
        }
    } else {
        // The signature was reported as an error; do not call the handler, so
        // that the report is the only error.
        quote! {
            let _ = (__sse_session, __sse_state);
            ::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Err(
                #rt::Rejection::new(
                    #rt::StatusCode::INTERNAL_SERVER_ERROR,
                    "this route failed to compile",
                ),
            )))
        }
    };
    let route_path = route.path.as_ref().map(|path| {
        quote! {
            impl #rt::RoutePath for #name {
                fn path(&self) -> &str {
                    #path
                }
            }
        }
    });
    // The route serves any router whose state its extractors can take what
    // they need from; a `State<T>` the state does not provide fails on its
    // bound (spanned on the argument's type) where the route is registered.
    let bounds = if route.callable {
        let head = extractors(route).map(|ty| {
            let rt = runtime_at(route, ty.span());
            quote_spanned!(ty.span()=> #ty: #rt::FromRequest<__S>,)
        });
        // A body extractor of the user's own, like a head extractor, is
        // checked where the route is registered (it may need the state).
        let body = route.args.iter().filter_map(|arg| match &arg.kind {
            ArgKind::Body(BodyKind::Marked) => {
                let ty = &arg.ty;
                let rt = runtime_at(route, ty.span());
                Some(quote_spanned!(ty.span()=> #ty: #rt::FromBody<__S>,))
            }
            _ => None,
        });
        head.chain(body).collect()
    } else {
        TokenStream::new()
    };
    let declared_body = declared_body(route);
    quote! {
        #declared_body

        impl<__S> #rt::Route<__S> for #name
        where
            __S: ::core::marker::Send + ::core::marker::Sync + 'static,
            #bounds
        {
            fn options(&self) -> #rt::RouteOptions {
                #options
            }

            fn start(
                &self,
                __sse_session: #rt::Session,
                __sse_state: &::std::sync::Arc<__S>,
            ) -> #rt::StartFuture {
                #start
            }
        }

        #route_path
    }
}

/// `DeclaredBody` for a route whose body argument is `Json<T>` or
/// `Form<T>`: what the typed client sends it.
fn declared_body(route: &Route) -> TokenStream {
    let Some((inner, form)) = route.args.iter().find_map(|arg| match &arg.kind {
        ArgKind::Body(BodyKind::Json(inner)) => Some((inner, false)),
        ArgKind::Body(BodyKind::Form(inner)) => Some((inner, true)),
        _ => None,
    }) else {
        return TokenStream::new();
    };
    // A body argument is only accepted on a route some method with a body
    // opens.
    let Some(method) = route
        .methods
        .iter()
        .flatten()
        .find(|method| *method != "GET")
    else {
        return TokenStream::new();
    };
    let rt = runtime_at(route, Span::call_site());
    let name = &route.route;
    quote! {
        impl #rt::DeclaredBody for #name {
            type Body = #inner;
            const METHOD: #rt::Method = #rt::Method::#method;
            const FORM: bool = #form;
        }
    }
}

/// The types of the handler's extractor arguments.
fn extractors(route: &Route) -> impl Iterator<Item = &syn::Type> {
    route
        .args
        .iter()
        .filter(|arg| matches!(arg.kind, ArgKind::Extractor))
        .map(|arg| &arg.ty)
}

fn options(route: &Route) -> TokenStream {
    let rt = runtime_at(route, Span::call_site());
    let heartbeat = match route.heartbeat {
        Heartbeat::Inherit => quote!(),
        Heartbeat::Off => quote!(let __sse_options = __sse_options.no_heartbeat();),
        Heartbeat::Every(ms) => quote! {
            let __sse_options = __sse_options.heartbeat(#rt::Heartbeat::every(
                ::core::time::Duration::from_millis(#ms),
            ));
        },
    };
    let retry = route.retry_ms.map(
        |ms| quote!(let __sse_options = __sse_options.retry(::core::time::Duration::from_millis(#ms));),
    );
    let compression = route
        .compression
        .as_ref()
        .map(|variant| quote!(let __sse_options = __sse_options.compression(#rt::Compression::#variant);));
    let methods = route.methods.as_ref().map(|methods| {
        let each = methods.iter().map(|method| quote!(#rt::Methods::#method));
        quote!(let __sse_options = __sse_options.methods(#rt::Methods::NONE #(| #each)*);)
    });
    let body_limit = route.body_limit.map(|bytes| {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        quote!(let __sse_options = __sse_options.body_limit(#bytes);)
    });
    let body_timeout = route.body_timeout_ms.map(|ms| {
        quote!(let __sse_options = __sse_options.body_timeout(::core::time::Duration::from_millis(#ms));)
    });
    let handler_grace = route.handler_grace_ms.map(|ms| {
        quote!(let __sse_options = __sse_options.handler_grace(::core::time::Duration::from_millis(#ms));)
    });
    quote! {
        let __sse_options = #rt::RouteOptions::new();
        #heartbeat
        #retry
        #compression
        #methods
        #body_limit
        #body_timeout
        #handler_grace
        __sse_options
    }
}

/// `EventOf<route>` for each declared type. The encoding calls the route's
/// serializer right here, spanned on the type in the attribute, so a type the
/// serializer cannot encode is reported there and not at some later `send`.
fn event_impls(route: &Route) -> TokenStream {
    let rt = runtime_at(route, Span::call_site());
    let Some(events) = &route.events else {
        return quote!();
    };
    let name = &route.route;
    let serializer = serializer(route);
    let impls = events.iter().map(|event| {
        let ty = &event.ty;
        let event_name = match &event.name {
            Some(lit) => quote!(::core::option::Option::Some(#lit)),
            None => quote!(::core::option::Option::None),
        };
        let rt_ty = runtime_at(route, ty.span());
        let encode = quote_spanned! {ty.span()=>
            <#ty as #rt_ty::EncodeWith<#serializer>>::encode_with(self, __sse_out)
        };
        quote! {
            impl #rt::EventOf<#name> for #ty {
                const NAME: ::core::option::Option<&'static str> = #event_name;

                fn encode(
                    &self,
                    __sse_out: &mut #rt::DataWriter<'_>,
                ) -> ::core::result::Result<(), #rt::SerializeError> {
                    #encode
                }
            }
        }
    });
    quote!(#(#impls)*)
}

/// `<PascalCase>Event`: one variant per declared type, which the typed client
/// yields, decoding each event by its name with the route's serializer.
fn event_enum(route: &Route) -> TokenStream {
    let rt = runtime_at(route, Span::call_site());
    let Some(events) = &route.events else {
        return quote!();
    };
    let vis = &route.func.vis;
    let fn_name = &route.func.sig.ident;
    let name = &route.route;
    let enum_name = &route.event_enum;
    let serializer = serializer(route);
    let variants: Vec<_> = events
        .iter()
        .filter_map(|event| Some((event.variant.as_ref()?, event)))
        .collect();
    let doc = format!(
        "The event types the [`{fn_name}`] route declares, generated by `#[sse]`: \
         what `EventSource::typed::<{name}>()` yields."
    );
    let declarations = variants.iter().map(|(variant, event)| {
        let ty = &event.ty;
        let doc = format!("A `{}` event.", event.wire_name());
        quote!(#[doc = #doc] #variant(#ty))
    });
    let names = variants.iter().map(|(variant, event)| {
        let wire = event.wire_name();
        quote!(Self::#variant(ref __sse_value) => {
            let _ = __sse_value;
            #wire
        })
    });
    let bounds = variants.iter().map(|(_, event)| {
        let ty = &event.ty;
        quote!(#ty: #rt::DecodeWith<__S>)
    });
    // After an error a wire name may repeat; its first type takes it.
    let mut seen = Vec::new();
    let arms = variants.iter().filter_map(|(variant, event)| {
        let wire = event.wire_name();
        if seen.contains(&wire) {
            return None;
        }
        seen.push(wire.clone());
        let ty = &event.ty;
        Some(quote! {
            #wire => ::core::option::Option::Some(
                <#ty as #rt::DecodeWith<__S>>::decode_with(__sse_data).map(Self::#variant),
            ),
        })
    });
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis enum #enum_name {
            #(#declarations,)*
        }

        // Reads every variant's value, so a server that never constructs
        // the enum has no dead field to warn of, whatever its lints.
        impl #rt::EventEnum for #enum_name {
            fn event_name(&self) -> &'static str {
                match *self {
                    #(#names)*
                }
            }
        }

        impl #rt::DeclaredEvents for #name {
            type Event = #enum_name;
            type Serializer = #serializer;
        }

        impl<__S> #rt::DecodeEvent<__S> for #enum_name
        where
            #(#bounds,)*
        {
            fn decode_event(
                __sse_event: &str,
                __sse_data: &str,
            ) -> ::core::option::Option<::core::result::Result<Self, #rt::DecodeError>> {
                match __sse_event {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}
