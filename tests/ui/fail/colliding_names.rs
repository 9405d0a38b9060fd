use sse_runtime::sse;

#[sse("/a")]
async fn my_feed(session: MyFeedSession) {
    let _ = session;
}

#[sse("/b")]
async fn my__feed(session: MyFeedSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(my_feed).route(my__feed);
}
