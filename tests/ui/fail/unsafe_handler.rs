use sse_runtime::sse;

#[sse("/events")]
async unsafe fn events(session: EventsSession) {
    let raw: *const u8 = &0;
    // Relies on the function being unsafe: no second error for it.
    let _ = *raw;
    session.close();
}

fn main() {
    let _ = sse_runtime::Server::new().route(events);
}
