//! The outbox: what a session writes into and a stream's response body
//! drains. The core of a stream: backpressure, the end of a stream, and
//! what the body pulls besides (a hub's feed, heartbeats).
//!
//! A session encodes events straight into one outgoing buffer; the response
//! body hands everything in that buffer to the connection as a single frame
//! the next time it can write. So events that are ready together are written
//! together, there is no channel or per-event allocation between the handler
//! and the socket, and the buffer's memory is reused from one batch to the
//! next. A send waits while the buffer holds `max_buffered` bytes or more;
//! once the connection has taken nothing for the write timeout, the stream
//! is closed: whatever the protocol, a stalled client (an HTTP/2 stream
//! whose window the client never opens again, where the socket itself is
//! not full) cannot hold a handler forever.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Frame;
use tokio_util::sync::CancellationToken;

use crate::answer::Answer;
use crate::compression::Encoder;
use crate::error::Error;
use crate::heartbeat::{Heartbeat, HeartbeatTimer};
use crate::link::{Link, Progress};
use crate::metrics::StreamMetrics;
use crate::request::Request;

/// What a session and its response body share.
pub(crate) struct Outbox {
    state: Mutex<State>,
    request: Request,
    /// Cancelled when the client goes away, the stream is closed, or the
    /// server starts shutting down (it is a child of the server's token).
    closed: CancellationToken,
    max_buffered: usize,
    write_timeout: Option<Duration>,
    /// The stream's counters (`crate::metrics`).
    metrics: StreamMetrics,
    /// The stream's own task, if it has one (an HTTP/2 stream the server
    /// serves): the body tells it how it was polled.
    progress: Option<Arc<Progress>>,
}

struct State {
    /// Encoded events not yet handed to the connection. Only ever holds
    /// whole events.
    buf: BytesMut,
    /// How many events `buf` holds (a `retry:` preamble is not one).
    events: u64,
    /// No more events will be accepted: the handler returned, `close()` was
    /// called, or the response body is gone.
    ended: bool,
    /// The response body was dropped: the connection is done with this
    /// stream (it was written out, or the client left).
    body_gone: bool,
    body_waker: Option<Waker>,
    /// Sends waiting for room in the buffer.
    send_wakers: Vec<Waker>,
    /// Since when sends wait for room: set by the first send that waits,
    /// dropped when the body takes the buffer.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The supervisor waiting for the body to go.
    gone_waker: Option<Waker>,
    /// Why the stream ended, as first known: what its end is logged with.
    end_reason: Option<EndReason>,
    /// A heartbeat set by the session, waiting for the body to take it.
    new_heartbeat: Option<Option<Heartbeat>>,
    /// A feed attached by the session, waiting for the body to take it.
    feed: Option<Box<dyn Feed>>,
    /// The response is a stream: its head is (or is being) sent, so the
    /// handler can no longer answer instead. At once for a `GET`; for other
    /// methods at the first event, the handler's end, or a heartbeat period.
    open: bool,
    /// What the handler answered instead of a stream, for the dispatch
    /// (boxed: a response is large, and almost no stream has one).
    answer: Option<Box<Answer>>,
    /// The dispatch waiting for the stream to open or be answered.
    open_waker: Option<Waker>,
}

/// Why a stream ended, as its end is logged and counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// The handler returned (or called `close`).
    HandlerReturned,
    /// The connection went: the client left, or the stream was written out
    /// and closed.
    ClientLeft,
    /// The connection took nothing of it for the write timeout.
    WriteTimeout,
    /// A hub subscriber fell too far behind and was closed.
    SlowConsumer,
    /// The server shut down and the handler returned.
    Shutdown,
    /// The handler was still running at the shutdown deadline.
    ShutdownDeadline,
    /// The handler answered instead of streaming: no stream was opened.
    Answered,
    /// The handler returned an error.
    HandlerFailed,
    /// The handler panicked.
    HandlerPanicked,
}

impl EndReason {
    /// Whether the stream was ended from outside its handler: by its
    /// client, its connection, the hub or the server, so that a send the
    /// handler made after it failed through no fault of its own.
    pub(crate) fn is_from_outside(self) -> bool {
        matches!(
            self,
            Self::ClientLeft
                | Self::WriteTimeout
                | Self::SlowConsumer
                | Self::Shutdown
                | Self::ShutdownDeadline
        )
    }

    /// As the "stream ended" event says it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EndReason::HandlerReturned => "handler returned",
            EndReason::ClientLeft => "client left",
            EndReason::WriteTimeout => "write timeout",
            EndReason::SlowConsumer => "slow consumer",
            EndReason::Shutdown => "shutdown",
            EndReason::ShutdownDeadline => "shutdown deadline",
            EndReason::Answered => "answered",
            EndReason::HandlerFailed => "handler failed",
            EndReason::HandlerPanicked => "handler panicked",
        }
    }

    /// As the `reason` label of `sse_streams_ended_total` says it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            EndReason::HandlerReturned => "handler_returned",
            EndReason::ClientLeft => "client_left",
            EndReason::WriteTimeout => "write_timeout",
            EndReason::SlowConsumer => "slow_consumer",
            EndReason::Shutdown => "shutdown",
            EndReason::ShutdownDeadline => "shutdown_deadline",
            EndReason::Answered => "answered",
            EndReason::HandlerFailed => "handler_failed",
            EndReason::HandlerPanicked => "handler_panicked",
        }
    }
}

/// Frames the response body pulls itself, in the connection's task, after
/// the session's buffer: how the hub feeds a subscriber without a hop
/// through the handler's task.
pub(crate) trait Feed: Send {
    /// The next frame to write; `Ready(None)` when the feed is done (it
    /// then reports why to whoever attached it).
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<FeedFrame>>;
}

/// What a [`Feed`] hands the body: whole events in one buffer.
pub(crate) struct FeedFrame {
    pub(crate) bytes: Bytes,
    /// How many events `bytes` holds.
    pub(crate) events: u64,
}

impl Outbox {
    /// An outbox that starts with `preamble` (a route's initial `retry:`)
    /// and counts into `metrics`.
    pub(crate) fn new(
        request: Request,
        closed: CancellationToken,
        max_buffered: usize,
        write_timeout: Option<Duration>,
        preamble: Option<&Bytes>,
        metrics: StreamMetrics,
        open: bool,
    ) -> Arc<Self> {
        let progress = Progress::current();
        let buf = preamble.map_or_else(BytesMut::new, |bytes| BytesMut::from(&bytes[..]));
        Arc::new(Self {
            state: Mutex::new(State {
                buf,
                events: 0,
                ended: false,
                body_gone: false,
                body_waker: None,
                send_wakers: Vec::new(),
                stalled: None,
                gone_waker: None,
                end_reason: None,
                new_heartbeat: None,
                feed: None,
                open,
                answer: None,
                open_waker: None,
            }),
            request,
            closed,
            max_buffered,
            write_timeout,
            metrics,
            progress,
        })
    }

    /// The stream's counters.
    pub(crate) fn metrics(&self) -> &StreamMetrics {
        &self.metrics
    }

    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    /// What the stream's connection tells it, if the server made it.
    pub(crate) fn link(&self) -> Option<&Arc<Link>> {
        self.request.link()
    }

    /// The stream opened (its response is being sent): a task of its own
    /// watches it from now on.
    pub(crate) fn opened(&self) {
        self.metrics.opened();
        if let Some(progress) = &self.progress {
            progress.open();
        }
    }

    pub(crate) fn closed_token(&self) -> &CancellationToken {
        &self.closed
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing runs user code while holding the lock without restoring the
        // state on unwind (see `poll_write`), so a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one encoded event when the buffer has room, or registers the
    /// task to be woken when it has. `write` must append whole events only; if
    /// it fails or panics, the buffer is restored to what it was.
    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        write: impl FnOnce(&mut BytesMut) -> Result<(), Error>,
    ) -> Poll<Result<(), Error>> {
        let mut state = self.lock();
        if state.ended {
            return Poll::Ready(Err(Error::Closed));
        }
        if state.buf.len() >= self.max_buffered {
            if let Some(limit) = self.write_timeout {
                let stalled = state
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if stalled.as_mut().poll(cx).is_ready() {
                    drop(state);
                    tracing::debug!(
                        "the connection took nothing of the stream for the write timeout; closing it"
                    );
                    self.end_because(EndReason::WriteTimeout);
                    return Poll::Ready(Err(Error::Closed));
                }
            }
            if !state.send_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                state.send_wakers.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let mark = state.buf.len();
        let buf = &mut state.buf;
        // A serializer is user code: if it panics, undo its partial write so the
        // next event does not merge into it.
        let written = panic::catch_unwind(AssertUnwindSafe(|| write(buf)));
        let result = match written {
            Ok(result) => result,
            Err(payload) => {
                state.buf.truncate(mark);
                drop(state);
                panic::resume_unwind(payload);
            }
        };
        if result.is_err() {
            state.buf.truncate(mark);
            return Poll::Ready(result);
        }
        state.events += 1;
        let waker = if mark == 0 {
            state.body_waker.take()
        } else {
            None
        };
        let opening = state.open_waker.take();
        drop(state);
        waker.into_iter().chain(opening).for_each(Waker::wake);
        Poll::Ready(Ok(()))
    }

    /// Answers the request with `answer` instead of a stream, if the
    /// stream has not opened: the stream ends, and the dispatch sends the
    /// answer.
    pub(crate) fn answer(&self, answer: Answer) -> Result<(), Error> {
        let opening = {
            let mut state = self.lock();
            if state.open || state.ended {
                return Err(match state.open {
                    true => Error::Streaming,
                    false => Error::Closed,
                });
            }
            state.answer = Some(Box::new(answer));
            state.ended = true;
            state.end_reason.get_or_insert(EndReason::Answered);
            state.open_waker.take()
        };
        if let Some(waker) = opening {
            waker.wake();
        }
        self.closed.cancel();
        Ok(())
    }

    /// Ready once the response is decided: `Some` answer the handler gave
    /// instead of a stream, or `None` once the stream opened (its first
    /// event, a feed, or its end, which an empty stream reports). Not
    /// ready before either, with the task woken when one happens.
    pub(crate) fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Option<Answer>> {
        let mut state = self.lock();
        if let Some(answer) = state.answer.take() {
            return Poll::Ready(Some(*answer));
        }
        if state.open || !state.buf.is_empty() || state.ended || state.feed.is_some() {
            state.open = true;
            return Poll::Ready(None);
        }
        state.open_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Opens the stream now (a heartbeat period passed without a
    /// decision), unless the handler answered in the meantime.
    pub(crate) fn open_now(&self) -> Option<Answer> {
        let mut state = self.lock();
        state.open = true;
        state.answer.take().map(|answer| *answer)
    }

    /// Records why the stream ends, unless a reason is known already.
    pub(crate) fn note_end(&self, reason: EndReason) {
        self.lock().end_reason.get_or_insert(reason);
    }

    /// Why the stream ended, as first known.
    pub(crate) fn end_reason(&self) -> Option<EndReason> {
        self.lock().end_reason
    }

    /// Ends the stream: what is buffered is still written, then the body ends.
    pub(crate) fn end(&self) {
        self.end_because(EndReason::HandlerReturned);
    }

    /// Ends the stream for `reason` (unless an earlier one is known): the
    /// body writes what is buffered and ends, and sends still waiting for
    /// room fail now instead of when the body next takes the buffer.
    fn end_because(&self, reason: EndReason) {
        let (body, opening, sends) = {
            let mut state = self.lock();
            state.ended = true;
            state.end_reason.get_or_insert(reason);
            (
                state.body_waker.take(),
                state.open_waker.take(),
                std::mem::take(&mut state.send_wakers),
            )
        };
        body.into_iter()
            .chain(opening)
            .chain(sends)
            .for_each(Waker::wake);
        self.closed.cancel();
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.lock().ended
    }

    pub(crate) fn buffered(&self) -> usize {
        self.lock().buf.len()
    }

    pub(crate) fn set_heartbeat(&self, heartbeat: Option<Heartbeat>) {
        let waker = {
            let mut state = self.lock();
            state.new_heartbeat = Some(heartbeat);
            state.body_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Hands `feed` to the response body, replacing any earlier one. If the
    /// stream already ended, the feed is dropped at once.
    pub(crate) fn attach(&self, feed: Box<dyn Feed>) {
        let waker = {
            let mut state = self.lock();
            if state.ended {
                return;
            }
            state.feed = Some(feed);
            (state.body_waker.take(), state.open_waker.take())
        };
        let (body, opening) = waker;
        body.into_iter().chain(opening).for_each(Waker::wake);
    }

    /// Ready once the response body is gone: the connection is done with
    /// this stream, so nothing the handler does can reach the client.
    pub(crate) fn poll_body_gone(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.body_gone {
            return Poll::Ready(());
        }
        match &state.gone_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.gone_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The body is gone (written out, the client left, or the connection was
    /// dropped).
    fn detach(&self) {
        // The connection (or the stream's own task) says whether it closed
        // for the write timeout; else the client went (or the stream was
        // written out).
        let timed_out = self.link().is_some_and(|link| link.has_timed_out())
            || (self.progress.as_ref()).is_some_and(|progress| progress.has_timed_out());
        let reason = match timed_out {
            true => EndReason::WriteTimeout,
            false => EndReason::ClientLeft,
        };
        let (wakers, gone, feed) = {
            let mut state = self.lock();
            state.end_reason.get_or_insert(reason);
            state.ended = true;
            state.body_gone = true;
            state.buf = BytesMut::new();
            state.events = 0;
            let wakers = std::mem::take(&mut state.send_wakers);
            (wakers, state.gone_waker.take(), state.feed.take())
        };
        // Dropped outside the lock: a feed's drop tells its subscription.
        drop(feed);
        wakers.into_iter().for_each(Waker::wake);
        if let Some(gone) = gone {
            gone.wake();
        }
        self.closed.cancel();
    }
}

/// The body of a stream's response: the session's buffer, frame by frame,
/// then what its feed has, with heartbeats in the quiet periods.
pub(crate) struct StreamBody {
    outbox: Arc<Outbox>,
    /// Taken from the shared state, so that polling it needs no lock.
    feed: Option<Box<dyn Feed>>,
    heartbeat: HeartbeatTimer,
    /// The compressor, when the route compresses and the client accepts it
    /// (boxed: it is large, and most streams have none).
    encoder: Option<Box<Encoder>>,
    /// The route compresses: the response varies with `Accept-Encoding`.
    varies: bool,
}

impl StreamBody {
    pub(crate) fn new(outbox: Arc<Outbox>, heartbeat: Option<Heartbeat>) -> Self {
        Self {
            outbox,
            feed: None,
            heartbeat: HeartbeatTimer::new(heartbeat),
            encoder: None,
            varies: false,
        }
    }

    /// Compresses the stream with `encoder` (if any: the client may not
    /// accept the route's encoding).
    pub(crate) fn compressed(mut self, encoder: Option<Encoder>) -> Self {
        self.encoder = encoder.map(Box::new);
        self.varies = true;
        self
    }

    /// The `Content-Encoding` of this stream's bytes, if compressed.
    pub(crate) fn content_encoding(&self) -> Option<&'static str> {
        self.encoder
            .as_ref()
            .map(|encoder| encoder.content_encoding())
    }

    /// Whether the response varies with `Accept-Encoding`.
    pub(crate) fn varies(&self) -> bool {
        self.varies
    }

    /// `frame` as it goes on the wire: compressed and flushed, or as is.
    fn encode(&mut self, frame: Bytes) -> Bytes {
        match &mut self.encoder {
            Some(encoder) => encoder.compress(&frame),
            None => frame,
        }
    }
}

impl http_body::Body for StreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let polled = this.poll_plain(cx);
        if let Some(progress) = &this.outbox.progress {
            progress.polled(polled.is_ready());
        }
        let frame = ready!(polled);
        let wire = match frame {
            Some(frame) => Some(this.encode(frame)),
            // A compressed stream ends with the compressor's trailer.
            None => this.encoder.as_mut().and_then(|encoder| encoder.finish()),
        };
        if let Some(bytes) = &wire {
            this.outbox.metrics.bytes(bytes.len());
        }
        Poll::Ready(wire.map(|bytes| Ok(Frame::data(bytes))))
    }
}

impl StreamBody {
    /// The next frame, uncompressed.
    fn poll_plain(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self;
        let mut state = this.outbox.lock();
        if !state.buf.is_empty() {
            let batch = state.buf.split().freeze();
            let events = std::mem::take(&mut state.events);
            state.stalled = None;
            let wakers = std::mem::take(&mut state.send_wakers);
            drop(state);
            wakers.into_iter().for_each(Waker::wake);
            this.heartbeat.wrote();
            this.outbox.metrics.events(events);
            return Poll::Ready(Some(batch));
        }
        if state.ended {
            return Poll::Ready(None);
        }
        if let Some(heartbeat) = state.new_heartbeat.take() {
            this.heartbeat.set(heartbeat);
        }
        if let Some(feed) = state.feed.take() {
            this.feed = Some(feed);
        }
        match &state.body_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.body_waker = Some(cx.waker().clone()),
        }
        drop(state);
        if let Some(feed) = &mut this.feed {
            match feed.poll_frame(cx) {
                Poll::Ready(Some(frame)) => {
                    this.heartbeat.wrote();
                    this.outbox.metrics.events(frame.events);
                    return Poll::Ready(Some(frame.bytes));
                }
                // Done: it told its session why; the stream goes on until the
                // session ends it.
                Poll::Ready(None) => this.feed = None,
                Poll::Pending => {}
            }
        }
        let heartbeat = ready!(this.heartbeat.poll_due(cx));
        this.outbox.metrics.heartbeat();
        Poll::Ready(Some(heartbeat))
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        self.outbox.detach();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::BodyExt;

    use tokio::time::Instant;

    use super::*;
    use crate::session::Session;
    use crate::Event;

    fn session(heartbeat: Option<Heartbeat>, max_buffered: usize) -> (Session, StreamBody) {
        timed_session(heartbeat, max_buffered, None)
    }

    fn timed_session(
        heartbeat: Option<Heartbeat>,
        max_buffered: usize,
        write_timeout: Option<Duration>,
    ) -> (Session, StreamBody) {
        let (parts, ()) = http::Request::new(()).into_parts();
        let outbox = Outbox::new(
            Request::new(parts, Vec::new(), None, None),
            CancellationToken::new(),
            max_buffered,
            write_timeout,
            None,
            StreamMetrics::new(&"/test".into()),
            true,
        );
        (
            Session::new(outbox.clone()),
            StreamBody::new(outbox, heartbeat),
        )
    }

    async fn next(body: &mut StreamBody) -> Option<Bytes> {
        let frame = body.frame().await?.unwrap();
        frame.into_data().ok()
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_fires_after_a_quiet_period_counted_from_the_last_write() {
        let period = Duration::from_secs(15);
        let (session, mut body) = session(Some(Heartbeat::every(period)), 1 << 16);
        let start = Instant::now();
        assert_eq!(next(&mut body).await.unwrap(), ":\n\n");
        assert_eq!(start.elapsed(), period);

        tokio::time::advance(Duration::from_secs(10)).await;
        session.send(Event::new().data("x")).await.unwrap();
        assert_eq!(next(&mut body).await.unwrap(), "data: x\n\n");
        let wrote = Instant::now();
        assert_eq!(next(&mut body).await.unwrap(), ":\n\n");
        assert_eq!(wrote.elapsed(), period, "real traffic resets the heartbeat");
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_can_be_changed_and_switched_off_per_session() {
        let (session, mut body) = session(Some(Heartbeat::default()), 1 << 16);
        let custom = Heartbeat::every(Duration::from_secs(2))
            .event(Event::new().comment("ping"))
            .unwrap();
        session.set_heartbeat(Some(custom));
        let start = Instant::now();
        assert_eq!(next(&mut body).await.unwrap(), ": ping\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(2));

        session.set_heartbeat(None);
        let quiet = tokio::time::timeout(Duration::from_secs(3600), next(&mut body)).await;
        assert!(quiet.is_err(), "no heartbeat once switched off");
    }

    #[tokio::test]
    async fn events_ready_together_are_written_as_one_frame() {
        let (session, mut body) = session(None, 1 << 16);
        for i in 0..3 {
            session
                .send(Event::new().data(i.to_string()))
                .await
                .unwrap();
        }
        assert_eq!(
            next(&mut body).await.unwrap(),
            "data: 0\n\ndata: 1\n\ndata: 2\n\n"
        );
        session.close();
        assert!(next(&mut body).await.is_none(), "close ends the body");
    }

    #[tokio::test]
    async fn send_waits_while_the_outbox_is_full() {
        let (session, mut body) = session(None, 16);
        session
            .send(Event::new().data("0123456789abcdef"))
            .await
            .unwrap();
        let mut blocked = Box::pin(session.send(Event::new().data("next")));
        assert!(futures_poll_once(blocked.as_mut()).await.is_pending());
        assert_eq!(session.buffered(), "data: 0123456789abcdef\n\n".len());
        assert!(next(&mut body).await.is_some());
        blocked.await.unwrap();
        assert_eq!(next(&mut body).await.unwrap(), "data: next\n\n");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_whose_connection_takes_nothing_for_the_write_timeout_is_closed() {
        let limit = Duration::from_secs(60);
        let (session, mut body) = timed_session(None, 16, Some(limit));
        let fill = || session.send(Event::new().data("0123456789abcdef"));
        fill().await.unwrap();
        // Taken before the limit: the clock starts again at the next wait.
        let waited = Instant::now();
        let (sent, taken) = tokio::join!(fill(), async {
            tokio::time::sleep(limit - Duration::from_secs(1)).await;
            next(&mut body).await
        });
        sent.unwrap();
        assert!(taken.is_some());
        assert_eq!(waited.elapsed(), limit - Duration::from_secs(1));
        // Now nothing is taken: the waiting sends fail at the limit, and the
        // handler hears of it.
        let waited = Instant::now();
        let other = tokio::spawn({
            let session = session.clone();
            async move { session.send(Event::new().data("y")).await }
        });
        let failed = fill().await;
        assert!(matches!(failed, Err(Error::Closed)), "{failed:?}");
        assert_eq!(waited.elapsed(), limit);
        assert!(matches!(other.await.unwrap(), Err(Error::Closed)));
        session.closed().await;
        // What was buffered is still written if the connection comes back.
        assert_eq!(next(&mut body).await.unwrap(), "data: 0123456789abcdef\n\n");
        assert!(next(&mut body).await.is_none());
    }

    #[tokio::test]
    async fn dropping_the_body_fails_sends_and_resolves_closed() {
        let (session, body) = session(None, 16);
        session
            .send(Event::new().data("fills the outbox"))
            .await
            .unwrap();
        let blocked = tokio::spawn({
            let session = session.clone();
            async move { session.send(Event::new().data("y")).await }
        });
        tokio::task::yield_now().await;
        drop(body);
        assert!(matches!(blocked.await.unwrap(), Err(Error::Closed)));
        session.closed().await;
        assert!(matches!(
            session.send(Event::new().data("z")).await,
            Err(Error::Closed)
        ));
    }

    #[tokio::test]
    async fn a_panicking_serializer_leaves_no_partial_event() {
        use crate::serializer::{DataWriter, SerializeError, Serializer};
        struct Panics;
        impl Serializer<u8> for Panics {
            fn serialize(&self, _: &u8, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
                std::fmt::Write::write_str(out, "half").unwrap();
                panic!("serializer bug");
            }
        }
        let (session, mut body) = session(None, 1 << 16);
        let panicked = tokio::spawn({
            let session = session.clone();
            async move { session.send_value(Panics, 1).await }
        })
        .await;
        assert!(panicked.unwrap_err().is_panic());
        session.send(Event::new().data("ok")).await.unwrap();
        assert_eq!(next(&mut body).await.unwrap(), "data: ok\n\n");
    }

    async fn futures_poll_once<F: std::future::Future + Unpin>(fut: F) -> Poll<F::Output> {
        let mut fut = fut;
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx))).await
    }
}
