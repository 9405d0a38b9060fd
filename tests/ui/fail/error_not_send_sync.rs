use std::error::Error;

use sse_runtime::sse;

#[sse("/events")]
async fn events(session: EventsSession) -> Result<(), Box<dyn Error>> {
    session.send(1u32).await?;
    let count: u32 = "12".parse()?;
    session.send(count).await?;
    Err("done".into())
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
