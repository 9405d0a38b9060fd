//! The seam between the hub and where its history lives.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use crate::event::{EventBody, Framed};
use crate::EventError;

/// One published event, ready for the wire: its [`EventBody`] framed with
/// the id the backplane assigned, in bytes every subscriber shares (cloning
/// an entry copies no bytes).
///
/// ```
/// use sse_runtime::event::EventBody;
/// use sse_runtime::hub::Entry;
///
/// let entry = Entry::new("7", &EventBody::text(Some("note"), "hi")?)?;
/// assert_eq!(entry.id(), "7");
/// assert_eq!(entry.event(), Some("note"));
/// assert_eq!(&entry.frame()[..], b"event: note\nid: 7\ndata: hi\n\n");
/// # Ok::<(), sse_runtime::EventError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry(Framed);

impl Entry {
    /// An entry from the id the backplane assigned and the body
    /// [`Backplane::publish`] received. Fails if the id could not come back
    /// as a `Last-Event-ID`.
    ///
    /// ```
    /// use sse_runtime::{event::EventBody, hub::Entry};
    /// assert!(Entry::new("bad\nid", &EventBody::text(None, "x")?).is_err());
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn new(id: &str, body: &EventBody) -> Result<Self, EventError> {
        Framed::new(body, id).map(Self)
    }

    /// An entry with the id `<run>-<n>`, which is always valid.
    pub(crate) fn numbered(body: &EventBody, run: u64, n: u64) -> Self {
        Self(Framed::numbered(body, run, n))
    }

    /// The event's id.
    ///
    /// ```
    /// # use sse_runtime::{event::EventBody, hub::Entry};
    /// let entry = Entry::new("41", &EventBody::text(None, "x")?)?;
    /// assert_eq!(entry.id(), "41");
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn id(&self) -> &str {
        self.0.id()
    }

    /// The event's name; `None` for the default `message`.
    ///
    /// ```
    /// # use sse_runtime::{event::EventBody, hub::Entry};
    /// let entry = Entry::new("1", &EventBody::text(None, "x")?)?;
    /// assert_eq!(entry.event(), None);
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn event(&self) -> Option<&str> {
        self.0.name()
    }

    /// The whole event as written to every subscriber.
    ///
    /// ```
    /// # use sse_runtime::{event::EventBody, hub::Entry};
    /// let entry = Entry::new("1", &EventBody::text(None, "x")?)?;
    /// assert_eq!(&entry.frame()[..], b"id: 1\ndata: x\n\n");
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn frame(&self) -> &Bytes {
        self.0.bytes()
    }
}

/// What [`Backplane::subscribe`] returns: a cursor, and whether events the
/// subscriber should have received are gone (its `Last-Event-ID` is older
/// than the history, or unknown).
#[derive(Debug)]
pub struct Subscribed<C> {
    /// Reads the topic from the right place on.
    pub cursor: C,
    /// Whether to tell the client, with the
    /// [`HISTORY_LOST`](super::HISTORY_LOST) signal, that it missed events.
    pub history_lost: bool,
}

/// Why a cursor cannot go on.
///
/// ```
/// use sse_runtime::hub::CursorError;
/// let err = CursorError::Lagged { last_delivered: Some("41".into()) };
/// assert_eq!(err.to_string(), "the subscriber fell behind the history");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The events after the cursor already left the history.
    #[error("the subscriber fell behind the history")]
    Lagged {
        /// The id of the last event the cursor gave out, if any.
        last_delivered: Option<String>,
    },
    /// The backplane was closed, and everything before was read.
    #[error("the hub is closed")]
    Closed,
}

/// A backplane failed.
///
/// ```
/// use sse_runtime::hub::BackplaneError;
/// assert_eq!(BackplaneError::Closed.to_string(), "the hub is closed");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackplaneError {
    /// Closed: nothing more can be published or subscribed.
    #[error("the hub is closed")]
    Closed,
    /// The backplane's own failure, known to have done nothing: it could
    /// not be reached, or it refused the command (Redis out of memory, say).
    #[error("backplane failure: {0}")]
    Failed(Box<dyn std::error::Error + Send + Sync>),
    /// No answer came (the reply timed out, or the connection was lost
    /// after the command went out): what was asked may still be done. A
    /// publish retried with the same idempotency key is never done twice.
    #[error("no answer from the backplane, so it may still be done: {0}")]
    Unanswered(Box<dyn std::error::Error + Send + Sync>),
}

/// How long a backplane remembers a publish's idempotency key unless told
/// otherwise (ten minutes): a retry within it is not published again.
///
/// ```
/// assert_eq!(sse_runtime::hub::DEFAULT_IDEMPOTENCY_WINDOW.as_secs(), 600);
/// ```
pub const DEFAULT_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(600);

/// A subscriber's position in a topic.
///
/// Polled by the subscriber's response body, in its connection's task, when
/// the connection can take more: a subscriber that does not read is not
/// polled and costs nothing but its place. Reading never makes a publisher
/// wait.
pub trait Cursor: Send + 'static {
    /// Appends up to `max` of the events after the cursor to `batch`, oldest
    /// first, and moves past them; when there are none yet, registers
    /// `cx`'s waker for the next publish and returns `Pending`.
    fn poll_next_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Entry>,
        max: usize,
    ) -> Poll<Result<(), CursorError>>;

    /// After [`CursorError::Lagged`], moves to the oldest event kept.
    fn skip_to_oldest(&mut self);
}

/// Where a hub's history lives, and who assigns the ids: the seam for a
/// distributed hub.
///
/// [`MemoryBackplane`](super::MemoryBackplane) is the embedded default;
/// `RedisBackplane` (feature `redis`) shares topics between instances. A
/// [`Hub`](super::Hub) holds its backplane behind a pointer, so handlers name
/// `Hub<Route>` whichever backplane it was built with.
///
/// Contract: ids are unique and increase within a topic; a cursor made
/// after id `x` yields every event published after `x` exactly once, in
/// order, then the live ones, with no gap (or reports
/// [`CursorError::Lagged`] or `history_lost`).
pub trait Backplane: Send + Sync + 'static {
    /// How subscribers read.
    type Cursor: Cursor;

    /// Appends `body` (an event encoded without its id) to `topic` under a
    /// new id, and returns the id.
    ///
    /// With an idempotency `key`: if an event was published to `topic` with
    /// the same key within the backplane's window, appends nothing and
    /// returns that event's id, so a publisher that retries after an
    /// unknown outcome ([`BackplaneError::Unanswered`]) publishes once. The
    /// check and the append are one atomic step.
    fn publish(
        &self,
        topic: &str,
        body: EventBody,
        key: Option<&str>,
    ) -> impl Future<Output = Result<Arc<str>, BackplaneError>> + Send;

    /// A cursor on `topic`, positioned after `last_event_id` (replaying what
    /// came after it) or, without one, at the next event to be published.
    fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> impl Future<Output = Result<Subscribed<Self::Cursor>, BackplaneError>> + Send;

    /// Closes: publishes fail, and cursors end once they read what is left.
    fn close(&self);
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A [`Backplane`] whose type is erased: what a hub holds. One more pointer
/// per publish and per subscribe, none per event delivered.
pub(super) trait DynBackplane: Send + Sync + 'static {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        body: EventBody,
        key: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Arc<str>, BackplaneError>>;

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscribed<Box<dyn Cursor>>, BackplaneError>>;

    fn close(&self);

    fn as_any(&self) -> &dyn Any;
}

impl<B: Backplane> DynBackplane for B {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        body: EventBody,
        key: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Arc<str>, BackplaneError>> {
        Box::pin(Backplane::publish(self, topic, body, key))
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscribed<Box<dyn Cursor>>, BackplaneError>> {
        Box::pin(async move {
            let subscribed = Backplane::subscribe(self, topic, last_event_id).await?;
            Ok(Subscribed {
                cursor: Box::new(subscribed.cursor) as Box<dyn Cursor>,
                history_lost: subscribed.history_lost,
            })
        })
    }

    fn close(&self) {
        Backplane::close(self);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Cursor for Box<dyn Cursor> {
    fn poll_next_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Entry>,
        max: usize,
    ) -> Poll<Result<(), CursorError>> {
        (**self).poll_next_batch(cx, batch, max)
    }

    fn skip_to_oldest(&mut self) {
        (**self).skip_to_oldest();
    }
}
