use sse_runtime::sse;

#[sse("/events", retry = "1s", retry = "2s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
