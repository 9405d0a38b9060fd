use sse_runtime::sse;

#[sse("/events", heartbeat = "0s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
