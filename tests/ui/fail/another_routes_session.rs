use sse_runtime::sse;

#[sse("/news")]
async fn news(session: NewsSession) {
    session.close();
}

#[sse("/events")]
async fn events(session: NewsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(news);
}
