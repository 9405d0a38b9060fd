use sse_runtime::sse;

#[sse("/feed")]
async fn feed(session: FeedSession) {
    session.
}

fn main() {
    // The route and its session type still exist: only the body is wrong.
    let _ = sse_runtime::Server::new().route(feed);
    let _: Option<FeedSession> = None;
}
