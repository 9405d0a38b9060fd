//! The route's path: what a request's path can be, and its parameters.

use super::*;

/// Checks the path and returns its parameter names.
pub(super) fn check_path(lit: &LitStr, errors: &mut Errors) -> Vec<String> {
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
pub(super) fn never_in_a_request_path(c: char) -> bool {
    c.is_ascii_control() || matches!(c, ' ' | '<' | '>' | '`')
}

#[cfg(test)]
mod tests {
    use super::*;

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
