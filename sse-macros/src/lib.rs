//! The `#[sse]` attribute and `#[derive(FromRef)]` of `sse-runtime`.
//!
//! Depend on `sse-runtime`, which re-exports the attribute and documents it in
//! full; the generated code names the runtime as `::sse_runtime`.
//!
//! The macro works in three phases, each in its own module: `parse` reads
//! the attribute's tokens, `validate` checks what they and the function mean
//! and builds the model, and `expand` writes the route value, its session
//! type and their impls. Every phase reports problems as errors on the user's
//! tokens and carries on, so a mistake is reported once and the items are
//! still emitted for IDEs.
#![forbid(unsafe_code)]

mod expand;
mod from_ref;
mod item;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Declares a Server-Sent Events endpoint. See `sse_runtime::sse` for the
/// full documentation.
#[proc_macro_attribute]
pub fn sse(attr: TokenStream, item: TokenStream) -> TokenStream {
    sse_impl(attr.into(), item.into()).into()
}

/// Derives `FromRef` of a state struct for each of its fields' types. See
/// `sse_runtime::extract::FromRef` for the full documentation.
#[proc_macro_derive(FromRef, attributes(from_ref))]
pub fn derive_from_ref(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => from_ref::derive(input).into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn sse_impl(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let func = match syn::parse2::<item::Item>(item.clone()) {
        Ok(item::Item::Func(func)) if item::is_method(&func.sig) => {
            return expand::misplaced(func, expand::Misplaced::Method)
        }
        Ok(item::Item::Func(func)) => func,
        Ok(item::Item::Bodiless(func)) => {
            return expand::misplaced(func, expand::Misplaced::Bodiless)
        }
        Err(_) => {
            if let Some((func, kept)) = item::unparsed_fn(&item) {
                return stand_in(attr, func, kept);
            }
            let err = syn::Error::new_spanned(
                &item,
                "`#[sse]` goes on an `async fn` that takes the route's session",
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut errors = Errors::default();
    let args = parse::Args::parse(attr, &mut errors);
    let route = validate::route(args, func, &mut errors);
    let mut out = expand::route(&route);
    out.extend(errors.into_compile_errors());
    expand::carried(&route, out)
}

/// The route of a function whose signature does not parse, generated from
/// the stand-in `func` (see `item::unparsed_fn`), beside the function's
/// tokens `kept`: only the attribute's own errors are reported, since what
/// the stand-in lacks (its session, its arguments) is not the user's
/// mistake, and the compiler has reported the signature's.
fn stand_in(
    attr: proc_macro2::TokenStream,
    func: item::Func,
    kept: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = Errors::default();
    let args = parse::Args::parse(attr, &mut errors);
    let mut route = validate::route(args, func, &mut Errors::default());
    route.callable = false;
    let mut out = expand::route(&route);
    out.extend(errors.into_compile_errors());
    out.extend(kept);
    expand::carried(&route, out)
}

/// Emits its arguments in place of the item it is put on: what `#[sse]`'s
/// output is wrapped in, so that in an `impl` block, where a struct cannot
/// be, the compiler reports the one misplaced struct and expands nothing
/// else (see `expand::carried`). Not public API.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn __emit(args: TokenStream, _carrier: TokenStream) -> TokenStream {
    args
}

/// The errors found so far, each reported on its own token.
#[derive(Default)]
struct Errors(Vec<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        self.0.push(error);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.0.into_iter().map(|e| e.to_compile_error()).collect()
    }
}
