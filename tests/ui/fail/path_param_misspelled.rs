use sse_runtime::sse;

#[sse("/rooms/{room}")]
async fn room(session: RoomSession, rooom: String) {
    let _ = session.send(rooom).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(room);
}
