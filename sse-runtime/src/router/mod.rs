//! The router: an application's SSE routes, their settings and state, as a
//! tower [`Service`](tower_service::Service). The one route table and the one
//! place a request is decided: the [`Server`](crate::Server) is built on it,
//! and it mounts in any tower-based app, such as axum.
//!
//! ```no_run
//! use sse_runtime::{sse, Router};
//!
//! #[sse("/events")]
//! async fn events(session: EventsSession) -> Result<(), sse_runtime::Error> {
//!     session.send("hello").await
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sse = Router::builder().route(events).build()?;
//! let app = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "the page" }))
//!     .route_service("/events", sse.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(async move {
//!         sse_runtime::server::shutdown_signal().await;
//!         // Tell every stream to end, so that axum's connections can finish.
//!         sse.shut_down(std::time::Duration::from_secs(5)).await;
//!     })
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Mounting
//!
//! A route value is not a service by itself: a stream needs what the router
//! holds (heartbeat and buffer settings, the state, the shutdown that ends
//! it). One route on its own is a router of one,
//! `Router::builder().route(events).build()?`, which costs nothing more.
//!
//! The router matches the request's path as it receives it. With
//! `route_service("/rooms/{room}", router)` axum passes the whole path, so the
//! route is declared at `/rooms/{room}`. With `nest_service("/sse", router)`
//! axum strips `/sse` first, so a route declared at `/rooms/{room}` answers
//! `/sse/rooms/{room}` and its `room` parameter binds as usual; parameters in
//! the prefix itself (`nest_service("/{tenant}", ..)`) are axum's and do not
//! reach the router: declare them in the route's own path and mount it with
//! `route_service` instead. `fallback_service(router)` serves every path no
//! axum route takes.
//!
//! A request no route matches gets `404`; a method no route of its path
//! answers `405`, with `Allow` listing those they do. A request body (of
//! any body type `B`) is read under the route's limit and deadline. The client's address is the
//! [`PeerAddr`] extension of the request, when something (the
//! [`Server`](crate::Server), or a middleware of yours) put one there.
//!
//! # Shutdown
//!
//! Streams never end on their own, so a server that waits for its
//! connections (as `axum::serve` does with graceful shutdown) waits for them:
//! [`Router::shut_down`] resolves every session's
//! [`closed`](crate::Session::closed), waits for the handlers to return, and
//! drops those still running at the deadline.

mod body;
mod dispatch;
mod routes;
pub(crate) mod shutdown;
mod supervise;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Response;

pub use body::Body;
pub(crate) use body::{head_only, not_found, stream_headers, text_response};
pub(crate) use dispatch::Decision;

use self::routes::{Bound, Defaults, Mount, RouteTable};
use self::shutdown::Shutdown;
use crate::body::BodyLimits;
use crate::compression::Compression;
use crate::error::ServeError;
use crate::event::Event;
use crate::heartbeat::Heartbeat;
use crate::link::Link;
use crate::request::PeerAddr;
use crate::route::{IntoRoute, Route, RoutePath};
#[cfg(doc)]
use crate::{Request, Session};

/// How many bytes of encoded events a session may buffer before a send waits;
/// see [`RouterBuilder::max_buffered`].
///
/// ```
/// assert_eq!(sse_runtime::router::DEFAULT_MAX_BUFFERED, 64 * 1024);
/// ```
pub const DEFAULT_MAX_BUFFERED: usize = 64 * 1024;

/// How long a stream, or a connection, may take nothing of what is to be
/// written before it is closed; see [`RouterBuilder::write_timeout`] and
/// [`Server::write_timeout`](crate::Server::write_timeout).
///
/// ```
/// assert_eq!(sse_runtime::router::DEFAULT_WRITE_TIMEOUT.as_secs(), 60);
/// ```
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest request body a route reads unless it or its router says
/// otherwise (as axum's): 2 MiB. See [`RouterBuilder::body_limit`].
///
/// ```
/// assert_eq!(sse_runtime::router::DEFAULT_BODY_LIMIT, 2 * 1024 * 1024);
/// ```
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// How long a route waits for a request body to arrive whole unless it or
/// its router says otherwise: 30 s. See [`RouterBuilder::body_timeout`].
///
/// ```
/// assert_eq!(sse_runtime::router::DEFAULT_BODY_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// An application's SSE routes as a tower `Service`: cheap to clone (clones
/// share the routes, the state and the open streams). Made with
/// [`Router::builder`]; see the [module docs](self) for mounting it.
///
/// ```
/// use sse_runtime::{route::handler, Router, Session};
/// async fn feed(_session: Session) {}
/// let router = Router::builder().route(handler(feed).at("/feed")).build()?;
/// # let _ = router;
/// # Ok::<(), sse_runtime::ServeError>(())
/// ```
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) routes: RouteTable,
    pub(crate) max_buffered: usize,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) shutdown: Shutdown,
    /// Numbers the streams, for their spans.
    pub(crate) streams: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.inner.routes.patterns().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A builder with no routes and the defaults: a heartbeat every 15 s, no
    /// initial retry, 64 KiB buffered per session, 5 s for a handler to
    /// return once its client is gone.
    ///
    /// ```
    /// let builder = sse_runtime::Router::builder();
    /// # let _ = builder;
    /// ```
    pub fn builder() -> RouterBuilder {
        RouterBuilder {
            mounts: Vec::new(),
            heartbeat: Some(Heartbeat::default()),
            retry: None,
            retry_jitter: None,
            max_buffered: DEFAULT_MAX_BUFFERED,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            compression: Compression::Off,
            handler_grace: Duration::from_secs(5),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: Some(DEFAULT_BODY_TIMEOUT),
            state: Arc::new(()),
        }
    }

    /// Ends every stream: each session's [`Session::closed`] resolves (sends
    /// still work, so a handler can say goodbye), new requests get streams
    /// that are closed at once, and this waits up to `deadline` for the
    /// handlers to return, then drops those still running.
    ///
    /// ```no_run
    /// # async fn f(router: sse_runtime::Router) {
    /// router.shut_down(std::time::Duration::from_secs(5)).await;
    /// # }
    /// ```
    pub async fn shut_down(&self, deadline: Duration) {
        self.inner.shutdown.run(deadline).await;
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// The future of [`Router`]'s `call`: the extractors run in it.
pub type RouterFuture =
    Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send + 'static>>;

/// Serves requests with any body type `B` (axum's, hyper's, a layer's),
/// read under the route's limit and deadline.
impl<B> tower_service::Service<http::Request<B>> for Router
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = RouterFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let peer = parts.extensions.get::<PeerAddr>().map(|peer| peer.0);
        let link = parts.extensions.get::<Arc<Link>>().cloned();
        let router = self.clone();
        Box::pin(async move {
            let decision = router.inner.decide(parts, peer, link, body).await;
            Ok(decision.into_response().unwrap_or_else(|_| not_found()))
        })
    }
}

/// Configures a [`Router`]: its routes, their defaults and shared state.
/// Invalid or conflicting paths and settings are reported by
/// [`build`](Self::build).
///
/// `S` is the state the routes registered next take their extractors'
/// state from (see [`with_state`](Self::with_state)); `()` until one is given.
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::{route::handler, Heartbeat, Router, Session};
///
/// async fn feed(_session: Session) {}
///
/// let router = Router::builder()
///     .route(handler(feed).at("/feed"))
///     .heartbeat(Heartbeat::every(Duration::from_secs(20)))
///     .retry(Duration::from_secs(5))
///     .build()?;
/// # let _ = router;
/// # Ok::<(), sse_runtime::ServeError>(())
/// ```
#[must_use = "a builder does nothing until `build`"]
pub struct RouterBuilder<S = ()> {
    mounts: Vec<Mount>,
    heartbeat: Option<Heartbeat>,
    retry: Option<Duration>,
    retry_jitter: Option<Duration>,
    max_buffered: usize,
    write_timeout: Option<Duration>,
    handler_grace: Duration,
    compression: Compression,
    body_limit: usize,
    body_timeout: Option<Duration>,
    /// Shared by every route registered while it is the state (so it need
    /// not be `Clone`).
    state: Arc<S>,
}

impl<S> std::fmt::Debug for RouterBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterBuilder")
            .field(
                "routes",
                &self.mounts.iter().map(|m| &m.path).collect::<Vec<_>>(),
            )
            .field("heartbeat", &self.heartbeat)
            .field("retry", &self.retry)
            .field("max_buffered", &self.max_buffered)
            .field("write_timeout", &self.write_timeout)
            .field("handler_grace", &self.handler_grace)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> RouterBuilder<S> {
    /// Registers a route at its own path.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Router, Session};
    /// async fn feed(_session: Session) {}
    /// let builder = Router::builder().route(handler(feed).at("/feed"));
    /// # let _ = builder;
    /// ```
    pub fn route<M, R>(self, route: R) -> Self
    where
        R: IntoRoute<S, M>,
        R::Route: Route<S> + RoutePath,
    {
        let route = route.into_route();
        let path = route.path().to_owned();
        self.route_at(path, route)
    }

    /// Registers a route at `path`, which may contain `{param}` segments.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Router, Session};
    /// async fn room(_session: Session) {}
    /// let builder = Router::builder().route_at("/rooms/{room}", handler(room));
    /// # let _ = builder;
    /// ```
    pub fn route_at<M, R>(mut self, path: impl Into<String>, route: R) -> Self
    where
        R: IntoRoute<S, M>,
        R::Route: Route<S>,
    {
        self.mounts.push(Mount {
            path: path.into(),
            route: Box::new(Bound {
                route: route.into_route(),
                state: Arc::clone(&self.state),
            }),
        });
        self
    }
}

impl<S> RouterBuilder<S> {
    /// The state that the routes registered from here on take their
    /// extractors' state from: [`State<T>`](crate::extract::State) takes any
    /// `T` that implements [`FromRef`](crate::extract::FromRef) of it (the
    /// whole value, or a field of a struct that derives `FromRef`). Give it
    /// before the routes that need it: a route that asks for state the
    /// router does not provide is a compile error at its registration. The
    /// routes and their requests share it, so it need not be `Clone`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sse_runtime::{extract::State, sse};
    ///
    /// struct Db;
    ///
    /// #[sse("/feed")]
    /// async fn feed(session: FeedSession, db: State<Arc<Db>>) {}
    ///
    /// let builder = sse_runtime::Router::builder().with_state(Arc::new(Db)).route(feed);
    /// # let _ = builder;
    /// ```
    pub fn with_state<T: Send + Sync + 'static>(self, state: T) -> RouterBuilder<T> {
        RouterBuilder {
            mounts: self.mounts,
            heartbeat: self.heartbeat,
            retry: self.retry,
            retry_jitter: self.retry_jitter,
            max_buffered: self.max_buffered,
            write_timeout: self.write_timeout,
            handler_grace: self.handler_grace,
            compression: self.compression,
            body_limit: self.body_limit,
            body_timeout: self.body_timeout,
            state: Arc::new(state),
        }
    }

    /// The heartbeat of every route that does not set its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Router};
    /// let builder = Router::builder().heartbeat(Heartbeat::every(Duration::from_secs(30)));
    /// # let _ = builder;
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// No heartbeat, except on routes that set one.
    ///
    /// ```
    /// let builder = sse_runtime::Router::builder().no_heartbeat();
    /// # let _ = builder;
    /// ```
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
        self
    }

    /// A `retry:` sent first on every stream of routes that do not set their
    /// own, telling clients how long to wait before reconnecting.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::Router::builder().retry(Duration::from_secs(5));
    /// # let _ = builder;
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Spreads each stream's initial `retry:` (the route's or the server's)
    /// over `retry ..= retry + jitter`, chosen per stream. Browsers wait
    /// exactly the `retry` they were sent and add no jitter of their own,
    /// so after a deploy every client comes back in the same instant; with
    /// a spread, the next storm spreads itself. Off by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::Router::builder()
    ///     .retry(Duration::from_secs(2))
    ///     .retry_jitter(Duration::from_secs(3)); // each stream: 2 to 5 s
    /// # let _ = builder;
    /// ```
    pub fn retry_jitter(mut self, jitter: Duration) -> Self {
        self.retry_jitter = Some(jitter);
        self
    }

    /// How many bytes of encoded events a session may buffer before a send
    /// waits for the connection (default 64 KiB). A single larger event is
    /// still accepted when the buffer is empty.
    ///
    /// ```
    /// let builder = sse_runtime::Router::builder().max_buffered(16 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = bytes.max(1);
        self
    }

    /// Compresses the streams of every route that does not say otherwise,
    /// when the client accepts it (default: off); see
    /// [`compression`](crate::compression).
    ///
    /// ```
    /// use sse_runtime::compression::Compression;
    /// let builder = sse_runtime::Router::builder().compression(Compression::Gzip);
    /// # let _ = builder;
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// How long a stream may wait for its connection to take anything
    /// before it is closed (default 60 s): while its buffer is full, sends
    /// wait; once they have waited this long, the stream ends, its sends
    /// fail and [`Session::closed`] resolves. This is what ends a stream
    /// whose client stopped reading on any protocol, including an HTTP/2
    /// stream whose flow-control window the client never reopens (its socket
    /// is not full, so no socket timeout can see it).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::Router::builder().write_timeout(Duration::from_secs(20));
    /// # let _ = builder;
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// Lets a stream wait for its connection for ever; see
    /// [`write_timeout`](Self::write_timeout).
    ///
    /// ```
    /// let builder = sse_runtime::Router::builder().no_write_timeout();
    /// # let _ = builder;
    /// ```
    pub fn no_write_timeout(mut self) -> Self {
        self.write_timeout = None;
        self
    }

    /// How long a handler may run on once its stream's connection is gone
    /// (the client left, or the stream was closed and written out) before it
    /// is cancelled: dropped at its next `.await` (default 5 s). A handler
    /// that waits on [`Session::closed`] or sends returns long before; this
    /// ends one that does neither, which would otherwise live until
    /// shutdown. Run cleanup that must happen either way from a `Drop` guard
    /// (see [`Session`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::Router::builder().handler_grace(Duration::from_secs(1));
    /// # let _ = builder;
    /// ```
    pub fn handler_grace(mut self, grace: Duration) -> Self {
        self.handler_grace = grace;
        self
    }

    /// The largest request body a route reads when it does not set its own
    /// (default [`DEFAULT_BODY_LIMIT`], 2 MiB); see
    /// [`RouteOptions::body_limit`](crate::route::RouteOptions::body_limit).
    ///
    /// ```
    /// let builder = sse_runtime::Router::builder().body_limit(512 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long a route waits for a request body to arrive whole when it
    /// does not set its own (default [`DEFAULT_BODY_TIMEOUT`], 30 s): a
    /// client still sending then is answered `408` and closed, and no
    /// handler ran for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::Router::builder().body_timeout(Duration::from_secs(10));
    /// # let _ = builder;
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = Some(timeout);
        self
    }

    /// The router; fails on the first invalid or conflicting path, or a
    /// retry that cannot be sent.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Router, ServeError, Session};
    /// async fn feed(_session: Session) {}
    /// let err = Router::builder().route_at("feed", handler(feed)).build().unwrap_err();
    /// assert!(matches!(err, ServeError::Route { .. }));
    /// ```
    pub fn build(self) -> Result<Router, ServeError> {
        if let Some(retry) = self.retry {
            Event::new()
                .retry(retry)
                .validate()
                .map_err(ServeError::Retry)?;
        }
        let defaults = Defaults {
            heartbeat: self.heartbeat.as_ref(),
            retry: self.retry,
            jitter: self.retry_jitter,
            compression: self.compression,
            body: BodyLimits {
                max: self.body_limit,
                timeout: self.body_timeout,
            },
            handler_grace: self.handler_grace,
        };
        let routes = RouteTable::new(self.mounts, &defaults)?;
        let inner = Inner {
            routes,
            max_buffered: self.max_buffered,
            write_timeout: self.write_timeout,
            shutdown: Shutdown::default(),
            streams: std::sync::atomic::AtomicU64::new(0),
        };
        Ok(Router {
            inner: Arc::new(inner),
        })
    }
}
