use sse_runtime::{sse, Server};

#[sse("/events", serializer = std::time::Duration)]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(events);
}
