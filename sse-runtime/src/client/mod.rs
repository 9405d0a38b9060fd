//! A conforming SSE client (the `client` feature): `EventSource` over hyper.
//!
//! It behaves as the WHATWG standard says a browser's `EventSource` does:
//! it sends `Accept: text/event-stream` and, on reconnect, `Last-Event-ID`;
//! it honours `retry:`; it reconnects when the stream ends or the network
//! fails, and stops for good on any status but 200 (204 is how a server says
//! "stop"), on a content type other than `text/event-stream`, or after too
//! many redirects. On top of the standard: backoff with jitter for repeated
//! failures, a cap on attempts, size limits, and typed events.
//!
//! ```no_run
//! use sse_runtime::client::{EventSource, Received};
//!
//! # async fn run() -> Result<(), sse_runtime::client::ClientError> {
//! let mut events = EventSource::builder("http://127.0.0.1:8080/events").build()?;
//! while let Some(received) = events.next().await {
//!     if let Received::Message(message) = received? {
//!         println!("{}: {}", message.event, message.data);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The parser works on its own, for any byte source: see [`Parser`].

mod parser;
mod typed;

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

pub use parser::{Item, Message, ParseError, Parser, DEFAULT_LIMIT};
pub use typed::TypedEventSource;

use crate::serializer::DecodeError;

/// The reconnection time until the server sends `retry:`, as browsers use.
pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_secs(3);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Incoming>, BoxError>> + Send>>;

/// Sends one request; a boxed hyper client, so `EventSource` is not generic
/// over the connector.
trait Transport: Send + Sync {
    fn send(&self, request: Request<Full<Bytes>>) -> ResponseFuture;
}

impl<C> Transport for hyper_util::client::legacy::Client<C, Full<Bytes>>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn send(&self, request: Request<Full<Bytes>>) -> ResponseFuture {
        let response = self.request(request);
        Box::pin(async move { response.await.map_err(Into::into) })
    }
}

/// What [`EventSource::next`] yields.
///
/// ```
/// use sse_runtime::client::{Message, Received};
///
/// fn show(received: Received) {
///     match received {
///         Received::Open => println!("connected"),
///         Received::Message(Message { event, data, .. }) => println!("{event}: {data}"),
///         _ => {}
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// A connection opened (the first, or a reconnect): a 200 response with
    /// the event-stream content type.
    Open,
    /// An event was dispatched.
    Message(Message),
    /// A comment, when enabled with [`Builder::comments`].
    Comment(String),
    /// The server set the reconnection time, when enabled with
    /// [`Builder::retry_events`].
    Retry(Duration),
}

/// Why the client stopped, or why a typed event was not decoded.
///
/// Only [`Decode`](Self::Decode) and [`Undeclared`](Self::Undeclared), which
/// the typed client yields, leave the connection running; after any other
/// error the stream ends.
///
/// ```
/// use sse_runtime::client::ClientError;
/// let err = ClientError::Status(http::StatusCode::NO_CONTENT);
/// assert!(err.is_terminal());
/// assert_eq!(err.to_string(), "the server answered 204 No Content, not 200: not reconnecting");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL cannot be requested.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header given to the builder is not valid HTTP.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The body given to [`Builder::json`] or [`Builder::body_for`] did not
    /// serialize.
    #[error("the request body did not serialize: {0}")]
    InvalidBody(String),
    /// The response status was not 200 (nor a followed redirect).
    #[error("the server answered {0}, not 200: not reconnecting")]
    Status(StatusCode),
    /// The response was not `text/event-stream`.
    #[error("the response's content type is {}, not text/event-stream: not reconnecting",
            .0.as_deref().map_or("missing".to_owned(), |t| format!("{t:?}")))]
    ContentType(Option<String>),
    /// A redirect could not be followed.
    #[error("redirect not followed")]
    Redirect(#[source] RedirectError),
    /// The stream broke a size limit.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The connection failed and the attempts allowed ran out.
    #[error("gave up after {attempts} failed reconnection attempts: {last}")]
    GaveUp {
        /// Consecutive attempts that failed.
        attempts: u32,
        /// The last failure.
        last: BoxError,
    },
    /// The connection failed and reconnecting is disabled
    /// ([`Builder::max_attempts`]`(0)`, or a request other than `GET` that
    /// may not be re-sent: [`Builder::resend`]).
    #[error("connection failed: {0}")]
    Network(BoxError),
    /// A typed event's data did not decode into its declared type. The stream
    /// goes on.
    #[error("the {event:?} event did not decode: {source}")]
    Decode {
        /// The event's name.
        event: String,
        /// The serializer's error.
        source: DecodeError,
    },
    /// A typed client received an event name its route does not declare. The
    /// stream goes on.
    #[error("the route declares no {0:?} event")]
    Undeclared(String),
}

/// Why a redirect was not followed; the source of [`ClientError::Redirect`].
///
/// ```
/// use sse_runtime::client::RedirectError;
/// assert_eq!(RedirectError::TooMany(10).to_string(), "more than 10 redirects");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// More redirects in a row than the client follows.
    #[error("more than {0} redirects")]
    TooMany(usize),
    /// The redirect has no `Location` header.
    #[error("a redirect without Location")]
    NoLocation,
    /// The `Location` header is not ASCII.
    #[error("a Location that is not ASCII")]
    NotAscii,
    /// The `Location` is not a URL the client can follow.
    #[error("cannot follow Location {0:?}")]
    Unusable(String),
}

impl ClientError {
    /// Whether the stream ends after this error.
    ///
    /// ```
    /// let err = sse_runtime::client::ClientError::Undeclared("x".into());
    /// assert!(!err.is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Decode { .. } | Self::Undeclared(_))
    }
}

/// Configures an [`EventSource`].
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::client::EventSource;
///
/// let events = EventSource::builder("http://127.0.0.1:8080/feed")
///     .reconnection_time(Duration::from_secs(1))
///     .max_attempts(5)
///     .last_event_id("41")
///     .header("authorization", "Bearer t0ken")
///     .build()
///     .unwrap();
/// # drop(events);
/// ```
#[must_use = "a builder does nothing until `build`"]
pub struct Builder {
    url: String,
    method: Method,
    /// The body and its content type; or why it could not be made.
    body: Result<Option<(Bytes, &'static str)>, String>,
    resend: Option<bool>,
    headers: Vec<(String, String)>,
    transport: Option<Arc<dyn Transport>>,
    reconnection_time: Duration,
    max_backoff: Duration,
    max_attempts: Option<u32>,
    max_redirects: usize,
    comments: bool,
    retry_events: bool,
    /// Carries the starting last event ID and the size limits.
    parser: Parser,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("url", &self.url)
            .field("last_event_id", &self.parser.last_event_id())
            .field("reconnection_time", &self.reconnection_time)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The request's method (`GET` by default, what an `EventSource`
    /// sends): `POST` for the streams LLM APIs and MCP answer.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/v1/chat")
    ///     .method(http::Method::POST);
    /// # drop(builder);
    /// ```
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sends `value` as the request's JSON body (`Content-Type:
    /// application/json`); the method becomes `POST` unless one was set. A
    /// value that does not serialize fails [`build`](Self::build).
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/v1/chat")
    ///     .json(&serde_json::json!({ "model": "m", "stream": true }));
    /// # drop(builder);
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.body = serde_json::to_vec(value)
            .map(|json| Some((Bytes::from(json), "application/json")))
            .map_err(|err| err.to_string());
        self.default_to_post();
        self
    }

    /// Sends `bytes` as the request's body, of `content_type`; the method
    /// becomes `POST` unless one was set.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/echo")
    ///     .body("hello", "text/plain");
    /// # drop(builder);
    /// ```
    pub fn body(mut self, bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.body = Ok(Some((bytes.into(), content_type)));
        self.default_to_post();
        self
    }

    /// The body route `R` declares (its `Json<T>` or `Form<T>` argument),
    /// encoded as it reads it, with the first method it answers that
    /// carries one: a body of another type does not compile.
    ///
    /// ```no_run
    /// use sse_runtime::client::EventSource;
    /// use sse_runtime::extract::Json;
    /// use sse_runtime::sse;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Prompt { text: String }
    ///
    /// #[sse("/complete", method = "POST")]
    /// async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>) -> Result<(), sse_runtime::Error> {
    ///     session.send(prompt.text).await
    /// }
    ///
    /// # fn f() -> Result<(), sse_runtime::client::ClientError> {
    /// let prompt = Prompt { text: "hi".into() };
    /// let events = EventSource::builder("http://127.0.0.1:8080/complete")
    ///     .body_for::<CompleteRoute>(&prompt)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn body_for<R>(mut self, body: &R::Body) -> Self
    where
        R: crate::typed::DeclaredBody,
        R::Body: serde::Serialize,
    {
        self.method = R::METHOD;
        self.body = match R::FORM {
            true => serde_urlencoded::to_string(body)
                .map(|form| Some((Bytes::from(form), "application/x-www-form-urlencoded")))
                .map_err(|err| err.to_string()),
            false => serde_json::to_vec(body)
                .map(|json| Some((Bytes::from(json), "application/json")))
                .map_err(|err| err.to_string()),
        };
        self
    }

    /// Whether a request other than `GET` is sent again, body included and
    /// with `Last-Event-ID`, when its stream ends or fails (as
    /// `fetch-event-source` does). Off by default: a `POST` may not be
    /// safe to repeat (a second completion, a second tool call), so its
    /// stream ends with its response unless you say it may. A `GET` always
    /// reconnects, as `EventSource` does.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/mcp")
    ///     .json(&serde_json::json!({ "jsonrpc": "2.0", "method": "ping", "id": 1 }))
    ///     .resend(true);
    /// # drop(builder);
    /// ```
    pub fn resend(mut self, again: bool) -> Self {
        self.resend = Some(again);
        self
    }

    fn default_to_post(&mut self) {
        if self.method == Method::GET {
            self.method = Method::POST;
        }
    }

    /// Sends `name: value` with every request.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .header("x-client", "dashboard");
    /// # drop(builder);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Resumes after this event ID: the first request sends it as
    /// `Last-Event-ID`.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .last_event_id("1041");
    /// # drop(builder);
    /// ```
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.parser = self.parser.last_event_id_from(id);
        self
    }

    /// The wait before reconnecting until the server sends `retry:`
    /// ([`DEFAULT_RECONNECTION_TIME`] by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .reconnection_time(Duration::from_millis(500));
    /// # drop(builder);
    /// ```
    pub fn reconnection_time(mut self, wait: Duration) -> Self {
        self.reconnection_time = wait;
        self
    }

    /// The longest wait that backoff grows to after repeated failures (30 s
    /// by default; never less than the reconnection time).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .max_backoff(Duration::from_secs(10));
    /// # drop(builder);
    /// ```
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// Gives up after this many consecutive reconnection attempts that did not
    /// open a stream (unlimited by default, as in browsers). `0` never
    /// reconnects: the stream ends when the connection does.
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .max_attempts(10);
    /// # drop(builder);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// How many redirects one connection follows (10 by default).
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .max_redirects(3);
    /// # drop(builder);
    /// ```
    pub fn max_redirects(mut self, redirects: usize) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Yields comments (heartbeats among them) as [`Received::Comment`].
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/").comments(true);
    /// # drop(builder);
    /// ```
    pub fn comments(mut self, show: bool) -> Self {
        self.comments = show;
        self
    }

    /// Yields each valid `retry:` as [`Received::Retry`].
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/").retry_events(true);
    /// # drop(builder);
    /// ```
    pub fn retry_events(mut self, show: bool) -> Self {
        self.retry_events = show;
        self
    }

    /// Caps one line, in bytes; a longer line ends the stream with
    /// [`ParseError::LineTooLong`] ([`DEFAULT_LIMIT`] by default).
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .max_line_len(1 << 20);
    /// # drop(builder);
    /// ```
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.parser = self.parser.max_line_len(bytes);
        self
    }

    /// Caps one event's data, in bytes; a larger event ends the stream with
    /// [`ParseError::EventTooLarge`] ([`DEFAULT_LIMIT`] by default).
    ///
    /// ```
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .max_event_size(1 << 20);
    /// # drop(builder);
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.parser = self.parser.max_event_size(bytes);
        self
    }

    /// Connects through `connector` (for TLS, a proxy, or a Unix socket)
    /// instead of plain TCP.
    ///
    /// ```
    /// use hyper_util::client::legacy::connect::HttpConnector;
    ///
    /// let mut connector = HttpConnector::new();
    /// connector.set_nodelay(true);
    /// let builder = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .connector(connector);
    /// # drop(builder);
    /// ```
    pub fn connector<C>(mut self, connector: C) -> Self
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build::<_, Full<Bytes>>(connector);
        self.transport = Some(Arc::new(client));
        self
    }

    /// Checks the URL and headers. Nothing is sent until the first
    /// [`EventSource::next`].
    ///
    /// ```
    /// let err = sse_runtime::client::EventSource::builder("not a url").build().unwrap_err();
    /// assert!(err.to_string().starts_with("invalid URL"));
    /// ```
    pub fn build(self) -> Result<EventSource, ClientError> {
        let url = parse_url(&self.url)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| ClientError::InvalidHeader(format!("bad name {name:?}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| ClientError::InvalidHeader(format!("bad value for {name}")))?;
            headers.append(name, value);
        }
        let body = self.body.map_err(ClientError::InvalidBody)?;
        let body = match body {
            Some((bytes, content_type)) => {
                if !headers.contains_key(header::CONTENT_TYPE) {
                    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                }
                bytes
            }
            None => Bytes::new(),
        };
        let transport = self.transport.unwrap_or_else(|| {
            Arc::new(
                hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                    .build::<_, Full<Bytes>>(HttpConnector::new()),
            )
        });
        let resend = self.resend.unwrap_or(false) || self.method == Method::GET;

        Ok(EventSource {
            method: self.method,
            body,
            resend,
            current: url.clone(),
            requested: url,
            headers,
            transport,
            parser: self.parser,
            state: State::Connecting { at: None },
            reconnection_time: self.reconnection_time,
            max_backoff: self.max_backoff,
            max_attempts: self.max_attempts,
            max_redirects: self.max_redirects,
            comments: self.comments,
            retry_events: self.retry_events,
            failures: 0,
        })
    }
}

enum State {
    /// Connect when `at` is reached (`None`: at once).
    Connecting {
        at: Option<Instant>,
    },
    Open(Incoming),
    Closed,
}

/// A connection to an SSE endpoint that reconnects as `EventSource` does.
///
/// Read it with [`next`](Self::next) (cancel-safe, so it can sit in a
/// `tokio::select!`); drop it or [`close`](Self::close) it to disconnect.
///
/// ```no_run
/// use sse_runtime::client::EventSource;
///
/// # async fn run() -> Result<(), sse_runtime::client::ClientError> {
/// let mut events = EventSource::builder("http://127.0.0.1:8080/events").build()?;
/// while let Some(message) = events.next_message().await {
///     println!("{}", message?.data);
/// }
/// # Ok(())
/// # }
/// ```
pub struct EventSource {
    /// What every (re)connection requests.
    requested: Uri,
    method: Method,
    /// Sent with every (re)connection (empty for none).
    body: Bytes,
    /// Whether the request is sent again when its stream ends or fails.
    resend: bool,
    /// Where the current stream came from, after redirects.
    current: Uri,
    headers: HeaderMap,
    transport: Arc<dyn Transport>,
    parser: Parser,
    state: State,
    reconnection_time: Duration,
    max_backoff: Duration,
    max_attempts: Option<u32>,
    max_redirects: usize,
    comments: bool,
    retry_events: bool,
    /// Consecutive attempts that did not open a stream.
    failures: u32,
}

impl fmt::Debug for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &self.requested)
            .field("last_event_id", &self.parser.last_event_id())
            .field("reconnection_time", &self.reconnection_time)
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// Starts configuring a client for `url` (`http://`; other schemes need a
    /// [`connector`](Builder::connector)).
    ///
    /// ```
    /// let events = sse_runtime::client::EventSource::builder("http://localhost:8080/events")
    ///     .build()
    ///     .unwrap();
    /// # drop(events);
    /// ```
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder {
            url: url.into(),
            method: Method::GET,
            body: Ok(None),
            resend: None,
            headers: Vec::new(),
            transport: None,
            reconnection_time: DEFAULT_RECONNECTION_TIME,
            max_backoff: Duration::from_secs(30),
            max_attempts: None,
            max_redirects: 10,
            comments: false,
            retry_events: false,
            parser: Parser::new(),
        }
    }

    /// The last event ID, sent as `Last-Event-ID` on the next reconnect.
    ///
    /// ```
    /// let events = sse_runtime::client::EventSource::builder("http://localhost/")
    ///     .last_event_id("9")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(events.last_event_id(), "9");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// The current reconnection time (the server's last `retry:`, or the
    /// configured default).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let events = sse_runtime::client::EventSource::builder("http://localhost/").build().unwrap();
    /// assert_eq!(events.reconnection_time(), Duration::from_secs(3));
    /// ```
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// The URL the current stream came from, after redirects. Reconnects
    /// request the original URL again.
    ///
    /// ```
    /// let events = sse_runtime::client::EventSource::builder("http://localhost/a").build().unwrap();
    /// assert_eq!(events.url().path(), "/a");
    /// ```
    pub fn url(&self) -> &Uri {
        &self.current
    }

    /// Disconnects for good: [`next`](Self::next) returns `None` from now on.
    ///
    /// ```
    /// # async fn f() {
    /// let mut events = sse_runtime::client::EventSource::builder("http://localhost/").build().unwrap();
    /// events.close();
    /// assert!(events.next().await.is_none());
    /// # }
    /// ```
    pub fn close(&mut self) {
        self.state = State::Closed;
    }

    /// Decodes events into the types route `R` declares; see
    /// [`TypedEventSource`].
    ///
    /// ```no_run
    /// use sse_runtime::client::EventSource;
    /// use sse_runtime::sse;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Tick { n: u64 }
    ///
    /// #[sse("/ticks", serializer = Json, events(Tick = "tick"))]
    /// async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    ///     session.send(Tick { n: 1 }).await
    /// }
    ///
    /// # async fn run() -> Result<(), sse_runtime::client::ClientError> {
    /// let url = "http://127.0.0.1:8080/ticks";
    /// let mut ticks = EventSource::builder(url).build()?.typed::<TicksRoute>();
    /// while let Some(event) = ticks.next().await {
    ///     match event? {
    ///         TicksEvent::Tick(tick) => println!("tick {}", tick.n),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn typed<R>(self) -> TypedEventSource<R>
    where
        R: crate::typed::DeclaredEvents,
        R::Event: crate::typed::DecodeEvent<R::Serializer>,
    {
        TypedEventSource::new(self)
    }

    /// The next messages only, skipping opens, comments and retries.
    ///
    /// ```no_run
    /// # async fn f(mut events: sse_runtime::client::EventSource) -> Result<(), sse_runtime::client::ClientError> {
    /// while let Some(message) = events.next_message().await {
    ///     println!("{}", message?.data);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next_message(&mut self) -> Option<Result<Message, ClientError>> {
        loop {
            match self.next().await? {
                Ok(Received::Message(message)) => return Some(Ok(message)),
                Ok(_) => {}
                Err(err) => return Some(Err(err)),
            }
        }
    }

    /// The next thing received, connecting or reconnecting as needed. `None`
    /// once the client stopped: after [`close`](Self::close), after an error,
    /// or when the stream ended and no reconnection attempt is left.
    ///
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// ```no_run
    /// use sse_runtime::client::{EventSource, Received};
    ///
    /// # async fn f(mut events: EventSource) -> Result<(), sse_runtime::client::ClientError> {
    /// while let Some(received) = events.next().await {
    ///     match received? {
    ///         Received::Open => println!("(re)connected"),
    ///         Received::Message(message) => println!("{}", message.data),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<Result<Received, ClientError>> {
        loop {
            while let Some(frame) = self.parser.next_item() {
                match frame {
                    Item::Message(message) => return Some(Ok(Received::Message(message))),
                    Item::Comment(text) if self.comments => {
                        return Some(Ok(Received::Comment(text)))
                    }
                    Item::Comment(_) => {}
                    Item::Retry(wait) => {
                        self.reconnection_time = wait;
                        if self.retry_events {
                            return Some(Ok(Received::Retry(wait)));
                        }
                    }
                }
            }
            match &mut self.state {
                State::Closed => return None,
                State::Connecting { at } => {
                    if let Some(at) = *at {
                        tokio::time::sleep_until(at).await;
                    }
                    match self.connect().await {
                        Ok(body) => {
                            self.failures = 0;
                            self.state = State::Open(body);
                            return Some(Ok(Received::Open));
                        }
                        Err(Failure::Fatal(err)) => {
                            self.state = State::Closed;
                            return Some(Err(err));
                        }
                        Err(Failure::Retry(err)) => {
                            if let Some(err) = self.reconnect(Some(err)) {
                                return Some(Err(err));
                            }
                        }
                    }
                }
                State::Open(body) => match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            if let Err(err) = self.parser.feed(&data) {
                                self.state = State::Closed;
                                // What parsed before the limit broke still comes first.
                                return Some(Err(err.into()));
                            }
                        }
                    }
                    Some(Err(err)) => {
                        self.parser.finish();
                        if let Some(err) = self.reconnect(Some(err.into())) {
                            return Some(Err(err));
                        }
                    }
                    None => {
                        self.parser.finish();
                        if let Some(err) = self.reconnect(None) {
                            return Some(Err(err));
                        }
                    }
                },
            }
        }
    }

    /// Schedules the next attempt after the stream ended (`cause` is `None`)
    /// or failed; returns the error to report if no attempt is left.
    fn reconnect(&mut self, cause: Option<BoxError>) -> Option<ClientError> {
        if !self.resend {
            self.state = State::Closed;
            return cause.map(ClientError::Network);
        }
        if self.max_attempts.is_some_and(|max| self.failures >= max) {
            self.state = State::Closed;
            return match (cause, self.failures) {
                (None, _) => None,
                (Some(err), 0) => Some(ClientError::Network(err)),
                (Some(last), attempts) => Some(ClientError::GaveUp { attempts, last }),
            };
        }
        let wait = self.backoff();
        self.failures += 1;
        self.state = State::Connecting {
            at: Some(Instant::now() + wait),
        };
        None
    }

    /// The reconnection time for a first attempt; after failures, doubling
    /// up to the cap, with jitter so that clients dropped together do not
    /// come back together.
    fn backoff(&self) -> Duration {
        let base = self.reconnection_time;
        if self.failures == 0 {
            return base;
        }
        let cap = self.max_backoff.max(base);
        let grown = base.saturating_mul(1 << self.failures.min(16)).min(cap);
        // Uniform in [grown / 2, grown].
        let half = grown / 2;
        half + half.mul_f64(random_unit())
    }

    /// One connection attempt, following redirects.
    async fn connect(&mut self) -> Result<Incoming, Failure> {
        let mut url = self.requested.clone();
        let mut redirects = 0;
        loop {
            let response = self
                .transport
                .send(self.request(&url))
                .await
                .map_err(Failure::Retry)?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                if redirects == self.max_redirects {
                    return Err(Failure::Fatal(ClientError::Redirect(
                        RedirectError::TooMany(self.max_redirects),
                    )));
                }
                redirects += 1;
                url = redirect_target(&url, response.headers())
                    .map_err(|reason| Failure::Fatal(ClientError::Redirect(reason)))?;
                continue;
            }
            if status != StatusCode::OK {
                return Err(Failure::Fatal(ClientError::Status(status)));
            }
            let content_type = response.headers().get(header::CONTENT_TYPE);
            if !content_type.is_some_and(is_event_stream) {
                let shown = content_type.map(|t| String::from_utf8_lossy(t.as_bytes()).into());
                return Err(Failure::Fatal(ClientError::ContentType(shown)));
            }
            self.current = url;
            return Ok(response.into_body());
        }
    }

    fn request(&self, url: &Uri) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = url.clone();
        *request.headers_mut() = self.headers.clone();
        let id = self.parser.last_event_id();
        if !id.is_empty() {
            // The parser never keeps an id with NUL, CR or LF; any other byte
            // is a valid header value byte except the remaining controls.
            if let Ok(value) = HeaderValue::from_bytes(id.as_bytes()) {
                request.headers_mut().insert("last-event-id", value);
            }
        }
        request
    }
}

/// How a connection attempt went wrong.
enum Failure {
    /// The network: try again later.
    Retry(BoxError),
    /// The server said no: stop.
    Fatal(ClientError),
}

fn parse_url(url: &str) -> Result<Uri, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(invalid(
            "expected an absolute URL, such as http://host:port/path",
        ));
    }
    Ok(uri)
}

/// `text/event-stream` as a MIME essence: case-insensitive, parameters allowed.
fn is_event_stream(value: &HeaderValue) -> bool {
    let essence = value.as_bytes().split(|&b| b == b';').next().unwrap_or(&[]);
    essence
        .trim_ascii()
        .eq_ignore_ascii_case(b"text/event-stream")
}

/// Resolves a redirect's `Location` against the URL that answered it.
fn redirect_target(from: &Uri, headers: &HeaderMap) -> Result<Uri, RedirectError> {
    let location = headers
        .get(header::LOCATION)
        .ok_or(RedirectError::NoLocation)?
        .to_str()
        .map_err(|_| RedirectError::NotAscii)?;
    let bad = || RedirectError::Unusable(location.to_owned());
    if let Ok(absolute) = location.parse::<Uri>() {
        if absolute.scheme().is_some() {
            return Ok(absolute);
        }
    }
    let scheme = from.scheme_str().unwrap_or("http");
    if location.starts_with("//") {
        // Scheme-relative: `//host/path`.
        return format!("{scheme}:{location}").parse().map_err(|_| bad());
    }
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        // Relative to the current path's directory.
        let dir = from.path().rsplit_once('/').map_or("", |(dir, _)| dir);
        format!("{dir}/{location}")
    };
    let mut parts = from.clone().into_parts();
    parts.path_and_query = Some(path.parse().map_err(|_| bad())?);
    Uri::from_parts(parts).map_err(|_| bad())
}

/// A uniformly distributed number in [0, 1), from the standard library's
/// per-process random hash keys.
fn random_unit() -> f64 {
    // Each `RandomState` has fresh keys, so hashing a constant is random.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_essence() {
        for ok in [
            "text/event-stream",
            "Text/Event-Stream",
            "text/event-stream; charset=utf-8",
            "text/event-stream;",
        ] {
            assert!(is_event_stream(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["x bogus", "text/plain", "text/event-streams", ""] {
            assert!(!is_event_stream(&HeaderValue::from_static(bad)), "{bad}");
        }
    }

    #[test]
    fn redirect_targets() {
        let from: Uri = "http://a:1/x/stream?q=1".parse().unwrap();
        let to = |location: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, HeaderValue::from_static(location));
            redirect_target(&from, &headers).map(|u| u.to_string())
        };
        assert_eq!(to("/other").unwrap(), "http://a:1/other");
        assert_eq!(to("next?p").unwrap(), "http://a:1/x/next?p");
        assert_eq!(to("http://b:2/y").unwrap(), "http://b:2/y");
        assert_eq!(to("//c:3/z").unwrap(), "http://c:3/z");
        assert!(redirect_target(&from, &HeaderMap::new()).is_err());
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut events = EventSource::builder("http://localhost/")
            .reconnection_time(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(events.backoff(), Duration::from_secs(1));
        for (failures, grown) in [(1, 2), (2, 4), (3, 5), (10, 5), (40, 5)] {
            events.failures = failures;
            let wait = events.backoff();
            let grown = Duration::from_secs(grown);
            assert!(wait >= grown / 2 && wait <= grown, "{failures}: {wait:?}");
        }
    }
}
