use sse_runtime::{sse, Server};

#[sse]
async fn anywhere(session: AnywhereSession) {
    session.close();
}

fn main() {
    let _ = Server::new().route(anywhere);
}
