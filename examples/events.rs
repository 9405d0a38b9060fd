//! Ktor's SSE sample: at `/events`, six events `demo0` … `demo5`, one second
//! apart, then the stream closes.
//!
//! ```sh
//! cargo run --example events            # then: curl -N http://127.0.0.1:8080/events
//! ```

mod common;

use std::time::Duration;

use sse_runtime::{sse, Server};

// Ktor: sse("/events") { repeat(6) { send(ServerSentEvent("demo$it")); delay(1000) } }
#[sse("/events")]
async fn events(session: EventsSession) -> Result<(), sse_runtime::Error> {
    for n in 0..6 {
        session.send(format!("demo{n}")).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (listener, addr) = common::listen().await?;
    println!("listening on http://{addr}");
    println!("try: curl -N http://{addr}/events");
    Server::new()
        .route(events)
        .with_graceful_shutdown(sse_runtime::server::shutdown_signal())
        .serve_on(listener)
        .await?;
    println!("stopped");
    Ok(())
}
