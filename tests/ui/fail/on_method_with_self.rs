use sse_runtime::sse;

struct Feeds {
    greeting: &'static str,
}

impl Feeds {
    #[sse("/feed")]
    async fn feed(&self, session: FeedSession) -> Result<(), sse_runtime::Error> {
        session.send(self.greeting).await
    }
}

fn main() {
    let _ = Feeds { greeting: "hello" }.greeting;
}
