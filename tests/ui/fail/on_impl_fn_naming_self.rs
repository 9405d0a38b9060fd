use sse_runtime::sse;
use sse_runtime::extract::State;

#[derive(Clone)]
struct App;

impl App {
    #[sse("/feed")]
    async fn feed(session: FeedSession, state: State<Self>) {
        let _ = (session, state);
    }
}

fn main() {}
