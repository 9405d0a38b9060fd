use sse_runtime::sse;

#[sse("/kinds/{r#type}")]
async fn kinds(session: KindsSession, r#type: String) {
    let _ = session.send(r#type).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(kinds);
}
