use std::sync::Arc;

use sse_runtime::sse;

#[sse("/events")]
async fn events(session: Arc<EventsSession>) {
    let shared = Arc::clone(&session);
    shared.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
