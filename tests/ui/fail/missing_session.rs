use sse_runtime::sse;

#[sse("/events")]
async fn events() {}

fn main() {}
