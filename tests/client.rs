//! The client's parser against every parse vector (whole, in the vector's
//! chunks, and byte by byte), property tests for chunking and arbitrary
//! input, and size limits.

mod support;

use proptest::prelude::*;
use serde_json::Value;
use sse_runtime::client::{Item, Message, ParseError, Parser};
use support::parser::{parse, parse_chunks, Parsed};

struct Case {
    name: String,
    bytes: Vec<u8>,
    chunk_sizes: Option<Vec<usize>>,
    initial_id: String,
    events: Vec<Message>,
    last_event_id: String,
    /// `None` where the vectors call the outcome ambiguous.
    retry_ms: Option<Option<u64>>,
}

fn cases() -> Vec<Case> {
    let cases = support::conformance("parse_cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 92);
    cases
        .iter()
        .map(|case| {
            let stream = case["stream"].as_str().unwrap();
            let bytes = if case["stream_encoding"] == "latin1" {
                stream.chars().map(|c| u8::try_from(c).unwrap()).collect()
            } else {
                stream.as_bytes().to_vec()
            };
            assert_eq!(Some(bytes.len() as u64), case["stream_bytes_len"].as_u64());
            let text = |v: &Value| v.as_str().unwrap().to_owned();
            Case {
                name: text(&case["name"]),
                bytes,
                chunk_sizes: case.get("chunk_sizes").map(|sizes| {
                    let sizes = sizes.as_array().unwrap();
                    sizes.iter().map(|n| n.as_u64().unwrap() as usize).collect()
                }),
                initial_id: case
                    .get("initial_last_event_id")
                    .map_or_else(String::new, text),
                events: case["expected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        Message::new(text(&e["type"]), text(&e["data"]), text(&e["lastEventId"]))
                    })
                    .collect(),
                last_event_id: text(&case["expected_last_event_id_at_eof"]),
                retry_ms: case
                    .get("retry_ambiguous")
                    .is_none()
                    .then(|| case["expected_retry_ms"].as_u64()),
            }
        })
        .collect()
}

fn check(case: &Case, how: &str, parsed: &Parsed) {
    let name = &case.name;
    assert_eq!(parsed.events, case.events, "{name} ({how}): events");
    assert_eq!(
        parsed.last_event_id, case.last_event_id,
        "{name} ({how}): last event id"
    );
    if let Some(retry_ms) = case.retry_ms {
        let last = parsed.retries.last().map(|r| r.as_millis() as u64);
        assert_eq!(last, retry_ms, "{name} ({how}): retry");
    }
}

/// The stream cut at `sizes`, the rest in a last chunk.
fn cut<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    for &size in sizes {
        let (head, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}

#[test]
fn parse_vectors_whole() {
    for case in cases() {
        check(&case, "whole", &parse(&case.bytes, &case.initial_id));
    }
}

#[test]
fn parse_vectors_in_their_chunks() {
    let mut chunked = 0;
    for case in cases() {
        if let Some(sizes) = &case.chunk_sizes {
            let parsed = parse_chunks(cut(&case.bytes, sizes), &case.initial_id);
            check(&case, "chunked", &parsed);
            chunked += 1;
        }
    }
    assert_eq!(chunked, 4);
}

#[test]
fn parse_vectors_byte_by_byte() {
    for case in cases() {
        let parsed = parse_chunks(case.bytes.chunks(1), &case.initial_id);
        check(&case, "byte by byte", &parsed);
    }
}

#[test]
fn a_ten_megabyte_line_in_a_million_chunks_is_linear() {
    // Quadratic rescanning would take hours here; linear takes milliseconds.
    let mut parser = Parser::new();
    parser.feed(b"data: ").unwrap();
    let piece = [b'x'; 10];
    for _ in 0..1_000_000 {
        parser.feed(&piece).unwrap();
    }
    parser.feed(b"\n\n").unwrap();
    let Some(Item::Message(message)) = parser.next_item() else {
        panic!("no event")
    };
    assert_eq!(message.data.len(), 10_000_000);
}

#[test]
fn a_million_tiny_events_in_tiny_chunks() {
    let stream = b"data:1\n\n".repeat(1_000_000);
    let mut parser = Parser::new();
    let mut count = 0;
    for chunk in stream.chunks(3) {
        parser.feed(chunk).unwrap();
        while parser.next_item().is_some() {
            count += 1;
        }
    }
    assert_eq!(count, 1_000_000);
}

#[test]
fn a_line_over_the_limit_fails_loudly_and_keeps_what_came_before() {
    let mut parser = Parser::new().max_line_len(16);
    let err = parser.feed(b"data: ok\n\n: a comment that is far too long\n");
    assert_eq!(err, Err(ParseError::LineTooLong { limit: 16 }));
    assert_eq!(
        parser.next_item(),
        Some(Item::Message(Message::new("message", "ok", "")))
    );
    assert_eq!(parser.next_item(), None);
    // Poisoned: no silent resynchronisation on a later chunk.
    assert_eq!(
        parser.feed(b"data: x\n\n"),
        Err(ParseError::LineTooLong { limit: 16 })
    );
}

#[test]
fn a_line_over_the_limit_across_chunks_fails() {
    let mut parser = Parser::new().max_line_len(16);
    parser.feed(b"data: 0123456789").unwrap();
    assert_eq!(
        parser.feed(b"X"),
        Err(ParseError::LineTooLong { limit: 16 })
    );
}

#[test]
fn an_event_over_the_limit_fails() {
    let mut parser = Parser::new().max_event_size(8);
    parser.feed(b"data: 1234\n").unwrap();
    assert_eq!(
        parser.feed(b"data: 5678\n"),
        Err(ParseError::EventTooLarge { limit: 8 })
    );
}

#[test]
fn retry_digits_only_with_leading_zeros_and_no_overflow() {
    let parsed = parse(
        b"retry: 03000\nretry: +1\nretry: 1_0\nretry: \xd9\xa1\n",
        "",
    );
    assert_eq!(parsed.retries, [std::time::Duration::from_millis(3000)]);
    let huge = parse(b"retry: 99999999999999999999999999\n", "");
    assert_eq!(huge.retries, [std::time::Duration::from_millis(u64::MAX)]);
    let padded = parse(b"retry: 00000000000000000000000000042\n", "");
    assert_eq!(padded.retries, [std::time::Duration::from_millis(42)]);
}

/// Streams rich in what parsers get wrong: line endings of every kind, colons,
/// BOMs, NUL, split UTF-8, field names and invalid bytes.
fn streams() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just("€".as_bytes().to_vec()),
        Just(b"\xF0\x9F".to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"data".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry".to_vec()),
        Just(b"123".to_vec()),
        prop::collection::vec(any::<u8>(), 0..6),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// However a stream is cut into chunks, the parse is the same.
    #[test]
    fn chunking_never_changes_the_parse(
        stream in streams(),
        cuts in prop::collection::vec(0usize..8, 0..16),
    ) {
        let whole = parse(&stream, "seed");
        let chunked = parse_chunks(cut(&stream, &cuts), "seed");
        prop_assert_eq!(&whole, &chunked);
        let bytes = parse_chunks(stream.chunks(1), "seed");
        prop_assert_eq!(whole, bytes);
    }

    /// Any bytes at all: no panic, and every event's id is a committed one
    /// without NUL.
    #[test]
    fn arbitrary_bytes_never_panic(stream in prop::collection::vec(any::<u8>(), 0..512)) {
        let parsed = parse(&stream, "");
        for event in &parsed.events {
            prop_assert!(!event.last_event_id.contains('\0'));
            prop_assert!(!event.event.is_empty());
        }
    }
}
