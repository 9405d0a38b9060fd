use sse_runtime::extract::LastEventId;
use sse_runtime::sse;

#[sse("/feeds/{last}")]
async fn feeds(session: FeedsSession, last: LastEventId) {
    let _ = (session, last);
}

fn main() {}
