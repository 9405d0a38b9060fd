use sse_runtime::sse;

#[sse("/events", serializer = Jsno)]
async fn events(session: EventsSession) {
    session.close();
}

fn main() {}
