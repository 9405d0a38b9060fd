use sse_runtime::sse;

#[sse("/events", crate = "sse runtime")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
