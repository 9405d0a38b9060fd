use std::sync::Arc;

use sse_runtime::extract::{FromRef, State};
use sse_runtime::{sse, Server};

struct Db;
struct Cache;

#[derive(Clone, FromRef)]
struct App {
    db: Arc<Db>,
}

#[sse("/feed")]
async fn feed(session: FeedSession, db: State<Arc<Db>>, cache: State<Arc<Cache>>) {
    let _ = (session, db, cache);
}

fn main() {
    let app = App { db: Arc::new(Db) };
    let _ = Server::new().with_state(app).route(feed);
}
