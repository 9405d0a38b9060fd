use sse_runtime::sse;

#[sse(/rooms/{room}, heartbeat = "5s")]
async fn room(session: RoomSession, room: String) {
    let _ = (session, room);
}

fn main() {
    let _ = sse_runtime::Server::new().route(room);
}
