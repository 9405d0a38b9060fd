//! The server: routes requests to SSE handlers over HTTP/1.1 and HTTP/2.
//!
//! ```no_run
//! use std::time::Duration;
//! use sse_runtime::{route::handler, Event, Route, Server, Session};
//!
//! async fn events(session: Session) -> Result<(), sse_runtime::Error> {
//!     for i in 0..6 {
//!         session.send(Event::new().data(format!("demo{i}"))).await?;
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!     }
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), sse_runtime::ServeError> {
//!     Server::new()
//!         .route(handler(events).at("/events"))
//!         .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
//!         .serve("127.0.0.1:8080")
//!         .await
//! }
//! ```
//!
//! Every stream answers `200` with `Content-Type: text/event-stream`,
//! `Cache-Control: no-store` and `X-Accel-Buffering: no` (so nginx does not
//! buffer it), uncompressed. A path no route matches goes to the fallback, or
//! gets `404`; a method other than `GET` on a route's path gets `405` with
//! `Allow: GET`; a request beyond [`Server::max_connections`] gets `503` with
//! `Retry-After`.
//!
//! An HTTP/1.1 `GET` of a stream is served without hyper's per-connection
//! buffers (the server reads the head, then writes the chunked stream straight
//! from the session's bytes, with `Connection: close`): an idle stream costs
//! about 6 KB instead of about 22 KB. Everything else (HTTP/2, HTTP/1.0, other
//! methods, the fallback) is served by hyper. When such a stream ends, the
//! server closes its side and waits up to 2 s for the client to close its
//! own (not once shutdown has begun), so that bytes the client sent during
//! the stream cannot make the connection reset before it read the end.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use http::{Extensions, Method, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::event::Event;
use crate::h1;
use crate::heartbeat::Heartbeat;
use crate::request::{Request, LAST_EVENT_ID};
use crate::route::{HandlerFuture, IntoRoute, Rejection, Route, RoutePath};
use crate::session::Session;
use crate::stream::{Shared, SseBody, STREAM_HEADERS};

/// The error type of fallback services and bodies.
///
/// ```
/// let err: sse_runtime::server::BoxError = "broken".into();
/// # drop(err);
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many bytes of encoded events a session may buffer before a send waits;
/// see [`Server::max_buffered`].
///
/// ```
/// assert_eq!(sse_runtime::server::DEFAULT_MAX_BUFFERED, 64 * 1024);
/// ```
pub const DEFAULT_MAX_BUFFERED: usize = 64 * 1024;

/// hyper's own write buffer per HTTP/1 connection, on top of the session's.
const HTTP1_MAX_BUF_SIZE: usize = 64 * 1024;

/// The SSE server. Configure it, register routes, then [`serve`](Self::serve).
///
/// ```no_run
/// use std::time::Duration;
/// use sse_runtime::{route::handler, Heartbeat, Route, Server, Session};
///
/// async fn feed(_session: Session) {}
///
/// # async fn run() -> Result<(), sse_runtime::ServeError> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// Server::new()
///     .route(handler(feed).at("/feed"))
///     .heartbeat(Heartbeat::every(Duration::from_secs(20)))
///     .retry(Duration::from_secs(5))
///     .max_connections(10_000)
///     .shutdown_deadline(Duration::from_secs(3))
///     .serve_on(listener)
///     .await
/// # }
/// ```
pub struct Server {
    mounts: Vec<Mount>,
    config: Config,
    fallback: Option<Arc<FallbackFn>>,
    shutdown: Option<Signal>,
    state: Extensions,
}

/// The future whose completion starts a graceful shutdown.
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Mount {
    path: String,
    route: Box<dyn Route>,
}

#[derive(Clone, Debug)]
struct Config {
    heartbeat: Option<Heartbeat>,
    retry: Option<Duration>,
    max_buffered: usize,
    max_connections: Option<usize>,
    header_read_timeout: Duration,
    write_timeout: Option<Duration>,
    shutdown_deadline: Duration,
}

type FallbackFn = dyn Fn(http::Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>
    + Send
    + Sync;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
///
/// ```
/// # async fn run() {
/// let err = sse_runtime::Server::new().route_at("no-slash", sse_runtime::route::handler(|_s: sse_runtime::Session| async {}))
///     .serve("127.0.0.1:0")
///     .await
///     .unwrap_err();
/// assert!(matches!(err, sse_runtime::ServeError::Route { .. }));
/// # }
/// ```
pub enum ServeError {
    /// The listening socket could not be bound.
    #[error("could not bind the listening socket: {0}")]
    Bind(#[source] std::io::Error),
    /// A route's path or options are invalid, or two routes conflict.
    #[error("invalid route `{path}`: {reason}")]
    Route {
        /// The route's path pattern.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A server-wide setting is invalid.
    #[error("invalid server setting: {0}")]
    Config(String),
}

/// The client's address, in the extensions of requests passed to a fallback.
///
/// ```
/// use sse_runtime::server::PeerAddr;
/// async fn page(request: http::Request<hyper::body::Incoming>) -> http::Response<String> {
///     let peer = request.extensions().get::<PeerAddr>().map(|p| p.0);
///     http::Response::new(format!("hello {peer:?}"))
/// }
/// # let _ = sse_runtime::Server::new().fallback(page);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field(
                "routes",
                &self.mounts.iter().map(|m| &m.path).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Server {
    /// A server with no routes and the defaults: a heartbeat every 15 s, no
    /// initial retry, 64 KiB buffered per session, no connection limit, 10 s
    /// to read request headers, 60 s for a client to take anything once the
    /// socket is full, and 5 s for open streams to end on shutdown.
    ///
    /// ```
    /// let server = sse_runtime::Server::new();
    /// # let _ = server;
    /// ```
    pub fn new() -> Self {
        Self {
            mounts: Vec::new(),
            config: Config {
                heartbeat: Some(Heartbeat::default()),
                retry: None,
                max_buffered: DEFAULT_MAX_BUFFERED,
                max_connections: None,
                header_read_timeout: Duration::from_secs(10),
                write_timeout: Some(Duration::from_secs(60)),
                shutdown_deadline: Duration::from_secs(5),
            },
            fallback: None,
            shutdown: None,
            state: Extensions::new(),
        }
    }

    /// Registers a route at its own path.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Route, Server, Session};
    /// async fn feed(_session: Session) {}
    /// let server = Server::new().route(handler(feed).at("/feed"));
    /// # let _ = server;
    /// ```
    pub fn route<M, R>(self, route: R) -> Self
    where
        R: IntoRoute<M>,
        R::Route: RoutePath,
    {
        let route = route.into_route();
        let path = route.path().to_owned();
        self.route_at(path, route)
    }

    /// Registers a route at `path`, which may contain `{param}` segments.
    /// Invalid or conflicting paths make [`serve`](Self::serve) fail with
    /// [`ServeError::Route`] before anything is bound.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Server, Session};
    /// async fn room(_session: Session) {}
    /// let server = Server::new().route_at("/rooms/{room}", handler(room));
    /// # let _ = server;
    /// ```
    pub fn route_at<M>(mut self, path: impl Into<String>, route: impl IntoRoute<M>) -> Self {
        self.mounts.push(Mount {
            path: path.into(),
            route: Box::new(route.into_route()),
        });
        self
    }

    /// Registers shared state that handlers take with
    /// [`State<T>`](crate::extract::State) or [`Request::state`], one value per
    /// type (a second value of the same type replaces the first).
    ///
    /// ```
    /// use std::sync::Arc;
    /// struct Db;
    /// let server = sse_runtime::Server::new().state(Arc::new(Db));
    /// # let _ = server;
    /// ```
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// The heartbeat of every route that does not set its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().heartbeat(Heartbeat::every(Duration::from_secs(30)));
    /// # drop(server);
    /// ```
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.config.heartbeat = Some(heartbeat);
        self
    }

    /// No heartbeat, except on routes that set one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().no_heartbeat();
    /// # drop(server);
    /// ```
    pub fn no_heartbeat(mut self) -> Self {
        self.config.heartbeat = None;
        self
    }

    /// A `retry:` sent first on every stream of routes that do not set their
    /// own, telling clients how long to wait before reconnecting.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().retry(Duration::from_secs(5));
    /// # drop(server);
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.config.retry = Some(retry);
        self
    }

    /// How many bytes of encoded events a session may buffer before a send
    /// waits for the connection (default 64 KiB). A single larger event is
    /// still accepted when the buffer is empty.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().max_buffered(16 * 1024);
    /// # drop(server);
    /// ```
    pub fn max_buffered(mut self, bytes: usize) -> Self {
        self.config.max_buffered = bytes.max(1);
        self
    }

    /// The most connections served at once; beyond it, new connections get
    /// `503 Service Unavailable` with `Retry-After` and are closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().max_connections(10_000);
    /// # drop(server);
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = Some(connections);
        self
    }

    /// How long a client may take to send its request headers before the
    /// connection is closed (default 10 s); guards against slowloris.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().header_read_timeout(Duration::from_secs(5));
    /// # drop(server);
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long a client may take none of what the server has to write
    /// before its connection is closed (default 60 s, like nginx's
    /// `send_timeout`). The clock runs only while the socket is full: a slow
    /// reader that keeps taking bytes is never cut off, one that stopped
    /// reading (or vanished without a reset) is, and its handler sees
    /// [`Session::closed`] resolve.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::Server;
    /// let server = Server::new().write_timeout(Duration::from_secs(20));
    /// # drop(server);
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_timeout = Some(timeout);
        self
    }

    /// Never closes a connection for not reading; see
    /// [`write_timeout`](Self::write_timeout).
    ///
    /// ```
    /// let server = sse_runtime::Server::new().no_write_timeout();
    /// # drop(server);
    /// ```
    pub fn no_write_timeout(mut self) -> Self {
        self.config.write_timeout = None;
        self
    }

    /// How long open streams get to end after the shutdown signal (default
    /// 5 s). Handlers see [`Session::closed`] resolve at once; whatever is
    /// still open at the deadline is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().shutdown_deadline(Duration::from_secs(2));
    /// # drop(server);
    /// ```
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.config.shutdown_deadline = deadline;
        self
    }

    /// Shuts the server down gracefully when `signal` resolves: it stops
    /// accepting, tells every handler through [`Session::closed`], lets the
    /// streams end within the [deadline](Self::shutdown_deadline), then
    /// [`serve`](Self::serve) returns.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sse_runtime::ServeError> {
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = sse_runtime::Server::new().with_graceful_shutdown(async move {
    ///     let _ = stopped.await;
    /// });
    /// # drop(stop);
    /// server.serve("127.0.0.1:0").await
    /// # }
    /// ```
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serves requests that match no route with an async function, such as the
    /// page that opens the `EventSource`. Its request carries a [`PeerAddr`]
    /// extension.
    ///
    /// ```
    /// use http::{Request, Response};
    /// use hyper::body::Incoming;
    ///
    /// async fn page(_request: Request<Incoming>) -> Response<String> {
    ///     Response::new("<script>new EventSource('/events')</script>".to_owned())
    /// }
    ///
    /// let server = sse_runtime::Server::new().fallback(page);
    /// # let _ = server;
    /// ```
    pub fn fallback<F, Fut, B>(mut self, fallback: F) -> Self
    where
        F: Fn(http::Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<B>> + Send + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.fallback = Some(Arc::new(move |request| {
            let response = fallback(request);
            Box::pin(async move { response.await.map(ResponseBody::boxed) })
        }));
        self
    }

    /// Serves requests that match no route with any tower `Service`, such as
    /// an axum `Router`. A service error is answered `500` and logged.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use http::{Request, Response};
    /// use hyper::body::Incoming;
    ///
    /// #[derive(Clone)]
    /// struct Hello;
    ///
    /// impl tower_service::Service<Request<Incoming>> for Hello {
    ///     type Response = Response<String>;
    ///     type Error = Infallible;
    ///     type Future = std::future::Ready<Result<Response<String>, Infallible>>;
    ///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
    ///         std::task::Poll::Ready(Ok(()))
    ///     }
    ///     fn call(&mut self, _: Request<Incoming>) -> Self::Future {
    ///         std::future::ready(Ok(Response::new("hello".to_owned())))
    ///     }
    /// }
    ///
    /// let server = sse_runtime::Server::new().fallback_service(Hello);
    /// # let _ = server;
    /// ```
    pub fn fallback_service<S, B>(self, service: S) -> Self
    where
        S: tower_service::Service<http::Request<Incoming>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.fallback(move |request| {
            let mut service = service.clone();
            async move {
                let called = async {
                    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                    service.call(request).await
                };
                match called.await {
                    Ok(response) => response.map(ResponseBody::boxed),
                    Err(err) => {
                        let err: BoxError = err.into();
                        tracing::error!(error = %err, "fallback service failed");
                        text_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
                    }
                }
            }
        })
    }

    /// Binds `addr` and serves until the shutdown signal (forever without
    /// one).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sse_runtime::ServeError> {
    /// sse_runtime::Server::new().serve("127.0.0.1:8080").await
    /// # }
    /// ```
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        let (inner, shutdown) = self.build()?;
        let listener = TcpListener::bind(addr).await.map_err(ServeError::Bind)?;
        inner.run(listener, shutdown).await;
        Ok(())
    }

    /// Serves on a listener that is already bound, such as one on port 0 in a
    /// test.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sse_runtime::ServeError> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// println!("listening on {}", listener.local_addr().unwrap());
    /// sse_runtime::Server::new().serve_on(listener).await
    /// # }
    /// ```
    pub async fn serve_on(self, listener: TcpListener) -> Result<(), ServeError> {
        let (inner, shutdown) = self.build()?;
        inner.run(listener, shutdown).await;
        Ok(())
    }

    fn build(self) -> Result<(Arc<Inner>, Signal), ServeError> {
        let config = self.config;
        if let Some(retry) = config.retry {
            let event = Event::new().retry(retry);
            event
                .validate()
                .map_err(|err| ServeError::Config(err.to_string()))?;
        }
        let mut router = matchit::Router::new();
        let mut routes = Vec::with_capacity(self.mounts.len());
        for Mount { path, route } in self.mounts {
            let compiled = CompiledRoute::new(path, route, &config)?;
            router
                .insert(compiled.pattern.as_ref(), routes.len())
                .map_err(|err| ServeError::Route {
                    path: compiled.pattern.to_string(),
                    reason: err.to_string(),
                })?;
            routes.push(compiled);
        }
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_buf_size(HTTP1_MAX_BUF_SIZE);
        builder.http2().timer(TokioTimer::new());
        let inner = Inner {
            router,
            routes,
            fallback: self.fallback,
            limit: config.max_connections.map(|n| Arc::new(Semaphore::new(n))),
            builder,
            drain: CancellationToken::new(),
            force: CancellationToken::new(),
            tasks: TaskTracker::new(),
            state: Arc::new(self.state),
            config,
        };
        let shutdown = self
            .shutdown
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        Ok((Arc::new(inner), shutdown))
    }
}

/// A route with everything resolved that each request needs.
struct CompiledRoute {
    pattern: Arc<str>,
    route: Box<dyn Route>,
    heartbeat: Option<Heartbeat>,
    /// The `retry:` line every stream starts with, encoded once.
    preamble: Option<Bytes>,
}

impl CompiledRoute {
    fn new(path: String, route: Box<dyn Route>, config: &Config) -> Result<Self, ServeError> {
        let invalid = |reason: String| ServeError::Route {
            path: path.clone(),
            reason,
        };
        if !path.starts_with('/') {
            return Err(invalid("a path must start with `/`".to_owned()));
        }
        let options = route.options();
        let heartbeat = options
            .heartbeat
            .unwrap_or_else(|| config.heartbeat.clone());
        let preamble = match options.retry.or(config.retry) {
            Some(retry) => {
                let event = Event::new().retry(retry).to_bytes();
                Some(event.map_err(|err| invalid(err.to_string()))?)
            }
            None => None,
        };
        Ok(Self {
            pattern: path.into(),
            route,
            heartbeat,
            preamble,
        })
    }
}

/// The running server, shared by its connection and handler tasks.
struct Inner {
    router: matchit::Router<usize>,
    routes: Vec<CompiledRoute>,
    fallback: Option<Arc<FallbackFn>>,
    limit: Option<Arc<Semaphore>>,
    builder: auto::Builder<TokioExecutor>,
    /// Cancelled when shutdown starts; every session's `closed` is its child.
    drain: CancellationToken,
    /// Cancelled at the shutdown deadline: whatever still runs is dropped.
    force: CancellationToken,
    tasks: TaskTracker,
    state: Arc<Extensions>,
    config: Config,
}

impl Inner {
    async fn run(self: Arc<Self>, listener: TcpListener, mut shutdown: Signal) {
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.clone().accept(stream, peer),
                    Err(err) => accept_failed(err).await,
                },
            }
        }
        drop(listener);
        self.shut_down().await;
    }

    fn accept(self: Arc<Self>, stream: TcpStream, peer: SocketAddr) {
        let permit = match &self.limit {
            None => None,
            Some(limit) => match limit.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    self.tasks.spawn(self.clone().refuse(stream));
                    return;
                }
            },
        };
        let tasks = self.tasks.clone();
        tasks.spawn(async move {
            self.connection(stream, peer).await;
            drop(permit);
        });
    }

    async fn connection(self: Arc<Self>, stream: TcpStream, peer: SocketAddr) {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
        }
        let head = tokio::select! {
            head = h1::read_head(&stream) => head,
            () = tokio::time::sleep(self.config.header_read_timeout) => {
                tracing::debug!(%peer, "no request headers within the timeout; closing");
                return;
            }
            () = self.drain.cancelled() => return,
            () = self.force.cancelled() => return,
        };
        let Some(head) = head else {
            return;
        };
        // An HTTP/1.1 GET of a stream: served here, without hyper's buffers.
        let fast = h1::parse(&head).and_then(|request| {
            let (index, params) = self.match_stream(&request.parts.uri)?.ok()?;
            self.start_stream(index, params, request.parts, peer).ok()
        });
        if let Some(body) = fast {
            drop(head);
            let timeout = self.config.write_timeout;
            h1::serve_stream(stream, body, timeout, &self.drain, &self.force).await;
            return;
        }
        let io = h1::Rewind::new(head, stream, self.config.write_timeout);
        self.serve_hyper(io, peer).await;
    }

    /// Serves a connection with hyper: everything but the fast path.
    async fn serve_hyper(self: Arc<Self>, io: h1::Rewind, peer: SocketAddr) {
        // hyper times out slow request headers only once it knows the HTTP
        // version, so the first request gets a deadline of its own.
        let requested = Arc::new(AtomicBool::new(false));
        let service = {
            let inner = self.clone();
            let requested = requested.clone();
            hyper::service::service_fn(move |request| {
                requested.store(true, Ordering::Relaxed);
                let inner = inner.clone();
                async move { Ok::<_, Infallible>(inner.respond(request, peer).await) }
            })
        };
        let conn = self.builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let first_request = tokio::time::sleep(self.config.header_read_timeout);
        tokio::pin!(first_request);
        let mut deadline_passed = false;
        let mut draining = false;
        loop {
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(%peer, error = %err, "connection ended with an error");
                    }
                    return;
                }
                // A branch's condition is only read when `select!` starts over,
                // so check again when the deadline fires: a request that came
                // in the meantime (a stream being served) keeps the connection.
                () = &mut first_request, if !deadline_passed => {
                    if requested.load(Ordering::Relaxed) {
                        deadline_passed = true;
                        continue;
                    }
                    tracing::debug!(%peer, "no request headers within the timeout; closing");
                    return;
                }
                () = self.drain.cancelled(), if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = self.force.cancelled() => return,
            }
        }
    }

    /// Answers a connection over the limit with 503, then closes it.
    async fn refuse(self: Arc<Self>, stream: TcpStream) {
        let service = hyper::service::service_fn(|_request| async {
            let mut response = text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is at its connection limit; retry later",
            );
            let headers = response.headers_mut();
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
            Ok::<_, Infallible>(response)
        });
        let conn = self.builder.serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            _ = tokio::time::timeout(self.config.header_read_timeout, conn) => {}
            () = self.force.cancelled() => {}
        }
    }

    /// The stream route at the request's path, with its decoded parameters.
    #[allow(clippy::type_complexity)]
    fn match_stream(
        &self,
        uri: &http::Uri,
    ) -> Option<Result<(usize, Vec<(String, String)>), Rejection>> {
        let matched = self.router.at(uri.path()).ok()?;
        let params: Result<Vec<_>, _> = matched
            .params
            .iter()
            .map(|(name, value)| decode_param(name, value))
            .collect();
        Some(params.map(|params| (*matched.value, params)))
    }

    async fn respond(
        self: Arc<Self>,
        request: http::Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<ResponseBody> {
        match self.match_stream(request.uri()) {
            Some(Ok((index, params))) => self.open_stream(index, params, request, peer),
            Some(Err(rejection)) => rejection_response(&rejection),
            None => match &self.fallback {
                Some(fallback) => {
                    let mut request = request;
                    request.extensions_mut().insert(PeerAddr(peer));
                    fallback(request).await
                }
                None => text_response(StatusCode::NOT_FOUND, "not found"),
            },
        }
    }

    fn open_stream(
        &self,
        index: usize,
        params: Vec<(String, String)>,
        request: http::Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<ResponseBody> {
        if request.method() != Method::GET {
            let mut response = text_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "this is an event stream: only GET is allowed",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET"));
            return response;
        }
        let (parts, _body) = request.into_parts();
        let body = match self.start_stream(index, params, parts, peer) {
            Ok(body) => body,
            Err(rejection) => return rejection_response(&rejection),
        };
        let mut response = Response::new(ResponseBody::stream(body));
        for (name, value) in STREAM_HEADERS {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        response
    }

    /// Starts route `index`'s handler for a request and returns the body of
    /// its stream; a refused request starts nothing.
    fn start_stream(
        &self,
        index: usize,
        params: Vec<(String, String)>,
        parts: http::request::Parts,
        peer: SocketAddr,
    ) -> Result<SseBody, Rejection> {
        let Some(route) = self.routes.get(index) else {
            return Err(Rejection::new(StatusCode::NOT_FOUND, "not found"));
        };
        if let Some(id) = parts.headers.get(LAST_EVENT_ID) {
            if std::str::from_utf8(id.as_bytes()).is_err() {
                return Err(Rejection::bad_request(
                    "the Last-Event-ID header is not valid UTF-8",
                ));
            }
        }
        let shared = Shared::new(
            Request::new(parts, params, Some(peer), self.state.clone()),
            self.drain.child_token(),
            self.config.max_buffered,
            route.heartbeat.clone(),
            route.preamble.clone(),
        );
        let running = route.route.start(Session::from_shared(shared.clone()))?;
        self.tasks.spawn(supervise(
            running,
            shared.clone(),
            route.pattern.clone(),
            self.force.clone(),
        ));
        Ok(SseBody::new(shared))
    }

    async fn shut_down(&self) {
        self.drain.cancel();
        self.tasks.close();
        let deadline = self.config.shutdown_deadline;
        if tokio::time::timeout(deadline, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.tasks.len(),
                "connections still open at the shutdown deadline; closing them"
            );
            self.force.cancel();
            self.tasks.wait().await;
        }
    }
}

/// Runs a handler to its end, isolating its panics, and ends its stream.
async fn supervise(
    running: HandlerFuture,
    shared: Arc<Shared>,
    route: Arc<str>,
    force: CancellationToken,
) {
    let outcome = tokio::select! {
        outcome = CatchUnwind(running) => Some(outcome),
        () = force.cancelled() => None,
    };
    match outcome {
        Some(Ok(Ok(()))) => {}
        Some(Ok(Err(error))) => tracing::error!(%route, %error, "SSE handler failed"),
        Some(Err(panic)) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(%route, panic = message, "SSE handler panicked");
        }
        None => tracing::debug!(%route, "SSE handler stopped at the shutdown deadline"),
    }
    shared.end();
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a non-string panic payload"
    }
}

/// Resolves to the future's output, or to the panic it raised.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn decode_param(name: &str, value: &str) -> Result<(String, String), Rejection> {
    match percent_encoding::percent_decode_str(value).decode_utf8() {
        Ok(decoded) => Ok((name.to_owned(), decoded.into_owned())),
        Err(_) => Err(Rejection::bad_request(format!(
            "path parameter `{name}` is not valid UTF-8 once percent-decoded"
        ))),
    }
}

async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    // These concern one connection only; anything else (such as running out of
    // file descriptors) would fail again at once, so pause before retrying.
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::debug!(error = %err, "a connection failed while being accepted");
        return;
    }
    tracing::error!(error = %err, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn text_response(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn rejection_response(rejection: &Rejection) -> Response<ResponseBody> {
    text_response(rejection.status(), rejection.message())
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix: pass it to
/// [`Server::with_graceful_shutdown`].
///
/// ```no_run
/// # async fn run() -> Result<(), sse_runtime::ServeError> {
/// sse_runtime::Server::new()
///     .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
///     .serve("127.0.0.1:8080")
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The body of every response the server sends.
pub(crate) struct ResponseBody(BodyKind);

enum BodyKind {
    Stream(SseBody),
    Full(Option<Bytes>),
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl ResponseBody {
    fn stream(body: SseBody) -> Self {
        Self(BodyKind::Stream(body))
    }

    fn full(bytes: Bytes) -> Self {
        Self(BodyKind::Full(Some(bytes)))
    }

    fn boxed<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(BodyKind::Boxed(body.map_err(Into::into).boxed_unsync()))
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            BodyKind::Stream(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|frame| frame.map_err(|never| match never {}))),
            BodyKind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            BodyKind::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            BodyKind::Stream(_) => false,
            BodyKind::Full(bytes) => bytes.is_none(),
            BodyKind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.0 {
            BodyKind::Stream(_) => http_body::SizeHint::default(),
            BodyKind::Full(bytes) => {
                http_body::SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            BodyKind::Boxed(body) => body.size_hint(),
        }
    }
}
