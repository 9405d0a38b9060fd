use sse_runtime::sse;

#[sse("/files/*rest")]
async fn files(session: FilesSession, rest: String) {
    let _ = rest;
    session.close();
}

fn main() {}
