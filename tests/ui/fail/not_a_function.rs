use sse_runtime::sse;

#[sse("/events")]
struct Events;

fn main() {}
