use sse_runtime::{sse, Server};

#[sse("/rooms/{room}")]
async fn rooms(session: RoomsSession, room: u64, count: u32) {
    let _ = (session, room, count);
}

fn main() {
    // Whether an argument can be extracted depends on the router's state,
    // so it is checked where the route is registered.
    let _ = Server::new().route(rooms);
}
