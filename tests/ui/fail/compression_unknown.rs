use sse_runtime::sse;

#[sse("/events", compression = "br")]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
