use sse_runtime::sse;

#[sse("/rooms/{room}")]
async fn rooms(session: RoomsSession, room: u64, count: u32) {
    let _ = (session, room, count);
}

fn main() {}
