use sse_runtime::{sse, Server};

#[sse("/upload", method = "POST")]
async fn upload(session: UploadSession, #[body] size: u64) {
    let _ = (session, size);
}

fn main() {
    let _ = Server::new().route(upload);
}
