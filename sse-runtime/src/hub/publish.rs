//! Publishing: the [`Publish`] future, what a failure says about whether
//! the event went out, and the idempotency key that makes a retry safe.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::backplane::{BackplaneError, DynBackplane};
use super::Counters;
use crate::event::{BodyError, EventBody};
use crate::serializer::SerializeError;
use crate::EventError;

/// Why a publish failed, and whether the event may still go out
/// ([`outcome`](Self::outcome)).
///
/// ```
/// use sse_runtime::hub::{PublishError, PublishOutcome};
/// fn retry_is_safe_without_a_key(err: &PublishError) -> bool {
///     err.outcome() == PublishOutcome::NotPublished
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The value did not serialize.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
    /// The event cannot be encoded (a hand-written `EventOf::NAME` with a
    /// line break).
    #[error(transparent)]
    Event(#[from] EventError),
    /// The backplane failed (or the hub is closed).
    #[error(transparent)]
    Backplane(#[from] BackplaneError),
}

impl From<BodyError> for PublishError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::Event(err) => Self::Event(err),
            BodyError::Serialize(err) => Self::Serialize(err),
        }
    }
}

/// What a failed publish is known to have done.
///
/// ```
/// use sse_runtime::hub::{BackplaneError, PublishError, PublishOutcome};
/// let closed = PublishError::Backplane(BackplaneError::Closed);
/// assert_eq!(closed.outcome(), PublishOutcome::NotPublished);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishOutcome {
    /// Nothing was published: the event was refused before it was stored.
    NotPublished,
    /// The backplane did not answer: the event may yet be stored and
    /// delivered. Retry with the same [`idempotency_key`](Publish::idempotency_key)
    /// to publish it at most once.
    Unknown,
}

impl PublishOutcome {
    /// A label for logs and metrics: `not_published` or `unknown`.
    ///
    /// ```
    /// assert_eq!(sse_runtime::hub::PublishOutcome::Unknown.as_str(), "unknown");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotPublished => "not_published",
            Self::Unknown => "unknown",
        }
    }
}

impl PublishError {
    /// Whether the event may still be published.
    ///
    /// ```
    /// use sse_runtime::hub::{BackplaneError, PublishError, PublishOutcome};
    /// let timed_out = PublishError::Backplane(BackplaneError::Unanswered("no reply in 2 s".into()));
    /// assert_eq!(timed_out.outcome(), PublishOutcome::Unknown);
    /// ```
    pub fn outcome(&self) -> PublishOutcome {
        match self {
            Self::Backplane(BackplaneError::Unanswered(_)) => PublishOutcome::Unknown,
            _ => PublishOutcome::NotPublished,
        }
    }
}

/// The future of [`Topic::publish`](super::Topic::publish) and
/// [`Hub::publish`](super::Hub::publish): the new event's id. The value is
/// already encoded; awaiting appends it to the history.
///
/// ```no_run
/// # use sse_runtime::sse;
/// # #[derive(serde::Serialize)] struct Note { text: String }
/// # #[sse("/notes", serializer = Json, events(Note = "note"))]
/// # async fn notes(session: NotesSession) {}
/// # async fn f(hub: sse_runtime::hub::Hub<NotesRoute>) -> Result<(), sse_runtime::hub::PublishError> {
/// let id = hub.publish(Note { text: "hi".into() }).idempotency_key("note-7f3a").await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "nothing is published until it is awaited"]
pub struct Publish {
    state: State,
}

enum State {
    /// Not polled yet: the key can still be set.
    Ready(Box<Ready>),
    Running(Pin<Box<dyn Future<Output = Result<Arc<str>, PublishError>> + Send>>),
    Done,
}

struct Ready {
    body: Result<EventBody, PublishError>,
    backplane: Arc<dyn DynBackplane>,
    counters: Arc<Counters>,
    topic: Arc<str>,
    key: Option<String>,
}

impl Publish {
    pub(super) fn new(
        body: Result<EventBody, PublishError>,
        backplane: Arc<dyn DynBackplane>,
        counters: Arc<Counters>,
        topic: Arc<str>,
    ) -> Self {
        let ready = Ready {
            body,
            backplane,
            counters,
            topic,
            key: None,
        };
        Self {
            state: State::Ready(Box::new(ready)),
        }
    }

    /// Publishes at most once under `key` (a client-chosen message id, say):
    /// if an event was published to this topic with the same key within the
    /// backplane's window ([`DEFAULT_IDEMPOTENCY_WINDOW`](super::DEFAULT_IDEMPOTENCY_WINDOW)
    /// by default), nothing is published and the future gives that event's
    /// id. A publisher retrying after [`PublishOutcome::Unknown`] with the
    /// same key cannot deliver the event twice.
    ///
    /// ```no_run
    /// # use sse_runtime::sse;
    /// # #[derive(serde::Serialize)] struct Note { text: String }
    /// # #[sse("/notes", serializer = Json, events(Note = "note"))]
    /// # async fn notes(session: NotesSession) {}
    /// # async fn f(hub: sse_runtime::hub::Hub<NotesRoute>) -> Result<(), sse_runtime::hub::PublishError> {
    /// let first = hub.publish(Note { text: "hi".into() }).idempotency_key("m-1").await?;
    /// let retry = hub.publish(Note { text: "hi".into() }).idempotency_key("m-1").await?;
    /// assert_eq!(first, retry);
    /// # Ok(())
    /// # }
    /// ```
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        if let State::Ready(ready) = &mut self.state {
            ready.key = Some(key.into());
        }
        self
    }
}

impl fmt::Debug for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish").finish_non_exhaustive()
    }
}

impl Future for Publish {
    type Output = Result<Arc<str>, PublishError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut running = match std::mem::replace(&mut self.state, State::Done) {
            State::Ready(ready) => Box::pin(ready.run()),
            State::Running(running) => running,
            State::Done => panic!("`Publish` polled after it completed"),
        };
        let output = running.as_mut().poll(cx);
        if output.is_pending() {
            self.state = State::Running(running);
        }
        output
    }
}

impl Ready {
    async fn run(self) -> Result<Arc<str>, PublishError> {
        let Self {
            body,
            backplane,
            counters,
            topic,
            key,
        } = self;
        match backplane.publish(&topic, body?, key.as_deref()).await {
            Ok(id) => {
                counters.published();
                counters.failures.succeeded(counters.metrics.name);
                Ok(id)
            }
            Err(err) => {
                let err = PublishError::from(err);
                counters
                    .failures
                    .failed(counters.metrics.name, &topic, &err);
                Err(err)
            }
        }
    }
}

/// Logs a backplane's failures to publish once per outage: the first
/// failure with the backplane's error, then nothing until a publish
/// succeeds (which is logged too), so a down Redis under load is one line,
/// not one per message. Every failure is counted in the metrics.
#[derive(Debug, Default)]
pub(super) struct Failures {
    failing: AtomicBool,
}

impl Failures {
    fn failed(&self, hub: &'static str, topic: &str, err: &PublishError) {
        let PublishError::Backplane(backplane) = err else {
            return; // the value's own fault, returned to its publisher
        };
        if matches!(backplane, BackplaneError::Closed) {
            return; // shutting down
        }
        let outcome = err.outcome();
        crate::metrics::publish_failed(hub, outcome.as_str());
        if !self.failing.swap(true, Ordering::AcqRel) {
            let error: &dyn std::error::Error = backplane;
            tracing::error!(
                hub,
                topic,
                outcome = outcome.as_str(),
                error,
                "hub: a publish failed; further failures are counted, not logged, until one succeeds"
            );
        }
    }

    fn succeeded(&self, hub: &'static str) {
        if self.failing.load(Ordering::Relaxed) && self.failing.swap(false, Ordering::AcqRel) {
            tracing::info!(hub, "hub: publishing works again");
        }
    }
}
