use sse_runtime::sse;

const EVENTS_PATH: &str = "/events";

#[sse(EVENTS_PATH, heartbeat = "5s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {
    let _ = (EVENTS_PATH, sse_runtime::Server::new().route(events));
}
