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
//! - a multi-line comment becomes one comment line per line;
//! - fields are always written in one order: comment, `event`, `id`,
//!   `retry`, `data`, then the blank line that ends the event.
//!
//! This module is the only writer of SSE fields and framing: sessions,
//! typed sends, heartbeats and the hub all encode through it. An event
//! published to a hub is encoded once as an [`EventBody`] (everything but
//! its id), then framed with the id its backplane assigns.
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
use std::fmt::{self, Write as _};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

use crate::serializer::{DataWriter, SerializeError};

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
    /// An id is text, or an integer (written in decimal), as most ids are
    /// sequence numbers.
    ///
    /// ```
    /// let event = sse_runtime::Event::new().id("7");
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"id: 7\n\n");
    /// let event = sse_runtime::Event::new().id(8u64);
    /// assert_eq!(&event.to_bytes().unwrap()[..], b"id: 8\n\n");
    /// ```
    pub fn id(mut self, id: impl IntoEventId) -> Self {
        self.id = Some(id.into_event_id());
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
    fn write_fields(&self, out: &mut BytesMut) {
        if let Some(comment) = &self.comment {
            write_comment(out, comment);
        }
        if let Some(name) = &self.name {
            write_line(out, EVENT_PREFIX, name);
        }
        if let Some(id) = &self.id {
            write_line(out, ID_PREFIX, id);
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
            write_text_lines(out, data);
        }
        out.put_u8(b'\n');
    }

    /// Writes this event's fields (its data, if any, is ignored) with the
    /// data `serialize` writes, as one whole event; the caller has validated
    /// the fields. On error `out` is left as it was.
    pub(crate) fn write_with_data(
        &self,
        out: &mut BytesMut,
        serialize: impl FnOnce(&mut DataWriter<'_>) -> Result<(), SerializeError>,
    ) -> Result<(), SerializeError> {
        let mark = out.len();
        self.write_fields(out);
        if let Err(err) = write_data_lines(out, serialize) {
            out.truncate(mark);
            return Err(err);
        }
        out.put_u8(b'\n');
        Ok(())
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

/// An empty comment: the smallest thing a stream can send, which every
/// client ignores. The default heartbeat.
pub(crate) const EMPTY_COMMENT: &[u8] = b":\n\n";

const DATA_PREFIX: &[u8] = b"data: ";
const EVENT_PREFIX: &[u8] = b"event: ";
const ID_PREFIX: &[u8] = b"id: ";
/// What a line break inside data becomes: the end of one `data:` line and the
/// start of the next.
const DATA_BREAK: &[u8] = b"\ndata: ";
const COMMENT_BREAK: &[u8] = b"\n: ";

/// Writes `data` as `data:` lines (with their final line end).
fn write_text_lines(out: &mut BytesMut, data: &str) {
    out.put_slice(DATA_PREFIX);
    let start = out.len();
    out.put_slice(data.as_bytes());
    split_lines_in_place(out, start, DATA_BREAK);
    out.put_u8(b'\n');
}

/// Runs `serialize` to write an event's data as `data:` lines (with their
/// final line end): checks it is UTF-8, then splits its lines. On error
/// `out` is left as it was.
fn write_data_lines(
    out: &mut BytesMut,
    serialize: impl FnOnce(&mut DataWriter<'_>) -> Result<(), SerializeError>,
) -> Result<(), SerializeError> {
    let mark = out.len();
    out.put_slice(DATA_PREFIX);
    let start = out.len();
    let written = serialize(&mut DataWriter::new(out));
    let checked = written.and_then(|()| {
        std::str::from_utf8(&out[start..])
            .map(drop)
            .map_err(SerializeError::new)
    });
    if let Err(err) = checked {
        out.truncate(mark);
        return Err(err);
    }
    split_lines_in_place(out, start, DATA_BREAK);
    out.put_u8(b'\n');
    Ok(())
}

/// Why an [`EventBody`] could not be encoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Serialize(#[from] SerializeError),
}

/// An event encoded once, without its id: its `event:` line (if named) and
/// its `data:` lines. What a hub publishes and a
/// [`Backplane`](crate::hub::Backplane) stores; the backplane's id is added
/// when it becomes an [`Entry`](crate::hub::Entry).
///
/// ```
/// use sse_runtime::event::EventBody;
///
/// let body = EventBody::text(Some("note"), "hi")?;
/// assert_eq!(body.name(), Some("note"));
/// assert_eq!(&body.as_bytes()[..], b"event: note\ndata: hi\n");
/// # Ok::<(), sse_runtime::EventError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBody {
    /// `event: <name>\n` when named, then the `data:` lines (no blank line).
    bytes: Bytes,
    /// The length of the name, 0 when unnamed.
    name_len: usize,
    named: bool,
}

impl EventBody {
    /// Encodes `name` and the data `serialize` writes.
    pub(crate) fn encode(
        name: Option<&str>,
        serialize: impl FnOnce(&mut DataWriter<'_>) -> Result<(), SerializeError>,
    ) -> Result<Self, BodyError> {
        Self::build(name, |out| {
            write_data_lines(out, serialize).map_err(BodyError::from)
        })
    }

    /// `name`'s line (checked), then what `data` writes.
    fn build<E: From<EventError>>(
        name: Option<&str>,
        data: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<Self, E> {
        let mut out = BytesMut::new();
        if let Some(name) = name {
            check_name(name)?;
            write_line(&mut out, EVENT_PREFIX, name);
        }
        data(&mut out)?;
        Ok(Self {
            bytes: out.freeze(),
            name_len: name.map_or(0, str::len),
            named: name.is_some(),
        })
    }

    /// A body with text data (line breaks become separate `data:` lines),
    /// as a backplane that stores events elsewhere rebuilds one.
    ///
    /// ```
    /// let body = sse_runtime::event::EventBody::text(None, "a\nb")?;
    /// assert_eq!(&body.as_bytes()[..], b"data: a\ndata: b\n");
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn text(name: Option<&str>, data: &str) -> Result<Self, EventError> {
        Self::build(name, |out| {
            write_text_lines(out, data);
            Ok::<(), EventError>(())
        })
    }

    /// The event name; `None` for the default (`message`).
    ///
    /// ```
    /// let body = sse_runtime::event::EventBody::text(None, "x")?;
    /// assert_eq!(body.name(), None);
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.named.then(|| {
            let name = &self.bytes[EVENT_PREFIX.len()..EVENT_PREFIX.len() + self.name_len];
            // Written from a `&str` in `encode`.
            std::str::from_utf8(name).unwrap_or_default()
        })
    }

    /// The encoded lines, as stored.
    ///
    /// ```
    /// let body = sse_runtime::event::EventBody::text(None, "x")?;
    /// assert_eq!(body.as_bytes().len(), 8);
    /// # Ok::<(), sse_runtime::EventError>(())
    /// ```
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The data as an `EventSource` hands it to a listener: its lines
    /// joined by `\n`. What a backplane that stores events elsewhere keeps,
    /// to rebuild the body with [`text`](Self::text).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn data(&self) -> String {
        let lines = &self.bytes[self.id_at()..];
        // Written from `&str`s: `data: <line>\n` for each line.
        let text = std::str::from_utf8(lines).unwrap_or_default();
        let mut data = String::with_capacity(text.len());
        for (n, line) in text.split_terminator('\n').enumerate() {
            if n > 0 {
                data.push('\n');
            }
            data.push_str(line.strip_prefix("data: ").unwrap_or(line));
        }
        data
    }

    /// Where the `id:` line goes: after the `event:` line, so that every
    /// event has the one field order.
    fn id_at(&self) -> usize {
        match self.named {
            true => EVENT_PREFIX.len() + self.name_len + 1,
            false => 0,
        }
    }
}

/// An [`EventBody`] framed with its id: the whole event as written to every
/// subscriber, in one buffer they share. The hub's
/// [`Entry`](crate::hub::Entry) is one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Framed {
    bytes: Bytes,
    /// Lengths, not a copy: the name and id are read from `bytes`.
    name_len: u32,
    id_len: u32,
    named: bool,
}

impl Framed {
    /// Frames `body` with `id`; fails if the id could not come back as a
    /// `Last-Event-ID`.
    pub(crate) fn new(body: &EventBody, id: &str) -> Result<Self, EventError> {
        check_id(id)?;
        Ok(Self::with_id(body, id, id.len()))
    }

    /// Frames `body` with the id `<run>-<n>`, written straight into the
    /// frame: such an id is always valid, so there is nothing to check.
    pub(crate) fn numbered(body: &EventBody, run: u64, n: u64) -> Self {
        // Two u64s in decimal and the dash.
        Self::with_id(body, format_args!("{run}-{n}"), 2 * 20 + 1)
    }

    /// `body`'s event line, `id: <id>`, then its data lines and the blank
    /// line, in one buffer.
    fn with_id(body: &EventBody, id: impl fmt::Display, id_len_hint: usize) -> Self {
        let at = body.id_at();
        let lines = &body.bytes;
        let mut out = BytesMut::with_capacity(lines.len() + ID_PREFIX.len() + id_len_hint + 2);
        out.put_slice(&lines[..at]);
        out.put_slice(ID_PREFIX);
        let id_start = out.len();
        // Writing to a `BytesMut` cannot fail.
        let _ = write!(out, "{id}");
        let id_len = out.len() - id_start;
        out.put_u8(b'\n');
        out.put_slice(&lines[at..]);
        out.put_u8(b'\n');
        Self {
            bytes: out.freeze(),
            // Bounded by the sizes of an event name and an id, far below 4 GiB.
            name_len: u32::try_from(body.name_len).unwrap_or(u32::MAX),
            id_len: u32::try_from(id_len).unwrap_or(u32::MAX),
            named: body.named,
        }
    }

    pub(crate) fn id(&self) -> &str {
        let start = match self.named {
            true => EVENT_PREFIX.len() + self.name_len as usize + 1 + ID_PREFIX.len(),
            false => ID_PREFIX.len(),
        };
        let id = &self.bytes[start..start + self.id_len as usize];
        // Written from a `&str` or a number.
        std::str::from_utf8(id).unwrap_or_default()
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.named.then(|| {
            let end = EVENT_PREFIX.len() + self.name_len as usize;
            std::str::from_utf8(&self.bytes[EVENT_PREFIX.len()..end]).unwrap_or_default()
        })
    }

    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

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
fn split_lines_in_place(out: &mut BytesMut, start: usize, brk: &[u8]) {
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

/// What an event's id can be made of: text, or an integer, written in
/// decimal. Taken by every `id(..)` setter ([`Event::id`], a send's `.id(..)`).
///
/// ```
/// use sse_runtime::event::IntoEventId;
/// assert_eq!(42u64.into_event_id(), "42");
/// assert_eq!("a-1".into_event_id(), "a-1");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event id",
    label = "an event id is text or an integer",
    note = "write it as text, such as `.id(value.to_string())`"
)]
pub trait IntoEventId {
    /// The id as text.
    fn into_event_id(self) -> Cow<'static, str>;
}

macro_rules! text_ids {
    ($($text:ty),*) => {$(
        impl IntoEventId for $text {
            fn into_event_id(self) -> Cow<'static, str> {
                self.into()
            }
        }
    )*};
}

text_ids!(&'static str, String, Cow<'static, str>, &'static String);

impl IntoEventId for Box<str> {
    fn into_event_id(self) -> Cow<'static, str> {
        String::from(self).into()
    }
}

/// Ids written as they display: integers in decimal, a shared `Arc<str>`
/// copied.
macro_rules! displayed_ids {
    ($($displayed:ty),*) => {$(
        impl IntoEventId for $displayed {
            fn into_event_id(self) -> Cow<'static, str> {
                self.to_string().into()
            }
        }
    )*};
}

displayed_ids!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    std::sync::Arc<str>
);

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::serializer::{Serializer, Text};

    struct Invalid;
    impl Serializer<u8> for Invalid {
        fn serialize(&self, value: &u8, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
            out.write_all(&[*value]).map_err(SerializeError::new)
        }
    }

    #[test]
    fn serialized_data_that_is_not_utf8_is_an_error_and_writes_nothing() {
        let mut out = BytesMut::from(&b"kept"[..]);
        assert!(write_data_lines(&mut out, |w| Invalid.serialize(&0xff, w)).is_err());
        assert_eq!(&out[..], b"kept");
        write_data_lines(&mut out, |w| Invalid.serialize(&b'!', w)).unwrap();
        assert_eq!(&out[..], b"keptdata: !\n");
    }

    #[test]
    fn serialized_lines_are_split() {
        let mut out = BytesMut::new();
        write_data_lines(&mut out, |w| Text.serialize("a\r\nb", w)).unwrap();
        assert_eq!(&out[..], b"data: a\ndata: b\n");
    }

    #[test]
    fn a_failing_display_is_an_error_and_writes_nothing() {
        struct Broken;
        impl fmt::Display for Broken {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("partial")?;
                Err(fmt::Error)
            }
        }
        let mut out = BytesMut::new();
        let fields = Event::new().event("e").id("1");
        assert!(fields
            .write_with_data(&mut out, |w| Text.serialize(&Broken, w))
            .is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn the_empty_comment_is_what_an_event_with_an_empty_comment_encodes_to() {
        let encoded = Event::new().comment("").to_bytes().unwrap();
        assert_eq!(&encoded[..], EMPTY_COMMENT);
    }

    #[test]
    fn framed_bodies_keep_the_one_field_order() {
        let body = EventBody::encode(Some("note"), |w| Text.serialize("a\nb", w)).unwrap();
        let framed = Framed::new(&body, "7").unwrap();
        let same = Event::new()
            .event("note")
            .id("7")
            .data("a\nb")
            .to_bytes()
            .unwrap();
        assert_eq!(framed.bytes(), &same);
        assert_eq!((framed.id(), framed.name()), ("7", Some("note")));
        let unnamed = EventBody::text(None, "x").unwrap();
        let framed = Framed::numbered(&unnamed, 3, 4);
        assert_eq!(&framed.bytes()[..], b"id: 3-4\ndata: x\n\n");
        assert_eq!((framed.id(), framed.name()), ("3-4", None));
        for (run, n) in [(0, 0), (1_763_856_000_000, 1), (u64::MAX, u64::MAX)] {
            let checked = Framed::new(&body, &format!("{run}-{n}")).unwrap();
            assert_eq!(Framed::numbered(&body, run, n), checked);
        }
        assert_eq!(
            EventBody::text(Some("a\nb"), "x"),
            Err(EventError::NameHasLineBreak)
        );
    }

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
    fn a_bodys_data_is_its_lines_joined() {
        for data in ["", "x", "a\nb", "\n\nc\n", "a\r\nb\rc"] {
            let body = EventBody::text(Some("n"), data).unwrap();
            let rebuilt = EventBody::text(Some("n"), &body.data()).unwrap();
            assert_eq!(rebuilt, body, "{data:?}");
        }
        assert_eq!(EventBody::text(None, "a\r\nb").unwrap().data(), "a\nb");
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
