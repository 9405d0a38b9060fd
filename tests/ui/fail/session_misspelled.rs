use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventSession) {
    let _ = session.send(1u32).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
