//! Supervision: a handler runs in a task of its own, isolated from the
//! connection; its panics and errors are logged and end only its stream, and
//! it is cancelled (dropped) when nothing it does can reach a client any
//! more.
//!
//! A handler is dropped, at its next `.await`, in two cases: the stream's
//! connection is gone (the client left, or the stream ended and was written
//! out) and the handler has not returned within the grace period
//! ([`RouterBuilder::handler_grace`](super::RouterBuilder::handler_grace)); or the
//! shutdown deadline passed. Cleanup that must run either way belongs in a
//! `Drop` guard (see [`Session`](crate::Session)).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::shutdown::Shutdown;
use crate::outbox::{EndReason, Outbox};
use crate::route::HandlerFuture;
use crate::Error;

/// How a handler's run ended.
enum Outcome {
    Returned(std::thread::Result<Result<(), crate::BoxError>>),
    /// Its stream's connection was gone for the whole grace period.
    Abandoned,
    /// The shutdown deadline passed.
    Deadline,
}

pin_project_lite::pin_project! {
    /// A handler under supervision: the task spawned for it. A struct polled
    /// by hand, not an `async fn` with `select!`, because it lives as long as
    /// its stream and every byte of it is paid per open stream.
    pub(crate) struct Supervised {
        running: Option<HandlerFuture>,
        #[pin]
        deadline: WaitForCancellationFutureOwned,
        // Made only once the body is gone: almost no handler needs it.
        abandoned: Option<Pin<Box<Sleep>>>,
        outbox: Arc<Outbox>,
        // The stream's span: entered while the handler runs, so that its
        // own logs carry the route, path, peer and stream number.
        span: tracing::Span,
        // Named in the error and panic events as well: a subscriber that
        // keeps only warnings and errors has no info-level span to read it
        // from.
        route: Arc<str>,
        // Cancelled once shutdown begins: a stream ended by it says so.
        draining: CancellationToken,
        grace: Duration,
    }
}

/// Supervises `running`, the handler of `route` writing into `outbox`, in
/// `span`: cancelled at `shutdown`'s deadline, or `grace` after the
/// stream's body is gone.
pub(super) fn supervise(
    running: HandlerFuture,
    outbox: Arc<Outbox>,
    route: Arc<str>,
    span: tracing::Span,
    shutdown: &Shutdown,
    grace: Duration,
) -> Supervised {
    Supervised {
        running: Some(running),
        deadline: shutdown.force.clone().cancelled_owned(),
        abandoned: None,
        outbox,
        span,
        route,
        draining: shutdown.drain.clone(),
        grace,
    }
}

impl Supervised {
    fn poll_outcome(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.project();
        if let Some(running) = this.running {
            let _entered = this.span.enter();
            match std::panic::catch_unwind(AssertUnwindSafe(|| running.as_mut().poll(cx))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(output)) => return Poll::Ready(Outcome::Returned(Ok(output))),
                Err(panic) => return Poll::Ready(Outcome::Returned(Err(panic))),
            }
        }
        if this.deadline.poll(cx).is_ready() {
            return Poll::Ready(Outcome::Deadline);
        }
        if this.abandoned.is_none() && this.outbox.poll_body_gone(cx).is_ready() {
            *this.abandoned = Some(Box::pin(tokio::time::sleep(*this.grace)));
        }
        match this.abandoned.as_mut().map(|timer| timer.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Outcome::Abandoned),
            _ => Poll::Pending,
        }
    }
}

/// Why a stream whose handler returned ended: what the stream knew first
/// (the client left, a write timeout, a slow consumer), else shutdown if it
/// had begun, else the handler's own choice.
fn reason(outbox: &Outbox, draining: &CancellationToken) -> EndReason {
    match outbox.end_reason() {
        Some(reason) => reason,
        None if draining.is_cancelled() => EndReason::Shutdown,
        None => EndReason::HandlerReturned,
    }
}

impl Future for Supervised {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Poll::Ready(outcome) = self.as_mut().poll_outcome(cx) else {
            return Poll::Pending;
        };
        let this = self.project();
        // Dropped first (in the span, for its drop guards' logs): a
        // cancelled handler's drop guards run before its stream is ended.
        let _entered = this.span.enter();
        *this.running = None;
        let reason = match outcome {
            Outcome::Returned(Ok(Ok(()))) => reason(this.outbox, this.draining),
            // A send that failed because the stream had already ended (the
            // client left, a write timeout, a slow consumer, shutdown), its
            // `?` returning the error: how the stream ended, not a failure.
            Outcome::Returned(Ok(Err(error)))
                if matches!(error.downcast_ref::<Error>(), Some(Error::Closed))
                    && this
                        .outbox
                        .end_reason()
                        .is_some_and(EndReason::is_from_outside) =>
            {
                reason(this.outbox, this.draining)
            }
            Outcome::Returned(Ok(Err(error))) => {
                let error: &dyn std::error::Error = &*error;
                let route = &**this.route;
                tracing::error!(route, error, "SSE handler failed");
                EndReason::HandlerFailed
            }
            Outcome::Returned(Err(panic)) => {
                let message = panic_message(panic.as_ref());
                let route = &**this.route;
                tracing::error!(route, panic = message, "SSE handler panicked");
                EndReason::HandlerPanicked
            }
            Outcome::Abandoned => {
                let grace = *this.grace;
                tracing::debug!(?grace, "SSE handler cancelled: its client was gone");
                EndReason::ClientLeft
            }
            Outcome::Deadline => {
                tracing::debug!("SSE handler stopped at the shutdown deadline");
                EndReason::ShutdownDeadline
            }
        };
        // An answered request never opened a stream: the dispatch logged
        // and counted its answer.
        if reason != EndReason::Answered {
            tracing::debug!(reason = reason.as_str(), "stream ended");
            this.outbox.metrics().ended(reason.label());
        }
        this.outbox.end();
        Poll::Ready(())
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a non-string panic payload"
    }
}
