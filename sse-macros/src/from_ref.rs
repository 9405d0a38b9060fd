//! `#[derive(FromRef)]`: each field of a state struct becomes a state that a
//! route can take with `State<FieldType>`.
//!
//! One phase is enough here: read the struct and its `#[from_ref(..)]`
//! attributes, reporting each mistake on its token, then write one
//! `FromRef` impl per field that is neither skipped nor a second field of
//! an already taken type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, LitStr};

use crate::Errors;

pub fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let krate = struct_options(&input.attrs, &mut errors);
    let runtime = crate::validate::runtime_path(krate.as_ref(), &mut errors);
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            return not_a_struct(data.enum_token.span, "an enum");
        }
        Data::Union(data) => {
            return not_a_struct(data.union_token.span, "a union");
        }
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut taken: Vec<(String, String)> = Vec::new();
    let mut impls = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        if field_is_skipped(&field.attrs, &mut errors) {
            continue;
        }
        let ty = &field.ty;
        let shown = quote!(#ty).to_string();
        let field_name = match &field.ident {
            Some(ident) => format!("`{ident}`"),
            None => format!("`{index}`"),
        };
        if let Some((first, _)) = taken.iter().find(|(_, taken_ty)| *taken_ty == shown) {
            errors.push(syn::Error::new(
                ty.span(),
                format!(
                    "fields {first} and {field_name} both have type `{shown}`, so `State<{shown}>` \
                     could take either: mark all but one `#[from_ref(skip)]`, or give each its \
                     own type (a newtype)"
                ),
            ));
            continue;
        }
        taken.push((field_name, shown));
        let member = match &field.ident {
            Some(ident) => quote!(#ident),
            None => {
                let index = syn::Index::from(index);
                quote!(#index)
            }
        };
        let clone = quote_spanned! {ty.span()=>
            ::core::clone::Clone::clone(&__sse_state.#member)
        };
        impls.push(quote! {
            impl #impl_generics #runtime::__private::FromRef<#name #ty_generics> for #ty #where_clause {
                fn from_ref(__sse_state: &#name #ty_generics) -> Self {
                    #clone
                }
            }
        });
    }
    let mut out = quote!(#(#impls)*);
    out.extend(errors.into_compile_errors());
    out
}

fn not_a_struct(span: proc_macro2::Span, what: &str) -> TokenStream {
    syn::Error::new(
        span,
        format!(
            "`FromRef` derives on a struct of state, not {what}: each field's type becomes a \
             state that a route takes with `State<FieldType>`"
        ),
    )
    .to_compile_error()
}

/// `#[from_ref(crate = "path")]` on the struct: the runtime's path.
fn struct_options(attrs: &[Attribute], errors: &mut Errors) -> Option<LitStr> {
    let mut krate = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("from_ref")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = Some(meta.value()?.parse::<LitStr>()?);
                Ok(())
            } else if meta.path.is_ident("skip") {
                Err(meta.error("`skip` goes on a field, not on the struct"))
            } else {
                Err(meta.error(
                    "unknown `from_ref` option: the struct takes `crate = \"path\"` (where \
                     sse-runtime is, when renamed), a field takes `skip`",
                ))
            }
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    krate
}

/// Whether a field is marked `#[from_ref(skip)]`.
fn field_is_skipped(attrs: &[Attribute], errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("from_ref")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else if meta.path.is_ident("crate") {
                Err(meta.error("`crate` goes on the struct, not on a field"))
            } else {
                Err(meta.error(
                    "unknown `from_ref` option: a field takes `skip` (no `FromRef` for its type)",
                ))
            }
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    skip
}
