//! The request that opened a stream, as a handler sees it.

use std::sync::Arc;

use crate::link::Link;
use std::net::SocketAddr;

use http::header::{AsHeaderName, HeaderMap};
use http::{Extensions, Method, Uri, Version};

/// The name of the header a reconnecting `EventSource` sends its last event id
/// in.
///
/// ```
/// assert_eq!(sse_runtime::request::LAST_EVENT_ID, "last-event-id");
/// ```
pub const LAST_EVENT_ID: &str = "last-event-id";

/// Whether `headers` carry no `Last-Event-ID`, or one that is UTF-8: what
/// [`Request::last_event_id`] can report. The server refuses a request
/// otherwise, so a handler never resumes from a mangled id.
pub(crate) fn last_event_id_is_readable(headers: &HeaderMap) -> bool {
    match headers.get(LAST_EVENT_ID) {
        Some(id) => std::str::from_utf8(id.as_bytes()).is_ok(),
        None => true,
    }
}

/// The client's address: [`Request::peer_addr`] for a handler, an extractor
/// argument of an `#[sse]` handler, and an extension of every request passed
/// to a fallback.
///
/// ```
/// use sse_runtime::PeerAddr;
/// async fn page(request: http::Request<sse_runtime::server::RequestBody>) -> http::Response<String> {
///     let peer = request.extensions().get::<PeerAddr>().map(|p| p.0);
///     http::Response::new(format!("hello {peer:?}"))
/// }
/// # let _ = sse_runtime::Server::new().fallback(page);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// How the client reached the server: over TLS (`Https`), or not. The
/// server puts `Https` in a request's extensions when it terminated TLS, or
/// when a trusted proxy said so (see
/// [`TrustedProxies`](crate::server::proxy::TrustedProxies)); no extension
/// means `Http`.
///
/// ```
/// use sse_runtime::request::Scheme;
/// assert_eq!(Scheme::Https.as_str(), "https");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    ///
    /// ```
    /// assert_eq!(sse_runtime::request::Scheme::Http.as_str(), "http");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The originating request of a session: method, URI, headers, path
/// parameters, query, peer address and `Last-Event-ID`. Its body, if any, is
/// what a body extractor took (see [`FromBody`](crate::extract::FromBody)).
///
/// ```no_run
/// use sse_runtime::{Event, Session};
///
/// async fn handler(session: Session) -> Result<(), sse_runtime::Error> {
///     let request = session.request();
///     let room = request.param("room").unwrap_or("lobby");
///     let resume = request.last_event_id();
///     session.send(Event::new().data(format!("room {room}, resuming after {resume:?}"))).await
/// }
/// ```
#[derive(Debug)]
pub struct Request {
    parts: http::request::Parts,
    params: Vec<(String, String)>,
    peer: Option<SocketAddr>,
    /// What the connection it came on tells its stream, if the server made
    /// the connection.
    link: Option<Arc<Link>>,
}

impl Request {
    pub(crate) fn new(
        parts: http::request::Parts,
        params: Vec<(String, String)>,
        peer: Option<SocketAddr>,
        link: Option<Arc<Link>>,
    ) -> Self {
        Self {
            parts,
            params,
            peer,
            link,
        }
    }

    /// What the connection it came on tells its stream.
    pub(crate) fn link(&self) -> Option<&Arc<Link>> {
        self.link.as_ref()
    }

    /// The request method: `GET`, or another the route answers
    /// (`method = "POST"`).
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// assert_eq!(request.method(), http::Method::GET);
    /// # }
    /// ```
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI as received (origin form: path and query).
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let uri = request.uri().to_string();
    /// # }
    /// ```
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The HTTP version.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let http2 = request.version() == http::Version::HTTP_2;
    /// # }
    /// ```
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// The path, still percent-encoded.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let path: &str = request.path();
    /// # }
    /// ```
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The raw query string, without the `?`.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let query = request.query().unwrap_or("");
    /// # }
    /// ```
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// All request headers.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let agent = request.headers().get("user-agent");
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// One header's value, when present and valid UTF-8.
    ///
    /// ```no_run
    /// # fn f(request: &sse_runtime::Request) {
    /// let agent = request.header("user-agent").unwrap_or("unknown");
    /// # }
    /// ```
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        let value = self.parts.headers.get(name)?;
        std::str::from_utf8(value.as_bytes()).ok()
    }

    /// A path parameter by name, percent-decoded: for the pattern
    /// `/rooms/{room}` and the path `/rooms/caf%C3%A9`, `param("room")` is
    /// `Some("café")`.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let room = request.param("room");
    /// # }
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every path parameter as `(name, value)`, in pattern order.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// for (name, value) in request.params() {
    ///     println!("{name} = {value}");
    /// }
    /// # }
    /// ```
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How the client reached the server: `Https` over TLS, or when a
    /// trusted proxy says the client used it.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let secure = request.scheme() == sse_runtime::request::Scheme::Https;
    /// # }
    /// ```
    pub fn scheme(&self) -> Scheme {
        self.parts
            .extensions
            .get::<Scheme>()
            .copied()
            .unwrap_or_default()
    }

    /// The client's address: the connection's peer, or behind a trusted
    /// proxy the client it names (see
    /// [`TrustedProxies`](crate::server::proxy::TrustedProxies)); `None` on a
    /// Unix socket.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let ip = request.peer_addr().map(|addr| addr.ip());
    /// # }
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The `Last-Event-ID` a reconnecting client sent: the id of the last event
    /// it received. `None` on a first connection (or after the client's id was
    /// reset by an empty id). A header that is not UTF-8 is refused with 400
    /// before the handler runs.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let resume_after: Option<&str> = request.last_event_id();
    /// # }
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.header(LAST_EVENT_ID).filter(|id| !id.is_empty())
    }

    /// Request extensions, as set by hyper or a middleware.
    ///
    /// ```
    /// # fn f(request: &sse_runtime::Request) {
    /// let extensions = request.extensions();
    /// # }
    /// ```
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }
}
