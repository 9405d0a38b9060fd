use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventsSession) -> u32 {
    session.close();
    7
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
