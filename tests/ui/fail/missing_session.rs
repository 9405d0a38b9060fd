use sse_runtime::sse;

#[sse("/events")]
async fn events() {}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
