// `crate = ".."` names the runtime: as the crate's own name, or through a
// re-export; two routes in one module each name it.
mod rt {
    pub use ::sse_runtime::*;
}

use sse_runtime::sse;

#[sse("/events", crate = "::sse_runtime")]
async fn events(session: EventsSession) {
    session.close();
}

#[sse("/other", crate = "crate::rt")]
async fn other(session: OtherSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events).route(other);
}
