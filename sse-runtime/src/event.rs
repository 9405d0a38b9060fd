//! Events and their wire encoding (WHATWG HTML §9.2).
//!
//! An [`Event`] is built field by field and encoded by the rules every
//! `EventSource` follows:
//!
//! - every field is written as `name: value` with exactly one space, so a value
//!   that starts with a space keeps it;
//! - `data` is split at LF, CR and CRLF into one `data: ` line each. The client
//!   joins the lines with LF, so **CR and CRLF arrive as LF**: an SSE client can
//!   never observe a CR in data, and writing one raw would let the value inject
//!   fields (`x\revent: admin`);
//! - an event name with CR or LF, or an id that would not survive the trip back
//!   as a `Last-Event-ID` header, is rejected with an [`EventError`] and nothing
//!   is written;
//! - a multi-line comment becomes one comment line per line.
//!
//! ```
//! use std::time::Duration;
//! use sse_runtime::Event;
//!
//! let event = Event::new()
//!     .event("update")
//!     .id("42")
//!     .retry(Duration::from_secs(3))
//!     .data("line one\nline two");
//! assert_eq!(
//!     &event.to_bytes()?[..],
//!     b"event: update\nid: 42\nretry: 3000\ndata: line one\ndata: line two\n\n"
//! );
//! # Ok::<(), sse_runtime::EventError>(())
//! ```

use std::borrow::Cow;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// The largest `retry` an event may carry: 2³¹−1 milliseconds (about 24.8
/// days).
///
/// JavaScript timers overflow beyond it (a larger delay fires after 1 ms in
/// Node's `EventSource`), so a larger value would make clients reconnect at
/// once instead of waiting.
///
/// ```
/// use sse_runtime::{event::MAX_RETRY, Event};
/// assert!(Event::new().retry(MAX_RETRY).validate().is_ok());
/// ```
pub const MAX_RETRY: Duration = Duration::from_millis(i32::MAX as u64);

/// One Server-Sent Event: data, event name, id, retry and comment, each
/// optional.
///
/// The builder never fails; the fields are checked when the event is encoded
/// (by [`Event::to_bytes`], an [`Encoder`], or a session's `send`), which
/// returns an [`EventError`] and writes nothing when a field cannot be
/// represented.
///
/// ```
/// use sse_runtime::Event;
///
/// // A value's leading space survives, and an empty data line is still
/// // dispatched by the browser.
/// assert_eq!(&Event::new().data(" hi").to_bytes()?[..], b"data:  hi\n\n");
/// assert_eq!(&Event::new().data("").to_bytes()?[..], b"data: \n\n");
/// // A keep-alive is an empty comment.
/// assert_eq!(&Event::new().comment("").to_bytes()?[..], b":\n\n");
/// # Ok::<(), sse_runtime::EventError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    data: Option<Cow<'static, str>>,
    name: Option<Cow<'static, str>>,
    id: Option<Cow<'static, str>>,
    retry: Option<Duration>,
    comment: Option<Cow<'static, str>>,
}

/// Why an [`Event`] cannot be encoded.
///
/// ```
/// use sse_runtime::{Event, EventError};
///
/// let err = Event::new().event("a\nb").data("x").to_bytes().unwrap_err();
/// assert_eq!(err, EventError::NameHasLineBreak);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The event name contains CR or LF, which would end the `event:` line and
    /// let the rest of the name inject fields.
    #[error("the event name contains a line break (CR or LF); event names must be a single line")]
    NameHasLineBreak,
    /// The id contains CR or LF, which would end the `id:` line.
    #[error("the event id contains a line break (CR or LF); ids must be a single line")]
    IdHasLineBreak,
    /// The id contains NUL; clients ignore such an id field and would resume
    /// from an older id.
    #[error(
        "the event id contains NUL, which makes clients ignore it and resume from the wrong place"
    )]
    IdHasNul,
    /// The id contains a control byte other than a tab, which cannot be sent
    /// back in a `Last-Event-ID` header: the reconnect would be refused.
    #[error(
        "the event id contains the control character {byte:#04x}, which cannot travel back in a \
         Last-Event-ID header"
    )]
    IdHasControl {
        /// The offending byte.
        byte: u8,
    },
    /// The id starts or ends with a space or tab, which HTTP strips from the
    /// `Last-Event-ID` header: the server would see a different id.
    #[error(
        "the event id starts or ends with a space or tab, which HTTP strips from the \
         Last-Event-ID header; trim it"
    )]
    IdHasSurroundingWhitespace,
    /// The retry has a fraction of a millisecond; SSE can only express whole
    /// milliseconds.
    #[error("the retry delay {0:?} is not a whole number of milliseconds")]
    RetryNotWholeMillis(Duration),
    /// The retry is larger than [`MAX_RETRY`].
    #[error("the retry delay {0:?} exceeds the maximum of 2147483647 ms that clients can wait")]
    RetryTooLarge(Duration),
}

impl Event {
    /// An event with no fields yet.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().data("hello");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"data: hello\n\n");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the data. CR and CRLF are sent as LF, since that is what every
    /// client reports for them; an empty string is still dispatched.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().data("a\r\nb");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"data: a\ndata: b\n\n");
    /// ```
    pub fn data(mut self, data: impl Into<Cow<'static, str>>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the event name (the `event:` field, the type the browser dispatches).
    /// It must not contain CR or LF. Avoid `error` and `open`, which also fire
    /// an `EventSource`'s own handlers.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().event("tick").data("1");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"event: tick\ndata: 1\n\n");
    /// ```
    pub fn event(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the id, which the client sends back as `Last-Event-ID` when it
    /// reconnects. An empty id resets the client's last event id.
    ///
    /// The id must not contain CR, LF, NUL or other control bytes (tabs
    /// inside are fine), nor start or end with a space or tab. Ids over 128
    /// bytes or with non-ASCII characters work, but need a CORS preflight when
    /// the page is on another origin.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().id("7");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"id: 7\n\n");
    /// ```
    pub fn id(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets how long the client waits before reconnecting, written in whole
    /// milliseconds; at most [`MAX_RETRY`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let event = sse_runtime::Event::new().retry(Duration::from_millis(2500));
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"retry: 2500\n\n");
    /// ```
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets a comment, which clients ignore. Each line of a multi-line comment
    /// becomes a comment line of its own.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().comment("a\nb");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b": a\n: b\n\n");
    /// ```
    pub fn comment(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.comment = Some(text.into());
        self
    }

    /// Checks that every field can be encoded.
    ///
    /// ```
    /// use sse_runtime::{Event, EventError};
    /// assert_eq!(Event::new().id("a\0b").validate(), Err(EventError::IdHasNul));
    /// assert_eq!(Event::new().id("7").validate(), Ok(()));
    /// ```
    pub fn validate(&self) -> Result<(), EventError> {
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        if let Some(id) = &self.id {
            check_id(id)?;
        }
        if let Some(retry) = self.retry {
            check_retry(retry)?;
        }
        Ok(())
    }

    /// Encodes the event into its own buffer. To encode many events, an
    /// [`Encoder`] reuses one buffer instead.
    ///
    /// ```
    /// let bytes = sse_runtime::Event::new().data("x").to_bytes()?;
    /// assert_eq!(&bytes[..], b"data: x\n\n");
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Bytes, EventError> {
        Encoder::new().encode(self)
    }

    /// Whether the event has a data field, that is, whether a browser
    /// dispatches it.
    ///
    /// ```
    /// assert!(sse_runtime::Event::new().data("").has_data());
    /// assert!(!sse_runtime::Event::new().id("1").has_data());
    /// ```
    pub fn has_data(&self) -> bool {
        self.data.is_some()
    }

    /// Writes everything but the data and the final blank line; the caller has
    /// validated the event.
    pub(crate) fn write_fields(&self, out: &mut BytesMut) {
        if let Some(comment) = &self.comment {
            write_comment(out, comment);
        }
        if let Some(name) = &self.name {
            write_line(out, b"event: ", name);
        }
        if let Some(id) = &self.id {
            write_line(out, b"id: ", id);
        }
        if let Some(retry) = self.retry {
            let mut digits = itoa::Buffer::new();
            write_line(out, b"retry: ", digits.format(retry.as_millis()));
        }
    }

    /// Writes the whole event; the caller has validated it.
    pub(crate) fn write_unchecked(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len_hint());
        self.write_fields(out);
        if let Some(data) = &self.data {
            out.put_slice(DATA_PREFIX);
            let start = out.len();
            out.put_slice(data.as_bytes());
            split_lines_in_place(out, start, DATA_BREAK);
            out.put_u8(b'\n');
        }
        out.put_u8(b'\n');
    }

    /// The encoded length when no value contains a line break; enough for the
    /// common case to need a single reservation.
    fn encoded_len_hint(&self) -> usize {
        let line = |prefix: usize, value: &Option<Cow<'static, str>>| {
            value.as_ref().map_or(0, |v| prefix + v.len() + 1)
        };
        line(DATA_PREFIX.len(), &self.data)
            + line(b"event: ".len(), &self.name)
            + line(b"id: ".len(), &self.id)
            + line(b": ".len(), &self.comment)
            + self.retry.map_or(0, |_| b"retry: \n".len() + 10)
            + 1
    }
}

/// Encodes events into [`Bytes`] through one reusable buffer.
///
/// Each call reserves what the event needs in the buffer, writes it, and splits
/// it off as a `Bytes` that can be shared (with every subscriber of a
/// broadcast, say) without copying. Once the `Bytes` handed out earlier are
/// dropped, the buffer's memory is reused.
///
/// ```
/// use sse_runtime::{Encoder, Event};
///
/// let mut encoder = Encoder::new();
/// let first = encoder.encode(&Event::new().data("1"))?;
/// let second = encoder.encode(&Event::new().data("2"))?;
/// assert_eq!((&first[..], &second[..]), (&b"data: 1\n\n"[..], &b"data: 2\n\n"[..]));
/// # Ok::<(), sse_runtime::EventError>(())
/// ```
#[derive(Debug, Default)]
pub struct Encoder {
    buf: BytesMut,
}

impl Encoder {
    /// An encoder with an empty buffer.
    ///
    /// ```
    /// let mut encoder = sse_runtime::Encoder::new();
    /// # let _ = encoder.encode(&sse_runtime::Event::new());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes one event, or returns why it cannot be encoded (and encodes
    /// nothing).
    ///
    /// ```
    /// let mut encoder = sse_runtime::Encoder::new();
    /// let err = encoder.encode(&sse_runtime::Event::new().id("a\rb"));
    /// assert!(err.is_err());
    /// ```
    pub fn encode(&mut self, event: &Event) -> Result<Bytes, EventError> {
        event.validate()?;
        event.write_unchecked(&mut self.buf);
        Ok(self.buf.split().freeze())
    }
}

pub(crate) const DATA_PREFIX: &[u8] = b"data: ";
/// What a line break inside data becomes: the end of one `data:` line and the
/// start of the next.
pub(crate) const DATA_BREAK: &[u8] = b"\ndata: ";
const COMMENT_BREAK: &[u8] = b"\n: ";

fn write_line(out: &mut BytesMut, prefix: &[u8], value: &str) {
    out.put_slice(prefix);
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

fn write_comment(out: &mut BytesMut, text: &str) {
    if text.is_empty() {
        out.put_slice(b":\n");
        return;
    }
    out.put_slice(b": ");
    let start = out.len();
    out.put_slice(text.as_bytes());
    split_lines_in_place(out, start, COMMENT_BREAK);
    out.put_u8(b'\n');
}

fn check_name(name: &str) -> Result<(), EventError> {
    match memchr::memchr2(b'\r', b'\n', name.as_bytes()) {
        Some(_) => Err(EventError::NameHasLineBreak),
        None => Ok(()),
    }
}

fn check_id(id: &str) -> Result<(), EventError> {
    for &byte in id.as_bytes() {
        match byte {
            b'\r' | b'\n' => return Err(EventError::IdHasLineBreak),
            0 => return Err(EventError::IdHasNul),
            b'\t' => {}
            0x01..=0x1f | 0x7f => return Err(EventError::IdHasControl { byte }),
            _ => {}
        }
    }
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if edge(id.as_bytes().first()) || edge(id.as_bytes().last()) {
        return Err(EventError::IdHasSurroundingWhitespace);
    }
    Ok(())
}

fn check_retry(retry: Duration) -> Result<(), EventError> {
    if retry.subsec_nanos() % 1_000_000 != 0 {
        Err(EventError::RetryNotWholeMillis(retry))
    } else if retry > MAX_RETRY {
        Err(EventError::RetryTooLarge(retry))
    } else {
        Ok(())
    }
}

/// Replaces every line break (CRLF, CR or LF) in `out[start..]` with `brk`, in
/// place, so a value already written after a field prefix becomes one field
/// line per line of the value.
///
/// Works from the back so that each byte moves at most once and nothing is
/// allocated beyond growing `out`.
pub(crate) fn split_lines_in_place(out: &mut BytesMut, start: usize, brk: &[u8]) {
    let growth = line_break_growth(&out[start..], brk.len());
    if growth == 0 {
        return;
    }
    let mut read_end = out.len();
    let mut write_end = read_end + growth;
    out.resize(write_end, 0);
    while let Some(hit) = memchr::memrchr2(b'\r', b'\n', &out[start..read_end]) {
        let hit = start + hit;
        let crlf = out[hit] == b'\n' && hit > start && out[hit - 1] == b'\r';
        let break_start = if crlf { hit - 1 } else { hit };
        let tail = hit + 1..read_end;
        write_end -= tail.len();
        out.copy_within(tail, write_end);
        write_end -= brk.len();
        out[write_end..write_end + brk.len()].copy_from_slice(brk);
        read_end = break_start;
    }
    debug_assert_eq!(read_end, write_end);
}

/// How many bytes replacing each line break of `value` with a `brk_len`-byte
/// break adds.
fn line_break_growth(value: &[u8], brk_len: usize) -> usize {
    let mut growth = 0;
    let mut after_cr = usize::MAX;
    for hit in memchr::memchr2_iter(b'\r', b'\n', value) {
        if value[hit] == b'\n' && after_cr == hit {
            // The LF of a CRLF: the CR already counted the pair as one break.
            growth -= 1;
        } else {
            growth += brk_len - 1;
        }
        if value[hit] == b'\r' {
            after_cr = hit + 1;
        }
    }
    growth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(value: &str) -> String {
        let mut out = BytesMut::from(&b"data: "[..]);
        out.put_slice(value.as_bytes());
        split_lines_in_place(&mut out, 6, DATA_BREAK);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn splits_every_kind_of_line_break() {
        assert_eq!(split("plain"), "data: plain");
        assert_eq!(split("a\nb"), "data: a\ndata: b");
        assert_eq!(split("a\rb"), "data: a\ndata: b");
        assert_eq!(split("a\r\nb"), "data: a\ndata: b");
        assert_eq!(split("\r\r\n\n"), "data: \ndata: \ndata: \ndata: ");
        assert_eq!(split("\n"), "data: \ndata: ");
        assert_eq!(split("x\r"), "data: x\ndata: ");
        assert_eq!(split("\r\n\r\n"), "data: \ndata: \ndata: ");
    }

    #[test]
    fn growth_counts_crlf_once() {
        assert_eq!(line_break_growth(b"a\r\nb", 7), 5);
        assert_eq!(line_break_growth(b"a\n\rb", 7), 12);
        assert_eq!(line_break_growth(b"\r\r\n", 7), 11);
        assert_eq!(line_break_growth(b"", 7), 0);
    }

    #[test]
    fn ids_that_break_last_event_id_are_rejected() {
        assert_eq!(check_id(" 7"), Err(EventError::IdHasSurroundingWhitespace));
        assert_eq!(check_id("7\t"), Err(EventError::IdHasSurroundingWhitespace));
        assert_eq!(
            check_id("a\u{1}b"),
            Err(EventError::IdHasControl { byte: 1 })
        );
        assert_eq!(
            check_id("a\u{7f}"),
            Err(EventError::IdHasControl { byte: 0x7f })
        );
        assert_eq!(check_id("a\tb"), Ok(()));
        assert_eq!(check_id("…"), Ok(()));
        assert_eq!(check_id(""), Ok(()));
    }

    #[test]
    fn retry_must_be_whole_milliseconds_within_bounds() {
        let half = Duration::from_micros(1500);
        assert_eq!(
            check_retry(half),
            Err(EventError::RetryNotWholeMillis(half))
        );
        assert_eq!(check_retry(MAX_RETRY), Ok(()));
        let over = MAX_RETRY + Duration::from_millis(1);
        assert_eq!(check_retry(over), Err(EventError::RetryTooLarge(over)));
    }

    #[test]
    fn encoder_reuses_its_buffer() {
        let mut encoder = Encoder::new();
        let event = Event::new().data("x".repeat(100));
        let first = encoder.encode(&event).unwrap();
        let ptr = first.as_ptr();
        drop(first);
        let second = encoder.encode(&event).unwrap();
        assert_eq!(second.as_ptr(), ptr, "the freed allocation is reused");
    }
}
