//! Supervision: a handler runs in a task of its own, isolated from the
//! connection; its panics and errors are logged and end only its stream, and
//! it is cancelled (dropped) when nothing it does can reach a client any
//! more.
//!
//! A handler is dropped, at its next `.await`, in two cases: the stream's
//! connection is gone (the client left, or the stream ended and was written
//! out) and the handler has not returned within the grace period
//! ([`Server::handler_grace`](super::Server::handler_grace)); or the
//! shutdown deadline passed. Cleanup that must run either way belongs in a
//! `Drop` guard (see [`Session`](crate::Session)).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::outbox::Outbox;
use crate::route::HandlerFuture;

/// How a handler's run ended.
enum Outcome {
    Returned(std::thread::Result<Result<(), crate::BoxError>>),
    /// Its stream's connection was gone for the whole grace period.
    Abandoned,
    /// The shutdown deadline passed.
    Deadline,
}

/// Runs a handler to its end (or until it is cancelled), then ends its
/// stream.
pub(super) async fn supervise(
    running: HandlerFuture,
    outbox: Arc<Outbox>,
    route: Arc<str>,
    force: CancellationToken,
    grace: Duration,
) {
    let abandoned = async {
        std::future::poll_fn(|cx| outbox.poll_body_gone(cx)).await;
        tokio::time::sleep(grace).await;
    };
    let outcome = tokio::select! {
        outcome = CatchUnwind(running) => Outcome::Returned(outcome),
        () = abandoned => Outcome::Abandoned,
        () = force.cancelled() => Outcome::Deadline,
    };
    match outcome {
        Outcome::Returned(Ok(Ok(()))) => {}
        Outcome::Returned(Ok(Err(error))) => {
            tracing::error!(%route, error = &*error as &dyn std::error::Error, "SSE handler failed");
        }
        Outcome::Returned(Err(panic)) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(%route, panic = message, "SSE handler panicked");
        }
        Outcome::Abandoned => {
            tracing::debug!(%route, ?grace, "SSE handler cancelled: its client was gone for the grace period");
        }
        Outcome::Deadline => {
            tracing::debug!(%route, "SSE handler stopped at the shutdown deadline")
        }
    }
    outbox.end();
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

/// Resolves to the future's output, or to the panic it raised.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
