use std::rc::Rc;
use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventsSession) {
    let counter = Rc::new(1);
    session.closed().await;
    let _ = counter;
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
