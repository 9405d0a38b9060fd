//! The encoder against the vendored conformance vectors, and property tests:
//! whatever the input, either a typed error or bytes that the project's
//! conforming client parser reads back as exactly that input.

mod support;

use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use sse_runtime::client::Message;
use sse_runtime::{Encoder, Event};
use support::parser::parse;

fn event_from(input: &Value) -> Event {
    let mut event = Event::new();
    let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(data) = text("data") {
        event = event.data(data);
    }
    if let Some(name) = text("event") {
        event = event.event(name);
    }
    if let Some(id) = text("id") {
        event = event.id(id);
    }
    if let Some(comment) = text("comment") {
        event = event.comment(comment);
    }
    if let Some(retry) = input.get("retry").and_then(Value::as_f64) {
        event = event.retry(Duration::from_secs_f64(retry / 1000.0));
    }
    event
}

#[test]
fn encoder_conformance_vectors() {
    let cases = support::conformance("encoder_cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 33);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        // This encoder normalizes CR and CRLF in data (and splits comments),
        // so those cases' normalizing outcome applies.
        let expected = case
            .get("expected_if_normalizing_newlines")
            .unwrap_or(&case["expected"]);
        let wire = case.get("wire_if_normalizing").or(case.get("wire"));
        let encoded = event_from(&case["input"]).to_bytes();
        match expected["outcome"].as_str().unwrap() {
            "reject" => assert!(
                encoded.is_err(),
                "{name}: must be rejected, got {encoded:?}"
            ),
            outcome => {
                let bytes = encoded.unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
                let text = std::str::from_utf8(&bytes).unwrap();
                assert_eq!(Some(text), wire.and_then(Value::as_str), "{name}: wire");
                let prior = case.get("prior_last_event_id").and_then(Value::as_str);
                let parsed = parse(text.as_bytes(), prior.unwrap_or(""));
                if outcome == "no-dispatch" {
                    assert!(
                        parsed.events.is_empty(),
                        "{name}: dispatched {:?}",
                        parsed.events
                    );
                } else {
                    let want = Message::new(
                        expected["type"].as_str().unwrap(),
                        expected["data"].as_str().unwrap(),
                        expected["lastEventId"].as_str().unwrap(),
                    );
                    assert_eq!(parsed.events, vec![want], "{name}: dispatched");
                }
            }
        }
    }
}

fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn id_is_valid(id: &str) -> bool {
    let edge = |c: Option<char>| matches!(c, Some(' ' | '\t'));
    !id.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
        && !edge(id.chars().next())
        && !edge(id.chars().last())
}

/// Strings rich in what breaks encoders: line breaks, colons, spaces, NUL,
/// control bytes, BOMs and other Unicode.
fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just(":".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\0".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("data: x".to_owned()),
        Just("event: admin".to_owned()),
        "[a-z]{1,4}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

#[derive(Debug, Clone)]
struct Input {
    data: Option<String>,
    name: Option<String>,
    id: Option<String>,
    comment: Option<String>,
    retry: Option<Duration>,
}

fn inputs() -> impl Strategy<Value = Input> {
    let retry = prop_oneof![
        (0u64..=u32::MAX as u64).prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_micros),
    ];
    (
        prop::option::of(tricky()),
        prop::option::of(tricky()),
        prop::option::of(tricky()),
        prop::option::of(tricky()),
        prop::option::of(retry),
    )
        .prop_map(|(data, name, id, comment, retry)| Input {
            data,
            name,
            id,
            comment,
            retry,
        })
}

fn build(input: &Input) -> Event {
    let mut event = Event::new();
    if let Some(data) = &input.data {
        event = event.data(data.clone());
    }
    if let Some(name) = &input.name {
        event = event.event(name.clone());
    }
    if let Some(id) = &input.id {
        event = event.id(id.clone());
    }
    if let Some(comment) = &input.comment {
        event = event.comment(comment.clone());
    }
    if let Some(retry) = input.retry {
        event = event.retry(retry);
    }
    event
}

fn should_reject(input: &Input) -> bool {
    let name_bad = input
        .name
        .as_deref()
        .is_some_and(|n| n.contains(['\r', '\n']));
    let id_bad = input.id.as_deref().is_some_and(|id| !id_is_valid(id));
    let retry_bad = input
        .retry
        .is_some_and(|r| r.subsec_nanos() % 1_000_000 != 0 || r > sse_runtime::event::MAX_RETRY);
    name_bad || id_bad || retry_bad
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_event_is_rejected_or_parses_back_exactly(input in inputs()) {
        let encoded = build(&input).to_bytes();
        let Ok(bytes) = encoded else {
            prop_assert!(should_reject(&input), "valid input rejected: {encoded:?}");
            return Ok(());
        };
        prop_assert!(!should_reject(&input), "invalid input accepted");
        let text = std::str::from_utf8(&bytes).unwrap();
        // Every event ends with a blank line; an event with no field at all is
        // just that blank line.
        prop_assert!(text.ends_with("\n\n") || text == "\n");
        let parsed = parse(text.as_bytes(), "before");

        // Never an extra field: an injected `id`, `retry`, `event` or `data`
        // would show in the id, the retries, or the one event checked below.
        let last_event_id = input.id.clone().unwrap_or_else(|| "before".to_owned());
        prop_assert_eq!(&parsed.last_event_id, &last_event_id);
        prop_assert_eq!(parsed.retries, input.retry.into_iter().collect::<Vec<_>>());
        // Comment lines, as the parser reports them (one leading space removed).
        let comment_lines = input.comment.as_deref().map(|c| {
            normalize_newlines(c).split('\n').map(str::to_owned).collect::<Vec<_>>()
        });
        prop_assert_eq!(parsed.comments, comment_lines.unwrap_or_default());

        // Never an extra event: one when there is data, none otherwise.
        let want: Vec<Message> = input.data.iter().map(|data| Message::new(
            match input.name.as_deref() {
                None | Some("") => "message",
                Some(name) => name,
            },
            normalize_newlines(data),
            last_event_id.clone(),
        )).collect();
        prop_assert_eq!(parsed.events, want);
    }

    #[test]
    fn consecutive_events_stay_separate(first in inputs(), second in inputs()) {
        let mut encoder = Encoder::new();
        let (Ok(a), Ok(b)) = (encoder.encode(&build(&first)), encoder.encode(&build(&second))) else {
            return Ok(());
        };
        let both = [&a[..], &b[..]].concat();
        let parsed = parse(&both, "");
        let alone = |bytes: &[u8]| parse(bytes, "").events.len();
        prop_assert_eq!(parsed.events.len(), alone(&a) + alone(&b));
    }
}
