//! The typed client: events decoded into the types a route declares.

use std::fmt;
use std::marker::PhantomData;

use super::{ClientError, EventSource, Received};
use crate::typed::{DeclaredEvents, DecodeEvent};

/// An [`EventSource`] that yields the route `R`'s generated event enum: each
/// event is chosen by its name among the types `#[sse(..., events(...))]`
/// declares, and decoded with the route's serializer. Made by
/// [`EventSource::typed`].
///
/// An event that does not decode, or whose name the route does not declare,
/// is yielded as a [`ClientError::Decode`] or [`ClientError::Undeclared`] and
/// the stream goes on; any other error ends it.
///
/// ```no_run
/// use sse_runtime::client::EventSource;
/// use sse_runtime::sse;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Joined { name: String }
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Said { name: String, text: String }
///
/// #[sse("/room", serializer = Json, events(Joined = "join", Said = "message"))]
/// async fn room(session: RoomSession) -> Result<(), sse_runtime::Error> {
///     session.send(Joined { name: "ana".into() }).await
/// }
///
/// # async fn run() -> Result<(), sse_runtime::client::ClientError> {
/// let mut room = EventSource::builder("http://127.0.0.1:8080/room").build()?.typed::<RoomRoute>();
/// while let Some(event) = room.next().await {
///     match event? {
///         RoomEvent::Joined(joined) => println!("{} joined", joined.name),
///         RoomEvent::Said(said) => println!("{}: {}", said.name, said.text),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct TypedEventSource<R> {
    inner: EventSource,
    route: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for TypedEventSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedEventSource")
            .field(&self.inner)
            .finish()
    }
}

impl<R> TypedEventSource<R>
where
    R: DeclaredEvents,
    R::Event: DecodeEvent<R::Serializer>,
{
    pub(super) fn new(inner: EventSource) -> Self {
        Self {
            inner,
            route: PhantomData,
        }
    }

    /// The next declared event, connecting or reconnecting as needed; `None`
    /// once the client stopped. Cancel-safe.
    ///
    /// ```no_run
    /// # use sse_runtime::typed::{DeclaredEvents, DecodeEvent};
    /// # async fn f<R: DeclaredEvents>(mut events: sse_runtime::client::TypedEventSource<R>)
    /// # where R::Event: DecodeEvent<R::Serializer> {
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         Ok(_event) => {}
    ///         Err(err) if !err.is_terminal() => eprintln!("skipped: {err}"),
    ///         Err(err) => eprintln!("stopped: {err}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<Result<R::Event, ClientError>> {
        loop {
            let message = match self.inner.next().await? {
                Ok(Received::Message(message)) => message,
                Ok(_) => continue,
                Err(err) => return Some(Err(err)),
            };
            let decoded = match R::Event::decode_event(&message.event, &message.data) {
                Some(Ok(event)) => Ok(event),
                Some(Err(source)) => Err(ClientError::Decode {
                    event: message.event,
                    source,
                }),
                None => Err(ClientError::Undeclared(message.event)),
            };
            return Some(decoded);
        }
    }

    /// The untyped client underneath: its last event ID, URL, and `close`.
    ///
    /// ```no_run
    /// # use sse_runtime::typed::{DeclaredEvents, DecodeEvent};
    /// # fn f<R: DeclaredEvents>(events: &sse_runtime::client::TypedEventSource<R>)
    /// # where R::Event: DecodeEvent<R::Serializer> {
    /// println!("resume from {}", events.source().last_event_id());
    /// # }
    /// ```
    pub fn source(&self) -> &EventSource {
        &self.inner
    }

    /// The untyped client underneath, mutably (to [`close`](EventSource::close) it).
    ///
    /// ```no_run
    /// # use sse_runtime::typed::{DeclaredEvents, DecodeEvent};
    /// # fn f<R: DeclaredEvents>(events: &mut sse_runtime::client::TypedEventSource<R>)
    /// # where R::Event: DecodeEvent<R::Serializer> {
    /// events.source_mut().close();
    /// # }
    /// ```
    pub fn source_mut(&mut self) -> &mut EventSource {
        &mut self.inner
    }
}
