//! The error a send returns, and the boxed error of handlers and services.

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
}

/// Any error, boxed: what a handler's error becomes (it is logged with its
/// sources) and what fallback services and bodies may fail with.
///
/// ```
/// let err: sse_runtime::BoxError = "broken".into();
/// assert_eq!(err.to_string(), "broken");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
