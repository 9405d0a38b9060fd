use sse_runtime::sse;

#[sse(b"/events", heartbeat = "5s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
