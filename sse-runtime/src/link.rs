//! The link between a stream and the connection that carries it: what only
//! the connection knows, and a stream needs to say why it ended and whether
//! its client keeps up.
//!
//! The server makes one per connection and hands it to every stream the
//! connection carries (the fast path directly, hyper's paths as a request
//! extension); a router mounted in another server has none.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a connection tells its streams.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// The connection took nothing for the write timeout and was closed.
    timed_out: AtomicBool,
    /// How many times a write found the connection full (its client had
    /// not read what was written before).
    waits: AtomicU64,
}

impl Link {
    /// The connection is being closed for the write timeout.
    pub(crate) fn timed_out(&self) {
        self.timed_out.store(true, Ordering::Relaxed);
    }

    /// Whether the connection was closed for the write timeout.
    pub(crate) fn has_timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }

    /// A write found the connection full.
    pub(crate) fn waited(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times a write found the connection full, so far.
    pub(crate) fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }
}

/// What an HTTP/2 stream's task and the stream's response body share: how
/// the body was last polled, so that the task can tell a stream that cannot
/// make progress (its window shut, whatever feeds it) and reset it.
///
/// hyper polls an HTTP/2 response body only when the stream's flow-control
/// window has room: a client that reads the socket but never opens the
/// window again is never written to, the socket never fills, and no write
/// timeout of the connection sees it. The stream's own task does: after
/// each of its polls, a body that last handed over a frame and was not
/// polled again waits on the window; for the whole write timeout, and the
/// stream is reset (`server/h2_stream.rs`).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Frames the body handed over.
    frames: AtomicU64,
    /// The body's last poll found nothing to write: it waits for the
    /// stream's source, not for the connection.
    idle: AtomicBool,
    /// A stream was opened in the task: watch it.
    opened: AtomicBool,
    /// The task reset the stream for the write timeout.
    timed_out: AtomicBool,
}

tokio::task_local! {
    /// The `Progress` of the HTTP/2 stream whose task is being polled, for
    /// the dispatch (which runs in that task) to give the stream it opens.
    static CURRENT: std::sync::Arc<Progress>;
}

impl Progress {
    /// Runs `poll` with this as the current stream task's progress.
    pub(crate) fn scope<R>(self: &std::sync::Arc<Self>, poll: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self.clone(), poll)
    }

    /// The progress of the HTTP/2 stream task this runs in, if any.
    pub(crate) fn current() -> Option<std::sync::Arc<Self>> {
        CURRENT.try_with(std::sync::Arc::clone).ok()
    }

    /// The body was polled: it handed over a frame (`true`), or had none.
    pub(crate) fn polled(&self, frame: bool) {
        if frame {
            self.frames.fetch_add(1, Ordering::Relaxed);
        }
        self.idle.store(!frame, Ordering::Relaxed);
    }

    /// The stream opened: from now on its task watches it.
    pub(crate) fn open(&self) {
        self.opened.store(true, Ordering::Relaxed);
    }

    /// Whether a stream opened in the task.
    pub(crate) fn is_open(&self) -> bool {
        self.opened.load(Ordering::Relaxed)
    }

    /// `None` while the body waits for its source (nothing to write);
    /// else how many frames it has handed over, to tell whether it moved.
    pub(crate) fn in_flight(&self) -> Option<u64> {
        match self.idle.load(Ordering::Relaxed) {
            true => None,
            false => Some(self.frames.load(Ordering::Relaxed)),
        }
    }

    /// The task resets the stream: it made no progress for the write
    /// timeout.
    pub(crate) fn timed_out(&self) {
        self.timed_out.store(true, Ordering::Relaxed);
    }

    /// Whether the stream was reset for the write timeout.
    pub(crate) fn has_timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }
}
