use sse_runtime::{sse, Server};

#[sse("/notes", events(str = "note"))]
async fn notes(session: NotesSession) {
    let _ = session;
}

fn main() {
    let _ = Server::new().route(notes);
}
