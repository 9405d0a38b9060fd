use sse_runtime::client::EventSource;
use sse_runtime::sse;

#[derive(serde::Serialize, serde::Deserialize)]
struct Tick {
    n: u64,
}

#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
async fn ticks(session: TicksSession) {
    let _ = session.send(Tick { n: 1 }).await;
}

fn main() -> Result<(), sse_runtime::client::ClientError> {
    let _ = sse_runtime::Server::new().route(ticks);
    let _ticks = EventSource::builder("http://127.0.0.1:8080/ticks")
        .build()?
        .typed::<TicksSession>();
    Ok(())
}
