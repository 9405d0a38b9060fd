use sse_runtime::sse;

struct Feeds;

impl Feeds {
    #[sse("/feed")]
    async fn feed(session: FeedSession) {
        let _ = session;
    }
}

fn main() {}
