use sse_runtime::sse;

#[sse("/rooms/{roomId}")]
async fn room(session: RoomSession, room_id: u64) {
    let _ = session.send(room_id).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(room);
}
