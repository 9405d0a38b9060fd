use sse_runtime::{sse, Server};

#[sse("/events", methods = ["GET", "POST"])]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(events);
}
