use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventsSession<u32>) {
    let _ = session.send(1u32).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
