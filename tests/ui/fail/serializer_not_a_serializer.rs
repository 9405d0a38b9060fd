use std::time::Duration;

use sse_runtime::sse;

// Nothing is sent: the serializer is still checked.
#[sse("/events", serializer = Duration)]
async fn events(session: EventsSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
