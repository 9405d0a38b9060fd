use sse_runtime::sse;

trait Feeds {
    #[sse("/feed")]
    async fn feed(session: FeedSession) {
        let _ = session;
    }
}

fn main() {}
