use sse_runtime::sse;

#[sse("/events")]
async fn events(self, session: EventsSession) {
    session.close();
}

fn main() {}
