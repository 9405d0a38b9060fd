//! The function `#[sse]` marks, read without parsing its body: a body that
//! does not parse yet (mid-typing `session.`) is handed to the compiler as
//! it is, so its parse error is the only error and the route and session
//! types still exist for the rest of the crate and the IDE.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Signature, Token, Visibility};

/// An `fn` item: attributes, visibility, signature, and the body's tokens.
pub struct Func {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// The body, braces included, unparsed.
    pub body: TokenStream,
}

/// What the attribute was put on.
pub enum Item {
    /// A function with a body: a route.
    Func(Func),
    /// A function without one, as in a trait: its tokens, to emit as they
    /// are, with the error.
    Bodiless(Func),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        if input.peek(Token![;]) {
            let semi: Token![;] = input.parse()?;
            let body = quote::quote!(#semi);
            return Ok(Item::Bodiless(Func {
                attrs,
                vis,
                sig,
                body,
            }));
        }
        let body: TokenTree = input.parse()?;
        match &body {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {}
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "expected the function's body",
                ))
            }
        }
        Ok(Item::Func(Func {
            attrs,
            vis,
            sig,
            body: body.into(),
        }))
    }
}

/// Whether the function can only be an `impl`'s or a trait's: it takes
/// `self`, or names `Self` in its signature.
pub fn is_method(sig: &Signature) -> bool {
    sig.receiver().is_some() || mentions(&quote::quote!(#sig), "Self")
}

/// Whether `tokens` have the identifier `word`, at any depth.
pub fn mentions(tokens: &TokenStream, word: &str) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == word,
        TokenTree::Group(group) => mentions(&group.stream(), word),
        _ => false,
    })
}

/// A function whose signature does not parse (`fn feed(session,)`, mid-
/// typing): the compiler has reported that already, since it parses an item
/// before it hands it to an attribute. What stands in for it, so that its
/// error is the only one: a function with its name, attributes and
/// visibility and nothing else, for the route; and its tokens under a hidden
/// name, for the compiler (and the IDE) to check as they are, never called.
pub fn unparsed_fn(tokens: &TokenStream) -> Option<(Func, TokenStream)> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let at = trees.windows(2).position(|pair| {
        matches!(&pair[0], TokenTree::Ident(word) if word == "fn")
            && matches!(&pair[1], TokenTree::Ident(_))
    })?;
    let TokenTree::Ident(name) = &trees[at + 1] else {
        return None;
    };
    let head = |input: ParseStream| {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<TokenStream>()?;
        Ok((attrs, vis))
    };
    let (attrs, vis) = syn::parse::Parser::parse2(head, tokens.clone()).ok()?;
    let sig: Signature = syn::parse_quote_spanned!(name.span()=> async fn #name());
    let hidden = Ident::new(&format!("__sse_unparsed_{name}"), name.span());
    let renamed = trees.iter().enumerate().map(|(i, tree)| match i == at + 1 {
        true => TokenTree::Ident(hidden.clone()),
        false => tree.clone(),
    });
    let mut kept = quote::quote!(#[allow(dead_code, non_snake_case)]);
    kept.extend(renamed);
    let func = Func {
        attrs,
        vis,
        sig,
        body: quote::quote!({}),
    };
    Some((func, kept))
}
