use sse_runtime::sse;

#[sse("/events", retry = "1s", retry = "2s")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
