use sse_runtime::sse;

#[sse("/feed")]
async fn feed(session: FeedSession) -> ! {
    let _ = session;
    loop {}
}

fn main() {
    let _ = sse_runtime::Server::new().route(feed);
}
