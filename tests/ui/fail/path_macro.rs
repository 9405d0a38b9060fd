use sse_runtime::sse;

#[sse(concat!("/api", "/events"))]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
