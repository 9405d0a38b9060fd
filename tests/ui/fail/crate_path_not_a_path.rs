use sse_runtime::sse;

#[sse("/events", crate = "sse runtime")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
