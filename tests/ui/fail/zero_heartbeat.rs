use sse_runtime::sse;

#[sse("/events", heartbeat = "0s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
