//! The state a session shares with its response body, and the body itself.
//!
//! A session encodes events straight into one outgoing buffer; the response
//! body hands everything in that buffer to hyper as a single frame the next
//! time hyper can write. So events that are ready together are written
//! together, there is no channel or per-event allocation between the handler
//! and the socket, and the buffer's memory is reused from one batch to the
//! next.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use http_body::Frame;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::heartbeat::Heartbeat;
use crate::request::Request;

/// The headers of every stream's response, whichever path writes it:
/// `no-store` so nothing caches a stream, `x-accel-buffering: no` so nginx
/// does not buffer it.
pub(crate) const STREAM_HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
];

/// What a session and its response body share.
pub(crate) struct Shared {
    state: Mutex<State>,
    request: Request,
    /// Cancelled when the client goes away, the stream is closed, or the
    /// server starts shutting down (it is a child of the server's token).
    closed: CancellationToken,
    max_buffered: usize,
}

struct State {
    /// Encoded events not yet handed to hyper. Only ever holds whole events.
    outbox: BytesMut,
    /// No more events will be accepted: the handler returned, `close()` was
    /// called, or the response body is gone.
    ended: bool,
    body_waker: Option<Waker>,
    /// Sends waiting for room in the outbox.
    send_wakers: Vec<Waker>,
    heartbeat: Option<Heartbeat>,
    heartbeat_changed: bool,
    /// A source attached by the session, waiting for the body to take it.
    source: Option<Box<dyn Source>>,
}

/// Frames the response body pulls itself, in the connection's task, after
/// the session's outbox: how the hub feeds a subscriber without a hop
/// through the handler's task.
pub(crate) trait Source: Send {
    /// The next frame to write; `Ready(None)` when the source is done (it
    /// then reports why to whoever attached it).
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>>;
}

impl Shared {
    pub(crate) fn new(
        request: Request,
        closed: CancellationToken,
        max_buffered: usize,
        heartbeat: Option<Heartbeat>,
        preamble: Option<Bytes>,
    ) -> Arc<Self> {
        let outbox = preamble.map_or_else(BytesMut::new, |bytes| BytesMut::from(&bytes[..]));
        Arc::new(Self {
            state: Mutex::new(State {
                outbox,
                ended: false,
                body_waker: None,
                send_wakers: Vec::new(),
                heartbeat,
                heartbeat_changed: false,
                source: None,
            }),
            request,
            closed,
            max_buffered,
        })
    }

    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn closed_token(&self) -> &CancellationToken {
        &self.closed
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing runs user code while holding the lock without restoring the
        // state on unwind (see `poll_write`), so a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one encoded event when the outbox has room, or registers the
    /// task to be woken when it has. `write` must append whole events only; if
    /// it fails or panics, the outbox is restored to what it was.
    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        write: impl FnOnce(&mut BytesMut) -> Result<(), Error>,
    ) -> Poll<Result<(), Error>> {
        let mut state = self.lock();
        if state.ended {
            return Poll::Ready(Err(Error::Closed));
        }
        if state.outbox.len() >= self.max_buffered {
            if !state.send_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                state.send_wakers.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let mark = state.outbox.len();
        let outbox = &mut state.outbox;
        // A serializer is user code: if it panics, undo its partial write so the
        // next event does not merge into it.
        let written = panic::catch_unwind(AssertUnwindSafe(|| write(outbox)));
        let result = match written {
            Ok(result) => result,
            Err(payload) => {
                state.outbox.truncate(mark);
                drop(state);
                panic::resume_unwind(payload);
            }
        };
        if result.is_err() {
            state.outbox.truncate(mark);
            return Poll::Ready(result);
        }
        let waker = if mark == 0 {
            state.body_waker.take()
        } else {
            None
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }

    /// Ends the stream: what is buffered is still written, then the body ends.
    pub(crate) fn end(&self) {
        let waker = {
            let mut state = self.lock();
            state.ended = true;
            state.body_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        self.closed.cancel();
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.lock().ended
    }

    pub(crate) fn buffered(&self) -> usize {
        self.lock().outbox.len()
    }

    pub(crate) fn set_heartbeat(&self, heartbeat: Option<Heartbeat>) {
        let waker = {
            let mut state = self.lock();
            state.heartbeat = heartbeat;
            state.heartbeat_changed = true;
            state.body_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Hands `source` to the response body, replacing any earlier one. If the
    /// stream already ended, the source is dropped at once.
    pub(crate) fn attach(&self, source: Box<dyn Source>) {
        let waker = {
            let mut state = self.lock();
            if state.ended {
                return;
            }
            state.source = Some(source);
            state.body_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The body is gone (the client left or the connection was dropped).
    fn detach(&self) {
        let wakers = {
            let mut state = self.lock();
            state.ended = true;
            state.outbox = BytesMut::new();
            std::mem::take(&mut state.send_wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        self.closed.cancel();
    }
}

/// The body of a stream's response: the session's outbox, frame by frame,
/// with heartbeats in the quiet periods.
pub(crate) struct SseBody {
    shared: Arc<Shared>,
    /// Taken from the shared state, so that polling it needs no lock.
    source: Option<Box<dyn Source>>,
    heartbeat: Option<Heartbeat>,
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker the timer was last polled with, while it has not fired:
    /// polling it again with the same one would only register it again,
    /// which costs a little on every delivery.
    timer_waker: Option<Waker>,
    last_write: Instant,
}

impl SseBody {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let heartbeat = shared.lock().heartbeat.clone();
        Self {
            shared,
            source: None,
            heartbeat,
            timer: None,
            timer_waker: None,
            last_write: Instant::now(),
        }
    }

    /// Polls the heartbeat timer; ready with the heartbeat's bytes when the
    /// stream has been quiet for a whole period.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
        let Some(heartbeat) = &self.heartbeat else {
            return Poll::Pending;
        };
        let due = self.last_write + heartbeat.period();
        // The timer is only moved when it fires early (a write happened since
        // it was set), not on every write: at most one reset per period.
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        let armed = self.timer_waker.as_ref();
        if armed.is_some_and(|waker| waker.will_wake(cx.waker())) && !timer.is_elapsed() {
            return Poll::Pending;
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                self.timer_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let now = Instant::now();
            if now >= due {
                self.last_write = now;
                timer.as_mut().reset(now + heartbeat.period());
                self.timer_waker = None;
                return Poll::Ready(heartbeat.frame());
            }
            timer.as_mut().reset(due);
        }
    }
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        if !state.outbox.is_empty() {
            let batch = state.outbox.split().freeze();
            let wakers = std::mem::take(&mut state.send_wakers);
            drop(state);
            wakers.into_iter().for_each(Waker::wake);
            this.last_write = Instant::now();
            return Poll::Ready(Some(Ok(Frame::data(batch))));
        }
        if state.ended {
            return Poll::Ready(None);
        }
        if state.heartbeat_changed {
            state.heartbeat_changed = false;
            this.heartbeat = state.heartbeat.clone();
            this.timer = None;
            this.timer_waker = None;
        }
        if let Some(source) = state.source.take() {
            this.source = Some(source);
        }
        match &state.body_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.body_waker = Some(cx.waker().clone()),
        }
        drop(state);
        if let Some(source) = &mut this.source {
            match source.poll_frame(cx) {
                Poll::Ready(Some(frame)) => {
                    this.last_write = Instant::now();
                    return Poll::Ready(Some(Ok(Frame::data(frame))));
                }
                // Done: it told its session why; the stream goes on until the
                // session ends it.
                Poll::Ready(None) => this.source = None,
                Poll::Pending => {}
            }
        }
        this.poll_heartbeat(cx)
            .map(|frame| Some(Ok(Frame::data(frame))))
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        self.shared.detach();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::BodyExt;

    use super::*;
    use crate::session::Session;
    use crate::Event;

    fn session(heartbeat: Option<Heartbeat>, max_buffered: usize) -> (Session, SseBody) {
        let (parts, ()) = http::Request::new(()).into_parts();
        let shared = Shared::new(
            Request::new(parts, Vec::new(), None, Default::default()),
            CancellationToken::new(),
            max_buffered,
            heartbeat,
            None,
        );
        (Session::from_shared(shared.clone()), SseBody::new(shared))
    }

    async fn next(body: &mut SseBody) -> Option<Bytes> {
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
