use sse_runtime::sse;

#[sse("/events")]
const async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
