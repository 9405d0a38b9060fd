use sse_runtime::extract::LastEventId;
use sse_runtime::sse;

#[sse("/feeds/{last}")]
async fn feeds(session: FeedsSession, last: LastEventId) {
    let _ = (session, last);
}

fn main() {
    let _ = sse_runtime::Server::new().route(feeds);
}
