use sse_runtime::sse;

#[sse("/streams/{session}")]
async fn streams(session: StreamsSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(streams);
}
