//! The server: a listener, its connections, and a [`Router`] that decides
//! every request, over HTTP/1.1 and HTTP/2.
//!
//! ```no_run
//! use std::time::Duration;
//! use sse_runtime::{route::handler, Event, Server, Session};
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
//! gets `404`; a method no route of the path answers gets `405` with the
//! methods they do in `Allow`; a request beyond [`Server::max_connections`]
//! gets `503` with `Retry-After`. A request body is read under the route's
//! [limit](Server::body_limit) and [deadline](Server::body_timeout).
//!
//! An HTTP/1.1 request of a stream (its body, with `Content-Length` or
//! chunked, read by the server too) is served without hyper's per-connection
//! buffers (the server reads the head, then writes the chunked stream straight
//! from the session's bytes, with `Connection: close`): an idle stream costs
//! about 6 KB instead of about 22 KB, and its [layers](Server::layer) see the
//! request first (a request with a body then goes to hyper, which hands the
//! layers its body). Everything else (HTTP/2, HTTP/1.0, other answers, the
//! fallback) is served by hyper. When such a stream ends, the
//! server closes its side and waits up to 2 s for the client to close its
//! own (not once shutdown has begun), so that bytes the client sent during
//! the stream cannot make the connection reset before it read the end.

mod accept;
mod fast_body;
mod fast_path;
#[cfg(fuzzing)]
pub mod fuzz;
mod h2_stream;
mod hyper_path;
mod listener;
pub mod proxy;
mod service;
mod signal;
#[cfg(feature = "tls")]
pub mod tls;
mod write_timeout;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use hyper_util::rt::TokioTimer;
use hyper_util::server::conn::auto;
use tokio::net::ToSocketAddrs;
use tokio::sync::Semaphore;

pub use signal::shutdown_signal;

pub use self::listener::{bind, Listener, DEFAULT_BACKLOG};
pub use self::service::{HttpService, RequestBody};

use self::service::{Dispatch, Normalize, Wrap};
use crate::error::{BoxError, ServeError};
use crate::heartbeat::Heartbeat;
use crate::route::{IntoRoute, Route, RoutePath};
use crate::router::shutdown::Shutdown;
use crate::router::{Body, Router, RouterBuilder};
#[cfg(doc)]
use crate::{PeerAddr, Request, Session};

/// hyper's own write buffer per HTTP/1 connection, on top of the session's.
const HTTP1_MAX_BUF_SIZE: usize = 64 * 1024;

/// The SSE server. Configure it, register routes, then [`serve`](Self::serve).
///
/// `S` is the state the routes registered next take their extractors' state
/// from (see [`with_state`](Self::with_state)); `()` until one is given.
///
/// ```no_run
/// use std::time::Duration;
/// use sse_runtime::{route::handler, Heartbeat, Server, Session};
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
pub struct Server<S = ()> {
    router: RouterBuilder<S>,
    config: Config,
    fallback: Option<Arc<FallbackFn>>,
    /// Applied in order: the last one added is the outermost.
    layers: Vec<Wrap>,
    shutdown: Option<Signal>,
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsConfig>,
    proxies: Option<proxy::TrustedProxies>,
}

/// The future whose completion starts a graceful shutdown.
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the server adds to its router's settings: connections and shutdown.
#[derive(Clone, Debug)]
struct Config {
    max_connections: Option<usize>,
    header_read_timeout: Duration,
    write_timeout: Option<Duration>,
    shutdown_deadline: Duration,
    backlog: u32,
}

pub(super) type FallbackFn = dyn Fn(http::Request<RequestBody>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>
    + Send
    + Sync;

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> std::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("router", &self.router)
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
        Server {
            router: Router::builder(),
            config: Config {
                max_connections: None,
                header_read_timeout: Duration::from_secs(10),
                write_timeout: Some(crate::router::DEFAULT_WRITE_TIMEOUT),
                shutdown_deadline: Duration::from_secs(5),
                backlog: listener::DEFAULT_BACKLOG,
            },
            fallback: None,
            layers: Vec::new(),
            shutdown: None,
            #[cfg(feature = "tls")]
            tls: None,
            proxies: None,
        }
    }
}

impl<S: Send + Sync + 'static> Server<S> {
    /// Registers a route at its own path.
    ///
    /// ```
    /// use sse_runtime::{route::handler, Server, Session};
    /// async fn feed(_session: Session) {}
    /// let server = Server::new().route(handler(feed).at("/feed"));
    /// # let _ = server;
    /// ```
    pub fn route<M, R>(self, route: R) -> Self
    where
        R: IntoRoute<S, M>,
        R::Route: Route<S> + RoutePath,
    {
        Self {
            router: self.router.route(route),
            ..self
        }
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
    pub fn route_at<M, R>(self, path: impl Into<String>, route: R) -> Self
    where
        R: IntoRoute<S, M>,
        R::Route: Route<S>,
    {
        Self {
            router: self.router.route_at(path, route),
            ..self
        }
    }
}

impl<S> Server<S> {
    /// The state that the routes registered from here on take their
    /// extractors' state from: [`State<T>`](crate::extract::State) takes any
    /// `T` that implements [`FromRef`](crate::extract::FromRef) of it (the
    /// whole value, or a field of a struct that derives `FromRef`). Give it
    /// before the routes that need it: a route that asks for state the
    /// server does not provide is a compile error at its registration. The
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
    /// let server = sse_runtime::Server::new().with_state(Arc::new(Db)).route(feed);
    /// # let _ = server;
    /// ```
    pub fn with_state<T: Send + Sync + 'static>(self, state: T) -> Server<T> {
        Server {
            router: self.router.with_state(state),
            config: self.config,
            fallback: self.fallback,
            layers: self.layers,
            shutdown: self.shutdown,
            #[cfg(feature = "tls")]
            tls: self.tls,
            proxies: self.proxies,
        }
    }

    /// The heartbeat of every route that does not set its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().heartbeat(Heartbeat::every(Duration::from_secs(30)));
    /// # drop(server);
    /// ```
    pub fn heartbeat(self, heartbeat: Heartbeat) -> Self {
        Self {
            router: self.router.heartbeat(heartbeat),
            ..self
        }
    }

    /// No heartbeat, except on routes that set one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Heartbeat, Server};
    /// let server = Server::new().no_heartbeat();
    /// # drop(server);
    /// ```
    pub fn no_heartbeat(self) -> Self {
        Self {
            router: self.router.no_heartbeat(),
            ..self
        }
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
    pub fn retry(self, retry: Duration) -> Self {
        Self {
            router: self.router.retry(retry),
            ..self
        }
    }

    /// Spreads each stream's initial `retry:` over `retry ..= retry +
    /// jitter`, chosen per stream, so that clients that lose their
    /// connections together (a deploy) do not all come back in the same
    /// instant; see [`RouterBuilder::retry_jitter`](crate::router::RouterBuilder::retry_jitter).
    ///
    /// ```
    /// use std::time::Duration;
    /// let server = sse_runtime::Server::new()
    ///     .retry(Duration::from_secs(2))
    ///     .retry_jitter(Duration::from_secs(3));
    /// # drop(server);
    /// ```
    pub fn retry_jitter(self, jitter: Duration) -> Self {
        Self {
            router: self.router.retry_jitter(jitter),
            ..self
        }
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
    pub fn max_buffered(self, bytes: usize) -> Self {
        Self {
            router: self.router.max_buffered(bytes),
            ..self
        }
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

    /// How many connections may wait to be accepted on the listener
    /// [`serve`](Self::serve) binds (default [`DEFAULT_BACKLOG`], 4,096; the
    /// kernel caps it at `net.core.somaxconn`). After a deploy every client
    /// reconnects at once; a short queue makes the late ones wait for SYN
    /// retransmits (seconds). A listener given to
    /// [`serve_on`](Self::serve_on) keeps its own.
    ///
    /// ```
    /// let server = sse_runtime::Server::new().listen_backlog(16_384);
    /// # drop(server);
    /// ```
    pub fn listen_backlog(mut self, backlog: u32) -> Self {
        self.config.backlog = backlog;
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

    /// Compresses the streams of every route that does not say otherwise,
    /// when the client accepts it (default: off); see
    /// [`compression`](crate::compression).
    ///
    /// ```
    /// use sse_runtime::compression::Compression;
    /// let server = sse_runtime::Server::new().compression(Compression::Gzip);
    /// # drop(server);
    /// ```
    pub fn compression(mut self, compression: crate::compression::Compression) -> Self {
        self.router = self.router.compression(compression);
        self
    }

    /// How long a client may take none of what the server has to write
    /// before its connection (or, over HTTP/2, its stream) is closed
    /// (default 60 s, like nginx's `send_timeout`). The clock runs only while
    /// the socket is full, or a stream's buffer is: a slow reader that keeps
    /// taking bytes is never cut off, one that stopped reading (or vanished
    /// without a reset) is, and its handler sees [`Session::closed`] resolve.
    /// The stream's part is the router's
    /// ([`RouterBuilder::write_timeout`](crate::router::RouterBuilder::write_timeout)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::Server;
    /// let server = Server::new().write_timeout(Duration::from_secs(20));
    /// # drop(server);
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_timeout = Some(timeout);
        self.router = self.router.write_timeout(timeout);
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
        self.router = self.router.no_write_timeout();
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
    /// let server = sse_runtime::Server::new().handler_grace(Duration::from_secs(1));
    /// # drop(server);
    /// ```
    pub fn handler_grace(self, grace: Duration) -> Self {
        Self {
            router: self.router.handler_grace(grace),
            ..self
        }
    }

    /// The largest request body a route reads when it does not set its own
    /// (2 MiB by default); see
    /// [`RouterBuilder::body_limit`](crate::router::RouterBuilder::body_limit).
    ///
    /// ```
    /// let server = sse_runtime::Server::new().body_limit(4 * 1024 * 1024);
    /// # drop(server);
    /// ```
    pub fn body_limit(self, bytes: usize) -> Self {
        Self {
            router: self.router.body_limit(bytes),
            ..self
        }
    }

    /// How long a route waits for a request body to arrive whole when it
    /// does not set its own (30 s by default); see
    /// [`RouterBuilder::body_timeout`](crate::router::RouterBuilder::body_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// let server = sse_runtime::Server::new().body_timeout(Duration::from_secs(10));
    /// # drop(server);
    /// ```
    pub fn body_timeout(self, timeout: Duration) -> Self {
        Self {
            router: self.router.body_timeout(timeout),
            ..self
        }
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

    /// Serves HTTPS: every connection starts with a TLS handshake (within
    /// the [header read timeout](Self::header_read_timeout)), and ALPN offers
    /// HTTP/2 and HTTP/1.1. Needs the `tls` feature; see
    /// [`crate::server::tls`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_runtime::server::tls::TlsConfig;
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// sse_runtime::Server::new().tls(tls).serve("0.0.0.0:8443").await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: tls::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Believes what the proxies in `proxies` say about the client: the
    /// address handlers and layers see ([`PeerAddr`]) and the
    /// [scheme](crate::Request::scheme), from forwarded headers or a PROXY
    /// protocol header. Off by default; see [`proxy`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use sse_runtime::server::proxy::TrustedProxies;
    /// let proxies = TrustedProxies::parse(["10.0.0.0/8"])?.x_forwarded_for();
    /// sse_runtime::Server::new().trusted_proxies(proxies).serve("0.0.0.0:8080").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn trusted_proxies(mut self, proxies: proxy::TrustedProxies) -> Self {
        self.proxies = Some(proxies);
        self
    }

    /// Serves requests that match no route with an async function, such as the
    /// page that opens the `EventSource`. Its request carries a [`PeerAddr`]
    /// extension.
    ///
    /// ```
    /// use http::{Request, Response};
    /// use sse_runtime::server::RequestBody;
    ///     ///
    /// async fn page(_request: Request<RequestBody>) -> Response<String> {
    ///     Response::new("<script>new EventSource('/events')</script>".to_owned())
    /// }
    ///
    /// let server = sse_runtime::Server::new().fallback(page);
    /// # let _ = server;
    /// ```
    pub fn fallback<F, Fut, B>(mut self, fallback: F) -> Self
    where
        F: Fn(http::Request<RequestBody>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<B>> + Send + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.fallback = Some(Arc::new(move |request| {
            let response = fallback(request);
            Box::pin(async move { response.await.map(Body::boxed) })
        }));
        self
    }

    /// Serves requests that match no route with any tower `Service`, such as
    /// an axum `Router`. A service error is answered `500` and logged.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use http::{Request, Response};
    /// use sse_runtime::server::RequestBody;
    ///     ///
    /// #[derive(Clone)]
    /// struct Hello;
    ///
    /// impl tower_service::Service<Request<RequestBody>> for Hello {
    ///     type Response = Response<String>;
    ///     type Error = Infallible;
    ///     type Future = std::future::Ready<Result<Response<String>, Infallible>>;
    ///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
    ///         std::task::Poll::Ready(Ok(()))
    ///     }
    ///     fn call(&mut self, _: Request<RequestBody>) -> Self::Future {
    ///         std::future::ready(Ok(Response::new("hello".to_owned())))
    ///     }
    /// }
    ///
    /// let server = sse_runtime::Server::new().fallback_service(Hello);
    /// # let _ = server;
    /// ```
    pub fn fallback_service<F, B>(mut self, service: F) -> Self
    where
        F: tower_service::Service<http::Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        F::Future: Send + 'static,
        F::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.fallback = Some(Arc::new(move |request| {
            let mut service = Normalize(service.clone());
            Box::pin(async move {
                match tower_service::Service::call(&mut service, request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            })
        }));
        self
    }

    /// Wraps the SSE routes and the fallback alike in a tower layer (CORS,
    /// tracing, a timeout, authentication, ...). A layer sees every request
    /// before its stream starts: one that answers by itself (a `401`, a CORS
    /// preflight) starts no handler. The last layer added is the outermost.
    ///
    /// Streams keep the HTTP/1.1 fast path: the fast path calls the layered
    /// service for a connection's first request and writes the stream it
    /// answers with the head the layers gave it (any other answer, such as a
    /// `401`, is written by hyper, keeping the connection). A layer costs a
    /// little memory per idle stream and a little CPU per delivery (measured
    /// in `BENCHMARKS.md`, "What a layer costs"); fallback and layers see a
    /// [`RequestBody`], which is empty for what the fast path read.
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[derive(Clone)] struct PassThrough;
    /// # impl<S> tower_layer::Layer<S> for PassThrough { type Service = S; fn layer(&self, s: S) -> S { s } }
    /// let server = sse_runtime::Server::new().layer(PassThrough);
    /// # drop(server);
    /// ```
    pub fn layer<L, B>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<HttpService> + Send + 'static,
        L::Service: tower_service::Service<http::Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower_service::Service<http::Request<RequestBody>>>::Future: Send + 'static,
        <L::Service as tower_service::Service<http::Request<RequestBody>>>::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.layers.push(Box::new(move |inner: HttpService| {
            HttpService::new(Normalize(layer.layer(inner)))
        }));
        self
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
        let backlog = self.config.backlog;
        let (running, shutdown) = self.build()?;
        let listener = listener::bind(addr, backlog)
            .await
            .map_err(ServeError::Bind)?;
        running.run(listener, shutdown).await;
        Ok(())
    }

    /// Serves on a listener that is already bound: a TCP listener (such as
    /// one on port 0 in a test), a Unix socket, or any [`Listener`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sse_runtime::ServeError> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// println!("listening on {}", listener.local_addr().unwrap());
    /// sse_runtime::Server::new().serve_on(listener).await
    /// # }
    /// ```
    pub async fn serve_on(self, listener: impl Listener) -> Result<(), ServeError> {
        let (running, shutdown) = self.build()?;
        running.run(listener, shutdown).await;
        Ok(())
    }

    fn build(self) -> Result<(Arc<Running>, Signal), ServeError> {
        let config = self.config;
        let router = self.router.build()?;
        // Each HTTP/2 stream runs watched: one that cannot make progress
        // for the write timeout is reset (`h2_stream.rs`).
        let mut builder = auto::Builder::new(h2_stream::StreamExecutor {
            write_timeout: config.write_timeout,
        });
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_buf_size(HTTP1_MAX_BUF_SIZE);
        builder.http2().timer(TokioTimer::new());
        let dispatch = Dispatch {
            router,
            fallback: self.fallback,
        };
        let layered = match self.layers.is_empty() {
            true => None,
            false => {
                let base = HttpService::new(dispatch.clone());
                Some(
                    self.layers
                        .into_iter()
                        .fold(base, |service, wrap| wrap(service)),
                )
            }
        };
        let running = Running {
            dispatch,
            layered,
            #[cfg(feature = "tls")]
            tls: self.tls,
            proxies: self.proxies,
            limit: config.max_connections.map(|n| Arc::new(Semaphore::new(n))),
            builder,
            config,
        };
        let shutdown = self
            .shutdown
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        Ok((Arc::new(running), shutdown))
    }
}

/// The running server, shared by its connection tasks; each concern's
/// module adds its part (`accept`, `hyper_path`).
struct Running {
    /// The router (which decides every request; its shutdown state is the
    /// server's) and the fallback.
    dispatch: Dispatch,
    /// The same behind the user's layers, if there are any.
    layered: Option<HttpService>,
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsConfig>,
    proxies: Option<proxy::TrustedProxies>,
    limit: Option<Arc<Semaphore>>,
    builder: auto::Builder<h2_stream::StreamExecutor>,
    config: Config,
}

impl Running {
    /// The shutdown state: the router's, which tracks the server's
    /// connection tasks too.
    fn shutdown(&self) -> &Shutdown {
        &self.dispatch.router.inner().shutdown
    }

    /// The router's decisions, for the paths that decide themselves.
    fn router(&self) -> &crate::router::Inner {
        self.dispatch.router.inner()
    }
}
