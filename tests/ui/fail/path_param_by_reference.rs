use sse_runtime::sse;

#[sse("/rooms/{room}")]
async fn room(session: RoomSession, room: &str) {
    let _ = session.send(room.to_uppercase()).await;
}

fn main() {
    let _ = sse_runtime::Server::new().route(room);
}
