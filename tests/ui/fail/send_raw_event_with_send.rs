use sse_runtime::{sse, Event};

#[derive(serde::Serialize)]
struct Tick(u64);

#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    session.send(Event::new().data("raw")).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(ticks);
}
