use sse_runtime::{sse, Event, Session};

#[sse("/events")]
async fn events(session: Session) -> Result<(), sse_runtime::Error> {
    session.send(Event::new().data("hello")).await?;
    session.closed().await;
    Ok(())
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
