use sse_runtime::client::EventSource;
use sse_runtime::sse;

// Serialize only: the server can send it, a typed client cannot decode it.
#[derive(serde::Serialize)]
struct Tick {
    n: u64,
}

#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    session.send(Tick { n: 1 }).await
}

fn main() {
    let source = EventSource::builder("http://127.0.0.1:8080/ticks").build().unwrap();
    let _typed = source.typed::<TicksRoute>();
}
