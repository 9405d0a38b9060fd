use sse_runtime::extract::Json;
use sse_runtime::{sse, Server};

#[derive(serde::Deserialize)]
struct Prompt {
    text: String,
}

#[sse("/complete", method = "POST")]
async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>, raw: String) {
    let _ = (session, prompt.text, raw);
}

fn main() {
    let _ = Server::new().route(complete);
}
