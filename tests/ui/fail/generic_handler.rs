use sse_runtime::sse;

#[sse("/events")]
async fn events<T: Default>(session: EventsSession) {
    let _ = T::default();
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
