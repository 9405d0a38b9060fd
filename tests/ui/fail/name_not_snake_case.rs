use sse_runtime::sse;

#[sse("/feed")]
#[allow(non_snake_case)]
async fn myFeed(session: MyFeedSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(myFeed);
}
