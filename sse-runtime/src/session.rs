//! Sessions: what a handler writes its events to.
//!
//! A [`Session`] is one open stream to one client. It sends [`Event`]s or
//! typed values through a [`Serializer`], tells the handler when the client
//! has gone ([`Session::closed`]), and gives access to the request that opened
//! the stream. The stream ends when the handler returns or calls
//! [`Session::close`].
//!
//! # Backpressure and memory
//!
//! Sends append encoded events to one buffer that the connection drains as
//! fast as the client reads. When that buffer holds `max_buffered` bytes or
//! more (64 KiB unless the server sets [`Server::max_buffered`]), a send waits
//! until the connection has written it out. So a session holds at most
//! `max_buffered` bytes plus one event, and hyper's write buffer on top of
//! that (bounded by the server at 64 KiB per HTTP/1 connection; HTTP/2 flow
//! control bounds it per stream).
//!
//! # When the client leaves
//!
//! [`Session::closed`] resolves and every send fails with [`Error::Closed`].
//! A handler that neither sends nor waits for `closed()` is cancelled once
//! its client has been gone for the server's
//! [`handler_grace`](crate::Server::handler_grace) (5 s by default): its
//! future is dropped at the `.await` it is stopped at, as axum drops a
//! response stream. Cleanup that must run however the handler ends (it
//! returned, failed, panicked or was cancelled) belongs in a `Drop` guard:
//!
//! ```no_run
//! use sse_runtime::{Event, Session};
//!
//! /// Counts a viewer while it lives.
//! struct Viewer(std::sync::Arc<std::sync::atomic::AtomicUsize>);
//!
//! impl Drop for Viewer {
//!     fn drop(&mut self) {
//!         self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
//!     }
//! }
//!
//! async fn watch(session: Session, viewers: std::sync::Arc<std::sync::atomic::AtomicUsize>) {
//!     viewers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!     let _viewer = Viewer(viewers); // runs on every way out, cancellation included
//!     let _ = session.send(Event::new().data("hello")).await;
//!     some_long_work().await;
//! }
//! # async fn some_long_work() {}
//! ```
//!
//! [`Server::max_buffered`]: crate::Server::max_buffered

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::answer::Answer;
use crate::error::Error;
use crate::event::Event;
use crate::heartbeat::Heartbeat;
use crate::outbox::{Feed, Outbox};
use crate::request::Request;
use crate::serializer::{self, SerializeError, Serializer};

/// One open event stream. Cheap to clone: clones write to the same stream,
/// for example from a task the handler spawns.
///
/// ```no_run
/// use std::time::Duration;
/// use sse_runtime::{Event, Session};
///
/// async fn ticker(session: Session) -> Result<(), sse_runtime::Error> {
///     let mut n = 0u64;
///     loop {
///         tokio::select! {
///             _ = session.closed() => return Ok(()),
///             _ = tokio::time::sleep(Duration::from_secs(1)) => {
///                 n += 1;
///                 session.send(Event::new().event("tick").id(n).data(n.to_string())).await?;
///             }
///         }
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    outbox: Arc<Outbox>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("path", &self.request().path())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Session {
    pub(crate) fn new(outbox: Arc<Outbox>) -> Self {
        Self { outbox }
    }

    /// Has the stream's response body pull `feed` (a hub subscription) in
    /// the connection's task, after whatever this session sends.
    pub(crate) fn attach_feed(&self, feed: Box<dyn Feed>) {
        self.outbox.attach(feed);
    }

    /// Records why the stream ends, for its log line, unless known already.
    pub(crate) fn note_end(&self, reason: crate::outbox::EndReason) {
        self.outbox.note_end(reason);
    }

    /// What the stream's connection tells it, if the server made it.
    pub(crate) fn link(&self) -> Option<Arc<crate::link::Link>> {
        self.outbox.link().cloned()
    }

    /// Why the stream ended, as first known (`None` while it goes on).
    pub(crate) fn end_reason(&self) -> Option<crate::outbox::EndReason> {
        self.outbox.end_reason()
    }

    /// The request that opened this stream.
    ///
    /// ```no_run
    /// # fn f(session: sse_runtime::Session) {
    /// let resume_after = session.request().last_event_id();
    /// # }
    /// ```
    pub fn request(&self) -> &Request {
        self.outbox.request()
    }

    /// Sends one event. Waits while the connection is behind (see the module
    /// docs); fails with [`Error::Event`] if a field cannot be encoded and with
    /// [`Error::Closed`] once the stream has ended.
    ///
    /// ```no_run
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::Event;
    /// session.send(Event::new().event("greeting").data("hello")).await?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, event: Event) -> SendEvent<'_> {
        SendEvent {
            session: self,
            event,
        }
    }

    /// Sends `value` as the data of an event, encoded by `serializer`. The
    /// returned future can set the event's other fields before it is awaited.
    ///
    /// ```no_run
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::serializer::Json;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Price { cents: u64 }
    ///
    /// session.send_value(Json, Price { cents: 100 }).event("price").id("17").await?;
    /// # Ok(()) }
    /// ```
    pub fn send_value<S, T>(&self, serializer: S, value: T) -> SendValue<'_, S, T>
    where
        S: Serializer<T>,
    {
        SendValue {
            session: self,
            serializer,
            value,
            encode: S::serialize,
            fields: Event::new(),
        }
    }

    /// Answers the request with a plain response instead of a stream:
    /// OpenAI's `"stream": false` gets one JSON object, an MCP notification
    /// `202`. The stream ends (later sends fail with [`Error::Closed`]),
    /// and the answer is logged and counted as one
    /// (`sse_requests_answered_total`), not as a refusal.
    ///
    /// Only before the stream begins: a `GET` stream's head is sent at
    /// once (an `EventSource` waits for it), so it cannot answer; a stream
    /// opened by any other method begins with its first event, or when
    /// its handler returns, or after a heartbeat period (so that an idle
    /// stream still gets its head). After that this fails with
    /// [`Error::Streaming`].
    ///
    /// ```
    /// use sse_runtime::extract::Json;
    /// use sse_runtime::route::Answer;
    /// use sse_runtime::sse;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Ask { question: String, stream: bool }
    ///
    /// #[sse("/ask", method = "POST")]
    /// async fn ask(session: AskSession, Json(ask): Json<Ask>) -> Result<(), sse_runtime::Error> {
    ///     if !ask.stream {
    ///         return session.answer(Answer::json(&serde_json::json!({ "answer": ask.question })));
    ///     }
    ///     for word in ask.question.split_whitespace() {
    ///         session.send(word).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn answer(&self, answer: impl Into<Answer>) -> Result<(), Error> {
        self.outbox.answer(answer.into())
    }

    /// Ends the stream once what was already sent is written. Later sends fail
    /// with [`Error::Closed`].
    ///
    /// ```no_run
    /// # async fn f(session: sse_runtime::Session) {
    /// session.close();
    /// assert!(session.is_closed());
    /// # }
    /// ```
    pub fn close(&self) {
        self.outbox.end();
    }

    /// Resolves when the handler should stop: the client went away, the stream
    /// was closed, or the server is shutting down. Sends still work during a
    /// shutdown until its deadline, so a handler can say goodbye.
    ///
    /// ```no_run
    /// # async fn f(session: sse_runtime::Session) {
    /// tokio::select! {
    ///     _ = session.closed() => println!("client left"),
    ///     _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
    /// }
    /// # }
    /// ```
    pub async fn closed(&self) {
        self.outbox.closed_token().cancelled().await;
    }

    /// Whether [`closed`](Self::closed) has resolved.
    ///
    /// ```no_run
    /// # fn f(session: sse_runtime::Session) {
    /// if session.is_closed() { return; }
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.outbox.closed_token().is_cancelled()
    }

    /// Whether the stream has ended, so that every send fails.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// if session.is_ended() {
    ///     return Ok(()); // every send would fail
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_ended(&self) -> bool {
        self.outbox.is_ended()
    }

    /// Replaces this session's heartbeat, or switches it off with `None`.
    ///
    /// ```no_run
    /// # fn f(session: sse_runtime::Session) {
    /// use std::time::Duration;
    /// session.set_heartbeat(Some(sse_runtime::Heartbeat::every(Duration::from_secs(5))));
    /// # }
    /// ```
    pub fn set_heartbeat(&self, heartbeat: Option<Heartbeat>) {
        self.outbox.set_heartbeat(heartbeat);
    }

    /// Bytes encoded but not yet handed to the connection.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// let waiting_bytes = session.buffered();
    /// # Ok(()) }
    /// ```
    pub fn buffered(&self) -> usize {
        self.outbox.buffered()
    }
}

/// The future of [`Session::send`].
#[must_use = "futures do nothing unless you `.await` them"]
#[derive(Debug)]
///
/// ```
/// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
/// let send = session.send(sse_runtime::Event::new().data("x"));
/// send.await?;
/// # Ok(()) }
/// ```
pub struct SendEvent<'a> {
    session: &'a Session,
    event: Event,
}

impl Future for SendEvent<'_> {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Err(err) = this.event.validate() {
            return Poll::Ready(Err(err.into()));
        }
        let event = &this.event;
        this.session.outbox.poll_write(cx, |out| {
            event.write_unchecked(out);
            Ok(())
        })
    }
}

/// The future of [`Session::send_value`]: set the event's other fields, then
/// `.await` it.
///
/// ```no_run
/// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
/// use std::time::Duration;
/// use sse_runtime::serializer::Text;
/// session.send_value(Text, 42).event("answer").id("1").retry(Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[must_use = "futures do nothing unless you `.await` them"]
pub struct SendValue<'a, S, T> {
    session: &'a Session,
    serializer: S,
    value: T,
    /// `S::serialize`, captured where `S: Serializer<T>` was checked, so that
    /// a type the serializer cannot encode is one error at the `send` call and
    /// not a second one at its `.await`.
    encode: Encode<S, T>,
    fields: Event,
}

type Encode<S, T> = fn(&S, &T, &mut serializer::DataWriter<'_>) -> Result<(), SerializeError>;

impl<S, T> SendValue<'_, S, T> {
    /// Sets the event name.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::serializer::Text;
    /// session.send_value(Text, 1).event("count").await?;
    /// # Ok(()) }
    /// ```
    pub fn event(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.fields = self.fields.event(name);
        self
    }

    /// Sets the event id.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::serializer::Text;
    /// session.send_value(Text, 1).id("1").await?;
    /// # Ok(()) }
    /// ```
    pub fn id(mut self, id: impl crate::event::IntoEventId) -> Self {
        self.fields = self.fields.id(id);
        self
    }

    /// Sets the client's reconnection delay.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::serializer::Text;
    /// session.send_value(Text, 1).retry(std::time::Duration::from_secs(2)).await?;
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.fields = self.fields.retry(retry);
        self
    }

    /// Adds a comment.
    ///
    /// ```
    /// # async fn f(session: sse_runtime::Session) -> Result<(), sse_runtime::Error> {
    /// use sse_runtime::serializer::Text;
    /// session.send_value(Text, 1).comment("first").await?;
    /// # Ok(()) }
    /// ```
    pub fn comment(mut self, text: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.fields = self.fields.comment(text);
        self
    }
}

impl<S, T> std::fmt::Debug for SendValue<'_, S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendValue")
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl<S, T> Future for SendValue<'_, S, T> {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Only shared access is needed, so `T` need not be `Unpin`.
        let this = self.into_ref().get_ref();
        if let Err(err) = this.fields.validate() {
            return Poll::Ready(Err(err.into()));
        }
        this.session.outbox.poll_write(cx, |out| {
            let encode = |data: &mut serializer::DataWriter<'_>| {
                (this.encode)(&this.serializer, &this.value, data)
            };
            Ok(this.fields.write_with_data(out, encode)?)
        })
    }
}
