//! Heartbeats: what an idle stream sends so that proxies keep it open.

use std::time::Duration;

use bytes::Bytes;

use crate::event::{Event, EventError};

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
            frame: Bytes::from_static(b":\n\n"),
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
