//! The syntax of the design: every form of the attribute, registered on one server.

use sse_runtime::extract::{LastEventId, Query, State};
use sse_runtime::{sse, Event, Server};

#[derive(serde::Serialize)]
struct Customer {
    id: u32,
    first_name: String,
    last_name: String,
}

#[derive(serde::Serialize)]
struct Product {
    id: u32,
    prices: Vec<u32>,
}

#[derive(serde::Deserialize)]
struct Filter {
    #[allow(dead_code)]
    min: Option<u32>,
}

#[derive(Clone)]
struct Greeting(&'static str);

/// Ktor: `sse("/events") { send(...) }`.
#[sse("/events")]
async fn events(session: EventsSession) {
    let _ = session.send("demo").await;
}

#[sse("/serialization", serializer = Json, events(Customer = "customer", Product))]
async fn serialization(session: SerializationSession) -> Result<(), sse_runtime::Error> {
    session
        .send(Customer { id: 0, first_name: "Jet".into(), last_name: "Brains".into() })
        .await?;
    session.send(Product { id: 0, prices: vec![100, 200] }).id("p0").await?;
    session.send_event(Event::new().comment("raw events still work")).await?;
    Ok(())
}

#[sse("/rooms/{room}", heartbeat = "10s", retry = "3s")]
async fn room(
    session: RoomSession,
    room: u64,
    filter: Query<Filter>,
    last: LastEventId,
    greeting: State<Greeting>,
) {
    let _ = (room, filter.0.min, last.0, greeting.0 .0);
    session.closed().await;
}

#[sse]
async fn anywhere(session: AnywhereSession) {
    session.close();
}

pub mod nested {
    #[sse_runtime::sse("/nested", heartbeat = "off")]
    pub async fn feed(mut session: FeedSession) -> Result<(), String> {
        session.send(42).await.map_err(|e| e.to_string())?;
        let _ = &mut session;
        Ok(())
    }
}

fn main() {
    let _server = Server::new()
        .with_state(Greeting("hi"))
        .route(events)
        .route(serialization)
        .route(room)
        .route_at("/x", anywhere)
        .route(nested::feed);
}
