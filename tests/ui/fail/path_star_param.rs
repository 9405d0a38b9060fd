use sse_runtime::sse;

#[sse("/files/*rest")]
async fn files(session: FilesSession, rest: String) {
    let _ = rest;
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(files);
}
