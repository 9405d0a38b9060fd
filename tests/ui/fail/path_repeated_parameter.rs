use sse_runtime::sse;

#[sse("/rooms/{id}/users/{id}")]
async fn rooms(session: RoomsSession, id: u64) {
    let _ = (session, id);
}

fn main() {
    let _ = sse_runtime::Server::new().route(rooms);
}
