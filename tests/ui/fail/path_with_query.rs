use sse_runtime::sse;

#[sse("/rooms/{room}?since=0")]
async fn events(session: EventsSession, room: String) {
    let _ = room;
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
