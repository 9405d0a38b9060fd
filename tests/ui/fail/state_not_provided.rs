use std::sync::Arc;

use sse_runtime::extract::State;
use sse_runtime::{sse, Server};

struct Db;

#[sse("/feed")]
async fn feed(session: FeedSession, db: State<Arc<Db>>) {
    let _ = (session, db);
}

fn main() {
    // The state is given after the route, so the route was registered
    // without it.
    let _ = Server::new().route(feed).with_state(Arc::new(Db));
}
