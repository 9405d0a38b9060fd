use sse_runtime::sse;

#[sse("/numbers", events(u32 = "number", u64 = "number"))]
async fn numbers(session: NumbersSession) -> Result<(), sse_runtime::Error> {
    session.send(1u32).await
}

fn main() {
    let _ = sse_runtime::Server::new().route(numbers);
}
