use sse_runtime::sse;

#[sse(heartbeat = "1s", "/events")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route_at("/x", events);
}
