//! A stream answered to a `POST`, as LLM APIs serve them: at
//! `/v1/completions`, a JSON prompt is answered with one event per word, or,
//! with `"stream": false`, with one JSON object.
//!
//! ```sh
//! cargo run --example completions
//! curl -N -d '{"prompt": "hello there world"}' -H 'content-type: application/json' \
//!     http://127.0.0.1:8080/v1/completions
//! ```

mod common;

use std::time::Duration;

use sse_runtime::extract::Json;
use sse_runtime::route::Answer;
use sse_runtime::{sse, Server};

#[derive(serde::Deserialize)]
struct Completion {
    prompt: String,
    #[serde(default = "streamed")]
    stream: bool,
}

fn streamed() -> bool {
    true
}

#[derive(serde::Serialize)]
struct Token {
    text: String,
}

// The client leaving drops the handler at once: no word for nobody.
#[sse("/v1/completions", method = "POST", serializer = Json, events(Token), handler_grace = "0s")]
async fn completions(
    session: CompletionsSession,
    Json(request): Json<Completion>,
) -> Result<(), sse_runtime::Error> {
    if !request.stream {
        let text = request.prompt.to_uppercase();
        return session.answer(Answer::json(&serde_json::json!({ "text": text })));
    }
    for word in request.prompt.split_whitespace() {
        session
            .send(Token {
                text: word.to_uppercase(),
            })
            .await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (listener, addr) = common::listen().await?;
    println!("listening on http://{addr}");
    println!(
        "try: curl -N -d '{{\"prompt\": \"hello there\"}}' -H 'content-type: application/json' \
         http://{addr}/v1/completions"
    );
    Server::new()
        .route(completions)
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
        .serve_on(listener)
        .await?;
    println!("stopped");
    Ok(())
}
