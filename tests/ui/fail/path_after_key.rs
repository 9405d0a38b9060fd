use sse_runtime::sse;

#[sse(heartbeat = "1s", "/events")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
