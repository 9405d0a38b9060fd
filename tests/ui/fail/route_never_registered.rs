#![deny(dead_code)]

use sse_runtime::sse;

#[sse("/events", serializer = Json, events(u32 = "count"))]
async fn events(session: EventsSession) {
    let _ = session.send(1u32).await;
}

#[sse("/registered")]
async fn registered(session: RegisteredSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(registered);
}
