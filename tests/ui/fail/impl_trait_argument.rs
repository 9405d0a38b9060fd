use sse_runtime::extract::FromRequest;
use sse_runtime::sse;

#[sse("/feed")]
async fn feed(session: FeedSession, who: impl FromRequest<()>) {
    let _ = (session, who);
}

fn main() {
    let _ = sse_runtime::Server::new().route(feed);
}
