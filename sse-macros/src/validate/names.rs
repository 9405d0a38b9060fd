//! Names: the route's types are named after its function, and the names
//! must round-trip so that two routes never share them.

use super::*;

/// The route's event enum's name, unless a declared type has it (`struct
/// ChatEvent` in `events(ChatEvent)` of `fn chat`): then that is one error,
/// on the type, and the enum is generated under a hidden name, so that the
/// two definitions are not reported over and over.
pub(super) fn event_enum_named_apart(
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
pub(super) fn type_stem(name: &Ident) -> Result<String, NotSnakeCase> {
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
pub(super) fn upper_camel(name: &str) -> String {
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
pub(super) struct NotSnakeCase {
    stem: String,
    suggestion: String,
}

impl NotSnakeCase {
    pub(super) fn error(&self, name: &Ident) -> syn::Error {
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
pub(super) fn unraw(name: &Ident) -> String {
    let name = name.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// Types the first argument that looks like a session (`...Session`) as
/// `session`: the route's own, when the name it would have was refused.
pub(super) fn retype_session(func: &mut Func, session: &str) {
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

/// `ProductUpdate` → `product_update`, for suggesting an event name.
pub(super) fn pascal_to_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_suggestions() {
        assert_eq!(pascal_to_snake("ProductUpdate"), "product_update");
        assert_eq!(pascal_to_snake("U32"), "u32");
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
}
