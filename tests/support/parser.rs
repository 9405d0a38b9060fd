//! Whole-stream parsing with the project's client parser, for checking what
//! the encoder writes.

use std::time::Duration;

use sse_runtime::client::{Item, Message, Parser};

/// Everything a stream did to a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub events: Vec<Message>,
    /// Every valid `retry:` field, in order.
    pub retries: Vec<Duration>,
    pub comments: Vec<String>,
    /// The last event ID at the end of the stream.
    pub last_event_id: String,
}

/// Parses a complete stream, fed in one chunk, starting from the last event
/// ID `initial`.
pub fn parse(stream: &[u8], initial: &str) -> Parsed {
    parse_chunks([stream], initial)
}

/// Parses a complete stream delivered in `chunks`.
pub fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, initial: &str) -> Parsed {
    let mut parser = Parser::new().last_event_id_from(initial);
    let mut parsed = Parsed::default();
    for chunk in chunks {
        parser.feed(chunk).expect("within the default limits");
    }
    parser.finish();
    while let Some(frame) = parser.next_item() {
        match frame {
            Item::Message(message) => parsed.events.push(message),
            Item::Retry(retry) => parsed.retries.push(retry),
            Item::Comment(comment) => parsed.comments.push(comment),
        }
    }
    parsed.last_event_id = parser.last_event_id().to_owned();
    parsed
}
