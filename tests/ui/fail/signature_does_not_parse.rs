use sse_runtime::sse;

#[sse("/events", heartbeat = "5s")]
pub async fn events(session: EventsSession, last) {
    let _ = session.send(1u32).await;
}

fn main() {
    let _: EventsRoute = events();
    let _ = sse_runtime::Server::new().route(events);
}
