use sse_runtime::sse;

#[sse("/a", "/b")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
