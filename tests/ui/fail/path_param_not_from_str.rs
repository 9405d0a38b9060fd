use sse_runtime::sse;

struct RoomId(u64);

#[sse("/rooms/{room}")]
async fn rooms(session: RoomsSession, room: RoomId) {
    let _ = (session, room.0);
}

fn main() {
    let _ = sse_runtime::Server::new().route(rooms);
}
