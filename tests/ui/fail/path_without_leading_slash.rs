use sse_runtime::sse;

#[sse("events")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
