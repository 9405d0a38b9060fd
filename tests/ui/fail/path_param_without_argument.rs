use sse_runtime::sse;

#[sse("/rooms/{room}")]
async fn rooms(session: RoomsSession) {
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(rooms);
}
