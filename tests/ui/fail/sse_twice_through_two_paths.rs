use sse_runtime::sse;

#[sse_runtime::sse("/a")]
#[sse("/b")]
async fn feed(session: FeedSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(feed);
}
