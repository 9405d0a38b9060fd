//! The write timeout: how a connection whose client stopped reading ends.
//!
//! A client that stops reading (or a peer that vanished without a reset)
//! fills the socket's buffers, after which nothing more can be written. The
//! stream then waits: a session's sends wait for room, a hub subscriber
//! stops being polled. Without a limit that connection would stay open, and
//! count against `max_connections`, for as long as the peer's TCP stack
//! keeps acknowledging nothing. So a connection that has had something to
//! write and could write none of it for the whole timeout is closed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::link::Link;

/// Times how long writes have been stuck.
///
/// Costs nothing while writes go through: the timer is made the first time
/// the socket is full, and moved only when it is full again after progress.
/// Each wait and the expiry are told to the connection's streams (`link`).
#[derive(Debug)]
pub(crate) struct WriteTimeout {
    limit: Option<Duration>,
    timer: Option<Pin<Box<Sleep>>>,
    /// The socket took nothing since the timer was set.
    stuck: bool,
    link: Arc<Link>,
}

impl WriteTimeout {
    /// A timeout of `limit`, or none, for the connection of `link`.
    pub(crate) fn new(limit: Option<Duration>, link: Arc<Link>) -> Self {
        Self {
            limit,
            timer: None,
            stuck: false,
            link,
        }
    }

    /// The socket took some bytes.
    pub(crate) fn progressed(&mut self) {
        self.stuck = false;
    }

    /// The socket took nothing and the task waits for it to take more:
    /// true once that has lasted the whole limit (the task is woken then).
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.stuck {
            self.stuck = true;
            self.link.waited();
            // `None` (no limit, or one beyond any deadline a timer can
            // hold): never expires.
            let Some(deadline) = self
                .limit
                .and_then(|limit| Instant::now().checked_add(limit))
            else {
                return false;
            };
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let expired = self
            .timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
        if expired {
            self.link.timed_out();
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop_context<R>(f: impl FnOnce(&mut Context<'_>) -> R) -> R {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
        f(&mut Context::from_waker(&waker))
    }

    #[tokio::test(start_paused = true)]
    async fn expires_after_the_limit_without_progress() {
        let mut timeout = WriteTimeout::new(Some(Duration::from_secs(60)), Arc::default());
        assert!(!noop_context(|cx| timeout.expired(cx)));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(!noop_context(|cx| timeout.expired(cx)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(noop_context(|cx| timeout.expired(cx)));
        assert!(timeout.link.has_timed_out());
        assert_eq!(timeout.link.waits(), 1, "one wait, however often polled");
    }

    #[tokio::test(start_paused = true)]
    async fn progress_starts_the_count_again() {
        let mut timeout = WriteTimeout::new(Some(Duration::from_secs(60)), Arc::default());
        assert!(!noop_context(|cx| timeout.expired(cx)));
        tokio::time::advance(Duration::from_secs(50)).await;
        timeout.progressed();
        assert!(!noop_context(|cx| timeout.expired(cx)));
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(
            !noop_context(|cx| timeout.expired(cx)),
            "50 s since progress"
        );
        assert!(!timeout.link.has_timed_out());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(noop_context(|cx| timeout.expired(cx)));
        assert_eq!(timeout.link.waits(), 2, "a wait, progress, another wait");
    }

    #[tokio::test(start_paused = true)]
    async fn none_and_huge_limits_never_expire() {
        for limit in [None, Some(Duration::MAX)] {
            let mut timeout = WriteTimeout::new(limit, Arc::default());
            assert!(!noop_context(|cx| timeout.expired(cx)));
            tokio::time::advance(Duration::from_secs(365 * 24 * 3600)).await;
            assert!(!noop_context(|cx| timeout.expired(cx)));
        }
    }
}
