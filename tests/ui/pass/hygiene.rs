//! Names the expansion binds never clash with the user's: a lowercase
//! constant in scope would turn a binding of the same name into a constant
//! pattern and break the generated code.
#![allow(non_upper_case_globals)]

use sse_runtime::{sse, Event, Server};

const options: u8 = 0;
const out: u8 = 0;
const data: u8 = 0;
const value: u8 = 0;
const event: u8 = 0;

#[derive(serde::Serialize, serde::Deserialize)]
struct Tick(u64);

#[sse("/ticks", serializer = Json, events(Tick = "tick"), heartbeat = "5s", retry = "1s")]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    session.send(Tick(1)).await?;
    session.send_event(Event::new().data("raw")).await
}

#[sse("/plain", heartbeat = "off")]
async fn plain(session: PlainSession) -> Result<(), sse_runtime::Error> {
    session.send(42).await
}

fn main() {
    let _ = Server::new().route(ticks).route(plain);
    let _ = (options, out, data, value, event);
}
