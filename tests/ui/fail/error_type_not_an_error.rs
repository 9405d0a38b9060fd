use sse_runtime::sse;

struct Oops;

#[sse("/events")]
async fn events(session: EventsSession) -> Result<(), Oops> {
    session.close();
    Err(Oops)
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
