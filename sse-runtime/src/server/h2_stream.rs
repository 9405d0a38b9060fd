//! The task of an HTTP/2 stream: hyper hands each stream to the server's
//! executor, which runs it watched, so that a stream that cannot make
//! progress for the write timeout is reset (by dropping it, which makes h2
//! send `RST_STREAM`), however its connection fares.
//!
//! hyper polls a response body only when the stream's window has room. A
//! client that keeps reading the socket but never sends `WINDOW_UPDATE` (or
//! announces a window of 0) stalls the stream without ever filling the
//! socket, so the connection's own write timeout never fires; one such
//! connection could hold hundreds of handlers. After each poll of the task,
//! a body whose last act was to hand over a frame (the window took it and
//! shut) is waiting on the client: once it has waited the whole timeout
//! with no frame more, the stream ends (`link::Progress`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::link::Progress;

/// Spawns each HTTP/2 stream of a connection as a watched task.
#[derive(Clone, Debug)]
pub(super) struct StreamExecutor {
    pub(super) write_timeout: Option<Duration>,
}

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        tokio::spawn(Watched {
            stream: Some(Box::pin(stream)),
            progress: Arc::default(),
            limit: self.write_timeout,
            timer: None,
        });
    }
}

/// A stream's task: the stream, and the timer of its wait on the client.
struct Watched<F> {
    /// Boxed, so that it can be dropped in place (a `Pin<Box>` is `Unpin`);
    /// `None` once reset.
    stream: Option<Pin<Box<F>>>,
    progress: Arc<Progress>,
    limit: Option<Duration>,
    /// Set while the body waits on the client, with the frames it had
    /// handed over when the wait began.
    timer: Option<(Pin<Box<Sleep>>, u64)>,
}

impl<F: Future<Output = ()>> Future for Watched<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(stream) = &mut this.stream else {
            return Poll::Ready(());
        };
        // Until a stream opens, the dispatch (polled in here) may need to
        // find this task's progress.
        let polled = match this.progress.is_open() {
            true => stream.as_mut().poll(cx),
            false => this.progress.scope(|| stream.as_mut().poll(cx)),
        };
        if polled.is_ready() {
            return Poll::Ready(());
        }
        // Read again: the stream may have opened in this poll, and then
        // nothing may wake the task again (its window never opens).
        let (Some(limit), true) = (this.limit, this.progress.is_open()) else {
            return Poll::Pending;
        };
        let Some(frames) = this.progress.in_flight() else {
            this.timer = None; // waits for its source, not the client
            return Poll::Pending;
        };
        match &mut this.timer {
            Some((_, since)) if *since == frames => {}
            // A wait begins, or the body moved since the last one did.
            _ => match Instant::now().checked_add(limit) {
                Some(deadline) => {
                    this.timer = Some((Box::pin(tokio::time::sleep_until(deadline)), frames));
                }
                None => return Poll::Pending,
            },
        }
        let expired = this
            .timer
            .as_mut()
            .is_some_and(|(timer, _)| timer.as_mut().poll(cx).is_ready());
        if !expired {
            return Poll::Pending;
        }
        tracing::debug!(
            "the client took nothing of an HTTP/2 stream for the write timeout; resetting it"
        );
        this.progress.timed_out();
        // Dropped here: h2 resets the stream, and its body's drop tells the
        // handler.
        this.stream = None;
        Poll::Ready(())
    }
}
