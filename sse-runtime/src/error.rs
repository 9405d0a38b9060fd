//! The errors of the crate's core: a send's, a router's or server's start,
//! and the boxed error of handlers and services.

use crate::event::EventError;
use crate::serializer::SerializeError;

/// Why an event was not sent. Nothing of the event was written.
///
/// A handler that returns `Result<(), sse_runtime::Error>` can use `?` on
/// every send:
///
/// ```no_run
/// use sse_runtime::{Event, Session};
///
/// async fn handler(session: Session) -> Result<(), sse_runtime::Error> {
///     session.send(Event::new().data("one")).await?;
///     session.send(Event::new().data("two")).await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The stream is closed: the client went away, the connection was dropped,
    /// or the session was closed.
    #[error("the SSE stream is closed")]
    Closed,
    /// A field of the event cannot be encoded.
    #[error("invalid event: {0}")]
    Event(#[from] EventError),
    /// The serializer failed to encode the value.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
    /// An answer came after the stream's response had begun (its first
    /// event, its heartbeat, or a `GET`, whose head is sent at once): see
    /// [`Session::answer`](crate::Session::answer).
    #[error("the SSE stream has begun: an answer must come before its first event")]
    Streaming,
}

/// Any error, boxed: what a handler's error becomes (it is logged with its
/// sources) and what fallback services and bodies may fail with.
///
/// ```
/// let err: sse_runtime::BoxError = "broken".into();
/// assert_eq!(err.to_string(), "broken");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a router or the server could not start.
///
/// ```
/// # async fn run() {
/// use sse_runtime::RouteError;
/// let err = sse_runtime::Server::new().route_at("no-slash", sse_runtime::route::handler(|_s: sse_runtime::Session| async {}))
///     .serve("127.0.0.1:0")
///     .await
///     .unwrap_err();
/// assert!(matches!(err, sse_runtime::ServeError::Route { reason: RouteError::NoLeadingSlash, .. }));
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listening socket could not be bound.
    #[error("could not bind the listening socket")]
    Bind(#[source] std::io::Error),
    /// A route's path or options are invalid, or two routes conflict.
    #[error("invalid route `{path}`")]
    Route {
        /// The route's path pattern.
        path: String,
        /// What is wrong with it.
        #[source]
        reason: RouteError,
    },
    /// The router-wide [`retry`](crate::router::RouterBuilder::retry) cannot be sent.
    #[error("invalid server-wide retry")]
    Retry(#[source] EventError),
}

/// What is wrong with a route; the source of [`ServeError::Route`].
///
/// ```
/// use sse_runtime::RouteError;
/// assert_eq!(RouteError::NoLeadingSlash.to_string(), "a path must start with `/`");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The path does not start with `/`.
    #[error("a path must start with `/`")]
    NoLeadingSlash,
    /// Another route's pattern matches the same paths.
    #[error("it conflicts with the route `{with}`")]
    Conflict {
        /// The pattern already registered.
        with: String,
    },
    /// The pattern is malformed (an unclosed `{`, an empty parameter name, a
    /// catch-all that is not last, ...).
    #[error("malformed path pattern: {0}")]
    Malformed(String),
    /// The route's [`retry`](crate::route::RouteOptions::retry) cannot be
    /// sent.
    #[error("invalid retry")]
    Retry(#[source] EventError),
    /// Another route of the same path answers some of the same methods:
    /// which would a request get?
    #[error("another route of this path answers {methods} already")]
    MethodTaken {
        /// The other route's methods.
        methods: String,
    },
    /// The route answers no method at all.
    #[error("it answers no method: give it at least one (`Methods::GET`)")]
    NoMethod,
}

impl RouteError {
    pub(crate) fn from_insert(err: matchit::InsertError) -> Self {
        match err {
            matchit::InsertError::Conflict { with } => Self::Conflict { with },
            other => Self::Malformed(other.to_string()),
        }
    }
}
