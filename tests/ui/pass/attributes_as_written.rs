// Attributes on the handler behave as written: `cfg` removes the whole
// route, `deprecated` warns where the route is used (allowed here), lints
// apply to the body, and nothing generated trips `forbid(dead_code)`.
#![forbid(dead_code)]
#![deny(deprecated)]

use sse_runtime::{sse, Server};

#[derive(serde::Serialize)]
struct Tick {
    n: u32,
}

/// A feed of ticks.
#[sse("/ticks", serializer = Json, events(Tick = "tick"))]
#[allow(clippy::needless_return)]
#[inline]
async fn ticks(session: TicksSession) -> Result<(), sse_runtime::Error> {
    session.send(Tick { n: 1 }).await?;
    return Ok(());
}

#[sse("/old")]
#[deprecated = "use /ticks"]
async fn old(session: OldSession) {
    let _ = session;
}

#[cfg(any())]
#[sse("/gone")]
async fn gone(session: GoneSession) {
    let _ = session;
}

// The same name may be used again where the cfg'd one is absent.
#[cfg(all())]
#[sse("/gone")]
async fn gone(session: GoneSession) {
    let _ = session;
}

fn main() {
    #[allow(deprecated)]
    let server = Server::new().route(ticks).route(old).route(gone);
    drop(server);
}
