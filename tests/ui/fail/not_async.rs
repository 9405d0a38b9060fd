use sse_runtime::sse;

#[sse("/events")]
fn events(session: EventsSession) {
    session.close();
}

fn main() {}
