//! Graceful shutdown of streams: tell every handler, let streams end within
//! the deadline, then drop whatever is left. (The server stops accepting
//! first; its connection tasks are tracked here too.)
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
pub(crate) struct Shutdown {
    /// Cancelled when shutdown starts; every session's `closed` is its child.
    pub(crate) drain: CancellationToken,
    /// Cancelled at the shutdown deadline: whatever still runs is dropped.
    pub(crate) force: CancellationToken,
    /// Every connection and handler task, so shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
}

impl Shutdown {
    /// Starts draining, waits up to `deadline` for every task, then forces
    /// the rest to end.
    pub(crate) async fn run(&self, deadline: Duration) {
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
