use sse_runtime::sse;

#[sse("/types")]
async fn type_(session: TypeSession) {
    let _ = session;
}

fn main() {
    let _ = sse_runtime::Server::new().route(type_);
}
