use sse_runtime::{sse, Server};

#[sse("/upload", method = "POST")]
async fn upload(#[body] session: UploadSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(upload);
}
