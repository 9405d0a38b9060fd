use sse_runtime::{sse, Server};

#[sse("/upload", method = "POST", body_limit = "4 megs")]
async fn upload(session: UploadSession, body: bytes::Bytes) {
    let _ = (session, body);
}

fn main() {
    let _ = Server::new().route(upload);
}
