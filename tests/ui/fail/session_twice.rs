use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventsSession, again: EventsSession) {
    let _ = (session, again);
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
