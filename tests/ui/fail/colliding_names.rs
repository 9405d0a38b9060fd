use sse_runtime::sse;

#[sse("/a")]
async fn my_feed(session: MyFeedSession) {
    let _ = session;
}

mod other {}

#[sse("/b")]
async fn my__feed(session: MyFeedSession) {
    let _ = session;
}

fn main() {}
