//! The llm example (`examples/llm.rs`) as the official OpenAI and Anthropic
//! Python SDKs read it: what each client reports, and what `/stats` says the
//! server did. The SDKs come from `tests/clients/requirements.txt` (pinned;
//! `.ci/run` installs them); without them each test is skipped with a
//! notice, and `SSE_REQUIRE_SDK=1` makes that a failure.

mod support;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use support::example::Example;
use support::http::{get, post_json_text, request, text};
use support::sdk;

fn start() -> Example {
    Example::start_with("llm", 0, &[("TOKEN_MS", OsStr::new("20"))])
}

async fn stats(addr: SocketAddr) -> Vec<Value> {
    let (status, _, body) = text(request(addr, get(addr, "/stats", &[])).await).await;
    assert_eq!(status, 200);
    let stats: Value = serde_json::from_str(&body).unwrap();
    stats["streams"].as_array().unwrap().clone()
}

/// Waits (a little) for the last stream to have ended, and returns it.
async fn last_ended(addr: SocketAddr) -> Value {
    for _ in 0..100 {
        let last = stats(addr).await.pop().unwrap();
        if last["state"] != "running" {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the last stream still runs");
}

#[tokio::test]
async fn the_openai_sdk_streams_a_chat_completion_and_sees_bad_requests_as_its_errors() {
    let Some(python) = sdk::python("llm: OpenAI SDK") else {
        return;
    };
    let example = start();
    let addr = example.addr;
    let base = format!("http://{addr}/v1");
    let run = |case| sdk::run(&python, "openai_client.py", &[&base, case]);

    let streamed = run("stream");
    assert_eq!(streamed["text"], "four three two one ");
    assert_eq!(
        streamed["roles"],
        json!(["assistant"]),
        "the first chunk's role"
    );
    assert_eq!(
        streamed["finish_reasons"],
        json!([null, null, null, null, "stop"])
    );
    assert_eq!(streamed["objects"], json!(["chat.completion.chunk"]));
    assert_eq!(streamed["models"], json!(["echo"]));
    assert_eq!(
        streamed["ids"].as_array().unwrap().len(),
        1,
        "one id per stream"
    );
    let last = last_ended(addr).await;
    assert_eq!(
        (&last["state"], &last["sent"], &last["words"]),
        (&json!("completed"), &json!(4), &json!(4))
    );
    assert_eq!(last["endpoint"], "/v1/chat/completions");
    assert!(last["ended"].as_f64().unwrap() >= last["started"].as_f64().unwrap());

    let whole = run("whole");
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(whole["text"], "four three two one ");
    assert_eq!(whole["finish_reason"], "stop");

    let streams_before = stats(addr).await.len();
    for refused in run("bad").as_array().unwrap() {
        assert_eq!(refused["status"], 400, "{refused}");
        assert_eq!(refused["type"], "invalid_request_error", "{refused}");
    }
    let params: Vec<Value> = run("bad")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["param"].clone())
        .collect();
    assert_eq!(
        params,
        json!(["model", "messages", "messages", "messages", "stream"])
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(
        stats(addr).await.len(),
        streams_before,
        "a refused request starts no stream"
    );

    // What the SDK cannot send: a body that is not JSON, or not an object.
    for body in ["not json", "[1, 2]"] {
        let (status, answer) = post_json_text(addr, "/v1/chat/completions", body).await;
        assert_eq!(status, 400, "{body}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["error"]["type"], "invalid_request_error");
        assert_eq!(answer["error"]["param"], Value::Null);
    }
    example.interrupt();
}

#[tokio::test]
async fn a_client_that_closes_early_stops_its_generation_at_once() {
    let Some(python) = sdk::python("llm: early close") else {
        return;
    };
    let example = start();
    let addr = example.addr;
    for (script, base, endpoint) in [
        (
            "openai_client.py",
            format!("http://{addr}/v1"),
            "/v1/chat/completions",
        ),
        (
            "anthropic_client.py",
            format!("http://{addr}"),
            "/v1/messages",
        ),
    ] {
        let got = sdk::run(&python, script, &[&base, "early-close"]);
        assert_eq!(got["got"], json!(["99 ", "98 ", "97 "]), "{script}");
        let last = last_ended(addr).await;
        assert_eq!(last["endpoint"], endpoint);
        assert_eq!(last["state"], "cancelled", "{script}: {last}");
        assert_eq!(last["words"], 100);
        // Three read, at most one more made before the close was seen.
        let sent = last["sent"].as_u64().unwrap();
        assert!((3..=4).contains(&sent), "{script}: {sent} tokens made");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let later = stats(addr).await.pop().unwrap();
        assert_eq!(later["sent"], last["sent"], "{script}: nothing made after");
    }
    example.interrupt();
}

#[tokio::test]
async fn the_anthropic_sdk_streams_a_message_and_sees_bad_requests_as_its_errors() {
    let Some(python) = sdk::python("llm: Anthropic SDK") else {
        return;
    };
    let example = start();
    let addr = example.addr;
    let base = format!("http://{addr}");
    let run = |case| sdk::run(&python, "anthropic_client.py", &[&base, case]);

    // Text blocks joined by spaces, reversed word by word.
    let streamed = run("stream");
    assert_eq!(streamed["text"], "four three two one ");
    assert_eq!(streamed["final_text"], "four three two one ");
    assert_eq!(streamed["stop_reason"], "end_turn");
    assert_eq!(streamed["role"], "assistant");
    assert_eq!(streamed["output_tokens"], 4);
    // The SDK yields every event but `ping`, which it reads and drops.
    assert_eq!(
        run("events"),
        json!([
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ])
    );
    let last = last_ended(addr).await;
    assert_eq!(
        (&last["state"], &last["endpoint"]),
        (&json!("completed"), &json!("/v1/messages"))
    );
    assert_eq!(
        run("whole"),
        json!({"text": "four three two one ", "stop_reason": "end_turn"})
    );
    for refused in run("bad").as_array().unwrap() {
        assert_eq!(refused["status"], 400, "{refused}");
        assert_eq!(refused["type"], "invalid_request_error", "{refused}");
    }
    example.interrupt();
}

/// The wire itself, for what the SDKs hide: Chat Completions events are
/// unnamed and end with `data: [DONE]` and the response; Messages sends a
/// `ping`, and names each event as its data's `type`.
#[tokio::test]
async fn the_streams_are_framed_as_each_api_frames_them() {
    let example = start();
    let addr = example.addr;
    let said = r#"{"model": "m", "stream": true, "max_tokens": 9, "messages": [{"role": "user", "content": "a b"}]}"#;
    let (status, chat) = post_json_text(addr, "/v1/chat/completions", said).await;
    assert_eq!(status, 200);
    assert!(
        !chat.contains("event:") && !chat.contains("retry:"),
        "{chat}"
    );
    assert!(chat.ends_with("data: [DONE]\n\n"), "{chat}");
    let (status, messages) = post_json_text(addr, "/v1/messages", said).await;
    assert_eq!(status, 200);
    assert!(
        messages.contains("event: ping\ndata: {\"type\":\"ping\"}\n\n"),
        "{messages}"
    );
    for block in messages.split("\n\n").filter(|b| !b.is_empty()) {
        let name = block
            .strip_prefix("event: ")
            .unwrap()
            .split('\n')
            .next()
            .unwrap();
        assert!(block.contains(&format!("\"type\":\"{name}\"")), "{block}");
    }
    example.interrupt();
}
