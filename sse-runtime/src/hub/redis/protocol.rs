//! What the backplane says to Redis, and reads back: its two scripts, the
//! replies of `XREAD` and `XRANGE`, and the rule for resuming after an id.
//!
//! A topic is a stream whose ids are `<epoch>-<n>`: `<epoch>` is when the
//! stream was made (milliseconds), `n` numbers its events from 1. `XADD
//! <epoch>-*` keeps the numbers consecutive, so a missing event shows as a
//! skipped number, and an id of another stream (or of a stream Redis lost
//! and made again) shows as another epoch, as `<run>-<n>` ids do in memory.
//! An entry's fields are `event` (absent for the default `message`) and
//! `data` (its lines joined by `\n`), readable with `XRANGE` by anyone.

use redis::Value;

use super::stream_id::StreamId;
use crate::event::EventBody;
use crate::hub::backplane::Entry;

/// `KEYS[1]` the stream and, for a publish with an idempotency key,
/// `KEYS[2]` where the key is kept ([`idempotency_key`]); `ARGV` the history
/// (for `MAXLEN ~`), the data, the key's window in milliseconds and, for a
/// named event, its name. A key already kept returns the id it was
/// published with, and nothing is appended; else the event is appended
/// under the stream's epoch and the next number (`<epoch>-*`; a new
/// stream's first id is `<now>-1`, with Redis's clock: `XADD <ms>-*` would
/// number a new stream from 0), and the key kept for its window. Returns
/// the id. One script: Redis runs it whole, so two publishes with one key
/// cannot both append, and a refused `XADD` (out of memory) stores nothing.
pub(super) const PUBLISH: &str = r"
if KEYS[2] then
  local prior = redis.call('GET', KEYS[2])
  if prior then return prior end
end
local id
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  id = string.match(last[1], '^(%d+)-') .. '-*'
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then id = string.match(info[i + 1], '^(%d+)-') .. '-*' end
  end
end
if not id then
  local now = redis.call('TIME')
  id = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000)) .. '-1'
end
local added
if ARGV[4] then
  added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, 'event', ARGV[4], 'data', ARGV[2])
else
  added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, 'data', ARGV[2])
end
if KEYS[2] then redis.call('SET', KEYS[2], added, 'PX', ARGV[3]) end
return added
";

/// Where a publish's idempotency `key` is kept for the stream `stream`: the
/// stream's key, a NUL byte, then the key. No topic's stream is named so
/// unless its name holds a NUL, so the two cannot meet.
pub(super) fn idempotency_key(stream: &str, key: &str) -> String {
    format!("{stream}\0{key}")
}

/// `KEYS[1]` the stream, `ARGV` an id (or `''`) and a count. Returns, in
/// one step, the first kept id and the last id given (`''` when there is no
/// stream or no entry), and up to `count` entries after the id.
pub(super) const POSITION: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'', '', {}} end
local first, last = '', ''
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1]
  elseif info[i] == 'first-entry' and info[i + 1] then first = info[i + 1][1] end
end
local entries = {}
if ARGV[1] ~= '' then
  -- An id Redis cannot range after (the largest there is) names nothing
  -- kept: no entries, and the caller finds it lost from `first` and `last`.
  local after = redis.pcall('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
  if not after.err then entries = after end
end
return {first, last, entries}
";

/// A stream entry as read: its id, and the event, or `None` when its
/// fields are not an event of ours (written by hand, say).
pub(super) type Read = (StreamId, Option<Entry>);

/// A stream as [`POSITION`] found it.
#[derive(Debug, Default)]
pub(super) struct Position {
    /// The first id kept, if any entry is.
    pub(super) first: Option<StreamId>,
    /// The last id the stream gave, if it exists.
    pub(super) last: Option<StreamId>,
    /// The entries after the id asked for, oldest first.
    pub(super) entries: Vec<Read>,
}

/// Why a reply could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unexpected reply from Redis: {0}")]
pub(super) struct ReplyError(&'static str);

impl Position {
    pub(super) fn from_reply(reply: Value) -> Result<Self, ReplyError> {
        let mut parts = array(reply)
            .ok_or(ReplyError("position is not an array"))?
            .into_iter();
        let (Some(first), Some(last), Some(entries)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(ReplyError("position has fewer than three parts"));
        };
        Ok(Self {
            first: optional_id(first)?,
            last: optional_id(last)?,
            entries: entries_of(entries)?,
        })
    }
}

fn optional_id(value: Value) -> Result<Option<StreamId>, ReplyError> {
    let bytes = bytes(value).ok_or(ReplyError("an id is not a string"))?;
    if bytes.is_empty() {
        return Ok(None);
    }
    StreamId::from_bytes(&bytes)
        .map(Some)
        .ok_or(ReplyError("an id is not <ms>-<seq>"))
}

/// Each stream's key and its new entries.
pub(super) type Streams = Vec<(Vec<u8>, Vec<Read>)>;

/// Reads an `XREAD` reply. `Nil` (the wait ran out, or it was unblocked)
/// is no streams.
pub(super) fn xread(reply: Value) -> Result<Streams, ReplyError> {
    let streams: Vec<(Value, Value)> = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Map(pairs) => pairs,
        Value::Array(streams) => streams
            .into_iter()
            .map(|stream| {
                let mut parts = array(stream).ok_or(ReplyError("a stream is not an array"))?;
                if parts.len() != 2 {
                    return Err(ReplyError("a stream is not [key, entries]"));
                }
                let entries = parts.pop().unwrap_or_default();
                let key = parts.pop().unwrap_or_default();
                Ok((key, entries))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ReplyError("XREAD's reply is not streams")),
    };
    streams
        .into_iter()
        .map(|(key, entries)| {
            let key = bytes(key).ok_or(ReplyError("a stream key is not a string"))?;
            Ok((key, entries_of(entries)?))
        })
        .collect()
}

/// Reads `[[id, [field, value, ...]], ...]`.
fn entries_of(value: Value) -> Result<Vec<Read>, ReplyError> {
    let entries = array(value).ok_or(ReplyError("entries are not an array"))?;
    entries
        .into_iter()
        .map(|entry| {
            let mut parts = array(entry).ok_or(ReplyError("an entry is not an array"))?;
            if parts.len() != 2 {
                return Err(ReplyError("an entry is not [id, fields]"));
            }
            let fields = parts.pop().unwrap_or_default();
            let id_bytes = bytes(parts.pop().unwrap_or_default())
                .ok_or(ReplyError("an entry id is not a string"))?;
            let id = StreamId::from_bytes(&id_bytes)
                .ok_or(ReplyError("an entry id is not <ms>-<seq>"))?;
            Ok((id, event(&id, fields)))
        })
        .collect()
}

/// The event an entry's fields hold, framed with its id; `None` unless
/// they are a UTF-8 `data` and at most an `event` with a valid name.
fn event(id: &StreamId, fields: Value) -> Option<Entry> {
    let fields = match fields {
        Value::Map(pairs) => pairs,
        other => {
            let flat = array(other)?;
            if flat.len() % 2 != 0 {
                return None;
            }
            let mut flat = flat.into_iter();
            std::iter::from_fn(|| Some((flat.next()?, flat.next()?))).collect()
        }
    };
    let (mut name, mut data) = (None, None);
    for (field, value) in fields {
        let value = String::from_utf8(bytes(value)?).ok()?;
        match &bytes(field)?[..] {
            b"event" if name.is_none() => name = Some(value),
            b"data" if data.is_none() => data = Some(value),
            _ => return None,
        }
    }
    let body = EventBody::text(name.as_deref(), &data?).ok()?;
    Entry::new(&id.to_string(), &body).ok()
}

fn array(value: Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        Value::Okay => Some(b"OK".to_vec()),
        _ => None,
    }
}

/// How a client that last had `had` resumes in a stream found at
/// `position`: whether events it should have had are gone, and after which
/// id to replay. A clean resume replays after `had`; a lost one replays
/// everything kept.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Resume {
    pub(super) lost: bool,
    pub(super) after: StreamId,
}

pub(super) fn resume(had: StreamId, first: Option<StreamId>, last: Option<StreamId>) -> Resume {
    let lost = Resume {
        lost: true,
        after: StreamId::ZERO,
    };
    let Some(last) = last else {
        // No stream: whatever the id named is gone (or never was ours).
        return Resume {
            lost: had != StreamId::ZERO,
            after: StreamId::ZERO,
        };
    };
    if had.epoch() != last.epoch() || had > last {
        return lost; // another stream's id, or one Redis lost
    }
    let clean = match first {
        // Events numbered up to `had + 1` are still there.
        Some(first) => had.number().saturating_add(1) >= first.number(),
        // Emptied: only the last id misses nothing.
        None => had == last,
    };
    Resume {
        lost: !clean,
        after: had,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> StreamId {
        StreamId::parse(text).unwrap()
    }

    #[test]
    fn resuming_is_clean_while_the_next_event_is_kept() {
        let (first, last) = (Some(id("7-40")), Some(id("7-90")));
        let clean = |had| Resume {
            lost: false,
            after: id(had),
        };
        assert_eq!(resume(id("7-60"), first, last), clean("7-60"));
        assert_eq!(
            resume(id("7-39"), first, last),
            clean("7-39"),
            "the one before the first"
        );
        assert_eq!(resume(id("7-90"), first, last), clean("7-90"));
        let lost = Resume {
            lost: true,
            after: id("7-38"),
        };
        assert_eq!(resume(id("7-38"), first, last), lost, "7-39 was trimmed");
        let everything = Resume {
            lost: true,
            after: StreamId::ZERO,
        };
        assert_eq!(resume(id("7-91"), first, last), everything, "not given yet");
        assert_eq!(resume(id("6-60"), first, last), everything, "another epoch");
        assert_eq!(resume(id("8-1"), first, last), everything, "another epoch");
        assert_eq!(resume(id("7-5"), None, None), everything, "no stream");
        assert_eq!(
            resume(id("7-90"), None, last),
            clean("7-90"),
            "emptied after it"
        );
        assert!(resume(id("7-89"), None, last).lost, "emptied before it");
    }

    fn fields(pairs: &[(&str, &str)]) -> Value {
        Value::Array(
            pairs
                .iter()
                .flat_map(|(f, v)| [f, v])
                .map(|s| Value::BulkString(s.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn entries_become_framed_events_or_are_refused() {
        let at = id("7-1");
        let entry = event(&at, fields(&[("event", "note"), ("data", "a\nb")])).unwrap();
        assert_eq!(
            &entry.frame()[..],
            b"event: note\nid: 7-1\ndata: a\ndata: b\n\n"
        );
        let plain = event(&at, fields(&[("data", "x")])).unwrap();
        assert_eq!(&plain.frame()[..], b"id: 7-1\ndata: x\n\n");
        for bad in [
            fields(&[("event", "note")]),
            fields(&[("data", "x"), ("other", "y")]),
            fields(&[("event", "a\nb"), ("data", "x")]),
            fields(&[("data", "x"), ("data", "y")]),
            Value::Array(vec![Value::BulkString(b"data".to_vec())]),
            Value::Array(vec![
                Value::BulkString(b"data".to_vec()),
                Value::BulkString(vec![0xff]),
            ]),
            Value::Int(3),
        ] {
            assert_eq!(event(&at, bad.clone()), None, "{bad:?}");
        }
    }

    /// Any reply shape: strings that are ids, field names or junk, nested.
    fn reply() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = prop_oneof![
            Just(b"7-1".to_vec()),
            Just(b"data".to_vec()),
            Just(b"event".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        let leaf = prop_oneof![
            Just(Value::Nil),
            any::<i64>().prop_map(Value::Int),
            text.clone().prop_map(Value::BulkString),
            Just(Value::Okay),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Map),
            ]
        })
    }

    proptest::proptest! {
        /// Replies come from the network: whatever their shape, reading
        /// them is a value or an error, never a panic, and an event read
        /// from one is always a well-formed frame.
        #[test]
        fn any_reply_is_read_or_refused_without_panicking(reply in reply()) {
            if let Ok(streams) = xread(reply.clone()) {
                for (_, entries) in streams {
                    for (id, entry) in entries.into_iter().filter_map(|(id, e)| Some((id, e?))) {
                        let frame = std::str::from_utf8(entry.frame()).unwrap();
                        proptest::prop_assert!(frame.ends_with("\n\n"));
                        proptest::prop_assert_eq!(entry.id(), id.to_string());
                    }
                }
            }
            let _ = Position::from_reply(reply);
        }
    }

    #[test]
    fn xread_replies_in_resp2_and_resp3() {
        let entry = |i: &str| {
            Value::Array(vec![
                Value::BulkString(i.as_bytes().to_vec()),
                fields(&[("data", "x")]),
            ])
        };
        let key = Value::BulkString(b"sse:t".to_vec());
        let resp2 = Value::Array(vec![Value::Array(vec![
            key.clone(),
            Value::Array(vec![entry("7-1"), entry("7-2")]),
        ])]);
        let resp3 = Value::Map(vec![(key, Value::Array(vec![entry("7-1"), entry("7-2")]))]);
        for reply in [resp2, resp3] {
            let streams = xread(reply).unwrap();
            assert_eq!(streams.len(), 1);
            assert_eq!(streams[0].0, b"sse:t");
            let ids: Vec<_> = streams[0]
                .1
                .iter()
                .map(|(id, e)| (id.to_string(), e.is_some()))
                .collect();
            assert_eq!(ids, [("7-1".to_owned(), true), ("7-2".to_owned(), true)]);
        }
        assert!(xread(Value::Nil).unwrap().is_empty());
        assert!(xread(Value::Int(1)).is_err());
        assert!(xread(Value::Array(vec![Value::Array(vec![Value::Nil])])).is_err());
    }
}
