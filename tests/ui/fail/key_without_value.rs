use sse_runtime::sse;

#[sse("/events", serializer)]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
