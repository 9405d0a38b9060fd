use sse_runtime::sse;

#[sse("/events", events())]
async fn events(session: EventsSession) -> Result<(), sse_runtime::Error> {
    session.send("any text").await
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
