//! The route table: every mounted route, compiled once when the server
//! starts, and the one place a request's path is matched.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::body::BodyLimits;
use crate::compression::Compression;
use crate::error::{RouteError, ServeError};
use crate::event::Event;
use crate::heartbeat::Heartbeat;
use crate::methods::Methods;
use crate::route::{Rejection, Route, RouteOptions, StartFuture};
use crate::session::Session;

/// A route with the state its extractors take what they need from: what
/// the table holds, whatever the type of the state.
pub(crate) trait Endpoint: Send + Sync + 'static {
    fn options(&self) -> RouteOptions;
    fn start(&self, session: Session) -> StartFuture;
}

/// A route bound, when it was registered, to the router's state then.
pub(crate) struct Bound<R, S> {
    pub(crate) route: R,
    pub(crate) state: Arc<S>,
}

impl<R: Route<S>, S: Send + Sync + 'static> Endpoint for Bound<R, S> {
    fn options(&self) -> RouteOptions {
        self.route.options()
    }

    fn start(&self, session: Session) -> StartFuture {
        self.route.start(session, &self.state)
    }
}

/// A route as registered: its path pattern and the route.
pub(crate) struct Mount {
    pub(crate) path: String,
    pub(crate) route: Box<dyn Endpoint>,
}

/// A route with everything resolved that each request needs.
pub(crate) struct CompiledRoute {
    pub(crate) pattern: Arc<str>,
    pub(crate) route: Box<dyn Endpoint>,
    pub(crate) heartbeat: Option<Heartbeat>,
    /// The `retry:` line streams start with.
    pub(crate) preamble: Preamble,
    pub(crate) compression: Compression,
    pub(crate) methods: Methods,
    /// How much of a request body it reads, and for how long.
    pub(crate) body: BodyLimits,
    /// How long its handler runs on once its client is gone.
    pub(crate) handler_grace: Duration,
}

/// What the router gives a route that says nothing of its own.
pub(crate) struct Defaults<'a> {
    pub(crate) heartbeat: Option<&'a Heartbeat>,
    pub(crate) retry: Option<Duration>,
    pub(crate) jitter: Option<Duration>,
    pub(crate) compression: Compression,
    pub(crate) body: BodyLimits,
    pub(crate) handler_grace: Duration,
}

/// The routes of one path, each answering its own methods.
pub(crate) struct PathRoutes {
    pub(crate) pattern: Arc<str>,
    routes: Vec<CompiledRoute>,
    /// Every method some route of the path answers: what `405` lists.
    pub(crate) allow: Methods,
}

impl PathRoutes {
    /// The route that answers `method`, if any does.
    pub(crate) fn answering(&self, method: &http::Method) -> Option<&CompiledRoute> {
        self.routes
            .iter()
            .find(|route| route.methods.contains(method))
    }
}

/// The `retry:` a route's streams start with: none, the same for every
/// stream (encoded once), or spread over a range per stream.
pub(crate) enum Preamble {
    None,
    Fixed(Bytes),
    /// `base` plus up to `spread_ms`, chosen per stream.
    Jittered {
        base: Duration,
        spread_ms: u64,
    },
}

impl Preamble {
    /// The preamble of stream number `stream`.
    pub(crate) fn for_stream(&self, stream: u64) -> Option<Bytes> {
        match self {
            Preamble::None => None,
            Preamble::Fixed(bytes) => Some(bytes.clone()),
            Preamble::Jittered { base, spread_ms } => {
                let extra = spread(stream) % (spread_ms + 1);
                let retry = *base + Duration::from_millis(extra);
                // Checked at build for the longest value.
                Event::new().retry(retry).to_bytes().ok()
            }
        }
    }
}

/// A well-mixed number for `n`: SipHash under this process's random keys,
/// so streams opened together get unrelated delays (no random-number crate
/// needed for a jitter).
fn spread(n: u64) -> u64 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default).hash_one(n)
}

/// What a path matched: its routes and its percent-decoded parameters.
pub(crate) struct Matched<'a> {
    pub(crate) path: &'a PathRoutes,
    pub(crate) params: Vec<(String, String)>,
}

/// Every route of a server, matched by path, then by method.
pub(crate) struct RouteTable {
    router: matchit::Router<usize>,
    paths: Vec<PathRoutes>,
}

impl RouteTable {
    /// Compiles `mounts` with the router's defaults; the first invalid or
    /// conflicting path, or two routes of one path that answer a method
    /// both, is the error.
    pub(crate) fn new(mounts: Vec<Mount>, defaults: &Defaults<'_>) -> Result<Self, ServeError> {
        let mut router = matchit::Router::new();
        let mut paths: Vec<PathRoutes> = Vec::new();
        // Each path's place in `paths`, by its canonical form.
        let mut slots = std::collections::HashMap::new();
        for Mount { path, route } in mounts {
            let invalid = |reason| ServeError::Route {
                path: path.clone(),
                reason,
            };
            if !path.starts_with('/') {
                return Err(invalid(RouteError::NoLeadingSlash));
            }
            let compiled = compile(path.as_str().into(), route, defaults).map_err(invalid)?;
            if compiled.methods.is_empty() {
                return Err(invalid(RouteError::NoMethod));
            }
            let key = canonical(&path).into_owned();
            let slot = match slots.get(&key) {
                Some(&slot) => slot,
                None => {
                    router
                        .insert(key.clone(), paths.len())
                        .map_err(|err| invalid(RouteError::from_insert(err)))?;
                    slots.insert(key, paths.len());
                    paths.push(PathRoutes {
                        pattern: compiled.pattern.clone(),
                        routes: Vec::new(),
                        allow: Methods::NONE,
                    });
                    paths.len() - 1
                }
            };
            let here = &mut paths[slot];
            if here.allow.overlaps(compiled.methods) {
                let taken = here
                    .routes
                    .iter()
                    .find(|other| other.methods.overlaps(compiled.methods))
                    .map_or(Methods::NONE, |other| other.methods);
                return Err(invalid(RouteError::MethodTaken {
                    methods: taken.to_string(),
                }));
            }
            here.allow |= compiled.methods;
            here.routes.push(compiled);
        }
        Ok(Self { router, paths })
    }

    /// Every route's path pattern, in registration order.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.paths
            .iter()
            .flat_map(|path| path.routes.iter().map(|route| &*route.pattern))
    }

    /// The routes `path` matches, with its decoded parameters; or their
    /// pattern and why the parameters do not decode (a parameter that is
    /// not UTF-8 once percent-decoded refuses the request).
    #[allow(clippy::type_complexity)]
    pub(crate) fn find(&self, path: &str) -> Option<Result<Matched<'_>, (&Arc<str>, Rejection)>> {
        let path = canonical(path);
        let matched = self.router.at(&path).ok()?;
        let routes = &self.paths[*matched.value];
        let params: Result<Vec<_>, _> = matched
            .params
            .iter()
            .map(|(name, value)| decode_param(name, value))
            .collect();
        Some(match params {
            Ok(params) => Ok(Matched {
                path: routes,
                params,
            }),
            Err(rejection) => Err((&routes.pattern, rejection)),
        })
    }
}

/// One route with the router's defaults where it says nothing.
fn compile(
    pattern: Arc<str>,
    route: Box<dyn Endpoint>,
    defaults: &Defaults<'_>,
) -> Result<CompiledRoute, RouteError> {
    let options = route.options();
    let heartbeat = options
        .heartbeat
        .unwrap_or_else(|| defaults.heartbeat.cloned());
    let preamble = match (options.retry.or(defaults.retry), defaults.jitter) {
        (None, _) => Preamble::None,
        (Some(retry), jitter) => {
            // The longest it can be must be sendable.
            let longest = retry.saturating_add(jitter.unwrap_or_default());
            let fixed = Event::new()
                .retry(longest)
                .to_bytes()
                .map_err(RouteError::Retry)?;
            match jitter {
                Some(jitter) if !jitter.is_zero() => Preamble::Jittered {
                    base: retry,
                    spread_ms: jitter.as_millis() as u64,
                },
                _ => Preamble::Fixed(fixed),
            }
        }
    };
    Ok(CompiledRoute {
        pattern,
        route,
        heartbeat,
        preamble,
        compression: options.compression.unwrap_or(defaults.compression),
        methods: options.methods,
        body: BodyLimits {
            max: options.body_limit.unwrap_or(defaults.body.max),
            timeout: options.body_timeout.or(defaults.body.timeout),
        },
        handler_grace: options.handler_grace.unwrap_or(defaults.handler_grace),
    })
}

/// The one form paths are matched in, the route's and the request's alike:
/// every non-ASCII byte percent-encoded and every escape in upper case, as
/// browsers send them. A client may send `/café` as it is (curl does) or as
/// `/caf%C3%A9` (every browser does), and a route may be written either way:
/// all of them match (RFC 3986 §6.2.2.1 makes the hex digits' case
/// insignificant). A path already in this form, every path of most servers,
/// is matched as it is.
fn canonical(path: &str) -> Cow<'_, str> {
    let bytes = path.as_bytes();
    let escape_at = |i: usize| {
        bytes[i] == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    let needs = |i: usize| {
        !bytes[i].is_ascii()
            || (escape_at(i) && bytes[i + 1..i + 3].iter().any(u8::is_ascii_lowercase))
    };
    let Some(first) = (0..bytes.len()).find(|&i| needs(i)) else {
        return Cow::Borrowed(path);
    };
    let mut out = String::with_capacity(path.len() + 8);
    out.push_str(&path[..first]);
    let mut i = first;
    while i < bytes.len() {
        let byte = bytes[i];
        if !byte.is_ascii() {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
            i += 1;
        } else if escape_at(i) {
            out.push('%');
            out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
            out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            i += 3;
        } else {
            out.push(char::from(byte));
            i += 1;
        }
    }
    Cow::Owned(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn decode_param(name: &str, value: &str) -> Result<(String, String), Rejection> {
    match percent_encoding::percent_decode_str(value).decode_utf8() {
        Ok(decoded) => Ok((name.to_owned(), decoded.into_owned())),
        Err(_) => Err(Rejection::bad_request(format!(
            "path parameter `{name}` is not valid UTF-8 once percent-decoded"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;

    #[test]
    fn a_path_in_canonical_form_is_borrowed() {
        for path in [
            "/",
            "/events",
            "/caf%C3%A9",
            "/a%2",
            "/100%",
            "/%zz",
            "/{room}/{*rest}",
        ] {
            assert!(
                matches!(canonical(path), Cow::Borrowed(p) if p == path),
                "{path}"
            );
        }
    }

    #[test]
    fn non_ascii_is_encoded_and_escapes_are_upper_case() {
        assert_eq!(canonical("/café"), "/caf%C3%A9");
        assert_eq!(canonical("/caf%c3%a9"), "/caf%C3%A9");
        assert_eq!(canonical("/caf%c3é/%2f"), "/caf%C3%C3%A9/%2F");
        // Not escapes: left as they are.
        assert_eq!(canonical("/é%g1%a"), "/%C3%A9%g1%a");
    }

    proptest! {
        /// Canonical form changes only how bytes are written, never which:
        /// it decodes to what the path decodes to, and is its own canonical
        /// form.
        #[test]
        fn canonical_form_keeps_the_bytes(path in "/[a-zA-Z0-9%é€/{}_.-]{0,24}") {
            let once = canonical(&path).into_owned();
            prop_assert_eq!(
                percent_decode_str(&once).collect::<Vec<u8>>(),
                percent_decode_str(&path).collect::<Vec<u8>>()
            );
            prop_assert!(once.is_ascii());
            prop_assert_eq!(canonical(&once), once.as_str());
        }
    }
}
