//! An OpenAI- and Anthropic-compatible streaming server, with a
//! deterministic generator instead of a model: the reply to a request is the
//! words of its last `user` message in reverse order, one word per token,
//! each followed by a space, one token every `TOKEN_MS` milliseconds (50).
//!
//! ```sh
//! cargo run --example llm                 # port as first argument or PORT, default 8080
//! curl -N http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
//!     -d '{"model": "echo", "stream": true, "messages": [{"role": "user", "content": "one two three"}]}'
//! curl -N http://127.0.0.1:8080/v1/messages -H 'content-type: application/json' \
//!     -d '{"model": "echo", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "one two three"}]}'
//! curl http://127.0.0.1:8080/stats
//! ```
//!
//! - `POST /v1/chat/completions` (OpenAI's Chat Completions): with
//!   `"stream": true`, unnamed `data:` events, each a `chat.completion.chunk`
//!   (the first with `"role": "assistant"`), a last one with
//!   `"finish_reason": "stop"`, then `data: [DONE]`; without, one
//!   `chat.completion` object.
//! - `POST /v1/messages` (Anthropic's Messages): with `"stream": true`, the
//!   named events `message_start`, `content_block_start`, `ping`, a
//!   `content_block_delta` per word, `content_block_stop`, `message_delta`,
//!   `message_stop`; without, one `message` object.
//! - A bad request is a `400` with each API's own error body, never a stream.
//! - A client that leaves stops its generation at once; `GET /stats` shows
//!   every stream: its words, how many were sent, and whether it ran to the
//!   end or was cancelled.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};
use sse_runtime::extract::State;
use sse_runtime::route::Answer;
use sse_runtime::{sse, Event, Server};

/// Which API a request came to: they read the same request, and refuse a
/// bad one each in its own words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum Api {
    #[serde(rename = "/v1/chat/completions")]
    OpenAi,
    #[serde(rename = "/v1/messages")]
    Anthropic,
}

/// A request the generator can answer.
struct Prompt {
    model: String,
    /// The reply, one token each.
    words: Vec<String>,
    stream: bool,
}

/// Why a request cannot be answered: a message, and the field at fault.
struct Bad {
    message: &'static str,
    param: Option<&'static str>,
}

fn bad(message: &'static str, param: Option<&'static str>) -> Bad {
    Bad { message, param }
}

/// Reads what both APIs share: `model`, `messages` (the reply is the last
/// `user` message's words, reversed) and `stream`; and `max_tokens`, which
/// Messages requires.
fn read_prompt(body: &[u8], api: Api) -> Result<Prompt, Bad> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad("the body is not JSON", None))?;
    let Value::Object(request) = value else {
        return Err(bad("the body is not a JSON object", None));
    };
    let model = match request.get("model") {
        Some(Value::String(model)) if !model.is_empty() => model.clone(),
        _ => return Err(bad("`model` must be a non-empty string", Some("model"))),
    };
    let stream = match request.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(_) => return Err(bad("`stream` must be a boolean", Some("stream"))),
    };
    if api == Api::Anthropic {
        match request.get("max_tokens") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n >= 1) => {}
            _ => {
                return Err(bad(
                    "`max_tokens` must be a positive integer",
                    Some("max_tokens"),
                ))
            }
        }
    }
    let messages = match request.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        _ => {
            return Err(bad(
                "`messages` must be a non-empty array",
                Some("messages"),
            ))
        }
    };
    let last_user = messages
        .iter()
        .rev()
        .find(|message| message.get("role").and_then(Value::as_str) == Some("user"))
        .ok_or(bad("`messages` has no `user` message", Some("messages")))?;
    let text = match last_user.get("content") {
        Some(Value::String(text)) => text.clone(),
        // Content blocks: the text of the text blocks, joined by spaces.
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let words: Vec<String> = text
        .split_whitespace()
        .rev()
        .map(|w| format!("{w} "))
        .collect();
    if words.is_empty() {
        return Err(bad(
            "the last `user` message has no words",
            Some("messages"),
        ));
    }
    Ok(Prompt {
        model,
        words,
        stream,
    })
}

/// A `400` in the API's own error format.
fn refuse(api: Api, bad: Bad) -> Answer {
    let body = match api {
        Api::OpenAi => json!({
            "error": {
                "message": bad.message,
                "type": "invalid_request_error",
                "param": bad.param,
                "code": null,
            }
        }),
        Api::Anthropic => json!({
            "type": "error",
            "error": { "type": "invalid_request_error", "message": bad.message },
        }),
    };
    Answer::json(&body).status_code(StatusCode::BAD_REQUEST)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// Every stream served, for `GET /stats`.
#[derive(Clone, Default)]
struct Streams(Arc<Mutex<Vec<Stream>>>);

#[derive(Clone, Serialize)]
struct Stream {
    id: String,
    endpoint: Api,
    words: usize,
    sent: usize,
    state: &'static str,
    started: f64,
    ended: Option<f64>,
}

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Stream>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a new stream; its [`Tracked`] says how it goes.
    fn start(&self, endpoint: Api, words: usize) -> Tracked {
        let mut streams = self.lock();
        let index = streams.len();
        let id = match endpoint {
            Api::OpenAi => format!("chatcmpl-{index}"),
            Api::Anthropic => format!("msg_{index}"),
        };
        streams.push(Stream {
            id: id.clone(),
            endpoint,
            words,
            sent: 0,
            state: "running",
            started: now(),
            ended: None,
        });
        Tracked {
            streams: self.clone(),
            index,
            id,
        }
    }
}

/// One stream's record. Dropped before [`complete`](Self::complete) (the
/// client left, so the handler was dropped), it is `cancelled`.
struct Tracked {
    streams: Streams,
    index: usize,
    id: String,
}

impl Tracked {
    fn sent(&self) {
        self.streams.lock()[self.index].sent += 1;
    }

    /// A whole answer: every word sent at once.
    fn answered(&self) {
        let mut streams = self.streams.lock();
        streams[self.index].sent = streams[self.index].words;
        drop(streams);
        self.complete();
    }

    fn complete(&self) {
        let mut streams = self.streams.lock();
        streams[self.index].state = "completed";
        streams[self.index].ended = Some(now());
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut streams = self.streams.lock();
        let stream = &mut streams[self.index];
        if stream.state == "running" {
            stream.state = "cancelled";
            stream.ended = Some(now());
        }
    }
}

/// What the handlers share: the stream records and the token interval.
#[derive(Clone, sse_runtime::extract::FromRef)]
struct App {
    streams: Streams,
    token: Pace,
}

/// The time between two tokens.
#[derive(Clone, Copy)]
struct Pace(Duration);

/// A `chat.completion.chunk`: an unnamed event whose data is this JSON.
#[derive(Serialize)]
struct Chunk {
    id: String,
    object: &'static str,
    created: u64,
    model: String,
    choices: [Choice; 1],
}

#[derive(Serialize)]
struct Choice {
    index: u32,
    delta: Value,
    finish_reason: Option<&'static str>,
    logprobs: Option<()>,
}

// The client leaving drops the handler at once (`handler_grace = "0s"`): no
// token is made for nobody. No `retry:` and no named events: the OpenAI
// SDK parses every event's data as JSON.
#[sse(
    "/v1/chat/completions",
    method = "POST",
    serializer = Json,
    events(Chunk),
    handler_grace = "0s"
)]
async fn chat_completions(
    session: ChatCompletionsSession,
    body: Bytes,
    streams: State<Streams>,
    pace: State<Pace>,
) -> Result<(), sse_runtime::Error> {
    let prompt = match read_prompt(&body, Api::OpenAi) {
        Ok(prompt) => prompt,
        Err(why) => return session.answer(refuse(Api::OpenAi, why)),
    };
    let tracked = streams.0.start(Api::OpenAi, prompt.words.len());
    let created = now() as u64;
    if !prompt.stream {
        let text: String = prompt.words.concat();
        tracked.answered();
        return session.answer(Answer::json(&json!({
            "id": tracked.id,
            "object": "chat.completion",
            "created": created,
            "model": prompt.model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": text, "refusal": null },
                "finish_reason": "stop",
                "logprobs": null,
            }],
            "usage": {
                "prompt_tokens": 0,
                "completion_tokens": prompt.words.len(),
                "total_tokens": prompt.words.len(),
            },
        })));
    }
    let chunk = |delta: Value, finish_reason| Chunk {
        id: tracked.id.clone(),
        object: "chat.completion.chunk",
        created,
        model: prompt.model.clone(),
        choices: [Choice {
            index: 0,
            delta,
            finish_reason,
            logprobs: None,
        }],
    };
    for (i, word) in prompt.words.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pace.0 .0).await;
        }
        let delta = match i {
            0 => json!({ "role": "assistant", "content": word }),
            _ => json!({ "content": word }),
        };
        session.send(chunk(delta, None)).await?;
        tracked.sent();
    }
    session.send(chunk(json!({}), Some("stop"))).await?;
    session.send_event(Event::new().data("[DONE]")).await?;
    tracked.complete();
    Ok(())
}

/// The Messages stream's events: each is named, in the attribute, as its
/// data's `type` (serde writes the tag).
#[derive(Serialize)]
#[serde(tag = "type", rename = "message_start")]
struct MessageStart {
    message: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename = "content_block_start")]
struct ContentBlockStart {
    index: u32,
    content_block: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename = "ping")]
struct Ping {}

#[derive(Serialize)]
#[serde(tag = "type", rename = "content_block_delta")]
struct ContentBlockDelta {
    index: u32,
    delta: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename = "content_block_stop")]
struct ContentBlockStop {
    index: u32,
}

#[derive(Serialize)]
#[serde(tag = "type", rename = "message_delta")]
struct MessageDelta {
    delta: Value,
    usage: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename = "message_stop")]
struct MessageStop {}

#[sse(
    "/v1/messages",
    method = "POST",
    serializer = Json,
    events(
        MessageStart = "message_start",
        ContentBlockStart = "content_block_start",
        Ping = "ping",
        ContentBlockDelta = "content_block_delta",
        ContentBlockStop = "content_block_stop",
        MessageDelta = "message_delta",
        MessageStop = "message_stop"
    ),
    handler_grace = "0s"
)]
async fn messages(
    session: MessagesSession,
    body: Bytes,
    streams: State<Streams>,
    pace: State<Pace>,
) -> Result<(), sse_runtime::Error> {
    let prompt = match read_prompt(&body, Api::Anthropic) {
        Ok(prompt) => prompt,
        Err(why) => return session.answer(refuse(Api::Anthropic, why)),
    };
    let tracked = streams.0.start(Api::Anthropic, prompt.words.len());
    let message = |content: Value, stop_reason: Option<&str>, output_tokens: usize| {
        json!({
            "id": tracked.id,
            "type": "message",
            "role": "assistant",
            "content": content,
            "model": prompt.model,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": { "input_tokens": 0, "output_tokens": output_tokens },
        })
    };
    if !prompt.stream {
        let text: String = prompt.words.concat();
        let content = json!([{ "type": "text", "text": text }]);
        tracked.answered();
        let whole = message(content, Some("end_turn"), prompt.words.len());
        return session.answer(Answer::json(&whole));
    }
    let message = message(json!([]), None, 0);
    session.send(MessageStart { message }).await?;
    let content_block = json!({ "type": "text", "text": "" });
    let index = 0;
    session
        .send(ContentBlockStart {
            index,
            content_block,
        })
        .await?;
    session.send(Ping {}).await?;
    for (i, word) in prompt.words.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pace.0 .0).await;
        }
        let delta = json!({ "type": "text_delta", "text": word });
        session.send(ContentBlockDelta { index, delta }).await?;
        tracked.sent();
    }
    session.send(ContentBlockStop { index }).await?;
    let delta = json!({ "stop_reason": "end_turn", "stop_sequence": null });
    let usage = json!({ "output_tokens": prompt.words.len() });
    session.send(MessageDelta { delta, usage }).await?;
    session.send(MessageStop {}).await?;
    tracked.complete();
    Ok(())
}

/// `GET /stats`; anything else is a 404 in OpenAI's error format.
async fn site(
    streams: Streams,
    request: http::Request<sse_runtime::server::RequestBody>,
) -> http::Response<String> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&http::Method::GET, "/stats") => {
            let streams = streams.lock().clone();
            (StatusCode::OK, json!({ "streams": streams }))
        }
        _ => (
            StatusCode::NOT_FOUND,
            json!({ "error": { "message": "not found", "type": "invalid_request_error", "param": null, "code": null } }),
        ),
    };
    let mut response = http::Response::new(body.to_string());
    *response.status_mut() = status;
    let json = http::HeaderValue::from_static("application/json");
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, json);
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token_ms: u64 = match std::env::var("TOKEN_MS") {
        Ok(ms) => ms.parse().map_err(|err| format!("TOKEN_MS: {err}"))?,
        Err(_) => 50,
    };
    let (listener, addr) = common::listen().await?;
    println!("listening on http://{addr}");
    println!("OpenAI:    OPENAI_BASE_URL=http://{addr}/v1 (POST /v1/chat/completions)");
    println!("Anthropic: ANTHROPIC_BASE_URL=http://{addr} (POST /v1/messages)");
    let streams = Streams::default();
    let app = App {
        streams: streams.clone(),
        token: Pace(Duration::from_millis(token_ms)),
    };
    Server::new()
        .with_state(app)
        .route(chat_completions)
        .route(messages)
        .fallback(move |request| site(streams.clone(), request))
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
        .serve_on(listener)
        .await?;
    println!("stopped");
    Ok(())
}
