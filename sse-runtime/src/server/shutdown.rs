//! Graceful shutdown: stop accepting, tell every handler, let streams end
//! within the deadline, then close whatever is left.
//!
//! Two tokens carry it to every task: `drain` (handlers see
//! [`Session::closed`](crate::Session::closed) resolve; connections finish
//! what they are serving and take no new requests) and `force` (the deadline
//! passed: everything still running is dropped).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The shutdown state every connection and handler task shares.
#[derive(Debug, Default)]
pub(super) struct Shutdown {
    /// Cancelled when shutdown starts; every session's `closed` is its child.
    pub(super) drain: CancellationToken,
    /// Cancelled at the shutdown deadline: whatever still runs is dropped.
    pub(super) force: CancellationToken,
    /// Every connection and handler task, so shutdown can wait for them.
    pub(super) tasks: TaskTracker,
}

impl Shutdown {
    /// Starts draining, waits up to `deadline` for every task, then forces
    /// the rest to end.
    pub(super) async fn run(&self, deadline: Duration) {
        self.drain.cancel();
        self.tasks.close();
        if tokio::time::timeout(deadline, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.tasks.len(),
                "connections still open at the shutdown deadline; closing them"
            );
            self.force.cancel();
            self.tasks.wait().await;
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix: pass it to
/// [`Server::with_graceful_shutdown`](super::Server::with_graceful_shutdown).
///
/// ```no_run
/// # async fn run() -> Result<(), sse_runtime::ServeError> {
/// sse_runtime::Server::new()
///     .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
///     .serve("127.0.0.1:8080")
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
