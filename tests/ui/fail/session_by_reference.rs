use sse_runtime::sse;

#[sse("/events")]
async fn events(session: &EventsSession) {
    let _ = session;
}

fn main() {}
