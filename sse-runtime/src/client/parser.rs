//! The incremental event-stream parser (WHATWG HTML §9.2.6).
//!
//! Bytes go in as they arrive, in chunks of any size; [`Item`]s come out.
//! The parser keeps only the incomplete line and the event being built, so it
//! reads each input byte a bounded number of times, however the stream is cut.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Duration;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The default cap on one line and on one event's data: 16 MiB.
pub const DEFAULT_LIMIT: usize = 16 * 1024 * 1024;

/// A dispatched event, as an `EventSource` would see its `MessageEvent`.
///
/// ```
/// use sse_runtime::client::{Item, Message, Parser};
///
/// let mut parser = Parser::new();
/// parser.feed(b"event: tick\nid: 7\ndata: 1\n\n").unwrap();
/// let item = parser.next_item();
/// assert_eq!(item, Some(Item::Message(Message::new("tick", "1", "7"))));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The event type: the last `event:` field, or `message` without one.
    pub event: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// The last event ID at dispatch (ids persist across events).
    pub last_event_id: String,
}

impl Message {
    /// A message with the given type, data and last event ID.
    ///
    /// ```
    /// let message = sse_runtime::client::Message::new("message", "hi", "");
    /// assert_eq!(message.data, "hi");
    /// ```
    pub fn new(event: impl Into<String>, data: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
            last_event_id: id.into(),
        }
    }
}

/// One thing the stream told the client.
///
/// ```
/// use std::time::Duration;
/// use sse_runtime::client::{Item, Parser};
///
/// let mut parser = Parser::new();
/// parser.feed(b": keep-alive\nretry: 1500\n").unwrap();
/// assert_eq!(parser.next_item(), Some(Item::Comment("keep-alive".into())));
/// assert_eq!(parser.next_item(), Some(Item::Retry(Duration::from_millis(1500))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event was dispatched.
    Message(Message),
    /// A comment line (`:text`), without the colon and one leading space.
    Comment(String),
    /// A valid `retry:` field: the new reconnection time, in effect at once.
    Retry(Duration),
}

/// The stream broke a size limit. The parser stops rather than truncate.
///
/// ```
/// use sse_runtime::client::{ParseError, Parser};
///
/// let mut parser = Parser::new().max_line_len(8);
/// assert_eq!(
///     parser.feed(b"data: 0123456789\n"),
///     Err(ParseError::LineTooLong { limit: 8 })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line was longer than the limit, in bytes.
    #[error("an event-stream line is longer than {limit} bytes")]
    LineTooLong {
        /// The limit in effect.
        limit: usize,
    },
    /// An event's data was larger than the limit, in bytes.
    #[error("an event's data is larger than {limit} bytes")]
    EventTooLarge {
        /// The limit in effect.
        limit: usize,
    },
}

/// The incremental parser.
///
/// ```
/// use sse_runtime::client::{Item, Parser};
///
/// let mut parser = Parser::new();
/// // A line end split between chunks is one line end, not two.
/// for chunk in [&b"data: a\r"[..], b"\ndata: b\r", b"\n\r\n"] {
///     parser.feed(chunk).unwrap();
/// }
/// let Some(Item::Message(message)) = parser.next_item() else { panic!() };
/// assert_eq!(message.data, "a\nb");
/// ```
#[derive(Debug)]
pub struct Parser {
    /// The incomplete line carried over from earlier chunks.
    line: Vec<u8>,
    /// The last chunk ended in CR: an LF starting the next one belongs to it.
    after_cr: bool,
    /// The next line is the body's first, where one BOM is stripped.
    first_line: bool,
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    retry: Option<Duration>,
    items: VecDeque<Item>,
    max_line_len: usize,
    max_event_size: usize,
    failed: Option<ParseError>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// A parser at the start of a stream, with the default limits.
    ///
    /// ```
    /// let parser = sse_runtime::client::Parser::new();
    /// assert_eq!(parser.last_event_id(), "");
    /// ```
    pub fn new() -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            first_line: true,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            retry: None,
            items: VecDeque::new(),
            max_line_len: DEFAULT_LIMIT,
            max_event_size: DEFAULT_LIMIT,
            failed: None,
        }
    }

    /// Caps the length of one line, in bytes ([`DEFAULT_LIMIT`] by default).
    ///
    /// ```
    /// let parser = sse_runtime::client::Parser::new().max_line_len(64 * 1024);
    /// # drop(parser);
    /// ```
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = bytes;
        self
    }

    /// Caps the size of one event's data, in bytes ([`DEFAULT_LIMIT`] by
    /// default).
    ///
    /// ```
    /// let parser = sse_runtime::client::Parser::new().max_event_size(1024 * 1024);
    /// # drop(parser);
    /// ```
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Starts with a known last event ID, as a client resuming a stream does.
    ///
    /// ```
    /// use sse_runtime::client::{Item, Parser};
    ///
    /// let mut parser = Parser::new().last_event_id_from("41");
    /// parser.feed(b"data: x\n\n").unwrap();
    /// let Some(Item::Message(message)) = parser.next_item() else { panic!() };
    /// assert_eq!(message.last_event_id, "41");
    /// ```
    pub fn last_event_id_from(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self.id_buffer.clone_from(&self.last_event_id);
        self
    }

    /// The last event ID: what a reconnect sends as `Last-Event-ID`.
    ///
    /// ```
    /// let mut parser = sse_runtime::client::Parser::new();
    /// parser.feed(b"id: 7\n\n").unwrap();
    /// assert_eq!(parser.last_event_id(), "7");
    /// ```
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream asked for, if it did.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut parser = sse_runtime::client::Parser::new();
    /// parser.feed(b"retry: 250\n").unwrap();
    /// assert_eq!(parser.retry(), Some(Duration::from_millis(250)));
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The next parsed item, oldest first.
    ///
    /// ```
    /// let mut parser = sse_runtime::client::Parser::new();
    /// parser.feed(b"data: 1\n\ndata: 2\n\n").unwrap();
    /// assert!(parser.next_item().is_some());
    /// assert!(parser.next_item().is_some());
    /// assert!(parser.next_item().is_none());
    /// ```
    pub fn next_item(&mut self) -> Option<Item> {
        self.items.pop_front()
    }

    /// Parses the next chunk of the body. Items it completes are queued for
    /// [`next_item`](Self::next_item), including those completed before a
    /// limit was broken. After an error, every later call returns it.
    ///
    /// ```
    /// let mut parser = sse_runtime::client::Parser::new();
    /// parser.feed(b"da").unwrap();
    /// parser.feed(b"ta: split anywhere\n\n").unwrap();
    /// assert!(parser.next_item().is_some());
    /// ```
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), ParseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        if std::mem::take(&mut self.after_cr) {
            chunk = chunk.strip_prefix(b"\n").unwrap_or(chunk);
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) {
            let next = match chunk[end] {
                b'\r' if end + 1 == chunk.len() => {
                    self.after_cr = true;
                    end + 1
                }
                b'\r' if chunk[end + 1] == b'\n' => end + 2,
                _ => end + 1,
            };
            let result = if self.line.is_empty() {
                self.check_line(end).and_then(|()| self.line(&chunk[..end]))
            } else {
                self.check_line(self.line.len() + end).and_then(|()| {
                    let mut line = std::mem::take(&mut self.line);
                    line.extend_from_slice(&chunk[..end]);
                    let result = self.line(&line);
                    line.clear();
                    self.line = line;
                    result
                })
            };
            result.map_err(|err| self.fail(err))?;
            chunk = &chunk[next..];
        }
        self.check_line(self.line.len() + chunk.len())
            .map_err(|err| self.fail(err))?;
        self.line.extend_from_slice(chunk);
        Ok(())
    }

    /// The body ended. The incomplete line and the undispatched event are
    /// discarded, as the standard requires (their `id` is never committed),
    /// and the parser is ready for the next connection's body, which starts
    /// from the current last event ID.
    ///
    /// ```
    /// let mut parser = sse_runtime::client::Parser::new();
    /// parser.feed(b"id: 1\ndata: never dispatched\n").unwrap();
    /// parser.finish();
    /// assert!(parser.next_item().is_none());
    /// assert_eq!(parser.last_event_id(), "");
    /// ```
    pub fn finish(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.first_line = true;
        self.data.clear();
        self.event_type.clear();
        self.id_buffer.clone_from(&self.last_event_id);
    }

    fn fail(&mut self, err: ParseError) -> ParseError {
        self.failed = Some(err.clone());
        err
    }

    fn check_line(&self, len: usize) -> Result<(), ParseError> {
        if len > self.max_line_len {
            return Err(ParseError::LineTooLong {
                limit: self.max_line_len,
            });
        }
        Ok(())
    }

    /// Interprets one complete line (§9.2.6).
    fn line(&mut self, mut line: &[u8]) -> Result<(), ParseError> {
        if std::mem::take(&mut self.first_line) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"" => self
                .items
                .push_back(Item::Comment(text(value).into_owned())),
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&text(value));
            }
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event_size {
                    return Err(ParseError::EventTooLarge {
                        limit: self.max_event_size,
                    });
                }
                self.data.push_str(&text(value));
                self.data.push('\n');
            }
            b"id" if !value.contains(&0) => {
                self.id_buffer.clear();
                self.id_buffer.push_str(&text(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let retry = Duration::from_millis(decimal(value));
                self.retry = Some(retry);
                self.items.push_back(Item::Retry(retry));
            }
            _ => {}
        }
        Ok(())
    }

    /// A blank line: commit the id, and fire the event if it has data.
    fn dispatch(&mut self) {
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        self.data.pop();
        let event = if self.event_type.is_empty() {
            String::from("message")
        } else {
            std::mem::take(&mut self.event_type)
        };
        self.items.push_back(Item::Message(Message {
            event,
            data: std::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        }));
    }
}

/// Decodes a piece of a line. Lines and field values are split at ASCII
/// bytes, which never occur inside a UTF-8 sequence, so decoding piece by
/// piece replaces exactly what decoding the whole stream would.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// ASCII digits as a number; beyond `u64::MAX`, `u64::MAX` (as long a wait
/// as can be) rather than an overflow.
fn decimal(digits: &[u8]) -> u64 {
    digits
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .unwrap_or(u64::MAX)
}
