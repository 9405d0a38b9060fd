use sse_runtime::extract::State;
use sse_runtime::sse;

struct Db {
    connections: u32,
}

#[sse("/events")]
async fn events(session: EventsSession, db: State<Db>) {
    let _ = session.send(db.0.connections).await;
}

fn main() {
    let _ = sse_runtime::Server::new()
        .with_state(Db { connections: 1 })
        .route(events);
}
