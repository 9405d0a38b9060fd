use sse_runtime::sse;

#[sse("/v2")]
async fn feed2(session: Feed2Session) {
    let _ = session;
}

#[sse("/v2-again")]
async fn feed_2(session: Feed2Session) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(feed2).route(feed_2);
}
