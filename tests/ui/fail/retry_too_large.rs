use sse_runtime::sse;

#[sse("/events", retry = "1000h")]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
