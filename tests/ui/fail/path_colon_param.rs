use sse_runtime::sse;

#[sse("/rooms/:room")]
async fn room(session: RoomSession, room: String) {
    let _ = room;
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(room);
}
