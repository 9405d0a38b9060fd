//! Routes: what the server serves at a path.
//!
//! A [`Route`] starts a handler for each request that reaches it; the `#[sse]`
//! attribute implements it for the functions it marks, and [`handler`] turns
//! any `async fn(Session)` into one. A route that knows its own path
//! implements [`RoutePath`] and is registered with
//! [`Server::route`](crate::Server::route); any route can be mounted somewhere
//! with [`Server::route_at`](crate::Server::route_at), and a handler with
//! [`Handler::at`].
//!
//! ```no_run
//! use sse_runtime::{route::handler, Event, Server, Session};
//!
//! async fn hello(session: Session) -> Result<(), sse_runtime::Error> {
//!     session.send(Event::new().data("hello")).await
//! }
//!
//! # async fn run() -> Result<(), sse_runtime::ServeError> {
//! Server::new()
//!     .route(handler(hello).at("/hello"))
//!     .route_at("/hello-again", handler(hello))
//!     .serve("127.0.0.1:8080")
//!     .await
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

pub use crate::answer::Answer;
use crate::compression::Compression;
use crate::error::BoxError;
use crate::heartbeat::Heartbeat;
use crate::methods::Methods;
use crate::session::Session;

/// A running handler: resolves when the stream should end, with the error to
/// log (with its sources) if the handler failed.
///
/// ```
/// use sse_runtime::route::HandlerFuture;
/// let running: HandlerFuture = Box::pin(async { Ok(()) });
/// # drop(running);
/// ```
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// What [`Route::start`] returns: resolves, once the request's head
/// extractors ran (they may await: a database, a token introspection), to
/// the running handler, to what is left to do once the body is read, or to
/// the refusal.
///
/// ```
/// use sse_runtime::route::{HandlerFuture, StartFuture, Started};
/// let started: StartFuture = Box::pin(async {
///     let running: HandlerFuture = Box::pin(async { Ok(()) });
///     Ok(Started::Handler(running))
/// });
/// # drop(started);
/// ```
pub type StartFuture = Pin<Box<dyn Future<Output = Result<Started, Rejection>> + Send + 'static>>;

/// How far [`Route::start`] got: the handler is ready to run, or the head
/// was accepted and the rest needs the request's body.
///
/// The router reads the body between the two steps, whole, under the
/// route's limit and deadline (see [`RouteOptions::body_limit`]): only once
/// the head is accepted (so `Expect: 100-continue` is answered only then),
/// and before any handler starts or any response head is sent.
///
/// ```
/// use sse_runtime::route::{HandlerFuture, StartFuture, Started};
/// use sse_runtime::{Event, Session};
///
/// fn echo(session: Session) -> StartFuture {
///     Box::pin(async move {
///         Ok(Started::Body(Box::new(move |body: bytes::Bytes| -> StartFuture {
///             let running: HandlerFuture = Box::pin(async move {
///                 let text = String::from_utf8_lossy(&body).into_owned();
///                 session.send(Event::new().data(text)).await?;
///                 Ok(())
///             });
///             Box::pin(async move { Ok(Started::Handler(running)) })
///         })))
///     })
/// }
/// # let _ = echo;
/// ```
pub enum Started {
    /// The handler, to run now.
    Handler(HandlerFuture),
    /// What to do with the body once it is read: extract from it, then
    /// start the handler (a second `Body` is answered 500).
    Body(BodyThen),
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Started::Handler(_) => "Started::Handler",
            Started::Body(_) => "Started::Body",
        })
    }
}

/// The second step of a start that needs the body: given it, whole.
///
/// ```
/// use sse_runtime::route::{BodyThen, HandlerFuture, Started};
/// let then: BodyThen = Box::new(|_body| {
///     let running: HandlerFuture = Box::pin(async { Ok(()) });
///     Box::pin(async move { Ok(Started::Handler(running)) })
/// });
/// # drop(then);
/// ```
pub type BodyThen = Box<dyn FnOnce(bytes::Bytes) -> StartFuture + Send + 'static>;

/// An SSE endpoint: starts a handler on each request routed to it, given
/// the router's state `S` (see [`extract`](crate::extract#state)).
///
/// Implemented by the `#[sse]` attribute and by [`handler`], for every state
/// its extractors can be taken from. `start` runs before the response is
/// sent: it may refuse the request (a malformed path parameter, a failed
/// lookup) with a [`Rejection`], which the client receives instead of a
/// stream; no handler runs then.
///
/// ```
/// use std::sync::Arc;
///
/// use sse_runtime::route::{HandlerFuture, Rejection, Route, StartFuture, Started};
/// use sse_runtime::{Event, Session};
///
/// /// Counts down from the `from` path parameter.
/// struct Countdown;
///
/// impl<S> Route<S> for Countdown {
///     fn start(&self, session: Session, _state: &Arc<S>) -> StartFuture {
///         Box::pin(async move {
///             let from: u32 = session
///                 .request()
///                 .param("from")
///                 .and_then(|v| v.parse().ok())
///                 .ok_or_else(|| Rejection::bad_request("`from` must be a number"))?;
///             let running: HandlerFuture = Box::pin(async move {
///                 for n in (0..=from).rev() {
///                     session.send(Event::new().data(n.to_string())).await?;
///                 }
///                 Ok(())
///             });
///             Ok(Started::Handler(running))
///         })
///     }
/// }
/// # let _ = sse_runtime::Server::new().route_at("/countdown/{from}", Countdown);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route",
    label = "not an SSE route",
    note = "declare one with `#[sse]` on an `async fn`, or wrap an `async fn(Session)` with `sse_runtime::route::handler`"
)]
pub trait Route<S>: Send + Sync + 'static {
    /// Heartbeat and retry settings of this route; the server's apply where
    /// this says nothing.
    fn options(&self) -> RouteOptions {
        RouteOptions::default()
    }

    /// Runs the extractors for one request, taking what they need of
    /// `state`, then gives the handler to run, or refuses the request. The
    /// state is shared: a start that awaits keeps a clone of the `Arc`, so
    /// the state itself need not be `Clone`.
    fn start(&self, session: Session, state: &Arc<S>) -> StartFuture;
}

/// A route that knows the path it is served at, so that
/// [`Server::route`](crate::Server::route) can register it.
///
/// ```
/// use sse_runtime::route::{handler, RoutePath};
/// use sse_runtime::Session;
/// async fn feed(_session: Session) {}
/// assert_eq!(handler(feed).at("/feed").path(), "/feed");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no path of its own",
    label = "this route is not mounted at a path",
    note = "register it with `.route_at(\"/path\", ...)`, or give a handler a path with `.at(\"/path\")`"
)]
pub trait RoutePath {
    /// The path pattern, such as `/rooms/{room}`.
    fn path(&self) -> &str;
}

/// What [`Server::route`](crate::Server::route) and
/// [`Server::route_at`](crate::Server::route_at) accept for a router whose
/// state is `S`: a route, or a function that returns one, which is what
/// `#[sse]` makes of the function it marks. (`route` also needs the route to
/// know its path: [`RoutePath`].)
///
/// The marker `M` only tells the two apart; it is inferred.
///
/// ```
/// use sse_runtime::{route::handler, Server, Session};
/// async fn feed(_session: Session) {}
/// let server = Server::new().route_at("/feed", handler(feed));
/// # drop(server);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a route of a router whose state is `{S}`",
    label = "not an SSE route for this router",
    note = "declare a route with `#[sse]` on an `async fn`, or wrap an `async fn(Session)` with `sse_runtime::route::handler`; a route whose arguments take `State<T>` needs the state given with `.with_state(value)` before it is registered"
)]
pub trait IntoRoute<S, M> {
    /// The route.
    type Route;

    /// Converts into the route.
    fn into_route(self) -> Self::Route;
}

impl<S, R: Route<S>> IntoRoute<S, ()> for R {
    type Route = R;

    fn into_route(self) -> R {
        self
    }
}

// No `Route` bound here: a function that returns a route which cannot take
// the router's state then fails on that bound alone, and the error says
// which state is missing instead of "not a route".
impl<S, F: FnOnce() -> R, R> IntoRoute<S, fn() -> R> for F {
    type Route = R;

    fn into_route(self) -> R {
        self()
    }
}

/// A route mounted at a path; see [`Handler::at`].
///
/// ```
/// use sse_runtime::{route::{handler, At}, Session};
/// async fn feed(_session: Session) {}
/// let mounted = handler(feed).at("/feed");
/// # let _: &At<_> = &mounted;
/// ```
#[derive(Debug, Clone)]
pub struct At<R> {
    path: Cow<'static, str>,
    route: R,
}

impl<R> At<R> {
    /// `route`, mounted at `path`, which may contain `{param}` segments.
    ///
    /// ```
    /// use sse_runtime::{route::{handler, At}, Session};
    /// async fn feed(_session: Session) {}
    /// let mounted = At::new("/feeds/{name}", handler(feed));
    /// # let _ = sse_runtime::Server::new().route(mounted);
    /// ```
    pub fn new(path: impl Into<Cow<'static, str>>, route: R) -> Self {
        Self {
            path: path.into(),
            route,
        }
    }
}

impl<S, R: Route<S>> Route<S> for At<R> {
    fn options(&self) -> RouteOptions {
        self.route.options()
    }

    fn start(&self, session: Session, state: &Arc<S>) -> StartFuture {
        self.route.start(session, state)
    }
}

impl<R> RoutePath for At<R> {
    fn path(&self) -> &str {
        &self.path
    }
}

/// Per-route settings; what is unset falls back to the server's.
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::{route::RouteOptions, Heartbeat};
///
/// let options = RouteOptions::new()
///     .heartbeat(Heartbeat::every(Duration::from_secs(10)))
///     .retry(Duration::from_secs(3));
/// # let _ = options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteOptions {
    pub(crate) heartbeat: Option<Option<Heartbeat>>,
    pub(crate) retry: Option<Duration>,
    pub(crate) compression: Option<Compression>,
    pub(crate) methods: Methods,
    pub(crate) body_limit: Option<usize>,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) handler_grace: Option<Duration>,
}

impl Default for RouteOptions {
    fn default() -> Self {
        Self {
            heartbeat: None,
            retry: None,
            compression: None,
            methods: Methods::GET,
            body_limit: None,
            body_timeout: None,
            handler_grace: None,
        }
    }
}

impl RouteOptions {
    /// No settings: everything as the server says.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::RouteOptions, Heartbeat};
    /// let options = RouteOptions::new();
    /// # drop(options);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// This route's heartbeat.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::RouteOptions, Heartbeat};
    /// let options = RouteOptions::new().heartbeat(Heartbeat::every(Duration::from_secs(5)));
    /// # drop(options);
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(Some(heartbeat));
        self
    }

    /// No heartbeat on this route, whatever the server's setting.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::RouteOptions, Heartbeat};
    /// let options = RouteOptions::new().no_heartbeat();
    /// # drop(options);
    /// ```
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = Some(None);
        self
    }

    /// A `retry:` sent first on every stream of this route, telling clients
    /// how long to wait before reconnecting. Whole milliseconds, at most
    /// [`MAX_RETRY`](crate::event::MAX_RETRY); the server refuses to start
    /// otherwise.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::RouteOptions, Heartbeat};
    /// let options = RouteOptions::new().retry(Duration::from_secs(3));
    /// # drop(options);
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Whether this route's streams are compressed (when the client
    /// accepts it), whatever the server's setting; see
    /// [`compression`](crate::compression).
    ///
    /// ```
    /// use sse_runtime::{compression::Compression, route::RouteOptions};
    /// let options = RouteOptions::new().compression(Compression::Gzip);
    /// # drop(options);
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// The methods this route answers (default `GET`, what an
    /// `EventSource` sends). Another route may take the same path with
    /// other methods; a method no route of a path takes is answered `405`,
    /// with every method the path takes in `Allow`.
    ///
    /// ```
    /// use sse_runtime::{route::RouteOptions, Methods};
    /// let options = RouteOptions::new().methods(Methods::POST);
    /// # drop(options);
    /// ```
    pub fn methods(mut self, methods: Methods) -> Self {
        self.methods = methods;
        self
    }

    /// The largest request body this route reads (default: the router's,
    /// [`DEFAULT_BODY_LIMIT`](crate::router::DEFAULT_BODY_LIMIT) unless it
    /// says otherwise). A larger one is answered `413` without reading the
    /// rest.
    ///
    /// ```
    /// use sse_runtime::route::RouteOptions;
    /// let options = RouteOptions::new().body_limit(16 * 1024 * 1024);
    /// # drop(options);
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// How long this route waits for a request body to arrive whole
    /// (default: the router's,
    /// [`DEFAULT_BODY_TIMEOUT`](crate::router::DEFAULT_BODY_TIMEOUT) unless
    /// it says otherwise). A client still sending then is answered `408`
    /// and its connection closed; no handler ever ran for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::route::RouteOptions;
    /// let options = RouteOptions::new().body_timeout(Duration::from_secs(5));
    /// # drop(options);
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = Some(timeout);
        self
    }

    /// How long this route's handler may run on once its client is gone
    /// (default: the router's
    /// [`handler_grace`](crate::router::RouterBuilder::handler_grace)).
    /// Zero drops it at its next `.await` the moment the client leaves:
    /// what an LLM gateway wants, so that no token is generated for nobody.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::route::RouteOptions;
    /// let options = RouteOptions::new().handler_grace(Duration::ZERO);
    /// # drop(options);
    /// ```
    pub fn handler_grace(mut self, grace: Duration) -> Self {
        self.handler_grace = Some(grace);
        self
    }
}

/// A refused request: the response sent instead of a stream. A status and a
/// short reason, sent as plain text, with any headers it adds (such as
/// `WWW-Authenticate`); or a whole response of your making (a JSON body, say)
/// converted from `http::Response<String>`.
///
/// Any status but 200 makes an `EventSource` stop reconnecting, which is right
/// for a request that can never succeed, such as a malformed URL.
///
/// ```
/// use sse_runtime::route::Rejection;
/// let rejection = Rejection::bad_request("`room` must be a number");
/// assert_eq!(rejection.status(), http::StatusCode::BAD_REQUEST);
/// assert_eq!(rejection.message(), "`room` must be a number");
///
/// let json = http::Response::builder()
///     .status(403)
///     .header("content-type", "application/json")
///     .body(r#"{"error":"not yours"}"#.to_owned())
///     .unwrap();
/// let rejection = Rejection::from(json);
/// assert_eq!(rejection.headers()["content-type"], "application/json");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    message: Cow<'static, str>,
    /// Boxed and only when set: a rejection is passed around in `Result`s.
    headers: Option<Box<HeaderMap>>,
}

impl Rejection {
    /// A rejection with any status.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// let gone = Rejection::new(http::StatusCode::GONE, "this feed was retired");
    /// assert_eq!(gone.status(), 410);
    /// ```
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: None,
        }
    }

    /// Adds a header to the response (appended: a name may repeat). With a
    /// `content-type` of its own, the message is sent as it is, without the
    /// line break a plain-text reason gets.
    ///
    /// ```
    /// use http::{header::WWW_AUTHENTICATE, StatusCode};
    /// use sse_runtime::Rejection;
    /// let rejection = Rejection::new(StatusCode::UNAUTHORIZED, "sign in")
    ///     .header(WWW_AUTHENTICATE, "Bearer realm=\"feeds\"");
    /// assert_eq!(rejection.headers()[WWW_AUTHENTICATE], "Bearer realm=\"feeds\"");
    /// ```
    pub fn header(mut self, name: HeaderName, value: impl TryInto<HeaderValue>) -> Self {
        match value.try_into() {
            Ok(value) => {
                self.headers
                    .get_or_insert_with(Box::default)
                    .append(name, value);
            }
            Err(_) => {
                tracing::error!(header = %name, "a rejection's header value is invalid; left out")
            }
        }
        self
    }

    /// 400 Bad Request.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// assert_eq!(Rejection::bad_request("no").status(), 400);
    /// ```
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// assert_eq!(Rejection::not_found("no such room").status(), 404);
    /// ```
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// The response status.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// assert_eq!(Rejection::bad_request("no").status(), http::StatusCode::BAD_REQUEST);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason sent as the response body.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// assert_eq!(Rejection::bad_request("no").message(), "no");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The headers sent with it.
    ///
    /// ```
    /// use sse_runtime::Rejection;
    /// assert!(Rejection::bad_request("no").headers().is_empty());
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        static NONE: std::sync::OnceLock<HeaderMap> = std::sync::OnceLock::new();
        match &self.headers {
            Some(headers) => headers,
            None => NONE.get_or_init(HeaderMap::new),
        }
    }
}

/// The status alone, with its standard reason as the message.
///
/// ```
/// let rejection = sse_runtime::Rejection::from(http::StatusCode::FORBIDDEN);
/// assert_eq!(rejection.message(), "Forbidden");
/// ```
impl From<StatusCode> for Rejection {
    fn from(status: StatusCode) -> Self {
        Self::new(status, status.canonical_reason().unwrap_or(""))
    }
}

/// A status and a reason.
///
/// ```
/// use http::StatusCode;
/// let rejection = sse_runtime::Rejection::from((StatusCode::FORBIDDEN, "not yours"));
/// assert_eq!((rejection.status(), rejection.message()), (StatusCode::FORBIDDEN, "not yours"));
/// ```
/// What an extractor that never refuses declares; never constructed.
///
/// ```
/// use sse_runtime::extract::{FromRequest, State};
/// fn never_refuses<T: FromRequest<(), Rejection = std::convert::Infallible>>() {}
/// never_refuses::<State<()>>();
/// ```
impl From<std::convert::Infallible> for Rejection {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<M: Into<Cow<'static, str>>> From<(StatusCode, M)> for Rejection {
    fn from((status, message): (StatusCode, M)) -> Self {
        Self::new(status, message)
    }
}

/// A whole response: its status, headers and body, sent as they are.
///
/// ```
/// let response = http::Response::builder().status(429).header("retry-after", "30").body(String::new()).unwrap();
/// let rejection = sse_runtime::Rejection::from(response);
/// assert_eq!(rejection.headers()["retry-after"], "30");
/// ```
impl From<http::Response<String>> for Rejection {
    fn from(response: http::Response<String>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            message: body.into(),
            headers: Some(Box::new(parts.headers)),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for Rejection {}

/// What a handler may return: `()`, or `Result<(), E>` with an error that
/// converts into a [`BoxError`]: any `std::error::Error + Send + Sync`
/// (`sse_runtime::Error`, `std::io::Error`, `Box<dyn Error + Send + Sync>`,
/// `anyhow::Error`), a `String` or a `&'static str`. An error ends the stream
/// and is logged with its sources.
///
/// ```
/// use sse_runtime::route::HandlerOutput;
/// assert!(().into_result().is_ok());
/// let failed = Err::<(), _>("boom").into_result().unwrap_err();
/// assert_eq!(failed.to_string(), "boom");
/// ```
#[diagnostic::on_unimplemented(
    message = "an SSE handler must return `()` or `Result<(), E>` where `E` is an error (`E: Into<Box<dyn Error + Send + Sync>>`), not `{Self}`",
    label = "this handler's return type",
    note = "return `Result<(), sse_runtime::Error>` to use `?` on sends, or `Result<(), Box<dyn std::error::Error + Send + Sync>>` for any error"
)]
pub trait HandlerOutput: Send + 'static {
    /// The handler's error, boxed for the log.
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerOutput for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> HandlerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Turns an `async fn(Session)` (or a closure returning a future) into a
/// [`Route`].
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::{route::handler, Event, Server, Session};
///
/// async fn clock(session: Session) -> Result<(), sse_runtime::Error> {
///     loop {
///         session.send(Event::new().data("tick")).await?;
///         tokio::time::sleep(Duration::from_secs(1)).await;
///     }
/// }
///
/// let server = Server::new().route(handler(clock).retry(Duration::from_secs(2)).at("/clock"));
/// # let _ = server;
/// ```
pub fn handler<F, Fut>(f: F) -> Handler<F>
where
    F: Fn(Session) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    Handler {
        f,
        options: RouteOptions::default(),
    }
}

/// A route made from a function; see [`handler`].
#[derive(Clone)]
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::{route::{handler, RouteOptions}, Heartbeat, Session};
/// async fn feed(_session: Session) {}
/// let route = handler(feed);
/// # drop(route);
/// ```
pub struct Handler<F> {
    f: F,
    options: RouteOptions,
}

impl<F> fmt::Debug for Handler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<F> Handler<F> {
    /// Mounts this handler at `path`, which may contain `{param}` segments,
    /// so that [`Server::route`](crate::Server::route) can register it.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Session};
    /// async fn feed(_session: Session) {}
    /// let mounted = handler(feed).at("/feeds/{name}");
    /// # let _ = sse_runtime::Server::new().route(mounted);
    /// ```
    pub fn at(self, path: impl Into<Cow<'static, str>>) -> At<Self> {
        At::new(path, self)
    }

    /// Replaces all of this route's options.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::{handler, RouteOptions}, Heartbeat, Session};
    /// async fn feed(_session: Session) {}
    /// let route = handler(feed).options(RouteOptions::new().no_heartbeat());
    /// # drop(route);
    /// ```
    pub fn options(mut self, options: RouteOptions) -> Self {
        self.options = options;
        self
    }

    /// This route's heartbeat; see [`RouteOptions::heartbeat`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::{handler, RouteOptions}, Heartbeat, Session};
    /// async fn feed(_session: Session) {}
    /// let route = handler(feed).heartbeat(Heartbeat::every(Duration::from_secs(5)));
    /// # drop(route);
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.options = self.options.heartbeat(heartbeat);
        self
    }

    /// No heartbeat on this route; see [`RouteOptions::no_heartbeat`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::{handler, RouteOptions}, Heartbeat, Session};
    /// async fn feed(_session: Session) {}
    /// let route = handler(feed).no_heartbeat();
    /// # drop(route);
    /// ```
    pub fn no_heartbeat(mut self) -> Self {
        self.options = self.options.no_heartbeat();
        self
    }

    /// The initial `retry:` of this route; see [`RouteOptions::retry`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{route::{handler, RouteOptions}, Heartbeat, Session};
    /// async fn feed(_session: Session) {}
    /// let route = handler(feed).retry(Duration::from_secs(3));
    /// # drop(route);
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.options = self.options.retry(retry);
        self
    }

    /// The methods this route answers; see [`RouteOptions::methods`].
    ///
    /// ```
    /// use sse_runtime::{route::handler, Methods, Session};
    /// async fn feed(_session: Session) {}
    /// let route = handler(feed).methods(Methods::GET | Methods::POST);
    /// # drop(route);
    /// ```
    pub fn methods(mut self, methods: Methods) -> Self {
        self.options = self.options.methods(methods);
        self
    }
}

impl<S, F, Fut> Route<S> for Handler<F>
where
    F: Fn(Session) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    fn options(&self) -> RouteOptions {
        self.options.clone()
    }

    fn start(&self, session: Session, _state: &Arc<S>) -> StartFuture {
        let running = (self.f)(session);
        let running: HandlerFuture = Box::pin(async move { running.await.into_result() });
        Box::pin(std::future::ready(Ok(Started::Handler(running))))
    }
}
