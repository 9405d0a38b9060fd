use sse_runtime::{sse, Server};

#[sse("/events", method = [])]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(events);
}
