//! The broadcast hub: publish an event once, deliver it to every subscriber,
//! and let clients resume with `Last-Event-ID`.
//!
//! A [`Hub<R>`](Hub) feeds the route `R`: [`publish`](Hub::publish) accepts
//! only `R`'s declared event types, as its session's `send` does, and encodes
//! each event once into bytes every subscriber shares. The hub numbers events
//! and keeps a history per topic; a subscriber that comes back with a
//! `Last-Event-ID` gets what it missed, then the live events, with no gap and
//! no duplicate. Subscribers read the shared history through cursors, so
//! memory is bounded by the history, not by a queue per subscriber; one that
//! falls behind the history is dealt with by the [`Lagging`] policy and never
//! slows the others.
//!
//! ```no_run
//! use sse_runtime::extract::State;
//! use sse_runtime::hub::Hub;
//! use sse_runtime::{sse, Server};
//!
//! #[derive(serde::Serialize)]
//! struct Price { symbol: String, cents: u64 }
//!
//! #[sse("/prices", serializer = Json, events(Price = "price"))]
//! async fn prices(session: PricesSession, hub: State<Hub<PricesRoute>>) -> Result<(), sse_runtime::Error> {
//!     // Replays after the client's Last-Event-ID, then forwards until it leaves.
//!     hub.0.subscribe().serve(&session).await?;
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), sse_runtime::ServeError> {
//! let hub = Hub::<PricesRoute>::new();
//! let publisher = hub.clone();
//! tokio::spawn(async move {
//!     publisher.publish(Price { symbol: "ACME".into(), cents: 1234 }).await.unwrap();
//! });
//! Server::new().with_state(hub).route(prices).serve("127.0.0.1:8080").await
//! # }
//! ```
//!
//! Where the history lives is a [`Backplane`]: [`MemoryBackplane`] (the
//! default) keeps it in this process; `RedisBackplane` (feature `redis`)
//! keeps it in Redis Streams, shared by every instance of the app, which then
//! name each event by the same id, so a client resumes on any of them.

mod backplane;
mod memory;
mod publish;
#[cfg(feature = "redis")]
mod redis;
mod waiters;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;

use crate::event::EventBody;

pub use backplane::{
    Backplane, BackplaneError, Cursor, CursorError, Entry, Subscribed, DEFAULT_IDEMPOTENCY_WINDOW,
};
pub use memory::{MemoryBackplane, MemoryCursor};
pub use publish::{Publish, PublishError, PublishOutcome};
#[cfg(feature = "redis")]
pub use redis::{RedisBackplane, RedisBuilder, RedisCursor};

use backplane::DynBackplane;

use crate::link::Link;
use crate::metrics::HubMetrics;
use crate::outbox::{EndReason, Feed, FeedFrame};
use crate::typed::{EventOf, SessionOf};
use crate::{Error, Event, Session};

/// The event name of the signal a subscriber gets when events it should have
/// received are gone from the history: its `Last-Event-ID` is older than the
/// oldest event kept (or from another run of an in-memory hub), or it fell
/// behind with [`Lagging::SkipAhead`]. Its data is the last event ID the
/// subscriber had. A client listens for it to refetch state:
/// `source.addEventListener("history-lost", ...)`.
///
/// ```
/// assert_eq!(sse_runtime::hub::HISTORY_LOST, "history-lost");
/// ```
pub const HISTORY_LOST: &str = "history-lost";

/// What happens to a subscriber that falls so far behind that the events it
/// has not received yet left the history.
///
/// ```
/// use sse_runtime::hub::{Hub, Lagging};
/// # struct R;
/// let hub = Hub::<R>::builder().history(10_000).lagging(Lagging::SkipAhead).build();
/// # drop(hub);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lagging {
    /// Close its stream if its client is why it fell behind (its connection
    /// had to wait for the client since the last events it took); the
    /// client reconnects with its `Last-Event-ID` and is told with
    /// [`HISTORY_LOST`] what it cannot get back. A subscriber whose
    /// connection always had room fell behind only because the server was
    /// busy: it is not closed (that would punish a reader that keeps up and
    /// add its reconnect to the load) but sent [`HISTORY_LOST`] and goes on
    /// from the oldest event kept, as with [`SkipAhead`](Self::SkipAhead).
    /// Mounted in another server, which does not say how its connections
    /// fare, every subscriber that falls behind is closed. The default.
    #[default]
    Close,
    /// Send it [`HISTORY_LOST`] and go on from the oldest event kept.
    SkipAhead,
}

/// How a [`Subscription::serve`] ended.
///
/// ```
/// use sse_runtime::hub::Ended;
/// fn describe(ended: Ended) -> &'static str {
///     match ended {
///         Ended::ClientLeft => "the client went away",
///         Ended::Lagged => "closed by the Lagging::Close policy",
///         Ended::HubClosed => "the hub was closed",
///         _ => "other",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// The client left, or the session was closed.
    ClientLeft,
    /// A slow consumer: the subscriber fell behind the history and
    /// [`Lagging::Close`] closed its stream, or its client took nothing for
    /// the write timeout (which ended the stream).
    Lagged,
    /// The hub was closed with [`Hub::close`].
    HubClosed,
    /// The backplane could not subscribe (Redis unreachable, say): the
    /// stream ends, and the client reconnects after its `retry` delay.
    Unavailable,
}

/// The hub's counters, all since it was built.
///
/// ```
/// # struct R;
/// let hub = sse_runtime::hub::Hub::<R>::new();
/// let stats = hub.stats();
/// assert_eq!((stats.subscribers, stats.published, stats.delivered), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Subscribers being served now.
    pub subscribers: u64,
    /// Events published.
    pub published: u64,
    /// Events written to subscribers (one per subscriber per event).
    pub delivered: u64,
    /// Subscribers that fell behind the history.
    pub lagged: u64,
    /// [`HISTORY_LOST`] signals sent.
    pub history_lost: u64,
}

/// The hub's numbers: kept for [`Hub::stats`], and counted through the
/// metrics facade (`crate::metrics`) for an exporter.
struct Counters {
    subscribers: AtomicU64,
    published: AtomicU64,
    delivered: AtomicU64,
    lagged: AtomicU64,
    history_lost: AtomicU64,
    metrics: HubMetrics,
    failures: publish::Failures,
}

impl Counters {
    /// The counters of a hub feeding the route type `R`.
    fn new<R>() -> Self {
        // The type's own name, without its module path: `ChatRoute`.
        let name = std::any::type_name::<R>();
        let hub = name.rsplit("::").next().unwrap_or(name);
        Self {
            subscribers: AtomicU64::new(0),
            published: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            lagged: AtomicU64::new(0),
            history_lost: AtomicU64::new(0),
            metrics: HubMetrics::new(hub),
            failures: publish::Failures::default(),
        }
    }

    fn subscribed(&self) {
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        self.metrics.subscribers.increment(1.0);
    }

    fn unsubscribed(&self) {
        self.subscribers.fetch_sub(1, Ordering::Relaxed);
        self.metrics.subscribers.decrement(1.0);
    }

    fn published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
        self.metrics.published.increment(1);
    }

    fn delivered(&self, events: u64) {
        self.delivered.fetch_add(events, Ordering::Relaxed);
        self.metrics.delivered.increment(events);
    }

    fn lagged(&self) {
        self.lagged.fetch_add(1, Ordering::Relaxed);
        self.metrics.lagged.increment(1);
    }

    fn history_lost(&self) {
        self.history_lost.fetch_add(1, Ordering::Relaxed);
        self.metrics.history_lost.increment(1);
    }
}

/// Builds a [`Hub`] over the in-memory backplane.
///
/// ```
/// use sse_runtime::hub::{Hub, Lagging};
/// # struct R;
/// let hub = Hub::<R>::builder().history(1_000).lagging(Lagging::Close).build();
/// # drop(hub);
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build`"]
pub struct Builder<R> {
    history: usize,
    lagging: Lagging,
    evict_after: Option<Duration>,
    idempotency_window: Duration,
    route: PhantomData<fn() -> R>,
}

impl<R> Builder<R> {
    /// How many events each topic keeps for replay (1024 by default).
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::builder().history(64).build();
    /// # drop(hub);
    /// ```
    pub fn history(mut self, events: usize) -> Self {
        self.history = events.max(1);
        self
    }

    /// What to do with a subscriber that falls behind the history.
    ///
    /// ```
    /// # struct R;
    /// use sse_runtime::hub::{Hub, Lagging};
    /// let hub = Hub::<R>::builder().lagging(Lagging::SkipAhead).build();
    /// # drop(hub);
    /// ```
    pub fn lagging(mut self, policy: Lagging) -> Self {
        self.lagging = policy;
        self
    }

    /// Lets a topic go once it has had no subscriber and no publish for
    /// `after` (by default topics stay); see
    /// [`MemoryBackplane::evict_idle_topics`].
    ///
    /// ```
    /// # struct R;
    /// use std::time::Duration;
    /// let hub = sse_runtime::hub::Hub::<R>::builder()
    ///     .evict_idle_topics(Duration::from_secs(600))
    ///     .build();
    /// # drop(hub);
    /// ```
    pub fn evict_idle_topics(mut self, after: Duration) -> Self {
        self.evict_after = Some(after);
        self
    }

    /// How long a publish's idempotency key is remembered
    /// ([`DEFAULT_IDEMPOTENCY_WINDOW`] unless set); see
    /// [`Publish::idempotency_key`].
    ///
    /// ```
    /// # struct R;
    /// use std::time::Duration;
    /// let hub = sse_runtime::hub::Hub::<R>::builder()
    ///     .idempotency_window(Duration::from_secs(60))
    ///     .build();
    /// # drop(hub);
    /// ```
    pub fn idempotency_window(mut self, window: Duration) -> Self {
        self.idempotency_window = window;
        self
    }

    /// The hub, with an in-memory history.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::builder().build();
    /// # drop(hub);
    /// ```
    pub fn build(self) -> Hub<R> {
        let mut backplane =
            MemoryBackplane::new(self.history).idempotency_window(self.idempotency_window);
        if let Some(after) = self.evict_after {
            backplane = backplane.evict_idle_topics(after);
        }
        Hub::with_backplane(backplane).lagging(self.lagging)
    }
}

/// A broadcast hub feeding the route `R`. Cloning it is cheap and shares it.
///
/// ```no_run
/// # use sse_runtime::sse;
/// # #[derive(serde::Serialize)] struct Note { text: String }
/// # #[sse("/notes", serializer = Json, events(Note = "note"))]
/// # async fn notes(session: NotesSession) {}
/// use sse_runtime::hub::Hub;
///
/// # async fn f() -> Result<(), sse_runtime::hub::PublishError> {
/// let hub = Hub::<NotesRoute>::new();
/// hub.publish(Note { text: "to everyone".into() }).await?;
/// hub.topic("user-7").publish(Note { text: "to user 7".into() }).await?;
/// # Ok(())
/// # }
/// ```
pub struct Hub<R> {
    backplane: Arc<dyn DynBackplane>,
    counters: Arc<Counters>,
    lagging: Lagging,
    route: PhantomData<fn() -> R>,
}

impl<R> Clone for Hub<R> {
    fn clone(&self) -> Self {
        Self {
            backplane: self.backplane.clone(),
            counters: self.counters.clone(),
            lagging: self.lagging,
            route: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Hub<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("route", &std::any::type_name::<R>())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<R> Hub<R> {
    /// A hub with an in-memory history of 1024 events per topic, closing
    /// subscribers that fall behind it.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// # drop(hub);
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a hub with an in-memory history.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::builder().history(100).build();
    /// # drop(hub);
    /// ```
    pub fn builder() -> Builder<R> {
        Builder {
            history: 1024,
            lagging: Lagging::Close,
            evict_after: None,
            idempotency_window: DEFAULT_IDEMPOTENCY_WINDOW,
            route: PhantomData,
        }
    }
}

impl<R> Default for Hub<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> Hub<R> {
    /// A hub whose history and ids come from `backplane`.
    ///
    /// ```
    /// use sse_runtime::hub::{Hub, MemoryBackplane};
    /// # struct R;
    /// let hub: Hub<R> = Hub::with_backplane(MemoryBackplane::new(4096));
    /// # drop(hub);
    /// ```
    pub fn with_backplane(backplane: impl Backplane) -> Self {
        Self {
            backplane: Arc::new(backplane),
            counters: Arc::new(Counters::new::<R>()),
            lagging: Lagging::Close,
            route: PhantomData,
        }
    }

    /// Sets the policy for subscribers that fall behind the history.
    ///
    /// ```
    /// use sse_runtime::hub::{Hub, Lagging};
    /// # struct R;
    /// let hub = Hub::<R>::new().lagging(Lagging::SkipAhead);
    /// # drop(hub);
    /// ```
    pub fn lagging(mut self, policy: Lagging) -> Self {
        self.lagging = policy;
        self
    }

    /// Publishes `value` to the default topic (`""`). See [`Topic::publish`].
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// # #[sse("/notes", serializer = Json, events(Note = "note"))]
    /// # async fn notes(session: NotesSession) {}
    /// # async fn f(hub: sse_runtime::hub::Hub<NotesRoute>) -> Result<(), sse_runtime::hub::PublishError> {
    /// let id = hub.publish(Note { text: "hello".into() }).await?;
    /// println!("published as {id}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn publish<T: EventOf<R>>(&self, value: T) -> Publish {
        self.topic("").publish(value)
    }

    /// A topic (a room, a user, ...): its own ids, history and subscribers.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// let room = hub.topic("room-1");
    /// assert_eq!(room.name(), "room-1");
    /// ```
    pub fn topic(&self, name: impl Into<Arc<str>>) -> Topic<R> {
        Topic {
            hub: self.clone(),
            name: name.into(),
        }
    }

    /// Subscribes to the default topic; see [`Subscription`].
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # use sse_runtime::{extract::State, hub::Hub};
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// #[sse("/notes", serializer = Json, events(Note = "note"))]
    /// async fn notes(session: NotesSession, hub: State<Hub<NotesRoute>>) -> Result<(), sse_runtime::Error> {
    ///     hub.0.subscribe().serve(&session).await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn subscribe(&self) -> Subscription<R> {
        self.topic("").subscribe()
    }

    /// The backplane, if it is a `B`, for what is particular to it.
    ///
    /// ```
    /// use sse_runtime::hub::{Hub, MemoryBackplane};
    /// # struct R;
    /// let hub = Hub::<R>::new();
    /// let memory = hub.backplane::<MemoryBackplane>().expect("the default");
    /// assert_eq!(memory.retained("news"), 0);
    /// ```
    pub fn backplane<B: Backplane>(&self) -> Option<&B> {
        self.backplane.as_any().downcast_ref()
    }

    /// The hub's counters.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// assert_eq!(hub.stats().published, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            subscribers: c.subscribers.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            lagged: c.lagged.load(Ordering::Relaxed),
            history_lost: c.history_lost.load(Ordering::Relaxed),
        }
    }

    /// Closes the hub: subscribers get what was published, then
    /// [`Subscription::serve`] returns [`Ended::HubClosed`]; later publishes
    /// fail.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// hub.close();
    /// ```
    pub fn close(&self) {
        self.backplane.close();
    }
}

/// One topic of a [`Hub`].
///
/// ```
/// # struct R;
/// let hub = sse_runtime::hub::Hub::<R>::new();
/// let topic = hub.topic("alerts");
/// # drop(topic);
/// ```
pub struct Topic<R> {
    hub: Hub<R>,
    name: Arc<str>,
}

impl<R> fmt::Debug for Topic<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topic").field("name", &self.name).finish()
    }
}

impl<R> Topic<R> {
    /// The topic's name.
    ///
    /// ```
    /// # struct R;
    /// assert_eq!(sse_runtime::hub::Hub::<R>::new().topic("a").name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Encodes `value` once, with its event name and the route's serializer,
    /// and appends it to the topic's history under a new id, which it
    /// returns. Every subscriber shares those bytes. Compiles only for the
    /// route's declared event types.
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// # #[sse("/notes", serializer = Json, events(Note = "note"))]
    /// # async fn notes(session: NotesSession) {}
    /// # async fn f(hub: sse_runtime::hub::Hub<NotesRoute>) -> Result<(), sse_runtime::hub::PublishError> {
    /// hub.topic("room-1").publish(Note { text: "hi".into() }).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn publish<T: EventOf<R>>(&self, value: T) -> Publish {
        // Encoded here, where `T` is checked: the future does not depend on `T`,
        // so a type the route does not declare is one error, not one per use.
        let body = EventBody::encode(T::NAME, |out| value.encode(out)).map_err(PublishError::from);
        let (backplane, counters) = (self.hub.backplane.clone(), self.hub.counters.clone());
        Publish::new(body, backplane, counters, self.name.clone())
    }

    /// A subscription to this topic; see [`Subscription`].
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # use sse_runtime::{extract::State, hub::Hub};
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// #[sse("/rooms/{room}", serializer = Json, events(Note = "note"))]
    /// async fn room(session: RoomSession, room: String, hub: State<Hub<RoomRoute>>) -> Result<(), sse_runtime::Error> {
    ///     hub.0.topic(room).subscribe().serve(&session).await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn subscribe(&self) -> Subscription<R> {
        Subscription {
            hub: self.hub.clone(),
            topic: self.name.clone(),
            after: None,
            filter: None,
        }
    }
}

type Filter = Box<dyn Fn(&Entry) -> bool + Send + Sync>;

/// A subscriber to be: which topic, from where, and which events. Serve it
/// into a session with [`serve`](Self::serve).
///
/// Without [`after`](Self::after), it resumes after the `Last-Event-ID` the
/// client sent, or starts with the next event published.
///
/// ```no_run
/// # use sse_runtime::sse;
/// # use sse_runtime::{extract::State, hub::Hub};
/// # #[derive(serde::Serialize)] struct Note { text: String }
/// # #[derive(serde::Serialize)] struct Typing { who: String }
/// #[sse("/notes", serializer = Json, events(Note = "note", Typing = "typing"))]
/// async fn notes(session: NotesSession, hub: State<Hub<NotesRoute>>) -> Result<(), sse_runtime::Error> {
///     // Everything but the typing indicators.
///     hub.0
///         .subscribe()
///         .filter(|entry| entry.event() != Some("typing"))
///         .serve(&session)
///         .await?;
///     Ok(())
/// }
/// ```
#[must_use = "a subscription does nothing until `serve`"]
pub struct Subscription<R> {
    hub: Hub<R>,
    topic: Arc<str>,
    after: Option<String>,
    filter: Option<Filter>,
}

impl<R> fmt::Debug for Subscription<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// The most events taken from the history per write.
const BATCH: usize = 64;

/// The batch capacity a caught-up subscriber keeps (more is freed).
const KEPT_BATCH: usize = 8;

impl<R> Subscription<R> {
    /// Resumes after this event ID instead of the request's `Last-Event-ID`
    /// (for a page that stored the last id it saw and passes it in the URL,
    /// since a new `EventSource` cannot set headers).
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// let subscription = hub.subscribe().after(Some("1700000000000-41".to_owned()));
    /// # drop(subscription);
    /// ```
    pub fn after(mut self, last_event_id: Option<String>) -> Self {
        self.after = last_event_id;
        self
    }

    /// Delivers only the events for which `keep` returns true. Events
    /// filtered out still advance the subscriber, so they are not replayed.
    ///
    /// ```
    /// # struct R;
    /// let hub = sse_runtime::hub::Hub::<R>::new();
    /// let subscription = hub.subscribe().filter(|entry| entry.event() == Some("alert"));
    /// # drop(subscription);
    /// ```
    pub fn filter(mut self, keep: impl Fn(&Entry) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Box::new(keep));
        self
    }

    /// Replays what the client missed, then forwards events as they are
    /// published, in batches, until the client leaves, the hub closes, or
    /// the subscriber falls behind the history under [`Lagging::Close`].
    /// Only the errors of the session itself are errors.
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # use sse_runtime::{extract::State, hub::{Ended, Hub}};
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// #[sse("/notes", serializer = Json, events(Note = "note"))]
    /// async fn notes(session: NotesSession, hub: State<Hub<NotesRoute>>) -> Result<(), sse_runtime::Error> {
    ///     if hub.0.subscribe().serve(&session).await? == Ended::Lagged {
    ///         tracing::info!("a slow client was closed; it will resume");
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn serve<'a>(self, session: &'a impl SessionOf<R>) -> Serve<'a> {
        // The bound is checked here; the future depends only on the session.
        let Self {
            hub,
            topic,
            after,
            filter,
        } = self;
        let subscription = UntypedSubscription {
            backplane: hub.backplane,
            counters: hub.counters,
            lagging: hub.lagging,
            topic,
            after,
            filter,
        };
        Serve(Box::pin(subscription.forward(session.session())))
    }
}

/// A subscription without its route type: what `serve` runs.
struct UntypedSubscription {
    backplane: Arc<dyn DynBackplane>,
    counters: Arc<Counters>,
    lagging: Lagging,
    topic: Arc<str>,
    after: Option<String>,
    filter: Option<Filter>,
}

impl UntypedSubscription {
    /// Subscribes, tells the client about lost history, then hands the
    /// cursor to the response body, which pulls from it in the connection's
    /// task; waits until the body stops pulling or the client leaves.
    async fn forward(self, session: &Session) -> Result<Ended, Error> {
        let after = self
            .after
            .or_else(|| session.request().last_event_id().map(str::to_owned));
        let subscribed = self
            .backplane
            .subscribe(&self.topic, after.as_deref())
            .await;
        let Subscribed {
            cursor,
            history_lost,
        } = match subscribed {
            Ok(subscribed) => subscribed,
            Err(BackplaneError::Closed) => return Ok(Ended::HubClosed),
            Err(err) => {
                tracing::warn!(topic = %self.topic, "cannot subscribe: {err}");
                return Ok(Ended::Unavailable);
            }
        };
        if history_lost {
            self.counters.history_lost();
            session.send(history_lost_signal(after.as_deref())).await?;
        }
        let (done, ended) = tokio::sync::oneshot::channel();
        let link = session.link();
        self.counters.subscribed();
        session.attach_feed(Box::new(SubscriptionFeed {
            cursor,
            filter: self.filter,
            lagging: self.lagging,
            counters: self.counters.clone(),
            batch: Vec::new(),
            last_written: None,
            resumed_after: after,
            done: Some(done),
            waits: link.as_ref().map_or(0, |link| link.waits()),
            link,
        }));
        let ended = tokio::select! {
            () = session.closed() => Ended::ClientLeft,
            ended = ended => ended.unwrap_or(Ended::ClientLeft),
        };
        match ended {
            Ended::Lagged => {
                session.note_end(EndReason::SlowConsumer);
                session.close();
            }
            // A client that took nothing for the write timeout (its socket
            // full, or its HTTP/2 window shut, so the feed was never even
            // polled) is a slow consumer too, however far behind it is.
            Ended::ClientLeft if session.end_reason() == Some(EndReason::WriteTimeout) => {
                self.counters.lagged();
                return Ok(Ended::Lagged);
            }
            _ => {}
        }
        Ok(ended)
    }
}

/// The subscription as the response body sees it: frames pulled from the
/// cursor, a batch at a time.
struct SubscriptionFeed<C> {
    cursor: C,
    filter: Option<Filter>,
    lagging: Lagging,
    counters: Arc<Counters>,
    /// Reused from batch to batch; idle subscribers keep it empty.
    batch: Vec<Entry>,
    /// The last event written (a shared handle, not a copy of its id): what
    /// the client will resume after.
    last_written: Option<Entry>,
    /// The id the client resumed after, until an event is written.
    resumed_after: Option<String>,
    /// Tells `serve` why the source stopped.
    done: Option<tokio::sync::oneshot::Sender<Ended>>,
    /// What the connection says of its client (when the server made it):
    /// whether the client is slow, or the server was.
    link: Option<Arc<Link>>,
    /// The connection's count of writes that waited, at the last batch.
    waits: u64,
}

impl<C> SubscriptionFeed<C> {
    /// Whether the client, not the server, is why the subscriber fell
    /// behind: its connection had to wait for it since the last batch. A
    /// connection that always had room was only not written to soon enough
    /// (the server was busy): closing its reader would punish the reader and
    /// add a reconnect to the load. Without a link (mounted in another
    /// server), the client is taken to be slow.
    fn client_is_slow(&self) -> bool {
        self.link
            .as_ref()
            .is_none_or(|link| link.waits() != self.waits)
    }

    fn finish(&mut self, ended: Ended) -> Poll<Option<FeedFrame>> {
        if let Some(done) = self.done.take() {
            let _ = done.send(ended);
        }
        Poll::Ready(None)
    }
}

impl<C: Cursor> Feed for SubscriptionFeed<C> {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<FeedFrame>> {
        loop {
            let polled = self.cursor.poll_next_batch(cx, &mut self.batch, BATCH);
            match polled {
                Poll::Pending => {
                    // Caught up: a burst's batch (64 entries, 3 KiB) is not
                    // kept by each of thousands of subscribers once it is
                    // over; a small one is, for the next few events.
                    if self.batch.capacity() > KEPT_BATCH {
                        self.batch = Vec::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(CursorError::Closed)) => return self.finish(Ended::HubClosed),
                Poll::Ready(Err(CursorError::Lagged { .. })) => {
                    self.counters.lagged();
                    match self.lagging {
                        Lagging::Close if self.client_is_slow() => {
                            return self.finish(Ended::Lagged)
                        }
                        Lagging::Close | Lagging::SkipAhead => {
                            self.cursor.skip_to_oldest();
                            self.counters.history_lost();
                            let had = match &self.last_written {
                                Some(entry) => Some(entry.id()),
                                None => self.resumed_after.as_deref(),
                            };
                            let signal = history_lost_signal(had);
                            match signal.to_bytes() {
                                Ok(bytes) => {
                                    return Poll::Ready(Some(FeedFrame { bytes, events: 1 }))
                                }
                                Err(_) => continue,
                            }
                        }
                    }
                }
                Poll::Ready(Ok(())) => {}
            }
            if let Some(keep) = &self.filter {
                self.batch.retain(|entry| keep(entry));
            }
            let Some(last) = self.batch.last() else {
                continue; // all filtered out
            };
            self.last_written = Some(last.clone());
            if let Some(link) = &self.link {
                self.waits = link.waits();
            }
            let events = self.batch.len() as u64;
            self.counters.delivered(events);
            // One event: its shared bytes as they are. Several: one frame.
            let frame = if self.batch.len() == 1 {
                self.batch[0].frame().clone()
            } else {
                let mut frame =
                    BytesMut::with_capacity(self.batch.iter().map(|e| e.frame().len()).sum());
                for entry in &self.batch {
                    frame.extend_from_slice(entry.frame());
                }
                frame.freeze()
            };
            self.batch.clear();
            return Poll::Ready(Some(FeedFrame {
                bytes: frame,
                events,
            }));
        }
    }
}

impl<C> Drop for SubscriptionFeed<C> {
    fn drop(&mut self) {
        self.counters.unsubscribed();
    }
}

fn history_lost_signal(last: Option<&str>) -> Event {
    Event::new()
        .event(HISTORY_LOST)
        .data(last.unwrap_or_default().to_owned())
}

/// The future of [`Subscription::serve`]: how the serving ended.
#[must_use = "nothing is served until it is awaited"]
pub struct Serve<'a>(Pin<Box<dyn Future<Output = Result<Ended, Error>> + Send + 'a>>);

impl fmt::Debug for Serve<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve").finish_non_exhaustive()
    }
}

impl Future for Serve<'_> {
    type Output = Result<Ended, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    #[tokio::test]
    async fn a_caught_up_subscriber_lets_a_bursts_batch_go() {
        let backplane = MemoryBackplane::new(100);
        let cursor = Backplane::subscribe(&backplane, "t", None)
            .await
            .unwrap()
            .cursor;
        let mut feed = SubscriptionFeed {
            cursor,
            filter: None,
            lagging: Lagging::Close,
            counters: Arc::new(Counters::new::<()>()),
            batch: Vec::new(),
            last_written: None,
            resumed_after: None,
            done: None,
            link: None,
            waits: 0,
        };
        let body = EventBody::text(Some("n"), "x").unwrap();
        for _ in 0..BATCH {
            Backplane::publish(&backplane, "t", body.clone(), None)
                .await
                .unwrap();
        }
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(Some(frame)) = feed.poll_frame(&mut cx) else {
            panic!("a batch");
        };
        assert_eq!(frame.events, BATCH as u64);
        assert!(feed.batch.capacity() >= BATCH, "kept while the burst lasts");
        assert!(feed.poll_frame(&mut cx).is_pending());
        assert!(feed.batch.capacity() <= KEPT_BATCH, "let go once caught up");
        Backplane::publish(&backplane, "t", body, None)
            .await
            .unwrap();
        assert!(feed.poll_frame(&mut cx).is_ready());
        assert!(feed.poll_frame(&mut cx).is_pending());
        assert!(feed.batch.capacity() > 0, "a small batch is kept");
    }
}
