//! The declared event types: their names on the wire and their variants in
//! the route's event enum.

use super::*;

pub(super) fn check_events(decls: Vec<EventDecl>, errors: &mut Errors) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    for EventDecl { mut ty, name } in decls {
        // Reported, and declared as the owned type meant, so that the
        // generated enum and its impls add no errors of their own.
        if let Some(owned) = owned_for_unsized(&ty) {
            errors.push(syn::Error::new_spanned(
                &ty,
                format!(
                    "an event type is a value the route sends, of a known size: declare `{}` \
                     instead of `{}`",
                    shown(&owned),
                    shown(&ty)
                ),
            ));
            ty = owned;
        }
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

pub(super) fn event_name_ok(lit: &LitStr, errors: &mut Errors) -> bool {
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
pub(super) fn variant_name(ty: &Type, events: &[Event], errors: &mut Errors) -> Option<Ident> {
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

/// The owned type to declare for an unsized one: `String` for `str`,
/// `Vec<T>` for `[T]`, `Box<dyn Trait>` for `dyn Trait`.
fn owned_for_unsized(ty: &Type) -> Option<Type> {
    match ty {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            Some(syn::parse_quote_spanned!(ty.span()=> String))
        }
        Type::Slice(slice) => {
            let elem = &slice.elem;
            Some(syn::parse_quote_spanned!(ty.span()=> Vec<#elem>))
        }
        Type::TraitObject(object) if object.dyn_token.is_some() => {
            Some(syn::parse_quote_spanned!(ty.span()=> Box<#object>))
        }
        _ => None,
    }
}
