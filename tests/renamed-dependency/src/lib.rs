//! `sse-runtime` renamed to `sse` in this crate's manifest: the attribute
//! and the derive find it there, with no `crate = ".."`.

use sse::extract::{FromRef, State};
use sse::sse;

#[derive(serde::Serialize)]
pub struct Tick {
    pub n: u32,
}

#[derive(Clone, FromRef)]
pub struct App {
    pub greeting: String,
}

#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
pub async fn ticks(session: TicksSession, greeting: State<String>) -> Result<(), sse::Error> {
    let _ = greeting;
    session.send(Tick { n: 1 }).await
}

/// The server, with the route registered.
pub fn server() -> sse::Server<App> {
    sse::Server::new()
        .with_state(App {
            greeting: "hi".into(),
        })
        .route(ticks)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_route_compiles_and_registers() {
        let _ = super::server();
        assert_eq!(sse::route::RoutePath::path(&super::ticks()), "/ticks");
    }
}
