use sse_runtime::{sse, Server};

#[sse("/events", method = "post")]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(events);
}
