use sse_runtime::{sse, Server};

#[sse("/upload", method = "POST", body_timeout = "0s")]
async fn upload(session: UploadSession, body: bytes::Bytes) {
    let _ = (session, body);
}

fn main() {
    let _ = Server::new().route(upload);
}
