use sse_runtime::sse;

#[derive(serde::Serialize)]
struct ChatEvent {
    text: String,
}

#[sse("/chat", serializer = Json, events(ChatEvent = "message"))]
async fn chat(session: ChatSession) {
    let _ = session.send(ChatEvent { text: "hi".into() }).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(chat);
}
