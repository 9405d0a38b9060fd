//! Heartbeats: what an idle stream sends so that proxies keep it open, and
//! the timer that decides when (the one home of both; the server only picks
//! which heartbeat a route gets).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{Instant, Sleep};

use crate::event::{Event, EventError, EMPTY_COMMENT};

/// A keep-alive sent when a stream has been quiet for a period.
///
/// The period counts from the last write, so a stream with real traffic sends
/// no heartbeats at all. The default sends an empty comment (`:` and a blank
/// line, which clients ignore) every 15 seconds, as the SSE standard
/// recommends for streams that pass through proxies.
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::{Event, Heartbeat};
///
/// let default = Heartbeat::default();
/// assert_eq!(default.period(), Duration::from_secs(15));
///
/// // Ktor's style: a named comment every 10 seconds.
/// let custom = Heartbeat::every(Duration::from_secs(10)).event(Event::new().comment("heartbeat"))?;
/// assert_eq!(custom.period(), Duration::from_secs(10));
/// # Ok::<(), sse_runtime::EventError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    period: Duration,
    frame: Bytes,
}

impl Heartbeat {
    /// The default period: 15 seconds.
    ///
    /// ```
    /// use sse_runtime::Heartbeat;
    /// assert_eq!(Heartbeat::default().period(), Heartbeat::DEFAULT_PERIOD);
    /// ```
    pub const DEFAULT_PERIOD: Duration = Duration::from_secs(15);

    /// The smallest period; a shorter one is raised to it so that a heartbeat
    /// can never spin.
    ///
    /// ```
    /// use sse_runtime::Heartbeat;
    /// assert_eq!(Heartbeat::every(std::time::Duration::ZERO).period(), Heartbeat::MIN_PERIOD);
    /// ```
    pub const MIN_PERIOD: Duration = Duration::from_millis(1);

    /// A heartbeat that sends an empty comment after `period` without writes.
    ///
    /// ```
    /// use std::time::Duration;
    /// let heartbeat = sse_runtime::Heartbeat::every(Duration::from_secs(5));
    /// assert_eq!(heartbeat.period(), Duration::from_secs(5));
    /// ```
    pub fn every(period: Duration) -> Self {
        Self {
            period: period.max(Self::MIN_PERIOD),
            frame: Bytes::from_static(EMPTY_COMMENT),
        }
    }

    /// Sends `event` instead of an empty comment. It is encoded once, here.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_runtime::{Event, Heartbeat};
    /// let ping = Heartbeat::every(Duration::from_secs(5)).event(Event::new().event("ping").data(""))?;
    /// # let _ = ping;
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn event(self, event: Event) -> Result<Self, EventError> {
        Ok(Self {
            frame: event.to_bytes()?,
            ..self
        })
    }

    /// How long a stream may stay quiet before a heartbeat is sent.
    ///
    /// ```
    /// assert_eq!(sse_runtime::Heartbeat::default().period().as_secs(), 15);
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The encoded bytes that each heartbeat writes.
    pub(crate) fn frame(&self) -> Bytes {
        self.frame.clone()
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::every(Self::DEFAULT_PERIOD)
    }
}

/// When a stream's next heartbeat is due: a period after its last write.
///
/// Kept by the stream's response body and polled with it. The timer is moved
/// only when it fires early (something was written since it was set), not on
/// every write, so a busy stream resets it at most once per period; and it is
/// not polled again while armed with the same waker, since that would only
/// register the waker again, which costs a little on every delivery.
pub(crate) struct HeartbeatTimer {
    heartbeat: Option<Heartbeat>,
    timer: Option<Pin<Box<Sleep>>>,
    armed_with: Option<Waker>,
    last_write: Instant,
}

impl HeartbeatTimer {
    pub(crate) fn new(heartbeat: Option<Heartbeat>) -> Self {
        Self {
            heartbeat,
            timer: None,
            armed_with: None,
            last_write: Instant::now(),
        }
    }

    /// Something was written: the quiet period starts again.
    pub(crate) fn wrote(&mut self) {
        self.last_write = Instant::now();
    }

    /// Replaces the heartbeat (or switches it off), counting from now on.
    pub(crate) fn set(&mut self, heartbeat: Option<Heartbeat>) {
        self.heartbeat = heartbeat;
        self.timer = None;
        self.armed_with = None;
    }

    /// Ready with the heartbeat's bytes once the stream has been quiet for a
    /// whole period.
    pub(crate) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<Bytes> {
        let Some(heartbeat) = &self.heartbeat else {
            return Poll::Pending;
        };
        let due = self.last_write + heartbeat.period();
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        let armed = self.armed_with.as_ref();
        if armed.is_some_and(|waker| waker.will_wake(cx.waker())) && !timer.is_elapsed() {
            return Poll::Pending;
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                self.armed_with = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let now = Instant::now();
            if now >= due {
                self.last_write = now;
                timer.as_mut().reset(now + heartbeat.period());
                self.armed_with = None;
                return Poll::Ready(heartbeat.frame());
            }
            timer.as_mut().reset(due);
        }
    }
}
