use sse_runtime::extract::Json;
use sse_runtime::{sse, Server};

#[derive(serde::Deserialize)]
struct Prompt {
    text: String,
}

#[sse("/complete")]
async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>) {
    let _ = (session, prompt.text);
}

fn main() {
    let _ = Server::new().route(complete);
}
