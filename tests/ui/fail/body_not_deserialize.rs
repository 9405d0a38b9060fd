use sse_runtime::extract::Json;
use sse_runtime::{sse, Server};

struct Prompt {
    text: String,
}

#[sse("/complete", method = "POST")]
async fn complete(session: CompleteSession, Json(prompt): Json<Prompt>) {
    let _ = (session, prompt.text);
}

fn main() {
    let _ = Server::new().route(complete);
}
